/*
 * suspects.c: see suspects.h.
 *
 * Three walks of the dominator tree, each with its own stack (no recursion): the descent that
 * finds the object suspects; one walk of the whole tree that finds, per kind, the objects no
 * other object of the kind dominates and groups the uncovered ones by immediate dominator;
 * and, per suspect, a walk of what it retains that counts kinds. Kind ids are the view's clodo
 * kinds, all interned before the walks so that arrays indexed by kind id keep their size.
 */
#include "lib/heap/suspects.h"

#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/heap/retained.h"

#define BIG_CHILD 0.7 /* a child keeping this share of its parent: the parent is no suspect */
#define MAX_SUSPECTS 20

struct walk_frame {
    uint32_t obj, next, kind, flag;
};

struct walk_stack {
    struct walk_frame *f;
    size_t n, cap;
};

static bool wpush(struct walk_stack *s, uint32_t obj, uint32_t kind, uint32_t flag)
{
    if (!ph_grow(&s->f, &s->cap, s->n, sizeof *s->f, 256))
        return false;
    s->f[s->n++] = (struct walk_frame){obj, 0, kind, flag};
    return true;
}

struct ctx {
    struct ph_view_ctx *v;
    const struct ph_dom *d;
    struct ph_domkids k;
    uint32_t *kind;        /* clodo kind of every reachable object */
    size_t nkinds;         /* kind ids are below this */
    uint8_t *ns;           /* per kind id: a namespace kind */
    uint64_t threshold;
    struct ph_suspects *out;
    size_t cap;
};

/* An interpreter-level root ("i0_modules", "i0_sysdict"): not a thread's frame or state. */
static bool interp_root(const struct ph_graph *g, uint32_t obj)
{
    if (!(g->flags[obj] & PH_OBJ_ROOT))
        return false;
    for (size_t r = 0; r < g->nroots; r++) {
        if (g->roots[r].obj != obj)
            continue;
        const char *name = ph_strtab_get(&g->names, g->roots[r].name);
        const char *u = strchr(name, '_');
        if (name[0] == 'i' && u && !(u[1] == 't' && u[2] >= '0' && u[2] <= '9'))
            return true;
    }
    return false;
}

static bool namespace_obj(const struct ctx *c, uint32_t o)
{
    const struct ph_graph *g = c->v->g;
    return c->ns[c->kind[o]] || interp_root(g, o);
}

/* The kind of every reachable object, and which kinds are namespaces. */
static bool kinds_of(struct ctx *c)
{
    const struct ph_graph *g = c->v->g;
    c->kind = malloc((g->n + 1) * sizeof *c->kind);
    if (!c->kind)
        return false;
    for (size_t i = 0; i < c->d->reached; i++) {
        uint32_t o = c->d->order[i];
        if ((c->kind[o] = ph_clodo_kind(c->v, o)) == PH_STR_NONE)
            return false;
    }
    c->nkinds = c->v->kinds.n;
    c->ns = calloc(c->nkinds + 1, 1);
    if (!c->ns)
        return false;
    for (size_t i = 0; i < c->d->reached; i++) {
        uint32_t o = c->d->order[i];
        enum ph_builtin b = ph_graph_builtin(g, o);
        bool ns = b == PH_BUILTIN_MODULE || b == PH_BUILTIN_TYPE;
        if (b == PH_BUILTIN_DICT && g->owner[o] != PH_NONE) {
            enum ph_builtin ob = ph_graph_builtin(g, g->owner[o]);
            ns = ob == PH_BUILTIN_MODULE || ob == PH_BUILTIN_TYPE;
        }
        if (ns)
            c->ns[c->kind[o]] = 1;
    }
    return true;
}

static struct ph_suspect *add_suspect(struct ctx *c)
{
    struct ph_suspects *s = c->out;
    if (!ph_grow(&s->v, &c->cap, s->n, sizeof *s->v, 8))
        return NULL;
    struct ph_suspect *x = &s->v[s->n++];
    memset(x, 0, sizeof *x);
    x->unit_kind = x->holder_kind = PH_NONE;
    x->dominator = PH_DOM_ROOT;
    return x;
}

/* ---- object suspects: the descent ---- */

static uint32_t kids_of(const struct ctx *c, uint32_t x, uint32_t *end)
{
    uint32_t node = x == PH_DOM_ROOT ? (uint32_t)c->d->n : x;
    *end = c->k.start[node + 1];
    return c->k.start[node];
}

static uint64_t retained_of(const struct ctx *c, uint32_t x)
{
    return x == PH_DOM_ROOT ? c->d->total : ph_dom_retained(c->d, x);
}

