/*
 * render.c: see render.h. The text table is heapy's (guppy3 Part.py SetFormat): a label line,
 * a header, rows printed with "%6d %6d %3d %8d %3d %9d %3d %s", then how many rows are left and
 * how to see them. Every kind name comes from the graph's string table, already escaped.
 */
#include "cmd/render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/json.h"
#include "lib/heap/byid.h"

void render_version(uint32_t hex, char *buf, size_t cap)
{
    unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;
    const char *tag = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : "";
    if (*tag)
        snprintf(buf, cap, "%u.%u.%u%s%u", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff, tag, serial);
    else
        snprintf(buf, cap, "%u.%u.%u", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
}

int render_percent(uint64_t part, uint64_t total)
{
    if (!total)
        return 0;
    char buf[32];
    snprintf(buf, sizeof buf, "%.0f", (double)part * 100.0 / (double)total);
    return atoi(buf);
}

static size_t rows_to_show(const struct ph_partition *p, long rows)
{
    return rows < 0 || (size_t)rows > p->n ? p->n : (size_t)rows;
}

ph_status render_info_of(struct cli *cli, struct cli_heaps *h, struct render_info *info,
                         struct ph_error *err)
{
    *info = (struct render_info){.meta = &h->g.meta, .rows = cli->rows, .all = cli->all,
                                 .objects = h->g.n, .edges = h->g.nedges,
                                 .since = h->have_old ? &h->old.meta : NULL,
                                 .since_objects = h->have_old ? h->old.n : 0};
    return cli_unshown(cli, h, &info->unreachable_count, &info->unreachable_size, err);
}

void render_partition_text(FILE *f, const struct ph_view_ctx *v, const struct ph_partition *p,
                           const struct render_info *info)
{
    fprintf(f, "Partition of a set of %" PRIu64 " object%s. Total size = %" PRIu64 " bytes.\n",
            p->total_count, p->total_count == 1 ? "" : "s", p->total_size);
    fprintf(f, " Index  Count   %%     Size   %% Cumulative  %% %s%s\n",
            info->retained ? "  Retained   % " : "", ph_relation_header(p->relation));
    uint64_t cum = 0;
    size_t shown = rows_to_show(p, info->rows);
    for (size_t r = 0; r < shown; r++) {
        const struct ph_row *row = &p->rows[r];
        cum += row->size;
        fprintf(f, "%6zu %6" PRIu64 " %3d %8" PRIu64 " %3d %9" PRIu64 " %3d ", r, row->count,
                render_percent(row->count, p->total_count), row->size,
                render_percent(row->size, p->total_size), cum, render_percent(cum, p->total_size));
        if (info->retained) /* Retained, and its share of the whole reachable heap */
            fprintf(f, "%10" PRIu64 " %3d ", row->retained, render_percent(row->retained, info->heap));
        fprintf(f, "%s\n", ph_view_text(v, row->kind));
    }
    render_text_tail(f, shown, p->n, info);
}

/* What the walk could not see whole: lists cut in a target read while it ran (only such a walk
 * gets this far with a list cut or a collection under way), objects decoded in part. */
static void partial_line(FILE *f, const struct ph_walk_stats *st)
{
    if (!st->gc_cut && !st->gc_collecting && !st->partial)
        return;
    fputs("Partial: ", f);
    if (st->gc_cut || st->gc_collecting) {
        if (st->gc_cut)
            fprintf(f, "read while the target ran, %" PRIu64 " GC list%s cut where %s changed",
                    st->gc_cut, st->gc_cut == 1 ? " was" : "s were",
                    st->gc_cut == 1 ? "it" : "they");
        else
            fputs("read while the target ran, during a collection", f);
        fprintf(f, ": %" PRIu64 " objects were found only through references, unreachable ones "
                   "past the cuts are missing%s", st->gc_off_list, st->partial ? "; " : ".\n");
    }
    if (st->partial)
        fprintf(f, "%" PRIu64 " objects could not be decoded whole (the heap was changing or is "
                   "corrupt): their sizes and references are incomplete.\n", st->partial);
}

void render_text_tail(FILE *f, size_t shown, size_t total, const struct render_info *info)
{
    if (shown < total)
        fprintf(f, "<%zu more row%s. Use --rows all (or --rows %zu) to view.>\n", total - shown,
                total - shown == 1 ? "" : "s", total);
    if (!info->all && info->unreachable_count)
        fprintf(f, "Not shown: %" PRIu64 " objects (%" PRIu64
                   " bytes) not reachable from the roots; --all includes them.\n",
                info->unreachable_count, info->unreachable_size);
    partial_line(f, &info->meta->stats);
}

static void json_rows(struct jw *j, const struct ph_view_ctx *v, const struct ph_partition *p,
                      const struct render_info *info)
{
    long rows = info->rows;
    jw_key(j, "rows");
    jw_arr(j);
    uint64_t cum = 0;
    size_t shown = rows_to_show(p, rows);
    for (size_t r = 0; r < shown; r++) {
        const struct ph_row *row = &p->rows[r];
        cum += row->size;
        jw_obj(j);
        jw_key(j, "index"), jw_u64(j, r);
        jw_key(j, "count"), jw_u64(j, row->count);
        jw_key(j, "size"), jw_u64(j, row->size);
        jw_key(j, "cumulative"), jw_u64(j, cum);
        jw_key(j, "kind"), jw_str(j, ph_view_text(v, row->kind));
        if (info->retained) {
            jw_key(j, "retained"), jw_u64(j, row->retained);
            jw_key(j, "retained_percent"), jw_f64(j, info->heap ? 100.0 * (double)row->retained / (double)info->heap : 0);
        }
        jw_end_obj(j);
    }
    jw_end_arr(j);
    jw_key(j, "rows_total"), jw_u64(j, p->n);
}

void render_json_walk(struct jw *j, const struct render_info *info)
{
    const struct ph_walk_stats *st = &info->meta->stats;
    jw_key(j, "walk");
    jw_obj(j);
    jw_key(j, "gc_listed"), jw_u64(j, st->gc_listed);
    jw_key(j, "frozen_generation"), jw_u64(j, st->frozen);
    jw_key(j, "roots"), jw_u64(j, st->roots);
    jw_key(j, "reachable"), jw_u64(j, st->reachable);
    jw_key(j, "objects"), jw_u64(j, info->objects);
    jw_key(j, "edges"), jw_u64(j, info->edges);
    jw_key(j, "partial"), jw_u64(j, st->partial);
    jw_key(j, "bad_pointers"), jw_u64(j, st->bad_pointers);
    jw_key(j, "conservative_objects"), jw_u64(j, st->conservative_objects);
    jw_key(j, "conservative_edges"), jw_u64(j, st->conservative_edges);
    jw_key(j, "interpreters"), jw_i64(j, st->interpreters);
    jw_key(j, "threads"), jw_i64(j, st->threads);
    jw_key(j, "freezes"), jw_i64(j, st->freezes);
    jw_key(j, "retries"), jw_i64(j, st->retries);
    jw_key(j, "gc_read_through"), jw_u64(j, st->gc_read_through);
    jw_key(j, "gc_cut"), jw_u64(j, st->gc_cut);
    jw_key(j, "gc_off_list"), jw_u64(j, st->gc_off_list);
    jw_key(j, "provisional_layout"), jw_bool(j, st->provisional_layout);
    jw_key(j, "layout_rewalks"), jw_i64(j, st->layout_rewalks);
    jw_key(j, "frozen_ms"), jw_f64(j, st->frozen_ms);
    jw_key(j, "walk_ms"), jw_f64(j, st->walk_ms);
    jw_key(j, "copied_bytes");
    if (st->copied)
        jw_u64(j, st->copied_bytes);
    else
        jw_null(j);
    jw_end_obj(j);
}

void render_time(int64_t when, char *buf, size_t cap)
{
    time_t t = (time_t)when;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void render_json_head(struct jw *j, const char *schema, const struct render_info *info)
{
    char ver[32], when[32];
    render_version(info->meta->version_hex, ver, sizeof ver);
    render_time(info->meta->time, when, sizeof when);
    jw_key(j, "schema"), jw_str(j, schema);
    jw_key(j, "pid"), jw_i64(j, info->meta->pid);
    jw_key(j, "host"), jw_str(j, info->meta->host);
    if (info->since) { /* the objects shown are those not in this older heap */
        char old[32];
        render_time(info->since->time, old, sizeof old);
        jw_key(j, "since");
        jw_obj(j);
        jw_key(j, "pid"), jw_i64(j, info->since->pid);
        jw_key(j, "time"), jw_str(j, old);
        jw_key(j, "objects"), jw_u64(j, info->since_objects);
        jw_end_obj(j);
    }
    jw_key(j, "python"), jw_str(j, ver);
    jw_key(j, "time"), jw_str(j, when);
}

/* What every partition document ends with: what --all would add, the walk, the close. */
static void json_tail(struct jw *j, const struct render_info *info)
{
    jw_key(j, "unreachable");
    jw_obj(j);
    jw_key(j, "count"), jw_u64(j, info->unreachable_count);
    jw_key(j, "size"), jw_u64(j, info->unreachable_size);
    jw_end_obj(j);
    render_json_walk(j, info);
    jw_end_obj(j);
    jw_done(j);
}

void render_partition_json(FILE *f, const struct ph_view_ctx *v, const struct ph_partition *p,
                           const struct render_info *info)
{
    struct jw j;
    jw_init(&j, f);
    jw_obj(&j);
    render_json_head(&j, "pyheap.partition/1", info);
    jw_key(&j, "relation"), jw_str(&j, ph_relation_name(p->relation));
    jw_key(&j, "header"), jw_str(&j, ph_relation_header(p->relation));
    jw_key(&j, "total_count"), jw_u64(&j, p->total_count);
    jw_key(&j, "total_size"), jw_u64(&j, p->total_size);
    jw_key(&j, "includes_unreachable"), jw_bool(&j, info->all);
    json_rows(&j, v, p, info);
    if (info->retained)
        jw_key(&j, "heap_size"), jw_u64(&j, info->heap);
    json_tail(&j, info);
}

/* ---- heapy's byid table (lib/heap/byid.h) ---- */

static double pct(uint64_t part, uint64_t total)
{
    return total ? (double)part * 100.0 / (double)total : 0.0;
}

static size_t id_rows(const struct render_info *info)
{
    return info->rows < 0 ? SIZE_MAX : (size_t)info->rows;
}

void render_id_text(FILE *f, struct ph_view_ctx *v, const struct ph_set *s,
                    const struct render_info *info)
{
    struct ph_id_table t;
    struct ph_error err = {0};
    if (ph_id_table(v, s, id_rows(info), &t, &err) != PH_OK) {
        fprintf(stderr, "pyheap: %s\n", err.msg);
        return;
    }
    fprintf(f, "Set of %zu <%s> object%s. Total size = %" PRIu64 " bytes.\n", s->n, t.set_kind,
            s->n == 1 ? "" : "s", t.total_size);
    fprintf(f, " Index     Size   %%   Cumulative  %%   %s\n", t.title);
    uint64_t cum = 0;
    for (size_t r = 0; r < t.shown; r++) {
        char text[800];
        cum += t.rows[r].size;
        ph_id_row_text(v, &t, r, text, sizeof text);
        fprintf(f, "%6zu %8" PRIu64 " %5.1f %9" PRIu64 " %5.1f %s\n", r, t.rows[r].size,
                pct(t.rows[r].size, t.total_size), cum, pct(cum, t.total_size), text);
    }
    render_text_tail(f, t.shown, s->n, info);
    ph_id_table_free(&t);
}

static void json_id_rows(struct jw *j, struct ph_view_ctx *v, const struct ph_id_table *t)
{
    jw_key(j, "rows");
    jw_arr(j);
    uint64_t cum = 0;
    for (size_t r = 0; r < t->shown; r++) {
        char text[800];
        uint32_t obj = t->rows[r].obj;
        cum += t->rows[r].size;
        ph_id_row_text(v, t, r, text, sizeof text);
        jw_obj(j);
        jw_key(j, "index"), jw_u64(j, r);
        jw_key(j, "count"), jw_u64(j, 1);
        jw_key(j, "size"), jw_u64(j, t->rows[r].size);
        jw_key(j, "cumulative"), jw_u64(j, cum);
        jw_key(j, "kind"), jw_str(j, text);
        jw_key(j, "address"), jw_hex(j, v->g->addr[obj]);
        jw_key(j, "object_kind"), jw_str(j, ph_view_text(v, t->rows[r].kind));
        jw_end_obj(j);
    }
    jw_end_arr(j);
}

void render_id_json(FILE *f, struct ph_view_ctx *v, const struct ph_set *s,
                    const struct render_info *info)
{
    struct ph_id_table t;
    struct ph_error err = {0};
    if (ph_id_table(v, s, id_rows(info), &t, &err) != PH_OK) {
        fprintf(stderr, "pyheap: %s\n", err.msg);
        return;
    }
    struct jw j;
    jw_init(&j, f);
    jw_obj(&j);
    render_json_head(&j, "pyheap.partition/1", info);
    jw_key(&j, "relation"), jw_str(&j, ph_relation_name(PH_BY_ID));
    jw_key(&j, "header"), jw_str(&j, t.title);
    jw_key(&j, "set_kind"), jw_str(&j, t.set_kind);
    jw_key(&j, "total_count"), jw_u64(&j, s->n);
    jw_key(&j, "total_size"), jw_u64(&j, t.total_size);
    jw_key(&j, "includes_unreachable"), jw_bool(&j, info->all);
    json_id_rows(&j, v, &t);
    jw_key(&j, "rows_total"), jw_u64(&j, s->n);
    json_tail(&j, info);
    ph_id_table_free(&t);
}
