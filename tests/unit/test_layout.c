/*
 * test_layout.c: the layout sources against real builds.
 *
 * DWARF: every pyenv libpython, Debian's python3.11 debug file and the sid debug files give
 * exactly a checked-in table row, plus spot checks against numbers checked with gdb. Debug
 * offsets: the _Py_DebugOffsets bytes are constant-initialised data, so the .PyRuntime section
 * of the ELF holds them; decoded, every published field must equal DWARF; hostile variants must
 * be rejected without touching the output. Tables: lookup rules. debugfind: each place of the
 * chain, using temporary roots. py_layout_resolve: the chain with a fake target memory that
 * serves the .PyRuntime bytes. Builds that are not installed are skipped (pyenv), unless
 * required (Debian 3.11; sid when PYHEAP_REQUIRE_SID=1).
 */
#include <check.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/proc/maps.h"
#include "lib/proc/mem.h"
#include "symbols/debug_offsets.h"
#include "symbols/debugfind.h"
#include "symbols/dwarf.h"
#include "symbols/layout_sources.h"
#include "symbols/tables/tables.h"
#include "tests/unit/check_run.h"

#define PYENV "/root/.pyenv/versions"
#define DEBIAN_ELF "/usr/bin/python3.11"

struct build {
    char name[32];
    char dwarf[PATH_MAX]; /* file with the DWARF */
    char elf[PATH_MAX];   /* file with .PyRuntime holding _Py_DebugOffsets, "" if < 3.13 */
    uint32_t hex;
    bool required;
};

