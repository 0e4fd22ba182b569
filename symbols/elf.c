/*
 * elf.c: reading an ELF file through libelf without trusting it.
 *
 * The file comes from the target's mappings and may be crafted, truncated or replaced under us.
 * Invariants, established by ph_elf_open and relied on afterwards:
 *   - the file is ELF, ET_EXEC or ET_DYN, and its program and section header tables lie inside
 *     the file; every PT_LOAD has p_filesz <= p_memsz and its file bytes inside the file;
 *   - the section-name table (if any) is a SHT_STRTAB inside the file.
 * Every other section is range-checked when used (section_data), and every string taken from
 * the file is checked to end inside its table before it is compared. libelf is opened with
 * ELF_C_READ (pread), not mmap, so a file truncated while we read it gives an error, not SIGBUS.
 * Nothing here keeps global state except libelf's own version handshake, which is idempotent.
 */
#include "symbols/elf.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ph_elf {
    int fd;             /* borrowed */
    Elf *elf;           /* owned */
    uint64_t size;      /* file size at open */
    bool dyn;
    bool big_endian;
    unsigned word;      /* 4 or 8 */
    size_t shnum;       /* 0: no section headers */
    size_t shstrndx;    /* SHN_UNDEF: sections have no names */
    size_t nloads;
    struct ph_elf_load loads[PH_ELF_MAX_LOADS];
    char label[PATH_MAX];
};

/* True when [off, off+len) lies inside [0, size), without overflow. */
static bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static ph_status corrupt(const struct ph_elf *e, struct ph_error *err, const char *what)
{
    return ph_fail(err, PH_ERR_CORRUPT_FILE, "%s: %s", e->label, what);
}

static ph_status libelf_fail(const struct ph_elf *e, struct ph_error *err, const char *what)
{
    return ph_fail(err, PH_ERR_CORRUPT_FILE, "%s: %s: %s", e->label, what, elf_errmsg(-1));
}

static ph_status pread_exact(const struct ph_elf *e, uint64_t off, void *buf, size_t len,
                             struct ph_error *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(e->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ph_fail(err, PH_ERR_IO, "%s: reading %zu bytes at offset 0x%llx: %s",
                           e->label, len, (unsigned long long)off, strerror(errno));
        if (r == 0)
            return ph_fail(err, PH_ERR_CORRUPT_FILE,
                           "%s: file ends before offset 0x%llx (truncated while reading?)",
                           e->label, (unsigned long long)(off + done));
        done += (size_t)r;
    }
    return PH_OK;
}

/* e_ident, checked by hand before libelf sees the file, for a precise message. */
static ph_status check_ident(struct ph_elf *e, struct ph_error *err)
{
    unsigned char id[EI_NIDENT];
    if (e->size < sizeof(Elf64_Ehdr) && e->size < sizeof(Elf32_Ehdr))
        return corrupt(e, err, "too small to be an ELF file");
    ph_status st = pread_exact(e, 0, id, sizeof id, err);
    if (st != PH_OK)
        return st;
    if (memcmp(id, ELFMAG, SELFMAG) != 0)
        return corrupt(e, err, "not an ELF file (bad magic)");
    if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
        return corrupt(e, err, "unknown ELF class");
    if (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB)
        return corrupt(e, err, "unknown ELF byte order");
    e->word = id[EI_CLASS] == ELFCLASS64 ? 8 : 4;
    e->big_endian = id[EI_DATA] == ELFDATA2MSB;
    return PH_OK;
}

/* The header tables must lie inside the file with the entry size this class implies. */
static ph_status check_tables(struct ph_elf *e, const GElf_Ehdr *eh, size_t phnum,
                              struct ph_error *err)
{
    size_t phent = gelf_fsize(e->elf, ELF_T_PHDR, 1, EV_CURRENT);
    size_t shent = gelf_fsize(e->elf, ELF_T_SHDR, 1, EV_CURRENT);
    if (phnum > 0 && (eh->e_phentsize != phent ||
                      !range_ok(eh->e_phoff, (uint64_t)phnum * phent, e->size)))
        return corrupt(e, err, "program header table lies outside the file");
    if (e->shnum > 0 && (eh->e_shentsize != shent ||
                         !range_ok(eh->e_shoff, (uint64_t)e->shnum * shent, e->size)))
        return corrupt(e, err, "section header table lies outside the file");
    if (e->shstrndx == SHN_UNDEF)
        return PH_OK;
    if (e->shstrndx >= e->shnum)
        return corrupt(e, err, "section name table index out of range");
    GElf_Shdr sh;
    if (!gelf_getshdr(elf_getscn(e->elf, e->shstrndx), &sh))
        return libelf_fail(e, err, "reading the section name table header");
    if (sh.sh_type != SHT_STRTAB || !range_ok(sh.sh_offset, sh.sh_size, e->size))
        return corrupt(e, err, "section name table is not a string table inside the file");
    return PH_OK;
}

