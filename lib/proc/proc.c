/*
 * proc.c: the target as /proc describes it (status, exe, threads, maps, mapped files).
 *
 * Everything here is a snapshot that may be stale the moment it is read: a process can exit or
 * exec between two reads, so every failure is mapped to a status that says which (gone =>
 * PH_ERR_NO_PROCESS, hidden => PH_ERR_PERMISSION) and nothing is cached beyond struct ph_proc.
 * Files are read whole with a size bound, parsed from memory, and never trusted to be
 * well-formed. A zombie counts as gone: it has no memory left to read. A zombie main thread
 * whose process has live threads (it called pthread_exit) does not: /proc/PID/maps and exe are
 * empty then, so the process is read through one of the live threads.
 */
#include "lib/proc/proc.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATUS_MAX ((size_t)1 << 20) /* Groups: may list 65536 gids */
enum { MAX_THREADS = 1 << 22, MAX_EINTR = 1000 };

/* Reading another user's maps needs the same right as ptrace (PTRACE_MODE_READ). */
static ph_status open_error(pid_t pid, const char *what, int e, struct ph_error *err)
{
    if (e == ENOENT || e == ESRCH)
        return ph_fail(err, PH_ERR_NO_PROCESS, "no such process: %d", (int)pid);
    if (e == EACCES || e == EPERM) {
        char hint[400];
        ph_proc_permission_hint(pid, hint, sizeof hint);
        return ph_fail(err, PH_ERR_PERMISSION, "permission denied reading /proc/%d/%s: %s",
                       (int)pid, what, hint);
    }
    return ph_fail(err, PH_ERR_IO, "reading /proc/%d/%s: %s", (int)pid, what, strerror(e));
}

/* A small /proc or /sys file's first line into buf ("" when it cannot be read). */
static void first_line(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "re");
    if (f) {
        if (!fgets(buf, (int)cap, f))
            buf[0] = '\0';
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
    size_t o = 0; /* runs of blanks (uid_map's columns) become one space */
    for (size_t i = 0; buf[i]; i++)
        if (buf[i] != ' ' || (o && buf[o - 1] != ' '))
            buf[o++] = buf[i];
    while (o && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
}

/* The effective capability set of this process, from /proc/self/status. */
static uint64_t own_caps(void)
{
    char *text = NULL;
    size_t len;
    uint64_t caps = 0;
    if (ph_proc_read_file(getpid(), "status", STATUS_MAX, &text, &len, NULL) == PH_OK) {
        const char *p = strstr(text, "\nCapEff:");
        if (p)
            caps = strtoull(p + 8, NULL, 16);
    }
    free(text);
    return caps;
}

/* The owner of /proc/PID (the process's effective uid), or -1. */
static long owner_of(pid_t pid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    return stat(path, &st) == 0 ? (long)st.st_uid : -1;
}

void ph_proc_permission_hint(pid_t pid, char *buf, size_t cap)
{
    enum { CAP_SYS_PTRACE_BIT = 19 };
    char map[128], scope[16];
    first_line("/proc/self/uid_map", map, sizeof map);
    first_line("/proc/sys/kernel/yama/ptrace_scope", scope, sizeof scope);
    bool init_ns = !map[0] || strstr(map, "4294967295") != NULL; /* the whole uid range */
    bool root = geteuid() == 0, ptrace_cap = (own_caps() >> CAP_SYS_PTRACE_BIT) & 1;
    long owner = owner_of(pid);
    if (!init_ns)
        snprintf(buf, cap, "pyheap runs in a user namespace of its own (uid_map: %s), whose "
                 "root and capabilities do not reach a process outside it: run pyheap on the "
                 "host, or in the target's namespace", map);
    else if (root && !ptrace_cap)
        snprintf(buf, cap, "pyheap runs as root but without CAP_SYS_PTRACE (a container "
                 "started without --cap-add SYS_PTRACE?)");
    else if (!root && !ptrace_cap && owner >= 0 && owner != (long)geteuid())
        snprintf(buf, cap, "process %d belongs to uid %ld and pyheap runs as uid %ld: run it as "
                 "root (sudo), or grant it CAP_SYS_PTRACE", (int)pid, owner, (long)geteuid());
    else if (!ptrace_cap && strcmp(scope, "0") != 0 && scope[0])
        snprintf(buf, cap, "/proc/sys/kernel/yama/ptrace_scope is %s%s: run as root, or set "
                 "it to 0", scope, strcmp(scope, "1") == 0 ? " (only a process's ancestors may "
                 "trace it)" : "");
    else if (!ptrace_cap)
        snprintf(buf, cap, "the process cannot be traced by its own user (it changed its "
                 "credentials or made itself undumpable): run pyheap as root, or with "
                 "CAP_SYS_PTRACE");
    else
        snprintf(buf, cap, "pyheap has %sCAP_SYS_PTRACE, so something else refuses: a security "
                 "module (AppArmor, SELinux%s%s), or a process the system protects (the init of "
                 "a sandbox or VM)", root ? "root and " : "", scope[0] ? ", Yama ptrace_scope " : "",
                 scope);
}

/* Read until EOF into a buffer that doubles; one byte is kept for the terminator. */
static ph_status slurp_fd(int fd, pid_t pid, const char *name, size_t max, char **text,
                          size_t *len, struct ph_error *err)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (int eintr = 0; buf;) {
        if (n > max) {
            free(buf);
            return ph_fail(err, PH_ERR_CORRUPT_FILE, "/proc/%d/%s is larger than %zu bytes",
                           (int)pid, name, max);
        }
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r == 0) {
            buf[n] = '\0';
            *text = buf;
            *len = n;
            return PH_OK;
        }
        if (r < 0 && errno == EINTR && ++eintr < MAX_EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return open_error(pid, name, e, err);
        }
        n += (size_t)r;
    }
    free(buf);
    return ph_fail(err, PH_ERR_INTERNAL, "out of memory reading /proc/%d/%s", (int)pid, name);
}

