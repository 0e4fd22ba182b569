/*
 * test_view.c: every view on a graph built by hand, with no process: partitions by each relation
 * and selections (lib/heap/view.c, select.c), the by-id table (byid.c), paths (paths.c), and the
 * same views on the graph written to a snapshot and read back (snapshot_*.c). Checked against
 * heapy's semantics: byclodo's "dict of X" / "dict (no owner)", bysize's '%9d' kinds, byrcs
 * (the referrers' clodo kinds, sorted, ", "-joined; roots count as heapy's RootState or, for a
 * frame's item, as the frame; `<Nothing>`), byvia (each way in as Python's repr of the step,
 * sorted and joined; duplicates once; cut with ", ..." past 64), bymodule (module names,
 * `~module`), row order, and the selections.
 *
 *   0 modules dict   root i0_modules                 7 dict {'payload': 5}    <- 2 ['d']
 *   1 module app     <- 0 ['app']   brief 'app'      8 A's dict (owner 3)     <- 3 .__dict__
 *   2 app's dict     <- 1 .__dict__ (owner 1)        9 Node E: unreachable, <- 9 .self
 *   3 Node A         <- 6 [0], <- 12 list(_)[0]     10 module os             <- 0 ['os']
 *   4 Node B         <- 6 [1], <- 13 [1]            11 Node F  root i0_t1_f0.f_locals['x']
 *   5 Node C 100 B   <- 7 ['payload']               12 set                   <- 2 ['s']
 *   6 list           <- 2 ['nodes']                 13 list [B at 0..99]     <- 2 ['many']
 */
#include <check.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/heap/byid.h"
#include "lib/heap/graph.h"
#include "lib/heap/paths.h"
#include "lib/heap/select.h"
#include "lib/heap/snapshot.h"
#include "lib/heap/view.h"
#include "tests/unit/check_run.h"

enum { T_DICT, T_MODULE, T_LIST, T_SET, T_NODE, T_COUNT };

static uint32_t id(struct ph_graph *g, const char *s)
{
    return ph_strtab_intern_cstr(&g->names, s);
}

struct e {
    uint32_t src, dst, label;
};

