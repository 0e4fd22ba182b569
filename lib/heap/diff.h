/*
 * diff.h: comparing two heaps of one process (heapy's setref, and MAT's comparison view).
 *
 * An object of NEW is "new" when OLD has no object at the same address with the same type.
 * CPython never moves an object, so an object that lived through both looks the same in both;
 * a freed address reused by an object of the same type counts as old, as it does for heapy
 * (whose setref remembers addresses too). Types are compared by their type object's address,
 * which is stable for the life of the process.
 */
#ifndef PH_DIFF_H
#define PH_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/graph.h"
#include "lib/heap/view.h"

/* The objects of s (a set of new_g) that are not in old_g. old_g's address index is rebuilt
 * first when it was dropped (a live walk drops it). */
ph_status ph_diff_new_objects(struct ph_graph *old_g, const struct ph_graph *new_g,
                              const struct ph_set *s, struct ph_set *out, struct ph_error *err);

struct ph_kind_change {
    uint32_t kind;                   /* id in the NEW view's kinds */
    uint64_t old_count, old_size, new_count, new_size;
};

struct ph_kind_diff {
    struct ph_kind_change *rows;     /* by size growth, then count growth, then name */
    size_t n;
    uint64_t old_count, old_size, new_count, new_size;
};

/* Per clodo kind, the count and size of old_s (in vold's graph) and of new_s (vnew's). */
ph_status ph_diff_kinds(struct ph_view_ctx *vold, const struct ph_set *old_s,
                        struct ph_view_ctx *vnew, const struct ph_set *new_s,
                        struct ph_kind_diff *out, struct ph_error *err);
void ph_kind_diff_free(struct ph_kind_diff *d);

#endif
