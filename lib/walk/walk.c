/*
 * walk.c: the heap walk's orchestration: GC generation lists (read by gclist.c), roots, the
 * decode loop, the conservative pass and reachability.
 *
 * Invariants: object i's edges are decoded after objects 0..i-1 (the graph's CSR order);
 * every pointer is validated (aligned, inside readable mappings, its type a valid type object)
 * before it becomes an object; the GC lists of every interpreter are read before any root is
 * added; every list walk is bounded by the object limit.
 */
#include "lib/walk/walk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/walk/gclist.h"
#include "lib/walk/internal.h"
#include "lib/walk/pystate.h"

#define DEFAULT_MAX_OBJECTS (1ull << 31)
#define CANCEL_EVERY 65536
#define PROGRESS_EVERY (1u << 16)

bool wk_read(struct wk *w, uint64_t addr, void *buf, size_t len)
{
    if (ph_mem_read(w->mem, addr, buf, len, w->err) == PH_OK)
        return true;
    if (w->err->code == PH_ERR_TARGET_EXITED || w->err->code == PH_ERR_PERMISSION)
        return false; /* fatal: kept in w->err for the walk to report */
    ph_error_clear(w->err);
    return false;
}

bool wk_u64(struct wk *w, uint64_t addr, uint64_t *out)
{
    return wk_read(w, addr, out, sizeof *out);
}

uint32_t wk_intern(struct wk *w, const char *s)
{
    return ph_strtab_intern_cstr(&w->g->names, s);
}

/* Objects without references (exact int, str, float, ...) are most of a heap. They are sized
 * the moment they are found, while the memory around them is in the read cache: decoding them
 * later, in index order, would fetch their chunk a second time (measured: 4x the heap's size
 * copied on a heap of 4 million objects, most of it for these). */
static void size_leaf(struct wk *w, uint32_t idx, const struct wk_type *t)
{
    uint8_t hdr[128];
    size_t hlen = t->basicsize < 16 ? 16 : t->basicsize > 128 ? 128 : (size_t)t->basicsize;
    if (wk_read(w, w->g->addr[idx], hdr, hlen))
        ph_graph_set_size(w->g, idx, wk_leaf_size(w, t, w->g->addr[idx], hdr, hlen));
    /* else the size stays 0 and wk_decode reads the object in its turn */
}

uint32_t wk_object(struct wk *w, uint64_t addr)
{
    struct ph_graph_hint hint;
    uint32_t idx = ph_graph_lookup(w->g, addr, &hint);
    if (idx != PH_NONE)
        return idx;
    uint64_t type;
    if (!addr || (addr & 7) || !ph_mem_readable(w->mem, addr, 16) ||
        !wk_u64(w, addr + LAY(w->L, OB_TYPE), &type)) {
        w->stats->bad_pointers++;
        return PH_NONE;
    }
    uint32_t ti = wk_type_index(w, type);
    if (ti == PH_NONE) {
        w->stats->bad_pointers++;
        return PH_NONE;
    }
    if (w->g->n >= w->opts->max_objects)
        return PH_NONE;
    idx = ph_graph_insert(w->g, addr, ti, &hint);
    const struct wk_type *t = wk_type_get(w, ti);
    if (idx != PH_NONE && t->leaf)
        size_leaf(w, idx, t);
    return idx;
}

void wk_edge(struct wk *w, uint64_t addr, uint32_t label)
{
    uint32_t idx = wk_object(w, addr);
    if (idx != PH_NONE)
        ph_graph_add_edge(w->g, idx, label);
}

void wk_root(struct wk *w, uint64_t addr, const char *name)
{
    if (!addr)
        return;
    uint32_t idx = wk_object(w, addr);
    if (idx != PH_NONE && ph_graph_add_root(w->g, idx, wk_intern(w, name)))
        w->stats->roots++;
}

static bool cancelled(const struct wk *w)
{
    return w->opts->cancel && *w->opts->cancel;
}

static void interp_roots(struct wk *w, const struct py_interp *in)
{
    static const struct { enum py_field f; const char *name; } fields[] = {
        {PF_IS_MODULES, "modules"}, {PF_IS_SYSDICT, "sysdict"}, {PF_IS_BUILTINS, "builtins"},
        {PF_IS_IMPORTLIB, "importlib"}, {PF_IS_IMPORT_FUNC, "import_func"}, {PF_IS_DICT, "dict"},
        {PF_IS_BUILTINS_COPY, "builtins_copy"}, {PF_IS_CODEC_SEARCH_PATH, "codec_search_path"},
        {PF_IS_CODEC_SEARCH_CACHE, "codec_search_cache"},
        {PF_IS_CODEC_ERROR_REGISTRY, "codec_error_registry"},
    };
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        uint64_t p;
        if (w->L->v[fields[k].f] < 0 || !wk_u64(w, in->addr + (uint64_t)w->L->v[fields[k].f], &p))
            continue;
        char name[64];
        snprintf(name, sizeof name, "i%" PRId64 "_%s", in->id, fields[k].name);
        wk_root(w, p, name);
    }
}

