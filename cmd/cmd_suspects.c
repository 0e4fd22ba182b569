/*
 * cmd_suspects.c: `pyheap suspects PID|FILE`: leak suspects (lib/heap/suspects.h) in plain
 * sentences, as Eclipse MAT writes them, or JSON (schema pyheap.suspects/1):
 *
 *   Suspect 1: one dict reached as Root.i0_modules['app'].__dict__['_hub']._unreads retains
 *   5,123,456 bytes (61.3% of the heap) in 30,000 app.TradeMessage held by 300 list.
 *     held as: dict > tuple > method > app.Subscriber > collections.deque > app.Batch > list >
 *              app.TradeMessage
 *     inside:  30,000 app.TradeMessage (1,680,000 bytes), 30,000 str (1,590,000 bytes), ...
 */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cli.h"
#include "cmd/json.h"
#include "cmd/render.h"
#include "cmd/retained_out.h"
#include "lib/heap/paths.h"
#include "lib/heap/suspects.h"

static const char *kind_text(struct ph_view_ctx *v, uint32_t kind)
{
    return ph_view_text(v, kind);
}

/* "One dict reached as PATH retains" / "30,000 app.X under PATH retain" */
static void subject(FILE *f, struct ph_view_ctx *v, const struct ph_bfs *b,
                    const struct ph_suspect *s, struct ph_text *path)
{
    char n[40];
    if (!s->group) {
        ph_path_render(v->g, b, s->obj, path);
        fprintf(f, "One %s reached as %s retains", kind_text(v, s->kind), path->s ? path->s : "?");
    } else if (s->dominator == PH_DOM_ROOT) {
        fprintf(f, "%s %s held from several roots retain", fmt_bytes(s->count, n, sizeof n),
                kind_text(v, s->kind));
    } else {
        ph_path_render(v->g, b, s->dominator, path);
        fprintf(f, "%s %s under %s retain", fmt_bytes(s->count, n, sizeof n), kind_text(v, s->kind),
                path->s ? path->s : "?");
    }
}

static void sentence(FILE *f, struct ph_view_ctx *v, const struct ph_bfs *b,
                     const struct ph_suspects *all, const struct ph_suspect *s, struct ph_text *path)
{
    char n[40], m[40];
    subject(f, v, b, s, path);
    fprintf(f, " %s bytes (%.1f%% of the heap)", fmt_bytes(s->retained, n, sizeof n),
            share(s->retained, all->total));
    if (s->unit_kind != PH_NONE && !(s->group && s->unit_kind == s->kind && s->unit_count == s->count))
        fprintf(f, " in %s %s", fmt_bytes(s->unit_count, n, sizeof n), kind_text(v, s->unit_kind));
    if (s->holder_kind != PH_NONE)
        fprintf(f, " held by %s %s", fmt_bytes(s->holder_count, m, sizeof m),
                kind_text(v, s->holder_kind));
    fputs(".\n", f);
}

static void details(FILE *f, struct ph_view_ctx *v, const struct ph_suspect *s)
{
    char n[40], m[40];
    if (s->nchain) {
        fputs("  held as: ", f);
        for (size_t i = 0; i < s->nchain; i++) {
            fprintf(f, "%s%s", i ? " > " : "", kind_text(v, s->chain[i].kind));
            if (s->chain[i].repeat > 1)
                fprintf(f, " (%s in a row)", fmt_bytes(s->chain[i].repeat, n, sizeof n));
        }
        fputc('\n', f);
    }
    fputs("  inside:  ", f);
    for (size_t i = 0; i < s->nparts; i++)
        fprintf(f, "%s%s %s (%s bytes)", i ? ", " : "", fmt_bytes(s->parts[i].count, n, sizeof n),
                kind_text(v, s->parts[i].kind), fmt_bytes(s->parts[i].size, m, sizeof m));
    fputc('\n', f);
}

static void print_text(FILE *f, struct ph_view_ctx *v, const struct ph_bfs *b,
                       const struct ph_suspects *all, double pct)
{
    char n[40];
    struct ph_text path = {0};
    if (!all->n)
        fprintf(f, "No leak suspect: nothing retains more than %g%% of the %s bytes reachable.\n",
                pct, fmt_bytes(all->total, n, sizeof n));
    for (size_t i = 0; i < all->n; i++) {
        fprintf(f, "%sSuspect %zu: ", i ? "\n" : "", i + 1);
        sentence(f, v, b, all, &all->v[i], &path);
        details(f, v, &all->v[i]);
    }
    ph_text_free(&path);
}

