/*
 * session.c: see session.h. The freeze is the scarce resource: everything that can happen
 * before it (maps, symbols, DWARF, layout) does, and the thaw comes right after the last read.
 */
#include "lib/session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/freeze.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

ph_status ph_session_open(pid_t pid, const struct ph_session_options *opts, struct ph_session *s,
                          struct ph_error *err)
{
    memset(s, 0, sizeof *s);
    s->pid = pid;
    double t0 = now_ms();
    ph_status st = ph_proc_open(pid, &s->proc, err);
    if (st != PH_OK)
        return st;
    s->proc_open = true;
    struct ph_mem_backend backend;
    if ((st = ph_mem_backend_pid(pid, &backend, err)) != PH_OK)
        return st;
    if ((st = ph_mem_open(backend, &s->proc.maps, opts->cache_bytes, &s->mem, err)) != PH_OK)
        return st;
    st = py_target_resolve(&s->proc, s->mem, &opts->layout, &s->target, err);
    s->resolve_ms = now_ms() - t0;
    return st;
}

/* Freeze (unless --no-freeze) and make the memory view match the frozen process. */
static ph_status freeze(struct ph_session *s, const struct ph_session_options *opts,
                        struct ph_freeze **fr, struct ph_error *err)
{
    *fr = NULL;
    if (!opts->no_freeze) {
        ph_status st = ph_freeze(s->pid, opts->cancel, fr, err);
        if (st != PH_OK)
            return st;
        s->threads_frozen = ph_freeze_count(*fr);
    }
    ph_status st = ph_proc_refresh_maps(&s->proc, err);
    ph_mem_invalidate(s->mem);
    if (st == PH_OK && opts->on_frozen)
        opts->on_frozen(opts->on_frozen_ctx);
    if (st == PH_OK && opts->cancel && *opts->cancel)
        st = ph_fail(err, PH_ERR_INTERRUPTED, "interrupted; the target was released");
    return st;
}

ph_status ph_session_state(struct ph_session *s, const struct ph_session_options *opts,
                           struct ph_error *err)
{
    struct ph_freeze *fr;
    ph_status st = freeze(s, opts, &fr, err);
    if (st == PH_OK)
        st = py_state_read(s->mem, &s->target, &s->state, err);
    ph_thaw(fr);
    return st;
}

/* Unfrozen: room for the copy, planned from the maps as they are now. */
static ph_status reserve_copy(struct ph_session *s, struct ph_image **img, struct ph_error *err)
{
    ph_status st = ph_proc_refresh_maps(&s->proc, err);
    if (st == PH_OK)
        st = ph_image_reserve(s->pid, &s->proc.maps, ph_image_default_limit(), img, err);
    return st;
}

/* While frozen: copy the writable memory into img. Then (thawed) a reader over the copy, which
 * reads read-only mappings live; it owns img from here, even when this fails. */
static ph_status open_copy(struct ph_session *s, struct ph_image *img, struct ph_mem **out,
                           struct ph_error *err)
{
    s->copy = ph_image_get_stats(img);
    struct ph_mem_backend live, backend;
    ph_status st = ph_mem_backend_pid(s->pid, &live, err);
    if (st != PH_OK) {
        ph_image_free(img);
        return st;
    }
    ph_image_backend(img, live, &backend);
    return ph_mem_open(backend, &s->proc.maps, 0, out, err);
}

static ph_status walk_once(struct ph_session *s, const struct ph_session_options *opts,
                           struct ph_error *err)
{
    struct ph_freeze *fr = NULL;
    struct ph_image *img = NULL;
    struct ph_mem *copy = NULL;
    s->freezes++;
    ph_status st = opts->copy ? reserve_copy(s, &img, err) : PH_OK;
    double t0 = now_ms();
    if (st == PH_OK)
        st = freeze(s, opts, &fr, err);
    if (st == PH_OK && img)
        st = ph_image_capture(img, s->pid, &s->proc.maps, ph_image_default_limit(), err);
    if (img) {
        ph_thaw(fr);
        fr = NULL;
        s->frozen_ms = now_ms() - t0;
        if (st == PH_OK)
            st = open_copy(s, img, &copy, err);
        else
            ph_image_free(img);
    }
    if (st == PH_OK) {
        if (s->have_graph)
            ph_graph_free(&s->graph);
        s->have_graph = ph_graph_init(&s->graph, 1 << 16);
        if (!s->have_graph)
            st = ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    }
    if (st == PH_OK) {
        struct ph_walk_options wo = {.cancel = opts->cancel, .progress = opts->progress,
                                     .progress_ctx = opts->progress_ctx};
        st = ph_walk(copy ? copy : s->mem, &s->target, &wo, &s->graph, &s->stats, err);
    }
    if (!opts->copy) {
        ph_thaw(fr);
        s->frozen_ms = now_ms() - t0;
    }
    ph_mem_close(copy);
    return st;
}

ph_status ph_session_walk(struct ph_session *s, const struct ph_session_options *opts,
                          struct ph_error *err)
{
    int retries = opts->gc_retries > 0 ? opts->gc_retries : 5;
    double t0 = now_ms();
    ph_status st;
    for (int attempt = 0;; attempt++) {
        st = walk_once(s, opts, err);
        if (st != PH_ERR_INCONSISTENT || !s->stats.gc_collecting || attempt >= retries)
            break;
        /* A collection was in progress: let the target finish it (ms), then look again. */
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
        if (opts->cancel && *opts->cancel)
            return ph_fail(err, PH_ERR_INTERRUPTED, "interrupted; the target was released");
    }
    if (st == PH_ERR_INCONSISTENT && s->stats.gc_collecting)
        ph_fail(err, PH_ERR_INCONSISTENT,
                "the garbage collector was running at each of %d attempts; try again", s->freezes);
    s->walk_ms = now_ms() - t0;
    /* Views never read the target again: the graph holds all they need. Free the cache now,
     * it is tens of MiB at the moment the views need their own memory. */
    ph_mem_close(s->mem);
    s->mem = NULL;
    return st;
}

void ph_session_close(struct ph_session *s)
{
    if (s->have_graph)
        ph_graph_free(&s->graph);
    py_state_free(&s->state);
    ph_mem_close(s->mem);
    if (s->proc_open)
        ph_proc_close(&s->proc);
    memset(s, 0, sizeof *s);
}
