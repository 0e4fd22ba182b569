/*
 * gclist.h: the objects on an interpreter's GC generation lists, read into the graph, also
 * while a thread is in the middle of changing a list (gclist.c says which states are readable
 * and why). Part of the heap walk (lib/walk/internal.h); not part of the engine's API.
 */
#ifndef PH_WALK_GCLIST_H
#define PH_WALK_GCLIST_H

#include <stdint.h>

#include "lib/error.h"
#include "lib/walk/internal.h"

/* Add every object on the four lists of the GC state at gc_state (generations 0..2 and the
 * permanent one) to the graph, flagged PH_OBJ_TRACKED (and PH_OBJ_FROZEN on the permanent
 * list). Must run before anything else adds objects: a list's objects are told apart by their
 * graph indices. A list with one half-linked node (a thread stopped while linking an object)
 * is read through (stats->gc_read_through). Any other defect: with w->opts->running the list is
 * cut there (stats->gc_cut) and the walk goes on; frozen, PH_ERR_INCONSISTENT with
 * stats->gc_changing set and a message saying what was seen. */
ph_status wk_gc_lists(struct wk *w, uint64_t gc_state);

#endif
