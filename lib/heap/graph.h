/*
 * graph.h: the object graph of one heap, in flat arrays, and what it knows about where it came
 * from.
 *
 * Objects are numbered 0..n-1 in discovery order (GC lists first, then what decoding finds).
 * Edges are in CSR form: the references of object i are edge_dst[edge_start[i] ..
 * edge_start[i+1]), each with a 32-bit label (edge kind in the top 4 bits, a string id or an
 * index below). The walk decodes objects in index order, so edges are appended contiguously.
 * Strings (names, labels, type names) are interned in `names`. Every array is owned by the
 * graph; ph_graph_free releases all.
 *
 * The graph is self-describing: views need nothing else. Type records say which types are the
 * built-in ones views treat specially (dict, module, ...), and `meta` holds a summary of the
 * target and the walk (Python version and build, pid, host, time, statistics). Whether it was
 * walked in a live process or read back from a snapshot file makes no difference downstream.
 */
#ifndef PH_GRAPH_H
#define PH_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addrmap.h"
#include "lib/bigmem.h"
#include "lib/heap/strtab.h"

#define PH_NONE UINT32_MAX

enum ph_obj_flag {
    PH_OBJ_TRACKED = 1,      /* found on a GC generation list */
    PH_OBJ_FROZEN = 2,       /* on the permanent generation (gc.freeze()) */
    PH_OBJ_ROOT = 4,         /* referenced directly by the interpreter or a thread */
    PH_OBJ_REACHABLE = 8,    /* reachable from the roots */
    PH_OBJ_PARTIAL = 16,     /* could not be decoded fully (bad pointer, unreadable) */
    PH_OBJ_CONSERVATIVE = 32 /* unknown type: references found by scanning its memory */
};

/* Edge kinds: how a referrer holds a referent; rendered as heapy's byvia / path steps. */
enum ph_edge_kind {
    PH_EDGE_FIELD = 0,     /* named internal field: payload = name id ("__dict__", "__self__") */
    PH_EDGE_ATTR = 1,      /* attribute through __dict__ or a slot: payload = name id */
    PH_EDGE_DICT_VALUE = 2,/* payload = id of the key's repr ("'name'", "3", "('a', 1)") */
    PH_EDGE_DICT_KEY = 3,  /* payload = entry index: .keys()[i] */
    PH_EDGE_INDEX = 4,     /* list/tuple/deque item: payload = index */
    PH_EDGE_SET_MEMBER = 5,/* payload = position in table order: list(s)[i] */
    PH_EDGE_LOCAL = 6,     /* frame local or cell: payload = name id: .f_locals['x'] */
    PH_EDGE_STACK = 7,     /* frame value stack slot: payload = index */
    PH_EDGE_CONSERVATIVE = 8, /* found by scanning an unknown object: payload = byte offset */
    PH_EDGE_INTERNAL = 9,  /* a C field Python has no attribute for: payload = name id
                              ("->fut_callback0"), heapy's R_INTERATTR */
    PH_EDGE_KIND_COUNT
};

#define PH_LABEL(kind, payload) (((uint32_t)(kind) << 28) | ((uint32_t)(payload) & 0x0fffffffu))
#define PH_LABEL_KIND(l) ((enum ph_edge_kind)((l) >> 28))
#define PH_LABEL_PAYLOAD(l) ((l) & 0x0fffffffu)

struct ph_root {
    uint32_t obj;     /* object index */
    uint32_t name;    /* strtab id, e.g. "i0_modules", "i0_t4242_f0.f_locals['x']" */
};

/* The built-in types views treat specially: heapy renders and groups them its own way. A type
 * record is marked only for the exact type, never a subclass. */
enum ph_builtin {
    PH_BUILTIN_NONE = 0, /* any other type */
    PH_BUILTIN_DICT,     /* clodo splits dicts by owner */
    PH_BUILTIN_MODULE,   /* bymodule rows; byid names */
    PH_BUILTIN_LIST,
    PH_BUILTIN_TUPLE,
    PH_BUILTIN_FUNCTION,
    PH_BUILTIN_METHOD,   /* bound method: byid renders <Class at 0x...>.name */
    PH_BUILTIN_TYPE,
    PH_BUILTIN_NONETYPE, /* None's type */
    PH_BUILTIN_COUNT
};

struct ph_type_rec {
    uint64_t addr;    /* the type object's address */
    uint32_t name;    /* strtab id of the heapy-style kind name ("str", "__main__.Node") */
    uint32_t module;  /* strtab id of the module name ("builtins", "__main__") */
    uint8_t builtin;  /* enum ph_builtin */
};

