/*
 * snapshot_read.c: the reader half of snapshot.h.
 *
 * Three layers, each bounded: the input (read(2) through a 64 KiB buffer, exact or "ends
 * early"), chunks (header checked, at most SNAP_CHUNK_MAX raw bytes, crc32 checked before zstd
 * sees the bytes, decompressed size checked), and the section decoders, which pull bytes and
 * varints from the current chunk and check every value against the counts META declared before
 * it becomes part of the graph. The graph grows with the data actually read, never with what a
 * count claims. Every failure names the section and the byte offset of the chunk it was in.
 */
#include "lib/heap/snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/escape.h"
#include "lib/heap/snapshot_format.h"

#define MAX_OBJECTS ((uint64_t)1 << 31)
#define MAX_TYPES ((uint64_t)1 << 24)
#define MAX_KEY 64
#define MAX_TEXT 4096
#define MAX_STRING ((size_t)1 << 20)
#define KNOWN_FLAGS 63u

struct ph_snapshot_reader {
    int fd;
    char name[256];
    struct ph_error *err;
    ph_status st;
    uint64_t off;              /* file offset of the next unread byte */
    uint8_t in[1 << 16];
    size_t in_pos, in_len;
    enum snap_section sec;     /* the section being read */
    uint64_t chunk_off;        /* file offset of the current chunk's header */
    bool sec_done;             /* its end chunk was read */
    uint8_t *raw, *comp;
    size_t raw_len, raw_pos;
    ZSTD_DCtx *dctx;
    struct ph_heap_meta meta;
    uint64_t objects, edges, types, strings, roots, briefs;
};

static ph_status corrupt(struct ph_snapshot_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static ph_status corrupt(struct ph_snapshot_reader *r, const char *fmt, ...)
{
    if (r->st != PH_OK)
        return r->st;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    r->st = ph_fail(r->err, PH_ERR_CORRUPT_FILE, "%s is not a readable snapshot: section %s at byte %"
                    PRIu64 ": %s", r->name, snap_section_names[r->sec], r->chunk_off, what);
    return r->st;
}

/* ---- input ---- */

static bool in_fill(struct ph_snapshot_reader *r)
{
    for (;;) {
        ssize_t k = read(r->fd, r->in, sizeof r->in);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r->st = ph_fail(r->err, PH_ERR_IO, "reading %s: %s", r->name, strerror(errno));
            return false;
        }
        r->in_pos = 0;
        r->in_len = (size_t)k;
        return k > 0;
    }
}

/* Exactly n bytes, else "ends early" (corrupt) or an I/O error. */
static bool in_read(struct ph_snapshot_reader *r, void *buf, size_t n)
{
    uint8_t *b = buf;
    while (n > 0 && r->st == PH_OK) {
        if (r->in_pos == r->in_len && !in_fill(r)) {
            if (r->st == PH_OK)
                corrupt(r, "the file ends early (truncated)");
            return false;
        }
        size_t k = r->in_len - r->in_pos < n ? r->in_len - r->in_pos : n;
        memcpy(b, r->in + r->in_pos, k);
        r->in_pos += k;
        r->off += k;
        b += k;
        n -= k;
    }
    return r->st == PH_OK;
}

/* ---- chunks ---- */

static bool next_chunk(struct ph_snapshot_reader *r)
{
    uint8_t h[12];
    r->chunk_off = r->off;
    if (!in_read(r, h, sizeof h))
        return false;
    uint32_t raw_len = snap_get_u32(h), comp_len = snap_get_u32(h + 4), crc = snap_get_u32(h + 8);
    if (raw_len > SNAP_CHUNK_MAX || comp_len > ZSTD_compressBound(SNAP_CHUNK_MAX) ||
        (raw_len == 0) != (comp_len == 0))
        return corrupt(r, "chunk lengths %" PRIu32 "/%" PRIu32 " out of range", raw_len, comp_len),
               false;
    if (!in_read(r, r->comp, comp_len))
        return false;
    if ((uint32_t)crc32(0, r->comp, comp_len) != crc)
        return corrupt(r, "checksum mismatch"), false;
    r->raw_pos = r->raw_len = 0;
    if (raw_len == 0) {
        r->sec_done = true;
        return true;
    }
    size_t got = ZSTD_decompressDCtx(r->dctx, r->raw, raw_len, r->comp, comp_len);
    if (ZSTD_isError(got) || got != raw_len)
        return corrupt(r, "chunk does not decompress to its %" PRIu32 " bytes", raw_len), false;
    r->raw_len = raw_len;
    return true;
}

