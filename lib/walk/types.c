/*
 * types.c: validating, analysing and naming type objects met during the walk.
 *
 * A pointer is accepted as a type when its own type is PyType_Type or a validated metaclass,
 * it is READY, and its sizes are sane. Analysis finds the built-in base whose layout instances
 * start with (walking tp_base, bounded), collects __slots__ members of the levels below that
 * base, and lists the instance words nothing explains, to be scanned conservatively.
 *
 * Names follow heapy's rules (guppy3's Summary_str.str_type): `function` and `module` short;
 * types that the `types` module names are "types.XType"; types in builtins by their plain name;
 * others "module.name" (heap types: the __module__ entry of their dict and ht_qualname).
 */
#include "lib/escape.h"
#include "lib/walk/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TPFLAGS_STATIC_BUILTIN (1ul << 1)
#define TPFLAGS_HEAPTYPE (1ul << 9)
#define TPFLAGS_READY (1ul << 12)
#define TPFLAGS_HAVE_GC (1ul << 14)
#define MAX_TYPE_BYTES 2048
#define MAX_BASE_DEPTH 64
#define MAX_MEMBERS 512
#define MAX_META_DEPTH 8

static const struct {
    enum py_sym sym;
    enum wk_kind kind;
} kind_syms[] = {
    {PY_SYM_LONG_TYPE, WK_INT}, {PY_SYM_BOOL_TYPE, WK_BOOL}, {PY_SYM_FLOAT_TYPE, WK_FLOAT},
    {PY_SYM_COMPLEX_TYPE, WK_COMPLEX}, {PY_SYM_UNICODE_TYPE, WK_STR},
    {PY_SYM_BYTES_TYPE, WK_BYTES}, {PY_SYM_BYTEARRAY_TYPE, WK_BYTEARRAY},
    {PY_SYM_TUPLE_TYPE, WK_TUPLE}, {PY_SYM_LIST_TYPE, WK_LIST}, {PY_SYM_DICT_TYPE, WK_DICT},
    {PY_SYM_SET_TYPE, WK_SET}, {PY_SYM_FROZENSET_TYPE, WK_FROZENSET},
    {PY_SYM_TYPE_TYPE, WK_TYPE}, {PY_SYM_MODULE_TYPE, WK_MODULE},
    {PY_SYM_FUNCTION_TYPE, WK_FUNCTION}, {PY_SYM_CELL_TYPE, WK_CELL},
    {PY_SYM_METHOD_TYPE, WK_METHOD}, {PY_SYM_CFUNCTION_TYPE, WK_CFUNCTION},
    {PY_SYM_CODE_TYPE, WK_CODE}, {PY_SYM_FRAME_TYPE, WK_FRAME}, {PY_SYM_GEN_TYPE, WK_GEN},
    {PY_SYM_CORO_TYPE, WK_CORO}, {PY_SYM_ASYNCGEN_TYPE, WK_ASYNCGEN},
    {PY_SYM_PROPERTY_TYPE, WK_PROPERTY}, {PY_SYM_CLASSMETHOD_TYPE, WK_CLASSMETHOD},
    {PY_SYM_STATICMETHOD_TYPE, WK_STATICMETHOD}, {PY_SYM_WEAKREF_TYPE, WK_WEAKREF},
    {PY_SYM_MEMBERDESCR_TYPE, WK_DESCR}, {PY_SYM_GETSETDESCR_TYPE, WK_DESCR},
    {PY_SYM_METHODDESCR_TYPE, WK_DESCR}, {PY_SYM_CLASSMETHODDESCR_TYPE, WK_DESCR},
    {PY_SYM_WRAPPERDESCR_TYPE, WK_DESCR}, {PY_SYM_TRACEBACK_TYPE, WK_TRACEBACK},
};

