/* test_large.c -- large.c on its own: the span cache (reuse, split, merge,
 * bound, decay with the bytes released counted), realloc by mremap into a
 * reservation, and alignment, destroy and threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "allocators/large.h"
#include "allocators/os.h"
#include "resident.h"

#define MIB ((size_t)1 << 20)

static hb_large L;

static int setup(void **state)
{
    (void)state;
    return hb_large_init(&L);
}

static int teardown(void **state)
{
    (void)state;
    hb_large_destroy(&L);
    return 0;
}

static hb_large_counts cnt(hb_large *l)
{
    hb_large_counts c;
    hb_large_count(l, &c);
    return c;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_reuse(void **state)
{
    (void)state;
    unsigned char *p = hb_large_alloc(&L, 16, 5 * MIB);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_true(hb_large_usable(p) >= 5 * MIB);
    memset(p, 1, 5 * MIB);
    assert_int_equal(cnt(&L).live_bytes, hb_large_usable(p));
    uint64_t os = cnt(&L).os_bytes;
    hb_large_free(&L, p);
    assert_int_equal(cnt(&L).live_bytes, 0);
    assert_int_equal(cnt(&L).os_bytes, os); /* cached, not unmapped */
    assert_int_equal(cnt(&L).released_bytes, 0);
    /* Smaller requests reuse it: same address, no new mapping. */
    for (int i = 0; i < 50; i++) {
        unsigned char *q = hb_large_alloc(&L, 16, 5 * MIB - (size_t)i * 4096);
        assert_ptr_equal(q, p);
        q[0] = 2;
        hb_large_free(&L, q);
    }
    assert_int_equal(cnt(&L).os_bytes, os);
    assert_int_equal(cnt(&L).released_bytes, 0);
}

static void test_split_merge(void **state)
{
    (void)state;
    char *p = hb_large_alloc(&L, 16, 8 * MIB);
    hb_large_free(&L, p);
    /* Two pieces carved from the one span... */
    char *a = hb_large_alloc(&L, 16, 3 * MIB);
    char *b = hb_large_alloc(&L, 16, 4 * MIB);
    assert_ptr_equal(a, p);
    assert_true(b > a && b < p + 8 * MIB);
    memset(a, 3, 3 * MIB);
    memset(b, 4, 4 * MIB);
    assert_int_equal(a[3 * MIB - 1], 3);
    hb_large_free(&L, a);
    hb_large_free(&L, b);
    /* ...merge back: the whole size fits again, at the same place. */
    char *c = hb_large_alloc(&L, 16, 8 * MIB);
    assert_ptr_equal(c, p);
    assert_int_equal(cnt(&L).cache_spans, 0);
    hb_large_free(&L, c);
    assert_int_equal(cnt(&L).released_bytes, 0);
}

static void test_decay(void **state)
{
    (void)state;
    char *p = hb_large_alloc(&L, 16, 2 * MIB);
    size_t mapped = cnt(&L).os_bytes;
    hb_large_free(&L, p);
    assert_int_equal(cnt(&L).released_bytes, 0);
    sleep_ms(HB_LARGE_DECAY_MS + 100);
    /* The next large call takes what it needs from the idle span and
     * gives the rest back. */
    char *q = hb_large_alloc(&L, 16, 64 * 1024);
    assert_non_null(q);
    assert_int_equal(cnt(&L).cache_spans, 0);
    assert_int_equal(cnt(&L).released_bytes, mapped - (64 * 1024 + 4096));
    assert_int_equal(cnt(&L).os_bytes, 64 * 1024 + 4096);
    hb_large_free(&L, q);
    assert_int_equal(cnt(&L).cache_spans, 1);
}

/* A block made and freed by each of HB_LARGE_SHARDS threads in turn (one
 * to a shard), the threads gone: after the decay, a large call of this
 * thread gives their spans back too, not only its own shard's. */
