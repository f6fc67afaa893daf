/* Unit tests of harness/stats.c. The expected values come from an
 * independent computation in Python (tests/harness/stats_ref.py): the exact U
 * distribution by brute-force enumeration of orderings and by the textbook
 * recursion with big integers, the normal approximation from its formula. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <math.h>

#include "harness/stats.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

static void near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.12g, want %.12g (tolerance %g)", got, want, tol);
}

static void test_median(void **state)
{
    (void)state;
    double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2}, one[] = {7}, m = -1;
    assert_int_equal(hb_stats_median(odd, 3, &m), 0);
    near(m, 2, 0);
    assert_int_equal(hb_stats_median(even, 4, &m), 0);
    near(m, 2.5, 0);
    assert_true(odd[0] == 3 && odd[1] == 1); /* input untouched */
    assert_int_equal(hb_stats_median(one, 1, &m), 0);
    near(m, 7, 0);
    m = -1;
    assert_int_equal(hb_stats_median(one, 0, &m), EINVAL);
    near(m, -1, 0); /* untouched on failure */
    double bad[] = {1, NAN};
    assert_int_equal(hb_stats_median(bad, 2, &m), EINVAL);
}

/* The median's interval: k from the binomial's tail (summed exactly with
 * Python's math.comb: n 9 -> 2, 12 -> 3, 15 -> 4, 20 -> 6, 100 -> 40),
 * the range below that. */
static void test_median_interval(void **state)
{
    (void)state;
    static const size_t ns[] = {1, 2, 5, 6, 8, 9, 11, 12, 15, 20, 100};
    static const size_t ks[] = {1, 1, 1, 1, 1, 2, 2, 3, 4, 6, 40};
    double x[100], lo = -1, hi = -1;
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        size_t n = ns[i], k = 0;
        for (size_t j = 0; j < n; j++) /* 1..n in a scrambled order */
            x[j] = (double)((j * 37) % n + 1);
        assert_int_equal(hb_stats_median_interval(x, n, 0.95, &lo, &hi, &k), 0);
        if (k != ks[i])
            fail_msg("n %zu: k %zu, want %zu", n, k, ks[i]);
        near(lo, (double)ks[i], 0);
        near(hi, (double)(n + 1 - ks[i]), 0);
    }
    double nine[] = {5, 1, 9, 2, 8, 3, 7, 4, 6};
    assert_int_equal(hb_stats_median_interval(nine, 9, 0.95, &lo, &hi, NULL), 0);
    near(lo, 2, 0);
    near(hi, 8, 0);
    assert_true(nine[0] == 5); /* input untouched */
    lo = -1;
    assert_int_equal(hb_stats_median_interval(nine, 0, 0.95, &lo, &hi, NULL), EINVAL);
    assert_int_equal(hb_stats_median_interval(nine, 9, 1.0, &lo, &hi, NULL), EINVAL);
    near(lo, -1, 0); /* untouched on failure */
    double bad[] = {1, NAN};
    assert_int_equal(hb_stats_median_interval(bad, 2, 0.95, &lo, &hi, NULL), EINVAL);
}

static void test_cv_geomean(void **state)
{
    (void)state;
    double x[] = {1, 2, 3}, g[] = {2, 8}, v;
    assert_int_equal(hb_stats_cv(x, 3, &v), 0);
    near(v, 0.5, 1e-12);
    assert_int_equal(hb_stats_cv(x, 1, &v), EINVAL);
    double zero[] = {0, 0};
    assert_int_equal(hb_stats_cv(zero, 2, &v), EINVAL);
    /* robust CV, against Python: k = 1/NormalDist().inv_cdf(0.75),
     * k * median(|x - median(x)|) / median(x) */
    double r1[] = {1, 2, 3, 10}, r2[] = {0.12, 0.121, 0.119, 0.36, 0.122};
    assert_int_equal(hb_stats_robust_cv(r1, 4, &v), 0);
    near(v, 0.5930408874022408, 1e-12);
    assert_int_equal(hb_stats_robust_cv(r2, 5, &v), 0);
    near(v, 0.012252910896740524, 1e-12); /* the 3x outlier barely moves it */
    assert_int_equal(hb_stats_cv(r2, 5, &v), 0);
    near(v, 0.6360658623144827, 1e-12); /* the classical CV, statistics.stdev / mean */
    assert_int_equal(hb_stats_robust_cv(x, 1, &v), EINVAL);
    assert_int_equal(hb_stats_robust_cv(zero, 2, &v), EINVAL);
    assert_int_equal(hb_stats_geomean(g, 2, &v), 0);
    near(v, 4, 1e-12);
    double neg[] = {1, -1};
    assert_int_equal(hb_stats_geomean(neg, 2, &v), EINVAL);
    assert_int_equal(hb_stats_geomean(g, 0, &v), EINVAL);
}

