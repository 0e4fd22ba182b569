/*
 * test_mem.c: ph_mem against a real child process (both backends: process_vm_readv and the
 * /proc/PID/mem fallback forced by PYHEAP_NO_PROCESS_VM_READV), and against a fake in-process
 * backend that records what the cache asks for.
 *
 * The child maps regions whose every byte is a known function of its address (pat), sends their
 * addresses over a pipe and obeys one-byte commands; nothing sleeps to synchronise.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/proc/maps.h"
#include "lib/proc/mem.h"
#include "tests/unit/child.h"
#include "tests/unit/check_run.h"

#define KB ((uint64_t)1024)
#define CHUNK (64 * KB)
#define PAGE (4 * KB)
#define BIG_LEN (4 * 1024 * KB)

static uint8_t pat(uint64_t a)
{
    return (uint8_t)((a * 0x9E3779B97F4A7C15ull) >> 56) | 1; /* never 0: strings are explicit */
}

struct layout {
    uint64_t big;   /* BIG_LEN bytes of pattern */
    uint64_t guard; /* 5 pages: rw, none, rw, none, rw */
    uint64_t hole;  /* 16 pages on a 64 KiB boundary; page 2 is unmapped on command 'u' */
};

static const char edge_str[] = "end of page";

/* ---- the child ---- */

static void fill(void *p, size_t len)
{
    unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        b[i] = pat((uint64_t)(uintptr_t)(b + i));
}

static void *map_rw(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(3);
    return p;
}

static struct layout child_build(void)
{
    struct layout l;
    char *big = map_rw(BIG_LEN);
    fill(big, BIG_LEN);
    char *g = map_rw(5 * PAGE);
    fill(g, 5 * PAGE);
    if (mprotect(g + PAGE, PAGE, PROT_NONE) || mprotect(g + 3 * PAGE, PAGE, PROT_NONE))
        _exit(4);
    /* Page 0 ends with a terminated string; page 2 ends with bytes that run into page 3. */
    memcpy(g + PAGE - sizeof edge_str, edge_str, sizeof edge_str);
    memset(g + 3 * PAGE - 64, 'x', 64);
    char *h = map_rw(3 * CHUNK);
    uint64_t aligned = ((uint64_t)(uintptr_t)h + CHUNK - 1) & ~(CHUNK - 1);
    fill((void *)(uintptr_t)aligned, CHUNK);
    l.big = (uint64_t)(uintptr_t)big;
    l.guard = (uint64_t)(uintptr_t)g;
    l.hole = aligned;
    return l;
}

static void child_main(int cmd_fd, int reply_fd)
{
    struct layout l = child_build();
    if (write(reply_fd, &l, sizeof l) != sizeof l)
        _exit(5);
    char c;
    while (read(cmd_fd, &c, 1) == 1) {
        if (c == 'u')
            munmap((void *)(uintptr_t)(l.hole + 2 * PAGE), PAGE);
        else if (c == 'w')
            ((volatile char *)(uintptr_t)l.big)[100]++;
        else if (c == 'q')
            _exit(0);
        if (write(reply_fd, "k", 1) != 1)
            _exit(6);
    }
    _exit(0);
}

/* ---- fixture ---- */

static struct test_child kid = {-1, -1, -1};
static struct layout L;
static struct ph_maps maps;
static struct ph_mem *mem;

static void start_child(void)
{
    test_child_start(&kid, child_main, &L, sizeof L);
}

static void stop_child(void)
{
    ph_mem_close(mem);
    mem = NULL;
    ph_maps_free(&maps);
    test_child_stop(&kid);
}

static void command(char c)
{
    test_child_command(&kid, c);
}

/* _i selects the backend: 0 process_vm_readv, 1 /proc/PID/mem. */
static void open_mem(int fallback, size_t cache_bytes)
{
    struct ph_error err = {0};
    if (fallback)
        setenv("PYHEAP_NO_PROCESS_VM_READV", "1", 1);
    else
        unsetenv("PYHEAP_NO_PROCESS_VM_READV");
    ck_assert_int_eq(ph_maps_read(kid.pid, &maps, &err), PH_OK);
    struct ph_mem_backend be;
    ck_assert_int_eq(ph_mem_backend_pid(kid.pid, &be, &err), PH_OK);
    ck_assert_int_eq(ph_mem_open(be, &maps, cache_bytes, &mem, &err), PH_OK);
}

