/*
 * byid.c: heapy's byid (guppy3 Part.py IdFormat): one row per object, largest first.
 *
 * Label `Set of N <kind> objects. Total size = S bytes.` (kind `mixed` when the set holds more
 * than one clodo kind), header ` Index     Size   %   Cumulative  %   ` + the last column's
 * title, rows "%6d %8d %5.1f %9d %5.1f " + the object's rendering. heapy renders each kind its
 * own way (UniSet.py Summary_str) and titles the column after it; this file does the same for
 * what the graph knows: modules, functions and types by name ("Name"), bound methods as
 * `<app.Sub at 0x...>.on_data`, lists, tuples and owner-less dicts as `0xADDR*LEN`
 * ("Address*Length"), None as "None" ("Value"), a dict with an owner as its owner
 * ("Owner " + the owner's title), everything else by address ("Address"). Values heapy prints
 * that the graph does not keep (str and bytes reprs, numbers, code and frame names) are printed
 * by address, titled "Address". A mixed set is titled "Brief" and each row reads "kind: render".
 * Which kind is which comes from the type records' built-in marks, never from names.
 *
 * Order, as heapy: size descending, then (in a mixed set) kind name, then the rendering for
 * kinds rendered by name, else the address. Only the rows printed are ever ordered: a bounded
 * heap keeps the first --rows of them, so `--by id` on millions of objects stays linear.
 */
#include "lib/heap/byid.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/heap/label.h"

enum id_style { ST_ADDRESS, ST_ADDRESS_LEN, ST_NAME, ST_METHOD, ST_VALUE, ST_COUNT };

static const char *const style_title[ST_COUNT] = {
    [ST_ADDRESS] = "Address", [ST_ADDRESS_LEN] = "Address*Length", [ST_NAME] = "Name",
    [ST_METHOD] = "Type/<Type at address> . method", [ST_VALUE] = "Value",
};

struct id_ctx {
    struct ph_view_ctx *v;
    const struct ph_graph *g;
    uint32_t n_self, n_func, n_globals; /* field names in the graph, PH_STR_NONE if absent */
};

static const char *kind_name(const struct ph_graph *g, uint32_t obj)
{
    return ph_strtab_get(&g->names, g->types[g->type[obj]].name);
}

static bool is_dict(const struct id_ctx *c, uint32_t obj)
{
    return ph_graph_builtin(c->g, obj) == PH_BUILTIN_DICT;
}

/* A type object with instances in the graph has a type record, which names it. */
static uint32_t type_record(const struct ph_graph *g, uint32_t obj)
{
    return ph_graph_type(g, g->addr[obj]);
}

static enum id_style plain_style(const struct ph_graph *g, uint32_t obj)
{
    switch (ph_graph_builtin(g, obj)) {
    case PH_BUILTIN_DICT:
    case PH_BUILTIN_LIST:
    case PH_BUILTIN_TUPLE: return ST_ADDRESS_LEN;
    case PH_BUILTIN_MODULE:
    case PH_BUILTIN_FUNCTION:
    case PH_BUILTIN_TYPE: return ST_NAME;
    case PH_BUILTIN_METHOD: return type_record(g, obj) != PH_ADDRMAP_NONE ? ST_NAME : ST_METHOD;
    case PH_BUILTIN_NONETYPE: return type_record(g, obj) != PH_ADDRMAP_NONE ? ST_NAME : ST_VALUE;
    default: return type_record(g, obj) != PH_ADDRMAP_NONE ? ST_NAME : ST_ADDRESS;
    }
}

/* How objects of obj's kind are rendered (a dict with an owner: as its owner, *owned set). */
static enum id_style style_of(const struct id_ctx *c, uint32_t obj, bool *owned)
{
    *owned = is_dict(c, obj) && c->g->owner[obj] != PH_NONE;
    return plain_style(c->g, *owned ? c->g->owner[obj] : obj);
}

/* The target of obj's named field edge (FIELD "__self__"), or PH_NONE. */
static uint32_t field_target(const struct ph_graph *g, uint32_t obj, uint32_t name)
{
    if (obj >= g->decoded || name == PH_STR_NONE)
        return PH_NONE;
    uint32_t want = PH_LABEL(PH_EDGE_FIELD, name);
    for (uint64_t e = g->edge_start[obj]; e < g->edge_start[obj + 1]; e++)
        if (g->edge_label[e] == want)
            return g->edge_dst[e];
    return PH_NONE;
}

