/*
 * test_freeze.c: ph_freeze / ph_thaw against real processes.
 *
 * The main target is tests/targets/busy_threads.py under /usr/bin/python3.11: 8 threads spinning
 * under locks, a SIGUSR1 counter, and a ping command that reports counters. Synchronisation is
 * by pipes (READY, PONG lines, waitpid), never by sleeping; the few polls of /proc wait for a
 * state the kernel reaches on its own and are bounded.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/proc/freeze.h"
#include "lib/proc/proc.h"
#include "tests/unit/check_run.h"

#define PYTHON "/usr/bin/python3.11"
#define NWORKERS 8

struct target {
    pid_t pid;
    FILE *in, *out;
};

struct pong {
    long usr1;
    long c[NWORKERS];
};

static const char *script_path(void)
{
    static char path[2 * PATH_MAX];
    static const char rel[] = "tests/targets/busy_threads.py";
    if (access(rel, R_OK) == 0)
        return rel;
    /* Run from elsewhere: the binary lives in build/san/unit/ under the checkout. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ck_assert_int_gt(n, 0);
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(path, sizeof path, "%s/../../../%s", exe, rel);
    return path;
}

static pid_t spawn(const char *const argv[], FILE **in, FILE **out)
{
    int to[2], from[2];
    ck_assert(pipe(to) == 0 && pipe(from) == 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    *in = fdopen(to[1], "w");
    *out = fdopen(from[0], "r");
    ck_assert(*in && *out);
    return pid;
}

static struct target start_busy(void)
{
    struct target t;
    const char *argv[] = {PYTHON, script_path(), NULL};
    t.pid = spawn(argv, &t.in, &t.out);
    char line[256];
    ck_assert_msg(fgets(line, sizeof line, t.out) != NULL, "target died before READY");
    ck_assert_msg(strncmp(line, "READY", 5) == 0, "unexpected first line: %s", line);
    return t;
}

static struct pong ping(struct target *t)
{
    struct pong p;
    char line[512];
    ck_assert(fputs("ping\n", t->in) >= 0 && fflush(t->in) == 0);
    ck_assert(fgets(line, sizeof line, t->out) != NULL);
    int n = sscanf(line, "PONG %ld %ld %ld %ld %ld %ld %ld %ld %ld", &p.usr1, &p.c[0], &p.c[1],
                   &p.c[2], &p.c[3], &p.c[4], &p.c[5], &p.c[6], &p.c[7]);
    ck_assert_msg(n == 1 + NWORKERS, "bad PONG: %s", line);
    return p;
}

static long total(const struct pong *p)
{
    long s = 0;
    for (int i = 0; i < NWORKERS; i++)
        s += p->c[i];
    return s;
}

/* Send quit and return the exit status (the target's own checks). */
static int quit(struct target *t)
{
    int status;
    char line[256] = "";
    fputs("quit\n", t->in);
    fclose(t->in);
    ck_assert_msg(fgets(line, sizeof line, t->out) != NULL, "no BYE line");
    ck_assert_msg(strcmp(line, "BYE ok\n") == 0, "target says: %s", line);
    fclose(t->out);
    ck_assert_int_eq(waitpid(t->pid, &status, 0), t->pid);
    ck_assert_msg(WIFEXITED(status), "target died: status %#x", status);
    return WEXITSTATUS(status);
}

static void kill_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Count the target's threads by state: how many are `want`, and how many in all. */
static size_t count_state(pid_t pid, char want, size_t *all, bool dead_ok)
{
    pid_t *tids;
    size_t n, hits = 0;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_proc_threads(pid, &tids, &n, &err), PH_OK);
    *all = n;
    for (size_t i = 0; i < n; i++) {
        char s = ph_proc_task_state(pid, tids[i]);
        if (s == want || (dead_ok && (s == 0 || s == 'Z' || s == 'X')))
            hits++;
    }
    free(tids);
    return hits;
}

static void expect_all(pid_t pid, char want)
{
    size_t all, hits = count_state(pid, want, &all, false);
    ck_assert_msg(hits == all, "%zu of %zu threads in state %c", hits, all, want);
}

static void expect_none(pid_t pid, char unwanted)
{
    size_t all, hits = count_state(pid, unwanted, &all, false);
    ck_assert_msg(hits == 0, "%zu of %zu threads still in state %c", hits, all, unwanted);
}

/* Wait (bounded, no fixed sleep) for a state the kernel reaches by itself. */
static void await_all(pid_t pid, char want)
{
    size_t all = 0, hits = 0;
    for (int i = 0; i < 1000000 && (hits = count_state(pid, want, &all, false)) != all; i++)
        sched_yield();
    ck_assert_msg(hits == all, "%zu of %zu threads reached state %c", hits, all, want);
}

