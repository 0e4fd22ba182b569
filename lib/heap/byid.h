/*
 * byid.h: heapy's byid table (guppy3 Part.py IdFormat): one row per object of a set, largest
 * first, each rendered the way heapy renders its kind (modules and functions by name, lists and
 * dicts as 0xADDR*LEN, bound methods as <Class at 0x...>.name, ...). Only the rows to be shown
 * are ever ordered, so the table of millions of objects stays linear.
 */
#ifndef PH_BYID_H
#define PH_BYID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/view.h"

struct ph_id_row {
    uint64_t size;
    uint32_t obj;
    uint32_t kind; /* clodo kind id (v->kinds) */
    uint32_t name; /* id of the rendering for kinds heapy orders by it, else PH_NONE */
};

struct ph_id_table {
    struct ph_id_row *rows; /* the first `shown` rows, in heapy's order */
    size_t shown, count;    /* rows kept; objects in the set */
    uint64_t total_size;
    bool mixed;             /* more than one clodo kind */
    uint32_t kind;          /* the one kind when not mixed (PH_NONE for an empty set) */
    char set_kind[600];     /* heapy's label: the kind, "mixed" or "Nothing" */
    char title[64];         /* the last column's header */
};

/* The first max_rows rows of s's table. */
ph_status ph_id_table(struct ph_view_ctx *v, const struct ph_set *s, size_t max_rows,
                      struct ph_id_table *t, struct ph_error *err);
void ph_id_table_free(struct ph_id_table *t);
/* The last column of row `row`: the object's rendering, "kind: " first in a mixed set. */
void ph_id_row_text(struct ph_view_ctx *v, const struct ph_id_table *t, size_t row, char *buf,
                    size_t cap);

#endif