static const char *sid_root(void)
{
    const char *r = getenv("PYHEAP_SID_ROOT");
    return r && *r ? r : "/var/cache/pyheap/sid-root";
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The .build-id debug file of an ELF under root ("" for the host). */
static bool debug_path_of(const char *root, const char *elf, char *out, size_t cap)
{
    char path[PATH_MAX], id[81];
    snprintf(path, sizeof path, "%s%s", root, elf);
    int fd = open(path, O_RDONLY);
    bool ok = fd >= 0 && ph_elf_build_id(fd, id, sizeof id) && strlen(id) > 2;
    if (fd >= 0)
        close(fd);
    if (ok)
        snprintf(out, cap, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", root, id, id + 2);
    return ok && exists(out);
}

/* Bytes of a named section of an ELF file (at most cap). */
static size_t read_section(const char *path, const char *name, uint8_t *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    size_t got = 0, shstrndx;
    elf_version(EV_CURRENT);
    Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
    Elf_Scn *scn = NULL;
    while (e && elf_getshdrstrndx(e, &shstrndx) == 0 && (scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        const char *n = gelf_getshdr(scn, &sh) ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;
        if (!n || strcmp(n, name) != 0 || sh.sh_type == SHT_NOBITS)
            continue;
        size_t want = sh.sh_size < cap ? sh.sh_size : cap;
        ssize_t r = pread(fd, buf, want, (off_t)sh.sh_offset);
        got = r > 0 ? (size_t)r : 0;
        break;
    }
    if (e)
        elf_end(e);
    if (fd >= 0)
        close(fd);
    return got;
}

/* Every build present here; `n` of them. */
static size_t list_builds(struct build *b, size_t cap)
{
    static const struct { const char *ver; uint32_t hex; } pyenv[] = {
        {"3.8.18", 0x030812f0}, {"3.9.18", 0x030912f0}, {"3.10.13", 0x030a0df0},
        {"3.11.7", 0x030b07f0}, {"3.12.1", 0x030c01f0}, {"3.13.0", 0x030d00f0},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof pyenv / sizeof pyenv[0] && n < cap; i++) {
        char minor[8];
        snprintf(minor, sizeof minor, "%.*s", (int)(strrchr(pyenv[i].ver, '.') - pyenv[i].ver),
                 pyenv[i].ver);
        struct build *x = &b[n];
        *x = (struct build){.hex = pyenv[i].hex};
        snprintf(x->name, sizeof x->name, "pyenv-%s", pyenv[i].ver);
        snprintf(x->dwarf, sizeof x->dwarf, PYENV "/%s/lib/libpython%s.so.1.0", pyenv[i].ver, minor);
        if (pyenv[i].hex >= 0x030d0000)
            snprintf(x->elf, sizeof x->elf, "%s", x->dwarf);
        n += exists(x->dwarf);
    }
    struct build *d = &b[n++];
    *d = (struct build){.name = "debian-3.11.2", .hex = 0x030b02f0, .required = true};
    ck_assert_msg(debug_path_of("", DEBIAN_ELF, d->dwarf, sizeof d->dwarf),
                  "Debian's python3.11 debug file is required (apt-get install python3.11-dbg)");
    bool need_sid = getenv("PYHEAP_REQUIRE_SID") && strcmp(getenv("PYHEAP_REQUIRE_SID"), "1") == 0;
    for (int m = 13; m <= 15 && n < cap; m++) {
        struct build *s = &b[n];
        char exe[64];
        uint8_t head[PY_DEBUG_OFFSETS_HEADER];
        bool ft;
        snprintf(exe, sizeof exe, "/usr/bin/python3.%d", m);
        *s = (struct build){.required = need_sid};
        snprintf(s->name, sizeof s->name, "sid-3.%d", m);
        snprintf(s->elf, sizeof s->elf, "%s%s", sid_root(), exe);
        bool ok = debug_path_of(sid_root(), exe, s->dwarf, sizeof s->dwarf) &&
                  read_section(s->elf, ".PyRuntime", head, sizeof head) == sizeof head &&
                  py_debug_offsets_header(head, sizeof head, &s->hex, &ft, NULL) == PH_OK;
        ck_assert_msg(ok || !need_sid, "sid build %s missing", s->name);
        n += ok;
    }
    return n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_dwarf(const struct build *b, struct py_layout *l)
{
    struct ph_error err = {0};
    int fd = open(b->dwarf, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    double t0 = now();
    ph_status st = py_layout_from_dwarf_fd(fd, l, &err);
    double dt = now() - t0;
    close(fd);
    ck_assert_msg(st == PH_OK, "%s: %s", b->name, err.msg);
    printf("  %-16s DWARF read in %.3f s (%s)\n", b->name, dt, b->dwarf);
    ck_assert_msg(dt < 3.0, "%s: DWARF read took %.2f s", b->name, dt);
}

/* ---- DWARF against the checked-in tables and known numbers ---- */

static bool row_equals(const struct py_layout_table *t, const struct py_layout *l, int *diff)
{
    for (int f = 0; f < PF_COUNT; f++)
        if (t->v[f] != l->v[f]) {
            *diff = f;
            return false;
        }
    return true;
}

START_TEST(test_dwarf_equals_tables)
{
    struct build b[16];
    size_t n = list_builds(b, 16);
    for (size_t i = 0; i < n; i++) {
        struct py_layout l;
        read_dwarf(&b[i], &l);
        bool matched = false;
        int diff = -1;
        for (size_t r = 0; r < py_layout_tables_n && !matched; r++) {
            const struct py_layout_table *t = py_layout_tables[r];
            ck_assert_int_eq(t->nfields, PF_COUNT);
            if (b[i].hex >= t->min_hex && b[i].hex <= t->max_hex)
                matched = row_equals(t, &l, &diff);
        }
        ck_assert_msg(matched, "%s: no table row equals its DWARF (first difference: %s = %lld)",
                      b[i].name, diff >= 0 ? py_field_descs[diff].name : "no row for the version",
                      diff >= 0 ? (long long)l.v[diff] : -1LL);
        for (int f = 0; f < PF_COUNT; f++)
            ck_assert(l.v[f] < 0 ? l.src[f] == PY_SRC_NONE : l.src[f] == PY_SRC_DWARF);
    }
}
END_TEST

static const struct build *find_build(const struct build *b, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(b[i].name, name) == 0)
            return &b[i];
    return NULL;
}

/* Numbers checked with gdb `ptype /o` (shared/reference/cpython-internals.md). */
START_TEST(test_dwarf_spot_checks)
{
    static const struct { const char *build; int field; int64_t v; } known[] = {
        {"pyenv-3.11.7", PF_TP_BASICSIZE, 32}, {"pyenv-3.11.7", PF_TP_FLAGS, 168},
        {"pyenv-3.11.7", PF_GC_HEAD_SIZE, 16}, {"pyenv-3.11.7", PF_IS_GC, 648},
        {"debian-3.11.2", PF_TP_BASICSIZE, 32}, {"debian-3.11.2", PF_TP_FLAGS, 168},
        {"debian-3.11.2", PF_GC_HEAD_SIZE, 16}, {"debian-3.11.2", PF_IS_GC, 648},
        {"debian-3.11.2", PF_CFRAME_CURRENT_FRAME, 8}, {"debian-3.11.2", PF_TS_CFRAME, 56},
        {"debian-3.11.2", PF_STR_ASCII_SIZE, 48}, {"debian-3.11.2", PF_TS_FRAME, -1},
        {"pyenv-3.8.18", PF_RT_GC, 344}, {"pyenv-3.8.18", PF_IS_GC, -1},
        {"pyenv-3.8.18", PF_FRAME_LOCALSPLUS, 360}, {"pyenv-3.8.18", PF_TYPE_SIZE, 416},
        {"pyenv-3.10.13", PF_FRAME_LOCALSPLUS, 352}, {"pyenv-3.10.13", PF_FRAME_STACKDEPTH, 80},
        {"pyenv-3.12.1", PF_IS_STATIC_TYPES, 373704}, {"pyenv-3.12.1", PF_CFRAME_CURRENT_FRAME, 0},
        {"pyenv-3.12.1", PF_STATIC_TYPE_STATE_SIZE, 40}, {"pyenv-3.12.1", PF_IS_MODULES, 944},
        {"pyenv-3.13.0", PF_RT_INTERP_HEAD, 632}, {"pyenv-3.13.0", PF_IS_GC, 7400},
        {"pyenv-3.13.0", PF_GCS_PERMANENT, 104}, {"pyenv-3.13.0", PF_TS_CURRENT_FRAME, 72},
        {"pyenv-3.13.0", PF_GCS_HEAD0, 24}, {"sid-3.13", PF_GCS_HEAD0, 20},
        {"sid-3.14", PF_TUPLE_ITEMS, 32}, {"sid-3.14", PF_GCS_SIZE, 264},
        {"sid-3.14", PF_GCS_PERMANENT, 96}, {"sid-3.14", PF_IS_SYSDICT, 7672},
        {"sid-3.14", PF_IFRAME_STACKPOINTER, 64}, {"sid-3.14", PF_IFRAME_STACKTOP, -1},
    };
    struct build b[16];
    size_t n = list_builds(b, 16);
    const struct build *last = NULL;
    struct py_layout l;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const struct build *x = find_build(b, n, known[i].build);
        if (!x)
            continue;
        if (x != last)
            read_dwarf(x, &l);
        last = x;
        ck_assert_msg(l.v[known[i].field] == known[i].v, "%s %s = %lld, expected %lld", x->name,
                      py_field_descs[known[i].field].name, (long long)l.v[known[i].field],
                      (long long)known[i].v);
    }
}
END_TEST

/* ---- member path syntax ---- */

struct open_struct {
    struct ph_dwarf d;
    int fd;
    Dwarf_Die die;
};

static void open_struct(const char *file, const char *name, struct open_struct *o)
{
    struct ph_error err = {0};
    bool found = false;
    const char *names[1] = {name};
    struct ph_dwarf_wanted w = {.names = names, .n = 1, .dies = &o->die, .found = &found};
    o->fd = open(file, O_RDONLY);
    ck_assert_int_ge(o->fd, 0);
    ck_assert_int_eq(ph_dwarf_open(o->fd, NULL, &o->d, &err), PH_OK);
    ck_assert_int_eq(ph_dwarf_find_structs(&o->d, &w, &err), PH_OK);
    ck_assert_msg(found, "%s not in %s", name, file);
}

static void close_struct(struct open_struct *o)
{
    ph_dwarf_close(&o->d);
    close(o->fd);
}

START_TEST(test_path_syntax)
{
    static const struct { const char *st, *path; int64_t v; } cases[] = {
        {"_gc_runtime_state", "generations", 24},
        {"_gc_runtime_state", "generations[0]", 24},
        {"_gc_runtime_state", "generations[2]", 72},
        {"_gc_runtime_state", "generations[1].head._gc_prev", 56},
        {"_gc_runtime_state", "generations[1].count", 68},
        {"_gc_runtime_state", "generations[3]", -1},   /* past the declared bound */
        {"_gc_runtime_state", "generations[", -1},
        {"_gc_runtime_state", "generations[]", -1},
        {"_gc_runtime_state", "generations[x]", -1},
        {"_gc_runtime_state", "generations[-1]", -1},
        {"_gc_runtime_state", "generations[1]x", -1},
        {"_gc_runtime_state", "generations[99999999999]", -1},
        {"_gc_runtime_state", "generations..head", -1},
        {"_gc_runtime_state", "generations.", -1},
        {"_gc_runtime_state", "", -1},
        {"_gc_runtime_state", ".", -1},
        {"_gc_runtime_state", "nonexistent", -1},
        {"_gc_runtime_state", "enabled.x", -1},         /* not an aggregate */
        {"_gc_runtime_state", "enabled[0]", -1},        /* not an array */
        {"PyTupleObject", "ob_base.ob_base.ob_type", 8}, /* nested structs, through a typedef */
        {"PyTupleObject", "ob_item[0]", 24},
        {"PyTupleObject", "ob_item[1]", -1},            /* declared ob_item[1] */
        {"PyASCIIObject", "state", 32},                 /* a struct of bit-fields */
        {"_dictkeysobject", "dk_indices", 32},
    };
    struct build b[16];
    size_t n = list_builds(b, 16);
    const struct build *x = find_build(b, n, "debian-3.11.2");
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct open_struct o;
        open_struct(x->dwarf, cases[i].st, &o);
        int64_t got = ph_dwarf_member_offset(&o.die, cases[i].path);
        close_struct(&o);
        ck_assert_msg(got == cases[i].v, "%s \"%s\" = %lld, expected %lld", cases[i].st,
                      cases[i].path, (long long)got, (long long)cases[i].v);
    }
}
END_TEST

/* 3.12 made ob_refcnt a member of an anonymous union: reachable without naming the union. */
START_TEST(test_path_anonymous_union)
{
    struct build b[16];
    size_t n = list_builds(b, 16);
    const struct build *x = find_build(b, n, "pyenv-3.12.1");
    if (!x)
        return;
    struct open_struct o;
    open_struct(x->dwarf, "_object", &o);
    ck_assert_int_eq(ph_dwarf_member_offset(&o.die, "ob_refcnt"), 0);
    ck_assert_int_eq(ph_dwarf_member_offset(&o.die, "ob_refcnt_split[1]"), 4);
    ck_assert_int_eq(ph_dwarf_member_offset(&o.die, "ob_refcnt_split[2]"), -1);
    ck_assert_int_eq(ph_dwarf_member_offset(&o.die, "ob_type"), 8);
    close_struct(&o);
}
END_TEST

static int count_leaf(const char *path, int64_t off, int64_t size, void *ctx)
{
    int *n = ctx;
    if (*n == 0)
        ck_assert(strcmp(path, "cookie") == 0 && off == 0 && size == 8);
    (*n)++;
    return 0;
}

START_TEST(test_walk_leaves)
{
    struct build b[16];
    size_t n = list_builds(b, 16);
    for (size_t i = 0; i < n; i++) {
        if (!b[i].elf[0])
            continue;
        struct open_struct o;
        struct ph_error err = {0};
        int leaves = 0;
        open_struct(b[i].dwarf, "_Py_DebugOffsets", &o);
        ck_assert_int_eq(ph_dwarf_walk_leaves(&o.die, count_leaf, &leaves, &err), PH_OK);
        const struct py_debug_offsets_table *t = py_debug_offsets_table_for((b[i].hex >> 16) & 0xff);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq((size_t)leaves, t->n);
        ck_assert_int_eq(ph_dwarf_type_size(&o.die), t->size);
        close_struct(&o);
    }
}
END_TEST

/* ---- _Py_DebugOffsets ---- */

START_TEST(test_debug_offsets_tables_shape)
{
    ck_assert_int_ge(py_debug_offsets_tables_n, 3);
    for (size_t i = 0; i < py_debug_offsets_tables_n; i++) {
        const struct py_debug_offsets_table *t = py_debug_offsets_tables[i];
        ck_assert_str_eq(t->entries[0].name, "cookie");
        ck_assert_int_eq(t->entries[0].pos, 0);
        ck_assert_str_eq(t->entries[1].name, "version");
        ck_assert_int_eq(t->entries[1].pos, 8);
        ck_assert_str_eq(t->entries[2].name, "free_threaded");
        ck_assert_int_eq(t->entries[2].pos, 16);
        ck_assert_int_eq(t->entries[t->n - 1].pos + 8, t->size);
        ck_assert_int_le(t->size, py_debug_offsets_read_size());
        ck_assert_int_ge(py_debug_offsets_mapped_fields(t->minor), 45);
    }
    ck_assert_ptr_null(py_debug_offsets_table_for(12));
}
END_TEST

/* The bytes of _Py_DebugOffsets of a 3.13+ build, from its ELF. */
static size_t debug_bytes(const struct build *b, uint8_t *buf, size_t cap)
{
    size_t n = read_section(b->elf, ".PyRuntime", buf, cap);
    ck_assert_msg(n >= 584, "%s: no .PyRuntime in %s", b->name, b->elf);
    return n;
}

START_TEST(test_debug_offsets_equal_dwarf)
{
    struct build b[16];
    size_t n = list_builds(b, 16);
    int checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (!b[i].elf[0])
            continue;
        uint8_t buf[1024];
        size_t len = debug_bytes(&b[i], buf, sizeof buf);
        struct py_layout dw, dbg;
        struct ph_error err = {0};
        bool ft = true;
        read_dwarf(&b[i], &dw);
        py_layout_init(&dbg);
        ck_assert_msg(py_layout_from_debug_offsets(buf, len, b[i].hex, &dbg, &ft, &err) == PH_OK,
                      "%s: %s", b[i].name, err.msg);
        ck_assert(!ft);
        int fields = 0;
        for (int f = 0; f < PF_COUNT; f++) {
            if (dbg.src[f] != PY_SRC_DEBUG_OFFSETS) {
                ck_assert_int_eq(dbg.v[f], -1);
                continue;
            }
            fields++;
            ck_assert_msg(dbg.v[f] == dw.v[f], "%s: %s debug-offsets %lld, DWARF %lld",
                          b[i].name, py_field_descs[f].name, (long long)dbg.v[f],
                          (long long)dw.v[f]);
        }
        printf("  %-16s %d debug-offset fields equal DWARF\n", b[i].name, fields);
        ck_assert_int_ge(fields, 45);
        checked++;
    }
    ck_assert_int_ge(checked, 0);
}
END_TEST

static int64_t pos_of(int minor, const char *name)
{
    const struct py_debug_offsets_table *t = py_debug_offsets_table_for(minor);
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->entries[i].name, name) == 0)
            return t->entries[i].pos;
    ck_abort_msg("no %s in 3.%d", name, minor);
    return -1;
}