static struct ph_freeze *freeze_ok(pid_t pid)
{
    struct ph_freeze *fr;
    struct ph_error err = {0};
    ph_status st = ph_freeze(pid, NULL, &fr, &err);
    ck_assert_msg(st == PH_OK, "freeze: %s (%s)", err.msg, ph_status_name(st));
    return fr;
}

START_TEST(cycles_200)
{
    struct target t = start_busy();
    struct pong first = ping(&t), prev = first;
    long sent = 0;
    for (int cycle = 0; cycle < 200; cycle++) {
        if (cycle % 2) { /* a signal in flight while we seize: it must not be lost */
            ck_assert_int_eq(kill(t.pid, SIGUSR1), 0);
            sent++;
        }
        struct ph_freeze *fr = freeze_ok(t.pid);
        size_t all, stopped = count_state(t.pid, 't', &all, false);
        ck_assert_msg(stopped == all, "cycle %d: %zu of %zu threads in 't'", cycle, stopped, all);
        ck_assert_uint_eq(ph_freeze_count(fr), all);
        ck_assert_uint_eq(all, 1 + NWORKERS);
        const pid_t *tids = ph_freeze_tids(fr);
        ck_assert_int_eq(tids[0], t.pid); /* sorted: the leader has the lowest tid */
        for (size_t i = 1; i < ph_freeze_count(fr); i++)
            ck_assert_int_lt(tids[i - 1], tids[i]);
        ck_assert_uint_eq(ph_thaw(fr), all);
        expect_none(t.pid, 't');
        /* The main thread may answer before a worker wins the GIL back, so ask again until
         * the workers show progress; threads left stopped never would. */
        struct pong p = ping(&t);
        for (int tries = 0; tries < 1000 && total(&p) <= total(&prev); tries++)
            p = ping(&t);
        ck_assert_msg(total(&p) > total(&prev), "cycle %d: no progress after thaw", cycle);
        ck_assert_msg(p.usr1 == sent, "cycle %d: %ld SIGUSR1 handled, %ld sent", cycle, p.usr1,
                      sent);
        prev = p;
    }
    for (int i = 0; i < NWORKERS; i++)
        ck_assert_msg(prev.c[i] > first.c[i], "worker %d made no progress", i);
    ck_assert_int_eq(quit(&t), 0);
}
END_TEST

/* A job-control stop survives a freeze: the threads are 't' while frozen and 'T' again after. */
START_TEST(group_stopped_target)
{
    struct target t = start_busy();
    int status;
    ck_assert_int_eq(kill(t.pid, SIGSTOP), 0);
    ck_assert_int_eq(waitpid(t.pid, &status, WUNTRACED), t.pid);
    ck_assert(WIFSTOPPED(status));
    await_all(t.pid, 'T');
    for (int i = 0; i < 5; i++) {
        struct ph_freeze *fr = freeze_ok(t.pid);
        expect_all(t.pid, 't');
        ck_assert_uint_eq(ph_freeze_count(fr), 1 + NWORKERS);
        ph_thaw(fr);
        await_all(t.pid, 'T'); /* woken by the detach, they stop again by themselves */
    }
    ck_assert_int_eq(kill(t.pid, SIGCONT), 0);
    ck_assert_int_eq(waitpid(t.pid, &status, WCONTINUED), t.pid);
    ck_assert(WIFCONTINUED(status));
    struct pong a = ping(&t), b = ping(&t);
    for (int tries = 0; tries < 1000 && total(&b) <= total(&a); tries++)
        b = ping(&t);
    ck_assert(total(&b) > total(&a));
    ck_assert_int_eq(quit(&t), 0);
}
END_TEST

static void *short_life(void *arg)
{
    return arg;
}

static void *long_life(void *arg)
{
    for (volatile unsigned long i = 0;; i++)
        if (i == 0)
            sched_yield();
    return arg;
}

/* Threads born and dying during the freeze: re-listing, ESRCH and exit reports. */
START_TEST(thread_churn)
{
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        pthread_t th;
        for (int i = 0; i < 3; i++)
            pthread_create(&th, NULL, long_life, NULL);
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        for (;;) {
            if (pthread_create(&th, NULL, short_life, NULL) == 0)
                pthread_join(th, NULL);
        }
    }
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    for (int i = 0; i < 100; i++) {
        struct ph_freeze *fr = freeze_ok(pid);
        size_t all, frozen = count_state(pid, 't', &all, false);
        size_t settled = count_state(pid, 't', &all, true);
        ck_assert_msg(settled == all, "%zu of %zu threads neither frozen nor dead", settled, all);
        ck_assert_uint_eq(ph_freeze_count(fr), frozen);
        ck_assert_uint_ge(frozen, 4);
        ph_thaw(fr);
    }
    expect_none(pid, 't');
    kill_reap(pid);
    close(ready[0]);
    close(ready[1]);
}
END_TEST

