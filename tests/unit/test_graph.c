/*
 * test_graph.c: the walk's data structures on their own: the address map, the string table,
 * the graph's address index (through growth), CSR edges, reachability and reverse edges, and
 * escaping of hostile text.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/addrmap.h"
#include "lib/bigmem.h"
#include "lib/escape.h"
#include "lib/heap/graph.h"
#include "lib/heap/strtab.h"
#include "tests/unit/check_run.h"

START_TEST(addrmap_put_get_grow)
{
    struct ph_addrmap m;
    ck_assert(ph_addrmap_init(&m, 4));
    for (uint32_t i = 0; i < 100000; i++)
        ck_assert_uint_eq(ph_addrmap_put(&m, 0x7f0000000000ull + 16ull * i, i), i);
    ck_assert_uint_eq(m.n, 100000);
    for (uint32_t i = 0; i < 100000; i++)
        ck_assert_uint_eq(ph_addrmap_get(&m, 0x7f0000000000ull + 16ull * i), i);
    ck_assert_uint_eq(ph_addrmap_put(&m, 0x7f0000000000ull, 99), 0); /* keeps the first */
    ck_assert_uint_eq(ph_addrmap_get(&m, 8), PH_ADDRMAP_NONE);
    ck_assert_uint_eq(ph_addrmap_get(&m, 0), PH_ADDRMAP_NONE);
    ph_addrmap_free(&m);
}
END_TEST

START_TEST(strtab_interns_once)
{
    struct ph_strtab t;
    ph_strtab_init(&t);
    uint32_t a = ph_strtab_intern_cstr(&t, "__dict__");
    uint32_t b = ph_strtab_intern(&t, "__dict__xyz", 8);
    ck_assert_uint_eq(a, b);
    uint32_t c = ph_strtab_intern_cstr(&t, "__dict_");
    ck_assert_uint_ne(a, c);
    char buf[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof buf, "name%d", i);
        ck_assert_uint_eq(ph_strtab_intern_cstr(&t, buf), (uint32_t)i + 2);
    }
    ck_assert_str_eq(ph_strtab_get(&t, 4001), "name3999");
    ck_assert_str_eq(ph_strtab_get(&t, a), "__dict__");
    ck_assert_str_eq(ph_strtab_get(&t, 999999), "?");
    /* Through several rehashes: every id keeps its text and is found again. */
    for (int i = 0; i < 300000; i++) {
        snprintf(buf, sizeof buf, "'k%07d'", i);
        ck_assert_uint_eq(ph_strtab_intern_cstr(&t, buf), (uint32_t)i + 5002);
    }
    for (int i = 0; i < 300000; i += 101) {
        snprintf(buf, sizeof buf, "'k%07d'", i);
        ck_assert_uint_eq(ph_strtab_intern_cstr(&t, buf), (uint32_t)i + 5002);
        ck_assert_str_eq(ph_strtab_get(&t, (uint32_t)i + 5002), buf);
    }
    ck_assert_str_eq(ph_strtab_get(&t, a), "__dict__");
    /* Room reserved for 200,000 more: interning them moves no slot (the table keeps its size),
     * and every string, old or new, is found after. */
    ck_assert(ph_strtab_reserve(&t, 200000));
    size_t nslots = t.nslots;
    ck_assert_uint_ge(nslots * 3, ((size_t)t.n + 200000) * 4);
    for (int i = 0; i < 200000; i++) {
        snprintf(buf, sizeof buf, "r%d", i);
        ck_assert_uint_eq(ph_strtab_intern_cstr(&t, buf), (uint32_t)i + 305002);
    }
    ck_assert_uint_eq(t.nslots, nslots);
    ck_assert_uint_eq(ph_strtab_intern_cstr(&t, "'k0299999'"), 305001);
    ck_assert(ph_strtab_reserve(&t, 0)); /* nothing to do */
    ck_assert_uint_eq(t.nslots, nslots);
    ph_strtab_free(&t);
}
END_TEST

