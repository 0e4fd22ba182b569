/*
 * test_retained.c: the views of the dominator tree on graphs built by hand: a row's retained
 * size counts each byte once (an object of a kind inside another of the same kind is not added
 * again; a shared object is in neither holder's), the top objects and the chain above a set,
 * leak suspects (the accumulation point below the namespaces; a linked list reported at its
 * head), the flame graph's folding (a million-long list is one frame) and collapsed stacks, and
 * the DevTools file's counts.
 *
 * The heap of most tests (sizes in brackets):
 *
 *   0 modules dict [100] root "i0_modules"
 *   1 module app [50]          <- 0
 *   2 dict of module [200]     <- 1 (owner 1)
 *   3 cache: dict [300]        <- 2
 *   4..23 Item [100]           <- 3, each -> its own bytes [1000] (24..43)
 *  44 Item [100] "outer"       <- 2, -> 45
 *  45 Item [100] "inner"       <- 44 only
 *  46 bytes [500] shared       <- 2 and <- 3 (so the module's dict dominates it)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/heap/dominators.h"
#include "lib/heap/flame.h"
#include "lib/heap/graph.h"
#include "lib/heap/heapsnapshot.h"
#include "lib/heap/retained.h"
#include "lib/heap/suspects.h"
#include "lib/heap/view.h"
#include "tests/unit/check_run.h"

enum { T_DICT, T_MODULE, T_ITEM, T_BYTES, T_NODE, T_COUNT };

struct e {
    uint32_t src, dst;
};

static void graph_of(struct ph_graph *g, const int *types, const uint64_t *sizes, uint32_t n,
                     const struct e *es, size_t ne)
{
    static const char *const names[T_COUNT] = {"dict", "module", "app.Item", "bytes", "app.Node"};
    static const uint8_t builtin[T_COUNT] = {PH_BUILTIN_DICT, PH_BUILTIN_MODULE, 0, 0, 0};
    ck_assert(ph_graph_init(g, n));
    for (uint32_t t = 0; t < T_COUNT; t++) {
        uint32_t name = ph_strtab_intern_cstr(&g->names, names[t]);
        ck_assert_uint_eq(ph_graph_add_type(g, 0x1000 + 0x100 * t, name, name), t);
        g->types[t].builtin = builtin[t];
    }
    for (uint32_t i = 0; i < n; i++) {
        bool added;
        ck_assert_uint_eq(ph_graph_add_object(g, 0x100000 + 0x40ull * i, (uint32_t)types[i], &added), i);
        ck_assert(ph_graph_set_size(g, i, sizes[i]));
    }
    size_t k = 0;
    for (uint32_t o = 0; o < n; o++) {
        ph_graph_begin_edges(g, o);
        for (; k < ne && es[k].src == o; k++)
            ck_assert(ph_graph_add_edge(g, es[k].dst, PH_LABEL(PH_EDGE_INDEX, k)));
        ph_graph_end_edges(g);
    }
    ck_assert_uint_eq(k, ne);
    ck_assert(ph_graph_add_root(g, 0, ph_strtab_intern_cstr(&g->names, "i0_modules")));
    ph_graph_mark_reachable(g);
}

#define NI 20

static void app_heap(struct ph_graph *g)
{
    int types[47];
    uint64_t sizes[47];
    struct e es[64];
    size_t ne = 0;
    types[0] = T_DICT, sizes[0] = 100;
    types[1] = T_MODULE, sizes[1] = 50;
    types[2] = T_DICT, sizes[2] = 200;
    types[3] = T_DICT, sizes[3] = 300;
    for (int i = 0; i < NI; i++) {
        types[4 + i] = T_ITEM, sizes[4 + i] = 100;
        types[24 + i] = T_BYTES, sizes[24 + i] = 1000;
    }
    types[44] = types[45] = T_ITEM, sizes[44] = sizes[45] = 100;
    types[46] = T_BYTES, sizes[46] = 500;
    es[ne++] = (struct e){0, 1};
    es[ne++] = (struct e){1, 2};
    es[ne++] = (struct e){2, 3};
    es[ne++] = (struct e){2, 44};
    es[ne++] = (struct e){2, 46};
    for (uint32_t i = 0; i < NI; i++)
        es[ne++] = (struct e){3, 4 + i};
    es[ne++] = (struct e){3, 46};
    for (uint32_t i = 0; i < NI; i++)
        es[ne++] = (struct e){4 + i, 24 + i};
    es[ne++] = (struct e){44, 45};
    graph_of(g, types, sizes, 47, es, ne);
    g->owner[2] = 1;
}

static uint64_t row_retained(struct ph_view_ctx *v, const struct ph_partition *p, const char *kind)
{
    for (size_t r = 0; r < p->n; r++)
        if (strcmp(ph_view_text(v, p->rows[r].kind), kind) == 0)
            return p->rows[r].retained;
    ck_abort_msg("no row %s", kind);
    return 0;
}

START_TEST(rows_count_each_byte_once)
{
    struct ph_graph g;
    app_heap(&g);
    struct ph_view_ctx v;
    struct ph_set s;
    struct ph_partition p;
    struct ph_dom d;
    struct ph_error err = {0};
    ck_assert(ph_view_ctx_init(&v, &g));
    ck_assert(ph_set_default(&g, false, &s));
    ck_assert_int_eq(ph_partition(&v, &s, PH_BY_CLODO, &p, &err), PH_OK);
    ck_assert_int_eq(ph_dom_build(&g, &d, &err), PH_OK);
    ck_assert_int_eq(ph_partition_retained(&v, &d, &s, &p, &err), PH_OK);
    /* 20 items retain 1100 each; "outer" retains itself and "inner": 200; inner adds nothing */
    ck_assert_uint_eq(row_retained(&v, &p, "app.Item"), NI * 1100 + 200);
    /* the shared bytes (held by the module's dict and the cache) is the module dict's */
    ck_assert_uint_eq(ph_dom_retained(&d, 3), 300 + NI * 1100);
    ck_assert_uint_eq(ph_dom_retained(&d, 46), 500);
    ck_assert_uint_eq(d.idom[46], 2);
    /* dicts: the modules dict dominates the others: everything, once */
    ck_assert_uint_eq(row_retained(&v, &p, "dict (no owner)"), d.total);
    ph_partition_sort_retained(&v, &p);
    for (size_t r = 1; r < p.n; r++)
        ck_assert_uint_ge(p.rows[r - 1].retained, p.rows[r].retained);
    /* top: the modules dict, the module, its dict, then the cache */
    uint32_t top[4];
    ck_assert_uint_eq(ph_top_retained(&d, &s, 4, top), 4);
    ck_assert_uint_eq(top[0], 0);
    ck_assert_uint_eq(top[1], 1);
    ck_assert_uint_eq(top[2], 2);
    ck_assert_uint_eq(top[3], 3);
    /* the chain above all items: down to the module's dict; held by the cache and the dict */
    struct ph_set items;
    ck_assert(ph_select_kind(&v, &s, "app.Item", &items));
    struct ph_dom_chain c;
    ck_assert_int_eq(ph_dom_chain(&v, &d, &items, &c, &err), PH_OK);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_uint_eq(c.objs[2], 2);
    ck_assert_uint_eq(c.retained, NI * 1100 + 200);
    ck_assert_uint_eq(c.nholders, 3);
    ck_assert_uint_eq(c.holders[0].objects, NI);
    ck_assert_uint_eq(c.holders[0].holders, 1);
    ph_dom_chain_free(&c);
    ph_set_free(&items);
    ph_dom_free(&d);
    ph_partition_free(&p);
    ph_set_free(&s);
    ph_view_ctx_free(&v);
    ph_graph_free(&g);
}
END_TEST

