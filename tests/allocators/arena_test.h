/* arena_test.h -- what test_arena.c and test_arena_threads.c share: the
 * backend, its region tags, instances with the options the tests use,
 * exact statistics, a sleep. */
#ifndef HB_TEST_ARENA_H
#define HB_TEST_ARENA_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <string.h>
#include <sys/mman.h>

#include "allocators/allocator.h"
#include "allocators/os.h"

extern const hb_allocator hb_arena_allocator;
static const hb_allocator *const A = &hb_arena_allocator;

#define ARENA_TAG 1
#define MED_TAG 3 /* medium arenas (arena.c) */
#define MIB ((uint64_t)1 << 20)
#define ARENA_OF(p) ((uintptr_t)(p) >> 20)
#define POOL_BYTES ((uint64_t)16384)

static inline int setup(void **state)
{
    return A->init(state, NULL);
}

/* obmalloc's pools alone, without the last-freed stacks in front (whose
 * blocks stay counted out of their pools): the tests of its pool and arena
 * policy. */
static inline int setup_pools(void **state)
{
    return A->init(state, "cache=0");
}

/* With the foreign caches on, 64 KiB a class (given explicitly; the default is 32). */
static inline int setup_foreign(void **state)
{
    return A->init(state, "foreign=65536");
}

static inline int teardown(void **state)
{
    A->destroy(*state);
    return 0;
}

static inline hb_alloc_stats stats_of(void *s)
{
    hb_alloc_stats st;
    assert_int_equal(A->stats(s, &st), 0);
    assert_int_equal(st.have, HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED);
    return st;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TF(f) cmocka_unit_test_setup_teardown(f, setup_foreign, teardown)
#define TP(f) cmocka_unit_test_setup_teardown(f, setup_pools, teardown)

#endif