static bool report_object(struct ctx *c, uint32_t o, uint8_t *reported)
{
    if (reported[o])
        return true;
    reported[o] = 1;
    struct ph_suspect *s = add_suspect(c);
    if (!s)
        return false;
    s->obj = o;
    s->kind = c->kind[o];
    s->count = 1;
    s->retained = ph_dom_retained(c->d, o);
    return true;
}

/* Down from the roots. A stack entry is an object and the head of the run of objects of its
 * kind it was reached through (a linked list is reported at its head, not where it thins out
 * under the threshold). */
static bool find_objects(struct ctx *c, uint8_t *reported)
{
    struct walk_stack st = {0};
    bool ok = wpush(&st, PH_DOM_ROOT, 0, PH_DOM_ROOT);
    while (ok && st.n) {
        struct walk_frame f = st.f[--st.n];
        uint32_t x = f.obj, end, a = kids_of(c, x, &end);
        bool ns = x == PH_DOM_ROOT || namespace_obj(c, x);
        uint64_t big = 0;
        for (uint32_t i = a; i < end; i++)
            if (ph_dom_retained(c->d, c->k.kid[i]) > big)
                big = ph_dom_retained(c->d, c->k.kid[i]);
        if (!ns && (double)big < BIG_CHILD * (double)retained_of(c, x)) {
            ok = report_object(c, f.flag, reported);
            continue;
        }
        size_t pushed = 0;
        for (uint32_t i = a; ok && i < end; i++) {
            uint32_t y = c->k.kid[i];
            if (ph_dom_retained(c->d, y) <= c->threshold)
                continue;
            bool run = !ns && c->kind[y] == c->kind[x];
            ok = wpush(&st, y, 0, run ? f.flag : y);
            pushed++;
        }
        if (ok && !pushed && !ns)
            ok = report_object(c, f.flag, reported);
    }
    free(st.f);
    return ok;
}

/* ---- group suspects ---- */

struct group {
    uint32_t kind, dom, rep;
    uint64_t count, retained;
};

struct groups {
    struct ph_addrmap index;
    struct group *v;
    size_t n, cap;
};

static bool add_to_group(struct groups *gs, uint32_t kind, uint32_t dom, uint32_t obj,
                         uint64_t retained)
{
    uint64_t key = ((uint64_t)kind << 32 | dom) + 1;
    uint32_t i = ph_addrmap_put(&gs->index, key, (uint32_t)gs->n);
    if (i == PH_ADDRMAP_NONE)
        return false;
    if (i == gs->n) {
        if (!ph_grow(&gs->v, &gs->cap, gs->n, sizeof *gs->v, 64))
            return false;
        gs->v[gs->n++] = (struct group){kind, dom, obj, 0, 0};
    }
    gs->v[i].count++;
    gs->v[i].retained += retained;
    return true;
}

/* One walk of the whole tree: objects no other object of their kind dominates, outside every
 * object suspect, grouped by (kind, immediate dominator). flag: 1 inside a suspect. */
static bool collect_groups(struct ctx *c, const uint8_t *reported, struct groups *gs)
{
    uint32_t *above = calloc(c->nkinds + 1, sizeof *above);
    struct walk_stack st = {0};
    bool ok = above && ph_addrmap_init(&gs->index, 1024) &&
              wpush(&st, PH_DOM_ROOT, PH_NONE, 0);
    while (ok && st.n) {
        struct walk_frame *f = &st.f[st.n - 1];
        uint32_t end, a = kids_of(c, f->obj, &end);
        if (a + f->next >= end) {
            if (f->kind != PH_NONE)
                above[f->kind]--;
            st.n--;
            continue;
        }
        uint32_t y = c->k.kid[a + f->next++], k = c->kind[y], inside = f->flag | reported[y];
        if (!inside && above[k] == 0 && !namespace_obj(c, y))
            ok = add_to_group(gs, k, c->d->idom[y], y, ph_dom_retained(c->d, y));
        above[k]++;
        ok = ok && wpush(&st, y, k, inside);
    }
    free(st.f);
    free(above);
    return ok;
}

static bool find_groups(struct ctx *c, const uint8_t *reported)
{
    struct groups gs = {0};
    bool ok = collect_groups(c, reported, &gs);
    for (size_t i = 0; ok && i < gs.n; i++) {
        struct group *g = &gs.v[i];
        if (g->count < 2 || g->retained <= c->threshold)
            continue;
        struct ph_suspect *s = add_suspect(c);
        if (!(ok = s != NULL))
            break;
        s->group = true;
        s->obj = g->rep;
        s->kind = g->kind;
        s->count = g->count;
        s->dominator = g->dom;
        s->retained = g->retained;
    }
    ph_addrmap_free(&gs.index);
    free(gs.v);
    return ok;
}