static void build(struct ph_graph *g)
{
    ck_assert(ph_graph_init(g, 32));
    static const char *const names[T_COUNT] = {"dict", "module", "list", "set", "app.Node"};
    static const enum ph_builtin marks[T_COUNT] = {PH_BUILTIN_DICT, PH_BUILTIN_MODULE,
                                                   PH_BUILTIN_LIST, PH_BUILTIN_NONE, PH_BUILTIN_NONE};
    for (uint32_t t = 0; t < T_COUNT; t++) {
        ph_graph_add_type(g, 0x1000 + 0x100 * t, id(g, names[t]), id(g, t == T_NODE ? "app" : "builtins"));
        g->types[t].builtin = (uint8_t)marks[t];
    }
    static const int types[] = {T_DICT, T_MODULE, T_DICT, T_NODE, T_NODE, T_NODE, T_LIST,
                                T_DICT, T_DICT, T_NODE, T_MODULE, T_NODE, T_SET, T_LIST};
    static const uint64_t sizes[] = {1000, 72, 2000, 48, 48, 100, 72, 232, 104, 48, 72, 48, 216, 856};
    for (uint32_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        bool added;
        ck_assert_uint_eq(ph_graph_add_object(g, 0x200000 + 0x100 * i, (uint32_t)types[i], &added), i);
        ph_graph_set_size(g, i, sizes[i]);
    }
    g->owner[2] = 1;
    g->owner[8] = 3;
    ph_addrmap_put(&g->brief, 1 + 1, id(g, "'app'"));
    ph_addrmap_put(&g->brief, 10 + 1, id(g, "'os'"));
    struct e es[120] = {
        {0, 1, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'app'"))},
        {0, 10, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'os'"))},
        {1, 2, PH_LABEL(PH_EDGE_FIELD, id(g, "__dict__"))},
        {2, 6, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'nodes'"))},
        {2, 7, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'d'"))},
        {2, 12, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'s'"))},
        {2, 13, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'many'"))},
        {3, 8, PH_LABEL(PH_EDGE_FIELD, id(g, "__dict__"))},
        {6, 3, PH_LABEL(PH_EDGE_INDEX, 0)},
        {6, 4, PH_LABEL(PH_EDGE_INDEX, 1)},
        {7, 5, PH_LABEL(PH_EDGE_DICT_VALUE, id(g, "'payload'"))},
        {9, 9, PH_LABEL(PH_EDGE_ATTR, id(g, "self"))},
        {12, 3, PH_LABEL(PH_EDGE_SET_MEMBER, 0)},
    };
    size_t ne = 13;
    for (uint32_t k = 0; k < 100; k++) /* B at every index of list 13: 100 distinct ways in */
        es[ne++] = (struct e){13, 4, PH_LABEL(PH_EDGE_INDEX, k)};
    size_t k = 0;
    for (uint32_t o = 0; o < g->n; o++) {
        ph_graph_begin_edges(g, o);
        for (; k < ne && es[k].src == o; k++)
            ck_assert(ph_graph_add_edge(g, es[k].dst, es[k].label));
        ph_graph_end_edges(g);
    }
    ck_assert(ph_graph_add_root(g, 0, id(g, "i0_modules")));
    ck_assert(ph_graph_add_root(g, 11, id(g, "i0_t1_f0.f_locals['x']")));
    ph_graph_mark_reachable(g);
}

struct fixture {
    struct ph_graph g;
    struct ph_view_ctx v;
    struct ph_set reach, all;
};

static void setup(struct fixture *f)
{
    build(&f->g);
    ck_assert(ph_view_ctx_init(&f->v, &f->g));
    ck_assert(ph_set_default(&f->g, false, &f->reach));
    ck_assert(ph_set_default(&f->g, true, &f->all));
    ck_assert_uint_eq(f->reach.n, 13);
    ck_assert_uint_eq(f->all.n, 14);
}

static void teardown(struct fixture *f)
{
    ph_set_free(&f->reach);
    ph_set_free(&f->all);
    ph_view_ctx_free(&f->v);
    ph_graph_free(&f->g);
}

/* The kind (relation rel) of one object: a partition of the one-object set. */
static const char *kind1(struct fixture *f, uint32_t obj, enum ph_relation rel)
{
    static char buf[2048];
    struct ph_set s = {&obj, 1};
    struct ph_partition p;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_partition(&f->v, &s, rel, &p, &err), PH_OK);
    ck_assert_uint_eq(p.n, 1);
    snprintf(buf, sizeof buf, "%s", ph_view_text(&f->v, p.rows[0].kind));
    ph_partition_free(&p);
    return buf;
}

START_TEST(clodo_and_order)
{
    struct fixture f;
    setup(&f);
    ck_assert_str_eq(kind1(&f, 8, PH_BY_CLODO), "dict of app.Node");
    ck_assert_str_eq(kind1(&f, 2, PH_BY_CLODO), "dict of module");
    ck_assert_str_eq(kind1(&f, 7, PH_BY_CLODO), "dict (no owner)");
    ck_assert_str_eq(kind1(&f, 8, PH_BY_TYPE), "dict");
    struct ph_partition p;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_partition(&f.v, &f.reach, PH_BY_CLODO, &p, &err), PH_OK);
    /* Size descending: dict of module 2000, dict (no owner) 1000 + 232, list 72 + 856,
     * app.Node 244, set 216, module 144, dict of app.Node 104. */
    static const char *const order[] = {"dict of module", "dict (no owner)", "list", "app.Node",
                                        "set", "module", "dict of app.Node"};
    ck_assert_uint_eq(p.n, 7);
    for (size_t r = 0; r < p.n; r++)
        ck_assert_str_eq(ph_view_text(&f.v, p.rows[r].kind), order[r]);
    ck_assert_uint_eq(p.rows[3].count, 4);
    ck_assert_uint_eq(p.rows[3].size, 48 + 48 + 100 + 48);
    ck_assert_uint_eq(p.total_count, 13);
    ph_partition_free(&p);
    teardown(&f);
}
END_TEST

START_TEST(bysize_is_heapy_9d)
{
    struct fixture f;
    setup(&f);
    uint32_t nodes[] = {3, 4, 5, 11};
    struct ph_set s = {nodes, 4};
    struct ph_partition p;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_partition(&f.v, &s, PH_BY_SIZE, &p, &err), PH_OK);
    ck_assert_uint_eq(p.n, 2);
    ck_assert_str_eq(ph_view_text(&f.v, p.rows[0].kind), "       48");
    ck_assert_uint_eq(p.rows[0].count, 3);
    ck_assert_str_eq(ph_view_text(&f.v, p.rows[1].kind), "      100");
    ph_partition_free(&p);
    teardown(&f);
}
END_TEST

START_TEST(byrcs)
{
    struct fixture f;
    setup(&f);
    ck_assert_str_eq(kind1(&f, 3, PH_BY_RCS), "list, set");
    ck_assert_str_eq(kind1(&f, 4, PH_BY_RCS), "list"); /* two lists: one kind */
    ck_assert_str_eq(kind1(&f, 5, PH_BY_RCS), "dict (no owner)");
    ck_assert_str_eq(kind1(&f, 2, PH_BY_RCS), "module");
    ck_assert_str_eq(kind1(&f, 1, PH_BY_RCS), "dict (no owner)");
    ck_assert_str_eq(kind1(&f, 0, PH_BY_RCS), "RootState");
    ck_assert_str_eq(kind1(&f, 11, PH_BY_RCS), "types.FrameType");
    /* The unreachable cycle: its only referrer is itself, not reachable: nothing. */
    ck_assert_str_eq(kind1(&f, 9, PH_BY_RCS), "<Nothing>");
    ck_assert_str_eq(kind1(&f, 8, PH_BY_RCS), "app.Node");
    teardown(&f);
}
END_TEST

/* A set large enough for the pass on both cores (view.c, RCS_PARALLEL_MIN): every object 5000
 * times. Each row must be the one-object-at-a-time row times 5000: roots, "dict of X" texts not
 * made yet (the partition of the large set comes first), unreachable referrers, joined kinds. */
START_TEST(byrcs_on_both_cores)
{
    enum { TIMES = 5000 };
    struct fixture f;
    setup(&f);
    /* a root that also has a referrer: RootState joins its referrers' kind */
    ck_assert(ph_graph_add_root(&f.g, 5, id(&f.g, "i0_sysdict")));
    struct ph_set big = {malloc(f.all.n * TIMES * sizeof(uint32_t)), f.all.n * TIMES};
    ck_assert_ptr_nonnull(big.v);
    for (size_t i = 0; i < big.n; i++)
        big.v[i] = f.all.v[i % f.all.n];
    struct ph_partition many, one;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_partition(&f.v, &big, PH_BY_RCS, &many, &err), PH_OK);
    ck_assert_int_eq(ph_partition(&f.v, &f.all, PH_BY_RCS, &one, &err), PH_OK);
    ck_assert_uint_eq(many.n, one.n);
    ck_assert_uint_ge(one.n, 6);
    ck_assert_str_eq(kind1(&f, 5, PH_BY_RCS), "RootState, dict (no owner)");
    for (size_t r = 0; r < one.n; r++) {
        ck_assert_str_eq(ph_view_text(&f.v, many.rows[r].kind), ph_view_text(&f.v, one.rows[r].kind));
        ck_assert_uint_eq(many.rows[r].count, one.rows[r].count * TIMES);
        ck_assert_uint_eq(many.rows[r].size, one.rows[r].size * TIMES);
    }
    ph_partition_free(&many);
    ph_partition_free(&one);
    free(big.v);
    teardown(&f);
}
END_TEST

START_TEST(byvia)
{
    struct fixture f;
    setup(&f);
    ck_assert_str_eq(kind1(&f, 3, PH_BY_VIA), "'[0]', 'list(_)[0]'");
    ck_assert_str_eq(kind1(&f, 5, PH_BY_VIA), "\"['payload']\"");
    ck_assert_str_eq(kind1(&f, 2, PH_BY_VIA), "'.__dict__'");
    ck_assert_str_eq(kind1(&f, 0, PH_BY_VIA), "'.i0_modules'");
    ck_assert_str_eq(kind1(&f, 11, PH_BY_VIA), "\".f_locals['x']\"");
    ck_assert_str_eq(kind1(&f, 9, PH_BY_VIA), "<Nothing>");
    /* B: [1] from two lists (once), then [0]..[99] of one list: 100 ways in, cut at 64. */
    const char *b = kind1(&f, 4, PH_BY_VIA);
    ck_assert(strncmp(b, "'[0]', '[10]', '[11]', ", 22) == 0);
    size_t len = strlen(b);
    ck_assert(len > 5 && strcmp(b + len - 5, ", ...") == 0);
    ck_assert_ptr_null(strstr(b, "'[1]', '[1]'"));
    teardown(&f);
}
END_TEST

START_TEST(bymodule)
{
    struct fixture f;
    setup(&f);
    uint32_t objs[] = {1, 10, 3, 7};
    struct ph_set s = {objs, 4};
    struct ph_partition p;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_partition(&f.v, &s, PH_BY_MODULE, &p, &err), PH_OK);
    ck_assert_uint_eq(p.n, 3);
    ck_assert_str_eq(ph_view_text(&f.v, p.rows[0].kind), "~module"); /* 48 + 232 */
    ck_assert_uint_eq(p.rows[0].count, 2);
    ck_assert_str_eq(ph_view_text(&f.v, p.rows[1].kind), "app"); /* 72, ties by name */
    ck_assert_str_eq(ph_view_text(&f.v, p.rows[2].kind), "os");
    ck_assert_str_eq(ph_relation_header(PH_BY_MODULE), "Module");
    ph_partition_free(&p);
    teardown(&f);
}
END_TEST

static bool same(const struct ph_set *s, const uint32_t *want, size_t n)
{
    if (s->n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < s->n; j++)
            found |= s->v[j] == want[i];
        if (!found)
            return false;
    }
    return true;
}

