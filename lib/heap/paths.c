/*
 * paths.c: see paths.h.
 *
 * The search is the textbook one over the CSR arrays: a queue of object indices (n entries,
 * freed when done), each object entered once, so it is O(objects + edges) with 4 bytes of queue
 * and 12 bytes of result per object. Invariants: order[o] == PH_NONE exactly when o was never
 * queued, else its position in the queue; for a queued non-root o, order[parent[o]] < order[o],
 * parent[o] is one edge nearer the roots, and an edge of parent[o] labelled label[o] leads to
 * o; for a root, parent is PH_NONE and label indexes g->roots. Hence a path is read by
 * following parents until PH_NONE. The queue order is kept rather than the distance: it sorts
 * by distance already, and breaks ties the way a reader expects (item 0 before item 1).
 */
#include "lib/heap/paths.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/heap/label.h"

void ph_bfs_free(struct ph_bfs *b)
{
    free(b->order);
    free(b->parent);
    free(b->label);
    memset(b, 0, sizeof *b);
}

/* Roots first, in their order: every root is at depth 0 whatever else refers to it. */
static size_t seed_roots(const struct ph_graph *g, struct ph_bfs *b, uint32_t *queue)
{
    size_t tail = 0;
    for (size_t r = 0; r < g->nroots; r++) {
        uint32_t o = g->roots[r].obj;
        if (o >= g->n || b->order[o] != PH_NONE)
            continue;
        b->order[o] = (uint32_t)tail;
        b->parent[o] = PH_NONE;
        b->label[o] = (uint32_t)r;
        queue[tail++] = o;
    }
    return tail;
}

ph_status ph_bfs_run(const struct ph_graph *g, struct ph_bfs *out, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = g->n;
    out->n = n;
    out->order = malloc((n + 1) * sizeof *out->order);
    out->parent = malloc((n + 1) * sizeof *out->parent);
    out->label = malloc((n + 1) * sizeof *out->label);
    uint32_t *queue = malloc((n + 1) * sizeof *queue);
    if (!out->order || !out->parent || !out->label || !queue) {
        free(queue);
        ph_bfs_free(out);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory for the path search (%zu objects)", n);
    }
    memset(out->order, 0xff, (n + 1) * sizeof *out->order); /* PH_NONE */
    size_t head = 0, tail = seed_roots(g, out, queue);
    /* Only decoded objects have edges; the walk decodes all, a partial graph stops early. */
    size_t decoded = g->decoded < n ? g->decoded : n;
    while (head < tail) {
        uint32_t o = queue[head++];
        if (o >= decoded)
            continue;
        for (uint64_t e = g->edge_start[o]; e < g->edge_start[o + 1]; e++) {
            uint32_t dst = g->edge_dst[e];
            if (out->order[dst] != PH_NONE)
                continue;
            out->order[dst] = (uint32_t)tail;
            out->parent[dst] = o;
            out->label[dst] = g->edge_label[e];
            queue[tail++] = dst;
        }
    }
    free(queue);
    return PH_OK;
}

/* ---- choosing targets: a max-heap of the k first seen so far, keyed by queue position (the
 * object index rides in the low half) ---- */

static void sift_down(uint64_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, big = i;
        if (l < n && h[l] > h[big])
            big = l;
        if (r < n && h[r] > h[big])
            big = r;
        if (big == i)
            return;
        uint64_t t = h[i];
        h[i] = h[big];
        h[big] = t;
        i = big;
    }
}

