/* test_workloads.c -- every workload through the contract, as the harness
 * drives it, on the system allocator; and proof that the self-checks catch
 * an allocator that hands out overlapping blocks. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_yield, pthread_barrier_t */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/workload.h"
#include "overrides.h"

extern const hb_allocator hb_system_allocator;

/* ---- A driver that mimics the harness. ---- */

typedef struct worker {
    const hb_workload *wl;
    const hb_allocator *a;
    void *as, *w;
    int tid, rc;
    pthread_barrier_t *barrier;
    hb_counts counts;
} worker;

static void *worker_main(void *arg)
{
    worker *k = arg;
    k->a->thread_attach(k->as);
    pthread_barrier_wait(k->barrier);
    k->rc = k->wl->run(k->w, k->tid, &k->counts);
    k->a->thread_detach(k->as);
    return NULL;
}

/* Runs one cell: setup, run on `threads` threads at once (or one after
 * another on this thread when `sequential`, for deterministic fault tests),
 * check, teardown. Returns check's verdict; err holds its message. */
static int drive(const char *name, const hb_allocator *a, void *as, int threads,
                 const override *ov, int sequential, hb_counts *sum, char *err, size_t errlen)
{
    const hb_workload *wl = hb_workload_find(name);
    assert_non_null(wl);
    assert_true(threads >= wl->min_threads);
    hb_ctx ctx = {.alloc = a, .alloc_state = as, .threads = threads, .size = HB_SIZE_SMALL,
                  .seed = 0x5eed0000u + (uint64_t)threads};
    resolve(wl, &ctx, ov);

    void *w = NULL;
    assert_int_equal(wl->setup(&ctx, &w), 0);
    worker k[8];
    assert_true(threads <= 8);
    pthread_barrier_t barrier;
    pthread_t th[8];
    assert_int_equal(pthread_barrier_init(&barrier, NULL, sequential ? 1 : (unsigned)threads), 0);
    for (int i = 0; i < threads; i++)
        k[i] = (worker){.wl = wl, .a = a, .as = as, .w = w, .tid = i, .barrier = &barrier};
    for (int i = 0; i < threads; i++) {
        if (sequential)
            worker_main(&k[i]);
        else
            assert_int_equal(pthread_create(&th[i], NULL, worker_main, &k[i]), 0);
    }
    *sum = (hb_counts){0};
    for (int i = 0; i < threads; i++) {
        if (!sequential)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(k[i].rc, 0);
        sum->ops += k[i].counts.ops;
        sum->allocs += k[i].counts.allocs;
        sum->frees += k[i].counts.frees;
    }
    pthread_barrier_destroy(&barrier);
    err[0] = '\0';
    int verdict = wl->check(w, err, errlen);
    wl->teardown(w);
    return verdict;
}

static void *sys_init(void)
{
    void *as = NULL;
    assert_int_equal(hb_system_allocator.init(&as, NULL), 0);
    return as;
}

static void expect_ok(const char *name, int threads, const override *ov, hb_counts *sum)
{
    void *as = sys_init();
    char err[256];
    int v = drive(name, &hb_system_allocator, as, threads, ov, 0, sum, err, sizeof err);
    if (v)
        fail_msg("%s with %d threads failed its check: %s", name, threads, err);
    hb_system_allocator.destroy(as);
}

/* ---- A faulty allocator: bump allocation that, once, returns the block it
 * returned on the previous call again, so two live blocks overlap. Frees
 * are no-ops, so nothing is ever freed twice for real. ---- */

typedef struct evil {
    pthread_mutex_t lock;
    char *base, *cur, *end, *prev;
    uint64_t calls, dup_at;
} evil;

static evil evil_heap;

