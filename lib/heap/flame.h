/*
 * flame.h: the dominator tree folded by kind, for flame graphs of retained size.
 *
 * Every reachable object is counted once, its own size, at the stack of kinds from the top of
 * the dominator tree down to it: "dict (no owner);app.Hub;dict;tuple;list;app.TradeMessage".
 * The width of a frame is then what the objects of that kind at that place retain. Two rules
 * keep the picture bounded: consecutive dominators of one kind fold into one frame (a linked
 * list of a million nodes is one frame, not a million-deep tower), and stacks are cut at
 * PH_FLAME_MAX_DEPTH frames (deeper objects count in the last frame).
 *
 * Written as collapsed stacks (one "kind;kind;kind bytes" line per distinct stack, for
 * flamegraph.pl, inferno or speedscope) or as a self-contained SVG flame graph with a title on
 * every frame (kind, bytes, share of the heap) that a browser shows on hover.
 */
#ifndef PH_FLAME_H
#define PH_FLAME_H

#include <stdint.h>
#include <stdio.h>

#include "lib/error.h"
#include "lib/heap/dominators.h"
#include "lib/heap/view.h"

#define PH_FLAME_MAX_DEPTH 64

struct ph_flame_frame {
    uint32_t parent;   /* frame index; frame 0 is the whole heap (its own parent) */
    uint32_t kind;     /* clodo kind id (v->kinds) */
    uint32_t depth;    /* 0 for the whole heap */
    uint64_t self;     /* own sizes of the objects counted here */
    uint64_t total;    /* self plus every frame above it */
};

struct ph_flame {
    struct ph_flame_frame *f; /* parents before children */
    size_t n, cap;
};

ph_status ph_flame_build(struct ph_view_ctx *v, const struct ph_dom *d, struct ph_flame *out,
                         struct ph_error *err);
void ph_flame_free(struct ph_flame *f);

/* Collapsed stacks, one line per frame with objects of its own; kinds have ';' replaced by ':'
 * (the separator). PH_ERR_IO when writing fails. */
ph_status ph_flame_write_collapsed(const struct ph_view_ctx *v, const struct ph_flame *f,
                                   FILE *out, struct ph_error *err);
/* An SVG flame graph, `title` on top. Frames narrower than a tenth of a pixel are left out
 * (their bytes stay in their parent's width). */
ph_status ph_flame_write_svg(const struct ph_view_ctx *v, const struct ph_flame *f,
                             const char *title, FILE *out, struct ph_error *err);

#endif