static void *alloc_free_5mib(void *arg)
{
    (void)arg;
    char *p = hb_large_alloc(&L, 16, 5 * MIB);
    if (!p)
        return "alloc";
    p[0] = 1;
    hb_large_free(&L, p);
    return NULL;
}

static void test_decay_other_shards(void **state)
{
    (void)state;
    for (int i = 0; i < HB_LARGE_SHARDS; i++) {
        pthread_t t;
        void *ret;
        assert_int_equal(pthread_create(&t, NULL, alloc_free_5mib, NULL), 0);
        assert_int_equal(pthread_join(t, &ret), 0);
        assert_null(ret);
    }
    hb_large_counts c = cnt(&L);
    assert_true(c.cache_bytes >= HB_LARGE_SHARDS * 5 * MIB);
    uint64_t released = c.released_bytes;
    sleep_ms(HB_LARGE_DECAY_MS + 100);
    char *q = hb_large_alloc(&L, 16, 64 * 1024);
    assert_non_null(q);
    c = cnt(&L);
    assert_true(c.released_bytes - released >= (HB_LARGE_SHARDS - 1) * 5 * MIB);
    assert_true(c.cache_bytes < 4 * MIB); /* at most the rest of this block's chunk */
    hb_large_free(&L, q);
}

static void test_bound(void **state)
{
    (void)state;
    /* Eight live 16 MiB blocks freed: the cache keeps its minimum (more
     * only with that many live bytes) and unmaps the oldest beyond it. */
    enum { N = 8 };
    char *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = hb_large_alloc(&L, 16, 16 * MIB);
        assert_non_null(v[i]);
        v[i][0] = 1;
    }
    for (int i = 0; i < N; i++)
        hb_large_free(&L, v[i]);
    assert_true(cnt(&L).cache_bytes <= HB_LARGE_CACHE_MIN);
    assert_true(cnt(&L).released_bytes >= (uint64_t)N * 16 * MIB - HB_LARGE_CACHE_MIN);
    assert_int_equal(cnt(&L).os_bytes, cnt(&L).cache_bytes);
}

static void test_realloc_mremap(void **state)
{
    (void)state;
    size_t n = 64 * 1024;
    unsigned char *p = hb_large_alloc(&L, 16, n);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 7);
    /* Grow in 4 KiB steps to 16 MiB: a remap only when past the slack. */
    unsigned moves = 0;
    size_t usable = hb_large_usable(p);
    while (n < 16 * MIB) {
        size_t m = n + 4096;
        unsigned char *q = hb_large_realloc(&L, p, m);
        assert_non_null(q);
        if (hb_large_usable(q) != usable)
            moves++;
        usable = hb_large_usable(q);
        assert_true(usable >= m);
        for (size_t i = n; i < m; i++)
            q[i] = (unsigned char)(i * 7);
        p = q;
        n = m;
    }
    assert_true(moves <= 50);
    for (size_t i = 0; i < n; i += 509)
        assert_int_equal(p[i], (unsigned char)(i * 7));
    assert_int_equal(cnt(&L).live_bytes, hb_large_usable(p));
    /* Shrinking below half gives the tail back. */
    uint64_t rel = cnt(&L).released_bytes;
    unsigned char *s = hb_large_realloc(&L, p, MIB);
    assert_ptr_equal(s, p);
    assert_true(cnt(&L).released_bytes - rel >= 14 * MIB);
    assert_true(hb_large_usable(s) >= MIB && hb_large_usable(s) < 2 * MIB);
    assert_int_equal(s[MIB - 1], (unsigned char)((MIB - 1) * 7));
    assert_int_equal(cnt(&L).live_bytes, hb_large_usable(s));
    hb_large_free(&L, s);
    assert_int_equal(cnt(&L).live_bytes, 0);
}

/* Is [p, p + n) mapped at all? mincore fails with ENOMEM where it is not. */
static int mapped(const void *p, size_t n)
{
    unsigned char v[64];
    size_t page = hb_os_page_size();
    return n <= 64 * page && mincore((void *)((uintptr_t)p & ~(page - 1)), n, v) == 0;
}

