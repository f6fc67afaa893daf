/* test_metrics.c -- pause statistics and MMU (harness/metrics.h) against
 * brute force: MMU(w) by sliding a window in 1 us steps over random pause
 * sets, nearest-rank percentiles by sorting; the largest automatic pause
 * over the automatic ones only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/metrics.h"

/* Paused ns in [a, b) by walking every pause. */
static uint64_t paused(const hb_pause *ev, size_t n, uint64_t a, uint64_t b)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = ev[i].start_ns, e = s + ev[i].duration_ns;
        if (e > a && s < b)
            sum += (e < b ? e : b) - (s > a ? s : a);
    }
    return sum;
}

static void test_mmu_brute_force(void **state)
{
    (void)state;
    uint64_t seed = 1;
    for (int trial = 0; trial < 200; trial++) {
        hb_pause ev[40];
        size_t n = 0;
        uint64_t t = 1000000 + (seed % 1000) * 1000, t0 = 1000000;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int k = 1 + (int)((seed >> 33) % 39);
        for (int i = 0; i < k; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            t += 1000 * ((seed >> 40) % 3000);           /* gap up to 3 ms */
            uint64_t d = 1000 * (1 + (seed >> 20) % 2000); /* pause up to 2 ms */
            ev[n++] = (hb_pause){.start_ns = t, .duration_ns = d};
            t += d;
        }
        uint64_t t1 = t + 1000 * (seed % 5000);
        uint64_t ws[] = {1000000, 3000000, 10000000};
        for (int w = 0; w < 3; w++) {
            double got = hb_mmu(ev, n, t0, t1, ws[w]);
            if (t1 - t0 < ws[w]) {
                assert_true(got < 0);
                continue;
            }
            uint64_t worst = 0;
            for (uint64_t a = t0; a + ws[w] <= t1; a += 1000) { /* 1 us steps: pauses are whole us */
                uint64_t p = paused(ev, n, a, a + ws[w]);
                if (p > worst)
                    worst = p;
            }
            double want = 1.0 - (double)worst / (double)ws[w];
            if (fabs(got - want) > 1e-9)
                fail_msg("trial %d w %llu: mmu %.6f, brute force %.6f", trial, (unsigned long long)ws[w], got, want);
        }
    }
}

static void test_pause_stats(void **state)
{
    (void)state;
    hb_pause ev[1000];
    for (int i = 0; i < 1000; i++) /* durations 1..1000 us, two threads */
        ev[i] = (hb_pause){.start_ns = 1000000ULL * (uint64_t)i, .duration_ns = 1000ULL * (uint64_t)(1000 - i),
                           .thread = i % 2};
    hb_pause_stats st;
    hb_pause_stats_compute(ev, 1000, 0, 2000000000ULL, &st);
    assert_int_equal(st.count, 1000);
    assert_true(fabs(st.total_ms - 500.5) < 1e-9);
    assert_true(fabs(st.p50_us - 500) < 1e-9 && fabs(st.p90_us - 900) < 1e-9);
    assert_true(fabs(st.p99_us - 990) < 1e-9 && fabs(st.p999_us - 999) < 1e-9 && fabs(st.max_us - 1000) < 1e-9);
    /* thread 0 has the 1000 us pause at t=0: a 1 ms window there is all pause */
    assert_true(st.mmu[0] < 1e-9);
    for (int k = 0; k < 3; k++)
        assert_true(st.mmu[k] >= 0 && st.mmu[k] <= 1);
    /* no pause at all: utilisation 1; a run shorter than the window: unknown */
    hb_pause_stats none;
    hb_pause_stats_compute(NULL, 0, 0, 50000000ULL, &none);
    assert_int_equal(none.count, 0);
    assert_true(none.mmu[0] == 1.0 && none.mmu[1] == 1.0 && none.mmu[2] < 0);
}

/* max_auto_us: the largest pause with is_explicit 0, whatever the explicit
 * ones (hb_collect's) are; none (< 0) when every pause was explicit. Every
 * other figure stays over all pauses. */
static void test_pause_max_auto(void **state)
{
    (void)state;
    hb_pause ev[6];
    const uint64_t us[6] = {30, 900, 70, 50, 2000, 10};
    const int32_t ex[6] = {0, 1, 0, 0, 1, 0};
    for (int i = 0; i < 6; i++)
        ev[i] = (hb_pause){.start_ns = 10000000ULL * (uint64_t)i, .duration_ns = 1000 * us[i],
                           .is_explicit = ex[i]};
    hb_pause_stats st;
    hb_pause_stats_compute(ev, 6, 0, 100000000ULL, &st);
    assert_true(fabs(st.max_auto_us - 70) < 1e-9);
    assert_true(fabs(st.max_us - 2000) < 1e-9 && fabs(st.p50_us - 50) < 1e-9);
    assert_true(fabs(st.total_ms - 3.06) < 1e-9);
    /* the largest automatic pause last, and in the middle: order does not matter */
    ev[5].duration_ns = 1000 * 800;
    hb_pause_stats_compute(ev, 6, 0, 100000000ULL, &st);
    assert_true(fabs(st.max_auto_us - 800) < 1e-9);
    /* only explicit pauses: no automatic one, and max_us still the largest */
    for (int i = 0; i < 6; i++)
        ev[i].is_explicit = 1;
    hb_pause_stats_compute(ev, 6, 0, 100000000ULL, &st);
    assert_true(st.max_auto_us < 0 && fabs(st.max_us - 2000) < 1e-9);
    /* no pause at all: none either */
    hb_pause_stats_compute(NULL, 0, 0, 100000000ULL, &st);
    assert_true(st.max_auto_us < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmu_brute_force),
        cmocka_unit_test(test_pause_stats),
        cmocka_unit_test(test_pause_max_auto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
