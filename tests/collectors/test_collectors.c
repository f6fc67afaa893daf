/* test_collectors.c -- the documents' examples as tests, on every collector
 * and on two allocators (libc's and our arena). Each test states the Python
 * it mirrors and asserts the answer the documents print. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/collector.h"

extern const hb_allocator hb_system_allocator;
extern const hb_allocator hb_arena_allocator;

typedef struct fixture {
    const char *collector, *allocator;
    const hb_allocator *a;
    void *as;
    hb_heap *h;
    uint64_t events, event_freed;
} fixture;

static void on_event(void *arg, const hb_gc_event *ev)
{
    fixture *f = arg;
    f->events++;
    f->event_freed += ev->freed;
    assert_true(ev->examined >= ev->freed || ev->generation >= 0);
}

static int setup(void **state)
{
    fixture *f = *state;
    f->a = hb_allocator_find(f->allocator);
    assert_non_null(f->a);
    assert_int_equal(f->a->init(&f->as, NULL), 0);
    hb_heap_config cfg = {.alloc = f->a, .alloc_state = f->as, .hook = on_event, .hook_arg = f};
    f->events = f->event_freed = 0;
    assert_int_equal(hb_heap_new(&f->h, hb_collector_find(f->collector), &cfg), 0);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hb_heap_destroy(f->h);
    hb_alloc_stats st;
    if (!f->a->stats(f->as, &st) && (st.have & HB_STAT_LIVE) && !strcmp(f->allocator, "arena"))
        assert_int_equal(st.live_bytes, 0); /* every block given back */
    f->a->destroy(f->as);
    return 0;
}

/* Classes outlive the heaps whose objects use them. */
static hb_type Lazarus, Legacy, Node, SomeObject;

static int is(const fixture *f, const char *name) { return !strcmp(f->collector, name); }
/* CPython's collectors, generational (rcgen) or incremental (rcinc): the
 * same exact counts, gc.garbage, freeze. */
static int cpy(const fixture *f) { return is(f, "rcgen") || is(f, "rcinc"); }

/* sys.getrefcount(x): the count plus the argument's own reference. */
static uint32_t getrefcount(hb_object *o) { return hb_refcnt(o) + 1; }

/* x = [4, 3, 2, 1]; getrefcount(x) 2; y = x -> 3; z = y -> 4; del z -> 3 */
static void test_refcounts(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    if (!h->collector->refcounts)
        skip();
    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **x = hb_var(h), **y = hb_var(h), **z = hb_var(h);
    hb_set_new(h, x, hb_list_new(h));
    for (int v = 4; v >= 1; v--)
        assert_int_equal(hb_list_append(h, *x, hb_int_new(h, v)), 0);
    assert_int_equal(getrefcount(*x), 2);
    hb_set(h, y, *x);
    assert_int_equal(getrefcount(*y), 3);
    hb_set(h, z, *y);
    assert_int_equal(getrefcount(*z), 4);
    /* z.append(0) changes x and y: one object */
    assert_int_equal(hb_list_append(h, *z, hb_int_new(h, 0)), 0);
    assert_int_equal(hb_list_len(*x), 5);
    hb_del(h, z);
    assert_int_equal(getrefcount(*y), 3);
    /* a = "Hello World" (not interned); b = a; c = a; c = 10; b = 10 */
    hb_object **a = hb_var(h), **b = hb_var(h), **c = hb_var(h);
    hb_set_new(h, a, hb_str_new(h, "Hello World", 11));
    hb_set(h, b, *a);
    hb_set(h, c, *a);
    assert_int_equal(hb_refcnt(*a), 3);
    hb_set(h, c, hb_int_new(h, 10));
    assert_int_equal(hb_refcnt(*a), 2);
    hb_set(h, b, hb_int_new(h, 10));
    assert_int_equal(hb_refcnt(*a), 1);
    uint64_t live = h->live_objects;
    hb_scope_leave(h, &s);
    assert_true(h->live_objects < live);
    assert_int_equal(h->live_objects, 0); /* the list, its items are small ints */
}

/* a = 1; b = 1; a is b -> True.  c = 257; d = 257; c is d -> False.
 * m = "abc"; n = "abc"; m is n -> True (interned). */
static void test_identity(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **a = hb_var(h), **b = hb_var(h), **c = hb_var(h), **d = hb_var(h);
    hb_set_new(h, a, hb_int_new(h, 1));
    hb_set_new(h, b, hb_int_new(h, 1));
    assert_ptr_equal(*a, *b);
    assert_ptr_equal(hb_int_new(h, -5), hb_int_new(h, -5));
    hb_set_new(h, c, hb_int_new(h, 257));
    hb_set_new(h, d, hb_int_new(h, 257));
    assert_ptr_not_equal(*c, *d);
    assert_int_equal(hb_int_value(*c), hb_int_value(*d));
    hb_set_new(h, a, hb_str_intern(h, "abc"));
    hb_set_new(h, b, hb_str_intern(h, "abc"));
    assert_ptr_equal(*a, *b);
    hb_set_new(h, a, hb_str_intern(h, "long string example"));
    hb_set_new(h, b, hb_str_intern(h, "long string example"));
    assert_ptr_equal(*a, *b);
    hb_set_new(h, c, hb_str_new(h, "abc", 3));
    hb_set_new(h, d, hb_str_new(h, "abc", 3));
    assert_ptr_not_equal(*c, *d);
    assert_true(hb_str_eq(*c, *d));
    hb_scope_leave(h, &s);
}