START_TEST(selections)
{
    struct fixture f;
    setup(&f);
    struct ph_set s;
    ck_assert(ph_select_kind(&f.v, &f.reach, "app.Node", &s));
    ck_assert(same(&s, (uint32_t[]){3, 4, 5, 11}, 4));
    ph_set_free(&s);
    ck_assert(ph_select_kind(&f.v, &f.all, "app.Node", &s)); /* --all adds the cycle */
    ck_assert(same(&s, (uint32_t[]){3, 4, 5, 9, 11}, 5));
    ph_set_free(&s);
    ck_assert(ph_select_kind(&f.v, &f.reach, "dict of app.Node", &s));
    ck_assert(same(&s, (uint32_t[]){8}, 1));
    ph_set_free(&s);
    ck_assert(ph_select_size(&f.g, &f.reach, 100, 300, &s));
    ck_assert(same(&s, (uint32_t[]){5, 7, 8, 12}, 4));
    ph_set_free(&s);
    ck_assert(ph_select_module(&f.g, &f.reach, "app", &s));
    ck_assert(same(&s, (uint32_t[]){3, 4, 5, 11}, 4));
    ph_set_free(&s);
    struct ph_partition p;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_partition(&f.v, &f.reach, PH_BY_CLODO, &p, &err), PH_OK);
    ck_assert(ph_select_row(&f.v, &f.reach, &p, 2, &s)); /* "list" */
    ck_assert(same(&s, (uint32_t[]){6, 13}, 2));
    ph_set_free(&s);
    ck_assert(!ph_select_row(&f.v, &f.reach, &p, p.n, &s));
    ph_partition_free(&p);
    uint32_t a = 3, lst = 6;
    struct ph_set sa = {&a, 1}, sl = {&lst, 1};
    ck_assert(ph_select_referrers(&f.v, &sa, &f.reach, &s));
    ck_assert(same(&s, (uint32_t[]){6, 12}, 2));
    ph_set_free(&s);
    ck_assert(ph_select_referents(&f.v, &sl, &f.reach, &s));
    ck_assert(same(&s, (uint32_t[]){3, 4}, 2));
    ph_set_free(&s);
    teardown(&f);
}
END_TEST

