/*
 * test_maps.c: ph_maps_parse on fixture strings (the shapes real kernels print, and hostile
 * ones), ph_maps_find / ph_maps_readable edges, and ph_maps_read on ourselves.
 */
#include <check.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc/maps.h"
#include "tests/unit/check_run.h"

static struct ph_maps parse_ok(const char *text)
{
    struct ph_maps m;
    struct ph_error err = {0};
    ph_status st = ph_maps_parse(text, strlen(text), &m, &err);
    ck_assert_msg(st == PH_OK, "parse failed: %s", err.msg);
    return m;
}

static ph_status parse_status(const char *text, size_t len, struct ph_error *err)
{
    struct ph_maps m = {(void *)1, 99};
    ph_status st = ph_maps_parse(text, len, &m, err);
    if (st != PH_OK)
        ck_assert_msg(m.v == NULL && m.n == 0, "failed parse must leave an empty result");
    ph_maps_free(&m);
    return st;
}

static const char real_maps[] =
    "55d4c9a4f000-55d4c9a51000 r--p 00000000 08:01 1234                       /usr/bin/python3.11\n"
    "55d4c9a51000-55d4c9c00000 r-xp 00002000 08:01 1234                       /usr/bin/python3.11\n"
    "55d4cb000000-55d4cb100000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
    "7f0000021000-7f0004000000 ---p 00000000 00:00 0\n"
    "7f1000000000-7f1000001000 r--s 00000000 00:05 77                         /dev/shm/my file (1)\n"
    "7f1000001000-7f1000002000 rw-s 00000000 00:01 4242                       /memfd:arena (deleted)\n"
    "7f1000002000-7f1000003000 r-xp 00000000 fd:1f 99                         /tmp/lib with  spaces.so (deleted)\n"
    "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n"
    "7ffc000fe000-7ffc00100000 r-xp 00000000 00:00 0                          [vdso]\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

START_TEST(real_shapes)
{
    struct ph_maps m = parse_ok(real_maps);
    ck_assert_uint_eq(m.n, 11);
    ck_assert_uint_eq(m.v[0].start, 0x55d4c9a4f000ull);
    ck_assert_uint_eq(m.v[0].end, 0x55d4c9a51000ull);
    ck_assert_uint_eq(m.v[0].perms, PH_MAP_R | PH_MAP_P);
    ck_assert_uint_eq(m.v[1].perms, PH_MAP_R | PH_MAP_X | PH_MAP_P);
    ck_assert_uint_eq(m.v[1].offset, 0x2000);
    ck_assert_uint_eq(m.v[1].dev_major, 8);
    ck_assert_uint_eq(m.v[1].dev_minor, 1);
    ck_assert_uint_eq(m.v[1].inode, 1234);
    ck_assert_str_eq(m.v[1].path, "/usr/bin/python3.11");
    ck_assert_str_eq(m.v[2].path, "[heap]");
    ck_assert_str_eq(m.v[3].path, ""); /* old kernels pad anonymous lines with a space */
    ck_assert_str_eq(m.v[4].path, "");
    ck_assert_uint_eq(m.v[4].perms, PH_MAP_P);
    ck_assert_str_eq(m.v[5].path, "/dev/shm/my file (1)");
    ck_assert_uint_eq(m.v[5].perms, PH_MAP_R); /* shared: no P */
    ck_assert(!m.v[5].deleted);
    ck_assert_str_eq(m.v[6].path, "/memfd:arena");
    ck_assert(m.v[6].deleted);
    ck_assert_str_eq(m.v[7].path, "/tmp/lib with  spaces.so");
    ck_assert(m.v[7].deleted);
    ck_assert_uint_eq(m.v[7].dev_major, 0xfd);
    ck_assert_uint_eq(m.v[7].dev_minor, 0x1f);
    ck_assert_str_eq(m.v[8].path, "[stack]");
    ck_assert_str_eq(m.v[9].path, "[vdso]");
    ck_assert_uint_eq(m.v[10].start, 0xffffffffff600000ull);
    ck_assert_uint_eq(m.v[10].perms, PH_MAP_X | PH_MAP_P);
    ph_maps_free(&m);
    ph_maps_free(&m); /* idempotent */
}
END_TEST