/* The graph's mark for the exact built-in types views treat specially (graph.h). */
static enum ph_builtin builtin_of(const struct wk *w, const struct wk_type *ti)
{
    static const enum ph_builtin of_kind[WK_KIND_COUNT] = {
        [WK_DICT] = PH_BUILTIN_DICT, [WK_MODULE] = PH_BUILTIN_MODULE, [WK_LIST] = PH_BUILTIN_LIST,
        [WK_TUPLE] = PH_BUILTIN_TUPLE, [WK_FUNCTION] = PH_BUILTIN_FUNCTION,
        [WK_METHOD] = PH_BUILTIN_METHOD, [WK_TYPE] = PH_BUILTIN_TYPE,
    };
    if (ti->heap)
        return PH_BUILTIN_NONE;
    if (w->none_type && ti->addr == w->none_type)
        return PH_BUILTIN_NONETYPE;
    if (!w->kind_addr[ti->kind] || ti->addr != w->kind_addr[ti->kind])
        return PH_BUILTIN_NONE;
    return of_kind[ti->kind];
}

bool wk_kinds_init(struct wk *w)
{
    memset(w->kind_addr, 0, sizeof w->kind_addr);
    for (size_t i = 0; i < sizeof kind_syms / sizeof kind_syms[0]; i++)
        w->kind_addr[kind_syms[i].kind] = w->t->sym[kind_syms[i].sym];
    w->kind_addr[WK_OBJECT] = w->t->sym[PY_SYM_BASEOBJECT_TYPE];
    /* PyExc_BaseException and _PySet_Dummy are pointer variables: read what they point at. */
    uint64_t p = 0;
    if (w->t->sym[PY_SYM_BASEEXCEPTION_TYPE] && wk_u64(w, w->t->sym[PY_SYM_BASEEXCEPTION_TYPE], &p))
        w->kind_addr[WK_EXCEPTION] = p;
    if (w->t->sym[PY_SYM_SET_DUMMY] && wk_u64(w, w->t->sym[PY_SYM_SET_DUMMY], &p))
        w->set_dummy = p;
    if (w->t->sym[PY_SYM_NONE] && wk_u64(w, w->t->sym[PY_SYM_NONE] + LAY(w->L, OB_TYPE), &p))
        w->none_type = p;
    ph_error_clear(w->err);
    return true;
}

/* Static types with a built-in layout but no exported symbol, recognised by tp_name. */
static const struct {
    const char *tp_name;
    enum wk_kind kind;
} named_kinds[] = {
    {"collections.deque", WK_DEQUE},
    {"frozendict", WK_DICT}, /* 3.15: a dict with a cached hash after the dict fields */
};

/* A heap type named collections.deque is deque itself only if its instances are deque-sized
 * (the struct ends after numfreeblocks' free-block array: at least past DEQUE_NUMFREEBLOCKS). */
static bool deque_sized(const struct wk *w, const uint8_t *tb, size_t len, size_t n)
{
    int64_t basicsize = (int64_t)wk_field_u64(tb, len, LAY(w->L, TP_BASICSIZE));
    return named_kinds[n].kind == WK_DEQUE && LAY_HAS(w->L, DEQUE_NUMFREEBLOCKS) &&
           basicsize > LAY(w->L, DEQUE_NUMFREEBLOCKS);
}

/* tp_name of a type from its bytes into buf ("" when unreadable). */
static void level_name(struct wk *w, const uint8_t *tb, size_t len, char *buf, size_t cap)
{
    uint64_t np = wk_field_u64(tb, len, LAY(w->L, TP_NAME));
    buf[0] = 0;
    if (!np || ph_mem_cstr(w->mem, np, buf, cap, w->err) != PH_OK) {
        ph_error_clear(w->err);
        buf[0] = 0;
    }
}

