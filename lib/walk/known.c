/*
 * known.c: C types whose instance layout pyheap knows from tables, and what their own
 * __sizeof__ adds to the default size rule:
 *   - asyncio's Future and Task: object fields named (their getsets' names where Python has
 *     one: `._coro`, `._result`; else the C field, `->task_callback0`);
 *   - functools' lru_cache wrapper: `->cache`, `->func`;
 *   - collections.OrderedDict (+ its fast-node index and list nodes; recognised in
 *     types.c by its base, PyODict_Type), _io's buffered streams (+ buffer_size while
 *     open), _struct.Struct (+ its format codes),
 *     array.array (+ its allocation), numpy.ndarray (+ dimensions, strides, owned data; the
 *     items of object arrays become edges).
 *
 * These structs live in extension modules (_asyncio, _struct, array, numpy) whose debug info is
 * not where the interpreter's is, or in the interpreter itself (_io, _functools: offsets from
 * DWARF or the built-in tables, PF_BUFFERED_*, PF_LRU_*). Their fields matter to the operator: a
 * leak through a Task's coroutine should read `._coro`, not `.??`. Table offsets were read with
 * `ptype /o` on the pyenv builds 3.8 to 3.13 and on Debian's 3.11, 3.13, 3.14 and 3.15 debug
 * files (numpy's from its headers, 1.24 and 2.4). A table applies only when the level's tp_name
 * and tp_basicsize both match it: any other build (a patch release that changed the struct, a
 * Py_DEBUG build) falls back to the conservative scan and the default size, never to wrong
 * names.
 *
 * Edges are named like heapy's relations: a field Python exposes as an attribute as `.name`;
 * the others by their C field (`->name`).
 */
#include "lib/walk/internal.h"

#include <stdio.h>
#include <string.h>

struct known_field {
    uint16_t offset;
    const char *attr;  /* the Python attribute reading this field, or NULL */
    const char *field; /* the C field's name after its "fut_"/"task_" prefix */
};

struct asyncio_layout {
    int minor_lo, minor_hi;
    int64_t future_size, task_size;   /* tp_basicsize of _asyncio.Future and _asyncio.Task */
    const struct known_field *head;   /* FutureObj_HEAD: Future's fields, Task's first ones */
    const struct known_field *task;   /* the fields TaskObj adds */
};

#define END {0, NULL, NULL}

/* 3.8: no cancel message yet. */
static const struct known_field head38[] = {
    {16, "_loop", "loop"}, {24, NULL, "callback0"}, {32, NULL, "context0"},
    {40, NULL, "callbacks"}, {48, "_exception", "exception"}, {56, "_result", "result"},
    {64, "_source_traceback", "source_tb"}, END};
static const struct known_field task38[] = {
    {104, "_fut_waiter", "fut_waiter"}, {112, "_coro", "coro"}, {120, NULL, "name"},
    {128, NULL, "context"}, END};

/* 3.9: cancel message; the exception state saved on cancel (_PyErr_StackItem: three objects,
 * then a pointer to another stack item, which is not an object). */
static const struct known_field head39[] = {
    {16, "_loop", "loop"}, {24, NULL, "callback0"}, {32, NULL, "context0"},
    {40, NULL, "callbacks"}, {48, "_exception", "exception"}, {56, "_result", "result"},
    {64, "_source_traceback", "source_tb"}, {72, "_cancel_message", "cancel_msg"},
    {112, NULL, "cancelled_exc_state.exc_type"}, {120, NULL, "cancelled_exc_state.exc_value"},
    {128, NULL, "cancelled_exc_state.exc_traceback"}, END};
static const struct known_field task39[] = {
    {144, "_fut_waiter", "fut_waiter"}, {152, "_coro", "coro"}, {160, NULL, "name"},
    {168, NULL, "context"}, END};

/* 3.10: the exception's traceback kept beside it. */
static const struct known_field head310[] = {
    {16, "_loop", "loop"}, {24, NULL, "callback0"}, {32, NULL, "context0"},
    {40, NULL, "callbacks"}, {48, "_exception", "exception"}, {56, NULL, "exception_tb"},
    {64, "_result", "result"}, {72, "_source_traceback", "source_tb"},
    {80, "_cancel_message", "cancel_msg"}, {120, NULL, "cancelled_exc_state.exc_type"},
    {128, NULL, "cancelled_exc_state.exc_value"},
    {136, NULL, "cancelled_exc_state.exc_traceback"}, END};