ph_status ph_proc_read_file(pid_t pid, const char *name, size_t max, char **text, size_t *len,
                            struct ph_error *err)
{
    char path[128];
    *text = NULL;
    *len = 0;
    if (pid <= 0)
        return ph_fail(err, PH_ERR_NO_PROCESS, "no such process: %d", (int)pid);
    if ((size_t)snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name) >= sizeof path)
        return ph_fail(err, PH_ERR_INTERNAL, "/proc path too long: %s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return open_error(pid, name, errno, err);
    ph_status st = slurp_fd(fd, pid, name, max, text, len, err);
    close(fd);
    return st;
}

/* The value after "Key:" on its own line, or NULL. */
static const char *status_field(const char *text, const char *key)
{
    size_t kl = strlen(key);
    const char *p = text;
    while (*p) { /* one line per turn: the scan only moves forward */
        if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
            p += kl + 1;
            while (*p == '\t' || *p == ' ')
                p++;
            return p;
        }
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

static bool field_long(const char *text, const char *key, long *out)
{
    const char *v = status_field(text, key);
    if (!v)
        return false;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || errno)
        return false;
    *out = x;
    return true;
}

/* NSpid lists the pid in each namespace, outermost first: the last is the innermost. */
static pid_t innermost_pid(const char *text, pid_t fallback)
{
    const char *v = status_field(text, "NSpid");
    long last = fallback;
    for (int i = 0; v && i < 64; i++) { /* 32 levels is the kernel limit */
        char *end;
        long x = strtol(v, &end, 10);
        if (end == v)
            break;
        last = x;
        v = end;
        if (*v != '\t' && *v != ' ')
            break;
    }
    return (pid_t)last;
}

static ph_status parse_status(const char *text, struct ph_proc *out, bool *zombie,
                              struct ph_error *err)
{
    const char *name = status_field(text, "Name");
    const char *state = status_field(text, "State");
    long tracer = 0;
    if (!name || !state || !field_long(text, "TracerPid", &tracer))
        return ph_fail(err, PH_ERR_CORRUPT_FILE, "/proc/%d/status: missing Name, State or "
                       "TracerPid", (int)out->pid);
    *zombie = *state == 'Z' || *state == 'X';
    size_t nl = strcspn(name, "\n");
    if (nl >= sizeof out->name)
        nl = sizeof out->name - 1;
    memcpy(out->name, name, nl);
    out->name[nl] = '\0';
    out->tracer = (pid_t)tracer;
    out->nspid = innermost_pid(text, out->pid);
    /* Uid: real, effective, saved, fs. The effective one owns /proc/PID, as ps shows it. */
    const char *uid = status_field(text, "Uid");
    if (uid) {
        char *end, *end2;
        long real = strtol(uid, &end, 10);
        long eff = strtol(end, &end2, 10);
        out->uid = (uid_t)(end2 != end && eff >= 0 ? eff : real);
    }
    return PH_OK;
}

