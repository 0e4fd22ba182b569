/*
 * addrmap.c: see addrmap.h. Objects are 8- or 16-byte aligned, so the low bits carry no
 * information; the hash multiplies the shifted address by a 64-bit odd constant (Fibonacci
 * hashing) and keeps the high bits.
 */
#include "lib/addrmap.h"

#include <assert.h>
#include <stdlib.h>

static inline size_t slot_of(uint64_t addr, size_t cap)
{
    uint64_t h = (addr >> 3) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

bool ph_addrmap_init(struct ph_addrmap *m, size_t expected)
{
    size_t cap = 1024;
    while (cap < expected + expected / 2)
        cap <<= 1;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
    if (!m->keys || !m->vals) {
        ph_addrmap_free(m);
        return false;
    }
    return true;
}

void ph_addrmap_free(struct ph_addrmap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}

uint32_t ph_addrmap_get(const struct ph_addrmap *m, uint64_t addr)
{
    if (addr == 0 || m->cap == 0)
        return PH_ADDRMAP_NONE;
    size_t mask = m->cap - 1;
    for (size_t i = slot_of(addr, m->cap);; i = (i + 1) & mask) {
        if (m->keys[i] == addr)
            return m->vals[i];
        if (m->keys[i] == 0)
            return PH_ADDRMAP_NONE;
    }
}

static bool grow(struct ph_addrmap *m)
{
    struct ph_addrmap bigger;
    if (!ph_addrmap_init(&bigger, m->cap))
        return false;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            ph_addrmap_put(&bigger, m->keys[i], m->vals[i]);
    ph_addrmap_free(m);
    *m = bigger;
    return true;
}

uint32_t ph_addrmap_put(struct ph_addrmap *m, uint64_t addr, uint32_t val)
{
    assert(addr != 0);
    if ((m->n + 1) * 10 >= m->cap * 7 && !grow(m))
        return PH_ADDRMAP_NONE;
    size_t mask = m->cap - 1;
    for (size_t i = slot_of(addr, m->cap);; i = (i + 1) & mask) {
        if (m->keys[i] == addr)
            return m->vals[i];
        if (m->keys[i] == 0) {
            m->keys[i] = addr;
            m->vals[i] = val;
            m->n++;
            return val;
        }
    }
}