static const struct known_field task310[] = {
    {152, "_fut_waiter", "fut_waiter"}, {160, "_coro", "coro"}, {168, NULL, "name"},
    {176, NULL, "context"}, END};

/* 3.11 and 3.12: the cancelled exception itself instead of an exception state. */
static const struct known_field head311[] = {
    {16, "_loop", "loop"}, {24, NULL, "callback0"}, {32, NULL, "context0"},
    {40, NULL, "callbacks"}, {48, "_exception", "exception"}, {56, NULL, "exception_tb"},
    {64, "_result", "result"}, {72, "_source_traceback", "source_tb"},
    {80, "_cancel_message", "cancel_msg"}, {120, NULL, "cancelled_exc"}, END};
static const struct known_field task311[] = {
    {128, "_fut_waiter", "fut_waiter"}, {136, "_coro", "coro"}, {144, NULL, "name"},
    {152, NULL, "context"}, END};

/* 3.13: managed __dict__ and weakrefs, so no dict or weakref list in the struct. */
static const struct known_field head313[] = {
    {16, "_loop", "loop"}, {24, NULL, "callback0"}, {32, NULL, "context0"},
    {40, NULL, "callbacks"}, {48, "_exception", "exception"}, {56, NULL, "exception_tb"},
    {64, "_result", "result"}, {72, "_source_traceback", "source_tb"},
    {80, "_cancel_message", "cancel_msg"}, {88, NULL, "cancelled_exc"}, END};
static const struct known_field task313[] = {
    {112, "_fut_waiter", "fut_waiter"}, {120, "_coro", "coro"}, {128, NULL, "name"},
    {136, NULL, "context"}, END};

/* 3.14 and 3.15: who awaits the future (one future, or a set of them, for the call-graph
 * introspection); Python's _asyncio_awaited_by builds a new frozenset from it, so the field keeps
 * its C name. The Task's tail ends with a list node linking it to the thread's tasks: two
 * pointers into other tasks' interiors, not objects. */
static const struct known_field head314[] = {
    {16, "_loop", "loop"}, {24, NULL, "callback0"}, {32, NULL, "context0"},
    {40, NULL, "callbacks"}, {48, "_exception", "exception"}, {56, NULL, "exception_tb"},
    {64, "_result", "result"}, {72, "_source_traceback", "source_tb"},
    {80, "_cancel_message", "cancel_msg"}, {88, NULL, "cancelled_exc"},
    {96, NULL, "awaited_by"}, END};
static const struct known_field task314[] = {
    {120, "_fut_waiter", "fut_waiter"}, {128, "_coro", "coro"}, {136, NULL, "name"},
    {144, NULL, "context"}, END};

static const struct asyncio_layout asyncio_layouts[] = {
    {8, 8, 104, 144, head38, task38},
    {9, 9, 144, 184, head39, task39},
    {10, 10, 152, 192, head310, task310},
    {11, 12, 128, 176, head311, task311},
    {13, 13, 104, 144, head313, task313},
    {14, 15, 112, 168, head314, task314},
};

static void add_fields(struct wk *w, struct wk_type *ti, const struct known_field *f,
                       const char *prefix)
{
    for (; f->field; f++) {
        if ((int64_t)f->offset + 8 > ti->basicsize)
            continue;
        uint32_t label;
        if (f->attr) {
            label = PH_LABEL(PH_EDGE_ATTR, wk_intern(w, f->attr));
        } else {
            char name[64];
            snprintf(name, sizeof name, "%s%s", prefix, f->field);
            label = PH_LABEL(PH_EDGE_INTERNAL, wk_intern(w, name));
        }
        wk_add_slot(ti, f->offset, label);
    }
}

static void explain_words(uint8_t *explained, size_t nwords, int64_t basicsize)
{
    for (size_t word = 2; word < nwords && (int64_t)word * 8 < basicsize; word++)
        explained[word] = 1;
}

