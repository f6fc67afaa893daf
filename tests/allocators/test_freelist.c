/* test_freelist.c -- what is particular to the freelist backend: class
 * rounding, batches moving between thread caches through the central lists,
 * a dying thread's cache being flushed, spans given back to the OS, and the
 * live-bytes counters summed over thread caches. The contract every backend
 * meets is tested elsewhere. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allocators/allocator.h"
#include "allocators/os.h"
#include "size_classes.h"

extern const hb_allocator hb_freelist_allocator;
#define FL (&hb_freelist_allocator)

/* Mirrors of freelist.c's tuning, which these tests rely on: a batch is
 * min(64, 16 KiB / class size) blocks and a cache overflows at two. */
#define BATCH_64 64   /* 64-byte class */
#define BATCH_128 64  /* 128-byte class */
#define BATCH_1K 16   /* 1024-byte class */

static int setup(void **state)
{
    return FL->init(state, NULL);
}

static int teardown(void **state)
{
    FL->destroy(*state);
    return 0;
}

static hb_alloc_stats stats_of(void *h)
{
    hb_alloc_stats s;
    assert_int_equal(FL->stats(h, &s), 0);
    assert_int_equal(s.have, HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED);
    return s;
}

static bool in_set(void *const *set, size_t n, const void *p)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == p)
            return true;
    return false;
}

/* ---- class rounding ---- */

static void test_class_rounding(void **state)
{
    void *h = *state;
    static const struct {
        size_t ask, usable;
    } cases[] = {
        {0, 16},      {1, 16},      {16, 16},     {17, 32},     {500, 512},   {512, 512},
        {513, 576},   {640, 640},   {641, 704},   {1000, 1024}, {1025, 1152}, {3000, 3072},
        {4097, 4608}, {20000, 20480}, {32768, 32768},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = FL->alloc(h, cases[i].ask);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        assert_int_equal(FL->usable_size(h, p), cases[i].usable);
        memset(p, 0xa5, cases[i].usable);
        FL->free(h, p, cases[i].ask);
    }
    /* Past the classes: a mapping of its own, usable at least as asked. */
    void *big = FL->alloc(h, 32769);
    assert_non_null(big);
    assert_true(FL->usable_size(h, big) >= 32769);
    FL->free(h, big, 32769);
}

/* The class of every size comes from a table (16 B steps); it must agree
 * with the rule everywhere. */
static void test_every_size_class(void **state)
{
    check_every_size_class(FL, *state);
}

static void test_aligned_uses_class_multiple(void **state)
{
    void *h = *state;
    /* 100 B at 64: the smallest class that is a multiple of 64 is 128. */
    void *p = FL->alloc_aligned(h, 64, 100);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    assert_int_equal(FL->usable_size(h, p), 128);
    /* 3000 B at 2048: 3072 and 3584 are not multiples of 2048, 4096 is. */
    void *q = FL->alloc_aligned(h, 2048, 3000);
    assert_non_null(q);
    assert_int_equal((uintptr_t)q % 2048, 0);
    assert_int_equal(FL->usable_size(h, q), 4096);
    /* Above a page: the large path, and a sized free must still find it. */
    void *r = FL->alloc_aligned(h, 1 << 20, 100);
    assert_non_null(r);
    assert_int_equal((uintptr_t)r % (1 << 20), 0);
    FL->free(h, p, 100);
    FL->free(h, q, 3000);
    FL->free(h, r, 100);
    /* Sized frees of ordinary blocks keep working after that. */
    void *s = FL->alloc(h, 40);
    FL->free(h, s, 40);
}

