/*
 * image.c: see image.h.
 *
 * The image is a sorted array of pieces covering the captured mappings exactly: each piece is
 * COPIED (its bytes are in `data` at `off`), ZERO (anonymous pages never touched: the target
 * reads zeros there too) or LIVE (a page whose copy faulted, or a mapping too large and sparse
 * to copy: read from the live process, as the walk would have). Addresses outside every piece
 * belong to read-only mappings and go to the live backend. Pieces never overlap; adjacent ones
 * may touch.
 *
 * Which anonymous pages exist comes from /proc/PID/pagemap (present or swapped bits: readable
 * by whoever may ptrace the target), consulted only for mappings with resident pages according
 * to /proc/PID/smaps and not mostly empty. Without pagemap, a small mapping is copied whole
 * (process_vm_readv reads untouched pages as zeros through the shared zero page: the same
 * result, only bigger); a large one is read live.
 */
#include "lib/proc/image.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum piece_kind { COPIED, ZERO, LIVE };

struct piece {
    uint64_t start, len;
    uint64_t off; /* COPIED: offset in data */
    enum piece_kind kind;
};

struct ph_image {
    struct piece *pieces;
    size_t npieces, cap;
    unsigned char *data; /* mmap'd, data_cap bytes, of which the copy uses data_len */
    uint64_t data_len, data_cap;
    uint64_t planned;    /* bytes the last plan needed, within the bound or not */
    atomic_uint_fast64_t populated; /* ph_image_populate: the next offset a thread takes */
    uint64_t to_populate;           /* bytes of data to populate before the freeze */
    struct ph_prefaulter *unmapper; /* unmaps data when the image is freed; NULL: free does */
    struct ph_image_stats st;
};

enum { PAGE = 4096, PAGEMAP_BATCH = 8192, MAX_PIECES = 1 << 24, MAX_SMAPS_LINES = 1 << 26 };
/* Mappings up to this size are copied whole when their pages cannot be told apart. */
#define SMALL_MAPPING ((uint64_t)256 << 20)
/* A larger anonymous mapping is scanned page by page only if at least 1/SPARSE_RATIO of it is
 * resident: reading pagemap costs 8 bytes a page, terabytes of reserved space would take
 * minutes. */
#define SPARSE_RATIO 64
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)

/* Room for `more` pieces beyond those there are. */
static bool reserve_pieces(struct ph_image *img, size_t more)
{
    if (img->npieces + more <= img->cap)
        return true;
    size_t cap = img->cap ? img->cap * 2 : 256;
    struct piece *p = cap > MAX_PIECES ? NULL : realloc(img->pieces, cap * sizeof *p);
    if (!p)
        return false;
    img->pieces = p;
    img->cap = cap;
    return true;
}

static bool add_piece(struct ph_image *img, uint64_t start, uint64_t len, enum piece_kind kind)
{
    if (!len)
        return true;
    struct piece *last = img->npieces ? &img->pieces[img->npieces - 1] : NULL;
    if (last && last->kind == kind && last->start + last->len == start && kind != LIVE) {
        last->len += len; /* COPIED offsets are assigned in address order: still contiguous */
        return true;
    }
    if (!reserve_pieces(img, 1))
        return false;
    img->pieces[img->npieces++] = (struct piece){start, len, 0, kind};
    return true;
}

static bool is_anonymous(const struct ph_map *m)
{
    return m->path[0] == '\0' || strcmp(m->path, "[heap]") == 0 ||
           strncmp(m->path, "[stack", 6) == 0 || strncmp(m->path, "[anon:", 6) == 0;
}

/* The pieces of one anonymous mapping: present or swapped pages COPIED, the rest ZERO.
 * 1 when done; 0 when pagemap cannot be read (nothing added: the caller copies the whole
 * mapping); -1 out of memory. */
