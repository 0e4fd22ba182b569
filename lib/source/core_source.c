/*
 * core_source.c: see core_source.h.
 */
#include "lib/source/core_source.h"

#include <string.h>

#include "lib/source/live.h"
#include "lib/walk/walk.h"

ph_status ph_core_source_open(const char *path, const struct ph_source_options *opts,
                              struct ph_core_source *s, struct ph_error *err)
{
    memset(s, 0, sizeof *s);
    ph_status st = ph_core_open(path, &s->core, err);
    if (st == PH_OK && (st = ph_core_proc(s->core, &s->proc, err)) == PH_OK)
        s->proc_open = true;
    struct ph_mem_backend backend;
    if (st == PH_OK) {
        ph_core_backend(s->core, &backend);
        st = ph_mem_open(backend, &s->proc.maps, opts->cache_bytes, &s->mem, err);
    }
    struct py_layout_options lo = {
        .debug_file = opts->layout.debug_file, .debug_dirs = opts->layout.debug_dirs,
        .no_debuginfod = opts->layout.no_debuginfod, .no_dwarf = opts->layout.no_dwarf,
        .no_debug_offsets = opts->layout.no_debug_offsets, .no_table = opts->layout.no_table};
    if (st == PH_OK)
        st = py_target_resolve(&s->proc, s->mem, &lo, &s->target, err);
    return st;
}

ph_status ph_core_source_state(struct ph_core_source *s, struct ph_error *err)
{
    return py_state_read(s->mem, &s->target, &s->state, err);
}

ph_status ph_core_source_walk(struct ph_core_source *s, const struct ph_source_options *opts,
                              struct ph_graph *g, struct ph_error *err)
{
    if (!ph_graph_init(g, 1 << 16))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    struct ph_walk_options wo = {.cancel = opts->cancel};
    ph_status st = ph_walk(s->mem, &s->target, &wo, g, err);
    struct ph_walk_stats stats = g->meta.stats;
    ph_target_meta(&s->proc, &s->target, &g->meta);
    g->meta.time = ph_core_time(s->core);
    g->meta.host[0] = '\0'; /* the host the core came from is not recorded in it */
    g->meta.stats = stats;
    g->meta.stats.freezes = 0; /* nothing was stopped: the core is a still picture */
    return st;
}

void ph_core_source_close(struct ph_core_source *s)
{
    py_state_free(&s->state);
    ph_mem_close(s->mem);
    if (s->proc_open)
        ph_proc_close(&s->proc);
    ph_core_close(s->core);
    memset(s, 0, sizeof *s);
}
