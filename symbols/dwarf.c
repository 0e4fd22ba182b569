/*
 * dwarf.c: struct layouts from DWARF (libdw), and the DWARF layout source built on it.
 *
 * Speed comes from never descending into a unit: the scan looks only at the top-level DIEs of
 * each unit (C struct and typedef definitions live there) and libdw skips a DIE's children
 * through DW_AT_sibling. Names are matched with bsearch over a sorted, de-duplicated list built
 * from layout_fields.def, and the scan stops as soon as every name is found.
 *
 * Invariants: a Dwarf_Die handed out is valid only while its ph_dwarf is open; nothing here
 * allocates per DIE; member lookups are bounded (nesting depth, path length, array ranks), since a
 * debug file may come from anywhere (debuginfod, a container) and is untrusted input.
 */
#include "symbols/dwarf.h"

#include <dwarf.h>
#include <gelf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/layout_sources.h"

#define MAX_NEST 8       /* anonymous-member and leaf-walk recursion */
#define MAX_RANK 8       /* array dimensions */
#define MAX_NAME 64      /* one struct name or path segment */
#define MAX_PATH 160     /* one member path */
#define MAX_STRUCTS 512  /* struct names in layout_fields.def, counted before duplicates go */

/* Debug sections a layout never reads: line tables, location and range lists, call frames,
 * macros, lookup tables. libdw decompresses every debug section it knows when it opens a file,
 * and in a distribution's compressed debug file these are about 40% of the compressed bytes:
 * 25 ms of a 60 ms open for Debian's python3.11. */
static const char *const unused_sections[] = {
    ".debug_line", ".debug_loc", ".debug_loclists", ".debug_ranges", ".debug_rnglists",
    ".debug_aranges", ".debug_frame", ".debug_macinfo", ".debug_macro", ".debug_pubnames",
    ".debug_pubtypes", ".debug_gnu_pubnames", ".debug_gnu_pubtypes", ".gdb_index",
};

/* An Elf of fd whose unused debug sections libdw will skip: they are made SHT_NOBITS in a
 * private copy of the section headers (the file is not written). NULL when fd is not an ELF
 * file libelf can map: the caller then lets libdw open fd itself. */
static Elf *elf_without_unused(int fd)
{
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP_PRIVATE, NULL);
    size_t shstrndx;
    if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx) != 0) {
        if (elf)
            elf_end(elf);
        return NULL;
    }
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        const char *name = gelf_getshdr(scn, &shdr) ? elf_strptr(elf, shstrndx, shdr.sh_name) : NULL;
        for (size_t k = 0; name && k < sizeof unused_sections / sizeof unused_sections[0]; k++)
            if (strcmp(name, unused_sections[k]) == 0) {
                shdr.sh_type = SHT_NOBITS;
                gelf_update_shdr(scn, &shdr);
                break;
            }
    }
    return elf;
}

/* libdw on fd, through an Elf without the unused sections when there is one (*elf, owned). */
static Dwarf *begin(int fd, Elf **elf)
{
    *elf = elf_without_unused(fd);
    Dwarf *dw = *elf ? dwarf_begin_elf(*elf, DWARF_C_READ, NULL) : dwarf_begin(fd, DWARF_C_READ);
    if (!dw && *elf) {
        elf_end(*elf);
        *elf = NULL;
    }
    return dw;
}

