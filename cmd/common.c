/*
 * common.c: what every command does the same way: open a source with the progress display and
 * the test hook, take its heap, select in it, and turn an error into one line on stderr plus
 * its exit code.
 */
#include <errno.h>
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

static void show_progress(void *ctx, const struct ph_progress *p)
{
    struct progress *pr = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - pr->start.tv_sec) + (double)(now.tv_nsec - pr->start.tv_nsec) / 1e9;
    if (secs < 1.0)
        return;
    fprintf(stderr, "\rpyheap: %" PRIu64 " of %" PRIu64 " objects decoded", p->decoded, p->objects);
    pr->shown = true;
}

ph_status cli_open_source(struct cli *cli, const char *spec, struct ph_source **out,
                          struct ph_error *err)
{
    static struct progress progress; /* cmd/ only: lives as long as the process */
    const char *pause = getenv("PYHEAP_TEST_PAUSE_FROZEN");
    if (pause && (strcmp(pause, "1") == 0 || strcmp(pause, "stdin") == 0)) {
        cli->source.on_frozen = strcmp(pause, "1") == 0 ? pause_until_signal : pause_until_stdin;
        cli->source.on_frozen_ctx = (void *)cli->cancel;
    }
    if (isatty(2)) {
        clock_gettime(CLOCK_MONOTONIC, &progress.start);
        cli->source.progress = show_progress;
        cli->source.progress_ctx = &progress;
    }
    ph_status st = ph_source_open(spec, &cli->source, out, err);
    if (progress.shown) {
        fputc('\n', stderr); /* end the progress line */
        progress.shown = false;
    }
    return st;
}

ph_status cli_heap(struct cli *cli, const char *spec, struct ph_graph *g, struct ph_error *err)
{
    struct ph_source *src;
    memset(g, 0, sizeof *g);
    ph_status st = cli_open_source(cli, spec, &src, err);
    if (st != PH_OK)
        return st;
    st = ph_source_heap(src, g, err);
    struct progress *pr = cli->source.progress_ctx;
    if (pr && pr->shown) {
        fputc('\n', stderr);
        pr->shown = false;
    }
    ph_source_close(src);
    return st;
}

ph_status cli_view_selection(struct cli *cli, const struct ph_graph *g, struct ph_view_ctx *v,
                             struct ph_set *sel, struct ph_error *err)
{
    *sel = (struct ph_set){0};
    if (!ph_view_ctx_init(v, g))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    struct ph_set base = {0};
    if (!ph_set_default(g, cli->all, &base))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    if (!ph_selection_active(&cli->sel)) { /* the whole base set: hand it over, no copy */
        *sel = base;
        return PH_OK;
    }
    ph_status st = ph_select(v, &cli->sel, &base, sel, err);
    ph_set_free(&base);
    return st;
}

int cli_finish_output(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "pyheap: writing the output failed: %s\n", strerror(errno ? errno : EIO));
    return PH_ERR_IO;
}
