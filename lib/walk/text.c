/*
 * text.c: str objects: their size as sys.getsizeof computes it, and their text (for
 * attribute names, dict key reprs and type names), decoded from the 1/2/4-byte kinds to UTF-8
 * and escaped before anything else sees it. Text is bounded (names are cut, not read whole).
 *
 * State bits (3.8-3.15, GIL builds): interned 0-1, kind 2-4, compact 5, ascii 6. Compact ASCII
 * data follows PyASCIIObject, compact data follows PyCompactUnicodeObject, legacy strings (str
 * subclasses) point at their data.
 */
#include "lib/escape.h"
#include "lib/walk/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT_CHARS 256
#define MAX_REPR 60

static uint32_t *cache_find(struct wk_text_cache *c, uint64_t addr)
{
    struct wk_text_cache *e = &c[((addr >> 4) * 0x9E3779B97F4A7C15ull) >> 51]; /* 13 bits */
    return e->addr == addr ? &e->id : NULL;
}

static void cache_put(struct wk_text_cache *c, uint64_t addr, uint32_t id)
{
    c[((addr >> 4) * 0x9E3779B97F4A7C15ull) >> 51] = (struct wk_text_cache){addr, id};
}

_Static_assert(WK_TEXT_CACHE == 1 << 13, "cache_find indexes with 13 bits");

bool wk_text_caches_init(struct wk *w)
{
    w->name_cache = calloc(WK_TEXT_CACHE, sizeof *w->name_cache);
    w->key_cache = calloc(WK_TEXT_CACHE, sizeof *w->key_cache);
    return w->name_cache && w->key_cache;
}

void wk_text_caches_free(struct wk *w)
{
    free(w->name_cache);
    free(w->key_cache);
    w->name_cache = w->key_cache = NULL;
}

struct str_hdr {
    uint64_t length;
    unsigned kind; /* 1, 2, 4 */
    bool compact, ascii;
    uint64_t data;
};

static bool str_header(struct wk *w, uint64_t addr, const uint8_t *h, size_t hlen, struct str_hdr *s)
{
    const struct py_layout *L = w->L;
    uint32_t state = (uint32_t)wk_field_u64(h, hlen, LAY(L, STR_STATE));
    s->length = wk_field_u64(h, hlen, LAY(L, STR_LENGTH));
    s->kind = (state >> 2) & 7;
    s->compact = (state >> 5) & 1;
    s->ascii = (state >> 6) & 1;
    if ((s->kind != 1 && s->kind != 2 && s->kind != 4) || s->length > (1ull << 40))
        return false;
    if (s->compact)
        s->data = addr + (uint64_t)(s->ascii ? LAY(L, STR_ASCII_SIZE) : LAY(L, STR_COMPACT_SIZE));
    else
        s->data = wk_field_u64(h, hlen, LAY(L, STR_DATA));
    return true;
}

static bool read_str_header(struct wk *w, uint64_t addr, uint8_t *h, size_t *hlen)
{
    /* Compact ASCII strings can be shorter than PyUnicodeObject: read what exists. */
    size_t full = (size_t)LAY(w->L, STR_UNICODE_SIZE), small = (size_t)LAY(w->L, STR_ASCII_SIZE);
    if (full <= 128 && wk_read(w, addr, h, full)) {
        *hlen = full;
        return true;
    }
    ph_error_clear(w->err);
    *hlen = small;
    return small <= 128 && wk_read(w, addr, h, small);
}

uint64_t wk_str_size(struct wk *w, uint64_t addr, const uint8_t *h, size_t hlen)
{
    const struct py_layout *L = w->L;
    struct str_hdr s;
    if (!str_header(w, addr, h, hlen, &s))
        return (uint64_t)LAY(L, STR_ASCII_SIZE);
    uint64_t size;
    if (s.compact && s.ascii)
        size = (uint64_t)LAY(L, STR_ASCII_SIZE) + s.length + 1;
    else if (s.compact)
        size = (uint64_t)LAY(L, STR_COMPACT_SIZE) + (s.length + 1) * s.kind;
    else
        size = (uint64_t)LAY(L, STR_UNICODE_SIZE) + (s.data ? (s.length + 1) * s.kind : 0);
    if (!s.ascii) {
        uint64_t utf8 = wk_field_u64(h, hlen, LAY(L, STR_UTF8));
        if (utf8 && utf8 != s.data)
            size += wk_field_u64(h, hlen, LAY(L, STR_UTF8_LENGTH)) + 1;
    }
    if (LAY_HAS(L, STR_WSTR)) { /* <= 3.11: the wchar_t cache */
        uint64_t wstr = wk_field_u64(h, hlen, LAY(L, STR_WSTR));
        if (wstr && wstr != s.data) {
            uint64_t wlen = s.ascii ? s.length : wk_field_u64(h, hlen, LAY(L, STR_WSTR_LENGTH));
            size += (wlen + 1) * 4;
        }
    }
    return size;
}

