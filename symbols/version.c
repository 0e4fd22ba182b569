/*
 * version.c: parsing CPython versions out of hex words, strings and file names.
 *
 * Everything here is pure and bounded: inputs come from a binary we do not trust, so each parser
 * accepts an exact grammar and rejects anything else rather than guessing. Numbers are capped
 * while they are read (no overflow), and a hex value is only believed after
 * py_version_hex_valid. The .rodata scan prefers silence over a wrong answer: two different
 * candidates mean "unknown", and the caller falls back to the file name.
 */
#include "symbols/version.h"

#include <stdio.h>
#include <string.h>

/* Longest string that can be a version literal: "3.99.255rc15+". */
#define VERSION_MAX_LEN 16
/* The oldest CPython with _PyRuntime; older-looking strings are someone else's versions. */
#define SCAN_MIN_MINOR 7

bool py_version_hex_valid(uint64_t hex)
{
    if (hex >> 32)
        return false;
    unsigned level = PY_HEX_LEVEL(hex);
    if (PY_HEX_MAJOR(hex) != 3 || PY_HEX_MINOR(hex) > 99)
        return false;
    if (level != 0xA && level != 0xB && level != 0xC && level != 0xF)
        return false;
    return level != 0xF || PY_HEX_SERIAL(hex) == 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal number <= max without leading zeros; returns the end, or NULL. */
static const char *parse_uint(const char *p, unsigned max, unsigned *out)
{
    if (!is_digit(*p) || (p[0] == '0' && is_digit(p[1])))
        return NULL;
    unsigned v = 0;
    for (; is_digit(*p); p++) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v > max)
            return NULL;
    }
    *out = v;
    return p;
}

/* "a", "b", "c", "rc" then a serial; no suffix means final. Returns the end, or NULL. */
static const char *parse_level(const char *p, unsigned *level, unsigned *serial)
{
    *level = 0xF;
    *serial = 0;
    if (p[0] == 'r' && p[1] == 'c')
        *level = 0xC, p += 2;
    else if (*p == 'a' || *p == 'b' || *p == 'c')
        *level = 0xA + (unsigned)(*p - 'a'), p++;
    else
        return p;
    return parse_uint(p, 15, serial);
}

bool py_version_parse(const char *s, uint32_t *hex)
{
    unsigned major, minor, micro, level, serial;
    const char *p = parse_uint(s, 9, &major);
    if (!p || major != 3 || *p++ != '.')
        return false;
    if (!(p = parse_uint(p, 99, &minor)) || *p++ != '.')
        return false;
    if (!(p = parse_uint(p, 255, &micro)) || !(p = parse_level(p, &level, &serial)))
        return false;
    if (*p == '+')
        p++;
    if (*p != '\0')
        return false;
    *hex = PY_HEX(major, minor, micro, level, serial);
    return true;
}

/* ABI flags after "python3.X": each of d, m, t, u at most once. Returns the end. */
static const char *parse_flags(const char *p, struct py_name_version *out)
{
    bool u = false;
    for (;; p++) {
        bool *flag = *p == 'd'   ? &out->debug
                     : *p == 't' ? &out->free_threaded
                     : *p == 'm' ? &out->pymalloc
                     : *p == 'u' ? &u
                                 : NULL;
        if (!flag)
            return p;
        if (*flag)
            return NULL;
        *flag = true;
    }
}

bool py_version_from_name(const char *path, struct py_name_version *out)
{
    const char *base = strrchr(path, '/');
    const char *p = base ? base + 1 : path;
    bool lib = strncmp(p, "libpython", 9) == 0;
    if (!lib && strncmp(p, "python", 6) != 0)
        return false;
    p += lib ? 9 : 6;
    struct py_name_version v = {0};
    if (strncmp(p, "3.", 2) != 0 || !(p = parse_uint(p + 2, 99, &v.minor)))
        return false;
    if (!(p = parse_flags(p, &v)))
        return false;
    if (lib) {
        if (strncmp(p, ".so", 3) != 0 || (p[3] != '\0' && p[3] != '.'))
            return false;
    } else if (strcmp(p, "-dbg") == 0) {
        v.debug = true;
    } else if (*p != '\0') {
        return false;
    }
    *out = v;
    return true;
}

/* Distinct-value tracker: one value seen (any number of times) or a conflict. */
struct pick {
    uint32_t hex;
    unsigned n;
    bool conflict;
};