/* What the walk counted, and what the source measured around it. */
struct ph_walk_stats {
    uint64_t gc_listed;        /* objects found on GC lists */
    uint64_t frozen;           /* of which on the permanent generation */
    uint64_t roots;
    uint64_t partial;          /* objects that could not be decoded fully */
    uint64_t bad_pointers;     /* references that did not point at a valid object */
    uint64_t conservative_objects, conservative_edges;
    uint64_t reachable;
    int interpreters, threads;
    bool gc_collecting;        /* a collection was running (frozen: the walk stopped there) */
    uint64_t gc_read_through;  /* GC lists read past a half-linked node (lib/walk/gclist.c) */
    uint64_t gc_cut;           /* --no-freeze: GC lists cut where they changed while read */
    uint64_t gc_off_list;      /* --no-freeze: tracked objects found through references only */
    bool gc_changing;          /* the walk stopped at a GC list (or the thread list) that
                                  was being changed ... */
    uint64_t gc_break;         /* ... at this node (the same one each time: it is corrupt) */
    /* Filled by the source (lib/source): how the heap was read. */
    int freezes;               /* freeze attempts the walk took */
    int retries;               /* walks repeated: a collection or a list change was seen */
    double frozen_ms, walk_ms; /* how long the target was stopped; the whole walk */
    bool copied;               /* --copy: the walk read a copy taken while frozen */
    uint64_t copied_bytes;
    bool provisional_layout;   /* the walk began with the fast sources' layout while DWARF was
                                  read (lib/source/live.c) ... */
    int layout_rewalks;        /* ... and was made again: the final layout differed */
};

#define PH_META_TEXT 256
#define PH_META_LINES 12

/* A summary of the target and the walk, kept with the graph (and in snapshot files). Every text
 * is escaped for terminals before it is stored. */
struct ph_heap_meta {
    int64_t pid, nspid;            /* 0 when unknown */
    int64_t time;                  /* when the heap was read, seconds since the epoch (UTC) */
    char host[PH_META_TEXT];
    char exe[PH_META_TEXT * 4];
    char pyheap_version[32];
    uint32_t version_hex;          /* PY_VERSION_HEX of the target */
    char version_source[32];
    bool shared, pie, debug_build, free_threaded;
    char build_id[81];
    int nlayout;                   /* the layout sources tried, one line each */
    char layout[PH_META_LINES][PH_META_TEXT];
    struct ph_walk_stats stats;
};

/* The address index, two levels: the 4 KiB page of an address, then the objects in that page.
 * A page's objects sit in a small table of their own (4 slots, doubled as the page fills), so a
 * probe never leaves the page and runs are bounded by the table's size; consecutive lookups in
 * one page touch the same few cache lines. Tables live in one slab, addressed by offset. */
#define PH_INDEX_CLASSES 12 /* table sizes 4, 8, ..., 8192 slots */
#define PH_INDEX_RECENT 64
struct ph_index_page {
    uint64_t page;    /* address >> 12 */
    uint32_t table;   /* offset of its table in the slab */
    uint16_t cls;     /* table size class: 4 << cls slots */
    uint16_t count;   /* objects in the page */
};
struct ph_graph_index {
    struct ph_index_page *pages;
    size_t npages;
    uint32_t *dir;    /* page number -> pages index: open addressing, at most half full */
    size_t ndir;      /* power of two; 0: no index (dropped, or never built) */
    uint32_t *slab;   /* the pages' tables: object indices, PH_NONE = empty */
    size_t slab_used;
    uint32_t free_table[PH_INDEX_CLASSES]; /* free tables of each class (buddies merged,
                                              graph.c), linked through their first two slots;
                                              PH_NONE ends a list */
    uint64_t epoch;   /* bumped by every change, so a stale hint is recognised */
    /* The pages met last, by page number modulo PH_INDEX_RECENT: the walk looks up a few
     * streams of neighbouring objects (a dict's keys, its values, their attributes), and a hit
     * here skips the directory. rec PH_NONE: empty. */
    struct ph_index_recent {
        uint64_t page;
        uint32_t rec;
    } recent[PH_INDEX_RECENT];
    struct ph_bigmem m_pages, m_dir, m_slab;
};

struct ph_graph {
    size_t n, cap;
    uint64_t *addr;       /* object address */
    uint32_t *size;       /* bytes, as sys.getsizeof (plus attribute storage, see walk);
                             UINT32_MAX: the size is in big_sizes (read with ph_graph_size) */
    uint32_t *type;       /* index into types */
    uint32_t *owner;      /* for a dict: the object whose __dict__ it is, else PH_NONE */
    uint8_t *flags;       /* enum ph_obj_flag */
    uint32_t *edge_start; /* n + 1 entries once finished; edges are bounded by UINT32_MAX */
    uint32_t *edge_dst;
    uint32_t *edge_label;
    size_t nedges, edge_cap;
    struct ph_graph_index index;  /* address -> object index (graph.c), dropped after a walk */
    struct ph_type_rec *types;
    size_t ntypes, types_cap;
    struct ph_addrmap type_index; /* type address -> types index */
    struct ph_root *roots;
    size_t nroots, roots_cap;
    struct ph_strtab names;
    struct ph_addrmap big_index;  /* object index + 1 -> index in big_sizes */
    uint64_t *big_sizes;          /* sizes of 4 GiB and more (rare: bytes, arrays) */
    size_t nbig;
    struct ph_addrmap brief;      /* object index + 1 -> strtab id of a short description
                                     (module and function names), for byid and paths */
    size_t decoded;               /* objects whose edges are in place: 0..decoded-1 */
    struct ph_heap_meta meta;
    struct ph_prefaulter *pf;     /* populates the arrays' pages ahead of use (bigmem.h); NULL:
                                     each array populates its own */
    /* The memory behind the columns above (addr .. edge_label); the typed pointers are their
     * bases, reloaded after every growth. */
    struct ph_bigmem m_addr, m_size, m_type, m_owner, m_flags, m_edge_start, m_edge_dst,
        m_edge_label;
};

