/*
 * target.c: finding the CPython interpreter in a process from the outside.
 *
 * Order (target.h): choose the ELF that defines _PyRuntime (a libpython3* mapping first, then
 * the executable); compute its load bias from the mapping whose file offset matches a PT_LOAD
 * (ph_elf_load_bias); resolve symbols.def; read the version from the file (_Py_DebugOffsets,
 * Py_Version, the PY_VERSION literal, the file name); refuse what cannot be walked; ask the
 * layout sources; check that the first thread state points back at its interpreter.
 *
 * Invariants: the target's code is never run (no `python --version`); the file read is checked
 * against the target's memory when a ph_mem is given (build-id note, debug-offsets header), so
 * a file replaced on disk after the process started is caught, not trusted; every message names
 * the pid and the address or file concerned, with target-controlled text escaped.
 */
#include "symbols/target.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/escape.h"
#include "symbols/elf.h"
#include "symbols/layout_sources.h"
#include "symbols/target_locate.h"
#include "symbols/version.h"

const struct py_sym_desc py_sym_descs[PY_SYM_COUNT] = {
#define X(id, name, required) [PY_SYM_##id] = {name, required},
#include "symbols/symbols.def"
#undef X
};

/* Symbols present only in Py_DEBUG builds (3.8 .. 3.15), beyond symbols.def. */
static const char *const debug_only_syms[] = {"_Py_RefTotal", "_Py_NegativeRefcount"};
#define N_DEBUG_SYMS (sizeof debug_only_syms / sizeof debug_only_syms[0])
#define N_QUERY (PY_SYM_COUNT + N_DEBUG_SYMS)

/* Distinct files that may hold the interpreter: several libpython3* at most, plus the exe. */
#define MAX_CANDIDATES 8
/* Bounds on what is read from a hostile file. */
#define RODATA_MAX (64u << 20)
#define NOTE_MAX 1024u

/* _Py_DebugOffsets header (3.13+): cookie, version, free_threaded. */
#define DEBUG_COOKIE "xdebugpy"
#define DEBUG_HEADER_LEN 24

/* A candidate ELF, and once chosen, the open file. */
struct cand {
    const struct ph_map *map; /* one mapping of the file (for map_files) */
    bool lib;
};

struct chosen {
    const struct ph_map *map;
    bool lib;
    int fd;
    struct ph_elf *elf;
    const char *how;
};

/* Text for messages: the process name and a path, escaped (the target chose them). */
struct who {
    char name[160];
    char exe[256];
};

static void who_init(const struct ph_proc *proc, struct who *w)
{
    ph_escape(proc->name, strnlen(proc->name, sizeof proc->name), w->name, sizeof w->name);
    ph_escape(proc->exe, strlen(proc->exe), w->exe, sizeof w->exe);
}