/* class Node: next.  x = Node(1); y = Node(2); x.next = y; y.next = x; del x, y */
static void test_two_node_cycle(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    hb_class_init(&Node, "Node", NULL, NULL, 0);
    hb_gc_disable(h);
    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **x = hb_var(h), **y = hb_var(h);
    hb_set_new(h, x, hb_node_new(h, &Node, 2));
    hb_node_set_new(h, *x, 0, hb_int_new(h, 1));
    hb_set_new(h, y, hb_node_new(h, &Node, 2));
    hb_node_set_new(h, *y, 0, hb_int_new(h, 2));
    hb_node_set(h, *x, 1, *y);
    hb_node_set(h, *y, 1, *x);
    size_t node = hb_object_bytes(*x);
    assert_int_equal(hb_collect(h, -1), 0); /* nothing unreachable yet */
    hb_scope_leave(h, &s);                   /* del x, y */
    assert_int_equal(h->live_objects, 2);    /* refcounting alone cannot free them */
    uint64_t lo, lb;
    if (is(f, "rc")) {
        assert_int_equal(hb_heap_leaks(h, &lo, &lb), 0);
        assert_int_equal(lo, 2);
        assert_int_equal(lb, 2 * node);
        assert_int_equal(hb_collect(h, -1), 0);
        assert_int_equal(h->live_objects, 2);
    } else {
        assert_int_equal(hb_collect(h, -1), 2);
        assert_int_equal(h->live_objects, 0);
        assert_int_equal(hb_heap_leaks(h, &lo, &lb), 0);
        assert_int_equal(lo, 0);
        assert_int_equal(lb, 0);
        assert_int_equal(f->event_freed, 2);
    }
}

/* arr = []; arr.append(arr); del arr */
static void test_self_append(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    hb_gc_disable(h);
    hb_object **arr = hb_var(h);
    hb_set_new(h, arr, hb_list_new(h));
    assert_int_equal(hb_list_append(h, *arr, *arr), 0);
    assert_ptr_equal(hb_list_get(hb_list_get(hb_list_get(*arr, 0), 0), 0), *arr);
    size_t bytes = hb_object_bytes(*arr);
    hb_del(h, arr);
    uint64_t lo, lb;
    assert_int_equal(hb_heap_leaks(h, &lo, &lb), 0);
    assert_int_equal(lo, 1);
    assert_int_equal(lb, bytes);
    assert_int_equal(hb_collect(h, -1), is(f, "rc") ? 0 : 1);
    assert_int_equal(h->live_objects, is(f, "rc") ? 1 : 0);
}

/* class SomeObject: __del__ prints "deleted"; foo.ref = bar; bar.ref = foo;
 * del foo; del bar -> nothing printed; gc.collect() -> both deleted, once. */
static int deleted[2];
static void some_object_del(hb_heap *h, hb_object *self)
{
    (void)h;
    deleted[hb_int_value(hb_node_get(self, 0))]++;
}

static void test_del_cycle(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    hb_class_init(&SomeObject, "SomeObject", some_object_del, NULL, 0);
    deleted[0] = deleted[1] = 0;
    hb_gc_disable(h);
    hb_object **foo = hb_var(h), **bar = hb_var(h);
    hb_set_new(h, foo, hb_node_new(h, &SomeObject, 2));
    hb_node_set_new(h, *foo, 0, hb_int_new(h, 0));
    hb_set_new(h, bar, hb_node_new(h, &SomeObject, 2));
    hb_node_set_new(h, *bar, 0, hb_int_new(h, 1));
    hb_node_set(h, *foo, 1, *bar);
    hb_node_set(h, *bar, 1, *foo);
    hb_del(h, foo);
    hb_del(h, bar);
    assert_int_equal(deleted[0] + deleted[1], 0); /* not at del: the cycle keeps them */
    size_t n = hb_collect(h, -1);
    if (is(f, "rc")) {
        assert_int_equal(n, 0);
        assert_int_equal(deleted[0] + deleted[1], 0);
        return;
    }
    assert_int_equal(deleted[0], 1);
    assert_int_equal(deleted[1], 1);
    if (cpy(f))
        assert_int_equal(n, 2);
    hb_collect(h, -1); /* marksweep frees finalized objects one cycle later */
    hb_collect(h, -1);
    assert_int_equal(deleted[0], 1);
    assert_int_equal(deleted[1], 1);
    assert_int_equal(h->live_objects, 0);
}

/* PEP 442: a finalizer that stores self resurrects it; it never runs again. */
static hb_object **lazarus_slot;
static int lazarus_runs;
static void lazarus_del(hb_heap *h, hb_object *self)
{
    lazarus_runs++;
    hb_set(h, lazarus_slot, self);
}