static uint64_t current_iframe(struct wk *w, uint64_t tstate)
{
    const struct py_layout *L = w->L;
    uint64_t f = 0;
    if (LAY_HAS(L, TS_CURRENT_FRAME)) {
        wk_u64(w, tstate + LAY(L, TS_CURRENT_FRAME), &f);
    } else if (LAY_HAS(L, TS_CFRAME)) {
        uint64_t cframe;
        if (wk_u64(w, tstate + LAY(L, TS_CFRAME), &cframe) && cframe)
            wk_u64(w, cframe + LAY(L, CFRAME_CURRENT_FRAME), &f);
    }
    return f;
}

static void thread_frames(struct wk *w, const struct py_interp *in, const struct py_thread *th)
{
    const struct py_layout *L = w->L;
    char prefix[96];
    if (LAY_HAS(L, TS_FRAME)) { /* <= 3.10: frame objects linked by f_back */
        uint64_t f;
        snprintf(prefix, sizeof prefix, "i%" PRId64 "_t%" PRIu64 "_f0", in->id, th->thread_id);
        if (wk_u64(w, th->tstate + LAY(L, TS_FRAME), &f))
            wk_root(w, f, prefix);
        return;
    }
    uint64_t f = current_iframe(w, th->tstate);
    for (int n = 0; f && n < 100000; n++) {
        snprintf(prefix, sizeof prefix, "i%" PRId64 "_t%" PRIu64 "_f%d", in->id, th->thread_id, n);
        wk_iframe_refs(w, f, n == 0, prefix);
        uint64_t frame_obj = 0;
        if (wk_u64(w, f + LAY(L, IFRAME_FRAME_OBJ), &frame_obj) && frame_obj)
            wk_root(w, frame_obj, prefix);
        if (!wk_u64(w, f + LAY(L, IFRAME_PREVIOUS), &f))
            break;
    }
}

static void thread_roots(struct wk *w, const struct py_interp *in, const struct py_thread *th)
{
    static const struct { enum py_field f; const char *name; } fields[] = {
        {PF_TS_DICT, "dict"}, {PF_TS_ASYNC_EXC, "async_exc"}, {PF_TS_CONTEXT, "context"},
        {PF_TS_CUREXC_TYPE, "curexc_type"}, {PF_TS_CUREXC_VALUE, "curexc_value"},
        {PF_TS_CUREXC_TRACEBACK, "curexc_traceback"}, {PF_TS_CURRENT_EXCEPTION, "current_exception"},
        {PF_TS_ASYNC_GEN_FIRSTITER, "async_gen_firstiter"},
        {PF_TS_ASYNC_GEN_FINALIZER, "async_gen_finalizer"},
    };
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        uint64_t p;
        if (w->L->v[fields[k].f] < 0 || !wk_u64(w, th->tstate + (uint64_t)w->L->v[fields[k].f], &p))
            continue;
        char name[96];
        snprintf(name, sizeof name, "i%" PRId64 "_t%" PRIu64 "_%s", in->id, th->thread_id, fields[k].name);
        wk_root(w, p, name);
    }
    if (LAY_HAS(w->L, TS_EXC_STATE) && LAY_HAS(w->L, ERR_STACKITEM_VALUE)) {
        uint64_t p;
        char name[96];
        snprintf(name, sizeof name, "i%" PRId64 "_t%" PRIu64 "_exc_value", in->id, th->thread_id);
        if (wk_u64(w, th->tstate + LAY(w->L, TS_EXC_STATE) + LAY(w->L, ERR_STACKITEM_VALUE), &p))
            wk_root(w, p, name);
    }
    thread_frames(w, in, th);
}

static ph_status decode_all(struct wk *w)
{
    for (size_t i = 0; i < w->g->n; i++) {
        if (i % CANCEL_EVERY == 0 && cancelled(w))
            return ph_fail(w->err, PH_ERR_INTERRUPTED, "interrupted");
        if (i % PROGRESS_EVERY == 0 && w->opts->progress)
            w->opts->progress(w->opts->progress_ctx, w->g->n, i);
        if (i + WK_AHEAD < w->g->n)
            wk_decode_ahead(w, (uint32_t)(i + WK_AHEAD), 2);
        if (i + WK_AHEAD / 2 < w->g->n)
            wk_decode_ahead(w, (uint32_t)(i + WK_AHEAD / 2), 1);
        if (!wk_decode(w, (uint32_t)i))
            return w->err->code ? w->err->code : ph_fail(w->err, PH_ERR_INTERNAL, "out of memory");
        if (w->err->code == PH_ERR_TARGET_EXITED || w->err->code == PH_ERR_PERMISSION)
            return w->err->code;
    }
    return PH_OK;
}

