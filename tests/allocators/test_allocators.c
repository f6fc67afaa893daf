/* test_allocators.c -- the allocator contract (allocator.h), checked on every
 * backend in the registry: edge sizes, alignment, realloc, cross-thread
 * frees, and the statistics each backend claims to have. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocators/allocator.h"

static const hb_allocator *A;
static void *S;

static int setup_backend(void **state)
{
    A = *state;
    return A->init(&S, NULL);
}

static int teardown_backend(void **state)
{
    (void)state;
    A->destroy(S);
    return 0;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static void verify(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            fail_msg("%s: byte %zu of %zu corrupted", A->name, i, n);
}

static void test_edge_sizes(void **state)
{
    (void)state;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t sizes[] = {0, 1, 15, 16, 17, 511, 512, 513, 1024, page - 1, page, page + 1,
                      64 * 1024, 1 << 20, (1 << 20) + 1, 16u << 20};
    void *blocks[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        blocks[i] = A->alloc(S, sizes[i]);
        assert_non_null(blocks[i]);
        assert_int_equal((uintptr_t)blocks[i] % 16, 0);
        assert_true(A->usable_size(S, blocks[i]) >= sizes[i]);
        fill(blocks[i], sizes[i], (unsigned)i);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        verify(blocks[i], sizes[i], (unsigned)i);
        A->free(S, blocks[i], sizes[i]);
    }
    /* Blocks are distinct: two live zero-size blocks differ. */
    void *a = A->alloc(S, 0), *b = A->alloc(S, 0);
    assert_ptr_not_equal(a, b);
    A->free(S, a, 0);
    A->free(S, b, 0);
    A->free(S, NULL, 0);
}

static void test_huge_fails_cleanly(void **state)
{
    (void)state;
    errno = 0;
    void *p = A->alloc(S, SIZE_MAX - 4096);
    assert_null(p);
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    p = A->alloc(S, (size_t)1 << 62);
    assert_null(p);
    assert_int_equal(errno, ENOMEM);
}

static void test_alignment(void **state)
{
    (void)state;
    for (size_t align = 16; align <= (1u << 20); align <<= 1) {
        size_t sizes[] = {1, 48, align, align + 1, 3 * align};
        for (size_t i = 0; i < 5; i++) {
            void *p = A->alloc_aligned(S, align, sizes[i]);
            assert_non_null(p);
            if ((uintptr_t)p % align)
                fail_msg("%s: alloc_aligned(%zu, %zu) gave %p", A->name, align, sizes[i], p);
            fill(p, sizes[i], 3);
            verify(p, sizes[i], 3);
            A->free(S, p, 0); /* aligned blocks are freed unsized (allocator.h) */
        }
    }
    /* every plain block of every small size is 16-aligned */
    void *ps[600];
    for (size_t n = 0; n < 600; n++) {
        ps[n] = A->alloc(S, n);
        assert_int_equal((uintptr_t)ps[n] % 16, 0);
    }
    for (size_t n = 0; n < 600; n++)
        A->free(S, ps[n], n);
}

static void test_realloc_contract(void **state)
{
    (void)state;
    size_t steps[] = {1, 16, 100, 512, 513, 4000, 70000, 3000000, 200, 8, 0, 40};
    unsigned char *p = A->realloc(S, NULL, 0, 10);
    assert_non_null(p);
    fill(p, 10, 9);
    size_t have = 10;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        unsigned char *q = A->realloc(S, p, have, steps[i]);
        assert_non_null(q);
        size_t keep = have < steps[i] ? have : steps[i];
        verify(q, keep, 9);
        fill(q, steps[i], 9);
        p = q;
        have = steps[i];
    }
    A->free(S, p, have);
    /* a failed realloc leaves the block alone */
    p = A->alloc(S, 64);
    fill(p, 64, 5);
    errno = 0;
    assert_null(A->realloc(S, p, 64, (size_t)1 << 62));
    assert_int_equal(errno, ENOMEM);
    verify(p, 64, 5);
    A->free(S, p, 64);
}

