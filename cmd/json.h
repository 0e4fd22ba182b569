/*
 * json.h: a small streaming JSON writer. Strings are escaped per RFC 8259 (quote, backslash,
 * control characters as \u00XX); bytes that are not valid UTF-8 never reach it because every
 * string from the target is escaped by lib/escape first.
 */
#ifndef PH_JSON_H
#define PH_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct jw {
    FILE *f;
    int depth;
    bool first[JSON_MAX_DEPTH];
};

void jw_init(struct jw *j, FILE *f);
void jw_obj(struct jw *j);      /* { */
void jw_end_obj(struct jw *j);  /* } */
void jw_arr(struct jw *j);      /* [ */
void jw_end_arr(struct jw *j);  /* ] */
void jw_key(struct jw *j, const char *key);
void jw_str(struct jw *j, const char *s);
void jw_u64(struct jw *j, uint64_t v);
void jw_i64(struct jw *j, int64_t v);
void jw_f64(struct jw *j, double v);
void jw_bool(struct jw *j, bool v);
void jw_null(struct jw *j);
void jw_hex(struct jw *j, uint64_t v); /* "0x..." as a string */
void jw_done(struct jw *j);            /* newline */

#endif