/* Make at least one byte available in the section; false (corrupt) at its end. */
static bool more(struct ph_snapshot_reader *r)
{
    while (r->raw_pos == r->raw_len) {
        if (r->st != PH_OK)
            return false;
        if (r->sec_done) {
            corrupt(r, "the section ends early");
            return false;
        }
        if (!next_chunk(r))
            return false;
    }
    return true;
}

static bool get_bytes(struct ph_snapshot_reader *r, void *buf, size_t n)
{
    uint8_t *b = buf;
    while (n > 0) {
        if (!more(r))
            return false;
        size_t k = r->raw_len - r->raw_pos < n ? r->raw_len - r->raw_pos : n;
        memcpy(b, r->raw + r->raw_pos, k);
        r->raw_pos += k;
        b += k;
        n -= k;
    }
    return true;
}

static bool get_u8(struct ph_snapshot_reader *r, uint8_t *v)
{
    return get_bytes(r, v, 1);
}

static bool get_varint_slow(struct ph_snapshot_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;
        if (!get_u8(r, &b))
            return false;
        if (shift == 63 && (b & 0x7e))
            break;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return corrupt(r, "a number is longer than 64 bits"), false;
}

static inline bool get_varint(struct ph_snapshot_reader *r, uint64_t *v)
{
    const uint8_t *p = r->raw + r->raw_pos;
    if (r->raw_len - r->raw_pos >= 10) { /* whole varint in this chunk: the common case */
        uint64_t x = 0;
        for (int i = 0; i < 9; i++) {
            x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
            if (!(p[i] & 0x80)) {
                r->raw_pos += (size_t)i + 1;
                *v = x;
                return true;
            }
        }
    }
    return get_varint_slow(r, v);
}

/* A varint that must be below `limit` (an index or a count). */
static bool get_index(struct ph_snapshot_reader *r, uint64_t limit, const char *what, uint64_t *v)
{
    if (!get_varint(r, v))
        return false;
    if (*v >= limit)
        return corrupt(r, "%s %" PRIu64 " out of range (%" PRIu64 ")", what, *v, limit), false;
    return true;
}

/* Read the next section's header; skip whole sections of tags this reader does not know. */
static bool section_open(struct ph_snapshot_reader *r, enum snap_section want)
{
    for (int skipped = 0; skipped < 1024; skipped++) {
        uint8_t h[8];
        r->chunk_off = r->off;
        r->sec = want;
        if (!in_read(r, h, sizeof h))
            return false;
        uint32_t tag = snap_get_u32(h);
        r->sec_done = false;
        r->raw_pos = r->raw_len = 0;
        if (tag == snap_tag(want))
            return true;
        for (int s = 0; s < SEC_COUNT; s++)
            if (tag == snap_tag((enum snap_section)s))
                return corrupt(r, "found section %s where %s belongs", snap_section_names[s],
                               snap_section_names[want]), false;
        while (!r->sec_done) /* a newer minor version's section: skip it */
            if (!next_chunk(r))
                return false;
    }
    return corrupt(r, "too many unknown sections"), false;
}

/* The section must end exactly where its decoder stopped. */
static bool section_close(struct ph_snapshot_reader *r)
{
    if (r->raw_pos == r->raw_len && !r->sec_done && !next_chunk(r))
        return false;
    if (r->raw_pos != r->raw_len || !r->sec_done)
        return corrupt(r, "the section holds more than its contents"), false;
    return true;
}