static void test_resurrection(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    if (is(f, "rc"))
        skip();
    hb_class_init(&Lazarus, "Lazarus", lazarus_del, NULL, 0);
    lazarus_runs = 0;
    lazarus_slot = hb_var(h);
    hb_object **x = hb_var(h);
    hb_set_new(h, x, hb_node_new(h, &Lazarus, 1));
    hb_node_set(h, *x, 0, *x); /* self-cycle */
    hb_del(h, x);
    hb_collect(h, -1);
    assert_int_equal(lazarus_runs, 1);
    assert_non_null(*lazarus_slot); /* survived */
    assert_int_equal(h->live_objects, 1);
    hb_del(h, lazarus_slot);
    hb_collect(h, -1);
    hb_collect(h, -1);
    assert_int_equal(lazarus_runs, 1);
    assert_int_equal(h->live_objects, 0);
}

/* gc.get_stats(): collections and collected move; default thresholds. */
static void test_stats_thresholds(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    if (!cpy(f))
        skip();
    long t[3];
    assert_int_equal(hb_gc_get_threshold(h, t, 3), 0);
    /* 3.12's (700, 10, 10); 3.14's (2000, 10, 0) */
    assert_int_equal(t[0], is(f, "rcgen") ? 700 : 2000);
    assert_int_equal(t[1], 10);
    assert_int_equal(t[2], is(f, "rcgen") ? 10 : 0);
    hb_gen_stats before, after;
    assert_int_equal(hb_gc_get_stats(h, 2, &before), 0);
    hb_object **arr = hb_var(h);
    hb_set_new(h, arr, hb_list_new(h));
    hb_list_append(h, *arr, *arr);
    hb_del(h, arr);
    assert_int_equal(hb_collect(h, 2), 1);
    assert_int_equal(hb_gc_get_stats(h, 2, &after), 0);
    assert_int_equal(after.collections, before.collections + 1);
    assert_int_equal(after.collected, before.collected + 1);
    assert_int_equal(after.uncollectable, 0);
    long nt[3] = {5, 2, 2};
    assert_int_equal(hb_gc_set_threshold(h, nt, 3), 0);
    assert_int_equal(hb_gc_get_threshold(h, t, 3), 0);
    assert_int_equal(t[0], 5);
}

/* gc.disable(): no automatic collection however much cyclic garbage is
 * made; gc.enable() brings it back. */
static void make_cycles(hb_heap *h, int n)
{
    hb_object **v = hb_var(h);
    for (int i = 0; i < n; i++) {
        hb_set_new(h, v, hb_list_new(h));
        hb_list_append(h, *v, *v);
    }
    hb_del(h, v);
}

static void test_disable_enable(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    if (is(f, "rc"))
        skip();
    hb_gc_disable(h);
    assert_false(hb_gc_isenabled(h));
    make_cycles(h, 20000);
    assert_int_equal(f->events, 0);
    assert_int_equal(h->live_objects, 20000);
    hb_gc_enable(h);
    make_cycles(h, 20000);
    assert_true(f->events > 0);
    assert_true(h->live_objects < 40000);
}

/* automatic schedule: 10 gen-0 collections make a gen-1 one. The cycles
 * are lists, and 80 of the lists each collection frees come back off
 * CPython's free list uncounted (rcgen.c, fl_take): a collection per 781
 * lists. */
static void test_schedule(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    if (!is(f, "rcgen"))
        skip();
    make_cycles(h, 781 * 13);
    hb_gen_stats g0, g1;
    hb_gc_get_stats(h, 0, &g0);
    hb_gc_get_stats(h, 1, &g1);
    assert_true(g0.collections >= 10);
    assert_true(g1.collections >= 1);
    assert_true(g0.collected + g1.collected > 7000);
}

/* Legacy finalizer (tp_del) in a cycle: uncollectable, in gc.garbage. */
static void test_legacy_garbage(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    if (!cpy(f))
        skip();
    hb_class_init(&Legacy, "Legacy", some_object_del, NULL, 1);
    deleted[0] = deleted[1] = 0;
    hb_object **x = hb_var(h), **y = hb_var(h);
    hb_set_new(h, x, hb_node_new(h, &Legacy, 2));
    hb_node_set_new(h, *x, 0, hb_int_new(h, 0));
    hb_set_new(h, y, hb_list_new(h)); /* reached from the cycle: also kept */
    hb_node_set(h, *x, 1, *x);
    hb_list_append(h, *y, *x);
    hb_node_set(h, *x, 1, *y);
    hb_del(h, x);
    hb_del(h, y);
    assert_int_equal(hb_collect(h, 2), 2);
    hb_gen_stats st;
    hb_gc_get_stats(h, 2, &st);
    assert_int_equal(st.uncollectable, 2);
    assert_int_equal(st.collected, 0);
    assert_non_null(hb_gc_garbage(h));
    assert_int_equal(hb_list_len(hb_gc_garbage(h)), 2);
    assert_int_equal(deleted[0], 0);
}

