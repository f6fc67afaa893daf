/* test_latency.c -- the latency histogram and sampler (workloads/latency.h):
 * bucket bounds cover every value with under 1/128 relative width, nearest-
 * rank percentiles agree with an exact sort within that error, and the
 * sampler times about one operation in `every`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/latency.h"

static void test_buckets_cover_and_are_narrow(void **state)
{
    (void)state;
    uint64_t vals[] = {0, 1, 2, 127, 255, 256, 257, 511, 512, 1000, 4095, 4096, 123456789,
                       (uint64_t)1 << 40, ((uint64_t)1 << 63) + 12345, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        unsigned idx = hb_hist_index(vals[i]);
        assert_true(idx < HB_HIST_BUCKETS);
        uint64_t lo, hi;
        hb_hist_bounds(idx, &lo, &hi);
        if (vals[i] < lo || vals[i] > hi)
            fail_msg("%llu not in its bucket [%llu, %llu]", (unsigned long long)vals[i],
                     (unsigned long long)lo, (unsigned long long)hi);
        if (lo >= 256)
            assert_true((double)(hi - lo + 1) / (double)lo <= 1.0 / 128 + 1e-12);
        else
            assert_int_equal(lo, hi); /* exact below 256 */
    }
    /* consecutive buckets tile the line with no gap or overlap */
    for (unsigned i = 1; i < HB_HIST_BUCKETS; i++) {
        uint64_t lo0, hi0, lo1, hi1;
        hb_hist_bounds(i - 1, &lo0, &hi0);
        hb_hist_bounds(i, &lo1, &hi1);
        assert_true(hi0 + 1 == lo1);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_percentiles_match_exact(void **state)
{
    (void)state;
    enum { N = 100000 };
    static uint64_t v[N];
    static hb_hist h;
    memset(&h, 0, sizeof h);
    uint64_t s = 42;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        /* a long-tailed distribution: mostly ~100 ns, some up to ms */
        double u = (double)(s >> 11) / 9007199254740992.0;
        v[i] = (uint64_t)(50 + 20 / pow(1 - u * 0.99999, 1.3));
        hb_hist_add(&h, v[i]);
    }
    qsort(v, N, sizeof v[0], cmp_u64);
    double ps[] = {50, 90, 99, 99.9, 100};
    for (size_t k = 0; k < 5; k++) {
        size_t rank = (size_t)ceil(ps[k] / 100 * N);
        uint64_t exact = v[rank - 1], got = hb_hist_percentile(&h, ps[k]);
        double err = fabs((double)got - (double)exact) / (double)exact;
        if (err > 0.01)
            fail_msg("p%g: histogram %llu, exact %llu (%.2f%%)", ps[k], (unsigned long long)got,
                     (unsigned long long)exact, err * 100);
    }
    assert_int_equal(h.max, v[N - 1]);
    assert_int_equal(hb_hist_percentile(&h, 100), v[N - 1]);
    hb_hist empty = {0};
    assert_int_equal(hb_hist_percentile(&empty, 99), 0);
}

static void test_sampler_rate(void **state)
{
    (void)state;
    static hb_hist h;
    memset(&h, 0, sizeof h);
    hb_lat l;
    hb_lat_init(&l, &h, 256, 7);
    for (int i = 0; i < 1000000; i++) {
        hb_op_begin(&l);
        hb_op_end(&l);
    }
    /* 10^6 / 256 = 3906, random gaps: within 10% */
    assert_true(h.count > 3500 && h.count < 4300);
    /* off: nothing timed, ever */
    static hb_hist h2;
    memset(&h2, 0, sizeof h2);
    hb_lat_init(&l, &h2, 0, 7);
    for (int i = 0; i < 100000; i++) {
        hb_op_begin(&l);
        hb_op_end(&l);
    }
    assert_int_equal(h2.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_cover_and_are_narrow),
        cmocka_unit_test(test_percentiles_match_exact),
        cmocka_unit_test(test_sampler_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
