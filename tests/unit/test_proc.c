/*
 * test_proc.c: ph_proc_* on real processes: a stopped child of ours, a zombie, a process in its
 * own PID namespace (NSpid), and the ways of opening a mapped file.
 */
#include <check.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/proc/proc.h"
#include "tests/unit/check_run.h"

/* A child that blocks on a pipe until the test closes it. */
static pid_t start_waiter(int *release_fd)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char c;
        close(p[1]);
        _exit(read(p[0], &c, 1) < 0);
    }
    close(p[0]);
    *release_fd = p[1];
    return pid;
}

static void end_waiter(pid_t pid, int release_fd)
{
    close(release_fd);
    waitpid(pid, NULL, 0);
}

START_TEST(open_child)
{
    int rel;
    pid_t pid = start_waiter(&rel);
    struct ph_proc p;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_proc_open(pid, &p, &err), PH_OK);
    ck_assert_int_eq(p.pid, pid);
    ck_assert_int_eq(p.nspid, pid);
    ck_assert_int_eq(p.tracer, 0);
    ck_assert_uint_eq(p.uid, geteuid());
    ck_assert_str_eq(p.name, "test_proc");
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_int_gt(n, 0);
    self[n] = '\0';
    ck_assert_str_eq(p.exe, self);
    char root[64];
    snprintf(root, sizeof root, "/proc/%d/root", (int)pid);
    ck_assert_str_eq(p.root, root);
    ck_assert_uint_gt(p.maps.n, 0);
    ck_assert_int_eq(ph_proc_refresh_maps(&p, &err), PH_OK);
    ck_assert_uint_gt(p.maps.n, 0);
    ck_assert(ph_proc_alive(pid));
    /* Sleeping in read(), or not there yet on a loaded machine (R, or D while paging in):
     * either way alive and not stopped. */
    char state = ph_proc_task_state(pid, pid);
    ck_assert_msg(state && state != 't' && state != 'T', "state %c", state);
    ck_assert_int_eq(ph_proc_tracer_pid(pid, pid), 0);
    pid_t *tids;
    size_t nt;
    ck_assert_int_eq(ph_proc_threads(pid, &tids, &nt, &err), PH_OK);
    ck_assert_uint_eq(nt, 1);
    ck_assert_int_eq(tids[0], pid);
    free(tids);
    ph_proc_close(&p);
    end_waiter(pid, rel);
}
END_TEST

START_TEST(gone_and_zombie)
{
    struct ph_proc p;
    struct ph_error err = {0};
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    siginfo_t si; /* zombie: exited, not reaped */
    ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    ck_assert_int_eq(ph_proc_open(pid, &p, &err), PH_ERR_NO_PROCESS);
    ck_assert_msg(strstr(err.msg, "zombie"), "%s", err.msg);
    ck_assert(!ph_proc_alive(pid));
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    ck_assert_int_eq(ph_proc_open(pid, &p, &err), PH_ERR_NO_PROCESS);
    char want[48];
    snprintf(want, sizeof want, "no such process: %d", (int)pid);
    ck_assert_str_eq(err.msg, want);
    pid_t *tids;
    size_t n;
    ck_assert_int_eq(ph_proc_threads(pid, &tids, &n, &err), PH_ERR_NO_PROCESS);
    ck_assert_int_eq(ph_proc_task_state(pid, pid), 0);
    ck_assert_int_eq(ph_proc_open(0, &p, &err), PH_ERR_NO_PROCESS);
}
END_TEST

START_TEST(read_file_bounds)
{
    char *text;
    size_t len;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_proc_read_file(getpid(), "status", 1 << 20, &text, &len, &err), PH_OK);
    ck_assert_uint_eq(strlen(text), len);
    ck_assert(strstr(text, "Name:"));
    free(text);
    ck_assert_int_eq(ph_proc_read_file(getpid(), "maps", 16, &text, &len, &err),
                     PH_ERR_CORRUPT_FILE);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(ph_proc_read_file(getpid(), "no-such-file", 100, &text, &len, &err),
                     PH_ERR_NO_PROCESS);
}
END_TEST

START_TEST(open_mapped_ways)
{
    struct ph_proc p;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_proc_open(getpid(), &p, &err), PH_OK);
    const struct ph_map *exe_map = NULL, *anon = NULL;
    for (size_t i = 0; i < p.maps.n; i++) {
        if (!exe_map && strcmp(p.maps.v[i].path, p.exe) == 0)
            exe_map = &p.maps.v[i];
        if (!anon && p.maps.v[i].path[0] == '\0')
            anon = &p.maps.v[i];
    }
    ck_assert_ptr_nonnull(exe_map);
    const char *how = NULL;
    int fd = ph_proc_open_mapped(&p, exe_map, &how, &err);
    ck_assert_msg(fd >= 0, "%s", err.msg);
    struct stat a, b;
    ck_assert_int_eq(fstat(fd, &a), 0);
    ck_assert_int_eq(stat(p.exe, &b), 0);
    ck_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    ck_assert_ptr_nonnull(how);
    if (geteuid() == 0)
        ck_assert_str_eq(how, "map_files");
    close(fd);
    /* A mapping whose map_files entry does not exist falls back to root + path. */
    struct ph_map fake = *exe_map;
    fake.start += 1;
    fd = ph_proc_open_mapped(&p, &fake, &how, &err);
    ck_assert_int_ge(fd, 0);
    ck_assert_str_eq(how, "root");
    close(fd);
    if (anon)
        ck_assert_int_eq(ph_proc_open_mapped(&p, anon, &how, &err), -1);
    fd = ph_proc_open_in_root(&p, p.exe, &err);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(ph_proc_open_in_root(&p, "/no/such/file", &err), -1);
    ck_assert(strstr(err.msg, "/no/such/file"));
    ph_proc_close(&p);
}
END_TEST

/* In its own PID namespace the process is pid 1 inside: NSpid's last number. */
START_TEST(pid_namespace)
{
    if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0)
        return;
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t outer = fork();
    ck_assert_int_ge(outer, 0);
    if (outer == 0) {
        close(p[1]);
        dup2(p[0], 0);
        execl("/usr/bin/unshare", "unshare", "--pid", "--fork", "/bin/cat", (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    /* cat is unshare's only child; wait (bounded) until it has exec'd. */
    char path[64], kids[64] = "";
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)outer, (int)outer);
    pid_t inner = 0;
    struct ph_proc pr;
    struct ph_error err = {0};
    for (int i = 0; i < 1000000 && !inner; i++) {
        FILE *f = fopen(path, "r");
        if (f && fgets(kids, sizeof kids, f) && atoi(kids) > 0 &&
            ph_proc_open(atoi(kids), &pr, &err) == PH_OK) {
            if (strcmp(pr.name, "cat") == 0)
                inner = atoi(kids);
            else
                ph_proc_close(&pr);
        }
        if (f)
            fclose(f);
        if (!inner)
            sched_yield();
    }
    ck_assert_int_gt(inner, 0);
    ck_assert_int_eq(pr.pid, inner);
    ck_assert_int_eq(pr.nspid, 1);
    ph_proc_close(&pr);
    close(p[1]);
    waitpid(outer, NULL, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proc");
    TCase *tc = tcase_create("proc");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, open_child);
    tcase_add_test(tc, gone_and_zombie);
    tcase_add_test(tc, read_file_bounds);
    tcase_add_test(tc, open_mapped_ways);
    tcase_add_test(tc, pid_namespace);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
