/*
 * paths.h: shortest paths from the roots to objects (heapy's `.sp`).
 *
 * One breadth-first search from all roots at once over the forward edges gives every reachable
 * object its distance, its parent object and the label of the edge it was reached by (or, for
 * a root, the root it is); a path is then read backwards from any object in time proportional to
 * its length. Paths render as heapy writes them, a Python expression from `Root`:
 *
 *     Root.i0_modules['app'].__dict__['_hub']._unreads[('DataSource', 'B')][0].__self__...
 *
 * Three flat arrays of n entries; nothing is allocated per object.
 */
#ifndef PH_PATHS_H
#define PH_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/graph.h"
#include "lib/heap/view.h"

struct ph_bfs {
    size_t n;
    uint32_t *order;  /* position in the search's queue, so also nearest first; PH_NONE: not
                         reachable from any root */
    uint32_t *parent; /* the object the path comes from; PH_NONE for a root */
    uint32_t *label;  /* the edge label from the parent; for a root, its index in g->roots */
};

/* The search: roots in g->roots order (the first root naming an object names it), then edges
 * in CSR order, so the parent of an object is the first one, in that order, to reach it. */
ph_status ph_bfs_run(const struct ph_graph *g, struct ph_bfs *out, struct ph_error *err);
void ph_bfs_free(struct ph_bfs *b);

/* The k objects of s nearest to the roots, in the search's order (nearest first; among equally
 * near ones, the order the containers hold them in: `messages[0]` before `messages[1]`), into
 * out (room for k). Returns how many were written; *reachable (may be NULL) is how many objects
 * of s have a path at all. O(s->n log k) with a bounded heap, so millions of targets are fine.
 * Writes nothing (returns 0 with *reachable set) only when that heap cannot be allocated. */
size_t ph_paths_nearest(const struct ph_bfs *b, const struct ph_set *s, size_t k, uint32_t *out,
                        size_t *reachable);

/* Edges on the shortest path to obj (0 for a root); PH_NONE when obj is not reachable. */
uint32_t ph_path_length(const struct ph_bfs *b, uint32_t obj);

/* The objects along the path to obj, root first, obj last, into objs (room for cap); returns
 * the number of objects on the path (length + 1), or 0 when obj is not reachable. When the path
 * is longer than cap only the count is returned. */
size_t ph_path_objects(const struct ph_bfs *b, uint32_t obj, uint32_t *objs, size_t cap);

/* A growable string: the rendering of a path has no length bound (a linked list of a million
 * nodes is a path of a million steps). */
struct ph_text {
    char *s;
    size_t len, cap;
    bool failed; /* an allocation failed: s holds what fitted */
};
void ph_text_free(struct ph_text *t);

/* Render the path to obj: "Root." + the root's name, then one step per edge (ph_label_render;
 * a set member wraps what precedes it: list(...)[i]). Replaces t's contents. False when obj is
 * not reachable or memory ran out. */
bool ph_path_render(const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj,
                    struct ph_text *t);

/* The same, made readable when long (a linked list of a million nodes is one path): a step
 * taken more than PATH_RUN_INLINE times in a row is written once with its count,
 * "<.next x 999990>", and a path of more than PATH_BRIEF_ITEMS such items keeps its first and
 * last PATH_KEEP_ITEMS with "<... N steps ...>" between them. */
#define PATH_RUN_INLINE 3
#define PATH_BRIEF_ITEMS 60
#define PATH_KEEP_ITEMS 25
bool ph_path_render_brief(const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj,
                          struct ph_text *t);

/* The name of the root a path to obj starts from (strtab text), or NULL if unreachable. */
const char *ph_path_root_name(const struct ph_graph *g, const struct ph_bfs *b, uint32_t obj);

#endif
