/*
 * flame.c: see flame.h.
 *
 * Folding is a trie of (parent frame, kind) -> frame, filled by one walk of the dominator tree
 * (own stack, no recursion) that carries each object's frame down to its children. Frames are
 * created parent first, so totals are summed in one backwards pass. The SVG is laid out from
 * the same arrays: children of a frame, largest first, side by side within its width; every
 * frame is a <rect> and a <text> in a <g> whose <title> the browser shows on hover. Kinds come
 * from the view (escaped for terminals) and are escaped again for XML.
 */
#include "lib/heap/flame.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addrmap.h"
#include "lib/grow.h"
#include "lib/heap/retained.h"

static uint32_t new_frame(struct ph_flame *f, uint32_t parent, uint32_t kind)
{
    if (!ph_grow(&f->f, &f->cap, f->n, sizeof *f->f, 1024))
        return PH_NONE;
    uint32_t depth = f->n ? f->f[parent].depth + 1 : 0;
    f->f[f->n] = (struct ph_flame_frame){parent, kind, depth, 0, 0};
    return (uint32_t)f->n++;
}

/* The frame of an object of `kind` under frame `parent`. */
static uint32_t frame_of(struct ph_flame *f, struct ph_addrmap *trie, uint32_t parent,
                         uint32_t kind)
{
    if (parent && (f->f[parent].kind == kind || f->f[parent].depth >= PH_FLAME_MAX_DEPTH))
        return parent;
    uint64_t key = ((uint64_t)parent << 32 | kind) + 1;
    uint32_t at = ph_addrmap_put(trie, key, (uint32_t)f->n);
    if (at == PH_ADDRMAP_NONE || at < f->n)
        return at == PH_ADDRMAP_NONE ? PH_NONE : at;
    return new_frame(f, parent, kind);
}

struct fold_frame {
    uint32_t obj, next, frame;
};

static bool fold(struct ph_view_ctx *v, const struct ph_dom *d, const struct ph_domkids *k,
                 struct ph_flame *f, struct ph_addrmap *trie)
{
    size_t cap = 256, n = 1;
    struct fold_frame *st = malloc(cap * sizeof *st);
    if (!st)
        return false;
    st[0] = (struct fold_frame){(uint32_t)d->n, 0, 0};
    bool ok = true;
    while (ok && n) {
        struct fold_frame *top = &st[n - 1];
        uint32_t a = k->start[top->obj], end = k->start[top->obj + 1];
        if (a + top->next >= end) {
            n--;
            continue;
        }
        uint32_t y = k->kid[a + top->next++], kind = ph_clodo_kind(v, y);
        uint32_t fr = kind == PH_STR_NONE ? PH_NONE : frame_of(f, trie, top->frame, kind);
        if (!(ok = fr != PH_NONE))
            break;
        f->f[fr].self += ph_graph_size(v->g, y);
        if (n == cap) {
            struct fold_frame *more = realloc(st, 2 * cap * sizeof *more);
            if (!(ok = more != NULL))
                break;
            st = more;
            cap *= 2;
        }
        st[n++] = (struct fold_frame){y, 0, fr};
    }
    free(st);
    return ok;
}

ph_status ph_flame_build(struct ph_view_ctx *v, const struct ph_dom *d, struct ph_flame *out,
                         struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    struct ph_domkids k = {0};
    struct ph_addrmap trie = {0};
    bool ok = new_frame(out, 0, PH_NONE) == 0 && ph_addrmap_init(&trie, 4096) &&
              ph_domkids_build(d, &k) && fold(v, d, &k, out, &trie);
    ph_addrmap_free(&trie);
    ph_domkids_free(&k);
    if (!ok) {
        ph_flame_free(out);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory folding the dominator tree");
    }
    for (size_t i = 0; i < out->n; i++)
        out->f[i].total = out->f[i].self;
    for (size_t i = out->n; i-- > 1;)
        out->f[out->f[i].parent].total += out->f[i].total;
    return PH_OK;
}

void ph_flame_free(struct ph_flame *f)
{
    free(f->f);
    memset(f, 0, sizeof *f);
}

/* ---- collapsed stacks ---- */

static void put_kind(FILE *out, const char *s, bool xml)
{
    for (; *s; s++) {
        if (!xml)
            fputc(*s == ';' ? ':' : *s, out);
        else if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '"')
            fputs("&quot;", out);
        else
            fputc(*s, out);
    }
}

ph_status ph_flame_write_collapsed(const struct ph_view_ctx *v, const struct ph_flame *f,
                                   FILE *out, struct ph_error *err)
{
    uint32_t path[PH_FLAME_MAX_DEPTH + 2];
    for (size_t i = 1; i < f->n; i++) {
        if (!f->f[i].self)
            continue;
        size_t len = 0;
        for (uint32_t x = (uint32_t)i; x && len < PH_FLAME_MAX_DEPTH + 2; x = f->f[x].parent)
            path[len++] = x;
        while (len--) {
            put_kind(out, ph_view_text(v, f->f[path[len]].kind), false);
            fputc(len ? ';' : ' ', out);
        }
        fprintf(out, "%" PRIu64 "\n", f->f[i].self);
    }
    if (ferror(out))
        return ph_fail(err, PH_ERR_IO, "writing the collapsed stacks failed");
    return PH_OK;
}

/* ---- SVG ---- */