static const char *esc_path(const char *path, char *buf, size_t n)
{
    ph_escape(path, strlen(path), buf, n);
    return buf;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Two mappings of the same file: same (device, inode); the path only when there is no inode.
 * A path alone is not enough: a file replaced on disk keeps its path but not its inode. */
static bool same_file(const struct ph_map *a, const struct ph_map *b)
{
    if (a->inode != 0 || b->inode != 0)
        return a->inode == b->inode && a->dev_major == b->dev_major &&
               a->dev_minor == b->dev_minor;
    return a->path[0] != '\0' && strcmp(a->path, b->path) == 0;
}

/* --- choosing the ELF ---------------------------------------------------------------------- */

/* libpython3.X (and libpython2.7: old CPythons are recognised to say which they are). */
static bool is_libpython(const struct ph_map *m)
{
    return m->path[0] == '/' && strstr(base_name(m->path), "libpython") != NULL;
}

/* A mapping of the executable: by the path /proc/PID/exe shows (maps and exe links are
 * rendered alike, host path under chroot, container path in another mount namespace), else by
 * the device and inode of /proc/PID/exe itself. */
static const struct ph_map *exe_mapping(const struct ph_proc *proc)
{
    const struct ph_maps *maps = &proc->maps;
    for (size_t i = 0; i < maps->n; i++)
        if (proc->exe[0] && strcmp(maps->v[i].path, proc->exe) == 0)
            return &maps->v[i];
    char link[64];
    struct stat sb;
    snprintf(link, sizeof link, "/proc/%d/exe", (int)proc->pid);
    if (!proc->live || stat(link, &sb) != 0) /* a core's pid may be another process's now */
        return NULL;
    for (size_t i = 0; i < maps->n; i++) {
        const struct ph_map *m = &maps->v[i];
        if (m->inode == (uint64_t)sb.st_ino && m->dev_major == major(sb.st_dev) &&
            m->dev_minor == minor(sb.st_dev))
            return m;
    }
    return NULL;
}

/* Distinct libpython3* files in address order, then the executable. */
static size_t list_candidates(const struct ph_proc *proc, struct cand *c)
{
    size_t n = 0;
    for (size_t i = 0; i < proc->maps.n && n < MAX_CANDIDATES - 1; i++) {
        const struct ph_map *m = &proc->maps.v[i];
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = same_file(c[j].map, m);
        if (is_libpython(m) && !seen)
            c[n++] = (struct cand){.map = m, .lib = true};
    }
    const struct ph_map *exe = exe_mapping(proc);
    bool seen = false;
    for (size_t j = 0; exe && j < n && !seen; j++)
        seen = same_file(c[j].map, exe);
    if (exe && !seen)
        c[n++] = (struct cand){.map = exe, .lib = false};
    return n;
}

/* Does this ELF define _PyRuntime, as a symbol or as the .PyRuntime section? */
static ph_status defines_runtime(const struct ph_elf *elf, bool *yes, struct ph_error *err)
{
    struct ph_elf_sym q = {.name = "_PyRuntime"};
    ph_status st = ph_elf_lookup(elf, &q, 1, err);
    if (st != PH_OK || (*yes = q.found && q.value != 0))
        return st;
    struct ph_elf_section sec;
    st = ph_elf_find_section(elf, ".PyRuntime", &sec, yes, err);
    *yes = *yes && sec.addr != 0;
    return st;
}

static void chosen_close(struct chosen *ch)
{
    ph_elf_close(ch->elf);
    ch->elf = NULL;
    if (ch->fd >= 0)
        close(ch->fd);
    ch->fd = -1;
}

/* Open candidate c; on success *hit says whether it defines _PyRuntime (ch stays open if so). */
static ph_status try_candidate(const struct ph_proc *proc, const struct cand *c,
                               struct chosen *ch, bool *hit, struct ph_error *err)
{
    *hit = false;
    *ch = (struct chosen){.map = c->map, .lib = c->lib, .fd = -1};
    ch->fd = ph_proc_open_mapped(proc, c->map, &ch->how, err);
    if (ch->fd < 0)
        return err ? err->code : PH_ERR_IO;
    ph_status st = ph_elf_open(ch->fd, c->map->path, &ch->elf, err);
    if (st == PH_OK)
        st = defines_runtime(ch->elf, hit, err);
    if (st != PH_OK || !*hit)
        chosen_close(ch);
    return st;
}

/* Prefix err with the process, keeping the status. Safe with err == NULL. */
static ph_status in_proc(const struct ph_proc *proc, ph_status st, struct ph_error *err)
{
    struct who w;
    who_init(proc, &w);
    if (err)
        ph_wrap(err, "process %d (%s)", (int)proc->pid, w.name);
    return st;
}

static ph_status not_python(const struct ph_proc *proc, struct ph_error *err)
{
    struct who w;
    who_init(proc, &w);
    return ph_fail(err, PH_ERR_NOT_PYTHON,
                   "process %d (%s) is not running CPython: no _PyRuntime in %s", (int)proc->pid,
                   w.name, w.exe[0] ? w.exe : "(no executable mapped)");
}

static ph_status read_rodata(const struct chosen *ch, char **buf, size_t *len,
                             struct ph_error *err);

/* No _PyRuntime anywhere. CPython before 3.7 has none, but every CPython exports Py_GetVersion:
 * then say which version it is (its version literal, else its file name) and that it is too
 * old, rather than "not Python". */
static bool old_cpython(const struct ph_proc *proc, const struct cand *c, size_t n, char *ver,
                        size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        struct chosen ch = {.map = c[i].map, .fd = -1};
        struct ph_error e = {PH_OK, ""};
        bool cpython = false;
        ch.fd = ph_proc_open_mapped(proc, c[i].map, &ch.how, &e);
        if (ch.fd >= 0 && ph_elf_open(ch.fd, c[i].map->path, &ch.elf, &e) == PH_OK) {
            struct ph_elf_sym q = {.name = "Py_GetVersion"};
            cpython = ph_elf_lookup(ch.elf, &q, 1, &e) == PH_OK && q.found;
            char *buf = NULL;
            size_t len = 0;
            if (cpython && read_rodata(&ch, &buf, &len, &e) == PH_OK && buf &&
                py_old_version_scan(buf, len, ver, cap)) {
            } else if (cpython && !py_old_version_from_name(c[i].map->path, ver, cap)) {
                snprintf(ver, cap, "before 3.7");
            }
            free(buf);
        }
        chosen_close(&ch);
        if (cpython)
            return true;
    }
    return false;
}