/* Blocks allocated here are freed on another thread, and the other way. */
#define XN 20000
static void *xblocks[XN];

static void *free_them(void *arg)
{
    (void)arg;
    A->thread_attach(S);
    for (int i = 0; i < XN; i++) {
        verify(xblocks[i], 16 + (size_t)(i % 500), (unsigned)i);
        A->free(S, xblocks[i], 16 + (size_t)(i % 500));
    }
    for (int i = 0; i < XN; i++) {
        xblocks[i] = A->alloc(S, 16 + (size_t)(i % 500));
        fill(xblocks[i], 16 + (size_t)(i % 500), (unsigned)i + 1);
    }
    A->thread_detach(S);
    return NULL;
}

static void test_cross_thread(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < XN; i++) {
            xblocks[i] = A->alloc(S, 16 + (size_t)(i % 500));
            assert_non_null(xblocks[i]);
            fill(xblocks[i], 16 + (size_t)(i % 500), (unsigned)i);
        }
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, free_them, NULL), 0);
        pthread_join(t, NULL);
        /* the other thread has exited: its blocks must still be valid */
        for (int i = 0; i < XN; i++) {
            verify(xblocks[i], 16 + (size_t)(i % 500), (unsigned)i + 1);
            A->free(S, xblocks[i], 16 + (size_t)(i % 500));
        }
    }
}

static void test_stats(void **state)
{
    (void)state;
    hb_alloc_stats before, during, after;
    assert_int_equal(A->stats(S, &before), 0);
#ifdef HB_SANITIZER
    if (before.have == 0)
        skip(); /* `system` under a sanitizer's malloc measures nothing */
#endif
    assert_true(before.have & HB_STAT_OS);
    enum { N = 4096 };
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = A->alloc(S, 256);
        memset(p[i], 1, 256);
    }
    assert_int_equal(A->stats(S, &during), 0);
    assert_int_equal(during.have, before.have);
    if (during.have & HB_STAT_LIVE) {
        /* 1 MiB allocated must show, give or take other threads' noise */
        if (during.live_bytes < before.live_bytes + (uint64_t)N * 256 * 9 / 10)
            fail_msg("%s: live_bytes %llu -> %llu after allocating %d x 256 B", A->name,
                     (unsigned long long)before.live_bytes, (unsigned long long)during.live_bytes, N);
    }
    assert_true(during.os_bytes >= (uint64_t)N * 256 * 9 / 10);
    for (int i = 0; i < N; i++)
        A->free(S, p[i], 256);
    assert_int_equal(A->stats(S, &after), 0);
    /* `null` never takes a block back, by design: its live bytes only grow */
    if ((after.have & HB_STAT_LIVE) && strcmp(A->name, "null") != 0)
        assert_true(after.live_bytes < during.live_bytes);
    if (after.have & HB_STAT_RELEASED)
        assert_true(after.released_bytes >= before.released_bytes);
}

int main(void)
{
    const struct CMUnitTest per_backend[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_backend, teardown_backend)
        T(test_edge_sizes),   T(test_huge_fails_cleanly), T(test_alignment),
        T(test_realloc_contract),      T(test_cross_thread),       T(test_stats),
#undef T
    };
    int failed = 0;
    for (size_t b = 0; b < hb_allocator_count; b++) {
        struct CMUnitTest tests[sizeof per_backend / sizeof per_backend[0]];
        for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
            tests[i] = per_backend[i];
            tests[i].initial_state = (void *)hb_allocators[b];
        }
        printf("[ backend  ] %s\n", hb_allocators[b]->name);
        fflush(stdout);
        A = hb_allocators[b];
        failed += _cmocka_run_group_tests(hb_allocators[b]->name, tests, sizeof tests / sizeof tests[0],
                                          NULL, NULL);
    }
    /* the registry itself */
    assert_null(hb_allocator_find("no-such-backend"));
    return failed ? 1 : 0;
}