/* A target whose threads signal themselves without pause: raise() runs the handler before it
 * returns, so after every raise handled == sent unless a freeze swallowed the signal. Freezes
 * land between a raise and its delivery often, which takes the signal-delivery-stop path. */
enum { SELF_THREADS = 3 };
static _Thread_local volatile sig_atomic_t handled_here;
static volatile sig_atomic_t selfsig_quit, selfsig_bad;

static void on_self_signal(int sig)
{
    (void)sig;
    handled_here++;
}

static void *self_signaller(void *arg)
{
    long *sent = arg;
    while (!selfsig_quit) {
        (*sent)++;
        raise(SIGUSR1);
        if (handled_here != *sent)
            selfsig_bad = 1;
    }
    return NULL;
}

static void self_signal_child(int cmd_fd, int reply_fd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_self_signal;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t th[SELF_THREADS];
    long sent[SELF_THREADS] = {0};
    for (int i = 0; i < SELF_THREADS; i++)
        pthread_create(&th[i], NULL, self_signaller, &sent[i]);
    char c = 'r';
    if (write(reply_fd, &c, 1) != 1 || read(cmd_fd, &c, 1) != 1)
        _exit(3);
    selfsig_quit = 1;
    long total = 0;
    for (int i = 0; i < SELF_THREADS; i++) {
        pthread_join(th[i], NULL);
        total += sent[i];
    }
    char line[64];
    int n = snprintf(line, sizeof line, "%d %ld\n", (int)selfsig_bad, total);
    _exit(write(reply_fd, line, (size_t)n) == n ? 0 : 4);
}

