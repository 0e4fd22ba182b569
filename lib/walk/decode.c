/*
 * decode.c: references and sizes of one object, per built-in kind.
 *
 * An object is copied once (its basic size, bounded) and its fields read from the copy;
 * variable parts (list items, dict entries, set tables, deque blocks) are read in blocks through
 * the memory cache. Sizes follow each type's __sizeof__ plus sys.getsizeof's pre-header rule for
 * the version, so they equal what the target would report. Attribute storage that getsizeof
 * does not count (3.11+ values arrays, 3.13+ inline values of instances without a dict) is added
 * to the instance: it is memory that instance holds and nothing else counts it.
 */
#include "lib/walk/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OBJ_BYTES 4096
#define MAX_ITEMS (1u << 28)
#define ITEM_BLOCK 512
#define RESERVE_REPRS 4096
#define TPFLAGS_INLINE_VALUES (1ul << 2)
#define TPFLAGS_MANAGED_WEAKREF (1ul << 3)
#define TPFLAGS_MANAGED_DICT (1ul << 4)
#define TPFLAGS_STATIC_BUILTIN (1ul << 1)
#define MAX_FRAMES 100000
#define MAX_FRAME_SLOTS (1u << 20) /* locals plus stack of one frame; CPython's are far fewer */

struct wk_obj {
    uint32_t i;
    uint64_t addr;
    const struct wk_type *t;
    uint8_t b[MAX_OBJ_BYTES];
    size_t len;
    uint64_t size;
};

static uint64_t f64(const struct wk_obj *o, int64_t off)
{
    return off < 0 ? 0 : wk_field_u64(o->b, o->len, off);
}

/* An edge through a named field, when the layout has the field. */
static void field(struct wk *w, const struct wk_obj *o, enum py_field f, const char *name)
{
    int64_t off = w->L->v[f];
    if (off < 0)
        return;
    uint64_t p = f64(o, off);
    if (p)
        wk_edge(w, p, PH_LABEL(PH_EDGE_FIELD, wk_intern(w, name)));
}

bool wk_pointer_array(struct wk *w, uint64_t addr, uint64_t n, enum ph_edge_kind kind)
{
    uint64_t block[ITEM_BLOCK];
    for (uint64_t base = 0; base < n; base += ITEM_BLOCK) {
        uint64_t k = n - base < ITEM_BLOCK ? n - base : ITEM_BLOCK;
        if (!wk_read(w, addr + base * 8, block, k * 8))
            return false;
        for (uint64_t i = 0; i < k; i++) {
            if (i + WK_AHEAD < k)
                wk_prefetch(w, block[i + WK_AHEAD]);
            if (block[i])
                wk_edge(w, block[i], PH_LABEL(kind, base + i));
        }
    }
    return true;
}

static void conservative_scan(struct wk *w, struct wk_obj *o);

static int64_t abs64(int64_t v)
{
    return v == INT64_MIN ? INT64_MAX : v < 0 ? -v : v; /* a corrupt size must not be UB */
}

/* ---- containers ---- */

static uint64_t int_size(const struct wk *w, const uint8_t *b, size_t len)
{
    const struct py_layout *L = w->L;
    uint64_t ndigits;
    if (LAY_HAS(L, LONG_TAG))
        ndigits = wk_field_u64(b, len, LAY(L, LONG_TAG)) >> 3;
    else
        ndigits = (uint64_t)abs64((int64_t)wk_field_u64(b, len, LAY(L, VAR_OB_SIZE)));
    if (w->v.int_one_digit_min && ndigits == 0)
        ndigits = 1;
    /* int.__sizeof__ counts from offsetof(ob_digit), not the (sub)class's basic size. */
    return (uint64_t)LAY(L, LONG_DIGITS) + 4 * ndigits;
}

/* Basic size plus items (bytes, and var-sized types without a rule of their own). */
static uint64_t generic_size(const struct wk *w, const struct wk_type *t, const uint8_t *b,
                             size_t len)
{
    int64_t n = t->itemsize ? abs64((int64_t)wk_field_u64(b, len, LAY(w->L, VAR_OB_SIZE))) : 0;
    return (uint64_t)(t->basicsize + t->itemsize * n);
}

uint64_t wk_leaf_size(struct wk *w, const struct wk_type *t, uint64_t addr, const uint8_t *hdr,
                      size_t hlen)
{
    switch (t->kind) {
    case WK_INT: case WK_BOOL: return int_size(w, hdr, hlen);
    case WK_STR: return wk_str_size(w, addr, hdr, hlen);
    default: return generic_size(w, t, hdr, hlen);
    }
}

static void dec_bytearray(struct wk *w, struct wk_obj *o)
{
    const struct py_layout *L = w->L;
    uint64_t alloc = f64(o, LAY(L, BYTEARRAY_ALLOC));
    o->size = (uint64_t)o->t->basicsize + alloc;
    /* 3.15+: the buffer is a bytes object, whose header (offsetof(ob_sval) + 1) counts too. */
    if (LAY_HAS(L, BYTEARRAY_BYTES_OBJECT) && alloc)
        o->size += (uint64_t)LAY(L, BYTES_SVAL) + 1;
}

static void dec_tuple(struct wk *w, struct wk_obj *o)
{
    uint64_t n = f64(o, LAY(w->L, VAR_OB_SIZE));
    if (n > MAX_ITEMS) {
        w->g->flags[o->i] |= PH_OBJ_PARTIAL;
        return;
    }
    if (!wk_pointer_array(w, o->addr + LAY(w->L, TUPLE_ITEMS), n, PH_EDGE_INDEX))
        w->g->flags[o->i] |= PH_OBJ_PARTIAL;
    o->size = (uint64_t)o->t->basicsize + 8 * n;
}

static void dec_list(struct wk *w, struct wk_obj *o)
{
    uint64_t n = f64(o, LAY(w->L, VAR_OB_SIZE)), alloc = f64(o, LAY(w->L, LIST_ALLOCATED));
    if (n > MAX_ITEMS || alloc > MAX_ITEMS || n > alloc) {
        w->g->flags[o->i] |= PH_OBJ_PARTIAL;
        return;
    }
    if (!wk_pointer_array(w, f64(o, LAY(w->L, LIST_ITEMS)), n, PH_EDGE_INDEX))
        w->g->flags[o->i] |= PH_OBJ_PARTIAL;
    o->size = (uint64_t)o->t->basicsize + 8 * alloc;
}

/* A dict's key reprs, made WK_AHEAD / 2 entries ahead where that changes nothing else
 * (wk_key_repr_ahead): the string table's slot for each is then loaded in time. On a dict of
 * 5M distinct keys, waiting for those slots was a fifth of decoding. */
#define REPR_RING 8
_Static_assert(REPR_RING > WK_AHEAD / 2, "a repr made ahead stays until its turn");
struct dict_reprs {
    struct wk_repr ring[REPR_RING];
    bool ready[REPR_RING];
};

