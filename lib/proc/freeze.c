/*
 * freeze.c: stop every thread of the target (PTRACE_SEIZE + PTRACE_INTERRUPT), release them
 * with PTRACE_DETACH.
 *
 * Invariants:
 * - fr->t lists every thread that is seized by us and not known to be dead; whatever path ph_freeze
 *   takes out, each of them is detached before returning unless the freeze succeeded.
 * - A thread counts as frozen once waitpid reports it in any ptrace-stop: the interrupt stop, a
 *   group-stop (SIGSTOP: it stays stopped after we detach, as job control wants), or a
 *   signal-delivery-stop. In the last case the signal was taken out of the thread's queue, so it is
 *   kept in t->sig and handed back with PTRACE_DETACH: no signal is ever lost.
 * - Waiting polls waitpid(tid, WNOHANG) with a short back-off instead of blocking. A blocking wait
 *   can hang for ever on a thread-group leader that exits while other threads live (the kernel
 *   delays its exit report until they are all reaped, and the reaping may be ours to do). Polling
 *   also lets `cancel` be checked between steps without depending on EINTR.
 * - Exits are reaped for every thread but the leader: the leader's exit belongs to its parent,
 *   which may be our own caller (tests start their targets themselves).
 * No global state: all of it lives in struct ph_freeze.
 */
#include "lib/proc/freeze.h"

#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/proc/proc.h"

enum {
    MAX_PASSES = 100,          /* re-listings of /proc/PID/task before giving up */
    STOP_TIMEOUT_S = 20,       /* a thread in D state may take a while; not for ever */
    SETTLE_TIMEOUT_S = 2,      /* on the way out: wait this long for stragglers to stop */
    MAX_DELAY_US = 1000,
};

struct tracee {
    pid_t tid;
    int sig;      /* signal to re-inject at detach (from a signal-delivery-stop), 0 if none */
    bool stopped; /* waitpid reported a ptrace-stop */
};

struct ph_freeze {
    pid_t pid;
    struct tracee *t; /* seized and not known dead */
    size_t n, cap;
    pid_t *seen;      /* every tid met so far, seized or not; sorted between passes */
    size_t nseen, seencap;
    pid_t *tids;      /* exported on success: sorted tids of fr->t */
};

static bool cancelled(volatile sig_atomic_t *cancel)
{
    return cancel && *cancel;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 16;
    void *bigger = realloc(*v, nc * elem);
    if (!bigger)
        return false;
    *v = bigger;
    *cap = nc;
    return true;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

static void drop(struct ph_freeze *fr, size_t i)
{
    assert(i < fr->n);
    fr->t[i] = fr->t[--fr->n];
}

static ph_status permission_error(pid_t pid, pid_t tid, struct ph_error *err)
{
    pid_t tracer = ph_proc_tracer_pid(pid, tid);
    if (tracer > 0)
        return ph_fail(err, PH_ERR_ALREADY_TRACED, "process %d is already traced by pid %d "
                       "(gdb, strace?); detach it first, or read it unstopped with --no-freeze",
                       (int)pid, (int)tracer);
    char hint[400];
    ph_proc_permission_hint(pid, hint, sizeof hint);
    return ph_fail(err, PH_ERR_PERMISSION, "permission denied attaching to %d: %s", (int)pid, hint);
}

static bool dead_state(char s)
{
    return s == 0 || s == 'Z' || s == 'X' || s == 'x';
}

/* Seize and interrupt one thread. A thread that is exiting is skipped, not an error. */
static ph_status seize(struct ph_freeze *fr, pid_t tid, struct ph_error *err)
{
    /* Room first: once seized, a thread must be on the list so every exit path detaches it. */
    if (!grow((void **)&fr->t, &fr->cap, fr->n, sizeof *fr->t))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory freezing process %d", (int)fr->pid);
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
        int e = errno;
        if (e == ESRCH)
            return PH_OK;
        if (e == EPERM && dead_state(ph_proc_task_state(fr->pid, tid)))
            return PH_OK; /* the kernel refuses to attach to a zombie thread */
        if (e == EPERM)
            return permission_error(fr->pid, tid, err);
        return ph_fail(err, PH_ERR_INTERNAL, "PTRACE_SEIZE of thread %d of process %d: %s",
                       (int)tid, (int)fr->pid, strerror(e));
    }
    assert(fr->n < fr->cap);
    fr->t[fr->n++] = (struct tracee){tid, 0, false};
    /* ESRCH here means the thread is on its way out: the wait loop sees it exit. */
    if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0 && errno != ESRCH)
        return ph_fail(err, PH_ERR_INTERNAL, "PTRACE_INTERRUPT of thread %d of process %d: %s",
                       (int)tid, (int)fr->pid, strerror(errno));
    return PH_OK;
}

