/*
 * walk/internal.h: state shared by the files of the heap walk (walk.c: orchestration, GC lists
 * and roots; types.c: type analysis and kind names; decode.c: references and sizes per
 * built-in kind; known.c and cstruct.c: C types and module states known from tables; text.c:
 * str decoding and key reprs). Not part of the engine's API.
 *
 * Per type the walk keeps a struct wk_type, indexed like the graph's type records, holding
 * what decoding an instance needs: the built-in base ("kind") whose layout the instance starts
 * with, the sizes, the dict/weakref placement, the __slots__ members, and the words that nothing
 * explains (scanned conservatively).
 */
#ifndef PH_WALK_INTERNAL_H
#define PH_WALK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/heap/graph.h"
#include "lib/proc/mem.h"
#include "lib/walk/walk.h"
#include "symbols/target.h"

enum wk_kind {
    WK_OBJECT = 0, /* no built-in layout beyond PyObject (plain classes, unknown C types) */
    WK_INT, WK_BOOL, WK_FLOAT, WK_COMPLEX, WK_STR, WK_BYTES, WK_BYTEARRAY,
    WK_TUPLE, WK_LIST, WK_DICT, WK_SET, WK_FROZENSET, WK_TYPE, WK_MODULE,
    WK_FUNCTION, WK_CELL, WK_METHOD, WK_CFUNCTION, WK_CODE, WK_FRAME,
    WK_GEN, WK_CORO, WK_ASYNCGEN, WK_PROPERTY, WK_CLASSMETHOD, WK_STATICMETHOD,
    WK_WEAKREF, WK_DESCR, WK_EXCEPTION, WK_TRACEBACK, WK_DEQUE, WK_NONE,
    WK_KIND_COUNT
};

/* Memory a C type's own __sizeof__ adds to the default rule (basic size, items), for types
 * sized by that rule otherwise. */
enum wk_extra {
    WK_EXTRA_NONE = 0,
    WK_EXTRA_ODICT,        /* collections.OrderedDict: its fast-node index and list nodes */
    WK_EXTRA_BUFFERED,     /* _io buffered streams: buffer_size while the buffer exists */
    WK_EXTRA_STRUCT_CODES, /* _struct.Struct: its format codes, terminator included */
    WK_EXTRA_ARRAY,        /* array.array: allocated items times the item size */
    WK_EXTRA_NDARRAY,      /* numpy.ndarray: dimensions and strides, owned data */
    /* cstruct.c, from fields of the generated tables (wk_type.extra_off) */
    WK_EXTRA_ITER_POOLS,   /* itertools.product: an index per pool */
    WK_EXTRA_ITER_PERMUTE, /* itertools.permutations: an index per pool item, r cycles */
    WK_EXTRA_ITER_R,       /* itertools.combinations(_with_replacement): r indices */
    WK_EXTRA_PICKLER,      /* _pickle.Pickler: its memo table, its output buffer */
    WK_EXTRA_UNPICKLER,    /* _pickle.Unpickler: memo and mark arrays, the input line */
    WK_EXTRA_BYTESIO,      /* _io.BytesIO: its buffer while not shared */
    WK_EXTRA_SIMPLEQUEUE,  /* _queue.SimpleQueue (3.13+): its ring buffer of items */
};
#define WK_EXTRA_FIELDS 7

struct wk_slot {
    uint32_t offset; /* byte offset in the instance */
    uint32_t label;  /* PH_LABEL of the edge: an attribute (__slots__) or an internal field */
    int16_t deref;   /* -1, or: the word is a pointer to a C struct, the object is at +deref */
    int16_t cond;    /* -1, or: the field exists only when the byte at this offset is non-zero */
};

struct wk_type {
    uint64_t addr;
    uint64_t flags;          /* tp_flags */
    int64_t basicsize, itemsize, dictoffset, weaklistoffset;
    uint64_t cached_keys;    /* ht_cached_keys (heap types, 3.11+) */
    enum wk_kind kind;       /* built-in base whose layout instances start with */
    int64_t kind_basicsize;  /* basicsize of that built-in base */
    bool heap;
    bool gc;                 /* HAVE_GC */
    struct wk_slot *slots;   /* object fields of levels below the built-in base: __slots__
                                members, and the fields of known C layouts (known.c) */
    uint32_t nslots;
    uint32_t *scan;          /* word offsets nothing explains: scanned conservatively */
    uint32_t nscan;
    bool scan_items;         /* unknown var-sized C type with pointer-sized items */
    bool items_known;        /* a table (cstruct.c) says what the items are: not scanned */
    bool items_objects;      /* ... and they are object pointers: edges [i] */
    bool leaf;               /* exactly int, bool, float, complex, str, bytes or None: no
                                references, size from the header (sized when discovered) */
    enum wk_extra extra;     /* what a known C base's __sizeof__ adds (known.c) */
    int16_t extra_off[WK_EXTRA_FIELDS]; /* the fields that sizing reads (cstruct.c) */
    uint8_t np_elsize_width; /* a numpy.dtype class: width of the descriptor's elsize field, 4
                                (numpy 1.x, an int) or 8 (2.x, an npy_intp); else 0 */
};