START_TEST(suspect_is_the_accumulation_point)
{
    struct ph_graph g;
    app_heap(&g);
    struct ph_view_ctx v;
    struct ph_dom d;
    struct ph_suspects s;
    struct ph_error err = {0};
    ck_assert(ph_view_ctx_init(&v, &g));
    ck_assert_int_eq(ph_dom_build(&g, &d, &err), PH_OK);
    ck_assert_int_eq(ph_find_suspects(&v, &d, 10.0, &s, &err), PH_OK);
    ck_assert_uint_eq(s.n, 1);
    ck_assert(!s.v[0].group);
    ck_assert_uint_eq(s.v[0].obj, 3);
    ck_assert_uint_eq(s.v[0].retained, 300 + NI * 1100);
    ck_assert_str_eq(ph_view_text(&v, s.v[0].unit_kind), "app.Item");
    ck_assert_uint_eq(s.v[0].unit_count, NI);
    ck_assert_str_eq(ph_view_text(&v, s.v[0].holder_kind), "dict (no owner)");
    ck_assert_uint_eq(s.v[0].holder_count, 1);
    ck_assert_uint_eq(s.v[0].nchain, 2); /* dict (no owner) > app.Item */
    ck_assert_str_eq(ph_view_text(&v, s.v[0].parts[0].kind), "bytes");
    ck_assert_uint_eq(s.v[0].parts[0].size, NI * 1000);
    ph_suspects_free(&s);
    ph_dom_free(&d);
    ph_view_ctx_free(&v);
    ph_graph_free(&g);
}
END_TEST

