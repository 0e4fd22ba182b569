/*
 * test_version.c: the version parsers of symbols/version.c on many strings.
 *
 * Hex sanity (what Py_Version and _Py_DebugOffsets give), the PY_VERSION literal grammar, file
 * names of executables and libraries, the .rodata string scan (including the linker's tail
 * merging of "3.12.1" into a configure prefix, and unrelated version-like strings), and
 * formatting. Pure functions: no files, no processes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/version.h"
#include "tests/unit/check_run.h"

START_TEST(hex_valid)
{
    ck_assert(py_version_hex_valid(0x030b02f0));
    ck_assert(py_version_hex_valid(0x030800f0));
    ck_assert(py_version_hex_valid(0x030d00a1));
    ck_assert(py_version_hex_valid(0x030e00a0)); /* main branch right after branching */
    ck_assert(py_version_hex_valid(0x030c00b4));
    ck_assert(py_version_hex_valid(0x030c00c1));
    ck_assert(py_version_hex_valid(0x036300f0)); /* 3.99 */
    ck_assert(!py_version_hex_valid(0));
    ck_assert(!py_version_hex_valid(0x020718f0));      /* Python 2 */
    ck_assert(!py_version_hex_valid(0x040000f0));
    ck_assert(!py_version_hex_valid(0x036400f0));      /* minor 100 */
    ck_assert(!py_version_hex_valid(0x030b02e0));      /* level E */
    ck_assert(!py_version_hex_valid(0x030b0200));      /* level 0 */
    ck_assert(!py_version_hex_valid(0x030b02f1));      /* final with a serial */
    ck_assert(!py_version_hex_valid(0x1030b02f0ull));  /* high bits of an unsigned long */
    ck_assert(!py_version_hex_valid(0x0720b7f0));      /* "7.32.183" garbage (py-spy#845) */
    ck_assert(!py_version_hex_valid(0xffffffffull));
}
END_TEST

static uint32_t parsed(const char *s)
{
    uint32_t hex = 0xdeadbeef;
    ck_assert_msg(py_version_parse(s, &hex), "should parse: \"%s\"", s);
    return hex;
}

START_TEST(parse_good)
{
    ck_assert_uint_eq(parsed("3.11.2"), 0x030b02f0);
    ck_assert_uint_eq(parsed("3.8.18"), 0x030812f0);
    ck_assert_uint_eq(parsed("3.14.10"), 0x030e0af0);
    ck_assert_uint_eq(parsed("3.11.2+"), 0x030b02f0);
    ck_assert_uint_eq(parsed("3.13.0a1"), 0x030d00a1);
    ck_assert_uint_eq(parsed("3.13.0a1+"), 0x030d00a1);
    ck_assert_uint_eq(parsed("3.12.0b4"), 0x030c00b4);
    ck_assert_uint_eq(parsed("3.12.0rc3"), 0x030c00c3);
    ck_assert_uint_eq(parsed("3.12.0c1"), 0x030c00c1);
    ck_assert_uint_eq(parsed("3.14.0a0"), 0x030e00a0);
    ck_assert_uint_eq(parsed("3.0.0"), 0x030000f0);
    ck_assert_uint_eq(parsed("3.99.255"), 0x0363fff0);
    ck_assert_uint_eq(parsed("3.10.0rc15"), 0x030a00cf);
}
END_TEST

START_TEST(parse_bad)
{
    static const char *const bad[] = {
        "", "3", "3.", "3.11", "3.11.", "3.11.2.", "3.11.2.1", "2.7.18", "4.0.0", "03.11.2",
        "3.011.2", "3.11.02", "3.100.0", "3.11.256", "3.11.2++", "3.11.2 ", " 3.11.2",
        "3.11.2\n", "3.11.2a", "3.11.2rc", "3.11.2a16", "3.11.2d1", "3.11.2r1", "3.11.2ab1",
        "3.11.2-1", "3.11.2+a1", "Python 3.11.2", "3.11.2 (main, Mar 13 2023)", "v3.11.2",
        "3.x.2", "3..2", "3.11.99999999999999999999", "-3.11.2", "3.11.2rc1x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t hex = 0x1234;
        ck_assert_msg(!py_version_parse(bad[i], &hex), "should not parse: \"%s\"", bad[i]);
        ck_assert_uint_eq(hex, 0x1234);
    }
}
END_TEST

struct name_case {
    const char *path;
    int minor; /* -1: must not parse */
    bool debug, ft;
};