static int evil_init(void **st, const char *opt)
{
    (void)opt;
    size_t n = (size_t)64 << 20;
    evil_heap.base = malloc(n);
    if (!evil_heap.base)
        return ENOMEM;
    pthread_mutex_init(&evil_heap.lock, NULL);
    evil_heap.cur = evil_heap.base;
    evil_heap.end = evil_heap.base + n;
    evil_heap.prev = NULL;
    evil_heap.calls = 0;
    *st = &evil_heap;
    return 0;
}

static void *evil_alloc_aligned(void *st, size_t align, size_t n)
{
    evil *e = st;
    pthread_mutex_lock(&e->lock);
    char *p = (char *)(((uintptr_t)e->cur + align - 1) & ~(uintptr_t)(align - 1));
    if (++e->calls == e->dup_at && e->prev)
        p = e->prev;
    char *next = p + ((n + 15) & ~(size_t)15);
    if (next > e->end) {
        pthread_mutex_unlock(&e->lock);
        errno = ENOMEM;
        return NULL;
    }
    if (next > e->cur)
        e->cur = next;
    e->prev = p;
    pthread_mutex_unlock(&e->lock);
    return p;
}

static void *evil_alloc(void *st, size_t n) { return evil_alloc_aligned(st, 16, n); }
static void evil_free(void *st, void *p, size_t n) { (void)st, (void)p, (void)n; }
static int evil_attach(void *st) { (void)st; return 0; }
static void evil_detach(void *st) { (void)st; }

static void evil_destroy(void *st)
{
    evil *e = st;
    pthread_mutex_destroy(&e->lock);
    free(e->base);
}

static const hb_allocator evil_allocator = {
    .name = "evil", .doc = "returns one block twice", .init = evil_init,
    .alloc = evil_alloc, .alloc_aligned = evil_alloc_aligned, .free = evil_free,
    .thread_attach = evil_attach, .thread_detach = evil_detach, .destroy = evil_destroy,
};

/* Run sequentially on the faulty allocator; returns check's verdict. */
static int drive_evil(const char *name, int threads, const override *ov, uint64_t dup_at,
                      char *err, size_t errlen)
{
    void *as = NULL;
    assert_int_equal(evil_allocator.init(&as, NULL), 0);
    evil_heap.dup_at = dup_at;
    hb_counts sum;
    int v = drive(name, &evil_allocator, as, threads, ov, 1, &sum, err, errlen);
    evil_allocator.destroy(as);
    if (v)
        print_message("  %s caught it: %s\n", name, err);
    return v;
}

/* ---- The registry. ---- */

static void test_registry(void **state)
{
    (void)state;
    static const char *const names[] = {"churn", "xthread", "larson", "scratch"};
    assert_true(hb_workload_count >= 4);
    for (size_t i = 0; i < 4; i++) {
        assert_ptr_equal(hb_workloads[i], hb_workload_find(names[i]));
        assert_string_equal(hb_workloads[i]->name, names[i]);
    }
    assert_null(hb_workload_find("nope"));
    for (size_t i = 0; i < hb_workload_count; i++) {
        const hb_workload *w = hb_workloads[i];
        assert_non_null(w->doc);
        assert_true(w->min_threads >= 1);
        int n = 0;
        for (; w->params[n].name; n++) {
            assert_int_equal(hb_workload_param_index(w, w->params[n].name), n);
            for (int s = 0; s < HB_SIZE_COUNT; s++)
                assert_in_range(w->params[n].preset[s], w->params[n].min, w->params[n].max);
        }
        assert_true(n <= HB_MAX_PARAMS);
        assert_int_equal(hb_workload_param_index(w, "no_such_param"), -1);
    }
    assert_int_equal(hb_workload_find("xthread")->min_threads, 2);
}

static void test_rejects_inverted_sizes(void **state)
{
    (void)state;
    static const char *const names[] = {"churn", "xthread", "larson"};
    void *as = sys_init();
    for (size_t i = 0; i < 3; i++) {
        const hb_workload *wl = hb_workload_find(names[i]);
        hb_ctx ctx = {.alloc = &hb_system_allocator, .alloc_state = as, .threads = 2};
        resolve(wl, &ctx, (const override[]){{"min_size", 256}, {"max_size", 128}, {NULL, 0}});
        void *w = NULL;
        assert_int_equal(wl->setup(&ctx, &w), EINVAL);
    }
    hb_system_allocator.destroy(as);
}

