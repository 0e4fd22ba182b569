/*
 * layout_sources.c: the chain of layout sources (layout_sources.h) and the built-in tables.
 *
 * Order and trust: DWARF (found by debugfind.c, read by dwarf.c) describes the very build, so
 * when it is found every field comes from it, and _Py_DebugOffsets is only compared with it (a
 * disagreement is reported, not acted on). Without DWARF, the target's _Py_DebugOffsets (3.13+,
 * debug_offsets.c) gives what it publishes and a built-in table row fills the rest. A row must
 * agree with every field the debug offsets publish, struct sizes included, or it is skipped:
 * that is how rows of one minor version that differ by patch level or distribution patch are
 * told apart (upstream 3.13.0 and Debian sid 3.13.18 differ in PyThreadState's size and in where
 * the GC list heads sit), and how 3.14.0-3.14.4 (incremental GC, no row) are refused even when
 * the version was misread.
 *
 * Every value records its source in layout.src; every step adds one line to out->sources.
 * Nothing here is stateful: tables are const, and each call owns what it opens.
 */
#include "symbols/layout_sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/debug_offsets.h"
#include "symbols/debugfind.h"
#include "symbols/dwarf.h"
#include "symbols/tables/tables.h"

#define MAX_CANDIDATES 8

static int minor_of(uint32_t hex)
{
    return (int)((hex >> 16) & 0xff);
}

/* Rows covering version_hex, nearest generated version first. Rows generated for another
 * field list (stale tables) are not candidates; *stale counts them. */
static size_t table_candidates(uint32_t version_hex, const struct py_layout_table **c, int *stale)
{
    size_t n = 0;
    *stale = 0;
    for (size_t i = 0; i < py_layout_tables_n && n < MAX_CANDIDATES; i++) {
        const struct py_layout_table *t = py_layout_tables[i];
        if (version_hex < t->min_hex || version_hex > t->max_hex)
            continue;
        if (t->nfields != PF_COUNT) {
            (*stale)++;
            continue;
        }
        size_t j = n++;
        int64_t d = llabs((int64_t)t->gen_hex - (int64_t)version_hex);
        for (; j > 0 && llabs((int64_t)c[j - 1]->gen_hex - (int64_t)version_hex) > d; j--)
            c[j] = c[j - 1];
        c[j] = t;
    }
    return n;
}

static void fill_from_row(const struct py_layout_table *t, struct py_layout *out)
{
    for (int f = 0; f < PF_COUNT; f++) {
        out->v[f] = t->v[f];
        out->src[f] = t->v[f] >= 0 ? PY_SRC_TABLE : PY_SRC_NONE;
    }
}