static ph_status read_loads(struct ph_elf *e, size_t phnum, struct ph_error *err)
{
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e->elf, (int)i, &ph))
            return libelf_fail(e, err, "reading a program header");
        if (ph.p_type != PT_LOAD)
            continue;
        if (e->nloads == PH_ELF_MAX_LOADS)
            return corrupt(e, err, "too many PT_LOAD segments");
        if (ph.p_filesz > ph.p_memsz || !range_ok(ph.p_offset, ph.p_filesz, e->size) ||
            ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
            return corrupt(e, err, "a PT_LOAD segment lies outside the file");
        e->loads[e->nloads++] = (struct ph_elf_load){
            .vaddr = ph.p_vaddr, .offset = ph.p_offset, .filesz = ph.p_filesz,
            .memsz = ph.p_memsz, .flags = ph.p_flags,
        };
    }
    if (e->nloads == 0)
        return corrupt(e, err, "no PT_LOAD segment");
    return PH_OK;
}

static ph_status parse_headers(struct ph_elf *e, struct ph_error *err)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return ph_fail(err, PH_ERR_INTERNAL, "libelf: %s", elf_errmsg(-1));
    e->elf = elf_begin(e->fd, ELF_C_READ, NULL);
    if (!e->elf)
        return libelf_fail(e, err, "not a readable ELF file");
    if (elf_kind(e->elf) != ELF_K_ELF)
        return corrupt(e, err, "not an ELF file");
    GElf_Ehdr eh;
    if (!gelf_getehdr(e->elf, &eh))
        return libelf_fail(e, err, "reading the ELF header");
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
        return corrupt(e, err, "neither an executable nor a shared library");
    e->dyn = eh.e_type == ET_DYN;
    size_t phnum;
    if (elf_getphdrnum(e->elf, &phnum) != 0 || elf_getshdrnum(e->elf, &e->shnum) != 0 ||
        elf_getshdrstrndx(e->elf, &e->shstrndx) != 0)
        return libelf_fail(e, err, "reading the header table sizes");
    ph_status st = check_tables(e, &eh, phnum, err);
    return st != PH_OK ? st : read_loads(e, phnum, err);
}

ph_status ph_elf_open(int fd, const char *label, struct ph_elf **out, struct ph_error *err)
{
    *out = NULL;
    struct ph_elf *e = calloc(1, sizeof *e);
    if (!e)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory opening %s", label);
    e->fd = fd;
    snprintf(e->label, sizeof e->label, "%s", label);
    struct stat sb;
    ph_status st = PH_OK;
    if (fstat(fd, &sb) != 0)
        st = ph_fail(err, PH_ERR_IO, "%s: fstat: %s", label, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = ph_fail(err, PH_ERR_CORRUPT_FILE, "%s: not a regular file", label);
    if (st == PH_OK) {
        e->size = (uint64_t)sb.st_size;
        st = check_ident(e, err);
    }
    if (st == PH_OK)
        st = parse_headers(e, err);
    if (st != PH_OK) {
        ph_elf_close(e);
        return st;
    }
    *out = e;
    return PH_OK;
}

void ph_elf_close(struct ph_elf *elf)
{
    if (!elf)
        return;
    if (elf->elf)
        elf_end(elf->elf);
    free(elf);
}

const char *ph_elf_label(const struct ph_elf *elf) { return elf->label; }
bool ph_elf_is_dyn(const struct ph_elf *elf) { return elf->dyn; }
unsigned ph_elf_word_size(const struct ph_elf *elf) { return elf->word; }
uint64_t ph_elf_file_size(const struct ph_elf *elf) { return elf->size; }

size_t ph_elf_loads(const struct ph_elf *elf, const struct ph_elf_load **loads)
{
    *loads = elf->loads;
    return elf->nloads;
}

/* --- sections ------------------------------------------------------------------------------ */

/* Header of section scn, with its file range checked (NOBITS sections occupy no file bytes). */
static ph_status section_header(const struct ph_elf *e, Elf_Scn *scn, GElf_Shdr *sh,
                                struct ph_error *err)
{
    if (!gelf_getshdr(scn, sh))
        return libelf_fail(e, err, "reading a section header");
    if (sh->sh_type != SHT_NOBITS && !range_ok(sh->sh_offset, sh->sh_size, e->size))
        return ph_fail(err, PH_ERR_CORRUPT_FILE,
                       "%s: section %zu (offset 0x%llx, size 0x%llx) lies outside the file "
                       "(size 0x%llx)", e->label, elf_ndxscn(scn),
                       (unsigned long long)sh->sh_offset, (unsigned long long)sh->sh_size,
                       (unsigned long long)e->size);
    return PH_OK;
}

/* The contents of a (range-checked) section, as libelf converts them. */
static ph_status section_data(const struct ph_elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
                              Elf_Data **out, struct ph_error *err)
{
    if (sh->sh_type == SHT_NOBITS)
        return corrupt(e, err, "a section expected to hold data is SHT_NOBITS");
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || (d->d_size > 0 && !d->d_buf))
        return libelf_fail(e, err, "reading section data");
    *out = d;
    return PH_OK;
}

