/*
 * live.c: see live.h. The freeze is the scarce resource: everything that can happen before it
 * (maps, symbols, DWARF, layout) does, and the thaw comes right after the last read.
 */
#include "lib/source/live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/escape.h"
#include "lib/proc/freeze.h"
#include "lib/version.h"
#include "lib/walk/walk.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct py_layout_options layout_options(const struct ph_layout_choice *c)
{
    return (struct py_layout_options){.debug_file = c->debug_file, .debug_dirs = c->debug_dirs,
                                      .no_debuginfod = c->no_debuginfod, .no_dwarf = c->no_dwarf,
                                      .no_debug_offsets = c->no_debug_offsets,
                                      .no_table = c->no_table};
}

/* The cached reader of the live target (closed after each walk: views never read it). */
static ph_status open_mem(struct ph_live *s, size_t cache_bytes, struct ph_error *err)
{
    if (s->mem)
        return PH_OK;
    struct ph_mem_backend backend;
    ph_status st = ph_mem_backend_pid(s->pid, &backend, err);
    return st == PH_OK ? ph_mem_open(backend, &s->proc.maps, cache_bytes, &s->mem, err) : st;
}

/* A debug file the user named is either used as it is, or the user hears why not: the layout
 * report says it, but only `info` prints the report. */
static void debug_file_warning(struct ph_live *s, const char *given)
{
    const struct py_source_report *r = &s->target.sources;
    const char *why = NULL; /* the last report line about that file says what became of it */
    for (int i = 0; i < r->n; i++)
        if (strstr(r->line[i], given))
            why = r->line[i];
    bool used = strcmp(s->target.debug_file, given) == 0 && !(why && strstr(why, "WARNING"));
    if (used)
        return;
    char path[256], line[300];
    ph_escape(given, strlen(given), path, sizeof path);
    ph_escape(why ? why : "", why ? strlen(why) : 0, line, sizeof line);
    snprintf(s->warning, sizeof s->warning, "--debug-file %s: %s%s%s", path,
             why ? "not used as it is (" : "not used", line, why ? ")" : "");
}

ph_status ph_live_open(pid_t pid, const struct ph_source_options *opts, struct ph_live *s,
                       struct ph_error *err)
{
    memset(s, 0, sizeof *s);
    s->pid = pid;
    double t0 = now_ms();
    ph_status st = ph_proc_open(pid, &s->proc, err);
    if (st != PH_OK)
        return st;
    s->proc_open = true;
    s->pid = s->proc.pid; /* a live thread, when the main thread has exited */
    if ((st = open_mem(s, opts->cache_bytes, err)) != PH_OK)
        return st;
    struct py_layout_options lo = layout_options(&opts->layout);
    st = py_target_resolve(&s->proc, s->mem, &lo, &s->target, err);
    s->resolve_ms = now_ms() - t0;
    if (st == PH_OK && opts->layout.debug_file && !opts->layout.no_dwarf)
        debug_file_warning(s, opts->layout.debug_file);
    return st;
}

/* Freeze (unless --no-freeze) and make the memory view match the frozen process. */
static ph_status freeze(struct ph_live *s, const struct ph_source_options *opts,
                        struct ph_freeze **fr, size_t *threads, struct ph_error *err)
{
    *fr = NULL;
    if (!opts->no_freeze) {
        ph_status st = ph_freeze(s->pid, opts->cancel, fr, err);
        if (st != PH_OK)
            return st;
        *threads = ph_freeze_count(*fr);
    }
    ph_status st = ph_proc_refresh_maps(&s->proc, err);
    ph_mem_invalidate(s->mem);
    if (st == PH_OK && opts->on_frozen)
        opts->on_frozen(opts->on_frozen_ctx);
    if (st == PH_OK && opts->cancel && *opts->cancel)
        st = ph_fail(err, PH_ERR_INTERRUPTED, "interrupted; the target was released");
    return st;
}

