/* test_arena.c -- what is particular to the arena backend (allocators/arena.c)
 * on one thread: obmalloc's size classes, arenas given back to the OS, the
 * fullest arena used first, a medium pool freed into reused first, pools
 * carved by the page and purged, options, and exact statistics. The
 * threads (remote frees, foreign caches, heaps left, adopted, taken over
 * and swept) are test_arena_threads.c's; the contract itself is checked
 * for every backend in test_allocators.c. */
#include "arena_test.h"
#include "resident.h"
#include "size_classes.h"

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
    sleep_ms(HB_DECAY_MS + 100);
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

/* A small pool free for purge_ms goes back whole, the page with its header
 * too (pool 0 keeps the page with the arena's header): until 2026-12-06 it
 * kept that page, 4 KiB of every 16 KiB pool freed, to stay on its arena's
 * freepools list. Reused, for another class, it faults in and is carved
 * anew; the counts stay exact through its arena's release. */
static void test_small_pool_purged_whole(void **state)
{
    (void)state;
    void *s;
    assert_int_equal(A->init(&s, "cache=0,foreign=0,purge=20"), 0);
    enum { N = 40 * 63, SZ = 256 }; /* 63 blocks of 256 B a pool: 40 pools */
    static void *v[N];
    for (int i = 0; i < N; i++) {
        assert_non_null(v[i] = A->alloc(s, SZ));
        memset(v[i], 0xab, SZ);
        assert_int_equal(ARENA_OF(v[i]), ARENA_OF(v[0])); /* one arena */
    }
    char *region = (char *)((uintptr_t)v[0] & ~(uintptr_t)(MIB - 1));
    hb_alloc_stats full = stats_of(s);
    assert_true(resident_pages(region, MIB) >= 40 * 4);
    for (int i = 1; i < N; i++) /* v[0] keeps pool 0, and the arena, in use */
        A->free(s, v[i], SZ);
    sleep_ms(60);
    /* A pool given back sweeps: every pool idle since goes. */
    void *w = A->alloc(s, 64);
    assert_non_null(w);
    A->free(s, w, 64);
    hb_alloc_stats purged = stats_of(s);
    uint64_t gone = purged.released_bytes - full.released_bytes;
    assert_true(gone >= 38 * POOL_BYTES);
    assert_int_equal(purged.os_bytes, full.os_bytes - gone);
    /* pool 0's 4 pages and the 64 B pool's, nothing of the 38 others (each
     * kept its header's page before: 38 more) */
    assert_true(resident_pages(region, MIB) <= 4 + 4 + 1);
    /* Reused for another class, carved anew, every block its own: 40 pools
     * of 128 B blocks, more than the freed pool on the list and the 24
     * never carved, so 15 come from those purged whole. */
    enum { M = 40 * 127, SZ2 = 128 };
    static void *u[M];
    for (int i = 0; i < M; i++) {
        assert_non_null(u[i] = A->alloc(s, SZ2));
        assert_int_equal(ARENA_OF(u[i]), ARENA_OF(v[0])); /* no new arena */
        memset(u[i], i & 0xff, SZ2);
    }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < SZ2; j++)
            assert_int_equal(((unsigned char *)u[i])[j], i & 0xff);
    assert_true(stats_of(s).os_bytes <= full.os_bytes);
    for (int i = 0; i < M; i++)
        A->free(s, u[i], SZ2);
    A->free(s, v[0], SZ);
    /* The arena, wholly free and idle past HB_DECAY_MS, goes back when the
     * heap is left: nothing is counted held after it, whichever way each
     * pool went. */
    sleep_ms(HB_DECAY_MS + 100);
    A->thread_detach(s);
    hb_alloc_stats left = stats_of(s);
    assert_int_equal(left.os_bytes, 0);
    assert_int_equal(left.live_bytes, 0);
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
    assert_int_equal(A->init(&s, "warm=2,help=0"), 0);
    A->destroy(s);
    assert_int_equal(A->init(&s, "help=2"), EINVAL);
    assert_int_equal(A->init(&s, "foreign=x"), EINVAL);
    assert_int_equal(A->init(&s, "purge=-1"), EINVAL);
    assert_int_equal(A->init(&s, "cache=1,"), EINVAL);
    assert_int_equal(A->init(&s, "cache=1;foreign=2"), EINVAL);
    assert_int_equal(A->init(&s, "cache=x"), EINVAL);
    assert_int_equal(A->init(&s, "cache=1 "), EINVAL);
    assert_int_equal(A->init(&s, "pools"), EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_size_classes), T(test_aligned), T(test_realloc_in_place),
        TP(test_arena_returned_to_os), TP(test_fullest_arena_first), cmocka_unit_test(test_medium_pool_front),
        cmocka_unit_test(test_carve_by_page), T(test_options), T(test_every_size_class),
        T(test_stats_exact), T(test_large_cache), T(test_two_instances),
        T(test_medium_waste), T(test_pool_purge),
        cmocka_unit_test(test_small_pool_purged_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
