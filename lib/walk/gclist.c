/*
 * gclist.c: see gclist.h. Reading a GC list that a thread may be changing.
 *
 * A list is circular and doubly linked through the PyGC_Head before each object: head -> ... ->
 * head by _gc_next, back by _gc_prev (both masked: flags live in the low two bits). An
 * untracked object has _gc_next == 0. Outside a collection (the walk refuses while the GC
 * state's `collecting` is set) two operations change a list, each run by the one thread that
 * holds the interpreter's GIL, with these stores in this order in every GIL build 3.8 to 3.15
 * (Include/internal/pycore_object.h; gc_list_remove in PyObject_GC_Del is UNTRACK without the
 * last store):
 *
 *   _PyObject_GC_TRACK(op)   last = head->prev; last->next = gc; gc->prev = last;
 *                            gc->next = head (| the 3.14.0-3.14.4 visited-space bit);
 *                            head->prev = gc
 *   _PyObject_GC_UNTRACK(op) prev->next = next; next->prev = prev; gc->next = 0;
 *                            gc->prev &= FINALIZED
 *
 * The stores go through pointers that may alias, so the compiler keeps their order, and a
 * stopped thread's stores are all visible to a reader. A thread frozen between two of them
 * leaves every list whole walking forward, except after TRACK's first or second store: the new
 * object is linked from its predecessor, its own _gc_next is still 0, and the head's prev link
 * still names the predecessor. So a forward walk that meets a 0 link is completed by walking
 * back from the head along the prev links until it meets a node the forward walk saw ("read
 * through"; in that state the backward part is empty). Everything else is not one operation in
 * flight: a link to another list's head (gc.freeze() merging lists), a loop, an unreadable or
 * misaligned node, an object on two lists, a break walking back too. Frozen, the walk reports
 * it and the source looks again after letting the target run (lib/source/live.c); running
 * (--no-freeze), the list is cut where it breaks both ways, and what lies between the cuts is
 * found through references only.
 *
 * Invariant: while the lists are read only list objects are in the graph (walk.c reads them
 * before any root), so the objects of the list being read are the graph indices from `first`
 * on; an object something else added before is taken as new, only read through less well. Every walk is bounded by
 * the object limit and by a cycle check (Brent's) on the node addresses themselves, so a loop
 * of nodes with no valid type cannot run forever either.
 */
#include "lib/walk/gclist.h"

#include <inttypes.h>
#include <stdio.h>

#define CANCEL_EVERY 65536
#define PROGRESS_EVERY (1u << 16) /* as walk.c: a huge list is progress to show too */

enum gc_defect {
    GCD_NONE,       /* the walk came back to the head (or, walking back, met the forward part) */
    GCD_ZERO,       /* a node links to 0: an object being linked (or unlinked) */
    GCD_POINTER,    /* a link that cannot be a PyGC_Head (misaligned) */
    GCD_UNREADABLE, /* a link into memory that cannot be read */
    GCD_OTHER_HEAD, /* a link to another list's head: lists being merged */
    GCD_LOOP,       /* a link back into the part already walked, not to the head */
    GCD_TWICE,      /* an object already found on another list */
    GCD_TYPE,       /* running target only: a node whose type is not a valid type object */
    GCD_LONG,       /* more nodes than the object limit */
    GCD_FATAL,      /* the target exited, or reading was refused: w->err says which */
};

struct gc_list {
    uint64_t head;
    const char *name;      /* "generation 0", ... */
    bool permanent;
    uint64_t heads[4];     /* every list head of this GC state: a link to one ends a walk */
    uint32_t first;        /* graph index of this list's first object */
    uint32_t forward_end;  /* graph index past the last object the forward walk added */
    uint64_t forward_last; /* the node whose forward link broke */
    uint64_t from, link;   /* where the last walk broke: the node and its bad link */
};