/* weakref.ref callbacks and weakref.finalize. */
static int wr_calls;
static void wr_cb(hb_heap *h, hb_object *wr, hb_object *arg, void *ctx)
{
    (void)h, (void)wr, (void)arg;
    wr_calls++;
    if (ctx)
        (*(int *)ctx)++;
}

static void test_weakrefs(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    hb_gc_disable(h);
    wr_calls = 0;
    int fin = 0;
    hb_class_init(&Node, "Node", NULL, NULL, 0);
    hb_object **x = hb_var(h), **w = hb_var(h), **y = hb_var(h);
    /* a plain object dying */
    hb_set_new(h, x, hb_node_new(h, &Node, 1));
    hb_set_new(h, w, hb_weakref_new(h, *x, wr_cb, NULL, NULL));
    hb_object *fz = hb_finalize_new(h, *x, wr_cb, NULL, &fin);
    assert_ptr_equal(hb_weakref_get(*w), *x);
    assert_true(hb_finalize_alive(fz));
    hb_del(h, x);
    hb_collect(h, -1);
    assert_null(hb_weakref_get(*w));
    assert_int_equal(wr_calls, 2);
    assert_int_equal(fin, 1);
    /* a cycle dying, with its weakref inside the cycle: no callback */
    hb_set_new(h, x, hb_node_new(h, &Node, 2));
    hb_set_new(h, y, hb_weakref_new(h, *x, wr_cb, NULL, NULL));
    hb_node_set(h, *x, 0, *x);
    hb_node_set(h, *x, 1, *y);
    hb_set_new(h, w, hb_weakref_new(h, *x, wr_cb, NULL, NULL)); /* reachable */
    hb_del(h, x);
    hb_del(h, y);
    wr_calls = 0;
    hb_collect(h, -1);
    if (is(f, "rc")) {
        assert_int_equal(wr_calls, 0);
        assert_non_null(hb_weakref_get(*w));
    } else {
        assert_int_equal(wr_calls, 1); /* the reachable weakref's only */
        assert_null(hb_weakref_get(*w));
    }
    assert_int_equal(fin, 1);
}

/* Freeze moves everything to the permanent generation. */
static void test_freeze(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    if (!cpy(f)) {
        assert_int_equal(hb_gc_freeze(h), EOPNOTSUPP);
        return;
    }
    hb_object **x = hb_var(h);
    hb_set_new(h, x, hb_list_new(h));
    assert_int_equal(hb_gc_freeze(h), 0);
    assert_int_equal(hb_gc_get_freeze_count(h), 1);
    assert_int_equal(hb_gc_unfreeze(h), 0);
    assert_int_equal(hb_gc_get_freeze_count(h), 0);
}

/* Dropping a long chain must not recurse once per link. */
static void test_long_chain(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    hb_class_init(&Node, "Node", NULL, NULL, 0);
    hb_object **head = hb_var(h), **n = hb_var(h);
    for (int i = 0; i < 300000; i++) {
        hb_set_new(h, n, hb_node_new(h, &Node, 1));
        hb_node_set(h, *n, 0, *head);
        hb_set(h, head, *n);
    }
    hb_del(h, n);
    hb_del(h, head);
    if (!h->collector->refcounts)
        hb_collect(h, -1);
    assert_int_equal(h->live_objects, 0);
}

/* dict with str keys; tuple */
static void test_dict_tuple(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    hb_object **d = hb_var(h), **k = hb_var(h), **t = hb_var(h), **v = hb_var(h);
    hb_set_new(h, d, hb_dict_new(h));
    char buf[32];
    for (int i = 0; i < 1000; i++) {
        int len = snprintf(buf, sizeof buf, "key%d", i);
        hb_set_new(h, k, hb_str_new(h, buf, (size_t)len));
        hb_set_new(h, v, hb_int_new(h, i * 1000));
        assert_int_equal(hb_dict_set(h, *d, *k, *v), 0);
    }
    assert_int_equal(hb_dict_len(*d), 1000);
    for (int i = 0; i < 1000; i += 2) {
        int len = snprintf(buf, sizeof buf, "key%d", i);
        hb_set_new(h, k, hb_str_new(h, buf, (size_t)len));
        assert_int_equal(hb_dict_del(h, *d, *k), 0);
    }
    for (int i = 0; i < 1000; i++) {
        int len = snprintf(buf, sizeof buf, "key%d", i);
        hb_set_new(h, k, hb_str_new(h, buf, (size_t)len));
        hb_object *got = hb_dict_get(*d, *k);
        if (i % 2)
            assert_int_equal(hb_int_value(got), i * 1000);
        else
            assert_null(got);
    }
    hb_object *items[2] = {*d, *d};
    hb_set_new(h, t, hb_tuple_new(h, 2, items));
    hb_dict_set(h, *d, hb_str_intern(h, "self"), *t); /* d -> t -> d: a cycle */
    hb_del(h, k);
    hb_del(h, v);
    hb_del(h, d);
    hb_del(h, t);
    hb_collect(h, -1);
    if (!is(f, "rc"))
        assert_int_equal(h->live_objects, 0);
}