static void put_u64(uint8_t *buf, int64_t pos, uint64_t v)
{
    memcpy(buf + pos, &v, sizeof v);
}

/* Parse a mutated copy; it must be rejected and leave `out` as it was. */
static void expect_reject(const uint8_t *good, size_t len, uint32_t hex, const char *field,
                          uint64_t value, const char *why)
{
    uint8_t buf[1024];
    struct py_layout out;
    struct ph_error err = {0};
    bool ft = false;
    memcpy(buf, good, len);
    if (field)
        put_u64(buf, pos_of(good[10] /* minor byte of the version */, field), value);
    py_layout_init(&out);
    out.v[PF_OB_TYPE] = 12345;
    ph_status st = py_layout_from_debug_offsets(buf, len, hex, &out, &ft, &err);
    ck_assert_msg(st == PH_ERR_NO_LAYOUT, "%s: accepted", why);
    ck_assert_msg(out.v[PF_OB_TYPE] == 12345 && out.v[PF_TP_FLAGS] == -1, "%s: output touched", why);
    printf("  rejected (%s): %s\n", why, err.msg);
}

START_TEST(test_debug_offsets_hostile)
{
    struct build b[16];
    size_t n = list_builds(b, 16);
    const struct build *x = find_build(b, n, "pyenv-3.13.0");
    if (!x)
        x = find_build(b, n, "sid-3.13");
    if (!x)
        return;
    uint8_t good[1024], bad[1024];
    size_t len = debug_bytes(x, good, sizeof good);
    uint32_t hex = x->hex;
    memcpy(bad, good, len);
    bad[0] = 'X';
    expect_reject(bad, len, hex, NULL, 0, "bad cookie");
    expect_reject(good, 20, hex, NULL, 0, "too short for the header");
    expect_reject(good, 500, hex, NULL, 0, "shorter than the 3.13 struct");
    expect_reject(good, len, 0x030e00f0, NULL, 0, "identified as 3.14, bytes say 3.13");
    expect_reject(good, len, hex, "version", 0x030c00f0, "bytes say 3.12, identified as 3.13");
    expect_reject(good, len, 0, "version", 0x030c00f0, "version 3.12: no table");
    expect_reject(good, len, hex, "version", 0x040d00f0, "major 4");
    expect_reject(good, len, hex, "free_threaded", 2, "free_threaded 2");
    expect_reject(good, len, hex, "type_object.tp_flags", 416, "offset at the struct end");
    expect_reject(good, len, hex, "type_object.tp_flags", 1ULL << 40, "offset far beyond");
    expect_reject(good, len, hex, "type_object.tp_flags", UINT64_MAX - 4, "offset + 8 wraps");
    expect_reject(good, len, hex, "type_object.size", 1u << 20, "size of 1 MiB");
    expect_reject(good, len, hex, "type_object.size", 0, "size 0");
    expect_reject(good, len, hex, "code_object.size", UINT64_MAX, "huge size of an unused group");
    expect_reject(good, len, hex, "list_object.size", 1u << 21, "huge size, unmapped group");
    expect_reject(good, len, hex, "list_object.ob_size", 24, "ob_size disagrees with tuple's");
    expect_reject(good, len, hex, "interpreter_state.gc", 194900, "GC state past the interpreter");
    expect_reject(good, len, hex, "unicode_object.asciiobject_size", 65, "sub-size beyond size");
    /* and the untouched bytes are accepted */
    struct py_layout out;
    bool ft = true;
    py_layout_init(&out);
    ck_assert_int_eq(py_layout_from_debug_offsets(good, len, 0, &out, &ft, NULL), PH_OK);
    ck_assert_int_eq(out.v[PF_TP_FLAGS], 168);
    ck_assert_int_eq(out.src[PF_TP_FLAGS], PY_SRC_DEBUG_OFFSETS);
}
END_TEST