/* ---- Each workload passes its own check on a correct allocator. ---- */

static void test_churn(void **state)
{
    (void)state;
    const override ov[] = {{"ops", 20000}, {"live", 300}, {NULL, 0}};
    for (int t = 1; t <= 2; t++) {
        hb_counts c;
        expect_ok("churn", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)t * (20000 + 300));
        assert_int_equal(c.allocs, c.frees);
    }
    /* All blocks the same size, and one slot: the edges of the ranges. */
    hb_counts c;
    expect_ok("churn", 1,
              (const override[]){{"ops", 1000}, {"live", 1}, {"min_size", 16},
                                 {"max_size", 16}, {NULL, 0}},
              &c);
}

static void test_xthread(void **state)
{
    (void)state;
    const override ov[] = {{"ops", 20000}, {"ring", 16}, {NULL, 0}};
    /* 3 and 5: one producer feeds two consumers. */
    for (int t = 2; t <= 5; t++) {
        hb_counts c;
        expect_ok("xthread", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)(t / 2) * 20000);
        assert_int_equal(c.allocs, c.ops);
        assert_int_equal(c.frees, c.ops);
    }
    /* A ring of one, and fewer blocks than a producer has consumers. */
    hb_counts c;
    expect_ok("xthread", 2, (const override[]){{"ops", 500}, {"ring", 1}, {NULL, 0}}, &c);
    expect_ok("xthread", 3, (const override[]){{"ops", 1}, {"ring", 4}, {NULL, 0}}, &c);
    assert_int_equal(c.frees, 1);
}

static void test_bleed(void **state)
{
    (void)state;
    const override ov[] = {{"ops", 20000}, {"slots", 500}, {NULL, 0}};
    for (int t = 1; t <= 2; t++) {
        hb_counts c;
        expect_ok("bleed", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)t * 20000 + 500);
        assert_int_equal(c.allocs - c.frees, 500);
    }
    /* Fewer slots than threads leaves a stripe empty. */
    hb_counts c;
    expect_ok("bleed", 3, (const override[]){{"ops", 2000}, {"slots", 2}, {NULL, 0}}, &c);
}

/* Chains of successor threads: 7 workers per thread (the last does less),
 * each attaching and detaching on its own; a chain of one; one slot each. */
static void test_larson(void **state)
{
    (void)state;
    const override ov[] = {{"ops", 6500}, {"chunks", 100}, {"rounds", 10}, {NULL, 0}};
    for (int t = 1; t <= 3; t++) {
        hb_counts c;
        expect_ok("larson", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)t * 6500);
        assert_int_equal(c.allocs, c.ops);
        assert_int_equal(c.frees, c.ops);
    }
    hb_counts c;
    expect_ok("larson", 2, (const override[]){{"ops", 50}, {"chunks", 10}, {NULL, 0}}, &c);
    expect_ok("larson", 2,
              (const override[]){{"ops", 30}, {"chunks", 1}, {"rounds", 1}, {"min_size", 8},
                                 {"max_size", 8}, {NULL, 0}},
              &c);
    assert_int_equal(c.ops, 60);
}

/* 1 thread sends to itself; 2 and 3 in a ring; a ring of one entry that is
 * nearly always full; everything sent, nothing sent. */