/* The walk keeps repr(name) of modules and functions: 'os' -> os. */
static bool brief_name(const struct ph_graph *g, uint32_t obj, char *buf, size_t cap)
{
    uint32_t id = ph_addrmap_get(&g->brief, (uint64_t)obj + 1);
    if (id == PH_ADDRMAP_NONE)
        return false;
    const char *s = ph_strtab_get(&g->names, id);
    size_t len = strlen(s);
    if (len >= 2 && (s[0] == '\'' || s[0] == '"') && s[len - 1] == s[0])
        snprintf(buf, cap, "%.*s", (int)(len - 2), s + 1);
    else
        snprintf(buf, cap, "%s", s);
    return true;
}

/* heapy's str_function: module.__name__; the module is the owner of the function's globals
 * and __name__ the last part of the qualname the walk keeps. */
static bool function_name(const struct id_ctx *c, uint32_t obj, char *buf, size_t cap)
{
    char qual[300], mod[300];
    if (!brief_name(c->g, obj, qual, sizeof qual))
        return false;
    const char *name = strrchr(qual, '.') ? strrchr(qual, '.') + 1 : qual;
    uint32_t globals = field_target(c->g, obj, c->n_globals);
    uint32_t owner = globals == PH_NONE ? PH_NONE : c->g->owner[globals];
    if (owner != PH_NONE && brief_name(c->g, owner, mod, sizeof mod))
        snprintf(buf, cap, "%s.%s", mod, name);
    else
        snprintf(buf, cap, "%s", name);
    return true;
}

static bool name_of(const struct id_ctx *c, uint32_t obj, char *buf, size_t cap)
{
    const struct ph_graph *g = c->g;
    uint32_t t = type_record(g, obj);
    if (t != PH_ADDRMAP_NONE) {
        snprintf(buf, cap, "%s", ph_strtab_get(&g->names, g->types[t].name));
        return true;
    }
    if (ph_graph_builtin(g, obj) == PH_BUILTIN_FUNCTION)
        return function_name(c, obj, buf, cap);
    return brief_name(g, obj, buf, cap);
}

/* heapy's str_method: <class of __self__ at its address>.<__func__'s name>. */
static bool method_name(const struct id_ctx *c, uint32_t obj, char *buf, size_t cap)
{
    uint32_t self = field_target(c->g, obj, c->n_self), func = field_target(c->g, obj, c->n_func);
    char fname[300];
    if (self == PH_NONE || func == PH_NONE || !brief_name(c->g, func, fname, sizeof fname))
        return false;
    const char *name = strrchr(fname, '.') ? strrchr(fname, '.') + 1 : fname;
    snprintf(buf, cap, "<%s at 0x%" PRIx64 ">.%s", kind_name(c->g, self), c->g->addr[self], name);
    return true;
}

static uint64_t item_count(const struct id_ctx *c, uint32_t obj)
{
    const struct ph_graph *g = c->g;
    enum ph_edge_kind want = is_dict(c, obj) ? PH_EDGE_DICT_KEY : PH_EDGE_INDEX;
    uint64_t n = 0;
    if (obj < g->decoded)
        for (uint64_t e = g->edge_start[obj]; e < g->edge_start[obj + 1]; e++)
            n += PH_LABEL_KIND(g->edge_label[e]) == want;
    return n;
}

/* The last column of obj's row, without the mixed set's "kind: " prefix. */
static void render_obj(const struct id_ctx *c, uint32_t obj, char *buf, size_t cap)
{
    bool owned;
    enum id_style st = style_of(c, obj, &owned);
    if (owned)
        obj = c->g->owner[obj];
    bool done = false;
    switch (st) {
    case ST_NAME: done = name_of(c, obj, buf, cap); break;
    case ST_METHOD: done = method_name(c, obj, buf, cap); break;
    case ST_VALUE: snprintf(buf, cap, "None"), done = true; break;
    case ST_ADDRESS_LEN:
        snprintf(buf, cap, "0x%" PRIx64 "*%" PRIu64, c->g->addr[obj], item_count(c, obj));
        done = true;
        break;
    default: break;
    }
    if (!done)
        snprintf(buf, cap, "0x%" PRIx64, c->g->addr[obj]);
}

/* ---- ordering ---- */

static int cmp_rows(const void *a, const void *b, void *ctx)
{
    const struct ph_id_row *x = a, *y = b;
    const struct id_ctx *c = ctx;
    const struct ph_graph *g = c->g;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    if (x->kind != y->kind) {
        int k = strcmp(ph_view_text(c->v, x->kind), ph_view_text(c->v, y->kind));
        if (k)
            return k;
    }
    if (x->name != PH_NONE && y->name != PH_NONE && x->name != y->name)
        return strcmp(ph_view_text(c->v, x->name), ph_view_text(c->v, y->name));
    return g->addr[x->obj] < g->addr[y->obj] ? -1 : g->addr[x->obj] > g->addr[y->obj];
}

