/*
 * core_source.h: a heap source that is a core file (inside lib/source only).
 *
 * The process described by the core (lib/proc/core.h) is resolved like a live one (its ELF,
 * version, layout), then walked from the core's memory: nothing to freeze, nothing that can
 * change under the walk. The graph's time is when the core was written.
 */
#ifndef PH_CORE_SOURCE_H
#define PH_CORE_SOURCE_H

#include "lib/error.h"
#include "lib/heap/graph.h"
#include "lib/proc/core.h"
#include "lib/proc/mem.h"
#include "lib/proc/proc.h"
#include "lib/source/source.h"
#include "lib/walk/pystate.h"
#include "symbols/target.h"

struct ph_core_source {
    struct ph_core *core;
    struct ph_proc proc;
    bool proc_open;
    struct ph_mem *mem;
    struct py_target target;
    struct py_state state;
};

ph_status ph_core_source_open(const char *path, const struct ph_source_options *opts,
                              struct ph_core_source *s, struct ph_error *err);
ph_status ph_core_source_walk(struct ph_core_source *s, const struct ph_source_options *opts,
                              struct ph_graph *g, struct ph_error *err);
/* Interpreters and threads, from the core's memory. */
ph_status ph_core_source_state(struct ph_core_source *s, struct ph_error *err);
void ph_core_source_close(struct ph_core_source *s);

#endif