/* A direct-mapped cache of texts by address (WK_TEXT_CACHE entries, a new entry replaces the
 * one in its place): names and keys met again and again (attribute names, small key sets) stay
 * in it, and the unique keys of one huge dict cost one probe of a small table each. */
#define WK_TEXT_CACHE 8192
struct wk_text_cache {
    uint64_t addr; /* 0 = empty */
    uint32_t id;
};

#define WK_TYPE_BLOCK 256

/* What changed between CPython minor versions that the decoders depend on, decided once per
 * walk from the minor (wk_versions_init, versions.c): a decoder tests the property it needs,
 * and teaching pyheap a new version means reading one table (symbols/NEW_VERSION.md). */
enum wk_managed_layout {
    WK_MANAGED_NONE = 0,  /* <= 3.10: no Py_TPFLAGS_MANAGED_DICT */
    WK_MANAGED_DICT_OR_VALUES, /* 3.11: obj-24 is the dict, else obj-32 the values */
    WK_MANAGED_TAGGED,    /* 3.12: obj-24 is the dict, or (tagged by bit 0) the values */
    WK_MANAGED_INLINE,    /* 3.13+: obj-24 is the dict; else values inline after the object */
};

struct wk_versions {
    bool frame_objects;         /* <= 3.10: a thread's frames are PyFrameObjects (f_back), with
                                   no _PyInterpreterFrame; generators own a frame object */
    bool int_one_digit_min;     /* 3.11+: an int allocates at least one digit (0 included) */
    bool code_units_inline;     /* 3.11+: the bytecode follows the code object's struct */
    bool thread_stack_saved;    /* 3.12+: a thread frame below the innermost has a valid saved
                                   stack pointer while it calls a Python function */
    bool static_type_no_presize;/* 3.13+: static type objects of PyType_Type have no pre-header */
    bool stackref_tags;         /* 3.14+: _PyStackRef: tag bits in the low two bits */
    bool frame_state_from_zero; /* 3.15+: enum _framestate numbers FRAME_CREATED.. from 0 */
    enum wk_managed_layout managed;
    bool managed_weakref;       /* 3.12+: Py_TPFLAGS_MANAGED_WEAKREF adds to the pre-header */
};

struct wk {
    struct ph_mem *mem;
    const struct py_target *t;
    const struct py_layout *L;
    struct ph_graph *g;
    struct ph_error *err;
    const struct ph_walk_options *opts;
    struct ph_walk_stats *stats;
    int minor;                   /* 8 .. 15 */
    struct wk_versions v;        /* what the minor means for decoding */
    uint64_t kind_addr[WK_KIND_COUNT]; /* exact type address of each built-in kind */
    uint64_t set_dummy;          /* the dummy key of sets */
    uint64_t none_type;          /* type(None), for the graph's builtin marks */
    struct ph_addrmap type_names; /* type address -> heapy name from builtins / types */
    uint64_t named_addr[4];      /* static types recognised by name (types.c) */
    /* Per-type records, parallel to g->types, in blocks of WK_TYPE_BLOCK that never move:
     * decoding an object keeps a pointer to its type's record while its references are
     * followed, and following one can discover (and add) new types. */
    struct wk_type **type_blocks;
    size_t n_type_blocks;
    struct wk_text_cache *name_cache; /* str address -> strtab id of its text (names) */
    uint32_t n_dunder_dict, n_dunder_class; /* frequent label names */
    uint64_t static_types;       /* 3.12+: interp->types.builtins, static types' dicts */
    struct wk_text_cache *key_cache;  /* key address -> strtab id of its repr */
    struct wk_obj *scratch;      /* the object being decoded (decode.c) */
    /* Classes' shared keys, read once per walk (dict.c: wk_keys_memo) */
    struct ph_addrmap keys_memo_index; /* keys address -> index in keys_memo */
    struct wk_keys_memo *keys_memo;
    size_t n_keys_memo, keys_memo_cap;
};

/* versions.c */
void wk_versions_init(struct wk_versions *v, int minor);

/* types.c */
/* Graph type index for the type at addr, analysing and naming it on first sight; PH_NONE when
 * addr is not a valid type object. */
uint32_t wk_type_index(struct wk *w, uint64_t addr);
const struct wk_type *wk_type_get(const struct wk *w, uint32_t type_index);
bool wk_kinds_init(struct wk *w);
/* Learn heapy's names for types from the target's builtins dict and its `types` module. */
void wk_names_init(struct wk *w, uint64_t builtins_dict, uint64_t modules_dict);
void wk_types_free(struct wk *w);