#define SVG_WIDTH 1200.0
#define SVG_PAD 10.0
#define FRAME_H 16.0
#define MIN_WIDTH 0.1

struct layout {
    double *x;        /* per frame: left edge, < 0 when not drawn */
    uint32_t *first;  /* children lists, largest first */
    uint32_t *next;
};

static int cmp_total_desc(const void *a, const void *b, void *frames)
{
    const struct ph_flame_frame *f = frames;
    uint64_t x = f[*(const uint32_t *)a].total, y = f[*(const uint32_t *)b].total;
    if (x != y)
        return x > y ? -1 : 1;
    return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

static bool lay_out(const struct ph_flame *f, struct layout *l, double scale)
{
    uint32_t *byparent = malloc((f->n + 1) * sizeof *byparent);
    l->x = malloc((f->n + 1) * sizeof *l->x);
    l->first = malloc((f->n + 1) * sizeof *l->first);
    l->next = malloc((f->n + 1) * sizeof *l->next);
    if (!byparent || !l->x || !l->first || !l->next) {
        free(byparent);
        return false;
    }
    for (size_t i = 0; i < f->n; i++) {
        byparent[i] = (uint32_t)i;
        l->first[i] = l->next[i] = PH_NONE;
        l->x[i] = -1;
    }
    qsort_r(byparent, f->n, sizeof *byparent, cmp_total_desc, f->f);
    for (size_t k = f->n; k-- > 0;) { /* prepend in reverse: lists come out largest first */
        uint32_t i = byparent[k];
        if (i == 0)
            continue;
        l->next[i] = l->first[f->f[i].parent];
        l->first[f->f[i].parent] = i;
    }
    free(byparent);
    l->x[0] = SVG_PAD;
    for (size_t i = 0; i < f->n; i++) { /* parents first: their x is known */
        if (l->x[i] < 0)
            continue;
        double x = l->x[i];
        for (uint32_t c = l->first[i]; c != PH_NONE; c = l->next[c]) {
            double w = (double)f->f[c].total * scale;
            if (w >= MIN_WIDTH)
                l->x[c] = x;
            x += w;
        }
    }
    return true;
}

static uint32_t hue_of(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void svg_frame(FILE *out, const struct ph_view_ctx *v, const struct ph_flame *f,
                      uint32_t i, double x, double y, double w, uint64_t heap)
{
    const char *name = i ? ph_view_text(v, f->f[i].kind) : "all";
    uint32_t h = hue_of(name);
    fprintf(out, "<g><title>");
    put_kind(out, name, true);
    fprintf(out, ": %" PRIu64 " bytes retained (%.2f%%), %" PRIu64 " own</title>", f->f[i].total,
            heap ? 100.0 * (double)f->f[i].total / (double)heap : 0.0, f->f[i].self);
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" "
                 "fill=\"rgb(%u,%u,%u)\"/>",
            x, y, w, FRAME_H - 1, 50 + h % 60, 120 + (h >> 8) % 110, 80 + (h >> 16) % 60);
    size_t fit = w > 8 ? (size_t)((w - 6) / 7) : 0;
    if (fit >= 3) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + FRAME_H - 4);
        size_t len = strlen(name);
        if (len <= fit) {
            put_kind(out, name, true);
        } else {
            char cut[256];
            size_t keep = fit - 2 < sizeof cut - 1 ? fit - 2 : sizeof cut - 1;
            memcpy(cut, name, keep);
            cut[keep] = '\0';
            put_kind(out, cut, true);
            fputs("..", out);
        }
        fputs("</text>", out);
    }
    fputs("</g>\n", out);
}

ph_status ph_flame_write_svg(const struct ph_view_ctx *v, const struct ph_flame *f,
                             const char *title, FILE *out, struct ph_error *err)
{
    uint64_t heap = f->n ? f->f[0].total : 0;
    double scale = heap ? (SVG_WIDTH - 2 * SVG_PAD) / (double)heap : 0;
    struct layout l = {0};
    if (!lay_out(f, &l, scale)) {
        free(l.x);
        free(l.first);
        free(l.next);
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory laying out the flame graph");
    }
    uint32_t depth = 0;
    for (size_t i = 0; i < f->n; i++)
        if (l.x[i] >= 0 && f->f[i].depth > depth)
            depth = f->f[i].depth;
    double height = (depth + 1) * FRAME_H + 3 * SVG_PAD + 24;
    fprintf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
                 "<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                 "xmlns=\"http://www.w3.org/2000/svg\">\n"
                 "<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
                 "g:hover rect{stroke:#000;stroke-width:0.5}</style>\n"
                 "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f8\"/>\n"
                 "<text x=\"%.0f\" y=\"24\" style=\"font-size:17px\" text-anchor=\"middle\">",
            SVG_WIDTH, height, SVG_WIDTH, height, SVG_WIDTH / 2);
    put_kind(out, title, true);
    fputs("</text>\n", out);
    for (size_t i = 0; i < f->n; i++) {
        if (l.x[i] < 0)
            continue;
        double y = height - SVG_PAD - (f->f[i].depth + 1) * FRAME_H;
        svg_frame(out, v, f, (uint32_t)i, l.x[i], y, (double)f->f[i].total * scale, heap);
    }
    fputs("</svg>\n", out);
    free(l.x);
    free(l.first);
    free(l.next);
    if (ferror(out))
        return ph_fail(err, PH_ERR_IO, "writing the flame graph failed");
    return PH_OK;
}
