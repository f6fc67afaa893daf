/* test_collector_workloads.c -- every collector workload through the
 * contract as the harness drives it: per thread, thread_attach, a heap of
 * the cell's collector over the cell's allocator (threshold params applied
 * to its config), run with out->heap set, the verifying leak trace, the
 * heap's destruction; setup before and check/teardown after. At size
 * small, on every collector x {system, arena}, 1 and 2 threads (boehm: 1,
 * one heap per process). And proof that a check fails when the result is
 * wrong.
 *
 * Shared heaps (`test_collector_workloads shared` runs only those; without
 * an argument, everything else): as `--heap shared` drives them, one heap
 * made by the main thread, every worker attached to it around run; the
 * workloads that declare HB_HEAP_SHARED on rc, rcgen and marksweep, with
 * atomic and biased counts, at 1, 2 and 4 threads (only 2 and 4 under
 * TSan), after which the heap holds nothing any root reaches, and nothing
 * at all but rc's cycles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workloads/workload.h"
#include "overrides.h"

extern const hb_collector hb_rcgen_collector;

typedef struct worker {
    const hb_workload *wl;
    const hb_collector *c;
    const hb_allocator *a;
    void *as, *w;
    const hb_ctx *ctx;
    int tid, rc, heap_rc;
    hb_heap *shared; /* the one heap of a shared cell, made by the main thread */
    hb_counts counts;
    hb_hist *hist;
    int apply_thresholds;
    uint64_t leaked, leaked_bytes, events;
} worker;

static int apply_thresholds = 1; /* 0: a harness that forgot to */

static void on_event(void *arg, const hb_gc_event *ev)
{
    worker *k = arg;
    (void)ev;
    k->events++;
}

/* Heaps of the cell: isolated (HEAP_ISOLATED) or shared, with atomic or
 * biased counts. */
enum { HEAP_ISOLATED, HEAP_ATOMIC, HEAP_BIASED };

static hb_heap_config cell_config(const hb_workload *wl, const hb_ctx *ctx, const hb_allocator *a,
                                  void *as, int apply, int heap)
{
    hb_heap_config cfg = {.alloc = a, .alloc_state = as, .shared = heap != HEAP_ISOLATED,
                          .refcount_mode = heap == HEAP_BIASED ? HB_RC_BIASED : HB_RC_ATOMIC};
    static const char *const th[] = {"threshold", "threshold1", "threshold2"};
    for (int g = 0; g < 3; g++) {
        int i = hb_workload_param_index(wl, th[g]);
        if (i >= 0 && apply)
            cfg.threshold[g] = (long)ctx->param[i];
    }
    return cfg;
}

/* A worker on the shared heap: attached around run, as the harness does. */
static void *shared_worker(void *arg)
{
    worker *k = arg;
    k->a->thread_attach(k->as);
    k->heap_rc = hb_mutator_attach(k->shared);
    if (!k->heap_rc) {
        k->counts.heap = k->shared;
        hb_lat_init(&k->counts.lat, k->hist, 16, (uint64_t)k->tid + 1);
        k->rc = k->wl->run(k->w, k->tid, &k->counts);
        hb_mutator_detach(k->shared);
    }
    k->a->thread_detach(k->as);
    return NULL;
}

static void *worker_main(void *arg)
{
    worker *k = arg;
    k->a->thread_attach(k->as);
    hb_heap_config cfg = cell_config(k->wl, k->ctx, k->a, k->as, k->apply_thresholds, HEAP_ISOLATED);
    cfg.hook = on_event;
    cfg.hook_arg = k;
    k->heap_rc = hb_heap_new(&k->counts.heap, k->c, &cfg);
    if (!k->heap_rc) {
        hb_lat_init(&k->counts.lat, k->hist, 16, (uint64_t)k->tid + 1);
        k->rc = k->wl->run(k->w, k->tid, &k->counts);
        assert_int_equal(hb_heap_leaks(k->counts.heap, &k->leaked, &k->leaked_bytes), 0);
        hb_heap_destroy(k->counts.heap);
    }
    k->a->thread_detach(k->as);
    return NULL;
}

