/*
 * retained.c: see retained.h.
 *
 * A row's retained size needs, for each member, whether a dominator above it is in the same
 * row. One depth-first walk of the dominator tree answers it for every row at once: a counter
 * per row of the members on the current path; a member counts when its row's counter is 0 on
 * the way down. The walk keeps its own stack (the tree can be a million deep). A single set
 * needs less: in d->order every object comes after its immediate dominator, so "some member
 * above" is one bit carried down in that order.
 */
#include "lib/heap/retained.h"

#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"

bool ph_domkids_build(const struct ph_dom *d, struct ph_domkids *k)
{
    size_t n = d->n;
    k->n = n;
    k->start = calloc(n + 3, sizeof *k->start);
    k->kid = malloc((d->reached + 1) * sizeof *k->kid);
    if (!k->start || !k->kid) {
        ph_domkids_free(k);
        return false;
    }
    /* counts shifted by two, so that after the prefix sum start[x + 1] is x's fill cursor */
    for (size_t i = 0; i < d->reached; i++) {
        uint32_t up = d->idom[d->order[i]];
        k->start[(up == PH_DOM_ROOT ? n : up) + 2]++;
    }
    for (size_t x = 2; x < n + 3; x++)
        k->start[x] += k->start[x - 1];
    for (size_t i = 0; i < d->reached; i++) {
        uint32_t o = d->order[i], up = d->idom[o];
        k->kid[k->start[(up == PH_DOM_ROOT ? n : up) + 1]++] = o;
    }
    return true;
}

void ph_domkids_free(struct ph_domkids *k)
{
    free(k->start);
    free(k->kid);
    memset(k, 0, sizeof *k);
}

/* ---- rows ---- */

struct frame {
    uint32_t obj, next, row; /* row: the member's row, PH_NONE when not a member */
};

/* A stack that grows as the tree deepens. */
struct stack {
    struct frame *f;
    size_t n, cap;
};

static bool push(struct stack *s, uint32_t obj, uint32_t next, uint32_t row)
{
    if (!ph_grow(&s->f, &s->cap, s->n, sizeof *s->f, 256))
        return false;
    s->f[s->n++] = (struct frame){obj, next, row};
    return true;
}

/* row[o] for every member of s (PH_NONE for other objects): the row its kind names in p. */
static uint32_t *member_rows(struct ph_view_ctx *v, const struct ph_set *s,
                             const struct ph_partition *p)
{
    struct ph_addrmap rows;
    uint32_t *row = malloc((v->g->n + 1) * sizeof *row);
    if (!row || !ph_addrmap_init(&rows, p->n * 2 + 16)) {
        free(row);
        return NULL;
    }
    bool ok = true;
    for (size_t r = 0; ok && r < p->n; r++)
        ok = ph_addrmap_put(&rows, (uint64_t)p->rows[r].kind + 1, (uint32_t)r) != PH_ADDRMAP_NONE;
    memset(row, 0xff, (v->g->n + 1) * sizeof *row);
    for (size_t i = 0; ok && i < s->n; i++) {
        uint32_t kind = ph_view_kind(v, s->v[i], p->relation);
        ok = kind != PH_STR_NONE;
        if (ok)
            row[s->v[i]] = ph_addrmap_get(&rows, (uint64_t)kind + 1);
    }
    ph_addrmap_free(&rows);
    if (!ok) {
        free(row);
        return NULL;
    }
    return row;
}

/* The walk: down from the virtual root, adding a member's retained size to its row when no
 * member of the row is above it. */
static bool walk_rows(const struct ph_dom *d, const struct ph_domkids *k, const uint32_t *row,
                      struct ph_partition *p)
{
    uint32_t *above = calloc(p->n + 1, sizeof *above);
    struct stack st = {0};
    bool ok = above && push(&st, (uint32_t)d->n, 0, PH_NONE);
    while (ok && st.n) {
        struct frame *f = &st.f[st.n - 1];
        uint32_t end = k->start[f->obj + 1];
        if (k->start[f->obj] + f->next >= end) {
            if (f->row != PH_NONE)
                above[f->row]--;
            st.n--;
            continue;
        }
        uint32_t x = k->kid[k->start[f->obj] + f->next++], r = row[x];
        if (r != PH_NONE && above[r]++ == 0)
            p->rows[r].retained += ph_dom_retained(d, x);
        ok = push(&st, x, 0, r);
    }
    free(st.f);
    free(above);
    return ok;
}

