/*
 * dominators.c: see dominators.h.
 *
 * Semi-NCA over the graph's CSR arrays, with vertices renumbered by depth-first preorder from
 * a virtual root (number 0) whose children are the roots. Every array below is indexed by that
 * number and holds numbers; the invariants that make it work:
 *   - parent[w] < w, and every ancestor of w in the DFS tree has a smaller number;
 *   - an edge v -> w with v < w gives semi[w] <= v directly; only edges with v > w (back and
 *     cross edges) need the forest of processed vertices, so only they are stored, grouped by
 *     target (`preds`);
 *   - vertices are processed from N-1 down to 1; when w is processed, exactly the vertices
 *     above w are linked (anc[x] set), and eval's path compression keeps, for a linked x,
 *     best[x] = the least semi on the forest path from x up to (not including) anc[x];
 *   - idom[w] < w, so the immediate dominators are final in increasing order, and the second
 *     pass finds idom[w] as the nearest ancestor of parent[w] in the dominator tree numbered
 *     <= semi[w]. Numbers decrease going up the tree, so skew-binary jump pointers (Myers) find
 *     it in O(log depth) steps instead of walking a million-long chain once per vertex.
 * No recursion anywhere: the DFS keeps its stack in arrays that are free at that time, eval
 * reverses pointers on the way up instead of stacking them.
 *
 * Memory, N reachable objects, n in all, B back/cross edges: at most four arrays of N or n at
 * once (16 bytes an object) plus 4B while building: the numbering is dropped during the two
 * passes and made again by a second, identical search. The result keeps idom (4n), retained
 * sizes (4n: 32 bits, larger ones aside) and order (4N).
 */
#include "lib/heap/dominators.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/grow.h"

/* Every allocation of a build, so the peak can be reported and everything freed on failure. */
struct work {
    const struct ph_graph *g;
    size_t n, N;            /* objects; numbered vertices (reached + 1 for the virtual root) */
    size_t cap;             /* entries allocated in parent, semi and best */
    uint32_t *num;          /* per object: its number, PH_NONE when not reached */
    uint32_t *parent;       /* DFS parent; becomes idom in the second pass */
    uint32_t *semi;
    uint32_t *best, *anc;   /* the link-eval forest; later depth and jump pointers */
    uint32_t *preds;        /* back/cross predecessors, grouped by target; anc holds starts */
    size_t npreds;
    size_t held, peak;
};

static void *take(struct work *w, size_t count, size_t elem)
{
    void *p = malloc((count + 1) * elem);
    if (p) {
        w->held += (count + 1) * elem;
        if (w->held > w->peak)
            w->peak = w->held;
    }
    return p;
}

static void give(struct work *w, void *p, size_t count, size_t elem)
{
    if (p)
        w->held -= (count + 1) * elem;
    free(p);
}

static size_t decoded_of(const struct ph_graph *g)
{
    return g->decoded < g->n ? g->decoded : g->n;
}

/* Depth-first from the virtual root: the roots in g->roots order, then edges in CSR order. The
 * stack lives in semi (objects) and best (next edge), which are not in use at either time this
 * runs. The first run also records the DFS parents; the second (parent holds the immediate
 * dominators then) only numbers again, the same way, since the search is deterministic. */
static size_t number_vertices(struct work *w, bool record)
{
    const struct ph_graph *g = w->g;
    size_t decoded = decoded_of(g), next = 1;
    uint32_t *stack_obj = w->semi, *stack_edge = w->best;
    memset(w->num, 0xff, (w->n + 1) * sizeof *w->num);
    if (record)
        w->parent[0] = 0;
    for (size_t r = 0; r < g->nroots; r++) {
        uint32_t root = g->roots[r].obj;
        if (root >= w->n || w->num[root] != PH_NONE)
            continue;
        if (record)
            w->parent[next] = 0;
        w->num[root] = (uint32_t)next++;
        size_t top = 0;
        stack_obj[0] = root;
        stack_edge[0] = root < decoded ? g->edge_start[root] : 0;
        while (true) {
            uint32_t o = stack_obj[top];
            uint32_t end = o < decoded ? g->edge_start[o + 1] : 0;
            uint32_t e = stack_edge[top];
            while (e < end && (g->edge_dst[e] >= w->n || w->num[g->edge_dst[e]] != PH_NONE))
                e++;
            if (e >= end) {
                if (top-- == 0)
                    break;
                continue;
            }
            stack_edge[top] = e + 1;
            uint32_t dst = g->edge_dst[e];
            if (record)
                w->parent[next] = w->num[o];
            w->num[dst] = (uint32_t)next++;
            top++;
            stack_obj[top] = dst;
            stack_edge[top] = dst < decoded ? g->edge_start[dst] : 0;
        }
    }
    return next;
}

/* One scan of the edges: forward edges lower semi directly; back and cross edges are counted
 * (fill == false) or stored grouped by target (fill == true; anc holds each group's end and is
 * moved back to its start). */
