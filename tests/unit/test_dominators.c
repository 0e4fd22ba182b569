/*
 * test_dominators.c: the dominator tree and retained sizes (lib/heap/dominators.c) on graphs
 * built by hand (diamond, cycle, self-loop, unreachable part, two roots sharing an object) and
 * against the definition on random graphs: x dominates y when y cannot be reached from the
 * roots once x is removed; the immediate dominator is the strict dominator that every other
 * strict dominator dominates; the retained size is the sum of the sizes of what x dominates.
 * Then million-long chains, singly and doubly linked, and a deep chain whose tail holds many
 * objects shared with a root (the case where walking up the tree once per object would be
 * quadratic: 9e10 steps would run past the test's timeout; the tree takes a fraction of a
 * second).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/heap/dominators.h"
#include "lib/heap/graph.h"
#include "tests/unit/check_run.h"

struct e {
    uint32_t src, dst;
};

static uint64_t size_of(uint32_t i)
{
    return 16 + (uint64_t)i * 3;
}

/* A graph of n objects (object i of size size_of(i)), the edges (any order), the roots. */
static void build(struct ph_graph *g, uint32_t n, const struct e *es, size_t ne,
                  const uint32_t *roots, size_t nroots)
{
    ck_assert(ph_graph_init(g, n));
    uint32_t name = ph_strtab_intern_cstr(&g->names, "T");
    ck_assert_uint_eq(ph_graph_add_type(g, 0x1000, name, name), 0);
    for (uint32_t i = 0; i < n; i++) {
        bool added;
        ck_assert_uint_eq(ph_graph_add_object(g, 0x100000 + 0x40ull * i, 0, &added), i);
        ck_assert(ph_graph_set_size(g, i, size_of(i)));
    }
    for (uint32_t o = 0; o < n; o++) {
        ph_graph_begin_edges(g, o);
        for (size_t k = 0; k < ne; k++)
            if (es[k].src == o)
                ck_assert(ph_graph_add_edge(g, es[k].dst, 0));
        ph_graph_end_edges(g);
    }
    for (size_t r = 0; r < nroots; r++)
        ck_assert(ph_graph_add_root(g, roots[r], name));
}

/* ---- the definition ---- */

static void reach_without(const struct ph_graph *g, uint32_t skip, bool *seen, uint32_t *queue)
{
    memset(seen, 0, g->n);
    size_t head = 0, tail = 0;
    for (size_t r = 0; r < g->nroots; r++) {
        uint32_t o = g->roots[r].obj;
        if (o != skip && !seen[o]) {
            seen[o] = true;
            queue[tail++] = o;
        }
    }
    while (head < tail) {
        uint32_t o = queue[head++];
        for (uint32_t e = g->edge_start[o]; e < g->edge_start[o + 1]; e++) {
            uint32_t d = g->edge_dst[e];
            if (d != skip && !seen[d]) {
                seen[d] = true;
                queue[tail++] = d;
            }
        }
    }
}

/* dom[x * n + y]: x dominates y (reflexive, reachable objects only). */
static bool *brute_dominance(const struct ph_graph *g)
{
    size_t n = g->n;
    bool *dom = calloc(n * n, 1), *all = malloc(n), *without = malloc(n);
    uint32_t *queue = malloc(n * sizeof *queue);
    ck_assert(dom && all && without && queue);
    reach_without(g, PH_NONE, all, queue);
    for (size_t x = 0; x < n; x++) {
        if (!all[x])
            continue;
        reach_without(g, (uint32_t)x, without, queue);
        for (size_t y = 0; y < n; y++)
            dom[x * n + y] = all[y] && (x == y || !without[y]);
    }
    free(all);
    free(without);
    free(queue);
    return dom;
}

