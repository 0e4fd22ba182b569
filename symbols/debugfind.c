/*
 * debugfind.c: the chain of places where the DWARF of an interpreter ELF may be (debugfind.h).
 *
 * Paths in the maps are paths inside the target's mount namespace, so every on-disk place is
 * tried under /proc/PID/root first and then on the host; when that root is the host's own root
 * (same device and inode as "/") the first try is skipped so reports do not name one file twice.
 * Every candidate is checked before use: by build-id when the ELF and the candidate both have
 * one, else by the CRC32 stored in .gnu_debuglink. An explicit --debug-file is the exception: it
 * is used even on a mismatch, and the report carries the warning.
 *
 * Invariants: exactly one line per step goes to the report; every fd opened here is either
 * closed here or handed to the caller in out->fd; nothing is printed.
 */
#include "symbols/debugfind.h"
#include "symbols/elf.h"
#include "lib/proc/proc.h"

#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define DEFAULT_DEBUG_DIRS "/usr/lib/debug"

void ph_report_add(struct py_source_report *rep, const char *fmt, ...)
{
    int cap = (int)(sizeof rep->line / sizeof rep->line[0]);
    va_list ap;
    if (rep->n >= cap) {
        snprintf(rep->line[cap - 1], sizeof rep->line[0], "(further report lines dropped)");
        return;
    }
    va_start(ap, fmt);
    vsnprintf(rep->line[rep->n++], sizeof rep->line[0], fmt, ap);
    va_end(ap);
}

static Elf *elf_open_fd(int fd)
{
    elf_version(EV_CURRENT); /* idempotent; libelf needs it once before elf_begin */
    return elf_begin(fd, ELF_C_READ_MMAP, NULL);
}

static void to_hex(const unsigned char *b, size_t n, char *hex, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    hex[0] = '\0';
    if (2 * n + 1 > cap)
        return;
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    hex[2 * n] = '\0';
}

/* The build-id of an open file, through the one hardened reader in elf.c. False when the file
 * is not ELF; an ELF without a build-id gives true and "". */
bool ph_elf_build_id(int fd, char *hex, size_t cap)
{
    struct ph_elf *elf;
    hex[0] = '\0';
    if (ph_elf_open(fd, "debug file", &elf, NULL) != PH_OK)
        return false;
    if (ph_elf_read_build_id(elf, hex, cap, NULL) != PH_OK)
        hex[0] = '\0';
    ph_elf_close(elf);
    return true;
}

/* The CRC .gnu_debuglink carries is zlib's CRC-32: zlib computes it (faster than a table loop,
 * and one less hand-written checksum to get right). */
bool ph_file_crc32(int fd, uint32_t *crc)
{
    unsigned char buf[65536];
    uLong c = crc32(0L, Z_NULL, 0);
    off_t pos = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            break;
        c = crc32(c, buf, (uInt)n);
        pos += n;
    }
    *crc = (uint32_t)c;
    return true;
}

/* The raw bytes of a named section (NULL when absent or NOBITS). Valid until elf_end(e). */
static Elf_Data *section_data(Elf *e, const char *name)
{
    size_t shstrndx;
    Elf_Scn *scn = NULL;
    if (elf_getshdrstrndx(e, &shstrndx) != 0)
        return NULL;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        const char *n;
        if (!gelf_getshdr(scn, &sh) || !(n = elf_strptr(e, shstrndx, sh.sh_name)))
            continue;
        if (strcmp(n, name) == 0)
            return sh.sh_type == SHT_NOBITS ? NULL : elf_rawdata(scn, NULL);
    }
    return NULL;
}

static bool has_debug_info(int fd)
{
    Elf *e = elf_open_fd(fd);
    if (!e)
        return false;
    Elf_Data *d = section_data(e, ".debug_info");
    bool yes = d && d->d_size > 0;
    elf_end(e);
    return yes;
}