/* One cell; returns check's verdict, err holds its message; *leaked the
 * objects the harness's trace found. */
static int drive_with(const char *name, const hb_collector *c, const char *allocator, int threads,
                      int heap, const override *ov, char *err, size_t errlen, uint64_t *leaked)
{
    const hb_workload *wl = hb_workload_find(name);
    assert_non_null(wl);
    assert_true(wl->needs_collector);
    const hb_allocator *a = hb_allocator_find(allocator);
    assert_non_null(c);
    assert_non_null(a);
    void *as = NULL;
    assert_int_equal(a->init(&as, NULL), 0);
    hb_ctx ctx = {.alloc = a, .alloc_state = as, .collector = c, .threads = threads,
                  .size = HB_SIZE_SMALL, .seed = 0x5eed0000u + (uint64_t)threads};
    resolve(wl, &ctx, ov);
    void *w = NULL;
    assert_int_equal(wl->setup(&ctx, &w), 0);
    worker k[4];
    pthread_t th[4];
    assert_true(threads <= 4);
    hb_heap *shared = NULL;
    if (heap != HEAP_ISOLATED) {
        hb_heap_config cfg = cell_config(wl, &ctx, a, as, apply_thresholds, heap);
        assert_int_equal(hb_heap_new(&shared, c, &cfg), 0);
    }
    /* Boehm registers the thread that initialised it, once per process, and
     * later stops the world by signalling that thread: a boehm cell on a
     * fresh thread works only while the dead first one's pthread_t happens
     * to be reused. So boehm's cells run on this (the main) thread. */
    int here = !strcmp(c->name, "boehm");
    for (int i = 0; i < threads; i++) {
        k[i] = (worker){.wl = wl, .c = c, .a = a, .as = as, .w = w, .ctx = &ctx, .tid = i,
                        .apply_thresholds = apply_thresholds, .shared = shared,
                        .hist = calloc(1, sizeof(hb_hist))};
        assert_non_null(k[i].hist);
        if (here)
            worker_main(&k[i]);
        else
            assert_int_equal(pthread_create(&th[i], NULL, shared ? shared_worker : worker_main, &k[i]),
                             0);
    }
    *leaked = 0;
    for (int i = 0; i < threads; i++) {
        if (!here)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(k[i].heap_rc, 0);
        assert_int_equal(k[i].rc, 0);
        *leaked += k[i].leaked;
        free(k[i].hist);
    }
    if (shared) { /* no thread attached: the trace runs alone */
        uint64_t bytes;
        assert_int_equal(hb_heap_leaks(shared, leaked, &bytes), 0);
        hb_heap_destroy(shared);
    }
    err[0] = '\0';
    int verdict = wl->check(w, err, errlen);
    wl->teardown(w);
    a->destroy(as);
    return verdict;
}

static int drive(const char *name, const char *collector, const char *allocator, int threads,
                 const override *ov, char *err, size_t errlen, uint64_t *leaked)
{
    return drive_with(name, hb_collector_find(collector), allocator, threads, HEAP_ISOLATED, ov, err,
                      errlen, leaked);
}

static const char *const collector_workloads[] = {
    "refcount", "identity", "cycles", "selfref", "binary_trees", "generational", "generators",
    "server", "gc_traversal", "gc_cycles", "finalizers", "sidekicks", "tracemalloc",
    "shared_graph",
};
#define N_WORKLOADS (sizeof collector_workloads / sizeof collector_workloads[0])

/* Shorter than small where small is slow under a sanitizer; the shapes,
 * not the lengths, are what is tested. */