static enum wk_kind kind_of_addr(struct wk *w, uint64_t addr, const uint8_t *tb, size_t len,
                                 const char *tp_name)
{
    if (!addr)
        return WK_KIND_COUNT;
    for (int k = 0; k < WK_KIND_COUNT; k++)
        if (w->kind_addr[k] == addr)
            return (enum wk_kind)k;
    for (size_t n = 0; n < sizeof named_kinds / sizeof named_kinds[0]; n++)
        if (w->named_addr[n] == addr)
            return named_kinds[n].kind;
    /* Heap types are never these, except deque, a heap type of _collections since 3.12: it is
     * accepted only with deque's own basic size, so a Python class named alike is not. */
    bool heap = (wk_field_u64(tb, len, LAY(w->L, TP_FLAGS)) >> 9) & 1;
    for (size_t n = 0; n < sizeof named_kinds / sizeof named_kinds[0]; n++)
        if (strcmp(tp_name, named_kinds[n].tp_name) == 0 && (!heap || deque_sized(w, tb, len, n)) &&
            (named_kinds[n].kind != WK_DEQUE || LAY_HAS(w->L, DEQUE_LEFTBLOCK))) {
            w->named_addr[n] = addr;
            return named_kinds[n].kind;
        }
    return WK_KIND_COUNT;
}

/* ---- names ---- */

static const struct {
    const char *tp_name;
    const char *heapy;
    int since_minor;
} types_module_names[] = {
    {"code", "types.CodeType", 8}, {"mappingproxy", "types.MappingProxyType", 8},
    {"cell", "types.CellType", 8}, {"generator", "types.GeneratorType", 8},
    {"coroutine", "types.CoroutineType", 8}, {"async_generator", "types.AsyncGeneratorType", 8},
    {"method", "types.MethodType", 8}, {"builtin_function_or_method", "types.BuiltinMethodType", 8},
    {"wrapper_descriptor", "types.WrapperDescriptorType", 8},
    {"method-wrapper", "types.MethodWrapperType", 8},
    {"method_descriptor", "types.MethodDescriptorType", 8},
    {"classmethod_descriptor", "types.ClassMethodDescriptorType", 8},
    {"traceback", "types.TracebackType", 8}, {"frame", "types.FrameType", 8},
    {"getset_descriptor", "types.GetSetDescriptorType", 8},
    {"member_descriptor", "types.MemberDescriptorType", 8},
    {"ellipsis", "types.EllipsisType", 10}, {"NoneType", "types.NoneType", 10},
    {"NotImplementedType", "types.NotImplementedType", 10},
    /* 3.13 defines types.CapsuleType lazily (module __getattr__), so heapy, which reads
     * types.__dict__, names it builtins.PyCapsule there. */
    {"PyCapsule", "types.CapsuleType", 14}, {"typing.Union", "types.UnionType", 14},
};

static const char *const builtins_types[] = {
    "object", "type", "int", "bool", "float", "complex", "str", "bytes", "bytearray", "list",
    "tuple", "dict", "set", "frozenset", "range", "slice", "memoryview", "property",
    "classmethod", "staticmethod", "super", "enumerate", "filter", "map", "zip", "reversed",
    "frozendict", /* 3.15 */
};

static void static_type_name(const struct wk *w, uint64_t addr, const char *tp_name,
                             enum wk_kind base, char *out, size_t cap)
{
    uint32_t known = ph_addrmap_get(&w->type_names, addr);
    if (known != PH_ADDRMAP_NONE && strcmp(tp_name, "function") && strcmp(tp_name, "module")) {
        snprintf(out, cap, "%s", ph_strtab_get(&w->g->names, known));
        return;
    }
    if (strcmp(tp_name, "function") == 0 || strcmp(tp_name, "module") == 0) {
        snprintf(out, cap, "%s", tp_name);
        return;
    }
    for (size_t i = 0; i < sizeof types_module_names / sizeof types_module_names[0]; i++)
        if (w->minor >= types_module_names[i].since_minor &&
            strcmp(tp_name, types_module_names[i].tp_name) == 0) {
            snprintf(out, cap, "%s", types_module_names[i].heapy);
            return;
        }
    if (strchr(tp_name, '.')) {
        snprintf(out, cap, "%s", tp_name);
        return;
    }
    for (size_t i = 0; i < sizeof builtins_types / sizeof builtins_types[0]; i++)
        if (strcmp(tp_name, builtins_types[i]) == 0) {
            snprintf(out, cap, "%s", tp_name);
            return;
        }
    if (base == WK_EXCEPTION) { /* every static exception class is in builtins */
        snprintf(out, cap, "%s", tp_name);
        return;
    }
    snprintf(out, cap, "builtins.%s", tp_name);
}

