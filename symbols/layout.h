/*
 * layout.h: the offsets and sizes of one interpreter build, as the engine reads them.
 *
 * A py_layout is an array indexed by enum py_field (generated from layout_fields.def), plus
 * which source gave each value. Values are byte offsets or struct sizes; -1 means the field does
 * not exist in this build. The engine never hard-codes an offset: it asks LAY(l, FIELD).
 */
#ifndef PH_LAYOUT_H
#define PH_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum py_field_kind { PY_FIELD_OFF, PY_FIELD_SIZE };

enum py_field {
#define X(id, kind, st, member) PF_##id,
#include "symbols/layout_fields.def"
#undef X
    PF_COUNT
};

/* Where a value came from. Ordered by trust when sources disagree (see layout_sources.c). */
enum py_layout_source {
    PY_SRC_NONE = 0,
    PY_SRC_DWARF,         /* DWARF of the ELF, a debug file or debuginfod */
    PY_SRC_DEBUG_OFFSETS, /* _Py_DebugOffsets in the target (3.13+) */
    PY_SRC_TABLE,         /* built-in table for the version */
    PY_SRC_COUNT
};

struct py_field_desc {
    const char *name;    /* "TP_BASICSIZE" */
    enum py_field_kind kind;
    const char *structs; /* "_typeobject|PyTypeObject" */
    const char *member;  /* "tp_basicsize" */
};

struct py_layout {
    int64_t v[PF_COUNT];
    uint8_t src[PF_COUNT]; /* enum py_layout_source */
};

extern const struct py_field_desc py_field_descs[PF_COUNT];

#define LAY(l, f) ((l)->v[PF_##f])
#define LAY_HAS(l, f) ((l)->v[PF_##f] >= 0)

void py_layout_init(struct py_layout *l); /* every field absent */
const char *py_layout_source_name(enum py_layout_source s);
/* Field id by name ("TP_BASICSIZE"), or -1. */
int py_field_by_name(const char *name);

#endif