bool ph_graph_init(struct ph_graph *g, size_t expected_objects);
void ph_graph_free(struct ph_graph *g);

/* Index of the object at addr, adding it (type index given) if new. *added says which.
 * PH_NONE on allocation failure. */
uint32_t ph_graph_add_object(struct ph_graph *g, uint64_t addr, uint32_t type, bool *added);
uint32_t ph_graph_find(const struct ph_graph *g, uint64_t addr);
/* Where a failed lookup ended. Adding the object right after (nothing added in between) then
 * costs no second probe: most objects of a walk are met once, found missing, then added. */
struct ph_graph_hint {
    uint64_t epoch;
    uint32_t page;    /* pages index, or PH_NONE: the page is new, dir_slot is where it goes */
    uint32_t slot;    /* the empty slot in the page's table, or the directory slot */
};
uint32_t ph_graph_lookup(struct ph_graph *g, uint64_t addr, struct ph_graph_hint *hint);
/* Start loading the index slot a lookup of addr will read first (when its page was met
 * lately; else the directory's slot for the page). A hint to the CPU: changes nothing. */
void ph_graph_prefetch(const struct ph_graph *g, uint64_t addr);
/* Add an object that a lookup (which filled hint) did not find. PH_NONE when out of memory. */
uint32_t ph_graph_insert(struct ph_graph *g, uint64_t addr, uint32_t type,
                         const struct ph_graph_hint *hint);
/* Make room for n objects in all, so a large walk does not grow (copy) its arrays repeatedly. */
bool ph_graph_reserve(struct ph_graph *g, size_t n);

/* Append an object without entering it in the address index (a reader that knows every object
 * up front); ph_graph_index enters them all at the end. PH_NONE when out of memory. */
uint32_t ph_graph_append(struct ph_graph *g, uint64_t addr, uint32_t type);
/* Rebuild the address index over every object. False when out of memory or when two objects
 * share an address (*dup, if not NULL, is then the second one; else PH_NONE). */
bool ph_graph_index(struct ph_graph *g, uint32_t *dup);
/* Free the address index once nothing will look addresses up (the views never do): on a large
 * heap it is about a fifth of the walk's memory. Lookups and additions then need
 * ph_graph_index first. */
void ph_graph_drop_index(struct ph_graph *g);
static inline bool ph_graph_has_index(const struct ph_graph *g)
{
    return g->index.ndir != 0;
}

/* An object's size. Sizes are 32-bit in the arrays (4 bytes an object saved on every heap);
 * the rare larger ones live in a side table. */
static inline uint64_t ph_graph_size(const struct ph_graph *g, uint32_t obj)
{
    uint64_t v = g->size[obj];
    if (v == UINT32_MAX) {
        uint32_t k = ph_addrmap_get(&g->big_index, (uint64_t)obj + 1);
        if (k != PH_ADDRMAP_NONE)
            v = g->big_sizes[k];
    }
    return v;
}
bool ph_graph_set_size(struct ph_graph *g, uint32_t obj, uint64_t size);

/* Start the edge list of the next object to decode (must be g->decoded). */
void ph_graph_begin_edges(struct ph_graph *g, uint32_t obj);
bool ph_graph_add_edge(struct ph_graph *g, uint32_t dst, uint32_t label);
/* Close the edge list of the last object begun. */
void ph_graph_end_edges(struct ph_graph *g);

/* Type records, keyed by type address. */
uint32_t ph_graph_type(const struct ph_graph *g, uint64_t type_addr);
uint32_t ph_graph_add_type(struct ph_graph *g, uint64_t type_addr, uint32_t name, uint32_t module);

/* Which built-in type an object is an instance of (exactly), PH_BUILTIN_NONE for any other. */
static inline enum ph_builtin ph_graph_builtin(const struct ph_graph *g, uint32_t obj)
{
    return (enum ph_builtin)g->types[g->type[obj]].builtin;
}

bool ph_graph_add_root(struct ph_graph *g, uint32_t obj, uint32_t name);

/* Mark PH_OBJ_REACHABLE from every root, breadth-first. Returns the number reached. */
size_t ph_graph_mark_reachable(struct ph_graph *g);

/* Reverse edges (referrers), built on demand by views. */
struct ph_rgraph {
    uint64_t *start;  /* n + 1 */
    uint32_t *src;    /* referrer object index */
    uint32_t *edge;   /* index of the forward edge (for its label) */
};
bool ph_rgraph_build(const struct ph_graph *g, struct ph_rgraph *out);
void ph_rgraph_free(struct ph_rgraph *r);

#endif
