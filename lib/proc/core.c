/*
 * core.c: see core.h. Parsed by hand from the ELF structures (elf.h), each read with pread and
 * bounded by the file's size, so a truncated or crafted core is refused or read in part, never
 * trusted. Invariants: segments are sorted by address and do not overlap; a segment's bytes in
 * the file lie inside the file; NT_FILE entries lie inside their note.
 */
#include "lib/proc/core.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/escape.h"

#define MAX_SEGMENTS (1u << 20)
#define MAX_NOTES_BYTES ((uint64_t)64 << 20)
#define MAX_FILES (1u << 20)

struct segment {
    uint64_t vaddr, memsz, offset, filesz;
    uint32_t flags; /* PF_R, PF_W, PF_X */
};

struct mapped_file {
    uint64_t start, end, offset; /* offset in the file, bytes */
    const char *path;            /* inside ph_core.names */
    int fd;                      /* opened on first need; -1 before, -2 when it cannot be */
};

struct ph_core {
    int fd;
    uint64_t size;
    long long mtime;
    char shown[256];             /* the core's name, escaped */
    struct segment *seg;
    size_t nseg;
    struct mapped_file *files;
    size_t nfiles;
    char *names;                 /* NT_FILE's file names, NUL-separated */
    int pid, uid;
    char fname[17];
    uint64_t entry;              /* AT_ENTRY: an address inside the executable */
};

static ph_status corrupt(const struct ph_core *c, struct ph_error *err, const char *what)
{
    return ph_fail(err, PH_ERR_CORRUPT_FILE, "%s is not a readable core file: %s", c->shown, what);
}