static ph_status read_exe(struct ph_proc *out, struct ph_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)out->pid);
    ssize_t n = readlink(path, out->exe, sizeof out->exe - 1);
    if (n < 0) {
        int e = errno;
        out->exe[0] = '\0';
        /* Kernel threads have no exe: not an error here, callers find no Python in them. */
        if (e == ENOENT && ph_proc_alive(out->pid))
            return PH_OK;
        return open_error(out->pid, "exe", e, err);
    }
    out->exe[n] = '\0';
    size_t sl = strlen(" (deleted)");
    if ((size_t)n > sl && strcmp(out->exe + n - sl, " (deleted)") == 0)
        out->exe[n - sl] = '\0';
    return PH_OK;
}

static bool dead_state(char s)
{
    return s == 0 || s == 'Z' || s == 'X' || s == 'x';
}

/* The main thread is a zombie: read the process through a thread that still runs, if any. */
static ph_status through_live_thread(struct ph_proc *out, struct ph_error *err)
{
    pid_t *tids, live = 0;
    size_t n;
    if (ph_proc_threads(out->tgid, &tids, &n, NULL) == PH_OK) {
        for (size_t i = 0; i < n && !live; i++)
            if (tids[i] != out->tgid && !dead_state(ph_proc_task_state(out->tgid, tids[i])))
                live = tids[i];
        free(tids);
    }
    if (!live)
        return ph_fail(err, PH_ERR_NO_PROCESS, "no such process: %d (it is a zombie: exited, "
                       "not yet reaped by its parent)", (int)out->tgid);
    out->pid = live;
    snprintf(out->root, sizeof out->root, "/proc/%d/root", (int)live);
    return PH_OK;
}

ph_status ph_proc_open(pid_t pid, struct ph_proc *out, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    out->pid = pid;
    out->tgid = pid;
    out->nspid = pid;
    out->live = true;
    snprintf(out->root, sizeof out->root, "/proc/%d/root", (int)pid);
    char *text;
    size_t len;
    ph_status st = ph_proc_read_file(pid, "status", STATUS_MAX, &text, &len, err);
    if (st != PH_OK)
        return st;
    bool zombie = false;
    st = parse_status(text, out, &zombie, err);
    free(text);
    if (st == PH_OK && zombie)
        st = through_live_thread(out, err);
    if (st == PH_OK)
        st = read_exe(out, err);
    if (st == PH_OK)
        st = ph_maps_read(out->pid, &out->maps, err);
    if (st != PH_OK)
        ph_proc_close(out);
    return st;
}

void ph_proc_close(struct ph_proc *proc)
{
    if (proc)
        ph_maps_free(&proc->maps);
}

ph_status ph_proc_refresh_maps(struct ph_proc *proc, struct ph_error *err)
{
    struct ph_maps fresh;
    ph_status st = ph_maps_read(proc->pid, &fresh, err);
    if (st != PH_OK)
        return st;
    ph_maps_free(&proc->maps);
    proc->maps = fresh;
    return PH_OK;
}

static int open_ro(const char *path)
{
    int fd;
    for (int i = 0; i < MAX_EINTR; i++)
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 || errno != EINTR)
            return fd;
    return -1;
}

int ph_open_file(const char *path)
{
    int fd = -1;
    for (int i = 0; i < MAX_EINTR && fd < 0; i++)
        if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0 && errno != EINTR)
            return -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        errno = EINVAL;
        return -1;
    }
    /* Reads of a regular file do not block on O_NONBLOCK anyway; clear it for clarity. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

const char *ph_open_error(int e)
{
    return e == EINVAL ? "not a regular file" : strerror(e);
}

/* root + path when path is absolute and the result fits; sets *e on failure. */
static int open_under_root(const struct ph_proc *proc, const char *path, int *e)
{
    char buf[PATH_MAX + 64];
    if (path[0] != '/') {
        *e = EINVAL;
        return -1;
    }
    if ((size_t)snprintf(buf, sizeof buf, "%s%s", proc->root, path) >= sizeof buf) {
        *e = ENAMETOOLONG;
        return -1;
    }
    int fd = ph_open_file(buf);
    *e = fd < 0 ? errno : 0;
    return fd;
}

