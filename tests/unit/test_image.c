/*
 * test_image.c: ph_image (lib/proc/image.h) against a real child process.
 *
 * The child maps a writable region of which only some pages were ever touched, and a read-only
 * region, fills what it touched with a known function of the address (pat), sends the addresses
 * over a pipe and obeys one-byte commands ('w': write into the copied pages). The test copies
 * the child's memory, then changes or kills the child, and reads through the image backend.
 * Where the kernel has guard regions (6.13+), the page right after the lone touched one is a guard
 * (MADV_GUARD_INSTALL, as glibc 2.41+ puts in thread stacks): pagemap calls it swapped, reading
 * it faults, and the copy must keep the touched page before it copied all the same.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/proc/image.h"
#include "lib/proc/maps.h"
#include "lib/proc/mem.h"
#include "tests/unit/child.h"
#include "tests/unit/check_run.h"

#define PAGE 4096u
#define RW_PAGES 64u
#define TOUCHED 10u     /* pages 0..9 written */
#define LONE_PAGE 30u   /* and page 30 */
#define RO_PAGES 2u
#define GUARD_PAGE (LONE_PAGE + 1) /* right after a touched page: in the same piece of the copy */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 */
#endif

static uint8_t pat(uint64_t a)
{
    return (uint8_t)((a * 0x9E3779B97F4A7C15ull) >> 56) | 1; /* never 0: zeros are untouched */
}

struct layout {
    uint64_t rw, ro;
    int guard; /* 1: a guard page at GUARD_PAGE */
};

static void fill(unsigned char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        b[i] = pat((uint64_t)(uintptr_t)(b + i));
}

