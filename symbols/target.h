/*
 * target.h: the interpreter found in a process: which ELF holds _PyRuntime, its load bias,
 * version, build flavour, the symbol addresses the engine needs and the struct layout.
 *
 * Resolution order (symbols/target.c): find the ELF among the mappings (libpython*.so* first,
 * then the executable), compute the bias from the mapping whose file offset matches a PT_LOAD,
 * resolve symbols from .dynsym/.symtab (else the .PyRuntime section), read the version
 * (_Py_DebugOffsets, Py_Version, a version string, the file name), then the layout from the
 * source chain (layout_sources.h), then validate: the first thread state points back at the
 * interpreter. Nothing of the target's is executed.
 */
#ifndef PH_TARGET_H
#define PH_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/proc/mem.h"
#include "lib/proc/proc.h"
#include "symbols/layout.h"

enum py_sym {
#define X(id, name, required) PY_SYM_##id,
#include "symbols/symbols.def"
#undef X
    PY_SYM_COUNT
};

struct py_sym_desc {
    const char *name;
    bool required;
};
extern const struct py_sym_desc py_sym_descs[PY_SYM_COUNT];

/* Options that steer where layout comes from (command line and environment). */
struct py_layout_options {
    const char *debug_file;     /* --debug-file PATH: use this DWARF first */
    const char *debug_dirs;     /* ':'-separated debug roots; NULL = "/usr/lib/debug"
                                   (PYHEAP_DEBUG_DIRS or --debug-dir) */
    bool no_debuginfod;         /* --no-debuginfod */
    bool no_dwarf;              /* skip every DWARF source (tests: force tables) */
    bool no_debug_offsets;      /* skip _Py_DebugOffsets (tests) */
    bool no_table;              /* skip the built-in tables (tests) */
};

/* One line per source tried, for `info --layout`: which source, whether it answered, why. */
struct py_source_report {
    char line[12][256];
    int n;
};

struct py_target {
    char elf_path[PATH_MAX];    /* as the maps show it */
    char elf_opened_via[16];    /* "map_files", "root", "path" */
    char build_id[81];          /* hex, "" if none */
    bool shared;                /* _PyRuntime in libpython*.so */
    bool pie;                   /* ET_DYN */
    bool debug_build;           /* Py_DEBUG (python3.Xd) */
    bool free_threaded;         /* Py_GIL_DISABLED */
    uint64_t load_bias;
    uint32_t version_hex;       /* PY_VERSION_HEX, e.g. 0x030b02f0 */
    char version_source[32];    /* "debug-offsets", "Py_Version", "version-string", "file-name" */
    char debug_file[PATH_MAX];  /* the DWARF file used, "" if none */
    uint64_t sym[PY_SYM_COUNT]; /* runtime addresses, 0 if absent */
    struct py_layout layout;
    struct py_source_report sources;
};

/* Resolve the interpreter of an opened process. PH_ERR_NOT_PYTHON when no ELF in the maps
 * defines _PyRuntime; PH_ERR_UNSUPPORTED for < 3.8 or free-threaded builds (say why);
 * PH_ERR_NO_LAYOUT when no source can describe the build. `mem` reads the target. */
ph_status py_target_resolve(const struct ph_proc *proc, struct ph_mem *mem,
                            const struct py_layout_options *opts, struct py_target *out,
                            struct ph_error *err);

/* What the DWARF source found (layout_sources.h: py_layout_dwarf). */
struct py_dwarf_found {
    bool found;
    struct py_layout layout;
    struct py_source_report sources; /* the DWARF step's lines, first in the final report */
    char debug_file[PATH_MAX];
};

/* py_target_resolve in steps, so that its slow step, DWARF (15 to 50 ms; more when debuginfod
 * downloads), can run on another thread while the caller copies and walks the target with the
 * layout the fast sources give (lib/source/live.c):
 *   py_resolve_begin   locate the interpreter (ELF, bias, symbols, version: about 1 ms);
 *   py_resolve_dwarf   the DWARF step: reads files only, so any one thread may run it;
 *   py_resolve_finish  the rest of the chain and the checks, with the DWARF step's result, or
 *                      without DWARF (with_dwarf false: tables and _Py_DebugOffsets only);
 *   py_resolve_end     close what begin opened.
 * py_target_resolve is begin, dwarf, finish (with DWARF), end. */
struct py_resolve {
    struct py_target located; /* after begin: everything but the layout */
    int elf_fd;               /* the ELF holding _PyRuntime; -1 when closed */
    char root[PATH_MAX];      /* the target's root, for container debug files ("": host) */
    struct py_layout_options opts;
    struct py_dwarf_found dwarf; /* after py_resolve_dwarf */
};
ph_status py_resolve_begin(const struct ph_proc *proc, struct ph_mem *mem,
                           const struct py_layout_options *opts, struct py_resolve *r,
                           struct ph_error *err);
void py_resolve_dwarf(struct py_resolve *r);
ph_status py_resolve_finish(const struct ph_proc *proc, struct ph_mem *mem,
                            const struct py_resolve *r, bool with_dwarf, struct py_target *out,
                            struct ph_error *err);
void py_resolve_end(struct py_resolve *r);

/* The same layout: every field, the version and the free-threaded flag agree (a walk made with
 * one is the walk the other would make). */
bool py_target_same_layout(const struct py_target *a, const struct py_target *b);

#define PY_MINOR(t) (((t)->version_hex >> 16) & 0xff)
#define PY_AT_LEAST(t, minor) (PY_MINOR(t) >= (minor))

#endif
