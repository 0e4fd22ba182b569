/*
 * strtab.c: see strtab.h. FNV-1a hashing, linear probing over a table of slots that hold each
 * string's hash beside its id, so a probe compares text only when the hashes agree, and neither
 * a probe nor growing the table reads anything but the slots (a walk interns millions of
 * distinct dict-key reprs on a large heap; with the hashes in an array of their own, a probe
 * that met a used slot took a second cache miss: 10% slower at 5 million strings). Strings are
 * immutable once interned; ids are dense and stable.
 */
#include "lib/heap/strtab.h"

#include <string.h>

void ph_strtab_init(struct ph_strtab *t)
{
    memset(t, 0, sizeof *t);
}

void ph_strtab_free(struct ph_strtab *t)
{
    ph_bigmem_free(&t->m_buf);
    ph_bigmem_free(&t->m_offs);
    ph_bigmem_free(&t->m_slots);
    memset(t, 0, sizeof *t);
}

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return (uint32_t)(h ^ (h >> 32));
}

/* Move the slots to a table of nslots (a larger power of two). The new mapping is fresh: its
 * slots are zero (empty) without a memset. */
static int rehash(struct ph_strtab *t, size_t nslots)
{
    struct ph_bigmem mem = {0};
    if (nslots > SIZE_MAX / sizeof(uint64_t) || !ph_bigmem_ensure(&mem, nslots * sizeof(uint64_t)))
        return -1;
    uint64_t *slots = mem.base;
    for (size_t k = 0; k < t->nslots; k++) {
        uint64_t e = t->slots[k];
        if (!e)
            continue;
        size_t i = (e >> 32) & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = e;
    }
    ph_bigmem_free(&t->m_slots);
    t->m_slots = mem;
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

bool ph_strtab_reserve(struct ph_strtab *t, size_t more)
{
    size_t want = t->nslots ? t->nslots : 1024;
    while (want <= SIZE_MAX / 16 && (size_t)t->n + more > want / 4 * 3) /* as interning grows */
        want *= 2;
    return want <= t->nslots || rehash(t, want) == 0;
}

static uint32_t append(struct ph_strtab *t, const char *s, size_t len)
{
    if (t->len + len + 1 > UINT32_MAX || t->n >= UINT32_MAX - 1)
        return PH_STR_NONE;
    if (!ph_bigmem_ensure(&t->m_buf, t->len + len + 1) ||
        !ph_bigmem_ensure(&t->m_offs, ((size_t)t->n + 1) * sizeof *t->offs))
        return PH_STR_NONE;
    t->buf = t->m_buf.base;
    t->offs = t->m_offs.base;
    memcpy(t->buf + t->len, s, len);
    t->buf[t->len + len] = '\0';
    t->offs[t->n] = (uint32_t)t->len;
    t->len += len + 1;
    return t->n++;
}

/* The slot holding the string, or the empty slot where it would go. */
static size_t probe(const struct ph_strtab *t, const char *s, size_t len, uint32_t hash)
{
    size_t mask = t->nslots - 1;
    size_t i = hash & mask;
    for (; t->slots[i]; i = (i + 1) & mask) {
        uint64_t e = t->slots[i];
        if ((uint32_t)(e >> 32) != hash)
            continue;
        const char *cand = t->buf + t->offs[(uint32_t)e - 1];
        if (strncmp(cand, s, len) == 0 && cand[len] == '\0')
            break;
    }
    return i;
}

uint32_t ph_strtab_prefetch(const struct ph_strtab *t, const char *s, size_t len)
{
    uint32_t hash = hash_bytes(s, len);
    if (t->nslots)
        __builtin_prefetch(&t->slots[hash & (t->nslots - 1)]);
    return hash;
}

uint32_t ph_strtab_intern(struct ph_strtab *t, const char *s, size_t len)
{
    return ph_strtab_intern_hashed(t, s, len, hash_bytes(s, len));
}

uint32_t ph_strtab_intern_hashed(struct ph_strtab *t, const char *s, size_t len, uint32_t hash)
{
    if (((size_t)t->n + 1) * 4 > t->nslots * 3 && rehash(t, t->nslots ? t->nslots * 2 : 1024) != 0)
        return PH_STR_NONE;
    size_t i = probe(t, s, len, hash);
    if (t->slots[i])
        return (uint32_t)t->slots[i] - 1;
    uint32_t id = append(t, s, len);
    if (id != PH_STR_NONE)
        t->slots[i] = (uint64_t)hash << 32 | (id + 1);
    return id;
}

uint32_t ph_strtab_find(const struct ph_strtab *t, const char *s, size_t len)
{
    if (!t->nslots)
        return PH_STR_NONE;
    size_t i = probe(t, s, len, hash_bytes(s, len));
    return t->slots[i] ? (uint32_t)t->slots[i] - 1 : PH_STR_NONE;
}

uint32_t ph_strtab_intern_cstr(struct ph_strtab *t, const char *s)
{
    return ph_strtab_intern(t, s, strlen(s));
}

const char *ph_strtab_get(const struct ph_strtab *t, uint32_t id)
{
    if (id >= t->n)
        return "?";
    return t->buf + t->offs[id];
}
