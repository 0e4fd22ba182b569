/*
 * version.h: CPython version numbers, as pyheap reads them from a binary it does not trust.
 *
 * A version is carried as PY_VERSION_HEX (0xMMmmppLS: major, minor, micro, release level
 * 0xA/0xB/0xC/0xF, serial). Sources, best first: _Py_DebugOffsets.version and Py_Version (the
 * hex itself, sanity-checked), the PY_VERSION literal in .rodata ("3.11.2"), and the file name
 * (python3.11, libpython3.13d.so: minor only, plus ABI flags). All parsers here are pure.
 */
#ifndef PH_VERSION_H
#define PH_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PY_HEX(major, minor, micro, level, serial)                                              \
    ((uint32_t)(major) << 24 | (uint32_t)(minor) << 16 | (uint32_t)(micro) << 8 |              \
     (uint32_t)(level) << 4 | (uint32_t)(serial))
#define PY_HEX_MAJOR(h) (((h) >> 24) & 0xffu)
#define PY_HEX_MINOR(h) (((h) >> 16) & 0xffu)
#define PY_HEX_MICRO(h) (((h) >> 8) & 0xffu)
#define PY_HEX_LEVEL(h) (((h) >> 4) & 0xfu)
#define PY_HEX_SERIAL(h) ((h) & 0xfu)

/* What a file name says: "python3.13d" => minor 13, debug. */
struct py_name_version {
    unsigned minor;
    bool debug;         /* 'd' ABI flag */
    bool free_threaded; /* 't' ABI flag (3.13+) */
    bool pymalloc;      /* 'm' ABI flag (3.7 and older) */
};

/* A plausible PY_VERSION_HEX: upper 32 bits clear, major 3, minor 0..99, level A/B/C/F, and a
 * final release has serial 0. Rejects the garbage a wrong address yields. */
bool py_version_hex_valid(uint64_t hex);

/* Parse exactly "3.M.P", "3.M.PaN", "3.M.PbN", "3.M.PcN", "3.M.PrcN", each optionally followed
 * by '+' (a build from a branch after that tag). No other characters, no leading zeros. */
bool py_version_parse(const char *s, uint32_t *hex);

/* The version a file name announces: python3.X[flags], libpython3.X[flags].so[.suffix], with
 * optional -dbg; flags are any of d, m, t, u, each at most once. Only the basename counts. */
bool py_version_from_name(const char *path, struct py_name_version *out);

/* Find the PY_VERSION literal among the NUL-separated strings of a .rodata image.
 * name_minor is the minor version from the file name, or -1 when unknown.
 *   1. Whole strings that parse as a version of minor >= 7 (CPython has _PyRuntime since 3.7),
 *      of minor name_minor if known. Exactly one distinct value must remain.
 *   2. Only when name_minor is known and step 1 found nothing: a version ending a longer string
 *      after '/' or '-' (the linker may merge "3.12.1" into the tail of a configure prefix
 *      "/root/.pyenv/versions/3.12.1"), again exactly one distinct value.
 * Returns false when nothing, or more than one candidate, fits. */
bool py_version_scan_strings(const char *buf, size_t len, int name_minor, uint32_t *hex);

/* CPythons older than pyheap reads (2.x, 3.0 to 3.6: no _PyRuntime), told by their version
 * literal ("2.7.18", "3.6.15": the one whole string of that form in .rodata) or, failing that,
 * their file name (python2.7, libpython3.6m.so.1.0 => "2.7", "3.6"). Into out; false if
 * neither says. For the message that names the version found. */
bool py_old_version_scan(const char *buf, size_t len, char *out, size_t cap);
bool py_old_version_from_name(const char *path, char *out, size_t cap);

/* "3.11.2", "3.13.0rc1"; with minor_only, "3.11". Returns snprintf's result. */
int py_version_format(uint32_t hex, bool minor_only, char *buf, size_t n);

#endif