static void check_range(uint64_t addr, size_t len)
{
    unsigned char *buf = malloc(len ? len : 1);
    struct ph_error err = {0};
    ph_status st = ph_mem_read(mem, addr, buf, len, &err);
    ck_assert_msg(st == PH_OK, "read %zu at %#llx: %s", len, (unsigned long long)addr, err.msg);
    size_t bad = len; /* one assertion per read: each passing ck_assert costs an IPC write */
    for (size_t i = 0; i < len && bad == len; i++)
        if (buf[i] != pat(addr + i))
            bad = i;
    free(buf);
    ck_assert_msg(bad == len, "byte %zu of read at %#llx", bad, (unsigned long long)addr);
}

static ph_status try_read(uint64_t addr, size_t len, struct ph_error *err)
{
    unsigned char buf[64];
    ck_assert_uint_le(len, sizeof buf);
    return ph_mem_read(mem, addr, buf, len, err);
}

/* ---- tests on the child ---- */

START_TEST(hits_and_misses)
{
    open_mem(_i, 0);
    uint64_t v, want = 0;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_mem_u64(mem, L.big + 8, &v, &err), PH_OK);
    for (int i = 7; i >= 0; i--)
        want = want << 8 | pat(L.big + 8 + (uint64_t)i);
    ck_assert_uint_eq(v, want);
    struct ph_mem_stats s = ph_mem_get_stats(mem);
    ck_assert_uint_eq(s.reads, 1);
    ck_assert_uint_eq(s.misses, 1);
    ck_assert_uint_eq(s.syscalls, 1);
    check_range(L.big + 16, 32); /* same chunk: the last-chunk path */
    check_range(L.big + 3 * CHUNK + 5, 8);
    check_range(L.big + 24, 8); /* back to the first chunk: through the hash */
    s = ph_mem_get_stats(mem);
    ck_assert_uint_eq(s.reads, 4);
    ck_assert_uint_eq(s.hits, 2);
    ck_assert_uint_eq(s.misses, 2);
    ck_assert_uint_eq(s.syscalls, 2);
    ck_assert_uint_le(s.bytes_fetched, 2 * CHUNK);
    ck_assert_uint_eq(s.failed_chunks, 0);
}
END_TEST

START_TEST(random_small_reads)
{
    open_mem(_i, 0);
    srand(42);
    for (int i = 0; i < 50000; i++) {
        uint64_t off = (uint64_t)rand() % (BIG_LEN - 64);
        check_range(L.big + off, 1 + (size_t)(rand() % 64));
    }
    struct ph_mem_stats s = ph_mem_get_stats(mem);
    /* 4 MiB touches at most 65 windows: each is fetched once. */
    ck_assert_uint_le(s.syscalls, BIG_LEN / CHUNK + 1);
    ck_assert_uint_eq(s.reads, 50000);
    ck_assert_uint_ge(s.hits, 50000 - (BIG_LEN / CHUNK + 1));
}
END_TEST

START_TEST(straddling_reads)
{
    open_mem(_i, 0);
    uint64_t b = (L.big + CHUNK) & ~(CHUNK - 1); /* a window boundary inside big */
    check_range(b - 8, 16);
    check_range(b - 1, 2);
    check_range(b - 3 * KB, 200 * KB);          /* several chunks, piecewise */
    check_range(L.big + 12345, 1024 * KB + 77); /* bulk read, one backend call */
    check_range(L.big + BIG_LEN - 8, 8);        /* last bytes of the mapping */
    check_range(L.big, 0);
    struct ph_mem_stats s = ph_mem_get_stats(mem);
    ck_assert_uint_eq(s.failed_chunks, 0);
}
END_TEST