ph_status ph_live_state(struct ph_live *s, const struct ph_source_options *opts,
                        struct ph_error *err)
{
    struct ph_freeze *fr;
    size_t threads = 0;
    ph_status st = open_mem(s, opts->cache_bytes, err);
    if (st == PH_OK)
        st = freeze(s, opts, &fr, &threads, err);
    if (st == PH_OK)
        st = py_state_read(s->mem, &s->target, &s->state, err);
    ph_thaw(fr);
    return st;
}

/* Unfrozen: room for the copy, planned from the maps as they are now. */
static ph_status reserve_copy(struct ph_live *s, struct ph_image **img, struct ph_error *err)
{
    ph_status st = ph_proc_refresh_maps(&s->proc, err);
    if (st == PH_OK)
        st = ph_image_reserve(s->pid, &s->proc.maps, ph_image_default_limit(), img, err);
    return st;
}

/* While frozen: copy the writable memory into img. Then (thawed) a reader over the copy, which
 * reads read-only mappings live; it owns img from here, even when this fails. */
static ph_status open_copy(struct ph_live *s, struct ph_image *img, struct ph_mem **out,
                           struct ph_walk_stats *stats, struct ph_error *err)
{
    stats->copied = true;
    stats->copied_bytes = ph_image_get_stats(img).bytes;
    struct ph_mem_backend live, backend;
    ph_status st = ph_mem_backend_pid(s->pid, &live, err);
    if (st != PH_OK) {
        ph_image_free(img);
        return st;
    }
    ph_image_backend(img, live, &backend);
    return ph_mem_open(backend, &s->proc.maps, 0, out, err);
}

/* The walk's progress, told as the source's: with how long the target has been stopped. */
struct progress_relay {
    const struct ph_source_options *opts;
    double frozen_at; /* < 0: the target runs */
};

static void relay_progress(void *ctx, uint64_t objects, uint64_t decoded)
{
    const struct progress_relay *r = ctx;
    struct ph_progress p = {PH_PHASE_WALK, objects, decoded,
                            r->frozen_at < 0 ? -1.0 : now_ms() - r->frozen_at};
    r->opts->progress(r->opts->progress_ctx, &p);
}

/* --copy: a collection seen before the copy is taken saves copying memory that would not be
 * walked. */
static ph_status copy_if_idle(struct ph_live *s, struct ph_image *img, struct ph_walk_stats *run,
                              struct ph_error *err)
{
    bool collecting = false;
    if (py_gc_collecting(s->mem, &s->target, &collecting, err) == PH_OK && collecting) {
        run->gc_collecting = true;
        return ph_fail(err, PH_ERR_INCONSISTENT, "the garbage collector is running");
    }
    ph_error_clear(err); /* unreadable here: the walk will say so */
    return ph_image_capture(img, s->pid, &s->proc.maps, ph_image_default_limit(), err);
}

static ph_status walk_once(struct ph_live *s, const struct ph_source_options *opts,
                           struct ph_graph *g, struct ph_error *err)
{
    struct ph_freeze *fr = NULL;
    struct ph_image *img = NULL;
    struct ph_mem *copy = NULL;
    struct ph_walk_stats run = {0}; /* what the source measures, kept across the walk's reset */
    size_t threads = 0;
    ph_status st = opts->copy ? reserve_copy(s, &img, err) : PH_OK;
    double t0 = now_ms();
    if (st == PH_OK)
        st = freeze(s, opts, &fr, &threads, err);
    if (st == PH_OK && img)
        st = copy_if_idle(s, img, &run, err);
    if (img) {
        ph_thaw(fr);
        fr = NULL;
        run.frozen_ms = now_ms() - t0;
        st = st == PH_OK ? open_copy(s, img, &copy, &run, err) : (ph_image_free(img), st);
    }
    if (st == PH_OK) {
        struct progress_relay relay = {opts, img || opts->no_freeze ? -1.0 : t0};
        struct ph_walk_options wo = {.cancel = opts->cancel,
                                     .progress = opts->progress ? relay_progress : NULL,
                                     .progress_ctx = &relay, .running = opts->no_freeze};
        st = ph_walk(copy ? copy : s->mem, &s->target, &wo, g, err);
    }
    if (!opts->copy) {
        ph_thaw(fr);
        run.frozen_ms = now_ms() - t0;
    }
    ph_mem_close(copy);
    g->meta.stats.frozen_ms = run.frozen_ms;
    g->meta.stats.copied = run.copied;
    g->meta.stats.copied_bytes = run.copied_bytes;
    g->meta.stats.gc_collecting |= run.gc_collecting;
    return st;
}

