/*
 * debug_offsets.c: layout fields from the _Py_DebugOffsets a 3.13+ interpreter publishes.
 *
 * The bytes are untrusted (a hostile or corrupt target can put anything at _PyRuntime), so
 * nothing is used before every check passes: the cookie; a version whose minor has a position
 * table and matches the minor the caller identified; free_threaded 0 or 1; every group `size`
 * in (0, 1 MiB); every published offset with offset + 8 <= its group's size (a sizeof-like
 * value such as asciiobject_size: <= the group's size); the GC state inside the interpreter
 * state; and fields published twice (ob_size in tuple, list and bytes) agreeing. Only then are
 * the fields copied out, so a rejected table leaves the caller's layout untouched.
 *
 * The mapping below names debug-offset fields, not positions: positions come from the generated
 * per-minor tables, and a field absent from a minor's table is simply not published there.
 */
#include "symbols/debug_offsets.h"

#include <string.h>

#include "symbols/layout_sources.h"

#define MAX_GROUP_SIZE (1u << 20)

enum dbg_kind {
    DBG_OFF,     /* an offset inside the group's struct */
    DBG_SIZE,    /* the group's own size: sizeof the struct */
    DBG_SUBSIZE, /* sizeof a leading part of the struct (PyASCIIObject inside PyUnicodeObject) */
};

struct dbg_map {
    const char *name;
    int field;
    enum dbg_kind kind;
};

