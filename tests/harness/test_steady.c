/* Unit tests of harness/steady.c, `run --steady`'s host probe: a quiet host
 * reads near 1, cores shared with busy threads read slow (they stand in for
 * the other tenant of a host's slow spell), and the reading comes back once
 * they stop; the runner's wait and retake rules at their limits. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "harness/steady.h"

static void test_rules(void **state)
{
    (void)state;
    assert_true(hb_steady_wait(HB_STEADY_LIMIT + 0.01, 0));
    assert_true(hb_steady_wait(2.0, HB_STEADY_WAIT_S - HB_STEADY_POLL_S));
    assert_false(hb_steady_wait(2.0, HB_STEADY_WAIT_S)); /* waited long enough: run anyway */
    assert_false(hb_steady_wait(HB_STEADY_LIMIT, 0));
    assert_false(hb_steady_wait(1.0, 0));
    assert_true(hb_steady_retake(HB_STEADY_LIMIT + 0.01, 0));
    assert_true(hb_steady_retake(2.0, HB_STEADY_RETAKES - 1));
    assert_false(hb_steady_retake(2.0, HB_STEADY_RETAKES)); /* the last run is kept */
    assert_false(hb_steady_retake(HB_STEADY_LIMIT, 0));
}

static atomic_int hogs_stop;

static void *hog(void *arg)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)(intptr_t)arg, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    volatile unsigned x = 0;
    while (!atomic_load_explicit(&hogs_stop, memory_order_relaxed))
        x++;
    return NULL;
}

#define HOGS_PER_CORE 3
#define MAX_HOGS 64

static void test_probe(void **state)
{
    (void)state;
    hb_host *h = hb_host_open();
    assert_non_null(h);
    /* the baseline, then a quiet reading: near 1 (a spell of the host's
     * own may read higher; the loosest bound that still says "a number") */
    for (int i = 0; i < 4; i++) {
        double r = hb_host_probe(h);
        assert_true(isfinite(r) && r >= 1.0 && r < 20.0);
    }
    /* busy threads on every core: the probe's threads get a share of
     * each, so it takes about HOGS_PER_CORE + 1 times as long */
    cpu_set_t set;
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    pthread_t tid[MAX_HOGS];
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n + HOGS_PER_CORE <= MAX_HOGS; c++)
        if (CPU_ISSET(c, &set))
            for (int k = 0; k < HOGS_PER_CORE; k++)
                assert_int_equal(pthread_create(&tid[n++], NULL, hog, (void *)(intptr_t)c), 0);
    double busy = 0;
    for (int i = 0; i < 3; i++) {
        double r = hb_host_probe(h);
        busy = r > busy ? r : busy;
    }
    atomic_store(&hogs_stop, 1);
    for (int i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    if (!(busy > HB_STEADY_LIMIT))
        fail_msg("cores shared with %d busy threads each read %.3f, not above %.2f", HOGS_PER_CORE, busy,
                 HB_STEADY_LIMIT);
    /* quiet again: a reading at or below the limit comes within seconds */
    double quiet = 1e9;
    for (int i = 0; i < 100 && quiet > HB_STEADY_LIMIT; i++) {
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
        double r = hb_host_probe(h);
        quiet = r < quiet ? r : quiet;
    }
    if (!(quiet <= HB_STEADY_LIMIT))
        fail_msg("after the busy threads stopped, the best of 100 readings is %.3f", quiet);
    hb_host_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