static int anonymous_pieces(struct ph_image *img, int pagemap, const struct ph_map *m)
{
    uint64_t entries[PAGEMAP_BATCH];
    size_t first = img->npieces; /* to undo: the count, and the length of the piece before */
    uint64_t before_len = first ? img->pieces[first - 1].len : 0;
    for (uint64_t page = m->start; page < m->end;) {
        uint64_t n = (m->end - page) / PAGE;
        if (n > PAGEMAP_BATCH)
            n = PAGEMAP_BATCH;
        ssize_t r = pread(pagemap, entries, n * 8, (off_t)(page / PAGE * 8));
        img->st.syscalls++;
        if (r != (ssize_t)(n * 8)) {
            img->npieces = first;
            if (first)
                img->pieces[first - 1].len = before_len;
            return 0;
        }
        for (uint64_t i = 0; i < n; i++, page += PAGE) {
            bool in_memory = entries[i] & (PM_PRESENT | PM_SWAPPED);
            if (!add_piece(img, page, PAGE, in_memory ? COPIED : ZERO))
                return -1;
        }
    }
    return 1;
}

static bool wanted(const struct ph_map *m)
{
    return (m->perms & PH_MAP_R) && (m->perms & PH_MAP_W) && m->end > m->start &&
           strcmp(m->path, "[vvar]") != 0 && strcmp(m->path, "[vsyscall]") != 0;
}

/* Resident (or swapped) bytes per mapping, from /proc/PID/smaps, by start address. */
struct resident {
    uint64_t *start, *bytes;
    size_t n, cap;
};

static bool resident_add(struct resident *r, uint64_t start)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        uint64_t *s = realloc(r->start, cap * sizeof *s);
        if (!s)
            return false;
        r->start = s;
        uint64_t *b = realloc(r->bytes, cap * sizeof *b);
        if (!b)
            return false;
        r->bytes = b;
        r->cap = cap;
    }
    r->start[r->n] = start;
    r->bytes[r->n++] = 0;
    return true;
}

/* False when smaps cannot be read: every mapping then counts as wholly resident. */
static bool resident_read(pid_t pid, struct resident *r)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool ok = true;
    for (size_t lines = 0; ok && lines < MAX_SMAPS_LINES && fgets(line, sizeof line, f); lines++) {
        unsigned long long v;
        char *end;
        if (sscanf(line, "Rss: %llu kB", &v) == 1 || sscanf(line, "Swap: %llu kB", &v) == 1) {
            if (r->n)
                r->bytes[r->n - 1] += (uint64_t)v << 10;
        } else if ((v = strtoull(line, &end, 16), end != line && *end == '-')) {
            ok = resident_add(r, v);
        }
    }
    fclose(f);
    return ok && r->n;
}

/* Resident bytes of the mapping starting at start; its size when not known. */
static uint64_t resident_of(const struct resident *r, const struct ph_map *m)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->start[mid] < m->start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n && r->start[lo] == m->start ? r->bytes[lo] : m->end - m->start;
}

/* The pieces of one writable mapping. Untouched anonymous memory is zeros; a mapping far larger
 * than what is resident in it (reserved address space, a sanitizer's shadow) and not small is
 * left to the live process, as is any large one whose pages cannot be told apart. */
static int map_pieces(struct ph_image *img, int pagemap, const struct ph_map *m, uint64_t resident)
{
    uint64_t size = m->end - m->start;
    bool anon = is_anonymous(m), small = size <= SMALL_MAPPING;
    if (anon && resident == 0)
        return add_piece(img, m->start, size, ZERO) ? 1 : -1;
    if (anon && pagemap >= 0 && (small || size / SPARSE_RATIO <= resident)) {
        int done = anonymous_pieces(img, pagemap, m);
        if (done != 0)
            return done;
    }
    return add_piece(img, m->start, size, small ? COPIED : LIVE) ? 1 : -1;
}

/* Decide the pieces of every writable mapping and where each copied one goes in `data`. */
static ph_status plan(struct ph_image *img, pid_t pid, const struct ph_maps *maps,
                      uint64_t max_bytes, struct ph_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
    int pagemap = open(path, O_RDONLY | O_CLOEXEC);
    struct resident res = {0};
    bool have_res = resident_read(pid, &res);
    bool ok = true;
    for (size_t i = 0; ok && i < maps->n; i++) {
        const struct ph_map *m = &maps->v[i];
        if (!wanted(m))
            continue;
        img->st.mappings++;
        ok = map_pieces(img, pagemap, m, have_res ? resident_of(&res, m) : m->end - m->start) > 0;
    }
    if (pagemap >= 0)
        close(pagemap);
    free(res.start);
    free(res.bytes);
    if (!ok)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory planning the copy of the target");
    uint64_t off = 0;
    for (size_t i = 0; i < img->npieces; i++) {
        struct piece *p = &img->pieces[i];
        if (p->kind == COPIED) {
            p->off = off;
            off += p->len;
        } else {
            img->st.absent_bytes += p->len;
        }
    }
    img->planned = off;
    if (off > max_bytes)
        return ph_fail(err, PH_ERR_INTERNAL,
                       "--copy needs %llu MiB for the target's writable memory, more than "
                       "the %llu MiB allowed; run without --copy",
                       (unsigned long long)(off >> 20), (unsigned long long)(max_bytes >> 20));
    img->data_len = off;
    return PH_OK;
}

