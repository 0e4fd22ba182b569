/*
 * snapshot_write.c: the writer half of snapshot.h.
 *
 * One output buffer of SNAP_CHUNK_MAX raw bytes: a section's encoder appends to it, and when
 * it is full (or the section ends) it is compressed into one chunk and written. So writing
 * needs a few MiB whatever the heap's size, and never seeks. Every write is checked: a short
 * write, a full disk or a closed pipe is PH_ERR_IO naming the output.
 */
#include "lib/heap/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/heap/snapshot_format.h"

/* Where compressed chunks go: written by the compressing thread, or by the encoding thread only
 * while the other is idle (section headers), so output stays in order. */
struct sink {
    int fd;
    const char *name;
    ph_status st;       /* the first failure; later writes do nothing */
    struct ph_error err;
    ZSTD_CCtx *cctx;
    uint8_t *comp;      /* ZSTD_compressBound(SNAP_CHUNK_MAX) + chunk header */
    size_t comp_cap;
};

/* Chunks are compressed and written by a second thread while the next one is encoded (about a
 * third of the time writing takes): two raw buffers, one being filled, one handed over. */
struct writer {
    struct ph_error *err;
    ph_status st;       /* the first failure, the encoder's or the sink's; later calls do nothing */
    uint8_t *raw;       /* the buffer being filled: SNAP_CHUNK_MAX */
    size_t len;
    uint8_t *bufs[2];
    struct sink sink;
    bool threaded;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const uint8_t *job; /* under mu: the chunk handed over (job_len 0: a section's end) */
    size_t job_len;
    bool pending, quit;
};

static void out_bytes(struct sink *k, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (k->st == PH_OK && n > 0) {
        ssize_t got = write(k->fd, b, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            k->st = ph_fail(&k->err, PH_ERR_IO, "writing %s: %s", k->name,
                            got < 0 ? strerror(errno) : "nothing written");
            return;
        }
        b += got;
        n -= (size_t)got;
    }
}

/* Compress len raw bytes into one chunk and write it (a chunk of 0 ends the section). */
static void write_chunk(struct sink *k, const uint8_t *raw, size_t len)
{
    if (k->st != PH_OK)
        return;
    size_t clen = 0;
    if (len) {
        clen = ZSTD_compressCCtx(k->cctx, k->comp + 12, k->comp_cap - 12, raw, len,
                                 SNAP_ZSTD_LEVEL);
        if (ZSTD_isError(clen)) {
            k->st = ph_fail(&k->err, PH_ERR_INTERNAL, "compressing a snapshot chunk: %s",
                            ZSTD_getErrorName(clen));
            return;
        }
    }
    snap_put_u32(k->comp, (uint32_t)len);
    snap_put_u32(k->comp + 4, (uint32_t)clen);
    snap_put_u32(k->comp + 8, (uint32_t)crc32(0, k->comp + 12, (uInt)clen));
    out_bytes(k, k->comp, 12 + clen);
}

static void *compressor(void *arg)
{
    struct writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->pending && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->pending)
            break;
        pthread_mutex_unlock(&w->mu);
        write_chunk(&w->sink, w->job, w->job_len);
        pthread_mutex_lock(&w->mu);
        w->pending = false;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Wait until the compressor is idle; its failure becomes the writer's. After this the sink
 * may be used by the caller until the next hand-over. */
static void drain(struct writer *w)
{
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        while (w->pending)
            pthread_cond_wait(&w->cv, &w->mu);
        pthread_mutex_unlock(&w->mu);
    }
    if (w->sink.st != PH_OK && w->st == PH_OK) {
        *w->err = w->sink.err;
        w->st = w->sink.st;
    }
}

/* The buffered bytes become a chunk: handed to the compressor (filling goes on in the other
 * buffer), or compressed here when there is no thread. */
static void flush_chunk(struct writer *w)
{
    drain(w);
    if (w->st != PH_OK) {
        w->len = 0; /* nothing more is written; the buffer stays usable for the encoders */
        return;
    }
    if (!w->threaded) {
        write_chunk(&w->sink, w->raw, w->len);
        drain(w);
    } else {
        pthread_mutex_lock(&w->mu);
        w->job = w->raw, w->job_len = w->len, w->pending = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        w->raw = w->raw == w->bufs[0] ? w->bufs[1] : w->bufs[0];
    }
    w->len = 0;
}

