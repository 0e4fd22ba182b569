/*
 * mem.c: the target's memory through a backend and a bounded chunk cache.
 *
 * A system call costs microseconds whatever its size up to a page, and copying runs at GB/s, so
 * the heap walk's tens of millions of small reads must mostly be memcpy from local copies. The
 * cache holds 64 KiB chunks aligned on 64 KiB, each clipped to the mapping that holds it, so a
 * chunk never spans an unmapped hole. A slot's key is the start of its clipped range (`lo`), which
 * is unique: two mappings sharing one aligned window get two slots with different lo.
 *
 * Invariants:
 * - A slot in the hash table is VALID (data holds [lo, hi) exactly as fetched) or FAILED (the
 *   fetch came back short; reads in [lo, hi) go to the backend for their exact range). FREE slots
 *   are never in the table.
 * - mem->last is NULL or a VALID slot: the hit path trusts it without checking state.
 * - The table is open addressing with linear probing and backward-shift deletion, at most half
 *   full (twice as many buckets as slots), so probes stay short and always meet an empty bucket.
 * - Total chunk memory never exceeds nslots * PH_CHUNK; clock (second chance) picks victims.
 * ph_mem_open takes ownership of the backend: ph_mem_close, or a failing ph_mem_open, closes it.
 * Cached data is only as fresh as the last ph_mem_invalidate; callers invalidate after a thaw or
 * after refreshing the maps (slot ranges were clipped with the old ones).
 */
#include "lib/proc/mem.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/proc/proc.h"

#define PH_CHUNK ((uint64_t)64 << 10)
#define DEFAULT_CACHE ((size_t)8 << 20) /* measured: 8 to 32 MiB read the same on a 4M-object heap */
enum { MIN_SLOTS = 4, BIG_READ_CHUNKS = 4, MAX_EINTR = 1000, PAGE = 4096 };
static const uint32_t EMPTY = UINT32_MAX;

enum slot_state { FREE, VALID, FAILED };

struct slot {
    uint64_t lo, hi;     /* cached range; hi > lo unless FREE */
    unsigned char *data; /* PH_CHUNK bytes, allocated on first use */
    uint8_t state;
    uint8_t ref;         /* clock bit: used since the hand last passed */
};

struct ph_mem {
    struct ph_mem_backend be;
    const struct ph_maps *maps; /* borrowed; NULL: no knowledge, chunks are whole windows */
    struct slot *slots;
    size_t nslots, hand;
    uint32_t *table;            /* slot index per bucket, EMPTY for none */
    size_t tmask;
    unsigned tbits;
    struct slot *last;
    /* The backend's runs the last direct reads came from (see ph_mem_backend.span), the most
     * recent first: reads there are one memcpy, with no chunk fetched and copied first. Two,
     * because a walk alternates between a table (a dict's entries) and the objects it holds.
     * A run is empty when lo == hi. */
    struct run {
        const unsigned char *data;
        uint64_t lo, hi;
    } runs[2];
    struct ph_mem_stats st;
};

/* ---- the live-process backend ---- */

struct pid_backend {
    pid_t pid;
    int fd; /* /proc/PID/mem, or -1 while process_vm_readv is used */
};

static int open_proc_mem(struct pid_backend *b)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)b->pid);
    b->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (b->fd >= 0)
        return 0;
    return errno == ENOENT ? -ESRCH : (errno == EACCES ? -EPERM : -errno);
}

/* pread of /proc/PID/mem: EIO marks an unmapped page, 0 bytes a process whose memory is gone. */
static long file_read(struct pid_backend *b, uint64_t addr, void *buf, size_t len)
{
    size_t got = 0;
    for (int eintr = 0; got < len && addr + got <= (uint64_t)INT64_MAX;) {
        ssize_t r = pread(b->fd, (char *)buf + got, len - got, (off_t)(addr + got));
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR && ++eintr < MAX_EINTR)
            continue;
        if (got > 0)
            break;
        if (r == 0 || errno == ESRCH)
            return ph_proc_alive(b->pid) ? -EFAULT : -ESRCH;
        return errno == EIO ? -EFAULT : -errno;
    }
    return (long)got;
}

