/*
 * view.h: sets of objects and their partitions (heapy's equivalence relations).
 *
 * A ph_set is an array of object indices into one graph. A partition groups a set by a
 * relation into rows {kind, count, size}, sorted by size descending, ties by kind name, as
 * heapy sorts. A view reads its graph and never changes it: the texts it makes (row kinds such
 * as "dict of app.Node", referrer sets, ways in, '%9d' sizes) live in the view's own string
 * table, `kinds`, and rows name them by id there (ph_view_text). So one graph, walked or read
 * from a file, can have any number of views.
 */
#ifndef PH_VIEW_H
#define PH_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/graph.h"
#include "lib/heap/strtab.h"

enum ph_relation {
    PH_BY_CLODO = 0, /* class, or dict of its owner's class */
    PH_BY_TYPE,      /* type; dicts not split by owner */
    PH_BY_SIZE,      /* individual size */
    PH_BY_MODULE,    /* module objects by name; everything else is ~module */
    PH_BY_RCS,       /* the set of clodo kinds of the referrers */
    PH_BY_VIA,       /* how the referrers reach the object */
    PH_BY_ID,        /* one row per object */
    PH_RELATION_COUNT
};

struct ph_set {
    uint32_t *v;
    size_t n;
};

struct ph_row {
    uint32_t kind;   /* id of the row's kind name in the view's `kinds` */
    uint64_t count;
    uint64_t size;
    uint32_t first;  /* one member object (for byid and drill-downs) */
    uint64_t retained; /* 0 until lib/heap/retained.h computes it */
};

struct ph_partition {
    enum ph_relation relation;
    struct ph_row *rows;
    size_t n;
    uint64_t total_count, total_size;
};

struct ph_view_ctx {
    const struct ph_graph *g;
    struct ph_strtab kinds; /* texts of rows, made by the view */
    uint32_t *type_kind;    /* per type record: id of its name in `kinds` */
    uint32_t *dict_kind;    /* per type record: id of "dict of <type>", PH_NONE until asked */
    uint32_t no_owner;      /* id of "dict (no owner)" */
    struct ph_rgraph rg;    /* built on first need */
    bool have_rg;
};

/* False when out of memory (nothing to free then). */
bool ph_view_ctx_init(struct ph_view_ctx *v, const struct ph_graph *g);
void ph_view_ctx_free(struct ph_view_ctx *v);
/* The text of a kind id from this view ("?" for an id it never made). */
const char *ph_view_text(const struct ph_view_ctx *v, uint32_t id);

const char *ph_relation_name(enum ph_relation r);           /* "clodo" */
const char *ph_relation_header(enum ph_relation r);         /* heapy's last column header */
int ph_relation_parse(const char *name);                    /* -1 if unknown */

/* Objects reachable from the roots (all = every object in the graph). */
bool ph_set_default(const struct ph_graph *g, bool all, struct ph_set *out);
void ph_set_free(struct ph_set *s);
/* Objects of the graph not reachable from the roots, and their total size. */
void ph_unreachable_totals(const struct ph_graph *g, uint64_t *count, uint64_t *size);

/* The clodo kind of one object (an id in v->kinds); PH_STR_NONE when out of memory. */
uint32_t ph_clodo_kind(struct ph_view_ctx *v, uint32_t obj);

/* The kind of obj under rel: the id (in v->kinds) of the row it falls in; PH_STR_NONE when out
 * of memory. */
uint32_t ph_view_kind(struct ph_view_ctx *v, uint32_t obj, enum ph_relation rel);

/* The partition of s by rel. Fails (PH_ERR_INTERNAL, saying so) rather than return a table
 * that is missing objects. */
ph_status ph_partition(struct ph_view_ctx *v, const struct ph_set *s, enum ph_relation rel,
                       struct ph_partition *out, struct ph_error *err);
void ph_partition_free(struct ph_partition *p);

/* Selections. Each builds a new set from s; false only when out of memory. */
bool ph_select_row(struct ph_view_ctx *v, const struct ph_set *s, const struct ph_partition *p,
                   size_t row, struct ph_set *out);
bool ph_select_kind(struct ph_view_ctx *v, const struct ph_set *s, const char *kind, struct ph_set *out);
bool ph_select_size(const struct ph_graph *g, const struct ph_set *s, uint64_t min, uint64_t max,
                    struct ph_set *out);
/* Objects whose class's module is `module` (the module part of the kind name). */
bool ph_select_module(const struct ph_graph *g, const struct ph_set *s, const char *module,
                      struct ph_set *out);
bool ph_select_referrers(struct ph_view_ctx *v, const struct ph_set *s, const struct ph_set *within,
                         struct ph_set *out);
bool ph_select_referents(struct ph_view_ctx *v, const struct ph_set *s, const struct ph_set *within,
                         struct ph_set *out);

#endif
