/*
 * cmd_attach.c: `pyheap attach PID|FILE`: the heap's partition (or by-id table) of the selected
 * objects, as heapy's text or JSON (schema pyheap.partition/1). With --retained, the dominator
 * tree is built and every row also says what its objects retain (lib/heap/retained.h).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/render.h"
#include "lib/heap/dominators.h"
#include "lib/heap/retained.h"

static void report(struct cli *cli, const struct ph_graph *g, struct ph_view_ctx *v,
                   const struct ph_set *sel, const struct ph_partition *p, const struct ph_dom *d)
{
    struct render_info info;
    render_info_of(cli, g, &info);
    info.retained = cli->retained;
    info.heap = d->total;
    if (cli->by == PH_BY_ID)
        (cli->json ? render_id_json : render_id_text)(stdout, v, sel, &info);
    else if (cli->json)
        render_partition_json(stdout, v, p, &info);
    else
        render_partition_text(stdout, v, p, &info);
}

static ph_status with_retained(struct cli *cli, const struct ph_graph *g, struct ph_view_ctx *v,
                               const struct ph_set *sel, struct ph_partition *p, struct ph_dom *d,
                               struct ph_error *err)
{
    if (cli->by == PH_BY_ID)
        return ph_fail(err, PH_ERR_USAGE, "--retained is for partitions; for objects by retained "
                                          "size see pyheap top");
    ph_status st = ph_dom_build(g, d, err);
    if (st == PH_OK)
        st = ph_partition_retained(v, d, sel, p, err);
    if (st == PH_OK && cli->sort_retained)
        ph_partition_sort_retained(v, p);
    return st;
}

int cmd_attach(struct cli *cli)
{
    struct ph_graph g;
    struct ph_error err = {0};
    ph_status st = cli_heap(cli, cli->sources[0], &g, &err);
    struct ph_view_ctx v = {0};
    struct ph_set sel = {0};
    struct ph_partition p = {0};
    if (st == PH_OK)
        st = cli_view_selection(cli, &g, &v, &sel, &err);
    /* byid is a table of objects, not of kinds: it is rendered from the set itself. */
    if (st == PH_OK && cli->by != PH_BY_ID)
        st = ph_partition(&v, &sel, (enum ph_relation)cli->by, &p, &err);
    struct ph_dom d = {0};
    if (st == PH_OK && cli->retained)
        st = with_retained(cli, &g, &v, &sel, &p, &d, &err);
    if (st == PH_OK)
        report(cli, &g, &v, &sel, &p, &d);
    int rc = st == PH_OK ? cli_finish_output() : cli_error(cli, &err);
    ph_partition_free(&p);
    ph_dom_free(&d);
    ph_set_free(&sel);
    ph_view_ctx_free(&v);
    ph_graph_free(&g);
    return rc;
}