static ph_status too_old(const struct ph_proc *proc, const char *ver, struct ph_error *err)
{
    struct who w;
    who_init(proc, &w);
    return ph_fail(err, PH_ERR_UNSUPPORTED, "process %d (%s) runs CPython %s, which pyheap "
                   "cannot read: it needs CPython 3.8 or later", (int)proc->pid, w.name, ver);
}

static ph_status two_runtimes(const struct ph_proc *proc, const struct chosen *a,
                              const struct chosen *b, struct ph_error *err)
{
    char pa[256], pb[256];
    esc_path(a->map->path, pa, sizeof pa);
    esc_path(b->map->path, pb, sizeof pb);
    return in_proc(proc, ph_fail(err, PH_ERR_UNSUPPORTED,
                                 "maps two libpython files that both define _PyRuntime: %s and %s",
                                 pa, pb), err);
}

/* The first libpython3* defining _PyRuntime (two is an error), else the executable. When no
 * candidate answers and one could not be opened, that failure is the better explanation. */
static ph_status choose_elf(const struct ph_proc *proc, struct chosen *out, struct ph_error *err)
{
    struct cand c[MAX_CANDIDATES];
    size_t n = list_candidates(proc, c);
    struct ph_error open_err = {PH_OK, ""};
    *out = (struct chosen){.fd = -1};
    for (size_t i = 0; i < n && !(out->elf && !c[i].lib); i++) {
        struct chosen ch;
        struct ph_error e1 = {PH_OK, ""};
        bool hit;
        if (try_candidate(proc, &c[i], &ch, &hit, &e1) != PH_OK) {
            if (open_err.code == PH_OK)
                open_err = e1;
            continue;
        }
        if (hit && out->elf) {
            ph_status st = two_runtimes(proc, out, &ch, err);
            chosen_close(&ch);
            chosen_close(out);
            return st;
        }
        if (hit)
            *out = ch;
    }
    if (out->elf)
        return PH_OK;
    if (open_err.code != PH_OK)
        return in_proc(proc, ph_fail(err, open_err.code, "%s", open_err.msg), err);
    char ver[32];
    return old_cpython(proc, c, n, ver, sizeof ver) ? too_old(proc, ver, err) : not_python(proc, err);
}

/* --- bias, and is the file the one mapped? ------------------------------------------------- */

static ph_status compute_bias(const struct ph_proc *proc, const struct chosen *ch,
                              struct py_target *out, struct ph_error *err)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < proc->maps.n; i++)
        n += same_file(ch->map, &proc->maps.v[i]);
    struct ph_map *v = calloc(n ? n : 1, sizeof *v); /* shallow copies: paths stay borrowed */
    if (!v)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < proc->maps.n; i++)
        if (same_file(ch->map, &proc->maps.v[i]))
            v[k++] = proc->maps.v[i];
    const struct ph_elf_load *loads;
    size_t nloads = ph_elf_loads(ch->elf, &loads);
    long page = sysconf(_SC_PAGESIZE);
    ph_status st = ph_elf_load_bias(loads, nloads, v, k, page > 0 ? (uint64_t)page : 4096,
                                    &out->load_bias, err);
    free(v);
    char p[256];
    if (st != PH_OK) {
        if (err)
            ph_wrap(err, "%s", esc_path(out->elf_path, p, sizeof p));
        return in_proc(proc, st, err);
    }
    if (!out->pie && out->load_bias != 0)
        return in_proc(proc, ph_fail(err, PH_ERR_INCONSISTENT,
                                     "%s is a fixed-address executable but is mapped 0x%llx "
                                     "bytes away from its link address",
                                     esc_path(out->elf_path, p, sizeof p),
                                     (unsigned long long)out->load_bias), err);
    return PH_OK;
}