static void walk_roots(struct wk *w, const struct py_interp *in)
{
    interp_roots(w, in);
    for (size_t k = 0; k < in->nthreads; k++)
        thread_roots(w, in, &in->threads[k]);
    w->stats->threads += (int)in->nthreads;
}

/* Read while running, with lists cut or a collection under way: how many objects reached only
 * through references say (by their own GC header) they are on a list the walk did not see
 * whole. What is past a cut and referred to by nothing reachable is not counted: it is not seen. */
static void count_off_list(struct wk *w)
{
    const uint64_t gc_size = (uint64_t)LAY(w->L, GC_HEAD_SIZE);
    for (size_t i = 0; i < w->g->n; i++) {
        uint64_t next;
        if (!(w->g->flags[i] & PH_OBJ_TRACKED) && wk_type_get(w, w->g->type[i])->gc &&
            wk_u64(w, w->g->addr[i] - gc_size, &next) && next)
            w->stats->gc_off_list++;
    }
}

static ph_status walk_run(struct wk *w, const struct py_state *ps)
{
    if (LAY_HAS(w->L, IS_STATIC_TYPES) && ps->n > 0)
        w->static_types = ps->interps[0].addr + (uint64_t)LAY(w->L, IS_STATIC_TYPES);
    if (ps->n > 0) {
        uint64_t builtins = 0, modules = 0;
        wk_u64(w, ps->interps[0].addr + (uint64_t)LAY(w->L, IS_BUILTINS), &builtins);
        wk_u64(w, ps->interps[0].addr + (uint64_t)LAY(w->L, IS_MODULES), &modules);
        wk_names_init(w, builtins, modules);
    }
    /* Every GC list before any root: while the lists are read, only list objects are in the
     * graph (gclist.h). */
    for (size_t k = 0; k < ps->n; k++) {
        ph_status st = wk_gc_lists(w, ps->interps[k].gc);
        if (st != PH_OK)
            return st;
    }
    for (size_t k = 0; k < ps->n; k++)
        walk_roots(w, &ps->interps[k]);
    w->stats->interpreters = (int)ps->n;
    /* Measured: about four objects per GC-tracked one (their ints, strs, untracked tuples). */
    ph_graph_reserve(w->g, (size_t)(w->stats->gc_listed * 4 + w->g->n));
    ph_status st = decode_all(w);
    if (st != PH_OK)
        return st;
    if (w->opts->running && (w->stats->gc_cut || w->stats->gc_collecting))
        count_off_list(w);
    ph_graph_drop_index(w->g);
    if (w->opts->reads_done)
        w->opts->reads_done(w->opts->reads_done_ctx);
    w->stats->reachable = ph_graph_mark_reachable(w->g);
    return PH_OK;
}

ph_status ph_walk(struct ph_mem *mem, const struct py_target *t, const struct ph_walk_options *opts,
                  struct ph_graph *g, struct ph_error *err)
{
    struct ph_walk_stats *stats = &g->meta.stats;
    struct ph_walk_options defaults = {0};
    if (!opts)
        opts = &defaults;
    struct ph_walk_options o = *opts;
    if (!o.max_objects)
        o.max_objects = DEFAULT_MAX_OBJECTS;
    memset(stats, 0, sizeof *stats);
    struct wk w = {.mem = mem, .t = t, .L = &t->layout, .g = g, .err = err, .opts = &o,
                   .stats = stats, .minor = (int)PY_MINOR(t)};
    wk_versions_init(&w.v, w.minor);
    struct py_state ps;
    ph_status st = py_state_read(mem, t, &ps, err);
    if (st != PH_OK) {
        /* A thread stopped while it linked or unlinked a thread state: a state that passes. */
        stats->gc_changing = st == PH_ERR_INCONSISTENT;
        py_state_free(&ps);
        return st;
    }
    /* A collection moves objects to lists on its own C stack: stopped, look again later
     * (lib/source/live.c); running, read what the lists hold now (--no-freeze). */
    for (size_t k = 0; k < ps.n; k++)
        stats->gc_collecting |= ps.interps[k].collecting;
    if (stats->gc_collecting && !o.running) {
        py_state_free(&ps);
        return ph_fail(err, PH_ERR_INCONSISTENT, "the garbage collector is running");
    }
    if (!wk_text_caches_init(&w) || !ph_addrmap_init(&w.type_names, 1024) ||
        !ph_addrmap_init(&w.keys_memo_index, 64)) {
        wk_text_caches_free(&w);
        ph_addrmap_free(&w.type_names);
        ph_addrmap_free(&w.keys_memo_index);
        py_state_free(&ps);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    }
    w.n_dunder_dict = wk_intern(&w, "__dict__");
    w.n_dunder_class = wk_intern(&w, "__class__");
    wk_kinds_init(&w);
    st = walk_run(&w, &ps);
    py_state_free(&ps);
    wk_types_free(&w);
    wk_text_caches_free(&w);
    ph_addrmap_free(&w.type_names);
    wk_keys_memo_free(&w);
    free(w.scratch);
    return st;
}