/* Large lists, the shape of most real heaps: a list of objects built in a
 * loop. rcgen scans a list of 256 items or more in step with its walk
 * (rcgen.c, cursor_items); these cases put the items in allocation order
 * (in step), reversed and shuffled (the cursor waits, then is drained),
 * and swapped in pairs (the walk examines an item before the cursor gets
 * to it: pulled back, the cursor drained), and check what each collection
 * frees: the garbage cycles made before the list settles, then cycles in
 * the old generation, then the list itself, cyclic and dropped, with all
 * it holds. */
#define BIG 1500 /* even: order 3 swaps pairs */

static void big_list_case(fixture *f, int order)
{
    hb_heap *h = f->h;
    hb_gc_disable(h);
    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **l = hb_var(h), **t = hb_var(h), **n = hb_var(h), **a = hb_var(h), **b = hb_var(h);
    hb_set_new(h, l, hb_list_new(h));
    hb_set_new(h, t, hb_list_new(h));
    size_t garbage = 0;
    for (int i = 0; i < BIG; i++) {
        hb_set_new(h, n, hb_node_new(h, &Node, 2));
        if (i % 3 == 1)
            hb_node_set(h, *n, 1, *n); /* a self-cycle, alive while listed */
        if (i % 3 == 0) {              /* a 2-cycle no one holds */
            hb_set_new(h, a, hb_node_new(h, &Node, 1));
            hb_set_new(h, b, hb_node_new(h, &Node, 1));
            hb_node_set(h, *a, 0, *b);
            hb_node_set(h, *b, 0, *a);
            garbage += 2;
        }
        assert_int_equal(hb_list_append(h, *t, *n), 0);
    }
    uint64_t seed = 12345;
    int perm[BIG];
    for (int i = 0; i < BIG; i++)
        perm[i] = order == 1 ? BIG - 1 - i : order == 3 ? i ^ 1 : i;
    if (order == 2)
        for (int i = BIG - 1; i > 0; i--) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            int j = (int)((seed >> 33) % (uint64_t)(i + 1)), x = perm[i];
            perm[i] = perm[j];
            perm[j] = x;
        }
    for (int i = 0; i < BIG; i++)
        assert_int_equal(hb_list_append(h, *l, hb_list_get(*t, (size_t)perm[i])), 0);
    /* last, an untracked object allocated after every node: the cursor
     * reaches it only after the walk has ended */
    assert_int_equal(hb_list_append_new(h, *l, hb_int_new(h, 1 << 20)), 0);
    hb_del(h, t);
    hb_del(h, n);
    hb_del(h, a);
    hb_del(h, b);
    size_t got = hb_collect(h, -1); /* the young set: generation 0's array */
    if (cpy(f))
        assert_int_equal(got, garbage);
    assert_int_equal(h->live_objects, BIG + 2);

    /* garbage among settled objects: a full collection walks lists */
    size_t dropped = 0;
    for (size_t j = 0; j < BIG; j += 4) {
        hb_object *o = hb_list_get(*l, j);
        if (hb_node_get(o, 1) == o) {
            hb_list_set(h, *l, j, NULL);
            dropped++;
        }
    }
    assert_true(dropped > 50);
    got = hb_collect(h, -1);
    if (cpy(f))
        assert_int_equal(got, dropped);
    assert_int_equal(h->live_objects, BIG + 2 - dropped);
    got = hb_collect(h, -1); /* again, nothing to free */
    assert_int_equal(got, 0);
    assert_int_equal(h->live_objects, BIG + 2 - dropped);

    /* l.append(l); del l: all of it */
    assert_int_equal(hb_list_append(h, *l, *l), 0);
    hb_del(h, l);
    got = hb_collect(h, -1);
    if (cpy(f))
        assert_int_equal(got, BIG + 1 - dropped); /* the int was never tracked */
    assert_int_equal(h->live_objects, 0);
    hb_scope_leave(h, &s);
}

static void test_big_lists(void **state)
{
    fixture *f = *state;
    if (is(f, "rc"))
        skip(); /* cycles: what rc leaks is test_two_node_cycle's */
    hb_class_init(&Node, "Node", NULL, NULL, 0);
    for (int order = 0; order < 4; order++)
        big_list_case(f, order);
}

/* The same under a finalizer that resurrects the list: rcgen's RESURRECT
 * pass runs COUNT_REFS and MOVE_UNREACHABLE over the unreachable set, the
 * list scanned by its cursor there. Everything survives, the finalizer ran
 * once; dropped again, everything goes and it does not run again. */
static hb_object *rescue_what, **rescue_slot;
static int rescue_runs;
static void rescue_del(hb_heap *h, hb_object *self)
{
    (void)self;
    rescue_runs++;
    hb_set(h, rescue_slot, rescue_what);
}