/* ---- META ---- */

static void set_count(struct ph_snapshot_reader *r, const char *key, uint64_t v)
{
    static const struct { const char *key; size_t off; } counts[] = {
        {"objects", offsetof(struct ph_snapshot_reader, objects)},
        {"edges", offsetof(struct ph_snapshot_reader, edges)},
        {"types", offsetof(struct ph_snapshot_reader, types)},
        {"strings", offsetof(struct ph_snapshot_reader, strings)},
        {"roots", offsetof(struct ph_snapshot_reader, roots)},
        {"briefs", offsetof(struct ph_snapshot_reader, briefs)},
    };
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
        if (!strcmp(key, counts[k].key))
            *(uint64_t *)((char *)r + counts[k].off) = v;
}

static void set_int(struct ph_snapshot_reader *r, const char *key, uint64_t v)
{
    struct ph_heap_meta *m = &r->meta;
    struct ph_walk_stats *s = &m->stats;
    set_count(r, key, v);
    if (!strcmp(key, "pid")) m->pid = (int64_t)v;
    else if (!strcmp(key, "nspid")) m->nspid = (int64_t)v;
    else if (!strcmp(key, "time")) m->time = (int64_t)v;
    else if (!strcmp(key, "python_version_hex")) m->version_hex = (uint32_t)v;
    else if (!strcmp(key, "build")) {
        m->shared = v & 1, m->pie = v >> 1 & 1, m->debug_build = v >> 2 & 1;
        m->free_threaded = v >> 3 & 1;
    }
    else if (!strcmp(key, "gc_listed")) s->gc_listed = v;
    else if (!strcmp(key, "frozen_generation")) s->frozen = v;
    else if (!strcmp(key, "walk_roots")) s->roots = v;
    else if (!strcmp(key, "partial")) s->partial = v;
    else if (!strcmp(key, "bad_pointers")) s->bad_pointers = v;
    else if (!strcmp(key, "conservative_objects")) s->conservative_objects = v;
    else if (!strcmp(key, "conservative_edges")) s->conservative_edges = v;
    else if (!strcmp(key, "reachable")) s->reachable = v;
    else if (!strcmp(key, "interpreters")) s->interpreters = (int)(v & 0x7fffffff);
    else if (!strcmp(key, "threads")) s->threads = (int)(v & 0x7fffffff);
    else if (!strcmp(key, "freezes")) s->freezes = (int)(v & 0x7fffffff);
    else if (!strcmp(key, "retries")) s->retries = (int)(v & 0x7fffffff);
    else if (!strcmp(key, "gc_read_through")) s->gc_read_through = v;
    else if (!strcmp(key, "gc_cut")) s->gc_cut = v;
    else if (!strcmp(key, "gc_off_list")) s->gc_off_list = v;
    else if (!strcmp(key, "gc_collecting")) s->gc_collecting = v != 0;
    else if (!strcmp(key, "copied")) s->copied = v != 0;
    else if (!strcmp(key, "copied_bytes")) s->copied_bytes = v;
    else if (!strcmp(key, "provisional_layout")) s->provisional_layout = v != 0;
    else if (!strcmp(key, "layout_rewalks")) s->layout_rewalks = (int)(v & 0x7fffffff);
}

/* A text value into its field; false when it cannot have come from a field that size. */
static bool copy_text(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap)
        return false;
    memcpy(dst, v, n + 1);
    return true;
}