/* A chain 0 -> 1 -> 2, an island 3 -> 4 -> 3, root on 0. */
static void small_graph(struct ph_graph *g)
{
    ck_assert(ph_graph_init(g, 4));
    uint32_t t = ph_graph_add_type(g, 0x1000, ph_strtab_intern_cstr(&g->names, "T"),
                                   ph_strtab_intern_cstr(&g->names, "m"));
    bool added;
    for (uint64_t i = 0; i < 5; i++)
        ck_assert_uint_eq(ph_graph_add_object(g, 0x10000 + 32 * i, t, &added), i);
    const uint32_t dst[5][2] = {{1, PH_NONE}, {2, PH_NONE}, {PH_NONE}, {4, PH_NONE}, {3, PH_NONE}};
    for (uint32_t i = 0; i < 5; i++) {
        ph_graph_begin_edges(g, i);
        for (int k = 0; k < 2 && dst[i][k] != PH_NONE; k++)
            ck_assert(ph_graph_add_edge(g, dst[i][k], PH_LABEL(PH_EDGE_INDEX, k)));
        ph_graph_end_edges(g);
    }
    ck_assert(ph_graph_add_root(g, 0, ph_strtab_intern_cstr(&g->names, "i0_modules")));
}

START_TEST(graph_reachability_and_referrers)
{
    struct ph_graph g;
    small_graph(&g);
    ck_assert_uint_eq(ph_graph_mark_reachable(&g), 3);
    ck_assert(g.flags[2] & PH_OBJ_REACHABLE);
    ck_assert(!(g.flags[3] & PH_OBJ_REACHABLE));
    struct ph_rgraph r;
    ck_assert(ph_rgraph_build(&g, &r));
    ck_assert_uint_eq(r.start[4] - r.start[3], 1); /* 3 is referred to by 4 only */
    ck_assert_uint_eq(r.src[r.start[3]], 4);
    ck_assert_uint_eq(r.start[1] - r.start[0], 0); /* nothing refers to the root */
    ph_rgraph_free(&r);
    ph_graph_free(&g);
}
END_TEST

START_TEST(graph_index_survives_growth)
{
    struct ph_graph g;
    ck_assert(ph_graph_init(&g, 16));
    uint32_t t = ph_graph_add_type(&g, 0x1000, 0, 0);
    bool added;
    /* Same-page neighbours and far pages: both must stay findable through rehashes. */
    for (uint32_t i = 0; i < 300000; i++) {
        uint64_t addr = (i % 2 ? 0x7f0000000000ull : 0x560000000000ull) + 16ull * i;
        ck_assert_uint_eq(ph_graph_add_object(&g, addr, t, &added), i);
        ck_assert(added);
    }
    for (uint32_t i = 0; i < 300000; i += 7) {
        uint64_t addr = (i % 2 ? 0x7f0000000000ull : 0x560000000000ull) + 16ull * i;
        ck_assert_uint_eq(ph_graph_find(&g, addr), i);
        ck_assert_uint_eq(ph_graph_add_object(&g, addr, t, &added), i);
        ck_assert(!added);
    }
    ck_assert_uint_eq(ph_graph_find(&g, 0x10), PH_NONE);
    ph_graph_free(&g);
}
END_TEST

/* Lookup then insert with the hint (the walk's path for new objects), and a hint made stale by
 * an insert in between, which must fall back to probing rather than overwrite a slot. */
START_TEST(graph_lookup_then_insert)
{
    struct ph_graph g;
    ck_assert(ph_graph_init(&g, 16));
    uint32_t t = ph_graph_add_type(&g, 0x1000, 0, 0);
    struct ph_graph_hint hint;
    for (uint32_t i = 0; i < 100000; i++) {
        uint64_t addr = 0x7f0000000000ull + 48ull * i;
        ck_assert_uint_eq(ph_graph_lookup(&g, addr, &hint), PH_NONE);
        ck_assert_uint_eq(ph_graph_insert(&g, addr, t, &hint), i);
    }
    struct ph_graph_hint stale;
    uint64_t a = 0x560000000000ull, b = a + 16;
    ck_assert_uint_eq(ph_graph_lookup(&g, a, &stale), PH_NONE);
    ck_assert_uint_eq(ph_graph_lookup(&g, b, &hint), PH_NONE);
    ck_assert_uint_eq(ph_graph_insert(&g, b, t, &hint), 100000);
    ck_assert_uint_eq(ph_graph_insert(&g, a, t, &stale), 100001);
    ck_assert_uint_eq(ph_graph_find(&g, a), 100001);
    ck_assert_uint_eq(ph_graph_find(&g, b), 100000);
    for (uint32_t i = 0; i < 100000; i += 13)
        ck_assert_uint_eq(ph_graph_find(&g, 0x7f0000000000ull + 48ull * i), i);
    ph_graph_free(&g);
}
END_TEST