static void test_mixed_remote(void **state)
{
    (void)state;
    const override ov[] = {{"ops", 20000}, {"live", 200}, {NULL, 0}};
    for (int t = 1; t <= 3; t++) {
        hb_counts c;
        expect_ok("mixed_remote", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)t * 20000);
        assert_int_equal(c.allocs, (uint64_t)t * (20000 + 200));
        assert_int_equal(c.frees, c.allocs);
    }
    hb_counts c;
    expect_ok("mixed_remote", 2, (const override[]){{"ops", 5000}, {"ring", 1}, {NULL, 0}}, &c);
    expect_ok("mixed_remote", 2,
              (const override[]){{"ops", 5000}, {"remote_pct", 100}, {"live", 1}, {NULL, 0}}, &c);
    expect_ok("mixed_remote", 2,
              (const override[]){{"ops", 5000}, {"remote_pct", 0}, {"min_size", 16},
                                 {"max_size", 16}, {NULL, 0}},
              &c);
}

/* An allocator that counts the frees made by a thread other than the one
 * that allocated the block (its thread's mark in a header word). */
static _Thread_local char remote_me;
static _Atomic uint64_t remote_seen;

static int remote_init(void **st, const char *opt) { (void)opt; *st = NULL; return 0; }
static void *remote_alloc_aligned(void *st, size_t align, size_t n)
{
    (void)st;
    char *raw = malloc(n + align + 16);
    if (!raw)
        return NULL;
    char *p = (char *)(((uintptr_t)raw + 16 + align - 1) & ~(uintptr_t)(align - 1));
    ((char **)p)[-1] = raw;
    ((char **)p)[-2] = &remote_me;
    return p;
}
static void *remote_alloc(void *st, size_t n) { return remote_alloc_aligned(st, 16, n); }
static void remote_free(void *st, void *p, size_t n)
{
    (void)st, (void)n;
    if (((char **)p)[-2] != &remote_me)
        atomic_fetch_add(&remote_seen, 1);
    free(((char **)p)[-1]);
}
static void remote_destroy(void *st) { (void)st; }

static const hb_allocator remote_allocator = {
    .name = "remote", .doc = "counts remote frees", .init = remote_init, .alloc = remote_alloc,
    .alloc_aligned = remote_alloc_aligned,    .free = remote_free, .thread_attach = evil_attach, .thread_detach = evil_detach,
    .destroy = remote_destroy,
};

/* Every block chosen for sending reaches the other thread, even through a
 * ring of one entry that is nearly always full: with remote_pct 100 each
 * thread's ops replaced blocks are all freed by the other thread. (The
 * sender used to free the block itself when the ring was full, so the
 * share of remote frees depended on the scheduler.) */
static void test_mixed_remote_sends_all(void **state)
{
    (void)state;
    const override ov[] = {{"ops", 20000}, {"live", 64}, {"ring", 1}, {"remote_pct", 100}, {NULL, 0}};
    atomic_store(&remote_seen, 0);
    hb_counts c;
    char err[256];
    int v = drive("mixed_remote", &remote_allocator, NULL, 2, ov, 0, &c, err, sizeof err);
    if (v)
        fail_msg("mixed_remote failed its check: %s", err);
    assert_int_equal(atomic_load(&remote_seen), 2 * 20000);
}

/* Block sizes as mixed_remote asks for them: log-uniform, an equal share
 * in each doubling from min_size to max_size and none at max_size itself
 * (a clamped extra doubling once put 1 block in 11 at exactly 16 KiB). */
static _Atomic uint64_t size_hist[12], size_at_max;

static void *sizes_alloc(void *st, size_t n)
{
    (void)st;
    if (n >= 16 && n < 16384)
        atomic_fetch_add(&size_hist[63 - __builtin_clzll(n / 16)], 1);
    if (n == 16384)
        atomic_fetch_add(&size_at_max, 1);
    return malloc(n);
}
static void *sizes_alloc_aligned(void *st, size_t align, size_t n)
{
    (void)st;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, n) ? NULL : p;
}
static void sizes_free(void *st, void *p, size_t n) { (void)st, (void)n; free(p); }