/* What the attempts of one walk saw, for the message when none succeeds. */
struct attempts {
    int n, collecting, changing;
    bool same_break;      /* every list change seen broke at the same node */
    uint64_t first_break;
    char last[PH_ERROR_MSG_MAX];
};

/* True when the walk met a state that passes (a collection, a GC list being changed) and is
 * worth repeating once the target has run on. */
static bool note_attempt(struct attempts *a, ph_status st, const struct ph_walk_stats *ws,
                         const struct ph_error *err)
{
    a->n++;
    if (st != PH_ERR_INCONSISTENT || !(ws->gc_collecting || ws->gc_changing))
        return false;
    if (ws->gc_changing) {
        a->same_break = ws->gc_break &&
                        (a->changing == 0 || (a->same_break && ws->gc_break == a->first_break));
        if (a->changing++ == 0)
            a->first_break = ws->gc_break;
        snprintf(a->last, sizeof a->last, "%s", err->msg);
    } else {
        a->collecting++;
    }
    return true;
}

static ph_status attempts_failed(const struct attempts *a, double secs, struct ph_error *err)
{
    char each[64];
    if (a->n == 1)
        snprintf(each, sizeof each, "at the one attempt in %.1f s", secs);
    else
        snprintf(each, sizeof each, "at each of %d attempts in %.1f s", a->n, secs);
    if (a->changing == 0)
        return ph_fail(err, PH_ERR_INCONSISTENT, "the garbage collector was running %s; try "
                       "again, or wait longer with --retry-for", each);
    if (a->collecting == 0 && a->same_break && a->n > 1)
        return ph_fail(err, PH_ERR_INCONSISTENT, "the heap looks corrupt: a GC list was broken "
                       "at the same node %s: %s", each, a->last);
    char what[96] = "a list being changed";
    if (a->collecting)
        snprintf(what, sizeof what, "the collector running %d time%s, a list being changed "
                 "%d time%s", a->collecting, a->collecting == 1 ? "" : "s", a->changing,
                 a->changing == 1 ? "" : "s");
    return ph_fail(err, PH_ERR_INCONSISTENT, "the heap was changing %s (%s); try again, or wait "
                   "longer with --retry-for; the last: %s", each, what, a->last);
}

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state; /* xorshift64: jitter only, no quality needed */
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return *state = x;
}

static void pause_ms(double ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct timespec ts = {secs, (long)((ms - 1000.0 * (double)secs) * 1e6)};
    nanosleep(&ts, NULL);
}

/* Let the target run before the next look. While its collector runs, wait for the collection
 * to end, polling the flag without stopping the target; otherwise pause 1, 2, 4 .. 64 ms. Both
 * with jitter, so that the next freeze does not fall into step with a periodic burst. */
static void back_off(struct ph_live *s, const struct ph_source_options *opts, int attempt,
                     bool collecting, double deadline, uint64_t *rng)
{
    double base = attempt < 7 ? (double)(1 << attempt) : 64.0;
    double pause = base * (0.5 + (double)(next_random(rng) % 1000) / 1000.0);
    for (int polls = 0; collecting && polls < 1000 && now_ms() < deadline; polls++) {
        struct ph_error ignored = {0};
        ph_mem_invalidate(s->mem);
        if (py_gc_collecting(s->mem, &s->target, &collecting, &ignored) != PH_OK ||
            (opts->cancel && *opts->cancel))
            break;
        if (collecting)
            pause_ms(0.1 + (double)(next_random(rng) % 400) / 1000.0);
        else
            pause = (double)(next_random(rng) % 1000) / 1000.0;
    }
    double left = deadline - now_ms();
    pause_ms(pause < left ? pause : left > 0 ? left : 0);
}