ph_status ph_dwarf_open(int fd, const char *alt_path, struct ph_dwarf *out, struct ph_error *err)
{
    out->dw = NULL;
    out->alt = NULL;
    out->alt_fd = -1;
    out->elf = out->alt_elf = NULL;
    out->dw = begin(fd, &out->elf);
    if (!out->dw)
        return ph_fail(err, PH_ERR_NO_LAYOUT, "no usable DWARF: %s", dwarf_errmsg(-1));
    if (!alt_path)
        return PH_OK;
    /* O_NONBLOCK: debugfind checked this is a regular file (reads of one never block), but a
     * FIFO swapped in since must not hang the open or libdw's reads. */
    out->alt_fd = open(alt_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (out->alt_fd < 0) {
        int e = errno;
        ph_dwarf_close(out);
        return ph_fail(err, PH_ERR_NO_LAYOUT, "DWZ alt file %s: %s", alt_path, strerror(e));
    }
    out->alt = begin(out->alt_fd, &out->alt_elf);
    if (!out->alt) {
        ph_dwarf_close(out);
        return ph_fail(err, PH_ERR_NO_LAYOUT, "DWZ alt file %s: %s", alt_path, dwarf_errmsg(-1));
    }
    dwarf_setalt(out->dw, out->alt);
    return PH_OK;
}

void ph_dwarf_close(struct ph_dwarf *d)
{
    if (d->dw)
        dwarf_end(d->dw); /* does not end an alt set with dwarf_setalt: ours, ended below */
    if (d->alt)
        dwarf_end(d->alt);
    if (d->elf)
        elf_end(d->elf);
    if (d->alt_elf)
        elf_end(d->alt_elf);
    if (d->alt_fd >= 0)
        close(d->alt_fd);
    d->dw = NULL;
    d->alt = NULL;
    d->alt_fd = -1;
    d->elf = d->alt_elf = NULL;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_aggregate(Dwarf_Die *die)
{
    int tag = dwarf_tag(die);
    return tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

/* A struct/union definition (not a declaration) reached from die through typedefs and
 * qualifiers. Typedefs of an incomplete struct are common (PyInterpreterState outside the
 * internal headers), so they must not win over a later complete definition. */
static bool complete_aggregate(Dwarf_Die *die, Dwarf_Die *out)
{
    if (dwarf_peel_type(die, out) != 0 || !is_aggregate(out))
        return false;
    return !dwarf_hasattr(out, DW_AT_declaration);
}

static void consider_die(Dwarf_Die *die, struct ph_dwarf_wanted *w, size_t *left)
{
    int tag = dwarf_tag(die);
    if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type && tag != DW_TAG_typedef)
        return;
    const char *name = dwarf_diename(die);
    if (!name)
        return;
    const char *const *hit = bsearch(&name, w->names, w->n, sizeof *w->names, cmp_name);
    if (!hit)
        return;
    size_t i = (size_t)(hit - w->names);
    Dwarf_Die def;
    if (w->found[i] || !complete_aggregate(die, &def))
        return;
    w->dies[i] = def;
    w->found[i] = true;
    (*left)--;
}

static void scan_units(Dwarf *dw, struct ph_dwarf_wanted *w, size_t *left)
{
    Dwarf_CU *cu = NULL;
    Dwarf_Half version;
    uint8_t unit_type;
    Dwarf_Die cudie, die;
    while (*left > 0 && dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
        if (dwarf_child(&cudie, &die) != 0)
            continue;
        do
            consider_die(&die, w, left);
        while (*left > 0 && dwarf_siblingof(&die, &die) == 0);
    }
}

ph_status ph_dwarf_find_structs(struct ph_dwarf *d, struct ph_dwarf_wanted *w,
                                struct ph_error *err)
{
    for (size_t i = 0; i < w->n; i++) {
        w->found[i] = false;
        if (i > 0 && strcmp(w->names[i - 1], w->names[i]) >= 0)
            return ph_fail(err, PH_ERR_INTERNAL, "struct names not sorted at %s", w->names[i]);
    }
    size_t left = w->n;
    scan_units(d->dw, w, &left);
    /* DWZ: types shared between files sit in partial units of the alt file. */
    Dwarf *alt = d->alt ? d->alt : dwarf_getalt(d->dw);
    if (alt && left > 0)
        scan_units(alt, w, &left);
    return PH_OK;
}

static bool type_of(Dwarf_Die *die, Dwarf_Die *type)
{
    Dwarf_Attribute a;
    return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, type);
}

int64_t ph_dwarf_type_size(Dwarf_Die *type)
{
    Dwarf_Word size;
    if (dwarf_aggregate_size(type, &size) != 0 || size > INT64_MAX)
        return -1;
    return (int64_t)size;
}

/* DW_AT_data_member_location as a constant (DWARF 3+) or a DW_OP_plus_uconst expression
 * (DWARF 2); bit-field members give DW_AT_data_bit_offset; union members have neither. */
static bool member_location(Dwarf_Die *m, int64_t *off)
{
    Dwarf_Attribute a;
    Dwarf_Word u;
    if (dwarf_attr(m, DW_AT_data_member_location, &a)) {
        Dwarf_Op *ops;
        size_t n;
        if (dwarf_formudata(&a, &u) == 0 && u <= INT32_MAX) {
            *off = (int64_t)u;
            return true;
        }
        if (dwarf_getlocation(&a, &ops, &n) == 0 && n == 1 && ops[0].atom == DW_OP_plus_uconst &&
            ops[0].number <= INT32_MAX) {
            *off = (int64_t)ops[0].number;
            return true;
        }
        return false;
    }
    if (dwarf_attr(m, DW_AT_data_bit_offset, &a)) {
        if (dwarf_formudata(&a, &u) != 0 || u / 8 > INT32_MAX)
            return false;
        *off = (int64_t)(u / 8);
        return true;
    }
    *off = 0;
    return true;
}

/* Member `name` (len bytes) of an aggregate, looking through unnamed struct/union members. */
static bool find_member(Dwarf_Die *agg, const char *name, size_t len, Dwarf_Die *type,
                        int64_t *off, int depth)
{
    Dwarf_Die m, mt, inner;
    if (depth > MAX_NEST || dwarf_child(agg, &m) != 0)
        return false;
    do {
        int64_t moff;
        if (dwarf_tag(&m) != DW_TAG_member)
            continue;
        const char *mn = dwarf_diename(&m);
        if (mn && (strlen(mn) != len || memcmp(mn, name, len) != 0))
            continue;
        if (!member_location(&m, &moff) || !type_of(&m, &mt))
            continue;
        if (mn) {
            *type = mt;
            *off = moff;
            return true;
        }
        if (dwarf_peel_type(&mt, &inner) == 0 && is_aggregate(&inner) &&
            find_member(&inner, name, len, type, off, depth + 1)) {
            *off += moff;
            return true;
        }
    } while (dwarf_siblingof(&m, &m) == 0);
    return false;
}

/* Element counts of an array type, -1 for an unknown bound (flexible array member). */
static int array_dims(Dwarf_Die *arr, int64_t *dims, int max)
{
    Dwarf_Die sub;
    int n = 0;
    if (dwarf_child(arr, &sub) != 0)
        return 0;
    do {
        Dwarf_Attribute a;
        Dwarf_Word u;
        if (dwarf_tag(&sub) != DW_TAG_subrange_type)
            continue;
        if (n == max)
            return -1;
        dims[n] = -1;
        if (dwarf_attr(&sub, DW_AT_count, &a) && dwarf_formudata(&a, &u) == 0 && u <= INT32_MAX)
            dims[n] = (int64_t)u;
        else if (dwarf_attr(&sub, DW_AT_upper_bound, &a) && dwarf_formudata(&a, &u) == 0 &&
                 u < INT32_MAX)
            dims[n] = (int64_t)u + 1;
        n++;
    } while (dwarf_siblingof(&sub, &sub) == 0);
    return n;
}

static bool parse_index(const char **pp, int64_t *idx)
{
    const char *p = *pp + 1; /* past '[' */
    char *end;
    if (*p < '0' || *p > '9')
        return false;
    errno = 0;
    unsigned long v = strtoul(p, &end, 10);
    if (errno || *end != ']' || v > INT32_MAX)
        return false;
    *idx = (int64_t)v;
    *pp = end + 1;
    return true;
}

/* Apply "[i][j]..." to an array-typed member: every dimension of an array must be indexed
 * (a partial index names no DWARF type the next segment could descend into). */
static bool apply_indexes(const char **pp, Dwarf_Die *type, int64_t *off)
{
    while (**pp == '[') {
        Dwarf_Die arr, elem;
        int64_t dims[MAX_RANK], idx;
        if (dwarf_peel_type(type, &arr) != 0 || dwarf_tag(&arr) != DW_TAG_array_type)
            return false;
        int rank = array_dims(&arr, dims, MAX_RANK);
        int64_t esize = type_of(&arr, &elem) ? ph_dwarf_type_size(&elem) : -1;
        if (rank <= 0 || esize <= 0)
            return false;
        for (int k = 0; k < rank; k++) {
            if (**pp != '[' || !parse_index(pp, &idx) || (dims[k] >= 0 && idx >= dims[k]))
                return false;
            int64_t stride = esize;
            for (int j = k + 1; j < rank; j++) {
                if (dims[j] < 0)
                    return false;
                stride *= dims[j];
            }
            *off += idx * stride;
        }
        *type = elem;
    }
    return true;
}

int64_t ph_dwarf_member_offset(Dwarf_Die *st, const char *path)
{
    Dwarf_Die cur, type;
    int64_t total = 0;
    const char *p = path;
    if (dwarf_peel_type(st, &cur) != 0 || !is_aggregate(&cur))
        return -1;
    for (;;) {
        size_t len = strcspn(p, ".[");
        int64_t off;
        if (len == 0 || len >= MAX_NAME || !find_member(&cur, p, len, &type, &off, 0))
            return -1;
        total += off;
        p += len;
        if (!apply_indexes(&p, &type, &total))
            return -1;
        if (*p == '\0')
            return total;
        if (*p != '.' || dwarf_peel_type(&type, &cur) != 0 || !is_aggregate(&cur))
            return -1;
        p++;
    }
}

struct leaf_walk {
    ph_dwarf_leaf_fn fn;
    void *ctx;
    char path[MAX_PATH];
};

static int walk_leaves(struct leaf_walk *lw, Dwarf_Die *agg, size_t plen, int64_t base, int depth)
{
    Dwarf_Die m, mt, inner;
    if (depth > MAX_NEST || dwarf_child(agg, &m) != 0)
        return 0;
    do {
        int64_t off;
        const char *mn = dwarf_diename(&m);
        if (dwarf_tag(&m) != DW_TAG_member || !member_location(&m, &off) || !type_of(&m, &mt))
            continue;
        size_t len = plen;
        if (mn) {
            int w = snprintf(lw->path + plen, sizeof lw->path - plen, "%s%s", plen ? "." : "", mn);
            if (w < 0 || (size_t)w >= sizeof lw->path - plen)
                return -1;
            len += (size_t)w;
        }
        int rc;
        if (dwarf_peel_type(&mt, &inner) == 0 && is_aggregate(&inner))
            rc = walk_leaves(lw, &inner, len, base + off, depth + 1);
        else
            rc = lw->fn(lw->path, base + off, ph_dwarf_type_size(&mt), lw->ctx);
        lw->path[plen] = '\0';
        if (rc)
            return rc;
    } while (dwarf_siblingof(&m, &m) == 0);
    return 0;
}

ph_status ph_dwarf_walk_leaves(Dwarf_Die *st, ph_dwarf_leaf_fn fn, void *ctx,
                               struct ph_error *err)
{
    struct leaf_walk lw = {.fn = fn, .ctx = ctx};
    Dwarf_Die agg;
    if (dwarf_peel_type(st, &agg) != 0 || !is_aggregate(&agg))
        return ph_fail(err, PH_ERR_INTERNAL, "not a struct or union DIE");
    if (walk_leaves(&lw, &agg, 0, 0, 0) < 0)
        return ph_fail(err, PH_ERR_CORRUPT_FILE, "member path longer than %d bytes under %s",
                       MAX_PATH, lw.path);
    return PH_OK;
}

/* ---- the DWARF layout source ---- */

/* Every struct name of layout_fields.def, split at '|', sorted and unique. */
struct struct_index {
    char buf[MAX_STRUCTS][MAX_NAME];
    const char *names[MAX_STRUCTS];
    Dwarf_Die dies[MAX_STRUCTS];
    bool found[MAX_STRUCTS];
    size_t n;
};

/* Copy the alternative number `alt` of "a|b|c" into out; false past the last one. */
static bool nth_alternative(const char *list, int alt, char *out, size_t cap)
{
    const char *p = list;
    for (int i = 0; i < alt; i++) {
        p = strchr(p, '|');
        if (!p)
            return false;
        p++;
    }
    size_t len = strcspn(p, "|");
    if (len >= cap)
        return false;
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

static ph_status index_struct_names(struct struct_index *ix, struct ph_error *err)
{
    ix->n = 0;
    for (int f = 0; f < PF_COUNT; f++) {
        for (int a = 0; nth_alternative(py_field_descs[f].structs, a, ix->buf[ix->n], MAX_NAME); a++) {
            if (ix->n + 1 == MAX_STRUCTS)
                return ph_fail(err, PH_ERR_INTERNAL, "more than %d struct names", MAX_STRUCTS - 1);
            ix->names[ix->n] = ix->buf[ix->n];
            ix->n++;
        }
    }
    qsort(ix->names, ix->n, sizeof *ix->names, cmp_name);
    size_t u = 0;
    for (size_t i = 0; i < ix->n; i++)
        if (u == 0 || strcmp(ix->names[u - 1], ix->names[i]) != 0)
            ix->names[u++] = ix->names[i];
    ix->n = u;
    return PH_OK;
}

static Dwarf_Die *lookup_struct(struct struct_index *ix, const char *name)
{
    const char *const *hit = bsearch(&name, ix->names, ix->n, sizeof *ix->names, cmp_name);
    if (!hit || !ix->found[hit - ix->names])
        return NULL;
    return &ix->dies[hit - ix->names];
}

/* One field: the first struct alternative present, then the first member path that resolves. */
static int64_t resolve_field(struct struct_index *ix, const struct py_field_desc *fd)
{
    char sname[MAX_NAME], mpath[MAX_PATH];
    for (int s = 0; nth_alternative(fd->structs, s, sname, sizeof sname); s++) {
        Dwarf_Die *die = lookup_struct(ix, sname);
        if (!die)
            continue;
        if (fd->kind == PY_FIELD_SIZE)
            return ph_dwarf_type_size(die);
        for (int m = 0; nth_alternative(fd->member, m, mpath, sizeof mpath); m++) {
            int64_t off = ph_dwarf_member_offset(die, mpath);
            if (off >= 0)
                return off;
        }
    }
    return -1;
}

ph_status py_layout_from_dwarf(struct ph_dwarf *d, struct py_layout *out, struct ph_error *err)
{
    struct struct_index *ix = malloc(sizeof *ix);
    if (!ix)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory indexing struct names");
    ph_status st = index_struct_names(ix, err);
    struct ph_dwarf_wanted w = {.names = ix->names, .n = ix->n, .dies = ix->dies,
                                .found = ix->found};
    if (st == PH_OK)
        st = ph_dwarf_find_structs(d, &w, err);
    py_layout_init(out);
    for (int f = 0; st == PH_OK && f < PF_COUNT; f++) {
        out->v[f] = resolve_field(ix, &py_field_descs[f]);
        if (out->v[f] >= 0)
            out->src[f] = PY_SRC_DWARF;
    }
    free(ix);
    if (st != PH_OK)
        return st;
    /* A DWARF file of some other program (or a libpython stub) has none of these. */
    if (out->v[PF_OB_TYPE] < 0 || out->v[PF_TP_FLAGS] < 0 || out->v[PF_RT_INTERP_HEAD] < 0)
        return ph_fail(err, PH_ERR_NO_LAYOUT,
                       "the DWARF does not describe CPython (no PyObject, PyTypeObject or "
                       "_PyRuntimeState)");
    return PH_OK;
}

ph_status py_layout_from_dwarf_fd(int fd, struct py_layout *out, struct ph_error *err)
{
    struct ph_dwarf d;
    ph_status st = ph_dwarf_open(fd, NULL, &d, err);
    if (st != PH_OK)
        return st;
    st = py_layout_from_dwarf(&d, out, err);
    ph_dwarf_close(&d);
    return st;
}
