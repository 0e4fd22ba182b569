/*
 * dict.c: reading dict keys objects in place.
 *
 * 3.8-3.10: header {dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, dk_indices[]}, the
 * index array is dk_size entries of 1/2/4/8 bytes, then 24-byte entries {hash, key, value}.
 * 3.11+: {dk_refcnt, dk_log2_size, dk_log2_index_bytes, dk_kind, ...}, index bytes
 * 1 << dk_log2_index_bytes, then entries of 24 bytes (general) or 16 bytes (unicode, split:
 * {key, value}). A split table keeps values apart (ma_values, or an instance's values) paired by
 * entry index. Entries are read in blocks so no per-entry system call happens; every count is
 * bounded by the table size.
 */
#include "lib/walk/internal.h"

#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"

#define MAX_LOG2_SIZE 31
#define BLOCK_ENTRIES 512
#define SMALL_ENTRIES 32 /* entries of at most 64 bytes (read_keys checks) */

struct keys_info {
    int64_t refcnt;
    uint64_t size;       /* number of index slots */
    uint64_t nentries;
    uint64_t usable;     /* dk_usable */
    uint64_t entries;    /* address of entry 0 */
    size_t entry_size;
    int64_t key_off, value_off;
    uint64_t index_bytes;
};

static bool read_keys(struct wk *w, uint64_t keys, struct keys_info *ki)
{
    const struct py_layout *L = w->L;
    uint8_t h[64];
    if (!keys || !wk_read(w, keys, h, (size_t)LAY(L, DK_INDICES)))
        return false;
    memset(ki, 0, sizeof *ki);
    memcpy(&ki->refcnt, h + LAY(L, DK_REFCNT), 8);
    memcpy(&ki->usable, h + LAY(L, DK_USABLE), 8);
    memcpy(&ki->nentries, h + LAY(L, DK_NENTRIES), 8);
    if (LAY_HAS(L, DK_SIZE)) { /* <= 3.10 */
        memcpy(&ki->size, h + LAY(L, DK_SIZE), 8);
        if (ki->size == 0 || ki->size > (1ull << MAX_LOG2_SIZE) || (ki->size & (ki->size - 1)))
            return false;
        uint64_t width = ki->size <= 0xff ? 1 : ki->size <= 0xffff ? 2 : ki->size <= 0xffffffffu ? 4 : 8;
        ki->index_bytes = width * ki->size;
        ki->entry_size = (size_t)LAY(L, DICT_ENTRY_SIZE);
        ki->key_off = LAY(L, DICT_ENTRY_KEY);
        ki->value_off = LAY(L, DICT_ENTRY_VALUE);
    } else {
        uint8_t log2_size = h[LAY(L, DK_LOG2_SIZE)];
        uint8_t log2_index = h[LAY(L, DK_LOG2_INDEX_BYTES)];
        uint8_t kind = h[LAY(L, DK_KIND)];
        if (log2_size > MAX_LOG2_SIZE || log2_index > MAX_LOG2_SIZE + 3)
            return false;
        ki->size = 1ull << log2_size;
        ki->index_bytes = 1ull << log2_index;
        bool general = kind == 0;
        ki->entry_size = (size_t)(general ? LAY(L, DICT_ENTRY_SIZE) : LAY(L, DICT_UENTRY_SIZE));
        ki->key_off = general ? LAY(L, DICT_ENTRY_KEY) : LAY(L, DICT_UENTRY_KEY);
        ki->value_off = general ? LAY(L, DICT_ENTRY_VALUE) : LAY(L, DICT_UENTRY_VALUE);
    }
    uint64_t max_entries = (ki->size * 2) / 3 + 1;
    if (ki->nentries > max_entries || ki->entry_size == 0 || ki->entry_size > 64)
        return false;
    ki->entries = keys + (uint64_t)LAY(L, DK_INDICES) + ki->index_bytes;
    return true;
}

uint64_t wk_values_array(const struct wk *w, uint64_t values)
{
    return values + (uint64_t)(LAY_HAS(w->L, DV_VALUES) ? LAY(w->L, DV_VALUES) : 0);
}

