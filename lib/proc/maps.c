/*
 * maps.c: parse /proc/PID/maps into a sorted array of mappings.
 *
 * The parser trusts nothing: the text may come from a hostile or truncated file, so every line
 * is bounded (PH_MAPS_LINE_MAX), every number is length-checked, and entries that are empty,
 * unsorted or overlapping reject the whole file with PH_ERR_CORRUPT_FILE. After a successful
 * parse the invariant of maps.h holds: v[i].start < v[i].end <= v[i+1].start, so lookups are a
 * binary search. Paths are copied verbatim (the kernel already escapes newlines); only a trailing
 * " (deleted)" is cut into the `deleted` flag.
 */
#include "lib/proc/maps.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proc/proc.h"

enum {
    PH_MAPS_MAX_LINES = 1 << 20,
    PH_MAPS_LINE_MAX = PATH_MAX + 256, /* numbers and padding before the path */
};

/* 256 MiB is far beyond any real maps file (1M lines of ~100 bytes) yet bounds a runaway read. */
#define PH_MAPS_FILE_MAX ((size_t)256 << 20)

static const char deleted_suffix[] = " (deleted)";

/* Parse 1..16 hex digits at *p (no sign, no 0x). */
static bool parse_hex(const char **p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    int digits = 0;
    const char *s = *p;
    for (; s < end && digits <= 16; s++, digits++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            break;
        v = v << 4 | (uint64_t)d;
    }
    if (digits == 0 || digits > 16)
        return false;
    *p = s;
    *out = v;
    return true;
}

/* Parse 1..20 decimal digits without overflow. */
static bool parse_dec(const char **p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (s == *p)
        return false;
    *p = s;
    *out = v;
    return true;
}

static bool expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return false;
    (*p)++;
    return true;
}

static bool parse_perms(const char **p, const char *end, unsigned *perms)
{
    static const char yes[4] = {'r', 'w', 'x', 'p'};
    static const unsigned bit[4] = {PH_MAP_R, PH_MAP_W, PH_MAP_X, PH_MAP_P};
    const char *s = *p;
    if (end - s < 4)
        return false;
    *perms = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] == yes[i])
            *perms |= bit[i];
        else if (!(s[i] == '-' || (i == 3 && s[i] == 's')))
            return false;
    }
    *p = s + 4;
    return true;
}

/* Everything after the inode and its padding is the path: it may hold spaces, even trailing
 * ones, so nothing but the " (deleted)" marker is trimmed. */
static bool take_path(const char *s, const char *end, struct ph_map *m)
{
    while (s < end && *s == ' ')
        s++;
    size_t len = (size_t)(end - s);
    if (len > PATH_MAX)
        return false;
    size_t sl = sizeof deleted_suffix - 1;
    if (len > sl && s[0] == '/' && memcmp(s + len - sl, deleted_suffix, sl) == 0) {
        m->deleted = true;
        len -= sl;
    }
    m->path = malloc(len + 1);
    if (!m->path)
        return false;
    memcpy(m->path, s, len);
    m->path[len] = '\0';
    return true;
}

/* One line, without its newline. Returns a short reason on failure (static string). */
static const char *parse_line(const char *s, const char *end, struct ph_map *m)
{
    uint64_t major, minor;
    if (end - s > PH_MAPS_LINE_MAX)
        return "line too long";
    if (memchr(s, '\0', (size_t)(end - s)))
        return "NUL byte";
    if (!parse_hex(&s, end, &m->start) || !expect(&s, end, '-') ||
        !parse_hex(&s, end, &m->end) || !expect(&s, end, ' '))
        return "bad address range";
    if (m->start >= m->end)
        return "empty or inverted range";
    if (!parse_perms(&s, end, &m->perms) || !expect(&s, end, ' '))
        return "bad permissions";
    if (!parse_hex(&s, end, &m->offset) || !expect(&s, end, ' '))
        return "bad offset";
    if (!parse_hex(&s, end, &major) || !expect(&s, end, ':') || !parse_hex(&s, end, &minor) ||
        !expect(&s, end, ' ') || major > UINT_MAX || minor > UINT_MAX)
        return "bad device";
    m->dev_major = (unsigned)major;
    m->dev_minor = (unsigned)minor;
    if (!parse_dec(&s, end, &m->inode))
        return "bad inode";
    if (s < end && *s != ' ')
        return "junk after inode";
    if (!take_path(s, end, m))
        return "path too long or out of memory";
    return NULL;
}

static size_t count_lines(const char *text, size_t len)
{
    size_t n = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        n++;
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

ph_status ph_maps_parse(const char *text, size_t len, struct ph_maps *out, struct ph_error *err)
{
    out->v = NULL;
    out->n = 0;
    size_t lines = count_lines(text, len);
    if (lines > PH_MAPS_MAX_LINES)
        return ph_fail(err, PH_ERR_CORRUPT_FILE, "maps: %zu lines, more than the limit of %d",
                       lines, PH_MAPS_MAX_LINES);
    if (lines == 0)
        return PH_OK;
    struct ph_maps maps = {calloc(lines, sizeof *maps.v), 0};
    if (!maps.v)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory parsing maps");
    const char *p = text, *end = text + len;
    for (size_t i = 0; i < lines; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        struct ph_map *m = &maps.v[maps.n];
        const char *why = parse_line(p, eol, m);
        if (!why && maps.n > 0 && m->start < maps.v[maps.n - 1].end)
            why = "not sorted, or overlaps the previous line";
        if (why) {
            free(m->path);
            ph_maps_free(&maps);
            return ph_fail(err, PH_ERR_CORRUPT_FILE, "maps line %zu: %s", i + 1, why);
        }
        maps.n++;
        p = eol + 1;
    }
    assert(maps.n == lines);
    *out = maps;
    return PH_OK;
}

ph_status ph_maps_read(pid_t pid, struct ph_maps *out, struct ph_error *err)
{
    char *text;
    size_t len;
    out->v = NULL;
    out->n = 0;
    ph_status st = ph_proc_read_file(pid, "maps", PH_MAPS_FILE_MAX, &text, &len, err);
    if (st != PH_OK)
        return st;
    st = ph_maps_parse(text, len, out, err);
    free(text);
    if (st != PH_OK)
        return ph_wrap(err, "/proc/%d/maps", (int)pid);
    return PH_OK;
}

void ph_maps_free(struct ph_maps *maps)
{
    if (!maps)
        return;
    for (size_t i = 0; i < maps->n; i++)
        free(maps->v[i].path);
    free(maps->v);
    maps->v = NULL;
    maps->n = 0;
}

const struct ph_map *ph_maps_find(const struct ph_maps *maps, uint64_t addr)
{
    size_t lo = 0, hi = maps->n; /* find the last entry with start <= addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (maps->v[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct ph_map *m = &maps->v[lo - 1];
    return addr < m->end ? m : NULL;
}

/* An empty range is readable: there is nothing to read. */
bool ph_maps_readable(const struct ph_maps *maps, uint64_t addr, uint64_t len)
{
    if (len == 0)
        return true;
    if (addr > UINT64_MAX - len)
        return false;
    uint64_t last = addr + len; /* exclusive */
    const struct ph_map *m = ph_maps_find(maps, addr);
    if (!m)
        return false;
    const struct ph_map *stop = maps->v + maps->n;
    for (; m < stop; m++) {
        if (!(m->perms & PH_MAP_R) || m->start > addr)
            return false;
        if (last <= m->end)
            return true;
        addr = m->end; /* the next mapping must start exactly here */
    }
    return false;
}
