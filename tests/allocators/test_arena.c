/* test_arena.c -- what is particular to the arena backend (allocators/arena.c):
 * obmalloc's size classes, arenas given back to the OS, the fullest arena
 * used first, a medium pool freed into reused first, remote frees
 * reclaimed by the owner or kept in the freeing thread's foreign cache,
 * heaps of exited threads adopted or taken over by a successor, an idle
 * owner taking its blocks back, and exact statistics.
 * The contract itself is checked for every backend in test_allocators.c. */
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
#include "size_classes.h"
#include "resident.h"

extern const hb_allocator hb_arena_allocator;
static const hb_allocator *const A = &hb_arena_allocator;

#define ARENA_TAG 1
#define MED_TAG 3 /* medium arenas (arena.c) */
#define MIB ((uint64_t)1 << 20)
#define ARENA_OF(p) ((uintptr_t)(p) >> 20)
#define POOL_BYTES ((uint64_t)16384)

static int setup(void **state)
{
    return A->init(state, NULL);
}

/* obmalloc's pools alone, without the last-freed stacks in front (whose
 * blocks stay counted out of their pools): the tests of its pool and arena
 * policy. */
static int setup_pools(void **state)
{
    return A->init(state, "cache=0");
}

/* With the foreign caches on, 64 KiB a class (given explicitly; the default is 32). */
static int setup_foreign(void **state)
{
    return A->init(state, "foreign=65536");
}

static int teardown(void **state)
{
    A->destroy(*state);
    return 0;
}

static hb_alloc_stats stats_of(void *s)
{
    hb_alloc_stats st;
    assert_int_equal(A->stats(s, &st), 0);
    assert_int_equal(st.have, HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED);
    return st;
}

static void test_size_classes(void **state)
{
    void *s = *state;
    static const struct {
        size_t size, usable;
    } cases[] = {{0, 16},   {1, 16},    {15, 16},   {16, 16},   {17, 32},
                 {31, 32},  {33, 48},   {100, 112}, {511, 512}, {512, 512}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *p = A->alloc(s, cases[i].size);
        assert_non_null(p);
        assert_int_equal(hb_region_tag(p), ARENA_TAG);
        assert_int_equal(A->usable_size(s, p), cases[i].usable);
        A->free(s, p, cases[i].size);
    }
    /* Above 512 B: medium classes, 8 per doubling, in medium arenas. */
    static const struct {
        size_t size, usable;
    } med[] = {{513, 576}, {576, 576}, {577, 640}, {1025, 1152}, {3000, 3072},
               {4097, 4608}, {20000, 20480}, {32767, 32768}, {32768, 32768}};
    for (size_t i = 0; i < sizeof med / sizeof med[0]; i++) {
        unsigned char *p = A->alloc(s, med[i].size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 64, 0);
        assert_int_equal(hb_region_tag(p), MED_TAG);
        assert_int_equal(A->usable_size(s, p), med[i].usable);
        memset(p, 0x5a, med[i].usable);
        A->free(s, p, med[i].size);
    }
    void *big = A->alloc(s, 32769);
    assert_non_null(big);
    assert_int_equal(hb_region_tag(big), 0); /* the large path */
    assert_true(A->usable_size(s, big) >= 32769);
    A->free(s, big, 32769);
}

/* The class of every size comes from a table (16 B steps); it must agree
 * with the rule everywhere. */
static void test_every_size_class(void **state)
{
    check_every_size_class(A, *state);
}

/* The case: 50,000 blocks of 513 B took 202 MB of RSS when each was
 * rounded to pages; in 576 B blocks they need 28.8 MB, plus pool headers. */
static void test_medium_waste(void **state)
{
    void *s = *state;
    enum { N = 50000 };
    static unsigned char *v[N];
    uint64_t os0 = stats_of(s).os_bytes;
    for (int i = 0; i < N; i++) {
        v[i] = A->alloc(s, 513);
        assert_non_null(v[i]);
        memset(v[i], i & 0xff, 513);
    }
    hb_alloc_stats st = stats_of(s);
    assert_int_equal(st.live_bytes, (uint64_t)N * 576);
    assert_true(st.os_bytes - os0 <= (uint64_t)N * 576 * 11 / 10);
    for (int i = 0; i < N; i++) {
        assert_int_equal(v[i][512], i & 0xff);
        A->free(s, v[i], 513);
    }
    assert_int_equal(stats_of(s).live_bytes, 0);
}