static void child_main(int cmd_fd, int reply_fd)
{
    unsigned char *rw = mmap(NULL, RW_PAGES * PAGE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *ro = mmap(NULL, RO_PAGES * PAGE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rw == MAP_FAILED || ro == MAP_FAILED)
        _exit(3);
    madvise(rw, RW_PAGES * PAGE, MADV_NOHUGEPAGE); /* a huge page would make all 64 present */
    fill(rw, TOUCHED * PAGE);
    fill(rw + LONE_PAGE * PAGE, PAGE);
    fill(ro, RO_PAGES * PAGE);
    if (mprotect(ro, RO_PAGES * PAGE, PROT_READ))
        _exit(4);
    int guard = madvise(rw + GUARD_PAGE * PAGE, PAGE, MADV_GUARD_INSTALL) == 0;
    struct layout l = {(uint64_t)(uintptr_t)rw, (uint64_t)(uintptr_t)ro, guard};
    if (write(reply_fd, &l, sizeof l) != sizeof l)
        _exit(5);
    char c;
    while (read(cmd_fd, &c, 1) == 1) {
        if (c == 'w') {
            memset(rw, 0, TOUCHED * PAGE);
            memset(rw + LONE_PAGE * PAGE, 0, PAGE);
        }
        if (write(reply_fd, "k", 1) != 1)
            _exit(6);
    }
    _exit(0);
}

static struct test_child kid = {-1, -1, -1};
static struct layout L;
static struct ph_maps maps;
static struct ph_mem *mem;

static void start_child(void)
{
    test_child_start(&kid, child_main, &L, sizeof L);
    struct ph_error err = {0};
    ck_assert_int_eq(ph_maps_read(kid.pid, &maps, &err), PH_OK);
}

static void stop_child(void)
{
    ph_mem_close(mem);
    mem = NULL;
    ph_maps_free(&maps);
    test_child_stop(&kid);
}

/* Copy the child's memory (no freeze: the child waits on its pipe) and read it through mem. */
static struct ph_image_stats capture(void)
{
    struct ph_error err = {0};
    struct ph_image *img;
    ck_assert_int_eq(ph_image_reserve(kid.pid, &maps, UINT64_MAX, &img, NULL, &err), PH_OK);
    ck_assert_msg(ph_image_capture(img, kid.pid, &maps, UINT64_MAX, NULL, &err) == PH_OK, "%s", err.msg);
    struct ph_image_stats st = ph_image_get_stats(img);
    struct ph_mem_backend live, be;
    ck_assert_int_eq(ph_mem_backend_pid(kid.pid, &live, &err), PH_OK);
    ph_image_backend(img, live, &be);
    ck_assert_int_eq(ph_mem_open(be, &maps, 0, &mem, &err), PH_OK);
    return st;
}

/* Bytes [addr, addr+len) read through mem: each equal to pat (want_pat) or to zero. */
static void expect(uint64_t addr, size_t len, bool want_pat)
{
    unsigned char *buf = malloc(len);
    struct ph_error err = {0};
    ck_assert_msg(ph_mem_read(mem, addr, buf, len, &err) == PH_OK, "%s", err.msg);
    size_t bad = len;
    for (size_t i = 0; i < len && bad == len; i++)
        if (buf[i] != (want_pat ? pat(addr + i) : 0))
            bad = i;
    free(buf);
    ck_assert_msg(bad == len, "byte %zu of %zu at %#llx", bad, len, (unsigned long long)addr);
}

START_TEST(copied_untouched_and_read_only)
{
    struct ph_image_stats st = capture();
    ck_assert_uint_ge(st.mappings, 1);
    ck_assert_uint_ge(st.absent_bytes, (RW_PAGES - TOUCHED - 1) * PAGE);
    test_child_command(&kid, 'w'); /* the live pages change; the copy must not */
    expect(L.rw, TOUCHED * PAGE, true);
    expect(L.rw + TOUCHED * PAGE, (LONE_PAGE - TOUCHED) * PAGE, false);
    expect(L.rw + LONE_PAGE * PAGE, PAGE, true);
    uint64_t after = LONE_PAGE + 1 + (unsigned)L.guard; /* a guard page faults: not read */
    expect(L.rw + after * PAGE, (RW_PAGES - after) * PAGE, false);
    expect(L.ro, RO_PAGES * PAGE, true);
}
END_TEST

/* One read across a copied page and the untouched page after it. */
START_TEST(read_across_pieces)
{
    capture();
    unsigned char buf[64];
    struct ph_error err = {0};
    uint64_t at = L.rw + TOUCHED * PAGE - 32;
    ck_assert_int_eq(ph_mem_read(mem, at, buf, sizeof buf, &err), PH_OK);
    for (size_t i = 0; i < 32; i++)
        ck_assert_uint_eq(buf[i], pat(at + i));
    for (size_t i = 32; i < sizeof buf; i++)
        ck_assert_uint_eq(buf[i], 0);
}
END_TEST

/* The copy outlives the process; what was left to the live process does not. */
START_TEST(after_exit)
{
    capture();
    test_child_kill(&kid);
    expect(L.rw, TOUCHED * PAGE, true);
    unsigned char buf[16];
    struct ph_error err = {0};
    ck_assert_int_ne(ph_mem_read(mem, L.ro, buf, sizeof buf, &err), PH_OK);
}
END_TEST

START_TEST(over_the_limit)
{
    struct ph_error err = {0};
    struct ph_image *img = NULL;
    uint64_t needed = 0;
    ck_assert_int_eq(ph_image_reserve(kid.pid, &maps, PAGE, &img, &needed, &err), PH_ERR_INTERNAL);
    ck_assert_ptr_null(img);
    ck_assert_ptr_nonnull(strstr(err.msg, "--copy needs"));
    ck_assert_uint_gt(needed, PAGE); /* the caller can tell "too big" from other failures */
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("child");
    tcase_add_checked_fixture(tc, start_child, stop_child);
    tcase_add_test(tc, copied_untouched_and_read_only);
    tcase_add_test(tc, read_across_pieces);
    tcase_add_test(tc, after_exit);
    tcase_add_test(tc, over_the_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ph_check_run(image_suite());
}