/* A piece at index at (room reserved), after which the later ones move up one. */
static void insert_piece(struct ph_image *img, size_t at, struct piece p)
{
    memmove(&img->pieces[at + 1], &img->pieces[at], (img->npieces - at) * sizeof *img->pieces);
    img->pieces[at] = p;
    img->npieces++;
}

/* Piece i faulted `done` bytes in: the page that faults is left to the live process (the walk
 * meets the same fault), the bytes before it stay copied, and the bytes after it become a piece
 * of their own, copied when the caller's loop reaches it. A guard page (glibc 2.41+ puts thread
 * stack guards inside the stack's rw mapping with MADV_GUARD_INSTALL, and pagemap reports them
 * as swapped) must not send megabytes of heap merged into the same piece to be read after the
 * thaw, when they have changed. Out of memory, the whole piece is read live, as before. */
static void split_at_fault(struct ph_image *img, size_t i, uint64_t done)
{
    if (!reserve_pieces(img, 2)) {
        img->pieces[i].kind = LIVE;
        return;
    }
    struct piece *p = &img->pieces[i];
    uint64_t bad = done / PAGE * PAGE; /* pieces start on a page */
    uint64_t bad_len = p->len - bad < PAGE ? p->len - bad : PAGE;
    struct piece hole = {p->start + bad, bad_len, 0, LIVE};
    struct piece rest = {hole.start + bad_len, p->len - bad - bad_len, p->off + bad + bad_len,
                         COPIED};
    img->st.bytes += bad;
    if (bad == 0) {
        *p = hole;
    } else {
        p->len = bad;
        insert_piece(img, ++i, hole);
    }
    if (rest.len)
        insert_piece(img, i + 1, rest);
}

/* Copy piece i through the live backend; a page that faults is split off (split_at_fault). */
static ph_status copy_piece(struct ph_image *img, size_t i, struct ph_mem_backend *live,
                            struct ph_error *err)
{
    const struct piece p = img->pieces[i];
    for (uint64_t done = 0; done < p.len;) {
        long r = live->read(live->ctx, p.start + done, img->data + p.off + done, p.len - done);
        img->st.syscalls++;
        if (r == -ESRCH)
            return ph_fail(err, PH_ERR_TARGET_EXITED, "the target exited while it was copied");
        if (r == -EPERM)
            return ph_fail(err, PH_ERR_PERMISSION, "reading the target's memory was refused");
        if (r <= 0) {
            split_at_fault(img, i, done);
            return PH_OK;
        }
        done += (uint64_t)r;
    }
    img->st.bytes += p.len;
    return PH_OK;
}

/* Room for len bytes in data, the first `populate` of them faulted in: page faults on our side
 * are most of a copy's cost, and paying them before the freeze shortens the stop. */
static ph_status ensure_room(struct ph_image *img, uint64_t len, uint64_t populate,
                             struct ph_error *err)
{
    if (len <= img->data_cap)
        return PH_OK;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    void *d = img->data ? mremap(img->data, img->data_cap, len, MREMAP_MAYMOVE)
                        : mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (d == MAP_FAILED)
        return ph_fail(err, PH_ERR_INTERNAL, "cannot allocate %llu MiB for the copy of the target",
                       (unsigned long long)(len >> 20));
    img->data = d;
    img->data_cap = len;
    if (populate) /* best effort, as bigmem.c: else the pages fault in during the copy */
        madvise(d, populate < len ? populate : len, MADV_POPULATE_WRITE);
    return PH_OK;
}

static void reset(struct ph_image *img)
{
    img->npieces = 0;
    img->data_len = 0;
    memset(&img->st, 0, sizeof img->st);
}