static bool read_at(const struct ph_core *c, uint64_t off, void *buf, size_t len)
{
    if (off > c->size || len > c->size - off)
        return false;
    size_t done = 0;
    while (done < len) {
        ssize_t k = pread(c->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        done += (size_t)k;
    }
    return true;
}

/* ---- program headers ---- */

static int cmp_segment(const void *a, const void *b)
{
    const struct segment *x = a, *y = b;
    return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static ph_status read_header(struct ph_core *c, Elf64_Ehdr *eh, uint64_t *phnum, struct ph_error *err)
{
    if (!read_at(c, 0, eh, sizeof *eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return corrupt(c, err, "no ELF header");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
        eh->e_type != ET_CORE || eh->e_machine != EM_X86_64)
        return ph_fail(err, PH_ERR_CORRUPT_FILE, "%s is an ELF file but not an x86-64 core file "
                       "(type %u, machine %u)", c->shown, eh->e_type, eh->e_machine);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return corrupt(c, err, "unexpected program header size");
    *phnum = eh->e_phnum;
    if (*phnum == PN_XNUM) { /* more than 65534: the count is in section 0's sh_info */
        Elf64_Shdr sh0;
        if (eh->e_shoff == 0 || !read_at(c, eh->e_shoff, &sh0, sizeof sh0))
            return corrupt(c, err, "PN_XNUM without section 0");
        *phnum = sh0.sh_info;
    }
    return *phnum <= MAX_SEGMENTS ? PH_OK : corrupt(c, err, "too many program headers");
}

/* A truncated core (a full disk, a size limit) keeps what it has: segments are clipped to it. */
static void add_load(struct ph_core *c, const Elf64_Phdr *ph)
{
    struct segment s = {ph->p_vaddr, ph->p_memsz, ph->p_offset, ph->p_filesz, ph->p_flags};
    if (s.memsz == 0 || s.vaddr + s.memsz < s.vaddr)
        return;
    if (s.filesz > s.memsz)
        s.filesz = s.memsz;
    if (s.offset > c->size)
        s.filesz = 0;
    else if (s.filesz > c->size - s.offset)
        s.filesz = c->size - s.offset;
    c->seg[c->nseg++] = s;
}

/* ---- notes ---- */

static void note_file(struct ph_core *c, const uint8_t *d, uint64_t n)
{
    if (n < 16 || c->files)
        return;
    uint64_t count, page;
    memcpy(&count, d, 8);
    memcpy(&page, d + 8, 8);
    if (count == 0 || count > MAX_FILES || count > (n - 16) / 24 || page == 0 || (page & (page - 1)))
        return;
    const char *names = (const char *)d + 16 + count * 24, *end = (const char *)d + n;
    c->names = malloc((size_t)(end - names) + 1);
    c->files = calloc(count, sizeof *c->files);
    if (!c->names || !c->files)
        return;
    memcpy(c->names, names, (size_t)(end - names));
    c->names[end - names] = '\0';
    const char *p = c->names, *stop = c->names + (end - names);
    for (uint64_t i = 0; i < count && p < stop; i++) {
        uint64_t e[3];
        memcpy(e, d + 16 + i * 24, sizeof e);
        if (e[1] > e[0] && e[2] <= UINT64_MAX / page)
            c->files[c->nfiles++] = (struct mapped_file){e[0], e[1], e[2] * page, p, -1};
        p += strlen(p) + 1;
    }
}

static void note_auxv(struct ph_core *c, const uint8_t *d, uint64_t n)
{
    for (uint64_t i = 0; i + 16 <= n; i += 16) {
        uint64_t type, value;
        memcpy(&type, d + i, 8);
        memcpy(&value, d + i + 8, 8);
        if (type == AT_ENTRY)
            c->entry = value;
    }
}

/* struct elf_prpsinfo on x86-64: pid at 24, uid at 16, pr_fname[16] at 40. */
static void note_prpsinfo(struct ph_core *c, const uint8_t *d, uint64_t n)
{
    if (n < 56)
        return;
    int32_t pid;
    uint32_t uid;
    memcpy(&pid, d + 24, 4);
    memcpy(&uid, d + 16, 4);
    c->pid = pid;
    c->uid = (int)uid;
    memcpy(c->fname, d + 40, 16);
    c->fname[16] = '\0';
}

static void walk_notes(struct ph_core *c, const uint8_t *d, uint64_t n)
{
    for (uint64_t o = 0; o + 12 <= n;) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, d + o, 4);
        memcpy(&descsz, d + o + 4, 4);
        memcpy(&type, d + o + 8, 4);
        uint64_t name_at = o + 12, desc_at = name_at + (((uint64_t)namesz + 3) & ~3ull);
        uint64_t next = desc_at + (((uint64_t)descsz + 3) & ~3ull);
        if (desc_at > n || descsz > n - desc_at || next > n)
            return;
        bool core = namesz == 5 && memcmp(d + name_at, "CORE", 5) == 0;
        if (core && type == NT_FILE)
            note_file(c, d + desc_at, descsz);
        else if (core && type == NT_AUXV)
            note_auxv(c, d + desc_at, descsz);
        else if (core && type == NT_PRPSINFO)
            note_prpsinfo(c, d + desc_at, descsz);
        o = next;
    }
}

static ph_status read_notes(struct ph_core *c, const Elf64_Phdr *ph, struct ph_error *err)
{
    if (ph->p_filesz == 0 || ph->p_filesz > MAX_NOTES_BYTES)
        return ph->p_filesz ? corrupt(c, err, "a note segment is too large") : PH_OK;
    uint8_t *d = malloc(ph->p_filesz);
    if (!d)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory reading %s", c->shown);
    if (!read_at(c, ph->p_offset, d, ph->p_filesz)) {
        free(d);
        return corrupt(c, err, "a note segment lies past the end of the file");
    }
    walk_notes(c, d, ph->p_filesz);
    free(d);
    return PH_OK;
}

static ph_status read_program_headers(struct ph_core *c, const Elf64_Ehdr *eh, uint64_t phnum,
                                      struct ph_error *err)
{
    c->seg = calloc(phnum + 1, sizeof *c->seg);
    if (!c->seg)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory reading %s", c->shown);
    for (uint64_t i = 0; i < phnum; i++) {
        Elf64_Phdr ph;
        if (!read_at(c, eh->e_phoff + i * sizeof ph, &ph, sizeof ph))
            return corrupt(c, err, "program headers past the end of the file");
        ph_status st = ph.p_type == PT_NOTE ? read_notes(c, &ph, err) : PH_OK;
        if (st != PH_OK)
            return st;
        if (ph.p_type == PT_LOAD)
            add_load(c, &ph);
    }
    qsort(c->seg, c->nseg, sizeof *c->seg, cmp_segment);
    for (size_t i = 1; i < c->nseg; i++)
        if (c->seg[i].vaddr < c->seg[i - 1].vaddr + c->seg[i - 1].memsz)
            return corrupt(c, err, "memory segments overlap");
    if (c->nseg == 0)
        return corrupt(c, err, "no memory segments");
    return c->pid > 0 ? PH_OK : corrupt(c, err, "no process information (NT_PRPSINFO)");
}

ph_status ph_core_open(const char *path, struct ph_core **out, struct ph_error *err)
{
    struct ph_core *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    ph_escape(path, strlen(path), c->shown, sizeof c->shown);
    c->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (c->fd < 0 || fstat(c->fd, &st) != 0) {
        ph_status s = ph_fail(err, PH_ERR_IO, "cannot open %s: %s", c->shown, strerror(errno));
        ph_core_close(c);
        return s;
    }
    c->size = (uint64_t)st.st_size;
    c->mtime = (long long)st.st_mtime;
    Elf64_Ehdr eh;
    uint64_t phnum = 0;
    ph_status s = read_header(c, &eh, &phnum, err);
    if (s == PH_OK)
        s = read_program_headers(c, &eh, phnum, err);
    if (s != PH_OK) {
        ph_core_close(c);
        return s;
    }
    *out = c;
    return PH_OK;
}

void ph_core_close(struct ph_core *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nfiles; i++)
        if (c->files[i].fd >= 0)
            close(c->files[i].fd);
    if (c->fd >= 0)
        close(c->fd);
    free(c->seg);
    free(c->files);
    free(c->names);
    free(c);
}