static struct ph_id_row make_row(const struct id_ctx *c, uint32_t obj)
{
    struct ph_id_row r = {ph_graph_size(c->g, obj), obj, ph_clodo_kind(c->v, obj), PH_NONE};
    bool owned;
    enum id_style st = style_of(c, obj, &owned);
    if (st == ST_NAME || st == ST_METHOD) { /* heapy orders these by their rendering */
        char buf[700];
        render_obj(c, obj, buf, sizeof buf);
        r.name = ph_strtab_intern_cstr(&c->v->kinds, buf);
    }
    return r;
}

/* heap[0] is the row that sorts last among those kept: the one to drop for a better row. */
static void heap_fix(struct ph_id_row *h, size_t n, size_t i, const struct id_ctx *c)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, worst = i;
        if (l < n && cmp_rows(&h[l], &h[worst], (void *)c) > 0)
            worst = l;
        if (r < n && cmp_rows(&h[r], &h[worst], (void *)c) > 0)
            worst = r;
        if (worst == i)
            return;
        struct ph_id_row t = h[i];
        h[i] = h[worst];
        h[worst] = t;
        i = worst;
    }
}

/* The first `keep` rows of s in heapy's order (all when keep >= s->n); NULL without memory. */
static struct ph_id_row *first_rows(const struct id_ctx *c, const struct ph_set *s, size_t keep)
{
    struct ph_id_row *h = malloc((keep + 1) * sizeof *h);
    if (!h)
        return NULL;
    size_t n = 0;
    for (size_t k = 0; k < s->n; k++) {
        struct ph_id_row r = make_row(c, s->v[k]);
        if (n < keep) {
            h[n++] = r;
            if (n == keep) /* build the heap once it is full */
                for (size_t i = n / 2; i-- > 0;)
                    heap_fix(h, n, i, c);
        } else if (keep && cmp_rows(&r, &h[0], (void *)c) < 0) {
            h[0] = r;
            heap_fix(h, n, 0, c);
        }
    }
    qsort_r(h, n, sizeof *h, cmp_rows, (void *)c);
    return h;
}

/* ---- the table ---- */

static void id_ctx_init(struct id_ctx *c, struct ph_view_ctx *v)
{
    c->v = v;
    c->g = v->g;
    c->n_self = ph_strtab_find(&v->g->names, "__self__", 8);
    c->n_func = ph_strtab_find(&v->g->names, "__func__", 8);
    c->n_globals = ph_strtab_find(&v->g->names, "__globals__", 11);
}

ph_status ph_id_table(struct ph_view_ctx *v, const struct ph_set *s, size_t max_rows,
                      struct ph_id_table *t, struct ph_error *err)
{
    struct id_ctx c;
    id_ctx_init(&c, v);
    memset(t, 0, sizeof *t);
    t->count = s->n;
    t->shown = max_rows > s->n ? s->n : max_rows;
    t->kind = PH_NONE;
    for (size_t k = 0; k < s->n; k++) {
        uint32_t kind = ph_clodo_kind(v, s->v[k]);
        t->total_size += ph_graph_size(v->g, s->v[k]);
        if (k == 0)
            t->kind = kind;
        else if (kind != t->kind)
            t->mixed = true;
    }
    if (t->mixed || !s->n) {
        snprintf(t->title, sizeof t->title, "Brief");
    } else {
        bool owned;
        enum id_style st = style_of(&c, s->v[0], &owned);
        snprintf(t->title, sizeof t->title, "%s%s", owned ? "Owner " : "", style_title[st]);
    }
    snprintf(t->set_kind, sizeof t->set_kind, "%s",
             t->mixed ? "mixed" : s->n ? ph_view_text(v, t->kind) : "Nothing");
    t->rows = first_rows(&c, s, t->shown);
    if (!t->rows)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory for the table of %zu objects", s->n);
    return PH_OK;
}

void ph_id_table_free(struct ph_id_table *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}

void ph_id_row_text(struct ph_view_ctx *v, const struct ph_id_table *t, size_t row, char *buf,
                    size_t cap)
{
    struct id_ctx c;
    id_ctx_init(&c, v);
    uint32_t obj = t->rows[row].obj;
    char r[700];
    render_obj(&c, obj, r, sizeof r);
    if (t->mixed)
        snprintf(buf, cap, "%s: %s", ph_view_text(v, t->rows[row].kind), r);
    else
        snprintf(buf, cap, "%s", r);
}