static const struct name_case names[] = {
    {"/usr/bin/python3.11", 11, false, false},
    {"python3.8", 8, false, false},
    {"/usr/bin/python3.13d", 13, true, false},
    {"/usr/bin/python3.13t", 13, false, true},
    {"/usr/bin/python3.13td", 13, true, true},
    {"/usr/bin/python3.7m", 7, false, false},
    {"/usr/bin/python3.7dm", 7, true, false},
    {"/usr/bin/python3.11-dbg", 11, true, false},
    {"/var/cache/pyheap/sid-root/usr/bin/python3.14", 14, false, false},
    {"/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0", 12, false, false},
    {"/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", 11, false, false},
    {"/usr/lib/libpython3.13d.so", 13, true, false},
    {"/usr/lib/libpython3.13t.so.1.0", 13, false, true},
    {"/usr/lib/libpython3.7m.so.1.0", 7, false, false},
    {"libpython3.10.so", 10, false, false},
    {"/usr/bin/python3", -1, false, false},
    {"/usr/bin/python", -1, false, false},
    {"/usr/bin/python2.7", -1, false, false},
    {"/usr/lib/libpython2.7.so.1.0", -1, false, false},
    {"/usr/lib/libpython3.so", -1, false, false},
    {"/usr/bin/python3.11-config", -1, false, false},
    {"/usr/bin/python3.11.bak", -1, false, false},
    {"/usr/bin/python3.13dd", -1, false, false},
    {"/usr/bin/python3.x", -1, false, false},
    {"/usr/bin/python3.", -1, false, false},
    {"/usr/bin/python3.011", -1, false, false},
    {"/usr/bin/python3.100", -1, false, false},
    {"/usr/lib/libpython3.11.sox", -1, false, false},
    {"/usr/lib/libpython3.11.a", -1, false, false},
    {"/usr/lib/libpython3.11", -1, false, false},
    {"/usr/bin/uwsgi", -1, false, false},
    {"/usr/bin/mypython3.11", -1, false, false},
    {"/opt/python3.11/bin/uwsgi", -1, false, false}, /* only the basename counts */
    {"", -1, false, false},
};

START_TEST(from_name)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct name_case *c = &names[i];
        struct py_name_version v;
        bool ok = py_version_from_name(c->path, &v);
        ck_assert_msg(ok == (c->minor >= 0), "%s: parsed=%d", c->path, ok);
        if (!ok)
            continue;
        ck_assert_msg((int)v.minor == c->minor, "%s: minor %u", c->path, v.minor);
        ck_assert_msg(v.debug == c->debug, "%s: debug", c->path);
        ck_assert_msg(v.free_threaded == c->ft, "%s: free-threaded", c->path);
    }
}
END_TEST

/* Build a .rodata-like image from strings (each NUL-terminated). */
static size_t image(char *buf, size_t cap, const char *const *s, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(s[i]) + 1;
        ck_assert(len + k <= cap);
        memcpy(buf + len, s[i], k);
        len += k;
    }
    return len;
}

static bool scan(const char *const *s, size_t n, int name_minor, uint32_t *hex)
{
    char buf[4096];
    size_t len = image(buf, sizeof buf, s, n);
    return py_version_scan_strings(buf, len, name_minor, hex);
}

#define SCAN(name_minor, hex, ...)                                                              \
    scan((const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) /       \
                                                 sizeof(const char *),                         \
         name_minor, hex)

START_TEST(scan_strings)
{
    uint32_t h = 0;
    /* Debian 3.11: the literal, and another library's "3.2.0". */
    ck_assert(SCAN(11, &h, "%.80s (%.80s) %.80s", "3.11.2", "3.2.0", "xyz"));
    ck_assert_uint_eq(h, 0x030b02f0);
    ck_assert(SCAN(-1, &h, "3.2.0", "3.11.2", "abc"));
    ck_assert_uint_eq(h, 0x030b02f0);
    /* Repeated literal: still one value. */
    ck_assert(SCAN(14, &h, "3.14.10", "x", "3.14.10"));
    ck_assert_uint_eq(h, 0x030e0af0);
    /* Two plausible values and no name to decide: unknown. */
    ck_assert(!SCAN(-1, &h, "3.11.2", "3.12.0"));
    /* The name decides between them. */
    ck_assert(SCAN(12, &h, "3.11.2", "3.12.0"));
    ck_assert_uint_eq(h, 0x030c00f0);
    /* Same minor twice with different patch levels: unknown. */
    ck_assert(!SCAN(11, &h, "3.11.2", "3.11.4"));
    /* Name disagrees with the only literal: nothing. */
    ck_assert(!SCAN(10, &h, "3.11.2"));
    /* Tail-merged into a prefix (pyenv), only with a name. */
    ck_assert(SCAN(12, &h, "EXEC_PREFIX", "/root/.pyenv/versions/3.12.1", "V"));
    ck_assert_uint_eq(h, 0x030c01f0);
    ck_assert(!SCAN(-1, &h, "/root/.pyenv/versions/3.12.1"));
    ck_assert(SCAN(8, &h, "/tmp/build/Python-3.8.18"));
    ck_assert_uint_eq(h, 0x030812f0);
    /* A whole-string literal beats a tail. */
    ck_assert(SCAN(11, &h, "/opt/python-3.11.9", "3.11.2"));
    ck_assert_uint_eq(h, 0x030b02f0);
    /* Inside text, not at a '/' or '-' boundary: ignored. */
    ck_assert(!SCAN(11, &h, "Python 3.11.2 (main)", "version 3.11.2"));
    ck_assert(!SCAN(11, &h, "sqlite 3.40.1", "3.40.1"));
    /* Empty and unterminated input. */
    ck_assert(!py_version_scan_strings("", 0, 11, &h));
    ck_assert(!py_version_scan_strings("3.11.2", 6, 11, &h)); /* no NUL: not a string */
    ck_assert(py_version_scan_strings("\0\0003.11.2\0", 10, 11, &h));
}
END_TEST