int ph_proc_open_mapped(const struct ph_proc *proc, const struct ph_map *map, const char **how,
                        struct ph_error *err)
{
    if (map->path[0] != '/') {
        ph_fail(err, PH_ERR_IO, "the mapping at 0x%" PRIx64 " (%s) is not a file", map->start,
                map->path[0] ? map->path : "anonymous");
        return -1;
    }
    /* The kernel names map_files entries with %lx-%lx: lowercase hex, no 0x. */
    char mf[96];
    snprintf(mf, sizeof mf, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)proc->pid,
             map->start, map->end);
    /* A core file's process is gone (its pid may be another process's now): paths only. */
    int e_mf = ENOENT, e_root = 0, e_path = 0, fd = proc->live ? ph_open_file(mf) : -1;
    const char *way = "map_files";
    if (proc->live)
        e_mf = fd < 0 ? errno : 0;
    if (fd < 0 && proc->root[0]) {
        way = "root";
        fd = open_under_root(proc, map->path, &e_root);
    }
    if (fd < 0) {
        way = "path";
        fd = ph_open_file(map->path);
        e_path = fd < 0 ? errno : 0;
    }
    if (fd < 0) {
        ph_fail(err, PH_ERR_IO, "cannot open %s%s, mapped at 0x%" PRIx64 " by process %d: "
                "map_files: %s; root: %s; path: %s", map->path, map->deleted ? " (deleted)" : "",
                map->start, (int)proc->pid, ph_open_error(e_mf), ph_open_error(e_root),
                ph_open_error(e_path));
        return -1;
    }
    if (how)
        *how = way;
    return fd;
}

int ph_proc_open_in_root(const struct ph_proc *proc, const char *path, struct ph_error *err)
{
    int e_root;
    int fd = open_under_root(proc, path, &e_root);
    if (fd >= 0)
        return fd;
    fd = ph_open_file(path);
    if (fd < 0)
        ph_fail(err, PH_ERR_IO, "cannot open %s for process %d: under %s: %s; as is: %s", path,
                (int)proc->pid, proc->root, ph_open_error(e_root), ph_open_error(errno));
    return fd;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

/* A directory entry that is a plain positive decimal number. */
static pid_t entry_pid(const char *name)
{
    char *end;
    errno = 0;
    long v = strtol(name, &end, 10);
    if (name[0] < '1' || name[0] > '9' || *end || errno || v > INT_MAX)
        return 0;
    return (pid_t)v;
}

static ph_status collect_tids(DIR *d, pid_t pid, pid_t **tids, size_t *n, struct ph_error *err)
{
    size_t cap = 16;
    pid_t *v = malloc(cap * sizeof *v);
    struct dirent *de;
    while (v && (de = readdir(d)) != NULL) {
        pid_t tid = entry_pid(de->d_name);
        if (!tid)
            continue;
        if (*n == MAX_THREADS) {
            free(v);
            return ph_fail(err, PH_ERR_INCONSISTENT, "process %d has more than %d threads",
                           (int)pid, MAX_THREADS);
        }
        if (*n == cap) {
            pid_t *bigger = realloc(v, cap * 2 * sizeof *v);
            if (!bigger) {
                free(v);
                v = NULL;
                break;
            }
            v = bigger;
            cap *= 2;
        }
        v[(*n)++] = tid;
    }
    if (!v)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory listing threads of %d", (int)pid);
    qsort(v, *n, sizeof *v, cmp_pid);
    *tids = v;
    return PH_OK;
}

ph_status ph_proc_threads(pid_t pid, pid_t **tids, size_t *n, struct ph_error *err)
{
    char path[64];
    *tids = NULL;
    *n = 0;
    if (pid <= 0)
        return ph_fail(err, PH_ERR_NO_PROCESS, "no such process: %d", (int)pid);
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return open_error(pid, "task", errno, err);
    ph_status st = collect_tids(d, pid, tids, n, err);
    closedir(d);
    if (st == PH_OK && *n == 0) {
        free(*tids);
        *tids = NULL;
        return ph_fail(err, PH_ERR_NO_PROCESS, "no such process: %d (no threads left)", (int)pid);
    }
    return st;
}

/* The state letter follows the last ')' (comm may itself hold parentheses). */
static char stat_state(const char *path)
{
    char buf[1024];
    int fd = open_ro(path);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    if (!paren || paren[1] != ' ' || !paren[2])
        return 0;
    return paren[2];
}

char ph_proc_task_state(pid_t pid, pid_t tid)
{
    char path[96];
    if (pid <= 0 || tid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    return stat_state(path);
}

bool ph_proc_alive(pid_t pid)
{
    char path[64];
    if (pid <= 0)
        return false;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    return !dead_state(stat_state(path));
}

pid_t ph_proc_tracer_pid(pid_t pid, pid_t tid)
{
    char name[64], *text;
    size_t len;
    long tracer;
    snprintf(name, sizeof name, "task/%d/status", (int)tid);
    if (ph_proc_read_file(pid, name, STATUS_MAX, &text, &len, NULL) != PH_OK)
        return -1;
    bool ok = field_long(text, "TracerPid", &tracer);
    free(text);
    return ok ? (pid_t)tracer : -1;
}