static void test_big_list_resurrected(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    if (is(f, "rc"))
        skip();
    hb_class_init(&Node, "Node", NULL, NULL, 0);
    hb_class_init(&Lazarus, "Rescuer", rescue_del, NULL, 0);
    hb_gc_disable(h);
    rescue_runs = 0;
    rescue_slot = hb_var(h);
    hb_object **l = hb_var(h), **n = hb_var(h);
    hb_set_new(h, l, hb_list_new(h));
    for (int i = 0; i < BIG; i++) {
        hb_set_new(h, n, hb_node_new(h, i == BIG / 2 ? &Lazarus : &Node, 1));
        hb_node_set(h, *n, 0, *l); /* every item refers back to the list */
        assert_int_equal(hb_list_append(h, *l, *n), 0);
    }
    hb_del(h, n);
    hb_collect(h, -1); /* settle */
    rescue_what = *l;
    hb_del(h, l);
    hb_collect(h, -1);
    assert_int_equal(rescue_runs, 1);
    assert_ptr_equal(*rescue_slot, rescue_what);
    assert_int_equal(h->live_objects, BIG + 1);
    assert_int_equal(hb_list_len(*rescue_slot), BIG);
    rescue_what = NULL;
    hb_del(h, rescue_slot);
    hb_collect(h, -1);
    hb_collect(h, -1); /* marksweep frees finalized objects one cycle later */
    assert_int_equal(rescue_runs, 1);
    assert_int_equal(h->live_objects, 0);
}

/* A large young set of 2-node cycles, as the cycles benchmark makes:
 * rcgen deletes a set of more than 2^15 plain nodes that nothing outside
 * refers to without its MOVE_UNREACHABLE pass (rcgen.c, delete_all). The
 * nodes also refer to an older node and to ints outside the set, which
 * must be released, not freed with the set; one variable left holding
 * one node (a reference from outside) or one node with a finalizer takes
 * the usual passes, with the same answers. Collected as generation 0
 * (the older node is not in the set), then as a full collection. */
#define PAIRS 20000

static int big_garbage_del_runs;
static void big_garbage_del(hb_heap *h, hb_object *self)
{
    (void)h;
    (void)self;
    big_garbage_del_runs++;
}

static void test_big_garbage(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    if (is(f, "rc"))
        skip();
    hb_class_init(&Node, "Node", NULL, NULL, 0);
    hb_class_init(&SomeObject, "WithDel", big_garbage_del, NULL, 0);
    hb_gc_disable(h);
    hb_object **old = hb_var(h), **x = hb_var(h), **y = hb_var(h), **keep = hb_var(h);
    hb_set_new(h, old, hb_node_new(h, &Node, 1));
    hb_collect(h, -1); /* `old` settles in the oldest generation */
    for (int variant = 0; variant < 3; variant++) {
        big_garbage_del_runs = 0;
        for (int i = 0; i < PAIRS; i++) {
            const hb_type *cls = variant == 2 && i == PAIRS / 2 ? &SomeObject : &Node;
            hb_set_new(h, x, hb_node_new(h, cls, 3));
            hb_set_new(h, y, hb_node_new(h, &Node, 3));
            hb_node_set(h, *x, 0, *y);
            hb_node_set(h, *y, 0, *x);
            hb_node_set(h, *x, 1, *old);
            hb_node_set_new(h, *y, 2, hb_int_new(h, 1000 + i)); /* untracked, freed by count */
            if (variant == 1 && i == PAIRS / 3)
                hb_set(h, keep, *y);
        }
        hb_del(h, x);
        hb_del(h, y);
        assert_int_equal(h->live_objects, 1 + 3 * PAIRS);
        if (h->collector->refcounts)
            assert_int_equal(hb_refcnt(*old), 1 + PAIRS);
        size_t got = hb_collect(h, 0);
        size_t kept = variant == 1 ? 2 : 0;
        if (cpy(f))
            assert_int_equal(got, 2 * PAIRS - kept);
        if (!h->collector->refcounts)
            hb_collect(h, -1); /* finalized objects go one cycle later */
        assert_int_equal(big_garbage_del_runs, variant == 2);
        /* the kept pair holds its int and refers to `old` */
        assert_int_equal(h->live_objects, 1 + (variant == 1 ? 3 : 0));
        if (h->collector->refcounts)
            assert_int_equal(hb_refcnt(*old), 1 + (variant == 1 ? 1 : 0));
        hb_del(h, keep);
        hb_collect(h, -1);
        assert_int_equal(h->live_objects, 1);
    }
}

/* A generation-0 set of cyclic garbage with few references from outside,
 * as a program making cycles leaves it (and the gen0 benchmark's cycles
 * churn): rcgen finds the few roots, marks what they reach and deletes the
 * rest without MOVE_UNREACHABLE (rcgen.c, delete_sparse). Each variant
 * checks the answers of the usual passes:
 *   0  two variables hold the last pair, a third a chain of young nodes
 *   1  the root is a young list holding young nodes (marked, not a node)
 *   2  a young list in the garbage: not a node, so the usual passes
 *   3  the root list holds more than a quarter of the set: the usual passes
 *   4  garbage holds an older node's last reference, and the older node
 *      a young node's: both die by count after the garbage is freed
 *   5  a weakref to a garbage node: the usual passes, the weakref dead
 * (0, 1 and 4 take delete_sparse, 2, 3 and 5 give up on it and take
 * move_array: checked with instrumentation, since removed.) */