/* 0 modules dict -> 1 Node -> 2 Node -> ... -> n Node, each Node also -> its bytes [1000] */
static void linked_list(struct ph_graph *g, uint32_t n)
{
    uint32_t total = 1 + 2 * n;
    int *types = malloc(total * sizeof *types);
    uint64_t *sizes = malloc(total * sizeof *sizes);
    struct e *es = malloc(2 * total * sizeof *es);
    size_t ne = 0;
    types[0] = T_DICT, sizes[0] = 100;
    es[ne++] = (struct e){0, 1};
    for (uint32_t i = 1; i <= n; i++) {
        types[i] = T_NODE, sizes[i] = 50;
        types[n + i] = T_BYTES, sizes[n + i] = 1000;
        if (i < n)
            es[ne++] = (struct e){i, i + 1};
        es[ne++] = (struct e){i, n + i};
    }
    graph_of(g, types, sizes, total, es, ne);
    free(types);
    free(sizes);
    free(es);
}

START_TEST(linked_list_reported_at_its_head)
{
    struct ph_graph g;
    linked_list(&g, 20);
    struct ph_view_ctx v;
    struct ph_dom d;
    struct ph_suspects s;
    struct ph_error err = {0};
    ck_assert(ph_view_ctx_init(&v, &g));
    ck_assert_int_eq(ph_dom_build(&g, &d, &err), PH_OK);
    ck_assert_int_eq(ph_find_suspects(&v, &d, 10.0, &s, &err), PH_OK);
    ck_assert_uint_ge(s.n, 1);
    ck_assert_uint_eq(s.v[0].obj, 1);
    ck_assert_uint_eq(s.v[0].retained, 20 * 1050);
    ph_suspects_free(&s);
    ph_dom_free(&d);
    ph_view_ctx_free(&v);
    ph_graph_free(&g);
}
END_TEST

START_TEST(flame_folds_runs_of_one_kind)
{
    const uint32_t n = 1000000;
    struct ph_graph g;
    linked_list(&g, n);
    struct ph_view_ctx v;
    struct ph_dom d;
    struct ph_flame f;
    struct ph_error err = {0};
    ck_assert(ph_view_ctx_init(&v, &g));
    ck_assert_int_eq(ph_dom_build(&g, &d, &err), PH_OK);
    ck_assert_int_eq(ph_flame_build(&v, &d, &f, &err), PH_OK);
    /* all, dict (no owner), app.Node (a million folded into one), bytes */
    ck_assert_uint_eq(f.n, 4);
    ck_assert_uint_eq(f.f[0].total, d.total);
    ck_assert_uint_eq(f.f[2].self, 50ull * n);
    ck_assert_uint_eq(f.f[3].self, 1000ull * n);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_int_eq(ph_flame_write_collapsed(&v, &f, out, &err), PH_OK);
    fclose(out);
    ck_assert_str_eq(buf, "dict (no owner) 100\n"
                          "dict (no owner);app.Node 50000000\n"
                          "dict (no owner);app.Node;bytes 1000000000\n");
    free(buf);
    out = open_memstream(&buf, &len);
    ck_assert_int_eq(ph_flame_write_svg(&v, &f, "t<&>", out, &err), PH_OK);
    fclose(out);
    ck_assert(strstr(buf, "<svg ") && strstr(buf, "</svg>\n"));
    ck_assert(strstr(buf, "t&lt;&amp;&gt;"));
    ck_assert(strstr(buf, "<title>app.Node: 1050000000 bytes retained"));
    free(buf);
    ph_flame_free(&f);
    ph_dom_free(&d);
    ph_view_ctx_free(&v);
    ph_graph_free(&g);
}
END_TEST

START_TEST(heapsnapshot_counts)
{
    struct ph_graph g;
    app_heap(&g);
    char path[] = "/tmp/pyheap-test-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    struct ph_error err = {0};
    ck_assert_int_eq(ph_heapsnapshot_write(&g, fd, path, &err), PH_OK);
    close(fd);
    FILE *f = fopen(path, "r");
    char *text = calloc(1, 1 << 16);
    size_t len = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    unlink(path);
    ck_assert_uint_gt(len, 0);
    /* 47 objects and the root; every edge of the graph plus one from the root */
    ck_assert(strstr(text, "\"node_count\":48,\"edge_count\":48,"));
    ck_assert(strstr(text, "\"nodes\":[9,1,1,0,1,0,0\n")); /* the synthetic root */
    ck_assert(strstr(text, "\"strings\":[\"<dummy>\",\n\"(pyheap roots)\""));
    ck_assert(strstr(text, "\"dict of module\""));
    free(text);
    ph_graph_free(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retained");
    TCase *tc = tcase_create("views");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rows_count_each_byte_once);
    tcase_add_test(tc, suspect_is_the_accumulation_point);
    tcase_add_test(tc, linked_list_reported_at_its_head);
    tcase_add_test(tc, flame_folds_runs_of_one_kind);
    tcase_add_test(tc, heapsnapshot_counts);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