/* Section name, or NULL when unnamed or the name is not a string inside the name table. */
static const char *section_name(const struct ph_elf *e, const GElf_Shdr *sh)
{
    if (e->shstrndx == SHN_UNDEF)
        return NULL;
    return elf_strptr(e->elf, e->shstrndx, sh->sh_name); /* bounded and NUL-checked */
}

ph_status ph_elf_find_section(const struct ph_elf *elf, const char *name,
                              struct ph_elf_section *out, bool *found, struct ph_error *err)
{
    *found = false;
    for (Elf_Scn *scn = elf_nextscn(elf->elf, NULL); scn; scn = elf_nextscn(elf->elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return libelf_fail(elf, err, "reading a section header");
        const char *n = section_name(elf, &sh);
        if (!n || strcmp(n, name) != 0)
            continue;
        ph_status st = section_header(elf, scn, &sh, err);
        if (st != PH_OK)
            return ph_wrap(err, "section %s", name);
        *out = (struct ph_elf_section){.addr = sh.sh_addr, .offset = sh.sh_offset,
                                       .size = sh.sh_size, .type = sh.sh_type,
                                       .flags = sh.sh_flags};
        *found = true;
        return PH_OK;
    }
    return PH_OK;
}

/* --- symbols ------------------------------------------------------------------------------- */

/* A symbol table section and its string table, both range-checked and loaded. */
struct symtab {
    Elf_Data *syms, *strs;
    size_t count;
};

static ph_status load_symtab(const struct ph_elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
                             struct symtab *t, struct ph_error *err)
{
    size_t ent = gelf_fsize(e->elf, ELF_T_SYM, 1, EV_CURRENT);
    if (sh->sh_entsize != ent)
        return corrupt(e, err, "symbol table has a bad entry size");
    if (sh->sh_link == SHN_UNDEF || sh->sh_link >= e->shnum)
        return corrupt(e, err, "symbol table links to no string table");
    Elf_Scn *strscn = elf_getscn(e->elf, sh->sh_link);
    GElf_Shdr strsh;
    ph_status st = strscn ? section_header(e, strscn, &strsh, err)
                          : libelf_fail(e, err, "finding the symbol string table");
    if (st == PH_OK && strsh.sh_type != SHT_STRTAB)
        st = corrupt(e, err, "symbol table links to a section that is not a string table");
    if (st == PH_OK)
        st = section_data(e, scn, sh, &t->syms, err);
    if (st == PH_OK)
        st = section_data(e, strscn, &strsh, &t->strs, err);
    if (st == PH_OK)
        t->count = t->syms->d_size / ent;
    if (st == PH_OK && t->count > INT_MAX) /* gelf_getsym takes an int index */
        st = corrupt(e, err, "symbol table too large");
    return st;
}

/* Name of symbol s, or NULL when its offset or terminator falls outside the string table. */
static const char *symbol_name(const struct symtab *t, const GElf_Sym *s)
{
    if (s->st_name == 0 || s->st_name >= t->strs->d_size)
        return NULL;
    const char *p = (const char *)t->strs->d_buf + s->st_name;
    return memchr(p, '\0', t->strs->d_size - s->st_name) ? p : NULL;
}

/* Record s as the answer for every query named nm, unless a non-local answer is already in. */
static void offer_symbol(struct ph_elf_sym *q, size_t n, const char *nm, const GElf_Sym *s,
                         bool dynsym)
{
    unsigned bind = GELF_ST_BIND(s->st_info);
    for (size_t i = 0; i < n; i++) {
        if (q[i].found && (q[i].bind != STB_LOCAL || bind == STB_LOCAL))
            continue;
        if (strcmp(q[i].name, nm) != 0)
            continue;
        q[i] = (struct ph_elf_sym){.name = q[i].name, .found = true, .in_dynsym = dynsym,
                                   .value = s->st_value, .size = s->st_size,
                                   .type = GELF_ST_TYPE(s->st_info), .bind = bind};
    }
}

static void scan_symtab(const struct symtab *t, struct ph_elf_sym *q, size_t n, bool dynsym)
{
    for (size_t i = 1; i < t->count; i++) {
        GElf_Sym s;
        if (!gelf_getsym(t->syms, (int)i, &s) || s.st_shndx == SHN_UNDEF)
            continue;
        unsigned type = GELF_ST_TYPE(s.st_info);
        if (type == STT_SECTION || type == STT_FILE)
            continue;
        const char *nm = symbol_name(t, &s);
        if (nm)
            offer_symbol(q, n, nm, &s, dynsym);
    }
}

static size_t count_missing(const struct ph_elf_sym *q, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += !q[i].found;
    return k;
}

/* One pass over every section of type sh_type (SHT_DYNSYM or SHT_SYMTAB). */
static ph_status lookup_in(const struct ph_elf *e, uint32_t sh_type, struct ph_elf_sym *q,
                           size_t n, struct ph_error *err)
{
    for (Elf_Scn *scn = elf_nextscn(e->elf, NULL); scn; scn = elf_nextscn(e->elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return libelf_fail(e, err, "reading a section header");
        if (sh.sh_type != sh_type)
            continue;
        struct symtab t = {0};
        ph_status st = section_header(e, scn, &sh, err);
        if (st == PH_OK)
            st = load_symtab(e, scn, &sh, &t, err);
        if (st != PH_OK)
            return st;
        scan_symtab(&t, q, n, sh_type == SHT_DYNSYM);
    }
    return PH_OK;
}

ph_status ph_elf_lookup(const struct ph_elf *elf, struct ph_elf_sym *syms, size_t n,
                        struct ph_error *err)
{
    for (size_t i = 0; i < n; i++)
        syms[i] = (struct ph_elf_sym){.name = syms[i].name};
    ph_status st = lookup_in(elf, SHT_DYNSYM, syms, n, err);
    if (st == PH_OK && count_missing(syms, n) > 0)
        st = lookup_in(elf, SHT_SYMTAB, syms, n, err);
    return st;
}

/* --- notes, debuglink ---------------------------------------------------------------------- */

static ph_status hex_id(const struct ph_elf *e, const uint8_t *desc, size_t len, char *hex,
                        size_t hexsz, struct ph_error *err)
{
    if (len == 0 || len > 64)
        return corrupt(e, err, "build-id note of implausible length");
    if (hexsz < 2 * len + 1)
        return ph_fail(err, PH_ERR_INTERNAL, "%s: build-id of %zu bytes does not fit", e->label,
                       len);
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", desc[i]);
    return PH_OK;
}

/* Look for NT_GNU_BUILD_ID in one block of converted notes; *found tells whether it was. */
static ph_status build_id_in(const struct ph_elf *e, Elf_Data *d, char *hex, size_t hexsz,
                             bool *found, struct ph_error *err)
{
    size_t off = 0, name_off, desc_off;
    GElf_Nhdr nh;
    while (off < d->d_size && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
        if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != sizeof ELF_NOTE_GNU ||
            !range_ok(name_off, nh.n_namesz, d->d_size) ||
            memcmp((const char *)d->d_buf + name_off, ELF_NOTE_GNU, sizeof ELF_NOTE_GNU) != 0)
            continue;
        if (!range_ok(desc_off, nh.n_descsz, d->d_size))
            return corrupt(e, err, "build-id note runs past its section");
        *found = true;
        return hex_id(e, (const uint8_t *)d->d_buf + desc_off, nh.n_descsz, hex, hexsz, err);
    }
    return PH_OK;
}

/* Files without section headers still carry their notes in PT_NOTE segments. */
static ph_status build_id_segments(const struct ph_elf *e, char *hex, size_t hexsz,
                                   struct ph_error *err)
{
    size_t phnum;
    if (elf_getphdrnum(e->elf, &phnum) != 0)
        return libelf_fail(e, err, "reading the program header count");
    bool found = false;
    for (size_t i = 0; i < phnum && !found; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e->elf, (int)i, &ph))
            return libelf_fail(e, err, "reading a program header");
        if (ph.p_type != PT_NOTE)
            continue;
        if (!range_ok(ph.p_offset, ph.p_filesz, e->size))
            return corrupt(e, err, "PT_NOTE segment lies outside the file");
        Elf_Data *d = elf_getdata_rawchunk(e->elf, (int64_t)ph.p_offset, ph.p_filesz,
                                           ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
        if (!d)
            return libelf_fail(e, err, "reading a PT_NOTE segment");
        ph_status st = build_id_in(e, d, hex, hexsz, &found, err);
        if (st != PH_OK)
            return st;
    }
    return PH_OK;
}