static const struct dbg_map dbg_map[] = {
    {"runtime_state.size", PF_RT_SIZE, DBG_SIZE},
    {"runtime_state.interpreters_head", PF_RT_INTERP_HEAD, DBG_OFF},
    {"interpreter_state.size", PF_IS_SIZE, DBG_SIZE},
    {"interpreter_state.id", PF_IS_ID, DBG_OFF},
    {"interpreter_state.next", PF_IS_NEXT, DBG_OFF},
    {"interpreter_state.threads_head", PF_IS_THREADS_HEAD, DBG_OFF},
    {"interpreter_state.gc", PF_IS_GC, DBG_OFF},
    {"interpreter_state.imports_modules", PF_IS_MODULES, DBG_OFF},
    {"interpreter_state.sysdict", PF_IS_SYSDICT, DBG_OFF},
    {"interpreter_state.builtins", PF_IS_BUILTINS, DBG_OFF},
    {"thread_state.size", PF_TS_SIZE, DBG_SIZE},
    {"thread_state.next", PF_TS_NEXT, DBG_OFF},
    {"thread_state.interp", PF_TS_INTERP, DBG_OFF},
    {"thread_state.current_frame", PF_TS_CURRENT_FRAME, DBG_OFF},
    {"thread_state.thread_id", PF_TS_THREAD_ID, DBG_OFF},
    {"thread_state.native_thread_id", PF_TS_NATIVE_THREAD_ID, DBG_OFF},
    {"thread_state.datastack_chunk", PF_TS_DATASTACK_CHUNK, DBG_OFF},
    {"thread_state.current_exception", PF_TS_CURRENT_EXCEPTION, DBG_OFF},
    {"thread_state.exc_state", PF_TS_EXC_STATE, DBG_OFF},
    {"interpreter_frame.size", PF_IFRAME_SIZE, DBG_SIZE},
    {"interpreter_frame.previous", PF_IFRAME_PREVIOUS, DBG_OFF},
    {"interpreter_frame.executable", PF_IFRAME_CODE, DBG_OFF},
    {"interpreter_frame.localsplus", PF_IFRAME_LOCALSPLUS, DBG_OFF},
    {"interpreter_frame.owner", PF_IFRAME_OWNER, DBG_OFF},
    {"interpreter_frame.stackpointer", PF_IFRAME_STACKPOINTER, DBG_OFF},
    {"code_object.size", PF_CODE_SIZE, DBG_SIZE},
    {"code_object.filename", PF_CODE_FILENAME, DBG_OFF},
    {"code_object.name", PF_CODE_NAME, DBG_OFF},
    {"code_object.qualname", PF_CODE_QUALNAME, DBG_OFF},
    {"code_object.linetable", PF_CODE_LINETABLE, DBG_OFF},
    {"code_object.firstlineno", PF_CODE_FIRSTLINENO, DBG_OFF},
    {"code_object.localsplusnames", PF_CODE_LOCALSPLUSNAMES, DBG_OFF},
    {"code_object.localspluskinds", PF_CODE_LOCALSPLUSKINDS, DBG_OFF},
    {"pyobject.size", PF_OBJECT_SIZE, DBG_SIZE},
    {"pyobject.ob_type", PF_OB_TYPE, DBG_OFF},
    {"type_object.size", PF_TYPE_SIZE, DBG_SIZE},
    {"type_object.tp_name", PF_TP_NAME, DBG_OFF},
    {"type_object.tp_flags", PF_TP_FLAGS, DBG_OFF},
    {"type_object.tp_basicsize", PF_TP_BASICSIZE, DBG_OFF},
    {"type_object.tp_dictoffset", PF_TP_DICTOFFSET, DBG_OFF},
    {"heap_type_object.size", PF_HEAPTYPE_SIZE, DBG_SIZE},
    {"heap_type_object.ht_cached_keys", PF_HT_CACHED_KEYS, DBG_OFF},
    {"tuple_object.size", PF_TUPLE_SIZE, DBG_SIZE},
    {"tuple_object.ob_item", PF_TUPLE_ITEMS, DBG_OFF},
    {"tuple_object.ob_size", PF_VAR_OB_SIZE, DBG_OFF},
    {"list_object.ob_item", PF_LIST_ITEMS, DBG_OFF},
    {"list_object.ob_size", PF_VAR_OB_SIZE, DBG_OFF},
    {"set_object.size", PF_SET_SIZE, DBG_SIZE},
    {"set_object.used", PF_SET_USED, DBG_OFF},
    {"set_object.table", PF_SET_TABLE, DBG_OFF},
    {"set_object.mask", PF_SET_MASK, DBG_OFF},
    {"dict_object.size", PF_DICT_SIZE, DBG_SIZE},
    {"dict_object.ma_keys", PF_DICT_KEYS, DBG_OFF},
    {"dict_object.ma_values", PF_DICT_VALUES, DBG_OFF},
    {"float_object.ob_fval", PF_FLOAT_VAL, DBG_OFF},
    {"long_object.lv_tag", PF_LONG_TAG, DBG_OFF},
    {"long_object.ob_digit", PF_LONG_DIGITS, DBG_OFF},
    {"bytes_object.ob_size", PF_VAR_OB_SIZE, DBG_OFF},
    {"bytes_object.ob_sval", PF_BYTES_SVAL, DBG_OFF},
    {"unicode_object.size", PF_STR_UNICODE_SIZE, DBG_SIZE},
    {"unicode_object.state", PF_STR_STATE, DBG_OFF},
    {"unicode_object.length", PF_STR_LENGTH, DBG_OFF},
    {"unicode_object.asciiobject_size", PF_STR_ASCII_SIZE, DBG_SUBSIZE},
    {"unicode_object.compactunicodeobject_size", PF_STR_COMPACT_SIZE, DBG_SUBSIZE},
    {"gc.size", PF_GCS_SIZE, DBG_SIZE},
    {"gc.collecting", PF_GCS_COLLECTING, DBG_OFF},
    {"gen_object.size", PF_GEN_SIZE, DBG_SIZE},
    {"gen_object.gi_name", PF_GEN_NAME, DBG_OFF},
    {"gen_object.gi_iframe", PF_GEN_IFRAME, DBG_OFF},
    {"gen_object.gi_frame_state", PF_GEN_FRAME_STATE, DBG_OFF},
};

#define DBG_MAP_N (sizeof dbg_map / sizeof dbg_map[0])

const struct py_debug_offsets_table *py_debug_offsets_table_for(int minor)
{
    for (size_t i = 0; i < py_debug_offsets_tables_n; i++)
        if (py_debug_offsets_tables[i]->minor == minor)
            return py_debug_offsets_tables[i];
    return NULL;
}

