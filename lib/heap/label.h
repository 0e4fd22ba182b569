/*
 * label.h: rendering edge labels and objects as text a Python programmer can read, in heapy's
 * style: `.name`, `['key']`, `[3]`, `.keys()[2]`, `.f_locals['x']`, `list(x)[1]`, `.??`.
 * Everything rendered comes from the graph's string table, which holds only escaped text.
 */
#ifndef PH_LABEL_H
#define PH_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/heap/graph.h"

/* Render one step after `prefix` (the expression so far) into buf. For a set member the step
 * wraps the prefix: list(prefix)[i]. Returns buf. */
char *ph_label_render(const struct ph_graph *g, uint32_t label, const char *prefix, char *buf,
                      size_t cap);

/* One-line description of an object: "module 'os'", "function 'f'", "type '__main__.A'",
 * else "<kind> 0xADDR". */
char *ph_object_brief(const struct ph_graph *g, uint32_t obj, char *buf, size_t cap);

#endif
