/*
 * heapsnapshot.c: see heapsnapshot.h.
 *
 * Written front to back through one buffer (a pipe works): the header, the nodes, the edges,
 * then the strings, which are interned while nodes and edges are written (string 0 is
 * "<dummy>", as V8 writes it). A node's edges are contiguous and in node order, and to_node is
 * the target's node number times the 7 node fields: nodes are numbered root first, then the
 * reachable objects in index order. Every string comes from the graph's string table or the
 * view's kinds, both escaped for terminals already; here they are escaped again for JSON.
 */
#include "lib/heap/heapsnapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/heap/label.h"
#include "lib/heap/view.h"

#define NODE_FIELDS 7

enum { EDGE_CONTEXT, EDGE_ELEMENT, EDGE_PROPERTY, EDGE_INTERNAL, EDGE_HIDDEN };

struct out {
    int fd;
    const char *name;
    char buf[1 << 16];
    size_t len;
    int error; /* errno of the first failed write, 0 */
};

static void flush_out(struct out *o)
{
    size_t off = 0;
    while (!o->error && off < o->len) {
        ssize_t k = write(o->fd, o->buf + off, o->len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            o->error = k < 0 ? errno : EIO;
        else
            off += (size_t)k;
    }
    o->len = 0;
}

static void put(struct out *o, const char *s, size_t n)
{
    while (n) {
        if (o->len == sizeof o->buf)
            flush_out(o);
        size_t k = sizeof o->buf - o->len < n ? sizeof o->buf - o->len : n;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

static void puts_out(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v, char sep)
{
    char tmp[24];
    int k = snprintf(tmp, sizeof tmp, "%c%" PRIu64, sep, v);
    put(o, sep ? tmp : tmp + 1, (size_t)(sep ? k : k - 1));
}

static void put_json_string(struct out *o, const char *s)
{
    put(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(o, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(o, esc, 6);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
    put(o, "\"", 1);
}

static const char HEADER[] =
    "{\"snapshot\":{\"meta\":{"
    "\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\",\"edge_count\",\"trace_node_id\","
    "\"detachedness\"],"
    "\"node_types\":[[\"hidden\",\"array\",\"string\",\"object\",\"code\",\"closure\",\"regexp\","
    "\"number\",\"native\",\"synthetic\",\"concatenated string\",\"sliced string\",\"symbol\","
    "\"bigint\",\"object shape\"],\"string\",\"number\",\"number\",\"number\",\"number\","
    "\"number\"],"
    "\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],"
    "\"edge_types\":[[\"context\",\"element\",\"property\",\"internal\",\"hidden\",\"shortcut\","
    "\"weak\"],\"string_or_number\",\"node\"],"
    "\"trace_function_info_fields\":[\"function_id\",\"name\",\"script_name\",\"script_id\","
    "\"line\",\"column\"],"
    "\"trace_node_fields\":[\"id\",\"function_info_index\",\"count\",\"size\",\"children\"],"
    "\"sample_fields\":[\"timestamp_us\",\"last_assigned_id\"],"
    "\"location_fields\":[\"object_index\",\"script_id\",\"line\",\"column\"]},";

enum { NODE_TYPE_OBJECT = 3, NODE_TYPE_SYNTHETIC = 9 };

struct exporter {
    const struct ph_graph *g;
    struct ph_view_ctx v;
    struct ph_strtab strings;  /* the file's strings */
    uint32_t *node;            /* per object: its node number (root = 0), PH_NONE: left out */
    uint8_t *root_edge;        /* per object: 1 if an edge from the root already leads to it */
    size_t nnodes, nedges, nroot_edges;
    struct ph_addrmap ids;     /* node ids in use */
    struct out *o;
    bool oom;
};

static uint32_t str_id(struct exporter *x, const char *s)
{
    uint32_t id = ph_strtab_intern_cstr(&x->strings, s);
    if (id == PH_STR_NONE) {
        x->oom = true;
        return 0;
    }
    return id;
}

static bool wanted(const struct ph_graph *g, uint32_t dst)
{
    return dst < g->n && (g->flags[dst] & PH_OBJ_REACHABLE);
}

/* Whether root r gets an edge from the root node (marking it taken when `take`). */
static bool root_edge(struct exporter *x, size_t r, bool take)
{
    uint32_t o = x->g->roots[r].obj;
    if (!wanted(x->g, o) || (x->root_edge[o] & (take ? 2 : 1)))
        return false;
    x->root_edge[o] |= take ? 2 : 1;
    return true;
}

/* Number the nodes, count the edges. */
static bool number_nodes(struct exporter *x)
{
    const struct ph_graph *g = x->g;
    x->node = malloc((g->n + 1) * sizeof *x->node);
    if (!x->node)
        return false;
    x->nnodes = 1;
    size_t decoded = g->decoded < g->n ? g->decoded : g->n;
    for (size_t o = 0; o < g->n; o++) {
        x->node[o] = PH_NONE;
        if (!(g->flags[o] & PH_OBJ_REACHABLE))
            continue;
        x->node[o] = (uint32_t)x->nnodes++;
        for (uint32_t e = o < decoded ? g->edge_start[o] : 0; o < decoded && e < g->edge_start[o + 1]; e++)
            x->nedges += wanted(g, g->edge_dst[e]);
    }
    /* One edge from the root per distinct root object (the first name wins): DevTools seeds
     * its distances with the root's children and refuses a node seeded twice. */
    x->root_edge = calloc(g->n + 1, 1);
    if (!x->root_edge)
        return false;
    for (size_t r = 0; r < g->nroots; r++)
        x->nroot_edges += root_edge(x, r, false);
    x->nedges += x->nroot_edges;
    return true;
}

/* An id from the object's and its type's addresses: odd, below 2^31, unique in this file (a
 * collision moves on to the next odd number). */
static uint32_t node_id(struct exporter *x, uint32_t obj)
{
    uint64_t h = x->g->addr[obj] * 0x9e3779b97f4a7c15ull ^
                 x->g->types[x->g->type[obj]].addr * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    uint32_t id = (uint32_t)(h & 0x7ffffffe) | 1;
    for (;;) {
        if (id > 1) { /* 1 is the root's */
            uint32_t had = ph_addrmap_put(&x->ids, id, obj);
            if (had == PH_ADDRMAP_NONE)
                x->oom = true;
            if (had == obj || had == PH_ADDRMAP_NONE)
                return id;
        }
        id = (id + 2) & 0x7fffffff;
    }
}

static void put_node(struct exporter *x, uint32_t type, uint32_t name, uint32_t id,
                     uint64_t size, uint64_t edges, bool first)
{
    struct out *o = x->o;
    put_u64(o, type, first ? 0 : ',');
    put_u64(o, name, ',');
    put_u64(o, id, ',');
    put_u64(o, size < UINT32_MAX ? size : UINT32_MAX, ',');
    put_u64(o, edges, ',');
    puts_out(o, ",0,0\n");
}

static void write_nodes(struct exporter *x)
{
    const struct ph_graph *g = x->g;
    size_t decoded = g->decoded < g->n ? g->decoded : g->n;
    puts_out(x->o, "\"nodes\":[");
    put_node(x, NODE_TYPE_SYNTHETIC, str_id(x, "(pyheap roots)"), 1, 0, x->nroot_edges, true);
    for (size_t o = 0; o < g->n && !x->oom; o++) {
        if (x->node[o] == PH_NONE)
            continue;
        uint64_t edges = 0;
        for (uint32_t e = o < decoded ? g->edge_start[o] : 0; o < decoded && e < g->edge_start[o + 1]; e++)
            edges += wanted(g, g->edge_dst[e]);
        uint32_t kind = ph_clodo_kind(&x->v, (uint32_t)o);
        if (kind == PH_STR_NONE)
            x->oom = true;
        put_node(x, NODE_TYPE_OBJECT, str_id(x, ph_view_text(&x->v, kind)), node_id(x, (uint32_t)o),
                 ph_graph_size(g, (uint32_t)o), edges, false);
    }
    puts_out(x->o, "],\n");
}

/* An edge's type and name (a string id) or index, from its label. */
static void edge_of(struct exporter *x, uint32_t label, uint32_t *type, uint64_t *name)
{
    const struct ph_graph *g = x->g;
    uint32_t p = PH_LABEL_PAYLOAD(label);
    char buf[1100];
    switch (PH_LABEL_KIND(label)) {
    case PH_EDGE_FIELD:
    case PH_EDGE_ATTR:
        *type = EDGE_PROPERTY;
        *name = str_id(x, ph_strtab_get(&g->names, p));
        return;
    case PH_EDGE_LOCAL:
        *type = EDGE_CONTEXT;
        *name = str_id(x, ph_strtab_get(&g->names, p));
        return;
    case PH_EDGE_DICT_VALUE:
    case PH_EDGE_DICT_KEY:
    case PH_EDGE_INTERNAL:
        *type = PH_LABEL_KIND(label) == PH_EDGE_DICT_VALUE ? EDGE_PROPERTY : EDGE_INTERNAL;
        *name = str_id(x, ph_label_render(g, label, "", buf, sizeof buf));
        return;
    case PH_EDGE_INDEX:
    case PH_EDGE_SET_MEMBER:
        *type = EDGE_ELEMENT;
        *name = p;
        return;
    default: /* value stack slots, conservative hits: by number */
        *type = EDGE_HIDDEN;
        *name = p;
        return;
    }
}

static void put_edge(struct out *o, uint32_t type, uint64_t name, uint32_t to, bool first)
{
    put_u64(o, type, first ? 0 : ',');
    put_u64(o, name, ',');
    put_u64(o, (uint64_t)to * NODE_FIELDS, ',');
    put(o, "\n", 1);
}

static void write_edges(struct exporter *x)
{
    const struct ph_graph *g = x->g;
    size_t decoded = g->decoded < g->n ? g->decoded : g->n;
    bool first = true;
    puts_out(x->o, "\"edges\":[");
    for (size_t r = 0; r < g->nroots; r++) {
        if (!root_edge(x, r, true))
            continue;
        put_edge(x->o, EDGE_PROPERTY, str_id(x, ph_strtab_get(&g->names, g->roots[r].name)),
                 x->node[g->roots[r].obj], first);
        first = false;
    }
    for (size_t o = 0; o < decoded && !x->oom; o++) {
        if (x->node[o] == PH_NONE)
            continue;
        for (uint32_t e = g->edge_start[o]; e < g->edge_start[o + 1]; e++) {
            uint32_t dst = g->edge_dst[e], type;
            uint64_t name;
            if (!wanted(g, dst))
                continue;
            edge_of(x, g->edge_label[e], &type, &name);
            put_edge(x->o, type, name, x->node[dst], first);
            first = false;
        }
    }
    puts_out(x->o, "],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n"
                   "\"locations\":[],\n");
}

static void write_strings(struct exporter *x)
{
    puts_out(x->o, "\"strings\":[");
    for (uint32_t i = 0; i < x->strings.n; i++) {
        if (i)
            puts_out(x->o, ",\n");
        put_json_string(x->o, ph_strtab_get(&x->strings, i));
    }
    puts_out(x->o, "]}\n");
}

ph_status ph_heapsnapshot_write(const struct ph_graph *g, int fd, const char *name,
                                struct ph_error *err)
{
    struct out *o = calloc(1, sizeof *o);
    struct exporter x = {.g = g, .o = o};
    ph_strtab_init(&x.strings);
    bool ok = o && ph_view_ctx_init(&x.v, g) && number_nodes(&x) &&
              ph_addrmap_init(&x.ids, x.nnodes + 16) && str_id(&x, "<dummy>") == 0 && !x.oom;
    if (ok) {
        o->fd = fd;
        o->name = name;
        puts_out(o, HEADER);
        char counts[96];
        snprintf(counts, sizeof counts, "\"node_count\":%zu,\"edge_count\":%zu,"
                 "\"trace_function_count\":0},\n", x.nnodes, x.nedges);
        puts_out(o, counts);
        write_nodes(&x);
        write_edges(&x);
        write_strings(&x);
        flush_out(o);
        ok = !x.oom;
    }
    int io = o ? o->error : 0;
    ph_addrmap_free(&x.ids);
    free(x.node);
    free(x.root_edge);
    ph_strtab_free(&x.strings);
    if (x.v.g)
        ph_view_ctx_free(&x.v);
    free(o);
    if (!ok)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory writing the heap snapshot (%zu objects)", g->n);
    if (io)
        return ph_fail(err, PH_ERR_IO, "writing %s failed: %s", name, strerror(io));
    return PH_OK;
}
