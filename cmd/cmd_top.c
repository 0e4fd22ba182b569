/*
 * cmd_top.c: `pyheap top [-n N] PID|FILE`: the N objects of the selection (the reachable heap
 * by default) that retain the most, largest first, each with its kind, own size, retained size,
 * share of the reachable heap and shortest path from a root; text or JSON (schema
 * pyheap.top/1). With --format collapsed or heapsnapshot it writes that picture of the whole
 * heap instead (to -o FILE or standard output).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cli.h"
#include "cmd/json.h"
#include "cmd/render.h"
#include "cmd/retained_out.h"
#include "lib/heap/dominators.h"
#include "lib/heap/paths.h"
#include "lib/heap/retained.h"

struct top {
    uint32_t *objs;
    size_t n, candidates;
};

static void print_text(FILE *f, struct ph_view_ctx *v, const struct ph_dom *d,
                       const struct ph_bfs *b, const struct top *t)
{
    struct ph_text path = {0};
    char total[40];
    fprintf(f, "%zu object%s retaining the most of %s bytes reachable (%zu objects).\n", t->n,
            t->n == 1 ? "" : "s", fmt_bytes(d->total, total, sizeof total), d->reached);
    fprintf(f, " Index   Retained   %%     Size Kind: path\n");
    for (size_t i = 0; i < t->n; i++) {
        uint32_t o = t->objs[i];
        ph_path_render(v->g, b, o, &path);
        fprintf(f, "%6zu %10" PRIu64 " %3d %8" PRIu64 " %s: %s\n", i, ph_dom_retained(d, o),
                render_percent(ph_dom_retained(d, o), d->total), ph_graph_size(v->g, o),
                ph_view_text(v, ph_clodo_kind(v, o)), path.s ? path.s : "");
    }
    if (t->candidates > t->n)
        fprintf(f, "<%zu more objects. Use -n N to view more.>\n", t->candidates - t->n);
    ph_text_free(&path);
}

static void print_json(FILE *f, struct ph_view_ctx *v, const struct ph_dom *d,
                       const struct ph_bfs *b, const struct top *t, const struct render_info *info)
{
    struct jw j;
    struct ph_text path = {0};
    jw_init(&j, f);
    jw_obj(&j);
    render_json_head(&j, "pyheap.top/1", info);
    jw_key(&j, "heap_size"), jw_u64(&j, d->total);
    jw_key(&j, "heap_objects"), jw_u64(&j, d->reached);
    jw_key(&j, "selection_count"), jw_u64(&j, t->candidates);
    jw_key(&j, "dominator_tree"); /* what building it cost (make bench prints it) */
    jw_obj(&j);
    jw_key(&j, "build_ms"), jw_f64(&j, d->build_ms);
    jw_key(&j, "peak_bytes"), jw_u64(&j, d->peak_bytes);
    jw_end_obj(&j);
    jw_key(&j, "rows");
    jw_arr(&j);
    for (size_t i = 0; i < t->n; i++) {
        uint32_t o = t->objs[i];
        ph_path_render(v->g, b, o, &path);
        jw_obj(&j);
        jw_key(&j, "index"), jw_u64(&j, i);
        jw_key(&j, "address"), jw_hex(&j, v->g->addr[o]);
        jw_key(&j, "kind"), jw_str(&j, ph_view_text(v, ph_clodo_kind(v, o)));
        jw_key(&j, "size"), jw_u64(&j, ph_graph_size(v->g, o));
        jw_key(&j, "retained"), jw_u64(&j, ph_dom_retained(d, o));
        jw_key(&j, "retained_percent"), jw_f64(&j, share(ph_dom_retained(d, o), d->total));
        jw_key(&j, "path"), jw_str(&j, path.s ? path.s : "");
        jw_end_obj(&j);
    }
    jw_end_arr(&j);
    render_json_walk(&j, info);
    jw_end_obj(&j);
    jw_done(&j);
    ph_text_free(&path);
}

static ph_status report(struct cli *cli, struct cli_heaps *h, const struct ph_dom *d,
                        struct ph_error *err)
{
    const struct ph_graph *g = &h->g;
    struct ph_view_ctx *v = &h->v;
    const struct ph_set *sel = &h->sel;
    size_t k = cli->rows < 0 ? sel->n : (size_t)cli->rows;
    struct top t = {.objs = malloc((k + 1) * sizeof *t.objs)};
    struct ph_bfs b = {0};
    if (!t.objs)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    /* Paths only for rows to print: top -n 0 builds the tree and nothing else (make bench). */
    ph_status st = k ? ph_bfs_run(g, &b, err) : PH_OK;
    if (st != PH_OK) {
        free(t.objs);
        return st;
    }
    t.n = ph_top_retained(d, sel, k, t.objs);
    for (size_t i = 0; i < sel->n; i++)
        t.candidates += d->idom[sel->v[i]] != PH_NONE;
    FILE *f;
    if ((st = out_open(cli->output, &f, err)) == PH_OK) {
        struct render_info info;
        if (!cli->json)
            print_text(f, v, d, &b, &t);
        else if ((st = render_info_of(cli, h, &info, err)) == PH_OK)
            print_json(f, v, d, &b, &t, &info);
        ph_status cst = out_close(f, cli->output, err);
        st = st != PH_OK ? st : cst;
    }
    ph_bfs_free(&b);
    free(t.objs);
    return st;
}

int cmd_top(struct cli *cli)
{
    struct cli_heaps h;
    struct ph_error err = {0};
    struct ph_dom d = {0};
    ph_status st = cli_load(cli, &h, &err);
    if (st == PH_OK && cli->format != FORMAT_HEAPSNAPSHOT) /* the file has no tree */
        st = ph_dom_build(&h.g, &d, &err);
    if (st == PH_OK)
        st = cli->format == FORMAT_TEXT ? report(cli, &h, &d, &err)
                                        : write_picture(cli, &h.g, &h.v, &d, &err);
    int rc = st == PH_OK ? cli_finish_output() : cli_error(cli, &err);
    ph_dom_free(&d);
    cli_heaps_free(&h);
    return rc;
}