START_TEST(signals_not_lost)
{
    int cmd[2], reply[2];
    ck_assert(pipe(cmd) == 0 && pipe(reply) == 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        self_signal_child(cmd[0], reply[1]);
    char c;
    ck_assert_int_eq(read(reply[0], &c, 1), 1);
    for (int i = 0; i < 300; i++) {
        struct ph_freeze *fr = freeze_ok(pid);
        ck_assert_uint_eq(ph_freeze_count(fr), 1 + SELF_THREADS);
        expect_all(pid, 't');
        ph_thaw(fr);
    }
    ck_assert_int_eq(write(cmd[1], "q", 1), 1);
    char line[64] = "";
    ck_assert_int_gt(read(reply[0], line, sizeof line - 1), 0);
    int bad = -1;
    long total = 0;
    ck_assert_int_eq(sscanf(line, "%d %ld", &bad, &total), 2);
    ck_assert_msg(bad == 0, "a raised signal was lost across a freeze (%ld sent)", total);
    ck_assert_int_gt(total, 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(cmd[0]);
    close(cmd[1]);
    close(reply[0]);
    close(reply[1]);
}
END_TEST

START_TEST(no_such_process)
{
    struct ph_freeze *fr = (struct ph_freeze *)1;
    struct ph_error err = {0};
    pid_t gone = fork();
    ck_assert_int_ge(gone, 0);
    if (gone == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(gone, NULL, 0), gone);
    ck_assert_int_eq(ph_freeze(gone, NULL, &fr, &err), PH_ERR_NO_PROCESS);
    ck_assert_ptr_null(fr);
    char want[64];
    snprintf(want, sizeof want, "no such process: %d", (int)gone);
    ck_assert_msg(strstr(err.msg, want), "%s", err.msg);
    ck_assert_int_eq(ph_freeze(0, NULL, &fr, &err), PH_ERR_NO_PROCESS);
    ck_assert_int_eq(ph_freeze(-3, NULL, &fr, &err), PH_ERR_NO_PROCESS);
    ck_assert_int_eq(ph_freeze(getpid(), NULL, &fr, &err), PH_ERR_USAGE);
    ck_assert_uint_eq(ph_thaw(NULL), 0);
    ck_assert_uint_eq(ph_freeze_count(NULL), 0);
}
END_TEST

static pid_t start_sleep(FILE **in, FILE **out)
{
    const char *argv[] = {"/bin/sleep", "1000", NULL};
    return spawn(argv, in, out);
}

/* Another tracer (a forked child holding PTRACE_SEIZE) already owns the target. */
START_TEST(already_traced)
{
    FILE *in, *out;
    pid_t target = start_sleep(&in, &out);
    int hold[2], ack[2];
    ck_assert(pipe(hold) == 0 && pipe(ack) == 0);
    pid_t tracer = fork();
    ck_assert_int_ge(tracer, 0);
    if (tracer == 0) {
        close(hold[1]);
        char ok = ptrace(PTRACE_SEIZE, target, NULL, NULL) == 0 ? 'y' : 'n';
        if (write(ack[1], &ok, 1) != 1)
            _exit(1);
        char c;
        while (read(hold[0], &c, 1) > 0) /* hold the target until the test lets go */
            ;
        _exit(0);
    }
    close(hold[0]);
    char ok;
    ck_assert_int_eq(read(ack[0], &ok, 1), 1);
    ck_assert_int_eq(ok, 'y');

    struct ph_freeze *fr;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_freeze(target, NULL, &fr, &err), PH_ERR_ALREADY_TRACED);
    char want[80];
    snprintf(want, sizeof want, "already traced by pid %d", (int)tracer);
    ck_assert_msg(strstr(err.msg, want), "%s", err.msg);
    ck_assert(ph_proc_alive(target));
    char s = ph_proc_task_state(target, target);
    /* Not stopped by us: any state but t/T (D is possible while sleep is still paging in). */
    ck_assert_msg(s && s != 't' && s != 'T', "target state %c", s);

    close(hold[1]); /* the tracer exits; the kernel detaches it */
    ck_assert_int_eq(waitpid(tracer, NULL, 0), tracer);
    fr = freeze_ok(target);
    ck_assert_uint_eq(ph_thaw(fr), 1);
    kill_reap(target);
    fclose(in);
    fclose(out);
    close(ack[0]);
    close(ack[1]);
}
END_TEST

/* Without privilege: PH_ERR_PERMISSION with a hint, and the target left alone. */
START_TEST(permission_denied)
{
    if (geteuid() != 0)
        return; /* needs root to become someone else */
    FILE *in, *out;
    pid_t target = start_sleep(&in, &out);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
            _exit(2);
        struct ph_freeze *fr;
        struct ph_error err = {0};
        ph_status st = ph_freeze(target, NULL, &fr, &err);
        bool good = st == PH_ERR_PERMISSION && strstr(err.msg, "CAP_SYS_PTRACE") &&
                    strstr(err.msg, "permission denied attaching to");
        if (!good)
            fprintf(stderr, "unexpected: %s: %s\n", ph_status_name(st), err.msg);
        _exit(good ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    ck_assert_int_eq(ph_proc_tracer_pid(target, target), 0);
    kill_reap(target);
    fclose(in);
    fclose(out);
}
END_TEST

START_TEST(cancelled_before_start)
{
    FILE *in, *out;
    pid_t target = start_sleep(&in, &out);
    volatile sig_atomic_t cancel = 1;
    struct ph_freeze *fr;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_freeze(target, &cancel, &fr, &err), PH_ERR_INTERRUPTED);
    ck_assert_ptr_null(fr);
    ck_assert_int_eq(ph_proc_tracer_pid(target, target), 0);
    cancel = 0;
    fr = NULL;
    ck_assert_int_eq(ph_freeze(target, &cancel, &fr, &err), PH_OK);
    ck_assert_int_eq(ph_proc_tracer_pid(target, target), getpid());
    ph_thaw(fr);
    ck_assert_int_eq(ph_proc_tracer_pid(target, target), 0);
    kill_reap(target);
    fclose(in);
    fclose(out);
}
END_TEST

/* The target dies while frozen: thaw must cope (detach fails with ESRCH) and not hang. */
START_TEST(killed_while_frozen)
{
    struct target t = start_busy();
    struct ph_freeze *fr = freeze_ok(t.pid);
    ck_assert_int_eq(kill(t.pid, SIGKILL), 0);
    ph_thaw(fr);
    int status;
    ck_assert_int_eq(waitpid(t.pid, &status, 0), t.pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    fclose(t.in);
    fclose(t.out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("freeze");
    TCase *tc = tcase_create("python");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, cycles_200);
    tcase_add_test(tc, group_stopped_target);
    tcase_add_test(tc, killed_while_frozen);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, thread_churn);
    tcase_add_test(tc, signals_not_lost);
    tcase_add_test(tc, no_such_process);
    tcase_add_test(tc, already_traced);
    tcase_add_test(tc, permission_denied);
    tcase_add_test(tc, cancelled_before_start);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