long long ph_core_time(const struct ph_core *c)
{
    return c->mtime;
}

/* ---- the process ---- */

static const struct mapped_file *file_at(const struct ph_core *c, uint64_t addr)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (addr >= c->files[i].start && addr < c->files[i].end)
            return &c->files[i];
    return NULL;
}

static ph_status add_map(struct ph_maps *m, const struct ph_core *c, const struct segment *s)
{
    const struct mapped_file *f = file_at(c, s->vaddr);
    struct ph_map *e = &m->v[m->n];
    *e = (struct ph_map){.start = s->vaddr, .end = s->vaddr + s->memsz, .perms = PH_MAP_P};
    e->perms |= (s->flags & PF_R ? PH_MAP_R : 0) | (s->flags & PF_W ? PH_MAP_W : 0) |
                (s->flags & PF_X ? PH_MAP_X : 0);
    if (f)
        e->offset = f->offset + (s->vaddr - f->start);
    e->path = strdup(f ? f->path : "");
    if (!e->path)
        return PH_ERR_INTERNAL;
    m->n++;
    return PH_OK;
}

/* A file mapping with no segment at all: gdb's gcore leaves out unmodified file-backed mappings
 * (code, constants) entirely. It is mapped read-only, from the file. */
static bool covered(const struct ph_core *c, const struct mapped_file *f)
{
    for (size_t i = 0; i < c->nseg; i++)
        if (c->seg[i].vaddr < f->end && f->start < c->seg[i].vaddr + c->seg[i].memsz)
            return true;
    return false;
}