static void test_aligned(void **state)
{
    void *s = *state;
    /* Up to 64, a class that is a multiple of the alignment serves it. */
    void *p = A->alloc_aligned(s, 32, 40);
    assert_int_equal((uintptr_t)p % 32, 0);
    assert_int_equal(hb_region_tag(p), ARENA_TAG);
    assert_int_equal(A->usable_size(s, p), 64);
    void *q = A->alloc_aligned(s, 64, 1);
    assert_int_equal((uintptr_t)q % 64, 0);
    assert_int_equal(hb_region_tag(q), ARENA_TAG);
    /* Above that, up to a page, a medium class that is a multiple of it:
     * 128 B at 128 is a 640 B block; 5000 B at 4096 an 8192 B one. */
    void *r = A->alloc_aligned(s, 128, 10);
    assert_int_equal((uintptr_t)r % 128, 0);
    assert_int_equal(hb_region_tag(r), MED_TAG);
    assert_int_equal(A->usable_size(s, r), 640);
    void *pg = A->alloc_aligned(s, 4096, 5000);
    assert_int_equal((uintptr_t)pg % 4096, 0);
    assert_int_equal(A->usable_size(s, pg), 8192);
    A->free(s, pg, 0);
    void *m = A->alloc_aligned(s, (size_t)1 << 20, 100);
    assert_non_null(m);
    assert_int_equal((uintptr_t)m % (1u << 20), 0);
    memset(m, 0x5a, 100);
    /* Many 64-aligned small blocks: every pool keeps the alignment. */
    void *v[3000];
    for (int i = 0; i < 3000; i++) {
        v[i] = A->alloc_aligned(s, 64, 192);
        assert_int_equal((uintptr_t)v[i] % 64, 0);
    }
    for (int i = 0; i < 3000; i++)
        A->free(s, v[i], 192);
    A->free(s, p, 40);
    A->free(s, q, 1);
    A->free(s, r, 10);
    A->free(s, m, 100);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

static void test_realloc_in_place(void **state)
{
    void *s = *state;
    char *p = A->alloc(s, 20);
    memcpy(p, "abcdefghijklmnopqrs", 20);
    assert_ptr_equal(A->realloc(s, p, 20, 32), p); /* same 32 B class */
    assert_ptr_equal(A->realloc(s, p, 32, 17), p);
    char *q = A->realloc(s, p, 17, 33); /* next class: moves */
    assert_ptr_not_equal(q, p);
    assert_string_equal(q, "abcdefghijklmnopqrs");
    char *big = A->realloc(s, q, 33, 10000);
    assert_string_equal(big, "abcdefghijklmnopqrs");
    size_t u = A->usable_size(s, big);
    assert_ptr_equal(A->realloc(s, big, 10000, u), big); /* fits the mapping */
    char *bigger = A->realloc(s, big, u, u + 1);
    assert_ptr_not_equal(bigger, big);
    assert_string_equal(bigger, "abcdefghijklmnopqrs");
    char *small = A->realloc(s, bigger, u + 1, 100); /* back to a class */
    assert_int_equal(hb_region_tag(small), ARENA_TAG);
    assert_string_equal(small, "abcdefghijklmnopqrs");
    A->free(s, small, 100);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

/* Allocate 512 B blocks until `n` arenas are full and one more is begun;
 * arenas fill in order, so block i's arena index is nondecreasing. */
static size_t fill_arenas(void *s, void **v, size_t cap, int n)
{
    size_t k = 0;
    int seen = 0;
    uintptr_t cur = 0;
    while (seen <= n) {
        assert_true(k < cap);
        v[k] = A->alloc(s, 512);
        assert_non_null(v[k]);
        if (ARENA_OF(v[k]) != cur) {
            cur = ARENA_OF(v[k]);
            seen++;
        }
        k++;
    }
    return k;
}

#define CAP 10000

static void test_arena_returned_to_os(void **state)
{
    void *s = *state;
    static void *v[CAP];
    size_t n = fill_arenas(s, v, CAP, 3); /* 3 full + 1 begun */
    hb_alloc_stats full = stats_of(s);
    assert_int_equal(full.os_bytes, 4 * MIB);
    assert_int_equal(full.live_bytes, n * 512);
    assert_int_equal(full.released_bytes, 0);
    for (size_t i = 0; i < n; i++)
        A->free(s, v[i], 512);
    hb_alloc_stats empty = stats_of(s);
    assert_int_equal(empty.live_bytes, 0);
    /* Wholly free arenas stay until idle for HB_DECAY_MS, so the next
     * generation of objects does not refault them. */
    assert_int_equal(empty.os_bytes, 4 * MIB);
    assert_int_equal(empty.released_bytes, 0);
    /* Reuse comes from a kept arena: nothing new is mapped. */
    void *p = A->alloc(s, 64);
    assert_int_equal(stats_of(s).os_bytes, 4 * MIB);
    A->free(s, p, 64);
    assert_int_equal(stats_of(s).released_bytes, 0);
    /* After the delay, the next arena to become free gives back the idle
     * ones (and is kept itself, being freshly free). */
    struct timespec ts = {0, (HB_DECAY_MS + 100) * 1000000L};
    while (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    nanosleep(&ts, NULL);
    p = A->alloc(s, 64);
    A->free(s, p, 64);
    empty = stats_of(s);
    assert_int_equal(empty.os_bytes, 1 * MIB);
    assert_int_equal(empty.released_bytes, 3 * MIB);
    /* Detaching keeps the cached one, free for less than HB_DECAY_MS: the
     * next thread to take the heap reuses it (test_abandoned_heap_swept). */
    A->thread_detach(s);
    hb_alloc_stats left = stats_of(s);
    /* The arena is not unmapped. A pool of it idle for purge_ms by now (a
     * descheduling of 30 ms between the free above and the detach, as under
     * CI's load) has its pages purged, counted released: exactly that. */
    assert_int_equal(left.os_bytes + (left.released_bytes - 3 * MIB), 1 * MIB);
    /* This thread takes its heap back, and the arena with it: nothing new
     * is mapped. */
    p = A->alloc(s, 64);
    assert_true(stats_of(s).os_bytes <= 1 * MIB);
    A->free(s, p, 64);
}

static void test_fullest_arena_first(void **state)
{
    void *s = *state;
    static void *v[CAP];
    size_t n = fill_arenas(s, v, CAP, 3);
    uintptr_t a = ARENA_OF(v[0]), b = 0;
    for (size_t i = 0; i < n && !b; i++)
        if (ARENA_OF(v[i]) != a)
            b = ARENA_OF(v[i]);
    /* Free five whole pools of B first, then all of A but two blocks in
     * two different pools. An allocator picking the most recently freed
     * arena, or the lowest, or the first made, would now use A; obmalloc's
     * rule (fewest free pools first) uses B, whose five free pools go
     * first. */
    uintptr_t pools_freed[5];
    int np = 0;
    for (size_t i = 0; i < n; i++) {
        if (ARENA_OF(v[i]) != b)
            continue;
        uintptr_t pool = (uintptr_t)v[i] >> 14;
        int found = 0;
        for (int j = 0; j < np; j++)
            found |= pools_freed[j] == pool;
        if (!found && np == 5)
            continue;
        if (!found)
            pools_freed[np++] = pool;
        A->free(s, v[i], 512);
        v[i] = NULL;
    }
    uintptr_t keep1 = (uintptr_t)v[0] >> 14, keep2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i] || ARENA_OF(v[i]) != a)
            continue;
        uintptr_t pool = (uintptr_t)v[i] >> 14;
        if (pool == keep1 && v[i] == v[0])
            continue;
        if (pool != keep1 && !keep2) {
            keep2 = pool;
            continue;
        }
        A->free(s, v[i], 512);
        v[i] = NULL;
    }
    /* Each new class needs a new pool: five come from B, the sixth from A
     * (62 free pools) rather than the begun fourth arena (63). */
    size_t sizes[6] = {16, 32, 48, 64, 80, 96};
    void *w[6];
    for (int i = 0; i < 6; i++) {
        w[i] = A->alloc(s, sizes[i]);
        assert_non_null(w[i]);
    }
    for (int i = 0; i < 5; i++)
        assert_true(ARENA_OF(w[i]) == b);
    assert_true(ARENA_OF(w[5]) == a);
    for (int i = 0; i < 6; i++)
        A->free(s, w[i], sizes[i]);
    for (size_t i = 0; i < n; i++)
        A->free(s, v[i], 512);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

typedef struct job {
    void *s;
    void **v;
    size_t n, size;
} job;

static void *free_all(void *arg)
{
    job *j = arg;
    for (size_t i = 0; i < j->n; i++)
        A->free(j->s, j->v[i], j->size);
    return NULL;
}

static void test_remote_frees_reclaimed(void **state)
{
    void *s = *state;
    static void *v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = A->alloc(s, 64);
    assert_int_equal(stats_of(s).live_bytes, 64000);
    job j = {s, v, 1000, 64};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_all, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* Counted at the owner, which has not drained them yet. */
    assert_int_equal(stats_of(s).live_bytes, 64000);
    /* The owner's next slow path (a class with no pool) drains them all. */
    void *p = A->alloc(s, 128);
    assert_int_equal(stats_of(s).live_bytes, 128);
    /* And the blocks are reused, not leaked: 1000 more 64 B blocks fit in
     * the pools already there. */
    uint64_t os = stats_of(s).os_bytes;
    for (int i = 0; i < 1000; i++)
        v[i] = A->alloc(s, 64);
    assert_int_equal(stats_of(s).os_bytes, os);
    for (int i = 0; i < 1000; i++)
        A->free(s, v[i], 64);
    A->free(s, p, 128);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

typedef struct fjob {
    void *s;
    void **v;
    size_t n;
    void *got[32];
    uint64_t live_freed, live_reused;
    int err;
} fjob;

static uint64_t live_now(void *s)
{
    hb_alloc_stats st;
    return A->stats(s, &st) == 0 ? st.live_bytes : UINT64_MAX;
}

/* A thread with a heap frees another heap's blocks, then allocates. */
static void *free_then_reuse(void *arg)
{
    fjob *j = arg;
    void *own = A->alloc(j->s, 64);
    if (!own) {
        j->err = 1;
        return NULL;
    }
    for (size_t i = 0; i < j->n; i++)
        A->free(j->s, j->v[i], 64);
    j->live_freed = live_now(j->s);
    for (int i = 0; i < 32; i++)
        j->got[i] = A->alloc(j->s, 64);
    j->live_reused = live_now(j->s);
    for (int i = 0; i < 32; i++)
        A->free(j->s, j->got[i], 64);
    A->free(j->s, own, 64);
    return NULL; /* no thread_detach: the key destructor empties its caches */
}

/* Blocks of another (living) heap stay in the freeing thread's foreign
 * cache, at most 64 of a class, and its next allocations reuse them, the
 * last freed first, without touching their owner; when the thread exits
 * they go back to the owner, which takes them at its next slow path. */
static void test_foreign_cache(void **state)
{
    void *s = *state;
    enum { N = 1000 };
    static void *v[N];
    for (int i = 0; i < N; i++)
        v[i] = A->alloc(s, 64);
    fjob j = {.s = s, .v = v, .n = N};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_then_reuse, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(j.err, 0);
    /* The blocks pushed back are counted at their owner until it drains
     * them; those in the cache are not counted: at most 64 of them. */
    assert_true(j.live_freed <= (uint64_t)N * 64 + 64);
    assert_true(j.live_freed >= (uint64_t)(N - 64) * 64 + 64);
    for (int i = 0; i < 32; i++)
        assert_ptr_equal(j.got[i], v[N - 1 - i]);
    /* The 32 came from the cache: counted live again, exactly. */
    assert_int_equal(j.live_reused - j.live_freed, 32 * 64);
    /* Thread gone: every block of the owner is on its remote list. */
    assert_int_equal(stats_of(s).live_bytes, (uint64_t)N * 64);
    void *p = A->alloc(s, 128); /* a slow path: the owner drains */
    assert_int_equal(stats_of(s).live_bytes, 128);
    uint64_t os = stats_of(s).os_bytes;
    for (int i = 0; i < N; i++)
        v[i] = A->alloc(s, 64);
    assert_int_equal(stats_of(s).os_bytes, os); /* reused, not leaked */
    for (int i = 0; i < N; i++)
        A->free(s, v[i], 64);
    A->free(s, p, 128);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

static void *alloc_and_exit(void *arg)
{
    job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        size_t size = i == 0 ? 100000 : 16 + (i * 37) % 497;
        j->v[i] = A->alloc(j->s, size);
        if (j->v[i])
            memset(j->v[i], (int)(i & 0xff), 16);
    }
    return NULL; /* no thread_detach: the key destructor abandons the heap */
}

static void *attach_detach(void *arg)
{
    void *s = arg;
    if (A->thread_attach(s) != 0)
        return arg;
    A->thread_detach(s);
    return NULL;
}

static void test_exited_thread_blocks(void **state)
{
    void *s = *state;
    static void *v[2000];
    job j = {s, v, 2000, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, alloc_and_exit, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    uint64_t live = stats_of(s).live_bytes;
    assert_true(live > 100000);
    /* The blocks outlive their thread and can be freed from here. */
    for (size_t i = 0; i < 2000; i++) {
        assert_non_null(v[i]);
        unsigned char *b = v[i];
        for (int k = 0; k < 16; k++)
            assert_int_equal(b[k], i & 0xff);
        A->free(s, v[i], 0);
    }
    /* Small ones wait on the abandoned heap's remote list... */
    assert_true(stats_of(s).live_bytes > 0);
    /* ...until a thread adopts it and drains them. */
    assert_int_equal(pthread_create(&t, NULL, attach_detach, s), 0);
    void *ret;
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_null(ret);
    hb_alloc_stats st = stats_of(s);
    assert_int_equal(st.live_bytes, 0);
}

/* Larson's successor (heap_swap): thread B attaches while A is alive, A
 * makes a working set and exits, then B replaces A's blocks one by one.
 * B takes A's dead heap as its own at the first free and reuses its
 * memory: halfway through, not a byte more is mapped. Adopting A's heap
 * beside B's empty one instead (the old way) had B map a new arena for the
 * copy it built while the adopted heap emptied. */
#define SUCC_N 8192
#define SUCC_SIZE 256
typedef struct successor {
    void *s;
    void **v;
    _Atomic int attached, go;
    uint64_t os_before, os_half;
    int err;
} successor;

static void *succ_first(void *arg)
{
    successor *c = arg;
    for (int i = 0; i < SUCC_N; i++)
        if (!(c->v[i] = A->alloc(c->s, SUCC_SIZE)))
            c->err = 1;
    return NULL; /* the key destructor abandons the heap */
}

static void *succ_second(void *arg)
{
    successor *c = arg;
    if (A->thread_attach(c->s) != 0) {
        c->err = 1;
        return NULL;
    }
    atomic_store(&c->attached, 1);
    while (!atomic_load(&c->go))
        sched_yield();
    for (int i = 0; i < SUCC_N; i++) {
        if (i == SUCC_N / 2)
            c->os_half = stats_of(c->s).os_bytes;
        A->free(c->s, c->v[i], SUCC_SIZE);
        if (!(c->v[i] = A->alloc(c->s, SUCC_SIZE)))
            c->err = 1;
    }
    for (int i = 0; i < SUCC_N; i++)
        A->free(c->s, c->v[i], SUCC_SIZE);
    A->thread_detach(c->s);
    return NULL;
}

static void test_successor_takes_heap(void **state)
{
    static void *v[SUCC_N];
    successor c = {.s = *state, .v = v};
    pthread_t a, b;
    assert_int_equal(pthread_create(&b, NULL, succ_second, &c), 0);
    while (!atomic_load(&c.attached))
        sched_yield();
    assert_int_equal(pthread_create(&a, NULL, succ_first, &c), 0);
    assert_int_equal(pthread_join(a, NULL), 0);
    c.os_before = stats_of(c.s).os_bytes;
    assert_true(c.os_before >= (uint64_t)SUCC_N * SUCC_SIZE);
    atomic_store(&c.go, 1);
    assert_int_equal(pthread_join(b, NULL), 0);
    assert_int_equal(c.err, 0);
    assert_int_equal(c.os_half, c.os_before);
    assert_int_equal(stats_of(c.s).live_bytes, 0);
}

static void test_stats_exact(void **state)
{
    void *s = *state;
    static const size_t sizes[] = {0, 1, 48, 500, 512, 513, 4096, 70000, 5 << 20};
    void *v[sizeof sizes / sizeof sizes[0]];
    uint64_t sum = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        v[i] = A->alloc(s, sizes[i]);
        assert_non_null(v[i]);
        sum += A->usable_size(s, v[i]);
    }
    void *al = A->alloc_aligned(s, 4096, 5000);
    sum += A->usable_size(s, al);
    hb_alloc_stats st = stats_of(s);
    assert_int_equal(st.live_bytes, sum); /* exactly what usable_size reports */
    assert_true(st.os_bytes >= st.live_bytes);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        A->free(s, v[i], sizes[i]);
    A->free(s, al, 5000);
    st = stats_of(s);
    assert_int_equal(st.live_bytes, 0);
    /* The 5 MiB block's mapping stays in the large cache (large.c) until
     * it has been idle HB_LARGE_DECAY_MS: still held, not released. */
    assert_true(st.os_bytes >= (5u << 20));
}

static void test_large_cache(void **state)
{
    void *s = *state;
    void *p = A->alloc(s, 5000);
    A->free(s, p, 5000);
    uint64_t released = stats_of(s).released_bytes;
    /* The freed mapping is kept and serves the next request of that size. */
    for (int i = 0; i < 100; i++) {
        void *q = A->alloc(s, 4000 + (size_t)i);
        assert_non_null(q);
        memset(q, 1, 4000);
        A->free(s, q, 0);
    }
    assert_int_equal(stats_of(s).released_bytes, released);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

static void test_two_instances(void **state)
{
    void *s1 = *state, *s2;
    assert_int_equal(A->init(&s2, NULL), 0);
    void *a[100], *b[100];
    for (int i = 0; i < 100; i++) {
        a[i] = A->alloc(s1, 32);
        b[i] = A->alloc(s2, 48);
    }
    assert_int_equal(stats_of(s1).live_bytes, 3200);
    assert_int_equal(stats_of(s2).live_bytes, 4800);
    for (int i = 0; i < 100; i++) {
        A->free(s2, b[i], 48);
        A->free(s1, a[i], 32);
    }
    assert_int_equal(stats_of(s1).live_bytes, 0);
    assert_int_equal(stats_of(s2).live_bytes, 0);
    void *keep = A->alloc(s2, 16);
    assert_int_equal(hb_region_tag(keep), ARENA_TAG);
    /* destroy reclaims live blocks: the arena is untagged and unmapped. */
    A->destroy(s2);
    assert_int_equal(hb_region_tag(keep), 0);
    /* A new instance may reuse the address; this thread must not see the
     * dead one's heap through its cache. */
    assert_int_equal(A->init(&s2, NULL), 0);
    void *fresh = A->alloc(s2, 16);
    assert_non_null(fresh);
    assert_int_equal(stats_of(s2).live_bytes, 16);
    A->free(s2, fresh, 16);
    A->destroy(s2);
}

static void sleep_ms(long ms);

/* Another thread with a heap of its own, attached before the test's thread
 * leaves its heap (a thread that attaches later would take that heap), that
 * on request grows: allocates from a class it has not used yet, so its heap
 * takes a new pool, the moment hb_arena_abandoned_sweep runs. */
typedef struct bystander {
    void *s;
    pthread_t t;
    _Atomic int cmd, done; /* cmd: 1 grow, 2 leave; done counts grows */
    int next_class, err;
} bystander;

static void *bystander_main(void *arg)
{
    bystander *b = arg;
    if (A->thread_attach(b->s) != 0)
        b->err = 1;
    for (;;) {
        int c = atomic_load(&b->cmd);
        if (c == 2)
            break;
        if (c == 1) {
            void *p = A->alloc(b->s, 16 * (size_t)++b->next_class);
            if (!p)
                b->err = 1;
            A->free(b->s, p, 0);
            atomic_store(&b->cmd, 0);
            atomic_fetch_add(&b->done, 1);
        }
        sched_yield();
    }
    A->thread_detach(b->s);
    return NULL;
}

static void bystander_start(bystander *b, void *s)
{
    memset(b, 0, sizeof *b);
    b->s = s;
    assert_int_equal(pthread_create(&b->t, NULL, bystander_main, b), 0);
    /* its first growth maps its own arena, before anything is measured */
    atomic_store(&b->cmd, 1);
    while (atomic_load(&b->done) < 1)
        sched_yield();
}

static void bystander_grow(bystander *b)
{
    int before = atomic_load(&b->done);
    atomic_store(&b->cmd, 1);
    while (atomic_load(&b->done) == before)
        sched_yield();
}

static void bystander_stop(bystander *b)
{
    atomic_store(&b->cmd, 2);
    assert_int_equal(pthread_join(b->t, NULL), 0);
    assert_int_equal(b->err, 0);
}

/* Last freed, first reused: a free goes on its class's stack (bounded)
 * and the next allocation of that class takes it back, hot in the cache;
 * a full stack sends its older half to the pools; detaching empties the
 * stacks, so the heap's arenas can go back whole. */
static void test_lifo(void **state)
{
    void *s = *state;
    enum { N = 2000, F = 200 };
    static void *v[N];
    for (int i = 0; i < N; i++)
        v[i] = A->alloc(s, 64);
    /* Freed in order: the stack (64 blocks of 64 B) spills its older half
     * when full, so its top 32 are always the last 32 freed. */
    for (int i = 0; i < F; i++)
        A->free(s, v[i], 64);
    assert_int_equal(stats_of(s).live_bytes, (uint64_t)(N - F) * 64);
    for (int i = F - 1; i >= F - 32; i--)
        assert_ptr_equal(A->alloc(s, 64), v[i]);
    for (int i = F - 32; i < F; i++)
        A->free(s, v[i], 64);
    for (int i = F; i < N; i++)
        A->free(s, v[i], 64);
    hb_alloc_stats st = stats_of(s);
    assert_int_equal(st.live_bytes, 0);
    assert_true(st.os_bytes >= MIB);
    /* The stacks still pin a pool; detaching returns their blocks, so the
     * arena is wholly free, and another heap's sweep gives it back once it
     * has been idle (HB_DECAY_MS): the pools' counts were made true. */
    bystander b;
    bystander_start(&b, s);
    hb_alloc_stats before = stats_of(s);
    uint64_t os = before.os_bytes; /* the bystander's arena too */
    A->thread_detach(s);
    st = stats_of(s);
    assert_int_equal(st.live_bytes, 0);
    /* nothing unmapped; a pool idle for purge_ms by now has its pages
     * purged, counted released */
    assert_int_equal(st.os_bytes + (st.released_bytes - before.released_bytes), os);
    sleep_ms(HB_DECAY_MS + 100);
    bystander_grow(&b);
    assert_int_equal(stats_of(s).os_bytes, os - MIB);
    bystander_stop(&b);
}

/* A heap left by its thread keeps the memory that became free in it
 * lately, for the next thread to take the heap (a thread per task reuses
 * it instead of refaulting it); a heap no thread takes gives it back as a
 * living one would, by the other heaps' sweeps: its free pools' pages
 * after purge_ms, its wholly free arenas after HB_DECAY_MS. */
static void test_abandoned_heap_swept(void **state)
{
    (void)state;
    void *s;
    /* purge=200: long enough that no descheduling between the frees and
     * the detach makes a pool idle for it */
    assert_int_equal(A->init(&s, "purge=200"), 0);
    enum { N = 3000 };
    static void *v[N];
    bystander b;
    bystander_start(&b, s);
    for (int i = 0; i < N; i++)
        assert_non_null(v[i] = A->alloc(s, 256)); /* 63 a pool: 48 pools */
    /* Every block but the first pool's: the other pools are free and dirty,
     * their arena is not wholly free. */
    for (int i = 60; i < N; i++)
        A->free(s, v[i], 256);
    hb_alloc_stats mine = stats_of(s);
    A->thread_detach(s);
    hb_alloc_stats left = stats_of(s);
    /* Nothing was idle long enough: all kept for a successor. */
    assert_int_equal(left.os_bytes, mine.os_bytes);
    assert_int_equal(left.released_bytes, mine.released_bytes);
    sleep_ms(250);
    bystander_grow(&b);
    hb_alloc_stats swept = stats_of(s);
    /* The free pools' pages went back, all but each one's header page. */
    uint64_t gone = swept.released_bytes - left.released_bytes;
    assert_true(gone >= 40 * (POOL_BYTES - 4096));
    assert_int_equal(swept.os_bytes + gone, left.os_bytes);
    for (int i = 0; i < 60; i++)
        A->free(s, v[i], 256);
    bystander_stop(&b);
    A->destroy(s);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A full medium pool freed into goes to the front of its class's pools,
 * as obmalloc's, so the next allocation fills it again and the pools
 * freed into longest ago can drain (a small pool goes to the tail). */
static void test_medium_pool_front(void **state)
{
    (void)state;
    void *s;
    assert_int_equal(A->init(&s, "cache=0,foreign=0"), 0);
    enum { N = 40, SZ = 8192 }; /* 8 KiB: 7 in the region's first pool, 8 in the others */
    static void *v[N];
    for (int i = 0; i < N; i++)
        assert_non_null(v[i] = A->alloc(s, SZ));
    /* v[10] and v[20] are in two full pools; the last pool is partly used */
    assert_true((uintptr_t)v[10] >> 16 != (uintptr_t)v[20] >> 16);
    assert_true((uintptr_t)v[20] >> 16 != (uintptr_t)v[N - 1] >> 16);
    A->free(s, v[10], SZ);
    A->free(s, v[20], SZ);
    void *a = A->alloc(s, SZ), *b = A->alloc(s, SZ);
    assert_ptr_equal(a, v[20]); /* the pool freed into last */
    assert_ptr_equal(b, v[10]);
    A->free(s, a, SZ);
    A->free(s, b, SZ);
    for (int i = 0; i < N; i++)
        if (i != 10 && i != 20)
            A->free(s, v[i], SZ);
    A->destroy(s);
}

/* Carving never-used blocks a page at a time (pool_exhausted) keeps
 * obmalloc's order, consecutive addresses, and touches no page ahead of the
 * block handed out: a fresh pool's pages fault in one by one as its blocks
 * are reached, small (16 B) and medium (576 B, which straddle pages). */
static void test_carve_by_page(void **state)
{
    (void)state;
    static const size_t sizes[] = {16, 576};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        void *s;
        assert_int_equal(A->init(&s, "cache=0,foreign=0"), 0);
        size_t sz = sizes[k];
        enum { N = 20 };
        static char *v[N];
        for (int i = 0; i < N; i++) {
            assert_non_null(v[i] = A->alloc(s, sz));
            if (i)
                assert_ptr_equal(v[i], v[i - 1] + sz);
            /* the page after the one the block ends in is untouched */
            char *next_page = (char *)(((uintptr_t)v[i] + sz - 1 + 4096) & ~(uintptr_t)4095);
            assert_int_equal(resident_pages(next_page, 4096), 0);
        }
        for (int i = 0; i < N; i++)
            A->free(s, v[i], sz);
        A->destroy(s);
    }
}

/* A free pool whose arena is still in use gives its pages back once idle
 * for purge=MS (obmalloc would keep them until the whole arena is free),
 * counted in released_bytes, and is reused afterwards as zero pages. */
static void test_pool_purge(void **state)
{
    (void)state;
    void *s;
    assert_int_equal(A->init(&s, "cache=0,foreign=0,purge=20"), 0);
    enum { N = 120, SZ = 8192 }; /* 8 KiB: 8 a 64 KiB medium pool, one arena */
    static void *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = A->alloc(s, SZ);
        assert_non_null(v[i]);
        memset(v[i], 0xab, SZ);
    }
    hb_alloc_stats full = stats_of(s);
    char *region = (char *)((uintptr_t)v[0] & ~(uintptr_t)(MIB - 1));
    size_t resident_full = resident_pages(region, MIB);
    assert_true(resident_full >= N * SZ / 4096);
    for (int i = 1; i < N; i++) /* v[0] keeps its arena from being wholly free */
        A->free(s, v[i], SZ);
    /* Young free pools keep their pages. */
    hb_alloc_stats young = stats_of(s);
    assert_int_equal(young.os_bytes, full.os_bytes);
    assert_int_equal(young.released_bytes, full.released_bytes);
    sleep_ms(60);
    /* The next pool given back sweeps: every pool idle since is purged. */
    void *w[8];
    for (int i = 0; i < 8; i++)
        assert_non_null(w[i] = A->alloc(s, SZ));
    for (int i = 0; i < 8; i++)
        A->free(s, w[i], SZ);
    hb_alloc_stats purged = stats_of(s);
    uint64_t gone = purged.released_bytes - full.released_bytes;
    assert_true(gone >= 10 * 65536);
    assert_int_equal(purged.os_bytes, full.os_bytes - gone);
    assert_true(resident_pages(region, MIB) + gone / 4096 <= resident_full + 1);
    assert_true(resident_pages(region, MIB) <= 1 + 16 + 16 + 1);
    /* Reused: zero pages fault in, and the pages count as held again. */
    for (int i = 1; i < N; i++) {
        v[i] = A->alloc(s, SZ);
        assert_non_null(v[i]);
        memset(v[i], 0xcd, SZ);
    }
    assert_int_equal(stats_of(s).os_bytes, full.os_bytes);
    for (int i = 0; i < N; i++)
        A->free(s, v[i], SZ);
    A->destroy(s);
}

/* A thread frees the owner's blocks and stays alive. */
typedef struct idle_job {
    void *s;
    void **own, **theirs;
    size_t nown, ntheirs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int freed, finish, err;
} idle_job;

static void *alloc_free_wait(void *arg)
{
    idle_job *j = arg;
    for (size_t i = 0; i < j->ntheirs; i++)
        if (!(j->theirs[i] = A->alloc(j->s, 64)))
            j->err = 1;
    for (size_t i = 0; i < j->nown; i++)
        A->free(j->s, j->own[i], 8192);
    pthread_mutex_lock(&j->mu);
    j->freed = 1;
    pthread_cond_broadcast(&j->cv);
    while (!j->finish)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* A thread that has stopped allocating (done with its share, waiting for
 * the others, as mixed_remote's first thread to finish) still gets its
 * memory back: while it frees other threads' blocks, each spill of its
 * foreign cache also drains its own remote list and purges its idle pools.
 * Before, its blocks freed by others stayed on its remote list, counted
 * live, their pools' pages held, until its next allocation slow path. */
static void test_idle_owner_takes_back(void **state)
{
    (void)state;
    void *s;
    assert_int_equal(A->init(&s, "purge=20"), 0);
    enum { N = 241, SZ = 8192, M = 400 };
    static void *own[N], *theirs[M];
    for (int i = 0; i < N; i++) {
        assert_non_null(own[i] = A->alloc(s, SZ));
        memset(own[i], 0xab, SZ);
    }
    idle_job j = {.s = s, .own = own + 1, .theirs = theirs, .nown = N - 1, .ntheirs = M};
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, alloc_free_wait, &j), 0);
    pthread_mutex_lock(&j.mu);
    while (!j.freed)
        pthread_cond_wait(&j.cv, &j.mu);
    pthread_mutex_unlock(&j.mu);
    assert_int_equal(j.err, 0);
    hb_alloc_stats before = stats_of(s);
    /* This thread only frees from now on: half the other's blocks, a pause
     * longer than purge=20, the other half. */
    for (int i = 0; i < M / 2; i++)
        A->free(s, theirs[i], 64);
    sleep_ms(60);
    for (int i = M / 2; i < M; i++)
        A->free(s, theirs[i], 64);
    hb_alloc_stats after = stats_of(s);
    /* 240 blocks of 8 KiB, 30 medium pools: all but the one of own[0] (and
     * those on the other thread's foreign cache) purged. */
    uint64_t gone = after.released_bytes - before.released_bytes;
    assert_true(gone >= 25 * 65536);
    assert_true(after.os_bytes + gone <= before.os_bytes);
    pthread_mutex_lock(&j.mu);
    j.finish = 1;
    pthread_cond_broadcast(&j.cv);
    pthread_mutex_unlock(&j.mu);
    assert_int_equal(pthread_join(t, NULL), 0);
    A->free(s, own[0], SZ);
    A->destroy(s);
}

static void test_options(void **state)
{
    (void)state;
    void *s;
    assert_int_equal(A->init(&s, "cache=4096"), 0);
    A->destroy(s);
    assert_int_equal(A->init(&s, "cache=4096,foreign=0"), 0);
    A->destroy(s);
    assert_int_equal(A->init(&s, "foreign=65536"), 0);
    A->destroy(s);
    assert_int_equal(A->init(&s, "purge=0,foreign=0"), 0);
    A->destroy(s);
    assert_int_equal(A->init(&s, "foreign=x"), EINVAL);
    assert_int_equal(A->init(&s, "purge=-1"), EINVAL);
    assert_int_equal(A->init(&s, "cache=1,"), EINVAL);
    assert_int_equal(A->init(&s, "cache=1;foreign=2"), EINVAL);
    assert_int_equal(A->init(&s, "cache=x"), EINVAL);
    assert_int_equal(A->init(&s, "cache=1 "), EINVAL);
    assert_int_equal(A->init(&s, "pools"), EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TF(f) cmocka_unit_test_setup_teardown(f, setup_foreign, teardown)
#define TP(f) cmocka_unit_test_setup_teardown(f, setup_pools, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_size_classes),       T(test_aligned),
        T(test_realloc_in_place),   TP(test_arena_returned_to_os),
        TP(test_fullest_arena_first),
        T(test_remote_frees_reclaimed), cmocka_unit_test(test_medium_pool_front),
        cmocka_unit_test(test_carve_by_page), TF(test_foreign_cache),
        T(test_lifo), T(test_options),
        T(test_every_size_class),
        T(test_exited_thread_blocks), T(test_stats_exact), T(test_abandoned_heap_swept),
        T(test_large_cache),        T(test_two_instances),
        T(test_medium_waste),       T(test_pool_purge),
        T(test_idle_owner_takes_back),
        T(test_successor_takes_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