static bool other_head(const struct gc_list *l, uint64_t node)
{
    for (size_t k = 0; k < 4; k++)
        if (l->heads[k] && node == l->heads[k] && node != l->head)
            return true;
    return false;
}

/* True when node (walking back) is one the forward walk of this list reached. */
static bool met_forward(struct wk *w, const struct gc_list *l, uint64_t node)
{
    if (node == l->forward_last)
        return true;
    struct ph_graph_hint hint;
    uint32_t idx = ph_graph_lookup(w->g, node + (uint64_t)LAY(w->L, GC_HEAD_SIZE), &hint);
    return idx != PH_NONE && idx >= l->first && idx < l->forward_end;
}

/* The object after the PyGC_Head at node, into the graph. */
static enum gc_defect add_node(struct wk *w, const struct gc_list *l, uint64_t node, uint64_t type)
{
    uint32_t ti = wk_type_index(w, type);
    if (ti == PH_NONE) {
        w->stats->bad_pointers++;
        return w->opts->running ? GCD_TYPE : GCD_NONE;
    }
    bool added;
    uint32_t idx = ph_graph_add_object(w->g, node + (uint64_t)LAY(w->L, GC_HEAD_SIZE), ti, &added);
    if (idx == PH_NONE) {
        ph_fail(w->err, PH_ERR_INTERNAL, "out of memory for the object graph");
        return GCD_FATAL;
    }
    if (!added && (w->g->flags[idx] & PH_OBJ_TRACKED)) /* found on a list before */
        return idx >= l->first ? GCD_LOOP : GCD_TWICE;
    w->g->flags[idx] |= PH_OBJ_TRACKED | (l->permanent ? PH_OBJ_FROZEN : 0);
    w->stats->gc_listed++;
    w->stats->frozen += l->permanent;
    return GCD_NONE;
}

/* Walk from the head along next links (back = false) or prev links (back = true) until the
 * head comes round again, or (walking back) a node the forward walk reached. */
static enum gc_defect walk(struct wk *w, struct gc_list *l, bool back)
{
    const uint64_t gc_size = (uint64_t)LAY(w->L, GC_HEAD_SIZE);
    uint64_t from = l->head, node, words[8]; /* gc_next, gc_prev, [...], ob_refcnt, ob_type */
    uint64_t mark = l->head, power = 1, lam = 0;
    l->from = l->head;
    l->link = 0;
    if (gc_size > sizeof words - 16 || !wk_u64(w, l->head + (back ? 8 : 0), &node))
        return w->err->code ? GCD_FATAL : GCD_UNREADABLE;
    for (uint64_t count = 0;; count++) {
        node &= ~3ull;
        l->from = from;
        l->link = node;
        if (node == l->head || (back && met_forward(w, l, node)))
            return GCD_NONE;
        if (!node)
            return GCD_ZERO;
        if (node & 7)
            return GCD_POINTER;
        if (other_head(l, node))
            return GCD_OTHER_HEAD;
        if (node == mark)
            return GCD_LOOP;
        if (++lam == power) { /* Brent: move the mark to every power of two */
            mark = node;
            power *= 2;
            lam = 0;
        }
        if (count > w->opts->max_objects)
            return GCD_LONG;
        if (count % CANCEL_EVERY == 0 && w->opts->cancel && *w->opts->cancel) {
            ph_fail(w->err, PH_ERR_INTERRUPTED, "interrupted");
            return GCD_FATAL;
        }
        if (count % PROGRESS_EVERY == 0 && w->opts->progress)
            w->opts->progress(w->opts->progress_ctx, w->g->n, 0);
        if (!wk_read(w, node, words, (size_t)gc_size + 16))
            return w->err->code ? GCD_FATAL : GCD_UNREADABLE;
        enum gc_defect d = add_node(w, l, node, words[gc_size / 8 + 1]);
        if (d != GCD_NONE)
            return d;
        from = node;
        node = words[back ? 1 : 0];
    }
}