/* A block that realloc moves lands in address space reserved for eight
 * times its size, so growing it by small steps moves its pages a handful
 * of times (each move refaults them in some VMs and flushes other CPUs'
 * TLBs), not once per eighth; the reservation holds no memory, and free
 * gives it back. */
static void test_realloc_reserve(void **state)
{
    (void)state;
    size_t n = 64 * 1024;
    unsigned char *p = hb_large_alloc(&L, 16, n);
    memset(p, 0x5a, n);
    unsigned moves = 0;
    while (n < 16 * MIB) {
        size_t m = n + 4096;
        unsigned char *q = hb_large_realloc(&L, p, m);
        assert_non_null(q);
        moves += q != p;
        memset(q + n, 0x5a, m - n);
        p = q;
        n = m;
    }
    /* 64 KiB -> 544 KiB -> 4.3 MiB -> 35 MiB reserved, 17 MiB of it committed */
    assert_true(moves >= 1 && moves <= 4);
    assert_int_equal(p[0], 0x5a);
    assert_int_equal(p[n - 1], 0x5a);
    /* Committed room is counted, reserved room is not. */
    size_t usable = hb_large_usable(p);
    assert_int_equal(cnt(&L).live_bytes, usable);
    assert_true(cnt(&L).os_bytes - cnt(&L).cache_bytes <= usable + 4096);
    assert_true(usable < 2 * n + 4096);
    unsigned char *beyond = p + usable + 4096; /* page-aligned: usable ends on a page */
    assert_true(mapped(beyond, 4096));
    /* Shrink, then grow back in place over what was given back. */
    unsigned char *s = hb_large_realloc(&L, p, MIB);
    assert_ptr_equal(s, p);
    assert_true(hb_large_usable(s) < 2 * MIB);
    unsigned char *g = hb_large_realloc(&L, s, 8 * MIB);
    assert_ptr_equal(g, s);
    assert_int_equal(g[MIB - 1], 0x5a);
    assert_int_equal(g[8 * MIB - 1], 0);
    beyond = g + hb_large_usable(g) + 4096;
    assert_true(mapped(beyond, 4096));
    hb_large_free(&L, g);
    assert_int_equal(cnt(&L).live_bytes, 0);
    /* The reservation went with the block; the cache keeps the pages. */
    assert_false(mapped(beyond, 4096));
}

/* realloc faults in the 32 KiB past the size it was asked for in one
 * call (MADV_POPULATE_WRITE), and only when the size passes what it
 * populated before, or the block's first size (a shrink populates
 * nothing): a program growing buffers by 4 KiB steps faults in batches of
 * 8 pages, not one page per write. Nothing further is touched. */
static void test_realloc_populates_ahead(void **state)
{
    (void)state;
    size_t n = 256 * 1024;
    unsigned char *p = hb_large_alloc(&L, 16, n);
    p[0] = 1;
    p = hb_large_realloc(&L, p, n + 8000); /* past its mapping: room doubles */
    assert_non_null(p);
    assert_true(hb_large_usable(p) >= 2 * n);
    size_t page = hb_os_page_size();
    char *edge = (char *)(((uintptr_t)(p + n + 8000) + page - 1) & ~(page - 1));
    if (hb_os_populate(edge, page) == EINVAL) /* kernel before 5.14 */
        skip();
    assert_int_equal(resident_pages(edge, 32 * 1024), 32 * 1024 / page);
    assert_int_equal(resident_pages(edge + 64 * 1024, 64 * 1024), 0);
    assert_int_equal(p[n + 7999], 0); /* prefaulted pages read as zero */
    /* Growing inside the populated window populates nothing more. */
    p = hb_large_realloc(&L, p, n + 8000 + 16 * 1024);
    assert_int_equal(resident_pages(edge + 32 * 1024, 64 * 1024), 0);
    hb_large_free(&L, p);
    /* A shrink (not below half: the tail stays mapped) faults nothing in. */
    unsigned char *b = hb_large_alloc(&L, 16, MIB);
    b[0] = 1;
    assert_ptr_equal(hb_large_realloc(&L, b, 700 * 1024), b);
    assert_int_equal(resident_pages(b + 704 * 1024, 32 * 1024), 0);
    hb_large_free(&L, b);
    assert_int_equal(cnt(&L).live_bytes, 0);
}