/* ---- built-in tables ---- */

START_TEST(test_table_lookup)
{
    struct py_layout l;
    struct ph_error err = {0};
    const char *which = NULL;
    ck_assert_int_eq(py_layout_from_table(0x030b02f0, &l, &which, &err), PH_OK);
    ck_assert_ptr_nonnull(strstr(which, "Debian 12 3.11.2"));
    ck_assert_int_eq(l.v[PF_IS_GC], 648);
    ck_assert_int_eq(l.src[PF_IS_GC], PY_SRC_TABLE);
    ck_assert_int_eq(l.src[PF_TS_FRAME], PY_SRC_NONE);
    /* nearest generated version first: 3.13.1 -> pyenv 3.13.0, 3.13.20 -> sid 3.13.18 */
    ck_assert_int_eq(py_layout_from_table(0x030d01f0, &l, &which, &err), PH_OK);
    ck_assert_int_eq(l.v[PF_GCS_HEAD0], 24);
    ck_assert_int_eq(py_layout_from_table(0x030d14f0, &l, &which, &err), PH_OK);
    ck_assert_int_eq(l.v[PF_GCS_HEAD0], 20);
    for (uint32_t minor = 8; minor <= 15; minor++) {
        uint32_t hex = 0x03000000 | (minor << 16) | (minor == 14 ? 0x0a00 : 0) | 0xf0;
        ck_assert_msg(py_layout_from_table(hex, &l, &which, &err) == PH_OK, "3.%u: %s", minor,
                      err.msg);
    }
    ck_assert_int_eq(py_layout_from_table(0x030e04f0, &l, &which, &err), PH_ERR_NO_LAYOUT);
    ck_assert_ptr_nonnull(strstr(err.msg, "3.14.0-3.14.4"));
    ck_assert_int_eq(py_layout_from_table(0x030e05f0, &l, &which, &err), PH_OK);
    ck_assert_int_eq(py_layout_from_table(0x030712f0, &l, &which, &err), PH_ERR_NO_LAYOUT);
    ck_assert_int_eq(py_layout_from_table(0x031000f0, &l, &which, &err), PH_ERR_NO_LAYOUT);
    ck_assert_int_eq(py_layout_from_table(0x030f00a1, &l, &which, &err), PH_ERR_NO_LAYOUT);
    ck_assert_ptr_nonnull(strstr(err.msg, "pre-release"));
}
END_TEST