static void test_mwu_exact(void **state)
{
    (void)state;
    double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
    hb_mwu r;
    assert_int_equal(hb_stats_mwu(a, 5, b, 5, HB_GREATER, &r), 0);
    assert_true(r.exact);
    near(r.u, 25, 0);
    near(r.p, 1.0 / 252, 1e-12);
    assert_int_equal(hb_stats_mwu(a, 5, b, 5, HB_TWO_SIDED, &r), 0);
    near(r.p, 2.0 / 252, 1e-12);
    assert_int_equal(hb_stats_mwu(a, 5, b, 5, HB_LESS, &r), 0);
    near(r.p, 1, 1e-12);
    /* swapping the sides mirrors U */
    assert_int_equal(hb_stats_mwu(b, 5, a, 5, HB_LESS, &r), 0);
    near(r.u, 0, 0);
    near(r.p, 1.0 / 252, 1e-12);

    double c[] = {1.1, 2.5, 3.3, 4.7, 5.2, 6.8, 7.1}, d[] = {3.0, 4.0, 5.5, 6.1, 8.2, 9.9};
    assert_int_equal(hb_stats_mwu(c, N(c), d, N(d), HB_GREATER, &r), 0);
    near(r.u, 29, 0);
    near(r.p, 0.14743589743589744, 1e-12);
    assert_int_equal(hb_stats_mwu(c, N(c), d, N(d), HB_LESS, &r), 0);
    near(r.p, 0.8828671328671329, 1e-12);
    assert_int_equal(hb_stats_mwu(c, N(c), d, N(d), HB_TWO_SIDED, &r), 0);
    near(r.p, 0.2948717948717949, 1e-12);

    /* 25 against 25: the largest exact case, tails of 1 in 1e14 */
    double e[25], f[25];
    for (int i = 0; i < 25; i++)
        e[i] = i + 1, f[i] = i + 4.5;
    assert_int_equal(hb_stats_mwu(e, 25, f, 25, HB_GREATER, &r), 0);
    assert_true(r.exact);
    near(r.u, 394, 0);
    near(r.p, 0.0583194056321632, 1e-12);
    assert_int_equal(hb_stats_mwu(e, 25, f, 25, HB_TWO_SIDED, &r), 0);
    near(r.p, 0.1166388112643264, 1e-12);
}

static void test_mwu_normal(void **state)
{
    (void)state;
    /* ties: the normal approximation with the tie-corrected variance */
    double a[] = {1, 2, 2, 3, 3, 3, 4}, b[] = {2, 3, 4, 4, 5, 5};
    hb_mwu r;
    assert_int_equal(hb_stats_mwu(a, N(a), b, N(b), HB_GREATER, &r), 0);
    assert_false(r.exact);
    near(r.u, 33.5, 0);
    near(r.p, 0.03913121473857317, 1e-9);
    assert_int_equal(hb_stats_mwu(a, N(a), b, N(b), HB_TWO_SIDED, &r), 0);
    near(r.p, 0.07826242947714634, 1e-9);
    /* 30 against 30: too many for the exact distribution */
    double x[] = {11.2882, 11.4494, 10.0663, 9.2355, 8.9078, 10.0313, 8.9779, 8.5632, 10.1993, 10.1334,
                  10.5465, 9.086, 10.005, 9.9353, 8.4942, 10.538, 10.3207, 12.3891, 10.203, 9.8553,
                  11.2328, 10.1988, 10.909, 9.6345, 10.2182, 11.0243, 10.6962, 10.1285, 8.9177, 10.4452};
    double y[] = {10.5769, 11.2205, 10.7162, 11.5882, 10.4484, 10.702, 11.1668, 9.4131, 10.0983, 10.0,
                  12.4806, 10.4071, 11.1522, 11.1194, 10.2191, 8.9492, 11.4648, 10.0928, 11.218, 9.1947,
                  10.062, 11.7568, 11.931, 9.1975, 9.1672, 10.4557, 11.2282, 10.6605, 10.8036, 9.5112};
    assert_int_equal(hb_stats_mwu(x, 30, y, 30, HB_GREATER, &r), 0);
    assert_false(r.exact);
    near(r.u, 585, 0);
    near(r.p, 0.02337792119638593, 1e-9);
    /* all tied: no evidence */
    double t[] = {5, 5, 5};
    assert_int_equal(hb_stats_mwu(t, 3, t, 3, HB_TWO_SIDED, &r), 0);
    near(r.p, 1, 0);
    assert_int_equal(hb_stats_mwu(t, 0, t, 3, HB_TWO_SIDED, &r), EINVAL);
}