static bool set_text(struct ph_snapshot_reader *r, const char *key, const char *v)
{
    struct ph_heap_meta *m = &r->meta;
    if (!strcmp(key, "host")) return copy_text(m->host, sizeof m->host, v);
    if (!strcmp(key, "exe")) return copy_text(m->exe, sizeof m->exe, v);
    if (!strcmp(key, "pyheap_version")) return copy_text(m->pyheap_version, sizeof m->pyheap_version, v);
    if (!strcmp(key, "python_version_source"))
        return copy_text(m->version_source, sizeof m->version_source, v);
    if (!strcmp(key, "build_id")) return copy_text(m->build_id, sizeof m->build_id, v);
    if (!strcmp(key, "layout") && m->nlayout < PH_META_LINES)
        return copy_text(m->layout[m->nlayout++], sizeof m->layout[0], v);
    return true;
}

static void set_double(struct ph_snapshot_reader *r, const char *key, double v)
{
    if (!strcmp(key, "frozen_ms")) r->meta.stats.frozen_ms = v;
    else if (!strcmp(key, "walk_ms")) r->meta.stats.walk_ms = v;
}

static bool meta_record(struct ph_snapshot_reader *r)
{
    uint64_t klen, vlen, v;
    char key[MAX_KEY + 1], text[MAX_TEXT + 1];
    uint8_t type, b[8];
    if (!get_index(r, MAX_KEY + 1, "key length", &klen) || !get_bytes(r, key, klen) || !get_u8(r, &type))
        return false;
    key[klen] = '\0';
    if (strlen(key) != klen || !ph_escape_is_clean(key, klen))
        return corrupt(r, "a key is not clean text"), false;
    switch (type) {
    case META_INT:
        if (!get_varint(r, &v))
            return false;
        set_int(r, key, v);
        return true;
    case META_TEXT:
        if (!get_index(r, MAX_TEXT + 1, "text length", &vlen) || !get_bytes(r, text, vlen))
            return false;
        text[vlen] = '\0';
        if (strlen(text) != vlen || !ph_escape_is_clean(text, vlen))
            return corrupt(r, "the value of %s is not clean text", key), false;
        if (!set_text(r, key, text))
            return corrupt(r, "the value of %s is too long", key), false;
        return true;
    case META_DOUBLE: {
        if (!get_bytes(r, b, 8))
            return false;
        uint64_t bits = snap_get_u64(b);
        double d;
        memcpy(&d, &bits, sizeof d);
        set_double(r, key, d);
        return true;
    }
    default: return corrupt(r, "value type %u of %s is unknown", type, key), false;
    }
}

static bool read_meta(struct ph_snapshot_reader *r)
{
    if (!section_open(r, SEC_META))
        return false;
    r->objects = r->edges = r->types = r->strings = r->roots = r->briefs = UINT64_MAX;
    for (int n = 0; n < 100000; n++) {
        if (r->raw_pos == r->raw_len && !r->sec_done && !next_chunk(r))
            return false;
        if (r->raw_pos == r->raw_len && r->sec_done)
            break;
        if (!meta_record(r))
            return false;
    }
    if (!section_close(r))
        return false;
    if (r->objects >= MAX_OBJECTS || r->edges >= UINT32_MAX || r->types >= MAX_TYPES ||
        r->strings >= UINT32_MAX || r->roots > UINT32_MAX || r->briefs > r->objects)
        return corrupt(r, "the counts of objects, edges, types, strings, roots and briefs are "
                          "missing or out of range"), false;
    return true;
}

/* ---- header ---- */

static bool read_header(struct ph_snapshot_reader *r)
{
    uint8_t h[SNAP_HEADER_LEN];
    r->sec = SEC_META;
    r->chunk_off = 0;
    if (!in_read(r, h, sizeof h))
        return false;
    if (!ph_snapshot_magic(h, sizeof h))
        return corrupt(r, "not a pyheap snapshot (wrong magic)"), false;
    /* The major version is read before the checksum: a newer format may lay out the rest of
     * its header differently, and then the message must say so, not "corrupt". */
    unsigned major = h[8] | h[9] << 8, minor = h[10] | h[11] << 8;
    if (major != SNAP_MAJOR) {
        r->st = ph_fail(r->err, PH_ERR_CORRUPT_FILE, "%s is a snapshot of format %u.%u; this "
                        "pyheap reads format %d.x (use a pyheap as new as the one that wrote it)",
                        r->name, major, minor, SNAP_MAJOR);
        return false;
    }
    if ((uint32_t)crc32(0, h, 16) != snap_get_u32(h + 16))
        return corrupt(r, "header checksum mismatch"), false;
    return true;
}