START_TEST(select_in_heapys_order)
{
    struct fixture f;
    setup(&f);
    struct ph_selection sel = ph_selection_none();
    struct ph_set s;
    struct ph_error err = {0};
    ck_assert(!ph_selection_active(&sel));
    sel.kind = "app.Node";
    sel.referrers = true; /* the referrers of the nodes, within the reachable set */
    ck_assert_int_eq(ph_select(&f.v, &sel, &f.reach, &f.reach, &s, &err), PH_OK);
    ck_assert(same(&s, (uint32_t[]){6, 7, 12, 13}, 4));
    ph_set_free(&s);
    sel = ph_selection_none();
    sel.row = 2; /* "list" */
    sel.min_size = 100;
    ck_assert_int_eq(ph_select(&f.v, &sel, &f.reach, &f.reach, &s, &err), PH_OK);
    ck_assert(same(&s, (uint32_t[]){13}, 1));
    ph_set_free(&s);
    sel.row = 7; /* past the 7 rows: a usage error that counts them (not 0) */
    ck_assert_int_eq(ph_select(&f.v, &sel, &f.reach, &f.reach, &s, &err), PH_ERR_USAGE);
    ck_assert_str_eq(err.msg, "--row 7: the partition has 7 rows (0 to 6)");
    ck_assert_uint_eq(s.n, 0);
    sel = ph_selection_none();
    sel.kind = "app.Nod";
    ck_assert_int_eq(ph_select(&f.v, &sel, &f.reach, &f.reach, &s, &err), PH_OK);
    ck_assert_uint_eq(s.n, 0);
    ph_set_free(&s);
    uint32_t near[3];
    ck_assert_uint_eq(ph_kinds_nearest(&f.v, &f.reach, "app.Nod", near, 3), 3);
    ck_assert_str_eq(ph_view_text(&f.v, near[0]), "app.Node");
    ck_assert_str_eq(ph_view_text(&f.v, near[1]), "dict of app.Node"); /* contains it */
    teardown(&f);
}
END_TEST