static void scan_edges(struct work *w, bool fill)
{
    const struct ph_graph *g = w->g;
    size_t decoded = decoded_of(g);
    for (size_t o = 0; o < decoded; o++) {
        uint32_t v = w->num[o];
        if (v == PH_NONE)
            continue;
        for (uint32_t e = g->edge_start[o]; e < g->edge_start[o + 1]; e++) {
            uint32_t dst = g->edge_dst[e];
            uint32_t t = dst < w->n ? w->num[dst] : PH_NONE;
            if (t == PH_NONE || t == v)
                continue;
            if (v < t) {
                if (!fill && v < w->semi[t])
                    w->semi[t] = v;
            } else if (fill) {
                w->preds[--w->anc[t]] = v;
            } else {
                w->anc[t]++;
            }
        }
    }
}

/* Counting sort of the back/cross edges by target. False when out of memory. */
static bool group_preds(struct work *w)
{
    for (size_t i = 0; i < w->N; i++) {
        w->semi[i] = w->parent[i];
        w->anc[i] = 0;
    }
    /* The virtual root's edges: a root found below another one is still the root's child. */
    for (size_t r = 0; r < w->g->nroots; r++)
        if (w->g->roots[r].obj < w->n)
            w->semi[w->num[w->g->roots[r].obj]] = 0;
    scan_edges(w, false);
    size_t total = 0;
    for (size_t i = 0; i < w->N; i++) {
        total += w->anc[i];
        w->anc[i] = (uint32_t)total; /* the end of i's group; the fill moves it to the start */
    }
    w->npreds = total;
    w->preds = take(w, total, sizeof *w->preds);
    if (!w->preds)
        return false;
    scan_edges(w, true);
    return true;
}

/* The least semi on the forest path from v (linked) up to the first vertex not yet linked
 * (numbered <= w), compressing the path: pointers reversed on the way up, restored (to the
 * path's top) on the way down. */
static uint32_t eval(uint32_t *anc, uint32_t *best, uint32_t v, uint32_t w)
{
    uint32_t prev = PH_NONE, x = v;
    while (anc[x] > w) {
        uint32_t up = anc[x];
        anc[x] = prev;
        prev = x;
        x = up;
    }
    uint32_t top = anc[x], m = best[x];
    while (prev != PH_NONE) {
        uint32_t down = anc[prev];
        if (best[prev] < m)
            m = best[prev];
        best[prev] = m;
        anc[prev] = top;
        prev = down;
    }
    return m;
}

static void semidominators(struct work *w)
{
    size_t hi = w->npreds; /* the end of i's group: where group i + 1 starts */
    for (size_t i = w->N; i-- > 1;) {
        uint32_t s = w->semi[i];
        for (size_t k = w->anc[i]; k < hi; k++) {
            uint32_t m = eval(w->anc, w->best, w->preds[k], (uint32_t)i);
            if (m < s)
                s = m;
        }
        hi = w->anc[i];
        w->semi[i] = s;
        w->anc[i] = w->parent[i]; /* link i */
        w->best[i] = s;
    }
}

/* Skew-binary jump pointers over the tree built so far (Myers 1983): from any vertex, the
 * nearest ancestor numbered <= s is found in O(log depth) steps. depth and jump reuse the
 * arrays of the link-eval forest, which is done with. */
static void immediate_dominators(struct work *w)
{
    uint32_t *idom = w->parent, *depth = w->anc, *jump = w->best;
    idom[0] = depth[0] = jump[0] = 0;
    for (size_t i = 1; i < w->N; i++) {
        uint32_t s = w->semi[i], d = idom[i]; /* still the DFS parent */
        while (d > s)
            d = jump[d] > s ? jump[d] : idom[d];
        idom[i] = d;
        depth[i] = depth[d] + 1;
        uint32_t j = jump[d];
        jump[i] = depth[d] - depth[j] == depth[j] - depth[jump[j]] ? jump[j] : d;
    }
}

/* Add v to an object's retained size, moving it to the side table past 32 bits. */
static bool add_retained(struct ph_dom *d, uint32_t o, uint64_t v)
{
    uint64_t sum = ph_dom_retained(d, o) + v;
    if (sum < UINT32_MAX) {
        d->ret32[o] = (uint32_t)sum;
        return true;
    }
    uint32_t k = ph_addrmap_put(&d->big_index, (uint64_t)o + 1, (uint32_t)d->nbig);
    if (k == PH_ADDRMAP_NONE)
        return false;
    if (k == d->nbig) {
        if (!ph_grow(&d->big, &d->big_cap, d->nbig, sizeof *d->big, 16))
            return false;
        d->nbig++;
    }
    d->big[k] = sum;
    d->ret32[o] = UINT32_MAX;
    return true;
}

/* From numbers back to objects: order, idom per object, then retained sizes summed from the
 * last vertex up (each after everything it dominates). */
