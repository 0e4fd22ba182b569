/*
 * test_elf.c: symbols/elf.c and symbols/target.c (up to the layout) on real files, crafted
 * files and live processes.
 *
 *   - Real files: Debian's stripped static /usr/bin/python3.11 (required; known build-id,
 *     addresses from readelf) and pyenv's libpython3.12 with .symtab (skipped when absent).
 *   - Hostile files, built in memory from a real ELF and served through a memfd: truncations,
 *     section and segment ranges past the end or overflowing, bad links and entry sizes, bad
 *     string offsets, bad notes and debuglinks, plus random byte flips. Each must fail with
 *     PH_ERR_CORRUPT_FILE (or find nothing) and never read out of bounds (ASan).
 *   - Load bias on synthetic segment/mapping lists: libffi trampoline page below, two r-x
 *     mappings with the lower one at the higher offset, merged mappings, ties.
 *   - Live processes: Debian 3.11, each pyenv Python, the sid chroot Pythons, /bin/sleep; the
 *     child prints "READY <sys.hexversion>" and blocks on stdin. py_target_locate must find the
 *     ELF, a mapped _PyRuntime and exactly the version the child reports; py_target_validate
 *     runs with a layout taken from _Py_DebugOffsets (3.13+).
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/proc/mem.h"
#include "lib/proc/proc.h"
#include "symbols/elf.h"
#include "symbols/target_locate.h"
#include "symbols/version.h"
#include "tests/unit/check_run.h"

#define DEBIAN_PY "/usr/bin/python3.11"
#define DEBIAN_BUILD_ID "c561f3aa7232f2bd6ac6d56bd475f1c154a00486"
#define PYENV "/root/.pyenv/versions"
#define PYENV_LIB312 PYENV "/3.12.1/lib/libpython3.12.so.1.0"
#define SID_ROOT "/var/cache/pyheap/sid-root"

/* --- helpers ------------------------------------------------------------------------------- */

static uint8_t *load_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    struct stat sb;
    ck_assert_int_eq(fstat(fd, &sb), 0);
    uint8_t *buf = malloc((size_t)sb.st_size + 1);
    ck_assert_ptr_nonnull(buf);
    size_t done = 0;
    while (done < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + done, (size_t)sb.st_size - done);
        ck_assert_int_gt(r, 0);
        done += (size_t)r;
    }
    close(fd);
    *len = done;
    return buf;
}

/* An fd holding exactly these bytes. */
static int memfd_of(const void *buf, size_t len)
{
    int fd = memfd_create("pyheap-test-elf", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)buf + done, len - done);
        ck_assert_int_gt(w, 0);
        done += (size_t)w;
    }
    return fd;
}

