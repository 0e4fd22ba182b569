/*
 * proc.h: the target process as /proc shows it: status, executable, root, threads, maps, and
 * the files it has mapped.
 *
 * A target may live in another mount or PID namespace (a container) or under chroot. Files it
 * maps are opened through /proc/PID/map_files/START-END first (the very file mapped, whatever the
 * namespaces), then /proc/PID/root + path, then the path itself; callers check build-ids.
 */
#ifndef PH_PROC_H
#define PH_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"
#include "lib/proc/maps.h"

struct ph_proc {
    pid_t pid;            /* what /proc, ptrace and memory reads go through: the process id, or
                             one of its live threads when its main thread has exited */
    pid_t tgid;           /* the process id, as named */
    pid_t nspid;          /* innermost pid from NSpid (== pid outside namespaces) */
    pid_t tracer;         /* TracerPid, 0 when untraced */
    uid_t uid;
    char name[64];        /* Name: from status (escaped by callers before printing) */
    char exe[PATH_MAX];   /* readlink of /proc/PID/exe, as the host sees it, " (deleted)" cut */
    char root[64];        /* "/proc/PID/root"; "" for a process read from a core file */
    bool live;            /* a running process (its /proc may be used), not a core file's */
    struct ph_maps maps;
};

/* Read status, exe and maps. PH_ERR_NO_PROCESS when the pid does not exist (or is a zombie
 * with no live thread), PH_ERR_PERMISSION when /proc hides it. A process whose main thread
 * exited (pthread_exit) while others run on is read through a live thread: out->pid. */
ph_status ph_proc_open(pid_t pid, struct ph_proc *out, struct ph_error *err);
void ph_proc_close(struct ph_proc *proc);

/* open(path, O_RDONLY | O_CLOEXEC) for a file pyheap will read as a file (an ELF, debug info):
 * anything but a regular file (a FIFO, a device, a directory, which a hostile container can put
 * where a file is looked for) is refused at once, -1 with errno EINVAL, instead of blocking in
 * open or read. ph_open_error names the reason. */
int ph_open_file(const char *path);
const char *ph_open_error(int e);

/* Re-read the maps (after a freeze, for the consistent view). */
ph_status ph_proc_refresh_maps(struct ph_proc *proc, struct ph_error *err);

/* Open the file behind a mapping, read-only: map_files, then root + path, then the path.
 * Returns an fd >= 0, or -1 with err set. `how` (optional) receives which way worked:
 * "map_files", "root", "path". */
int ph_proc_open_mapped(const struct ph_proc *proc, const struct ph_map *map, const char **how,
                        struct ph_error *err);

/* Open a path as the target sees it: /proc/PID/root + path first, then the path itself. */
int ph_proc_open_in_root(const struct ph_proc *proc, const char *path, struct ph_error *err);

/* List thread ids from /proc/PID/task, sorted. *tids is malloc'd, caller frees. */
ph_status ph_proc_threads(pid_t pid, pid_t **tids, size_t *n, struct ph_error *err);

/* True while /proc/PID exists and is not a zombie. */
bool ph_proc_alive(pid_t pid);

/* The state letter of one thread from /proc/PID/task/TID/stat ('R', 'S', 't', 'Z', ...), or 0
 * when the thread is gone or unreadable. */
char ph_proc_task_state(pid_t pid, pid_t tid);

/* Why this process may not trace pid, as far as can be told from here, and what to do about it,
 * into buf: pyheap in a user namespace of its own, root without CAP_SYS_PTRACE, another user's
 * process, Yama's ptrace_scope, or (with every right pyheap can have) a security module or a
 * protected process. For the "permission denied" messages. */
void ph_proc_permission_hint(pid_t pid, char *buf, size_t cap);

/* TracerPid of one thread (0 when untraced), or -1 when it cannot be read. */
pid_t ph_proc_tracer_pid(pid_t pid, pid_t tid);

/* Read /proc/PID/<name> ("status", "maps", "task/TID/stat") whole into a malloc'd,
 * NUL-terminated buffer of at most max bytes (caller frees *text). ENOENT/ESRCH =>
 * PH_ERR_NO_PROCESS, EACCES/EPERM => PH_ERR_PERMISSION, larger than max => PH_ERR_CORRUPT_FILE. */
ph_status ph_proc_read_file(pid_t pid, const char *name, size_t max, char **text, size_t *len,
                            struct ph_error *err);

#endif