static void check_against_definition(const struct ph_graph *g)
{
    size_t n = g->n;
    bool *dom = brute_dominance(g);
    struct ph_dom d;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_dom_build(g, &d, &err), PH_OK);
    size_t reached = 0, *ndom = calloc(n, sizeof *ndom);
    uint64_t total = 0;
    for (size_t x = 0; x < n; x++)
        for (size_t z = 0; z < n; z++)
            ndom[x] += dom[z * n + x];
    for (size_t y = 0; y < n; y++) {
        if (!dom[y * n + y]) {
            ck_assert_uint_eq(d.idom[y], PH_NONE);
            ck_assert_uint_eq(ph_dom_retained(&d, y), size_of((uint32_t)y));
            continue;
        }
        reached++;
        total += size_of((uint32_t)y);
        /* The immediate dominator: the strict dominator with the most dominators itself. */
        uint32_t want = PH_DOM_ROOT;
        size_t best = 0;
        for (size_t x = 0; x < n; x++) {
            if (x == y || !dom[x * n + y])
                continue;
            if (ndom[x] > best) {
                best = ndom[x];
                want = (uint32_t)x;
            }
        }
        ck_assert_msg(d.idom[y] == want, "idom[%zu] = %u, want %u", y, d.idom[y], want);
        uint64_t retained = 0;
        for (size_t z = 0; z < n; z++)
            if (dom[y * n + z])
                retained += size_of((uint32_t)z);
        ck_assert_msg(ph_dom_retained(&d, y) == retained, "retained[%zu] = %lu, want %lu", y,
                      (unsigned long)ph_dom_retained(&d, y), (unsigned long)retained);
        ck_assert(ph_dom_dominates(&d, (uint32_t)y, (uint32_t)y));
    }
    ck_assert_uint_eq(d.reached, reached);
    ck_assert_uint_eq(d.total, total);
    /* order: every reached object once, after its immediate dominator */
    uint32_t *pos = malloc(n * sizeof *pos);
    memset(pos, 0xff, n * sizeof *pos);
    for (size_t i = 0; i < d.reached; i++) {
        ck_assert_uint_eq(pos[d.order[i]], PH_NONE);
        pos[d.order[i]] = (uint32_t)i;
    }
    for (size_t i = 0; i < d.reached; i++) {
        uint32_t up = d.idom[d.order[i]];
        ck_assert(up == PH_DOM_ROOT || pos[up] < i);
    }
    free(pos);
    free(ndom);
    ph_dom_free(&d);
    free(dom);
}

static void check_idoms(const struct ph_graph *g, const uint32_t *want)
{
    struct ph_dom d;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_dom_build(g, &d, &err), PH_OK);
    for (size_t i = 0; i < g->n; i++)
        ck_assert_msg(d.idom[i] == want[i], "idom[%zu] = %u, want %u", i, d.idom[i], want[i]);
    ph_dom_free(&d);
}

#define R PH_DOM_ROOT
#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(diamond)
{
    /* 0 -> 1, 2 -> 3 -> 4: 3 is held by both arms, so neither retains it. */
    static const struct e es[] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}};
    static const uint32_t roots[] = {0}, want[] = {R, 0, 0, 0, 3};
    struct ph_graph g;
    build(&g, 5, es, N(es), roots, N(roots));
    check_idoms(&g, want);
    struct ph_dom d;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_dom_build(&g, &d, &err), PH_OK);
    ck_assert_uint_eq(ph_dom_retained(&d, 1), size_of(1));
    ck_assert_uint_eq(ph_dom_retained(&d, 3), size_of(3) + size_of(4));
    ck_assert_uint_eq(ph_dom_retained(&d, 0), d.total);
    ph_dom_free(&d);
    check_against_definition(&g);
    ph_graph_free(&g);
}
END_TEST

START_TEST(cycle_and_self_loop)
{
    /* 0 -> 1 -> 2 -> 3 -> 1 (a cycle entered at 1), 2 -> 2, 3 -> 4 -> 4 */
    static const struct e es[] = {{0, 1}, {1, 2}, {2, 3}, {3, 1}, {2, 2}, {3, 4}, {4, 4}};
    static const uint32_t roots[] = {0}, want[] = {R, 0, 1, 2, 3};
    struct ph_graph g;
    build(&g, 5, es, N(es), roots, N(roots));
    check_idoms(&g, want);
    check_against_definition(&g);
    ph_graph_free(&g);
}
END_TEST

