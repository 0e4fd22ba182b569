/*
 * graph.c: see graph.h. Arrays grow by doubling; every growth is checked. The invariant the
 * walk relies on: objects are decoded in index order, so edge_start[i] is set exactly when
 * object i is begun, and edge_start[decoded] == nedges between objects.
 */
#include "lib/heap/graph.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static bool grow_array(void **p, size_t elem, size_t cap)
{
    void *q = realloc(*p, elem * cap);
    if (!q)
        return false;
    *p = q;
    return true;
}

/* Make room for `need` elements in a column; returns how many fit now (0 on failure). */
static size_t ensure_column(struct ph_bigmem *m, void **col, size_t elem, size_t need)
{
    if (!ph_bigmem_ensure(m, need * elem))
        return 0;
    *col = m->base;
    return m->ready / elem;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Room for `need` objects in every object column; g->cap becomes what all of them hold. */
static bool grow_objects(struct ph_graph *g, size_t need)
{
    size_t cap = ensure_column(&g->m_addr, (void **)&g->addr, sizeof *g->addr, need);
    cap = min_size(cap, ensure_column(&g->m_size, (void **)&g->size, sizeof *g->size, need));
    cap = min_size(cap, ensure_column(&g->m_type, (void **)&g->type, sizeof *g->type, need));
    cap = min_size(cap, ensure_column(&g->m_owner, (void **)&g->owner, sizeof *g->owner, need));
    cap = min_size(cap, ensure_column(&g->m_flags, (void **)&g->flags, sizeof *g->flags, need));
    size_t starts = ensure_column(&g->m_edge_start, (void **)&g->edge_start,
                                  sizeof *g->edge_start, need + 1);
    cap = min_size(cap, starts ? starts - 1 : 0);
    if (cap < need)
        return false;
    g->cap = cap;
    return true;
}

static bool grow_edges(struct ph_graph *g, size_t need)
{
    size_t cap = ensure_column(&g->m_edge_dst, (void **)&g->edge_dst, sizeof *g->edge_dst, need);
    cap = min_size(cap, ensure_column(&g->m_edge_label, (void **)&g->edge_label,
                                      sizeof *g->edge_label, need));
    if (cap < need)
        return false;
    g->edge_cap = cap;
    return true;
}

bool ph_graph_init(struct ph_graph *g, size_t expected)
{
    memset(g, 0, sizeof *g);
    ph_strtab_init(&g->names);
    if (!grow_objects(g, expected < 1024 ? 1024 : expected) || !grow_edges(g, g->cap) ||
        !ph_graph_reserve(g, g->cap) || !ph_addrmap_init(&g->type_index, 256) ||
        !ph_addrmap_init(&g->brief, 256) || !ph_addrmap_init(&g->big_index, 16)) {
        ph_graph_free(g);
        return false;
    }
    g->edge_start[0] = 0;
    return true;
}

void ph_graph_free(struct ph_graph *g)
{
    struct ph_bigmem *cols[] = {&g->m_addr, &g->m_size, &g->m_type, &g->m_owner, &g->m_flags,
                                &g->m_edge_start, &g->m_edge_dst, &g->m_edge_label, &g->m_slots};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        ph_bigmem_free(cols[k]);
    free(g->types);
    free(g->roots);
    free(g->big_sizes);
    ph_addrmap_free(&g->big_index);
    ph_addrmap_free(&g->type_index);
    ph_addrmap_free(&g->brief);
    ph_strtab_free(&g->names);
    memset(g, 0, sizeof *g);
}

/* ---- the address index ----
 * Slots hold object indices; the key of a slot is addr[index]. Four bytes a slot instead of
 * twelve: the index is the largest structure of a walk after the objects themselves. */

/* Objects of one 4 KiB page land in neighbouring slots (the page number is hashed, the offset
 * in the page is added): the walk meets objects in address-clustered order, so probes stay in
 * cache lines it touched a moment ago. Pages still spread evenly over the table. */
static inline size_t slot_of(uint64_t addr, size_t nslots)
{
    uint64_t page = ((addr >> 12) * 0x9E3779B97F4A7C15ull) >> 20;
    return (size_t)(page + ((addr >> 4) & 0xff)) & (nslots - 1);
}

/* Enter every object in a new index of nslots. With dup non-NULL, an address met twice stops
 * the rebuild (false, *dup = the second object). */
static bool rebuild_slots_checked(struct ph_graph *g, size_t nslots, uint32_t *dup)
{
    struct ph_bigmem mem = {0};
    if (!ph_bigmem_ensure(&mem, nslots * sizeof(uint32_t)))
        return false;
    uint32_t *slots = mem.base;
    memset(slots, 0xff, nslots * sizeof *slots); /* PH_NONE */
    for (size_t i = 0; i < g->n; i++) {
        size_t k = slot_of(g->addr[i], nslots);
        for (; slots[k] != PH_NONE; k = (k + 1) & (nslots - 1))
            if (dup && g->addr[slots[k]] == g->addr[i]) {
                *dup = (uint32_t)i;
                ph_bigmem_free(&mem);
                return false;
            }
        slots[k] = (uint32_t)i;
    }
    ph_bigmem_free(&g->m_slots);
    g->m_slots = mem;
    g->slots = slots;
    g->nslots = nslots;
    return true;
}

static bool rebuild_slots(struct ph_graph *g, size_t nslots)
{
    return rebuild_slots_checked(g, nslots, NULL);
}

static size_t slots_for(size_t n)
{
    size_t nslots = 1024;
    while (nslots * 7 < n * 10)
        nslots <<= 1;
    return nslots;
}

bool ph_graph_reserve(struct ph_graph *g, size_t n)
{
    /* Address space only: the columns then grow in place, their pages populated as used. */
    struct ph_bigmem *cols[] = {&g->m_addr, &g->m_size, &g->m_type, &g->m_owner, &g->m_flags,
                                &g->m_edge_start};
    size_t elems[] = {sizeof *g->addr, sizeof *g->size, sizeof *g->type, sizeof *g->owner,
                      sizeof *g->flags, sizeof *g->edge_start};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        if (!ph_bigmem_reserve(cols[k], (n + 1) * elems[k]))
            return false;
    g->addr = g->m_addr.base;
    g->size = g->m_size.base;
    g->type = g->m_type.base;
    g->owner = g->m_owner.base;
    g->flags = g->m_flags.base;
    g->edge_start = g->m_edge_start.base;
    size_t nslots = slots_for(n);
    return nslots <= g->nslots || rebuild_slots(g, nslots);
}

uint32_t ph_graph_lookup(const struct ph_graph *g, uint64_t addr, struct ph_graph_hint *hint)
{
    size_t mask = g->nslots - 1, k = slot_of(addr, g->nslots);
    for (;; k = (k + 1) & mask) {
        uint32_t idx = g->slots[k];
        if (idx == PH_NONE)
            break;
        if (g->addr[idx] == addr)
            return idx;
    }
    if (hint)
        *hint = (struct ph_graph_hint){.slot = k, .n = g->n, .nslots = g->nslots};
    return PH_NONE;
}

uint32_t ph_graph_find(const struct ph_graph *g, uint64_t addr)
{
    return ph_graph_lookup(g, addr, NULL);
}

static bool index_needs_growth(const struct ph_graph *g)
{
    return (g->n + 1) * 10 >= g->nslots * 7;
}

uint32_t ph_graph_append(struct ph_graph *g, uint64_t addr, uint32_t type)
{
    if (g->n >= UINT32_MAX - 1 || (g->n == g->cap && !grow_objects(g, g->n + 1)))
        return PH_NONE;
    uint32_t idx = (uint32_t)g->n++;
    g->addr[idx] = addr;
    g->size[idx] = 0;
    g->type[idx] = type;
    g->owner[idx] = PH_NONE;
    g->flags[idx] = 0;
    return idx;
}

bool ph_graph_index(struct ph_graph *g, uint32_t *dup)
{
    uint32_t seen = PH_NONE;
    bool ok = rebuild_slots_checked(g, slots_for(g->n + 1), &seen);
    if (dup)
        *dup = seen;
    return ok;
}

/* Append a new object and put it in (empty) slot k. */
static uint32_t append_object(struct ph_graph *g, size_t k, uint64_t addr, uint32_t type)
{
    uint32_t idx = ph_graph_append(g, addr, type);
    if (idx != PH_NONE)
        g->slots[k] = idx;
    return idx;
}

uint32_t ph_graph_add_object(struct ph_graph *g, uint64_t addr, uint32_t type, bool *added)
{
    *added = false;
    if (index_needs_growth(g) && !rebuild_slots(g, g->nslots * 2))
        return PH_NONE;
    size_t mask = g->nslots - 1, k = slot_of(addr, g->nslots);
    for (; g->slots[k] != PH_NONE; k = (k + 1) & mask)
        if (g->addr[g->slots[k]] == addr)
            return g->slots[k];
    uint32_t idx = append_object(g, k, addr, type);
    *added = idx != PH_NONE;
    return idx;
}

uint32_t ph_graph_insert(struct ph_graph *g, uint64_t addr, uint32_t type,
                         const struct ph_graph_hint *hint)
{
    if (hint->n != g->n || hint->nslots != g->nslots || index_needs_growth(g)) {
        bool added;
        return ph_graph_add_object(g, addr, type, &added);
    }
    return append_object(g, hint->slot, addr, type);
}

void ph_graph_begin_edges(struct ph_graph *g, uint32_t obj)
{
    assert(obj == g->decoded);
    g->edge_start[obj] = (uint32_t)g->nedges;
}

bool ph_graph_set_size(struct ph_graph *g, uint32_t obj, uint64_t size)
{
    if (size < UINT32_MAX) {
        g->size[obj] = (uint32_t)size;
        return true;
    }
    uint64_t *big = realloc(g->big_sizes, (g->nbig + 1) * sizeof *big);
    if (!big)
        return false;
    g->big_sizes = big;
    uint32_t k = ph_addrmap_put(&g->big_index, (uint64_t)obj + 1, (uint32_t)g->nbig);
    if (k == PH_ADDRMAP_NONE)
        return false;
    if (k == g->nbig)
        g->nbig++;
    g->big_sizes[k] = size;
    g->size[obj] = UINT32_MAX;
    return true;
}

bool ph_graph_add_edge(struct ph_graph *g, uint32_t dst, uint32_t label)
{
    if (g->nedges >= UINT32_MAX - 1)
        return false; /* edge offsets are 32-bit: a graph this big would need >100 GB anyway */
    if (g->nedges == g->edge_cap && !grow_edges(g, g->nedges + 1))
        return false;
    g->edge_dst[g->nedges] = dst;
    g->edge_label[g->nedges] = label;
    g->nedges++;
    return true;
}

void ph_graph_end_edges(struct ph_graph *g)
{
    g->decoded++;
    g->edge_start[g->decoded] = (uint32_t)g->nedges;
}

uint32_t ph_graph_type(const struct ph_graph *g, uint64_t type_addr)
{
    return ph_addrmap_get(&g->type_index, type_addr);
}

uint32_t ph_graph_add_type(struct ph_graph *g, uint64_t type_addr, uint32_t name, uint32_t module)
{
    uint32_t idx = ph_addrmap_get(&g->type_index, type_addr);
    if (idx != PH_ADDRMAP_NONE)
        return idx;
    if (g->ntypes == g->types_cap) {
        size_t cap = g->types_cap ? g->types_cap * 2 : 256;
        if (!grow_array((void **)&g->types, sizeof *g->types, cap))
            return PH_NONE;
        g->types_cap = cap;
    }
    idx = (uint32_t)g->ntypes;
    if (ph_addrmap_put(&g->type_index, type_addr, idx) != idx)
        return PH_NONE;
    g->types[idx] = (struct ph_type_rec){type_addr, name, module};
    g->ntypes++;
    return idx;
}

bool ph_graph_add_root(struct ph_graph *g, uint32_t obj, uint32_t name)
{
    if (g->nroots == g->roots_cap) {
        size_t cap = g->roots_cap ? g->roots_cap * 2 : 256;
        if (!grow_array((void **)&g->roots, sizeof *g->roots, cap))
            return false;
        g->roots_cap = cap;
    }
    g->roots[g->nroots++] = (struct ph_root){obj, name};
    g->flags[obj] |= PH_OBJ_ROOT;
    return true;
}

size_t ph_graph_mark_reachable(struct ph_graph *g)
{
    uint32_t *queue = malloc((g->n + 1) * sizeof *queue);
    if (!queue)
        return 0;
    size_t head = 0, tail = 0;
    for (size_t r = 0; r < g->nroots; r++) {
        uint32_t o = g->roots[r].obj;
        if (!(g->flags[o] & PH_OBJ_REACHABLE)) {
            g->flags[o] |= PH_OBJ_REACHABLE;
            queue[tail++] = o;
        }
    }
    while (head < tail) {
        uint32_t o = queue[head++];
        for (uint64_t e = g->edge_start[o]; e < g->edge_start[o + 1]; e++) {
            uint32_t d = g->edge_dst[e];
            if (!(g->flags[d] & PH_OBJ_REACHABLE)) {
                g->flags[d] |= PH_OBJ_REACHABLE;
                queue[tail++] = d;
            }
        }
    }
    free(queue);
    return tail;
}

bool ph_rgraph_build(const struct ph_graph *g, struct ph_rgraph *out)
{
    out->start = calloc(g->n + 1, sizeof *out->start);
    out->src = malloc((g->nedges + 1) * sizeof *out->src);
    out->edge = malloc((g->nedges + 1) * sizeof *out->edge);
    if (!out->start || !out->src || !out->edge) {
        ph_rgraph_free(out);
        return false;
    }
    for (size_t e = 0; e < g->nedges; e++)
        out->start[g->edge_dst[e] + 1]++;
    for (size_t i = 0; i < g->n; i++)
        out->start[i + 1] += out->start[i];
    uint64_t *fill = malloc((g->n + 1) * sizeof *fill);
    if (!fill) {
        ph_rgraph_free(out);
        return false;
    }
    memcpy(fill, out->start, (g->n + 1) * sizeof *fill);
    for (size_t s = 0; s < g->n; s++)
        for (uint64_t e = g->edge_start[s]; e < g->edge_start[s + 1]; e++) {
            uint64_t at = fill[g->edge_dst[e]]++;
            out->src[at] = (uint32_t)s;
            out->edge[at] = (uint32_t)e;
        }
    free(fill);
    return true;
}

void ph_rgraph_free(struct ph_rgraph *r)
{
    free(r->start);
    free(r->src);
    free(r->edge);
    memset(r, 0, sizeof *r);
}