/* heapy's byid: one row per object, largest first; each kind rendered its own way. */
START_TEST(byid_rows)
{
    struct fixture f;
    setup(&f);
    struct ph_id_table t;
    struct ph_error err = {0};
    char text[800];
    ck_assert_int_eq(ph_id_table(&f.v, &f.reach, 3, &t, &err), PH_OK);
    ck_assert(t.mixed);
    ck_assert_str_eq(t.set_kind, "mixed");
    ck_assert_str_eq(t.title, "Brief");
    ck_assert_uint_eq(t.shown, 3);
    ck_assert_uint_eq(t.count, 13);
    ck_assert_uint_eq(t.rows[0].obj, 2); /* 2000 bytes */
    ph_id_row_text(&f.v, &t, 0, text, sizeof text);
    ck_assert_str_eq(text, "dict of module: app"); /* a dict with an owner: as its owner */
    ph_id_row_text(&f.v, &t, 1, text, sizeof text);
    ck_assert_str_eq(text, "dict (no owner): 0x200000*0"); /* 0x200000, no keys() edges */
    ph_id_row_text(&f.v, &t, 2, text, sizeof text);
    ck_assert_str_eq(text, "list: 0x200d00*100");
    ph_id_table_free(&t);
    uint32_t mods[] = {1, 10};
    struct ph_set s = {mods, 2};
    ck_assert_int_eq(ph_id_table(&f.v, &s, 10, &t, &err), PH_OK);
    ck_assert(!t.mixed);
    ck_assert_str_eq(t.set_kind, "module");
    ck_assert_str_eq(t.title, "Name");
    ph_id_row_text(&f.v, &t, 0, text, sizeof text); /* same size: by name */
    ck_assert_str_eq(text, "app");
    ph_id_row_text(&f.v, &t, 1, text, sizeof text);
    ck_assert_str_eq(text, "os");
    ph_id_table_free(&t);
    teardown(&f);
}
END_TEST

