/* test_spans.c -- spans.c against a model: random puts, takes (best fit,
 * at an address, the largest) and removes over a page map, with the set
 * checked whole after every step. No memory is touched (spans.c never
 * reads a span's bytes), so the addresses are made up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "allocators/spans.h"

#define PAGE ((size_t)4096)
#define NPAGES 65536
static char *const BASE = (char *)(uintptr_t)0x7f0000000000ULL;

static hb_spans S;
static unsigned char in_set[NPAGES]; /* the model: a page is in the set */
static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t page_of(const char *p)
{
    return (size_t)(p - BASE) / PAGE;
}

/* The model's spans are the maximal runs of pages in the set. */
static size_t run_len(size_t p)
{
    size_t q = p;
    while (q < NPAGES && in_set[q])
        q++;
    return q - p;
}

static void check_whole(void)
{
    unsigned n = 0;
    size_t bytes = 0, pages = 0, runs = 0;
    for (unsigned i = 0; i < HB_SPANS_MAX; i++) {
        if (!S.size[i])
            continue;
        n++;
        bytes += S.size[i];
        size_t p = page_of(S.base[i]), len = S.size[i] / PAGE;
        if (p && in_set[p - 1])
            fail_msg("span %u at page %zu: the page before is cached (not merged)", i, p);
        if (run_len(p) != len)
            fail_msg("span %u at page %zu: %zu pages, the model's run %zu", i, p, len, run_len(p));
    }
    for (size_t p = 0; p < NPAGES; p++) {
        pages += in_set[p];
        runs += in_set[p] && (p == 0 || !in_set[p - 1]);
    }
    assert_int_equal(n, S.n);
    assert_int_equal(n, runs);
    assert_int_equal(bytes, S.bytes);
    assert_int_equal(bytes, pages * PAGE);
}

/* Put a random run of pages that are out of the set; 0 when none found. */
static int put_random(uint64_t now)
{
    for (int tries = 0; tries < 64; tries++) {
        size_t p = next() % NPAGES, len = 1 + next() % 64;
        if (p + len > NPAGES)
            continue;
        size_t q = p;
        while (q < p + len && !in_set[q])
            q++;
        if (q < p + len)
            continue;
        char *base = BASE + p * PAGE;
        size_t size = len * PAGE;
        /* what the merge must give */
        size_t lo = p, hi = p + len;
        while (lo && in_set[lo - 1])
            lo--;
        while (hi < NPAGES && in_set[hi])
            hi++;
        unsigned before = S.n;
        int r = hb_spans_put(&S, &base, &size, now);
        assert_ptr_equal(base, BASE + lo * PAGE);
        assert_int_equal(size, (hi - lo) * PAGE);
        if (r != 0) {
            /* full: nothing merged, nothing added */
            assert_int_equal(before, HB_SPANS_MAX);
            assert_true(lo == p && hi == p + len);
            return 1;
        }
        memset(in_set + p, 1, len);
        return 1;
    }
    return 0;
}

static void take_random(void)
{
    size_t need = (1 + next() % 80) * PAGE, want = need + (next() % 2 ? (next() % 80) * PAGE : 0);
    size_t best = 0; /* the model's smallest run of at least need */
    for (size_t p = 0; p < NPAGES; p++)
        if (in_set[p] && (p == 0 || !in_set[p - 1])) {
            size_t len = run_len(p) * PAGE;
            if (len >= need && (!best || len < best))
                best = len;
        }
    size_t got = 0;
    char *b = hb_spans_take(&S, need, want, &got);
    if (!best) {
        assert_null(b);
        return;
    }
    assert_non_null(b);
    size_t p = page_of(b);
    assert_true(p == 0 || !in_set[p - 1]);
    assert_int_equal(run_len(p) * PAGE, best); /* best fit */
    assert_int_equal(got, best < want ? best : want);
    memset(in_set + p, 0, got / PAGE);
}

static void take_at_random(void)
{
    size_t p = next() % NPAGES, need = (1 + next() % 40) * PAGE, want = need + (next() % 40) * PAGE;
    int starts = in_set[p] && (p == 0 || !in_set[p - 1]);
    size_t len = starts ? run_len(p) * PAGE : 0;
    size_t got = 0;
    char *b = hb_spans_take_at(&S, BASE + p * PAGE, need, want, &got);
    if (!starts || len < need) {
        assert_null(b);
        return;
    }
    assert_ptr_equal(b, BASE + p * PAGE);
    assert_int_equal(got, len < want ? len : want);
    memset(in_set + p, 0, got / PAGE);
}

static void take_largest(void)
{
    size_t best = 0;
    for (size_t p = 0; p < NPAGES; p++)
        if (in_set[p] && (p == 0 || !in_set[p - 1]) && run_len(p) * PAGE > best)
            best = run_len(p) * PAGE;
    size_t size = 0;
    char *b = hb_spans_take_largest(&S, &size);
    if (!best) {
        assert_null(b);
        return;
    }
    assert_int_equal(size, best);
    assert_int_equal(run_len(page_of(b)) * PAGE, best);
    memset(in_set + page_of(b), 0, size / PAGE);
}

