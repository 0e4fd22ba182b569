/*
 * dominators.h: the dominator tree of a heap graph, and every object's retained size.
 *
 * The tree hangs from one virtual root whose children are the graph's roots. An object x
 * dominates y when every path from the roots to y passes through x; y's immediate dominator is
 * the nearest such x (the virtual root when no object does). The retained size of x is its own
 * size plus the sizes of everything it dominates: the bytes freed if x went away (MAT's and
 * DevTools' "retained size"). Only objects reachable from the roots are in the tree; the others
 * have no dominator (PH_NONE) and retain their own size.
 *
 * Computed only when a view asks (ph_dom_build), from the graph alone, by Semi-NCA (Georgiadis,
 * Tarjan, Werneck): semi-dominators by path compression, then each immediate dominator as the
 * nearest ancestor of the DFS parent in the tree built so far. Nothing recurses: a linked list
 * of a million objects is a million-deep tree and costs no stack.
 */
#ifndef PH_DOMINATORS_H
#define PH_DOMINATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addrmap.h"
#include "lib/error.h"
#include "lib/heap/graph.h"

/* The virtual root, as an immediate dominator: the objects directly under it are the roots and
 * whatever two roots share. */
#define PH_DOM_ROOT (UINT32_MAX - 1)

struct ph_dom {
    size_t n;            /* objects in the graph */
    size_t reached;      /* objects in the tree (reachable from the roots) */
    uint32_t *idom;      /* per object: immediate dominator, PH_DOM_ROOT, or PH_NONE when the
                            object is not reachable */
    uint32_t *ret32;     /* per object: retained size in bytes (own size when unreachable);
                            UINT32_MAX: 4 GiB or more, in big (read with ph_dom_retained) */
    struct ph_addrmap big_index; /* object + 1 -> index in big */
    uint64_t *big;
    size_t nbig, big_cap;
    uint32_t *order;     /* the `reached` objects in depth-first preorder from the roots: every
                            object comes after its immediate dominator */
    uint64_t total;      /* the virtual root's retained size: every reachable object's size */
    /* What building the tree cost, for make bench. */
    double build_ms;
    size_t peak_bytes;   /* the most memory held at once while building (result included) */
};

/* An object's retained size. 32 bits an object in the array (4 bytes saved on every heap
 * object); the few objects retaining 4 GiB or more, near the top, in a side table. */
static inline uint64_t ph_dom_retained(const struct ph_dom *d, uint32_t obj)
{
    uint64_t v = d->ret32[obj];
    if (v == UINT32_MAX) {
        uint32_t k = ph_addrmap_get(&d->big_index, (uint64_t)obj + 1);
        if (k != PH_ADDRMAP_NONE)
            v = d->big[k];
    }
    return v;
}

/* Build the tree of g. PH_ERR_INTERNAL when out of memory (d is then empty); d is freed with
 * ph_dom_free either way. */
ph_status ph_dom_build(const struct ph_graph *g, struct ph_dom *d, struct ph_error *err);
void ph_dom_free(struct ph_dom *d);

/* True when a dominates b (a == b counts); both reachable, or false. O(depth of b). */
bool ph_dom_dominates(const struct ph_dom *d, uint32_t a, uint32_t b);

#endif