static const hb_allocator sizes_allocator = {
    .name = "sizes", .doc = "histogram of sizes", .init = remote_init, .alloc = sizes_alloc,
    .alloc_aligned = sizes_alloc_aligned, .free = sizes_free, .thread_attach = evil_attach,
    .thread_detach = evil_detach, .destroy = remote_destroy,
};

static void test_mixed_remote_sizes(void **state)
{
    (void)state;
    /* live 2000 as the defaults; the workload's own arrays asked for
     * through alloc (the slots, 16000 B, and the ring, 8192 B) land in the
     * top doubling, two blocks among about 10000 */
    const override ov[] = {{"ops", 100000}, {"live", 2000}, {NULL, 0}};
    for (size_t i = 0; i < 12; i++)
        atomic_store(&size_hist[i], 0);
    atomic_store(&size_at_max, 0);
    hb_counts c;
    char err[256];
    int v = drive("mixed_remote", &sizes_allocator, NULL, 1, ov, 0, &c, err, sizeof err);
    if (v)
        fail_msg("mixed_remote failed its check: %s", err);
    assert_int_equal(atomic_load(&size_at_max), 0);
    uint64_t total = 0;
    for (size_t i = 0; i < 10; i++)
        total += atomic_load(&size_hist[i]);
    assert_true(total >= 100000);
    for (size_t i = 0; i < 10; i++) {
        uint64_t k = atomic_load(&size_hist[i]);
        if (k < total / 10 * 9 / 10 || k > total / 10 * 11 / 10)
            fail_msg("doubling %zu (from %zu B): %llu of %llu blocks, not about a tenth", i,
                     (size_t)16 << i, (unsigned long long)k, (unsigned long long)total);
    }
}

static void test_scratch(void **state)
{
    (void)state;
    const override ov[] = {{"iterations", 2000}, {"writes", 10}, {"obj_size", 24}, {NULL, 0}};
    for (int t = 1; t <= 2; t++) {
        hb_counts c;
        expect_ok("scratch", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)t * 2000);
        assert_int_equal(c.frees, c.allocs + (uint64_t)t); /* the given objects */
    }
}

/* The size workloads (issue 15): large blocks, realloc growth, class edges. */
static void test_large(void **state)
{
    (void)state;
    const override ov[] = {{"ops", 20}, {"live", 3}, {"min_kb", 64}, {"max_kb", 2048}, {NULL, 0}};
    for (int t = 1; t <= 2; t++) {
        hb_counts c;
        expect_ok("large", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)t * (20 + 3));
        assert_int_equal(c.allocs, c.frees);
    }
    hb_counts c;
    expect_ok("large", 1, (const override[]){{"ops", 3}, {"live", 1}, {"min_kb", 1}, {"max_kb", 1}, {NULL, 0}},
              &c);
}

static void test_resize(void **state)
{
    (void)state;
    const override ov[] = {{"ops", 3000}, {"slots", 64}, {"max_kb", 40}, {"big_kb", 80}, {NULL, 0}};
    for (int t = 1; t <= 2; t++) {
        hb_counts c;
        expect_ok("resize", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)t * 3000);
        assert_int_equal(c.allocs, c.frees);
    }
}

static void test_realloc_grow(void **state)
{
    (void)state;
    const override ov[] = {{"strings", 30}, {"final_kb", 40}, {"step", 1000}, {NULL, 0}};
    for (int t = 1; t <= 2; t++) {
        hb_counts c;
        expect_ok("realloc_grow", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)t * 30 * 41); /* 40960 B in steps of 1000: 41 */
        assert_int_equal(c.allocs, c.frees);
    }
    /* A step larger than the final size: one realloc per string. */
    hb_counts c;
    expect_ok("realloc_grow", 1, (const override[]){{"strings", 3}, {"final_kb", 1}, {"step", 5000}, {NULL, 0}},
              &c);
    assert_int_equal(c.ops, 3);
}