/* known.c */
/* If the level (a type on ti's tp_base chain) is a C
 * type whose layout pyheap knows for this version, mark every word of that layout in
 * `explained` (nwords long) and note what sizing it needs in ti. Returns true when the table
 * also named its object fields (added to ti's slots), so the level's tp_members need not be
 * read; false for an unknown level, or a known one whose references tp_members names. */
struct wk_level {
    const char *tp_name;
    int64_t basicsize; /* the level's tp_basicsize */
    int64_t itemsize;  /* the level's tp_itemsize */
    bool heap;         /* a heap type (Py_TPFLAGS_HEAPTYPE) */
};
bool wk_known_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                    uint8_t *explained, size_t nwords);
bool wk_add_slot(struct wk_type *ti, uint32_t offset, uint32_t label);
bool wk_add_cslot(struct wk_type *ti, uint32_t offset, uint32_t label, int16_t deref, int16_t cond);

/* cstruct.c */
/* If a generated table (cstruct_tables.c) describes the level (its tp_name and size, this
 * version), add its object fields that tp_members did not name to ti's slots, as ->field edges,
 * and mark every word of the level in `explained`. Called after the level's tp_members. */
bool wk_cstruct_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                      uint8_t *explained, size_t nwords);
/* Edges from the module object being decoded (graph index obj, its first len bytes b) to the
 * objects its C state (m_state) holds: named from a table when one describes the module's
 * state, else found by scanning every word of the state. */
void wk_module_state(struct wk *w, uint32_t obj, const uint8_t *b, size_t len);
/* What the C __sizeof__ of a cstruct.c extra kind adds, from the instance's first len bytes b;
 * references held in C arrays outside the instance (a pickler's memo) become edges of the
 * object being decoded. */
uint64_t wk_cstruct_extra(struct wk *w, const struct wk_type *ti, const uint8_t *b, size_t len);
/* What ti.extra adds to the size of an instance whose first len bytes are b; the references
 * held outside the instance's own words (the items of a numpy object array) become edges of
 * the object being decoded. */
uint64_t wk_known_instance(struct wk *w, const struct wk_type *ti, const uint8_t *b, size_t len);

/* decode.c */
/* Take a word of memory nothing explains (at `offset` in the memory of the object being
 * decoded, at self) as a reference if it is the address of a valid object: an edge labelled
 * PH_EDGE_CONSERVATIVE. */
void wk_scan_word(struct wk *w, uint64_t self, uint64_t word, uint32_t offset);
/* Edges to the n object pointers at addr, labelled kind with their index. False when the
 * array could not be read whole (the edges before the fault are kept). */
bool wk_pointer_array(struct wk *w, uint64_t addr, uint64_t n, enum ph_edge_kind kind);
/* Decode object i (edges and size). False only on a fatal error (w->err set); a bad object is
 * marked PH_OBJ_PARTIAL and decoding goes on. */
bool wk_decode(struct wk *w, uint32_t i);
/* Prefetch what decoding object i will read, `stage` (2 or 1) steps before its turn: its first
 * line, then the tables it points at (decode.c). Hints only, see WK_AHEAD. */
void wk_decode_ahead(struct wk *w, uint32_t i, int stage);
/* Size of an instance of a leaf type (wk_type.leaf) from a copy of its first hlen bytes. */
uint64_t wk_leaf_size(struct wk *w, const struct wk_type *t, uint64_t addr, const uint8_t *hdr,
                      size_t hlen);
/* Decode the references of an interpreter frame at addr into edges or roots. `root_prefix`
 * non-NULL makes them roots named prefix + label; else edges of the current object. */
bool wk_iframe_refs(struct wk *w, uint64_t iframe, bool innermost, const char *root_prefix);

/* dict.c: entries of a keys object; values from `values` (split) or the entries. key_ahead is
 * the key WK_AHEAD / 2 entries further in the table (0: none, or past the block read), for a
 * callback that starts work on it early. */
typedef void (*wk_entry_fn)(struct wk *w, void *ctx, uint32_t index, uint64_t key, uint64_t value,
                            uint64_t key_ahead);
bool wk_keys_iter(struct wk *w, uint64_t keys, uint64_t values, wk_entry_fn fn, void *ctx);
/* What one read of a keys object's header says (all 0 when it cannot be read). */
struct wk_keys_shape {
    uint64_t bytes;         /* sizeof the keys object (_PyDict_KeysSize) */
    uint64_t usable_values; /* the slots a split values array has */
    int64_t refcnt;
    uint64_t entries;       /* entries, when their table lies in readable memory; else 0 */
};
struct wk_keys_shape wk_keys_shape(struct wk *w, uint64_t keys);
bool wk_dict_find_str(struct wk *w, uint64_t dict, const char *key, uint64_t *value);
/* Address of the values array given a ma_values / values pointer. */
uint64_t wk_values_array(const struct wk *w, uint64_t values);

