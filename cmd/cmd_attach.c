/*
 * cmd_attach.c: `pyheap attach PID`: walk the heap, select, partition, print heapy's table or
 * JSON (schema pyheap.partition/1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/json.h"
#include "cmd/render.h"
#include "lib/view.h"

/* Apply the selections in the order heapy composes them: row of the default partition, kind,
 * size, module, then referrers or referents within the base set. (Shared with `path`.) */
ph_status cli_select_objects(struct cli *cli, struct ph_view_ctx *v, const struct ph_set *base,
                             struct ph_set *out, struct ph_error *err)
{
    struct ph_set cur = {0}, next = {0};
    if (!ph_select_size(v->g, base, 0, UINT64_MAX, &cur))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    bool ok = true;
    if (cli->row >= 0) {
        struct ph_partition p;
        ph_status st = ph_partition(v, &cur, PH_BY_CLODO, &p, err);
        if (st != PH_OK) {
            ph_set_free(&cur);
            return st;
        }
        if ((size_t)cli->row >= p.n) {
            ph_partition_free(&p);
            ph_set_free(&cur);
            return ph_fail(err, PH_ERR_USAGE, "--row %ld: the partition has %zu rows", cli->row, p.n);
        }
        ok = ph_select_row(v, &cur, &p, (size_t)cli->row, &next);
        ph_partition_free(&p);
        ph_set_free(&cur), cur = next;
    }
    if (ok && cli->kind) {
        ok = ph_select_kind(v, &cur, cli->kind, &next);
        ph_set_free(&cur), cur = next;
    }
    if (ok && (cli->min_size || cli->max_size != UINT64_MAX)) {
        ok = ph_select_size(v->g, &cur, cli->min_size, cli->max_size, &next);
        ph_set_free(&cur), cur = next;
    }
    if (ok && cli->module) {
        ok = ph_select_module(v->g, &cur, cli->module, &next);
        ph_set_free(&cur), cur = next;
    }
    if (ok && (cli->referrers || cli->referents)) {
        ok = cli->referrers ? ph_select_referrers(v, &cur, base, &next)
                            : ph_select_referents(v, &cur, base, &next);
        ph_set_free(&cur), cur = next;
    }
    if (!ok) {
        ph_set_free(&cur);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    }
    *out = cur;
    return PH_OK;
}

static bool cli_selecting(const struct cli *cli)
{
    return cli->row >= 0 || cli->kind || cli->module || cli->min_size ||
           cli->max_size != UINT64_MAX || cli->referrers || cli->referents;
}

ph_status cli_view_selection(struct cli *cli, struct ph_session *s, struct ph_view_ctx *v,
                             struct ph_set *sel, struct ph_error *err)
{
    ph_view_ctx_init(v, &s->graph, s->target.sym[PY_SYM_DICT_TYPE], s->target.sym[PY_SYM_MODULE_TYPE]);
    *sel = (struct ph_set){0};
    struct ph_set base = {0};
    if (!ph_set_default(&s->graph, cli->all, &base))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    if (!cli_selecting(cli)) { /* the whole base set: hand it over rather than copy it */
        *sel = base;
        return PH_OK;
    }
    ph_status st = cli_select_objects(cli, v, &base, sel, err);
    ph_set_free(&base);
    return st;
}

static void unreachable_totals(const struct ph_graph *g, uint64_t *count, uint64_t *size)
{
    *count = *size = 0;
    for (size_t i = 0; i < g->n; i++)
        if (!(g->flags[i] & PH_OBJ_REACHABLE)) {
            (*count)++;
            *size += ph_graph_size(g, (uint32_t)i);
        }
}

void cli_render_info(const struct cli *cli, const struct ph_session *s, struct render_info *info)
{
    *info = (struct render_info){.pid = s->pid, .target = &s->target, .stats = &s->stats,
                                 .frozen_ms = s->frozen_ms, .walk_ms = s->walk_ms,
                                 .rows = cli->rows, .all = cli->all, .freezes = s->freezes,
                                 .copied = cli->session.copy, .copied_bytes = s->copy.bytes};
    unreachable_totals(&s->graph, &info->unreachable_count, &info->unreachable_size);
    info->objects = s->graph.n;
    info->edges = s->graph.nedges;
}

static int report(struct cli *cli, struct ph_session *s, struct ph_view_ctx *v,
                  const struct ph_set *sel, struct ph_partition *p)
{
    struct render_info info;
    cli_render_info(cli, s, &info);
    if (cli->by == PH_BY_ID)
        (cli->json ? render_id_json : render_id_text)(stdout, v, sel, &info);
    else if (cli->json)
        render_partition_json(stdout, v->g, p, &info);
    else
        render_partition_text(stdout, v->g, p, &info);
    return 0;
}

int cmd_attach(struct cli *cli)
{
    struct ph_session s;
    struct ph_error err = {0};
    ph_status st = cli_walk(cli, &s, &err);
    if (st != PH_OK)
        return cli_error(cli, &err);
    struct ph_view_ctx v;
    struct ph_set sel;
    struct ph_partition p = {0};
    st = cli_view_selection(cli, &s, &v, &sel, &err);
    /* byid is a table of objects, not of kinds: it is rendered from the set itself. */
    if (st == PH_OK && cli->by != PH_BY_ID)
        st = ph_partition(&v, &sel, (enum ph_relation)cli->by, &p, &err);
    int rc = st == PH_OK ? report(cli, &s, &v, &sel, &p) : cli_error(cli, &err);
    ph_partition_free(&p);
    ph_set_free(&sel);
    ph_view_ctx_free(&v);
    ph_session_close(&s);
    return rc;
}