/* Hostile addresses: every byte of one page an "object" (the index must take any set of distinct
 * addresses of a page without a probe loop that finds no empty slot), many pages of a few
 * objects, and a page met again after others. */
START_TEST(graph_index_dense_and_sparse_pages)
{
    struct ph_graph g;
    ck_assert(ph_graph_init(&g, 16));
    uint32_t t = ph_graph_add_type(&g, 0x1000, 0, 0);
    bool added;
    const uint64_t dense = 0x7f1234567000ull;
    uint32_t n = 0;
    for (uint64_t off = 0; off < 4096; off++, n++)
        ck_assert_uint_eq(ph_graph_add_object(&g, dense + (off * 2039) % 4096, t, &added), n);
    for (uint64_t p = 0; p < 20000; p++, n++)
        ck_assert_uint_eq(ph_graph_add_object(&g, 0x560000000000ull + (p << 12) + 8 * (p % 7), t,
                                              &added), n);
    for (uint64_t off = 0; off < 4096; off += 3)
        ck_assert_uint_eq(ph_graph_find(&g, dense + (off * 2039) % 4096), off);
    ck_assert_uint_eq(ph_graph_find(&g, dense + 4096), PH_NONE);
    ck_assert_uint_eq(ph_graph_find(&g, dense - 8), PH_NONE);
    ck_assert_uint_eq(ph_graph_find(&g, 0x560000000000ull + (5ull << 12) + 40), 4096 + 5);
    ck_assert_uint_eq(ph_graph_find(&g, 0x560000000000ull + (5ull << 12) + 48), PH_NONE);
    ph_graph_free(&g);
}
END_TEST

/* Slots of the index's slab held by the pages' tables (each live table counted once). */
static size_t live_table_slots(const struct ph_graph *g)
{
    size_t live = 0;
    for (size_t p = 0; p < g->index.npages; p++)
        live += (size_t)4 << g->index.pages[p].cls;
    return live;
}

/* Pages filled in two waves (every page half, then every page whole: a dict's keys and values,
 * then what they refer to) outgrow their tables together; the tables they leave must be taken
 * again (merged two by two), not left in the slab: without that the slab was 1.5 times the live
 * tables here. Then pages of mixed fills in a shuffled order: every object is found, and no
 * two live tables share a slot. */
START_TEST(graph_index_reuses_outgrown_tables)
{
    struct ph_graph g;
    ck_assert(ph_graph_init(&g, 16));
    uint32_t t = ph_graph_add_type(&g, 0x1000, 0, 0);
    bool added;
    const uint64_t base = 0x7f0000000000ull;
    const uint32_t pages = 2000;
    uint32_t n = 0;
    for (uint32_t wave = 0; wave < 2; wave++)
        for (uint32_t p = 0; p < pages; p++)
            for (uint32_t k = 0; k < 40; k++, n++)
                ck_assert_uint_eq(ph_graph_add_object(&g, base + ((uint64_t)p << 12) +
                                                      48 * (40 * wave + k), t, &added), n);
    ck_assert_uint_le(g.index.slab_used, live_table_slots(&g) + live_table_slots(&g) / 10);
    uint64_t x = 12345;
    for (uint32_t i = 0; i < 60000; i++, n++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t page = 4096 + (x >> 33) % 3000, off = 16 * (i % 256);
        uint32_t idx = ph_graph_add_object(&g, base + (page << 12) + off, t, &added);
        if (!added)
            n--;
        ck_assert_uint_ne(idx, PH_NONE);
    }
    for (uint32_t i = 0; i < g.n; i += 7)
        ck_assert_uint_eq(ph_graph_find(&g, g.addr[i]), i);
    uint8_t *used = calloc(g.index.slab_used, 1);
    ck_assert_ptr_nonnull(used);
    for (size_t p = 0; p < g.index.npages; p++)
        for (size_t k = 0; k < ((size_t)4 << g.index.pages[p].cls); k++)
            ck_assert_uint_eq(used[g.index.pages[p].table + k]++, 0);
    free(used);
    ph_graph_free(&g);
}
END_TEST