static const override *shorter(const char *name)
{
    static const override refcount[] = {{"ops", 200000}, {NULL, 0}};
    static const override cycles[] = {{"ops", 4000}, {NULL, 0}};
    static const override selfref[] = {{"ops", 20000}, {NULL, 0}};
    static const override bt[] = {{"depth", 10}, {NULL, 0}};
    static const override gen[] = {{"ops", 100000}, {NULL, 0}};
    static const override server[] = {{"requests", 3000}, {"cache", 200}, {NULL, 0}};
    static const override gct[] = {{"levels", 300}, {"loops", 10}, {NULL, 0}};
    static const override gcc[] = {{"loops", 20}, {NULL, 0}};
    static const override fin[] = {{"ops", 10000}, {NULL, 0}};
    static const override sk[] = {{"ops", 10000}, {NULL, 0}};
    static const override id[] = {{"ops", 50000}, {NULL, 0}};
    static const override gr[] = {{"n", 50000}, {NULL, 0}};
    static const override tm[] = {{"ops", 2000}, {"passes", 2}, {"cache", 100}, {NULL, 0}};
    static const override sg[] = {{"ops", 20000}, {"nodes", 200}, {NULL, 0}};
    static const override ho[] = {{"ops", 5000}, {"ring", 16}, {NULL, 0}};
    static const struct { const char *n; const override *o; } t[] = {
        {"refcount", refcount}, {"cycles", cycles}, {"selfref", selfref}, {"binary_trees", bt},
        {"generational", gen}, {"server", server}, {"gc_traversal", gct}, {"gc_cycles", gcc},
        {"finalizers", fin}, {"sidekicks", sk}, {"identity", id}, {"generators", gr},
        {"tracemalloc", tm}, {"shared_graph", sg}, {"handoff", ho},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].n, name))
            return t[i].o;
    return NULL;
}

static void run_matrix(const char *allocator, int full)
{
    for (size_t c = 0; c < hb_collector_count; c++) {
        const char *cn = hb_collectors[c]->name;
        if (hb_collectors[c]->external)
            continue; /* cpython: a program, tests/harness/test_cpython.sh */
        int max_threads = strcmp(cn, "boehm") ? 2 : 1; /* boehm: one heap per process */
#if HB_SANITIZER == 2
        /* TSan looks for races: only cells with several threads can have one */
        int min_threads = max_threads;
#else
        int min_threads = 1;
#endif
        for (size_t i = 0; i < N_WORKLOADS; i++)
            for (int t = min_threads; t <= max_threads; t++) {
                char err[512];
                uint64_t leaked;
                const char *w = collector_workloads[i];
                int v = drive(w, cn, allocator, t, full ? NULL : shorter(w), err, sizeof err, &leaked);
                if (v)
                    fail_msg("%s on %s/%s with %d threads failed its check: %s", w, cn, allocator, t,
                             err);
                /* the final collection leaves no garbage but rc's cycles */
                if (strcmp(cn, "rc") && strcmp(cn, "boehm"))
                    assert_int_equal(leaked, 0);
            }
    }
}

#if defined(HB_SANITIZER)
enum { FULL = 0 };
#else
enum { FULL = 1 };
#endif

static void test_system(void **state) { (void)state; run_matrix("system", FULL); }
static void test_arena(void **state) { (void)state; run_matrix("arena", FULL); }

/* The other allocators, with the short parameters. */
static void test_other_allocators(void **state)
{
    (void)state;
    for (size_t i = 0; i < hb_allocator_count; i++) {
        const char *n = hb_allocators[i]->name;
        if (!strcmp(n, "system") || !strcmp(n, "arena") || !strcmp(n, "null"))
            continue;
#if HB_SANITIZER == 2
        /* TSan cannot see inside the uninstrumented libraries: a block they
         * recycle from one thread to another looks like a race that is not
         * ours (as in tests/allocators/stress.c). Ours are instrumented. */
        if (strcmp(n, "freelist") != 0)
            continue;
#endif
        run_matrix(n, 0);
    }
}

