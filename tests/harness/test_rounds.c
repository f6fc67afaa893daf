/* test_rounds.c -- run --max-reps's decision between rounds (rounds.h):
 * which rows are wide, and which of their cells get another repetition. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../harness/rounds.h"

static void test_width(void **state)
{
    (void)state;
    double five[] = {3, 1, 5, 2, 4}; /* the range at n 5: (5 - 1) / 2 / 3 */
    assert_true(fabs(hb_rounds_width(five, 5) - 200.0 / 3) < 1e-9);
    double nine[] = {100, 101, 99, 100, 140, 100, 60, 100, 101}; /* 2nd and 8th: 99, 101 */
    assert_true(fabs(hb_rounds_width(nine, 9) - 1.0) < 1e-9);
    assert_true(hb_rounds_width(five, 1) == 0);
    double zero[] = {0, 0, 0};
    assert_true(isinf(hb_rounds_width(zero, 3)));
}

static void test_next(void **state)
{
    (void)state;
    /* two rows of two backends; cell 1 spreads by 20%, the rest by 0.5% */
    double quiet[] = {100, 100.5, 100.2}, noisy[] = {100, 130, 90};
    const double *fig[] = {quiet, noisy, quiet, quiet};
    size_t group[] = {0, 0, 1, 1};
    int nfig[] = {3, 3, 3, 3}, nrun[] = {3, 3, 3, 3};
    unsigned char more[4];
    /* the noisy cell's row runs again, both its backends; the other does not */
    assert_int_equal(hb_rounds_next(4, group, fig, nfig, nrun, 9, 5, more), 2);
    assert_true(more[0] && more[1] && !more[2] && !more[3]);
    /* within 25%: nothing more */
    assert_int_equal(hb_rounds_next(4, group, fig, nfig, nrun, 9, 25, more), 0);
    assert_true(!more[0] && !more[1]);
    /* the noisy cell at its limit: its row is done, however wide */
    nrun[1] = 9;
    assert_int_equal(hb_rounds_next(4, group, fig, nfig, nrun, 9, 5, more), 0);
    /* a backend whose runs all failed (no figures) gets no more, its row's
     * other backends do */
    nrun[1] = 3;
    nfig[0] = 0;
    assert_int_equal(hb_rounds_next(4, group, fig, nfig, nrun, 9, 5, more), 1);
    assert_true(!more[0] && more[1]);
    /* a backend below the limit in a row whose wide one is at it: none */
    nfig[0] = 3;
    nrun[0] = 4;
    nrun[1] = 9;
    assert_int_equal(hb_rounds_next(4, group, fig, nfig, nrun, 9, 5, more), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_width), cmocka_unit_test(test_next)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
