/*
 * common.c: what every command does the same way: open the session with the progress display
 * and the test hook, and turn an error into one line on stderr plus its exit code.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"

int cli_error(const struct cli *cli, const struct ph_error *err)
{
    (void)cli;
    int code = err->code ? (int)err->code : PH_ERR_INTERNAL;
    fprintf(stderr, "pyheap: %s\n", err->msg[0] ? err->msg : ph_status_describe(err->code));
    return code;
}

/* Test hook. PYHEAP_TEST_PAUSE_FROZEN=1: say "pyheap: frozen" on stderr and wait for a signal,
 * which must thaw the target on the way out. =stdin: wait for a byte (or EOF) on stdin, then go
 * on with the walk (tests kill the target meanwhile). Tests synchronise on the message. */
static void pause_until_signal(void *ctx)
{
    volatile sig_atomic_t *cancel = ctx;
    fprintf(stderr, "pyheap: frozen\n");
    fflush(stderr);
    sigset_t none;
    sigemptyset(&none);
    while (!*cancel)
        sigsuspend(&none);
}

static void pause_until_stdin(void *ctx)
{
    (void)ctx;
    fprintf(stderr, "pyheap: frozen\n");
    fflush(stderr);
    char c;
    while (read(0, &c, 1) < 0 && !*(volatile sig_atomic_t *)ctx)
        ;
}

struct progress {
    struct timespec start;
    bool shown;
};

static void show_progress(void *ctx, uint64_t objects, uint64_t decoded)
{
    struct progress *p = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - p->start.tv_sec) + (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
    if (secs < 1.0)
        return;
    fprintf(stderr, "\rpyheap: %" PRIu64 " of %" PRIu64 " objects decoded", decoded, objects);
    p->shown = true;
}

ph_status cli_open_session(struct cli *cli, struct ph_session *s, struct ph_error *err)
{
    static struct progress progress; /* cmd/ only: lives as long as the process */
    const char *pause = getenv("PYHEAP_TEST_PAUSE_FROZEN");
    if (pause && (strcmp(pause, "1") == 0 || strcmp(pause, "stdin") == 0)) {
        cli->session.on_frozen = strcmp(pause, "1") == 0 ? pause_until_signal : pause_until_stdin;
        cli->session.on_frozen_ctx = (void *)cli->cancel;
    }
    if (isatty(2)) {
        clock_gettime(CLOCK_MONOTONIC, &progress.start);
        cli->session.progress = show_progress;
        cli->session.progress_ctx = &progress;
    }
    return ph_session_open(cli->pid, &cli->session, s, err);
}

ph_status cli_walk(struct cli *cli, struct ph_session *s, struct ph_error *err)
{
    ph_status st = cli_open_session(cli, s, err);
    if (st == PH_OK)
        st = ph_session_walk(s, &cli->session, err);
    if (cli->session.progress && s->walk_ms > 1000)
        fputc('\n', stderr); /* end the progress line */
    if (st != PH_OK)
        ph_session_close(s);
    return st;
}
