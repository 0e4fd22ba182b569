/*
 * test_cstruct.c: the generated tables of C structs (lib/walk/cstruct_tables.c) keep the
 * invariants cstruct.c relies on: rows sorted by name (binary search), one row per name, minor,
 * kind and size (a level matches one row at most), and every field inside its struct.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/walk/cstruct.h"
#include "tests/unit/check_run.h"

START_TEST(rows_sorted_and_unique)
{
    ck_assert_uint_gt(wk_cstructs_n, 100);
    for (size_t i = 1; i < wk_cstructs_n; i++) {
        const struct wk_cstruct *a = &wk_cstructs[i - 1], *b = &wk_cstructs[i];
        int c = strcmp(a->name, b->name);
        ck_assert_msg(c <= 0, "row %zu (%s) sorts before row %zu (%s)", i, b->name, i - 1,
                      a->name);
        if (c == 0)
            ck_assert_msg(a->minor != b->minor || a->state != b->state || a->size != b->size,
                          "two rows for %s 3.%d size %u", a->name, a->minor, a->size);
    }
}
END_TEST

START_TEST(fields_inside_their_struct)
{
    for (size_t i = 0; i < wk_cstructs_n; i++) {
        const struct wk_cstruct *r = &wk_cstructs[i];
        ck_assert(r->name && r->name[0]);
        ck_assert(r->minor >= 8 && r->minor <= 15);
        ck_assert(r->nfields == 0 || r->fields);
        for (uint16_t k = 0; k < r->nfields; k++) {
            const struct wk_cfield *f = &r->fields[k];
            ck_assert_msg((uint32_t)f->offset + 8 <= r->size, "%s 3.%d: %s at %u, size %u",
                          r->name, r->minor, f->name, f->offset, r->size);
            ck_assert(f->deref >= -2);
            ck_assert(f->cond < 0 || (uint32_t)f->cond < r->size);
            ck_assert(f->name && f->name[0]);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cstruct");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, rows_sorted_and_unique);
    tcase_add_test(tc, fields_inside_their_struct);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