START_TEST(scan_random)
{
    /* Random bytes: never crashes (ASan watches), never reads past len. */
    char *buf = malloc(1 << 16);
    ck_assert_ptr_nonnull(buf);
    unsigned seed = 12345;
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < (1 << 16); i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) % 16;
            buf[i] = r < 4 ? '\0' : r < 8 ? '.' : r < 9 ? '3' : (char)('0' + r % 10);
        }
        uint32_t h;
        if (py_version_scan_strings(buf, 1 << 16, round % 2 ? 11 : -1, &h))
            ck_assert(py_version_hex_valid(h));
    }
    free(buf);
}
END_TEST

static const char *fmt(uint32_t hex, bool minor_only)
{
    static char buf[32];
    py_version_format(hex, minor_only, buf, sizeof buf);
    return buf;
}

/* CPythons before 3.7 (no _PyRuntime), told by their version literal or their file name. */
START_TEST(old_versions)
{
    char v[16];
    static const char ro[] = "usage\0" "2.7.18\0" "%.80s (%.80s) %.80s\0" "2.7.18\0";
    ck_assert(py_old_version_scan(ro, sizeof ro, v, sizeof v));
    ck_assert_str_eq(v, "2.7.18");
    static const char two[] = "3.6.15\0" "3.5.1\0";
    ck_assert(!py_old_version_scan(two, sizeof two, v, sizeof v)); /* two versions: neither */
    static const char new_[] = "3.11.2\0" "1.2.3\0";
    ck_assert(!py_old_version_scan(new_, sizeof new_, v, sizeof v)); /* not old, not CPython */
    ck_assert(py_old_version_from_name("/usr/bin/python2.7", v, sizeof v));
    ck_assert_str_eq(v, "2.7");
    ck_assert(py_old_version_from_name("/opt/lib/libpython3.6m.so.1.0", v, sizeof v));
    ck_assert_str_eq(v, "3.6");
    ck_assert(!py_old_version_from_name("/usr/bin/python3.11", v, sizeof v));
    ck_assert(!py_old_version_from_name("/usr/bin/perl5.36", v, sizeof v));
}
END_TEST

START_TEST(format)
{
    ck_assert_str_eq(fmt(0x030b02f0, false), "3.11.2");
    ck_assert_str_eq(fmt(0x030b02f0, true), "3.11");
    ck_assert_str_eq(fmt(0x030d00a1, false), "3.13.0a1");
    ck_assert_str_eq(fmt(0x030c00b4, false), "3.12.0b4");
    ck_assert_str_eq(fmt(0x030c00c3, false), "3.12.0rc3");
    ck_assert_str_eq(fmt(0x030710f0, false), "3.7.16");
    /* Round trip through the parser. */
    static const char *const rt[] = {"3.8.0", "3.14.10", "3.13.0a1", "3.12.0b2", "3.12.0rc1"};
    for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++)
        ck_assert_str_eq(fmt(parsed(rt[i]), false), rt[i]);
    char small[4];
    ck_assert_int_eq(py_version_format(0x030b02f0, false, small, sizeof small), 6);
    ck_assert_str_eq(small, "3.1");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("parsers");
    tcase_add_test(tc, hex_valid);
    tcase_add_test(tc, parse_good);
    tcase_add_test(tc, parse_bad);
    tcase_add_test(tc, from_name);
    tcase_add_test(tc, scan_strings);
    tcase_add_test(tc, scan_random);
    tcase_add_test(tc, old_versions);
    tcase_add_test(tc, format);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