static void dict_entry(struct wk *w, void *ctx, uint32_t index, uint64_t key, uint64_t value,
                       uint64_t key_ahead)
{
    struct dict_reprs *dr = ctx;
    uint32_t later = (index + WK_AHEAD / 2) % REPR_RING;
    dr->ready[later] = key_ahead && wk_key_repr_ahead(w, key_ahead, &dr->ring[later]);
    /* The key's repr is interned after both objects are found: the string table's cache miss
     * overlaps that work. Same edges, same order. */
    struct wk_repr *repr = &dr->ring[index % REPR_RING];
    if (!dr->ready[index % REPR_RING] || repr->addr != key)
        wk_key_repr_begin(w, key, repr);
    dr->ready[index % REPR_RING] = false;
    uint32_t k = wk_object(w, key), v = wk_object(w, value);
    uint32_t label = PH_LABEL(PH_EDGE_DICT_VALUE, wk_key_repr_end(w, repr));
    if (k != PH_NONE)
        ph_graph_add_edge(w->g, k, PH_LABEL(PH_EDGE_DICT_KEY, index));
    if (v != PH_NONE)
        ph_graph_add_edge(w->g, v, label);
}

static void dec_dict(struct wk *w, struct wk_obj *o)
{
    uint64_t keys = f64(o, LAY(w->L, DICT_KEYS)), values = f64(o, LAY(w->L, DICT_VALUES));
    struct dict_reprs dr;
    memset(dr.ready, 0, sizeof dr.ready);
    struct wk_keys_shape ks = wk_keys_shape(w, keys);
    /* A large dict's keys are mostly new reprs: room for them in one step (best effort). */
    if (ks.entries >= RESERVE_REPRS)
        ph_strtab_reserve(&w->g->names, (size_t)ks.entries);
    if (!wk_keys_iter(w, keys, values, dict_entry, &dr))
        w->g->flags[o->i] |= PH_OBJ_PARTIAL;
    o->size = (uint64_t)o->t->basicsize + (values ? 8 * ks.usable_values : 0) +
              (ks.refcnt == 1 ? ks.bytes : 0);
}

static void dec_set(struct wk *w, struct wk_obj *o)
{
    const struct py_layout *L = w->L;
    uint64_t mask = f64(o, LAY(L, SET_MASK)), table = f64(o, LAY(L, SET_TABLE));
    uint64_t es = (uint64_t)LAY(L, SETENTRY_SIZE);
    if (mask >= MAX_ITEMS || es != 16) {
        w->g->flags[o->i] |= PH_OBJ_PARTIAL;
        return;
    }
    uint64_t block[2 * ITEM_BLOCK];
    uint32_t pos = 0;
    for (uint64_t base = 0; base <= mask; base += ITEM_BLOCK) {
        uint64_t k = mask + 1 - base < ITEM_BLOCK ? mask + 1 - base : ITEM_BLOCK;
        if (!wk_read(w, table + base * es, block, k * es)) {
            w->g->flags[o->i] |= PH_OBJ_PARTIAL;
            break;
        }
        for (uint64_t i = 0; i < k; i++) {
            if (i + WK_AHEAD < k)
                wk_prefetch(w, block[2 * (i + WK_AHEAD) + LAY(L, SETENTRY_KEY) / 8]);
            uint64_t key = block[2 * i + LAY(L, SETENTRY_KEY) / 8];
            if (key && key != w->set_dummy)
                wk_edge(w, key, PH_LABEL(PH_EDGE_SET_MEMBER, pos++));
        }
    }
    bool small = table == o->addr + (uint64_t)LAY(L, SET_SMALLTABLE);
    o->size = (uint64_t)o->t->basicsize + (small ? 0 : (mask + 1) * es);
}

static void dec_deque(struct wk *w, struct wk_obj *o)
{
    const struct py_layout *L = w->L;
    uint64_t n = f64(o, LAY(L, VAR_OB_SIZE)), block = f64(o, LAY(L, DEQUE_LEFTBLOCK));
    uint64_t index = f64(o, LAY(L, DEQUE_LEFTINDEX));
    const uint64_t blocklen = 64;
    if (n > MAX_ITEMS || index >= blocklen || !LAY_HAS(L, DEQUE_BLOCK_DATA)) {
        w->g->flags[o->i] |= PH_OBJ_PARTIAL;
        return;
    }
    o->size = (uint64_t)o->t->basicsize +
              (index + n + blocklen - 1) / blocklen * (uint64_t)LAY(L, DEQUE_BLOCK_SIZE);
    for (uint64_t i = 0; i < n && block;) {
        uint64_t items[64];
        uint64_t k = blocklen - index < n - i ? blocklen - index : n - i;
        if (!wk_read(w, block + LAY(L, DEQUE_BLOCK_DATA) + index * 8, items, k * 8)) {
            w->g->flags[o->i] |= PH_OBJ_PARTIAL;
            return;
        }
        for (uint64_t j = 0; j < k; j++)
            wk_edge(w, items[j], PH_LABEL(PH_EDGE_INDEX, i + j));
        i += k;
        index = 0;
        if (i < n && !wk_u64(w, block + LAY(L, DEQUE_BLOCK_RIGHTLINK), &block))
            return;
    }
}

/* ---- types and modules ---- */

static void dec_type(struct wk *w, struct wk_obj *o)
{
    const struct py_layout *L = w->L;
    uint64_t flags = f64(o, LAY(L, TP_FLAGS));
    bool heap = (flags >> 9) & 1;
    uint64_t dict = f64(o, LAY(L, TP_DICT));
    if (!dict && (flags & TPFLAGS_STATIC_BUILTIN) && w->static_types) {
        /* 3.12+: a static builtin's dict lives in the interpreter, at index tp_subclasses-1. */
        uint64_t index = f64(o, LAY(L, TP_SUBCLASSES));
        if (index >= 1 && index < 1024)
            wk_u64(w, w->static_types + (index - 1) * (uint64_t)LAY(L, STATIC_TYPE_STATE_SIZE) +
                       (uint64_t)LAY(L, STATIC_TYPE_STATE_DICT), &dict);
    }
    if (dict) {
        wk_edge(w, dict, PH_LABEL(PH_EDGE_FIELD, w->n_dunder_dict));
        uint32_t d = ph_graph_find(w->g, dict);
        if (d != PH_NONE)
            w->g->owner[d] = o->i;
    }
    field(w, o, PF_TP_MRO, "__mro__");
    field(w, o, PF_TP_BASES, "__bases__");
    field(w, o, PF_TP_BASE, "__base__");
    field(w, o, PF_TP_CACHE, "__cache__");
    if (!(flags & TPFLAGS_STATIC_BUILTIN))
        field(w, o, PF_TP_SUBCLASSES, "__subclasses__");
    if (heap) {
        field(w, o, PF_HT_NAME, "__name__");
        field(w, o, PF_HT_QUALNAME, "__qualname__");
        field(w, o, PF_HT_SLOTS, "__slots__");
        field(w, o, PF_HT_MODULE, "__module__");
        uint64_t keys = f64(o, LAY(L, HT_CACHED_KEYS));
        o->size = (uint64_t)LAY(L, HEAPTYPE_SIZE) + (keys ? wk_keys_shape(w, keys).bytes : 0);
    } else {
        o->size = (uint64_t)LAY(L, TYPE_SIZE);
    }
}

