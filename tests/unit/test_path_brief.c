/*
 * test_path_brief.c: long paths made readable (lib/heap/paths.c ph_path_render_brief): a run of
 * one step is written once with its count, a path of many different steps keeps its ends with
 * the number of steps between, a short path reads as ph_path_render writes it, and the full
 * form is still there. The issue: a 1M-hop linked list printed as one 5 MB line.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/heap/graph.h"
#include "lib/heap/paths.h"
#include "tests/unit/check_run.h"

static uint32_t id(struct ph_graph *g, const char *s)
{
    return ph_strtab_intern_cstr(&g->names, s);
}

/* A chain 0 -> 1 -> ... -> n-1 from root "r", edge i labelled label_of(i). */
static void chain(struct ph_graph *g, uint32_t n, uint32_t (*label_of)(struct ph_graph *, uint32_t))
{
    ck_assert(ph_graph_init(g, n));
    ck_assert_uint_eq(ph_graph_add_type(g, 0x1000, id(g, "Node"), id(g, "app")), 0);
    for (uint32_t i = 0; i < n; i++) {
        bool added;
        ck_assert_uint_eq(ph_graph_add_object(g, 0x10000000 + 0x20ull * i, 0, &added), i);
    }
    for (uint32_t i = 0; i < n; i++) {
        ph_graph_begin_edges(g, i);
        if (i + 1 < n)
            ck_assert(ph_graph_add_edge(g, i + 1, label_of(g, i)));
        ph_graph_end_edges(g);
    }
    ck_assert(ph_graph_add_root(g, 0, id(g, "r")));
}

/* .next all along, but the last two steps: .value then [3]. */
static uint32_t next_then_value(struct ph_graph *g, uint32_t i)
{
    if (i == 999998)
        return PH_LABEL(PH_EDGE_ATTR, id(g, "value"));
    if (i == 999999)
        return PH_LABEL(PH_EDGE_INDEX, 3);
    return PH_LABEL(PH_EDGE_ATTR, id(g, "next"));
}

/* .a, .b, .a, .b, ...: no runs at all. */
static uint32_t alternating(struct ph_graph *g, uint32_t i)
{
    return PH_LABEL(PH_EDGE_ATTR, id(g, i % 2 ? "b" : "a"));
}

/* .x [0] [0] [0] .y: runs of three stay as they are. */
static uint32_t short_runs(struct ph_graph *g, uint32_t i)
{
    return i == 0 ? PH_LABEL(PH_EDGE_ATTR, id(g, "x")) : i < 4 ? PH_LABEL(PH_EDGE_INDEX, 0)
                                                             : PH_LABEL(PH_EDGE_ATTR, id(g, "y"));
}

static void render_both(uint32_t n, uint32_t (*label_of)(struct ph_graph *, uint32_t),
                        struct ph_text *brief, struct ph_text *full)
{
    struct ph_graph g;
    struct ph_bfs b;
    struct ph_error err = {0};
    chain(&g, n, label_of);
    ck_assert_int_eq(ph_bfs_run(&g, &b, &err), PH_OK);
    ck_assert(ph_path_render_brief(&g, &b, n - 1, brief));
    ck_assert(ph_path_render(&g, &b, n - 1, full));
    ph_bfs_free(&b);
    ph_graph_free(&g);
}

START_TEST(million_hops)
{
    struct ph_text brief = {0}, full = {0};
    render_both(1000001, next_then_value, &brief, &full);
    ck_assert_str_eq(brief.s, "Root.r<.next x 999998>.value[3]");
    ck_assert_uint_eq(full.len, strlen("Root.r") + 999998 * strlen(".next") + strlen(".value[3]"));
    ph_text_free(&brief);
    ph_text_free(&full);
}
END_TEST

START_TEST(many_different_steps)
{
    struct ph_text brief = {0}, full = {0};
    render_both(1001, alternating, &brief, &full); /* 1000 steps, 1000 items */
    char want[1024] = "Root.r";
    for (int i = 0; i < PATH_KEEP_ITEMS; i++)
        strcat(want, i % 2 ? ".b" : ".a");
    strcat(want, "<... 950 steps ...>");
    for (int i = 1000 - PATH_KEEP_ITEMS; i < 1000; i++)
        strcat(want, i % 2 ? ".b" : ".a");
    ck_assert_str_eq(brief.s, want);
    ck_assert_uint_eq(full.len, strlen("Root.r") + 1000 * 2);
    ph_text_free(&brief);
    ph_text_free(&full);
}
END_TEST

START_TEST(short_paths_unchanged)
{
    struct ph_text brief = {0}, full = {0};
    render_both(6, short_runs, &brief, &full);
    ck_assert_str_eq(brief.s, "Root.r.x[0][0][0].y");
    ck_assert_str_eq(full.s, brief.s);
    render_both(PATH_BRIEF_ITEMS + 1, alternating, &brief, &full); /* exactly the limit */
    ck_assert_str_eq(full.s, brief.s);
    ph_text_free(&brief);
    ph_text_free(&full);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("path_brief");
    TCase *tc = tcase_create("render");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, million_hops);
    tcase_add_test(tc, many_different_steps);
    tcase_add_test(tc, short_paths_unchanged);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