/* Two r-x mappings of one file where the lower address maps the higher offset: the parser must
 * keep address order and each line's own offset (base computation depends on it). */
START_TEST(same_file_offsets_reversed)
{
    struct ph_maps m = parse_ok(
        "7f0000000000-7f0000010000 r-xp 00200000 08:01 55 /opt/py/libpython3.11.so.1.0\n"
        "7f0000010000-7f0000020000 r-xp 00100000 08:01 55 /opt/py/libpython3.11.so.1.0\n"
        "7f0000020000-7f0000030000 r--p 00000000 08:01 55 /opt/py/libpython3.11.so.1.0");
    ck_assert_uint_eq(m.n, 3); /* last line without newline */
    ck_assert_uint_eq(m.v[0].offset, 0x200000);
    ck_assert_uint_eq(m.v[1].offset, 0x100000);
    ck_assert_uint_eq(m.v[2].offset, 0);
    ck_assert_str_eq(m.v[2].path, "/opt/py/libpython3.11.so.1.0");
    ck_assert_ptr_eq(ph_maps_find(&m, 0x7f0000012345), &m.v[1]);
    ph_maps_free(&m);
}
END_TEST

START_TEST(empty_and_trailing_spaces)
{
    struct ph_maps m = parse_ok("");
    ck_assert_uint_eq(m.n, 0);
    ck_assert_ptr_null(ph_maps_find(&m, 0x1000));
    ck_assert(!ph_maps_readable(&m, 0x1000, 1));
    ph_maps_free(&m);
    /* A file whose name ends in spaces keeps them: only the padding before a path is cut. */
    m = parse_ok("1000-2000 r--p 00000000 08:01 7      /tmp/odd name  \n");
    ck_assert_str_eq(m.v[0].path, "/tmp/odd name  ");
    ph_maps_free(&m);
    /* " (deleted)" belongs to file paths only; a pseudo path keeps its text. */
    m = parse_ok("1000-2000 r--p 00000000 00:00 0 [anon: x (deleted)]\n");
    ck_assert_str_eq(m.v[0].path, "[anon: x (deleted)]");
    ck_assert(!m.v[0].deleted);
    ph_maps_free(&m);
}
END_TEST

static const char *const garbage[] = {
    "hello world\n",
    "\n",
    "1000-2000 r--p 00000000 08:01 7 /a\n\n2000-3000 r--p 00000000 08:01 7 /a\n",
    "1000 r--p 00000000 08:01 7 /a\n",
    "1000-2000 rw 00000000 08:01 7 /a\n",
    "1000-2000 rwxq 00000000 08:01 7 /a\n",
    "1000-2000 r--p 0000000g 08:01 7 /a\n",
    "1000-2000 r--p 00000000 0801 7 /a\n",
    "1000-2000 r--p 00000000 08:01 x /a\n",
    "1000-2000 r--p 00000000 08:01 7x /a\n",
    "-1000-2000 r--p 00000000 08:01 7 /a\n",
    "0x1000-0x2000 r--p 00000000 08:01 7 /a\n",
    "2000-1000 r--p 00000000 08:01 7 /a\n",        /* inverted */
    "2000-2000 r--p 00000000 08:01 7 /a\n",        /* empty */
    "10000000000000000-10000000000000001 r--p 0 0:0 0\n", /* 17 hex digits */
    "1000-2000 r--p 00000000 08:01 99999999999999999999999 /a\n", /* inode overflow */
    "1000-2000 r--p 00000000 100000000:01 7 /a\n",  /* major > UINT_MAX */
};

