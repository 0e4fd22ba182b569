/*
 * snapshot_format.h: the layout of a snapshot file, shared by its writer and reader (inside
 * lib/heap only).
 *
 *   header   8 bytes magic "\x89PYHEAP\n" (the high byte and the newline catch text-mode
 *            mangling, as PNG's does), u16 major, u16 minor, u32 flags (0), u32 crc32 of the
 *            16 bytes before it. 20 bytes. All integers little-endian.
 *   section  u32 tag (4 ASCII letters), u32 0, then chunks: u32 raw length (<= CHUNK_MAX), u32
 *            compressed length, u32 crc32 of the compressed bytes, the bytes (one zstd frame).
 *            A chunk of raw length 0 ends the section; its contents must end exactly there.
 *   order    META STRS TYPE ADDR SIZE OTYP FLAG OWNR ECNT EDST ELAB ROOT BREF, then END (a
 *            section of length 0). A reader skips sections it does not know that appear before
 *            END (a newer minor version may add some); it refuses a newer major version.
 *
 * Section contents (varint = unsigned LEB128; zig = zigzag-mapped signed varint):
 *   META  records: varint key length, key, u8 type (0 varint, 1 text: varint length + bytes,
 *         2 double: u64 bits); unknown keys are skipped. Required: objects, edges, types,
 *         strings, roots, briefs (the counts every later section is checked against).
 *   STRS  the strings, each NUL-terminated, in id order: exactly `strings` of them.
 *   TYPE  per type: u64 address, varint name id, varint module id, u8 built-in mark.
 *   ADDR  per object: zig(address - previous address).
 *   SIZE  per object: varint size.        OTYP  per object: varint type index.
 *   FLAG  per object: u8 flags.
 *   OWNR  varint count, then per owned dict: varint (object - previous object), varint owner.
 *   ECNT  per object: varint edge count.  EDST  per edge: zig(target - source).
 *   ELAB  per edge: varint (payload << 4 | kind).
 *   ROOT  per root: varint object, varint name id.
 *   BREF  per description: varint (object - previous object), varint text id.
 */
#ifndef PH_SNAPSHOT_FORMAT_H
#define PH_SNAPSHOT_FORMAT_H

#include <stdint.h>

#define SNAP_MAGIC "\x89PYHEAP\n"
#define SNAP_MAGIC_LEN 8
#define SNAP_HEADER_LEN 20
#define SNAP_MAJOR 1
#define SNAP_MINOR 0
#define SNAP_CHUNK_MAX ((uint32_t)4 << 20)
#define SNAP_ZSTD_LEVEL 1

#define SNAP_TAG(a, b, c, d) \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

enum snap_section {
    SEC_META, SEC_STRS, SEC_TYPE, SEC_ADDR, SEC_SIZE, SEC_OTYP, SEC_FLAG, SEC_OWNR, SEC_ECNT,
    SEC_EDST, SEC_ELAB, SEC_ROOT, SEC_BREF, SEC_END, SEC_COUNT
};

static const char snap_section_names[SEC_COUNT][5] = {
    "META", "STRS", "TYPE", "ADDR", "SIZE", "OTYP", "FLAG", "OWNR", "ECNT", "EDST", "ELAB",
    "ROOT", "BREF", "END",
};

static inline uint32_t snap_tag(enum snap_section s)
{
    const char *n = snap_section_names[s];
    return SNAP_TAG(n[0], n[1], n[2], n[3]);
}

enum snap_meta_type { META_INT = 0, META_TEXT = 1, META_DOUBLE = 2 };

static inline uint64_t snap_zig(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t snap_unzig(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline void snap_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t snap_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void snap_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t snap_get_u64(const uint8_t *p)
{
    return (uint64_t)snap_get_u32(p) | (uint64_t)snap_get_u32(p + 4) << 32;
}

#endif
