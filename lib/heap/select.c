/*
 * select.c: see select.h. Each step builds a new set from the previous one and frees it, so at
 * most two sets are alive; the base set is never changed.
 */
#include "lib/heap/select.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ph_selection ph_selection_none(void)
{
    return (struct ph_selection){.row = -1, .max_size = UINT64_MAX};
}

bool ph_selection_active(const struct ph_selection *sel)
{
    return sel->row >= 0 || sel->kind || sel->module || sel->min_size ||
           sel->max_size != UINT64_MAX || sel->referrers || sel->referents;
}

/* The objects of row `row` of cur's clodo partition into next. */
static ph_status select_row(struct ph_view_ctx *v, const struct ph_set *cur, long row,
                            struct ph_set *next, struct ph_error *err)
{
    struct ph_partition p;
    ph_status st = ph_partition(v, cur, PH_BY_CLODO, &p, err);
    if (st != PH_OK)
        return st;
    size_t nrows = p.n;
    if ((size_t)row >= nrows)
        st = ph_fail(err, PH_ERR_USAGE, "--row %ld: the partition has %zu row%s (0 to %zu)", row,
                     nrows, nrows == 1 ? "" : "s", nrows ? nrows - 1 : 0);
    else if (!ph_select_row(v, cur, &p, (size_t)row, next))
        st = ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    ph_partition_free(&p);
    return st;
}

/* One step: cur is replaced by what the step selects from it. */
static ph_status step(struct ph_view_ctx *v, const struct ph_selection *sel, int which,
                      const struct ph_set *base, struct ph_set *cur, struct ph_error *err)
{
    struct ph_set next = {0};
    bool ok = true;
    ph_status st = PH_OK;
    switch (which) {
    case 0: st = select_row(v, cur, sel->row, &next, err); break;
    case 1: ok = ph_select_kind(v, cur, sel->kind, &next); break;
    case 2: ok = ph_select_size(v->g, cur, sel->min_size, sel->max_size, &next); break;
    case 3: ok = ph_select_module(v->g, cur, sel->module, &next); break;
    default:
        ok = sel->referrers ? ph_select_referrers(v, cur, base, &next)
                            : ph_select_referents(v, cur, base, &next);
        break;
    }
    if (st == PH_OK && !ok)
        st = ph_fail(err, PH_ERR_INTERNAL, "out of memory selecting objects");
    ph_set_free(cur);
    *cur = next;
    return st;
}

ph_status ph_select(struct ph_view_ctx *v, const struct ph_selection *sel, const struct ph_set *start,
                    const struct ph_set *within, struct ph_set *out, struct ph_error *err)
{
    *out = (struct ph_set){0};
    struct ph_set cur = {0};
    if (!ph_select_size(v->g, start, 0, UINT64_MAX, &cur)) /* a copy of start */
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    const bool wanted[5] = {sel->row >= 0, sel->kind != NULL,
                            sel->min_size || sel->max_size != UINT64_MAX, sel->module != NULL,
                            sel->referrers || sel->referents};
    for (int k = 0; k < 5; k++) {
        if (!wanted[k])
            continue;
        ph_status st = step(v, sel, k, within, &cur, err);
        if (st != PH_OK) {
            ph_set_free(&cur);
            return st;
        }
    }
    *out = cur;
    return PH_OK;
}

ph_status ph_select_unreachable(struct ph_view_ctx *v, const struct ph_selection *sel,
                                const struct ph_set *start, const struct ph_set *start_all,
                                const struct ph_set *within_all, uint64_t *count, uint64_t *size,
                                struct ph_error *err)
{
    *count = *size = 0;
    struct ph_selection by_kind = *sel;
    struct ph_partition p = {0};
    char kind[1024]; /* a copy: the view's texts may move as it makes more */
    if (sel->row >= 0) { /* the row's kind, as the user saw it */
        ph_status st = ph_partition(v, start, PH_BY_CLODO, &p, err);
        if (st != PH_OK)
            return st;
        if ((size_t)sel->row >= p.n || (sel->kind && strcmp(sel->kind, ph_view_text(v, p.rows[sel->row].kind)))) {
            ph_partition_free(&p);
            return PH_OK; /* the selection is empty either way */
        }
        by_kind.row = -1;
        snprintf(kind, sizeof kind, "%s", ph_view_text(v, p.rows[sel->row].kind));
        by_kind.kind = kind;
    }
    struct ph_set all = {0};
    ph_status st = ph_select(v, &by_kind, start_all, within_all, &all, err);
    ph_partition_free(&p);
    for (size_t k = 0; st == PH_OK && k < all.n; k++)
        if (!(v->g->flags[all.v[k]] & PH_OBJ_REACHABLE)) {
            (*count)++;
            *size += ph_graph_size(v->g, all.v[k]);
        }
    ph_set_free(&all);
    return st;
}

/* ---- nearest kinds ---- */

/* Levenshtein distance, case folded, of short strings (longer ones are cut: a hint, not a
 * proof). */
#define NEAR_MAX 128
static unsigned edit_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, NEAR_MAX), lb = strnlen(b, NEAR_MAX);
    unsigned row[NEAR_MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            unsigned best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static bool contains_folded(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* Insert kind at its place in out (sorted by distance, then text), n of max used. */
static size_t insert_near(struct ph_view_ctx *v, uint32_t *out, unsigned *dist, size_t n,
                          size_t max, uint32_t kind, unsigned d)
{
    const char *text = ph_view_text(v, kind);
    if (n == max && d >= dist[n - 1])
        return n;
    size_t at = n < max ? n++ : n - 1;
    while (at > 0 && (dist[at - 1] > d ||
                      (dist[at - 1] == d && strcmp(ph_view_text(v, out[at - 1]), text) > 0))) {
        dist[at] = dist[at - 1];
        out[at] = out[at - 1];
        at--;
    }
    dist[at] = d;
    out[at] = kind;
    return n;
}

size_t ph_kinds_nearest(struct ph_view_ctx *v, const struct ph_set *s, const char *name,
                        uint32_t *out, size_t max)
{
    unsigned dist[16];
    size_t n = 0, cap = 0;
    uint8_t *seen = NULL; /* by kind id: measured already */
    if (max > 16)
        max = 16;
    for (size_t k = 0; k < s->n && max; k++) {
        uint32_t kind = ph_clodo_kind(v, s->v[k]);
        if (kind == PH_STR_NONE)
            continue;
        if (kind >= cap) {
            size_t more = (size_t)kind * 2 + 64;
            uint8_t *grown = realloc(seen, more);
            if (!grown)
                break;
            memset(grown + cap, 0, more - cap);
            seen = grown;
            cap = more;
        }
        if (seen[kind])
            continue;
        seen[kind] = 1;
        const char *text = ph_view_text(v, kind);
        unsigned d = contains_folded(text, name) ? 0 : edit_distance(text, name);
        n = insert_near(v, out, dist, n, max, kind, d);
    }
    free(seen);
    return n;
}
