/*
 * view.c: sets, partitions by heapy's relations, and selections.
 *
 * Row kinds are ids in the view's own string table, so grouping is a hash from id to row. An
 * object's clodo kind is two array lookups: the kind of each type, and of "dict of <type>" per
 * owner type, are made once per view. Reverse edges are built once, on first need. byrcs and
 * byvia count only reachable referrers, plus the roots, as heapy counts its RootState; their
 * rows are heapy's text: kinds or Python reprs of the ways in, sorted, ", "-joined.
 */
#include "lib/heap/view.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/heap/label.h"
#include "lib/parallel.h"

static const struct {
    const char *name, *header;
} relations[PH_RELATION_COUNT] = {
    [PH_BY_CLODO] = {"clodo", "Kind (class / dict of class)"},
    [PH_BY_TYPE] = {"type", "Type"},
    [PH_BY_SIZE] = {"size", "Individual Size"},
    [PH_BY_MODULE] = {"module", "Module"},
    [PH_BY_RCS] = {"rcs", "Referrers by Kind (class / dict of class)"},
    [PH_BY_VIA] = {"via", "Referred Via:"},
    [PH_BY_ID] = {"id", "Kind: Name/Value/Address"},
};

const char *ph_relation_name(enum ph_relation r)
{
    return r < PH_RELATION_COUNT ? relations[r].name : "?";
}

const char *ph_relation_header(enum ph_relation r)
{
    return r < PH_RELATION_COUNT ? relations[r].header : "?";
}

int ph_relation_parse(const char *name)
{
    for (int r = 0; r < PH_RELATION_COUNT; r++)
        if (strcmp(relations[r].name, name) == 0)
            return r;
    return -1;
}

bool ph_view_ctx_init(struct ph_view_ctx *v, const struct ph_graph *g)
{
    memset(v, 0, sizeof *v);
    v->g = g;
    ph_strtab_init(&v->kinds);
    v->type_kind = malloc((g->ntypes + 1) * sizeof *v->type_kind);
    v->dict_kind = malloc((g->ntypes + 1) * sizeof *v->dict_kind);
    v->no_owner = ph_strtab_intern_cstr(&v->kinds, "dict (no owner)");
    bool ok = v->type_kind && v->dict_kind && v->no_owner != PH_STR_NONE;
    for (size_t t = 0; ok && t < g->ntypes; t++) {
        v->type_kind[t] = ph_strtab_intern_cstr(&v->kinds, ph_strtab_get(&g->names, g->types[t].name));
        v->dict_kind[t] = PH_NONE;
        ok = v->type_kind[t] != PH_STR_NONE;
    }
    if (!ok)
        ph_view_ctx_free(v);
    return ok;
}

void ph_view_ctx_free(struct ph_view_ctx *v)
{
    if (v->have_rg)
        ph_rgraph_free(&v->rg);
    free(v->type_kind);
    free(v->dict_kind);
    ph_strtab_free(&v->kinds);
    memset(v, 0, sizeof *v);
}

const char *ph_view_text(const struct ph_view_ctx *v, uint32_t id)
{
    return ph_strtab_get(&v->kinds, id);
}

static bool need_rgraph(struct ph_view_ctx *v)
{
    if (!v->have_rg)
        v->have_rg = ph_rgraph_build(v->g, &v->rg);
    return v->have_rg;
}

bool ph_set_default(const struct ph_graph *g, bool all, struct ph_set *out)
{
    out->n = 0;
    out->v = malloc((g->n + 1) * sizeof *out->v);
    if (!out->v)
        return false;
    for (size_t i = 0; i < g->n; i++)
        if (all || (g->flags[i] & PH_OBJ_REACHABLE))
            out->v[out->n++] = (uint32_t)i;
    return true;
}

