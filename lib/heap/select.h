/*
 * select.h: a selection, as the command line states it, applied to a set of objects.
 *
 * heapy composes drill-downs one after another (`h[1].byrcs`, `h & Kind`, `.referrers`); a
 * ph_selection holds them all and ph_select applies them in heapy's order: a row of the default
 * (clodo) partition, then kind, size bounds, module, and last the move to the referrers or
 * referents of what is left, within the base set. The result is a plain ph_set that any view
 * (a partition, the by-id table, paths) takes.
 */
#ifndef PH_SELECT_H
#define PH_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/view.h"

struct ph_selection {
    long row;               /* -1: no row */
    const char *kind;       /* NULL: any */
    const char *module;     /* NULL: any */
    uint64_t min_size, max_size;
    bool referrers, referents;
};

/* The selection that selects everything: no row, no kind, sizes 0..UINT64_MAX. */
struct ph_selection ph_selection_none(void);
bool ph_selection_active(const struct ph_selection *sel);

/* Apply sel to start into out; the move to referrers or referents stays within `within` (the
 * heap's default set: a selection among new objects may be held by old ones). PH_ERR_USAGE for
 * a row past the partition's end (saying how many rows there are), PH_ERR_INTERNAL when out of
 * memory. out is empty on failure. */
ph_status ph_select(struct ph_view_ctx *v, const struct ph_selection *sel, const struct ph_set *start,
                    const struct ph_set *within, struct ph_set *out, struct ph_error *err);

/* What --all would add to a selection made without it: the objects the same selection takes
 * when every object counts (start_all, within_all) that are not reachable. A row is taken as
 * the kind it has in start's partition, so the question is about the same kind. */
ph_status ph_select_unreachable(struct ph_view_ctx *v, const struct ph_selection *sel,
                                const struct ph_set *start, const struct ph_set *start_all,
                                const struct ph_set *within_all, uint64_t *count, uint64_t *size,
                                struct ph_error *err);

/* Up to max kinds of s whose names are nearest to `name` (edit distance, case folded; a kind
 * containing name counts as nearest), best first, as ids in v->kinds. Returns how many. For the
 * hint after a --kind that matched nothing. */
size_t ph_kinds_nearest(struct ph_view_ctx *v, const struct ph_set *s, const char *name,
                        uint32_t *out, size_t max);

#endif