/* Module of a heap type: the '__module__' str in its dict. */
static bool heap_type_module(struct wk *w, const uint8_t *tb, size_t len, char *out, size_t cap);

static uint32_t name_type(struct wk *w, const struct wk_type *ti, const uint8_t *tb, size_t len,
                          uint32_t *module_id)
{
    char name[512], module[256] = "builtins", tp_name[256] = "?";
    uint64_t tp_name_ptr = wk_field_u64(tb, len, LAY(w->L, TP_NAME));
    if (!tp_name_ptr || ph_mem_cstr(w->mem, tp_name_ptr, tp_name, sizeof tp_name, w->err) != PH_OK)
        snprintf(tp_name, sizeof tp_name, "?");
    ph_error_clear(w->err);
    if (ti->heap) {
        char qual[256];
        uint64_t q = wk_field_u64(tb, len, LAY(w->L, HT_QUALNAME));
        if (!q || !wk_str_text(w, q, qual, sizeof qual))
            snprintf(qual, sizeof qual, "%s", tp_name);
        if (!heap_type_module(w, tb, len, module, sizeof module))
            snprintf(module, sizeof module, "?");
        snprintf(name, sizeof name, "%s.%s", module, qual);
    } else {
        /* tp_name comes from the target: escape it like any other target string. */
        char esc[256];
        ph_escape(tp_name, strlen(tp_name), esc, sizeof esc);
        static_type_name(w, ti->addr, esc, ti->kind, name, sizeof name);
        const char *dot = strrchr(esc, '.');
        if (dot)
            snprintf(module, sizeof module, "%.*s", (int)(dot - esc), esc);
    }
    *module_id = wk_intern(w, module);
    return wk_intern(w, name);
}

/* ---- analysis ---- */

static bool read_type(struct wk *w, uint64_t addr, uint8_t *tb, size_t *len)
{
    size_t want = (size_t)LAY(w->L, HEAPTYPE_SIZE);
    if (want < (size_t)LAY(w->L, TYPE_SIZE))
        want = (size_t)LAY(w->L, TYPE_SIZE);
    if (want > MAX_TYPE_BYTES)
        want = MAX_TYPE_BYTES;
    /* Static types are only TYPE_SIZE long: fall back to the shorter read. */
    if (wk_read(w, addr, tb, want)) {
        *len = want;
        return true;
    }
    want = (size_t)LAY(w->L, TYPE_SIZE);
    *len = want;
    return want <= MAX_TYPE_BYTES && wk_read(w, addr, tb, want);
}

bool wk_add_cslot(struct wk_type *ti, uint32_t offset, uint32_t label, int16_t deref, int16_t cond)
{
    struct wk_slot *s = realloc(ti->slots, (ti->nslots + 1) * sizeof *s);
    if (!s)
        return false;
    ti->slots = s;
    ti->slots[ti->nslots++] = (struct wk_slot){offset, label, deref, cond};
    return true;
}

bool wk_add_slot(struct wk_type *ti, uint32_t offset, uint32_t label)
{
    return wk_add_cslot(ti, offset, label, -1, -1);
}

