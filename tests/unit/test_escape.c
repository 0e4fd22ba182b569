/*
 * test_escape.c: lib/escape.c on the characters a terminal does not show as themselves.
 *
 * Each category the escaper must catch (Cc, Cf, Zl, Zp, Co, Cs) by examples, including the ones
 * it once let through (U+200B ZERO WIDTH SPACE, U+2028, private use, tags, a lone surrogate,
 * which text.c used to turn into U+FFFD); what must pass unchanged; and, over every code point,
 * that ph_escape_is_clean says "clean" exactly for the text ph_escape leaves alone. Pure
 * functions: no files, no processes.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "tests/unit/check_run.h"

/* UTF-8 of c, surrogates included (three bytes, as text.c writes them). */
static size_t put(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    size_t n = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (size_t i = n - 1; i > 0; i--, c >>= 6)
        out[i] = (char)(0x80 | (c & 0x3F));
    out[0] = (char)(lead[n] | c);
    return n;
}

static const char *esc(uint32_t c)
{
    static char out[64];
    char in[8];
    size_t n = put(c, in);
    ph_escape(in, n, out, sizeof out);
    return out;
}

START_TEST(invisible_and_format_characters)
{
    ck_assert_str_eq(esc(0x200B), "\\u200b");     /* ZERO WIDTH SPACE (Cf) */
    ck_assert_str_eq(esc(0x200D), "\\u200d");     /* ZERO WIDTH JOINER (Cf) */
    ck_assert_str_eq(esc(0x2060), "\\u2060");     /* WORD JOINER (Cf) */
    ck_assert_str_eq(esc(0x202E), "\\u202e");     /* RIGHT-TO-LEFT OVERRIDE (Cf) */
    ck_assert_str_eq(esc(0x061C), "\\u061c");     /* ARABIC LETTER MARK (Cf) */
    ck_assert_str_eq(esc(0xFEFF), "\\ufeff");     /* BOM (Cf) */
    ck_assert_str_eq(esc(0x00AD), "\\xad");       /* SOFT HYPHEN (Cf) */
    ck_assert_str_eq(esc(0xE0001), "\\U000e0001"); /* LANGUAGE TAG (Cf) */
    ck_assert_str_eq(esc(0xE0041), "\\U000e0041"); /* TAG LATIN CAPITAL A (Cf) */
    ck_assert_str_eq(esc(0x2028), "\\u2028");     /* LINE SEPARATOR (Zl) */
    ck_assert_str_eq(esc(0x2029), "\\u2029");     /* PARAGRAPH SEPARATOR (Zp) */
    ck_assert_str_eq(esc(0xE000), "\\ue000");     /* private use (Co) */
    ck_assert_str_eq(esc(0xF8FF), "\\uf8ff");
    ck_assert_str_eq(esc(0xF0000), "\\U000f0000");
    ck_assert_str_eq(esc(0x10FFFD), "\\U0010fffd");
    ck_assert_str_eq(esc(0xD800), "\\ud800");     /* lone surrogates (Cs) */
    ck_assert_str_eq(esc(0xDCFF), "\\udcff");
    ck_assert_str_eq(esc(0x1B), "\\x1b");         /* Cc */
    ck_assert_str_eq(esc(0x85), "\\x85");
    ck_assert_str_eq(esc(0x7F), "\\x7f");
}
END_TEST

START_TEST(visible_characters_pass)
{
    static const uint32_t ok[] = {'a', ' ', '~', 0xA0, 0xE9, 0x3B1, 0x5D0, 0x627, 0x200A,
                                  0x2030, 0x3000, 0x4E2D, 0xF900, 0xFFFD, 0x1F600, 0x20000};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char in[8];
        size_t n = put(ok[i], in);
        in[n] = '\0';
        ck_assert_msg(strcmp(esc(ok[i]), in) == 0, "U+%04X was escaped", (unsigned)ok[i]);
        ck_assert(ph_escape_is_clean(in, n));
    }
    char out[64];
    ph_escape("a\\b", 3, out, sizeof out);
    ck_assert_str_eq(out, "a\\\\b");
}
END_TEST

/* Over every code point: the escaper leaves c alone exactly when the checker calls it clean,
 * and its output is always clean. */
START_TEST(clean_matches_escape)
{
    uint32_t bad_same = 0, bad_out = 0;
    for (uint32_t c = 1; c <= 0x10FFFF; c++) {
        char in[8], out[64];
        size_t n = put(c, in);
        size_t m = ph_escape(in, n, out, sizeof out);
        bool same = m == n && memcmp(in, out, n) == 0;
        if (c != '\\' && same != ph_escape_is_clean(in, n) && !bad_same)
            bad_same = c;
        if (!ph_escape_is_clean(out, m) && !bad_out)
            bad_out = c;
    }
    ck_assert_msg(!bad_same, "U+%04X: escaped and clean disagree", (unsigned)bad_same);
    ck_assert_msg(!bad_out, "the escape of U+%04X is not clean", (unsigned)bad_out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("escape");
    TCase *tc = tcase_create("categories");
    tcase_add_test(tc, invisible_and_format_characters);
    tcase_add_test(tc, visible_characters_pass);
    tcase_add_test(tc, clean_matches_escape);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
