/*
 * cmd_attach.c: `pyheap attach PID|FILE`: the partition (or by-id table) of the selected objects,
 * as heapy's text or JSON (schema pyheap.partition/1). `pyheap diff OLD NEW` prints the same
 * table of the objects NEW holds that OLD did not (cmd_diff.c), through attach_report. With
 * --retained, the dominator tree is built and every row also says what its objects retain
 * (lib/heap/retained.h).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/render.h"
#include "lib/heap/dominators.h"
#include "lib/heap/retained.h"

/* After an empty selection by kind, the kinds the user may have meant. */
static void hint_nearest(struct cli *cli, struct cli_heaps *h)
{
    if (!cli->sel.kind || h->sel.n || cli->json)
        return;
    uint32_t near[3];
    size_t n = ph_kinds_nearest(&h->v, &h->start, cli->sel.kind, near, 3);
    fprintf(stderr, "pyheap: no object is of kind '%s'", cli->sel.kind);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s'%s'", i ? ", " : "; the nearest kinds: ", ph_view_text(&h->v, near[i]));
    fprintf(stderr, "\n");
}

static ph_status with_retained(struct cli *cli, struct cli_heaps *h, struct ph_partition *p,
                               struct render_info *info, struct ph_error *err)
{
    if (cli->by == PH_BY_ID)
        return ph_fail(err, PH_ERR_USAGE, "--retained is for partitions; for objects by retained "
                                          "size see pyheap top");
    struct ph_dom d;
    ph_status st = ph_dom_build(&h->g, &d, err);
    if (st == PH_OK)
        st = ph_partition_retained(&h->v, &d, &h->sel, p, err);
    if (st == PH_OK && cli->sort_retained)
        ph_partition_sort_retained(&h->v, p);
    info->retained = true;
    info->heap = d.total;
    ph_dom_free(&d);
    return st;
}

ph_status attach_report(struct cli *cli, struct cli_heaps *h, struct ph_error *err)
{
    struct render_info info;
    struct ph_partition p = {0};
    ph_status st = render_info_of(cli, h, &info, err);
    /* byid is a table of objects, not of kinds: it is rendered from the set itself. */
    if (st == PH_OK && cli->by != PH_BY_ID)
        st = ph_partition(&h->v, &h->sel, (enum ph_relation)cli->by, &p, err);
    if (st == PH_OK && cli->retained)
        st = with_retained(cli, h, &p, &info, err);
    if (st != PH_OK) {
        ph_partition_free(&p);
        return st;
    }
    if (cli->by == PH_BY_ID)
        (cli->json ? render_id_json : render_id_text)(stdout, &h->v, &h->sel, &info);
    else
        (cli->json ? render_partition_json : render_partition_text)(stdout, &h->v, &p, &info);
    hint_nearest(cli, h);
    ph_partition_free(&p);
    return PH_OK;
}

int cmd_attach(struct cli *cli)
{
    struct cli_heaps h;
    struct ph_error err = {0};
    ph_status st = cli_load(cli, &h, &err);
    if (st == PH_OK)
        st = attach_report(cli, &h, &err);
    int rc = st == PH_OK ? cli_finish_output() : cli_error(cli, &err);
    cli_heaps_free(&h);
    return rc;
}