void ph_set_free(struct ph_set *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

void ph_unreachable_totals(const struct ph_graph *g, uint64_t *count, uint64_t *size)
{
    *count = *size = 0;
    for (size_t i = 0; i < g->n; i++)
        if (!(g->flags[i] & PH_OBJ_REACHABLE)) {
            (*count)++;
            *size += ph_graph_size(g, (uint32_t)i);
        }
}

/* ---- kinds ---- */

/* The clodo kind if its text is made (reading only: see rcs_known_all); PH_STR_NONE when
 * "dict of X" is not made yet. */
static uint32_t clodo_known(const struct ph_view_ctx *v, uint32_t obj)
{
    const struct ph_graph *g = v->g;
    uint32_t t = g->type[obj];
    if (g->types[t].builtin != PH_BUILTIN_DICT)
        return v->type_kind[t];
    uint32_t owner = g->owner[obj];
    return owner == PH_NONE ? v->no_owner : v->dict_kind[g->type[owner]];
}

uint32_t ph_clodo_kind(struct ph_view_ctx *v, uint32_t obj)
{
    uint32_t kind = clodo_known(v, obj);
    const struct ph_graph *g = v->g;
    if (kind != PH_STR_NONE || g->types[g->type[obj]].builtin != PH_BUILTIN_DICT ||
        g->owner[obj] == PH_NONE)
        return kind;
    uint32_t ot = g->type[g->owner[obj]];
    char buf[600];
    snprintf(buf, sizeof buf, "dict of %s", ph_view_text(v, v->type_kind[ot]));
    v->dict_kind[ot] = ph_strtab_intern_cstr(&v->kinds, buf); /* PH_STR_NONE: asked again */
    return v->dict_kind[ot];
}

static int cmp_u32_name(const void *a, const void *b, void *kinds)
{
    return strcmp(ph_strtab_get(kinds, *(const uint32_t *)a), ph_strtab_get(kinds, *(const uint32_t *)b));
}

/* Referrer kinds and ways in are few per object, but an object can have millions of referrers
 * (None, a class through __class__): they are collected distinct, at most MAX_JOIN of them, and
 * a row that had more says so with a trailing ", ...". */
#define MAX_JOIN 64

struct distinct {
    uint32_t v[MAX_JOIN];
    size_t n;
    bool cut;
};

static void add_distinct(struct distinct *d, uint32_t x)
{
    for (size_t k = 0; k < d->n; k++)
        if (d->v[k] == x)
            return;
    if (d->n < MAX_JOIN)
        d->v[d->n++] = x;
    else
        d->cut = true;
}

/* A row of one kind is that kind's own text, unless the text is too long for a row. */
static bool stands_alone(const struct ph_view_ctx *v, uint32_t id)
{
    return strlen(ph_view_text(v, id)) + 2 + sizeof ", ..." < 2048;
}

/* Join distinct kind ids, sorted by text, with ", " (heapy's byrcs and byvia rows). */
static uint32_t join_ids(struct ph_view_ctx *v, struct distinct *d, const char *empty)
{
    if (d->n == 0)
        return ph_strtab_intern_cstr(&v->kinds, empty);
    bool one = true; /* most objects have one kind of referrer: the row is that kind's text */
    for (size_t k = 1; one && k < d->n; k++)
        one = d->v[k] == d->v[0];
    if (one && !d->cut && stands_alone(v, d->v[0]))
        return d->v[0];
    qsort_r(d->v, d->n, sizeof *d->v, cmp_u32_name, &v->kinds);
    char buf[2048];
    size_t o = 0;
    bool cut = d->cut;
    for (size_t k = 0; k < d->n; k++) {
        if (k && d->v[k] == d->v[k - 1])
            continue;
        const char *s = ph_view_text(v, d->v[k]);
        size_t len = strlen(s);
        if (o + len + 2 + sizeof ", ..." >= sizeof buf) {
            cut = true;
            break;
        }
        if (o) {
            memcpy(buf + o, ", ", 2);
            o += 2;
        }
        memcpy(buf + o, s, len + 1);
        o += len;
    }
    if (cut)
        snprintf(buf + o, sizeof buf - o, ", ...");
    return ph_strtab_intern_cstr(&v->kinds, buf);
}

/* Roots count as referrers, as heapy's RootState does. A root named after a frame's item
 * ("i0_t1_f0.f_locals['x']", 3.11+, where frames are not objects) is held by that frame: heapy,
 * which reaches locals through frame objects, shows types.FrameType and ".f_locals['x']" there.
 * Other roots are held by the root state itself: ".i0_modules". */
static const char *root_frame_step(const char *name)
{
    return strchr(name, '.');
}

static void root_rcs(struct ph_view_ctx *v, uint32_t obj, struct distinct *d)
{
    const struct ph_graph *g = v->g;
    for (size_t r = 0; r < g->nroots; r++)
        if (g->roots[r].obj == obj)
            add_distinct(d, ph_strtab_intern_cstr(&v->kinds,
                         root_frame_step(ph_strtab_get(&g->names, g->roots[r].name)) ?
                         "types.FrameType" : "RootState"));
}

static uint32_t rcs_kind(struct ph_view_ctx *v, uint32_t obj)
{
    struct distinct d = {.n = 0};
    for (uint64_t r = v->rg.start[obj]; r < v->rg.start[obj + 1]; r++) {
        uint32_t src = v->rg.src[r];
        if (v->g->flags[src] & PH_OBJ_REACHABLE)
            add_distinct(&d, ph_clodo_kind(v, src));
    }
    if (v->g->flags[obj] & PH_OBJ_ROOT)
        root_rcs(v, obj, &d);
    return join_ids(v, &d, "<Nothing>");
}

/* ---- referrer kinds on both cores ----
 * --by rcs walks every referrer of every object: at 20M objects it made a drill-down 1.32 times
 * a plain attach. Each half of the set computes, reading only, the kind of its objects that
 * have exactly one kind of referrer whose text is already made (most objects); PH_STR_NONE
 * leaves an object to rcs_kind, in order, since making a text changes the kinds table. The
 * kinds are rcs_kind's exactly. */
#define RCS_PARALLEL_MIN 65536 /* fewer objects: a thread costs more than it saves */

static uint32_t rcs_known(const struct ph_view_ctx *v, uint32_t obj)
{
    if (v->g->flags[obj] & PH_OBJ_ROOT)
        return PH_STR_NONE;
    uint32_t one = PH_STR_NONE;
    for (uint64_t r = v->rg.start[obj]; r < v->rg.start[obj + 1]; r++) {
        uint32_t src = v->rg.src[r];
        if (!(v->g->flags[src] & PH_OBJ_REACHABLE))
            continue;
        uint32_t k = clodo_known(v, src);
        if (k == PH_STR_NONE || (one != PH_STR_NONE && k != one))
            return PH_STR_NONE;
        one = k;
    }
    return one != PH_STR_NONE && stands_alone(v, one) ? one : PH_STR_NONE;
}

struct rcs_half {
    const struct ph_view_ctx *v;
    const struct ph_set *s;
    uint32_t *kinds;
    size_t lo, hi;
};

static void *rcs_run(void *arg)
{
    const struct rcs_half *h = arg;
    for (size_t k = h->lo; k < h->hi; k++)
        h->kinds[k] = rcs_known(h->v, h->s->v[k]);
    return NULL;
}

/* The kinds rcs_known gives for the set, on both cores; NULL for a small set or out of
 * memory (rcs_kind then does all). */
static uint32_t *rcs_known_all(const struct ph_view_ctx *v, const struct ph_set *s)
{
    uint32_t *kinds = s->n >= RCS_PARALLEL_MIN ? malloc(s->n * sizeof *kinds) : NULL;
    if (!kinds)
        return NULL;
    struct rcs_half h[2] = {{v, s, kinds, 0, s->n / 2}, {v, s, kinds, s->n / 2, s->n}};
    ph_run_pair(rcs_run, &h[0], &h[1]);
    return kinds;
}

/* Python's repr of a str (heapy prints each way in as repr(str)): single quotes unless the
 * text has a single quote and no double one; backslashes and the quote escaped. The text is
 * from the string table, already free of control characters; they are escaped all the same. */
static void py_repr(const char *s, char *buf, size_t cap)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    size_t o = 0;
    buf[o++] = q;
    for (; *s && o + 6 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == (unsigned char)q)
            o += (size_t)snprintf(buf + o, cap - o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o++] = q;
    buf[o] = '\0';
}