/* ---- debugfind ---- */

struct tmpdir {
    char path[64];
};

static void tmp_make(struct tmpdir *t)
{
    snprintf(t->path, sizeof t->path, "/tmp/pyheap-test-layout-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->path));
}

static void tmp_remove(struct tmpdir *t)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->path);
    ck_assert_int_eq(system(cmd), 0);
}

/* mkdir -p of dirname(path) under t, then a symlink path -> target. */
static void tmp_link(struct tmpdir *t, const char *path, const char *target)
{
    char full[PATH_MAX];
    ck_assert_int_lt(snprintf(full, sizeof full, "%s%s", t->path, path), (int)sizeof full);
    for (char *p = full + strlen(t->path) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        ck_assert_msg(mkdir(full, 0755) == 0 || errno == EEXIST, "mkdir %s", full);
        *p = '/';
    }
    ck_assert_msg(symlink(target, full) == 0, "symlink %s", full);
}

struct find_case {
    const char *elf;
    const char *root;
    struct py_layout_options opts;
};

static ph_status run_find(const struct find_case *c, struct ph_debugfind_result *res,
                          struct py_source_report *rep)
{
    struct ph_error err = {0};
    int fd = open(c->elf, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    struct ph_debugfind_req req = {.elf_fd = fd, .elf_path = c->elf, .build_id = "",
                                   .root = c->root, .opts = &c->opts};
    memset(rep, 0, sizeof *rep);
    ph_status st = ph_debugfind(&req, res, rep, &err);
    close(fd);
    for (int i = 0; i < rep->n; i++)
        printf("    %s\n", rep->line[i]);
    return st;
}

START_TEST(test_debugfind_host_build_id)
{
    struct ph_debugfind_result r;
    struct py_source_report rep;
    struct find_case c = {.elf = DEBIAN_ELF, .root = "/proc/self/root",
                          .opts = {.no_debuginfod = true}};
    ck_assert_int_eq(run_find(&c, &r, &rep), PH_OK);
    close(r.fd);
    ck_assert_str_eq(r.how, "build-id under host"); /* our own root is the host's */
    ck_assert_ptr_nonnull(strstr(r.path, "/usr/lib/debug/.build-id/"));
    ck_assert_int_eq(rep.n, 2);
    ck_assert_ptr_nonnull(strstr(rep.line[0], "no .debug_info in /usr/bin/python3.11"));
}
END_TEST

START_TEST(test_debugfind_not_found)
{
    struct ph_debugfind_result r;
    struct py_source_report rep;
    struct find_case c = {.elf = DEBIAN_ELF, .opts = {.debug_dirs = "/nonexistent:relative"}};
    unsetenv("DEBUGINFOD_URLS");
    ck_assert_int_eq(run_find(&c, &r, &rep), PH_ERR_NO_LAYOUT);
    ck_assert_int_eq(r.fd, -1);
    ck_assert_int_eq(rep.n, 4);
    ck_assert_ptr_nonnull(strstr(rep.line[1], "no .build-id/c5/"));
    ck_assert_ptr_nonnull(strstr(rep.line[2], "debuglink"));
    ck_assert_ptr_nonnull(strstr(rep.line[3], "DEBUGINFOD_URLS unset"));
    c.opts.no_debuginfod = true;
    ck_assert_int_eq(run_find(&c, &r, &rep), PH_ERR_NO_LAYOUT);
    ck_assert_ptr_nonnull(strstr(rep.line[3], "--no-debuginfod"));
}
END_TEST

/* A container: the debug file exists only under the target's root. */
START_TEST(test_debugfind_target_root)
{
    struct tmpdir t;
    char dbg[PATH_MAX], rel[PATH_MAX];
    struct ph_debugfind_result r;
    struct py_source_report rep;
    ck_assert(debug_path_of("", DEBIAN_ELF, dbg, sizeof dbg));
    tmp_make(&t);
    snprintf(rel, sizeof rel, "/srv/debug%s", strstr(dbg, "/.build-id/"));
    tmp_link(&t, rel, dbg);
    struct find_case c = {.elf = DEBIAN_ELF, .root = t.path,
                          .opts = {.debug_dirs = "/nonexistent:/srv/debug", .no_debuginfod = true}};
    ck_assert_int_eq(run_find(&c, &r, &rep), PH_OK);
    close(r.fd);
    ck_assert_str_eq(r.how, "build-id under target root");
    ck_assert_ptr_nonnull(strstr(r.path, t.path));
    tmp_remove(&t);
}
END_TEST

/* .gnu_debuglink under DIR/<dir of the ELF>/, checked by build-id; a wrong file is refused. */
START_TEST(test_debugfind_debuglink)
{
    struct tmpdir t;
    char dbg[PATH_MAX], dirs[128];
    struct ph_debugfind_result r;
    struct py_source_report rep;
    ck_assert(debug_path_of("", DEBIAN_ELF, dbg, sizeof dbg));
    const char *name = strrchr(dbg, '/') + 1 + 0; /* Debian names the link <rest of id>.debug */
    char link[PATH_MAX];
    snprintf(link, sizeof link, "/dbg/usr/bin/%s", name);
    tmp_make(&t);
    tmp_link(&t, link, dbg);
    snprintf(dirs, sizeof dirs, "%s/dbg", t.path);
    struct find_case c = {.elf = DEBIAN_ELF, .opts = {.debug_dirs = dirs, .no_debuginfod = true}};
    ck_assert_int_eq(run_find(&c, &r, &rep), PH_OK);
    close(r.fd);
    ck_assert_str_eq(r.how, "debuglink under host");
    /* a chroot'ed target: the maps show the ELF under the root's host path; the debuglink
     * directory is looked up inside the root */
    char elf_in[PATH_MAX], link_in[PATH_MAX];
    snprintf(elf_in, sizeof elf_in, "%s" DEBIAN_ELF, t.path);
    snprintf(link_in, sizeof link_in, "/srv/dbg/usr/bin/%s", name);
    tmp_link(&t, DEBIAN_ELF, DEBIAN_ELF);
    tmp_link(&t, link_in, dbg);
    struct find_case in_root = {.elf = elf_in, .root = t.path,
                                .opts = {.debug_dirs = "/srv/dbg", .no_debuginfod = true}};
    ck_assert_int_eq(run_find(&in_root, &r, &rep), PH_OK);
    close(r.fd);
    ck_assert_str_eq(r.how, "debuglink under target root");
    tmp_remove(&t);
    /* the same name pointing at another build's debug file: refused */
    tmp_make(&t);
    tmp_link(&t, link, "/usr/bin/python3.11d");
    snprintf(dirs, sizeof dirs, "%s/dbg", t.path);
    c.opts.debug_dirs = dirs;
    ck_assert_int_eq(run_find(&c, &r, &rep), PH_ERR_NO_LAYOUT);
    tmp_remove(&t);
}
END_TEST

START_TEST(test_debugfind_explicit_and_embedded)
{
    struct ph_debugfind_result r;
    struct py_source_report rep;
    struct find_case c = {.elf = DEBIAN_ELF, .opts = {.debug_file = "/usr/bin/python3.11d"}};
    ck_assert_int_eq(run_find(&c, &r, &rep), PH_OK);
    close(r.fd);
    ck_assert_int_eq(rep.n, 1);
    ck_assert_ptr_nonnull(strstr(rep.line[0], "WARNING"));
    c.opts.debug_file = "/nonexistent.debug";
    c.opts.no_debuginfod = true;
    ck_assert_int_eq(run_find(&c, &r, &rep), PH_OK); /* falls through to the build-id file */
    close(r.fd);
    ck_assert_ptr_nonnull(strstr(rep.line[0], "No such file"));
    const char *lib = PYENV "/3.11.7/lib/libpython3.11.so.1.0";
    if (exists(lib)) {
        struct find_case e = {.elf = lib};
        ck_assert_int_eq(run_find(&e, &r, &rep), PH_OK);
        close(r.fd);
        ck_assert_str_eq(r.how, "embedded .debug_info");
    }
}
END_TEST

START_TEST(test_crc32_matches_debuglink)
{
    char dbg[PATH_MAX];
    uint32_t crc, want;
    ck_assert(debug_path_of("", DEBIAN_ELF, dbg, sizeof dbg));
    int fd = open(DEBIAN_ELF, O_RDONLY);
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    ck_assert_ptr_nonnull(dwelf_elf_gnu_debuglink(e, &want));
    elf_end(e);
    close(fd);
    fd = open(dbg, O_RDONLY);
    ck_assert(ph_file_crc32(fd, &crc));
    close(fd);
    ck_assert_uint_eq(crc, want);
}
END_TEST

/* ---- py_layout_resolve, with a fake target memory serving _PyRuntime ---- */

#define FAKE_BASE 0x10000000ULL
#define FAKE_SIZE 0x10000

struct fake_target {
    uint8_t bytes[FAKE_SIZE];
    struct ph_maps maps;
    struct ph_mem *mem;
};

static long fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct fake_target *f = ctx;
    if (addr < FAKE_BASE || addr - FAKE_BASE >= FAKE_SIZE)
        return -EFAULT;
    size_t off = addr - FAKE_BASE, n = len < FAKE_SIZE - off ? len : FAKE_SIZE - off;
    memcpy(buf, f->bytes + off, n);
    return (long)n;
}