size_t py_debug_offsets_read_size(void)
{
    size_t max = PY_DEBUG_OFFSETS_HEADER;
    for (size_t i = 0; i < py_debug_offsets_tables_n; i++)
        if (py_debug_offsets_tables[i]->size > max)
            max = py_debug_offsets_tables[i]->size;
    return max;
}

static uint64_t u64_at(const uint8_t *bytes, size_t pos)
{
    uint64_t v;
    memcpy(&v, bytes + pos, sizeof v); /* target and host are both little-endian x86-64 */
    return v;
}

/* Position of a named field in a minor's table, -1 when that minor does not publish it. */
static int64_t position(const struct py_debug_offsets_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->entries[i].name, name) == 0)
            return t->entries[i].pos;
    return -1;
}

int py_debug_offsets_mapped_fields(int minor)
{
    const struct py_debug_offsets_table *t = py_debug_offsets_table_for(minor);
    int n = 0;
    for (size_t i = 0; t && i < DBG_MAP_N; i++)
        n += position(t, dbg_map[i].name) >= 0;
    return n;
}

ph_status py_debug_offsets_header(const uint8_t *bytes, size_t len, uint32_t *version_hex,
                                  bool *free_threaded, struct ph_error *err)
{
    if (len < PY_DEBUG_OFFSETS_HEADER ||
        memcmp(bytes, PY_DEBUG_OFFSETS_COOKIE, strlen(PY_DEBUG_OFFSETS_COOKIE)) != 0)
        return ph_fail(err, PH_ERR_NO_LAYOUT,
                       "no _Py_DebugOffsets at _PyRuntime (no \"xdebugpy\" cookie: before 3.13?)");
    uint64_t version = u64_at(bytes, 8), ft = u64_at(bytes, 16);
    if (version >> 32 || (version >> 24) != 3)
        return ph_fail(err, PH_ERR_NO_LAYOUT, "_Py_DebugOffsets: version 0x%llx is not 3.x",
                       (unsigned long long)version);
    if (ft > 1)
        return ph_fail(err, PH_ERR_NO_LAYOUT, "_Py_DebugOffsets: free_threaded is %llu, not 0 or 1",
                       (unsigned long long)ft);
    *version_hex = (uint32_t)version;
    *free_threaded = ft == 1;
    return PH_OK;
}

/* Every `size` of every group (mapped or not) in (0, 1 MiB). */
static ph_status check_group_sizes(const struct py_debug_offsets_table *t, const uint8_t *bytes,
                                   struct ph_error *err)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *name = t->entries[i].name;
        size_t len = strlen(name);
        if (len < 5 || strcmp(name + len - 5, ".size") != 0)
            continue;
        uint64_t v = u64_at(bytes, t->entries[i].pos);
        if (v == 0 || v >= MAX_GROUP_SIZE)
            return ph_fail(err, PH_ERR_NO_LAYOUT, "_Py_DebugOffsets: %s = %llu is not in (0, 1 MiB)",
                           name, (unsigned long long)v);
    }
    return PH_OK;
}

/* The size of the group `name` belongs to ("tuple_object.ob_item" -> tuple_object.size). */
static int64_t group_size(const struct py_debug_offsets_table *t, const uint8_t *bytes,
                          const char *name)
{
    char key[64];
    size_t glen = strcspn(name, ".");
    if (glen + sizeof ".size" > sizeof key)
        return -1;
    memcpy(key, name, glen);
    memcpy(key + glen, ".size", sizeof ".size");
    int64_t pos = position(t, key);
    return pos < 0 ? -1 : (int64_t)u64_at(bytes, (size_t)pos);
}