START_TEST(unreachable_part)
{
    /* 0 -> 1; 2 -> 3 -> 2 and 2 -> 1: 2 and 3 are not reachable and do not change 1. */
    static const struct e es[] = {{0, 1}, {2, 3}, {3, 2}, {2, 1}};
    static const uint32_t roots[] = {0}, want[] = {R, 0, PH_NONE, PH_NONE};
    struct ph_graph g;
    build(&g, 4, es, N(es), roots, N(roots));
    check_idoms(&g, want);
    check_against_definition(&g);
    ph_graph_free(&g);
}
END_TEST

START_TEST(two_roots)
{
    /* roots 0 and 1 share 2 (so only the virtual root dominates it); 0 alone holds 3, which
     * also refers back to root 1; root 1 is listed twice. */
    static const struct e es[] = {{0, 2}, {1, 2}, {0, 3}, {3, 1}, {2, 4}};
    static const uint32_t roots[] = {0, 1, 1}, want[] = {R, R, R, 0, 2};
    struct ph_graph g;
    build(&g, 5, es, N(es), roots, N(roots));
    check_idoms(&g, want);
    check_against_definition(&g);
    ph_graph_free(&g);
}
END_TEST

START_TEST(empty_and_rootless)
{
    static const struct e es[] = {{0, 1}};
    struct ph_graph g;
    build(&g, 2, es, N(es), NULL, 0);
    struct ph_dom d;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_dom_build(&g, &d, &err), PH_OK);
    ck_assert_uint_eq(d.reached, 0);
    ck_assert_uint_eq(d.total, 0);
    ck_assert_uint_eq(d.idom[0], PH_NONE);
    ph_dom_free(&d);
    ph_graph_free(&g);
}
END_TEST

/* Tiny deterministic generator: the tests must not depend on libc's rand. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(random_graphs_match_the_definition)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
    uint32_t n = 50 + (uint32_t)(next_rand(&seed) % 250);
    size_t ne = n * (1 + next_rand(&seed) % 3) + next_rand(&seed) % 40;
    struct e *es = malloc(ne * sizeof *es);
    for (size_t k = 0; k < ne; k++) {
        es[k].src = (uint32_t)(next_rand(&seed) % n);
        /* mostly towards later objects (as a heap is discovered), some back, some local */
        uint64_t r = next_rand(&seed) % 10;
        es[k].dst = r < 6 ? (uint32_t)(es[k].src + 1 + next_rand(&seed) % 8) % n
                          : (uint32_t)(next_rand(&seed) % n);
    }
    uint32_t roots[4];
    size_t nroots = 1 + next_rand(&seed) % 4;
    for (size_t r = 0; r < nroots; r++)
        roots[r] = (uint32_t)(next_rand(&seed) % n);
    struct ph_graph g;
    build(&g, n, es, ne, roots, nroots);
    check_against_definition(&g);
    ph_graph_free(&g);
    free(es);
}
END_TEST

/* A chain 0 -> 1 -> ... -> n-1 (doubly linked when `back`), built straight into the CSR. */
static void chain(struct ph_graph *g, uint32_t n, bool back, uint32_t extra)
{
    ck_assert(ph_graph_init(g, n + extra));
    uint32_t name = ph_strtab_intern_cstr(&g->names, "Node");
    ck_assert_uint_eq(ph_graph_add_type(g, 0x1000, name, name), 0);
    for (uint32_t i = 0; i < n + extra; i++) {
        bool added;
        ck_assert_uint_eq(ph_graph_add_object(g, 0x10000000 + 0x20ull * i, 0, &added), i);
        g->size[i] = 32;
    }
    for (uint32_t i = 0; i < n + extra; i++) {
        ph_graph_begin_edges(g, i);
        if (i + 1 < n)
            ck_assert(ph_graph_add_edge(g, i + 1, 0));
        if (back && i > 0 && i < n)
            ck_assert(ph_graph_add_edge(g, i - 1, 0));
        if (i == n - 1) /* the tail holds every extra object */
            for (uint32_t k = 0; k < extra; k++)
                ck_assert(ph_graph_add_edge(g, n + k, 0));
        ph_graph_end_edges(g);
    }
    ck_assert(ph_graph_add_root(g, 0, name));
}