ph_status ph_live_walk(struct ph_live *s, const struct ph_source_options *opts, struct ph_graph *g,
                       struct ph_error *err)
{
    double t0 = now_ms();
    double deadline = t0 + (opts->retry_ms > 0 ? opts->retry_ms : opts->retry_ms < 0 ? 0 : 2000);
    uint64_t rng = ((uint64_t)(t0 * 1e3) * 2654435761u ^ (uint64_t)s->pid << 32) | 1;
    int64_t started = (int64_t)time(NULL);
    struct attempts a = {0};
    bool passing = false;
    ph_status st = open_mem(s, opts->cache_bytes, err);
    while (st == PH_OK) {
        if (!ph_graph_init(g, 1 << 16))
            return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
        st = walk_once(s, opts, g, err);
        passing = note_attempt(&a, st, &g->meta.stats, err);
        if (!passing || now_ms() >= deadline)
            break;
        bool collecting = g->meta.stats.gc_collecting && !g->meta.stats.gc_changing;
        ph_graph_free(g);
        back_off(s, opts, a.n - 1, collecting, deadline, &rng);
        if (opts->cancel && *opts->cancel)
            return ph_fail(err, PH_ERR_INTERRUPTED, "interrupted; the target was released");
        st = PH_OK;
    }
    if (passing)
        attempts_failed(&a, (now_ms() - t0) / 1000, err);
    struct ph_walk_stats stats = g->meta.stats;
    ph_live_meta(s, &g->meta);
    g->meta.time = started;
    g->meta.stats = stats;
    g->meta.stats.freezes = opts->no_freeze ? 0 : a.n;
    g->meta.stats.retries = a.n > 0 ? a.n - 1 : 0;
    g->meta.stats.walk_ms = now_ms() - t0;
    /* Views never read the target again: the graph holds all they need. Free the cache now,
     * it is tens of MiB at the moment the views need their own memory. */
    ph_mem_close(s->mem);
    s->mem = NULL;
    return st;
}

static void escaped(char *dst, size_t cap, const char *src)
{
    ph_escape(src, strlen(src), dst, cap);
}

void ph_live_meta(const struct ph_live *s, struct ph_heap_meta *m)
{
    ph_target_meta(&s->proc, &s->target, m);
}

void ph_target_meta(const struct ph_proc *proc, const struct py_target *t, struct ph_heap_meta *m)
{
    memset(m, 0, sizeof *m);
    m->pid = proc->tgid ? proc->tgid : proc->pid; /* as named, even if read through a thread */
    m->nspid = proc->nspid;
    m->time = (int64_t)time(NULL);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    escaped(m->host, sizeof m->host, host);
    escaped(m->exe, sizeof m->exe, proc->exe);
    snprintf(m->pyheap_version, sizeof m->pyheap_version, "%s", PYHEAP_VERSION);
    m->version_hex = t->version_hex;
    snprintf(m->version_source, sizeof m->version_source, "%s", t->version_source);
    m->shared = t->shared;
    m->pie = t->pie;
    m->debug_build = t->debug_build;
    m->free_threaded = t->free_threaded;
    snprintf(m->build_id, sizeof m->build_id, "%s", t->build_id);
    for (int i = 0; i < t->sources.n && i < PH_META_LINES; i++)
        escaped(m->layout[m->nlayout++], sizeof m->layout[0], t->sources.line[i]);
}

void ph_live_close(struct ph_live *s)
{
    py_state_free(&s->state);
    ph_mem_close(s->mem);
    if (s->proc_open)
        ph_proc_close(&s->proc);
    memset(s, 0, sizeof *s);
}