static void test_registry(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_WORKLOADS; i++) {
        const hb_workload *w = hb_workload_find(collector_workloads[i]);
        assert_non_null(w);
        assert_true(w->needs_collector);
        assert_non_null(w->doc);
    }
    /* generational's threshold is how a sweep of threshold0 is asked for */
    const hb_workload *g = hb_workload_find("generational");
    int i = hb_workload_param_index(g, "threshold");
    assert_true(i >= 0);
    assert_int_equal(g->params[i].preset[HB_SIZE_SMALL], 700);
}

/* rc leaks exactly the cycles, and the harness's trace sees them. */
static void test_rc_leaks_cycles(void **state)
{
    (void)state;
    char err[512];
    uint64_t leaked;
    const override ov[] = {{"ops", 400}, {"shape", 1}, {NULL, 0}};
    assert_int_equal(drive("cycles", "rc", "system", 1, ov, err, sizeof err, &leaked), 0);
    assert_int_equal(leaked, 800); /* 400 pairs */
    assert_int_equal(drive("cycles", "rcgen", "system", 1, ov, err, sizeof err, &leaked), 0);
    assert_int_equal(leaked, 0);
}

/* The checks fail when the result is wrong. A harness that forgot to apply
 * `threshold` to the heap: generational says so. */
static void test_check_catches_unapplied_threshold(void **state)
{
    (void)state;
    char err[512];
    uint64_t leaked;
    const override ov[] = {{"ops", 20000}, {"threshold", 100}, {NULL, 0}};
    assert_int_equal(drive("generational", "rcgen", "system", 1, ov, err, sizeof err, &leaked), 0);
    apply_thresholds = 0;
    int v = drive("generational", "rcgen", "system", 1, ov, err, sizeof err, &leaked);
    apply_thresholds = 1;
    assert_int_not_equal(v, 0);
    print_message("  caught: %s\n", err);
    assert_non_null(strstr(err, "threshold0 is 700"));
}

/* A collector that claims to find cycles but never collects (rcgen with its
 * collections taken out): the cycle workloads see the garbage left. */
static size_t lazy_collect(hb_heap *h, int gen) { (void)h, (void)gen; return 0; }
static void lazy_maybe(hb_heap *h) { (void)h; }

static hb_collector lazy_collector(void)
{
    hb_collector lazy = hb_rcgen_collector;
    lazy.name = "lazy";
    lazy.collect = lazy_collect;
    lazy.maybe_collect = lazy_maybe;
    lazy.due = NULL; /* shared heaps: never due */
    return lazy;
}

static void test_check_catches_lazy_collector(void **state)
{
    (void)state;
    hb_collector lazy = lazy_collector();
    static const char *const names[] = {"cycles", "selfref", "gc_cycles", "generational",
                                        "finalizers", "sidekicks", "tracemalloc"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char err[512];
        uint64_t leaked;
        int v = drive_with(names[i], &lazy, "system", 1, HEAP_ISOLATED, shorter(names[i]), err,
                           sizeof err, &leaked);
        assert_int_not_equal(v, 0);
        print_message("  %s caught it: %s\n", names[i], err);
        assert_true(leaked > 0);
    }
}

/* ---- shared heaps ---- */

static void run_shared(const char *allocator, int full)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    static const char *const collectors[] = {"rc", "rcgen", "marksweep"};
#if HB_SANITIZER == 2
    static const int threads[] = {2, 4}; /* TSan: only threads can race */
#else
    static const int threads[] = {1, 2, 4};
