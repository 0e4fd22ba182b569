/*
 * walk/cstruct.h: the generated tables of C structs whose object fields pyheap names
 * (cstruct_tables.c, written by tests/tools/gen-cstructs.py from the DWARF of real builds), read
 * by cstruct.c. A row is one struct of one CPython minor version: the tp_name of a C type (one
 * of its levels) or the name of a module whose C state (m_state) it is, the struct's size, and
 * its object fields. Rows are sorted by name, then minor, then size.
 */
#ifndef PH_WALK_CSTRUCT_H
#define PH_WALK_CSTRUCT_H

#include <stddef.h>
#include <stdint.h>

struct wk_cfield {
    uint16_t offset; /* of the field in the struct */
    int16_t deref;   /* -1: the field is an object; else the field points to a C struct whose
                        object member is at this offset (sqlite3's callback contexts) */
    int16_t cond;    /* -1: always there; else the offset of a byte that must be non-zero for
                        the field to exist (a datetime's hastzinfo) */
    const char *name; /* the C field's name: the edge reads ->name */
};

struct wk_cstruct {
    const char *name;   /* tp_name of the type, or the module's name for its state */
    uint8_t minor;      /* CPython 3.minor */
    uint8_t state;      /* a module state (m_state), not an object */
    uint8_t items;      /* var-sized, and its items are object pointers */
    uint32_t size;      /* sizeof the struct (tp_basicsize, or it plus one item; m_size) */
    uint16_t nfields;
    const struct wk_cfield *fields;
};

extern const struct wk_cstruct wk_cstructs[];
extern const size_t wk_cstructs_n;

#endif
