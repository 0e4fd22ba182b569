/*
 * addrmap.h: an open-addressing hash map from a remote address (uint64, never 0) to a 32-bit
 * index. It is the object identity map of the heap walk, so it is built for tens of millions of
 * entries: keys and values in two flat arrays (12 bytes a slot), linear probing, load kept
 * below 0.7, growth by doubling.
 */
#ifndef PH_ADDRMAP_H
#define PH_ADDRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PH_ADDRMAP_NONE UINT32_MAX

struct ph_addrmap {
    uint64_t *keys; /* 0 = empty slot */
    uint32_t *vals;
    size_t cap;     /* power of two */
    size_t n;
};

bool ph_addrmap_init(struct ph_addrmap *m, size_t expected);
void ph_addrmap_free(struct ph_addrmap *m);
/* Index for addr, or PH_ADDRMAP_NONE. */
uint32_t ph_addrmap_get(const struct ph_addrmap *m, uint64_t addr);
/* Insert addr -> val unless present. Returns the value now stored (the old one if present),
 * or PH_ADDRMAP_NONE when growing failed. */
uint32_t ph_addrmap_put(struct ph_addrmap *m, uint64_t addr, uint32_t val);

#endif