static long pid_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct pid_backend *b = ctx;
    if (b->fd < 0) {
        struct iovec local = {buf, len};
        struct iovec remote = {(void *)(uintptr_t)addr, len};
        ssize_t r = process_vm_readv(b->pid, &local, 1, &remote, 1, 0);
        if (r >= 0)
            return (long)r;
        if (errno != ENOSYS)
            return -errno;
        int e = open_proc_mem(b); /* old kernel or a sandbox without the syscall */
        if (e < 0)
            return e;
    }
    return file_read(b, addr, buf, len);
}

static void pid_close(void *ctx)
{
    struct pid_backend *b = ctx;
    if (b->fd >= 0)
        close(b->fd);
    free(b);
}

ph_status ph_mem_backend_pid(pid_t pid, struct ph_mem_backend *out, struct ph_error *err)
{
    struct pid_backend *b = malloc(sizeof *b);
    if (!b)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    b->pid = pid;
    b->fd = -1;
    const char *force = getenv("PYHEAP_NO_PROCESS_VM_READV");
    if (force && *force) {
        int e = open_proc_mem(b);
        if (e < 0) {
            free(b);
            if (e == -ESRCH)
                return ph_fail(err, PH_ERR_NO_PROCESS, "no such process: %d", (int)pid);
            return ph_fail(err, e == -EPERM ? PH_ERR_PERMISSION : PH_ERR_IO,
                           "cannot open /proc/%d/mem: %s", (int)pid, strerror(-e));
        }
    }
    *out = (struct ph_mem_backend){b, pid_read, pid_close};
    return PH_OK;
}

/* ---- the hash from lo to slot ---- */

static size_t bucket_of(const struct ph_mem *mem, uint64_t key)
{
    return (size_t)(((key >> 12) * 0x9E3779B97F4A7C15ull) >> (64 - mem->tbits));
}

static struct slot *table_get(const struct ph_mem *mem, uint64_t key)
{
    for (size_t i = bucket_of(mem, key), n = 0; n <= mem->tmask; i = (i + 1) & mem->tmask, n++) {
        uint32_t e = mem->table[i];
        if (e == EMPTY)
            return NULL;
        if (mem->slots[e].lo == key)
            return &mem->slots[e];
    }
    return NULL;
}

static void table_put(struct ph_mem *mem, struct slot *s)
{
    assert(!table_get(mem, s->lo));
    size_t i = bucket_of(mem, s->lo);
    for (size_t n = 0; mem->table[i] != EMPTY; i = (i + 1) & mem->tmask, n++)
        assert(n <= mem->tmask);
    mem->table[i] = (uint32_t)(s - mem->slots);
}

/* Backward-shift deletion: pull later members of the probe run into the hole, so lookups can
 * keep stopping at the first empty bucket. */
