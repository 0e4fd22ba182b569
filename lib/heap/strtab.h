/*
 * strtab.h: interned strings (attribute names, dict key reprs, type names, root names), each
 * stored once and named by a 32-bit id. Edge labels and kinds refer to strings by id so the
 * graph stays flat arrays that a snapshot file can hold as they are.
 */
#ifndef PH_STRTAB_H
#define PH_STRTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bigmem.h"

#define PH_STR_NONE UINT32_MAX

struct ph_strtab {
    char *buf;        /* NUL-terminated strings back to back, under 4 GiB in all */
    size_t len;
    uint32_t *offs;   /* offs[id] = offset in buf */
    uint32_t n;
    uint64_t *slots;  /* hash slots: the string's hash << 32 | id + 1, 0 = empty; at most 3/4
                         full. The hash in the slot spares probes and rehashing the text. */
    size_t nslots;
    struct ph_bigmem m_buf, m_offs, m_slots;
};

void ph_strtab_init(struct ph_strtab *t);
void ph_strtab_free(struct ph_strtab *t);
/* Id of the string (len bytes, may contain NUL-free arbitrary bytes), interning it if new.
 * PH_STR_NONE on allocation failure or when the table is full (4 GiB of text). */
uint32_t ph_strtab_intern(struct ph_strtab *t, const char *s, size_t len);
uint32_t ph_strtab_intern_cstr(struct ph_strtab *t, const char *s);
/* Interning in two steps, so that the table's cache miss overlaps other work: ph_strtab_prefetch
 * hashes the string and starts loading its slot; ph_strtab_intern_hashed, given that hash, then
 * interns it as ph_strtab_intern does (anything may happen in between). */
uint32_t ph_strtab_prefetch(const struct ph_strtab *t, const char *s, size_t len);
uint32_t ph_strtab_intern_hashed(struct ph_strtab *t, const char *s, size_t len, uint32_t hash);
/* Room for `more` new strings without growing the slots again (a large dict's key reprs).
 * False when out of memory (the table is as it was and still works). */
bool ph_strtab_reserve(struct ph_strtab *t, size_t more);
const char *ph_strtab_get(const struct ph_strtab *t, uint32_t id);
/* Id of the string if it is interned, else PH_STR_NONE; never adds. */
uint32_t ph_strtab_find(const struct ph_strtab *t, const char *s, size_t len);

#endif