/* Members of one level: object members become slots; every member explains its word. */
static void level_members(struct wk *w, struct wk_type *ti, uint64_t members, uint8_t *explained,
                          size_t nwords)
{
    const struct py_layout *L = w->L;
    int64_t msize = LAY(L, MEMBERDEF_SIZE);
    if (!members || msize <= 0 || msize > 128)
        return;
    for (int m = 0; m < MAX_MEMBERS; m++) {
        uint8_t md[128];
        if (!wk_read(w, members + (uint64_t)m * (uint64_t)msize, md, (size_t)msize))
            return;
        uint64_t name_ptr = wk_field_u64(md, sizeof md, LAY(L, MEMBERDEF_NAME));
        if (!name_ptr)
            return;
        int32_t type;
        int64_t offset;
        memcpy(&type, md + LAY(L, MEMBERDEF_TYPE), sizeof type);
        memcpy(&offset, md + LAY(L, MEMBERDEF_OFFSET), sizeof offset);
        if (offset < 16 || offset >= ti->basicsize)
            continue;
        char name[128];
        if (ph_mem_cstr(w->mem, name_ptr, name, sizeof name, w->err) != PH_OK) {
            ph_error_clear(w->err);
            snprintf(name, sizeof name, "?");
        }
        /* __dictoffset__, __weaklistoffset__, __vectorcalloffset__: how PyType_FromSpec is told
         * where those are, at the offset of the level that declares them. A subclass need not
         * share that level's layout (_io.BytesIO's buffer sits where _IOBase keeps its dict),
         * and the type's own dict and weakref offsets are applied anyway: they explain nothing. */
        size_t nlen = strlen(name);
        if (nlen > 10 && strncmp(name, "__", 2) == 0 && strcmp(name + nlen - 8, "offset__") == 0)
            continue;
        if ((size_t)(offset / 8) < nwords)
            explained[offset / 8] = 1;
        if (type == 6 || type == 16) { /* T_OBJECT, T_OBJECT_EX */
            char esc[160];
            ph_escape(name, strlen(name), esc, sizeof esc);
            wk_add_slot(ti, (uint32_t)offset, PH_LABEL(PH_EDGE_ATTR, wk_intern(w, esc)));
        }
    }
}

/* Walk tp_base to the built-in base; collect members of the levels above it. */
static void analyse_layout(struct wk *w, struct wk_type *ti, const uint8_t *tb, size_t len)
{
    const struct py_layout *L = w->L;
    size_t nwords = ti->basicsize > 0 ? (size_t)ti->basicsize / 8 : 0;
    uint8_t *explained = calloc(nwords + 1, 1);
    uint8_t lb[MAX_TYPE_BYTES];
    size_t llen = len;
    memcpy(lb, tb, len);
    uint64_t level = ti->addr;
    ti->kind = WK_OBJECT;
    ti->kind_basicsize = 16;
    for (int depth = 0; level && depth < MAX_BASE_DEPTH; depth++) {
        char tp_name[64];
        level_name(w, lb, llen, tp_name, sizeof tp_name);
        enum wk_kind k = kind_of_addr(w, level, lb, llen, tp_name);
        if (k != WK_KIND_COUNT) {
            ti->kind = k;
            ti->kind_basicsize = (int64_t)wk_field_u64(lb, llen, LAY(L, TP_BASICSIZE));
            break;
        }
        struct wk_level known = {
            .tp_name = tp_name,
            .basicsize = (int64_t)wk_field_u64(lb, llen, LAY(L, TP_BASICSIZE)),
            .itemsize = (int64_t)wk_field_u64(lb, llen, LAY(L, TP_ITEMSIZE)),
            .heap = (wk_field_u64(lb, llen, LAY(L, TP_FLAGS)) & TPFLAGS_HEAPTYPE) != 0,
        };
        if (explained && !wk_known_level(w, ti, &known, explained, nwords)) {
            level_members(w, ti, wk_field_u64(lb, llen, LAY(L, TP_MEMBERS)), explained, nwords);
            wk_cstruct_level(w, ti, &known, explained, nwords);
        }
        level = wk_field_u64(lb, llen, LAY(L, TP_BASE));
        if (level && !read_type(w, level, lb, &llen))
            break;
    }
    if (!explained)
        return;
    /* Fields a table or tp_members named inside the built-in base (an exception's args, a
     * builtin method's __self__) are the kind's decoder's: keep one edge per reference. */
    uint32_t kept = 0;
    for (uint32_t s = 0; s < ti->nslots; s++)
        if (ti->kind == WK_OBJECT || (int64_t)ti->slots[s].offset >= ti->kind_basicsize)
            ti->slots[kept++] = ti->slots[s];
    ti->nslots = kept;
    ti->scan_items = ti->kind == WK_OBJECT && ti->itemsize == 8 && !ti->heap && !ti->items_known;
    if (ti->dictoffset > 0 && (size_t)(ti->dictoffset / 8) < nwords)
        explained[ti->dictoffset / 8] = 1;
    if (ti->weaklistoffset > 0 && (size_t)(ti->weaklistoffset / 8) < nwords)
        explained[ti->weaklistoffset / 8] = 1;
    /* Subclasses of the built-in var-sized kinds keep items where fields would be: nothing to
     * scan there. A var-sized C type of its own (re.Pattern: its compiled code as items) has
     * fixed fields after ob_size, before the items: those are scanned like any other. */
    bool builtin_var = ti->kind == WK_INT || ti->kind == WK_TUPLE || ti->kind == WK_BYTES ||
                       ti->kind == WK_STR || (ti->itemsize != 0 && ti->kind != WK_OBJECT);
    size_t first = (size_t)(ti->kind_basicsize + 7) / 8;
    if (ti->itemsize != 0 && ti->kind == WK_OBJECT)
        first = (size_t)(LAY(L, VAR_OB_SIZE) + 8) / 8;
    for (size_t word = first; !builtin_var && word < nwords; word++) {
        if (explained[word])
            continue;
        uint32_t *s = realloc(ti->scan, (ti->nscan + 1) * sizeof *s);
        if (!s)
            break;
        ti->scan = s;
        ti->scan[ti->nscan++] = (uint32_t)(word * 8);
    }
    free(explained);
}