static bool asyncio_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                          uint8_t *explained, size_t nwords)
{
    bool future = strcmp(level->tp_name, "_asyncio.Future") == 0;
    bool task = strcmp(level->tp_name, "_asyncio.Task") == 0;
    if (!future && !task)
        return false;
    for (size_t i = 0; i < sizeof asyncio_layouts / sizeof asyncio_layouts[0]; i++) {
        const struct asyncio_layout *a = &asyncio_layouts[i];
        if (w->minor < a->minor_lo || w->minor > a->minor_hi ||
            level->basicsize != (task ? a->task_size : a->future_size))
            continue;
        const char *prefix = task ? "task_" : "fut_";
        add_fields(w, ti, a->head, prefix);
        if (task)
            add_fields(w, ti, a->task, prefix);
        /* Every word of the struct is a field named above or data (state, flags, the
         * dict and weakref list handled by the generic code): none is left to the scan. */
        explain_words(explained, nwords, level->basicsize);
        return true;
    }
    return false;
}

/* _io.BufferedReader, BufferedWriter and BufferedRandom share one struct (`buffered`, from the
 * interpreter's DWARF or tables: the same 152 bytes on 3.8 to 3.15). Its only object fields are
 * `raw` and the dict, which tp_members and tp_dictoffset name; the rest (the buffer pointer,
 * positions, a lock, the owning thread) is data, not references, so nothing is left to the
 * conservative scan. */
static bool buffered_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                           uint8_t *explained, size_t nwords)
{
    static const char *const names[] = {"_io.BufferedReader", "_io.BufferedWriter",
                                        "_io.BufferedRandom"};
    const struct py_layout *L = w->L;
    if (!LAY_HAS(L, BUFFERED_SIZE) || !LAY_HAS(L, BUFFERED_BUFFER) ||
        !LAY_HAS(L, BUFFERED_BUFFER_SIZE) || level->basicsize != LAY(L, BUFFERED_SIZE))
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(level->tp_name, names[i]) == 0) {
            explain_words(explained, nwords, level->basicsize);
            ti->extra = WK_EXTRA_BUFFERED;
            return true;
        }
    }
    return false;
}

/* _struct.Struct (PyStructObject, the same on 3.8 to 3.14; 3.15 adds a flag byte): s_size,
 * s_len, the s_codes array (not an object), the format as a bytes object (the `format`
 * attribute decodes it into a new str, so the field keeps its C name), the weakref list. */
#define STRUCT_CODES 32
#define STRUCT_FORMAT 40
#define STRUCT_LEN 24
#define FORMATCODE_SIZE 32 /* fmtdef, offset, size, repeat */

static bool struct_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                         uint8_t *explained, size_t nwords)
{
    /* 3.8's static type is named plain "Struct", as a Python class could be: static only. */
    bool named = strcmp(level->tp_name, "_struct.Struct") == 0 ||
                 (strcmp(level->tp_name, "Struct") == 0 && !level->heap);
    if (!named || level->basicsize != (w->minor >= 15 ? 64 : 56))
        return false;
    wk_add_slot(ti, STRUCT_FORMAT, PH_LABEL(PH_EDGE_INTERNAL, wk_intern(w, "s_format")));
    explain_words(explained, nwords, level->basicsize);
    ti->extra = WK_EXTRA_STRUCT_CODES;
    return true;
}

/* array.array (arrayobject, 64 bytes on 3.8 to 3.15): a var-object header, the item buffer
 * (not an object), its allocated length, a pointer to the static descriptor of the type code,
 * the weakref list and an export count: no references but the weakref list, which the
 * generic code handles. */
#define ARRAY_SIZE 64
#define ARRAY_ALLOCATED 32
#define ARRAY_DESCR 40
#define ARRAYDESCR_ITEMSIZE 4 /* after the type code (char, or char[3] from 3.15) */

static bool array_level(struct wk_type *ti, const struct wk_level *level, uint8_t *explained,
                        size_t nwords)
{
    if (strcmp(level->tp_name, "array.array") != 0 || level->basicsize != ARRAY_SIZE)
        return false;
    explain_words(explained, nwords, level->basicsize);
    ti->extra = WK_EXTRA_ARRAY;
    return true;
}

