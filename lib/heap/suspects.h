/*
 * suspects.h: leak suspects from the dominator tree, as Eclipse MAT reports them.
 *
 * A suspect is an object whose retained size passes a threshold (a share of the reachable
 * heap), found by walking down the dominator tree from the top: through namespaces (modules,
 * their dicts, classes, the interpreter's own root containers: everything hangs from them, they
 * are never the leak), and through an object while one child keeps most (70%) of what it
 * retains; an object that splits its retained size among many children is where memory
 * accumulates, and is the suspect (MAT's "accumulation point"). A group suspect is a set of
 * objects of one kind with one common immediate dominator that is no suspect itself (a
 * namespace, or only the roots), together passing the threshold.
 *
 * For each suspect: what it retains, by kind (own sizes), and the accumulated unit: among the
 * kinds inside whose objects together retain at least half of it, the one with the most
 * objects ("120,000 app.TradeMessage"), what holds those (the kind of their immediate
 * dominators, "held by 1,800 list"), and the chain of kinds from the suspect down to one of
 * them.
 */
#ifndef PH_SUSPECTS_H
#define PH_SUSPECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/dominators.h"
#include "lib/heap/view.h"

#define PH_SUSPECT_PARTS 4

struct ph_suspect_part {
    uint32_t kind;           /* clodo kind id (v->kinds) */
    uint64_t count, size;    /* objects of the kind inside, their own sizes */
};

struct ph_chain_step {
    uint32_t kind;
    uint64_t repeat;         /* consecutive dominators of this kind (a linked list: many) */
};

struct ph_suspect {
    bool group;
    uint32_t obj;            /* the suspect, or for a group one of its members */
    uint32_t kind;           /* its kind (the group's kind) */
    uint64_t count;          /* 1, or the group's members */
    uint32_t dominator;      /* a group's common immediate dominator (PH_DOM_ROOT: the roots) */
    uint64_t retained;
    struct ph_suspect_part parts[PH_SUSPECT_PARTS]; /* largest own sizes inside, first */
    size_t nparts;
    uint32_t unit_kind;      /* the accumulated unit; PH_NONE when nothing inside qualifies */
    uint64_t unit_count, unit_retained;
    uint32_t holder_kind;    /* PH_NONE: held by the suspect or its group directly */
    uint64_t holder_count;
    struct ph_chain_step *chain; /* from the suspect (group: its dominator) down to one unit */
    size_t nchain;
};

struct ph_suspects {
    struct ph_suspect *v;    /* largest retained first */
    size_t n;
    uint64_t total;          /* the reachable heap */
    uint64_t threshold;      /* bytes */
};

/* Suspects retaining more than threshold_pct percent of the reachable heap. */
ph_status ph_find_suspects(struct ph_view_ctx *v, const struct ph_dom *d, double threshold_pct,
                           struct ph_suspects *out, struct ph_error *err);
void ph_suspects_free(struct ph_suspects *s);

#endif