static void test_min_p(void **state)
{
    (void)state;
    near(hb_stats_mwu_min_p(5, 5, HB_GREATER), 1.0 / 252, 1e-15);
    near(hb_stats_mwu_min_p(5, 5, HB_TWO_SIDED), 2.0 / 252, 1e-15);
    near(hb_stats_mwu_min_p(7, 7, HB_GREATER), 1.0 / 3432, 1e-15);
}

static void test_hl_ratio(void **state)
{
    (void)state;
    double a[] = {10, 11, 12, 13, 14}, b[] = {20, 22, 24, 26, 28}, est, lo, hi;
    assert_int_equal(hb_stats_hl_ratio(a, 5, b, 5, 0.95, &est, &lo, &hi), 0);
    near(est, 2, 1e-12);
    /* 5 against 5 at 95%: the critical U is 2, so the 3rd and 23rd of the 25 differences */
    near(lo, 1.571428571428572, 1e-12);
    near(hi, 2.545454545454545, 1e-12);
    /* symmetric: A/B is the reciprocal */
    double e2, l2, h2;
    assert_int_equal(hb_stats_hl_ratio(b, 5, a, 5, 0.95, &e2, &l2, &h2), 0);
    near(e2, 0.5, 1e-12);
    near(l2, 1 / hi, 1e-12);
    near(h2, 1 / lo, 1e-12);
    /* too few for any 95% interval */
    assert_int_equal(hb_stats_hl_ratio(a, 2, b, 2, 0.95, &est, &lo, &hi), 0);
    near(lo, 0, 0);
    assert_true(isinf(hi));
    /* identical samples: the interval holds 1 */
    assert_int_equal(hb_stats_hl_ratio(a, 5, a, 5, 0.95, &est, &lo, &hi), 0);
    near(est, 1, 1e-12);
    assert_true(lo < 1 && hi > 1);
    /* large samples use the normal critical value: still brackets the shift */
    double x[40], y[40];
    for (int i = 0; i < 40; i++)
        x[i] = 100 + i, y[i] = 1.1 * (100 + i);
    assert_int_equal(hb_stats_hl_ratio(x, 40, y, 40, 0.95, &est, &lo, &hi), 0);
    near(est, 1.1, 1e-9);
    assert_true(lo < 1.1 && hi > 1.1 && lo > 1.0);
    double z[] = {1, 0};
    assert_int_equal(hb_stats_hl_ratio(z, 2, b, 2, 0.95, &est, &lo, &hi), EINVAL);
}

/* Reference values: tests/harness/wsr_ref.py (every sign assignment enumerated). */
static const double pa[12] = {1.00, 1.02, 0.98, 1.01, 0.99, 1.03, 1.00, 0.97, 1.02, 1.01, 0.99, 1.00};
static const double pb[12] = {1.06, 1.05, 1.04, 1.07, 1.03, 1.08, 1.02, 1.05, 1.06, 0.99, 1.04, 1.07};
static const double pb0[12] = {1.01, 1.00, 0.99, 1.02, 0.97, 1.04, 0.98, 0.99, 1.03, 1.00, 1.01, 0.98};

static void logratios(const double *a, const double *b, size_t n, double *d)
{
    for (size_t i = 0; i < n; i++)
        d[i] = log(b[i]) - log(a[i]);
}

static void test_signed_rank(void **state)
{
    (void)state;
    double d[12];
    hb_wsr w;
    /* a known shift: 11 of 12 pairs slower */
    logratios(pa, pb, 12, d);
    assert_int_equal(hb_stats_signed_rank(d, 12, HB_GREATER, &w), 0);
    assert_true(w.exact);
    assert_float_equal(w.w, 76, 1e-12);
    assert_float_equal(w.p, 0.000732421875, 1e-12);
    assert_int_equal(hb_stats_signed_rank(d, 12, HB_LESS, &w), 0);
    assert_float_equal(w.p, 0.99951171875, 1e-12);
    /* no shift; |log 1.01 - log 1| = |log 1 - log 1.01| is a tie, so the
     * normal approximation with the tie correction */
    logratios(pa, pb0, 12, d);
    assert_int_equal(hb_stats_signed_rank(d, 12, HB_GREATER, &w), 0);
    assert_false(w.exact);
    assert_float_equal(w.w, 36, 1e-12);
    assert_float_equal(w.p, 0.6082957609625711, 1e-9);
    /* ties and a zero: normal approximation with the tie correction (the
     * zero dropped: 7 ranked; two tied pairs), W+ = 24.5 */
    const double t[] = {1, -1, 2, 2, 3, -0.5, 0, 4};
    assert_int_equal(hb_stats_signed_rank(t, 8, HB_GREATER, &w), 0);
    assert_false(w.exact);
    assert_int_equal(w.n, 7);
    assert_float_equal(w.w, 24.5, 1e-12);
    assert_float_equal(w.p, 0.0449071719791477, 1e-9);
    /* every difference zero: no evidence */
    const double z[] = {0, 0, 0};
    assert_int_equal(hb_stats_signed_rank(z, 3, HB_GREATER, &w), 0);
    assert_float_equal(w.p, 1, 0);
    assert_int_equal(hb_stats_signed_rank(z, 0, HB_GREATER, &w), EINVAL);
}

