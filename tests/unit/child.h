/*
 * child.h: a forked child process that unit tests read, driven over two pipes.
 *
 * The child runs `body(cmd_fd, reply_fd)`, which first writes a fixed-size hello (the addresses
 * of what it mapped), then answers one-byte commands with one byte each. Nothing sleeps to
 * synchronise: every step waits for the child's reply. Header-only: each test binary is one
 * translation unit plus the engine.
 */
#ifndef PH_TEST_CHILD_H
#define PH_TEST_CHILD_H

#include <check.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct test_child {
    pid_t pid; /* -1 once reaped */
    int cmd_w, reply_r;
};

/* Fork the child and read its hello (hello_len bytes) into hello. */
static inline void test_child_start(struct test_child *c, void (*body)(int cmd_fd, int reply_fd),
                                    void *hello, size_t hello_len)
{
    int cmd[2], reply[2];
    ck_assert(pipe(cmd) == 0 && pipe(reply) == 0);
    c->pid = fork();
    ck_assert_int_ge(c->pid, 0);
    if (c->pid == 0) {
        close(cmd[1]);
        close(reply[0]);
        body(cmd[0], reply[1]);
        _exit(0);
    }
    close(cmd[0]);
    close(reply[1]);
    c->cmd_w = cmd[1];
    c->reply_r = reply[0];
    ck_assert_int_eq(read(c->reply_r, hello, hello_len), (ssize_t)hello_len);
}

/* Send one command and wait for the child's one-byte reply. */
static inline void test_child_command(struct test_child *c, char cmd)
{
    char k;
    ck_assert_int_eq(write(c->cmd_w, &cmd, 1), 1);
    ck_assert_int_eq(read(c->reply_r, &k, 1), 1);
}

/* SIGKILL and reap the child, if it is still there. */
static inline void test_child_kill(struct test_child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        c->pid = -1;
    }
}

static inline void test_child_stop(struct test_child *c)
{
    test_child_kill(c);
    close(c->cmd_w);
    close(c->reply_r);
}

#endif
