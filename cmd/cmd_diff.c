/*
 * cmd_diff.c: `pyheap diff OLD NEW`: heapy's setref across two heaps of one process. By default
 * the partition of the objects NEW holds that OLD did not (lib/heap/diff.h says what "new" is),
 * printed as attach prints a partition, with every selection and --by option working on that
 * set; `--kinds` instead compares each kind's count and size in OLD and NEW (schema
 * pyheap.diff/1). OLD and NEW are snapshot files or PIDs; `--interval SECONDS PID` walks one
 * process twice.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/json.h"
#include "cmd/render.h"
#include "lib/heap/diff.h"

static size_t rows_to_show(const struct ph_kind_diff *d, long rows)
{
    return rows < 0 || (size_t)rows > d->n ? d->n : (size_t)rows;
}

static void kinds_text(const struct cli *cli, struct ph_view_ctx *v, const struct ph_kind_diff *d,
                       const struct ph_graph *old)
{
    char when_old[32], when_new[32];
    render_time(old->meta.time, when_old, sizeof when_old);
    render_time(v->g->meta.time, when_new, sizeof when_new);
    printf("Comparison of %" PRIu64 " objects (%" PRIu64 " bytes) at %s with %" PRIu64
           " objects (%" PRIu64 " bytes) at %s.\n", d->old_count, d->old_size, when_old,
           d->new_count, d->new_size, when_new);
    printf(" Index  Old count  New count     +Count   Old size   New size      +Size Kind (class / dict of class)\n");
    size_t shown = rows_to_show(d, cli->rows);
    for (size_t r = 0; r < shown; r++) {
        const struct ph_kind_change *c = &d->rows[r];
        printf("%6zu %10" PRIu64 " %10" PRIu64 " %+10" PRId64 " %10" PRIu64 " %10" PRIu64 " %+10" PRId64
               " %s\n", r, c->old_count, c->new_count, (int64_t)(c->new_count - c->old_count),
               c->old_size, c->new_size, (int64_t)(c->new_size - c->old_size), ph_view_text(v, c->kind));
    }
    if (shown < d->n)
        printf("<%zu more row%s. Use --rows all (or --rows %zu) to view.>\n", d->n - shown,
               d->n - shown == 1 ? "" : "s", d->n);
}

static void json_side(struct jw *j, const char *key, const struct ph_graph *g, uint64_t count,
                      uint64_t size)
{
    char when[32];
    render_time(g->meta.time, when, sizeof when);
    jw_key(j, key);
    jw_obj(j);
    jw_key(j, "pid"), jw_i64(j, g->meta.pid);
    jw_key(j, "time"), jw_str(j, when);
    jw_key(j, "count"), jw_u64(j, count);
    jw_key(j, "size"), jw_u64(j, size);
    jw_end_obj(j);
}

static void kinds_json(const struct cli *cli, struct ph_view_ctx *v, const struct ph_kind_diff *d,
                       const struct ph_graph *old)
{
    struct jw j;
    jw_init(&j, stdout);
    jw_obj(&j);
    jw_key(&j, "schema"), jw_str(&j, "pyheap.diff/1");
    json_side(&j, "old", old, d->old_count, d->old_size);
    json_side(&j, "new", v->g, d->new_count, d->new_size);
    jw_key(&j, "includes_unreachable"), jw_bool(&j, cli->all);
    jw_key(&j, "rows");
    jw_arr(&j);
    size_t shown = rows_to_show(d, cli->rows);
    for (size_t r = 0; r < shown; r++) {
        const struct ph_kind_change *c = &d->rows[r];
        jw_obj(&j);
        jw_key(&j, "index"), jw_u64(&j, r);
        jw_key(&j, "kind"), jw_str(&j, ph_view_text(v, c->kind));
        jw_key(&j, "old_count"), jw_u64(&j, c->old_count);
        jw_key(&j, "new_count"), jw_u64(&j, c->new_count);
        jw_key(&j, "count_change"), jw_i64(&j, (int64_t)(c->new_count - c->old_count));
        jw_key(&j, "old_size"), jw_u64(&j, c->old_size);
        jw_key(&j, "new_size"), jw_u64(&j, c->new_size);
        jw_key(&j, "size_change"), jw_i64(&j, (int64_t)(c->new_size - c->old_size));
        jw_end_obj(&j);
    }
    jw_end_arr(&j);
    jw_key(&j, "rows_total"), jw_u64(&j, d->n);
    jw_end_obj(&j);
    jw_done(&j);
}

static ph_status compare_kinds(struct cli *cli, struct cli_heaps *h, struct ph_error *err)
{
    struct ph_view_ctx vold = {0};
    struct ph_set sold = {0};
    struct ph_kind_diff d = {0};
    ph_status st = PH_OK;
    if (!ph_view_ctx_init(&vold, &h->old) || !ph_view_ctx_init(&h->v, &h->g) ||
        !ph_set_default(&h->old, cli->all, &sold) || !ph_set_default(&h->g, cli->all, &h->base))
        st = ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    if (st == PH_OK)
        st = ph_diff_kinds(&vold, &sold, &h->v, &h->base, &d, err);
    if (st == PH_OK)
        (cli->json ? kinds_json : kinds_text)(cli, &h->v, &d, &h->old);
    ph_kind_diff_free(&d);
    ph_set_free(&sold);
    ph_view_ctx_free(&vold);
    return st;
}

int cmd_diff(struct cli *cli)
{
    struct cli_heaps h;
    struct ph_error err = {0};
    ph_status st = cli_load(cli, &h, &err);
    if (st == PH_OK)
        st = cli->kinds ? compare_kinds(cli, &h, &err) : attach_report(cli, &h, &err);
    int rc = st == PH_OK ? cli_finish_output() : cli_error(cli, &err);
    cli_heaps_free(&h);
    return rc;
}
