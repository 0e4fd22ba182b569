/*
 * test_error.c: lib/error.c's messages: ph_fail, and ph_wrap's prefixes, which must join with
 * exactly one ": " however the callers write them (the issue: "process 1099 (python3.12): :
 * reading _PyRuntime.interpreters.head at 0x...: : reading 8 bytes at ..."), and cut long
 * messages from the end. Pure functions: no files, no processes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "tests/unit/check_run.h"

START_TEST(wrap_joins_once)
{
    struct ph_error err = {0};
    ph_fail(&err, PH_ERR_TARGET_EXITED, "the target process exited");
    ck_assert_int_eq(ph_wrap(&err, "reading %d bytes at 0x%x", 8, 0x10), PH_ERR_TARGET_EXITED);
    ph_wrap(&err, "reading %s at 0x%x: ", "_PyRuntime.interpreters.head", 0x20);
    ph_wrap(&err, "process %d (%s): ", 1099, "python3.12");
    ck_assert_str_eq(err.msg, "process 1099 (python3.12): reading _PyRuntime.interpreters.head "
                              "at 0x20: reading 8 bytes at 0x10: the target process exited");
    ck_assert_ptr_null(strstr(err.msg, ": :"));
    ck_assert_int_eq(err.code, PH_ERR_TARGET_EXITED);
}
END_TEST

START_TEST(wrap_without_message)
{
    struct ph_error err = {0};
    err.code = PH_ERR_INCONSISTENT;
    ph_wrap(&err, "section %s: ", ".PyRuntime");
    ck_assert_str_eq(err.msg, "section .PyRuntime");
    ph_wrap(&err, "reading %s", "x");
    ck_assert_str_eq(err.msg, "reading x: section .PyRuntime");
    ck_assert_int_eq(ph_wrap(NULL, "nothing"), PH_ERR_INTERNAL);
}
END_TEST

START_TEST(wrap_cuts_the_end)
{
    struct ph_error err = {0};
    char longer[PH_ERROR_MSG_MAX * 2];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    ph_fail(&err, PH_ERR_IO, "%s", "the end");
    ph_wrap(&err, "%s", longer);
    ck_assert_uint_eq(strlen(err.msg), PH_ERROR_MSG_MAX - 1);
    ck_assert(err.msg[0] == 'a');
    ph_fail(&err, PH_ERR_IO, "%s", longer);
    ph_wrap(&err, "start");
    ck_assert(strncmp(err.msg, "start: aaa", 10) == 0);
    ck_assert_uint_eq(strlen(err.msg), PH_ERROR_MSG_MAX - 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("messages");
    tcase_add_test(tc, wrap_joins_once);
    tcase_add_test(tc, wrap_without_message);
    tcase_add_test(tc, wrap_cuts_the_end);
    suite_add_tcase(s, tc);
    return ph_check_run(s);
}
