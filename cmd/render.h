/*
 * render.h: printing partitions: heapy's text table, and JSON (schema pyheap.partition/1);
 * heapy's per-object table for --by id (render_id.c); pieces every JSON document shares.
 */
#ifndef PH_RENDER_H
#define PH_RENDER_H

#include <stdio.h>
#include <sys/types.h>

#include "cmd/json.h"
#include "lib/graph.h"
#include "lib/view.h"
#include "lib/walk.h"
#include "symbols/target.h"

struct render_info {
    pid_t pid;
    const struct py_target *target;
    const struct ph_walk_stats *stats;
    double frozen_ms, walk_ms;
    bool copied;     /* --copy: the walk read a copy taken while frozen */
    uint64_t copied_bytes;
    long rows;       /* -1 = all */
    bool all;        /* unreachable objects included */
    int freezes;
    uint64_t unreachable_count, unreachable_size;
    uint64_t objects, edges; /* the whole graph */
};

void render_partition_text(FILE *f, const struct ph_graph *g, const struct ph_partition *p,
                           const struct render_info *info);
void render_partition_json(FILE *f, const struct ph_graph *g, const struct ph_partition *p,
                           const struct render_info *info);
/* heapy's byid (IdFormat): one row per object of the set, largest first (render_id.c). */
void render_id_text(FILE *f, struct ph_view_ctx *v, const struct ph_set *s,
                    const struct render_info *info);
void render_id_json(FILE *f, struct ph_view_ctx *v, const struct ph_set *s,
                    const struct render_info *info);

/* The members every JSON document starts with (schema, pid, host, python, time), and "walk". */
void render_json_head(struct jw *j, const char *schema, const struct render_info *info);
void render_json_walk(struct jw *j, const struct render_info *info);
/* After a table: how many rows are not shown and how to see them; the unreachable note. */
void render_text_tail(FILE *f, size_t shown, size_t total, const struct render_info *info);
/* "3.11.2" */
void render_version(uint32_t hex, char *buf, size_t cap);
/* heapy's percentage: int('%.0f' % pct), round-half-even */
int render_percent(uint64_t part, uint64_t total);

#endif
