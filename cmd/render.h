/*
 * render.h: printing partitions: heapy's text table, and JSON (schema pyheap.partition/1).
 */
#ifndef PH_RENDER_H
#define PH_RENDER_H

#include <stdio.h>
#include <sys/types.h>

#include "lib/graph.h"
#include "lib/view.h"
#include "lib/walk.h"
#include "symbols/target.h"

struct render_info {
    pid_t pid;
    const struct py_target *target;
    const struct ph_walk_stats *stats;
    double frozen_ms, walk_ms;
    long rows;       /* -1 = all */
    bool all;        /* unreachable objects included */
    int freezes;
    uint64_t unreachable_count, unreachable_size;
};

void render_partition_text(FILE *f, const struct ph_graph *g, const struct ph_partition *p,
                           const struct render_info *info);
void render_partition_json(FILE *f, const struct ph_graph *g, const struct ph_partition *p,
                           const struct render_info *info);
/* "3.11.2" */
void render_version(uint32_t hex, char *buf, size_t cap);
/* heapy's percentage: int('%.0f' % pct), round-half-even */
int render_percent(uint64_t part, uint64_t total);

#endif