/* The build-id note is in the first, read-only segment: compare the file's bytes with the
 * target's. A mismatch means a wrong bias or a file that is not the one mapped (replaced on
 * disk, or the wrong file in a container); either way nothing read from the file can be used. */
static ph_status verify_note(const struct ph_proc *proc, struct ph_mem *mem,
                             const struct chosen *ch, const struct py_target *out,
                             struct ph_error *err)
{
    struct ph_elf_section sec;
    bool found;
    ph_status st = ph_elf_find_section(ch->elf, ".note.gnu.build-id", &sec, &found, err);
    if (st != PH_OK || !mem || !found || !(sec.flags & SHF_ALLOC) || sec.type == SHT_NOBITS ||
        sec.size == 0 || sec.size > NOTE_MAX)
        return st == PH_OK ? PH_OK : in_proc(proc, st, err);
    uint8_t file[NOTE_MAX], live[NOTE_MAX];
    uint64_t addr = out->load_bias + sec.addr;
    st = ph_elf_read_file(ch->elf, sec.offset, file, sec.size, err);
    if (st == PH_OK && (st = ph_mem_read(mem, addr, live, sec.size, err)) != PH_OK && err)
        ph_wrap(err, "reading the build-id note at 0x%llx", (unsigned long long)addr);
    if (st != PH_OK)
        return in_proc(proc, st, err);
    if (memcmp(file, live, sec.size) == 0)
        return PH_OK;
    char p[256];
    return in_proc(proc, ph_fail(err, PH_ERR_INCONSISTENT,
                                 "the build-id note at 0x%llx differs from the one in %s (opened "
                                 "via %s): not the file mapped (replaced since the process "
                                 "started?) or a wrong load bias 0x%llx",
                                 (unsigned long long)addr, esc_path(out->elf_path, p, sizeof p),
                                 ch->how ? ch->how : "?", (unsigned long long)out->load_bias),
                   err);
}

static ph_status describe_elf(const struct ph_proc *proc, const struct chosen *ch,
                              struct py_target *out, struct ph_error *err)
{
    snprintf(out->elf_path, sizeof out->elf_path, "%s", ch->map->path);
    snprintf(out->elf_opened_via, sizeof out->elf_opened_via, "%s", ch->how ? ch->how : "");
    out->shared = ch->lib;
    out->pie = ph_elf_is_dyn(ch->elf);
    ph_status st = ph_elf_read_build_id(ch->elf, out->build_id, sizeof out->build_id, err);
    return st == PH_OK ? PH_OK : in_proc(proc, st, err);
}

/* --- symbols ------------------------------------------------------------------------------- */

/* What symbol resolution learns besides runtime addresses. */
struct facts {
    uint64_t runtime_vaddr;     /* link-time &_PyRuntime */
    struct ph_elf_sym py_version;
    bool debug_syms;
};

/* _PyRuntime without a symbol: the start of its own section (3.10+ builds). */
static ph_status runtime_from_section(const struct chosen *ch, struct facts *f,
                                      struct ph_error *err)
{
    struct ph_elf_section sec;
    bool found;
    ph_status st = ph_elf_find_section(ch->elf, ".PyRuntime", &sec, &found, err);
    if (st == PH_OK && found)
        f->runtime_vaddr = sec.addr;
    return st;
}