static size_t put_utf8(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | ((c >> 18) & 7));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static bool is_str_type(struct wk *w, uint64_t addr)
{
    uint64_t type;
    if (!wk_u64(w, addr + LAY(w->L, OB_TYPE), &type))
        return false;
    if (type == w->kind_addr[WK_STR])
        return true;
    uint32_t ti = wk_type_index(w, type);
    return ti != PH_NONE && wk_type_get(w, ti)->kind == WK_STR;
}

/* Code points [from, from + n) of a str whose header is s (n <= MAX_TEXT_CHARS); a value past
 * U+10FFFF (a corrupt str) reads as U+FFFD. */
static bool str_cps(struct wk *w, const struct str_hdr *s, uint64_t from, size_t n, uint32_t *cp)
{
    uint8_t data[4 * MAX_TEXT_CHARS];
    if (n > MAX_TEXT_CHARS || (n && !wk_read(w, s->data + from * s->kind, data, n * s->kind)))
        return false;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s->kind == 1 ? data[i] : s->kind == 2 ? ((uint16_t *)data)[i] : ((uint32_t *)data)[i];
        cp[i] = c > 0x10FFFF ? 0xFFFD : c;
    }
    return true;
}

/* Raw UTF-8 of at most MAX_TEXT_CHARS characters; *cut says whether the str is longer. */
static bool str_utf8(struct wk *w, uint64_t addr, char *raw, size_t *rawlen, bool *cut)
{
    if (!addr || (addr & 7) || !is_str_type(w, addr))
        return false;
    uint8_t h[128];
    size_t hlen;
    struct str_hdr s;
    uint32_t cps[MAX_TEXT_CHARS];
    if (!read_str_header(w, addr, h, &hlen) || !str_header(w, addr, h, hlen, &s) || !s.data)
        return false;
    size_t n = s.length < MAX_TEXT_CHARS ? (size_t)s.length : MAX_TEXT_CHARS;
    *cut = s.length > n;
    if (!str_cps(w, &s, 0, n, cps))
        return false;
    size_t o = 0;
    /* A lone surrogate goes out in three bytes, as UTF-8 would encode it if it could:
     * ph_escape turns it into \udXXX, which says what the str holds. */
    for (size_t i = 0; i < n; i++)
        o += put_utf8(cps[i], raw + o);
    *rawlen = o;
    return true;
}

bool wk_str_text(struct wk *w, uint64_t addr, char *buf, size_t cap)
{
    char raw[MAX_TEXT_CHARS * 4 + 4];
    size_t rawlen;
    bool cut;
    if (!str_utf8(w, addr, raw, &rawlen, &cut))
        return false;
    size_t n = ph_escape(raw, rawlen, buf, cap);
    if (cut && n + 4 <= cap)
        memcpy(buf + n, "...", 4);
    return true;
}

uint32_t wk_str_name(struct wk *w, uint64_t addr)
{
    const uint32_t *cached = cache_find(w->name_cache, addr);
    if (cached)
        return *cached;
    uint32_t id;
    char text[MAX_TEXT_CHARS * 4 + 8];
    if (!wk_str_text(w, addr, text, sizeof text))
        return PH_NONE;
    id = wk_intern(w, text);
    if (id != PH_NONE)
        cache_put(w->name_cache, addr, id);
    return id;
}

/* ---- key reprs ---- */