static ph_status check_one(const struct dbg_map *m, uint64_t v, int64_t gsize, struct ph_error *err)
{
    if (gsize < 0)
        return ph_fail(err, PH_ERR_INTERNAL, "_Py_DebugOffsets: no size for the group of %s",
                       m->name);
    bool ok = m->kind == DBG_SIZE || (m->kind == DBG_SUBSIZE && v > 0 && v <= (uint64_t)gsize) ||
              (m->kind == DBG_OFF && gsize >= 8 && v <= (uint64_t)gsize - 8);
    if (!ok)
        return ph_fail(err, PH_ERR_NO_LAYOUT,
                       "_Py_DebugOffsets: %s = %llu does not fit in its struct (size %lld)",
                       m->name, (unsigned long long)v, (long long)gsize);
    return PH_OK;
}

/* Decode, check and collect every mapped field into tmp (initialised by the caller). */
static ph_status decode_mapped(const struct py_debug_offsets_table *t, const uint8_t *bytes,
                               struct py_layout *tmp, struct ph_error *err)
{
    for (size_t i = 0; i < DBG_MAP_N; i++) {
        const struct dbg_map *m = &dbg_map[i];
        int64_t pos = position(t, m->name);
        if (pos < 0)
            continue;
        uint64_t v = u64_at(bytes, (size_t)pos);
        ph_status st = check_one(m, v, group_size(t, bytes, m->name), err);
        if (st != PH_OK)
            return st;
        if (tmp->v[m->field] >= 0 && tmp->v[m->field] != (int64_t)v)
            return ph_fail(err, PH_ERR_NO_LAYOUT,
                           "_Py_DebugOffsets: %s = %llu disagrees with another group (%lld)",
                           m->name, (unsigned long long)v, (long long)tmp->v[m->field]);
        tmp->v[m->field] = (int64_t)v;
        tmp->src[m->field] = PY_SRC_DEBUG_OFFSETS;
    }
    if (tmp->v[PF_IS_GC] >= 0 && tmp->v[PF_GCS_SIZE] >= 0 && tmp->v[PF_IS_SIZE] >= 0 &&
        tmp->v[PF_IS_GC] + tmp->v[PF_GCS_SIZE] > tmp->v[PF_IS_SIZE])
        return ph_fail(err, PH_ERR_NO_LAYOUT,
                       "_Py_DebugOffsets: the GC state (at %lld, %lld bytes) ends beyond the "
                       "interpreter state (%lld bytes)", (long long)tmp->v[PF_IS_GC],
                       (long long)tmp->v[PF_GCS_SIZE], (long long)tmp->v[PF_IS_SIZE]);
    return PH_OK;
}

ph_status py_layout_from_debug_offsets(const uint8_t *bytes, size_t len, uint32_t version_hex,
                                       struct py_layout *out, bool *free_threaded,
                                       struct ph_error *err)
{
    uint32_t version = 0;
    bool ft = false;
    ph_status st = py_debug_offsets_header(bytes, len, &version, &ft, err);
    if (st != PH_OK)
        return st;
    int minor = (version >> 16) & 0xff;
    if (version_hex && ((version_hex >> 16) & 0xff) != (uint32_t)minor)
        return ph_fail(err, PH_ERR_NO_LAYOUT,
                       "_Py_DebugOffsets says 3.%d but the interpreter was identified as 3.%u",
                       minor, (version_hex >> 16) & 0xff);
    const struct py_debug_offsets_table *t = py_debug_offsets_table_for(minor);
    if (!t)
        return ph_fail(err, PH_ERR_NO_LAYOUT, "no _Py_DebugOffsets table for 3.%d", minor);
    if (len < t->size)
        return ph_fail(err, PH_ERR_NO_LAYOUT, "_Py_DebugOffsets of 3.%d needs %u bytes, got %zu",
                       minor, t->size, len);
    struct py_layout tmp;
    py_layout_init(&tmp);
    if ((st = check_group_sizes(t, bytes, err)) != PH_OK ||
        (st = decode_mapped(t, bytes, &tmp, err)) != PH_OK)
        return st;
    for (int f = 0; f < PF_COUNT; f++) {
        if (tmp.src[f] != PY_SRC_DEBUG_OFFSETS)
            continue;
        out->v[f] = tmp.v[f];
        out->src[f] = tmp.src[f];
    }
    *free_threaded = ft;
    return PH_OK;
}
