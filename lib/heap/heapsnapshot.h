/*
 * heapsnapshot.h: a heap graph as a Chrome DevTools .heapsnapshot file, for DevTools' Memory
 * tab (Summary, Comparison, Containment, Dominators, Retainers) and every tool that reads V8's
 * format.
 *
 * What is written: a synthetic root (node 0) with one property edge per object that is a pyheap
 * root, named as its first root is ("i0_modules"), then every object reachable from the roots as an "object" node
 * named by its kind ("dict of app.Node", so Summary groups as pyheap does), with its own size;
 * its references as edges typed and named after heapy's labels (attributes and dict values as
 * properties, items as elements, frame locals as context variables, C fields as internal,
 * value-stack slots and conservative hits as hidden). Unreachable objects are left out, as in
 * pyheap's default views, so DevTools' retained sizes are pyheap's. Node ids are derived from
 * the object's and its type's addresses (odd, below 2^31, unique in the file), so Comparison
 * matches the same object across two snapshots of one process. Sizes past 4 GiB are written as
 * 4 GiB - 1 (DevTools keeps 32-bit sizes).
 */
#ifndef PH_HEAPSNAPSHOT_H
#define PH_HEAPSNAPSHOT_H

#include "lib/error.h"
#include "lib/heap/graph.h"

/* Write g to fd (not closed). `name` says where to in messages. PH_ERR_IO when a write fails,
 * PH_ERR_INTERNAL when out of memory. */
ph_status ph_heapsnapshot_write(const struct ph_graph *g, int fd, const char *name,
                                struct ph_error *err);

#endif