static uint32_t via_text(struct ph_view_ctx *v, const char *step)
{
    char quoted[1300];
    py_repr(step, quoted, sizeof quoted);
    return ph_strtab_intern_cstr(&v->kinds, quoted);
}

static void root_vias(struct ph_view_ctx *v, uint32_t obj, struct distinct *d)
{
    const struct ph_graph *g = v->g;
    for (size_t r = 0; r < g->nroots; r++) {
        if (g->roots[r].obj != obj)
            continue;
        const char *name = ph_strtab_get(&g->names, g->roots[r].name);
        const char *step = root_frame_step(name);
        char buf[600];
        if (!step)
            snprintf(buf, sizeof buf, ".%s", name);
        add_distinct(d, via_text(v, step ? step : buf));
    }
}

static uint32_t via_kind(struct ph_view_ctx *v, uint32_t obj)
{
    const struct ph_graph *g = v->g;
    struct distinct labels = {.n = 0}, texts = {.n = 0};
    for (uint64_t r = v->rg.start[obj]; r < v->rg.start[obj + 1]; r++)
        if (g->flags[v->rg.src[r]] & PH_OBJ_REACHABLE)
            add_distinct(&labels, g->edge_label[v->rg.edge[r]]);
    /* Render each distinct label once: "list(_)[i]" for a set member, as heapy writes it. */
    for (size_t k = 0; k < labels.n; k++) {
        char step[1024];
        add_distinct(&texts, via_text(v, ph_label_render(g, labels.v[k], "", step, sizeof step)));
    }
    texts.cut |= labels.cut;
    if (g->flags[obj] & PH_OBJ_ROOT)
        root_vias(v, obj, &texts);
    return join_ids(v, &texts, "<Nothing>");
}