START_TEST(guard_page)
{
    open_mem(_i, 0);
    struct ph_error err = {0};
    check_range(L.guard + PAGE - 256, 64);
    check_range(L.guard + 2 * PAGE, 64);
    uint64_t calls = ph_mem_get_stats(mem).syscalls;
    ck_assert_int_eq(try_read(L.guard + PAGE, 8, &err), PH_ERR_INCONSISTENT);
    ck_assert_msg(strstr(err.msg, "cannot read 8 bytes at 0x"), "%s", err.msg);
    ck_assert_int_eq(try_read(L.guard + PAGE - 8, 16, &err), PH_ERR_INCONSISTENT);
    ck_assert_int_eq(try_read(L.guard + 2 * PAGE - 1, 2, &err), PH_ERR_INCONSISTENT);
    ck_assert_uint_eq(ph_mem_get_stats(mem).syscalls, calls); /* refused without a syscall */
    ck_assert(!ph_mem_readable(mem, L.guard + PAGE, 1));
    ck_assert(ph_mem_readable(mem, L.guard, PAGE));
    ck_assert(!ph_mem_readable(mem, L.guard, PAGE + 1));
    ck_assert_int_eq(try_read(0, 8, &err), PH_ERR_INCONSISTENT);
    ck_assert_int_eq(try_read(UINT64_MAX - 3, 8, &err), PH_ERR_INCONSISTENT);
    ck_assert_uint_eq(ph_mem_get_stats(mem).syscalls, calls);
}
END_TEST

/* The maps say a page is there but it is gone: the chunk read comes back short, the chunk is
 * marked failed, and reads fall back to their exact range. */
START_TEST(stale_maps_fall_back)
{
    open_mem(_i, 0);
    command('u');
    struct ph_error err = {0};
    check_range(L.hole + 16, 8);
    struct ph_mem_stats s = ph_mem_get_stats(mem);
    ck_assert_uint_eq(s.failed_chunks, 1);
    ck_assert_int_eq(try_read(L.hole + 2 * PAGE + 8, 8, &err), PH_ERR_INCONSISTENT);
    ck_assert_msg(strstr(err.msg, "cannot read 8 bytes at"), "%s", err.msg);
    ck_assert_int_eq(try_read(L.hole + 2 * PAGE - 4, 8, &err), PH_ERR_INCONSISTENT);
    check_range(L.hole + 3 * PAGE, 64);
    check_range(L.hole + 2 * PAGE - 64, 64);
    ck_assert_uint_eq(ph_mem_get_stats(mem).failed_chunks, 1); /* remembered, not refetched */
}
END_TEST

START_TEST(small_cache_evicts)
{
    open_mem(_i, 1); /* rounds up to the minimum of 4 chunks */
    for (int sweep = 0; sweep < 2; sweep++)
        for (uint64_t off = 0; off < BIG_LEN; off += PAGE)
            check_range(L.big + off + 100, 8);
    struct ph_mem_stats s = ph_mem_get_stats(mem);
    ck_assert_uint_ge(s.misses, 2 * (BIG_LEN / CHUNK));
    srand(7);
    for (int i = 0; i < 20000; i++) {
        uint64_t off = (uint64_t)rand() % (6 * CHUNK); /* working set just above the cache */
        check_range(L.big + off, 1 + (size_t)(rand() % 32));
    }
}
END_TEST

START_TEST(invalidate_sees_writes)
{
    open_mem(_i, 0);
    unsigned char before, after;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_mem_read(mem, L.big + 100, &before, 1, &err), PH_OK);
    command('w');
    ck_assert_int_eq(ph_mem_read(mem, L.big + 100, &after, 1, &err), PH_OK);
    ck_assert_uint_eq(after, before); /* cached */
    ph_mem_invalidate(mem);
    ck_assert_int_eq(ph_mem_read(mem, L.big + 100, &after, 1, &err), PH_OK);
    ck_assert_uint_eq(after, (unsigned char)(before + 1));
}
END_TEST

