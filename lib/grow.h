/*
 * grow.h: room for one more element in a small array that doubles as it fills (stacks, rows,
 * frames, type and root records, memo entries). The large arrays that grow with the heap use
 * bigmem.h instead.
 */
#ifndef PH_GROW_H
#define PH_GROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* `items` is the address of a T * holding n of *cap elements of elem bytes. When full, *cap
 * doubles (from `first`) and the array moves. False when out of memory or when the size would
 * overflow: the array and *cap are then as they were. The pointer goes through memcpy, so any
 * T * can be passed without a cast through void **. */
static inline bool ph_grow(void *items, size_t *cap, size_t n, size_t elem, size_t first)
{
    if (n < *cap)
        return true;
    size_t more = *cap ? *cap * 2 : first;
    if (more <= *cap || more > SIZE_MAX / elem)
        return false;
    void *p;
    memcpy(&p, items, sizeof p);
    p = realloc(p, more * elem);
    if (!p)
        return false;
    memcpy(items, &p, sizeof p);
    *cap = more;
    return true;
}

#endif
