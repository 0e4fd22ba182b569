/*
 * diff.c: see diff.h. New objects by one address lookup each in OLD's index; the comparison by
 * kind partitions both sets and joins the rows by their text (kinds are interned per view, so
 * OLD's row texts are interned into NEW's view to give both sides one id).
 */
#include "lib/heap/diff.h"

#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"

ph_status ph_diff_new_objects(struct ph_graph *old_g, const struct ph_graph *new_g,
                              const struct ph_set *s, struct ph_set *out, struct ph_error *err)
{
    out->n = 0;
    out->v = NULL;
    if (!ph_graph_has_index(old_g) && !ph_graph_index(old_g, NULL))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory comparing heaps");
    out->v = malloc((s->n + 1) * sizeof *out->v);
    if (!out->v)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory comparing heaps");
    for (size_t k = 0; k < s->n; k++) {
        uint32_t obj = s->v[k];
        uint32_t was = ph_graph_find(old_g, new_g->addr[obj]);
        if (was == PH_NONE ||
            old_g->types[old_g->type[was]].addr != new_g->types[new_g->type[obj]].addr)
            out->v[out->n++] = obj;
    }
    return PH_OK;
}

/* The row of kind in d, added (zero) when new; NULL when out of memory. */
static struct ph_kind_change *row_for(struct ph_kind_diff *d, struct ph_addrmap *index, size_t *cap,
                                      uint32_t kind)
{
    uint32_t r = ph_addrmap_put(index, (uint64_t)kind + 1, (uint32_t)d->n);
    if (r == PH_ADDRMAP_NONE)
        return NULL;
    if (r == d->n) {
        if (!ph_grow(&d->rows, cap, d->n, sizeof *d->rows, 64))
            return NULL;
        d->rows[d->n++] = (struct ph_kind_change){.kind = kind};
    }
    return &d->rows[r];
}

static int64_t growth(uint64_t before, uint64_t after)
{
    return (int64_t)after - (int64_t)before;
}

static int cmp_change(const void *a, const void *b, void *kinds)
{
    const struct ph_kind_change *x = a, *y = b;
    int64_t gx = growth(x->old_size, x->new_size), gy = growth(y->old_size, y->new_size);
    if (gx != gy)
        return gx > gy ? -1 : 1;
    gx = growth(x->old_count, x->new_count), gy = growth(y->old_count, y->new_count);
    if (gx != gy)
        return gx > gy ? -1 : 1;
    return strcmp(ph_strtab_get(kinds, x->kind), ph_strtab_get(kinds, y->kind));
}

/* Add one side's partition rows to d; OLD's kinds are interned into NEW's view. */
static bool add_side(struct ph_kind_diff *d, struct ph_addrmap *index, size_t *cap,
                     const struct ph_view_ctx *from, struct ph_view_ctx *vnew,
                     const struct ph_partition *p, bool old)
{
    for (size_t r = 0; r < p->n; r++) {
        uint32_t kind = p->rows[r].kind;
        if (old)
            kind = ph_strtab_intern_cstr(&vnew->kinds, ph_view_text(from, kind));
        struct ph_kind_change *c = kind == PH_STR_NONE ? NULL : row_for(d, index, cap, kind);
        if (!c)
            return false;
        *(old ? &c->old_count : &c->new_count) += p->rows[r].count;
        *(old ? &c->old_size : &c->new_size) += p->rows[r].size;
    }
    return true;
}

ph_status ph_diff_kinds(struct ph_view_ctx *vold, const struct ph_set *old_s,
                        struct ph_view_ctx *vnew, const struct ph_set *new_s,
                        struct ph_kind_diff *out, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    struct ph_partition po = {0}, pn = {0};
    struct ph_addrmap index = {0};
    size_t cap = 0;
    ph_status st = ph_partition(vold, old_s, PH_BY_CLODO, &po, err);
    if (st == PH_OK)
        st = ph_partition(vnew, new_s, PH_BY_CLODO, &pn, err);
    if (st == PH_OK && (!ph_addrmap_init(&index, 256) ||
                        !add_side(out, &index, &cap, vold, vnew, &po, true) ||
                        !add_side(out, &index, &cap, vnew, vnew, &pn, false)))
        st = ph_fail(err, PH_ERR_INTERNAL, "out of memory comparing kinds");
    out->old_count = po.total_count, out->old_size = po.total_size;
    out->new_count = pn.total_count, out->new_size = pn.total_size;
    ph_addrmap_free(&index);
    ph_partition_free(&po);
    ph_partition_free(&pn);
    if (st != PH_OK) {
        ph_kind_diff_free(out);
        return st;
    }
    qsort_r(out->rows, out->n, sizeof *out->rows, cmp_change, &vnew->kinds);
    return PH_OK;
}

void ph_kind_diff_free(struct ph_kind_diff *d)
{
    free(d->rows);
    memset(d, 0, sizeof *d);
}
