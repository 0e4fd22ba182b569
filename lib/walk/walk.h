/*
 * walk.h: one heap walk of a frozen interpreter into a ph_graph.
 *
 * The object set is every object on the GC generation lists (including the permanent
 * generation that gc.freeze() fills), the roots (interpreter and thread state, thread frames),
 * and everything reachable from those through decoded references. References and sizes are
 * decoded from memory per built-in type; objects of unknown types are scanned conservatively
 * for addresses of objects already in the set. Nothing is written to the target and no
 * collection is triggered.
 */
#ifndef PH_WALK_H
#define PH_WALK_H

#include <signal.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/graph.h"
#include "lib/proc/mem.h"
#include "symbols/target.h"

struct ph_walk_options {
    volatile sig_atomic_t *cancel; /* polled; non-zero stops the walk with PH_ERR_INTERRUPTED */
    uint64_t max_objects;          /* bound on the object set (0 = default 1<<31) */
    void (*progress)(void *ctx, uint64_t objects, uint64_t decoded); /* may be NULL */
    void *progress_ctx;
    bool running;                  /* the target is not stopped (--no-freeze): lists that change
                                      while read are cut, a collection is no reason to stop */
    /* May be NULL: called once the walk reads the target's memory no more (before reachability
     * is marked), so the caller can free a copy of it early; the address index is dropped then
     * too (ph_graph_drop_index). Both lower the walk's peak memory. */
    void (*reads_done)(void *ctx);
    void *reads_done_ctx;
};

/* Walk the heap of the interpreter described by t into g (initialised, empty); what the walk
 * counts goes to g->meta.stats. The caller has frozen the target (or set opts->running).
 * PH_ERR_INCONSISTENT with stats.gc_collecting or stats.gc_changing set is a state that passes:
 * the target was collecting, or changing a GC list in a way no stopped thread explains. */
ph_status ph_walk(struct ph_mem *mem, const struct py_target *t, const struct ph_walk_options *opts,
                  struct ph_graph *g, struct ph_error *err);

#endif