/* The leader's exit is only peeked at (WNOWAIT): reaping it would steal it from its parent. */
static int poll_leader(pid_t tid, int *status)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) != 0)
        return -1;
    if (si.si_pid == 0)
        return 0;
    if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
        *status = 0; /* reads as WIFEXITED */
        return tid;
    }
    return waitpid(tid, status, WNOHANG | __WALL);
}

/* One non-blocking look at thread i. Returns true when the thread left the list. */
static bool poll_one(struct ph_freeze *fr, size_t i, bool *progress)
{
    struct tracee *t = &fr->t[i];
    int status = 0;
    pid_t r = t->tid == fr->pid ? poll_leader(t->tid, &status)
                                : waitpid(t->tid, &status, WNOHANG | __WALL);
    if (r == 0 || (r < 0 && errno == EINTR))
        return false;
    *progress = true;
    if (r < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
        drop(fr, i); /* ECHILD: not ours any more (exec by another thread, or gone) */
        return true;
    }
    assert(WIFSTOPPED(status));
    if ((status >> 16) == 0 && !t->stopped)
        t->sig = WSTOPSIG(status); /* signal-delivery-stop: the signal is ours to give back */
    t->stopped = true;
    return false;
}

/* A leader that has not stopped after a while may be a zombie the kernel will not report while
 * other threads live: count it as gone. Other threads always report their exit. */
static void drop_zombie_leader(struct ph_freeze *fr)
{
    for (size_t i = fr->n; i-- > 0;)
        if (fr->t[i].tid == fr->pid && !fr->t[i].stopped &&
            dead_state(ph_proc_task_state(fr->pid, fr->t[i].tid)))
            drop(fr, i);
}

static void back_off(unsigned round, unsigned *delay_us)
{
    if (round < 4) {
        sched_yield();
        return;
    }
    struct timespec ts = {0, (long)*delay_us * 1000};
    nanosleep(&ts, NULL); /* EINTR is fine: the caller re-checks cancel */
    if (*delay_us < MAX_DELAY_US)
        *delay_us *= 2;
}

/* Poll until every seized thread is stopped or gone; bounded by the deadline, not a count. */
static ph_status wait_stopped(struct ph_freeze *fr, volatile sig_atomic_t *cancel, int timeout_s,
                              struct ph_error *err)
{
    double deadline = now_s() + timeout_s;
    unsigned delay_us = 10;
    for (unsigned round = 0;; round++) {
        size_t pending = 0;
        bool progress = false;
        for (size_t i = fr->n; i-- > 0;)
            if (!poll_one(fr, i, &progress) && !fr->t[i].stopped)
                pending++;
        if (pending == 0)
            return PH_OK;
        if (cancelled(cancel))
            return ph_fail(err, PH_ERR_INTERRUPTED, "interrupted while freezing process %d; it "
                           "was released", (int)fr->pid);
        if (!progress && delay_us >= 100)
            drop_zombie_leader(fr);
        if (now_s() > deadline) {
            pid_t tid = 0;
            for (size_t i = 0; i < fr->n && !tid; i++)
                tid = fr->t[i].stopped ? 0 : fr->t[i].tid;
            char state = tid ? ph_proc_task_state(fr->pid, tid) : 0;
            return ph_fail(err, PH_ERR_INCONSISTENT, "thread %d of process %d did not stop "
                           "within %d s (state %c: uninterruptible sleep?)", (int)tid,
                           (int)fr->pid, timeout_s, state ? state : '?');
        }
        back_off(round, &delay_us);
    }
}

static bool seen_before(const struct ph_freeze *fr, size_t nsorted, pid_t tid)
{
    return nsorted > 0 && bsearch(&tid, fr->seen, nsorted, sizeof tid, cmp_pid) != NULL;
}

/* One listing of /proc/PID/task: seize whatever is new. *fresh counts the new threads. */
static ph_status one_pass(struct ph_freeze *fr, volatile sig_atomic_t *cancel, size_t *fresh,
                          struct ph_error *err)
{
    pid_t *tids;
    size_t n;
    ph_status st = ph_proc_threads(fr->pid, &tids, &n, err);
    if (st == PH_ERR_NO_PROCESS && fr->nseen > 0)
        return ph_fail(err, PH_ERR_TARGET_EXITED, "process %d exited while being frozen",
                       (int)fr->pid);
    if (st != PH_OK)
        return st;
    size_t nsorted = fr->nseen;
    *fresh = 0;
    for (size_t i = 0; i < n && st == PH_OK; i++) {
        if (seen_before(fr, nsorted, tids[i]))
            continue;
        if (cancelled(cancel))
            st = ph_fail(err, PH_ERR_INTERRUPTED, "interrupted while freezing process %d; it "
                         "was released", (int)fr->pid);
        else if (!grow((void **)&fr->seen, &fr->seencap, fr->nseen, sizeof *fr->seen))
            st = ph_fail(err, PH_ERR_INTERNAL, "out of memory freezing process %d", (int)fr->pid);
        else {
            fr->seen[fr->nseen++] = tids[i];
            (*fresh)++;
            st = seize(fr, tids[i], err);
        }
    }
    free(tids);
    if (fr->nseen > 0)
        qsort(fr->seen, fr->nseen, sizeof *fr->seen, cmp_pid);
    return st == PH_OK ? wait_stopped(fr, cancel, STOP_TIMEOUT_S, err) : st;
}