static void owned_dict(struct wk *w, const struct wk_obj *o, uint64_t dict)
{
    if (!dict)
        return;
    wk_edge(w, dict, PH_LABEL(PH_EDGE_FIELD, w->n_dunder_dict));
    uint32_t d = ph_graph_find(w->g, dict);
    if (d != PH_NONE)
        w->g->owner[d] = o->i;
}

/* Remember a short name for byid and paths: the repr of a str ("'os'"). */
static void set_brief(struct wk *w, const struct wk_obj *o, uint64_t str)
{
    if (str)
        ph_addrmap_put(&w->g->brief, (uint64_t)o->i + 1, wk_key_repr(w, str));
}

static void dec_module(struct wk *w, struct wk_obj *o)
{
    uint64_t dict = f64(o, LAY(w->L, MODULE_DICT)), name;
    owned_dict(w, o, dict);
    wk_module_state(w, o->i, o->b, o->len);
    if (dict && wk_dict_find_str(w, dict, "__name__", &name))
        set_brief(w, o, name);
    o->size = (uint64_t)o->t->basicsize;
}

static void dec_function(struct wk *w, struct wk_obj *o)
{
    static const struct { enum py_field f; const char *name; } fields[] = {
        {PF_FUNC_CODE, "__code__"}, {PF_FUNC_GLOBALS, "__globals__"},
        {PF_FUNC_BUILTINS, "__builtins__"}, {PF_FUNC_NAME, "__name__"},
        {PF_FUNC_QUALNAME, "__qualname__"}, {PF_FUNC_DEFAULTS, "__defaults__"},
        {PF_FUNC_KWDEFAULTS, "__kwdefaults__"}, {PF_FUNC_CLOSURE, "__closure__"},
        {PF_FUNC_DOC, "__doc__"}, {PF_FUNC_MODULE, "__module__"},
        {PF_FUNC_ANNOTATIONS, "__annotations__"}, {PF_FUNC_ANNOTATE, "__annotate__"},
        {PF_FUNC_TYPEPARAMS, "__type_params__"},
    };
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        field(w, o, fields[k].f, fields[k].name);
    owned_dict(w, o, f64(o, LAY(w->L, FUNC_DICT)));
    set_brief(w, o, f64(o, LAY(w->L, FUNC_QUALNAME)));
    o->size = (uint64_t)o->t->basicsize;
}

struct named_field {
    enum py_field f;
    const char *name;
};

static void named_fields(struct wk *w, struct wk_obj *o, const struct named_field *fs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        field(w, o, fs[k].f, fs[k].name);
    o->size = (uint64_t)o->t->basicsize;
}

#define NAMED(w, o, ...)                                                             \
    do {                                                                             \
        static const struct named_field fs_[] = {__VA_ARGS__};                       \
        named_fields(w, o, fs_, sizeof fs_ / sizeof fs_[0]);                         \
    } while (0)

/* Tuple length at a tuple's address (0 when unreadable or absurd). */
static uint64_t tuple_len(struct wk *w, uint64_t tuple)
{
    uint64_t n = 0;
    if (!tuple || !wk_u64(w, tuple + (uint64_t)LAY(w->L, VAR_OB_SIZE), &n) || n > MAX_ITEMS)
        return 0;
    return n;
}

/* What code.__sizeof__ adds to the struct (Objects/codeobject.c): the tool-set co_extra array
 * (_PyCodeObjectExtra: ce_size, then the pointers: 8 + 8 * ce_size), and on 3.8 to 3.10 the
 * cell-to-argument map (a Py_ssize_t per cell variable) and, once the function ran often enough
 * to get one, the opcode cache: a map byte per code unit and co_opcache_size _PyOpcache
 * entries (checked against sys.getsizeof of a function run 3000 times on 3.8, 3.9, 3.10). */
static uint64_t code_sizeof_extra(struct wk *w, const struct wk_obj *o)
{
    const struct py_layout *L = w->L;
    uint64_t extra = 0, co_extra = LAY_HAS(L, CODE_EXTRA) ? f64(o, LAY(L, CODE_EXTRA)) : 0;
    int64_t ce_size = 0;
    if (co_extra && wk_read(w, co_extra, &ce_size, sizeof ce_size) && ce_size >= 0 &&
        ce_size < (1 << 16))
        extra += 8 + 8 * (uint64_t)ce_size;
    if (LAY_HAS(L, CODE_CELL2ARG) && f64(o, LAY(L, CODE_CELL2ARG)) && LAY_HAS(L, CODE_CELLVARS))
        extra += 8 * tuple_len(w, f64(o, LAY(L, CODE_CELLVARS)));
    if (LAY_HAS(L, CODE_OPCACHE) && LAY_HAS(L, CODE_OPCACHE_SIZE) && LAY_HAS(L, OPCACHE_SIZE) &&
        f64(o, LAY(L, CODE_OPCACHE)) && (size_t)LAY(L, CODE_OPCACHE_SIZE) < o->len) {
        uint64_t units = 0, code = LAY_HAS(L, CODE_CODE) ? f64(o, LAY(L, CODE_CODE)) : 0;
        if (code && wk_u64(w, code + (uint64_t)LAY(L, VAR_OB_SIZE), &units) && units <= MAX_ITEMS)
            extra += units / 2;
        extra += (uint64_t)o->b[LAY(L, CODE_OPCACHE_SIZE)] * (uint64_t)LAY(L, OPCACHE_SIZE);
    }
    return extra;
}

static void dec_code(struct wk *w, struct wk_obj *o)
{
    NAMED(w, o, {PF_CODE_CONSTS, "co_consts"}, {PF_CODE_NAMES, "co_names"},
          {PF_CODE_CODE, "co_code"}, {PF_CODE_VARNAMES, "co_varnames"},
          {PF_CODE_FREEVARS, "co_freevars"}, {PF_CODE_CELLVARS, "co_cellvars"},
          {PF_CODE_LOCALSPLUSNAMES, "co_localsplusnames"},
          {PF_CODE_LOCALSPLUSKINDS, "co_localspluskinds"}, {PF_CODE_FILENAME, "co_filename"},
          {PF_CODE_NAME, "co_name"}, {PF_CODE_QUALNAME, "co_qualname"},
          {PF_CODE_LINETABLE, "co_linetable"}, {PF_CODE_EXCEPTIONTABLE, "co_exceptiontable"});
    if (w->v.code_units_inline) { /* round8(basic + 2 * ob_size) */
        uint64_t n = f64(o, LAY(w->L, VAR_OB_SIZE));
        o->size = ((uint64_t)o->t->basicsize + 2 * n + 7) & ~7ull;
    }
    o->size += code_sizeof_extra(w, o);
}