/* Whether the type (its bytes tb) is `base` or has it on its tp_base chain. Bounded. */
static bool derives_from(struct wk *w, const struct wk_type *ti, const uint8_t *tb, size_t len,
                         uint64_t base)
{
    if (!base)
        return false;
    uint64_t level = ti->addr;
    uint64_t next = wk_field_u64(tb, len, LAY(w->L, TP_BASE));
    for (int depth = 0; level && depth < MAX_BASE_DEPTH; depth++) {
        if (level == base)
            return true;
        level = next;
        if (level && !wk_u64(w, level + (uint64_t)LAY(w->L, TP_BASE), &next))
            return false;
    }
    return false;
}

/* Room for type records up to index need - 1: whole new blocks, the old ones stay put. */
static bool grow_types(struct wk *w, size_t need)
{
    size_t blocks = (need + WK_TYPE_BLOCK - 1) / WK_TYPE_BLOCK;
    if (blocks <= w->n_type_blocks)
        return true;
    struct wk_type **index = realloc(w->type_blocks, blocks * sizeof *index);
    if (!index)
        return false;
    w->type_blocks = index;
    while (w->n_type_blocks < blocks) {
        struct wk_type *block = calloc(WK_TYPE_BLOCK, sizeof *block);
        if (!block)
            return false;
        w->type_blocks[w->n_type_blocks++] = block;
    }
    return true;
}

static struct wk_type *type_record(const struct wk *w, uint32_t type_index)
{
    return &w->type_blocks[type_index / WK_TYPE_BLOCK][type_index % WK_TYPE_BLOCK];
}

/* A static type nobody called PyType_Ready on still has instances: 3.8 and 3.9 never ready
 * functools' _lru_list_elem, whose instances are an lru_cache's links. Such a type is accepted
 * only as an object's own type (not a metaclass), with type as its type and a tp_name made of
 * identifier characters and dots, so that a stray word is not mistaken for one. */
static bool plausible_unready(struct wk *w, const uint8_t *tb, size_t len, int depth)
{
    const struct py_layout *L = w->L;
    if (depth != 0 || wk_field_u64(tb, len, LAY(L, OB_TYPE)) != w->t->sym[PY_SYM_TYPE_TYPE] ||
        (wk_field_u64(tb, len, LAY(L, TP_FLAGS)) & TPFLAGS_HEAPTYPE))
        return false;
    char name[64];
    level_name(w, tb, len, name, sizeof name);
    if (!name[0])
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.'))
            return false;
    return true;
}

