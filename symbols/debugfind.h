/*
 * debugfind.h: finding the DWARF for an interpreter ELF, in the spirit of libdwfl's
 * Dwfl_Callbacks: a fixed chain of places, each appending one line to the report saying what it
 * tried and why it did or did not answer.
 *
 *   1. --debug-file (opts->debug_file): used even when its build-id differs, with a warning;
 *   2. the ELF itself, when it has a .debug_info section;
 *   3. DIR/.build-id/xx/rest.debug for each DIR of opts->debug_dirs (':'-separated, default
 *      /usr/lib/debug), under the target's root first (a container), then on the host;
 *   4. the .gnu_debuglink name next to the ELF, in its .debug/ and in DIR/<dir of the ELF>/,
 *      root first, then host; the candidate must match the ELF's build-id (CRC32 when either
 *      has no build-id);
 *   5. debuginfod (libdebuginfod, DEBUGINFOD_URLS and its cache) by build-id, unless
 *      opts->no_debuginfod or DEBUGINFOD_URLS is unset.
 * A DWZ supplementary file named by the debug file's .gnu_debugaltlink is looked up the same way
 * (its path, then DIR/.build-id), root first.
 */
#ifndef PH_DEBUGFIND_H
#define PH_DEBUGFIND_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>

#include "lib/error.h"
#include "symbols/target.h"

struct ph_debugfind_req {
    int elf_fd;           /* the interpreter ELF, open read-only (borrowed) */
    const char *elf_path; /* as the maps show it: a path inside the target's root */
    const char *build_id; /* hex, "" when the ELF has none */
    const char *root;     /* "/proc/PID/root", or NULL to look on the host only */
    const struct py_layout_options *opts;
};

struct ph_debugfind_result {
    int fd;                  /* the file with DWARF, owned by the caller; -1 when none */
    char path[PATH_MAX];     /* the path opened (for debuginfod, the cache file) */
    char how[64];            /* "embedded", "build-id under host", "debuginfod", ... */
    char alt_path[PATH_MAX]; /* DWZ alt file, "" when none or left to libdw */
};

/* Walk the chain. PH_OK with out->fd >= 0 when a file was found; PH_ERR_NO_LAYOUT when none
 * was (the report says why for each place). */
ph_status ph_debugfind(const struct ph_debugfind_req *req, struct ph_debugfind_result *out,
                       struct py_source_report *rep, struct ph_error *err);

/* Append one line to a source report; when the report is full the last line says so. */
void ph_report_add(struct py_source_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Build-id of an open ELF as lowercase hex ("" when none). False when fd is not an ELF. */
bool ph_elf_build_id(int fd, char *hex, size_t cap);

/* CRC32 (the .gnu_debuglink polynomial) of a whole file. */
bool ph_file_crc32(int fd, uint32_t *crc);

#endif