static int cmp_map(const void *a, const void *b)
{
    const struct ph_map *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static ph_status add_file_maps(struct ph_maps *m, const struct ph_core *c)
{
    for (size_t i = 0; i < c->nfiles; i++) {
        const struct mapped_file *f = &c->files[i];
        if (covered(c, f))
            continue;
        m->v[m->n] = (struct ph_map){.start = f->start, .end = f->end, .offset = f->offset,
                                     .perms = PH_MAP_R | PH_MAP_P, .path = strdup(f->path)};
        if (!m->v[m->n].path)
            return PH_ERR_INTERNAL;
        m->n++;
    }
    qsort(m->v, m->n, sizeof *m->v, cmp_map);
    return PH_OK;
}

ph_status ph_core_proc(const struct ph_core *c, struct ph_proc *out, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    out->pid = out->tgid = out->nspid = c->pid;
    out->uid = (uid_t)c->uid;
    out->live = false;
    snprintf(out->name, sizeof out->name, "%s", c->fname);
    const struct mapped_file *exe = c->entry ? file_at(c, c->entry) : NULL;
    snprintf(out->exe, sizeof out->exe, "%s", exe ? exe->path : "");
    out->maps.v = calloc(c->nseg + c->nfiles + 1, sizeof *out->maps.v);
    if (!out->maps.v)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    ph_status st = PH_OK;
    for (size_t i = 0; i < c->nseg && st == PH_OK; i++)
        st = add_map(&out->maps, c, &c->seg[i]);
    if (st == PH_OK)
        st = add_file_maps(&out->maps, c);
    if (st != PH_OK) {
        ph_proc_close(out);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    }
    return PH_OK;
}

/* ---- memory ---- */

static const struct segment *segment_at(const struct ph_core *c, uint64_t addr)
{
    size_t lo = 0, hi = c->nseg;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (addr < c->seg[mid].vaddr)
            hi = mid;
        else if (addr - c->seg[mid].vaddr >= c->seg[mid].memsz)
            lo = mid + 1;
        else
            return &c->seg[mid];
    }
    return NULL;
}

/* Pages a dump left out: file-backed ones are read from the file, others are zeros. */
static size_t read_absent(struct ph_core *c, uint64_t addr, uint8_t *buf, size_t len)
{
    struct mapped_file *f = (struct mapped_file *)file_at(c, addr);
    if (!f) {
        memset(buf, 0, len);
        return len;
    }
    if (f->fd == -1) /* a path the core names: a FIFO or device there must not block */
        f->fd = ph_open_file(f->path);
    if (f->fd < 0) {
        f->fd = -2;
        return 0;
    }
    if (len > f->end - addr)
        len = (size_t)(f->end - addr);
    ssize_t k = pread(f->fd, buf, len, (off_t)(f->offset + (addr - f->start)));
    return k > 0 ? (size_t)k : 0;
}

static long core_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct ph_core *c = ctx;
    size_t done = 0;
    while (done < len) {
        uint64_t a = addr + done;
        const struct segment *s = segment_at(c, a);
        size_t want = len - done, got;
        if (!s) { /* a file mapping the dump left out whole */
            got = file_at(c, a) ? read_absent(c, a, (uint8_t *)buf + done, want) : 0;
            if (got == 0)
                break;
            done += got;
            continue;
        }
        uint64_t off = a - s->vaddr;
        if (want > s->memsz - off)
            want = (size_t)(s->memsz - off);
        if (off < s->filesz) {
            if (want > s->filesz - off)
                want = (size_t)(s->filesz - off);
            got = read_at(c, s->offset + off, (uint8_t *)buf + done, want) ? want : 0;
        } else {
            got = read_absent(c, a, (uint8_t *)buf + done, want);
        }
        if (got == 0)
            break;
        done += got;
    }
    return (long)done;
}

static void core_backend_close(void *ctx)
{
    (void)ctx; /* the core is closed by its owner */
}

void ph_core_backend(struct ph_core *c, struct ph_mem_backend *out)
{
    *out = (struct ph_mem_backend){.ctx = c, .read = core_read, .close = core_backend_close};
}