static ph_status freeze_all(struct ph_freeze *fr, volatile sig_atomic_t *cancel,
                            struct ph_error *err)
{
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        size_t fresh = 0;
        ph_status st = one_pass(fr, cancel, &fresh, err);
        if (st != PH_OK)
            return st;
        if (fresh > 0)
            continue;
        /* A full pass found nothing new while everything seen is stopped: the set is closed. */
        if (fr->n == 0)
            return ph_fail(err, PH_ERR_TARGET_EXITED, "process %d exited while being frozen",
                           (int)fr->pid);
        return PH_OK;
    }
    return ph_fail(err, PH_ERR_INCONSISTENT, "process %d kept creating threads: still new ones "
                   "after %d passes over /proc/%d/task", (int)fr->pid, MAX_PASSES, (int)fr->pid);
}

/* Detach everything still seized; returns how many detached cleanly. PTRACE_DETACH needs a
 * stopped tracee, so stragglers get a moment to stop first. A detach that fails with ESRCH means
 * the thread was killed while frozen: it is left in the list, not stopped, so the next wait
 * reaps its exit (an unreaped traced zombie would hold back the leader's exit report for ever). */
static size_t release_all(struct ph_freeze *fr)
{
    size_t released = 0;
    for (int round = 0; round < 3 && fr->n > 0; round++) {
        (void)wait_stopped(fr, NULL, SETTLE_TIMEOUT_S, NULL);
        for (size_t i = fr->n; i-- > 0;) {
            struct tracee *t = &fr->t[i];
            if (!t->stopped)
                continue; /* did not stop in time: cannot be detached */
            if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->sig) == 0) {
                released++;
                drop(fr, i);
            } else if (errno == ESRCH) {
                t->stopped = false;
            } else {
                drop(fr, i);
            }
        }
    }
    fr->n = 0; /* whatever is left, the kernel detaches when we exit */
    return released;
}

static void free_freeze(struct ph_freeze *fr)
{
    free(fr->t);
    free(fr->seen);
    free(fr->tids);
    free(fr);
}

static ph_status export_tids(struct ph_freeze *fr, struct ph_error *err)
{
    fr->tids = malloc(fr->n * sizeof *fr->tids);
    if (!fr->tids)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory freezing process %d", (int)fr->pid);
    for (size_t i = 0; i < fr->n; i++) {
        assert(fr->t[i].stopped);
        fr->tids[i] = fr->t[i].tid;
    }
    qsort(fr->tids, fr->n, sizeof *fr->tids, cmp_pid);
    return PH_OK;
}

ph_status ph_freeze(pid_t pid, volatile sig_atomic_t *cancel, struct ph_freeze **out,
                    struct ph_error *err)
{
    *out = NULL;
    if (pid <= 0)
        return ph_fail(err, PH_ERR_NO_PROCESS, "no such process: %d", (int)pid);
    if (pid == getpid())
        return ph_fail(err, PH_ERR_USAGE, "pyheap cannot freeze itself (pid %d)", (int)pid);
    struct ph_freeze *fr = calloc(1, sizeof *fr);
    if (!fr)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory freezing process %d", (int)pid);
    fr->pid = pid;
    ph_status st = freeze_all(fr, cancel, err);
    if (st == PH_OK)
        st = export_tids(fr, err);
    if (st != PH_OK) {
        release_all(fr);
        free_freeze(fr);
        return st;
    }
    *out = fr;
    return PH_OK;
}

size_t ph_thaw(struct ph_freeze *fr)
{
    if (!fr)
        return 0;
    size_t released = release_all(fr);
    free_freeze(fr);
    return released;
}

size_t ph_freeze_count(const struct ph_freeze *fr)
{
    return fr ? fr->n : 0;
}

const pid_t *ph_freeze_tids(const struct ph_freeze *fr)
{
    return fr ? fr->tids : NULL;
}