bool wk_keys_iter(struct wk *w, uint64_t keys, uint64_t values, wk_entry_fn fn, void *ctx)
{
    struct keys_info ki;
    if (!read_keys(w, keys, &ki))
        return false;
    uint64_t varr = values ? wk_values_array(w, values) : 0;
    /* Most tables are small (an instance's attributes): their blocks live on the stack, and
     * millions of instances cost no allocation each. */
    uint8_t small[SMALL_ENTRIES * 64];
    uint64_t vsmall[SMALL_ENTRIES];
    bool heap = ki.nentries > SMALL_ENTRIES;
    uint8_t *block = heap ? malloc(BLOCK_ENTRIES * ki.entry_size) : small;
    uint64_t *vblock = heap ? malloc(BLOCK_ENTRIES * sizeof *vblock) : vsmall;
    bool ok = block && vblock;
    for (uint64_t base = 0; ok && base < ki.nentries; base += BLOCK_ENTRIES) {
        uint64_t n = ki.nentries - base < BLOCK_ENTRIES ? ki.nentries - base : BLOCK_ENTRIES;
        ok = wk_read(w, ki.entries + base * ki.entry_size, block, n * ki.entry_size) &&
             (!varr || wk_read(w, varr + base * 8, vblock, n * 8));
        for (uint64_t i = 0; ok && i < n; i++) {
            if (i + WK_AHEAD < n) {
                const uint8_t *f = block + (i + WK_AHEAD) * ki.entry_size;
                wk_prefetch(w, wk_field_u64(f, ki.entry_size, ki.key_off));
                wk_prefetch(w, varr ? vblock[i + WK_AHEAD]
                                    : wk_field_u64(f, ki.entry_size, ki.value_off));
            }
            const uint8_t *e = block + i * ki.entry_size;
            uint64_t key = wk_field_u64(e, ki.entry_size, ki.key_off);
            uint64_t value = varr ? vblock[i] : wk_field_u64(e, ki.entry_size, ki.value_off);
            uint64_t ahead = 0;
            if (i + WK_AHEAD / 2 < n)
                ahead = wk_field_u64(block + (i + WK_AHEAD / 2) * ki.entry_size, ki.entry_size,
                                     ki.key_off);
            if (key && value)
                fn(w, ctx, (uint32_t)(base + i), key, value, ahead);
        }
    }
    if (heap) {
        free(block);
        free(vblock);
    }
    return ok;
}

struct wk_keys_shape wk_keys_shape(struct wk *w, uint64_t keys)
{
    struct keys_info ki;
    if (!read_keys(w, keys, &ki))
        return (struct wk_keys_shape){0, 0, 0, 0};
    uint64_t usable = (ki.size * 2) / 3;
    return (struct wk_keys_shape){
        .bytes = (uint64_t)LAY(w->L, DK_INDICES) + ki.index_bytes + ki.entry_size * usable,
        /* Split values are sized by what the keys can still take: entries so far plus usable. */
        .usable_values = LAY_HAS(w->L, DK_SIZE) ? usable : ki.nentries + ki.usable,
        .refcnt = ki.refcnt,
        .entries = ph_mem_readable(w->mem, ki.entries, ki.nentries * ki.entry_size) ? ki.nentries : 0,
    };
}

/* A new memo entry for keys (see internal.h); false when it cannot be kept. */
static bool memo_fill(struct wk *w, uint64_t keys, struct wk_keys_memo *m)
{
    struct keys_info ki;
    memset(m, 0, sizeof *m);
    m->usable = wk_keys_shape(w, keys).usable_values;
    if (!read_keys(w, keys, &ki))
        return true; /* remembered as unreadable: no attributes, as each time before */
    if (ki.nentries > WK_MEMO_KEYS)
        return false;
    uint8_t block[WK_MEMO_KEYS * 64];
    m->n = (uint32_t)ki.nentries;
    m->ok = m->n == 0 || wk_read(w, ki.entries, block, m->n * ki.entry_size);
    for (uint32_t i = 0; m->ok && i < m->n; i++)
        m->key[i] = wk_field_u64(block + i * ki.entry_size, ki.entry_size, ki.key_off);
    return true;
}

struct wk_keys_memo *wk_keys_memo(struct wk *w, uint64_t keys)
{
    if (w->opts->running || !keys)
        return NULL;
    uint32_t at = ph_addrmap_get(&w->keys_memo_index, keys);
    if (at != PH_ADDRMAP_NONE)
        return at < w->n_keys_memo ? &w->keys_memo[at] : NULL; /* past the end: not kept */
    if (!ph_grow(&w->keys_memo, &w->keys_memo_cap, w->n_keys_memo, sizeof *w->keys_memo, 64))
        return NULL;
    struct wk_keys_memo *m = &w->keys_memo[w->n_keys_memo];
    bool keep = memo_fill(w, keys, m);
    /* Not kept (too many entries): remembered as such, so the next instance does not try. */
    uint32_t slot = keep ? (uint32_t)w->n_keys_memo : UINT32_MAX - 1;
    if (ph_addrmap_put(&w->keys_memo_index, keys, slot) == PH_ADDRMAP_NONE || !keep)
        return NULL;
    w->n_keys_memo++;
    return m;
}

void wk_keys_memo_free(struct wk *w)
{
    free(w->keys_memo);
    w->keys_memo = NULL;
    w->n_keys_memo = w->keys_memo_cap = 0;
    ph_addrmap_free(&w->keys_memo_index);
}

struct find_ctx {
    const char *key;
    uint64_t value;
    bool found;
};

static void find_cb(struct wk *w, void *vctx, uint32_t index, uint64_t key, uint64_t value,
                    uint64_t key_ahead)
{
    (void)index;
    (void)key_ahead;
    struct find_ctx *c = vctx;
    char text[128];
    if (!c->found && wk_str_text(w, key, text, sizeof text) && strcmp(text, c->key) == 0) {
        c->value = value;
        c->found = true;
    }
}

bool wk_dict_find_str(struct wk *w, uint64_t dict, const char *key, uint64_t *value)
{
    uint64_t keys, values;
    if (!wk_u64(w, dict + LAY(w->L, DICT_KEYS), &keys) ||
        !wk_u64(w, dict + LAY(w->L, DICT_VALUES), &values))
        return false;
    struct find_ctx c = {key, 0, false};
    wk_keys_iter(w, keys, values, find_cb, &c);
    *value = c.value;
    return c.found;
}
