/*
 * check_run.h: how every unit test binary ends: run the suite (forked per test unless
 * CK_FORK=no), print Check's summary, exit 0 only when every test passed.
 */
#ifndef PH_CHECK_RUN_H
#define PH_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int ph_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