/* ---- frames and generators ---- */

static uint64_t code_slots(struct wk *w, uint64_t code)
{
    const struct py_layout *L = w->L;
    int32_t v = 0;
    if (LAY_HAS(L, CODE_FRAMESIZE)) {
        uint64_t specials = (uint64_t)LAY(L, IFRAME_LOCALSPLUS) / 8;
        if (!wk_read(w, code + LAY(L, CODE_FRAMESIZE), &v, 4) || v < 0 || (uint64_t)v < specials ||
            (uint64_t)v > MAX_FRAME_SLOTS)
            return 0; /* a corrupt code object: no slots rather than a huge read */
        return (uint64_t)v - specials;
    }
    int32_t nlp = 0, stack = 0;
    if (!LAY_HAS(L, CODE_NLOCALSPLUS) || !wk_read(w, code + LAY(L, CODE_NLOCALSPLUS), &nlp, 4) ||
        !wk_read(w, code + LAY(L, CODE_STACKSIZE), &stack, 4) || nlp < 0 || stack < 0 ||
        (uint64_t)nlp + (uint64_t)stack > MAX_FRAME_SLOTS)
        return 0;
    return (uint64_t)nlp + (uint64_t)stack;
}

static uint64_t stackref(const struct wk *w, uint64_t v)
{
    if (w->v.stackref_tags) { /* 0b11 is a tagged int */
        if ((v & 3) == 3)
            return 0;
        return v & ~3ull;
    }
    return v;
}

static uint32_t local_name(struct wk *w, uint64_t names_tuple, uint64_t i);

/* Depth of a <= 3.10 frame's value stack, or 0 while the frame runs: the interpreter keeps the
 * stack pointer in a register then and NULLs f_stacktop (3.8, 3.9) or sets f_stackdepth to -1
 * (3.10); the slots above hold popped values, possibly freed. */
static uint64_t frame_stack_depth(struct wk *w, const struct wk_obj *o)
{
    const struct py_layout *L = w->L;
    if (LAY_HAS(L, FRAME_STACKDEPTH)) {
        int32_t depth = (int32_t)f64(o, LAY(L, FRAME_STACKDEPTH));
        return depth > 0 ? (uint64_t)depth : 0;
    }
    uint64_t top = LAY_HAS(L, FRAME_STACKTOP) ? f64(o, LAY(L, FRAME_STACKTOP)) : 0;
    uint64_t base = LAY_HAS(L, FRAME_VALUESTACK) ? f64(o, LAY(L, FRAME_VALUESTACK)) : 0;
    return top && base && top >= base && (top - base) % 8 == 0 ? (top - base) / 8 : 0;
}

/* <= 3.10: f_localsplus holds the locals (named by co_varnames), the cells (co_cellvars), the
 * free variables (co_freevars), then the value stack. The first three are labelled by name
 * (.f_locals['x']), the live part of the stack by depth (->f_valuestack[i]). */
static void frame_localsplus(struct wk *w, struct wk_obj *o, uint64_t n)
{
    static const enum py_field tuples[] = {PF_CODE_VARNAMES, PF_CODE_CELLVARS, PF_CODE_FREEVARS};
    uint64_t code = f64(o, LAY(w->L, FRAME_CODE)), names[3] = {0}, len[3] = {0};
    for (int k = 0; code && k < 3; k++)
        if (w->L->v[tuples[k]] >= 0 && wk_u64(w, code + (uint64_t)w->L->v[tuples[k]], &names[k]) &&
            names[k] && !wk_u64(w, names[k] + LAY(w->L, VAR_OB_SIZE), &len[k]))
            len[k] = 0;
    uint64_t named = len[0] + len[1] + len[2];
    if (named > n)
        named = n;
    uint64_t depth = frame_stack_depth(w, o);
    if (depth > n - named)
        depth = n - named;
    uint64_t slots[256];
    for (uint64_t base = 0; base < named + depth; base += 256) {
        uint64_t cnt = named + depth - base < 256 ? named + depth - base : 256;
        if (!wk_read(w, o->addr + LAY(w->L, FRAME_LOCALSPLUS) + 8 * base, slots, 8 * cnt))
            return;
        for (uint64_t j = 0; j < cnt; j++) {
            uint64_t i = base + j, at = i;
            if (!slots[j])
                continue;
            if (i >= named) {
                wk_edge(w, slots[j], PH_LABEL(PH_EDGE_STACK, i - named));
                continue;
            }
            int k = 0;
            while (k < 3 && at >= len[k])
                at -= len[k++];
            uint32_t name = k < 3 ? local_name(w, names[k], at) : PH_NONE;
            wk_edge(w, slots[j], name == PH_NONE ? PH_LABEL(PH_EDGE_INDEX, i) : PH_LABEL(PH_EDGE_LOCAL, name));
        }
    }
}

/* <= 3.10: frame.__sizeof__ is sizeof(PyFrameObject) (the basic size, which holds one slot)
 * plus the slots its code needs beyond that one (co_stacksize + co_nlocals + cells + free
 * variables - 1), not the n the frame was allocated with (a frame reused from the free list
 * keeps a larger allocation). Checked with sys.getsizeof(sys._getframe()) on 3.8 and 3.10. */
static uint64_t frame_slots(struct wk *w, const struct wk_obj *o, uint64_t n)
{
    const struct py_layout *L = w->L;
    uint64_t code = f64(o, LAY(L, FRAME_CODE));
    int32_t stack = 0, nlocals = 0;
    if (!code || !LAY_HAS(L, CODE_NLOCALS) || !LAY_HAS(L, CODE_CELLVARS) ||
        !LAY_HAS(L, CODE_FREEVARS) || !wk_read(w, code + LAY(L, CODE_STACKSIZE), &stack, 4) ||
        !wk_read(w, code + LAY(L, CODE_NLOCALS), &nlocals, 4) || stack < 0 || nlocals < 0)
        return n;
    uint64_t cells = 0, frees = 0;
    wk_u64(w, code + (uint64_t)LAY(L, CODE_CELLVARS), &cells);
    wk_u64(w, code + (uint64_t)LAY(L, CODE_FREEVARS), &frees);
    uint64_t slots = (uint64_t)stack + (uint64_t)nlocals + tuple_len(w, cells) + tuple_len(w, frees);
    return slots == 0 ? 0 : slots - 1 <= n ? slots - 1 : n;
}