/* numpy.ndarray (PyArrayObject_fields, 96 bytes from numpy 1.22 to 2.x; older ones, without
 * mem_handler, fall back to the scan): data, nd, dimensions, strides, base, descr, flags, the
 * weakref list, a private buffer-info pointer and the allocator capsule. `base` and `dtype`
 * read the two object fields as they are. */
#define ND_SIZE 96
#define ND_DATA 16
#define ND_NDIM 24
#define ND_DIMS 32
#define ND_BASE 48
#define ND_DESCR 56
#define ND_FLAGS 64
#define ND_MEM_HANDLER 88
#define NPY_ARRAY_OWNDATA 0x4
#define NPY_MAXDIMS_ANY 64 /* 32 in numpy 1.x, 64 in 2.x */
#define NPY_OBJECT 17      /* type_num of dtype('O') */
/* PyArray_Descr: type_num after the type object and four chars; then elsize, an int in numpy
 * 1.x, an npy_intp after a 64-bit flags word in 2.x. np.dtype's own size tells them apart. */
#define DESCR_TYPE_NUM 28
#define DESCR_ELSIZE_1X 32
#define DESCR_ELSIZE_2X 40
#define DESCR_SIZE_1X 96
#define DESCR_SIZE_2X 88

static bool numpy_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                        uint8_t *explained, size_t nwords)
{
    if (level->heap)
        return false;
    if (strcmp(level->tp_name, "numpy.dtype") == 0) {
        ti->np_elsize_width = level->basicsize == DESCR_SIZE_1X   ? 4
                              : level->basicsize == DESCR_SIZE_2X ? 8
                                                                  : 0;
        return false; /* the descriptor's own fields are left to the scan */
    }
    if (strcmp(level->tp_name, "numpy.ndarray") != 0 || level->basicsize != ND_SIZE)
        return false;
    wk_add_slot(ti, ND_BASE, PH_LABEL(PH_EDGE_ATTR, wk_intern(w, "base")));
    wk_add_slot(ti, ND_DESCR, PH_LABEL(PH_EDGE_ATTR, wk_intern(w, "dtype")));
    wk_add_slot(ti, ND_MEM_HANDLER, PH_LABEL(PH_EDGE_INTERNAL, wk_intern(w, "mem_handler")));
    explain_words(explained, nwords, level->basicsize);
    ti->extra = WK_EXTRA_NDARRAY;
    return true;
}

/* functools._lru_cache_wrapper (lru_cache_object, from the interpreter's DWARF or tables): it
 * starts with the root of its linked list, whose neighbours are the cache's links (also the
 * cache dict's values, so not followed twice), then the wrapper function pointer and counters.
 * The cache dict is where an unbounded cache keeps everything it was ever called with. */
static bool lru_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                      uint8_t *explained, size_t nwords)
{
    static const struct {
        enum py_field field;
        const char *name;
    } fields[] = {
        {PF_LRU_CACHE, "cache"}, {PF_LRU_FUNC, "func"}, {PF_LRU_KWD_MARK, "kwd_mark"},
        {PF_LRU_ELEM_TYPE, "lru_list_elem_type"}, {PF_LRU_CACHE_INFO_TYPE, "cache_info_type"},
    };
    const struct py_layout *L = w->L;
    if (strcmp(level->tp_name, "functools._lru_cache_wrapper") != 0 || !LAY_HAS(L, LRU_SIZE) ||
        !LAY_HAS(L, LRU_CACHE) || level->basicsize != LAY(L, LRU_SIZE))
        return false;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        int64_t off = L->v[fields[i].field];
        if (off >= 16 && off + 8 <= level->basicsize)
            wk_add_slot(ti, (uint32_t)off,
                        PH_LABEL(PH_EDGE_INTERNAL, wk_intern(w, fields[i].name)));
    }
    explain_words(explained, nwords, level->basicsize);
    return true;
}

