/*
 * render.h: printing partitions: heapy's text table, and JSON (schema pyheap.partition/1);
 * heapy's per-object table for --by id; pieces every JSON document shares.
 */
#ifndef PH_RENDER_H
#define PH_RENDER_H

#include <stdio.h>

#include "cmd/json.h"
#include "lib/heap/graph.h"
#include "lib/heap/view.h"

/* What the renderers print about the heap besides the table: from the graph alone. */
struct render_info {
    const struct ph_heap_meta *meta; /* pid, host, Python version, time, walk statistics */
    long rows;       /* -1 = all */
    bool all;        /* unreachable objects included */
    uint64_t unreachable_count, unreachable_size;
    uint64_t objects, edges; /* the whole graph */
    const struct ph_heap_meta *since; /* a comparison: OLD's meta (NULL: none) */
    uint64_t since_objects;
    bool retained;           /* rows carry retained sizes (--retained) */
    uint64_t heap;           /* the reachable heap's size: what retained % are of */
};

struct cli;
struct cli_heaps;
/* The info of the heap h shows; the unreachable totals are what --all would add to its
 * selection. */
ph_status render_info_of(struct cli *cli, struct cli_heaps *h, struct render_info *info,
                         struct ph_error *err);

void render_partition_text(FILE *f, const struct ph_view_ctx *v, const struct ph_partition *p,
                           const struct render_info *info);
void render_partition_json(FILE *f, const struct ph_view_ctx *v, const struct ph_partition *p,
                           const struct render_info *info);
/* heapy's byid (IdFormat): one row per object of the set, largest first (lib/heap/byid.h). */
void render_id_text(FILE *f, struct ph_view_ctx *v, const struct ph_set *s,
                    const struct render_info *info);
void render_id_json(FILE *f, struct ph_view_ctx *v, const struct ph_set *s,
                    const struct render_info *info);

/* The members every JSON document starts with (schema, pid, host, python, time), and "walk". */
void render_json_head(struct jw *j, const char *schema, const struct render_info *info);
void render_json_walk(struct jw *j, const struct render_info *info);
/* After a table: how many rows are not shown and how to see them; the unreachable note. */
void render_text_tail(FILE *f, size_t shown, size_t total, const struct render_info *info);
/* "2026-12-06T13:37:52Z" */
void render_time(int64_t when, char *buf, size_t cap);
/* "3.11.2" */
void render_version(uint32_t hex, char *buf, size_t cap);
/* heapy's percentage: int('%.0f' % pct), round-half-even */
int render_percent(uint64_t part, uint64_t total);

#endif