/* State shared by the steps of one search. */
struct finder {
    const struct ph_debugfind_req *req;
    struct ph_debugfind_result *out;
    struct py_source_report *rep;
    const char *root;    /* NULL when the target's root is the host's */
    const char *dirs;    /* ':'-separated debug roots */
    char elf_id[81];     /* the ELF's build-id, hex */
    const char *elf_in_root; /* the ELF's path inside the target's root */
};

/* The maps show paths relative to the reader's root: a chroot'ed target's ELF appears as
 * "/var/cache/x/usr/bin/python3.14". Strip the root's real path so debuglink directories are
 * looked up where the target sees its ELF ("/usr/bin"). */
static const char *path_in_root(const char *root, const char *elf_path)
{
    char real[PATH_MAX];
    if (!root || !realpath(root, real) || strcmp(real, "/") == 0)
        return elf_path;
    size_t n = strlen(real);
    return strncmp(elf_path, real, n) == 0 && elf_path[n] == '/' ? elf_path + n : elf_path;
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Open an absolute path as the target sees it: under its root, then on the host. The path
 * opened goes to `opened` (PATH_MAX bytes) and *where says which place answered. */
static int open_both(struct finder *f, const char *path, char *opened, const char **where)
{
    int fd;
    if (f->root) {
        snprintf(opened, PATH_MAX, "%s%s", f->root, path);
        if ((fd = ph_open_file(opened)) >= 0) {
            *where = "target root";
            return fd;
        }
    }
    snprintf(opened, PATH_MAX, "%s", path);
    *where = "host";
    return ph_open_file(opened);
}

static void accept_fd(struct finder *f, int fd, const char *opened, const char *how,
                      const char *where)
{
    f->out->fd = fd;
    snprintf(f->out->path, sizeof f->out->path, "%s", opened);
    snprintf(f->out->how, sizeof f->out->how, "%s%s%s", how, where ? " under " : "",
             where ? where : "");
    ph_report_add(f->rep, "dwarf: %s (%s)", f->out->path, f->out->how);
}

static bool try_explicit(struct finder *f)
{
    const char *path = f->req->opts ? f->req->opts->debug_file : NULL;
    char id[81];
    if (!path || !*path)
        return false;
    int fd = ph_open_file(path); /* a FIFO given here must not block pyheap */
    if (fd < 0) {
        ph_report_add(f->rep, "dwarf: --debug-file %s: %s", path, ph_open_error(errno));
        return false;
    }
    if (!ph_elf_build_id(fd, id, sizeof id) || !f->elf_id[0] || strcmp(id, f->elf_id) == 0) {
        accept_fd(f, fd, path, "--debug-file", NULL);
        return true;
    }
    f->out->fd = fd;
    snprintf(f->out->path, sizeof f->out->path, "%s", path);
    snprintf(f->out->how, sizeof f->out->how, "--debug-file, build-id mismatch");
    ph_report_add(f->rep, "dwarf: %s (--debug-file; WARNING: its build-id %s is not the ELF's %s)",
                  path, id[0] ? id : "(none)", f->elf_id);
    return true;
}

static bool try_embedded(struct finder *f)
{
    if (!has_debug_info(f->req->elf_fd)) {
        ph_report_add(f->rep, "dwarf: not found: no .debug_info in %s", f->req->elf_path);
        return false;
    }
    int fd = dup(f->req->elf_fd); /* the caller closes out->fd and its own elf_fd separately */
    if (fd < 0) {
        ph_report_add(f->rep, "dwarf: dup of the ELF fd: %s", strerror(errno));
        return false;
    }
    accept_fd(f, fd, f->req->elf_path, "embedded .debug_info", NULL);
    return true;
}

/* The next ':'-separated absolute directory of a list; false at the end. */
static bool next_dir(const char **list, char *dir, size_t cap)
{
    while (**list) {
        size_t len = strcspn(*list, ":");
        const char *p = *list;
        *list += len + ((*list)[len] == ':');
        if (len == 0 || len >= cap || p[0] != '/')
            continue; /* relative entries cannot be placed under the target's root */
        memcpy(dir, p, len);
        dir[len] = '\0';
        return true;
    }
    return false;
}

/* Open path (root, then host) and keep it when its build-id is `want`. */
static int open_with_id(struct finder *f, const char *path, const char *want, char *opened,
                        const char **where)
{
    char id[81];
    int fd = open_both(f, path, opened, where);
    if (fd < 0)
        return -1;
    if (ph_elf_build_id(fd, id, sizeof id) && strcmp(id, want) == 0)
        return fd;
    close(fd);
    return -1;
}

static int find_by_build_id(struct finder *f, const char *id, char *opened, const char **where)
{
    char dir[PATH_MAX / 2], path[PATH_MAX];
    const char *list = f->dirs;
    while (next_dir(&list, dir, sizeof dir)) {
        snprintf(path, sizeof path, "%s/.build-id/%.2s/%s.debug", dir, id, id + 2);
        int fd = open_with_id(f, path, id, opened, where);
        if (fd >= 0)
            return fd;
    }
    return -1;
}

static bool try_build_id(struct finder *f)
{
    char opened[PATH_MAX];
    const char *where;
    if (strlen(f->elf_id) < 4) {
        ph_report_add(f->rep, "dwarf: not found by build-id: %s has no build-id", f->req->elf_path);
        return false;
    }
    int fd = find_by_build_id(f, f->elf_id, opened, &where);
    if (fd >= 0) {
        accept_fd(f, fd, opened, "build-id", where);
        return true;
    }
    ph_report_add(f->rep, "dwarf: not found: no .build-id/%.2s/%s.debug under %s (%s)", f->elf_id,
                  f->elf_id + 2, f->dirs, f->root ? "target root, host" : "host");
    return false;
}

/* The .gnu_debuglink file name (a bare name: one with a '/' is refused) and its CRC32. */
static bool read_debuglink(int fd, char *name, size_t cap, uint32_t *crc)
{
    Elf *e = elf_open_fd(fd);
    GElf_Word c;
    if (!e)
        return false;
    const char *n = dwelf_elf_gnu_debuglink(e, &c);
    bool ok = n && *n && strlen(n) < cap && !strchr(n, '/');
    if (ok) {
        snprintf(name, cap, "%s", n);
        *crc = c;
    }
    elf_end(e);
    return ok;
}

/* A debuglink candidate: not the ELF itself; the ELF's build-id when both have one, else the
 * CRC32 the ELF recorded. */
static int open_debuglink(struct finder *f, const char *path, uint32_t crc, char *opened,
                          const char **where)
{
    struct stat a, b;
    char id[81];
    uint32_t c;
    int fd = open_both(f, path, opened, where);
    if (fd < 0)
        return -1;
    bool self = fstat(fd, &a) == 0 && fstat(f->req->elf_fd, &b) == 0 && a.st_dev == b.st_dev &&
                a.st_ino == b.st_ino;
    bool match;
    if (f->elf_id[0] && ph_elf_build_id(fd, id, sizeof id) && id[0])
        match = strcmp(id, f->elf_id) == 0;
    else
        match = ph_file_crc32(fd, &c) && c == crc;
    if (!self && match)
        return fd;
    close(fd);
    return -1;
}

/* Candidates in order: next to the ELF, its .debug/, then DIR/<dir of the ELF>/ per DIR. */
static int find_debuglink(struct finder *f, const char *name, uint32_t crc, char *opened,
                          const char **where)
{
    char elfdir[PATH_MAX / 4], dir[PATH_MAX / 4], path[PATH_MAX];
    snprintf(elfdir, sizeof elfdir, "%s", f->elf_in_root);
    char *slash = strrchr(elfdir, '/');
    if (slash)
        *slash = '\0'; /* "/usr/bin/python3.11" -> "/usr/bin"; "/python" -> "" */
    else
        elfdir[0] = '\0';
    int fd;
    snprintf(path, sizeof path, "%s/%s", elfdir, name);
    if ((fd = open_debuglink(f, path, crc, opened, where)) >= 0)
        return fd;
    snprintf(path, sizeof path, "%s/.debug/%s", elfdir, name);
    if ((fd = open_debuglink(f, path, crc, opened, where)) >= 0)
        return fd;
    const char *list = f->dirs;
    while (next_dir(&list, dir, sizeof dir)) {
        snprintf(path, sizeof path, "%s%s/%s", dir, elfdir, name);
        if ((fd = open_debuglink(f, path, crc, opened, where)) >= 0)
            return fd;
    }
    return -1;
}

static bool try_debuglink(struct finder *f)
{
    char name[256], opened[PATH_MAX];
    uint32_t crc;
    const char *where;
    if (!read_debuglink(f->req->elf_fd, name, sizeof name, &crc)) {
        ph_report_add(f->rep, "dwarf: not found: no .gnu_debuglink in %s", f->req->elf_path);
        return false;
    }
    int fd = find_debuglink(f, name, crc, opened, &where);
    if (fd >= 0) {
        accept_fd(f, fd, opened, "debuglink", where);
        return true;
    }
    ph_report_add(f->rep, "dwarf: not found: debuglink %s not next to the ELF, in .debug/ or "
                  "under %s (%s)", name, f->dirs, f->root ? "target root, host" : "host");
    return false;
}

/* libdebuginfod, loaded when a server is to be asked: linked in, it and the HTTP and TLS
 * libraries it needs cost every run about 3 ms to load and 6 MiB of memory (measured: 7.8 MiB
 * peak for an empty program linked with it, 1.6 MiB without), for a lookup most runs never make.
 * The header gives the types; the library named is the soname of every libdebuginfod so far. */
struct debuginfod_lib {
    void *handle;
    debuginfod_client *(*begin)(void);
    int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
    void (*end)(debuginfod_client *);
};

static bool debuginfod_load(struct debuginfod_lib *lib)
{
    /* NODELETE: libcurl and gnutls keep global state from their first use to the end of the
     * process; unmapped by dlclose, what that state points to would be memory nobody holds. */
    lib->handle = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!lib->handle)
        return false;
    /* POSIX: a function pointer may be read out of dlsym's object pointer this way */
    *(void **)&lib->begin = dlsym(lib->handle, "debuginfod_begin");
    *(void **)&lib->find_debuginfo = dlsym(lib->handle, "debuginfod_find_debuginfo");
    *(void **)&lib->end = dlsym(lib->handle, "debuginfod_end");
    if (lib->begin && lib->find_debuginfo && lib->end)
        return true;
    dlclose(lib->handle);
    return false;
}