static void put(struct writer *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0 && w->st == PH_OK) {
        size_t room = SNAP_CHUNK_MAX - w->len;
        size_t k = n < room ? n : room;
        memcpy(w->raw + w->len, b, k);
        w->len += k;
        b += k;
        n -= k;
        if (w->len == SNAP_CHUNK_MAX)
            flush_chunk(w);
    }
}

static inline void put_varint(struct writer *w, uint64_t v)
{
    if (w->len + 10 <= SNAP_CHUNK_MAX) { /* the common case: room for the longest, in place */
        uint8_t *b = w->raw + w->len;
        while (v >= 0x80) {
            *b++ = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        *b++ = (uint8_t)v;
        w->len = (size_t)(b - w->raw);
        if (w->len == SNAP_CHUNK_MAX)
            flush_chunk(w);
        return;
    }
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        b[n] |= v ? 0x80 : 0;
        n++;
    } while (v);
    put(w, b, n);
}

static inline void put_u8(struct writer *w, uint8_t v)
{
    w->raw[w->len++] = v; /* a buffer is flushed when full, so there is room for one */
    if (w->len == SNAP_CHUNK_MAX)
        flush_chunk(w);
}

static void section_begin(struct writer *w, enum snap_section s)
{
    uint8_t h[8];
    snap_put_u32(h, snap_tag(s));
    snap_put_u32(h + 4, 0);
    drain(w);
    if (w->st == PH_OK)
        out_bytes(&w->sink, h, sizeof h);
}

static void section_end(struct writer *w)
{
    if (w->len)
        flush_chunk(w);
    flush_chunk(w); /* the empty chunk that ends it */
}

/* ---- sections ---- */

static void meta_int(struct writer *s, const char *key, uint64_t v)
{
    put_varint(s, strlen(key));
    put(s, key, strlen(key));
    put_u8(s, META_INT);
    put_varint(s, v);
}

static void meta_text(struct writer *s, const char *key, const char *v)
{
    put_varint(s, strlen(key));
    put(s, key, strlen(key));
    put_u8(s, META_TEXT);
    put_varint(s, strlen(v));
    put(s, v, strlen(v));
}

static void meta_double(struct writer *s, const char *key, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint8_t b[8];
    snap_put_u64(b, bits);
    put_varint(s, strlen(key));
    put(s, key, strlen(key));
    put_u8(s, META_DOUBLE);
    put(s, b, 8);
}

/* The short descriptions (few: modules and functions), by object, from the map's own slots
 * rather than a lookup per object. */
struct brief {
    uint64_t obj;
    uint32_t text;
};

static int cmp_brief(const void *a, const void *b)
{
    const struct brief *x = a, *y = b;
    return x->obj < y->obj ? -1 : x->obj > y->obj;
}