/* A growth inside the room a copy gave a block: the populated mark is
 * then the program's size, not a page boundary, and madvise refused the
 * address inside a page (EINVAL), so nothing was faulted in ahead and the
 * call was repeated at every such realloc (13,000 calls, 2,500 refused,
 * in 400,000 operations of 4 threads of the resize shape). */
static void test_realloc_populates_from_mid_page(void **state)
{
    (void)state;
    unsigned char *a = hb_large_alloc(&L, 16, 100000);
    unsigned char *b = hb_large_alloc(&L, 16, 100000); /* a's live neighbour */
    unsigned char *c = hb_large_alloc(&L, 16, 600000); /* never written */
    memset(a, 7, 100000);
    hb_large_free(&L, c);
    /* a cannot grow in place: copied into c's untouched span, with room */
    unsigned char *q = hb_large_realloc(&L, a, 120000);
    assert_ptr_equal(q, c);
    assert_true(hb_large_usable(q) >= 200000);
    q = hb_large_realloc(&L, q, 120100); /* within the room and the same page */
    assert_ptr_equal(q, c);
    size_t page = hb_os_page_size();
    char *edge = (char *)(((uintptr_t)(q + 120100) + page - 1) & ~(page - 1));
    if (hb_os_populate(edge + 64 * 1024, page) == EINVAL) /* kernel before 5.14 */
        skip();
    assert_int_equal(resident_pages(edge, 32 * 1024), 32 * 1024 / page);
    assert_int_equal(q[99999], 7);
    hb_large_free(&L, q);
    hb_large_free(&L, b);
}

static void test_alignment(void **state)
{
    (void)state;
    void *a = hb_large_alloc(&L, 4096, 100000);
    assert_int_equal((uintptr_t)a % 4096, 0);
    hb_large_free(&L, a);
    void *b = hb_large_alloc(&L, 4096, 50000); /* from the cache, still aligned */
    assert_int_equal((uintptr_t)b % 4096, 0);
    void *c = hb_large_alloc(&L, 2 * MIB, 100);
    assert_int_equal((uintptr_t)c % (2 * MIB), 0);
    /* Above a page mremap cannot keep the alignment: the caller copies. */
    assert_null(hb_large_realloc(&L, c, 8 * MIB));
    hb_large_free(&L, b);
    hb_large_free(&L, c);
    assert_int_equal(cnt(&L).live_bytes, 0);
}

/* Whether the page holding p is mapped (msync fails with ENOMEM on a
 * page no mapping covers). */
static int page_mapped(const void *p)
{
    uintptr_t page = (uintptr_t)hb_os_page_size();
    return msync((void *)((uintptr_t)p & ~(page - 1)), page, MS_ASYNC) == 0;
}

/* A block of 0 bytes at an alignment of a page or more: its address must
 * lie in its own mapping. It lay at the mapping's end (off = align, need =
 * off + 0), so free looked up the region map at an address that was not
 * ours, where a drop-in's arena or segment could be mapped meanwhile:
 * freelist then pushed that segment's header on a free list and arena read
 * a program's bytes as a pool's owner (posix_memalign(&p, 1 MiB, 0) in a
 * loop, found by a sweep of real programs, 2026-12-05). */
