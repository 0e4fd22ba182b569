/*
 * layout_sources.h: the chain of layout sources, tried in order, each reporting why it did or
 * did not answer (in the spirit of libdwfl's Dwfl_Callbacks).
 *
 *   1. DWARF: --debug-file; the ELF itself; a separate debug file by build-id
 *      (DIR/.build-id/xx/rest.debug) or .gnu_debuglink (DIR/<path of the ELF>/name, next to the
 *      ELF, DIR/.debug), looked up under the target's root first (container), then the host;
 *      then debuginfod (DEBUGINFOD_URLS, unless --no-debuginfod).
 *   2. _Py_DebugOffsets (3.13+), untrusted: cookie, version, free_threaded, every offset inside
 *      the struct size it reports.
 *   3. The built-in table for the version (symbols/tables/), for stripped builds.
 *
 * Sources combine: DWARF, when found, gives every field it has; otherwise _Py_DebugOffsets
 * gives what it publishes and the table fills the rest. Each value records its source.
 */
#ifndef PH_LAYOUT_SOURCES_H
#define PH_LAYOUT_SOURCES_H

#include <stdint.h>

#include "lib/error.h"
#include "lib/proc/mem.h"
#include "lib/proc/proc.h"
#include "symbols/layout.h"
#include "symbols/target.h"

/* What the layout sources need to know about the interpreter ELF (filled by target.c). */
struct py_layout_ctx {
    const char *root;           /* the target's root, /proc/PID/root (container debug files);
                                   NULL: the host's */
    struct ph_mem *mem;         /* to read _Py_DebugOffsets */
    int elf_fd;                 /* the ELF holding _PyRuntime, open read-only */
    const char *elf_path;       /* as the maps show it (host or container path) */
    const char *build_id;       /* hex, may be "" */
    uint32_t version_hex;       /* best guess so far; debug offsets may refine it */
    uint64_t runtime_addr;      /* &_PyRuntime in the target */
};

/* Fill out->layout, out->sources, out->debug_file; may refine out->version_hex (from
 * _Py_DebugOffsets) and set out->free_threaded. PH_ERR_NO_LAYOUT when nothing fits.
 * The same as py_layout_dwarf, then py_layout_finish. */
ph_status py_layout_resolve(const struct py_layout_ctx *ctx, const struct py_layout_options *opts,
                            struct py_target *out, struct ph_error *err);

/* The DWARF source alone, in two steps so that it can overlap other work: finding and reading
 * DWARF takes 15 to 50 ms (inflating a compressed debug file), more when debuginfod downloads,
 * and touches files only (ctx->elf_fd, elf_path, build_id, root; never ctx->mem), so it may run
 * on a thread of its own while the caller reads the target. */
void py_layout_dwarf(const struct py_layout_ctx *ctx, const struct py_layout_options *opts,
                     struct py_dwarf_found *out);

/* The rest of the chain, given the DWARF step's result: _Py_DebugOffsets (reads ctx->mem), the
 * tables, and their combination, as py_layout_resolve. */
ph_status py_layout_finish(const struct py_layout_ctx *ctx, const struct py_layout_options *opts,
                           const struct py_dwarf_found *dw, struct py_target *out,
                           struct ph_error *err);

/* --- individual sources, exposed for tests and the table generator --- */

/* Read every field of layout_fields.def from the DWARF in fd (an ELF with .debug_info).
 * Fields not found stay -1. PH_ERR_NO_LAYOUT if the file has no usable DWARF. */
ph_status py_layout_from_dwarf_fd(int fd, struct py_layout *out, struct ph_error *err);

/* Fill the fields that _Py_DebugOffsets publishes, from the bytes at _PyRuntime.
 * PH_ERR_NO_LAYOUT when absent (< 3.13) or invalid (the message says which check failed). */
ph_status py_layout_from_debug_offsets(const uint8_t *bytes, size_t len, uint32_t version_hex,
                                       struct py_layout *out, bool *free_threaded,
                                       struct ph_error *err);

/* The built-in table for a version; PH_ERR_NO_LAYOUT when there is none. `which` receives a
 * description such as "table 3.11 (generated from Debian 3.11.2)". */
ph_status py_layout_from_table(uint32_t version_hex, struct py_layout *out, const char **which,
                               struct ph_error *err);

#endif