static void dec_frame(struct wk *w, struct wk_obj *o)
{
    const struct py_layout *L = w->L;
    field(w, o, PF_FRAME_BACK, "f_back");
    field(w, o, PF_FRAME_TRACE, "f_trace");
    if (w->v.frame_objects) {
        NAMED(w, o, {PF_FRAME_CODE, "f_code"}, {PF_FRAME_BUILTINS, "f_builtins"},
              {PF_FRAME_GLOBALS, "f_globals"}, {PF_FRAME_LOCALS, "f_locals"});
        uint64_t n = (uint64_t)abs64((int64_t)f64(o, LAY(L, VAR_OB_SIZE)));
        if (n < MAX_ITEMS)
            frame_localsplus(w, o, n);
        o->size = (uint64_t)o->t->basicsize + (uint64_t)o->t->itemsize * frame_slots(w, o, n);
        return;
    }
    uint64_t iframe = f64(o, LAY(L, FRAME_FRAME));
    if (iframe)
        wk_iframe_refs(w, iframe, false, NULL);
    uint64_t code = 0;
    if (iframe && wk_u64(w, iframe + LAY(L, IFRAME_CODE), &code))
        code = stackref(w, code);
    o->size = (uint64_t)LAY(L, FRAME_DATA) + (uint64_t)LAY(L, IFRAME_LOCALSPLUS) +
              8 * (code ? code_slots(w, code) : 0);
}

static void dec_gen(struct wk *w, struct wk_obj *o)
{
    const struct py_layout *L = w->L;
    NAMED(w, o, {PF_GEN_FRAME, "gi_frame"}, {PF_GEN_CODE, "gi_code"}, {PF_GEN_NAME, "__name__"},
          {PF_GEN_QUALNAME, "__qualname__"}, {PF_CORO_ORIGIN, "cr_origin"});
    if (w->v.frame_objects)
        return;
    uint64_t iframe = o->addr + (uint64_t)LAY(L, GEN_IFRAME);
    int8_t state = (int8_t)o->b[LAY(L, GEN_FRAME_STATE)];
    /* Created or suspended: the frame is the generator's own (running, it is on a thread's
     * stack and decoded from there). enum _framestate numbers these -3..-1 in 3.11-3.14 and
     * 0..3 (FRAME_CREATED .. FRAME_SUSPENDED_YIELD_FROM_LOCKED) from 3.15. */
    bool own_frame = w->v.frame_state_from_zero ? state >= 0 && state <= 3 : state < 0;
    if (own_frame)
        wk_iframe_refs(w, iframe, false, NULL);
    uint64_t code = 0;
    if (wk_u64(w, iframe + LAY(L, IFRAME_CODE), &code))
        code = stackref(w, code);
    o->size = (uint64_t)LAY(L, GEN_IFRAME) + (uint64_t)LAY(L, IFRAME_LOCALSPLUS) +
              8 * (code ? code_slots(w, code) : 0);
}

/* Names of a frame's locals: co_localsplusnames (3.11+). */
static uint32_t local_name(struct wk *w, uint64_t names_tuple, uint64_t i)
{
    uint64_t name;
    if (!names_tuple || !wk_u64(w, names_tuple + LAY(w->L, TUPLE_ITEMS) + 8 * i, &name))
        return PH_NONE;
    return wk_str_name(w, name);
}

static void iframe_ref(struct wk *w, uint64_t p, const char *root_prefix, const char *label,
                       uint32_t edge_label)
{
    if (!p)
        return;
    if (root_prefix) {
        char name[600];
        snprintf(name, sizeof name, "%s%s", root_prefix, label);
        wk_root(w, p, name);
    } else {
        wk_edge(w, p, edge_label);
    }
}

/* Owners of an interpreter frame (3.11+): a thread's stack, a generator, a frame object. */
enum { OWNED_BY_THREAD = 0, OWNED_BY_GENERATOR = 1, OWNED_BY_FRAME_OBJECT = 2 };

/* End of the live value stack of a 3.11+ frame, in slots from localsplus, or -1 where it is not
 * known. The interpreter saves the stack pointer (stacktop, 3.14+ stackpointer) when a frame
 * stops running: a generator that yields, a frame object that outlives its call, a frame that
 * calls a Python function. CPython's own GC trusts it for the first two. For a thread's frame
 * it is trusted only below the innermost one, and from 3.12, where a running frame's stacktop
 * is -1 (3.11 leaves the last saved value, which may name popped, freed objects). A frame that
 * called into C code which called back into Python has not saved it (-1): not decoded. */
static int64_t iframe_stack_end(struct wk *w, const uint8_t *h, size_t hl, uint64_t iframe,
                                int owner, bool trusted_thread_frame)
{
    const struct py_layout *L = w->L;
    if (owner == OWNED_BY_THREAD && (!trusted_thread_frame || !w->v.thread_stack_saved))
        return -1;
    if (owner != OWNED_BY_THREAD && owner != OWNED_BY_GENERATOR && owner != OWNED_BY_FRAME_OBJECT)
        return -1;
    if (LAY_HAS(L, IFRAME_STACKPOINTER)) {
        uint64_t sp = wk_field_u64(h, hl, LAY(L, IFRAME_STACKPOINTER));
        uint64_t base = iframe + (uint64_t)LAY(L, IFRAME_LOCALSPLUS);
        if (!sp || sp < base || (sp - base) % 8 || (sp - base) / 8 > MAX_ITEMS)
            return -1;
        return (int64_t)((sp - base) / 8);
    }
    if (LAY_HAS(L, IFRAME_STACKTOP) && (uint64_t)LAY(L, IFRAME_STACKTOP) + 4 <= hl) {
        int32_t top;
        memcpy(&top, h + LAY(L, IFRAME_STACKTOP), 4);
        return top;
    }
    return -1;
}

/* Slots [nlp, end) of a frame's value stack, labelled ->f_valuestack[i]; `end` is checked
 * against the code's frame size (locals plus co_stacksize). */
static void iframe_stack(struct wk *w, uint64_t iframe, uint64_t code, int32_t nlp, int64_t end,
                         const char *root_prefix)
{
    uint64_t room = code_slots(w, code);
    if (end <= nlp || (uint64_t)end > room)
        return;
    uint64_t first = iframe + (uint64_t)LAY(w->L, IFRAME_LOCALSPLUS) + 8 * (uint64_t)nlp;
    uint64_t slots[64];
    for (int64_t base = 0; base < end - nlp; base += 64) {
        int64_t k = end - nlp - base < 64 ? end - nlp - base : 64;
        if (!wk_read(w, first + 8 * (uint64_t)base, slots, 8 * (size_t)k))
            return;
        for (int64_t i = 0; i < k; i++) {
            char label[48];
            snprintf(label, sizeof label, "->f_valuestack[%" PRId64 "]", base + i);
            iframe_ref(w, stackref(w, slots[i]), root_prefix, label,
                       PH_LABEL(PH_EDGE_STACK, (uint64_t)(base + i)));
        }
    }
}