static struct fake_target *fake_open(const struct build *b)
{
    static const char maps[] = "10000000-10010000 rw-p 00000000 00:00 0\n";
    struct fake_target *f = calloc(1, sizeof *f);
    struct ph_error err = {0};
    ck_assert_ptr_nonnull(f);
    debug_bytes(b, f->bytes, sizeof f->bytes);
    ck_assert_int_eq(ph_maps_parse(maps, strlen(maps), &f->maps, &err), PH_OK);
    struct ph_mem_backend be = {.ctx = f, .read = fake_read};
    ck_assert_int_eq(ph_mem_open(be, &f->maps, 0, &f->mem, &err), PH_OK);
    return f;
}

static void fake_close(struct fake_target *f)
{
    ph_mem_close(f->mem);
    ph_maps_free(&f->maps);
    free(f);
}

struct resolve_case {
    const char *elf;       /* opened as the interpreter ELF */
    const char *root;      /* the target's root, NULL for none */
    uint32_t hex;          /* version guess */
    struct fake_target *f; /* NULL: no memory */
    struct py_layout_options opts;
};

static ph_status run_resolve(const struct resolve_case *c, struct py_target *t,
                             struct ph_error *err)
{
    struct ph_proc proc = {0};
    if (c->root)
        snprintf(proc.root, sizeof proc.root, "%s", c->root);
    int fd = c->elf ? open(c->elf, O_RDONLY) : -1;
    struct py_layout_ctx ctx = {
        .root = c->root ? proc.root : NULL, .mem = c->f ? c->f->mem : NULL, .elf_fd = fd,
        .elf_path = c->elf ? c->elf : "", .build_id = "", .version_hex = c->hex,
        .runtime_addr = c->f ? FAKE_BASE : 0};
    memset(t, 0, sizeof *t);
    ph_status st = py_layout_resolve(&ctx, &c->opts, t, err);
    if (fd >= 0)
        close(fd);
    printf("  resolve %s%s%s -> %s\n", c->elf ? c->elf : "(no ELF)", c->opts.no_dwarf ? " no-dwarf" : "",
           c->opts.no_table ? " no-table" : "", st == PH_OK ? "ok" : err->msg);
    for (int i = 0; i < t->sources.n; i++)
        printf("    %s\n", t->sources.line[i]);
    return st;
}

