/*
 * test_paths.c: the shortest-path search and heapy-style rendering (lib/heap/paths.c) on graphs
 * built by hand with ph_graph_*: which path is shortest, which root names it, ties, set members
 * wrapping their prefix, frame-local roots, unreachable objects, the nearest-targets order, and
 * a long chain (one search, a path of 200000 steps rendered in full).
 *
 * The small graph (objects by index; d = distance from the roots):
 *
 *   0 modules dict  (root i0_modules, and again i0_sysdict_modules: the first name wins)   d0
 *   1 module app          <- 0 ['app']                                                       d1
 *   2 app's dict          <- 1 .__dict__ (owner 1)                                           d2
 *   3 Hub                 <- 2 ['_hub']                                                      d3
 *   4 list                <- 3 ._items                                                       d4
 *   5 Msg A               <- 4 [1] (d5) and <- 12 [0] (d4: the shortest)                     d4
 *   6 set                 <- 2 ['bag']                                                       d3
 *   7 Msg B               <- 6 list(_)[0]                                                    d4
 *   8 Msg C               root i0_t7_f0.f_locals['x']                                        d0
 *   9 Msg D               <- 9 .self only: unreachable
 *  10 dict                <- 2 ['reg']                                                       d3
 *  11 Msg E               <- 10 .keys()[2]                                                   d4
 *  12 tuple               <- 2 [('DataSource', 'B')]                                         d3
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/heap/graph.h"
#include "lib/heap/paths.h"
#include "tests/unit/check_run.h"

enum { T_DICT, T_MODULE, T_HUB, T_LIST, T_MSG, T_SET, T_TUPLE, T_COUNT };

static uint32_t id(struct ph_graph *g, const char *s)
{
    return ph_strtab_intern_cstr(&g->names, s);
}

static void add_types(struct ph_graph *g)
{
    static const char *const names[T_COUNT] = {"dict", "module", "app.Hub", "list", "app.Msg",
                                               "set", "tuple"};
    for (uint32_t t = 0; t < T_COUNT; t++)
        ck_assert_uint_eq(ph_graph_add_type(g, 0x1000 + 0x100 * t, id(g, names[t]),
                                            id(g, t == T_HUB || t == T_MSG ? "app" : "builtins")), t);
}

static void add_objects(struct ph_graph *g, const int *types, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool added;
        ck_assert_uint_eq(ph_graph_add_object(g, 0x100000 + 0x40 * i, (uint32_t)types[i], &added), i);
        ck_assert(added);
        ph_graph_set_size(g, i, 56);
    }
}

struct e {
    uint32_t src, dst, label;
};

/* Edges must be given grouped by source, in source order (the CSR invariant). */
static void add_edges(struct ph_graph *g, const struct e *es, size_t ne)
{
    size_t k = 0;
    for (uint32_t o = 0; o < g->n; o++) {
        ph_graph_begin_edges(g, o);
        for (; k < ne && es[k].src == o; k++)
            ck_assert(ph_graph_add_edge(g, es[k].dst, es[k].label));
        ph_graph_end_edges(g);
    }
    ck_assert_uint_eq(k, ne);
}