bool wk_iframe_refs(struct wk *w, uint64_t iframe, bool innermost, const char *root_prefix)
{
    const struct py_layout *L = w->L;
    uint8_t h[128];
    size_t hl = (size_t)LAY(L, IFRAME_LOCALSPLUS);
    if (hl > sizeof h || !wk_read(w, iframe, h, hl))
        return false;
    int owner = h[LAY(L, IFRAME_OWNER)];
    if (owner >= 3) /* C-stack / interpreter-owned shim frames hold nothing of Python's */
        return true;
    static const struct { enum py_field f; const char *name; } refs[] = {
        {PF_IFRAME_CODE, ".f_code"}, {PF_IFRAME_FUNC, ".f_func"}, {PF_IFRAME_GLOBALS, ".f_globals"},
        {PF_IFRAME_BUILTINS, ".f_builtins"}, {PF_IFRAME_LOCALS, ".f_locals"},
    };
    for (size_t k = 0; k < sizeof refs / sizeof refs[0]; k++) {
        if (L->v[refs[k].f] < 0)
            continue;
        uint64_t p = stackref(w, wk_field_u64(h, hl, L->v[refs[k].f]));
        iframe_ref(w, p, root_prefix, refs[k].name, PH_LABEL(PH_EDGE_FIELD, wk_intern(w, refs[k].name + 1)));
    }
    uint64_t code = stackref(w, wk_field_u64(h, hl, LAY(L, IFRAME_CODE)));
    int32_t nlp = 0;
    uint64_t names = 0;
    if (!code || !wk_read(w, code + LAY(L, CODE_NLOCALSPLUS), &nlp, 4) || nlp < 0 || nlp > 65536)
        return false;
    wk_u64(w, code + LAY(L, CODE_LOCALSPLUSNAMES), &names);
    uint64_t slots[256];
    for (int32_t base = 0; base < nlp; base += 256) {
        int32_t k = nlp - base < 256 ? nlp - base : 256;
        if (!wk_read(w, iframe + hl + 8 * (uint64_t)base, slots, 8 * (size_t)k))
            return false;
        for (int32_t i = 0; i < k; i++) {
            uint64_t p = stackref(w, slots[i]);
            if (!p)
                continue;
            uint32_t name = local_name(w, names, (uint64_t)(base + i));
            char label[300];
            snprintf(label, sizeof label, ".f_locals['%s']", name == PH_NONE ? "?" : ph_strtab_get(&w->g->names, name));
            iframe_ref(w, p, root_prefix, label,
                       name == PH_NONE ? PH_LABEL(PH_EDGE_INDEX, base + i) : PH_LABEL(PH_EDGE_LOCAL, name));
        }
    }
    /* A thread's frames are known to be below the innermost only when walked from the thread
     * (root_prefix); a frame object may point at the running frame. */
    int64_t end = iframe_stack_end(w, h, hl, iframe, owner, root_prefix && !innermost);
    iframe_stack(w, iframe, code, nlp, end, root_prefix);
    return true;
}

/* ---- instances: __dict__, managed dicts, values, slots ---- */

/* An attribute's edge label: its name, or its index when the key is not a readable str. */
static uint32_t attr_label(uint32_t name, uint32_t index)
{
    return name == PH_NONE ? PH_LABEL(PH_EDGE_INDEX, index) : PH_LABEL(PH_EDGE_ATTR, name);
}

static void values_entry(struct wk *w, void *ctx, uint32_t index, uint64_t key, uint64_t value,
                         uint64_t key_ahead)
{
    (void)ctx;
    (void)key_ahead;
    wk_edge(w, value, attr_label(wk_str_name(w, key), index));
}

/* values_entry for every entry of memoised keys (internal.h: wk_keys_memo). */
static void memo_values(struct wk *w, struct wk_keys_memo *m, uint64_t values)
{
    uint64_t v[WK_MEMO_KEYS];
    if (!m->ok || m->n == 0 || !wk_read(w, wk_values_array(w, values), v, m->n * sizeof *v))
        return;
    for (uint32_t i = 0; i < m->n; i++)
        wk_prefetch(w, v[i]);
    for (uint32_t i = 0; i < m->n; i++) {
        if (!m->key[i] || !v[i])
            continue;
        if (!(m->named & (1u << i))) {
            m->name[i] = wk_str_name(w, m->key[i]);
            m->named |= 1u << i;
        }
        wk_edge(w, v[i], attr_label(m->name[i], i));
    }
}

/* Attribute values of an instance that has no dict object: keys from the type's cached keys. */
static void instance_values(struct wk *w, struct wk_obj *o, uint64_t values, bool inline_values)
{
    const struct wk_type *t = o->t;
    if (!t->cached_keys || !values)
        return;
    uint64_t usable;
    struct wk_keys_memo *m = wk_keys_memo(w, t->cached_keys);
    if (m) {
        memo_values(w, m, values);
        usable = m->usable;
    } else {
        wk_keys_iter(w, t->cached_keys, values, values_entry, NULL);
        usable = wk_keys_shape(w, t->cached_keys).usable_values;
    }
    if (inline_values) { /* 3.13+: part of the object's own allocation */
        uint8_t cap = 0;
        wk_read(w, values + LAY(w->L, DV_CAPACITY), &cap, 1);
        /* header, the slots, then one insertion-order byte per slot, rounded to words */
        o->size += (uint64_t)LAY(w->L, DV_VALUES) + 8 * (uint64_t)cap + (((uint64_t)cap + 7) & ~7ull);
    } else {
        /* 3.11/3.12: one allocation, a byte prefix (insertion order; its size in the byte just
         * before the values) then the slots. The slot count is the keys' usable size now; the
         * first instances of a class got larger arrays while the keys settled. */
        uint8_t prefix = 0;
        if (!wk_read(w, values - 1, &prefix, 1) || prefix < 8 || (prefix & 7))
            prefix = (uint8_t)((usable + 2 + 7) & ~7ull);
        o->size += prefix + 8 * usable;
    }
}

/* 3.11/3.12: the values array of an instance without a dict object, from the two words
 * before its GC header (obj-32, obj-24); 0 when it has a dict (or on other versions). */
static uint64_t split_values(const struct wk *w, const uint64_t pre[2])
{
    if (w->v.managed == WK_MANAGED_DICT_OR_VALUES)
        return pre[1] ? 0 : pre[0];
    if (w->v.managed == WK_MANAGED_TAGGED)
        return (pre[1] & 1) ? pre[1] + 1 : 0;
    return 0;
}

static void managed_dict(struct wk *w, struct wk_obj *o)
{
    uint64_t pre[4]; /* words at obj-32 .. obj-8 */
    if (!wk_read(w, o->addr - 32, pre, sizeof pre))
        return;
    uint64_t word = pre[1]; /* obj - 24 */
    if (w->v.managed != WK_MANAGED_INLINE) {
        uint64_t values = split_values(w, pre);
        if (values)
            instance_values(w, o, values, false);
        else if (w->v.managed != WK_MANAGED_TAGGED || !(word & 1)) /* not a tagged pointer */
            owned_dict(w, o, word);
    } else {
        owned_dict(w, o, word);
        if (!word && (o->t->flags & TPFLAGS_INLINE_VALUES)) {
            uint64_t values = o->addr + (uint64_t)o->t->basicsize;
            uint8_t valid = 0;
            if (wk_read(w, values + LAY(w->L, DV_VALID), &valid, 1) && valid)
                instance_values(w, o, values, true);
        }
    }
}