ph_status ph_snapshot_open(int fd, const char *name, struct ph_snapshot_reader **out,
                           struct ph_error *err)
{
    struct ph_snapshot_reader *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    r->fd = fd;
    r->err = err;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->raw = malloc(SNAP_CHUNK_MAX);
    r->comp = malloc(ZSTD_compressBound(SNAP_CHUNK_MAX));
    r->dctx = ZSTD_createDCtx();
    if (!r->raw || !r->comp || !r->dctx)
        r->st = ph_fail(err, PH_ERR_INTERNAL, "out of memory for the snapshot reader");
    if (r->st == PH_OK && read_header(r))
        read_meta(r);
    ph_status st = r->st;
    if (st != PH_OK)
        ph_snapshot_close(r);
    else
        *out = r;
    return st;
}

/* ---- the graph's sections ---- */

/* One string of the table, whole in cur[0..len): checked and interned as the next id. */
static bool add_string(struct ph_snapshot_reader *r, struct ph_graph *g, const char *cur, size_t len)
{
    uint32_t want = g->names.n;
    if (!ph_escape_is_clean(cur, len))
        return corrupt(r, "string %" PRIu32 " is not clean text", want), false;
    uint32_t id = ph_strtab_intern(&g->names, cur, len);
    if (id == PH_STR_NONE) {
        r->st = ph_fail(r->err, PH_ERR_INTERNAL, "out of memory for strings");
        return false;
    }
    if (id != want)
        return corrupt(r, "string %" PRIu32 " repeats string %" PRIu32, want, id), false;
    return true;
}

static bool read_strings(struct ph_snapshot_reader *r, struct ph_graph *g)
{
    char *cur = malloc(MAX_STRING + 1);
    if (!cur) {
        r->st = ph_fail(r->err, PH_ERR_INTERNAL, "out of memory");
        return false;
    }
    size_t len = 0;
    bool ok = true;
    while (ok && g->names.n < r->strings && (ok = more(r))) {
        const uint8_t *p = r->raw + r->raw_pos, *end = r->raw + r->raw_len;
        const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
        size_t k = (size_t)((nul ? nul : end) - p);
        if (len + k > MAX_STRING) {
            corrupt(r, "string %" PRIu32 " is longer than %zu bytes", g->names.n, MAX_STRING);
            ok = false;
            break;
        }
        memcpy(cur + len, p, k);
        len += k;
        r->raw_pos += k + (nul != NULL);
        if (nul) {
            ok = add_string(r, g, cur, len);
            len = 0;
        }
    }
    free(cur);
    return ok;
}

static bool oom(struct ph_snapshot_reader *r)
{
    r->st = ph_fail(r->err, PH_ERR_INTERNAL, "out of memory reading %s", r->name);
    return false;
}

static bool read_types(struct ph_snapshot_reader *r, struct ph_graph *g)
{
    for (uint64_t t = 0; t < r->types; t++) {
        uint8_t b[8], builtin;
        uint64_t name, module;
        if (!get_bytes(r, b, 8) || !get_index(r, r->strings, "type name", &name) ||
            !get_index(r, r->strings, "module name", &module) || !get_u8(r, &builtin))
            return false;
        if (builtin >= PH_BUILTIN_COUNT)
            return corrupt(r, "type %" PRIu64 " has an unknown built-in mark %u", t, builtin), false;
        uint32_t idx = ph_graph_add_type(g, snap_get_u64(b), (uint32_t)name, (uint32_t)module);
        if (idx == PH_NONE)
            return oom(r);
        if (idx != t)
            return corrupt(r, "type %" PRIu64 " repeats the address of type %" PRIu32, t, idx), false;
        g->types[idx].builtin = builtin;
    }
    return true;
}