static void small_graph(struct ph_graph *g)
{
    ck_assert(ph_graph_init(g, 16));
    add_types(g);
    static const int types[] = {T_DICT, T_MODULE, T_DICT, T_HUB, T_LIST, T_MSG, T_SET,
                                T_MSG, T_MSG, T_MSG, T_DICT, T_MSG, T_TUPLE};
    add_objects(g, types, sizeof types / sizeof types[0]);
    g->owner[2] = 1;
    const struct e es[] = {
        {0, 1, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'app'"))},
        {1, 2, PH_LABEL(PH_EDGE_FIELD, id(g, "__dict__"))},
        {2, 3, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'_hub'"))},
        {2, 6, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'bag'"))},
        {2, 10, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'reg'"))},
        {2, 12, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "('DataSource', 'B')"))},
        {3, 4, PH_LABEL(PH_EDGE_ATTR, id(g, "_items"))},
        {4, 5, PH_LABEL(PH_EDGE_INDEX, 1)},
        {6, 7, PH_LABEL(PH_EDGE_SET_MEMBER, 0)},
        {9, 9, PH_LABEL(PH_EDGE_ATTR, id(g, "self"))},
        {10, 11, PH_LABEL(PH_EDGE_DICT_KEY, 2)},
        {12, 5, PH_LABEL(PH_EDGE_INDEX, 0)},
    };
    add_edges(g, es, sizeof es / sizeof es[0]);
    ck_assert(ph_graph_add_root(g, 0, id(g, "i0_modules")));
    ck_assert(ph_graph_add_root(g, 0, id(g, "i0_sysdict_modules")));
    ck_assert(ph_graph_add_root(g, 8, id(g, "i0_t7_f0.f_locals['x']")));
    ph_graph_mark_reachable(g);
}

static const char *render(const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj,
                          struct ph_text *t)
{
    ck_assert(ph_path_render(g, b, obj, t));
    return t->s;
}

START_TEST(shortest_paths_render_like_heapy)
{
    struct ph_graph g;
    struct ph_bfs b;
    struct ph_error err = {0};
    struct ph_text t = {0};
    small_graph(&g);
    ck_assert_int_eq(ph_bfs_run(&g, &b, &err), PH_OK);
    ck_assert_str_eq(render(&g, &b, 0, &t), "Root.i0_modules");
    ck_assert_str_eq(render(&g, &b, 2, &t), "Root.i0_modules['app'].__dict__");
    ck_assert_str_eq(render(&g, &b, 4, &t), "Root.i0_modules['app'].__dict__['_hub']._items");
    /* Through the tuple (4 edges), not through the hub's list (5 edges). */
    ck_assert_str_eq(render(&g, &b, 5, &t), "Root.i0_modules['app'].__dict__[('DataSource', 'B')][0]");
    ck_assert_str_eq(render(&g, &b, 7, &t), "list(Root.i0_modules['app'].__dict__['bag'])[0]");
    ck_assert_str_eq(render(&g, &b, 8, &t), "Root.i0_t7_f0.f_locals['x']");
    ck_assert_str_eq(render(&g, &b, 11, &t), "Root.i0_modules['app'].__dict__['reg'].keys()[2]");
    ck_assert_uint_eq(ph_path_length(&b, 5), 4);
    ck_assert_uint_eq(ph_path_length(&b, 8), 0);
    ck_assert_str_eq(ph_path_root_name(&g, &b, 7), "i0_modules");
    /* The unreachable cycle has no path. */
    ck_assert(!ph_path_render(&g, &b, 9, &t));
    ck_assert_str_eq(t.s, "");
    ck_assert_uint_eq(ph_path_length(&b, 9), PH_NONE);
    ck_assert_ptr_null(ph_path_root_name(&g, &b, 9));
    ph_text_free(&t);
    ph_bfs_free(&b);
    ph_graph_free(&g);
}
END_TEST

START_TEST(path_objects)
{
    struct ph_graph g;
    struct ph_bfs b;
    struct ph_error err = {0};
    small_graph(&g);
    ck_assert_int_eq(ph_bfs_run(&g, &b, &err), PH_OK);
    uint32_t objs[8];
    ck_assert_uint_eq(ph_path_objects(&b, 7, objs, 8), 5);
    const uint32_t want[] = {0, 1, 2, 6, 7};
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(objs[i], want[i]);
    objs[0] = 99;
    ck_assert_uint_eq(ph_path_objects(&b, 7, objs, 2), 5); /* too small: only the count */
    ck_assert_uint_eq(objs[0], 99);
    ck_assert_uint_eq(ph_path_objects(&b, 9, objs, 8), 0);
    ph_bfs_free(&b);
    ph_graph_free(&g);
}
END_TEST

START_TEST(nearest_targets)
{
    struct ph_graph g;
    struct ph_bfs b;
    struct ph_error err = {0};
    small_graph(&g);
    ck_assert_int_eq(ph_bfs_run(&g, &b, &err), PH_OK);
    uint32_t sel[] = {9, 11, 5, 7, 8};
    struct ph_set s = {sel, 5};
    uint32_t out[5];
    size_t reach = 0;
    /* 8 is a root; 7, 11 and 5 are 4 edges away, found in the order the app dict holds
     * 'bag', 'reg' and the tuple; 9 has no path. */
    ck_assert_uint_eq(ph_paths_nearest(&b, &s, 5, out, &reach), 4);
    ck_assert_uint_eq(reach, 4);
    const uint32_t want[] = {8, 7, 11, 5};
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(out[i], want[i]);
    ck_assert_uint_eq(ph_paths_nearest(&b, &s, 2, out, &reach), 2);
    ck_assert_uint_eq(out[0], 8);
    ck_assert_uint_eq(out[1], 7);
    ck_assert_uint_eq(ph_paths_nearest(&b, &s, 0, out, &reach), 0);
    ck_assert_uint_eq(reach, 4);
    ph_bfs_free(&b);
    ph_graph_free(&g);
}
END_TEST

/* Every kind of step, rendered after a root, as heapy writes them. */
START_TEST(every_step_kind)
{
    struct ph_graph g;
    ck_assert(ph_graph_init(&g, 16));
    add_types(&g);
    static const int types[] = {T_DICT, T_MSG, T_MSG, T_MSG, T_MSG,
                                T_MSG,  T_MSG, T_MSG, T_MSG, T_MSG};
    add_objects(&g, types, 10);
    const struct e es[] = {
        {0, 1, PH_LABEL(PH_EDGE_FIELD, id(&g, "__self__"))},
        {0, 2, PH_LABEL(PH_EDGE_ATTR, id(&g, "slot"))},
        {0, 3, PH_LABEL(PH_EDGE_DICT_VALUE, id(&g, "None"))},
        {0, 4, PH_LABEL(PH_EDGE_DICT_KEY, 7)},
        {0, 5, PH_LABEL(PH_EDGE_INDEX, 12)},
        {0, 6, PH_LABEL(PH_EDGE_LOCAL, id(&g, "y"))},
        {0, 7, PH_LABEL(PH_EDGE_STACK, 3)},
        {0, 8, PH_LABEL(PH_EDGE_CONSERVATIVE, 24)},
        {0, 9, PH_LABEL(PH_EDGE_INTERNAL, id(&g, "task_callback0"))},
    };
    add_edges(&g, es, sizeof es / sizeof es[0]);
    ck_assert(ph_graph_add_root(&g, 0, id(&g, "i0_t1_f2")));
    struct ph_bfs b;
    struct ph_error err = {0};
    struct ph_text t = {0};
    ck_assert_int_eq(ph_bfs_run(&g, &b, &err), PH_OK);
    static const char *const want[] = {
        NULL, "Root.i0_t1_f2.__self__", "Root.i0_t1_f2.slot", "Root.i0_t1_f2[None]",
        "Root.i0_t1_f2.keys()[7]", "Root.i0_t1_f2[12]", "Root.i0_t1_f2.f_locals['y']",
        "Root.i0_t1_f2->f_valuestack[3]", "Root.i0_t1_f2.??", "Root.i0_t1_f2->task_callback0",
    };
    for (uint32_t o = 1; o < 10; o++)
        ck_assert_str_eq(render(&g, &b, o, &t), want[o]);
    ph_text_free(&t);
    ph_bfs_free(&b);
    ph_graph_free(&g);
}
END_TEST

/* A linked list of N nodes hanging from one root: one search, and the path to the last node
 * has N - 1 steps, every one rendered (nothing is cut). */
START_TEST(long_chain)
{
    const uint32_t n = 200000;
    struct ph_graph g;
    ck_assert(ph_graph_init(&g, n));
    add_types(&g);
    uint32_t next = id(&g, "next");
    for (uint32_t i = 0; i < n; i++) {
        bool added;
        ck_assert_uint_eq(ph_graph_add_object(&g, 0x10000000 + 0x20ull * i, T_MSG, &added), i);
    }
    for (uint32_t i = 0; i < n; i++) {
        ph_graph_begin_edges(&g, i);
        if (i + 1 < n)
            ck_assert(ph_graph_add_edge(&g, i + 1, PH_LABEL(PH_EDGE_ATTR, next)));
        ph_graph_end_edges(&g);
    }
    ck_assert(ph_graph_add_root(&g, 0, id(&g, "i0_modules")));
    struct ph_bfs b;
    struct ph_error err = {0};
    struct ph_text t = {0};
    ck_assert_int_eq(ph_bfs_run(&g, &b, &err), PH_OK);
    ck_assert_uint_eq(ph_path_length(&b, n - 1), n - 1);
    ck_assert(ph_path_render(&g, &b, n - 1, &t));
    ck_assert_uint_eq(t.len, strlen("Root.i0_modules") + (size_t)(n - 1) * strlen(".next"));
    ck_assert_uint_eq(strlen(t.s), t.len);
    ck_assert(strncmp(t.s, "Root.i0_modules.next.next", 25) == 0);
    ph_text_free(&t);
    ph_bfs_free(&b);
    ph_graph_free(&g);
}
END_TEST

/* Nested set members wrap from the inside out: list(list(Root.x)[1])[0]. */
START_TEST(nested_set_members)
{
    struct ph_graph g;
    ck_assert(ph_graph_init(&g, 8));
    add_types(&g);
    static const int types[] = {T_SET, T_SET, T_MSG};
    add_objects(&g, types, 3);
    const struct e es[] = {
        {0, 1, PH_LABEL(PH_EDGE_SET_MEMBER, 1)},
        {1, 2, PH_LABEL(PH_EDGE_SET_MEMBER, 0)},
    };
    add_edges(&g, es, 2);
    ck_assert(ph_graph_add_root(&g, 0, id(&g, "i0_x")));
    struct ph_bfs b;
    struct ph_error err = {0};
    struct ph_text t = {0};
    ck_assert_int_eq(ph_bfs_run(&g, &b, &err), PH_OK);
    ck_assert_str_eq(render(&g, &b, 2, &t), "list(list(Root.i0_x)[1])[0]");
    ph_text_free(&t);
    ph_bfs_free(&b);
    ph_graph_free(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("paths");
    TCase *tc = tcase_create("search");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, shortest_paths_render_like_heapy);
    tcase_add_test(tc, path_objects);
    tcase_add_test(tc, nearest_targets);
    tcase_add_test(tc, every_step_kind);
    tcase_add_test(tc, long_chain);
    tcase_add_test(tc, nested_set_members);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