static void table_del(struct ph_mem *mem, struct slot *s)
{
    uint32_t idx = (uint32_t)(s - mem->slots);
    size_t i = bucket_of(mem, s->lo), n = 0;
    for (; mem->table[i] != idx; i = (i + 1) & mem->tmask, n++)
        assert(n <= mem->tmask && mem->table[i] != EMPTY);
    for (size_t j = i, k = 0; k <= mem->tmask; k++) {
        mem->table[i] = EMPTY;
        for (;;) { /* ends: the table is at most half full, an empty bucket comes */
            j = (j + 1) & mem->tmask;
            if (mem->table[j] == EMPTY)
                return;
            size_t home = bucket_of(mem, mem->slots[mem->table[j]].lo);
            /* Leave it when its home lies cyclically in (i, j]: the hole does not cut its run. */
            bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        mem->table[i] = mem->table[j];
        i = j;
    }
}

/* ---- slots ---- */

static void evict(struct ph_mem *mem, struct slot *s)
{
    if (s->state == FREE)
        return;
    table_del(mem, s);
    if (mem->last == s)
        mem->last = NULL;
    s->state = FREE;
    s->lo = s->hi = 0;
}

/* Clock: a used slot gets a second chance (its bit cleared) before it is taken. */
static struct slot *victim(struct ph_mem *mem)
{
    for (size_t n = 0; n <= 2 * mem->nslots; n++) {
        struct slot *s = &mem->slots[mem->hand];
        mem->hand = (mem->hand + 1) % mem->nslots;
        if (s->state != FREE && s->ref) {
            s->ref = 0;
            continue;
        }
        evict(mem, s);
        return s;
    }
    assert(!"clock found no victim in two sweeps");
    return &mem->slots[0];
}

static ph_status backend_error(long r, uint64_t addr, size_t len, struct ph_error *err)
{
    if (r == -ESRCH)
        return ph_fail(err, PH_ERR_TARGET_EXITED, "the target process exited (reading %zu bytes "
                       "at 0x%" PRIx64 ")", len, addr);
    if (r == -EPERM || r == -EACCES)
        return ph_fail(err, PH_ERR_PERMISSION, "permission denied reading %zu bytes at 0x%"
                       PRIx64 ": run as root, or grant CAP_SYS_PTRACE (docker: --cap-add "
                       "SYS_PTRACE)", len, addr);
    return ph_fail(err, PH_ERR_INCONSISTENT, "cannot read %zu bytes at 0x%" PRIx64 "%s%s", len,
                   addr, r < 0 ? ": " : "", r < 0 ? strerror((int)-r) : "");
}

/* Fill a slot with [lo, hi). A short read marks it FAILED rather than failing the caller. */
static ph_status fetch(struct ph_mem *mem, uint64_t lo, uint64_t hi, struct slot **out,
                       struct ph_error *err)
{
    assert(lo < hi && hi - lo <= PH_CHUNK);
    struct slot *s = victim(mem);
    if (!s->data && !(s->data = malloc(PH_CHUNK)))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory for the read cache");
    long r = mem->be.read(mem->be.ctx, lo, s->data, (size_t)(hi - lo));
    mem->st.syscalls++;
    if (r == -ESRCH || r == -EPERM || r == -EACCES)
        return backend_error(r, lo, (size_t)(hi - lo), err);
    s->lo = lo;
    s->hi = hi;
    s->ref = 1;
    if (r == (long)(hi - lo)) {
        s->state = VALID;
        mem->st.bytes_fetched += (uint64_t)r;
    } else {
        s->state = FAILED;
        mem->st.failed_chunks++;
    }
    table_put(mem, s);
    *out = s;
    return PH_OK;
}

/* The window [lo, hi) of the chunk that holds addr, clipped to addr's mapping. */
static ph_status window(const struct ph_mem *mem, uint64_t addr, uint64_t *lo, uint64_t *hi,
                        struct ph_error *err)
{
    uint64_t base = addr & ~(PH_CHUNK - 1);
    *lo = base;
    *hi = base > UINT64_MAX - PH_CHUNK ? UINT64_MAX : base + PH_CHUNK;
    if (!mem->maps)
        return PH_OK;
    const struct ph_map *m = ph_maps_find(mem->maps, addr);
    if (!m || !(m->perms & PH_MAP_R))
        return ph_fail(err, PH_ERR_INCONSISTENT, "cannot read at 0x%" PRIx64 ": not in a "
                       "readable mapping", addr);
    *lo = m->start > *lo ? m->start : *lo;
    *hi = m->end < *hi ? m->end : *hi;
    return PH_OK;
}

/* The slot (VALID or FAILED) whose range holds addr, fetching it if needed. */
static ph_status locate(struct ph_mem *mem, uint64_t addr, struct slot **out, bool *fetched,
                        struct ph_error *err)
{
    struct slot *s = table_get(mem, addr & ~(PH_CHUNK - 1)); /* common case: lo is the window */
    if (s && addr >= s->lo && addr < s->hi)
        goto found;
    uint64_t lo, hi;
    ph_status st = window(mem, addr, &lo, &hi, err);
    if (st != PH_OK)
        return st;
    s = table_get(mem, lo);
    if (s && addr >= s->lo && addr < s->hi)
        goto found;
    if (s)
        evict(mem, s); /* same lo, other extent: maps changed without an invalidate */
    *fetched = true;
    return fetch(mem, lo, hi, out, err);
found:
    s->ref = 1;
    *out = s;
    return PH_OK;
}

/* ---- reads ---- */

static ph_status direct(struct ph_mem *mem, uint64_t addr, void *buf, size_t len,
                        uint64_t whole_addr, size_t whole_len, struct ph_error *err)
{
    long r = mem->be.read(mem->be.ctx, addr, buf, len);
    mem->st.syscalls++;
    if (r == (long)len)
        return PH_OK;
    return backend_error(r < 0 ? r : 0, whole_addr, whole_len, err);
}

static ph_status read_pieces(struct ph_mem *mem, uint64_t addr, unsigned char *buf, size_t len,
                             bool *fetched, struct ph_error *err)
{
    uint64_t a = addr;
    size_t left = len;
    for (size_t turns = 0; left > 0; turns++) {
        assert(turns <= len); /* every turn moves at least one byte */
        struct slot *s = NULL;
        ph_status st = locate(mem, a, &s, fetched, err);
        if (st != PH_OK)
            return ph_wrap(err, "reading %zu bytes at 0x%" PRIx64, len, addr);
        size_t n = s->hi - a < left ? (size_t)(s->hi - a) : left;
        if (s->state == VALID) {
            memcpy(buf, s->data + (a - s->lo), n);
            mem->last = s;
        } else if ((st = direct(mem, a, buf, n, addr, len, err)) != PH_OK) {
            return st;
        }
        a += n;
        buf += n;
        left -= n;
    }
    return PH_OK;
}

/* [addr, addr + len) lies in [lo, hi). One unsigned compare covers addr < lo too (it wraps to a
 * huge offset); an empty range (lo == hi) covers nothing. */
static inline bool covers(uint64_t lo, uint64_t hi, uint64_t addr, size_t len)
{
    return addr - lo < hi - lo && len <= hi - addr;
}

static ph_status read_slow(struct ph_mem *mem, uint64_t addr, void *buf, size_t len,
                           struct ph_error *err)
{
    if (addr > UINT64_MAX - len || (mem->maps && !ph_maps_readable(mem->maps, addr, len)))
        return ph_fail(err, PH_ERR_INCONSISTENT, "cannot read %zu bytes at 0x%" PRIx64 ": not "
                       "in readable mappings", len, addr);
    uint64_t lo, hi;
    const unsigned char *run = mem->be.span ? mem->be.span(mem->be.ctx, addr, &lo, &hi) : NULL;
    if (run && covers(lo, hi, addr, len)) {
        mem->runs[1] = mem->runs[0];
        mem->runs[0] = (struct run){run, lo, hi};
        memcpy(buf, run + (addr - lo), len);
        mem->st.hits++;
        return PH_OK;
    }
    if (len >= BIG_READ_CHUNKS * PH_CHUNK) { /* bulk: one copy, and do not flush the cache */
        mem->st.misses++;
        return direct(mem, addr, buf, len, addr, len, err);
    }
    bool fetched = false;
    ph_status st = read_pieces(mem, addr, buf, len, &fetched, err);
    if (fetched)
        mem->st.misses++;
    else
        mem->st.hits++;
    return st;
}

const void *ph_mem_peek(const struct ph_mem *mem, uint64_t addr, size_t len)
{
    for (int k = 0; k < 2; k++) {
        const struct run *r = &mem->runs[k];
        if (covers(r->lo, r->hi, addr, len))
            return r->data + (addr - r->lo);
    }
    return NULL;
}

void ph_mem_prefetch(const struct ph_mem *mem, uint64_t addr)
{
    const void *p = ph_mem_peek(mem, addr, 1);
    if (p)
        __builtin_prefetch(p);
}

ph_status ph_mem_read(struct ph_mem *mem, uint64_t addr, void *buf, size_t len,
                      struct ph_error *err)
{
    mem->st.reads++;
    /* Hot paths: the backend's run or the chunk of the previous read. */
    const struct run *r = &mem->runs[0];
    if (covers(r->lo, r->hi, addr, len)) {
        memcpy(buf, r->data + (addr - r->lo), len);
        mem->st.hits++;
        return PH_OK;
    }
    r = &mem->runs[1];
    if (covers(r->lo, r->hi, addr, len)) {
        struct run hit = *r;
        mem->runs[1] = mem->runs[0];
        mem->runs[0] = hit;
        memcpy(buf, hit.data + (addr - hit.lo), len);
        mem->st.hits++;
        return PH_OK;
    }
    struct slot *s = mem->last;
    if (s && covers(s->lo, s->hi, addr, len)) {
        memcpy(buf, s->data + (addr - s->lo), len);
        s->ref = 1;
        mem->st.hits++;
        return PH_OK;
    }
    if (len == 0)
        return PH_OK;
    return read_slow(mem, addr, buf, len, err);
}

ph_status ph_mem_u64(struct ph_mem *mem, uint64_t addr, uint64_t *out, struct ph_error *err)
{
    return ph_mem_read(mem, addr, out, sizeof *out, err);
}

/* Page by page, so a string that ends just before an unreadable page still reads. */
ph_status ph_mem_cstr(struct ph_mem *mem, uint64_t addr, char *buf, size_t max,
                      struct ph_error *err)
{
    if (max == 0)
        return ph_fail(err, PH_ERR_INTERNAL, "ph_mem_cstr: no room for the terminator");
    size_t got = 0;
    while (got < max - 1) {
        uint64_t a = addr + got;
        size_t n = PAGE - (size_t)(a % PAGE);
        if (n > max - 1 - got)
            n = max - 1 - got;
        ph_status st = ph_mem_read(mem, a, buf + got, n, err);
        if (st != PH_OK) {
            buf[got] = '\0';
            return ph_wrap(err, "reading a string at 0x%" PRIx64, addr);
        }
        if (memchr(buf + got, '\0', n))
            return PH_OK;
        got += n;
    }
    buf[max - 1] = '\0'; /* truncated: the caller's bound, not an error */
    return PH_OK;
}

bool ph_mem_readable(const struct ph_mem *mem, uint64_t addr, size_t len)
{
    for (int k = 0; k < 2; k++) {
        const struct run *r = &mem->runs[k];
        if (covers(r->lo, r->hi, addr, len))
            return true; /* a run of the backend lies in a readable mapping */
    }
    return !mem->maps || ph_maps_readable(mem->maps, addr, len);
}

void ph_mem_invalidate(struct ph_mem *mem)
{
    for (size_t i = 0; i < mem->nslots; i++) {
        mem->slots[i].state = FREE;
        mem->slots[i].lo = mem->slots[i].hi = 0;
        mem->slots[i].ref = 0;
    }
    for (size_t i = 0; i <= mem->tmask; i++)
        mem->table[i] = EMPTY;
    mem->last = NULL;
    memset(mem->runs, 0, sizeof mem->runs);
    mem->hand = 0;
}

struct ph_mem_stats ph_mem_get_stats(const struct ph_mem *mem)
{
    return mem->st;
}

ph_status ph_mem_open(struct ph_mem_backend backend, const struct ph_maps *maps,
                      size_t cache_bytes, struct ph_mem **out, struct ph_error *err)
{
    *out = NULL;
    size_t nslots = (cache_bytes ? cache_bytes : DEFAULT_CACHE) / PH_CHUNK;
    if (nslots < MIN_SLOTS)
        nslots = MIN_SLOTS;
    if (nslots > (size_t)1 << 24)
        nslots = (size_t)1 << 24; /* 1 TiB of cache: a bound for the uint32 table */
    unsigned tbits = 1;
    while (((size_t)1 << tbits) < 2 * nslots)
        tbits++;
    struct ph_mem *mem = calloc(1, sizeof *mem);
    if (!mem) {
        if (backend.close)
            backend.close(backend.ctx);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory for the read cache");
    }
    mem->be = backend;
    mem->maps = maps;
    mem->nslots = nslots;
    mem->tbits = tbits;
    mem->tmask = ((size_t)1 << tbits) - 1;
    mem->slots = calloc(nslots, sizeof *mem->slots);
    mem->table = malloc((mem->tmask + 1) * sizeof *mem->table);
    if (!mem->slots || !mem->table) {
        ph_mem_close(mem); /* closes the backend too */
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory for the read cache");
    }
    ph_mem_invalidate(mem);
    *out = mem;
    return PH_OK;
}

void ph_mem_close(struct ph_mem *mem)
{
    if (!mem)
        return;
    for (size_t i = 0; mem->slots && i < mem->nslots; i++)
        free(mem->slots[i].data);
    free(mem->slots);
    free(mem->table);
    if (mem->be.close)
        mem->be.close(mem->be.ctx);
    free(mem);
}
