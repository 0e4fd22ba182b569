/*
 * json.c: see json.h. Commas are placed by tracking whether the current container has had an
 * element; a key marks the next value as not needing one.
 */
#include "cmd/json.h"

#include <inttypes.h>
#include <math.h>

void jw_init(struct jw *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->first[0] = true;
}

static void sep(struct jw *j)
{
    if (!j->first[j->depth])
        fputc(',', j->f);
    j->first[j->depth] = false;
}

static void open_c(struct jw *j, char c)
{
    sep(j);
    fputc(c, j->f);
    if (j->depth + 1 < JSON_MAX_DEPTH)
        j->depth++;
    j->first[j->depth] = true;
}

static void close_c(struct jw *j, char c)
{
    if (j->depth > 0)
        j->depth--;
    fputc(c, j->f);
}

void jw_obj(struct jw *j) { open_c(j, '{'); }
void jw_end_obj(struct jw *j) { close_c(j, '}'); }
void jw_arr(struct jw *j) { open_c(j, '['); }
void jw_end_arr(struct jw *j) { close_c(j, ']'); }

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void jw_key(struct jw *j, const char *key)
{
    sep(j);
    put_string(j->f, key);
    fputc(':', j->f);
    j->first[j->depth] = true; /* the value that follows needs no comma */
}

void jw_str(struct jw *j, const char *s)
{
    sep(j);
    put_string(j->f, s ? s : "");
}

void jw_u64(struct jw *j, uint64_t v)
{
    sep(j);
    fprintf(j->f, "%" PRIu64, v);
}

void jw_i64(struct jw *j, int64_t v)
{
    sep(j);
    fprintf(j->f, "%" PRId64, v);
}

void jw_f64(struct jw *j, double v)
{
    sep(j);
    if (isfinite(v))
        fprintf(j->f, "%.3f", v);
    else
        fputs("null", j->f);
}

void jw_bool(struct jw *j, bool v)
{
    sep(j);
    fputs(v ? "true" : "false", j->f);
}

void jw_null(struct jw *j)
{
    sep(j);
    fputs("null", j->f);
}

void jw_hex(struct jw *j, uint64_t v)
{
    sep(j);
    fprintf(j->f, "\"0x%" PRIx64 "\"", v);
}

void jw_done(struct jw *j)
{
    fputc('\n', j->f);
    fflush(j->f);
}
