/*
 * escape.c: see escape.h. Decodes UTF-8 strictly (no overlongs, no surrogates, at most
 * U+10FFFF) so that what is passed through is exactly what a terminal will render as text.
 */
#include "lib/escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at s (1..4) and its code point, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || n > len)
        return 0;
    uint32_t c = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min_for_len[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

static int unsafe_codepoint(uint32_t c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || (c >= 0x200E && c <= 0x200F) ||
           (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
}

size_t ph_escape(const char *in, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, i = 0;
    while (i < len) {
        /* A run of printable ASCII other than the backslash (most text) passes as it is. */
        size_t run = 0;
        while (i + run < len && s[i + run] >= 0x20 && s[i + run] < 0x7F && s[i + run] != '\\')
            run++;
        if (run) {
            size_t fits = o + run + 4 <= cap ? run : (cap >= o + 4 ? cap - o - 4 : 0);
            memcpy(out + o, s + i, fits);
            o += fits;
            i += fits;
            if (fits < run) {
                if (cap >= 4) {
                    memcpy(out + (o <= cap - 4 ? o : cap - 4), "...", 3);
                    o = (o <= cap - 4 ? o : cap - 4) + 3;
                }
                break;
            }
            continue;
        }
        char piece[16];
        size_t plen;
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            plen = (size_t)snprintf(piece, sizeof piece, "\\x%02x", s[i]);
            n = 1;
        } else if (cp == '\\') {
            plen = (size_t)snprintf(piece, sizeof piece, "\\\\");
        } else if (unsafe_codepoint(cp)) {
            plen = cp < 0x100 ? (size_t)snprintf(piece, sizeof piece, "\\x%02x", (unsigned)cp)
                              : (size_t)snprintf(piece, sizeof piece, "\\u%04x", (unsigned)cp);
        } else {
            memcpy(piece, s + i, n);
            plen = n;
        }
        if (o + plen + 4 > cap) { /* keep room for "..." and NUL */
            if (cap >= 4) {
                memcpy(out + (o <= cap - 4 ? o : cap - 4), "...", 3);
                o = (o <= cap - 4 ? o : cap - 4) + 3;
            }
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
        i += n;
    }
    out[o < cap ? o : cap - 1] = '\0';
    return o < cap ? o : cap - 1;
}

bool ph_escape_is_clean(const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0 || unsafe_codepoint(cp))
            return false;
        i += n;
    }
    return true;
}