static bool any_line(const struct py_target *t, const char *needle)
{
    for (int i = 0; i < t->sources.n; i++)
        if (strstr(t->sources.line[i], needle))
            return true;
    return false;
}

START_TEST(test_resolve_debian_311)
{
    struct py_target *t = malloc(sizeof *t);
    struct ph_error err = {0};
    struct resolve_case c = {.elf = DEBIAN_ELF, .hex = 0x030b02f0, .opts = {.no_debuginfod = true}};
    ck_assert_int_eq(run_resolve(&c, t, &err), PH_OK);
    ck_assert_ptr_nonnull(strstr(t->debug_file, "/usr/lib/debug/.build-id/c5/"));
    ck_assert_int_eq(t->layout.src[PF_IS_GC], PY_SRC_DWARF);
    ck_assert(any_line(t, "debug-offsets: none before 3.13"));
    c.opts.no_dwarf = true;
    ck_assert_int_eq(run_resolve(&c, t, &err), PH_OK);
    ck_assert_str_eq(t->debug_file, "");
    ck_assert_int_eq(t->layout.src[PF_IS_GC], PY_SRC_TABLE);
    ck_assert_int_eq(t->layout.v[PF_IS_GC], 648);
    ck_assert(any_line(t, "table: 3.11 row generated from Debian 12 3.11.2"));
    c.opts.no_table = true;
    ck_assert_int_eq(run_resolve(&c, t, &err), PH_ERR_NO_LAYOUT);
    c.opts = (struct py_layout_options){.no_dwarf = true};
    c.hex = 0x030e03f0;
    c.elf = NULL;
    ck_assert_int_eq(run_resolve(&c, t, &err), PH_ERR_NO_LAYOUT);
    ck_assert_ptr_nonnull(strstr(err.msg, "3.14.0-3.14.4"));
    free(t);
}
END_TEST