ph_status ph_partition_retained(struct ph_view_ctx *v, const struct ph_dom *d,
                                const struct ph_set *s, struct ph_partition *p,
                                struct ph_error *err)
{
    for (size_t r = 0; r < p->n; r++)
        p->rows[r].retained = 0;
    uint32_t *row = member_rows(v, s, p);
    struct ph_domkids k = {0};
    bool ok = row && ph_domkids_build(d, &k) && walk_rows(d, &k, row, p);
    /* Members outside the tree retain their own size. */
    for (size_t i = 0; ok && i < s->n; i++)
        if (d->idom[s->v[i]] == PH_NONE && row[s->v[i]] != PH_NONE)
            p->rows[row[s->v[i]]].retained += ph_dom_retained(d, s->v[i]);
    ph_domkids_free(&k);
    free(row);
    if (!ok)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory for the retained sizes of %zu rows",
                       p->n);
    return PH_OK;
}

static int cmp_retained(const void *a, const void *b, void *kinds)
{
    const struct ph_row *x = a, *y = b;
    if (x->retained != y->retained)
        return x->retained > y->retained ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return strcmp(ph_strtab_get(kinds, x->kind), ph_strtab_get(kinds, y->kind));
}

void ph_partition_sort_retained(struct ph_view_ctx *v, struct ph_partition *p)
{
    qsort_r(p->rows, p->n, sizeof *p->rows, cmp_retained, &v->kinds);
}

/* ---- top ---- */

/* A min-heap of the k largest so far, by (retained, then lower index wins). */
static bool heap_less(const struct ph_dom *d, uint32_t a, uint32_t b)
{
    if (ph_dom_retained(d, a) != ph_dom_retained(d, b))
        return ph_dom_retained(d, a) < ph_dom_retained(d, b);
    return a > b;
}

