/*
 * source.h: where a heap comes from, and the one way cmd/ gets one.
 *
 * A source is named on the command line: a number is a live process id; "-" is a snapshot on
 * standard input; anything else is a file, which is a snapshot (pyheap's own format) or, later,
 * an ELF core file. ph_source_heap produces the graph: walked in the live process (frozen with
 * ptrace, read with process_vm_readv; lib/source/live.c), or read back from a snapshot with no
 * walk at all (lib/source/file.c). Everything downstream (views, paths, diffs, output) sees a
 * ph_graph and its meta, and cannot tell which it was.
 *
 * The target always keeps running: every path out of a live source thaws it, including errors
 * and cancellation (the cancel flag, set by a signal handler in cmd/).
 */
#ifndef PH_SOURCE_H
#define PH_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/graph.h"

enum ph_source_kind { PH_SOURCE_PID, PH_SOURCE_CORE, PH_SOURCE_FILE };

enum ph_phase {
    PH_PHASE_RESOLVE, /* finding the interpreter and its layout (target running) */
    PH_PHASE_WALK,    /* reading the heap (target stopped unless copied or --no-freeze) */
    PH_PHASE_READ,    /* reading a snapshot file */
};

struct ph_progress {
    enum ph_phase phase;
    uint64_t objects, decoded; /* objects found so far, and decoded of those */
    double stopped_ms;         /* how long the target has been stopped; < 0: it is running */
};

/* Where the interpreter's struct layout may come from (symbols/layout_sources.h). */
struct ph_layout_choice {
    const char *debug_file;  /* --debug-file PATH: use this DWARF first */
    const char *debug_dirs;  /* ':'-separated debug roots; NULL = /usr/lib/debug */
    bool no_debuginfod;
    bool no_dwarf, no_debug_offsets, no_table; /* --layout-from keeps one source */
};

/* Whether a live walk reads a copy of the target's writable memory taken while it is stopped
 * (the stop is the copy: tens of ms per hundred MiB) or the stopped process itself (the stop is
 * the whole walk, about a second per few million objects, and no memory for a copy). */
enum ph_copy_mode {
    PH_COPY_AUTO = 0, /* copy when it fits in half the available memory (or PYHEAP_COPY_MAX_MB),
                         else say so and walk the stopped process */
    PH_COPY_ALWAYS,   /* --copy: copy, up to three quarters of it; refuse beyond */
    PH_COPY_NEVER,    /* --no-copy */
};

struct ph_source_options {
    struct ph_layout_choice layout;
    bool no_freeze;                 /* read without stopping (possibly inconsistent; no copy
                                       unless PH_COPY_ALWAYS) */
    enum ph_copy_mode copy;
    uint64_t copy_max_bytes;        /* bound of a copy (0: the mode's default) */
    bool will_walk;                 /* the heap will be asked for: a copy's memory is prepared
                                       by a second thread while the interpreter is resolved */
    volatile sig_atomic_t *cancel;  /* set by a signal handler: stop, thaw, return */
    size_t cache_bytes;             /* memory cache bound (0 = default) */
    int retry_ms;                   /* how long to keep looking again at a heap seen collecting
                                       or changing: 0 = default (2000), < 0 = never */
    bool test_skew_layout;          /* tests: spoil the provisional layout (live.c), so the
                                       walk must be made again with the final one */
    void (*on_frozen)(void *ctx);   /* called while frozen (tests pause here) */
    void *on_frozen_ctx;
    void (*progress)(void *ctx, const struct ph_progress *p); /* may be NULL */
    void *progress_ctx;
};

struct ph_source;

/* True when spec names a live process: decimal digits only, no sign or space, 1..INT32_MAX. */
bool ph_source_is_pid(const char *spec, int *pid);

/* Open the source spec names. Errors: PH_ERR_NO_PROCESS, PH_ERR_PERMISSION, PH_ERR_NOT_PYTHON,
 * ... for a process; PH_ERR_IO for a file that cannot be opened; PH_ERR_CORRUPT_FILE for one
 * that is neither a snapshot nor a core file. For a live process the interpreter is resolved
 * here (unfrozen: reading DWARF can take a second and the target should not wait for it). */
ph_status ph_source_open(const char *spec, const struct ph_source_options *opts,
                         struct ph_source **out, struct ph_error *err);
enum ph_source_kind ph_source_kind_of(const struct ph_source *s);
/* Something the user should hear that did not stop the work (an explicit --debug-file that
 * was not used as it is), or NULL. */
const char *ph_source_warning(const struct ph_source *s);
/* After ph_source_heap: why the target was not copied though copying is the default (the copy
 * would not fit in memory), or NULL. */
const char *ph_source_note(const struct ph_source *s);
/* The heap, into g (which the caller frees with ph_graph_free, also on failure). */
ph_status ph_source_heap(struct ph_source *s, struct ph_graph *g, struct ph_error *err);
void ph_source_close(struct ph_source *s);

/* ---- pyheap info ---- */

struct ph_thread_info {
    uint64_t thread_id, native_id, tstate;
};

struct ph_interp_info {
    int64_t id;
    uint64_t addr;
    bool collecting;
    struct ph_thread_info *threads;
    size_t nthreads;
};

struct ph_layout_field {
    const char *name;   /* "TP_BASICSIZE" */
    int64_t value;
    const char *source; /* "dwarf", "debug-offsets", "table" */
};

struct ph_source_info {
    enum ph_source_kind kind;
    struct ph_heap_meta meta;   /* the target (and for a file, the walk it records) */
    char runtime_elf[PH_META_TEXT * 4], elf_opened_via[16], debug_file[PH_META_TEXT * 4];
    uint64_t runtime_addr, load_bias;
    struct ph_interp_info *interps;  /* live only */
    size_t ninterps;
    struct ph_layout_field *fields;  /* live only */
    size_t nfields;
    uint64_t objects, edges;         /* a file: the graph it holds */
};

/* What the source says about itself. For a live process this reads the interpreters and
 * threads (frozen briefly); for a file, its header only. */
ph_status ph_source_info(struct ph_source *s, struct ph_source_info *out, struct ph_error *err);
void ph_source_info_free(struct ph_source_info *info);

#endif