static bool plausible_type(struct wk *w, const uint8_t *tb, size_t len, int depth)
{
    const struct py_layout *L = w->L;
    uint64_t flags = wk_field_u64(tb, len, LAY(L, TP_FLAGS));
    int64_t basicsize = (int64_t)wk_field_u64(tb, len, LAY(L, TP_BASICSIZE));
    int64_t itemsize = (int64_t)wk_field_u64(tb, len, LAY(L, TP_ITEMSIZE));
    if (basicsize < 16 || basicsize > (1 << 20) || itemsize < 0 || itemsize > (1 << 16))
        return false;
    if (!(flags & TPFLAGS_READY))
        return plausible_unready(w, tb, len, depth);
    uint64_t meta = wk_field_u64(tb, len, LAY(L, OB_TYPE));
    if (meta == w->t->sym[PY_SYM_TYPE_TYPE])
        return true;
    if (depth >= MAX_META_DEPTH)
        return false;
    /* A metaclass: itself a valid type whose instances are types. */
    uint8_t mb[MAX_TYPE_BYTES];
    size_t mlen;
    if (!read_type(w, meta, mb, &mlen) || !plausible_type(w, mb, mlen, depth + 1))
        return false;
    return (wk_field_u64(mb, mlen, LAY(L, TP_FLAGS)) >> 31) & 1; /* Py_TPFLAGS_TYPE_SUBCLASS */
}

uint32_t wk_type_index(struct wk *w, uint64_t addr)
{
    uint32_t idx = ph_graph_type(w->g, addr);
    if (idx != PH_NONE)
        return idx;
    if (!addr || (addr & 7) || !ph_mem_readable(w->mem, addr, (size_t)LAY(w->L, TYPE_SIZE)))
        return PH_NONE;
    uint8_t tb[MAX_TYPE_BYTES];
    size_t len;
    if (!read_type(w, addr, tb, &len) || !plausible_type(w, tb, len, 0))
        return PH_NONE;
    struct wk_type ti = {.addr = addr};
    const struct py_layout *L = w->L;
    ti.flags = wk_field_u64(tb, len, LAY(L, TP_FLAGS));
    ti.basicsize = (int64_t)wk_field_u64(tb, len, LAY(L, TP_BASICSIZE));
    ti.itemsize = (int64_t)wk_field_u64(tb, len, LAY(L, TP_ITEMSIZE));
    ti.dictoffset = (int64_t)wk_field_u64(tb, len, LAY(L, TP_DICTOFFSET));
    ti.weaklistoffset = (int64_t)wk_field_u64(tb, len, LAY(L, TP_WEAKLISTOFFSET));
    ti.heap = (ti.flags & TPFLAGS_HEAPTYPE) != 0;
    ti.gc = (ti.flags & TPFLAGS_HAVE_GC) != 0;
    if (ti.heap && LAY_HAS(L, HT_CACHED_KEYS))
        ti.cached_keys = wk_field_u64(tb, len, LAY(L, HT_CACHED_KEYS));
    analyse_layout(w, &ti, tb, len);
    if (ti.kind == WK_DICT && derives_from(w, &ti, tb, len, w->t->sym[PY_SYM_ODICT_TYPE]))
        ti.extra = WK_EXTRA_ODICT;
    ti.leaf = !ti.heap && addr == w->kind_addr[ti.kind] &&
              (ti.kind == WK_INT || ti.kind == WK_BOOL || ti.kind == WK_FLOAT ||
               ti.kind == WK_COMPLEX || ti.kind == WK_STR || ti.kind == WK_BYTES ||
               ti.kind == WK_NONE);
    uint32_t module;
    uint32_t name = name_type(w, &ti, tb, len, &module);
    idx = ph_graph_add_type(w->g, addr, name, module);
    if (idx == PH_NONE || !grow_types(w, idx + 1)) {
        free(ti.slots);
        free(ti.scan);
        return PH_NONE;
    }
    w->g->types[idx].builtin = (uint8_t)builtin_of(w, &ti);
    *type_record(w, idx) = ti;
    return idx;
}

