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
#include "lib/graph.h"
#include "lib/mem.h"
#include "symbols/target.h"

struct ph_walk_options {
    volatile sig_atomic_t *cancel; /* polled; non-zero stops the walk with PH_ERR_INTERRUPTED */
    uint64_t max_objects;          /* bound on the object set (0 = default 1<<31) */
    void (*progress)(void *ctx, uint64_t objects, uint64_t decoded); /* may be NULL */
    void *progress_ctx;
};

struct ph_walk_stats {
    uint64_t gc_listed;        /* objects found on GC lists */
    uint64_t frozen;           /* of which on the permanent generation */
    uint64_t roots;
    uint64_t partial;          /* objects that could not be decoded fully */
    uint64_t bad_pointers;     /* references that did not point at a valid object */
    uint64_t conservative_objects, conservative_edges;
    uint64_t reachable;
    int interpreters, threads;
    bool gc_collecting;        /* the walk stopped because a collection was running */
};

/* Walk the heap of the interpreter described by t. The caller has frozen the target. */
ph_status ph_walk(struct ph_mem *mem, const struct py_target *t, const struct ph_walk_options *opts,
                  struct ph_graph *g, struct ph_walk_stats *stats, struct ph_error *err);

#endif