static ph_status resolve_symbols(const struct ph_proc *proc, const struct chosen *ch,
                                 struct py_target *out, struct facts *f, struct ph_error *err)
{
    struct ph_elf_sym q[N_QUERY];
    for (size_t i = 0; i < N_QUERY; i++)
        q[i] = (struct ph_elf_sym){.name = i < PY_SYM_COUNT ? py_sym_descs[i].name
                                                          : debug_only_syms[i - PY_SYM_COUNT]};
    ph_status st = ph_elf_lookup(ch->elf, q, N_QUERY, err);
    if (st != PH_OK)
        return in_proc(proc, st, err);
    for (size_t i = 0; i < PY_SYM_COUNT; i++)
        if (q[i].found && q[i].value != 0)
            out->sym[i] = out->load_bias + q[i].value;
    for (size_t i = PY_SYM_COUNT; i < N_QUERY; i++)
        f->debug_syms |= q[i].found;
    f->py_version = q[PY_SYM_PY_VERSION];
    f->runtime_vaddr = out->sym[PY_SYM_RUNTIME] ? q[PY_SYM_RUNTIME].value : 0;
    if (!f->runtime_vaddr && (st = runtime_from_section(ch, f, err)) != PH_OK)
        return in_proc(proc, st, err);
    out->sym[PY_SYM_RUNTIME] = out->load_bias + f->runtime_vaddr;
    if (f->runtime_vaddr && ph_maps_find(&proc->maps, out->sym[PY_SYM_RUNTIME]))
        return PH_OK;
    return in_proc(proc, ph_fail(err, PH_ERR_INCONSISTENT,
                                 "_PyRuntime at 0x%llx (link address 0x%llx + bias 0x%llx) is "
                                 "not mapped", (unsigned long long)out->sym[PY_SYM_RUNTIME],
                                 (unsigned long long)f->runtime_vaddr,
                                 (unsigned long long)out->load_bias), err);
}

static ph_status check_required(const struct ph_proc *proc, const struct py_target *t,
                                struct ph_error *err)
{
    char p[256];
    for (size_t i = 0; i < PY_SYM_COUNT; i++)
        if (py_sym_descs[i].required && t->sym[i] == 0)
            return in_proc(proc, ph_fail(err, PH_ERR_UNSUPPORTED,
                                         "%s does not define %s, which pyheap needs",
                                         esc_path(t->elf_path, p, sizeof p),
                                         py_sym_descs[i].name), err);
    return PH_OK;
}

/* --- version ------------------------------------------------------------------------------- */

/* A found version and where it came from. */
struct version_guess {
    bool found;
    uint32_t hex;
    bool free_threaded;
};

/* 3.13+: _PyRuntime starts with "xdebugpy", PY_VERSION_HEX, free_threaded, all constant
 * initialised data, so the file holds them. The copy in memory must agree. */
static ph_status version_from_debug_offsets(struct ph_mem *mem, const struct chosen *ch,
                                            const struct facts *f, uint64_t runtime,
                                            struct version_guess *g, struct ph_error *err)
{
    uint8_t file[DEBUG_HEADER_LEN], live[DEBUG_HEADER_LEN];
    ph_status st = ph_elf_read_vaddr(ch->elf, f->runtime_vaddr, file, sizeof file, err);
    if (st != PH_OK || memcmp(file, DEBUG_COOKIE, 8) != 0)
        return st;
    uint64_t hex = ph_elf_decode(ch->elf, file + 8, 8), ft = ph_elf_decode(ch->elf, file + 16, 8);
    if (!py_version_hex_valid(hex) || PY_HEX_MINOR(hex) < 13 || ft > 1)
        return PH_OK; /* a cookie but nonsense after it: fall back to the other sources */
    if (mem && (st = ph_mem_read(mem, runtime, live, sizeof live, err)) != PH_OK) {
        if (err)
            ph_wrap(err, "reading _Py_DebugOffsets at 0x%llx", (unsigned long long)runtime);
        return st;
    }
    if (mem && memcmp(file, live, sizeof file) != 0)
        return ph_fail(err, PH_ERR_INCONSISTENT,
                       "_Py_DebugOffsets header at 0x%llx differs from the file's copy",
                       (unsigned long long)runtime);
    *g = (struct version_guess){.found = true, .hex = (uint32_t)hex, .free_threaded = ft == 1};
    return PH_OK;
}

/* 3.11+: Py_Version, a const unsigned long in .rodata; sanity-checked (garbage has been seen
 * in the field when a wrong address was read). */
static ph_status version_from_py_version(const struct chosen *ch, const struct ph_elf_sym *s,
                                         struct version_guess *g, struct ph_error *err)
{
    unsigned n = ph_elf_word_size(ch->elf);
    uint8_t b[8];
    if (!s->found || s->value == 0 || (s->size != 0 && s->size != n))
        return PH_OK;
    ph_status st = ph_elf_read_vaddr(ch->elf, s->value, b, n, err);
    uint64_t hex = st == PH_OK ? ph_elf_decode(ch->elf, b, n) : 0;
    if (st == PH_OK && py_version_hex_valid(hex) && PY_HEX_MINOR(hex) >= 11)
        *g = (struct version_guess){.found = true, .hex = (uint32_t)hex};
    return st;
}