static bool exists(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Unaligned-safe accessors into an ELF64 little-endian image. */
static Elf64_Ehdr get_ehdr(const uint8_t *img)
{
    Elf64_Ehdr eh;
    memcpy(&eh, img, sizeof eh);
    return eh;
}

static Elf64_Shdr get_shdr(const uint8_t *img, size_t i)
{
    Elf64_Ehdr eh = get_ehdr(img);
    Elf64_Shdr sh;
    memcpy(&sh, img + eh.e_shoff + i * sizeof sh, sizeof sh);
    return sh;
}

static void put_shdr(uint8_t *img, size_t i, const Elf64_Shdr *sh)
{
    Elf64_Ehdr eh = get_ehdr(img);
    memcpy(img + eh.e_shoff + i * sizeof *sh, sh, sizeof *sh);
}

static size_t shdr_index(const uint8_t *img, const char *name)
{
    Elf64_Ehdr eh = get_ehdr(img);
    Elf64_Shdr strs = get_shdr(img, eh.e_shstrndx);
    for (size_t i = 1; i < eh.e_shnum; i++) {
        Elf64_Shdr sh = get_shdr(img, i);
        if (strcmp((const char *)img + strs.sh_offset + sh.sh_name, name) == 0)
            return i;
    }
    ck_abort_msg("no section %s", name);
    return 0;
}

/* Open an image through a memfd; returns the status; *fd and *elf for the caller to close. */
static ph_status open_image(const uint8_t *img, size_t len, int *fd, struct ph_elf **elf,
                            struct ph_error *err)
{
    *fd = memfd_of(img, len);
    return ph_elf_open(*fd, "crafted.elf", elf, err);
}

static void close_image(int fd, struct ph_elf *elf)
{
    ph_elf_close(elf);
    close(fd);
}

/* --- real files ---------------------------------------------------------------------------- */

static struct ph_elf *open_path(const char *path, int *fd)
{
    struct ph_error err = {0};
    struct ph_elf *elf = NULL;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(*fd >= 0, "open %s: %s", path, strerror(errno));
    ck_assert_msg(ph_elf_open(*fd, path, &elf, &err) == PH_OK, "%s", err.msg);
    return elf;
}

START_TEST(debian_headers)
{
    int fd;
    struct ph_elf *elf = open_path(DEBIAN_PY, &fd);
    struct ph_error err = {0};
    char id[81];
    ck_assert_int_eq(ph_elf_read_build_id(elf, id, sizeof id, &err), PH_OK);
    ck_assert_str_eq(id, DEBIAN_BUILD_ID);
    ck_assert(!ph_elf_is_dyn(elf));
    ck_assert_uint_eq(ph_elf_word_size(elf), 8);
    const struct ph_elf_load *l;
    ck_assert_uint_eq(ph_elf_loads(elf, &l), 4);
    ck_assert_uint_eq(l[0].vaddr, 0x400000);
    ck_assert_uint_eq(l[1].offset, 0x1f000);
    ck_assert_uint_eq(l[1].flags, PF_R | PF_X);
    ck_assert_uint_eq(l[3].vaddr, 0x940dc8);
    ck_assert_uint_eq(l[3].offset, 0x53fdc8);
    ck_assert_uint_eq(l[3].filesz, 0x13df90);
    ck_assert_uint_eq(l[3].memsz, 0x182db0);
    char name[256];
    uint32_t crc = 0;
    bool found = false;
    ck_assert_int_eq(ph_elf_debuglink(elf, name, sizeof name, &crc, &found, &err), PH_OK);
    ck_assert(found);
    ck_assert_str_eq(name, "61f3aa7232f2bd6ac6d56bd475f1c154a00486.debug");
    ck_assert_uint_eq(crc, 0xb7e0350c);
    ck_assert_int_eq(ph_elf_debuglink(elf, name, 8, &crc, &found, &err), PH_ERR_INTERNAL);
    ph_elf_close(elf);
    close(fd);
}
END_TEST

START_TEST(debian_symbols_sections)
{
    int fd;
    struct ph_elf *elf = open_path(DEBIAN_PY, &fd);
    struct ph_error err = {0};
    struct ph_elf_sym q[] = {{.name = "_PyRuntime"}, {.name = "Py_Version"},
                             {.name = "PyType_Type"}, {.name = "no_such_symbol_anywhere"},
                             {.name = ""}, {.name = "_PyRuntime"}};
    ck_assert_int_eq(ph_elf_lookup(elf, q, 6, &err), PH_OK);
    ck_assert(q[0].found && q[0].in_dynsym);
    ck_assert_uint_eq(q[0].value, 0xa56220);
    ck_assert_uint_eq(q[0].size, 0x28b20);
    ck_assert_uint_eq(q[0].type, STT_OBJECT);
    ck_assert_uint_eq(q[0].bind, STB_GLOBAL);
    ck_assert(q[1].found);
    ck_assert_uint_eq(q[1].value, 0x8c9808);
    ck_assert_uint_eq(q[1].size, 8);
    ck_assert(q[2].found);
    ck_assert_uint_eq(q[2].value, 0x9534a0);
    ck_assert(!q[3].found && !q[4].found);
    ck_assert(q[5].found && q[5].value == q[0].value); /* duplicates answered alike */

    struct ph_elf_section sec;
    bool found;
    ck_assert_int_eq(ph_elf_find_section(elf, ".PyRuntime", &sec, &found, &err), PH_OK);
    ck_assert(found);
    ck_assert_uint_eq(sec.addr, 0xa56220);
    ck_assert_uint_eq(sec.offset, 0x655220);
    ck_assert_uint_eq(sec.size, 0x28b20);
    ck_assert_uint_eq(sec.type, SHT_PROGBITS);
    ck_assert_int_eq(ph_elf_find_section(elf, ".rodata", &sec, &found, &err), PH_OK);
    ck_assert(found && sec.addr == 0x6cf000 && sec.size == 0x1fa9c0);
    ck_assert_int_eq(ph_elf_find_section(elf, ".debug_info", &sec, &found, &err), PH_OK);
    ck_assert(!found);
    ck_assert_int_eq(ph_elf_find_section(elf, ".bss", &sec, &found, &err), PH_OK);
    ck_assert(found && sec.type == SHT_NOBITS);
    ph_elf_close(elf);
    close(fd);
}
END_TEST

START_TEST(debian_read_vaddr)
{
    int fd;
    struct ph_elf *elf = open_path(DEBIAN_PY, &fd);
    struct ph_error err = {0};
    uint8_t b[16];
    ck_assert_int_eq(ph_elf_read_vaddr(elf, 0x8c9808, b, 8, &err), PH_OK);
    ck_assert_uint_eq(ph_elf_decode(elf, b, 8), 0x030b02f0);
    /* .bss (past p_filesz of the last segment) reads as zeros. */
    memset(b, 0xaa, sizeof b);
    ck_assert_int_eq(ph_elf_read_vaddr(elf, 0xa7ed60, b, 16, &err), PH_OK);
    for (size_t i = 0; i < 16; i++)
        ck_assert_uint_eq(b[i], 0);
    /* Straddling p_filesz: file bytes then zeros. */
    uint64_t end_file = 0x940dc8 + 0x13df90;
    ck_assert_int_eq(ph_elf_read_vaddr(elf, end_file - 8, b, 16, &err), PH_OK);
    for (size_t i = 8; i < 16; i++)
        ck_assert_uint_eq(b[i], 0);
    /* Outside every segment, and past the end of the last one. */
    ck_assert_int_eq(ph_elf_read_vaddr(elf, 0x1000, b, 8, &err), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(ph_elf_read_vaddr(elf, 0x940dc8 + 0x182db0 - 4, b, 8, &err),
                     PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(ph_elf_read_vaddr(elf, UINT64_MAX - 3, b, 8, &err), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(ph_elf_read_file(elf, ph_elf_file_size(elf) - 4, b, 8, &err),
                     PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(ph_elf_read_file(elf, UINT64_MAX, b, 1, &err), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(ph_elf_read_file(elf, 0, b, 4, &err), PH_OK);
    ck_assert(memcmp(b, ELFMAG, 4) == 0);
    ph_elf_close(elf);
    close(fd);
}
END_TEST

START_TEST(pyenv_shared_symtab)
{
    if (!exists(PYENV_LIB312))
        return; /* pyenv 3.12.1 not installed: nothing to check */
    int fd;
    struct ph_elf *elf = open_path(PYENV_LIB312, &fd);
    struct ph_error err = {0};
    ck_assert(ph_elf_is_dyn(elf));
    char id[81];
    ck_assert_int_eq(ph_elf_read_build_id(elf, id, sizeof id, &err), PH_OK);
    ck_assert_str_eq(id, "f9d5c82f5f2c22df68c1d49c944ef3dee5103dcc");
    struct ph_elf_sym q[] = {{.name = "_PyRuntime"}, {.name = "pymain_run_python.constprop.0"},
                             {.name = "Py_Version"}};
    ck_assert_int_eq(ph_elf_lookup(elf, q, 3, &err), PH_OK);
    ck_assert(q[0].found && q[0].in_dynsym && q[0].value == 0x643340);
    ck_assert(q[1].found && !q[1].in_dynsym); /* a static function: .symtab only */
    ck_assert_uint_eq(q[1].value, 0x301750);
    ck_assert_uint_eq(q[1].bind, STB_LOCAL);
    ck_assert_uint_eq(q[1].type, STT_FUNC);
    uint8_t b[8];
    ck_assert_int_eq(ph_elf_read_vaddr(elf, q[2].value, b, 8, &err), PH_OK);
    ck_assert_uint_eq(ph_elf_decode(elf, b, 8), 0x030c01f0);
    char name[64];
    uint32_t crc;
    bool found = true;
    ck_assert_int_eq(ph_elf_debuglink(elf, name, sizeof name, &crc, &found, &err), PH_OK);
    ck_assert(!found);
    ph_elf_close(elf);
    close(fd);
}
END_TEST

/* --- hostile files ------------------------------------------------------------------------- */

static Elf64_Phdr get_phdr(const uint8_t *img, size_t i)
{
    Elf64_Ehdr eh = get_ehdr(img);
    Elf64_Phdr ph;
    memcpy(&ph, img + eh.e_phoff + i * sizeof ph, sizeof ph);
    return ph;
}

static void put_phdr(uint8_t *img, size_t i, const Elf64_Phdr *ph)
{
    Elf64_Ehdr eh = get_ehdr(img);
    memcpy(img + eh.e_phoff + i * sizeof *ph, ph, sizeof *ph);
}

static size_t first_load(const uint8_t *img, size_t nth)
{
    Elf64_Ehdr eh = get_ehdr(img);
    for (size_t i = 0; i < eh.e_phnum; i++)
        if (get_phdr(img, i).p_type == PT_LOAD && nth-- == 0)
            return i;
    ck_abort_msg("no PT_LOAD");
    return 0;
}

static ph_status open_status(const uint8_t *img, size_t len)
{
    int fd;
    struct ph_elf *elf = NULL;
    struct ph_error err = {0};
    ph_status st = open_image(img, len, &fd, &elf, &err);
    if (st != PH_OK)
        ck_assert_msg(strstr(err.msg, "crafted.elf") != NULL, "message lacks the file: %s",
                      err.msg);
    close_image(fd, elf);
    return st;
}

START_TEST(truncated)
{
    size_t len;
    uint8_t *img = load_file(DEBIAN_PY, &len);
    const size_t cuts[] = {0, 1, 4, 16, 63, 64, 200, 4096, 0x20000, len / 2, len - 64, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        ck_assert_msg(open_status(img, cuts[i]) == PH_ERR_CORRUPT_FILE, "cut at %zu", cuts[i]);
    ck_assert_int_eq(open_status(img, len), PH_OK);
    const char text[] = "#!/bin/sh\necho not an ELF\n";
    ck_assert_int_eq(open_status((const uint8_t *)text, sizeof text), PH_ERR_CORRUPT_FILE);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct ph_elf *elf = NULL;
    struct ph_error err = {0};
    ck_assert_int_eq(ph_elf_open(p[0], "a pipe", &elf, &err), PH_ERR_CORRUPT_FILE);
    ck_assert_ptr_null(elf);
    close(p[0]);
    close(p[1]);
    free(img);
}
END_TEST

START_TEST(bad_headers)
{
    size_t len;
    uint8_t *img = load_file(DEBIAN_PY, &len);
    uint8_t *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    Elf64_Ehdr eh0 = get_ehdr(img);
    size_t shstr = eh0.e_shstrndx;
    for (int k = 0; k < 9; k++) {
        memcpy(copy, img, len);
        Elf64_Ehdr eh = eh0;
        Elf64_Shdr sh = get_shdr(copy, shstr);
        size_t load = first_load(copy, 3);
        Elf64_Phdr ph = get_phdr(copy, load);
        switch (k) {
        case 0: eh.e_shstrndx = 9999; break;
        case 1: eh.e_shoff = len - 10; break;
        case 2: eh.e_phoff = UINT64_MAX - 8; break;
        case 3: eh.e_shentsize = 12; break;
        case 4: sh.sh_type = SHT_PROGBITS; break;
        case 5: sh.sh_offset = len + 100; break;
        case 6: ph.p_filesz = ph.p_memsz + 1; break;
        case 7: ph.p_offset = len - 16; break;
        case 8: eh.e_type = ET_REL; break;
        }
        put_shdr(copy, shstr, &sh);
        put_phdr(copy, load, &ph);
        memcpy(copy, &eh, sizeof eh); /* last: it moves the tables */
        ck_assert_msg(open_status(copy, len) == PH_ERR_CORRUPT_FILE, "case %d opened", k);
    }
    free(copy);
    free(img);
}
END_TEST

/* Open a copy with one section header changed; run a symbol lookup and return its status. */
static ph_status lookup_with(const uint8_t *img, size_t len, const char *sec,
                             void (*edit)(Elf64_Shdr *, const uint8_t *, size_t), bool *found)
{
    uint8_t *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, img, len);
    size_t i = shdr_index(copy, sec);
    Elf64_Shdr sh = get_shdr(copy, i);
    edit(&sh, copy, i);
    put_shdr(copy, i, &sh);
    int fd;
    struct ph_elf *elf = NULL;
    struct ph_error err = {0};
    ck_assert_int_eq(open_image(copy, len, &fd, &elf, &err), PH_OK);
    struct ph_elf_sym q[] = {{.name = "_PyRuntime"}, {.name = "PyType_Type"}};
    ph_status st = ph_elf_lookup(elf, q, 2, &err);
    *found = q[0].found || q[1].found;
    close_image(fd, elf);
    free(copy);
    return st;
}

static void off_past_end(Elf64_Shdr *sh, const uint8_t *img, size_t i)
{
    (void)img, (void)i;
    sh->sh_offset = 0x7fffffff0000ull;
}
static void off_overflow(Elf64_Shdr *sh, const uint8_t *img, size_t i)
{
    (void)img, (void)i;
    sh->sh_offset = UINT64_MAX - 0x10;
}
static void size_huge(Elf64_Shdr *sh, const uint8_t *img, size_t i)
{
    (void)img, (void)i;
    sh->sh_size = UINT64_MAX / 2;
}
static void link_out(Elf64_Shdr *sh, const uint8_t *img, size_t i)
{
    (void)img, (void)i;
    sh->sh_link = 9999;
}
static void link_self(Elf64_Shdr *sh, const uint8_t *img, size_t i)
{
    (void)img;
    sh->sh_link = (uint32_t)i;
}
static void entsize_bad(Elf64_Shdr *sh, const uint8_t *img, size_t i)
{
    (void)img, (void)i;
    sh->sh_entsize = 7;
}
static void strs_tiny(Elf64_Shdr *sh, const uint8_t *img, size_t i)
{
    (void)img, (void)i;
    sh->sh_size = 1; /* every name offset now falls outside */
}
static void nobits(Elf64_Shdr *sh, const uint8_t *img, size_t i)
{
    (void)img, (void)i;
    sh->sh_type = SHT_NOBITS;
}

START_TEST(bad_symbol_tables)
{
    size_t len;
    uint8_t *img = load_file(DEBIAN_PY, &len);
    bool found;
    ck_assert_int_eq(lookup_with(img, len, ".dynsym", off_past_end, &found), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(lookup_with(img, len, ".dynsym", off_overflow, &found), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(lookup_with(img, len, ".dynsym", size_huge, &found), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(lookup_with(img, len, ".dynsym", link_out, &found), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(lookup_with(img, len, ".dynsym", link_self, &found), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(lookup_with(img, len, ".dynsym", entsize_bad, &found), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(lookup_with(img, len, ".dynsym", nobits, &found), PH_OK);
    ck_assert(!found); /* no symbol table left, and no .symtab in a stripped file */
    ck_assert_int_eq(lookup_with(img, len, ".dynstr", nobits, &found), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(lookup_with(img, len, ".dynstr", off_past_end, &found), PH_ERR_CORRUPT_FILE);
    ck_assert_int_eq(lookup_with(img, len, ".dynstr", strs_tiny, &found), PH_OK);
    ck_assert(!found);
    /* A section lookup reports a bad range too, naming the section. */
    uint8_t *copy = malloc(len);
    memcpy(copy, img, len);
    size_t i = shdr_index(copy, ".PyRuntime");
    Elf64_Shdr sh = get_shdr(copy, i);
    sh.sh_size = len;
    put_shdr(copy, i, &sh);
    int fd;
    struct ph_elf *elf = NULL;
    struct ph_error err = {0};
    ck_assert_int_eq(open_image(copy, len, &fd, &elf, &err), PH_OK);
    struct ph_elf_section sec;
    ck_assert_int_eq(ph_elf_find_section(elf, ".PyRuntime", &sec, &found, &err),
                     PH_ERR_CORRUPT_FILE);
    ck_assert_msg(strstr(err.msg, ".PyRuntime") != NULL, "%s", err.msg);
    close_image(fd, elf);
    free(copy);
    free(img);
}
END_TEST

/* Debuglink and build-id variants: each either fails as corrupt or finds nothing. */
START_TEST(bad_notes_and_debuglink)
{
    size_t len;
    uint8_t *img = load_file(DEBIAN_PY, &len);
    uint8_t *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    size_t dl = shdr_index(img, ".gnu_debuglink"), note = shdr_index(img, ".note.gnu.build-id");
    Elf64_Shdr dsh = get_shdr(img, dl), nsh = get_shdr(img, note);
    for (int k = 0; k < 6; k++) {
        memcpy(copy, img, len);
        uint8_t *d = copy + dsh.sh_offset, *n = copy + nsh.sh_offset;
        Elf64_Shdr sh = dsh;
        uint32_t v;
        switch (k) {
        case 0: memset(d, 'a', dsh.sh_size); break;                   /* no NUL */
        case 1: d[3] = '/'; break;                                   /* a path */
        case 2: sh.sh_size = 4; put_shdr(copy, dl, &sh); break;      /* too small for a CRC */
        case 3: memcpy(d, "..\0\0", 4); break;                       /* ".." */
        case 4: v = 0x10000; memcpy(n + 4, &v, 4); break;            /* descsz past the end */
        case 5: v = 0; memcpy(n + 4, &v, 4); break;                  /* empty build-id */
        }
        int fd;
        struct ph_elf *elf = NULL;
        struct ph_error err = {0};
        ck_assert_int_eq(open_image(copy, len, &fd, &elf, &err), PH_OK);
        char name[PATH_MAX], id[81];
        uint32_t crc;
        bool found = false;
        ph_status st = ph_elf_debuglink(elf, name, sizeof name, &crc, &found, &err);
        if (k < 4)
            ck_assert_msg(st == PH_ERR_CORRUPT_FILE && !found, "debuglink case %d: %d", k, st);
        st = ph_elf_read_build_id(elf, id, sizeof id, &err);
        if (k >= 4)
            ck_assert_msg(st == PH_ERR_CORRUPT_FILE || (st == PH_OK && id[0] == '\0'),
                          "build-id case %d: %d %s", k, st, id);
        close_image(fd, elf);
    }
    free(copy);
    free(img);
}
END_TEST

/* Random byte flips in the headers of a small ELF: every call returns a status, ASan sees no
 * out-of-bounds access. */
START_TEST(random_flips)
{
    size_t len;
    uint8_t *img = load_file("/usr/bin/true", &len);
    uint8_t *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    Elf64_Ehdr eh = get_ehdr(img);
    unsigned seed = 4242;
    int opened = 0;
    for (int round = 0; round < 400; round++) {
        memcpy(copy, img, len);
        for (int f = 0; f < 1 + round % 8; f++) {
            seed = seed * 1103515245u + 12345u;
            size_t span = round % 2 ? 1024 : (size_t)eh.e_shnum * sizeof(Elf64_Shdr);
            size_t base = round % 2 ? 0 : eh.e_shoff;
            copy[(base + (seed >> 8) % span) % len] ^= (uint8_t)(1u << (seed % 8));
        }
        int fd;
        struct ph_elf *elf = NULL;
        struct ph_error err = {0};
        if (open_image(copy, len, &fd, &elf, &err) == PH_OK) {
            opened++;
            struct ph_elf_sym q[] = {{.name = "main"}, {.name = "__libc_start_main"}};
            struct ph_elf_section sec;
            bool found;
            char buf[PATH_MAX];
            uint32_t crc;
            uint8_t b[32];
            ck_assert_int_lt(ph_elf_lookup(elf, q, 2, &err), PH_STATUS_COUNT);
            ck_assert_int_lt(ph_elf_find_section(elf, ".rodata", &sec, &found, &err),
                             PH_STATUS_COUNT);
            ck_assert_int_lt(ph_elf_read_build_id(elf, buf, 81, &err), PH_STATUS_COUNT);
            ck_assert_int_lt(ph_elf_debuglink(elf, buf, sizeof buf, &crc, &found, &err),
                             PH_STATUS_COUNT);
            const struct ph_elf_load *l;
            size_t nl = ph_elf_loads(elf, &l);
            ck_assert_int_lt(ph_elf_read_vaddr(elf, l[nl - 1].vaddr, b, sizeof b, &err),
                             PH_STATUS_COUNT);
        }
        close_image(fd, elf);
    }
    ck_assert_int_gt(opened, 0);
    free(copy);
    free(img);
}
END_TEST

/* --- load bias ----------------------------------------------------------------------------- */

#define PG 0x1000ull
#define BASE 0x7f1234500000ull

/* A libpython-like PIE: R, R-X, R, RW with a page-unaligned RW vaddr one page above its
 * offset. */
static const struct ph_elf_load pie_loads[] = {
    {.vaddr = 0x0, .offset = 0x0, .filesz = 0x105130, .memsz = 0x105130, .flags = PF_R},
    {.vaddr = 0x106000, .offset = 0x106000, .filesz = 0x272ec9, .memsz = 0x272ec9,
     .flags = PF_R | PF_X},
    {.vaddr = 0x379000, .offset = 0x379000, .filesz = 0x1530c8, .memsz = 0x1530c8,
     .flags = PF_R},
    {.vaddr = 0x4cd6d0, .offset = 0x4cc6d0, .filesz = 0x1e6118, .memsz = 0x1e7598,
     .flags = PF_R | PF_W},
};
#define NPIE (sizeof pie_loads / sizeof pie_loads[0])

static struct ph_map mapping(uint64_t start, uint64_t end, uint64_t off, unsigned perms)
{
    return (struct ph_map){.start = start, .end = end, .offset = off, .perms = perms,
                           .inode = 42, .path = "/lib/libpython3.12.so.1.0"};
}

/* How the kernel maps pie_loads at BASE (RELRO splits the RW segment). */
static size_t pie_maps(struct ph_map *m, uint64_t base)
{
    size_t n = 0;
    m[n++] = mapping(base, base + 0x106000, 0, PH_MAP_R | PH_MAP_P);
    m[n++] = mapping(base + 0x106000, base + 0x379000, 0x106000, PH_MAP_R | PH_MAP_X);
    m[n++] = mapping(base + 0x379000, base + 0x4cd000, 0x379000, PH_MAP_R);
    m[n++] = mapping(base + 0x4cd000, base + 0x544000, 0x4cc000, PH_MAP_R);
    m[n++] = mapping(base + 0x544000, base + 0x6b4000, 0x543000, PH_MAP_R | PH_MAP_W);
    return n;
}

static ph_status bias_of(const struct ph_elf_load *l, size_t nl, const struct ph_map *m,
                         size_t nm, uint64_t *bias)
{
    struct ph_error err = {0};
    *bias = 0xdead;
    return ph_elf_load_bias(l, nl, m, nm, PG, bias, &err);
}

START_TEST(bias_plain)
{
    struct ph_map m[8];
    size_t n = pie_maps(m, BASE);
    uint64_t b;
    ck_assert_int_eq(bias_of(pie_loads, NPIE, m, n, &b), PH_OK);
    ck_assert_uint_eq(b, BASE);
    /* Order of the mapping list does not matter. */
    struct ph_map r[8];
    for (size_t i = 0; i < n; i++)
        r[i] = m[n - 1 - i];
    ck_assert_int_eq(bias_of(pie_loads, NPIE, r, n, &b), PH_OK);
    ck_assert_uint_eq(b, BASE);
    /* Only the RW segment left mapped (the others unmapped): still placed. */
    ck_assert_int_eq(bias_of(pie_loads, NPIE, m + 3, 2, &b), PH_OK);
    ck_assert_uint_eq(b, BASE);
}
END_TEST

START_TEST(bias_trampoline_below)
{
    /* libffi re-maps a page of the file, here even the first page of the r-x segment, far
     * below the real mappings. The lowest mapping of the file is now wrong. */
    struct ph_map m[8];
    m[0] = mapping(0x10000, 0x11000, 0x106000, PH_MAP_R | PH_MAP_X);
    size_t n = 1 + pie_maps(m + 1, BASE);
    uint64_t b;
    ck_assert_int_eq(bias_of(pie_loads, NPIE, m, n, &b), PH_OK);
    ck_assert_uint_eq(b, BASE);
    /* A trampoline page from the middle of the text. */
    m[0] = mapping(0x10000, 0x11000, 0x200000, PH_MAP_R | PH_MAP_X);
    ck_assert_int_eq(bias_of(pie_loads, NPIE, m, n, &b), PH_OK);
    ck_assert_uint_eq(b, BASE);
}
END_TEST

START_TEST(bias_two_rx_lower_higher_offset)
{
    /* The text is mapped as two r-x pieces; the lower address holds the higher offset
     * (py-spy#733). "First executable mapping" would give BASE - 0x300000 - 0x200000. */
    struct ph_map m[8];
    size_t n = 0;
    m[n++] = mapping(BASE - 0x300000, BASE - 0x300000 + 0x179000, 0x200000,
                     PH_MAP_R | PH_MAP_X);
    m[n++] = mapping(BASE, BASE + 0x106000, 0, PH_MAP_R);
    m[n++] = mapping(BASE + 0x106000, BASE + 0x200000, 0x106000, PH_MAP_R | PH_MAP_X);
    m[n++] = mapping(BASE + 0x379000, BASE + 0x4cd000, 0x379000, PH_MAP_R);
    m[n++] = mapping(BASE + 0x4cd000, BASE + 0x6b4000, 0x4cc000, PH_MAP_R | PH_MAP_W);
    uint64_t b;
    ck_assert_int_eq(bias_of(pie_loads, NPIE, m, n, &b), PH_OK);
    ck_assert_uint_eq(b, BASE);
}
END_TEST

START_TEST(bias_merged_and_exec)
{
    /* Two segments with the same permissions, contiguous: the kernel may merge the mappings,
     * so the second segment's offset starts no mapping. */
    static const struct ph_elf_load l[] = {
        {.vaddr = 0x0, .offset = 0x0, .filesz = 0x2000, .memsz = 0x2000, .flags = PF_R},
        {.vaddr = 0x2000, .offset = 0x2000, .filesz = 0x1000, .memsz = 0x1000, .flags = PF_R},
    };
    struct ph_map m[] = {mapping(BASE, BASE + 0x3000, 0, PH_MAP_R)};
    uint64_t b;
    ck_assert_int_eq(bias_of(l, 2, m, 1, &b), PH_OK);
    ck_assert_uint_eq(b, BASE);
    /* A fixed-address executable: bias 0. */
    static const struct ph_elf_load e[] = {
        {.vaddr = 0x400000, .offset = 0, .filesz = 0x1e468, .memsz = 0x1e468, .flags = PF_R},
        {.vaddr = 0x41f000, .offset = 0x1f000, .filesz = 0x2afe49, .memsz = 0x2afe49,
         .flags = PF_R | PF_X},
        {.vaddr = 0x940dc8, .offset = 0x53fdc8, .filesz = 0x13df90, .memsz = 0x182db0,
         .flags = PF_R | PF_W},
    };
    struct ph_map x[] = {
        mapping(0x400000, 0x41f000, 0, PH_MAP_R),
        mapping(0x41f000, 0x6cf000, 0x1f000, PH_MAP_R | PH_MAP_X),
        mapping(0x940000, 0x941000, 0x53f000, PH_MAP_R),
        mapping(0x941000, 0xa7f000, 0x540000, PH_MAP_R | PH_MAP_W),
    };
    ck_assert_int_eq(bias_of(e, 3, x, 4, &b), PH_OK);
    ck_assert_uint_eq(b, 0);
}
END_TEST

START_TEST(bias_failures)
{
    uint64_t b;
    struct ph_error err = {0};
    /* Nothing mapped, or mapped at offsets no segment has. */
    ck_assert_int_eq(bias_of(pie_loads, NPIE, NULL, 0, &b), PH_ERR_INCONSISTENT);
    ck_assert_uint_eq(b, 0xdead);
    struct ph_map m[] = {mapping(BASE, BASE + 0x1000, 0x123000, PH_MAP_R)};
    ck_assert_int_eq(bias_of(pie_loads, NPIE, m, 1, &b), PH_ERR_INCONSISTENT);
    /* One segment, its page mapped twice at different places: no way to choose. */
    struct ph_map two[] = {mapping(BASE, BASE + 0x1000, 0, PH_MAP_R),
                           mapping(BASE + 0x100000, BASE + 0x101000, 0, PH_MAP_R)};
    ck_assert_int_eq(bias_of(pie_loads, 1, two, 2, &b), PH_ERR_INCONSISTENT);
    /* Page size must be a power of two. */
    ck_assert_int_eq(ph_elf_load_bias(pie_loads, NPIE, two, 2, 3000, &b, &err),
                     PH_ERR_INTERNAL);
    /* Hostile numbers: offsets near the top of the address space do not wrap into a match. */
    static const struct ph_elf_load huge[] = {
        {.vaddr = UINT64_MAX - 0xfff, .offset = UINT64_MAX - 0xfff, .filesz = 1, .memsz = 1}};
    ck_assert_int_eq(bias_of(huge, 1, m, 1, &b), PH_ERR_INCONSISTENT);
}
END_TEST

/* --- live processes ------------------------------------------------------------------------ */

/* Works on Python 2 and 3: tells its version, then blocks until stdin closes. */
#define CHILD_CODE                                                                              \
    "import sys; sys.stdout.write('READY %d\\n' % sys.hexversion); sys.stdout.flush(); "        \
    "sys.stdin.read()"

struct child {
    pid_t pid;
    int to_child, from_child;
    unsigned long hexversion;
};

/* Start argv with pipes on stdin and stdout; wait for "READY <hex>" (or any first line, for
 * non-Python children that print "READY" themselves). False when the program cannot run. */
static bool child_start(struct child *c, char *const argv[])
{
    int in[2], out[2];
    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    c->pid = fork();
    ck_assert_int_ge(c->pid, 0);
    if (c->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->to_child = in[1];
    c->from_child = out[0];
    char line[128] = {0};
    size_t n = 0;
    while (n < sizeof line - 1 && !memchr(line, '\n', n)) {
        struct pollfd p = {.fd = c->from_child, .events = POLLIN};
        if (poll(&p, 1, 20000) <= 0)
            break;
        ssize_t r = read(c->from_child, line + n, sizeof line - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    c->hexversion = 0;
    return strncmp(line, "READY", 5) == 0 &&
           (line[5] != ' ' || sscanf(line + 6, "%lu", &c->hexversion) == 1);
}

static void child_stop(struct child *c)
{
    close(c->to_child);
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    close(c->from_child);
}

/* Everything a locate test needs about one running child. */
struct located {
    struct ph_proc proc;
    struct ph_mem *mem;
    struct py_target t;
    int fd;
    ph_status st;
    struct ph_error err;
};

static void locate(pid_t pid, struct located *l)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    ck_assert_msg(ph_proc_open(pid, &l->proc, &l->err) == PH_OK, "%s", l->err.msg);
    struct ph_mem_backend be;
    ck_assert_msg(ph_mem_backend_pid(pid, &be, &l->err) == PH_OK, "%s", l->err.msg);
    ck_assert_msg(ph_mem_open(be, &l->proc.maps, 16u << 20, &l->mem, &l->err) == PH_OK, "%s",
                  l->err.msg);
    l->st = py_target_locate(&l->proc, l->mem, &l->t, &l->fd, &l->err);
}

static void located_free(struct located *l)
{
    if (l->fd >= 0)
        close(l->fd);
    ph_mem_close(l->mem);
    ph_proc_close(&l->proc);
}

/* The checks every successful locate must pass. */
static void check_located(const struct located *l, const struct child *c, const char *path,
                          const char *source)
{
    const struct py_target *t = &l->t;
    ck_assert_msg(l->st == PH_OK, "%s: %s", path, l->err.msg);
    ck_assert_int_ge(l->fd, 0);
    ck_assert_str_eq(t->elf_path, path);
    ck_assert_msg(t->version_hex == c->hexversion, "%s: version 0x%x, child says 0x%lx (%s)",
                  path, t->version_hex, c->hexversion, t->version_source);
    if (source)
        ck_assert_str_eq(t->version_source, source);
    ck_assert_msg(t->build_id[0] != '\0', "%s: no build-id", path);
    ck_assert_str_eq(t->elf_opened_via, "map_files");
    uint64_t rt = t->sym[PY_SYM_RUNTIME];
    const struct ph_map *m = ph_maps_find(&l->proc.maps, rt);
    ck_assert_msg(m && (m->perms & PH_MAP_W), "%s: _PyRuntime 0x%llx not in a writable mapping",
                  path, (unsigned long long)rt);
    for (size_t i = 0; i < PY_SYM_COUNT; i++)
        if (py_sym_descs[i].required)
            ck_assert_msg(t->sym[i] != 0 && ph_maps_find(&l->proc.maps, t->sym[i]),
                          "%s: %s unresolved or unmapped", path, py_sym_descs[i].name);
    /* PyType_Type is its own type: ob_type (offset 8 in every GIL build) points to itself. */
    uint64_t ob_type = 0;
    ck_assert_int_eq(ph_mem_u64(l->mem, t->sym[PY_SYM_TYPE_TYPE] + 8, &ob_type, NULL), PH_OK);
    ck_assert_uint_eq(ob_type, t->sym[PY_SYM_TYPE_TYPE]);
}

START_TEST(live_debian)
{
    struct child c;
    char *argv[] = {DEBIAN_PY, "-c", CHILD_CODE, NULL};
    ck_assert(child_start(&c, argv));
    struct located l;
    locate(c.pid, &l);
    check_located(&l, &c, DEBIAN_PY, "Py_Version");
    ck_assert_str_eq(l.t.build_id, DEBIAN_BUILD_ID);
    ck_assert(!l.t.shared && !l.t.pie && !l.t.debug_build && !l.t.free_threaded);
    ck_assert_uint_eq(l.t.load_bias, 0);
    ck_assert_uint_eq(l.t.sym[PY_SYM_RUNTIME], 0xa56220);
    ck_assert_uint_eq(l.t.sym[PY_SYM_PY_VERSION], 0x8c9808);
    /* Without a ph_mem nothing is cross-checked, and the answer is the same. */
    struct py_target *t = malloc(sizeof *t);
    int fd = -1;
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(py_target_locate(&l.proc, NULL, t, &fd, &l.err), PH_OK);
    ck_assert_uint_eq(t->version_hex, l.t.version_hex);
    ck_assert_uint_eq(t->sym[PY_SYM_NONE], l.t.sym[PY_SYM_NONE]);
    close(fd);
    free(t);
    located_free(&l);
    child_stop(&c);
}
END_TEST

START_TEST(live_pyenv)
{
    static const struct {
        const char *ver, *source;
    } v[] = {{"3.8.18", "version-string"}, {"3.9.18", "version-string"},
             {"3.10.13", "version-string"}, {"3.11.7", "Py_Version"},
             {"3.12.1", "Py_Version"},      {"3.13.0", "debug-offsets"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char exe[PATH_MAX], lib[PATH_MAX], minor[16];
        snprintf(minor, sizeof minor, "%.*s", (int)(strrchr(v[i].ver, '.') - v[i].ver),
                 v[i].ver);
        snprintf(exe, sizeof exe, PYENV "/%s/bin/python%s", v[i].ver, minor);
        snprintf(lib, sizeof lib, PYENV "/%s/lib/libpython%s.so.1.0", v[i].ver, minor);
        if (!exists(exe))
            continue;
        struct child c;
        char *argv[] = {exe, "-c", CHILD_CODE, NULL};
        ck_assert_msg(child_start(&c, argv), "%s did not start", exe);
        struct located l;
        locate(c.pid, &l);
        check_located(&l, &c, lib, v[i].source);
        ck_assert(l.t.shared && l.t.pie && !l.t.debug_build && !l.t.free_threaded);
        ck_assert_uint_eq(l.t.load_bias % 4096, 0);
        ck_assert_uint_ne(l.t.load_bias, 0);
        located_free(&l);
        child_stop(&c);
    }
}
END_TEST

/* Not CPython, or too old. */
static void expect_refusal(char *const argv[], ph_status want, const char *msg_part)
{
    struct child c;
    if (!child_start(&c, argv)) {
        child_stop(&c);
        ck_abort_msg("%s did not start", argv[0]);
    }
    struct located l;
    locate(c.pid, &l);
    ck_assert_msg(l.st == want, "%s: status %d (%s)", argv[0], l.st, l.err.msg);
    ck_assert_msg(strstr(l.err.msg, msg_part) != NULL, "%s: message \"%s\" lacks \"%s\"",
                  argv[0], l.err.msg, msg_part);
    ck_assert_int_eq(l.fd, -1);
    located_free(&l);
    child_stop(&c);
}

START_TEST(live_not_python)
{
    /* sleep prints nothing: a close-on-exec pipe reads EOF exactly when the exec happened. */
    int fds[2];
    ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        execl("/bin/sleep", "sleep", "60", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    struct located l;
    locate(pid, &l);
    ck_assert_int_eq(l.st, PH_ERR_NOT_PYTHON);
    ck_assert_msg(strstr(l.err.msg, "is not running CPython: no _PyRuntime in /usr/bin/sleep"),
                  "%s", l.err.msg);
    char want[32];
    snprintf(want, sizeof want, "process %d (sleep)", (int)pid);
    ck_assert_msg(strstr(l.err.msg, want), "%s", l.err.msg);
    ck_assert_int_eq(l.fd, -1);
    located_free(&l);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(live_refusals)
{
    if (exists(PYENV "/3.7.16/bin/python3.7")) {
        char *a[] = {PYENV "/3.7.16/bin/python3.7", "-c", CHILD_CODE, NULL};
        expect_refusal(a, PH_ERR_UNSUPPORTED,
                       "Python 3.7.16 is not supported (pyheap needs 3.8 or later)");
    }
    /* No _PyRuntime before 3.7, but CPython all the same: refused as too old, by version. */
    if (exists(PYENV "/3.6.15/bin/python3.6")) {
        char *a[] = {PYENV "/3.6.15/bin/python3.6", "-c", CHILD_CODE, NULL};
        expect_refusal(a, PH_ERR_UNSUPPORTED, "runs CPython 3.6, which pyheap cannot read");
    }
    if (exists(PYENV "/2.7.18/bin/python2.7")) {
        char *a[] = {PYENV "/2.7.18/bin/python2.7", "-c", CHILD_CODE, NULL};
        expect_refusal(a, PH_ERR_UNSUPPORTED, "runs CPython 2.7, which pyheap cannot read");
    }
}
END_TEST

START_TEST(live_sid_chroot)
{
    static const struct {
        const char *exe;
        bool debug;
    } v[] = {{"/usr/bin/python3.13", false}, {"/usr/bin/python3.14", false},
             {"/usr/bin/python3.14d", true}, {"/usr/bin/python3.15", false}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char host[PATH_MAX];
        snprintf(host, sizeof host, SID_ROOT "%s", v[i].exe);
        if (!exists(host))
            continue;
        struct child c;
        char *argv[] = {"/usr/sbin/chroot", SID_ROOT, (char *)v[i].exe, "-c", CHILD_CODE, NULL};
        ck_assert_msg(child_start(&c, argv), "%s did not start under chroot", v[i].exe);
        struct located l;
        locate(c.pid, &l);
        /* Under chroot, maps show the host path. Debian links libpython statically. */
        check_located(&l, &c, host, "debug-offsets");
        ck_assert(!l.t.shared && !l.t.free_threaded);
        ck_assert(l.t.debug_build == v[i].debug);
        located_free(&l);
        child_stop(&c);
    }
}
END_TEST

/* A layout with just what py_target_validate reads, from _Py_DebugOffsets in memory (3.13+:
 * runtime_state.interpreters_head at +40, interpreter_state.threads_head at +72;
 * PyThreadState.interp is 16 in every GIL build). */
static void validation_layout(struct located *l)
{
    uint64_t rt = l->t.sym[PY_SYM_RUNTIME], head, threads;
    ck_assert_int_eq(ph_mem_u64(l->mem, rt + 40, &head, NULL), PH_OK);
    ck_assert_int_eq(ph_mem_u64(l->mem, rt + 72, &threads, NULL), PH_OK);
    ck_assert(head > 0 && head < 4096 && threads > 0 && threads < 65536);
    LAY(&l->t.layout, RT_INTERP_HEAD) = (int64_t)head;
    LAY(&l->t.layout, IS_THREADS_HEAD) = (int64_t)threads;
    LAY(&l->t.layout, TS_INTERP) = 16;
}

static void check_validate(struct located *l)
{
    struct ph_error err = {0};
    struct py_target saved = l->t;
    validation_layout(l);
    ck_assert_msg(py_target_validate(&l->proc, l->mem, &l->t, &err) == PH_OK, "%s", err.msg);
    LAY(&l->t.layout, TS_INTERP) = 8; /* tstate->next: NULL or another thread */
    ck_assert_int_ne(py_target_validate(&l->proc, l->mem, &l->t, &err), PH_OK);
    LAY(&l->t.layout, TS_INTERP) = 16;
    LAY(&l->t.layout, RT_INTERP_HEAD) = 16; /* free_threaded == 0: a NULL head */
    ck_assert_int_eq(py_target_validate(&l->proc, l->mem, &l->t, &err), PH_ERR_INCONSISTENT);
    ck_assert_msg(strstr(err.msg, "starting up"), "%s", err.msg);
    LAY(&l->t.layout, RT_INTERP_HEAD) = 0; /* the cookie "xdebugpy" as a pointer */
    ck_assert_int_eq(py_target_validate(&l->proc, l->mem, &l->t, &err), PH_ERR_NOT_PYTHON);
    ck_assert_msg(strstr(err.msg, "0x7970677562656478"), "%s", err.msg);
    l->t = saved; /* no layout at all */
    ck_assert_int_eq(py_target_validate(&l->proc, l->mem, &l->t, &err), PH_ERR_NO_LAYOUT);
}

START_TEST(live_validate)
{
    const char *exes[] = {PYENV "/3.13.0/bin/python3.13", SID_ROOT "/usr/bin/python3.14"};
    for (size_t i = 0; i < 2; i++) {
        if (!exists(exes[i]))
            continue;
        struct child c;
        char *direct[] = {(char *)exes[i], "-c", CHILD_CODE, NULL};
        char *chrooted[] = {"/usr/sbin/chroot", SID_ROOT, "/usr/bin/python3.14", "-c",
                            CHILD_CODE, NULL};
        ck_assert(child_start(&c, i == 0 ? direct : chrooted));
        struct located l;
        locate(c.pid, &l);
        ck_assert_msg(l.st == PH_OK, "%s", l.err.msg);
        check_validate(&l);
        located_free(&l);
        child_stop(&c);
    }
}
END_TEST

/* The whole chain on Debian 3.11: it stops at the layout until a source answers; when one does,
 * the validation must pass. */
START_TEST(live_resolve)
{
    struct child c;
    char *argv[] = {DEBIAN_PY, "-c", CHILD_CODE, NULL};
    ck_assert(child_start(&c, argv));
    struct located l;
    locate(c.pid, &l);
    ck_assert_msg(l.st == PH_OK, "%s", l.err.msg);
    struct py_layout_options opts = {.no_debuginfod = true};
    struct py_target *t = malloc(sizeof *t);
    ck_assert_ptr_nonnull(t);
    struct ph_error err = {0};
    ph_status st = py_target_resolve(&l.proc, l.mem, &opts, t, &err);
    ck_assert_msg(st == PH_OK || st == PH_ERR_NO_LAYOUT, "%d: %s", st, err.msg);
    if (st == PH_OK)
        ck_assert_uint_eq(t->version_hex, c.hexversion);
    free(t);
    located_free(&l);
    child_stop(&c);
}
END_TEST

/* --- a fabricated process: real files at made-up addresses -------------------------------- */

/* Append the mappings the kernel would make for path loaded at base. The files are opened
 * through /proc/self/root + path (map_files has no such entries for us). */
static void add_file_maps(struct ph_map *v, size_t *n, const char *path, uint64_t base)
{
    int fd;
    struct ph_elf *elf = open_path(path, &fd);
    struct stat sb;
    ck_assert_int_eq(fstat(fd, &sb), 0);
    const struct ph_elf_load *l;
    size_t nl = ph_elf_loads(elf, &l);
    for (size_t i = 0; i < nl; i++) {
        uint64_t va = l[i].vaddr & ~(PG - 1), end = (l[i].vaddr + l[i].memsz + PG - 1) & ~(PG - 1);
        v[(*n)++] = (struct ph_map){.start = base + va, .end = base + end,
                                    .offset = l[i].offset & ~(PG - 1), .inode = sb.st_ino,
                                    .dev_major = major(sb.st_dev), .dev_minor = minor(sb.st_dev),
                                    .perms = PH_MAP_R, .path = (char *)path};
    }
    ph_elf_close(elf);
    close(fd);
}

static void fake_proc(struct ph_proc *p, struct ph_map *v, size_t n)
{
    memset(p, 0, sizeof *p);
    p->pid = p->nspid = getpid();
    snprintf(p->name, sizeof p->name, "fake");
    snprintf(p->root, sizeof p->root, "/proc/%d/root", (int)p->pid);
    p->maps = (struct ph_maps){.v = v, .n = n};
}

START_TEST(fake_libpython_choice)
{
    const char *lib12 = PYENV_LIB312, *lib13 = PYENV "/3.13.0/lib/libpython3.13.so.1.0";
    const char *shim = PYENV "/3.12.1/lib/libpython3.so";
    if (!exists(lib12) || !exists(lib13) || !exists(shim))
        return;
    struct ph_map v[32];
    size_t n = 0;
    add_file_maps(v, &n, shim, 0x7f0000000000ull); /* stable-ABI shim: no _PyRuntime */
    add_file_maps(v, &n, lib12, 0x7f1000000000ull);
    struct ph_proc p;
    fake_proc(&p, v, n);
    struct py_target *t = malloc(sizeof *t);
    ck_assert_ptr_nonnull(t);
    struct ph_error err = {0};
    int fd = -1;
    ck_assert_msg(py_target_locate(&p, NULL, t, &fd, &err) == PH_OK, "%s", err.msg);
    ck_assert_str_eq(t->elf_path, lib12);
    ck_assert_str_eq(t->elf_opened_via, "root");
    ck_assert(t->shared && t->pie);
    ck_assert_uint_eq(t->load_bias, 0x7f1000000000ull);
    ck_assert_uint_eq(t->sym[PY_SYM_RUNTIME], 0x7f1000000000ull + 0x643340);
    ck_assert_uint_eq(t->version_hex, 0x030c01f0);
    ck_assert_str_eq(t->version_source, "Py_Version");
    close(fd);
    /* A second libpython defining _PyRuntime: refuse rather than guess. */
    add_file_maps(v, &n, lib13, 0x7f2000000000ull);
    fake_proc(&p, v, n);
    ck_assert_int_eq(py_target_locate(&p, NULL, t, &fd, &err), PH_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "two libpython"), "%s", err.msg);
    ck_assert_int_eq(fd, -1);
    /* Only the shim: not CPython. */
    fake_proc(&p, v, 1);
    ck_assert_int_eq(py_target_locate(&p, NULL, t, &fd, &err), PH_ERR_NOT_PYTHON);
    free(t);
}
END_TEST

START_TEST(support_checks)
{
    struct py_target *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    struct ph_error err = {0};
    t->version_hex = 0x030b02f0;
    snprintf(t->version_source, sizeof t->version_source, "Py_Version");
    ck_assert_int_eq(py_target_check_supported(t, &err), PH_OK);
    t->version_hex = 0x030710f0;
    snprintf(t->version_source, sizeof t->version_source, "version-string");
    ck_assert_int_eq(py_target_check_supported(t, &err), PH_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, "Python 3.7.16 is not supported (pyheap needs 3.8 or later)");
    snprintf(t->version_source, sizeof t->version_source, "file-name");
    ck_assert_int_eq(py_target_check_supported(t, &err), PH_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, "Python 3.7 is not supported (pyheap needs 3.8 or later)");
    t->version_hex = 0x030d00f0;
    t->free_threaded = true;
    ck_assert_int_eq(py_target_check_supported(t, &err), PH_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, "free-threaded build (3.13t): not supported yet: these builds keep "
                              "no GC generation lists; pyheap would have to walk mimalloc heaps");
    free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("elf");
    TCase *files = tcase_create("files");
    tcase_add_test(files, debian_headers);
    tcase_add_test(files, debian_symbols_sections);
    tcase_add_test(files, debian_read_vaddr);
    tcase_add_test(files, pyenv_shared_symtab);
    suite_add_tcase(s, files);
    TCase *hostile = tcase_create("hostile");
    tcase_set_timeout(hostile, 120);
    tcase_add_test(hostile, truncated);
    tcase_add_test(hostile, bad_headers);
    tcase_add_test(hostile, bad_symbol_tables);
    tcase_add_test(hostile, bad_notes_and_debuglink);
    tcase_add_test(hostile, random_flips);
    suite_add_tcase(s, hostile);
    TCase *bias = tcase_create("bias");
    tcase_add_test(bias, bias_plain);
    tcase_add_test(bias, bias_trampoline_below);
    tcase_add_test(bias, bias_two_rx_lower_higher_offset);
    tcase_add_test(bias, bias_merged_and_exec);
    tcase_add_test(bias, bias_failures);
    suite_add_tcase(s, bias);
    TCase *live = tcase_create("live");
    tcase_set_timeout(live, 180);
    tcase_add_test(live, live_debian);
    tcase_add_test(live, live_pyenv);
    tcase_add_test(live, live_not_python);
    tcase_add_test(live, live_refusals);
    tcase_add_test(live, live_sid_chroot);
    tcase_add_test(live, live_validate);
    tcase_add_test(live, live_resolve);
    tcase_add_test(live, fake_libpython_choice);
    tcase_add_test(live, support_checks);
    suite_add_tcase(s, live);
    return ph_check_run(s);
}