static void test_realloc_in_place_within_class(void **state)
{
    void *h = *state;
    char *p = FL->alloc(h, 20); /* class 32 */
    assert_non_null(p);
    memcpy(p, "0123456789abcdefghi", 20);
    assert_ptr_equal(FL->realloc(h, p, 20, 32), p);
    assert_ptr_equal(FL->realloc(h, p, 32, 0), p);
    char *q = FL->realloc(h, p, 20, 33);
    assert_non_null(q);
    assert_ptr_not_equal(q, p);
    assert_memory_equal(q, "0123456789abcdefghi", 20);
    assert_int_equal(FL->usable_size(h, q), 48);
    /* A large block shrinking into the classes moves there. */
    char *big = FL->alloc(h, 100000);
    assert_non_null(big);
    big[0] = 7;
    char *small = FL->realloc(h, big, 100000, 1000);
    assert_non_null(small);
    assert_int_equal(small[0], 7);
    assert_int_equal(FL->usable_size(h, small), 1024);
    FL->free(h, small, 1000);
    FL->free(h, q, 33);
}

/* ---- batches through the central lists ---- */

typedef struct xfer {
    void *h;
    size_t size, n;
    void **set;
    pthread_barrier_t freed, taken;
} xfer;

/* Allocates n blocks, frees them all, then stays alive (its cache intact)
 * until the other thread has taken what it needs. */
static void *free_many(void *arg)
{
    xfer *x = arg;
    assert_int_equal(FL->thread_attach(x->h), 0);
    for (size_t i = 0; i < x->n; i++) {
        x->set[i] = FL->alloc(x->h, x->size);
        if (!x->set[i])
            abort();
    }
    for (size_t i = 0; i < x->n; i++)
        FL->free(x->h, x->set[i], x->size);
    pthread_barrier_wait(&x->freed);
    pthread_barrier_wait(&x->taken);
    FL->thread_detach(x->h);
    return NULL;
}

static void test_batches_move_between_threads(void **state)
{
    void *h = *state;
    xfer x = {.h = h, .size = 64, .n = 8 * BATCH_64};
    x.set = calloc(x.n, sizeof(void *));
    pthread_barrier_init(&x.freed, NULL, 2);
    pthread_barrier_init(&x.taken, NULL, 2);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_many, &x), 0);
    pthread_barrier_wait(&x.freed);
    /* The freeing thread keeps at most two batches; the other six went to
     * the central list, where this thread's first refills must find them
     * rather than carving new blocks. */
    size_t want = 4 * BATCH_64;
    void **got = calloc(want, sizeof(void *));
    for (size_t i = 0; i < want; i++) {
        got[i] = FL->alloc(h, 64);
        assert_non_null(got[i]);
        assert_true(in_set(x.set, x.n, got[i]));
    }
    pthread_barrier_wait(&x.taken);
    pthread_join(t, NULL);
    for (size_t i = 0; i < want; i++)
        FL->free(h, got[i], 64);
    free(got);
    free(x.set);
    pthread_barrier_destroy(&x.freed);
    pthread_barrier_destroy(&x.taken);
}

/* ---- a new cache starts small (bin_refill's slow start) ---- */

static void *alloc_one(void *arg)
{
    void **io = arg; /* in: the instance; out: the block */
    void *h = io[0];
    io[0] = FL->alloc(h, 64);
    return NULL; /* the key destructor flushes the other three */
}

/* A new thread cache gathers 4 blocks of a class, then 8, 16, ... up to
 * the batch: a thread that makes a few blocks and exits took a few from
 * the spans, not a batch of 64. Blocks are carved in ascending order, so
 * how far the next thread's first block lies from this one's tells how
 * many this thread took. */
static void test_refill_slow_start(void **state)
{
    void *h = *state;
    void *mine[5];
    for (int i = 0; i < 5; i++) /* refills of 4, then 8 */
        assert_non_null(mine[i] = FL->alloc(h, 64));
    for (int i = 1; i < 5; i++)
        assert_ptr_equal((char *)mine[i], (char *)mine[0] + 64 * i);
    void *io[1] = {h};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, alloc_one, io), 0);
    pthread_join(t, NULL);
    assert_ptr_equal((char *)io[0], (char *)mine[0] + 64 * 12);
    FL->free(h, io[0], 64);
    for (int i = 0; i < 5; i++)
        FL->free(h, mine[i], 64);
}

/* ---- a thread's cache outlives neither the thread nor a detach ---- */