/* .rodata of the chosen ELF into *buf (malloc'd, caller frees), or *buf NULL when it has none
 * or it is implausibly large. */
static ph_status read_rodata(const struct chosen *ch, char **buf, size_t *len,
                             struct ph_error *err)
{
    struct ph_elf_section sec;
    bool found;
    *buf = NULL;
    ph_status st = ph_elf_find_section(ch->elf, ".rodata", &sec, &found, err);
    if (st != PH_OK || !found || sec.type == SHT_NOBITS || sec.size == 0 ||
        sec.size > RODATA_MAX)
        return st;
    if (!(*buf = malloc(sec.size)))
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory reading .rodata");
    *len = sec.size;
    st = ph_elf_read_file(ch->elf, sec.offset, *buf, sec.size, err);
    if (st != PH_OK) {
        free(*buf);
        *buf = NULL;
    }
    return st;
}

/* The PY_VERSION literal among .rodata's strings (see py_version_scan_strings). */
static ph_status version_from_rodata(const struct chosen *ch, int name_minor,
                                     struct version_guess *g, struct ph_error *err)
{
    char *buf;
    size_t len;
    ph_status st = read_rodata(ch, &buf, &len, err);
    uint32_t hex;
    if (buf && py_version_scan_strings(buf, len, name_minor, &hex))
        *g = (struct version_guess){.found = true, .hex = hex};
    free(buf);
    return st;
}

static void set_version(struct py_target *out, const struct version_guess *g, const char *src)
{
    out->version_hex = g->hex;
    out->free_threaded |= g->free_threaded;
    snprintf(out->version_source, sizeof out->version_source, "%s", src);
}

/* Try the sources best first. The file name also gives the build flags ('d', 't'). */
static ph_status detect_version(const struct ph_proc *proc, struct ph_mem *mem,
                                const struct chosen *ch, const struct facts *f,
                                struct py_target *out, struct ph_error *err)
{
    struct py_name_version nv;
    bool named = py_version_from_name(out->elf_path, &nv);
    out->debug_build = f->debug_syms || (named && nv.debug);
    out->free_threaded = named && nv.free_threaded;
    struct version_guess g = {0};
    const char *src = NULL;
    ph_status st = version_from_debug_offsets(mem, ch, f, out->sym[PY_SYM_RUNTIME], &g, err);
    if (st == PH_OK && g.found)
        src = "debug-offsets";
    if (st == PH_OK && !src)
        st = version_from_py_version(ch, &f->py_version, &g, err);
    if (st == PH_OK && !src && g.found)
        src = "Py_Version";
    int name_minor = named ? (int)nv.minor : -1;
    if (st == PH_OK && !src)
        st = version_from_rodata(ch, name_minor, &g, err);
    if (st == PH_OK && !src && g.found)
        src = "version-string";
    if (st == PH_OK && !src && named) {
        g = (struct version_guess){.found = true, .hex = PY_HEX(3, nv.minor, 0, 0xF, 0)};
        src = "file-name";
    }
    if (st != PH_OK)
        return in_proc(proc, st, err);
    if (src) {
        set_version(out, &g, src);
        return PH_OK;
    }
    char p[256];
    return in_proc(proc, ph_fail(err, PH_ERR_UNSUPPORTED,
                                 "cannot tell the Python version of %s: no _Py_DebugOffsets, no "
                                 "Py_Version, no version string, and the file name says nothing",
                                 esc_path(out->elf_path, p, sizeof p)), err);
}

