/*
 * cstruct.c: object fields of C types and module states, named from generated tables.
 *
 * The stdlib's C types (re.Pattern, functools.partial, the itertools, _io's streams, sqlite3's
 * connections, ctypes data, ...) keep their references in struct fields Python often has no
 * attribute for. Without a table their words are scanned conservatively, which finds the objects
 * but names every edge `.??`; with one, each object field becomes an edge `->field` (the C
 * field's name), the fields tp_members names keep their `.attr`, and no word of the struct is
 * left to the scan. The tables (cstruct_tables.c) are generated from the DWARF of the builds at
 * hand by tests/tools/gen-cstructs.py: a row applies only to its minor version and only when
 * the level's tp_basicsize matches the struct's size, so any other build (another patch release
 * that changed the struct, a Py_DEBUG build) falls back to the scan, never to wrong names.
 *
 * Module states (m_state, sized by m_size) hold a module's types and constants (posix's
 * `billion`, _io's types, _decimal's contexts): named the same way from a table of the module's
 * state struct, else scanned word by word. Nothing there is counted in any object's size:
 * sys.getsizeof of a module does not count its state.
 */
#include "lib/walk/cstruct.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/walk/internal.h"

#define MAX_STATE_BYTES (1 << 16) /* the largest module state believed (posix's: 104) */