/* ---- what a suspect retains ---- */

struct kind_stats {
    uint64_t count, size, top_count, top_retained;
    uint32_t rep;      /* the first object of the kind no other of its kind dominates */
    uint32_t above;    /* objects of the kind on the current path */
};

/* The objects a suspect's analysis starts from: an object suspect's children in the tree, a
 * group's members. */
static size_t starts_of(const struct ctx *c, const struct ph_suspect *s, uint32_t *out)
{
    uint32_t end, a = kids_of(c, s->group ? s->dominator : s->obj, &end);
    size_t n = 0;
    for (uint32_t i = a; i < end; i++) {
        uint32_t y = c->k.kid[i];
        if (!s->group || (c->kind[y] == s->kind && !namespace_obj(c, y)))
            out[n++] = y;
    }
    return n;
}

/* Walk everything under the starts. Pass 0 counts kinds; pass 1 counts, for the unit kind's
 * objects no other of the kind dominates, the kinds of their immediate dominators (holders:
 * per kind id, marking each distinct holder in seen). */
static bool walk_inside(const struct ctx *c, const uint32_t *starts, size_t nstarts,
                        struct kind_stats *ks, int pass, uint32_t unit, uint64_t *holders,
                        uint64_t *distinct, uint8_t *seen)
{
    struct walk_stack st = {0};
    bool ok = true;
    for (size_t i = nstarts; ok && i-- > 0;)
        ok = wpush(&st, starts[i], c->kind[starts[i]], 1);
    for (size_t i = 0; i < st.n; i++)
        st.f[i].next = UINT32_MAX; /* not entered yet */
    while (ok && st.n) {
        struct walk_frame *f = &st.f[st.n - 1];
        uint32_t x = f->obj, k = f->kind;
        if (f->next == UINT32_MAX) { /* entering x */
            f->next = 0;
            struct kind_stats *s = &ks[k];
            bool top = s->above++ == 0;
            if (pass == 0) {
                s->count++;
                s->size += ph_graph_size(c->v->g, x);
                if (top && s->top_count++ == 0)
                    s->rep = x;
                if (top)
                    s->top_retained += ph_dom_retained(c->d, x);
            } else if (top && k == unit && c->d->idom[x] != PH_DOM_ROOT) {
                uint32_t up = c->d->idom[x];
                holders[c->kind[up]]++;
                if (!seen[up]) {
                    seen[up] = 1;
                    distinct[c->kind[up]]++;
                }
            }
        }
        uint32_t end, a = kids_of(c, x, &end);
        if (a + f->next >= end) {
            ks[k].above--;
            st.n--;
            continue;
        }
        uint32_t y = c->k.kid[a + f->next++];
        ok = wpush(&st, y, c->kind[y], 1);
        if (ok)
            st.f[st.n - 1].next = UINT32_MAX;
    }
    free(st.f);
    return ok;
}

static int cmp_parts(const void *a, const void *b)
{
    const struct ph_suspect_part *x = a, *y = b;
    return x->size != y->size ? (x->size > y->size ? -1 : 1) : (x->kind > y->kind) - (x->kind < y->kind);
}

/* The largest kinds by own size, the suspect itself included. */
static void pick_parts(const struct ctx *c, struct ph_suspect *s, struct kind_stats *ks)
{
    if (!s->group) {
        ks[s->kind].count++;
        ks[s->kind].size += ph_graph_size(c->v->g, s->obj);
    }
    for (size_t k = 0; k < c->nkinds; k++) {
        if (!ks[k].count)
            continue;
        struct ph_suspect_part p = {(uint32_t)k, ks[k].count, ks[k].size};
        if (s->nparts < PH_SUSPECT_PARTS) {
            s->parts[s->nparts++] = p;
        } else if (cmp_parts(&p, &s->parts[PH_SUSPECT_PARTS - 1]) < 0) {
            s->parts[PH_SUSPECT_PARTS - 1] = p;
        } else {
            continue;
        }
        qsort(s->parts, s->nparts, sizeof *s->parts, cmp_parts);
    }
    if (!s->group) {
        ks[s->kind].count--;
        ks[s->kind].size -= ph_graph_size(c->v->g, s->obj);
    }
}

/* The unit: of the kinds whose objects together retain at least half of the suspect, the one
 * with the most objects (ties: the one retaining more). */
