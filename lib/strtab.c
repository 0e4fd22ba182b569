/*
 * strtab.c: see strtab.h. FNV-1a hashing, linear probing over a table of ids kept at most half
 * full. Strings are immutable once interned; ids are dense and stable.
 */
#include "lib/strtab.h"

#include <stdlib.h>
#include <string.h>

void ph_strtab_init(struct ph_strtab *t)
{
    memset(t, 0, sizeof *t);
}

void ph_strtab_free(struct ph_strtab *t)
{
    free(t->buf);
    free(t->offs);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int rehash(struct ph_strtab *t)
{
    size_t nslots = t->nslots ? t->nslots * 2 : 1024;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t id = 0; id < t->n; id++) {
        const char *s = t->buf + t->offs[id];
        size_t i = hash_bytes(s, strlen(s)) & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = id + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

static uint32_t append(struct ph_strtab *t, const char *s, size_t len)
{
    if (t->len + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + len + 1)
            cap *= 2;
        char *buf = realloc(t->buf, cap);
        if (!buf)
            return PH_STR_NONE;
        t->buf = buf;
        t->cap = cap;
    }
    if (t->n == t->offs_cap) {
        uint32_t cap = t->offs_cap ? t->offs_cap * 2 : 256;
        uint64_t *offs = realloc(t->offs, cap * sizeof *offs);
        if (!offs)
            return PH_STR_NONE;
        t->offs = offs;
        t->offs_cap = cap;
    }
    memcpy(t->buf + t->len, s, len);
    t->buf[t->len + len] = '\0';
    t->offs[t->n] = t->len;
    t->len += len + 1;
    return t->n++;
}

uint32_t ph_strtab_intern(struct ph_strtab *t, const char *s, size_t len)
{
    if ((t->n + 1) * 2 > t->nslots && rehash(t) != 0)
        return PH_STR_NONE;
    size_t mask = t->nslots - 1;
    size_t i = hash_bytes(s, len) & mask;
    for (; t->slots[i]; i = (i + 1) & mask) {
        const char *cand = t->buf + t->offs[t->slots[i] - 1];
        if (strncmp(cand, s, len) == 0 && cand[len] == '\0')
            return t->slots[i] - 1;
    }
    uint32_t id = append(t, s, len);
    if (id != PH_STR_NONE)
        t->slots[i] = id + 1;
    return id;
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