#endif
    for (size_t i = 0; i < hb_workload_count; i++) {
        const hb_workload *wl = hb_workloads[i];
        if (!(wl->heap_modes & HB_HEAP_SHARED))
            continue;
        for (size_t c = 0; c < sizeof collectors / sizeof collectors[0]; c++)
            for (int heap = HEAP_ATOMIC; heap <= HEAP_BIASED; heap++)
                for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
                    if (threads[t] < wl->min_threads)
                        continue;
                    char err[512];
                    uint64_t leaked;
                    int v = drive_with(wl->name, hb_collector_find(collectors[c]), allocator, threads[t],
                                       heap, full ? NULL : shorter(wl->name), err, sizeof err, &leaked);
                    if (v)
                        fail_msg("%s on a shared %s heap (%s counts) over %s with %d threads failed its "
                                 "check: %s", wl->name, collectors[c], heap == HEAP_BIASED ? "biased" : "atomic",
                                 allocator, threads[t], err);
                    if (strcmp(collectors[c], "rc") != 0)
                        assert_int_equal(leaked, 0);
                }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("  %s: %.1f s\n", allocator, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* Short parameters throughout: a shared cell's stops of the world make it
 * slow on a busy machine, and the shapes are what is tested. */
static void test_shared_system(void **state)
{
    (void)state;
#if HB_SANITIZER == 2
    /* TSan: glibc's malloc is not instrumented, so over it only the
     * collectors' code is checked, which the arena and freelist runs check
     * as well (a third of the test's 4 minutes under TSan) */
    skip();
#else
    run_shared("system", 0);
#endif
}
static void test_shared_arena(void **state) { (void)state; run_shared("arena", 0); }
static void test_shared_freelist(void **state) { (void)state; run_shared("freelist", 0); }

/* The workloads that share, and handoff only on shared heaps. */
static void test_shared_registry(void **state)
{
    (void)state;
    static const char *const both[] = {"shared_graph", "cycles", "generational", "server"};
    for (size_t i = 0; i < sizeof both / sizeof both[0]; i++)
        assert_int_equal(hb_workload_find(both[i])->heap_modes, HB_HEAP_ISOLATED | HB_HEAP_SHARED);
    const hb_workload *h = hb_workload_find("handoff");
    assert_non_null(h);
    assert_int_equal(h->heap_modes, HB_HEAP_SHARED);
    assert_int_equal(h->min_threads, 2);
}

/* A shared heap's check sums the threads' predictions against the heap:
 * a collector that never collects is caught there too. */
static void test_shared_check_catches_lazy_collector(void **state)
{
    (void)state;
    hb_collector lazy = lazy_collector();
    static const char *const names[] = {"cycles", "generational", "shared_graph", "handoff"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char err[512];
        uint64_t leaked;
        int v = drive_with(names[i], &lazy, "system", 2, HEAP_BIASED, shorter(names[i]), err,
                           sizeof err, &leaked);
        assert_int_not_equal(v, 0);
        print_message("  %s caught it: %s\n", names[i], err);
        assert_true(leaked > 0);
    }
}

/* Every class a cell registered is given back by its teardown (cwl.h,
 * hb_classes_release): the indexes are a byte, and this process runs
 * hundreds of cells. */
static int classes0;
static int classes_registered(void)
{
    int n = 0;
    for (int i = HB_TI_FIRST_CLASS; i < HB_TI_COUNT; i++)
        n += hb_types[i] != NULL;
    return n;
}
int main(int argc, char **argv)
{
    /* `shared`: the shared-heap tests only; else all but those */
    if (argc > 1 && strcmp(argv[1], "shared") == 0)
        cmocka_set_test_filter("test_shared*");
    else
        cmocka_set_skip_filter("test_shared*");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_registry),
        cmocka_unit_test(test_shared_check_catches_lazy_collector),
        cmocka_unit_test(test_shared_system),
        cmocka_unit_test(test_shared_arena),
        cmocka_unit_test(test_shared_freelist),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_rc_leaks_cycles),
        cmocka_unit_test(test_check_catches_unapplied_threshold),
        cmocka_unit_test(test_check_catches_lazy_collector),
        cmocka_unit_test(test_system),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_other_allocators),
    };
    classes0 = classes_registered();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    int n = classes_registered();
    if (n != classes0) {
        fprintf(stderr, "%d user classes still registered after the cells, %d before\n", n,
                classes0);
        rc = 1;
    }
    return rc;
}