ph_status ph_elf_read_build_id(const struct ph_elf *elf, char *hex, size_t hexsz,
                               struct ph_error *err)
{
    if (hexsz == 0)
        return ph_fail(err, PH_ERR_INTERNAL, "build-id buffer of size 0");
    hex[0] = '\0';
    if (elf->shnum == 0)
        return build_id_segments(elf, hex, hexsz, err);
    bool found = false;
    for (Elf_Scn *scn = elf_nextscn(elf->elf, NULL); scn && !found;
         scn = elf_nextscn(elf->elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return libelf_fail(elf, err, "reading a section header");
        if (sh.sh_type != SHT_NOTE)
            continue;
        Elf_Data *d;
        ph_status st = section_header(elf, scn, &sh, err);
        if (st == PH_OK)
            st = section_data(elf, scn, &sh, &d, err);
        if (st == PH_OK)
            st = build_id_in(elf, d, hex, hexsz, &found, err);
        if (st != PH_OK)
            return st;
    }
    return PH_OK;
}

/* .gnu_debuglink holds a NUL-terminated name, padding to 4 bytes, then a CRC32. */
ph_status ph_elf_debuglink(const struct ph_elf *elf, char *name, size_t namesz, uint32_t *crc,
                           bool *found, struct ph_error *err)
{
    struct ph_elf_section sec;
    ph_status st = ph_elf_find_section(elf, ".gnu_debuglink", &sec, found, err);
    if (st != PH_OK || !*found)
        return st;
    *found = false;
    uint8_t buf[PATH_MAX + 8];
    if (sec.type == SHT_NOBITS || sec.size < 8 || sec.size > sizeof buf)
        return corrupt(elf, err, ".gnu_debuglink of implausible size");
    st = ph_elf_read_file(elf, sec.offset, buf, sec.size, err);
    if (st != PH_OK)
        return st;
    const uint8_t *nul = memchr(buf, '\0', sec.size);
    size_t len = nul ? (size_t)(nul - buf) : 0;
    size_t crc_off = (len + 1 + 3) & ~(size_t)3;
    if (!nul || len == 0 || crc_off + 4 > sec.size)
        return corrupt(elf, err, ".gnu_debuglink is not a name followed by a CRC");
    if (memchr(buf, '/', len) || strcmp((const char *)buf, ".") == 0 ||
        strcmp((const char *)buf, "..") == 0)
        return corrupt(elf, err, ".gnu_debuglink name is a path, not a file name");
    if (len + 1 > namesz)
        return ph_fail(err, PH_ERR_INTERNAL, "%s: .gnu_debuglink name does not fit", elf->label);
    memcpy(name, buf, len + 1);
    *crc = (uint32_t)ph_elf_decode(elf, buf + crc_off, 4);
    *found = true;
    return PH_OK;
}

/* --- raw bytes ----------------------------------------------------------------------------- */

ph_status ph_elf_read_file(const struct ph_elf *elf, uint64_t offset, void *buf, size_t len,
                           struct ph_error *err)
{
    if (!range_ok(offset, len, elf->size))
        return ph_fail(err, PH_ERR_CORRUPT_FILE,
                       "%s: %zu bytes at offset 0x%llx lie outside the file (size 0x%llx)",
                       elf->label, len, (unsigned long long)offset,
                       (unsigned long long)elf->size);
    return pread_exact(elf, offset, buf, len, err);
}

ph_status ph_elf_read_vaddr(const struct ph_elf *elf, uint64_t vaddr, void *buf, size_t len,
                            struct ph_error *err)
{
    for (size_t i = 0; i < elf->nloads; i++) {
        const struct ph_elf_load *l = &elf->loads[i];
        if (vaddr < l->vaddr || !range_ok(vaddr - l->vaddr, len, l->memsz))
            continue;
        uint64_t rel = vaddr - l->vaddr;
        uint64_t in_file = rel >= l->filesz ? 0 : l->filesz - rel;
        size_t from_file = in_file < len ? (size_t)in_file : len;
        memset((char *)buf + from_file, 0, len - from_file); /* .bss: zero-initialised */
        return from_file ? ph_elf_read_file(elf, l->offset + rel, buf, from_file, err) : PH_OK;
    }
    return ph_fail(err, PH_ERR_CORRUPT_FILE,
                   "%s: %zu bytes at address 0x%llx are not inside one PT_LOAD segment",
                   elf->label, len, (unsigned long long)vaddr);
}

uint64_t ph_elf_decode(const struct ph_elf *elf, const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < 8; i++) {
        size_t k = elf->big_endian ? i : n - 1 - i;
        v = (v << 8) | p[k];
    }
    return v;
}