START_TEST(paths_from_roots)
{
    struct fixture f;
    setup(&f);
    struct ph_bfs b;
    struct ph_error err = {0};
    struct ph_text t = {0};
    ck_assert_int_eq(ph_bfs_run(&f.g, &b, &err), PH_OK);
    ck_assert(ph_path_render(&f.g, &b, 5, &t));
    ck_assert_str_eq(t.s, "Root.i0_modules['app'].__dict__['d']['payload']");
    ck_assert(ph_path_render(&f.g, &b, 3, &t));
    ck_assert_str_eq(t.s, "Root.i0_modules['app'].__dict__['nodes'][0]");
    ck_assert(!ph_path_render(&f.g, &b, 9, &t)); /* the unreachable cycle */
    ph_text_free(&t);
    ph_bfs_free(&b);
    teardown(&f);
}
END_TEST

/* Every view, as text, so two graphs can be compared by what a user would see. */
static void all_views(struct ph_graph *g, char *out, size_t cap)
{
    struct ph_view_ctx v;
    struct ph_set all;
    struct ph_error err = {0};
    size_t o = 0;
    ck_assert(ph_view_ctx_init(&v, g));
    ck_assert(ph_set_default(g, true, &all));
    for (int rel = 0; rel < PH_RELATION_COUNT; rel++) {
        struct ph_partition p;
        ck_assert_int_eq(ph_partition(&v, &all, (enum ph_relation)rel, &p, &err), PH_OK);
        for (size_t r = 0; r < p.n; r++)
            o += (size_t)snprintf(out + o, cap - o, "%d %s %lu %lu\n", rel,
                                  ph_view_text(&v, p.rows[r].kind),
                                  (unsigned long)p.rows[r].count, (unsigned long)p.rows[r].size);
        ph_partition_free(&p);
    }
    struct ph_id_table t;
    ck_assert_int_eq(ph_id_table(&v, &all, all.n, &t, &err), PH_OK);
    for (size_t r = 0; r < t.shown; r++) {
        char text[800];
        ph_id_row_text(&v, &t, r, text, sizeof text);
        o += (size_t)snprintf(out + o, cap - o, "id %s\n", text);
    }
    ph_id_table_free(&t);
    struct ph_bfs b;
    struct ph_text path = {0};
    ck_assert_int_eq(ph_bfs_run(g, &b, &err), PH_OK);
    for (uint32_t i = 0; i < g->n; i++)
        if (ph_path_render(g, &b, i, &path))
            o += (size_t)snprintf(out + o, cap - o, "path %s\n", path.s);
    ck_assert(o < cap);
    ph_text_free(&path);
    ph_bfs_free(&b);
    ph_set_free(&all);
    ph_view_ctx_free(&v);
}