START_TEST(target_exited)
{
    open_mem(_i, 0);
    struct ph_error err = {0};
    check_range(L.big, 8);
    char c = 'q';
    ck_assert_int_eq(write(kid.cmd_w, &c, 1), 1);
    siginfo_t si; /* wait for the zombie without reaping it */
    ck_assert_int_eq(waitid(P_PID, (id_t)kid.pid, &si, WEXITED | WNOWAIT), 0);
    ck_assert_int_eq(try_read(L.big, 8, &err), PH_OK); /* still cached */
    ph_mem_invalidate(mem);
    ck_assert_int_eq(try_read(L.big, 8, &err), PH_ERR_TARGET_EXITED);
    ck_assert_int_eq(waitpid(kid.pid, NULL, 0), kid.pid);
    kid.pid = -1;
    ck_assert_int_eq(try_read(L.big + CHUNK, 8, &err), PH_ERR_TARGET_EXITED);
    ck_assert_msg(strstr(err.msg, "exited"), "%s", err.msg);
}
END_TEST

START_TEST(cstr)
{
    open_mem(_i, 0);
    char buf[64];
    struct ph_error err = {0};
    uint64_t at = L.guard + PAGE - sizeof edge_str; /* NUL is the page's last byte */
    ck_assert_int_eq(ph_mem_cstr(mem, at, buf, sizeof buf, &err), PH_OK);
    ck_assert_str_eq(buf, edge_str);
    ck_assert_int_eq(ph_mem_cstr(mem, at, buf, 4, &err), PH_OK);
    ck_assert_str_eq(buf, "end");
    ck_assert_int_eq(ph_mem_cstr(mem, at, buf, 1, &err), PH_OK);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(ph_mem_cstr(mem, at, buf, 0, &err), PH_ERR_INTERNAL);
    ck_assert_int_eq(ph_mem_cstr(mem, L.guard + 3 * PAGE - 64, buf, sizeof buf, &err), PH_OK);
    ck_assert_uint_eq(strlen(buf), 63); /* truncated, not an error */
    char big[256];
    ck_assert_int_eq(ph_mem_cstr(mem, L.guard + 3 * PAGE - 64, big, sizeof big, &err),
                     PH_ERR_INCONSISTENT); /* runs into the PROT_NONE page */
    ck_assert_str_eq(big, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}
END_TEST

START_TEST(no_such_pid_for_proc_mem)
{
    struct ph_error err = {0};
    struct ph_mem_backend be;
    setenv("PYHEAP_NO_PROCESS_VM_READV", "1", 1);
    ck_assert_int_eq(ph_mem_backend_pid(-7, &be, &err), PH_ERR_NO_PROCESS);
}
END_TEST

/* ---- a fake backend: what does the cache ask for? ---- */

struct fake {
    uint64_t calls, last_addr, last_len, closed;
    uint64_t bad_lo, bad_hi; /* reads stop short at this range */
    long fail_with;          /* when non-zero, every read returns it */
};

static long fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct fake *f = ctx;
    f->calls++;
    f->last_addr = addr;
    f->last_len = len;
    if (f->fail_with)
        return f->fail_with;
    unsigned char *b = buf;
    for (size_t i = 0; i < len; i++) {
        if (addr + i >= f->bad_lo && addr + i < f->bad_hi)
            return i ? (long)i : -EFAULT;
        b[i] = pat(addr + i);
    }
    return (long)len;
}

static void fake_close(void *ctx)
{
    ((struct fake *)ctx)->closed++;
}

static void open_fake(struct fake *f, const char *maps_text)
{
    struct ph_error err = {0};
    if (maps_text)
        ck_assert_int_eq(ph_maps_parse(maps_text, strlen(maps_text), &maps, &err), PH_OK);
    struct ph_mem_backend be = {f, fake_read, fake_close};
    ck_assert_int_eq(ph_mem_open(be, maps_text ? &maps : NULL, 0, &mem, &err), PH_OK);
}

