/*
 * pystate.c: interpreters, thread states and GC state of a frozen target. The interpreter list
 * starts at _PyRuntime.interpreters.head; each interpreter's threads at threads.head (or
 * tstate_head). 3.8 has one GC state in the runtime; 3.9+ one per interpreter. Lists are bounded
 * and cycle-safe (a bound on length, not a visited set: the kernel-side lists are small).
 */
#include "lib/walk/pystate.h"

#include <stdlib.h>
#include <string.h>

static ph_status read_threads(struct ph_mem *mem, const struct py_layout *L, struct py_interp *in,
                              struct ph_error *err)
{
    uint64_t ts;
    ph_status st = ph_mem_u64(mem, in->addr + LAY(L, IS_THREADS_HEAD), &ts, err);
    if (st != PH_OK)
        return ph_wrap(err, "reading thread list of interpreter 0x%lx", (unsigned long)in->addr);
    size_t cap = 8;
    in->threads = calloc(cap, sizeof *in->threads);
    if (!in->threads)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    while (ts) {
        if (in->nthreads >= PY_MAX_THREADS)
            return ph_fail(err, PH_ERR_INCONSISTENT, "more than %d thread states: corrupt list",
                           PY_MAX_THREADS);
        if (in->nthreads == cap) {
            struct py_thread *more = realloc(in->threads, 2 * cap * sizeof *more);
            if (!more)
                return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
            in->threads = more;
            cap *= 2;
        }
        struct py_thread *th = &in->threads[in->nthreads++];
        memset(th, 0, sizeof *th);
        th->tstate = ts;
        if ((st = ph_mem_u64(mem, ts + LAY(L, TS_THREAD_ID), &th->thread_id, err)) != PH_OK)
            return ph_wrap(err, "thread state 0x%lx", (unsigned long)ts);
        if (LAY_HAS(L, TS_NATIVE_THREAD_ID)) {
            uint64_t v;
            if ((st = ph_mem_u64(mem, ts + LAY(L, TS_NATIVE_THREAD_ID), &v, err)) != PH_OK)
                return st;
            th->native_id = v & 0xffffffffu; /* unsigned long holding a pid_t */
        }
        if ((st = ph_mem_u64(mem, ts + LAY(L, TS_NEXT), &ts, err)) != PH_OK)
            return st;
    }
    return PH_OK;
}

static ph_status read_gc(struct ph_mem *mem, const struct py_target *t, struct py_interp *in,
                         struct ph_error *err)
{
    const struct py_layout *L = &t->layout;
    if (LAY_HAS(L, IS_GC))
        in->gc = in->addr + LAY(L, IS_GC);
    else if (LAY_HAS(L, RT_GC))
        in->gc = t->sym[PY_SYM_RUNTIME] + LAY(L, RT_GC);
    else
        return ph_fail(err, PH_ERR_NO_LAYOUT, "layout has no GC state offset");
    uint32_t collecting = 0;
    ph_status st = ph_mem_read(mem, in->gc + LAY(L, GCS_COLLECTING), &collecting,
                               sizeof collecting, err);
    in->collecting = collecting != 0;
    return st;
}

ph_status py_state_read(struct ph_mem *mem, const struct py_target *t, struct py_state *out,
                        struct ph_error *err)
{
    const struct py_layout *L = &t->layout;
    memset(out, 0, sizeof *out);
    out->interps = calloc(PY_MAX_INTERPRETERS, sizeof *out->interps);
    if (!out->interps)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    uint64_t ip;
    ph_status st = ph_mem_u64(mem, t->sym[PY_SYM_RUNTIME] + LAY(L, RT_INTERP_HEAD), &ip, err);
    if (st != PH_OK)
        return ph_wrap(err, "reading _PyRuntime.interpreters.head");
    if (!ip)
        return ph_fail(err, PH_ERR_NOT_PYTHON, "the interpreter is not initialised (no interpreter)");
    while (ip) {
        if (out->n >= PY_MAX_INTERPRETERS)
            return ph_fail(err, PH_ERR_INCONSISTENT, "more than %d interpreters: corrupt list",
                           PY_MAX_INTERPRETERS);
        struct py_interp *in = &out->interps[out->n++];
        in->addr = ip;
        if ((st = ph_mem_read(mem, ip + LAY(L, IS_ID), &in->id, sizeof in->id, err)) != PH_OK)
            return ph_wrap(err, "interpreter 0x%lx", (unsigned long)ip);
        if ((st = read_gc(mem, t, in, err)) != PH_OK)
            return st;
        if ((st = read_threads(mem, L, in, err)) != PH_OK)
            return st;
        if ((st = ph_mem_u64(mem, ip + LAY(L, IS_NEXT), &ip, err)) != PH_OK)
            return st;
    }
    return PH_OK;
}

ph_status py_gc_collecting(struct ph_mem *mem, const struct py_target *t, bool *collecting,
                           struct ph_error *err)
{
    const struct py_layout *L = &t->layout;
    *collecting = false;
    uint64_t ip;
    ph_status st = ph_mem_u64(mem, t->sym[PY_SYM_RUNTIME] + LAY(L, RT_INTERP_HEAD), &ip, err);
    for (int n = 0; st == PH_OK && ip && n < PY_MAX_INTERPRETERS; n++) {
        struct py_interp in = {.addr = ip};
        if ((st = read_gc(mem, t, &in, err)) == PH_OK)
            st = ph_mem_u64(mem, ip + LAY(L, IS_NEXT), &ip, err);
        *collecting |= in.collecting;
    }
    return st;
}

void py_state_free(struct py_state *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->interps[i].threads);
    free(s->interps);
    memset(s, 0, sizeof *s);
}