/* Prefetching for object i (walk.c: decode_all), `stage` objects before its turn: stage 2
 * starts loading its first line (and an instance's pre-header); stage 1, once those are in
 * the cache, the tables it refers to: a 3.11/3.12 instance's values array, a dict's keys and
 * values. Hints only: what is peeked decides nothing. */
void wk_decode_ahead(struct wk *w, uint32_t i, int stage)
{
    const struct ph_graph *g = w->g;
    if (g->size[i]) /* sized when found: a leaf, not read again */
        return;
    uint64_t addr = g->addr[i];
    const struct wk_type *t = wk_type_get(w, g->type[i]);
    bool split = w->v.managed != WK_MANAGED_NONE && w->v.managed != WK_MANAGED_INLINE &&
                 (t->flags & TPFLAGS_MANAGED_DICT);
    if (stage == 2) {
        ph_mem_prefetch(w->mem, addr);
        if (split)
            ph_mem_prefetch(w->mem, addr - 32);
    } else if (split) {
        const uint64_t *pre = ph_mem_peek(w->mem, addr - 32, 16);
        uint64_t values = pre ? split_values(w, pre) : 0;
        if (values) {
            ph_mem_prefetch(w->mem, values - 1);
            ph_mem_prefetch(w->mem, wk_values_array(w, values));
        }
    } else if (t->kind == WK_DICT) {
        const uint8_t *b = ph_mem_peek(w->mem, addr, (size_t)LAY(w->L, DICT_VALUES) + 8);
        if (b) {
            ph_mem_prefetch(w->mem, wk_field_u64(b, (size_t)LAY(w->L, DICT_VALUES) + 8,
                                                 LAY(w->L, DICT_KEYS)));
            uint64_t values = wk_field_u64(b, (size_t)LAY(w->L, DICT_VALUES) + 8,
                                           LAY(w->L, DICT_VALUES));
            if (values)
                ph_mem_prefetch(w->mem, wk_values_array(w, values));
        }
    }
}

static void instance_extras(struct wk *w, struct wk_obj *o)
{
    const struct wk_type *t = o->t;
    if (w->v.managed != WK_MANAGED_NONE && (t->flags & TPFLAGS_MANAGED_DICT)) {
        managed_dict(w, o);
    } else if (t->dictoffset != 0 && t->kind != WK_TYPE && t->kind != WK_MODULE &&
               t->kind != WK_FUNCTION && t->kind != WK_EXCEPTION) {
        int64_t off = t->dictoffset;
        if (off < 0) { /* var-sized base: the dict pointer follows the items */
            int64_t n = abs64((int64_t)f64(o, LAY(w->L, VAR_OB_SIZE)));
            off += (t->basicsize + n * t->itemsize + 7) & ~7ll;
        }
        uint64_t dict;
        if (off > 0 && wk_u64(w, o->addr + (uint64_t)off, &dict))
            owned_dict(w, o, dict);
    }
    for (uint32_t s = 0; s < t->nslots; s++) {
        const struct wk_slot *sl = &t->slots[s];
        if (sl->cond >= 0 && ((size_t)sl->cond >= o->len || !o->b[sl->cond]))
            continue; /* a field this instance was allocated without */
        uint64_t p = f64(o, sl->offset);
        if (p && sl->deref >= 0 && !wk_u64(w, p + (uint64_t)sl->deref, &p))
            p = 0;
        if (p)
            wk_edge(w, p, sl->label);
    }
    if (t->items_objects && t->itemsize == 8) { /* a HAMT node's keys and values */
        uint64_t n = (uint64_t)abs64((int64_t)f64(o, LAY(w->L, VAR_OB_SIZE)));
        if (n > MAX_ITEMS ||
            !wk_pointer_array(w, o->addr + (uint64_t)t->basicsize, n, PH_EDGE_INDEX))
            w->g->flags[o->i] |= PH_OBJ_PARTIAL;
    }
    if (t->nscan || t->scan_items)
        conservative_scan(w, o);
}

/* sys.getsizeof's pre-header term for the version (Python/sysmodule.c). */
static uint64_t presize(const struct wk *w, const struct wk_obj *o)
{
    const struct wk_type *t = o->t;
    bool is_static_type_obj = t->kind == WK_TYPE && !((f64(o, LAY(w->L, TP_FLAGS)) >> 9) & 1);
    if (w->v.managed == WK_MANAGED_NONE)
        return t->gc && !(t->kind == WK_TYPE && is_static_type_obj) ? 16 : 0;
    if (w->v.static_type_no_presize && is_static_type_obj && t->addr == w->kind_addr[WK_TYPE])
        return 0;
    uint64_t pre = t->gc ? 16 : 0;
    uint64_t managed = t->flags & (TPFLAGS_MANAGED_DICT |
                                   (w->v.managed_weakref ? TPFLAGS_MANAGED_WEAKREF : 0));
    return pre + (managed ? 16 : 0);
}

static void dec_generic(struct wk *w, struct wk_obj *o)
{
    o->size = generic_size(w, o->t, o->b, o->len);
}

static void dec_kind(struct wk *w, struct wk_obj *o)
{
    const struct py_layout *L = w->L;
    switch (o->t->kind) {
    case WK_INT: case WK_BOOL: o->size = int_size(w, o->b, o->len); break;
    case WK_STR: o->size = wk_str_size(w, o->addr, o->b, o->len); break;
    case WK_BYTEARRAY: dec_bytearray(w, o); break;
    case WK_TUPLE: dec_tuple(w, o); break;
    case WK_LIST: dec_list(w, o); break;
    case WK_DICT: dec_dict(w, o); break;
    case WK_SET: case WK_FROZENSET: dec_set(w, o); break;
    case WK_DEQUE: dec_deque(w, o); break;
    case WK_TYPE: dec_type(w, o); break;
    case WK_MODULE: dec_module(w, o); break;
    case WK_FUNCTION: dec_function(w, o); break;
    case WK_CODE: dec_code(w, o); break;
    case WK_FRAME: dec_frame(w, o); break;
    case WK_GEN: case WK_CORO: case WK_ASYNCGEN: dec_gen(w, o); break;
    case WK_CELL: NAMED(w, o, {PF_CELL_REF, "cell_contents"}); break;
    case WK_METHOD: NAMED(w, o, {PF_METHOD_FUNC, "__func__"}, {PF_METHOD_SELF, "__self__"}); break;
    case WK_CFUNCTION: NAMED(w, o, {PF_CFUNC_SELF, "__self__"}, {PF_CFUNC_MODULE, "__module__"}); break;
    case WK_CLASSMETHOD:
        NAMED(w, o, {PF_CLASSMETHOD_CALLABLE, "__func__"}, {PF_CLASSMETHOD_DICT, "__dict__"});
        break;
    case WK_STATICMETHOD:
        NAMED(w, o, {PF_STATICMETHOD_CALLABLE, "__func__"}, {PF_STATICMETHOD_DICT, "__dict__"});
        break;
    case WK_PROPERTY:
        NAMED(w, o, {PF_PROPERTY_GET, "fget"}, {PF_PROPERTY_SET, "fset"}, {PF_PROPERTY_DEL, "fdel"},
              {PF_PROPERTY_DOC, "__doc__"}, {PF_PROPERTY_NAME, "__name__"});
        break;
    case WK_WEAKREF: NAMED(w, o, {PF_WEAKREF_CALLBACK, "__callback__"}); break;
    case WK_DESCR:
        NAMED(w, o, {PF_DESCR_TYPE, "__objclass__"}, {PF_DESCR_NAME, "__name__"},
              {PF_DESCR_QUALNAME, "__qualname__"});
        break;
    case WK_EXCEPTION:
        NAMED(w, o, {PF_EXC_ARGS, "args"}, {PF_EXC_NOTES, "__notes__"},
              {PF_EXC_TRACEBACK, "__traceback__"}, {PF_EXC_CONTEXT, "__context__"},
              {PF_EXC_CAUSE, "__cause__"});
        owned_dict(w, o, f64(o, LAY(L, EXC_DICT)));
        break;
    case WK_TRACEBACK: NAMED(w, o, {PF_TB_NEXT, "tb_next"}, {PF_TB_FRAME, "tb_frame"}); break;
    default: dec_generic(w, o); break;
    }
}

