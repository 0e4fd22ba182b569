/*
 * live.h: a heap source that is a running process (inside lib/source only; cmd/ uses source.h).
 *
 * One look at a target, from pid to graph: open the process, resolve its interpreter
 * (unfrozen), then freeze every thread, read what is needed, and thaw at once. By default the
 * walk reads a copy of the target's writable memory taken while frozen (lib/proc/image.h), so
 * the target is stopped only for the copy, not for the whole walk; the copy's memory is planned
 * and faulted in by a second thread while the first resolves the interpreter (DWARF), both
 * before the freeze. When the copy would not fit (opts.copy, source.h) the stopped process is
 * walked and `note` says why. If the GC is collecting at the moment of the freeze the source
 * thaws, lets the target run briefly and retries a bounded number of times.
 */
#ifndef PH_LIVE_H
#define PH_LIVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"
#include "lib/heap/graph.h"
#include "lib/proc/image.h"
#include "lib/proc/mem.h"
#include "lib/proc/proc.h"
#include "lib/source/source.h"
#include "lib/walk/pystate.h"
#include "symbols/target.h"

struct ph_live {
    pid_t pid;
    struct ph_proc proc;
    bool proc_open;
    struct ph_mem *mem;
    struct py_target target;
    struct py_state state;          /* interpreters and threads, after ph_live_state */
    double resolve_ms;
    char warning[1024];             /* "" or why an explicit --debug-file was not used as is */
    char note[1024];                /* "" or why the walk did not read a copy (live.c) */
    struct live_prep *prep;         /* the copy being prepared by a second thread, or NULL */
    struct live_layout *layout;     /* DWARF being read by a thread of its own, or NULL */
    bool provisional;               /* target.layout is the fast sources' (live.c) */
};

ph_status ph_live_open(pid_t pid, const struct ph_source_options *opts, struct ph_live *s,
                       struct ph_error *err);
/* Interpreters, threads, GC state, read while frozen. */
ph_status ph_live_state(struct ph_live *s, const struct ph_source_options *opts,
                        struct ph_error *err);
/* The heap walk into g (initialised here), frozen; g->meta describes the target and the walk. */
ph_status ph_live_walk(struct ph_live *s, const struct ph_source_options *opts, struct ph_graph *g,
                       struct ph_error *err);
void ph_live_close(struct ph_live *s);
/* The target summary every graph from this process carries (graph.h). */
void ph_live_meta(const struct ph_live *s, struct ph_heap_meta *meta);
/* The same from any process description and interpreter (a live one's, a core file's). */
void ph_target_meta(const struct ph_proc *proc, const struct py_target *t,
                    struct ph_heap_meta *meta);

#endif