/* A write that fails after the header (a file size limit: the chunks go over it) fails in the
 * writer's compressing thread; the failure must still be the writer's result. Each Check test
 * runs in its own process, so the limit ends with it. */
START_TEST(snapshot_write_failure_is_reported)
{
    struct fixture f;
    setup(&f);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {64, 64}; /* the header and the first section's are 28 bytes */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    struct ph_error err = {0};
    ck_assert_int_eq(ph_snapshot_write(&f.g, fileno(tmp), "tmp", &err), PH_ERR_IO);
    ck_assert_msg(strstr(err.msg, "writing tmp: File too large"), "%s", err.msg);
    fclose(tmp);
    teardown(&f);
}
END_TEST

START_TEST(snapshot_round_trip)
{
    struct fixture f;
    setup(&f);
    f.g.meta.pid = 4242;
    f.g.meta.version_hex = 0x030b02f0;
    snprintf(f.g.meta.host, sizeof f.g.meta.host, "build-host");
    f.g.meta.stats.frozen_ms = 12.5;
    ph_graph_set_size(&f.g, 13, (uint64_t)5 << 32); /* a size past 32 bits survives */
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    struct ph_error err = {0};
    ck_assert_int_eq(ph_snapshot_write(&f.g, fileno(tmp), "tmp", &err), PH_OK);
    ck_assert_int_eq(lseek(fileno(tmp), 0, SEEK_SET), 0);
    struct ph_snapshot_reader *r;
    struct ph_graph back;
    ck_assert_int_eq(ph_snapshot_open(fileno(tmp), "tmp", &r, &err), PH_OK);
    ck_assert_int_eq(ph_snapshot_meta(r)->pid, 4242);
    ck_assert_int_eq(ph_snapshot_read(r, &back, &err), PH_OK);
    ph_snapshot_close(r);
    fclose(tmp);
    ck_assert_uint_eq(back.n, f.g.n);
    ck_assert_uint_eq(back.nedges, f.g.nedges);
    ck_assert_uint_eq(ph_graph_size(&back, 13), (uint64_t)5 << 32);
    ck_assert_str_eq(back.meta.host, "build-host");
    ck_assert(back.meta.stats.frozen_ms == 12.5);
    ck_assert_uint_eq(ph_graph_find(&back, 0x200000 + 0x100 * 7), 7);
    static char a[1 << 16], b[1 << 16];
    all_views(&f.g, a, sizeof a);
    all_views(&back, b, sizeof b);
    ck_assert_str_eq(a, b);
    ph_graph_free(&back);
    teardown(&f);
}
END_TEST

START_TEST(relation_names)
{
    ck_assert_int_eq(ph_relation_parse("rcs"), PH_BY_RCS);
    ck_assert_int_eq(ph_relation_parse("id"), PH_BY_ID);
    ck_assert_int_eq(ph_relation_parse("colour"), -1);
    ck_assert_str_eq(ph_relation_header(PH_BY_RCS), "Referrers by Kind (class / dict of class)");
    ck_assert_str_eq(ph_relation_header(PH_BY_VIA), "Referred Via:");
    ck_assert_str_eq(ph_relation_header(PH_BY_SIZE), "Individual Size");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("view");
    TCase *tc = tcase_create("relations");
    tcase_add_test(tc, clodo_and_order);
    tcase_add_test(tc, bysize_is_heapy_9d);
    tcase_add_test(tc, byrcs);
    tcase_add_test(tc, byrcs_on_both_cores);
    tcase_add_test(tc, byvia);
    tcase_add_test(tc, bymodule);
    tcase_add_test(tc, selections);
    tcase_add_test(tc, select_in_heapys_order);
    tcase_add_test(tc, byid_rows);
    tcase_add_test(tc, paths_from_roots);
    tcase_add_test(tc, snapshot_round_trip);
    tcase_add_test(tc, snapshot_write_failure_is_reported);
    tcase_add_test(tc, relation_names);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
