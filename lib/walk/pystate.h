/*
 * pystate.h: the interpreters, their thread states and GC state, read from a frozen target.
 * Every list is bounded (interpreters, threads) and every pointer checked against the maps.
 */
#ifndef PH_PYSTATE_H
#define PH_PYSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/proc/mem.h"
#include "symbols/target.h"

#define PY_MAX_INTERPRETERS 256
#define PY_MAX_THREADS 65536

struct py_thread {
    uint64_t tstate;
    uint64_t thread_id;    /* pthread_t */
    uint64_t native_id;    /* kernel tid (3.8+: native_thread_id exists from 3.8? see layout) */
};

struct py_interp {
    uint64_t addr;
    int64_t id;
    uint64_t gc;           /* address of struct _gc_runtime_state */
    bool collecting;
    struct py_thread *threads;
    size_t nthreads;
};

struct py_state {
    struct py_interp *interps;
    size_t n;
};

ph_status py_state_read(struct ph_mem *mem, const struct py_target *t, struct py_state *out,
                        struct ph_error *err);
void py_state_free(struct py_state *s);
/* Whether any interpreter's collector is running, read without the threads: cheap enough to
 * poll while the target runs (lib/source/live.c waits for a collection to end this way). */
ph_status py_gc_collecting(struct ph_mem *mem, const struct py_target *t, bool *collecting,
                           struct ph_error *err);

#endif