/* The shared keys of a class's instances (ht_cached_keys, 3.11+), read once per walk instead of
 * once per instance: a million instances read the same keys object a million times (measured:
 * a fifth of decoding an instance). Only for a stopped target or a copy, whose memory does not
 * change during the walk; NULL while running (read each time, as before), for more than
 * WK_MEMO_KEYS entries, or out of memory. Attribute names are made when first needed, in the
 * order the instances need them, as without the memo. */
#define WK_MEMO_KEYS 32
struct wk_keys_memo {
    bool ok;              /* the keys object and its entries were read */
    uint32_t n;           /* entries */
    uint32_t named;       /* bit i: name[i] is made */
    uint64_t usable;      /* wk_keys_shape's usable_values */
    uint64_t key[WK_MEMO_KEYS];
    uint32_t name[WK_MEMO_KEYS]; /* wk_str_name of key[i] (PH_NONE: not a readable str) */
};
struct wk_keys_memo *wk_keys_memo(struct wk *w, uint64_t keys);
void wk_keys_memo_free(struct wk *w);

/* walk.c */
/* Object index for a referenced address, validating and adding it if new; PH_NONE if not a
 * valid object (counted as a bad pointer). */
uint32_t wk_object(struct wk *w, uint64_t addr);
/* Add an edge from the object being decoded to the object at addr (validated). */
void wk_edge(struct wk *w, uint64_t addr, uint32_t label);
/* Add a root: the object at addr, named. */
void wk_root(struct wk *w, uint64_t addr, const char *name);
/* Decoding waits on memory: the objects a table refers to lie anywhere in the copy, and so do
 * their slots in the address index. Loops over references start loading the copy's line of the
 * reference WK_AHEAD places ahead, and its index slot, so several loads are in flight while
 * one is handled (measured at 1M objects: 8-10% of the whole attach; a distance of 8 covers
 * the ~100 ns of a load with the ~15 ns each reference takes). Nothing but timing changes: a
 * prefetch reads nothing and faults on nothing. */
#define WK_AHEAD 8
static inline void wk_prefetch(const struct wk *w, uint64_t addr)
{
    ph_mem_prefetch(w->mem, addr);
    ph_graph_prefetch(w->g, addr);
}
bool wk_read(struct wk *w, uint64_t addr, void *buf, size_t len);
bool wk_u64(struct wk *w, uint64_t addr, uint64_t *out);
uint32_t wk_intern(struct wk *w, const char *s);

/* text.c */
bool wk_text_caches_init(struct wk *w);
void wk_text_caches_free(struct wk *w);
/* Text of the str at addr, escaped for terminals, as a strtab id (cached by address); PH_NONE
 * when not a str. */
uint32_t wk_str_name(struct wk *w, uint64_t addr);
/* Escaped text of a str into buf (cut to cap with "..."). False if not a readable str. */
bool wk_str_text(struct wk *w, uint64_t addr, char *buf, size_t cap);
/* A short Python-like repr of a name (module __name__, function __qualname__): 'os'. */
uint32_t wk_key_repr(struct wk *w, uint64_t addr);
/* The same in two steps: begin computes the text and starts loading the string table's slot for
 * it, end interns it; work in between hides the cache miss (millions of distinct keys). */
struct wk_repr {
    uint64_t addr;
    uint32_t id;   /* known at begin (cached), else PH_NONE */
    uint32_t hash;
    size_t len;
    char text[320];
};
void wk_key_repr_begin(struct wk *w, uint64_t addr, struct wk_repr *r);
/* begin's cases that change nothing but r (a key whose repr is cached, or a plain short str):
 * true with r ready for end; else false, and begin must run in the key's turn (it may meet a
 * type for the first time, and types are numbered in the order they are met). */
bool wk_key_repr_ahead(struct wk *w, uint64_t addr, struct wk_repr *r);
uint32_t wk_key_repr_end(struct wk *w, struct wk_repr *r);
/* sys.getsizeof of a str from its header. */
uint64_t wk_str_size(struct wk *w, uint64_t addr, const uint8_t *hdr, size_t hdrlen);

/* Field access on a copied object: bounds-checked reads of a local buffer. */
static inline uint64_t wk_field_u64(const uint8_t *buf, size_t len, int64_t off)
{
    if (off < 0 || (uint64_t)off + 8 > len)
        return 0;
    uint64_t v;
    __builtin_memcpy(&v, buf + off, 8);
    return v;
}

#endif