/* heapy's bymodule row of a module is its name as str() shows it (os, app.feed); the walk keeps
 * the repr of __name__ as the module's brief, so the quotes come off. */
static uint32_t module_kind(struct ph_view_ctx *v, uint32_t obj)
{
    const struct ph_graph *g = v->g;
    if (ph_graph_builtin(g, obj) != PH_BUILTIN_MODULE)
        return ph_strtab_intern_cstr(&v->kinds, "~module");
    uint32_t brief = ph_addrmap_get(&g->brief, (uint64_t)obj + 1);
    char buf[300];
    if (brief == PH_ADDRMAP_NONE) {
        ph_object_brief(g, obj, buf, sizeof buf);
        return ph_strtab_intern_cstr(&v->kinds, buf);
    }
    const char *name = ph_strtab_get(&g->names, brief);
    size_t len = strlen(name);
    if (len >= 2 && (name[0] == '\'' || name[0] == '"') && name[len - 1] == name[0])
        return ph_strtab_intern(&v->kinds, name + 1, len - 2);
    return ph_strtab_intern(&v->kinds, name, len);
}

static uint32_t kind_of(struct ph_view_ctx *v, uint32_t obj, enum ph_relation rel)
{
    char buf[700];
    switch (rel) {
    case PH_BY_CLODO: return ph_clodo_kind(v, obj);
    case PH_BY_TYPE: return v->type_kind[v->g->type[obj]];
    case PH_BY_SIZE:
        snprintf(buf, sizeof buf, "%9" PRIu64, ph_graph_size(v->g, obj)); /* heapy's '%9d' */
        return ph_strtab_intern_cstr(&v->kinds, buf);
    case PH_BY_MODULE: return module_kind(v, obj);
    case PH_BY_RCS: return rcs_kind(v, obj);
    case PH_BY_VIA: return via_kind(v, obj);
    case PH_BY_ID:
    default:
        ph_object_brief(v->g, obj, buf, sizeof buf);
        return ph_strtab_intern_cstr(&v->kinds, buf);
    }
}