static void test_paired_ratio(void **state)
{
    (void)state;
    double est, lo, hi;
    assert_int_equal(hb_stats_paired_ratio(pa, pb, 12, 0.95, &est, &lo, &hi), 0);
    assert_float_equal(est, 1.0493859629819984, 1e-12);
    assert_float_equal(lo, 1.0294117647058825, 1e-12);
    assert_float_equal(hi, 1.0606244370571125, 1e-12);
    assert_int_equal(hb_stats_paired_ratio(pa, pb0, 12, 0.95, &est, &lo, &hi), 0);
    assert_float_equal(est, 0.9999009557755397, 1e-12);
    assert_float_equal(lo, 0.9852336290568344, 1e-12);
    assert_float_equal(hi, 1.010204081632653, 1e-12);
    assert_true(lo < 1 && hi > 1);
    /* too few pairs for a 95% interval (5 pairs: the smallest p is 1/32) */
    assert_int_equal(hb_stats_paired_ratio(pa, pb, 5, 0.95, &est, &lo, &hi), 0);
    assert_float_equal(lo, 0, 0);
    assert_true(isinf(hi));
    const double neg[] = {1, -1};
    assert_int_equal(hb_stats_paired_ratio(pa, neg, 2, 0.95, &est, &lo, &hi), EINVAL);
}

/* Synthetic duet data at regress's scale: 60 pairs whose ratios spread by
 * +-10% (a fixed pseudo-random sequence), with a 5% shift and without. The
 * shift is found (p far below 0.05 / 24, the interval above 1), no shift is
 * not (p large, the interval holding 1). Normal approximation (n > 50). */
static void test_paired_synthetic(void **state)
{
    (void)state;
    double a[60], b[60], b0[60];
    uint64_t s = 12345;
    for (int i = 0; i < 60; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0; /* [0, 1) */
        a[i] = 0.05 * (1 + 0.5 * u);                  /* the host's drift: both sides alike */
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double e = 0.2 * ((double)(s >> 11) / 9007199254740992.0 - 0.5); /* +-10% of one pair */
        b0[i] = a[i] * exp(e);
        b[i] = b0[i] * 1.05;
    }
    double d[60], est, lo, hi;
    hb_wsr w;
    logratios(a, b, 60, d);
    assert_int_equal(hb_stats_signed_rank(d, 60, HB_GREATER, &w), 0);
    assert_false(w.exact);
    assert_true(w.p < 0.05 / 24 / 10);
    assert_int_equal(hb_stats_paired_ratio(a, b, 60, 0.95, &est, &lo, &hi), 0);
    assert_true(lo > 1 && est > 1.02 && est < 1.08);
    logratios(a, b0, 60, d);
    assert_int_equal(hb_stats_signed_rank(d, 60, HB_GREATER, &w), 0);
    assert_true(w.p > 0.05);
    assert_int_equal(hb_stats_paired_ratio(a, b0, 60, 0.95, &est, &lo, &hi), 0);
    assert_true(lo < 1 && hi > 1);
}

static void test_holm(void **state)
{
    (void)state;
    double p[] = {0.01, 0.04, 0.03, 0.005}, adj[4];
    assert_int_equal(hb_stats_holm(p, 4, adj), 0);
    near(adj[0], 0.03, 1e-12);
    near(adj[1], 0.06, 1e-12);
    near(adj[2], 0.06, 1e-12);
    near(adj[3], 0.02, 1e-12);
    double q[] = {0.5, 0.9}; /* capped at 1, in place */
    assert_int_equal(hb_stats_holm(q, 2, q), 0);
    near(q[0], 1, 0);
    near(q[1], 1, 0);
    double bad[] = {1.5};
    assert_int_equal(hb_stats_holm(bad, 1, adj), EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median), cmocka_unit_test(test_median_interval),   cmocka_unit_test(test_cv_geomean), cmocka_unit_test(test_mwu_exact),
        cmocka_unit_test(test_mwu_normal), cmocka_unit_test(test_min_p),    cmocka_unit_test(test_hl_ratio),
        cmocka_unit_test(test_holm),       cmocka_unit_test(test_signed_rank), cmocka_unit_test(test_paired_ratio),
        cmocka_unit_test(test_paired_synthetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