typedef struct leaver {
    void *h;
    size_t n;
    void **set;
    bool detach;
} leaver;

static void *fill_cache_and_leave(void *arg)
{
    leaver *l = arg;
    for (size_t i = 0; i < l->n; i++)
        if (!(l->set[i] = FL->alloc(l->h, 128)))
            abort();
    for (size_t i = 0; i < l->n; i++)
        FL->free(l->h, l->set[i], 128);
    if (l->detach)
        FL->thread_detach(l->h);
    return NULL; /* otherwise the key destructor flushes */
}

static void check_cache_flushed(void *h, bool detach)
{
    hb_alloc_stats before = stats_of(h);
    /* Fewer blocks than a batch: none of them overflows to the central list
     * while the thread lives; only the flush can get them there. */
    leaver l = {.h = h, .n = BATCH_128 - 24, .detach = detach};
    l.set = calloc(l.n, sizeof(void *));
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fill_cache_and_leave, &l), 0);
    pthread_join(t, NULL);
    assert_int_equal(stats_of(h).live_bytes, before.live_bytes);
    void **got = calloc(l.n, sizeof(void *));
    for (size_t i = 0; i < l.n; i++) {
        got[i] = FL->alloc(h, 128);
        assert_non_null(got[i]);
        assert_true(in_set(l.set, l.n, got[i]));
    }
    for (size_t i = 0; i < l.n; i++)
        FL->free(h, got[i], 128);
    free(got);
    free(l.set);
}

static void test_exit_flushes_cache(void **state)
{
    check_cache_flushed(*state, false);
}

static void test_detach_flushes_cache(void **state)
{
    check_cache_flushed(*state, true);
}

/* A key destructor that runs after the instance's own (higher key index,
 * same pass): the thread has no cache any more and must still allocate. */
static pthread_key_t late_key;

static void late_alloc(void *h)
{
    for (int i = 0; i < 100; i++) {
        char *p = FL->alloc(h, 48);
        if (!p)
            abort();
        memset(p, 1, 48);
        FL->free(h, p, 48);
    }
    char *keep = FL->alloc(h, 300);
    FL->free(h, keep, 0);
}

static void *exit_with_late_destructor(void *h)
{
    FL->free(h, FL->alloc(h, 48), 48);
    pthread_setspecific(late_key, h);
    return NULL;
}

static void test_alloc_while_exiting(void **state)
{
    void *h = *state;
    hb_alloc_stats before = stats_of(h);
    assert_int_equal(pthread_key_create(&late_key, late_alloc), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, exit_with_late_destructor, h), 0);
    pthread_join(t, NULL);
    pthread_key_delete(late_key);
    assert_int_equal(stats_of(h).live_bytes, before.live_bytes);
}

/* ---- memory given back ---- */