START_TEST(million_chain)
{
    const uint32_t n = 1000000;
    for (int back = 0; back < 2; back++) {
        struct ph_graph g;
        chain(&g, n, back, 0);
        struct ph_dom d;
        struct ph_error err = {0};
        ck_assert_int_eq(ph_dom_build(&g, &d, &err), PH_OK);
        ck_assert_uint_eq(d.reached, n);
        ck_assert_uint_eq(d.idom[0], PH_DOM_ROOT);
        for (uint32_t i = 1; i < n; i++)
            ck_assert_uint_eq(d.idom[i], i - 1);
        ck_assert_uint_eq(ph_dom_retained(&d, 0), 32ull * n);
        ck_assert_uint_eq(ph_dom_retained(&d, n / 2), 32ull * (n - n / 2));
        ck_assert_uint_eq(ph_dom_retained(&d, n - 1), 32);
        ph_dom_free(&d);
        ph_graph_free(&g);
    }
}
END_TEST

START_TEST(deep_tail_shared_with_a_root)
{
    /* A chain of 300000 whose tail holds 300000 objects that a second root holds too: each is
     * dominated by the virtual root only, and its DFS parent is 300000 deep. */
    const uint32_t n = 300000, extra = 300000;
    struct ph_graph g;
    chain(&g, n, false, extra);
    /* The tail's objects are roots too (a thread's frame holding them, say). */
    for (uint32_t k = 0; k < extra; k++)
        ck_assert(ph_graph_add_root(&g, n + k, 0));
    struct ph_dom d;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_dom_build(&g, &d, &err), PH_OK);
    for (uint32_t k = 0; k < extra; k++)
        ck_assert_uint_eq(d.idom[n + k], PH_DOM_ROOT);
    ck_assert_uint_eq(ph_dom_retained(&d, n - 1), 32);
    ck_assert_uint_eq(d.total, 32ull * (n + extra));
    ph_dom_free(&d);
    ph_graph_free(&g);
}
END_TEST

START_TEST(retained_past_4_gib)
{
    /* 0 -> 1 -> 2, each of 3 GiB: retained sizes of 9, 6 and 3 GiB, past 32 bits. */
    static const struct e es[] = {{0, 1}, {1, 2}};
    static const uint32_t roots[] = {0};
    struct ph_graph g;
    build(&g, 3, es, N(es), roots, N(roots));
    const uint64_t gib3 = 3ull << 30;
    for (uint32_t i = 0; i < 3; i++)
        ck_assert(ph_graph_set_size(&g, i, gib3));
    struct ph_dom d;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_dom_build(&g, &d, &err), PH_OK);
    ck_assert_uint_eq(ph_dom_retained(&d, 0), 3 * gib3);
    ck_assert_uint_eq(ph_dom_retained(&d, 1), 2 * gib3);
    ck_assert_uint_eq(ph_dom_retained(&d, 2), gib3);
    ck_assert_uint_eq(d.total, 3 * gib3);
    ph_dom_free(&d);
    ph_graph_free(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dominators");
    TCase *tc = tcase_create("tree");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, diamond);
    tcase_add_test(tc, cycle_and_self_loop);
    tcase_add_test(tc, unreachable_part);
    tcase_add_test(tc, two_roots);
    tcase_add_test(tc, empty_and_rootless);
    tcase_add_test(tc, retained_past_4_gib);
    tcase_add_loop_test(tc, random_graphs_match_the_definition, 0, 60);
    tcase_add_test(tc, million_chain);
    tcase_add_test(tc, deep_tail_shared_with_a_root);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
