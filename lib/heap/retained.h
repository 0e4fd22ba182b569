/*
 * retained.h: views of the dominator tree (lib/heap/dominators.h): the retained size of each
 * row of a partition, the objects that retain the most, and the dominator chain above a
 * selection.
 *
 * The retained size of a group of objects (a row: the objects of one kind, one size, ...) is
 * the sum of the retained sizes of its members that no other member dominates: what going away
 * together would free, each byte counted once (MAT's "retained heap" of a class). An object
 * not reachable from the roots is in no tree: it retains its own size and nothing else. The
 * percentages views print are of the tree's total, the size of every reachable object.
 */
#ifndef PH_RETAINED_H
#define PH_RETAINED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/dominators.h"
#include "lib/heap/view.h"

/* The children of every object in the dominator tree, in the order of d->order; entry n (the
 * graph's object count) is the virtual root. kid[start[x] .. start[x + 1]). */
struct ph_domkids {
    size_t n;
    uint32_t *start;  /* n + 2 entries */
    uint32_t *kid;
};
bool ph_domkids_build(const struct ph_dom *d, struct ph_domkids *k);
void ph_domkids_free(struct ph_domkids *k);

/* Fill rows[].retained of p, a partition of s by p->relation made by ph_partition on v. */
ph_status ph_partition_retained(struct ph_view_ctx *v, const struct ph_dom *d,
                                const struct ph_set *s, struct ph_partition *p,
                                struct ph_error *err);
/* Order p's rows by retained size, largest first (ties by size, then kind, as heapy). */
void ph_partition_sort_retained(struct ph_view_ctx *v, struct ph_partition *p);

/* Up to k objects of s with the largest retained sizes, largest first (ties: lower index
 * first), into out (room for k). Returns how many. Unreachable objects are left out. */
size_t ph_top_retained(const struct ph_dom *d, const struct ph_set *s, size_t k, uint32_t *out);

/* The retained size of a set of objects: members that no other member dominates. */
ph_status ph_set_retained(const struct ph_dom *d, const struct ph_set *s, uint64_t *out,
                          struct ph_error *err);

/* How the objects of a set are held, by the kind of their immediate dominators. */
struct ph_holder {
    uint32_t kind;       /* clodo kind id (v->kinds) of the immediate dominators; PH_NONE: the
                            virtual root (the objects are roots, or shared by several) */
    uint64_t objects;    /* members held so */
    uint64_t holders;    /* distinct immediate dominators of that kind */
};

/* The dominator chain above a set: every object that dominates all of the set's reachable
 * members, from the roots down (the deepest one may be a member itself, when it dominates the
 * others), then the set's members grouped by the kind of their immediate dominators. */
struct ph_dom_chain {
    uint32_t *objs;      /* root side first; empty when only the virtual root dominates all */
    size_t n;
    size_t members, reachable;
    uint64_t retained;   /* the set's retained size (ph_set_retained) */
    struct ph_holder *holders; /* most objects first */
    size_t nholders;
};
ph_status ph_dom_chain(struct ph_view_ctx *v, const struct ph_dom *d, const struct ph_set *s,
                       struct ph_dom_chain *out, struct ph_error *err);
void ph_dom_chain_free(struct ph_dom_chain *c);

#endif
