/*
 * test_snapshot.c: the snapshot reader against hand-made files (lib/heap/snapshot_read.c).
 *
 * A small builder writes any header and sections (its own zstd chunks and crc32, so a case can
 * break exactly one thing); a minimal valid heap is built, then each case changes one section
 * and must be refused with PH_ERR_CORRUPT_FILE, a message naming the section, and no crash
 * (the binary runs under ASan and UBSan). Then every prefix of a real file, and every single
 * byte flipped, must be refused or read, never crash.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/heap/graph.h"
#include "lib/heap/snapshot.h"
#include "lib/heap/view.h"
#include "tests/unit/check_run.h"

/* ---- a byte buffer ---- */

struct buf {
    unsigned char d[1 << 16];
    size_t n;
};

static void b_bytes(struct buf *b, const void *p, size_t n)
{
    ck_assert(b->n + n <= sizeof b->d);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void b_u8(struct buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    b_bytes(b, &c, 1);
}

static void b_u32(struct buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b_u8(b, (v >> (8 * i)) & 0xff);
}

static void b_u64(struct buf *b, uint64_t v)
{
    b_u32(b, (uint32_t)v);
    b_u32(b, (uint32_t)(v >> 32));
}

static void b_var(struct buf *b, uint64_t v)
{
    do {
        b_u8(b, (unsigned)(v & 0x7f) | (v >> 7 ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static uint64_t zig(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* ---- a file: header, then sections of one chunk each ---- */

static void header(struct buf *f, unsigned major)
{
    unsigned char h[20];
    memcpy(h, "\x89PYHEAP\n", 8);
    h[8] = (unsigned char)major, h[9] = 0, h[10] = 0, h[11] = 0;
    memset(h + 12, 0, 4);
    uint32_t crc = (uint32_t)crc32(0, h, 16);
    for (int i = 0; i < 4; i++)
        h[16 + i] = (unsigned char)(crc >> (8 * i));
    b_bytes(f, h, sizeof h);
}

static void chunk(struct buf *f, const struct buf *raw)
{
    static unsigned char comp[1 << 17];
    size_t c = raw->n ? ZSTD_compress(comp, sizeof comp, raw->d, raw->n, 1) : 0;
    ck_assert(!ZSTD_isError(c));
    b_u32(f, (uint32_t)raw->n);
    b_u32(f, (uint32_t)c);
    b_u32(f, (uint32_t)crc32(0, comp, (uInt)c));
    b_bytes(f, comp, c);
}

static void section(struct buf *f, const char *tag, const struct buf *raw)
{
    b_bytes(f, tag, 4);
    b_u32(f, 0);
    if (raw->n)
        chunk(f, raw);
    struct buf none = {.n = 0};
    chunk(f, &none);
}

static void meta_int(struct buf *b, const char *key, uint64_t v)
{
    b_var(b, strlen(key));
    b_bytes(b, key, strlen(key));
    b_u8(b, 0);
    b_var(b, v);
}

/* The parts of the minimal heap, each editable by a case before the file is assembled:
 * two objects (a dict at 0x1000 holding a str at 0x2000 by key 'k'), two types. */
struct parts {
    struct buf meta, strs, type, addr, size, otyp, flag, ownr, ecnt, edst, elab, root, bref;
    unsigned major;
    bool extra_section; /* an unknown section between TYPE and ADDR (a newer minor) */
};

static void minimal(struct parts *p)
{
    memset(p, 0, sizeof *p);
    p->major = 1;
    meta_int(&p->meta, "objects", 2);
    meta_int(&p->meta, "edges", 1);
    meta_int(&p->meta, "types", 2);
    meta_int(&p->meta, "strings", 4);
    meta_int(&p->meta, "roots", 1);
    meta_int(&p->meta, "briefs", 0);
    meta_int(&p->meta, "pid", 4242);
    b_bytes(&p->strs, "dict\0str\0builtins\0'k'\0", 22);
    for (int t = 0; t < 2; t++) { /* dict (marked), str */
        b_u64(&p->type, 0x100 + 0x100 * (uint64_t)t);
        b_var(&p->type, (uint64_t)t);
        b_var(&p->type, 2);
        b_u8(&p->type, t == 0 ? PH_BUILTIN_DICT : PH_BUILTIN_NONE);
    }
    b_var(&p->addr, zig(0x1000)), b_var(&p->addr, zig(0x1000));
    b_var(&p->size, 232), b_var(&p->size, 50);
    b_var(&p->otyp, 0), b_var(&p->otyp, 1);
    b_u8(&p->flag, PH_OBJ_ROOT | PH_OBJ_REACHABLE | PH_OBJ_TRACKED), b_u8(&p->flag, PH_OBJ_REACHABLE);
    b_var(&p->ownr, 0);
    b_var(&p->ecnt, 1), b_var(&p->ecnt, 0);
    b_var(&p->edst, zig(1));
    b_var(&p->elab, (uint64_t)3 << 4 | PH_EDGE_DICT_VALUE);
    b_var(&p->root, 0), b_var(&p->root, 3);
}

static void assemble(const struct parts *p, struct buf *f)
{
    f->n = 0;
    header(f, p->major);
    section(f, "META", &p->meta);
    section(f, "STRS", &p->strs);
    section(f, "TYPE", &p->type);
    if (p->extra_section) {
        struct buf x = {.n = 0};
        b_bytes(&x, "future data", 11);
        section(f, "XTRA", &x);
    }
    const struct buf *rest[] = {&p->addr, &p->size, &p->otyp, &p->flag, &p->ownr, &p->ecnt,
                                &p->edst, &p->elab, &p->root, &p->bref};
    const char *tags[] = {"ADDR", "SIZE", "OTYP", "FLAG", "OWNR", "ECNT", "EDST", "ELAB",
                          "ROOT", "BREF"};
    for (size_t k = 0; k < 10; k++)
        section(f, tags[k], rest[k]);
    struct buf none = {.n = 0};
    section(f, "END\0", &none);
}

/* Read a file from memory; the status, and the message in err. */
static ph_status read_blob(const void *data, size_t n, struct ph_graph *g, struct ph_error *err)
{
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    ck_assert_uint_eq(fwrite(data, 1, n, tmp), n);
    fflush(tmp);
    ck_assert_int_eq(lseek(fileno(tmp), 0, SEEK_SET), 0);
    struct ph_snapshot_reader *r;
    memset(g, 0, sizeof *g);
    ph_status st = ph_snapshot_open(fileno(tmp), "case", &r, err);
    if (st == PH_OK) {
        st = ph_snapshot_read(r, g, err);
        ph_snapshot_close(r);
    }
    fclose(tmp);
    return st;
}

static void expect_corrupt(const struct parts *p, const char *words)
{
    static struct buf f;
    struct ph_graph g;
    struct ph_error err = {0};
    assemble(p, &f);
    ph_status st = read_blob(f.d, f.n, &g, &err);
    ph_graph_free(&g);
    ck_assert_msg(st == PH_ERR_CORRUPT_FILE, "status %d for a case that wants '%s' (%s)", st,
                  words, err.msg);
    ck_assert_msg(strstr(err.msg, words), "'%s' not in '%s'", words, err.msg);
}

START_TEST(minimal_heap_reads)
{
    struct parts p;
    static struct buf f;
    struct ph_graph g;
    struct ph_error err = {0};
    minimal(&p);
    p.extra_section = true; /* unknown sections are skipped */
    assemble(&p, &f);
    ck_assert_int_eq(read_blob(f.d, f.n, &g, &err), PH_OK);
    ck_assert_uint_eq(g.n, 2);
    ck_assert_uint_eq(g.nedges, 1);
    ck_assert_uint_eq(g.edge_dst[0], 1);
    ck_assert_uint_eq(g.addr[1], 0x2000);
    ck_assert_str_eq(ph_strtab_get(&g.names, g.types[g.type[1]].name), "str");
    ck_assert_int_eq(g.meta.pid, 4242);
    struct ph_view_ctx v;
    ck_assert(ph_view_ctx_init(&v, &g));
    ck_assert_str_eq(ph_view_text(&v, ph_clodo_kind(&v, 0)), "dict (no owner)");
    ph_view_ctx_free(&v);
    ph_graph_free(&g);
}
END_TEST

START_TEST(each_broken_part_is_refused)
{
    struct parts p;
#define CASE(edit, words) do { minimal(&p); edit; expect_corrupt(&p, words); } while (0)
    CASE(p.major = 2, "format 2.0");
    CASE((p.meta.n = 0, meta_int(&p.meta, "objects", 2)), "missing");
    CASE((p.edst.n = 0, b_var(&p.edst, zig(5))), "section EDST");
    CASE((p.edst.n = 0, b_var(&p.edst, zig(-3))), "leads to object -3");
    CASE((p.otyp.n = 0, b_var(&p.otyp, 0), b_var(&p.otyp, 2)), "section OTYP");
    CASE((p.elab.n = 0, b_var(&p.elab, (uint64_t)4 << 4 | PH_EDGE_ATTR)), "bad label");
    CASE((p.elab.n = 0, b_var(&p.elab, 12)), "bad label"); /* kind 12 does not exist */
    CASE(p.strs.n -= 1, "section STRS"); /* the last string has no terminator */
    CASE((p.strs.n = 0, b_bytes(&p.strs, "dict\0str\0dict\0'k'\0", 18)), "repeats");
    CASE((p.strs.n = 0, b_bytes(&p.strs, "dict\0s\x1btr\0builtins\0'k'\0", 24)), "not clean");
    CASE((p.flag.n = 0, b_u8(&p.flag, 0x80), b_u8(&p.flag, 0)), "unknown flags");
    CASE(b_u8(&p.size, 7), "more than its contents");
    CASE(p.size.n -= 1, "ends early");
    CASE((p.ecnt.n = 0, b_var(&p.ecnt, 1), b_var(&p.ecnt, 1)), "more edges");
    CASE((p.root.n = 0, b_var(&p.root, 2), b_var(&p.root, 0)), "root object");
    CASE((p.root.n = 0, b_var(&p.root, 0), b_var(&p.root, 4)), "root name");
    CASE((p.ownr.n = 0, b_var(&p.ownr, 1), b_var(&p.ownr, 0), b_var(&p.ownr, 7)), "owner");
    CASE((p.addr.n = 0, b_var(&p.addr, zig(0x1000)), b_var(&p.addr, 0)), "repeats an address");
    CASE((p.type.n = 0, b_u64(&p.type, 0x100), b_var(&p.type, 0), b_var(&p.type, 2), b_u8(&p.type, 0),
          b_u64(&p.type, 0x100), b_var(&p.type, 1), b_var(&p.type, 2), b_u8(&p.type, 0)), "repeats");
    CASE(p.type.d[10] = 99, "built-in mark"); /* the first type's mark */
    CASE((p.size.n = 0, b_bytes(&p.size, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11),
          b_var(&p.size, 1)), "longer than 64 bits");
#undef CASE
}
END_TEST

START_TEST(broken_chunks_are_refused)
{
    struct parts p;
    static struct buf f;
    struct ph_graph g;
    struct ph_error err = {0};
    minimal(&p);
    assemble(&p, &f);
    /* The META chunk starts after the header (20) and the section header (8). */
    static struct buf bad;
    bad = f;
    bad.d[28] = 0xff, bad.d[29] = 0xff, bad.d[30] = 0xff; /* raw length past the bound */
    ck_assert_int_eq(read_blob(bad.d, bad.n, &g, &err), PH_ERR_CORRUPT_FILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "out of range"));
    ph_graph_free(&g);
    bad = f;
    bad.d[28] ^= 1; /* raw length differs from what the frame holds */
    ck_assert_int_eq(read_blob(bad.d, bad.n, &g, &err), PH_ERR_CORRUPT_FILE);
    ph_graph_free(&g);
    bad = f;
    bad.d[45] ^= 0x10; /* a byte of the compressed data: the checksum catches it */
    ck_assert_int_eq(read_blob(bad.d, bad.n, &g, &err), PH_ERR_CORRUPT_FILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "checksum"));
    ph_graph_free(&g);
    memcpy(bad.d, "\x89PYHEAX\n", 8);
    ck_assert_int_eq(read_blob(bad.d, bad.n, &g, &err), PH_ERR_CORRUPT_FILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "wrong magic"));
    ph_graph_free(&g);
}
END_TEST

/* Every prefix, and every byte flipped: refused or read, never a crash or a leak. */
START_TEST(every_prefix_and_flip)
{
    struct parts p;
    static struct buf f, bad;
    struct ph_graph g;
    struct ph_error err = {0};
    minimal(&p);
    assemble(&p, &f);
    for (size_t n = 0; n < f.n; n++) {
        ck_assert_int_eq(read_blob(f.d, n, &g, &err), PH_ERR_CORRUPT_FILE);
        ph_graph_free(&g);
    }
    for (size_t i = 0; i < f.n; i++)
        for (unsigned bit = 0; bit < 8; bit += 3) {
            bad = f;
            bad.d[i] ^= (unsigned char)(1u << bit);
            ph_status st = read_blob(bad.d, bad.n, &g, &err);
            ck_assert(st == PH_OK || st == PH_ERR_CORRUPT_FILE);
            ph_graph_free(&g);
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("snapshot");
    TCase *tc = tcase_create("reader");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, minimal_heap_reads);
    tcase_add_test(tc, each_broken_part_is_refused);
    tcase_add_test(tc, broken_chunks_are_refused);
    tcase_add_test(tc, every_prefix_and_flip);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