/* --- load bias ----------------------------------------------------------------------------- */

/* True when, under bias b, the first page of segment l is mapped exactly where the loader puts
 * it: a mapping covers b + page(vaddr) and holds file page page(offset) there. */
static bool segment_placed(const struct ph_elf_load *l, const struct ph_map *maps, size_t nmaps,
                           uint64_t b, uint64_t mask)
{
    uint64_t addr = b + (l->vaddr & mask), off = l->offset & mask;
    for (size_t j = 0; j < nmaps; j++)
        if (maps[j].start <= addr && addr < maps[j].end &&
            maps[j].offset + (addr - maps[j].start) == off)
            return true;
    return false;
}

static size_t bias_score(const struct ph_elf_load *loads, size_t nloads,
                         const struct ph_map *maps, size_t nmaps, uint64_t b, uint64_t mask)
{
    size_t k = 0;
    for (size_t i = 0; i < nloads; i++)
        k += segment_placed(&loads[i], maps, nmaps, b, mask);
    return k;
}

ph_status ph_elf_load_bias(const struct ph_elf_load *loads, size_t nloads,
                           const struct ph_map *maps, size_t nmaps, uint64_t page_size,
                           uint64_t *bias, struct ph_error *err)
{
    if (page_size == 0 || (page_size & (page_size - 1)) != 0)
        return ph_fail(err, PH_ERR_INTERNAL, "page size %llu is not a power of two",
                       (unsigned long long)page_size);
    uint64_t mask = ~(page_size - 1), best = 0, other = 0;
    size_t best_score = 0;
    bool tie = false;
    for (size_t i = 0; i < nloads; i++) {
        uint64_t off = loads[i].offset & mask, va = loads[i].vaddr & mask;
        for (size_t j = 0; j < nmaps; j++) {
            const struct ph_map *m = &maps[j];
            if (off < m->offset || off - m->offset >= m->end - m->start)
                continue;
            uint64_t b = m->start + (off - m->offset) - va; /* modular; nonsense scores 0 */
            size_t score = bias_score(loads, nloads, maps, nmaps, b, mask);
            if (score > best_score)
                best = b, best_score = score, tie = false;
            else if (score == best_score && b != best)
                other = b, tie = true;
        }
    }
    if (best_score == 0)
        return ph_fail(err, PH_ERR_INCONSISTENT, "no PT_LOAD segment is mapped where expected");
    if (tie)
        return ph_fail(err, PH_ERR_INCONSISTENT,
                       "ambiguous load bias: 0x%llx or 0x%llx each place %zu of %zu segments",
                       (unsigned long long)best, (unsigned long long)other, best_score, nloads);
    *bias = best;
    return PH_OK;
}
