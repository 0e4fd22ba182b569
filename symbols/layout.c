/*
 * layout.c: the field descriptor table generated from layout_fields.def, and small helpers.
 */
#include "symbols/layout.h"

#include <string.h>

const struct py_field_desc py_field_descs[PF_COUNT] = {
#define X(id, kind, st, member) [PF_##id] = {#id, PY_FIELD_##kind, st, member},
#include "symbols/layout_fields.def"
#undef X
};

void py_layout_init(struct py_layout *l)
{
    for (int i = 0; i < PF_COUNT; i++) {
        l->v[i] = -1;
        l->src[i] = PY_SRC_NONE;
    }
}

const char *py_layout_source_name(enum py_layout_source s)
{
    switch (s) {
    case PY_SRC_DWARF: return "dwarf";
    case PY_SRC_DEBUG_OFFSETS: return "debug-offsets";
    case PY_SRC_TABLE: return "table";
    default: return "none";
    }
}

int py_field_by_name(const char *name)
{
    for (int i = 0; i < PF_COUNT; i++)
        if (strcmp(py_field_descs[i].name, name) == 0)
            return i;
    return -1;
}