/* The debug file from the servers in DEBUGINFOD_URLS: a descriptor, or -errno (*path: where
 * the library cached it, NULL if it did not say). */
static int debuginfod_fetch(struct finder *f, char **path)
{
    struct debuginfod_lib lib;
    if (!debuginfod_load(&lib)) {
        const char *why = dlerror();
        ph_report_add(f->rep, "dwarf: debuginfod: cannot load libdebuginfod.so.1 (%.100s)",
                      why ? why : "a symbol is missing");
        return -ENOENT;
    }
    debuginfod_client *c = lib.begin();
    int fd = c ? lib.find_debuginfo(c, (const unsigned char *)f->elf_id, 0, path) : -ENOMEM;
    if (c)
        lib.end(c);
    else
        ph_report_add(f->rep, "dwarf: debuginfod: cannot start a client");
    dlclose(lib.handle);
    return fd;
}

static bool try_debuginfod(struct finder *f)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    char *path = NULL, id[81];
    if (f->req->opts && f->req->opts->no_debuginfod) {
        ph_report_add(f->rep, "dwarf: debuginfod skipped (--no-debuginfod)");
        return false;
    }
    if (!urls || !*urls || !f->elf_id[0]) {
        ph_report_add(f->rep, "dwarf: debuginfod skipped (%s)",
                      f->elf_id[0] ? "DEBUGINFOD_URLS unset" : "no build-id");
        return false;
    }
    int fd = debuginfod_fetch(f, &path);
    if (fd < 0) {
        free(path);
        ph_report_add(f->rep, "dwarf: not found by debuginfod (%s): %s", urls, strerror(-fd));
        return false;
    }
    char opened[PATH_MAX];
    snprintf(opened, sizeof opened, "%s", path ? path : "(debuginfod cache)");
    free(path);
    if (ph_elf_build_id(fd, id, sizeof id) && id[0] && strcmp(id, f->elf_id) != 0) {
        close(fd);
        ph_report_add(f->rep, "dwarf: debuginfod gave %s with build-id %s, not %s", opened, id,
                      f->elf_id);
        return false;
    }
    accept_fd(f, fd, opened, "debuginfod", NULL);
    return true;
}