static bool read_addrs(struct ph_snapshot_reader *r, struct ph_graph *g)
{
    uint64_t addr = 0, v;
    for (uint64_t i = 0; i < r->objects; i++) {
        if (!get_varint(r, &v))
            return false;
        addr += (uint64_t)snap_unzig(v);
        if (ph_graph_append(g, addr, 0) == PH_NONE)
            return oom(r);
    }
    return true;
}

static bool read_column(struct ph_snapshot_reader *r, struct ph_graph *g, enum snap_section sec)
{
    uint64_t v;
    uint8_t b;
    for (uint32_t i = 0; i < g->n; i++) {
        switch (sec) {
        case SEC_SIZE:
            if (!get_varint(r, &v))
                return false;
            if (!ph_graph_set_size(g, i, v))
                return oom(r);
            break;
        case SEC_OTYP:
            if (!get_index(r, r->types, "type index", &v))
                return false;
            g->type[i] = (uint32_t)v;
            break;
        default: /* SEC_FLAG */
            if (!get_u8(r, &b))
                return false;
            if (b & ~KNOWN_FLAGS)
                return corrupt(r, "object %" PRIu32 " has unknown flags 0x%x", i, b), false;
            g->flags[i] = b;
            break;
        }
    }
    return true;
}

static bool read_owners(struct ph_snapshot_reader *r, struct ph_graph *g)
{
    uint64_t n, delta, owner, obj = 0;
    if (!get_index(r, (uint64_t)g->n + 1, "owner count", &n))
        return false;
    for (uint64_t k = 0; k < n; k++) {
        if (!get_varint(r, &delta) || !get_index(r, g->n, "owner", &owner))
            return false;
        if ((k && !delta) || delta >= g->n - obj)
            return corrupt(r, "owned object out of order or range"), false;
        obj += delta;
        g->owner[obj] = (uint32_t)owner;
    }
    return true;
}

/* ECNT: edge_start from the counts; then EDST appends the edges in CSR order. */
static bool read_edge_counts(struct ph_snapshot_reader *r, struct ph_graph *g)
{
    uint64_t total = 0, v;
    g->edge_start[0] = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        if (!get_varint(r, &v))
            return false;
        if (v > r->edges - total)
            return corrupt(r, "object %" PRIu32 " has more edges than the file", i), false;
        total += v;
        g->edge_start[i + 1] = (uint32_t)total;
    }
    if (total != r->edges)
        return corrupt(r, "%" PRIu64 " edges counted, %" PRIu64 " declared", total, r->edges), false;
    return true;
}

static bool read_edge_targets(struct ph_snapshot_reader *r, struct ph_graph *g)
{
    uint64_t v;
    for (uint32_t i = 0; i < g->n; i++)
        for (uint64_t e = g->edge_start[i]; e < g->edge_start[i + 1]; e++) {
            if (!get_varint(r, &v))
                return false;
            int64_t dst = (int64_t)i + snap_unzig(v);
            if (dst < 0 || (uint64_t)dst >= g->n)
                return corrupt(r, "edge %" PRIu64 " leads to object %" PRId64 " of %zu", e, dst,
                               g->n), false;
            if (!ph_graph_add_edge(g, (uint32_t)dst, 0))
                return oom(r);
        }
    return true;
}

static bool label_names_string(enum ph_edge_kind k)
{
    return k == PH_EDGE_FIELD || k == PH_EDGE_ATTR || k == PH_EDGE_DICT_VALUE ||
           k == PH_EDGE_LOCAL || k == PH_EDGE_INTERNAL;
}

