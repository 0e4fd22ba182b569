/*
 * elf.h: the few things pyheap reads from an ELF file (libpython*.so, a python executable),
 * through libelf, treating the file as hostile.
 *
 * A ph_elf wraps an fd it borrows (the caller closes the fd after ph_elf_close). Every offset,
 * size and string index read from the file is checked against the file size before use: a
 * truncated or crafted file yields PH_ERR_CORRUPT_FILE, never a read out of bounds. Lookups that
 * find nothing are not errors: they report found = false.
 *
 * Also here: the load bias of a mapped ELF, as a pure function of its PT_LOAD segments and its
 * mappings, so the tricky cases (libffi trampoline pages, split r-x mappings) can be tested on
 * synthetic data.
 */
#ifndef PH_ELF_H
#define PH_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/proc/maps.h"

/* More PT_LOAD segments than this marks the file as corrupt (real files have 2 to 5). */
#define PH_ELF_MAX_LOADS 64

struct ph_elf;

struct ph_elf_load {
    uint64_t vaddr, offset, filesz, memsz;
    unsigned flags; /* PF_R | PF_W | PF_X */
};

struct ph_elf_section {
    uint64_t addr, offset, size;
    uint32_t type; /* SHT_PROGBITS, SHT_NOBITS, ... */
    uint64_t flags;
};

/* One symbol to look up: set name, ph_elf_lookup fills the rest. */
struct ph_elf_sym {
    const char *name;
    bool found;
    bool in_dynsym;  /* false: found in .symtab only */
    uint64_t value;  /* st_value: a link-time virtual address for data symbols */
    uint64_t size;
    unsigned type;   /* STT_OBJECT, STT_FUNC, ... */
    unsigned bind;   /* STB_GLOBAL, STB_WEAK, STB_LOCAL */
};

/* Parse the headers of the ELF in fd. label (a path, for messages) is copied. The fd is
 * borrowed and must stay open until ph_elf_close. */
ph_status ph_elf_open(int fd, const char *label, struct ph_elf **out, struct ph_error *err);
void ph_elf_close(struct ph_elf *elf);

const char *ph_elf_label(const struct ph_elf *elf);
bool ph_elf_is_dyn(const struct ph_elf *elf);    /* ET_DYN (PIE or shared library) */
unsigned ph_elf_word_size(const struct ph_elf *elf); /* 4 (ELFCLASS32) or 8 (ELFCLASS64) */
uint64_t ph_elf_file_size(const struct ph_elf *elf);

/* The PT_LOAD segments, in program header order (validated at open). */
size_t ph_elf_loads(const struct ph_elf *elf, const struct ph_elf_load **loads);

/* Look up n symbols at once: one pass over .dynsym, then one over .symtab for those still
 * missing. Only defined symbols count; a global or weak definition wins over a local one. */
ph_status ph_elf_lookup(const struct ph_elf *elf, struct ph_elf_sym *syms, size_t n,
                        struct ph_error *err);

/* The first section called name (".PyRuntime", ".rodata"). */
ph_status ph_elf_find_section(const struct ph_elf *elf, const char *name,
                              struct ph_elf_section *out, bool *found, struct ph_error *err);

/* The NT_GNU_BUILD_ID note as lowercase hex into hex[hexsz]; "" when the file has none. */
ph_status ph_elf_read_build_id(const struct ph_elf *elf, char *hex, size_t hexsz,
                               struct ph_error *err);

/* .gnu_debuglink: the file name (a bare name: one with '/' is rejected as corrupt) and CRC32. */
ph_status ph_elf_debuglink(const struct ph_elf *elf, char *name, size_t namesz, uint32_t *crc,
                           bool *found, struct ph_error *err);

/* Bytes [offset, offset+len) of the file. */
ph_status ph_elf_read_file(const struct ph_elf *elf, uint64_t offset, void *buf, size_t len,
                           struct ph_error *err);

/* Bytes at link-time virtual address vaddr, as the loader would initialise them: the range must
 * lie in one PT_LOAD; the part past p_filesz (.bss) reads as zeros. */
ph_status ph_elf_read_vaddr(const struct ph_elf *elf, uint64_t vaddr, void *buf, size_t len,
                            struct ph_error *err);

/* Decode an unsigned integer of n bytes (1..8) in the file's byte order. */
uint64_t ph_elf_decode(const struct ph_elf *elf, const uint8_t *p, size_t n);

/* The load bias (runtime address - link-time address) of a file from its PT_LOAD segments and
 * the mappings of that one file (any order; other files' mappings must be filtered out).
 *
 * Each (segment, mapping) pair where the mapping covers the segment's first file page at a
 * page-consistent place proposes a bias; the bias that places the most segments exactly where a
 * mapping of the right file offset is wins. "The first executable mapping" is not used: libffi
 * can re-map a page of the file lower down, and a library can have two r-x mappings where the
 * lower address holds the higher offset. PH_ERR_INCONSISTENT when no segment is mapped or two
 * biases tie. page_size must be a power of two. */
ph_status ph_elf_load_bias(const struct ph_elf_load *loads, size_t nloads,
                           const struct ph_map *maps, size_t nmaps, uint64_t page_size,
                           uint64_t *bias, struct ph_error *err);

#endif