/* The first row named `name`, by binary search (rows are sorted by name). */
static size_t first_named(const char *name)
{
    size_t lo = 0, hi = wk_cstructs_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(wk_cstructs[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The row for this name, version and kind whose size is `size` or, for a var-sized type whose
 * basic size leaves out the one item the struct declares, size + itemsize. */
static const struct wk_cstruct *find(const char *name, int minor, bool state, int64_t size,
                                     int64_t itemsize)
{
    for (size_t i = first_named(name); i < wk_cstructs_n; i++) {
        const struct wk_cstruct *c = &wk_cstructs[i];
        if (strcmp(c->name, name) != 0)
            break;
        if (c->minor == minor && (bool)c->state == state &&
            ((int64_t)c->size == size || (itemsize > 0 && (int64_t)c->size == size + itemsize)))
            return c;
    }
    return NULL;
}

static bool has_slot(const struct wk_type *ti, uint32_t offset)
{
    for (uint32_t s = 0; s < ti->nslots; s++)
        if (ti->slots[s].offset == offset && ti->slots[s].deref < 0)
            return true;
    return false;
}

/* C types whose __sizeof__ adds memory outside the struct, and the fields it reads: object
 * fields by name, data fields as "#name" (Modules/itertoolsmodule.c, _pickle.c,
 * _io/bytesio.c; the same rules 3.8 to 3.15). */
static const struct {
    const char *tp_name;
    enum wk_extra extra;
    const char *fields[WK_EXTRA_FIELDS];
} sized[] = {
    {"itertools.product", WK_EXTRA_ITER_POOLS, {"pools"}},
    {"itertools.permutations", WK_EXTRA_ITER_PERMUTE, {"pool", "#r"}},
    {"itertools.combinations", WK_EXTRA_ITER_R, {"#r"}},
    {"itertools.combinations_with_replacement", WK_EXTRA_ITER_R, {"#r"}},
    {"_pickle.Pickler", WK_EXTRA_PICKLER, {"#memo", "output_buffer"}},
    {"_pickle.Unpickler", WK_EXTRA_UNPICKLER,
     {"#memo", "#memo_size", "#marks", "#marks_size", "#input_line", "#encoding", "#errors"}},
    {"_io.BytesIO", WK_EXTRA_BYTESIO, {"buf"}},
    {"_queue.SimpleQueue", WK_EXTRA_SIMPLEQUEUE, {"#buf"}},
};

static int field_offset(const struct wk_cstruct *c, const char *name)
{
    for (uint16_t k = 0; k < c->nfields; k++)
        if (strcmp(c->fields[k].name, name) == 0 && c->fields[k].deref < 0)
            return c->fields[k].offset;
    return -1;
}

static void set_sizing(struct wk_type *ti, const struct wk_level *level,
                       const struct wk_cstruct *c)
{
    for (size_t i = 0; i < sizeof sized / sizeof sized[0]; i++) {
        if (strcmp(sized[i].tp_name, level->tp_name) != 0 || ti->extra != WK_EXTRA_NONE)
            continue;
        int16_t off[WK_EXTRA_FIELDS];
        for (int k = 0; k < WK_EXTRA_FIELDS; k++) {
            off[k] = -1;
            if (!sized[i].fields[k])
                continue;
            int o = field_offset(c, sized[i].fields[k]);
            if (o < 16 || o + 8 > level->basicsize)
                return; /* a field sizing needs is not in this build's struct */
            off[k] = (int16_t)o;
        }
        memcpy(ti->extra_off, off, sizeof off);
        ti->extra = sized[i].extra;
    }
}

bool wk_cstruct_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                      uint8_t *explained, size_t nwords)
{
    /* A bare tp_name ("Context" on 3.8) is only a static type's: a Python class of that name
     * is a heap type. */
    if (level->heap && !strchr(level->tp_name, '.'))
        return false;
    const struct wk_cstruct *c =
        find(level->tp_name, w->minor, false, level->basicsize, level->itemsize);
    if (!c)
        return false;
    for (uint16_t k = 0; k < c->nfields; k++) {
        const struct wk_cfield *f = &c->fields[k];
        if (f->deref < -1)
            continue; /* data that sizing reads, not a reference */
        if ((int64_t)f->offset + 8 > level->basicsize || f->offset == ti->dictoffset ||
            f->offset == ti->weaklistoffset || (f->deref < 0 && has_slot(ti, f->offset)))
            continue; /* the generic code, or tp_members (as `.attr`), has it already */
        char name[96];
        snprintf(name, sizeof name, "%s", f->name);
        wk_add_cslot(ti, f->offset, PH_LABEL(PH_EDGE_INTERNAL, wk_intern(w, name)), f->deref,
                     f->cond);
    }
    /* Every word of the struct is a field above or data: none is left to the scan. */
    for (size_t word = 2; word < nwords && (int64_t)word * 8 < level->basicsize; word++)
        explained[word] = 1;
    ti->items_known = true;
    ti->items_objects = c->items;
    set_sizing(ti, level, c);
    return true;
}

/* Size of the module's state: md_state_size (3.15+) or its definition's m_size. */
static int64_t state_size(struct wk *w, const uint8_t *b, size_t len)
{
    const struct py_layout *L = w->L;
    if (LAY_HAS(L, MODULE_STATE_SIZE))
        return (int64_t)wk_field_u64(b, len, LAY(L, MODULE_STATE_SIZE));
    uint64_t def = LAY_HAS(L, MODULE_DEF) ? wk_field_u64(b, len, LAY(L, MODULE_DEF)) : 0;
    int64_t size = 0;
    if (!def || !LAY_HAS(L, MODULEDEF_M_SIZE) ||
        !wk_read(w, def + (uint64_t)LAY(L, MODULEDEF_M_SIZE), &size, sizeof size))
        return 0;
    return size;
}

static void named_state(struct wk *w, const struct wk_cstruct *c, const uint64_t *words,
                        int64_t size)
{
    for (uint16_t k = 0; k < c->nfields; k++) {
        const struct wk_cfield *f = &c->fields[k];
        if ((int64_t)f->offset + 8 > size || (f->offset & 7) || f->cond >= 0)
            continue;
        uint64_t p = words[f->offset / 8];
        if (p && f->deref >= 0 && !wk_u64(w, p + (uint64_t)f->deref, &p))
            continue;
        if (!p)
            continue;
        char name[96];
        snprintf(name, sizeof name, "m_state.%s", f->name);
        wk_edge(w, p, PH_LABEL(PH_EDGE_INTERNAL, wk_intern(w, name)));
    }
}

void wk_module_state(struct wk *w, uint32_t obj, const uint8_t *b, size_t len)
{
    const struct py_layout *L = w->L;
    uint64_t state = LAY_HAS(L, MODULE_STATE) ? wk_field_u64(b, len, LAY(L, MODULE_STATE)) : 0;
    int64_t size = state ? state_size(w, b, len) : 0;
    if (!state || (state & 7) || size < 8 || size > MAX_STATE_BYTES)
        return;
    size_t nwords = (size_t)size / 8;
    uint64_t *words = malloc(nwords * 8);
    if (!words)
        return;
    if (!wk_read(w, state, words, nwords * 8)) {
        free(words);
        return;
    }
    char name[128] = "";
    uint64_t md_name = wk_field_u64(b, len, LAY(L, MODULE_NAME));
    const struct wk_cstruct *c = md_name && wk_str_text(w, md_name, name, sizeof name)
                                     ? find(name, w->minor, true, size, 0)
                                     : NULL;
    if (c) {
        named_state(w, c, words, size);
    } else {
        w->g->flags[obj] |= PH_OBJ_CONSERVATIVE;
        for (size_t k = 0; k < nwords; k++)
            wk_scan_word(w, w->g->addr[obj], words[k], (uint32_t)(k * 8));
    }
    free(words);
}

/* ---- what C __sizeof__ methods add ---- */

#define MAX_C_ITEMS (1ull << 28) /* most entries of a memo or index array believed */
#define MAX_LINE (1 << 20)       /* longest unpickler input line measured */
#define MEMO_TABLE_SIZE 32       /* PyMemoTable: mask, used, allocated, table (3.8-3.15 DWARF) */
#define MEMO_ALLOCATED 16
#define MEMO_TABLE 24
#define MEMO_ENTRY_SIZE 16       /* PyMemoEntry: key, value */

static uint64_t word_at(const struct wk_type *ti, const uint8_t *b, size_t len, int k)
{
    return ti->extra_off[k] >= 0 ? wk_field_u64(b, len, ti->extra_off[k]) : 0;
}

static uint64_t var_len(struct wk *w, uint64_t obj)
{
    int64_t n = 0;
    if (!obj || !wk_read(w, obj + (uint64_t)LAY(w->L, VAR_OB_SIZE), &n, sizeof n) || n < 0 ||
        (uint64_t)n > MAX_C_ITEMS)
        return 0;
    return (uint64_t)n;
}

/* sys.getsizeof of a bytes object (not GC-tracked: no header term). */
static uint64_t bytes_size(struct wk *w, uint64_t bytes)
{
    return (uint64_t)LAY(w->L, BYTES_SVAL) + var_len(w, bytes) + 1;
}

/* Edges "->memo" to the n object pointers at addr, stride bytes apart (key first). */
static void memo_edges(struct wk *w, uint64_t addr, uint64_t n, uint64_t stride)
{
    uint32_t label = PH_LABEL(PH_EDGE_INTERNAL, wk_intern(w, "memo"));
    uint64_t block[512];
    uint64_t per = sizeof block / stride;
    for (uint64_t base = 0; base < n; base += per) {
        uint64_t k = n - base < per ? n - base : per;
        if (!wk_read(w, addr + base * stride, block, k * stride))
            return;
        for (uint64_t i = 0; i < k; i++)
            if (block[i * stride / 8])
                wk_edge(w, block[i * stride / 8], label);
    }
}

/* Pickler: the memo table (struct and entries; each entry holds its object) and the output
 * buffer's own getsizeof. */
static uint64_t pickler_extra(struct wk *w, const struct wk_type *ti, const uint8_t *b,
                              size_t len)
{
    uint64_t extra = 0, memo = word_at(ti, b, len, 0), out = word_at(ti, b, len, 1);
    uint64_t table[MEMO_TABLE_SIZE / 8];
    if (memo && wk_read(w, memo, table, sizeof table) &&
        table[MEMO_ALLOCATED / 8] <= MAX_C_ITEMS) {
        extra += MEMO_TABLE_SIZE + MEMO_ENTRY_SIZE * table[MEMO_ALLOCATED / 8];
        if (table[MEMO_TABLE / 8])
            memo_edges(w, table[MEMO_TABLE / 8], table[MEMO_ALLOCATED / 8], MEMO_ENTRY_SIZE);
    }
    if (out)
        extra += bytes_size(w, out);
    return extra;
}

/* Length of the C string at addr plus its terminator, read in chunks (0 past MAX_LINE). */
static uint64_t cstr_size(struct wk *w, uint64_t addr)
{
    char chunk[256];
    for (uint64_t done = 0; done < MAX_LINE; done += sizeof chunk) {
        size_t want = sizeof chunk;
        if (!wk_read(w, addr + done, chunk, want)) {
            want = 4096 - (size_t)((addr + done) & 4095); /* up to the page end only */
            if (want > sizeof chunk || !wk_read(w, addr + done, chunk, want))
                return 0;
        }
        const char *nul = memchr(chunk, 0, want);
        if (nul)
            return done + (uint64_t)(nul - chunk) + 1;
    }
    return 0;
}

/* Unpickler: the memo array (an object per slot), the marks array, and three C strings: the
 * input line, the encoding and the errors names ("ASCII", "strict"). */
static uint64_t unpickler_extra(struct wk *w, const struct wk_type *ti, const uint8_t *b,
                                size_t len)
{
    uint64_t extra = 0, memo = word_at(ti, b, len, 0), memo_size = word_at(ti, b, len, 1);
    uint64_t marks = word_at(ti, b, len, 2), marks_size = word_at(ti, b, len, 3);
    if (memo && memo_size <= MAX_C_ITEMS) {
        extra += 8 * memo_size;
        memo_edges(w, memo, memo_size, 8);
    }
    if (marks && marks_size <= MAX_C_ITEMS)
        extra += 8 * marks_size;
    for (int k = 4; k < 7; k++) { /* the input line, the encoding and errors names */
        uint64_t text = word_at(ti, b, len, k);
        if (text)
            extra += cstr_size(w, text);
    }
    return extra;
}

/* 3.13+ SimpleQueue keeps its items in a RingBuf embedded at "buf" (put_idx, get_idx, items,
 * items_cap, num_items: 40 bytes in the 3.13, 3.14 and 3.15 DWARF): the queued items, which
 * only that C array holds, become edges ->buf.items; 3.15's __sizeof__ adds the array. */
#define RING_GET_IDX 8
#define RING_ITEMS 16
#define RING_CAP 24
#define RING_NUM 32

static uint64_t simplequeue_extra(struct wk *w, const struct wk_type *ti, const uint8_t *b,
                                  size_t len)
{
    int16_t off = ti->extra_off[0];
    if (off < 0 || (size_t)off + RING_NUM + 8 > len)
        return 0;
    uint64_t get = wk_field_u64(b, len, off + RING_GET_IDX), items = wk_field_u64(b, len, off + RING_ITEMS);
    uint64_t cap = wk_field_u64(b, len, off + RING_CAP), num = wk_field_u64(b, len, off + RING_NUM);
    if (!items || cap > MAX_C_ITEMS || num > cap || get >= cap)
        return 0;
    uint32_t label = PH_LABEL(PH_EDGE_INTERNAL, wk_intern(w, "buf.items"));
    for (uint64_t i = 0; i < num; i++) {
        uint64_t p;
        if (!wk_u64(w, items + 8 * ((get + i) % cap), &p))
            break;
        if (p)
            wk_edge(w, p, label);
    }
    return w->minor >= 15 ? 8 * cap : 0;
}

uint64_t wk_cstruct_extra(struct wk *w, const struct wk_type *ti, const uint8_t *b, size_t len)
{
    uint64_t r = word_at(ti, b, len, 1);
    switch (ti->extra) {
    case WK_EXTRA_ITER_POOLS: return 8 * var_len(w, word_at(ti, b, len, 0));
    case WK_EXTRA_ITER_PERMUTE:
        return r > MAX_C_ITEMS ? 0 : 8 * (var_len(w, word_at(ti, b, len, 0)) + r);
    case WK_EXTRA_ITER_R:
        r = word_at(ti, b, len, 0);
        return r > MAX_C_ITEMS ? 0 : 8 * r;
    case WK_EXTRA_PICKLER: return pickler_extra(w, ti, b, len);
    case WK_EXTRA_UNPICKLER: return unpickler_extra(w, ti, b, len);
    case WK_EXTRA_BYTESIO: {
        /* Counted while the BytesIO is the buffer's only owner (not shared with a bytes
         * value getvalue() returned, or the initial value). */
        uint64_t buf = word_at(ti, b, len, 0);
        int64_t refcnt = 0;
        if (!buf || !wk_read(w, buf + (uint64_t)LAY(w->L, OB_REFCNT), &refcnt, sizeof refcnt) ||
            refcnt > 1)
            return 0;
        return bytes_size(w, buf);
    }
    case WK_EXTRA_SIMPLEQUEUE: return simplequeue_extra(w, ti, b, len);
    default: return 0;
    }
}