#define SPARSE_PAIRS 350

static void sparse_case(fixture *f, int variant)
{
    hb_heap *h = f->h;
    hb_scope sc;
    hb_scope_enter(h, &sc);
    hb_object **x = hb_var(h), **y = hb_var(h), **r = hb_var(h), **t = hb_var(h),
              **o = hb_var(h), **w = hb_var(h);
    size_t kept = 2, extra_live = 0; /* the last pair is held */
    if (variant == 4) {
        hb_set_new(h, o, hb_node_new(h, &Node, 1));
        hb_collect(h, -1); /* *o settles in the oldest generation */
        hb_node_set_new(h, *o, 0, hb_node_new(h, &Node, 0)); /* young, held by *o only */
    }
    for (int i = 0; i < SPARSE_PAIRS; i++) {
        hb_set_new(h, x, hb_node_new(h, &Node, 2));
        hb_set_new(h, y, hb_node_new(h, &Node, 2));
        hb_node_set(h, *x, 0, *y);
        hb_node_set(h, *y, 0, *x);
        if (variant == 2 && i == 7) {
            hb_set_new(h, t, hb_list_new(h)); /* x -> list -> x */
            assert_int_equal(hb_list_append(h, *t, *x), 0);
            hb_node_set(h, *x, 1, *t);
            hb_del(h, t);
        }
        if (variant == 4 && i == 3) {
            hb_node_set(h, *x, 1, *o); /* the garbage's reference to the old node */
            hb_del(h, o);
        }
        if (variant == 5 && i == 5)
            hb_set_new(h, w, hb_weakref_new(h, *y, NULL, NULL, NULL));
    }
    if (variant == 0) { /* r -> n1 -> n2 -> ... -> n20 */
        hb_set_new(h, r, hb_node_new(h, &Node, 1));
        hb_set(h, t, *r);
        for (int i = 0; i < 20; i++) {
            hb_node_set_new(h, *t, 0, hb_node_new(h, &Node, 1));
            hb_set(h, t, hb_node_get(*t, 0));
        }
        hb_del(h, t);
        kept += 21;
    }
    if (variant == 1 || variant == 3) { /* r = [n, n, ...] */
        int items = variant == 1 ? 10 : 300;
        hb_set_new(h, r, hb_list_new(h));
        for (int i = 0; i < items; i++)
            assert_int_equal(hb_list_append_new(h, *r, hb_node_new(h, &Node, 1)), 0);
        kept += 1 + (size_t)items;
    }
    if (variant == 5)
        extra_live = 1; /* the weakref, untracked */
    size_t garbage = 2 * SPARSE_PAIRS - 2 + (variant == 2);
    assert_int_equal(h->live_objects, garbage + kept + extra_live + (variant == 4 ? 2 : 0));
    size_t got = hb_collect(h, cpy(f) ? 0 : -1);
    if (cpy(f))
        assert_int_equal(got, garbage);
    assert_int_equal(h->live_objects, kept + extra_live);
    if (h->collector->refcounts) {
        assert_int_equal(hb_refcnt(*x), 2);
        assert_int_equal(hb_refcnt(*y), 2);
        assert_ptr_equal(hb_node_get(*x, 0), *y);
        assert_ptr_equal(hb_node_get(*y, 0), *x);
    }
    if (variant == 0) {
        hb_object *n = *r;
        for (int i = 0; i < 20; i++) {
            n = hb_node_get(n, 0);
            assert_non_null(n);
            if (h->collector->refcounts)
                assert_int_equal(hb_refcnt(n), 1);
        }
        assert_null(hb_node_get(n, 0));
    }
    if (variant == 1 || variant == 3)
        assert_int_equal(hb_list_len(*r), variant == 1 ? 10 : 300);
    if (variant == 5)
        assert_null(hb_weakref_get(*w));
    /* the survivors are in the older generation: nothing more to free */
    if (cpy(f))
        assert_int_equal(hb_collect(h, 0), 0);
    hb_scope_leave(h, &sc);
    hb_collect(h, -1);
    assert_int_equal(h->live_objects, 0);
}

static void test_sparse_roots(void **state)
{
    fixture *f = *state;
    if (is(f, "rc"))
        skip();
    hb_class_init(&Node, "Node", NULL, NULL, 0);
    hb_gc_disable(f->h);
    for (int variant = 0; variant < 6; variant++)
        sparse_case(f, variant);
}

/* The header (object.h): a node's field count is its size's, a node with
 * one field is 40 bytes; the type is an index, a class struct keeps its
 * index when it is initialised again, and kinds come from the index. */
static void del_nothing(hb_heap *h, hb_object *self) { (void)h, (void)self; }