bool wk_known_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                    uint8_t *explained, size_t nwords)
{
    if (lru_level(w, ti, level, explained, nwords))
        return true;
    if (numpy_level(w, ti, level, explained, nwords))
        return true;
    if (array_level(ti, level, explained, nwords))
        return true;
    if (buffered_level(w, ti, level, explained, nwords))
        return false; /* tp_members names `raw` */
    if (struct_level(w, ti, level, explained, nwords))
        return true;
    return asyncio_level(w, ti, level, explained, nwords);
}

/* Largest buffer an _io stream is believed to hold (its buffer_size is a Py_ssize_t): a larger
 * one is hostile or torn, and the default rule stands. */
#define MAX_BUFFER_BYTES (1ll << 40)
/* Most items a numpy array is believed to hold (bounds the product of its dimensions). */
#define MAX_ND_ITEMS (1ull << 40)
/* Most items of an object array followed (as many as a list may hold). */
#define MAX_OBJECT_ITEMS (1ull << 28)
/* Format codes read per step while looking for the terminator. */
#define CODES_PER_READ 64

/* OrderedDict.__sizeof__ adds to the dict's the fast-node index (a pointer a slot) and, unless
 * empty, one linked-list node an item (Objects/odictobject.c, 3.8 to 3.15). */
static uint64_t odict_extra(struct wk *w, const uint8_t *b, size_t len)
{
    const struct py_layout *L = w->L;
    if (!LAY_HAS(L, ODICT_FAST_NODES_SIZE) || !LAY_HAS(L, ODICT_FIRST) ||
        !LAY_HAS(L, ODICT_NODE_SIZE))
        return 0;
    uint64_t fast = wk_field_u64(b, len, LAY(L, ODICT_FAST_NODES_SIZE));
    uint64_t used = wk_field_u64(b, len, LAY(L, DICT_USED));
    if (fast > MAX_OBJECT_ITEMS || used > MAX_OBJECT_ITEMS)
        return 0;
    uint64_t nodes = wk_field_u64(b, len, LAY(L, ODICT_FIRST)) ? used : 0;
    return 8 * fast + (uint64_t)LAY(L, ODICT_NODE_SIZE) * nodes;
}

/* Buffered streams add buffer_size while the buffer exists (it is freed on close). */
static uint64_t buffered_extra(struct wk *w, const uint8_t *b, size_t len)
{
    const struct py_layout *L = w->L;
    int64_t buffer_size = (int64_t)wk_field_u64(b, len, LAY(L, BUFFERED_BUFFER_SIZE));
    if (!wk_field_u64(b, len, LAY(L, BUFFERED_BUFFER)) || buffer_size <= 0 ||
        buffer_size > MAX_BUFFER_BYTES)
        return 0;
    return (uint64_t)buffer_size;
}

/* Struct.__sizeof__ counts every format code up to and including the one whose fmtdef is NULL.
 * There are at most s_len codes before it (a code covers one item or more; padding has none),
 * which bounds the search: a Struct whose terminator is not found there adds only its own. */
static uint64_t struct_codes_extra(struct wk *w, const uint8_t *b, size_t len)
{
    uint64_t codes = wk_field_u64(b, len, STRUCT_CODES);
    uint64_t items = wk_field_u64(b, len, STRUCT_LEN);
    if (!codes || items > (1u << 28))
        return FORMATCODE_SIZE;
    uint64_t chunk[CODES_PER_READ * FORMATCODE_SIZE / 8];
    for (uint64_t done = 0; done <= items; done += CODES_PER_READ) {
        uint64_t n = items + 1 - done < CODES_PER_READ ? items + 1 - done : CODES_PER_READ;
        if (!wk_read(w, codes + done * FORMATCODE_SIZE, chunk, n * FORMATCODE_SIZE))
            return FORMATCODE_SIZE;
        for (uint64_t k = 0; k < n; k++)
            if (chunk[k * FORMATCODE_SIZE / 8] == 0)
                return (done + k + 1) * FORMATCODE_SIZE;
    }
    return FORMATCODE_SIZE;
}

/* array.__sizeof__ adds allocated * itemsize. Item sizes are 1 to 8 (type codes b to d, u,
 * w); anything else, or an allocation beyond any real one, is hostile or torn. */