START_TEST(garbage_lines)
{
    for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
        struct ph_error err = {0};
        ph_status st = parse_status(garbage[i], strlen(garbage[i]), &err);
        ck_assert_msg(st == PH_ERR_CORRUPT_FILE, "fixture %zu accepted: %s", i, garbage[i]);
        ck_assert_msg(strstr(err.msg, "maps line"), "message without line: %s", err.msg);
    }
    /* A NUL byte inside a line would silently cut the path. */
    static const char nul[] = "1000-2000 r--p 00000000 08:01 7 /a\0b\n";
    struct ph_error err = {0};
    ck_assert_int_eq(parse_status(nul, sizeof nul - 1, &err), PH_ERR_CORRUPT_FILE);
}
END_TEST

START_TEST(unsorted_and_overlapping)
{
    static const char unsorted[] = "3000-4000 r--p 00000000 00:00 0\n"
                                   "1000-2000 r--p 00000000 00:00 0\n";
    static const char overlap[] = "1000-3000 r--p 00000000 00:00 0\n"
                                  "2000-4000 r--p 00000000 00:00 0\n";
    static const char dup[] = "1000-2000 r--p 00000000 00:00 0\n"
                              "1000-2000 r--p 00000000 00:00 0\n";
    struct ph_error err = {0};
    ck_assert_int_eq(parse_status(unsorted, strlen(unsorted), &err), PH_ERR_CORRUPT_FILE);
    ck_assert(strstr(err.msg, "line 2"));
    ck_assert_int_eq(parse_status(overlap, strlen(overlap), &err), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(parse_status(dup, strlen(dup), &err), PH_ERR_CORRUPT_FILE);
    /* Adjacent is fine. */
    struct ph_maps m = parse_ok("1000-2000 r--p 00000000 00:00 0\n2000-3000 rw-p 00000000 00:00 0\n");
    ck_assert_uint_eq(m.n, 2);
    ph_maps_free(&m);
}
END_TEST

/* Hostile sizes: a path longer than PATH_MAX, and an endless line. */
START_TEST(oversized)
{
    size_t n = 3 * 4096 + 100;
    char *text = malloc(n + 1);
    ck_assert_ptr_nonnull(text);
    int k = snprintf(text, n + 1, "1000-2000 r--p 00000000 00:00 0 /");
    memset(text + k, 'a', n - (size_t)k);
    text[n] = '\0';
    struct ph_error err = {0};
    ck_assert_int_eq(parse_status(text, n, &err), PH_ERR_CORRUPT_FILE);
    /* Same length without a newline and without any structure. */
    memset(text, '1', n);
    ck_assert_int_eq(parse_status(text, n, &err), PH_ERR_CORRUPT_FILE);
    free(text);
}
END_TEST

static const char find_fixture[] =
    "1000-2000 r--p 00000000 00:00 0\n"
    "2000-3000 rw-p 00000000 00:00 0\n"   /* adjacent, readable */
    "3000-4000 ---p 00000000 00:00 0\n"   /* guard */
    "4000-5000 r--p 00000000 00:00 0\n"
    "6000-7000 -w-p 00000000 00:00 0\n"   /* hole before, not readable */
    "fffffffffffff000-ffffffffffffffff r--p 00000000 00:00 0\n";

START_TEST(find_edges)
{
    struct ph_maps m = parse_ok(find_fixture);
    ck_assert_ptr_null(ph_maps_find(&m, 0));
    ck_assert_ptr_null(ph_maps_find(&m, 0xfff));
    ck_assert_ptr_eq(ph_maps_find(&m, 0x1000), &m.v[0]);
    ck_assert_ptr_eq(ph_maps_find(&m, 0x1fff), &m.v[0]);
    ck_assert_ptr_eq(ph_maps_find(&m, 0x2000), &m.v[1]);
    ck_assert_ptr_eq(ph_maps_find(&m, 0x3abc), &m.v[2]);
    ck_assert_ptr_null(ph_maps_find(&m, 0x5000));
    ck_assert_ptr_null(ph_maps_find(&m, 0x5fff));
    ck_assert_ptr_eq(ph_maps_find(&m, 0x6000), &m.v[4]);
    ck_assert_ptr_null(ph_maps_find(&m, 0x7000));
    ck_assert_ptr_eq(ph_maps_find(&m, 0xfffffffffffffffeull), &m.v[5]);
    ck_assert_ptr_null(ph_maps_find(&m, UINT64_MAX)); /* end is exclusive */
    ph_maps_free(&m);
}
END_TEST

START_TEST(readable_edges)
{
    struct ph_maps m = parse_ok(find_fixture);
    ck_assert(ph_maps_readable(&m, 0x1000, 1));
    ck_assert(ph_maps_readable(&m, 0x1000, 0x1000));
    ck_assert(ph_maps_readable(&m, 0x1ff8, 16));      /* spans two adjacent readable maps */
    ck_assert(ph_maps_readable(&m, 0x1000, 0x2000));  /* exactly both */
    ck_assert(!ph_maps_readable(&m, 0x1000, 0x2001)); /* one byte into the guard */
    ck_assert(!ph_maps_readable(&m, 0x2ff8, 16));
    ck_assert(!ph_maps_readable(&m, 0x3000, 8));
    ck_assert(ph_maps_readable(&m, 0x4ff8, 8));
    ck_assert(!ph_maps_readable(&m, 0x4ff8, 9));      /* into the hole */
    ck_assert(!ph_maps_readable(&m, 0x5000, 8));
    ck_assert(!ph_maps_readable(&m, 0x6000, 8));      /* write-only */
    ck_assert(!ph_maps_readable(&m, 0xfff, 2));       /* starts before the first */
    ck_assert(ph_maps_readable(&m, 0x1234, 0));       /* empty range */
    ck_assert(ph_maps_readable(&m, 0xfffffffffffff000ull, 0xfff));
    ck_assert(!ph_maps_readable(&m, 0xfffffffffffff000ull, 0x1000));
    ck_assert(!ph_maps_readable(&m, 0xfffffffffffffff0ull, 0x20)); /* wraps around */
    ck_assert(!ph_maps_readable(&m, 0x1000, UINT64_MAX));
    ph_maps_free(&m);
}
END_TEST

START_TEST(read_self)
{
    struct ph_maps m;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_maps_read(getpid(), &m, &err), PH_OK);
    ck_assert_uint_gt(m.n, 5);
    static int local;
    int stack_var = 0;
    const struct ph_map *a = ph_maps_find(&m, (uint64_t)(uintptr_t)&local);
    ck_assert_ptr_nonnull(a);
    ck_assert(a->perms & PH_MAP_W);
    const struct ph_map *s = ph_maps_find(&m, (uint64_t)(uintptr_t)&stack_var);
    ck_assert_ptr_nonnull(s);
    ck_assert(ph_maps_readable(&m, (uint64_t)(uintptr_t)&stack_var, sizeof stack_var));
    bool vdso = false;
    for (size_t i = 0; i < m.n; i++)
        vdso |= strcmp(m.v[i].path, "[vdso]") == 0;
    ck_assert(vdso);
    ph_maps_free(&m);
    ck_assert_int_eq(ph_maps_read(-5, &m, &err), PH_ERR_NO_PROCESS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("maps");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, real_shapes);
    tcase_add_test(tc, same_file_offsets_reversed);
    tcase_add_test(tc, empty_and_trailing_spaces);
    tcase_add_test(tc, garbage_lines);
    tcase_add_test(tc, unsorted_and_overlapping);
    tcase_add_test(tc, oversized);
    suite_add_tcase(s, tc);
    tc = tcase_create("lookup");
    tcase_add_test(tc, find_edges);
    tcase_add_test(tc, readable_edges);
    tcase_add_test(tc, read_self);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