static void json_suspect(struct jw *j, struct ph_view_ctx *v, const struct ph_bfs *b,
                         const struct ph_suspects *all, size_t i, struct ph_text *path)
{
    const struct ph_suspect *s = &all->v[i];
    jw_obj(j);
    jw_key(j, "index"), jw_u64(j, i);
    jw_key(j, "group"), jw_bool(j, s->group);
    jw_key(j, "kind"), jw_str(j, kind_text(v, s->kind));
    jw_key(j, "count"), jw_u64(j, s->count);
    uint32_t at = s->group ? s->dominator : s->obj;
    jw_key(j, "address");
    if (at == PH_DOM_ROOT)
        jw_null(j);
    else
        jw_hex(j, v->g->addr[at]);
    jw_key(j, "path");
    if (at == PH_DOM_ROOT || !ph_path_render(v->g, b, at, path))
        jw_null(j);
    else
        jw_str(j, path->s);
    jw_key(j, "retained"), jw_u64(j, s->retained);
    jw_key(j, "retained_percent"), jw_f64(j, share(s->retained, all->total));
    jw_key(j, "unit");
    if (s->unit_kind == PH_NONE) {
        jw_null(j);
    } else {
        jw_obj(j);
        jw_key(j, "kind"), jw_str(j, kind_text(v, s->unit_kind));
        jw_key(j, "count"), jw_u64(j, s->unit_count);
        jw_key(j, "retained"), jw_u64(j, s->unit_retained);
        jw_end_obj(j);
    }
    jw_key(j, "holder");
    if (s->holder_kind == PH_NONE) {
        jw_null(j);
    } else {
        jw_obj(j);
        jw_key(j, "kind"), jw_str(j, kind_text(v, s->holder_kind));
        jw_key(j, "count"), jw_u64(j, s->holder_count);
        jw_end_obj(j);
    }
    jw_key(j, "chain");
    jw_arr(j);
    for (size_t k = 0; k < s->nchain; k++) {
        jw_obj(j);
        jw_key(j, "kind"), jw_str(j, kind_text(v, s->chain[k].kind));
        jw_key(j, "repeat"), jw_u64(j, s->chain[k].repeat);
        jw_end_obj(j);
    }
    jw_end_arr(j);
    jw_key(j, "inside");
    jw_arr(j);
    for (size_t k = 0; k < s->nparts; k++) {
        jw_obj(j);
        jw_key(j, "kind"), jw_str(j, kind_text(v, s->parts[k].kind));
        jw_key(j, "count"), jw_u64(j, s->parts[k].count);
        jw_key(j, "size"), jw_u64(j, s->parts[k].size);
        jw_end_obj(j);
    }
    jw_end_arr(j);
    jw_end_obj(j);
}

static void print_json(FILE *f, struct ph_view_ctx *v, const struct ph_bfs *b,
                       const struct ph_suspects *all, double pct, const struct render_info *info)
{
    struct jw j;
    struct ph_text path = {0};
    jw_init(&j, f);
    jw_obj(&j);
    render_json_head(&j, "pyheap.suspects/1", info);
    jw_key(&j, "heap_size"), jw_u64(&j, all->total);
    jw_key(&j, "threshold_percent"), jw_f64(&j, pct);
    jw_key(&j, "threshold_bytes"), jw_u64(&j, all->threshold);
    jw_key(&j, "suspects");
    jw_arr(&j);
    for (size_t i = 0; i < all->n; i++)
        json_suspect(&j, v, b, all, i, &path);
    jw_end_arr(&j);
    render_json_walk(&j, info);
    jw_end_obj(&j);
    jw_done(&j);
    ph_text_free(&path);
}

static ph_status report(struct cli *cli, struct cli_heaps *h, const struct ph_dom *d,
                        struct ph_error *err)
{
    struct ph_suspects all;
    ph_status st = ph_find_suspects(&h->v, d, cli->threshold, &all, err);
    if (st != PH_OK)
        return st;
    struct ph_bfs b;
    if ((st = ph_bfs_run(&h->g, &b, err)) == PH_OK) {
        struct render_info info;
        if (!cli->json)
            print_text(stdout, &h->v, &b, &all, cli->threshold);
        else if ((st = render_info_of(cli, h, &info, err)) == PH_OK)
            print_json(stdout, &h->v, &b, &all, cli->threshold, &info);
        ph_bfs_free(&b);
    }
    ph_suspects_free(&all);
    return st;
}

int cmd_suspects(struct cli *cli)
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