ph_status py_target_check_supported(const struct py_target *t, struct ph_error *err)
{
    char v[32];
    bool minor_only = strcmp(t->version_source, "file-name") == 0;
    py_version_format(t->version_hex, minor_only, v, sizeof v);
    if (PY_HEX_MAJOR(t->version_hex) != 3 || PY_MINOR(t) < 8)
        return ph_fail(err, PH_ERR_UNSUPPORTED,
                       "Python %s is not supported (pyheap needs 3.8 or later)", v);
    if (!t->free_threaded)
        return PH_OK;
    py_version_format(t->version_hex, true, v, sizeof v);
    return ph_fail(err, PH_ERR_UNSUPPORTED,
                   "free-threaded build (%st): not supported yet: these builds keep no GC "
                   "generation lists; pyheap would have to walk mimalloc heaps", v);
}

/* --- the two halves of resolution ---------------------------------------------------------- */

ph_status py_target_locate(const struct ph_proc *proc, struct ph_mem *mem, struct py_target *out,
                           int *elf_fd, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    py_layout_init(&out->layout);
    *elf_fd = -1;
    struct chosen ch;
    ph_status st = choose_elf(proc, &ch, err);
    if (st != PH_OK)
        return st;
    struct facts f = {0};
    st = describe_elf(proc, &ch, out, err);
    if (st == PH_OK)
        st = compute_bias(proc, &ch, out, err);
    if (st == PH_OK && mem)
        st = verify_note(proc, mem, &ch, out, err);
    if (st == PH_OK)
        st = resolve_symbols(proc, &ch, out, &f, err);
    if (st == PH_OK)
        st = detect_version(proc, mem, &ch, &f, out, err);
    if (st == PH_OK)
        st = py_target_check_supported(out, err);
    if (st == PH_OK)
        st = check_required(proc, out, err);
    ph_elf_close(ch.elf);
    if (st != PH_OK) {
        close(ch.fd);
        return st;
    }
    *elf_fd = ch.fd;
    return PH_OK;
}

/* Read a pointer field of the target: where, and what it is, go into the message. */
static ph_status read_ptr(const struct ph_proc *proc, struct ph_mem *mem, uint64_t addr,
                          const char *what, uint64_t *out, struct ph_error *err)
{
    ph_status st = ph_mem_u64(mem, addr, out, err);
    if (st != PH_OK && err)
        ph_wrap(err, "reading %s at 0x%llx", what, (unsigned long long)addr);
    return st == PH_OK ? PH_OK : in_proc(proc, st, err);
}

/* A pointer about to be followed: aligned and readable, else this is not the interpreter the
 * layout describes. */
static ph_status check_ptr(const struct ph_proc *proc, struct ph_mem *mem, uint64_t value,
                           const char *what, struct ph_error *err)
{
    if ((value & 7) == 0 && ph_mem_readable(mem, value, 8))
        return PH_OK;
    return in_proc(proc, ph_fail(err, PH_ERR_NOT_PYTHON,
                                 "%s = 0x%llx is not an aligned, readable address: this is not "
                                 "a CPython interpreter, or the layout does not fit this build",
                                 what, (unsigned long long)value), err);
}

static ph_status not_ready(const struct ph_proc *proc, const char *what, uint64_t addr,
                           struct ph_error *err)
{
    return in_proc(proc, ph_fail(err, PH_ERR_INCONSISTENT,
                                 "%s at 0x%llx is NULL: the interpreter is still starting up "
                                 "or already shutting down; try again",
                                 what, (unsigned long long)addr), err);
}

ph_status py_target_validate(const struct ph_proc *proc, struct ph_mem *mem,
                             const struct py_target *t, struct ph_error *err)
{
    const struct py_layout *l = &t->layout;
    if (!LAY_HAS(l, RT_INTERP_HEAD) || !LAY_HAS(l, IS_THREADS_HEAD) || !LAY_HAS(l, TS_INTERP))
        return in_proc(proc, ph_fail(err, PH_ERR_NO_LAYOUT, "the layout lacks interpreters.head, "
                                     "threads.head or PyThreadState.interp"), err);
    uint64_t head_at = t->sym[PY_SYM_RUNTIME] + (uint64_t)LAY(l, RT_INTERP_HEAD);
    uint64_t interp, ts, back;
    ph_status st = read_ptr(proc, mem, head_at, "_PyRuntime.interpreters.head", &interp, err);
    if (st != PH_OK)
        return st;
    if (interp == 0)
        return not_ready(proc, "_PyRuntime.interpreters.head", head_at, err);
    if ((st = check_ptr(proc, mem, interp, "_PyRuntime.interpreters.head", err)) != PH_OK)
        return st;
    uint64_t ts_at = interp + (uint64_t)LAY(l, IS_THREADS_HEAD);
    if ((st = read_ptr(proc, mem, ts_at, "interpreter threads.head", &ts, err)) != PH_OK)
        return st;
    if (ts == 0)
        return not_ready(proc, "the interpreter's threads.head", ts_at, err);
    if ((st = check_ptr(proc, mem, ts, "the interpreter's threads.head", err)) != PH_OK)
        return st;
    uint64_t back_at = ts + (uint64_t)LAY(l, TS_INTERP);
    if ((st = read_ptr(proc, mem, back_at, "PyThreadState.interp", &back, err)) != PH_OK)
        return st;
    if (back == interp)
        return PH_OK;
    return in_proc(proc, ph_fail(err, PH_ERR_INCONSISTENT,
                                 "thread state 0x%llx (first of interpreter 0x%llx) says its "
                                 "interpreter is 0x%llx: the layout does not fit this build, or "
                                 "the interpreter is changing", (unsigned long long)ts,
                                 (unsigned long long)interp, (unsigned long long)back), err);
}