static void remove_random(void)
{
    if (!S.n)
        return;
    unsigned i = (unsigned)(next() % HB_SPANS_MAX);
    while (!S.size[i])
        i = (i + 1) % HB_SPANS_MAX;
    memset(in_set + page_of(S.base[i]), 0, S.size[i] / PAGE);
    hb_spans_remove(&S, i);
}

static void reset(void)
{
    hb_spans_init(&S);
    memset(in_set, 0, sizeof in_set);
}

/* Random operations, the set never near full. */
static void test_model(void **state)
{
    (void)state;
    reset();
    for (int step = 0; step < 20000; step++) {
        uint64_t r = next() % 100;
        if (r < 50)
            put_random((uint64_t)step);
        else if (r < 75)
            take_random();
        else if (r < 90)
            take_at_random();
        else if (r < 95)
            take_largest();
        else
            remove_random();
        if (step % 16 == 0 || step > 19900)
            check_whole();
    }
    check_whole();
}

/* Filled to HB_SPANS_MAX with one-page spans a page apart (nothing merges):
 * the next put is refused and handed back; a put between two spans merges
 * them and the third (refused before) then fits. The address tables run
 * at their fullest here, and every span stays findable. */
static void test_full(void **state)
{
    (void)state;
    reset();
    for (size_t k = 0; k < HB_SPANS_MAX; k++) {
        char *base = BASE + 2 * k * PAGE;
        size_t size = PAGE;
        assert_int_equal(hb_spans_put(&S, &base, &size, 1), 0);
        in_set[2 * k] = 1;
    }
    check_whole();
    char *base = BASE + 2 * HB_SPANS_MAX * PAGE;
    size_t size = PAGE;
    assert_int_equal(hb_spans_put(&S, &base, &size, 2), -1);
    assert_ptr_equal(base, BASE + 2 * HB_SPANS_MAX * PAGE);
    /* the gap at page 1 joins pages 0 and 2 into one span of 3 pages */
    char *gap = BASE + PAGE;
    size = PAGE;
    assert_int_equal(hb_spans_put(&S, &gap, &size, 3), 0);
    assert_ptr_equal(gap, BASE);
    assert_int_equal(size, 3 * PAGE);
    in_set[1] = 1;
    check_whole();
    base = BASE + 2 * HB_SPANS_MAX * PAGE;
    size = PAGE;
    assert_int_equal(hb_spans_put(&S, &base, &size, 4), 0);
    in_set[2 * HB_SPANS_MAX] = 1;
    check_whole();
    /* each span found at its address, then all taken */
    for (size_t k = 2; k <= HB_SPANS_MAX; k++) {
        size_t got;
        assert_ptr_equal(hb_spans_take_at(&S, BASE + 2 * k * PAGE, PAGE, PAGE, &got), BASE + 2 * k * PAGE);
        in_set[2 * k] = 0;
        if (k % 64 == 0)
            check_whole();
    }
    check_whole();
    assert_int_equal(S.n, 1);
}

/* Of equal sizes the span put last is taken first (its pages the warmest);
 * a smaller fit in a later position still wins. */
static void test_best_fit_order(void **state)
{
    (void)state;
    reset();
    size_t sizes[] = {8, 5, 5, 6, 40};
    for (size_t k = 0; k < 5; k++) {
        char *base = BASE + k * 100 * PAGE;
        size_t size = sizes[k] * PAGE;
        assert_int_equal(hb_spans_put(&S, &base, &size, k), 0);
    }
    size_t got;
    assert_ptr_equal(hb_spans_take(&S, 5 * PAGE, 5 * PAGE, &got), BASE + 200 * PAGE);
    assert_ptr_equal(hb_spans_take(&S, 5 * PAGE, 5 * PAGE, &got), BASE + 100 * PAGE);
    assert_ptr_equal(hb_spans_take(&S, 5 * PAGE, 5 * PAGE, &got), BASE + 300 * PAGE);
    assert_int_equal(got, 5 * PAGE);
    assert_int_equal(S.size[3], PAGE); /* the rest of the 6-page span stays */
    assert_ptr_equal(hb_spans_take(&S, 9 * PAGE, 9 * PAGE, &got), BASE + 400 * PAGE);
    assert_int_equal(S.bytes, (8 + 1 + 31) * PAGE);
    /* no exact fit: still the last put of the smallest that fits */
    for (size_t k = 5; k < 7; k++) {
        char *base = BASE + k * 100 * PAGE;
        size_t size = 7 * PAGE;
        assert_int_equal(hb_spans_put(&S, &base, &size, k), 0);
    }
    assert_ptr_equal(hb_spans_take(&S, 6 * PAGE, 6 * PAGE, &got), BASE + 600 * PAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_best_fit_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