static void test_aligned_empty_block_is_ours(void **state)
{
    (void)state;
    for (size_t align = hb_os_page_size(); align <= 4 * MIB; align *= 2) {
        void *p = hb_large_alloc(&L, align, 0);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % align, 0);
        assert_true(page_mapped(p));
        void *q = hb_large_alloc(&L, align, 100); /* and shrunk to 0 by realloc */
        assert_non_null(q);
        assert_ptr_equal(hb_large_realloc(&L, q, 0), q);
        assert_true(page_mapped(q));
        hb_large_free(&L, p);
        hb_large_free(&L, q);
    }
    assert_int_equal(cnt(&L).live_bytes, 0);
}

static void test_destroy_reclaims(void **state)
{
    (void)state;
    static hb_large M; /* zeroed, as hb_large_init asks */
    assert_int_equal(hb_large_init(&M), 0);
    void *live = hb_large_alloc(&M, 16, 3 * MIB);
    void *gone = hb_large_alloc(&M, 16, 2 * MIB);
    assert_non_null(live);
    hb_large_free(&M, gone);
    hb_large_destroy(&M); /* unmaps both; ASan/valgrind would see a leak */
}

static void *churn(void *arg)
{
    (void)arg;
    uint64_t r = (uintptr_t)&arg;
    for (int i = 0; i < 300; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t n = 40000 + (size_t)(r >> 40) % (3 * MIB);
        unsigned char *p = hb_large_alloc(&L, 16, n);
        if (!p)
            return "alloc";
        memset(p, i & 0xff, 4096);
        p[n - 1] = (unsigned char)i;
        if (i % 3 == 0) {
            unsigned char *q = hb_large_realloc(&L, p, n * 2);
            if (!q) {
                /* A block carved across two merged spans is two kernel
                 * mappings, which mremap refuses: callers copy. */
                if (!(q = hb_large_alloc(&L, 16, n * 2)))
                    return "realloc";
                memcpy(q, p, n);
                hb_large_free(&L, p);
            }
            p = q;
            n *= 2;
            p[n - 1] = (unsigned char)i;
        }
        if (p[0] != (i & 0xff) || p[n - 1] != (unsigned char)i)
            return "contents";
        hb_large_free(&L, p);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *ret;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        if (ret)
            fail_msg("thread %d: %s", i, (const char *)ret);
    }
    assert_int_equal(cnt(&L).live_bytes, 0);
    assert_int_equal(cnt(&L).live_blocks, 0);
}

/* Blocks of up to 1 MiB are carved from shared mappings, and their
 * resizes and frees stay in the cache: a program resizing buffers of
 * 32-200 KiB up and down made an mmap, mremap or munmap (each a TLB flush
 * of every CPU it ran on) at nearly every call, 10x glibc's time
 * (2026-12-05). Nothing here maps or unmaps once the first chunk is
 * there: os_bytes and released_bytes stay put. */
