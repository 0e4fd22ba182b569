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
#include "lib/heap/diff.h"
#include "lib/heap/snapshot.h"
#include "lib/outfile.h"

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

/* The progress line on a terminal: shown once work has taken PROGRESS_AFTER, redrawn at most
 * every PROGRESS_EVERY, erased when the work is done. Never on a pipe, never with --quiet. */
#define PROGRESS_AFTER 0.3
#define PROGRESS_EVERY 0.1

struct progress {
    struct timespec start;
    double last;
    int width; /* of the line on the screen, 0 when none */
};

static double seconds_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void show_progress(void *ctx, const struct ph_progress *p)
{
    struct progress *pr = ctx;
    double t = seconds_since(&pr->start);
    if (t < PROGRESS_AFTER || (pr->width && t - pr->last < PROGRESS_EVERY))
        return;
    pr->last = t;
    char line[160], stopped[64] = "";
    if (p->stopped_ms >= 0)
        snprintf(stopped, sizeof stopped, "; target stopped %.1f s", p->stopped_ms / 1000.0);
    if (p->phase == PH_PHASE_READ)
        snprintf(line, sizeof line, "pyheap: reading a snapshot of %" PRIu64 " objects", p->objects);
    else if (p->phase == PH_PHASE_WALK && !p->decoded)
        snprintf(line, sizeof line, "pyheap: listing objects: %" PRIu64 "%s", p->objects, stopped);
    else
        snprintf(line, sizeof line, "pyheap: decoding objects: %" PRIu64 " of %" PRIu64 "%s",
                 p->decoded, p->objects, stopped);
    int n = (int)strlen(line);
    fprintf(stderr, "\r%s%*s", line, pr->width > n ? pr->width - n : 0, "");
    if (n > pr->width)
        pr->width = n;
}

static void erase_progress(struct progress *pr)
{
    if (pr && pr->width) {
        fprintf(stderr, "\r%*s\r", pr->width, "");
        pr->width = 0;
    }
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
    if (isatty(2) && !cli->quiet) {
        progress = (struct progress){.width = 0};
        clock_gettime(CLOCK_MONOTONIC, &progress.start);
        cli->source.progress = show_progress;
        cli->source.progress_ctx = &progress;
    }
    ph_status st = ph_source_open(spec, &cli->source, out, err);
    erase_progress(cli->source.progress_ctx);
    if (st == PH_OK && ph_source_warning(*out))
        fprintf(stderr, "pyheap: warning: %s\n", ph_source_warning(*out));
    return st;
}

/* The heap of an open source; a note on stderr when the default copy was not taken. */
static ph_status source_heap(struct cli *cli, struct ph_source *src, struct ph_graph *g,
                             struct ph_error *err)
{
    ph_status st = ph_source_heap(src, g, err);
    erase_progress(cli->source.progress_ctx);
    if (st == PH_OK && ph_source_note(src))
        fprintf(stderr, "pyheap: note: %s\n", ph_source_note(src));
    return st;
}

ph_status cli_heap(struct cli *cli, const char *spec, struct ph_graph *g, struct ph_error *err)
{
    struct ph_source *src;
    memset(g, 0, sizeof *g);
    ph_status st = cli_open_source(cli, spec, &src, err);
    if (st != PH_OK)
        return st;
    st = source_heap(cli, src, g, err);
    ph_source_close(src);
    return st;
}

/* diff --interval: the second look comes SECONDS after the first, unless a signal ends it. */
static ph_status wait_interval(struct cli *cli, const struct ph_graph *first, struct ph_error *err)
{
    fprintf(stderr, "pyheap: first walk: %zu objects; walking again in %u s\n", first->n,
            cli->interval);
    fflush(stderr);
    struct timespec left = {(time_t)cli->interval, 0};
    while (nanosleep(&left, &left) != 0 && !*cli->cancel)
        ;
    return *cli->cancel ? ph_fail(err, PH_ERR_INTERRUPTED, "interrupted; nothing compared") : PH_OK;
}

/* OLD then NEW: diff's two sources, --since's file and the source, or one pid twice. */
static ph_status load_two(struct cli *cli, struct cli_heaps *h, struct ph_error *err)
{
    const char *old_spec = cli->command->id == CMD_DIFF ? cli->sources[0] : cli->since;
    const char *new_spec = cli->command->id == CMD_DIFF ? cli->sources[1] : cli->sources[0];
    h->have_old = true;
    if (!cli->interval) {
        ph_status st = cli_heap(cli, old_spec, &h->old, err);
        return st == PH_OK ? cli_heap(cli, new_spec, &h->g, err) : st;
    }
    struct ph_source *src;
    ph_status st = cli_open_source(cli, cli->sources[0], &src, err);
    if (st != PH_OK)
        return st;
    st = source_heap(cli, src, &h->old, err);
    if (st == PH_OK)
        st = wait_interval(cli, &h->old, err);
    if (st == PH_OK)
        st = source_heap(cli, src, &h->g, err);
    ph_source_close(src);
    return st;
}

