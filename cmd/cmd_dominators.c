/*
 * cmd_dominators.c: `pyheap dominators --kind X PID|FILE`: the dominator chain from the roots
 * down to the objects of a selection (lib/heap/retained.h): every object that dominates all of
 * them, top first, each with its retained size and path, then how the selection's objects are
 * held (the kinds of their immediate dominators); text or JSON (schema pyheap.dominators/1).
 * A chain of more than CHAIN_SHOWN objects (a long linked list) shows its two ends.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cli.h"
#include "cmd/json.h"
#include "cmd/render.h"
#include "cmd/retained_out.h"
#include "lib/heap/paths.h"
#include "lib/heap/retained.h"

#define CHAIN_SHOWN 40

static bool shown(size_t i, size_t n)
{
    return n <= CHAIN_SHOWN || i < CHAIN_SHOWN / 2 || i >= n - CHAIN_SHOWN / 2;
}

static const char *holder_text(struct ph_view_ctx *v, const struct ph_holder *h)
{
    return h->kind == PH_NONE ? "<the roots only>" : ph_view_text(v, h->kind);
}

static void print_text(struct ph_view_ctx *v, const struct ph_dom *d, const struct ph_bfs *b,
                       const struct ph_dom_chain *c)
{
    char n[40], r[40];
    struct ph_text path = {0};
    printf("Dominators of a set of %zu object%s (%zu reachable), retaining %s bytes (%.1f%% of the"
           " heap).\n", c->members, c->members == 1 ? "" : "s", c->reachable,
           fmt_bytes(c->retained, r, sizeof r), share(c->retained, d->total));
    printf(" Depth   Retained   %%     Size Kind: path\n");
    printf("%6s %10" PRIu64 " %3d %8s <all the roots>\n", "-", d->total, 100, "-");
    for (size_t i = 0; i < c->n; i++) {
        if (!shown(i, c->n)) {
            if (i == CHAIN_SHOWN / 2)
                printf("<... %zu more ...>\n", c->n - CHAIN_SHOWN);
            continue;
        }
        uint32_t o = c->objs[i];
        ph_path_render(v->g, b, o, &path);
        printf("%6zu %10" PRIu64 " %3d %8" PRIu64 " %s: %s\n", i, ph_dom_retained(d, o),
               render_percent(ph_dom_retained(d, o), d->total), ph_graph_size(v->g, o),
               ph_view_text(v, ph_clodo_kind(v, o)), path.s ? path.s : "");
    }
    for (size_t i = 0; i < c->nholders; i++)
        printf("%s %s %s held by %s %s\n", i ? "    " : "then:", fmt_bytes(c->holders[i].objects, n, sizeof n),
               c->holders[i].objects == 1 ? "object" : "objects",
               fmt_bytes(c->holders[i].holders, r, sizeof r), holder_text(v, &c->holders[i]));
    if (c->members > c->reachable)
        printf("<%zu object%s of the selection not reachable from the roots: no dominators.>\n",
               c->members - c->reachable, c->members - c->reachable == 1 ? "" : "s");
    ph_text_free(&path);
}

static void print_json(struct ph_view_ctx *v, const struct ph_dom *d, const struct ph_bfs *b,
                       const struct ph_dom_chain *c, const struct render_info *info)
{
    struct jw j;
    struct ph_text path = {0};
    jw_init(&j, stdout);
    jw_obj(&j);
    render_json_head(&j, "pyheap.dominators/1", info);
    jw_key(&j, "heap_size"), jw_u64(&j, d->total);
    jw_key(&j, "selection_count"), jw_u64(&j, c->members);
    jw_key(&j, "reachable"), jw_u64(&j, c->reachable);
    jw_key(&j, "retained"), jw_u64(&j, c->retained);
    jw_key(&j, "chain");
    jw_arr(&j);
    for (size_t i = 0; i < c->n; i++) {
        uint32_t o = c->objs[i];
        ph_path_render(v->g, b, o, &path);
        jw_obj(&j);
        jw_key(&j, "depth"), jw_u64(&j, i);
        jw_key(&j, "address"), jw_hex(&j, v->g->addr[o]);
        jw_key(&j, "kind"), jw_str(&j, ph_view_text(v, ph_clodo_kind(v, o)));
        jw_key(&j, "size"), jw_u64(&j, ph_graph_size(v->g, o));
        jw_key(&j, "retained"), jw_u64(&j, ph_dom_retained(d, o));
        jw_key(&j, "path"), jw_str(&j, path.s ? path.s : "");
        jw_end_obj(&j);
    }
    jw_end_arr(&j);
    jw_key(&j, "held_by");
    jw_arr(&j);
    for (size_t i = 0; i < c->nholders; i++) {
        jw_obj(&j);
        jw_key(&j, "kind");
        if (c->holders[i].kind == PH_NONE)
            jw_null(&j);
        else
            jw_str(&j, ph_view_text(v, c->holders[i].kind));
        jw_key(&j, "objects"), jw_u64(&j, c->holders[i].objects);
        jw_key(&j, "holders"), jw_u64(&j, c->holders[i].holders);
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
    struct ph_dom_chain c;
    struct ph_bfs b;
    ph_status st = ph_dom_chain(&h->v, d, &h->sel, &c, err);
    if (st != PH_OK)
        return st;
    if ((st = ph_bfs_run(&h->g, &b, err)) == PH_OK) {
        struct render_info info;
        if (!cli->json)
            print_text(&h->v, d, &b, &c);
        else if ((st = render_info_of(cli, h, &info, err)) == PH_OK)
            print_json(&h->v, d, &b, &c, &info);
        ph_bfs_free(&b);
    }
    ph_dom_chain_free(&c);
    return st;
}

int cmd_dominators(struct cli *cli)
{
    struct cli_heaps h;
    struct ph_error err = {0};
    struct ph_dom d = {0};
    ph_status st = cli_load(cli, &h, &err);
    if (st == PH_OK)
        st = ph_dom_build(&h.g, &d, &err);
    if (st == PH_OK)
        st = report(cli, &h, &d, &err);
    int rc = st == PH_OK ? cli_finish_output() : cli_error(cli, &err);
    ph_dom_free(&d);
    cli_heaps_free(&h);
    return rc;
}
