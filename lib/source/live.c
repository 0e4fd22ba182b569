/*
 * live.c: see live.h. The freeze is the scarce resource: everything that can happen before it
 * (maps, symbols, DWARF, layout) does, and the thaw comes right after the last read.
 */
#include "lib/source/live.h"

#include <pthread.h>
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

/* ---- the copy's memory, prepared by a second thread ----
 * Planning the copy reads /proc/PID/smaps and pagemap, and faulting in room for it costs about
 * 0.3 s per GiB: work that needs neither the interpreter's layout nor the freeze. A thread does
 * it while the main thread resolves the layout (reading DWARF takes 50 to 100 ms), so on a small
 * heap preparing the copy costs no time, and on a large one resolving the layout does not. The
 * thread touches only what it allocates; the main thread joins it before the freeze. */
struct live_prep {
    pthread_t thread;
    pid_t pid;
    uint64_t max_bytes;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool planned;         /* under mu: the fields below are set (the room may still fault in) */
    struct ph_image *img; /* the reserved copy, or NULL */
    uint64_t needed;      /* what the copy needs, once planned */
    ph_status st;
    struct ph_error err;
};

static void *prep_run(void *arg)
{
    struct live_prep *p = arg;
    struct ph_maps maps = {0};
    struct ph_image *img = NULL;
    uint64_t needed = 0;
    struct ph_error err = {0};
    ph_status st = ph_maps_read(p->pid, &maps, &err);
    if (st == PH_OK)
        st = ph_image_plan(p->pid, &maps, p->max_bytes, &img, &needed, &err);
    ph_maps_free(&maps);
    pthread_mutex_lock(&p->mu);
    p->img = img, p->needed = needed, p->st = st, p->err = err, p->planned = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (st == PH_OK)
        ph_image_populate(img);
    return NULL;
}

/* The most a copy may take: the user's bound, else three quarters of the available memory for
 * an explicit --copy and half of it by default (the graph and the views need the rest: about
 * as much again as the copy on a heap of small objects). */
static uint64_t copy_limit(const struct ph_source_options *opts)
{
    if (opts->copy_max_bytes)
        return opts->copy_max_bytes;
    uint64_t avail = ph_image_available();
    if (avail == UINT64_MAX)
        return avail;
    return opts->copy == PH_COPY_ALWAYS ? avail / 4 * 3 : avail / 2;
}

static bool wants_copy(const struct ph_source_options *opts)
{
    return opts->copy == PH_COPY_ALWAYS || (opts->copy == PH_COPY_AUTO && !opts->no_freeze);
}