static void test_class_edges(void **state)
{
    (void)state;
    const override ov[] = {{"per_size_kb", 64}, {"max_log", 12}, {"rounds", 2}, {NULL, 0}};
    /* 2^k + 1 for k = 4..12 and 1.5 * 2^k + 1 for k = 4..11: each gets
     * floor(65536 / size) blocks per round. */
    uint64_t want = 0;
    for (int k = 4; k <= 12; k++) {
        uint64_t s = ((uint64_t)1 << k) + 1;
        want += 65536 / s * s;
        if (k < 12) {
            s = ((uint64_t)3 << (k - 1)) + 1;
            want += 65536 / s * s;
        }
    }
    for (int t = 1; t <= 2; t++) {
        hb_counts c;
        expect_ok("class_edges", t, ov, &c);
        assert_int_equal(c.ops, (uint64_t)t * 2 * want);
        assert_int_equal(c.allocs, c.frees);
    }
}

/* ---- The checks catch overlapping blocks. ---- */

static void test_churn_catches_overlap(void **state)
{
    (void)state;
    char err[256];
    /* Call 1 is the state, 2 the slot array, 3..102 the prefill. */
    const override ov[] = {{"ops", 2000}, {"live", 100}, {NULL, 0}};
    assert_int_equal(drive_evil("churn", 1, ov, 0, err, sizeof err), 0);
    assert_int_not_equal(drive_evil("churn", 1, ov, 500, err, sizeof err), 0);
    assert_non_null(strstr(err, "corrupted"));
}

static void test_xthread_catches_overlap(void **state)
{
    (void)state;
    char err[256];
    /* A ring as big as the work lets the producer finish before its
     * consumer starts, so the overlap is seen deterministically. */
    const override ov[] = {{"ops", 2000}, {"ring", 2000}, {NULL, 0}};
    assert_int_equal(drive_evil("xthread", 2, ov, 0, err, sizeof err), 0);
    assert_int_not_equal(drive_evil("xthread", 2, ov, 1000, err, sizeof err), 0);
    assert_non_null(strstr(err, "bad blocks"));
}

static void test_bleed_catches_overlap(void **state)
{
    (void)state;
    char err[256];
    const override ov[] = {{"ops", 2000}, {"slots", 100}, {NULL, 0}};
    assert_int_equal(drive_evil("bleed", 1, ov, 0, err, sizeof err), 0);
    assert_int_not_equal(drive_evil("bleed", 1, ov, 1000, err, sizeof err), 0);
}

/* Calls 1 and 2 are the state and the slots, 3..102 the warm-up's blocks,
 * then 400 replacements: 700 lands in the first worker's rounds, 150 in the
 * warm-up. */
static void test_larson_catches_overlap(void **state)
{
    (void)state;
    char err[256];
    const override ov[] = {{"ops", 2000}, {"chunks", 100}, {"rounds", 5}, {NULL, 0}};
    assert_int_equal(drive_evil("larson", 1, ov, 0, err, sizeof err), 0);
    assert_int_not_equal(drive_evil("larson", 1, ov, 700, err, sizeof err), 0);
    assert_non_null(strstr(err, "corrupted"));
    assert_int_not_equal(drive_evil("larson", 1, ov, 150, err, sizeof err), 0);
}

/* Calls 1-4 are the state, the ring array, one ring's slots and the slots
 * of live blocks; 5..104 the first 100 blocks. */
static void test_mixed_remote_catches_overlap(void **state)
{
    (void)state;
    char err[256];
    const override ov[] = {{"ops", 2000}, {"live", 100}, {"ring", 4000}, {NULL, 0}};
    assert_int_equal(drive_evil("mixed_remote", 1, ov, 0, err, sizeof err), 0);
    assert_int_not_equal(drive_evil("mixed_remote", 1, ov, 700, err, sizeof err), 0);
}