static ph_status no_table(uint32_t version_hex, int stale, struct ph_error *err)
{
    unsigned minor = (version_hex >> 16) & 0xff, micro = (version_hex >> 8) & 0xff;
    if (stale)
        return ph_fail(err, PH_ERR_NO_LAYOUT, "the built-in table for 3.%u was generated for "
                       "another layout_fields.def: regenerate with tests/tools/gen-tables.sh", minor);
    if (minor == 14 && micro < 5)
        return ph_fail(err, PH_ERR_NO_LAYOUT,
                       "no built-in table for 3.14.%u: 3.14.0-3.14.4 have the incremental GC (GC "
                       "state 240 bytes, later PyInterpreterState fields moved); the 3.14 table "
                       "covers 3.14.5+ only. Install python3.14's debug symbols or use debuginfod",
                       micro);
    if ((version_hex & 0xf0) != 0xf0)
        return ph_fail(err, PH_ERR_NO_LAYOUT, "no built-in table for the pre-release 0x%08x: "
                       "pre-releases need DWARF (debug symbols or debuginfod)", version_hex);
    unsigned lo = 99, hi = 0; /* the minors the tables cover, from the tables themselves */
    for (size_t i = 0; i < py_layout_tables_n; i++) {
        unsigned a = (py_layout_tables[i]->min_hex >> 16) & 0xff, b = (py_layout_tables[i]->max_hex >> 16) & 0xff;
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    return ph_fail(err, PH_ERR_NO_LAYOUT, "no built-in table for 3.%u.%u (tables cover 3.%u to "
                   "3.%u)", minor, micro, lo, hi);
}

ph_status py_layout_from_table(uint32_t version_hex, struct py_layout *out, const char **which,
                               struct ph_error *err)
{
    const struct py_layout_table *c[MAX_CANDIDATES];
    int stale;
    if (table_candidates(version_hex, c, &stale) == 0)
        return no_table(version_hex, stale, err);
    fill_from_row(c[0], out);
    if (which)
        *which = c[0]->generated_from;
    return PH_OK;
}

/* First field where a row and the debug offsets differ, -1 when they agree on every field the
 * debug offsets publish. */
static int row_conflict(const struct py_layout_table *t, const struct py_layout *dbg)
{
    for (int f = 0; f < PF_COUNT; f++)
        if (dbg->src[f] == PY_SRC_DEBUG_OFFSETS && t->v[f] != dbg->v[f])
            return f;
    return -1;
}

/* The nearest row that agrees with the debug offsets (when there are any). */
static const struct py_layout_table *pick_row(uint32_t version_hex, const struct py_layout *dbg,
                                              bool have_dbg, struct py_source_report *rep,
                                              struct ph_error *err)
{
    const struct py_layout_table *c[MAX_CANDIDATES];
    int stale;
    size_t n = table_candidates(version_hex, c, &stale);
    if (n == 0) {
        no_table(version_hex, stale, err);
        ph_report_add(rep, "table: none: %s", err->msg);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        int f = have_dbg ? row_conflict(c[i], dbg) : -1;
        if (f < 0)
            return c[i];
        ph_report_add(rep, "table: row from %.120s skipped: %s is %d, _Py_DebugOffsets says %lld",
                      c[i]->generated_from, py_field_descs[f].name, c[i]->v[f],
                      (long long)dbg->v[f]);
    }
    ph_fail(err, PH_ERR_NO_LAYOUT, "no built-in table row for 0x%08x agrees with the target's "
            "_Py_DebugOffsets", version_hex);
    return NULL;
}

/* DWARF: find a file (debugfind.c), read every field (dwarf.c). Files only: see
 * py_layout_dwarf. */
static bool dwarf_source(const struct py_layout_ctx *ctx, const struct py_layout_options *opts,
                         struct py_dwarf_found *out)
{
    struct ph_error e = {0};
    struct ph_debugfind_result found;
    struct ph_dwarf d;
    if (ctx->elf_fd < 0) {
        ph_report_add(&out->sources, "dwarf: skipped (the interpreter ELF is not open)");
        return false;
    }
    struct ph_debugfind_req req = {
        .elf_fd = ctx->elf_fd, .elf_path = ctx->elf_path ? ctx->elf_path : "(unknown ELF)",
        .build_id = ctx->build_id, .root = ctx->root && ctx->root[0] ? ctx->root : NULL,
        .opts = opts};
    if (ph_debugfind(&req, &found, &out->sources, &e) != PH_OK)
        return false;
    ph_status st = ph_dwarf_open(found.fd, found.alt_path[0] ? found.alt_path : NULL, &d, &e);
    if (st == PH_OK) {
        st = py_layout_from_dwarf(&d, &out->layout, &e);
        ph_dwarf_close(&d);
    }
    close(found.fd);
    if (st != PH_OK) {
        ph_report_add(&out->sources, "dwarf: %.100s unusable: %.140s", found.path, e.msg);
        py_layout_init(&out->layout);
        return false;
    }
    snprintf(out->debug_file, sizeof out->debug_file, "%s", found.path);
    return true;
}

void py_layout_dwarf(const struct py_layout_ctx *ctx, const struct py_layout_options *opts,
                     struct py_dwarf_found *out)
{
    static const struct py_layout_options defaults;
    memset(out, 0, sizeof *out);
    py_layout_init(&out->layout);
    if (!opts)
        opts = &defaults;
    if (opts->no_dwarf)
        ph_report_add(&out->sources, "dwarf: skipped (not requested)");
    else
        out->found = dwarf_source(ctx, opts, out);
}

/* Read the header, then exactly the size of that minor's _Py_DebugOffsets (_PyRuntime of 3.9
 * is smaller than 3.15's table, so never read more than the cookie before knowing the minor). */
static ph_status read_debug_offsets(const struct py_layout_ctx *ctx, uint32_t known,
                                    struct py_layout *dbg, uint32_t *version, bool *ft,
                                    struct ph_error *e)
{
    uint8_t head[PY_DEBUG_OFFSETS_HEADER];
    ph_status st = ph_mem_read(ctx->mem, ctx->runtime_addr, head, sizeof head, e);
    if (st != PH_OK || (st = py_debug_offsets_header(head, sizeof head, version, ft, e)) != PH_OK)
        return st;
    const struct py_debug_offsets_table *t = py_debug_offsets_table_for(minor_of(*version));
    if (!t)
        return ph_fail(e, PH_ERR_NO_LAYOUT, "no _Py_DebugOffsets table for 3.%d",
                       minor_of(*version));
    uint8_t *buf = malloc(t->size);
    if (!buf)
        return ph_fail(e, PH_ERR_INTERNAL, "out of memory for _Py_DebugOffsets");
    st = ph_mem_read(ctx->mem, ctx->runtime_addr, buf, t->size, e);
    if (st == PH_OK)
        st = py_layout_from_debug_offsets(buf, t->size, known, dbg, ft, e);
    free(buf);
    return st;
}

static bool debug_offsets_source(const struct py_layout_ctx *ctx, struct py_target *out,
                                 struct py_layout *dbg)
{
    struct ph_error e = {0};
    uint32_t version = 0, known = out->version_hex;
    bool ft = false;
    if (known && minor_of(known) < 13) {
        ph_report_add(&out->sources, "debug-offsets: none before 3.13");
        return false;
    }
    if (!ctx->mem || !ctx->runtime_addr) {
        ph_report_add(&out->sources, "debug-offsets: skipped (_PyRuntime not located)");
        return false;
    }
    if (read_debug_offsets(ctx, known, dbg, &version, &ft, &e) != PH_OK) {
        ph_report_add(&out->sources, "debug-offsets: not used: %s", e.msg);
        return false;
    }
    if (version != out->version_hex)
        snprintf(out->version_source, sizeof out->version_source, "debug-offsets");
    out->version_hex = version;
    out->free_threaded = ft;
    int n = 0;
    for (int f = 0; f < PF_COUNT; f++)
        n += dbg->src[f] == PY_SRC_DEBUG_OFFSETS;
    ph_report_add(&out->sources, "debug-offsets: 3.%d.%d at _PyRuntime 0x%llx, %d fields%s",
                  minor_of(version), (int)((version >> 8) & 0xff),
                  (unsigned long long)ctx->runtime_addr, n, ft ? ", free-threaded" : "");
    return true;
}

/* With DWARF in hand the debug offsets are a cross-check only (DWARF is of this very build). */
static void compare_with_dwarf(const struct py_layout *dbg, struct py_target *out)
{
    int n = 0, bad = 0, first = -1;
    for (int f = 0; f < PF_COUNT; f++) {
        if (dbg->src[f] != PY_SRC_DEBUG_OFFSETS)
            continue;
        n++;
        if (dbg->v[f] != out->layout.v[f]) {
            bad++;
            if (first < 0)
                first = f;
        }
    }
    if (bad == 0)
        ph_report_add(&out->sources, "debug-offsets: all %d fields agree with DWARF", n);
    else
        ph_report_add(&out->sources, "debug-offsets: %d of %d fields disagree with DWARF (first: "
                      "%s %lld, DWARF %lld); DWARF used", bad, n, py_field_descs[first].name,
                      (long long)dbg->v[first], (long long)out->layout.v[first]);
}

/* Without DWARF: say which fields a heap walk needs that no source gave. */
static void note_missing(struct py_target *out)
{
    static const int need[] = {PF_RT_INTERP_HEAD, PF_GCS_HEAD0, PF_GCS_HEAD1, PF_GCS_HEAD2,
                               PF_GC_HEAD_SIZE, PF_OB_TYPE, PF_TP_FLAGS, PF_TP_BASICSIZE};
    char list[200] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (out->layout.v[need[i]] < 0 && len + 32 < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                                    py_field_descs[need[i]].name);
    if (!LAY_HAS(&out->layout, IS_GC) && !LAY_HAS(&out->layout, RT_GC) && len + 32 < sizeof list)
        len += (size_t)snprintf(list + len, sizeof list - len, "%sIS_GC", len ? ", " : "");
    if (len)
        ph_report_add(&out->sources, "layout: incomplete for a heap walk: no %s", list);
}

/* The last report line of one source ("debug-offsets: none before 3.13"), or NULL. */
static const char *last_line(const struct py_source_report *r, const char *prefix)
{
    const char *found = NULL;
    for (int i = 0; i < r->n; i++)
        if (strncmp(r->line[i], prefix, strlen(prefix)) == 0)
            found = r->line[i];
    return found;
}

/* No source answered: each one's own reason, and how to get DWARF when DWARF was wanted. */
static ph_status no_layout(const struct py_layout_ctx *ctx, const struct py_layout_options *opts,
                           const struct py_target *out, const struct ph_error *table_err,
                           struct ph_error *err)
{
    const char *why[3] = {last_line(&out->sources, "dwarf:"),
                          last_line(&out->sources, "debug-offsets:"),
                          table_err->msg[0] ? table_err->msg : last_line(&out->sources, "table:")};
    char reasons[3 * 260] = "";
    size_t o = 0;
    for (int i = 0; i < 3; i++)
        if (why[i] && o < sizeof reasons)
            o += (size_t)snprintf(reasons + o, sizeof reasons - o, "%s%s%s", o ? "; " : "",
                                  i == 2 && table_err->msg[0] ? "table: " : "", why[i]);
    return ph_fail(err, PH_ERR_NO_LAYOUT, "no layout for %s: %s%s",
                   ctx->elf_path && *ctx->elf_path ? ctx->elf_path : "the interpreter", reasons,
                   opts->no_dwarf ? "" : " (for DWARF: install its debug symbols, set "
                   "DEBUGINFOD_URLS or pass --debug-file)");
}

/* No DWARF: the table row that agrees with the debug offsets, then the debug offsets on top. */
static ph_status combine_without_dwarf(const struct py_layout_ctx *ctx,
                                       const struct py_layout_options *opts,
                                       const struct py_layout *dbg, bool have_dbg,
                                       struct py_target *out, struct ph_error *err)
{
    struct ph_error e = {0};
    const struct py_layout_table *row = NULL;
    if (opts->no_table)
        ph_report_add(&out->sources, "table: skipped (not requested)");
    else if (!out->version_hex)
        ph_report_add(&out->sources, "table: skipped (version unknown)");
    else if ((row = pick_row(out->version_hex, dbg, have_dbg, &out->sources, &e)) != NULL)
        ph_report_add(&out->sources, "table: 3.%d row generated from %s", minor_of(row->gen_hex),
                      row->generated_from);
    if (row)
        fill_from_row(row, &out->layout);
    for (int f = 0; have_dbg && f < PF_COUNT; f++) {
        if (dbg->src[f] != PY_SRC_DEBUG_OFFSETS)
            continue;
        out->layout.v[f] = dbg->v[f];
        out->layout.src[f] = PY_SRC_DEBUG_OFFSETS;
    }
    if (!row && !have_dbg)
        return no_layout(ctx, opts, out, &e, err);
    note_missing(out);
    return PH_OK;
}

ph_status py_layout_finish(const struct py_layout_ctx *ctx, const struct py_layout_options *opts,
                           const struct py_dwarf_found *dw, struct py_target *out,
                           struct ph_error *err)
{
    static const struct py_layout_options defaults;
    struct py_layout dbg;
    bool have_dbg = false;
    if (!opts)
        opts = &defaults;
    py_layout_init(&out->layout);
    py_layout_init(&dbg);
    out->debug_file[0] = '\0';
    if (ctx->version_hex)
        out->version_hex = ctx->version_hex;
    for (int i = 0; i < dw->sources.n; i++)
        ph_report_add(&out->sources, "%s", dw->sources.line[i]);
    if (dw->found) {
        out->layout = dw->layout;
        snprintf(out->debug_file, sizeof out->debug_file, "%s", dw->debug_file);
    }
    if (opts->no_debug_offsets)
        ph_report_add(&out->sources, "debug-offsets: skipped (not requested)");
    else
        have_dbg = debug_offsets_source(ctx, out, &dbg);
    if (!dw->found)
        return combine_without_dwarf(ctx, opts, &dbg, have_dbg, out, err);
    if (have_dbg)
        compare_with_dwarf(&dbg, out);
    return PH_OK;
}

ph_status py_layout_resolve(const struct py_layout_ctx *ctx, const struct py_layout_options *opts,
                            struct py_target *out, struct ph_error *err)
{
    struct py_dwarf_found dw;
    py_layout_dwarf(ctx, opts, &dw);
    return py_layout_finish(ctx, opts, &dw, out, err);
}