static void prep_free(struct live_prep *p)
{
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static void prep_start(struct ph_live *s, const struct ph_source_options *opts)
{
    if (!opts->will_walk || !wants_copy(opts) || !(s->prep = calloc(1, sizeof *s->prep)))
        return;
    *s->prep = (struct live_prep){.pid = s->pid, .max_bytes = copy_limit(opts)};
    pthread_mutex_init(&s->prep->mu, NULL);
    pthread_cond_init(&s->prep->cv, NULL);
    if (pthread_create(&s->prep->thread, NULL, prep_run, s->prep) != 0) {
        prep_free(s->prep); /* no thread: the copy is reserved when the walk starts */
        s->prep = NULL;
    }
}

/* Wait for the thread, helping it fault the copy's room in when `help` (the main thread has
 * nothing else to do before the freeze); its result becomes the caller's. */
static struct live_prep *prep_join(struct ph_live *s, bool help)
{
    struct live_prep *p = s->prep;
    if (!p)
        return NULL;
    pthread_mutex_lock(&p->mu);
    while (!p->planned)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    if (help && p->st == PH_OK)
        ph_image_populate(p->img);
    pthread_join(p->thread, NULL);
    s->prep = NULL;
    return p;
}

/* ---- the layout, settled while the walk goes on ----
 * Finding and reading DWARF takes 15 to 50 ms (inflating a distribution's compressed debug
 * file is most of it), a fixed cost that was a quarter of an attach at a million objects. The
 * built-in tables and _Py_DebugOffsets give a layout in about a millisecond, the same one for
 * the builds the tables were generated from. So when the walk reads a copy, DWARF is read by a
 * thread of its own while the target is copied and walked with that provisional layout; once
 * the walk has read everything, the final layout (DWARF's, as without this) is compared with it:
 * the same in every field, the walk stands; not, the walk is made again from the same copy.
 * Either way the graph is the final layout's. Not done without a copy (a second walk would
 * be a second stop), for a debug build (the tables describe release builds), with layout
 * options (--debug-file, --layout-from), or when the fast sources give no layout. */
struct live_layout {
    pthread_t thread;
    bool started; /* the thread runs; else the DWARF step has not begun */
    struct py_resolve r;
};

static void *layout_run(void *arg)
{
    struct live_layout *l = arg;
    py_resolve_dwarf(&l->r);
    return NULL;
}

static bool may_settle_later(const struct ph_source_options *opts)
{
    const struct ph_layout_choice *c = &opts->layout;
    return opts->will_walk && wants_copy(opts) && !c->debug_file && !c->no_dwarf &&
           !c->no_debug_offsets && !c->no_table;
}

/* Tests: a provisional layout that cannot be the final one (every offset of PyObject's type
 * field moved), so that the second walk is exercised and checked against the census. */
static void skew(struct py_target *t)
{
    t->layout.v[PF_OB_TYPE] += 8;
}

static void layout_free(struct live_layout *l)
{
    py_resolve_end(&l->r);
    free(l);
}

/* Wait for the DWARF step and finish the layout with it. *changed: it differs from the
 * provisional layout the walk used (may be NULL when no walk used it). */
static ph_status settle_layout(struct ph_live *s, bool *changed, struct ph_error *err)
{
    struct live_layout *l = s->layout;
    if (changed)
        *changed = false;
    if (!l)
        return PH_OK;
    if (l->started)
        pthread_join(l->thread, NULL);
    else
        py_resolve_dwarf(&l->r);
    s->layout = NULL;
    struct py_target *final = malloc(sizeof *final);
    ph_status st = final ? py_resolve_finish(&s->proc, s->mem, &l->r, true, final, err)
                         : ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    if (st == PH_OK) {
        if (changed)
            *changed = s->provisional && !py_target_same_layout(&s->target, final);
        s->target = *final;
    }
    s->provisional = false;
    free(final);
    layout_free(l);
    return st;
}

/* The layout, all sources in a row (l->r begun): what resolving did before this. */
static ph_status resolve_now(struct ph_live *s, struct live_layout *l, struct ph_error *err)
{
    py_resolve_dwarf(&l->r);
    ph_status st = py_resolve_finish(&s->proc, s->mem, &l->r, true, &s->target, err);
    layout_free(l);
    return st;
}

/* The DWARF step's thread starts when the target is frozen, not at open: before, the two
 * cores fault in the copy's room (measured at a million objects, with the DWARF thread beside
 * them that took 17 to 28 ms instead of 8 to 15); from the freeze on, the main thread copies and
 * walks on one core, DWARF has the other. Without a thread, settle_layout reads DWARF itself. */
static void start_dwarf(struct ph_live *s)
{
    if (s->layout && !s->layout->started)
        s->layout->started = pthread_create(&s->layout->thread, NULL, layout_run, s->layout) == 0;
}

/* The layout: now, or provisionally with DWARF still being read (see above). */
static ph_status resolve_layout(struct ph_live *s, const struct ph_source_options *opts,
                                struct ph_error *err)
{
    struct py_layout_options lo = layout_options(&opts->layout);
    struct live_layout *l = may_settle_later(opts) ? malloc(sizeof *l) : NULL;
    if (!l)
        return py_target_resolve(&s->proc, s->mem, &lo, &s->target, err);
    ph_status st = py_resolve_begin(&s->proc, s->mem, &lo, &l->r, err);
    if (st != PH_OK) {
        s->target = l->r.located; /* what was found, for the message */
        layout_free(l);
        return st;
    }
    if (l->r.located.debug_build)
        return resolve_now(s, l, err);
    l->started = false; /* at the freeze: see start_dwarf */
    s->layout = l;
    struct ph_error ignored = {0}; /* the final layout says what is wrong, if anything is */
    if (py_resolve_finish(&s->proc, s->mem, &l->r, false, &s->target, &ignored) != PH_OK)
        return settle_layout(s, NULL, err);
    s->provisional = true;
    if (opts->test_skew_layout)
        skew(&s->target);
    return PH_OK;
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
    prep_start(s, opts);
    if ((st = open_mem(s, opts->cache_bytes, err)) != PH_OK)
        return st;
    st = resolve_layout(s, opts, err);
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
        st = settle_layout(s, NULL, err);
    if (st == PH_OK)
        st = freeze(s, opts, &fr, &threads, err);
    if (st == PH_OK)
        st = py_state_read(s->mem, &s->target, &s->state, err);
    ph_thaw(fr);
    return st;
}

/* Unfrozen: room for the copy, planned from the maps as they are now (by the thread started at
 * open, the first time). *needed says what the copy needs even when it does not fit. */
static ph_status reserve_copy(struct ph_live *s, const struct ph_source_options *opts,
                              struct ph_image **img, uint64_t *needed, struct ph_error *err)
{
    struct live_prep *p = prep_join(s, true);
    if (p) {
        ph_status st = p->st;
        *img = p->img;
        *needed = p->needed;
        if (st != PH_OK)
            *err = p->err;
        prep_free(p);
        return st;
    }
    ph_status st = ph_proc_refresh_maps(&s->proc, err);
    if (st == PH_OK)
        st = ph_image_reserve(s->pid, &s->proc.maps, copy_limit(opts), img, needed, err);
    return st;
}

/* By default a copy that cannot be had (it would not fit, or its memory cannot be allocated) is
 * no error: the walk reads the stopped process, and the note says why. */
static ph_status copy_refused(struct ph_live *s, const struct ph_source_options *opts,
                              ph_status st, uint64_t needed, struct ph_error *err)
{
    if (st == PH_OK || opts->copy != PH_COPY_AUTO || st == PH_ERR_TARGET_EXITED ||
        st == PH_ERR_NO_PROCESS || st == PH_ERR_PERMISSION || st == PH_ERR_INTERRUPTED)
        return st;
    uint64_t limit = copy_limit(opts);
    if (needed > limit)
        snprintf(s->note, sizeof s->note, "not copying the target: the copy would need %llu MiB, "
                 "more than the %llu MiB allowed (%s); it stayed stopped for the whole walk",
                 (unsigned long long)(needed >> 20), (unsigned long long)(limit >> 20),
                 opts->copy_max_bytes ? "PYHEAP_COPY_MAX_MB" : "half the available memory");
    else
        snprintf(s->note, sizeof s->note, "not copying the target (%s); it stayed stopped for "
                 "the whole walk", err->msg);
    ph_error_clear(err);
    return PH_OK;
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

/* A collection seen before the copy is taken saves copying memory that would not be walked. */
static ph_status copy_if_idle(struct ph_live *s, const struct ph_source_options *opts,
                              struct ph_image *img, uint64_t *needed, struct ph_walk_stats *run,
                              struct ph_error *err)
{
    bool collecting = false;
    if (py_gc_collecting(s->mem, &s->target, &collecting, err) == PH_OK && collecting) {
        run->gc_collecting = true;
        return ph_fail(err, PH_ERR_INCONSISTENT, "the garbage collector is running");
    }
    ph_error_clear(err); /* unreadable here: the walk will say so */
    return ph_image_capture(img, s->pid, &s->proc.maps, copy_limit(opts), needed, err);
}

/* The walk reads no more: the layout is settled (see resolve_layout) and, when the walk used
 * the final one, the copy goes (its memory to the prefaulter's thread, see open); else it stays
 * for the second walk. */
struct reads_done {
    struct ph_live *s;
    struct ph_mem **copy;
    bool changed; /* the provisional layout was not the final one */
    ph_status st;
    struct ph_error err;
};

static void reads_done(void *ctx)
{
    struct reads_done *d = ctx;
    d->st = settle_layout(d->s, &d->changed, &d->err);
    if (d->st == PH_OK && !d->changed) {
        ph_mem_close(*d->copy);
        *d->copy = NULL;
    }
}

/* The walk of a copy, settling the layout (reads_done) and walking again when the provisional
 * layout was not the final one. */
static ph_status walk_copy(struct ph_live *s, const struct ph_source_options *opts,
                           struct ph_walk_options *wo, struct ph_mem **copy,
                           struct ph_image *img, struct ph_graph *g, struct ph_error *err)
{
    struct reads_done done = {.s = s, .copy = copy};
    bool provisional = s->provisional;
    wo->reads_done = reads_done;
    wo->reads_done_ctx = &done;
    ph_status st = ph_walk(*copy, &s->target, wo, g, err);
    if (s->layout) /* the walk ended before reading everything */
        reads_done(&done);
    if (done.st != PH_OK) {
        *err = done.err;
        return done.st;
    }
    bool changed = done.changed; /* reads_done runs again in the second walk */
    if (changed && !(opts->cancel && *opts->cancel)) {
        ph_image_unmap_by(img, NULL); /* the prefaulter goes with the graph */
        ph_graph_free(g);
        if (!ph_graph_init(g, 1 << 16))
            return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
        ph_image_unmap_by(img, g->pf);
        ph_error_clear(err);
        st = ph_walk(*copy, &s->target, wo, g, err); /* reads_done now closes the copy */
    }
    g->meta.stats.provisional_layout = provisional;
    g->meta.stats.layout_rewalks = changed;
    return st;
}

static ph_status walk_once(struct ph_live *s, const struct ph_source_options *opts,
                           struct ph_graph *g, struct ph_error *err)
{
    struct ph_freeze *fr = NULL;
    struct ph_image *img = NULL;
    struct ph_mem *copy = NULL;
    struct ph_walk_stats run = {0}; /* what the source measures, kept across the walk's reset */
    size_t threads = 0;
    uint64_t needed = 0;
    ph_status st = PH_OK;
    s->note[0] = '\0';
    if (wants_copy(opts)) {
        st = reserve_copy(s, opts, &img, &needed, err);
        st = copy_refused(s, opts, st, needed, err);
    }
    if (st == PH_OK && !img)
        st = settle_layout(s, NULL, err); /* no copy: a second walk would be a second stop */
    start_dwarf(s);
    double t0 = now_ms();
    if (st == PH_OK)
        st = freeze(s, opts, &fr, &threads, err);
    if (st == PH_OK && img) {
        st = copy_if_idle(s, opts, img, &needed, &run, err);
        if (st != PH_OK && !run.gc_collecting &&
            (st = copy_refused(s, opts, st, needed, err)) == PH_OK) {
            ph_image_free(img); /* the target grew past the bound meanwhile: walk it stopped */
            img = NULL;
        }
    }
    if (img) {
        ph_thaw(fr);
        fr = NULL;
        run.frozen_ms = now_ms() - t0;
        ph_image_unmap_by(img, g->pf); /* while the walk goes on (reachability) and after */
        st = st == PH_OK ? open_copy(s, img, &copy, &run, err) : (ph_image_free(img), st);
    }
    if (st == PH_OK) {
        struct progress_relay relay = {opts, copy || opts->no_freeze ? -1.0 : t0};
        struct ph_walk_options wo = {.cancel = opts->cancel,
                                     .progress = opts->progress ? relay_progress : NULL,
                                     .progress_ctx = &relay, .running = opts->no_freeze};
        st = copy ? walk_copy(s, opts, &wo, &copy, img, g, err)
                  : ph_walk(s->mem, &s->target, &wo, g, err);
    }
    if (s->layout && st != PH_OK) { /* failed before the walk: settle for the next attempt */
        struct ph_error ignored = {0};
        settle_layout(s, NULL, &ignored);
    }
    if (!run.copied) {
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
     * it is tens of MiB at the moment the views need their own memory; and the address index,
     * which views never use (a diff rebuilds it). */
    ph_mem_close(s->mem);
    s->mem = NULL;
    ph_graph_drop_index(g);
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
    if (s->layout) { /* never settled (no walk): the thread's work is not needed */
        if (s->layout->started)
            pthread_join(s->layout->thread, NULL);
        layout_free(s->layout);
    }
    struct live_prep *p = prep_join(s, false);
    if (p) {
        ph_image_free(p->img);
        prep_free(p);
    }
    py_state_free(&s->state);
    ph_mem_close(s->mem);
    if (s->proc_open)
        ph_proc_close(&s->proc);
    memset(s, 0, sizeof *s);
}