static bool read_labels(struct ph_snapshot_reader *r, struct ph_graph *g)
{
    uint64_t v;
    for (uint64_t e = 0; e < g->nedges; e++) {
        if (!get_index(r, UINT32_MAX, "edge label", &v))
            return false;
        uint32_t kind = (uint32_t)(v & 15), payload = (uint32_t)(v >> 4);
        if (kind >= PH_EDGE_KIND_COUNT || payload > 0x0fffffffu ||
            (label_names_string((enum ph_edge_kind)kind) && payload >= r->strings))
            return corrupt(r, "edge %" PRIu64 " has a bad label (kind %" PRIu32 ")", e, kind), false;
        g->edge_label[e] = PH_LABEL(kind, payload);
    }
    return true;
}

static bool read_roots(struct ph_snapshot_reader *r, struct ph_graph *g)
{
    uint64_t obj, name;
    for (uint64_t k = 0; k < r->roots; k++) {
        if (!get_index(r, g->n, "root object", &obj) || !get_index(r, r->strings, "root name", &name))
            return false;
        uint8_t flags = g->flags[obj];
        if (!ph_graph_add_root(g, (uint32_t)obj, (uint32_t)name))
            return oom(r);
        g->flags[obj] = flags; /* as the file has them */
    }
    return true;
}

static bool read_briefs(struct ph_snapshot_reader *r, struct ph_graph *g)
{
    uint64_t delta, id, obj = 0;
    for (uint64_t k = 0; k < r->briefs; k++) {
        if (!get_varint(r, &delta) || !get_index(r, r->strings, "description", &id))
            return false;
        if ((k && !delta) || delta >= g->n - obj)
            return corrupt(r, "described object out of order or range"), false;
        obj += delta;
        if (ph_addrmap_put(&g->brief, obj + 1, (uint32_t)id) == PH_ADDRMAP_NONE)
            return oom(r);
    }
    return true;
}

static bool read_section(struct ph_snapshot_reader *r, struct ph_graph *g, enum snap_section sec)
{
    if (!section_open(r, sec))
        return false;
    bool ok;
    switch (sec) {
    case SEC_STRS: ok = read_strings(r, g); break;
    case SEC_TYPE: ok = read_types(r, g); break;
    case SEC_ADDR: ok = read_addrs(r, g); break;
    case SEC_OWNR: ok = read_owners(r, g); break;
    case SEC_ECNT: ok = read_edge_counts(r, g); break;
    case SEC_EDST: ok = read_edge_targets(r, g); break;
    case SEC_ELAB: ok = read_labels(r, g); break;
    case SEC_ROOT: ok = read_roots(r, g); break;
    case SEC_BREF: ok = read_briefs(r, g); break;
    case SEC_END: ok = true; break;
    default: ok = read_column(r, g, sec); break; /* SIZE, OTYP, FLAG */
    }
    return ok && section_close(r);
}

ph_status ph_snapshot_read(struct ph_snapshot_reader *r, struct ph_graph *g, struct ph_error *err)
{
    r->err = err;
    if (!ph_graph_init(g, 1024))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    for (int sec = SEC_STRS; sec < SEC_COUNT && r->st == PH_OK; sec++)
        read_section(r, g, (enum snap_section)sec);
    if (r->st != PH_OK)
        return r->st;
    g->decoded = g->n;
    g->meta = r->meta;
    uint32_t dup;
    if (ph_graph_index(g, &dup))
        return PH_OK;
    if (dup == PH_NONE)
        oom(r);
    else
        corrupt(r, "object %" PRIu32 " repeats an address", dup);
    return r->st;
}

const struct ph_heap_meta *ph_snapshot_meta(const struct ph_snapshot_reader *r)
{
    return &r->meta;
}

void ph_snapshot_counts(const struct ph_snapshot_reader *r, uint64_t *objects, uint64_t *edges)
{
    *objects = r->objects;
    *edges = r->edges;
}

void ph_snapshot_close(struct ph_snapshot_reader *r)
{
    if (!r)
        return;
    free(r->raw);
    free(r->comp);
    ZSTD_freeDCtx(r->dctx);
    free(r);
}