static void test_scratch_catches_overlap(void **state)
{
    (void)state;
    char err[256];
    /* Calls: 1 state, 2 the pointer array, 3 and 4 the given objects. */
    const override ov[] = {{"iterations", 100}, {"writes", 2}, {NULL, 0}};
    assert_int_equal(drive_evil("scratch", 2, ov, 0, err, sizeof err), 0);
    assert_int_not_equal(drive_evil("scratch", 2, ov, 4, err, sizeof err), 0);
    assert_non_null(strstr(err, "overwritten"));
}

static void test_size_workloads_catch_overlap(void **state)
{
    (void)state;
    char err[256];
    /* Call 1 is the state, 2 the slot array, then the blocks. */
    const override lov[] = {{"ops", 10}, {"live", 2}, {"min_kb", 8}, {"max_kb", 64}, {NULL, 0}};
    assert_int_equal(drive_evil("large", 1, lov, 0, err, sizeof err), 0);
    assert_int_not_equal(drive_evil("large", 1, lov, 6, err, sizeof err), 0);
    /* The evil allocator has no realloc: only class_edges here. Calls 1-3
     * are the state and two arrays. */
    const override eov[] = {{"per_size_kb", 16}, {"max_log", 8}, {"rounds", 1}, {NULL, 0}};
    assert_int_equal(drive_evil("class_edges", 1, eov, 0, err, sizeof err), 0);
    assert_int_not_equal(drive_evil("class_edges", 1, eov, 50, err, sizeof err), 0);
    assert_non_null(strstr(err, "corrupted"));
}

/* realloc that loses contents: alloc + copy of only the first half. */
static void *halfcopy_realloc(void *st, void *p, size_t old, size_t n)
{
    void *q = hb_system_allocator.alloc(st, n);
    if (q && p)
        memcpy(q, p, (old < n ? old : n) / 2);
    hb_system_allocator.free(st, p, old);
    return q;
}

static void test_realloc_grow_catches_loss(void **state)
{
    (void)state;
    hb_allocator bad = hb_system_allocator;
    bad.name = "halfcopy";
    bad.realloc = halfcopy_realloc;
    void *as = sys_init();
    hb_counts sum;
    char err[256];
    const override ov[] = {{"strings", 4}, {"final_kb", 8}, {"step", 1024}, {NULL, 0}};
    assert_int_not_equal(drive("realloc_grow", &bad, as, 1, ov, 1, &sum, err, sizeof err), 0);
    assert_non_null(strstr(err, "lost"));
    assert_int_equal(drive("realloc_grow", &hb_system_allocator, as, 1, ov, 1, &sum, err, sizeof err), 0);
    /* resize: the kept half's last byte is read after each realloc. */
    const override rov[] = {{"ops", 2000}, {"slots", 16}, {"max_kb", 4}, {"big_kb", 4}, {NULL, 0}};
    assert_int_not_equal(drive("resize", &bad, as, 1, rov, 1, &sum, err, sizeof err), 0);
    assert_non_null(strstr(err, "lost"));
    assert_int_equal(drive("resize", &hb_system_allocator, as, 1, rov, 1, &sum, err, sizeof err), 0);
    hb_system_allocator.destroy(as);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_rejects_inverted_sizes),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_xthread),
        cmocka_unit_test(test_larson),
        cmocka_unit_test(test_bleed),
        cmocka_unit_test(test_mixed_remote),
        cmocka_unit_test(test_mixed_remote_sends_all),
        cmocka_unit_test(test_mixed_remote_sizes),
        cmocka_unit_test(test_scratch),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_realloc_grow),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_class_edges),
        cmocka_unit_test(test_churn_catches_overlap),
        cmocka_unit_test(test_xthread_catches_overlap),
        cmocka_unit_test(test_larson_catches_overlap),
        cmocka_unit_test(test_bleed_catches_overlap),
        cmocka_unit_test(test_mixed_remote_catches_overlap),
        cmocka_unit_test(test_scratch_catches_overlap),
        cmocka_unit_test(test_size_workloads_catch_overlap),
        cmocka_unit_test(test_realloc_grow_catches_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