START_TEST(fake_clipping)
{
    struct fake f = {0};
    open_fake(&f, "10000-18000 r--p 00000000 00:00 0\n"
                  "1c000-30000 r--p 00000000 00:00 0\n"
                  "30000-31000 rw-p 00000000 00:00 0\n");
    check_range(0x10010, 8);
    ck_assert_uint_eq(f.last_addr, 0x10000);
    ck_assert_uint_eq(f.last_len, 0x8000); /* clipped to the mapping's end */
    check_range(0x1c010, 8);
    ck_assert_uint_eq(f.last_addr, 0x1c000); /* same window, second mapping: own slot */
    ck_assert_uint_eq(f.last_len, 0x4000);
    for (int i = 0; i < 100; i++) {
        check_range(0x10020, 8);
        check_range(0x1c020, 8);
    }
    ck_assert_uint_eq(f.calls, 2);
    check_range(0x2fff8, 16); /* straddles a window and a mapping boundary */
    ck_assert_uint_eq(f.calls, 4);
    ck_assert_uint_eq(f.last_addr, 0x30000);
    ck_assert_uint_eq(f.last_len, 0x1000);
    ph_mem_close(mem);
    mem = NULL;
    ck_assert_uint_eq(f.closed, 1); /* the ph_mem owned the backend */
}
END_TEST

START_TEST(fake_errors)
{
    struct fake f = {0};
    struct ph_error err = {0};
    open_fake(&f, NULL); /* no maps: whole windows, every address tried */
    check_range(0x123456, 8);
    ck_assert_uint_eq(f.last_addr, 0x120000);
    ck_assert_uint_eq(f.last_len, CHUNK);
    f.bad_lo = 0x200100;
    f.bad_hi = 0x200108;
    check_range(0x200000, 0x100); /* short chunk => exact read */
    ck_assert_uint_eq(ph_mem_get_stats(mem).failed_chunks, 1);
    ck_assert_int_eq(try_read(0x200104, 8, &err), PH_ERR_INCONSISTENT);
    ph_mem_invalidate(mem);
    f.fail_with = -ESRCH;
    ck_assert_int_eq(try_read(0x300000, 8, &err), PH_ERR_TARGET_EXITED);
    f.fail_with = -EPERM;
    ck_assert_int_eq(try_read(0x300000, 8, &err), PH_ERR_PERMISSION);
    ck_assert_msg(strstr(err.msg, "CAP_SYS_PTRACE"), "%s", err.msg);
    f.fail_with = 0;
    check_range(0x300000, 8); /* errors left nothing half-cached */
}
END_TEST

/* Many windows through 4 slots: exercises clock eviction and backward-shift deletion. */
START_TEST(fake_eviction_churn)
{
    struct fake f = {0};
    struct ph_error err = {0};
    struct ph_mem_backend be = {&f, fake_read, fake_close};
    ck_assert_int_eq(ph_mem_open(be, NULL, 4 * CHUNK, &mem, &err), PH_OK);
    srand(3);
    for (int i = 0; i < 20000; i++) { /* 12 windows over 4 slots: half the reads evict */
        uint64_t addr = ((uint64_t)(rand() % 12) << 16) + (uint64_t)(rand() % 65536);
        check_range(addr, 1 + (size_t)(rand() % 16));
    }
    struct ph_mem_stats s = ph_mem_get_stats(mem);
    ck_assert_uint_eq(s.syscalls, f.calls);
    ck_assert_uint_gt(s.hits, 0);
}
END_TEST

static void fake_teardown(void)
{
    ph_mem_close(mem);
    mem = NULL;
    ph_maps_free(&maps);
}

int main(void)
{
    Suite *s = suite_create("mem");
    TCase *tc = tcase_create("child");
    tcase_add_checked_fixture(tc, start_child, stop_child);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, hits_and_misses, 0, 2);
    tcase_add_loop_test(tc, random_small_reads, 0, 2);
    tcase_add_loop_test(tc, straddling_reads, 0, 2);
    tcase_add_loop_test(tc, guard_page, 0, 2);
    tcase_add_loop_test(tc, stale_maps_fall_back, 0, 2);
    tcase_add_loop_test(tc, small_cache_evicts, 0, 2);
    tcase_add_loop_test(tc, invalidate_sees_writes, 0, 2);
    tcase_add_loop_test(tc, target_exited, 0, 2);
    tcase_add_loop_test(tc, cstr, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("fake");
    tcase_add_checked_fixture(tc, NULL, fake_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, no_such_pid_for_proc_mem);
    tcase_add_test(tc, fake_clipping);
    tcase_add_test(tc, fake_errors);
    tcase_add_test(tc, fake_eviction_churn);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