/* sid 3.13.18 and upstream 3.13.0 share a minor version but not a layout: the debug offsets
 * (PyThreadState's size) pick the right row; the container root finds the debug file. */
START_TEST(test_resolve_313_rows)
{
    struct build b[16];
    size_t n = list_builds(b, 16);
    struct py_target *t = malloc(sizeof *t);
    struct ph_error err = {0};
    const struct build *sid = find_build(b, n, "sid-3.13"), *up = find_build(b, n, "pyenv-3.13.0");
    if (sid) {
        struct fake_target *f = fake_open(sid);
        struct resolve_case c = {.elf = sid->elf, .root = sid_root(), .hex = 0x030d00f0, .f = f,
                                 .opts = {.no_debuginfod = true}};
        ck_assert_int_eq(run_resolve(&c, t, &err), PH_OK);
        ck_assert_int_eq(t->version_hex, sid->hex); /* refined from the debug offsets */
        ck_assert(any_line(t, "build-id under target root"));
        ck_assert(any_line(t, "fields agree with DWARF"));
        ck_assert_int_eq(t->layout.v[PF_GCS_HEAD0], 20);
        c.opts.no_dwarf = true;
        ck_assert_int_eq(run_resolve(&c, t, &err), PH_OK);
        ck_assert(any_line(t, "table: 3.13 row generated from Debian sid"));
        ck_assert_int_eq(t->layout.v[PF_GCS_HEAD0], 20);
        ck_assert_int_eq(t->layout.src[PF_GCS_HEAD0], PY_SRC_TABLE);
        ck_assert_int_eq(t->layout.src[PF_TS_SIZE], PY_SRC_DEBUG_OFFSETS);
        c.opts.no_table = true;
        ck_assert_int_eq(run_resolve(&c, t, &err), PH_OK);
        ck_assert(any_line(t, "incomplete for a heap walk"));
        ck_assert_int_eq(t->layout.v[PF_GCS_HEAD0], -1);
        ck_assert_int_eq(t->layout.v[PF_OB_TYPE], 8);
        fake_close(f);
    }
    if (up) {
        struct fake_target *f = fake_open(up);
        struct resolve_case c = {.elf = up->elf, .hex = up->hex, .f = f, .opts = {.no_dwarf = true}};
        ck_assert_int_eq(run_resolve(&c, t, &err), PH_OK);
        ck_assert_int_eq(t->layout.v[PF_GCS_HEAD0], 24);
        /* claiming 3.13.20 makes sid's row the nearest; _PyRuntimeState's size rules it out */
        put_u64(f->bytes, pos_of(13, "version"), 0x030d14f0);
        ph_mem_invalidate(f->mem);
        ck_assert_int_eq(run_resolve(&c, t, &err), PH_OK);
        ck_assert(any_line(t, "skipped: RT_SIZE is 283408, _Py_DebugOffsets says 283320"));
        ck_assert_int_eq(t->layout.v[PF_GCS_HEAD0], 24);
        /* hostile: a PyThreadState size no row has -> debug offsets only */
        put_u64(f->bytes, pos_of(13, "thread_state.size"), 400);
        ph_mem_invalidate(f->mem);
        ck_assert_int_eq(run_resolve(&c, t, &err), PH_OK);
        ck_assert(any_line(t, "skipped: TS_SIZE"));
        ck_assert_int_eq(t->layout.v[PF_GCS_HEAD0], -1);
        ck_assert_int_eq(t->layout.v[PF_TS_SIZE], 400);
        fake_close(f);
    }
    free(t);
}
END_TEST

static Suite *layout_suite(void)
{
    Suite *s = suite_create("layout");
    TCase *dw = tcase_create("dwarf");
    tcase_set_timeout(dw, 120);
    tcase_add_test(dw, test_dwarf_equals_tables);
    tcase_add_test(dw, test_dwarf_spot_checks);
    tcase_add_test(dw, test_path_syntax);
    tcase_add_test(dw, test_path_anonymous_union);
    tcase_add_test(dw, test_walk_leaves);
    suite_add_tcase(s, dw);
    TCase *dbg = tcase_create("debug_offsets");
    tcase_set_timeout(dbg, 120);
    tcase_add_test(dbg, test_debug_offsets_tables_shape);
    tcase_add_test(dbg, test_debug_offsets_equal_dwarf);
    tcase_add_test(dbg, test_debug_offsets_hostile);
    suite_add_tcase(s, dbg);
    TCase *tab = tcase_create("tables");
    tcase_add_test(tab, test_table_lookup);
    suite_add_tcase(s, tab);
    TCase *find = tcase_create("debugfind");
    tcase_set_timeout(find, 120);
    tcase_add_test(find, test_debugfind_host_build_id);
    tcase_add_test(find, test_debugfind_not_found);
    tcase_add_test(find, test_debugfind_target_root);
    tcase_add_test(find, test_debugfind_debuglink);
    tcase_add_test(find, test_debugfind_explicit_and_embedded);
    tcase_add_test(find, test_crc32_matches_debuglink);
    suite_add_tcase(s, find);
    TCase *res = tcase_create("resolve");
    tcase_set_timeout(res, 120);
    tcase_add_test(res, test_resolve_debian_311);
    tcase_add_test(res, test_resolve_313_rows);
    suite_add_tcase(s, res);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep the report lines of a failing forked test */
    return ph_check_run(layout_suite());
}
