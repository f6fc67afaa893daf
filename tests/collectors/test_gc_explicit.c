/* test_gc_explicit.c -- every collection's event says whether the program
 * asked for it (collector.h: hb_gc_event.is_explicit): 1 for what
 * hb_collect (gc.collect()) runs, 0 for what the collector schedules
 * itself inside an allocation, on each backend that collects by itself
 * (rcgen, rcinc, marksweep, and boehm where it is built), with 0 again
 * after an explicit collection, and 0 for the collection heap.c makes when
 * an allocation would cross the heap limit (the program did not ask).
 * Isolated heaps, and shared ones used by one attached thread (their
 * collections stop the world, and their events wait for it to start
 * again: shared.c); with threads asking at once: test_shared_pauses.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "collectors/collector.h"

typedef struct seen {
    uint64_t n, nexplicit; /* events, and those with is_explicit 1 */
    int bad_flag;          /* an is_explicit neither 0 nor 1 */
} seen;

static void on_event(void *arg, const hb_gc_event *ev)
{
    seen *s = arg;
    s->n++;
    s->nexplicit += ev->is_explicit == 1;
    s->bad_flag |= ev->is_explicit != 0 && ev->is_explicit != 1;
}

typedef struct fx {
    const hb_allocator *a;
    void *as;
    hb_heap *h;
    seen s;
} fx;

static int make(fx *f, const char *collector, const hb_heap_config *extra)
{
    memset(f, 0, sizeof *f);
    f->a = hb_allocator_find("system");
    assert_int_equal(f->a->init(&f->as, NULL), 0);
    hb_heap_config cfg = extra ? *extra : (hb_heap_config){0};
    cfg.alloc = f->a;
    cfg.alloc_state = f->as;
    cfg.hook = on_event;
    cfg.hook_arg = &f->s;
    const hb_collector *c = hb_collector_find(collector);
    return c ? hb_heap_new(&f->h, c, &cfg) : ENOENT;
}

static void unmake(fx *f)
{
    hb_heap_destroy(f->h);
    f->a->destroy(f->as);
}

/* x = []; x.append(x); del x -- until `more` more collections have run
 * (at most 4 million times); the number of collections seen. */
static uint64_t cycles_until(fx *f, uint64_t more)
{
    uint64_t want = f->s.n + more;
    hb_scope sc;
    hb_scope_enter(f->h, &sc);
    hb_object **x = hb_var(f->h);
    for (long i = 0; i < 4000000 && f->s.n < want; i++) {
        hb_set_new(f->h, x, hb_list_new(f->h));
        assert_non_null(*x);
        assert_int_equal(hb_list_append(f->h, *x, *x), 0);
    }
    hb_scope_leave(f->h, &sc);
    return f->s.n;
}

/* automatic, explicit (each generation), automatic again */
static void kinds(const char *collector, int shared)
{
    fx f;
#if HB_SANITIZER == 2
    if (shared && !strcmp(collector, "boehm"))
        skip(); /* TSan cannot follow the signals Boehm stops threads with */
#endif
    hb_heap_config cfg = {.shared = shared};
    int rc = make(&f, collector, &cfg);
    if (rc == ENOENT)
        skip(); /* boehm: not built here */
    assert_int_equal(rc, 0);
    if (shared)
        assert_int_equal(hb_mutator_attach(f.h), 0);
    assert_true(cycles_until(&f, 3) >= 3);
    assert_int_equal(f.s.nexplicit, 0);
    int gens = f.h->collector->generations;
    for (int g = -1; g < gens; g++) {
        uint64_t n0 = f.s.n, e0 = f.s.nexplicit;
        hb_collect(f.h, g);
        assert_true(f.s.n > n0);
        assert_int_equal(f.s.nexplicit - e0, f.s.n - n0); /* every event of it explicit */
    }
    uint64_t e1 = f.s.nexplicit, n1 = f.s.n;
    assert_true(cycles_until(&f, 3) >= n1 + 3);
    assert_int_equal(f.s.nexplicit, e1); /* the flag went down with hb_collect */
    assert_false(f.s.bad_flag);
    if (shared)
        hb_mutator_detach(f.h);
    unmake(&f);
}

static void test_rcgen(void **state) { (void)state, kinds("rcgen", 0); }
static void test_rcinc(void **state) { (void)state, kinds("rcinc", 0); }
static void test_marksweep(void **state) { (void)state, kinds("marksweep", 0); }
static void test_boehm(void **state) { (void)state, kinds("boehm", 0); }
static void test_rcgen_shared(void **state) { (void)state, kinds("rcgen", 1); }
static void test_marksweep_shared(void **state) { (void)state, kinds("marksweep", 1); }
static void test_boehm_shared(void **state) { (void)state, kinds("boehm", 1); }

/* marksweep that never schedules a collection of its own (min_heap far
 * above the limit): the collections it makes are heap.c's, when an
 * allocation would cross the limit, and automatic; hb_collect's explicit. */
static void test_heap_limit(void **state)
{
    (void)state;
    fx f;
    hb_heap_config cfg = {.max_heap = 1 << 20, .min_heap = (size_t)1 << 30};
    assert_int_equal(make(&f, "marksweep", &cfg), 0);
    assert_true(cycles_until(&f, 2) >= 2);
    assert_int_equal(f.s.nexplicit, 0);
    hb_collect(f.h, -1);
    assert_int_equal(f.s.nexplicit, 1);
    uint64_t n = f.s.n;
    assert_true(cycles_until(&f, 2) >= n + 2);
    assert_int_equal(f.s.nexplicit, 1);
    unmake(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rcgen),        cmocka_unit_test(test_rcinc),
        cmocka_unit_test(test_marksweep),    cmocka_unit_test(test_boehm),
        cmocka_unit_test(test_rcgen_shared), cmocka_unit_test(test_marksweep_shared),
        cmocka_unit_test(test_boehm_shared), cmocka_unit_test(test_heap_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