static void test_type_index(void **state)
{
    fixture *f = *state;
    hb_heap *h = f->h;
    static hb_type A, B;
    hb_class_init(&A, "A", NULL, NULL, 0);
    hb_class_init(&B, "B", NULL, NULL, 0);
    uint8_t a = A.index;
    assert_true(a >= HB_TI_FIRST_CLASS);
    assert_true(B.index >= HB_TI_FIRST_CLASS);
    assert_int_not_equal(a, B.index);
    hb_class_init(&A, "A again", NULL, NULL, 0);
    assert_int_equal(A.index, a);
    assert_ptr_equal(hb_types[a], &A);
    hb_object **n = hb_var(h), **v = hb_var(h);
    for (size_t k = 0; k < 6; k++) {
        hb_set_new(h, n, hb_node_new(h, &A, k));
        assert_int_equal((*n)->size, 32 + 8 * k);
        assert_int_equal(hb_node_nfields(*n), k);
        assert_ptr_equal(hb_typeof(*n), &A);
        assert_int_equal(hb_kindof(*n), HB_K_NODE);
    }
    hb_set_new(h, v, hb_int_new(h, 1000));
    assert_ptr_equal(hb_typeof(*v), &hb_int_type);
    assert_int_equal(hb_kindof(*v), HB_K_INT);
    hb_set_new(h, v, hb_str_intern(h, "interned"));
    assert_ptr_equal(hb_typeof(*v), &hb_str_type);
    hb_set_new(h, v, hb_list_new(h));
    assert_int_equal(hb_kindof(*v), HB_K_LIST);
    hb_set_new(h, v, hb_dict_new(h));
    assert_int_equal(hb_kindof(*v), HB_K_DICT);
    hb_set_new(h, v, hb_tuple_new(h, 0, NULL));
    assert_int_equal(hb_kindof(*v), HB_K_TUPLE);
    hb_set_new(h, v, hb_weakref_new(h, *n, NULL, NULL, NULL));
    assert_int_equal(hb_kindof(*v), HB_K_WEAKREF);
    hb_del(h, v);
    hb_del(h, n);
    hb_collect(h, -1);
    assert_int_equal(h->live_objects, 0);
    /* hb_type_bits agrees with every registered type, the built-ins'
     * written-out entries included, and follows a class's finalizer
     * (plain: a node class with neither finalizer) */
    static hb_type D;
    hb_class_init(&D, "D", del_nothing, NULL, 1);
    assert_int_equal(hb_type_bits[D.index], HB_TB_GC | HB_TB_FINALIZE | HB_TB_LEGACY);
    hb_class_init(&D, "D", NULL, NULL, 0);
    assert_int_equal(hb_type_bits[D.index], HB_TB_GC | HB_TB_PLAIN);
    for (int i = 0; i < HB_TI_COUNT; i++)
        if (hb_types[i])
            assert_int_equal(hb_type_bits[i], hb_type_bits_of(hb_types[i]));
}

/* One class more than the index has room for: a message naming the limit,
 * then abort (in a child: the table is the process's). */
static void test_class_limit(void **state)
{
    (void)state;
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        hb_type *many = calloc(HB_TI_COUNT, sizeof *many);
        for (size_t i = 0; many && i < HB_TI_COUNT; i++)
            hb_class_init(&many[i], "Many", NULL, NULL, 0);
        _exit(0);
    }
    close(fd[1]);
    char buf[512];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fd[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    close(fd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    char want[64];
    snprintf(want, sizeof want, "more than %d user classes", HB_TI_COUNT - HB_TI_FIRST_CLASS);
    assert_non_null(strstr(buf, want));
}

#define T(fn, c, a) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &fx_##c##_##a)
#define ALL(c, a)                                                                                 \
    T(test_refcounts, c, a), T(test_identity, c, a), T(test_two_node_cycle, c, a),                \
        T(test_self_append, c, a), T(test_del_cycle, c, a), T(test_resurrection, c, a),           \
        T(test_stats_thresholds, c, a), T(test_disable_enable, c, a), T(test_schedule, c, a),     \
        T(test_legacy_garbage, c, a), T(test_weakrefs, c, a), T(test_freeze, c, a),               \
        T(test_long_chain, c, a), T(test_dict_tuple, c, a), T(test_big_lists, c, a),                \
        T(test_big_list_resurrected, c, a), T(test_big_garbage, c, a), T(test_sparse_roots, c, a),      \
        T(test_type_index, c, a)

static fixture fx_rc_system = {.collector = "rc", .allocator = "system"}, fx_rcgen_system = {.collector = "rcgen", .allocator = "system"},
               fx_marksweep_system = {.collector = "marksweep", .allocator = "system"}, fx_rc_arena = {.collector = "rc", .allocator = "arena"},
               fx_rcgen_arena = {.collector = "rcgen", .allocator = "arena"}, fx_marksweep_arena = {.collector = "marksweep", .allocator = "arena"},
               fx_rcinc_system = {.collector = "rcinc", .allocator = "system"}, fx_rcinc_arena = {.collector = "rcinc", .allocator = "arena"};

int main(void)
{
    const struct CMUnitTest tests[] = {
        ALL(rc, system), ALL(rcgen, system), ALL(rcinc, system), ALL(marksweep, system),
        ALL(rc, arena),  ALL(rcgen, arena),  ALL(rcinc, arena),  ALL(marksweep, arena),
        cmocka_unit_test(test_class_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