ph_status ph_image_plan(pid_t pid, const struct ph_maps *maps, uint64_t max_bytes,
                        struct ph_image **out, uint64_t *needed, struct ph_error *err)
{
    *out = NULL;
    struct ph_image *img = calloc(1, sizeof *img);
    if (!img)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    ph_status st = plan(img, pid, maps, max_bytes, err);
    if (needed)
        *needed = img->planned;
    /* Headroom for what the target allocates before the freeze, address space only: populated
     * it was 12 bytes of peak memory per object of the heap (beyond it, the copy grows). */
    uint64_t want = img->data_len + img->data_len / 8 + ((uint64_t)16 << 20);
    if (st == PH_OK)
        st = ensure_room(img, want < max_bytes ? want : max_bytes, 0, err);
    if (st != PH_OK) {
        ph_image_free(img);
        return st;
    }
    img->to_populate = img->data_len;
    atomic_init(&img->populated, 0);
    reset(img);
    *out = img;
    return PH_OK;
}

void ph_image_populate(struct ph_image *img)
{
    const uint64_t step = (uint64_t)8 << 20;
    for (;;) { /* best effort, as bigmem.c: else the pages fault in during the copy */
        uint64_t off = atomic_fetch_add(&img->populated, step);
        if (off >= img->to_populate)
            return;
        uint64_t n = img->to_populate - off < step ? img->to_populate - off : step;
        madvise(img->data + off, n, MADV_POPULATE_WRITE);
    }
}

ph_status ph_image_reserve(pid_t pid, const struct ph_maps *maps, uint64_t max_bytes,
                           struct ph_image **out, uint64_t *needed, struct ph_error *err)
{
    ph_status st = ph_image_plan(pid, maps, max_bytes, out, needed, err);
    if (st == PH_OK)
        ph_image_populate(*out);
    return st;
}

ph_status ph_image_capture(struct ph_image *img, pid_t pid, const struct ph_maps *maps,
                           uint64_t max_bytes, uint64_t *needed, struct ph_error *err)
{
    struct ph_mem_backend live = {0};
    reset(img);
    ph_status st = plan(img, pid, maps, max_bytes, err);
    if (needed)
        *needed = img->planned;
    if (st == PH_OK)
        st = ensure_room(img, img->data_len, 0, err);
    if (st == PH_OK)
        st = ph_mem_backend_pid(pid, &live, err);
    for (size_t i = 0; st == PH_OK && i < img->npieces; i++)
        if (img->pieces[i].kind == COPIED)
            st = copy_piece(img, i, &live, err);
    if (live.close)
        live.close(live.ctx);
    return st;
}

/* A number from the first line of a file starting with `key` (key may be ""), or false. */
static bool read_number(const char *path, const char *key, unsigned long long *v)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    char line[256];
    bool found = false;
    size_t klen = strlen(key);
    while (!found && fgets(line, sizeof line, f))
        found = strncmp(line, key, klen) == 0 && sscanf(line + klen, " %llu", v) == 1;
    fclose(f);
    return found;
}

/* Room under a memory cgroup's limit: files `limit` and `usage` in dir; UINT64_MAX when the
 * limit is "max" or absent. */
static uint64_t room_in(const char *dir, const char *limit, const char *usage)
{
    char path[700];
    unsigned long long max, cur;
    snprintf(path, sizeof path, "%s/%s", dir, limit);
    if (!read_number(path, "", &max))
        return UINT64_MAX;
    snprintf(path, sizeof path, "%s/%s", dir, usage);
    if (!read_number(path, "", &cur))
        return UINT64_MAX;
    return max > cur ? (uint64_t)(max - cur) : 0;
}

/* Room left under this process's memory cgroup (cgroup v2, or v1's memory controller), or
 * UINT64_MAX without a limit: in a container MemAvailable is the host's. */
static uint64_t cgroup_room(void)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return UINT64_MAX;
    char line[512], dir[600];
    uint64_t room = UINT64_MAX;
    for (int lines = 0; lines < 64 && fgets(line, sizeof line, f); lines++) {
        line[strcspn(line, "\n")] = '\0';
        char *ctrl = strchr(line, ':'), *path = ctrl ? strchr(ctrl + 1, ':') : NULL;
        if (!path)
            continue;
        *path++ = '\0';
        uint64_t r = UINT64_MAX;
        if (strcmp(ctrl + 1, "") == 0) { /* v2: "0::/path" */
            snprintf(dir, sizeof dir, "/sys/fs/cgroup%s", path);
            r = room_in(dir, "memory.max", "memory.current");
        } else if (strstr(ctrl + 1, "memory")) { /* v1: "4:memory:/path" */
            snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory%s", path);
            r = room_in(dir, "memory.limit_in_bytes", "memory.usage_in_bytes");
        }
        room = r < room ? r : room;
    }
    fclose(f);
    return room;
}