uint32_t ph_view_kind(struct ph_view_ctx *v, uint32_t obj, enum ph_relation rel)
{
    if ((rel == PH_BY_RCS || rel == PH_BY_VIA) && !need_rgraph(v))
        return PH_STR_NONE;
    return kind_of(v, obj, rel);
}

/* ---- partition ---- */

static int cmp_rows(const void *a, const void *b, void *kinds)
{
    const struct ph_row *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return strcmp(ph_strtab_get(kinds, x->kind), ph_strtab_get(kinds, y->kind));
}

/* The row of kind in out (added, empty, if new); PH_NONE when out of memory. */
static uint32_t row_of(struct ph_partition *out, struct ph_addrmap *rowmap, size_t *cap,
                       uint32_t kind, uint32_t obj)
{
    uint32_t r = ph_addrmap_put(rowmap, (uint64_t)kind + 1, (uint32_t)out->n);
    if (r == PH_ADDRMAP_NONE || r < out->n)
        return r;
    if (!ph_grow(&out->rows, cap, out->n, sizeof *out->rows, 64))
        return PH_NONE;
    out->rows[out->n++] = (struct ph_row){kind, 0, 0, obj};
    return r;
}

ph_status ph_partition(struct ph_view_ctx *v, const struct ph_set *s, enum ph_relation rel,
                       struct ph_partition *out, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    out->relation = rel;
    if ((rel == PH_BY_RCS || rel == PH_BY_VIA) && !need_rgraph(v))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory building referrers");
    struct ph_addrmap rowmap;
    size_t cap = 64;
    out->rows = malloc(cap * sizeof *out->rows);
    if (!out->rows || !ph_addrmap_init(&rowmap, 256)) {
        ph_partition_free(out);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    }
    uint32_t *known = rel == PH_BY_RCS ? rcs_known_all(v, s) : NULL;
    /* A heap has few kinds that most objects share: their rows are found in a small table
     * indexed by kind id before the row map (a lookup per object was 1% of an attach). */
    struct { uint32_t kind, row; } recent[64];
    for (size_t i = 0; i < 64; i++)
        recent[i].kind = PH_STR_NONE;
    size_t k = 0;
    for (; k < s->n; k++) {
        uint32_t obj = s->v[k];
        uint32_t kind = known && known[k] != PH_STR_NONE ? known[k] : kind_of(v, obj, rel);
        if (kind == PH_STR_NONE)
            break;
        uint32_t r = recent[kind % 64].kind == kind ? recent[kind % 64].row
                                                    : row_of(out, &rowmap, &cap, kind, obj);
        if (r == PH_NONE)
            break;
        recent[kind % 64].kind = kind;
        recent[kind % 64].row = r;
        uint64_t size = ph_graph_size(v->g, obj);
        out->rows[r].count++;
        out->rows[r].size += size;
        out->total_count++;
        out->total_size += size;
    }
    ph_addrmap_free(&rowmap);
    free(known);
    if (k < s->n) {
        ph_partition_free(out);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory partitioning %zu objects by %s",
                       s->n, ph_relation_name(rel));
    }
    qsort_r(out->rows, out->n, sizeof *out->rows, cmp_rows, &v->kinds);
    return PH_OK;
}

void ph_partition_free(struct ph_partition *p)
{
    free(p->rows);
    memset(p, 0, sizeof *p);
}

/* ---- selections ---- */

