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

bool wk_cstruct_level(struct wk *w, struct wk_type *ti, const struct wk_level *level,
                      uint8_t *explained, size_t nwords)
{
    const struct wk_cstruct *c =
        find(level->tp_name, w->minor, false, level->basicsize, level->itemsize);
    if (!c)
        return false;
    for (uint16_t k = 0; k < c->nfields; k++) {
        const struct wk_cfield *f = &c->fields[k];
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
    if (!c->items)
        ti->items_known = true;
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