static void sift_down(const struct ph_dom *d, uint32_t *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && heap_less(d, h[l], h[m]))
            m = l;
        if (r < n && heap_less(d, h[r], h[m]))
            m = r;
        if (m == i)
            return;
        uint32_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void sift_up(const struct ph_dom *d, uint32_t *h, size_t i)
{
    while (i > 0 && heap_less(d, h[i], h[(i - 1) / 2])) {
        uint32_t t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

size_t ph_top_retained(const struct ph_dom *d, const struct ph_set *s, size_t k, uint32_t *out)
{
    size_t nh = 0;
    for (size_t i = 0; k && i < s->n; i++) {
        uint32_t o = s->v[i];
        if (d->idom[o] == PH_NONE)
            continue;
        if (nh < k) {
            out[nh] = o;
            sift_up(d, out, nh++);
        } else if (heap_less(d, out[0], o)) {
            out[0] = o;
            sift_down(d, out, nh, 0);
        }
    }
    /* the minimum to the end, repeatedly: largest first */
    for (size_t m = nh; m > 1; m--) {
        uint32_t t = out[0];
        out[0] = out[m - 1];
        out[m - 1] = t;
        sift_down(d, out, m - 1, 0);
    }
    return nh;
}

/* ---- one set ---- */

/* mark[o]: bit 0 = member of s, bit 1 = a member dominates it strictly. */
static uint8_t *mark_members(const struct ph_dom *d, const struct ph_set *s)
{
    uint8_t *mark = calloc(d->n + 1, 1);
    if (!mark)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        mark[s->v[i]] |= 1;
    for (size_t i = 0; i < d->reached; i++) {
        uint32_t o = d->order[i], up = d->idom[o];
        if (up != PH_DOM_ROOT && mark[up])
            mark[o] |= 2;
    }
    return mark;
}

ph_status ph_set_retained(const struct ph_dom *d, const struct ph_set *s, uint64_t *out,
                          struct ph_error *err)
{
    *out = 0;
    uint8_t *mark = mark_members(d, s);
    if (!mark)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < s->n; i++)
        if (!(mark[s->v[i]] & 2))
            *out += ph_dom_retained(d, s->v[i]);
    free(mark);
    return PH_OK;
}

/* ---- the chain above a set ---- */

/* The deepest object dominating every reachable member: count members below each object
 * (summed up the tree, as retained sizes are); the ones whose count is everything form a path
 * from the top, and the deepest of them comes last in order. PH_DOM_ROOT when there is none. */
static uint32_t common_dominator(const struct ph_dom *d, const struct ph_set *s, size_t *reachable)
{
    uint32_t *below = calloc(d->n + 1, sizeof *below);
    if (!below)
        return PH_NONE;
    size_t members = 0;
    for (size_t i = 0; i < s->n; i++)
        if (d->idom[s->v[i]] != PH_NONE && below[s->v[i]] == 0) {
            below[s->v[i]] = 1;
            members++;
        }
    for (size_t i = d->reached; i-- > 0;) {
        uint32_t o = d->order[i], up = d->idom[o];
        if (up != PH_DOM_ROOT)
            below[up] += below[o];
    }
    uint32_t deepest = PH_DOM_ROOT;
    for (size_t i = 0; members && i < d->reached; i++)
        if (below[d->order[i]] == members)
            deepest = d->order[i];
    free(below);
    *reachable = members;
    return deepest;
}

static int cmp_holders(const void *a, const void *b)
{
    const struct ph_holder *x = a, *y = b;
    if (x->objects != y->objects)
        return x->objects > y->objects ? -1 : 1;
    return x->holders < y->holders ? 1 : x->holders > y->holders ? -1 : 0;
}

/* Members grouped by the kind of their immediate dominators. */
static bool group_holders(struct ph_view_ctx *v, const struct ph_dom *d, const struct ph_set *s,
                          struct ph_dom_chain *c)
{
    struct ph_addrmap slot = {0};
    uint8_t *seen = calloc(d->n + 1, 1);
    size_t cap = 16;
    c->holders = malloc(cap * sizeof *c->holders);
    bool ok = seen && c->holders && ph_addrmap_init(&slot, 64);
    for (size_t i = 0; ok && i < s->n; i++) {
        uint32_t o = s->v[i], up = d->idom[o];
        if (up == PH_NONE || (seen[o] & 1))
            continue;
        seen[o] |= 1;
        uint32_t kind = up == PH_DOM_ROOT ? PH_NONE : ph_clodo_kind(v, up);
        uint32_t h = ph_addrmap_put(&slot, (uint64_t)kind + 1, (uint32_t)c->nholders);
        ok = h != PH_ADDRMAP_NONE;
        if (ok && h == c->nholders) {
            if (c->nholders == cap) {
                struct ph_holder *more = realloc(c->holders, 2 * cap * sizeof *more);
                if (!(ok = more != NULL))
                    break;
                c->holders = more;
                cap *= 2;
            }
            c->holders[c->nholders++] = (struct ph_holder){kind, 0, 0};
        }
        if (!ok)
            break;
        c->holders[h].objects++;
        if (up == PH_DOM_ROOT || !(seen[up] & 2)) {
            c->holders[h].holders += up != PH_DOM_ROOT;
            if (up != PH_DOM_ROOT)
                seen[up] |= 2;
        }
    }
    ph_addrmap_free(&slot);
    free(seen);
    if (ok)
        qsort(c->holders, c->nholders, sizeof *c->holders, cmp_holders);
    return ok;
}

ph_status ph_dom_chain(struct ph_view_ctx *v, const struct ph_dom *d, const struct ph_set *s,
                       struct ph_dom_chain *out, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    out->members = s->n;
    uint32_t deepest = common_dominator(d, s, &out->reachable);
    ph_status st = deepest == PH_NONE ? ph_fail(err, PH_ERR_INTERNAL, "out of memory")
                                      : ph_set_retained(d, s, &out->retained, err);
    if (st != PH_OK)
        return st;
    size_t len = 0;
    for (uint32_t x = deepest; x != PH_DOM_ROOT; x = d->idom[x])
        len++;
    out->objs = malloc((len + 1) * sizeof *out->objs);
    if (!out->objs || !group_holders(v, d, s, out)) {
        ph_dom_chain_free(out);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    }
    out->n = len;
    for (uint32_t x = deepest; x != PH_DOM_ROOT; x = d->idom[x])
        out->objs[--len] = x;
    return PH_OK;
}

void ph_dom_chain_free(struct ph_dom_chain *c)
{
    free(c->objs);
    free(c->holders);
    memset(c, 0, sizeof *c);
}
