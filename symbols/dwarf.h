/*
 * dwarf.h: struct layouts read from DWARF with libdw (the first layout source).
 *
 * The reader is built for one job: given a few hundred struct or typedef names, find the first
 * complete definition of each in one pass over the top-level DIEs of every unit, then answer
 * "offset of member path P in struct S" and "sizeof S". It never walks function bodies or
 * location lists, so a libpython with tens of MB of DWARF is read in well under a second.
 *
 * Member paths are dotted ("interpreters.head"), go through anonymous struct/union members
 * without naming them, and index arrays ("generations[1]", "a[2][3]") with the element size.
 * py_layout_from_dwarf_fd() (declared in layout_sources.h) is implemented on top of this.
 */
#ifndef PH_DWARF_H
#define PH_DWARF_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "symbols/layout.h"

/* An opened DWARF file. `alt` is the DWZ supplementary file when the debug info has a
 * .gnu_debugaltlink; both are owned and closed by ph_dwarf_close. */
struct ph_dwarf {
    Dwarf *dw;
    Dwarf *alt;
    int alt_fd;
    Elf *elf, *alt_elf; /* what dw and alt were opened on (dwarf.c: only the sections used) */
};

/* Open the DWARF in fd (borrowed: the caller closes it after ph_dwarf_close). `alt_path`, when
 * not NULL, is the DWZ alt file to use; otherwise libdw looks it up itself (path in
 * .gnu_debugaltlink, then /usr/lib/debug/.build-id). PH_ERR_NO_LAYOUT when fd has no DWARF. */
ph_status ph_dwarf_open(int fd, const char *alt_path, struct ph_dwarf *out, struct ph_error *err);
void ph_dwarf_close(struct ph_dwarf *d);

/* The structs wanted by name, and what one pass found. names[] must be sorted (strcmp) and
 * unique; dies[i] is valid while the ph_dwarf is open and only when found[i]. */
struct ph_dwarf_wanted {
    const char *const *names;
    size_t n;
    Dwarf_Die *dies;
    bool *found;
};

/* One pass over the top-level DIEs of every unit (and of the alt file): the first non-declaration
 * struct/union whose tag is a wanted name, or a typedef of that name that resolves (through
 * typedefs and cv-qualifiers) to a complete struct/union. */
ph_status ph_dwarf_find_structs(struct ph_dwarf *d, struct ph_dwarf_wanted *w,
                                struct ph_error *err);

/* Byte offset of a member path inside a struct/union DIE, or -1 when any step is missing, an
 * index is out of bounds or the syntax is wrong. */
int64_t ph_dwarf_member_offset(Dwarf_Die *st, const char *path);

/* sizeof the type (through typedefs and qualifiers), or -1. */
int64_t ph_dwarf_type_size(Dwarf_Die *type);

/* Every leaf member of a struct (recursing into struct/union members, not into arrays), with
 * its dotted path, offset and size. fn returns nonzero to stop. */
typedef int (*ph_dwarf_leaf_fn)(const char *path, int64_t offset, int64_t size, void *ctx);
ph_status ph_dwarf_walk_leaves(Dwarf_Die *st, ph_dwarf_leaf_fn fn, void *ctx,
                               struct ph_error *err);

/* Every field of layout_fields.def from an opened DWARF file (py_layout_from_dwarf_fd opens one
 * without an explicit alt file). PH_ERR_NO_LAYOUT when the DWARF does not describe CPython. */
ph_status py_layout_from_dwarf(struct ph_dwarf *d, struct py_layout *out, struct ph_error *err);

#endif