static struct brief *sorted_briefs(const struct ph_graph *g, size_t *n)
{
    struct brief *v = malloc((g->brief.n + 1) * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (size_t k = 0; k < g->brief.cap; k++)
        if (g->brief.keys[k] && *n < g->brief.n)
            v[(*n)++] = (struct brief){g->brief.keys[k] - 1, g->brief.vals[k]};
    qsort(v, *n, sizeof *v, cmp_brief);
    return v;
}

static void enc_stats(struct writer *s, const struct ph_walk_stats *st)
{
    meta_int(s, "gc_listed", st->gc_listed);
    meta_int(s, "frozen_generation", st->frozen);
    meta_int(s, "walk_roots", st->roots);
    meta_int(s, "partial", st->partial);
    meta_int(s, "bad_pointers", st->bad_pointers);
    meta_int(s, "conservative_objects", st->conservative_objects);
    meta_int(s, "conservative_edges", st->conservative_edges);
    meta_int(s, "reachable", st->reachable);
    meta_int(s, "interpreters", (uint64_t)st->interpreters);
    meta_int(s, "threads", (uint64_t)st->threads);
    meta_int(s, "freezes", (uint64_t)st->freezes);
    meta_int(s, "retries", (uint64_t)st->retries);
    meta_int(s, "gc_read_through", st->gc_read_through);
    meta_int(s, "gc_cut", st->gc_cut);
    meta_int(s, "gc_off_list", st->gc_off_list);
    meta_int(s, "gc_collecting", st->gc_collecting);
    meta_double(s, "frozen_ms", st->frozen_ms);
    meta_double(s, "walk_ms", st->walk_ms);
    meta_int(s, "copied", st->copied);
    meta_int(s, "copied_bytes", st->copied_bytes);
    meta_int(s, "provisional_layout", st->provisional_layout);
    meta_int(s, "layout_rewalks", (uint64_t)st->layout_rewalks);
}

static void enc_meta(struct writer *s, const struct ph_graph *g)
{
    const struct ph_heap_meta *m = &g->meta;
    meta_int(s, "objects", g->n);
    meta_int(s, "edges", g->nedges);
    meta_int(s, "types", g->ntypes);
    meta_int(s, "strings", g->names.n);
    meta_int(s, "roots", g->nroots);
    meta_int(s, "briefs", g->brief.n);
    meta_int(s, "pid", (uint64_t)m->pid);
    meta_int(s, "nspid", (uint64_t)m->nspid);
    meta_int(s, "time", (uint64_t)m->time);
    meta_text(s, "host", m->host);
    meta_text(s, "exe", m->exe);
    meta_text(s, "pyheap_version", m->pyheap_version);
    meta_int(s, "python_version_hex", m->version_hex);
    meta_text(s, "python_version_source", m->version_source);
    meta_int(s, "build", (uint64_t)m->shared | (uint64_t)m->pie << 1 |
                             (uint64_t)m->debug_build << 2 | (uint64_t)m->free_threaded << 3);
    meta_text(s, "build_id", m->build_id);
    for (int i = 0; i < m->nlayout && i < PH_META_LINES; i++)
        meta_text(s, "layout", m->layout[i]);
    enc_stats(s, &m->stats);
}

static void enc_types(struct writer *s, const struct ph_graph *g)
{
    for (size_t t = 0; t < g->ntypes; t++) {
        uint8_t b[8];
        snap_put_u64(b, g->types[t].addr);
        put(s, b, 8);
        put_varint(s, g->types[t].name);
        put_varint(s, g->types[t].module);
        put_u8(s, g->types[t].builtin);
    }
}

/* One loop per column: the switch outside, the loop the compiler can keep tight. */
static void enc_column(struct writer *s, const struct ph_graph *g, enum snap_section sec)
{
    uint64_t prev = 0;
    switch (sec) {
    case SEC_ADDR:
        for (size_t i = 0; i < g->n; prev = g->addr[i++])
            put_varint(s, snap_zig((int64_t)(g->addr[i] - prev)));
        break;
    case SEC_SIZE:
        for (size_t i = 0; i < g->n; i++)
            put_varint(s, ph_graph_size(g, (uint32_t)i));
        break;
    case SEC_OTYP:
        for (size_t i = 0; i < g->n; i++)
            put_varint(s, g->type[i]);
        break;
    case SEC_FLAG:
        for (size_t i = 0; i < g->n; i++)
            put_u8(s, g->flags[i]);
        break;
    default: /* SEC_ECNT */
        for (size_t i = 0; i < g->n; i++)
            put_varint(s, g->edge_start[i + 1] - g->edge_start[i]);
        break;
    }
}

static void enc_owners(struct writer *s, const struct ph_graph *g)
{
    uint64_t n = 0, prev = 0;
    for (size_t i = 0; i < g->n; i++)
        n += g->owner[i] != PH_NONE;
    put_varint(s, n);
    for (size_t i = 0; i < g->n; i++)
        if (g->owner[i] != PH_NONE) {
            put_varint(s, i - prev);
            put_varint(s, g->owner[i]);
            prev = i;
        }
}

static void enc_edges(struct writer *s, const struct ph_graph *g, bool labels)
{
    for (size_t i = 0; i < g->n; i++)
        for (uint64_t e = g->edge_start[i]; e < g->edge_start[i + 1]; e++) {
            uint32_t l = g->edge_label[e];
            if (labels)
                put_varint(s, (uint64_t)PH_LABEL_PAYLOAD(l) << 4 | PH_LABEL_KIND(l));
            else
                put_varint(s, snap_zig((int64_t)g->edge_dst[e] - (int64_t)i));
        }
}

static void enc_roots(struct writer *s, const struct ph_graph *g)
{
    for (size_t r = 0; r < g->nroots; r++) {
        put_varint(s, g->roots[r].obj);
        put_varint(s, g->roots[r].name);
    }
}

static void enc_briefs(struct writer *s, const struct ph_graph *g)
{
    size_t n;
    struct brief *v = sorted_briefs(g, &n);
    if (!v) {
        s->st = ph_fail(s->err, PH_ERR_INTERNAL, "out of memory writing a snapshot");
        return;
    }
    uint64_t prev = 0;
    for (size_t k = 0; k < n; k++) {
        put_varint(s, v[k].obj - prev);
        put_varint(s, v[k].text);
        prev = v[k].obj;
    }
    free(v);
}

static void encode(struct writer *s, const struct ph_graph *g, enum snap_section sec)
{
    switch (sec) {
    case SEC_META: enc_meta(s, g); break;
    case SEC_STRS: put(s, g->names.buf, g->names.len); break;
    case SEC_TYPE: enc_types(s, g); break;
    case SEC_OWNR: enc_owners(s, g); break;
    case SEC_EDST: enc_edges(s, g, false); break;
    case SEC_ELAB: enc_edges(s, g, true); break;
    case SEC_ROOT: enc_roots(s, g); break;
    case SEC_BREF: enc_briefs(s, g); break;
    case SEC_END: break;
    default: enc_column(s, g, sec); break;
    }
}

static void write_section(struct writer *w, const struct ph_graph *g, enum snap_section sec)
{
    section_begin(w, sec);
    encode(w, g, sec);
    section_end(w);
}

static void write_header(struct writer *w)
{
    uint8_t h[SNAP_HEADER_LEN];
    memcpy(h, SNAP_MAGIC, SNAP_MAGIC_LEN);
    h[8] = SNAP_MAJOR & 0xff, h[9] = SNAP_MAJOR >> 8;
    h[10] = SNAP_MINOR & 0xff, h[11] = SNAP_MINOR >> 8;
    snap_put_u32(h + 12, 0);
    snap_put_u32(h + 16, (uint32_t)crc32(0, h, 16));
    out_bytes(&w->sink, h, sizeof h);
    drain(w);
}

static bool writer_open(struct writer *w, int fd, const char *name, struct ph_error *err)
{
    *w = (struct writer){.err = err, .st = PH_OK, .sink = {.fd = fd, .name = name, .st = PH_OK}};
    w->sink.comp_cap = ZSTD_compressBound(SNAP_CHUNK_MAX) + 12;
    w->sink.cctx = ZSTD_createCCtx();
    w->sink.comp = malloc(w->sink.comp_cap);
    w->bufs[0] = malloc(SNAP_CHUNK_MAX);
    w->bufs[1] = malloc(SNAP_CHUNK_MAX);
    w->raw = w->bufs[0];
    if (!w->sink.cctx || !w->sink.comp || !w->bufs[0] || !w->bufs[1]) {
        w->st = ph_fail(err, PH_ERR_INTERNAL, "out of memory for the snapshot writer");
        return false;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    /* No thread (a limit on threads): the chunks are compressed in turn, as well. */
    w->threaded = pthread_create(&w->thread, NULL, compressor, w) == 0;
    return true;
}

static void writer_close(struct writer *w, bool opened)
{
    if (opened) {
        drain(w);
        if (w->threaded) {
            pthread_mutex_lock(&w->mu);
            w->quit = true;
            pthread_cond_broadcast(&w->cv);
            pthread_mutex_unlock(&w->mu);
            pthread_join(w->thread, NULL);
        }
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
    }
    ZSTD_freeCCtx(w->sink.cctx);
    free(w->sink.comp);
    free(w->bufs[0]);
    free(w->bufs[1]);
}

ph_status ph_snapshot_write(const struct ph_graph *g, int fd, const char *name,
                            struct ph_error *err)
{
    if (g->decoded != g->n)
        return ph_fail(err, PH_ERR_INTERNAL, "a snapshot needs every object decoded");
    struct writer w;
    bool opened = writer_open(&w, fd, name, err);
    if (opened) {
        write_header(&w);
        for (int sec = 0; sec < SEC_COUNT && w.st == PH_OK; sec++)
            write_section(&w, g, (enum snap_section)sec);
    }
    writer_close(&w, opened);
    return w.st;
}

bool ph_snapshot_magic(const void *buf, size_t len)
{
    return len >= SNAP_MAGIC_LEN && memcmp(buf, SNAP_MAGIC, SNAP_MAGIC_LEN) == 0;
}