static bool int_value(struct wk *w, uint64_t addr, char *out, size_t cap)
{
    const struct py_layout *L = w->L;
    uint8_t b[40];
    if (!wk_read(w, addr, b, 32))
        return false;
    uint64_t ndigits;
    bool neg;
    if (LAY_HAS(L, LONG_TAG)) {
        uint64_t tag = wk_field_u64(b, 32, LAY(L, LONG_TAG));
        ndigits = tag >> 3;
        neg = (tag & 3) == 2;
    } else {
        int64_t size = (int64_t)wk_field_u64(b, 32, LAY(L, VAR_OB_SIZE));
        neg = size < 0;
        ndigits = (uint64_t)(size < 0 ? -size : size);
    }
    if (ndigits > 2)
        return snprintf(out, cap, "<int>") > 0;
    uint32_t d[2] = {0, 0};
    if (ndigits && !wk_read(w, addr + LAY(L, LONG_DIGITS), d, ndigits * 4))
        return false;
    uint64_t v = (uint64_t)(d[0] & 0x3fffffff) | ((uint64_t)(d[1] & 0x3fffffff) << 30);
    snprintf(out, cap, "%s%" PRIu64, neg ? "-" : "", v);
    return true;
}

static void float_repr(double v, char *out, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) { /* shortest that reads back, like repr() */
        snprintf(out, cap, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    if (isfinite(v) && !strpbrk(out, ".en"))
        strncat(out, ".0", cap - strlen(out) - 1);
}

/* ---- str keys as heapy writes them: reprlib.repr(key) ----
 * heapy labels a dict value by reprlib.repr of its key. For a str that is Python's repr of its
 * first 30 characters when that repr has at most 30 characters; else the repr of its first 13
 * and last 14 characters, cut to its own first 13 and last 14 around "..." (Lib/reprlib.py,
 * the same from 3.8 to 3.15; Python's slices, negative starts included). Python's repr picks
 * double quotes for a text with a single quote and no double one, escapes the quote it uses, the
 * backslash, \t, \n and \r, writes other controls as \xNN and non-printable characters as \xNN,
 * \uNNNN or \UNNNNNNNN. Printable here is what ph_escape lets through less the space
 * separators; a code point Unicode has not assigned counts as printable (Python escapes it:
 * pyheap has no table of them). Whatever is not printable is escaped, so the label is safe for a
 * terminal as it is. */
#define REPRLIB_MAXSTRING 30
#define REPR_MAX_CPS (2 + 10 * REPRLIB_MAXSTRING) /* quotes and the longest escapes */
/* Escapes are ASCII, printable characters at most 4 bytes: at most 10 bytes a character. */
#define REPR_MAX_BYTES (2 + 10 * REPRLIB_MAXSTRING + 1)
_Static_assert(sizeof(((struct wk_repr *)0)->text) >= REPR_MAX_BYTES, "a str key's repr fits");

static bool py_printable(uint32_t c)
{
    if (c == ' ')
        return true;
    bool space_sep = c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F ||
                     c == 0x205F || c == 0x3000;
    return !space_sep && !ph_codepoint_unsafe(c);
}

/* Python's repr of the n code points in: into out (code points), returning its length. */
static size_t py_repr_cps(const uint32_t *in, size_t n, uint32_t *out)
{
    bool single = false, dbl = false;
    for (size_t i = 0; i < n; i++)
        single |= in[i] == '\'', dbl |= in[i] == '"';
    uint32_t quote = single && !dbl ? '"' : '\'';
    size_t o = 0;
    out[o++] = quote;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = in[i];
        char esc[12] = "";
        if (c == quote || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", (char)c);
        else if (c == '\t' || c == '\n' || c == '\r')
            snprintf(esc, sizeof esc, "\\%c", c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
        else if (c < ' ' || c == 0x7F || (c >= 0x80 && !py_printable(c)))
            snprintf(esc, sizeof esc, c < 0x100 ? "\\x%02x" : c < 0x10000 ? "\\u%04x" : "\\U%08x",
                     (unsigned)c);
        if (!esc[0])
            out[o++] = c;
        for (size_t k = 0; esc[k]; k++)
            out[o++] = (unsigned char)esc[k];
    }
    out[o++] = quote;
    return o;
}

/* Where Python's x[len - back:] starts: a negative start counts from the end once more. */
static size_t py_tail_start(size_t len, size_t back)
{
    int64_t st = (int64_t)len - (int64_t)back;
    if (st < 0)
        st += (int64_t)len;
    return st < 0 ? 0 : (size_t)st;
}

static size_t put_cps(const uint32_t *cp, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += put_utf8(cp[i], out + o);
    return o;
}

/* reprlib.repr of the str at addr, UTF-8, into out (at least REPR_MAX_BYTES). */
static bool str_key_repr(struct wk *w, uint64_t addr, char *out, size_t cap)
{
    enum { HEAD = (REPRLIB_MAXSTRING - 3) / 2, TAIL = REPRLIB_MAXSTRING - 3 - HEAD };
    uint8_t h[128];
    size_t hlen;
    struct str_hdr s;
    uint32_t cps[REPRLIB_MAXSTRING], rep[REPR_MAX_CPS];
    if (cap < REPR_MAX_BYTES || (addr & 7) || !read_str_header(w, addr, h, &hlen) ||
        !str_header(w, addr, h, hlen, &s) || !s.data)
        return false;
    size_t n = s.length < REPRLIB_MAXSTRING ? (size_t)s.length : REPRLIB_MAXSTRING;
    if (!str_cps(w, &s, 0, n, cps))
        return false;
    size_t rn = py_repr_cps(cps, n, rep);
    if (rn <= REPRLIB_MAXSTRING) {
        out[put_cps(rep, rn, out)] = '\0';
        return true;
    }
    size_t head = n < HEAD ? n : HEAD, from = py_tail_start((size_t)s.length, TAIL);
    size_t tail = (size_t)s.length - from;
    if (!str_cps(w, &s, from, tail, cps + head))
        return false;
    rn = py_repr_cps(cps, head + tail, rep);
    size_t o = put_cps(rep, rn < HEAD ? rn : HEAD, out);
    memcpy(out + o, "...", 3);
    o += 3;
    from = py_tail_start(rn, TAIL);
    o += put_cps(rep + from, rn - from, out + o);
    out[o] = '\0';
    return true;
}

static bool key_repr_into(struct wk *w, uint64_t addr, char *out, size_t cap, int depth,
                          bool reprlib);

static void tuple_repr(struct wk *w, uint64_t addr, char *out, size_t cap, int depth, bool reprlib)
{
    uint64_t n;
    if (!wk_u64(w, addr + LAY(w->L, VAR_OB_SIZE), &n) || n > 8) {
        snprintf(out, cap, "(...)");
        return;
    }
    size_t o = (size_t)snprintf(out, cap, "(");
    for (uint64_t i = 0; i < n && o < cap; i++) {
        uint64_t item;
        char piece[REPR_MAX_BYTES];
        if (!wk_u64(w, addr + LAY(w->L, TUPLE_ITEMS) + 8 * i, &item))
            break;
        key_repr_into(w, item, piece, sizeof piece, depth + 1, reprlib);
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", piece);
    }
    if (o < cap)
        snprintf(out + o, cap - o, n == 1 ? ",)" : ")");
}

/* A short Python-like repr of a key into out. With reprlib, a str is written as heapy writes
 * it (str_key_repr) and true says the text is whole; else, and for other kinds, the caller
 * cuts it to MAX_REPR. */
static bool key_repr_into(struct wk *w, uint64_t addr, char *out, size_t cap, int depth,
                          bool reprlib)
{
    uint64_t type;
    uint32_t ti;
    if (!wk_u64(w, addr + LAY(w->L, OB_TYPE), &type) || (ti = wk_type_index(w, type)) == PH_NONE) {
        snprintf(out, cap, "?");
        return false;
    }
    const struct wk_type *t = wk_type_get(w, ti);
    if (addr == w->t->sym[PY_SYM_NONE]) {
        snprintf(out, cap, "None");
    } else if (t->kind == WK_STR && reprlib && str_key_repr(w, addr, out, cap)) {
        return true;
    } else if (t->kind == WK_STR) {
        char text[MAX_REPR];
        if (!wk_str_text(w, addr, text, sizeof text))
            snprintf(text, sizeof text, "?");
        snprintf(out, cap, "'%s'", text);
    } else if (t->kind == WK_BOOL) {
        char v[32];
        snprintf(out, cap, "%s", int_value(w, addr, v, sizeof v) && strcmp(v, "0") ? "True" : "False");
    } else if (t->kind == WK_INT) {
        if (!int_value(w, addr, out, cap))
            snprintf(out, cap, "<int>");
    } else if (t->kind == WK_FLOAT) {
        double v;
        if (wk_read(w, addr + LAY(w->L, FLOAT_VAL), &v, sizeof v))
            float_repr(v, out, cap);
        else
            snprintf(out, cap, "<float>");
    } else if (t->kind == WK_TUPLE && depth < 2) {
        tuple_repr(w, addr, out, cap, depth, reprlib);
    } else {
        snprintf(out, cap, "<%s at 0x%" PRIx64 ">", ph_strtab_get(&w->g->names, w->g->types[ti].name), addr);
    }
    return false;
}

/* The repr of an exact str whose text is short printable ASCII without a backslash or a quote
 * (most dict keys), which escaping leaves as it is: the text in quotes, as key_repr_into would
 * write it, without its general steps (measured: a quarter of a large dict's decoding went
 * to the key reprs). False when the key is anything else: key_repr_into decides. */
static bool plain_str_repr(struct wk *w, uint64_t addr, struct wk_repr *r)
{
    enum { MAX_PLAIN = REPRLIB_MAXSTRING - 2 }; /* longer: reprlib cuts it (str_key_repr) */
    uint8_t h[128];
    size_t hlen = (size_t)LAY(w->L, STR_ASCII_SIZE);
    uint64_t type;
    struct str_hdr s;
    if ((addr & 7) || hlen > sizeof h || !wk_u64(w, addr + LAY(w->L, OB_TYPE), &type) ||
        type != w->kind_addr[WK_STR] || !wk_read(w, addr, h, hlen) ||
        !str_header(w, addr, h, hlen, &s) || !s.compact || !s.ascii || s.length > MAX_PLAIN)
        return false;
    char *text = r->text;
    if (s.length && !wk_read(w, s.data, text + 1, s.length))
        return false;
    for (uint64_t i = 1; i <= s.length; i++)
        if (text[i] < 0x20 || text[i] >= 0x7F || text[i] == '\\' || text[i] == '\'')
            return false;
    text[0] = text[s.length + 1] = '\'';
    text[s.length + 2] = '\0';
    r->len = s.length + 2;
    return true;
}

bool wk_key_repr_ahead(struct wk *w, uint64_t addr, struct wk_repr *r)
{
    r->addr = addr;
    const uint32_t *cached = cache_find(w->key_cache, addr);
    r->id = cached ? *cached : PH_NONE;
    if (cached)
        return true;
    if (!plain_str_repr(w, addr, r))
        return false;
    r->hash = ph_strtab_prefetch(&w->g->names, r->text, r->len);
    return true;
}

void wk_key_repr_begin(struct wk *w, uint64_t addr, struct wk_repr *r)
{
    if (wk_key_repr_ahead(w, addr, r))
        return;
    bool whole = key_repr_into(w, addr, r->text, sizeof r->text, 0, true);
    r->len = strlen(r->text);
    if (!whole && r->len > MAX_REPR) {
        memcpy(r->text + MAX_REPR - 3, "...", 4);
        r->len = MAX_REPR;
    }
    r->hash = ph_strtab_prefetch(&w->g->names, r->text, r->len);
}

uint32_t wk_key_repr_end(struct wk *w, struct wk_repr *r)
{
    if (r->id != PH_NONE)
        return r->id;
    uint32_t id = ph_strtab_intern_hashed(&w->g->names, r->text, r->len, r->hash);
    /* Only immutable keys are cached by address: their repr cannot change during the walk. */
    if (id != PH_NONE)
        cache_put(w->key_cache, r->addr, id);
    return id;
}

uint32_t wk_key_repr(struct wk *w, uint64_t addr)
{
    /* Names (a module's, a function's qualname) whole, not as heapy's labels cut them: not
     * through the key cache, which holds labels. */
    char text[256];
    key_repr_into(w, addr, text, sizeof text, 0, false);
    size_t len = strlen(text);
    if (len > MAX_REPR)
        memcpy(text + MAX_REPR - 3, "...", 4);
    return wk_intern(w, text);
}