/* Dropping the index: lookups find nothing and additions fail (never a silent duplicate), until
 * ph_graph_index rebuilds it; a rebuild reports two objects at one address. */
START_TEST(graph_index_drop_and_rebuild)
{
    struct ph_graph g;
    ck_assert(ph_graph_init(&g, 16));
    uint32_t t = ph_graph_add_type(&g, 0x1000, 0, 0);
    bool added;
    for (uint32_t i = 0; i < 1000; i++)
        ck_assert_uint_eq(ph_graph_add_object(&g, 0x10000 + 48ull * i, t, &added), i);
    struct ph_graph_hint hint;
    ck_assert_uint_eq(ph_graph_lookup(&g, 0x9000, &hint), PH_NONE);
    ph_graph_drop_index(&g);
    ck_assert_uint_eq(ph_graph_find(&g, 0x10000), PH_NONE);
    ck_assert_uint_eq(ph_graph_insert(&g, 0x9000, t, &hint), PH_NONE);
    ck_assert_uint_eq(ph_graph_add_object(&g, 0x10000, t, &added), PH_NONE);
    ck_assert(!added);
    ck_assert_uint_eq(g.n, 1000);
    uint32_t dup = 0;
    ck_assert(ph_graph_index(&g, &dup));
    ck_assert_uint_eq(dup, PH_NONE);
    ck_assert_uint_eq(ph_graph_find(&g, 0x10000 + 48ull * 999), 999);
    ck_assert_uint_eq(ph_graph_append(&g, 0x10000 + 48ull * 7, t), 1000);
    ck_assert(!ph_graph_index(&g, &dup));
    ck_assert_uint_eq(dup, 1000);
    ph_graph_free(&g);
}
END_TEST

/* Growth keeps the contents (also when the mapping moves), and what was asked is usable. */
START_TEST(bigmem_grows_and_keeps)
{
    struct ph_bigmem m = {0};
    size_t asked = 0;
    for (size_t step = 1; asked < (64u << 20); step = step * 3 + 1) {
        size_t from = asked;
        asked += step;
        ck_assert(ph_bigmem_ensure(&m, asked));
        ck_assert_uint_ge(m.ready, asked);
        ck_assert_uint_le(m.ready, m.mapped);
        memset((char *)m.base + from, (int)(from % 251), asked - from);
    }
    size_t checked = 0, from = 0;
    for (size_t step = 1; checked < asked; step = step * 3 + 1) {
        checked = from + step;
        ck_assert_int_eq(((unsigned char *)m.base)[from], (int)(from % 251));
        ck_assert_int_eq(((unsigned char *)m.base)[checked - 1], (int)(from % 251));
        from = checked;
    }
    ck_assert(ph_bigmem_reserve(&m, asked * 4));
    ck_assert_uint_ge(m.mapped, asked * 4);
    ck_assert_int_eq(((unsigned char *)m.base)[0], 0);
    ph_bigmem_free(&m);
    ck_assert_ptr_null(m.base);
}
END_TEST

/* With a prefaulter: arrays grow (and move) while the second thread populates them, another one
 * is freed and a new one takes its place; every byte written stays, and nothing is lost when the
 * arrays are freed before the prefaulter stops. */
