/*
 * escape.h: make bytes from the target safe for a terminal and for JSON.
 *
 * Output is valid UTF-8 with no character a terminal would not show as itself: invalid UTF-8
 * bytes become \xNN, and the characters of Unicode general categories Cc (controls), Cf (format:
 * zero-width, bidi overrides, tags), Zl, Zp (separators), Co (private use) and Cs (surrogates,
 * from a Python str with lone ones) become \xNN, \uNNNN or \UNNNNNNNN as Python's repr writes
 * them; a backslash is doubled. A hostile process cannot move the operator's cursor, change
 * colours, reorder the line or hide text in it.
 */
#ifndef PH_ESCAPE_H
#define PH_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Escape len bytes of in into out (cap bytes, always NUL-terminated, cut with "..." when
 * full). Returns the length written. */
size_t ph_escape(const char *in, size_t len, char *out, size_t cap);
/* A code point ph_escape escapes: general categories Cc, Cf, Zl, Zp, Co and Cs. */
bool ph_codepoint_unsafe(uint32_t c);

/* True when in[0..len) is text ph_escape could have produced: valid UTF-8 and nothing it would
 * escape except backslashes. For text read back from files, which must be as safe as text
 * escaped when it was read from a target. */
bool ph_escape_is_clean(const char *in, size_t len);

#endif