ph_status py_resolve_begin(const struct ph_proc *proc, struct ph_mem *mem,
                           const struct py_layout_options *opts, struct py_resolve *r,
                           struct ph_error *err)
{
    static const struct py_layout_options defaults;
    memset(r, 0, sizeof *r);
    r->opts = opts ? *opts : defaults;
    snprintf(r->root, sizeof r->root, "%s", proc->root);
    py_layout_init(&r->dwarf.layout);
    return py_target_locate(proc, mem, &r->located, &r->elf_fd, err);
}

/* The layout sources' view of a located target. */
static struct py_layout_ctx layout_ctx(const struct py_resolve *r, struct ph_mem *mem)
{
    return (struct py_layout_ctx){
        .root = r->root[0] ? r->root : NULL, .mem = mem, .elf_fd = r->elf_fd,
        .elf_path = r->located.elf_path, .build_id = r->located.build_id,
        .version_hex = r->located.version_hex, .runtime_addr = r->located.sym[PY_SYM_RUNTIME],
    };
}

void py_resolve_dwarf(struct py_resolve *r)
{
    const struct py_layout_ctx ctx = layout_ctx(r, NULL);
    py_layout_dwarf(&ctx, &r->opts, &r->dwarf);
}

ph_status py_resolve_finish(const struct ph_proc *proc, struct ph_mem *mem,
                            const struct py_resolve *r, bool with_dwarf, struct py_target *out,
                            struct ph_error *err)
{
    const struct py_layout_ctx ctx = layout_ctx(r, mem);
    struct py_layout_options opts = r->opts;
    struct py_dwarf_found none;
    if (!with_dwarf) {
        opts.no_dwarf = true;
        py_layout_dwarf(&ctx, &opts, &none);
    }
    *out = r->located;
    ph_status st = py_layout_finish(&ctx, &opts, with_dwarf ? &r->dwarf : &none, out, err);
    if (st == PH_OK)
        st = py_target_check_supported(out, err); /* the layout may have refined the version */
    if (st == PH_OK)
        st = py_target_validate(proc, mem, out, err);
    return st;
}

void py_resolve_end(struct py_resolve *r)
{
    if (r->elf_fd >= 0)
        close(r->elf_fd);
    r->elf_fd = -1;
}

bool py_target_same_layout(const struct py_target *a, const struct py_target *b)
{
    return memcmp(a->layout.v, b->layout.v, sizeof a->layout.v) == 0 &&
           a->version_hex == b->version_hex && a->free_threaded == b->free_threaded;
}

ph_status py_target_resolve(const struct ph_proc *proc, struct ph_mem *mem,
                            const struct py_layout_options *opts, struct py_target *out,
                            struct ph_error *err)
{
    struct py_resolve *r = malloc(sizeof *r); /* 20 KiB: not on the stack */
    if (!r)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    ph_status st = py_resolve_begin(proc, mem, opts, r, err);
    if (st == PH_OK) {
        py_resolve_dwarf(r);
        st = py_resolve_finish(proc, mem, r, true, out, err);
    } else {
        *out = r->located;
    }
    py_resolve_end(r);
    free(r);
    return st;
}