static bool set_alloc(struct ph_set *out, size_t n)
{
    out->n = 0;
    out->v = malloc((n + 1) * sizeof *out->v);
    return out->v != NULL;
}

bool ph_select_row(struct ph_view_ctx *v, const struct ph_set *s, const struct ph_partition *p,
                   size_t row, struct ph_set *out)
{
    if (row >= p->n || !set_alloc(out, s->n))
        return false;
    uint32_t kind = p->rows[row].kind;
    for (size_t k = 0; k < s->n; k++)
        if (kind_of(v, s->v[k], p->relation) == kind)
            out->v[out->n++] = s->v[k];
    return true;
}

bool ph_select_kind(struct ph_view_ctx *v, const struct ph_set *s, const char *kind, struct ph_set *out)
{
    /* Interned strings are unique: the objects of the kind are those whose kind id is its id. */
    uint32_t want = ph_strtab_intern_cstr(&v->kinds, kind);
    if (want == PH_STR_NONE || !set_alloc(out, s->n))
        return false;
    for (size_t k = 0; k < s->n; k++) {
        uint32_t have = ph_clodo_kind(v, s->v[k]);
        if (have == PH_STR_NONE) {
            ph_set_free(out);
            return false;
        }
        if (have == want)
            out->v[out->n++] = s->v[k];
    }
    return true;
}

bool ph_select_size(const struct ph_graph *g, const struct ph_set *s, uint64_t min, uint64_t max,
                    struct ph_set *out)
{
    if (!set_alloc(out, s->n))
        return false;
    for (size_t k = 0; k < s->n; k++)
        if (ph_graph_size(g, s->v[k]) >= min && ph_graph_size(g, s->v[k]) <= max)
            out->v[out->n++] = s->v[k];
    return true;
}

bool ph_select_module(const struct ph_graph *g, const struct ph_set *s, const char *module,
                      struct ph_set *out)
{
    uint32_t want = ph_strtab_find(&g->names, module, strlen(module)); /* none: nothing matches */
    if (!set_alloc(out, s->n))
        return false;
    for (size_t k = 0; want != PH_STR_NONE && k < s->n; k++)
        if (g->types[g->type[s->v[k]]].module == want)
            out->v[out->n++] = s->v[k];
    return true;
}

/* Objects of `within` adjacent to s (referrers or referents), each once. */
static bool select_adjacent(struct ph_view_ctx *v, const struct ph_set *s, const struct ph_set *within,
                            bool referrers, struct ph_set *out)
{
    const struct ph_graph *g = v->g;
    if ((referrers && !need_rgraph(v)) || !set_alloc(out, within->n))
        return false;
    uint8_t *mark = calloc(g->n + 1, 1); /* bit0: in within, bit1: already taken */
    if (!mark) {
        ph_set_free(out);
        return false;
    }
    for (size_t k = 0; k < within->n; k++)
        mark[within->v[k]] |= 1;
    for (size_t k = 0; k < s->n; k++) {
        uint32_t o = s->v[k];
        uint64_t a = referrers ? v->rg.start[o] : g->edge_start[o];
        uint64_t b = referrers ? v->rg.start[o + 1] : g->edge_start[o + 1];
        for (uint64_t e = a; e < b; e++) {
            uint32_t x = referrers ? v->rg.src[e] : g->edge_dst[e];
            if (mark[x] == 1) {
                mark[x] |= 2;
                out->v[out->n++] = x;
            }
        }
    }
    free(mark);
    return true;
}

bool ph_select_referrers(struct ph_view_ctx *v, const struct ph_set *s, const struct ph_set *within,
                         struct ph_set *out)
{
    return select_adjacent(v, s, within, true, out);
}

bool ph_select_referents(struct ph_view_ctx *v, const struct ph_set *s, const struct ph_set *within,
                         struct ph_set *out)
{
    return select_adjacent(v, s, within, false, out);
}