START_TEST(bigmem_with_prefaulter)
{
    struct ph_prefaulter *pf = ph_prefaulter_start();
    ck_assert_ptr_nonnull(pf);
    struct ph_bigmem a = {.pf = pf}, b = {.pf = pf};
    size_t asked = 0;
    for (size_t step = 4096; asked < (48u << 20); step += step / 2) {
        size_t from = asked;
        asked += step;
        ck_assert(ph_bigmem_ensure(&a, asked));
        ck_assert(ph_bigmem_ensure(&b, asked / 2));
        memset((char *)a.base + from, (int)(from % 251), asked - from);
        if (from > (8u << 20) && from < (12u << 20)) { /* b goes and comes back meanwhile */
            ph_bigmem_free(&b);
            b.pf = pf;
        }
    }
    size_t from = 0;
    for (size_t step = 4096, to = step; to <= asked; step += step / 2, to += step) {
        ck_assert_int_eq(((unsigned char *)a.base)[from], (int)(from % 251));
        ck_assert_int_eq(((unsigned char *)a.base)[to - 1], (int)(from % 251));
        from = to;
    }
    ph_bigmem_free(&a);
    ph_bigmem_free(&b);
    /* A mapping given away is gone once the prefaulter has stopped. */
    size_t len = 8u << 20;
    void *gone = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(gone, MAP_FAILED);
    ph_prefaulter_unmap(pf, gone, len);
    ph_prefaulter_stop(pf);
    ck_assert_int_eq(msync(gone, len, MS_ASYNC), -1);
    ck_assert_int_eq(errno, ENOMEM);
}
END_TEST

START_TEST(graph_sizes_of_4gib_and_more)
{
    struct ph_graph g;
    small_graph(&g);
    ck_assert(ph_graph_set_size(&g, 1, 56));
    ck_assert(ph_graph_set_size(&g, 2, 5ull << 32));
    ck_assert(ph_graph_set_size(&g, 3, UINT32_MAX)); /* the marker value itself */
    ck_assert(ph_graph_set_size(&g, 2, (5ull << 32) + 7)); /* overwrite keeps one entry */
    ck_assert_uint_eq(ph_graph_size(&g, 1), 56);
    ck_assert_uint_eq(ph_graph_size(&g, 2), (5ull << 32) + 7);
    ck_assert_uint_eq(ph_graph_size(&g, 3), UINT32_MAX);
    ck_assert_uint_eq(g.nbig, 2);
    ph_graph_free(&g);
}
END_TEST

START_TEST(escape_hostile_text)
{
    char out[128];
    ph_escape("Evil\x1b[31mRED\x07", 13, out, sizeof out);
    ck_assert_str_eq(out, "Evil\\x1b[31mRED\\x07");
    ph_escape("a\\b", 3, out, sizeof out);
    ck_assert_str_eq(out, "a\\\\b");
    ph_escape("\xe2\x80\xae" "rtl", 6, out, sizeof out); /* U+202E RIGHT-TO-LEFT OVERRIDE */
    ck_assert_str_eq(out, "\\u202ertl");
    ph_escape("caf\xc3\xa9", 5, out, sizeof out); /* valid UTF-8 passes */
    ck_assert_str_eq(out, "caf\xc3\xa9");
    ph_escape("\xc0\xaf\xff", 3, out, sizeof out); /* overlong and invalid bytes */
    ck_assert_str_eq(out, "\\xc0\\xaf\\xff");
    ph_escape("\xc2\x9b", 2, out, sizeof out); /* C1 CSI */
    ck_assert_str_eq(out, "\\x9b");
    char small[8];
    ph_escape("abcdefghijkl", 12, small, sizeof small);
    ck_assert_uint_le(strlen(small), 7);
    ck_assert(strstr(small, "...") != NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, addrmap_put_get_grow);
    tcase_add_test(tc, strtab_interns_once);
    tcase_add_test(tc, graph_reachability_and_referrers);
    tcase_add_test(tc, graph_index_survives_growth);
    tcase_add_test(tc, graph_sizes_of_4gib_and_more);
    tcase_add_test(tc, graph_lookup_then_insert);
    tcase_add_test(tc, graph_index_dense_and_sparse_pages);
    tcase_add_test(tc, graph_index_drop_and_rebuild);
    tcase_add_test(tc, graph_index_reuses_outgrown_tables);
    tcase_add_test(tc, bigmem_grows_and_keeps);
    tcase_add_test(tc, bigmem_with_prefaulter);
    tcase_add_test(tc, escape_hostile_text);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
