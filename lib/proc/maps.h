/*
 * maps.h: /proc/PID/maps, parsed into an array sorted by start address.
 *
 * Invariants: entries are sorted and do not overlap (the kernel guarantees it; the parser
 * rejects input that breaks it). Paths are owned by the ph_maps (one allocation each) and may
 * hold spaces; a " (deleted)" suffix is stripped into the `deleted` flag.
 */
#ifndef PH_MAPS_H
#define PH_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

enum { PH_MAP_R = 1, PH_MAP_W = 2, PH_MAP_X = 4, PH_MAP_P = 8 };

struct ph_map {
    uint64_t start, end; /* [start, end) */
    uint64_t offset;     /* file offset of start */
    uint64_t inode;
    unsigned dev_major, dev_minor;
    unsigned perms;      /* PH_MAP_* bits */
    bool deleted;        /* path had " (deleted)" */
    char *path;          /* "" for anonymous mappings; "[heap]", "[stack]" kept verbatim */
};

struct ph_maps {
    struct ph_map *v;
    size_t n;
};

/* Parse the text of a maps file. Bounded: at most 1<<20 lines, paths up to PATH_MAX. */
ph_status ph_maps_parse(const char *text, size_t len, struct ph_maps *out, struct ph_error *err);
ph_status ph_maps_read(pid_t pid, struct ph_maps *out, struct ph_error *err);
void ph_maps_free(struct ph_maps *maps);

/* The mapping containing addr, or NULL. Binary search. */
const struct ph_map *ph_maps_find(const struct ph_maps *maps, uint64_t addr);

/* True when [addr, addr+len) lies inside readable mappings (may span adjacent ones). */
bool ph_maps_readable(const struct ph_maps *maps, uint64_t addr, uint64_t len);

#endif
