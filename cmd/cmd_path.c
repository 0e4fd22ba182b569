/*
 * cmd_path.c: `pyheap path PID|FILE`: shortest paths from the roots to objects of a selection, as
 * heapy's `.sp` prints them, or JSON (schema pyheap.paths/1).
 *
 * The selection is attach's (lib/heap/select.h), from the reachable objects or, with --all,
 * from every object. One breadth-first search from all roots gives every object its shortest
 * path; the --count nearest targets (in the search's order, which is stable for one graph and
 * follows the containers' own order among equally near ones) are printed, one line each, `%2d: ` then the path; then `<... N more paths ...>` when
 * more targets have a path, and a line for selected objects that have none (unreachable ones,
 * which only --all selects). heapy counts every distinct shortest path; pyheap prints one path
 * per object, the first its search found, and counts objects. A long path is printed brief
 * (lib/heap/paths.h) unless --full-paths; JSON "steps" always lists every step.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cli.h"
#include "cmd/json.h"
#include "cmd/render.h"
#include "lib/heap/label.h"
#include "lib/heap/paths.h"
#include "lib/heap/view.h"

struct path_report {
    const struct ph_set *sel;
    uint32_t *targets; /* the nearest, in order */
    size_t ntargets, reachable;
    uint64_t sel_size;
};

/* A path as text: brief (repeats counted, a long middle elided) unless --full-paths. */
static bool render_path(const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj, bool full,
                        struct ph_text *t)
{
    return (full ? ph_path_render : ph_path_render_brief)(g, b, obj, t);
}

static void print_text(const struct ph_graph *g, const struct ph_bfs *b, const struct path_report *r,
                       bool full)
{
    struct ph_text t = {0};
    if (r->sel->n == 0)
        printf("<No paths: the selection is empty.>\n");
    for (size_t i = 0; i < r->ntargets; i++) {
        if (!render_path(g, b, r->targets[i], full, &t))
            fprintf(stderr, "pyheap: out of memory rendering a path; it is cut\n");
        printf("%2zu: %s\n", i, t.s ? t.s : "");
    }
    if (r->reachable > r->ntargets)
        printf("<... %zu more paths ...>\n", r->reachable - r->ntargets);
    size_t unreachable = r->sel->n - r->reachable;
    if (unreachable)
        printf("<%zu object%s of the selection %s not reachable from the roots: no path.>\n",
               unreachable, unreachable == 1 ? "" : "s", unreachable == 1 ? "is" : "are");
    ph_text_free(&t);
}

/* The steps after the root, each as --by via writes it (a set member as "list(_)[i]"). */
static void json_steps(struct jw *j, const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj)
{
    size_t len = (size_t)ph_path_length(b, obj) + 1;
    uint32_t *objs = malloc(len * sizeof *objs);
    jw_key(j, "steps");
    jw_arr(j);
    if (objs && ph_path_objects(b, obj, objs, len) == len)
        for (size_t i = 1; i < len; i++) {
            char step[1024];
            jw_str(j, ph_label_render(g, b->label[objs[i]], "", step, sizeof step));
        }
    jw_end_arr(j);
    free(objs);
}

static void json_path(struct jw *j, struct ph_view_ctx *v, const struct ph_bfs *b, size_t index,
                      uint32_t obj, bool full, struct ph_text *t)
{
    const struct ph_graph *g = v->g;
    render_path(g, b, obj, full, t);
    jw_obj(j);
    jw_key(j, "index"), jw_u64(j, index);
    jw_key(j, "root"), jw_str(j, ph_path_root_name(g, b, obj));
    jw_key(j, "path"), jw_str(j, t->s ? t->s : "");
    json_steps(j, g, b, obj);
    jw_key(j, "length"), jw_u64(j, ph_path_length(b, obj));
    jw_key(j, "target_kind"), jw_str(j, ph_view_text(v, ph_clodo_kind(v, obj)));
    jw_key(j, "target_address"), jw_hex(j, g->addr[obj]);
    jw_key(j, "target_size"), jw_u64(j, ph_graph_size(g, obj));
    jw_end_obj(j);
}

static void print_json(struct ph_view_ctx *v, const struct ph_bfs *b, const struct path_report *r,
                       const struct render_info *info, bool full)
{
    struct jw j;
    struct ph_text t = {0};
    jw_init(&j, stdout);
    jw_obj(&j);
    render_json_head(&j, "pyheap.paths/1", info);
    jw_key(&j, "selection_count"), jw_u64(&j, r->sel->n);
    jw_key(&j, "selection");
    jw_obj(&j);
    jw_key(&j, "count"), jw_u64(&j, r->sel->n);
    jw_key(&j, "size"), jw_u64(&j, r->sel_size);
    jw_end_obj(&j);
    jw_key(&j, "paths");
    jw_arr(&j);
    for (size_t i = 0; i < r->ntargets; i++)
        json_path(&j, v, b, i, r->targets[i], full, &t);
    jw_end_arr(&j);
    jw_key(&j, "paths_total"), jw_u64(&j, r->reachable);
    jw_key(&j, "more"), jw_u64(&j, r->reachable - r->ntargets);
    jw_key(&j, "unreachable"), jw_u64(&j, r->sel->n - r->reachable);
    render_json_walk(&j, info);
    jw_end_obj(&j);
    jw_done(&j);
    ph_text_free(&t);
}

static ph_status report_paths(struct cli *cli, struct cli_heaps *h, struct ph_error *err)
{
    struct ph_view_ctx *v = &h->v;
    const struct ph_set *sel = &h->sel;
    struct ph_bfs b;
    ph_status st = ph_bfs_run(v->g, &b, err);
    if (st != PH_OK)
        return st;
    struct path_report r = {.sel = sel};
    size_t k = (size_t)cli->count < sel->n ? (size_t)cli->count : sel->n;
    r.targets = malloc((k + 1) * sizeof *r.targets);
    if (!r.targets) {
        ph_bfs_free(&b);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    }
    r.ntargets = ph_paths_nearest(&b, sel, k, r.targets, &r.reachable);
    if (k && r.reachable && !r.ntargets) { /* only when its bounded heap could not be had */
        free(r.targets);
        ph_bfs_free(&b);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory choosing %zu targets", k);
    }
    for (size_t i = 0; i < sel->n; i++)
        r.sel_size += ph_graph_size(v->g, sel->v[i]);
    if (cli->json) {
        struct render_info info;
        st = render_info_of(cli, h, &info, err);
        if (st == PH_OK)
            print_json(v, &b, &r, &info, cli->full_paths);
    } else {
        print_text(v->g, &b, &r, cli->full_paths);
    }
    free(r.targets);
    ph_bfs_free(&b);
    return st;
}

int cmd_path(struct cli *cli)
{
    struct cli_heaps h;
    struct ph_error err = {0};
    ph_status st = cli_load(cli, &h, &err);
    if (st == PH_OK)
        st = report_paths(cli, &h, &err);
    int rc = st == PH_OK ? cli_finish_output() : cli_error(cli, &err);
    cli_heaps_free(&h);
    return rc;
}