uint64_t ph_image_available(void)
{
    unsigned long long kib;
    uint64_t avail = read_number("/proc/meminfo", "MemAvailable:", &kib) && kib < (UINT64_MAX >> 10)
                     ? (uint64_t)kib << 10 : UINT64_MAX;
    uint64_t room = cgroup_room();
    return room < avail ? room : avail;
}

uint64_t ph_image_default_limit(void)
{
    uint64_t avail = ph_image_available();
    return avail == UINT64_MAX ? avail : avail / 4 * 3;
}

void ph_image_unmap_by(struct ph_image *img, struct ph_prefaulter *pf)
{
    img->unmapper = pf;
}

struct ph_image_stats ph_image_get_stats(const struct ph_image *img)
{
    return img->st;
}

void ph_image_free(struct ph_image *img)
{
    if (!img)
        return;
    if (img->data)
        ph_prefaulter_unmap(img->unmapper, img->data, img->data_cap);
    free(img->pieces);
    free(img);
}

/* ---- the backend ---- */

struct image_backend {
    struct ph_image *img;
    struct ph_mem_backend live;
};

/* The piece holding addr, or the index of the first piece after it (*inside false). */
static size_t find_piece(const struct ph_image *img, uint64_t addr, bool *inside)
{
    size_t lo = 0, hi = img->npieces;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->pieces[mid].start + img->pieces[mid].len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    *inside = lo < img->npieces && img->pieces[lo].start <= addr;
    return lo;
}

/* One step of a read: at most `want` bytes at addr from a single source. */
static long read_step(struct image_backend *b, uint64_t addr, unsigned char *buf, uint64_t want)
{
    const struct ph_image *img = b->img;
    bool inside;
    size_t i = find_piece(img, addr, &inside);
    if (!inside) { /* a read-only mapping, or unmapped: live, up to the next piece */
        if (i < img->npieces && img->pieces[i].start - addr < want)
            want = img->pieces[i].start - addr;
        return b->live.read(b->live.ctx, addr, buf, want);
    }
    const struct piece *p = &img->pieces[i];
    uint64_t n = p->start + p->len - addr;
    if (n > want)
        n = want;
    switch (p->kind) {
    case COPIED: memcpy(buf, img->data + p->off + (addr - p->start), n); return (long)n;
    case ZERO: memset(buf, 0, n); return (long)n;
    case LIVE: break;
    }
    return b->live.read(b->live.ctx, addr, buf, n);
}

static long image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        uint64_t want = len - got;
        long r = read_step(ctx, addr + got, (unsigned char *)buf + got, want);
        if (r <= 0)
            return got ? (long)got : r;
        got += (size_t)r;
    }
    return (long)got;
}

/* The copied piece holding addr, read in place (ph_mem_backend.span). */
static const unsigned char *image_span(void *ctx, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
    const struct image_backend *b = ctx;
    bool inside;
    size_t i = find_piece(b->img, addr, &inside);
    if (!inside || b->img->pieces[i].kind != COPIED)
        return NULL;
    const struct piece *p = &b->img->pieces[i];
    *lo = p->start;
    *hi = p->start + p->len;
    return b->img->data + p->off;
}

static void image_close(void *ctx)
{
    struct image_backend *b = ctx;
    ph_image_free(b->img);
    if (b->live.close)
        b->live.close(b->live.ctx);
    free(b);
}

void ph_image_backend(struct ph_image *img, struct ph_mem_backend live, struct ph_mem_backend *out)
{
    struct image_backend *b = malloc(sizeof *b);
    if (!b) { /* no room for the wrapper: read live, as without --copy */
        ph_image_free(img);
        *out = live;
        return;
    }
    b->img = img;
    b->live = live;
    *out = (struct ph_mem_backend){b, image_read, image_close, image_span};
}
