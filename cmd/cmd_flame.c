/*
 * cmd_flame.c: `pyheap flame PID|FILE -o out.svg`: a self-contained SVG flame graph of the
 * dominator tree folded by kind (lib/heap/flame.h): a frame's width is what the objects of
 * that kind at that place retain, its title (shown on hover) says how many bytes and what share
 * of the heap. Without -o the SVG goes to standard output.
 */
#include <stdio.h>

#include "cmd/cli.h"
#include "cmd/render.h"
#include "cmd/retained_out.h"
#include "lib/heap/flame.h"

static ph_status write_svg(struct cli *cli, const struct ph_graph *g, struct ph_view_ctx *v,
                           const struct ph_dom *d, struct ph_error *err)
{
    struct ph_flame fl;
    ph_status st = ph_flame_build(v, d, &fl, err);
    if (st != PH_OK)
        return st;
    char title[400], ver[32], bytes[40];
    render_version(g->meta.version_hex, ver, sizeof ver);
    snprintf(title, sizeof title, "Retained size by kind (dominator tree): pid %lld, Python %s, %s "
             "bytes reachable", (long long)g->meta.pid, ver, fmt_bytes(d->total, bytes, sizeof bytes));
    FILE *f;
    if ((st = out_open(cli->output, &f, err)) == PH_OK) {
        st = ph_flame_write_svg(v, &fl, title, f, err);
        ph_status cst = out_close(f, cli->output, err);
        st = st != PH_OK ? st : cst;
    }
    ph_flame_free(&fl);
    return st;
}

int cmd_flame(struct cli *cli)
{
    struct cli_heaps h;
    struct ph_error err = {0};
    struct ph_dom d = {0};
    ph_status st = cli_load(cli, &h, &err);
    if (st == PH_OK)
        st = ph_dom_build(&h.g, &d, &err);
    if (st == PH_OK)
        st = write_svg(cli, &h.g, &h.v, &d, &err);
    int rc = st == PH_OK ? cli_finish_output() : cli_error(cli, &err);
    ph_dom_free(&d);
    cli_heaps_free(&h);
    return rc;
}
