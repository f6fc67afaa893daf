/* test_heaplimit.c -- the hard heap limit (collector.h: max_heap, oom_hook)
 * of marksweep and boehm: live data past the limit is reported through the
 * hook and the allocation fails with ENOMEM, never a crash; garbage many
 * times the limit is collected and never pushes marksweep's heap past it;
 * a heap barely above its live data is out of memory by marksweep's
 * thrashing rule; a collector that takes no limit refuses one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "collectors/collector.h"

typedef struct oom_seen {
    int calls;
    size_t asked;
    uint64_t used, limit;
} oom_seen;

static void on_oom(void *arg, size_t asked, uint64_t used, uint64_t limit)
{
    oom_seen *o = arg;
    o->calls++;
    o->asked = asked;
    o->used = used;
    o->limit = limit;
}

typedef struct fx {
    const hb_allocator *a;
    void *as;
    hb_heap *h;
    oom_seen oom;
} fx;

static int make(fx *f, const char *collector, size_t max_heap)
{
    memset(f, 0, sizeof *f);
    f->a = hb_allocator_find("system");
    assert_int_equal(f->a->init(&f->as, NULL), 0);
    hb_heap_config cfg = {.alloc = f->a, .alloc_state = f->as, .max_heap = max_heap, .oom_hook = on_oom,
                          .hook_arg = &f->oom};
    return hb_heap_new(&f->h, hb_collector_find(collector), &cfg);
}

static void unmake(fx *f)
{
    hb_heap_destroy(f->h);
    f->a->destroy(f->as);
}

/* x = []; while True: x.append(big int): live data grows past 1 MiB */
static void live_past_limit(const char *collector, size_t limit, int check_used)
{
    fx f;
    assert_int_equal(make(&f, collector, limit), 0);
    hb_scope s;
    hb_scope_enter(f.h, &s);
    hb_object **x = hb_var(f.h);
    hb_set_new(f.h, x, hb_list_new(f.h));
    assert_non_null(*x);
    int failed = 0;
    for (long i = 0; i < 10 * 1000 * 1000 && !failed; i++) {
        hb_object *v = hb_int_new(f.h, 1000 + i);
        if (!v) {
            assert_int_equal(errno, ENOMEM);
            failed = 1;
            break;
        }
        if (hb_list_append_new(f.h, *x, v)) {
            assert_int_equal(errno, ENOMEM);
            failed = 1;
        }
        if (check_used) /* marksweep: heap.c's count never passes the limit */
            assert_true(hb_heap_live_bytes(f.h) <= limit);
    }
    assert_true(failed);
    assert_true(f.oom.calls >= 1);
    assert_int_equal(f.oom.limit, limit);
    assert_true(f.oom.asked > 0);
    if (check_used) {
        assert_true(f.oom.used <= limit);
        assert_true(f.oom.used + f.oom.asked > limit);
        assert_true(f.oom.used > limit / 2); /* it ran out because of live data, not early */
    }
    hb_scope_leave(f.h, &s);
    unmake(&f);
}

static void test_marksweep_live_past_limit(void **state)
{
    (void)state;
    live_past_limit("marksweep", 1 << 20, 1);
}

static void test_boehm_live_past_limit(void **state)
{
    (void)state;
    if (!hb_collector_find("boehm"))
        skip();
    live_past_limit("boehm", 4 << 20, 0);
}

/* for i in range(10**6): t = [i, i + 1]  -- ~100 MiB allocated in all, a
 * few hundred bytes live: under a 256 KiB limit it runs, collecting */
static void test_marksweep_garbage_fits(void **state)
{
    (void)state;
    fx f;
    size_t limit = 256 << 10;
    assert_int_equal(make(&f, "marksweep", limit), 0);
    hb_scope s;
    hb_scope_enter(f.h, &s);
    hb_object **t = hb_var(f.h);
    for (long i = 0; i < 1000 * 1000; i++) {
        hb_set_new(f.h, t, hb_list_new(f.h));
        assert_non_null(*t);
        assert_int_equal(hb_list_append_new(f.h, *t, hb_int_new(f.h, 1000 + i)), 0);
        assert_int_equal(hb_list_append_new(f.h, *t, hb_int_new(f.h, 1001 + i)), 0);
        assert_true(hb_heap_live_bytes(f.h) <= limit);
    }
    assert_int_equal(f.oom.calls, 0);
    assert_true(f.h->collections > 100);
    hb_scope_leave(f.h, &s);
    unmake(&f);
}

/* live data within 1/32 of the limit, then garbage: every collection
 * leaves too little free, and the fourth in a row is out of memory */
static void test_marksweep_thrash(void **state)
{
    (void)state;
    fx f;
    size_t limit = 1 << 20;
    assert_int_equal(make(&f, "marksweep", limit), 0);
    hb_scope s;
    hb_scope_enter(f.h, &s);
    hb_object **x = hb_var(f.h), **t = hb_var(f.h);
    hb_set_new(f.h, x, hb_list_new(f.h));
    /* live data to within 1/48 of the limit, in lists of 64 (a buffer's
     * doubling stays small), then garbage */
    hb_object **inner = hb_var(f.h);
    for (long i = 0; hb_heap_live_bytes(f.h) < limit - limit / 48; i++) {
        if (i % 64 == 0) {
            hb_set_new(f.h, inner, hb_list_new(f.h));
            assert_int_equal(hb_list_append(f.h, *x, *inner), 0);
        }
        assert_int_equal(hb_list_append_new(f.h, *inner, hb_int_new(f.h, 1000 + i)), 0);
    }
    assert_int_equal(f.oom.calls, 0);
    for (long k = 0; k < 10 * 1000 * 1000 && !f.oom.calls; k++)
        hb_set_new(f.h, t, hb_int_new(f.h, 1000 + k));
    assert_int_equal(f.oom.calls, 1);
    assert_int_equal(f.oom.asked, 0); /* the thrashing rule, not an allocation */
    hb_scope_leave(f.h, &s);
    unmake(&f);
}

static void test_no_limit_for_rc(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(make(&f, "rc", 1 << 20), ENOTSUP);
    f.a->destroy(f.as);
    assert_int_equal(make(&f, "rcgen", 1 << 20), ENOTSUP);
    f.a->destroy(f.as);
    /* and no limit is no limit */
    assert_int_equal(make(&f, "marksweep", 0), 0);
    assert_int_equal(f.h->limit, 0);
    unmake(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marksweep_live_past_limit), cmocka_unit_test(test_boehm_live_past_limit),
        cmocka_unit_test(test_marksweep_garbage_fits),    cmocka_unit_test(test_marksweep_thrash),
        cmocka_unit_test(test_no_limit_for_rc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