static bool assemble(struct work *w, struct ph_dom *d)
{
    d->order = take(w, w->N, sizeof *d->order);
    d->idom = take(w, w->n, sizeof *d->idom);
    if (!d->order || !d->idom)
        return false;
    for (size_t o = 0; o < w->n; o++)
        if (w->num[o] != PH_NONE)
            d->order[w->num[o] - 1] = (uint32_t)o;
    for (size_t o = 0; o < w->n; o++) {
        uint32_t v = w->num[o];
        d->idom[o] = v == PH_NONE ? PH_NONE
                     : w->parent[v] == 0 ? PH_DOM_ROOT : d->order[w->parent[v] - 1];
    }
    give(w, w->num, w->n, sizeof *w->num);
    give(w, w->parent, w->cap, sizeof *w->parent);
    w->num = w->parent = NULL;
    d->ret32 = take(w, w->n, sizeof *d->ret32);
    if (!d->ret32 || !ph_addrmap_init(&d->big_index, 16))
        return false;
    bool ok = true;
    for (size_t o = 0; ok && o < w->n; o++) {
        d->ret32[o] = 0;
        ok = add_retained(d, (uint32_t)o, ph_graph_size(w->g, (uint32_t)o));
    }
    d->reached = w->N - 1;
    for (size_t i = d->reached; ok && i-- > 0;) {
        uint32_t o = d->order[i], up = d->idom[o];
        if (up == PH_DOM_ROOT)
            d->total += ph_dom_retained(d, o);
        else
            ok = add_retained(d, up, ph_dom_retained(d, o));
    }
    return ok;
}

static void work_free(struct work *w)
{
    give(w, w->num, w->n, sizeof *w->num);
    give(w, w->parent, w->cap, sizeof *w->parent);
    give(w, w->semi, w->cap, sizeof *w->semi);
    give(w, w->best, w->cap, sizeof *w->best);
    give(w, w->anc, w->N, sizeof *w->anc);
    give(w, w->preds, w->npreds, sizeof *w->preds);
    w->num = w->parent = w->semi = w->best = w->anc = w->preds = NULL;
}

/* The phases, each taking only what it needs and giving back what it is done with, so that at
 * most four arrays of N (and the back edges) are held at once. */
static bool build(struct work *w, struct ph_dom *d)
{
    /* Room for every object first: N is known after the search (pages never touched for
     * unreached objects cost no memory). */
    w->num = take(w, w->n, sizeof *w->num);
    w->parent = take(w, w->cap, sizeof *w->parent);
    w->semi = take(w, w->cap, sizeof *w->semi);
    w->best = take(w, w->cap, sizeof *w->best);
    if (!w->num || !w->parent || !w->semi || !w->best)
        return false;
    w->N = number_vertices(w, true); /* only N entries of parent, semi, best used from here */
    give(w, w->best, w->cap, sizeof *w->best);
    w->best = NULL;
    if (!(w->anc = take(w, w->N, sizeof *w->anc)) || !group_preds(w))
        return false;
    give(w, w->num, w->n, sizeof *w->num); /* numbered again at the end */
    w->num = NULL;
    if (!(w->best = take(w, w->cap, sizeof *w->best)))
        return false;
    semidominators(w);
    give(w, w->preds, w->npreds, sizeof *w->preds);
    w->preds = NULL;
    immediate_dominators(w);
    give(w, w->anc, w->N, sizeof *w->anc);
    w->anc = NULL;
    if (!(w->num = take(w, w->n, sizeof *w->num)))
        return false;
    number_vertices(w, false);
    give(w, w->semi, w->cap, sizeof *w->semi);
    give(w, w->best, w->cap, sizeof *w->best);
    w->semi = w->best = NULL;
    return assemble(w, d);
}

ph_status ph_dom_build(const struct ph_graph *g, struct ph_dom *d, struct ph_error *err)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(d, 0, sizeof *d);
    d->n = g->n;
    struct work w = {.g = g, .n = g->n, .N = g->n + 1, .cap = g->n + 1};
    bool ok = g->n < PH_DOM_ROOT - 1 && build(&w, d);
    d->peak_bytes = w.peak;
    work_free(&w);
    if (!ok) {
        ph_dom_free(d);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory for the dominator tree (%zu objects)",
                       g->n);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    d->build_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    return PH_OK;
}

void ph_dom_free(struct ph_dom *d)
{
    free(d->idom);
    free(d->ret32);
    free(d->order);
    free(d->big);
    ph_addrmap_free(&d->big_index);
    memset(d, 0, sizeof *d);
}

bool ph_dom_dominates(const struct ph_dom *d, uint32_t a, uint32_t b)
{
    if (a >= d->n || b >= d->n || d->idom[a] == PH_NONE)
        return false;
    for (uint32_t x = b; x != PH_DOM_ROOT && x != PH_NONE; x = d->idom[x])
        if (x == a)
            return true;
    return false;
}