static void test_carved_resize_stays_in_cache(void **state)
{
    (void)state;
    enum { N = 16 };
    unsigned char *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = hb_large_alloc(&L, 16, 100 * 1000);
        assert_non_null(v[i]);
        memset(v[i], i + 1, 100 * 1000);
    }
    /* one chunk of 4 MiB holds all 16 (104 KiB each with the header page) */
    uint64_t os = cnt(&L).os_bytes;
    assert_true(os <= 4 * MIB);
    for (int i = 1; i < N; i++)
        assert_true(v[i] > v[0] && v[i] < v[0] + 4 * MIB);
    /* Shrink: the tail joins the cache; grow back: in place over it. */
    unsigned char *p = hb_large_realloc(&L, v[3], 20 * 1000);
    assert_ptr_equal(p, v[3]);
    assert_true(hb_large_usable(p) < 40 * 1000);
    p = hb_large_realloc(&L, p, 90 * 1000);
    assert_ptr_equal(p, v[3]);
    assert_int_equal(p[19999], 4);
    memset(p, 4, 90 * 1000);
    /* Growth past a live neighbour: copied into a cached span (v[8]'s and
     * v[9]'s, merged), the best fit. */
    unsigned char *gone = v[8];
    hb_large_free(&L, v[8]);
    hb_large_free(&L, v[9]);
    v[8] = v[9] = NULL;
    unsigned char *q = hb_large_realloc(&L, v[5], 101 * 1024);
    assert_non_null(q);
    assert_ptr_equal(q, gone);
    assert_int_equal(q[0], 6);
    assert_int_equal(q[100 * 1000 - 1], 6);
    v[5] = q;
    assert_int_equal(cnt(&L).os_bytes, os);
    assert_int_equal(cnt(&L).released_bytes, 0);
    /* Random resizes: contents kept (a growth no cached span fits moves
     * by mremap, as a block above 256 KiB does). */
    for (int round = 0; round < 200; round++) {
        int i = round % N;
        if (!v[i])
            continue;
        size_t n = 33 * 1000 + (size_t)(round * 7919) % (200 * 1000);
        unsigned char *r = hb_large_realloc(&L, v[i], n);
        if (!r) { /* no cached span fits a growth of a block with live neighbours */
            r = hb_large_alloc(&L, 16, n);
            assert_non_null(r);
            memcpy(r, v[i], 33 * 1000);
            hb_large_free(&L, v[i]);
        }
        assert_int_equal(r[0], i + 1);
        assert_int_equal(r[33 * 1000 - 1], i + 1);
        memset(r, i + 1, n);
        v[i] = r;
    }
    for (int i = 0; i < N; i++)
        if (v[i])
            hb_large_free(&L, v[i]);
    assert_int_equal(cnt(&L).live_bytes, 0);
    assert_int_equal(cnt(&L).os_bytes, cnt(&L).cache_bytes);
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* calloc's path: a fresh mapping is not written (its pages stay out of
 * RSS); a reused span, small (memset) or large (pages given back), and one
 * grown by mremap from a dirty span, read as zero. */
static void test_zeroed(void **state)
{
    (void)state;
    unsigned char *p = hb_large_alloc_zeroed(&L, 64 * MIB);
    assert_non_null(p);
    assert_true(resident_pages(p, 64 * MIB) <= 2); /* at most the header's page */
    assert_true(all_zero(p, 64 * MIB));
    hb_large_free(&L, p);
    /* dirty spans of both sizes, then taken back zeroed */
    size_t sizes[] = {40 * 1024, 200 * 1024, 12 * MIB};
    for (size_t i = 0; i < 3; i++) {
        unsigned char *d = hb_large_alloc(&L, 16, sizes[i]);
        memset(d, 0xa5, sizes[i]);
        hb_large_free(&L, d);
        unsigned char *z = hb_large_alloc_zeroed(&L, sizes[i]);
        assert_ptr_equal(z, d);
        if (sizes[i] >= 8 * MIB) /* given back, not written (before it is read) */
            assert_true(resident_pages(z, sizes[i]) <= 2);
        assert_true(all_zero(z, sizes[i]));
        hb_large_free(&L, z);
    }
    hb_large_destroy(&L);
    hb_large_init(&L);
    /* the only span is dirty and too small: it grows by mremap */
    unsigned char *d = hb_large_alloc(&L, 16, MIB);
    memset(d, 0x5a, MIB);
    hb_large_free(&L, d);
    unsigned char *z = hb_large_alloc_zeroed(&L, 4 * MIB);
    assert_non_null(z);
    assert_true(all_zero(z, 4 * MIB));
    hb_large_free(&L, z);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_reuse),   T(test_split_merge),    T(test_decay),
        T(test_bound),   T(test_realloc_mremap), T(test_realloc_reserve), T(test_realloc_populates_ahead), T(test_realloc_populates_from_mid_page),
        T(test_alignment), T(test_aligned_empty_block_is_ours),
        T(test_destroy_reclaims), T(test_decay_other_shards), T(test_threads), T(test_zeroed), T(test_carved_resize_stays_in_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