/* DWZ: the debug file may point at a supplementary file holding shared DIEs. Find it the same
 * way (its absolute path, then by its build-id), so a container's copy is preferred; a relative
 * name is left to libdw, which resolves it against the debug file's directory. */
static void find_alt(struct finder *f)
{
    char name[PATH_MAX], id[81], opened[PATH_MAX];
    const char *where;
    Elf *e = elf_open_fd(f->out->fd);
    if (!e)
        return;
    Elf_Data *d = section_data(e, ".gnu_debugaltlink");
    size_t nlen = d ? strnlen(d->d_buf, d->d_size) : 0;
    bool have = d && nlen > 0 && nlen < d->d_size && nlen < sizeof name;
    if (have) {
        memcpy(name, d->d_buf, nlen + 1);
        to_hex((const unsigned char *)d->d_buf + nlen + 1, d->d_size - nlen - 1, id, sizeof id);
    }
    elf_end(e);
    if (!have)
        return;
    int fd = name[0] == '/' ? open_with_id(f, name, id, opened, &where) : -1;
    if (fd < 0 && strlen(id) > 2)
        fd = find_by_build_id(f, id, opened, &where);
    if (fd < 0) {
        ph_report_add(f->rep, "dwarf: DWZ alt file %s (build-id %s) not found; left to libdw",
                      name, id);
        return;
    }
    close(fd);
    snprintf(f->out->alt_path, sizeof f->out->alt_path, "%s", opened);
    ph_report_add(f->rep, "dwarf: DWZ alt file %s (under %s)", opened, where);
}

ph_status ph_debugfind(const struct ph_debugfind_req *req, struct ph_debugfind_result *out,
                       struct py_source_report *rep, struct ph_error *err)
{
    struct finder f = {.req = req, .out = out, .rep = rep};
    out->fd = -1;
    out->path[0] = out->how[0] = out->alt_path[0] = '\0';
    f.dirs = req->opts && req->opts->debug_dirs && *req->opts->debug_dirs
                 ? req->opts->debug_dirs : DEFAULT_DEBUG_DIRS;
    f.root = req->root && *req->root && !same_file(req->root, "/") ? req->root : NULL;
    f.elf_in_root = path_in_root(f.root, req->elf_path);
    if (req->build_id && *req->build_id)
        snprintf(f.elf_id, sizeof f.elf_id, "%s", req->build_id);
    else
        ph_elf_build_id(req->elf_fd, f.elf_id, sizeof f.elf_id);
    if (try_explicit(&f) || try_embedded(&f) || try_build_id(&f) || try_debuglink(&f) ||
        try_debuginfod(&f)) {
        find_alt(&f);
        return PH_OK;
    }
    return ph_fail(err, PH_ERR_NO_LAYOUT, "no DWARF found for %s", req->elf_path);
}
