/*
 * debug_offsets.h: the _Py_DebugOffsets layout source (CPython 3.13+), helpers around
 * py_layout_from_debug_offsets() (declared in layout_sources.h).
 *
 * _Py_DebugOffsets sits at offset 0 of _PyRuntime. Its first three fields are fixed in every
 * minor version (cookie "xdebugpy" at 0, PY_VERSION_HEX at 8, free_threaded at 16); the rest
 * changes shape between minors, so the bytes are decoded with a per-minor position table that
 * tests/tools/gen-tables.sh generated from DWARF (symbols/tables/debug_offsets_3_*.c).
 * The bytes come from the target and are untrusted: see debug_offsets.c for the checks.
 */
#ifndef PH_DEBUG_OFFSETS_H
#define PH_DEBUG_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "symbols/tables/tables.h"

#define PY_DEBUG_OFFSETS_COOKIE "xdebugpy"
#define PY_DEBUG_OFFSETS_HEADER 24 /* cookie, version, free_threaded */

/* The position table of a minor version (13 for 3.13), NULL when there is none. */
const struct py_debug_offsets_table *py_debug_offsets_table_for(int minor);

/* How many bytes to read at _PyRuntime to hold _Py_DebugOffsets of any known minor. */
size_t py_debug_offsets_read_size(void);

/* Cookie, version and free_threaded flag. PH_ERR_NO_LAYOUT when the cookie is absent (a
 * CPython before 3.13, or not _PyRuntime) or the flag is neither 0 nor 1. */
ph_status py_debug_offsets_header(const uint8_t *bytes, size_t len, uint32_t *version_hex,
                                  bool *free_threaded, struct ph_error *err);

/* Number of layout fields the table of `minor` maps (for reports and tests). */
int py_debug_offsets_mapped_fields(int minor);

#endif