static void pick_offer(struct pick *p, uint32_t hex, int name_minor)
{
    unsigned minor = PY_HEX_MINOR(hex);
    if (minor < SCAN_MIN_MINOR || (name_minor >= 0 && minor != (unsigned)name_minor))
        return;
    if (p->n > 0 && p->hex != hex)
        p->conflict = true;
    p->hex = hex;
    p->n++;
}

/* Offer the string s (length len, NUL-terminated) whole, and its tail after '/' or '-'. */
static void offer_string(const char *s, size_t len, int name_minor, struct pick *whole,
                         struct pick *tail)
{
    uint32_t hex;
    if (len <= VERSION_MAX_LEN && py_version_parse(s, &hex)) {
        pick_offer(whole, hex, name_minor);
        return;
    }
    const char *cut = NULL;
    for (size_t i = len; i-- > 0 && len - i <= VERSION_MAX_LEN + 1;)
        if (s[i] == '/' || s[i] == '-') {
            cut = s + i + 1;
            break;
        }
    if (cut && py_version_parse(cut, &hex))
        pick_offer(tail, hex, name_minor);
}

static bool pick_result(const struct pick *p, uint32_t *hex)
{
    if (p->n == 0 || p->conflict)
        return false;
    *hex = p->hex;
    return true;
}

bool py_version_scan_strings(const char *buf, size_t len, int name_minor, uint32_t *hex)
{
    struct pick whole = {0}, tail = {0};
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\0')
            continue;
        if (i > start && buf[start] != '\0')
            offer_string(buf + start, i - start, name_minor, &whole, &tail);
        start = i + 1;
    }
    if (whole.n > 0)
        return pick_result(&whole, hex);
    return name_minor >= 0 && pick_result(&tail, hex);
}

int py_version_format(uint32_t hex, bool minor_only, char *buf, size_t n)
{
    unsigned major = PY_HEX_MAJOR(hex), minor = PY_HEX_MINOR(hex), micro = PY_HEX_MICRO(hex);
    if (minor_only)
        return snprintf(buf, n, "%u.%u", major, minor);
    unsigned level = PY_HEX_LEVEL(hex);
    const char *tag = level == 0xA ? "a" : level == 0xB ? "b" : level == 0xC ? "rc" : NULL;
    if (level == 0xF)
        return snprintf(buf, n, "%u.%u.%u", major, minor, micro);
    return snprintf(buf, n, "%u.%u.%u%s%u", major, minor, micro, tag ? tag : "?",
                    PY_HEX_SERIAL(hex));
}

/* "M.m.p" with M.m before 3.7, digits only, 1 or 2 digits a part. */
static bool old_version_literal(const char *s, size_t len)
{
    if (len < 5 || len > 8 || (s[0] != '2' && s[0] != '3') || s[1] != '.')
        return false;
    size_t i = 2, parts = 1;
    unsigned minor = 0;
    while (i < len) {
        size_t d = 0;
        unsigned v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && d < 3)
            v = v * 10 + (unsigned)(s[i++] - '0'), d++;
        if (d == 0 || d > 2)
            return false;
        if (parts == 1)
            minor = v;
        parts++;
        if (i < len && s[i++] != '.')
            return false;
    }
    return parts == 3 && s[len - 1] != '.' && (s[0] == '2' || minor < 7);
}

bool py_old_version_scan(const char *buf, size_t len, char *out, size_t cap)
{
    const char *found = NULL;
    size_t found_len = 0, start = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\0')
            continue;
        size_t n = i - start;
        if (old_version_literal(buf + start, n)) {
            if (found && (found_len != n || memcmp(found, buf + start, n) != 0))
                return false; /* two different versions: trust neither */
            found = buf + start, found_len = n;
        }
        start = i + 1;
    }
    if (!found || cap <= found_len)
        return false;
    memcpy(out, found, found_len);
    out[found_len] = '\0';
    return true;
}

bool py_old_version_from_name(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (strncmp(base, "lib", 3) == 0)
        base += 3;
    if (strncmp(base, "python", 6) != 0)
        return false;
    base += 6;
    if (!((base[0] == '2' || base[0] == '3') && base[1] == '.' && base[2] >= '0' && base[2] <= '9'))
        return false;
    unsigned minor = (unsigned)(base[2] - '0');
    size_t n = 3;
    if (base[3] >= '0' && base[3] <= '9')
        minor = minor * 10 + (unsigned)(base[3] - '0'), n = 4;
    if ((base[0] == '3' && minor >= 7) || cap <= n)
        return false;
    memcpy(out, base, n);
    out[n] = '\0';
    return true;
}