const struct wk_type *wk_type_get(const struct wk *w, uint32_t type_index)
{
    return type_record(w, type_index);
}

void wk_types_free(struct wk *w)
{
    for (size_t i = 0; i < w->g->ntypes && i < w->n_type_blocks * WK_TYPE_BLOCK; i++) {
        free(type_record(w, (uint32_t)i)->slots);
        free(type_record(w, (uint32_t)i)->scan);
    }
    for (size_t b = 0; b < w->n_type_blocks; b++)
        free(w->type_blocks[b]);
    free(w->type_blocks);
    w->type_blocks = NULL;
    w->n_type_blocks = 0;
}

/* ---- heap type module name ---- */

static bool heap_type_module(struct wk *w, const uint8_t *tb, size_t len, char *out, size_t cap)
{
    uint64_t dict = wk_field_u64(tb, len, LAY(w->L, TP_DICT));
    uint64_t value;
    if (!dict || !wk_dict_find_str(w, dict, "__module__", &value))
        return false;
    return wk_str_text(w, value, out, cap);
}

/* ---- names from the target's own modules ---- */

struct names_ctx {
    const char *prefix; /* "types." or "" */
};

static void name_entry(struct wk *w, void *vctx, uint32_t index, uint64_t key, uint64_t value,
                       uint64_t key_ahead)
{
    (void)key_ahead;
    (void)index;
    const struct names_ctx *c = vctx;
    uint64_t meta;
    char text[128], name[160];
    if (!wk_u64(w, value + LAY(w->L, OB_TYPE), &meta) || meta != w->t->sym[PY_SYM_TYPE_TYPE] ||
        !wk_str_text(w, key, text, sizeof text))
        return; /* only static and heap types whose metatype is type itself */
    snprintf(name, sizeof name, "%s%s", c->prefix, text);
    uint32_t id = wk_intern(w, name);
    uint32_t old = ph_addrmap_get(&w->type_names, value);
    if (old == PH_ADDRMAP_NONE) {
        ph_addrmap_put(&w->type_names, value, id);
        return;
    }
    /* heapy fills its map in sorted key order, types first, then builtins: the later wins. */
    const char *prev = ph_strtab_get(&w->g->names, old);
    bool prev_types = strncmp(prev, "types.", 6) == 0;
    if ((prev_types && !*c->prefix) || (prev_types == !!*c->prefix && strcmp(name, prev) > 0)) {
        for (size_t i = 0; i < w->type_names.cap; i++)
            if (w->type_names.keys[i] == value)
                w->type_names.vals[i] = id;
    }
}

void wk_names_init(struct wk *w, uint64_t builtins_dict, uint64_t modules_dict)
{
    struct names_ctx types_ctx = {"types."}, builtins_ctx = {""};
    uint64_t types_module, types_dict = 0;
    if (modules_dict && wk_dict_find_str(w, modules_dict, "types", &types_module))
        wk_u64(w, types_module + LAY(w->L, MODULE_DICT), &types_dict);
    uint64_t keys, values;
    if (types_dict && wk_u64(w, types_dict + LAY(w->L, DICT_KEYS), &keys) &&
        wk_u64(w, types_dict + LAY(w->L, DICT_VALUES), &values))
        wk_keys_iter(w, keys, values, name_entry, &types_ctx);
    if (builtins_dict && wk_u64(w, builtins_dict + LAY(w->L, DICT_KEYS), &keys) &&
        wk_u64(w, builtins_dict + LAY(w->L, DICT_VALUES), &values))
        wk_keys_iter(w, keys, values, name_entry, &builtins_ctx);
    ph_error_clear(w->err);
}