static void pick_unit(const struct ctx *c, struct ph_suspect *s, const struct kind_stats *ks)
{
    for (size_t k = 0; k < c->nkinds; k++) {
        if (!ks[k].top_count || 2 * ks[k].top_retained < s->retained)
            continue;
        if (s->unit_kind == PH_NONE || ks[k].top_count > s->unit_count ||
            (ks[k].top_count == s->unit_count && ks[k].top_retained > s->unit_retained)) {
            s->unit_kind = (uint32_t)k;
            s->unit_count = ks[k].top_count;
            s->unit_retained = ks[k].top_retained;
        }
    }
}

/* Kinds from the suspect down to obj, runs of one kind folded. */
static bool make_chain(const struct ctx *c, struct ph_suspect *s, uint32_t obj)
{
    uint32_t stop = s->group ? s->dominator : c->d->idom[s->obj];
    size_t len = 0;
    for (uint32_t x = obj; x != stop && x != PH_DOM_ROOT; x = c->d->idom[x])
        len++;
    s->chain = malloc((len + 1) * sizeof *s->chain);
    if (!s->chain)
        return false;
    size_t n = 0;
    for (uint32_t x = obj; x != stop && x != PH_DOM_ROOT; x = c->d->idom[x]) {
        if (n && s->chain[n - 1].kind == c->kind[x])
            s->chain[n - 1].repeat++;
        else
            s->chain[n++] = (struct ph_chain_step){c->kind[x], 1};
    }
    for (size_t i = 0; i < n / 2; i++) { /* top first */
        struct ph_chain_step t = s->chain[i];
        s->chain[i] = s->chain[n - 1 - i];
        s->chain[n - 1 - i] = t;
    }
    s->nchain = n;
    return true;
}

static bool describe(const struct ctx *c, struct ph_suspect *s)
{
    size_t nk = c->nkinds + 1;
    struct kind_stats *ks = calloc(nk, sizeof *ks);
    uint64_t *holders = calloc(nk, sizeof *holders), *distinct = calloc(nk, sizeof *distinct);
    uint8_t *seen = calloc(c->d->n + 1, 1);
    uint32_t *starts = malloc((c->d->reached + 1) * sizeof *starts);
    bool ok = ks && holders && distinct && seen && starts;
    size_t nstarts = ok ? starts_of(c, s, starts) : 0;
    ok = ok && walk_inside(c, starts, nstarts, ks, 0, PH_NONE, NULL, NULL, NULL);
    if (ok) {
        pick_parts(c, s, ks);
        pick_unit(c, s, ks);
    }
    if (ok && s->unit_kind != PH_NONE) {
        uint32_t rep = ks[s->unit_kind].rep;
        ok = walk_inside(c, starts, nstarts, ks, 1, s->unit_kind, holders, distinct, seen) &&
             make_chain(c, s, rep);
        for (size_t k = 0; ok && k < c->nkinds; k++)
            if (holders[k] > (s->holder_kind == PH_NONE ? 0 : holders[s->holder_kind])) {
                s->holder_kind = (uint32_t)k;
                s->holder_count = distinct[k];
            }
    }
    free(ks);
    free(holders);
    free(distinct);
    free(seen);
    free(starts);
    return ok;
}

static int cmp_suspects(const void *a, const void *b)
{
    const struct ph_suspect *x = a, *y = b;
    if (x->retained != y->retained)
        return x->retained > y->retained ? -1 : 1;
    return (x->obj > y->obj) - (x->obj < y->obj);
}

ph_status ph_find_suspects(struct ph_view_ctx *v, const struct ph_dom *d, double threshold_pct,
                           struct ph_suspects *out, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    out->total = d->total;
    out->threshold = (uint64_t)((double)d->total * threshold_pct / 100.0);
    struct ctx c = {.v = v, .d = d, .threshold = out->threshold, .out = out};
    uint8_t *reported = calloc(d->n + 1, 1);
    bool ok = reported && ph_domkids_build(d, &c.k) && kinds_of(&c) &&
              find_objects(&c, reported) && find_groups(&c, reported);
    if (ok) {
        qsort(out->v, out->n, sizeof *out->v, cmp_suspects);
        if (out->n > MAX_SUSPECTS)
            out->n = MAX_SUSPECTS;
    }
    for (size_t i = 0; ok && i < out->n; i++)
        ok = describe(&c, &out->v[i]);
    ph_domkids_free(&c.k);
    free(c.kind);
    free(c.ns);
    free(reported);
    if (!ok) {
        ph_suspects_free(out);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory looking for leak suspects");
    }
    return PH_OK;
}

void ph_suspects_free(struct ph_suspects *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].chain);
    free(s->v);
    memset(s, 0, sizeof *s);
}