/* Test hook: PYHEAP_TEST_PAUSE_WRITTEN=1 says "pyheap: written" on stderr once a snapshot is
 * written but not yet named, then waits for a signal: tests SIGKILL pyheap there and check that
 * no file appeared. */
static void pause_if_asked(const struct cli *cli)
{
    const char *pause = getenv("PYHEAP_TEST_PAUSE_WRITTEN");
    if (!pause || strcmp(pause, "1") != 0)
        return;
    fprintf(stderr, "pyheap: written\n");
    fflush(stderr);
    sigset_t none;
    sigemptyset(&none);
    while (!*cli->cancel)
        sigsuspend(&none);
}

ph_status cli_save(const struct cli *cli, const struct ph_graph *g, const char *path,
                   struct ph_error *err)
{
    struct ph_outfile out;
    ph_status st = ph_outfile_open(path, &out, err);
    if (st != PH_OK)
        return st;
    st = ph_snapshot_write(g, out.fd, out.shown, err);
    if (st == PH_OK)
        pause_if_asked(cli);
    if (st == PH_OK && *cli->cancel)
        st = ph_fail(err, PH_ERR_INTERRUPTED, "interrupted; no snapshot written");
    if (st == PH_OK)
        return ph_outfile_commit(&out, err);
    ph_outfile_abort(&out);
    return st;
}

/* The view, the default set, the objects to start from (new ones when comparing), the
 * selection. */
static ph_status select_objects(struct cli *cli, struct cli_heaps *h, struct ph_error *err)
{
    if (!ph_view_ctx_init(&h->v, &h->g))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    if (!ph_set_default(&h->g, cli->all, &h->base))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    /* Without a comparison or a selection the three sets are one: shared, not copied (each
     * copy is 4 bytes per object, faulted in). */
    ph_status st = PH_OK;
    if (h->have_old)
        st = ph_diff_new_objects(&h->old, &h->g, &h->base, &h->start, err);
    else
        h->start = h->base, h->shared |= START_IS_BASE;
    if (st == PH_OK && ph_selection_active(&cli->sel))
        st = ph_select(&h->v, &cli->sel, &h->start, &h->base, &h->sel, err);
    else if (st == PH_OK)
        h->sel = h->start, h->shared |= SEL_IS_START;
    return st;
}

ph_status cli_load(struct cli *cli, struct cli_heaps *h, struct ph_error *err)
{
    memset(h, 0, sizeof *h);
    bool two = cli->command->id == CMD_DIFF || cli->since;
    ph_status st = two ? load_two(cli, h, err) : cli_heap(cli, cli->sources[0], &h->g, err);
    if (st == PH_OK && cli->save)
        st = cli_save(cli, &h->g, cli->save, err);
    if (st == PH_OK && !cli->kinds)
        st = select_objects(cli, h, err);
    return st;
}

ph_status cli_unshown(struct cli *cli, struct cli_heaps *h, uint64_t *count, uint64_t *size,
                      struct ph_error *err)
{
    *count = *size = 0;
    if (cli->all)
        return PH_OK;
    if (!h->have_old && !ph_selection_active(&cli->sel)) {
        /* Nothing narrows the set: what --all adds is every unreachable object, counted
         * without building three sets of every object. */
        ph_unreachable_totals(&h->g, count, size);
        return PH_OK;
    }
    struct ph_set all = {0}, start_all = {0};
    ph_status st = ph_set_default(&h->g, true, &all) ? PH_OK
                   : ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    if (st == PH_OK)
        st = h->have_old ? ph_diff_new_objects(&h->old, &h->g, &all, &start_all, err)
                         : (ph_select_size(&h->g, &all, 0, UINT64_MAX, &start_all)
                                ? PH_OK : ph_fail(err, PH_ERR_INTERNAL, "out of memory"));
    if (st == PH_OK)
        st = ph_select_unreachable(&h->v, &cli->sel, &h->start, &start_all, &all, count, size, err);
    ph_set_free(&all);
    ph_set_free(&start_all);
    return st;
}

void cli_heaps_free(struct cli_heaps *h)
{
    if (!(h->shared & SEL_IS_START))
        ph_set_free(&h->sel);
    if (!(h->shared & START_IS_BASE))
        ph_set_free(&h->start);
    ph_set_free(&h->base);
    ph_view_ctx_free(&h->v);
    ph_graph_free(&h->g);
    if (h->have_old)
        ph_graph_free(&h->old);
    memset(h, 0, sizeof *h);
}

int cli_finish_output(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "pyheap: writing the output failed: %s\n", strerror(errno ? errno : EIO));
    return PH_ERR_IO;
}