static void sift_up(uint64_t *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2] < h[i]) {
        uint64_t t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t ph_paths_nearest(const struct ph_bfs *b, const struct ph_set *s, size_t k, uint32_t *out,
                        size_t *reachable)
{
    size_t reach = 0, nh = 0;
    uint64_t *heap = k ? malloc(k * sizeof *heap) : NULL;
    for (size_t i = 0; i < s->n; i++) {
        uint32_t o = s->v[i];
        if (o >= b->n || b->order[o] == PH_NONE)
            continue;
        reach++;
        if (!heap)
            continue;
        uint64_t key = (uint64_t)b->order[o] << 32 | o;
        if (nh < k) {
            heap[nh] = key;
            sift_up(heap, nh++);
        } else if (key < heap[0]) {
            heap[0] = key;
            sift_down(heap, nh, 0);
        }
    }
    if (reachable)
        *reachable = reach;
    if (!heap)
        return 0;
    qsort(heap, nh, sizeof *heap, cmp_u64);
    for (size_t i = 0; i < nh; i++)
        out[i] = (uint32_t)heap[i];
    free(heap);
    return nh;
}

uint32_t ph_path_length(const struct ph_bfs *b, uint32_t obj)
{
    if (obj >= b->n || b->order[obj] == PH_NONE)
        return PH_NONE;
    uint32_t len = 0;
    for (; b->parent[obj] != PH_NONE; obj = b->parent[obj])
        len++;
    return len;
}

size_t ph_path_objects(const struct ph_bfs *b, uint32_t obj, uint32_t *objs, size_t cap)
{
    uint32_t edges = ph_path_length(b, obj);
    if (edges == PH_NONE)
        return 0;
    size_t len = (size_t)edges + 1;
    if (len > cap)
        return len;
    for (size_t i = len; i-- > 0; obj = b->parent[obj])
        objs[i] = obj;
    return len;
}

const char *ph_path_root_name(const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj)
{
    if (obj >= b->n || b->order[obj] == PH_NONE)
        return NULL;
    while (b->parent[obj] != PH_NONE)
        obj = b->parent[obj];
    return ph_strtab_get(&g->names, g->roots[b->label[obj]].name);
}

/* ---- rendering ---- */

void ph_text_free(struct ph_text *t)
{
    free(t->s);
    memset(t, 0, sizeof *t);
}

static bool text_reserve(struct ph_text *t, size_t more)
{
    if (t->len + more + 1 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *s = realloc(t->s, cap);
    if (!s) {
        t->failed = true;
        return false;
    }
    t->s = s;
    t->cap = cap;
    return true;
}

static bool text_append(struct ph_text *t, const char *s)
{
    size_t n = strlen(s);
    if (!text_reserve(t, n))
        return false;
    memcpy(t->s + t->len, s, n + 1);
    t->len += n;
    return true;
}

/* One step after the text so far. Steps that wrap their prefix (set members: list(x)[i]) are
 * rendered with the whole prefix; the others are rendered alone and appended, so a long path
 * costs one copy per step, not one per character so far. */
static bool append_step(const struct ph_graph *g, uint32_t label, struct ph_text *t)
{
    char step[1024];
    if (PH_LABEL_KIND(label) != PH_EDGE_SET_MEMBER)
        return text_append(t, ph_label_render(g, label, "", step, sizeof step));
    size_t cap = t->len + 64;
    char *wrapped = malloc(cap);
    if (!wrapped) {
        t->failed = true;
        return false;
    }
    ph_label_render(g, label, t->s, wrapped, cap);
    t->len = 0;
    bool ok = text_append(t, wrapped);
    free(wrapped);
    return ok;
}

/* Runs of one step: a path is read as items, each a step and how many times in a row it is
 * taken (set members, which wrap what precedes them, are always items of their own). */
struct path_item {
    uint32_t label;
    uint32_t count;
};

static size_t path_items(const struct ph_bfs *b, const uint32_t *objs, size_t len,
                         struct path_item *items)
{
    size_t n = 0;
    for (size_t i = 1; i < len; i++) {
        uint32_t l = b->label[objs[i]];
        if (n && items[n - 1].label == l && PH_LABEL_KIND(l) != PH_EDGE_SET_MEMBER)
            items[n - 1].count++;
        else
            items[n++] = (struct path_item){l, 1};
    }
    return n;
}

/* An item: its step as often as it is taken, or, past PATH_RUN_INLINE, once with the count. */
static bool append_item(const struct ph_graph *g, const struct path_item *it, struct ph_text *t)
{
    if (it->count <= PATH_RUN_INLINE) {
        bool ok = true;
        for (uint32_t k = 0; ok && k < it->count; k++)
            ok = append_step(g, it->label, t);
        return ok;
    }
    char step[1024], run[1100];
    snprintf(run, sizeof run, "<%s x %" PRIu32 ">",
             ph_label_render(g, it->label, "", step, sizeof step), it->count);
    return text_append(t, run);
}

/* The items of a brief path: all of them, or the first and last PATH_KEEP_ITEMS with the number
 * of steps between. */
static bool append_items(const struct ph_graph *g, const struct path_item *items, size_t n,
                         struct ph_text *t)
{
    bool elide = n > PATH_BRIEF_ITEMS;
    bool ok = true;
    uint64_t skipped = 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (elide && i >= PATH_KEEP_ITEMS && i < n - PATH_KEEP_ITEMS) {
            skipped += items[i].count;
            if (i + 1 == n - PATH_KEEP_ITEMS) {
                char mark[64];
                snprintf(mark, sizeof mark, "<... %" PRIu64 " steps ...>", skipped);
                ok = text_append(t, mark);
            }
            continue;
        }
        ok = append_item(g, &items[i], t);
    }
    return ok;
}

static bool render(const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj, bool brief,
                   struct ph_text *t)
{
    t->len = 0;
    t->failed = false;
    if (!text_reserve(t, 0))
        return false;
    t->s[0] = '\0';
    uint32_t edges = ph_path_length(b, obj);
    if (edges == PH_NONE)
        return false;
    size_t len = (size_t)edges + 1;
    uint32_t *objs = malloc(len * sizeof *objs);
    struct path_item *items = brief ? malloc(len * sizeof *items) : NULL;
    if (!objs || (brief && !items)) {
        free(objs);
        t->failed = true;
        return false;
    }
    ph_path_objects(b, obj, objs, len);
    bool ok = text_append(t, "Root.") &&
              text_append(t, ph_strtab_get(&g->names, g->roots[b->label[objs[0]]].name));
    if (brief)
        ok = ok && append_items(g, items, path_items(b, objs, len, items), t);
    for (size_t i = 1; !brief && ok && i < len; i++)
        ok = append_step(g, b->label[objs[i]], t);
    free(items);
    free(objs);
    return ok;
}

bool ph_path_render(const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj,
                    struct ph_text *t)
{
    return render(g, b, obj, false, t);
}

bool ph_path_render_brief(const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj,
                          struct ph_text *t)
{
    return render(g, b, obj, true, t);
}