static void test_free_spans_are_decommitted(void **state)
{
    void *h = *state;
    enum { N = 8192 }; /* 8 MiB of 1 KiB blocks: 128 spans */
    void **p = calloc(N, sizeof(void *));
    hb_alloc_stats base = stats_of(h);
    for (size_t i = 0; i < N; i++) {
        p[i] = FL->alloc(h, 1024);
        assert_non_null(p[i]);
        memset(p[i], 0x5a, 1024);
    }
    hb_alloc_stats full = stats_of(h);
    assert_int_equal(full.live_bytes - base.live_bytes, (uint64_t)N * 1024);
    assert_true(full.os_bytes >= base.os_bytes + (uint64_t)N * 1024);
    for (size_t i = 0; i < N; i++)
        FL->free(h, p[i], 1024);
    hb_alloc_stats empty = stats_of(h);
    assert_int_equal(empty.live_bytes, base.live_bytes);
    /* Free spans stay committed until idle for HB_DECAY_MS... */
    assert_int_equal(empty.released_bytes, full.released_bytes);
    assert_int_equal(empty.os_bytes, full.os_bytes);
    struct timespec ts = {(HB_DECAY_MS + 100) / 1000, ((HB_DECAY_MS + 100) % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    /* ...and then the next span taken (a class not used yet) gives back
     * all but what the cache (2 batches), the transfer stack (256 KiB) and
     * partial spans hold. */
    void *other = FL->alloc(h, 24000);
    assert_non_null(other);
    FL->free(h, other, 24000);
    empty = stats_of(h);
    uint64_t kept = 2 * BATCH_1K * 1024 + 262144 + 3 * 65536 /* partial spans */;
    assert_true(empty.released_bytes - full.released_bytes >= (uint64_t)N * 1024 - kept);
    assert_true(full.os_bytes - empty.os_bytes >= (uint64_t)N * 1024 - kept);
    /* The decommitted spans come back, zero-filled and usable. */
    for (size_t i = 0; i < N; i++) {
        p[i] = FL->alloc(h, 1000);
        assert_non_null(p[i]);
        memset(p[i], 0x3c, 1000);
    }
    hb_alloc_stats again = stats_of(h);
    assert_true(again.os_bytes >= empty.os_bytes + (uint64_t)N * 1024 - kept);
    assert_int_equal(again.released_bytes, empty.released_bytes);
    for (size_t i = 0; i < N; i++)
        FL->free(h, p[i], 0);
    free(p);
}

/* With one thread cache in the instance, the transfer stacks of all
 * classes hold at most 2 MiB (FL_XFER_ONE) where each class's stack held
 * up to 256 KiB: one thread that frees 1 MiB in each of 32 classes leaves
 * its spans free (given back after HB_DECAY_MS) but for that, its cache
 * and a partial span a class. Without the bound the stacks pinned 8 MiB. */
static void test_one_thread_stacks_bounded(void **state)
{
    void *h = *state;
    enum { NCLS = 32, PER = 1 << 20 };
    static void *p[NCLS][PER / 576 + 1];
    size_t size[NCLS], n[NCLS];
    for (int c = 0; c < NCLS; c++) {
        size[c] = (size_t)(9 + c % 8) << (6 + c / 8); /* 576 .. 8192: medium classes */
        n[c] = PER / size[c];
    }
    hb_alloc_stats base = stats_of(h);
    for (int c = 0; c < NCLS; c++)
        for (size_t i = 0; i < n[c]; i++) {
            assert_non_null(p[c][i] = FL->alloc(h, size[c]));
            memset(p[c][i], 0x11, size[c]);
        }
    hb_alloc_stats full = stats_of(h);
    for (int c = 0; c < NCLS; c++)
        for (size_t i = 0; i < n[c]; i++)
            FL->free(h, p[c][i], size[c]);
    struct timespec ts = {(HB_DECAY_MS + 100) / 1000, ((HB_DECAY_MS + 100) % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    void *other = FL->alloc(h, 24000); /* a span taken: the idle ones go back */
    assert_non_null(other);
    FL->free(h, other, 24000);
    hb_alloc_stats after = stats_of(h);
    assert_int_equal(after.live_bytes, base.live_bytes);
    uint64_t kept = full.os_bytes - (after.released_bytes - full.released_bytes) - base.os_bytes;
    /* 2 MiB of stacks, each class's cache (2 batches of 16 KiB) and the
     * spans their blocks and the partial ones pin: 7.0 MiB measured, 13.5
     * without the bound */
    assert_true(kept <= (uint64_t)10 << 20);
}

/* ---- live bytes summed over caches ---- */

typedef struct remote {
    void *h;
    void **blocks;
    size_t n;
} remote;

static void *free_remote(void *arg)
{
    remote *r = arg;
    for (size_t i = 0; i < r->n; i++)
        FL->free(r->h, r->blocks[i], 0);
    return NULL; /* exits with a cache whose count is negative */
}

static void test_live_bytes_consistent(void **state)
{
    void *h = *state;
    hb_alloc_stats base = stats_of(h);
    static const size_t sizes[] = {1, 16, 100, 512, 700, 5000, 32768, 40000, 1 << 20};
    enum { NS = sizeof sizes / sizeof sizes[0], ROUNDS = 50 };
    void *blocks[NS * ROUNDS];
    uint64_t sum = 0;
    for (size_t r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < NS; i++) {
            void *p = FL->alloc(h, sizes[i]);
            assert_non_null(p);
            sum += FL->usable_size(h, p);
            blocks[r * NS + i] = p;
        }
    }
    void *a = FL->alloc_aligned(h, 256, 300);
    sum += FL->usable_size(h, a);
    assert_int_equal(stats_of(h).live_bytes - base.live_bytes, sum);
    /* Half freed by another thread, which then exits. */
    remote rm = {h, blocks, NS * ROUNDS / 2};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_remote, &rm), 0);
    pthread_join(t, NULL);
    for (size_t i = NS * ROUNDS / 2; i < NS * ROUNDS; i++)
        FL->free(h, blocks[i], sizes[i % NS]);
    FL->free(h, a, 300);
    assert_int_equal(stats_of(h).live_bytes, base.live_bytes);
}

static void test_instances_are_separate(void **state)
{
    void *h = *state, *g;
    assert_int_equal(FL->init(&g, NULL), 0);
    hb_alloc_stats hs = stats_of(h), gs = stats_of(g);
    /* Alternating on one thread switches the cached TLS instance each call. */
    void *ph[64], *pg[64];
    for (int i = 0; i < 64; i++) {
        ph[i] = FL->alloc(h, 64);
        pg[i] = FL->alloc(g, 64);
        assert_non_null(ph[i]);
        assert_non_null(pg[i]);
    }
    assert_int_equal(stats_of(h).live_bytes - hs.live_bytes, 64 * 64);
    assert_int_equal(stats_of(g).live_bytes - gs.live_bytes, 64 * 64);
    for (int i = 0; i < 64; i++) {
        FL->free(h, ph[i], 64);
        FL->free(g, pg[i], 64);
    }
    assert_int_equal(stats_of(h).live_bytes, hs.live_bytes);
    /* Destroyed with blocks live: small and large go with it. */
    void *keep = FL->alloc(g, 100), *big = FL->alloc(g, 1 << 20);
    assert_non_null(keep);
    assert_non_null(big);
    FL->destroy(g);
}

/* A thread that used an instance, which is then destroyed and a new one made
 * (often at the same address), must not take its stale TLS entry for a
 * cache of the new one. */
typedef struct stale {
    void **h;
    pthread_barrier_t used, remade;
} stale;

static void *use_twice(void *arg)
{
    stale *s = arg;
    FL->free(*s->h, FL->alloc(*s->h, 64), 64);
    pthread_barrier_wait(&s->used);
    pthread_barrier_wait(&s->remade);
    for (int i = 0; i < 1000; i++) {
        char *p = FL->alloc(*s->h, 64);
        if (!p)
            abort();
        memset(p, 1, 64);
        FL->free(*s->h, p, 64);
    }
    FL->thread_detach(*s->h);
    return NULL;
}

static void test_stale_thread_cache_not_reused(void **state)
{
    (void)state;
    void *g;
    stale s = {.h = &g};
    pthread_barrier_init(&s.used, NULL, 2);
    pthread_barrier_init(&s.remade, NULL, 2);
    assert_int_equal(FL->init(&g, NULL), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, use_twice, &s), 0);
    pthread_barrier_wait(&s.used);
    FL->destroy(g);
    assert_int_equal(FL->init(&g, NULL), 0);
    pthread_barrier_wait(&s.remade);
    pthread_join(t, NULL);
    assert_int_equal(stats_of(g).live_bytes, 0);
    FL->destroy(g);
    pthread_barrier_destroy(&s.used);
    pthread_barrier_destroy(&s.remade);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_class_rounding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aligned_uses_class_multiple, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realloc_in_place_within_class, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_size_class, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_move_between_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refill_slow_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_flushes_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach_flushes_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_while_exiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_spans_are_decommitted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_thread_stacks_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_bytes_consistent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instances_are_separate, setup, teardown),
        cmocka_unit_test(test_stale_thread_cache_not_reused),
    };
    return cmocka_run_group_tests_name("freelist", tests, NULL, NULL);
}