static uint64_t array_extra(struct wk *w, const uint8_t *b, size_t len)
{
    uint64_t allocated = wk_field_u64(b, len, ARRAY_ALLOCATED);
    uint64_t descr = wk_field_u64(b, len, ARRAY_DESCR);
    int32_t itemsize = 0;
    if (!descr || !wk_read(w, descr + ARRAYDESCR_ITEMSIZE, &itemsize, sizeof itemsize) ||
        itemsize < 1 || itemsize > 8 || allocated > (uint64_t)MAX_BUFFER_BYTES / 8)
        return 0;
    return allocated * (uint64_t)itemsize;
}

static int32_t field_i32(const uint8_t *b, size_t len, size_t off)
{
    int32_t v = 0;
    if (off + sizeof v <= len)
        memcpy(&v, b + off, sizeof v);
    return v;
}

/* Item size and type number of a numpy descriptor, from its class's layout. */
static bool descr_elsize(struct wk *w, uint64_t descr, int64_t *elsize, int32_t *type_num)
{
    uint8_t d[48];
    if (!descr || !wk_read(w, descr, d, sizeof d))
        return false;
    uint32_t ti = wk_type_index(w, wk_field_u64(d, sizeof d, 8));
    if (ti == PH_NONE)
        return false;
    uint8_t width = wk_type_get(w, ti)->np_elsize_width;
    if (width == 4)
        *elsize = field_i32(d, sizeof d, DESCR_ELSIZE_1X);
    else if (width == 8)
        *elsize = (int64_t)wk_field_u64(d, sizeof d, DESCR_ELSIZE_2X);
    else
        return false;
    *type_num = field_i32(d, sizeof d, DESCR_TYPE_NUM);
    return *elsize >= 0 && *elsize <= INT32_MAX;
}

/* ndarray.__sizeof__: basic size, a dimension and a stride per axis, and the data when the
 * array owns it (elsize times the product of the dimensions). An array of objects owning its
 * data holds a reference per item: the items become edges, labelled by their index in memory
 * order. Nothing else sees them (the gc does not: ndarray has no tp_traverse). */
static uint64_t ndarray_extra(struct wk *w, const uint8_t *b, size_t len)
{
    int32_t nd = field_i32(b, len, ND_NDIM);
    if (nd < 0 || nd > NPY_MAXDIMS_ANY)
        return 0;
    uint64_t extra = 16 * (uint64_t)nd;
    int64_t elsize;
    int32_t type_num;
    uint64_t dims[NPY_MAXDIMS_ANY];
    if (!((uint32_t)field_i32(b, len, ND_FLAGS) & NPY_ARRAY_OWNDATA) ||
        !descr_elsize(w, wk_field_u64(b, len, ND_DESCR), &elsize, &type_num) ||
        (nd && !wk_read(w, wk_field_u64(b, len, ND_DIMS), dims, (size_t)nd * 8)))
        return extra;
    uint64_t count = 1;
    for (int32_t i = 0; i < nd; i++) {
        if (dims[i] > MAX_ND_ITEMS || (dims[i] && count > MAX_ND_ITEMS / dims[i]))
            return extra;
        count *= dims[i];
    }
    if ((uint64_t)elsize && count > (uint64_t)MAX_BUFFER_BYTES / (uint64_t)elsize)
        return extra;
    uint64_t data = wk_field_u64(b, len, ND_DATA);
    if (type_num == NPY_OBJECT && elsize == 8 && data && count <= MAX_OBJECT_ITEMS)
        wk_pointer_array(w, data, count, PH_EDGE_INDEX);
    return extra + count * (uint64_t)elsize;
}

uint64_t wk_known_instance(struct wk *w, const struct wk_type *ti, const uint8_t *b, size_t len)
{
    switch (ti->extra) {
    case WK_EXTRA_ODICT: return odict_extra(w, b, len);
    case WK_EXTRA_BUFFERED: return buffered_extra(w, b, len);
    case WK_EXTRA_STRUCT_CODES: return struct_codes_extra(w, b, len);
    case WK_EXTRA_ARRAY: return array_extra(w, b, len);
    case WK_EXTRA_NDARRAY: return ndarray_extra(w, b, len);
    case WK_EXTRA_NONE: break;
    default: return wk_cstruct_extra(w, ti, b, len);
    }
    return 0;
}