bool wk_decode(struct wk *w, uint32_t i)
{
    /* The copy is large: one scratch object, owned by the walk, reused for every object. */
    if (!w->scratch && !(w->scratch = malloc(sizeof *w->scratch)))
        return false;
    struct wk_obj *o = w->scratch;
    struct ph_graph *g = w->g;
    o->i = i;
    o->addr = g->addr[i];
    o->t = wk_type_get(w, g->type[i]);
    ph_graph_begin_edges(g, i);
    if (o->t->leaf && g->size[i]) { /* sized when discovered (wk_object), holds nothing */
        ph_graph_end_edges(g);
        return true;
    }
    o->len = o->t->basicsize < 16 ? 16 : (size_t)o->t->basicsize;
    if (o->len > MAX_OBJ_BYTES)
        o->len = MAX_OBJ_BYTES;
    if (!wk_read(w, o->addr, o->b, o->len)) {
        g->flags[i] |= PH_OBJ_PARTIAL;
        ph_graph_set_size(g, i, (uint64_t)o->t->basicsize);
        w->stats->partial++;
        ph_graph_end_edges(g);
        return true;
    }
    o->size = 0;
    if (o->t->heap) /* subtype_traverse visits the type of heap-type instances */
        wk_edge(w, g->types[g->type[i]].addr, PH_LABEL(PH_EDGE_FIELD, w->n_dunder_class));
    dec_kind(w, o);
    if (o->t->extra) /* what the type's own __sizeof__ adds (known.c) */
        o->size += wk_known_instance(w, o->t, o->b, o->len);
    instance_extras(w, o);
    if (g->flags[i] & PH_OBJ_PARTIAL)
        w->stats->partial++;
    ph_graph_set_size(g, i, o->size + presize(w, o));
    ph_graph_end_edges(g);
    return true;
}

/* ---- conservative scanning ---- */

/* A word found in memory nothing explains is taken as a reference only if it is the address of
 * an object already in the set, or of a plausible new one: aligned, readable, a live reference
 * count, a valid type object, and as many readable bytes as that type's instances have (its
 * basic size, and its items for a var-sized type, whose count must be sane). Tracked or not:
 * untracked objects held only inside C types (a ContextVar inside a Context's HAMT, the dict a
 * C type keeps to itself) are in no GC list, and without this they would be missing. */
static bool plausible_new_object(struct wk *w, uint64_t addr)
{
    int64_t refcnt;
    uint64_t type;
    if (!addr || (addr & 7) || !ph_mem_readable(w->mem, addr, 16) ||
        !wk_read(w, addr + (uint64_t)LAY(w->L, OB_REFCNT), &refcnt, sizeof refcnt) ||
        !wk_u64(w, addr + (uint64_t)LAY(w->L, OB_TYPE), &type))
        return false;
    /* Immortal objects (3.12+) have the low 32 bits set; otherwise a sane positive count. */
    if (!((refcnt > 0 && refcnt < (1ll << 40)) || (uint32_t)refcnt == 0xffffffffu ||
          (uint32_t)refcnt == 0xc0000000u))
        return false;
    uint32_t ti = wk_type_index(w, type);
    if (ti == PH_NONE)
        return false;
    const struct wk_type *t = wk_type_get(w, ti);
    uint64_t size = (uint64_t)t->basicsize;
    if (t->itemsize) {
        int64_t n;
        if (!wk_read(w, addr + (uint64_t)LAY(w->L, VAR_OB_SIZE), &n, sizeof n))
            return false;
        n = abs64(n);
        if ((uint64_t)n > MAX_ITEMS)
            return false;
        size += (uint64_t)n * (uint64_t)t->itemsize;
    }
    return ph_mem_readable(w->mem, addr, size < MAX_OBJ_BYTES ? size : MAX_OBJ_BYTES);
}

void wk_scan_word(struct wk *w, uint64_t self, uint64_t word, uint32_t offset)
{
    if (!word || (word & 7) || word == self)
        return;
    uint32_t dst = ph_graph_find(w->g, word);
    if (dst == PH_NONE) {
        if (!plausible_new_object(w, word))
            return;
        uint64_t bad = w->stats->bad_pointers;
        dst = wk_object(w, word);
        w->stats->bad_pointers = bad; /* a non-pointer word is not a bad pointer */
        if (dst == PH_NONE)
            return;
    }
    ph_graph_add_edge(w->g, dst, PH_LABEL(PH_EDGE_CONSERVATIVE, offset));
    w->stats->conservative_edges++;
}

static void conservative_scan(struct wk *w, struct wk_obj *o)
{
    const struct wk_type *t = o->t;
    w->g->flags[o->i] |= PH_OBJ_CONSERVATIVE;
    w->stats->conservative_objects++;
    for (uint32_t k = 0; k < t->nscan; k++)
        wk_scan_word(w, o->addr, f64(o, t->scan[k]), t->scan[k]);
    if (!t->scan_items)
        return;
    /* Var-sized C objects with pointer-sized items (HAMT nodes): scan the items too. */
    uint64_t n = (uint64_t)abs64((int64_t)f64(o, LAY(w->L, VAR_OB_SIZE)));
    uint64_t items[ITEM_BLOCK];
    for (uint64_t base = 0; n < MAX_ITEMS && base < n; base += ITEM_BLOCK) {
        uint64_t k = n - base < ITEM_BLOCK ? n - base : ITEM_BLOCK;
        if (!wk_read(w, o->addr + (uint64_t)t->basicsize + base * 8, items, k * 8))
            return;
        for (uint64_t j = 0; j < k; j++)
            wk_scan_word(w, o->addr, items[j], (uint32_t)(t->basicsize + 8 * (base + j)));
    }
}
