/*
 * escape.h: make bytes from the target safe for a terminal and for JSON.
 *
 * Output is valid UTF-8 with no control characters: ASCII controls and DEL, invalid UTF-8,
 * C1 controls (U+0080..U+009F), and bidi/format characters (U+200E..U+200F, U+202A..U+202E,
 * U+2066..U+2069) become \xNN or \uNNNN; a backslash is doubled. A hostile process cannot move
 * the operator's cursor, change colours or reorder the line.
 */
#ifndef PH_ESCAPE_H
#define PH_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Escape len bytes of in into out (cap bytes, always NUL-terminated, cut with "..." when
 * full). Returns the length written. */
size_t ph_escape(const char *in, size_t len, char *out, size_t cap);

/* True when in[0..len) is text ph_escape could have produced: valid UTF-8 and nothing it would
 * escape except backslashes. For text read back from files, which must be as safe as text
 * escaped when it was read from a target. */
bool ph_escape_is_clean(const char *in, size_t len);

#endif