static void describe(const struct gc_list *l, enum gc_defect d, char *buf, size_t cap)
{
    switch (d) {
    case GCD_ZERO:
        snprintf(buf, cap, "0x%" PRIx64 " links to 0", l->from);
        break;
    case GCD_POINTER:
    case GCD_UNREADABLE:
        snprintf(buf, cap, "0x%" PRIx64 " links to 0x%" PRIx64 ", %s", l->from, l->link,
                 d == GCD_POINTER ? "not a GC header" : "unreadable");
        break;
    case GCD_OTHER_HEAD:
        snprintf(buf, cap, "0x%" PRIx64 " links to another list's head (lists being merged)",
                 l->from);
        break;
    case GCD_LOOP:
        snprintf(buf, cap, "0x%" PRIx64 " links back into the list at 0x%" PRIx64, l->from,
                 l->link);
        break;
    case GCD_TWICE:
        snprintf(buf, cap, "0x%" PRIx64 " links to 0x%" PRIx64 ", already on another list",
                 l->from, l->link);
        break;
    case GCD_TYPE:
        snprintf(buf, cap, "0x%" PRIx64 " links to 0x%" PRIx64 ", whose type is not valid",
                 l->from, l->link);
        break;
    default:
        snprintf(buf, cap, "more nodes than the object limit");
        break;
    }
}

/* One list: forward, and if that breaks, back from the head to meet it. */
static ph_status read_list(struct wk *w, struct gc_list *l)
{
    l->first = (uint32_t)w->g->n;
    enum gc_defect fwd = walk(w, l, false);
    l->forward_end = (uint32_t)w->g->n;
    if (fwd == GCD_NONE)
        return PH_OK;
    if (fwd == GCD_FATAL)
        return w->err->code;
    char seen_fwd[160], seen_back[160] = "";
    describe(l, fwd, seen_fwd, sizeof seen_fwd);
    l->forward_last = l->from;
    uint64_t break_at = l->from;
    enum gc_defect back = GCD_LOOP; /* frozen, only a 0 link is a state to read through */
    if (fwd == GCD_ZERO || w->opts->running)
        back = walk(w, l, true);
    if (back == GCD_FATAL)
        return w->err->code;
    if (back == GCD_NONE) {
        w->stats->gc_read_through++;
        return PH_OK;
    }
    if (w->opts->running) {
        w->stats->gc_cut++;
        return PH_OK;
    }
    if (fwd == GCD_ZERO)
        describe(l, back, seen_back, sizeof seen_back);
    w->stats->gc_changing = true;
    w->stats->gc_break = break_at;
    return ph_fail(w->err, PH_ERR_INCONSISTENT,
                   "the GC list of %s at 0x%" PRIx64 ": walking forward, %s%s%s", l->name, l->head,
                   seen_fwd, seen_back[0] ? "; walking back, " : "", seen_back);
}

ph_status wk_gc_lists(struct wk *w, uint64_t gc_state)
{
    static const struct { enum py_field f; const char *name; } lists[] = {
        {PF_GCS_HEAD0, "generation 0"}, {PF_GCS_HEAD1, "generation 1"},
        {PF_GCS_HEAD2, "generation 2"}, {PF_GCS_PERMANENT, "the permanent generation"},
    };
    struct gc_list l = {0};
    for (size_t k = 0; k < 4; k++)
        if (w->L->v[lists[k].f] >= 0)
            l.heads[k] = gc_state + (uint64_t)w->L->v[lists[k].f];
    for (size_t k = 0; k < 4; k++) {
        if (!l.heads[k])
            continue;
        l.head = l.heads[k];
        l.name = lists[k].name;
        l.permanent = lists[k].f == PF_GCS_PERMANENT;
        l.forward_last = 0;
        ph_status st = read_list(w, &l);
        if (st != PH_OK)
            return st;
    }
    return PH_OK;
}
