/*
 * session.h: one look at a target, from pid to graph: open the process, resolve its
 * interpreter (unfrozen: reading DWARF can take a second and the target should not wait for
 * it), then freeze every thread, read what is needed, and thaw at once.
 *
 * With opts.copy the walk reads a copy of the target's writable memory taken while frozen
 * (lib/image.h), so the target is stopped only for the copy, not for the whole walk.
 *
 * The target always keeps running: every path out of ph_session_walk / ph_session_state thaws,
 * including errors and cancellation (the cancel flag, set by a signal handler in cmd/). If the
 * GC is collecting at the moment of the freeze the session thaws, lets the target run briefly
 * and retries a bounded number of times.
 */
#ifndef PH_SESSION_H
#define PH_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"
#include "lib/graph.h"
#include "lib/image.h"
#include "lib/mem.h"
#include "lib/proc.h"
#include "lib/pystate.h"
#include "lib/walk.h"
#include "symbols/target.h"

struct ph_session_options {
    struct py_layout_options layout;
    bool no_freeze;                 /* read without stopping (possibly inconsistent) */
    bool copy;                      /* copy writable memory while frozen, walk after the thaw */
    volatile sig_atomic_t *cancel;  /* set by a signal handler: stop, thaw, return */
    size_t cache_bytes;             /* memory cache bound (0 = default) */
    int gc_retries;                 /* 0 = default 5 */
    void (*on_frozen)(void *ctx);   /* called while frozen (tests pause here) */
    void *on_frozen_ctx;
    void (*progress)(void *ctx, uint64_t objects, uint64_t decoded);
    void *progress_ctx;
};

struct ph_session {
    pid_t pid;
    struct ph_proc proc;
    bool proc_open;
    struct ph_mem *mem;
    struct py_target target;
    struct py_state state;          /* interpreters and threads, after ph_session_state */
    struct ph_graph graph;
    bool have_graph;
    struct ph_walk_stats stats;
    double resolve_ms, frozen_ms, walk_ms;
    struct ph_image_stats copy;     /* with opts.copy: what the last walk copied */
    int freezes;                    /* how many freeze attempts the walk took */
    size_t threads_frozen;
};

ph_status ph_session_open(pid_t pid, const struct ph_session_options *opts, struct ph_session *s,
                          struct ph_error *err);
/* Interpreters, threads, GC state, read while frozen. */
ph_status ph_session_state(struct ph_session *s, const struct ph_session_options *opts,
                           struct ph_error *err);
/* The heap walk into s->graph, while frozen. */
ph_status ph_session_walk(struct ph_session *s, const struct ph_session_options *opts,
                          struct ph_error *err);
void ph_session_close(struct ph_session *s);

#endif
