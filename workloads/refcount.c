/* refcount.c -- `y = x; z = y; del z` on one object, many times: reference
 * traffic with no allocation.
 *
 * First the documents' own sequence, once per thread, with the counts they
 * print recorded for check():
 *
 *     x = [4, 3, 2, 1]    sys.getrefcount(x) -> 2
 *     y = x               -> 3
 *     z = y               -> 4
 *     z.append(0)         x, y and z all see [4, 3, 2, 1, 0]
 *     del z               -> 3
 *     a = "Hello World"; b = a; c = a; c = 10; b = 10
 *
 * (For the string the documents read ob_refcnt through ctypes and print
 * 2, 3, 4, 3, 2: their counts include the reference the code object's
 * constant table holds. A string built at run time has none, so ours are
 * 1, 2, 3, 2, 1.)
 *
 * Then the measured loop: `objects` lists, each [4, 3, 2, 1], held by a
 * pool list; op k binds x to list k mod objects and does
 *
 *     y = x; z = y; z[0] = k & 255; assert x[0] == k & 255; del z; del y
 *
 * Nothing is allocated (the values are small ints, immortal), so the time
 * is the counting itself: on rc and rcgen each assignment is an increment
 * and a decrement of a count in the object's header, a store into memory
 * the cache may not hold when `objects` is large; on marksweep and boehm
 * objects carry no count and the same code is plain pointer stores. The
 * difference between them is what reference counting costs a program that
 * only moves references around.
 *
 * Self-check: the documents' counts (on backends that count); on every op,
 * the count of x is 4 after `z = y` and 2 after `del y` (pool + x); the
 * store through z is seen through x on every backend (aliasing: the three
 * variables are one object); no object is allocated in the loop.
 */
#include "cwl.h"

enum { P_OPS, P_OBJECTS };

/* The pool's size sets how much of the counting misses the cache: 1000
 * lists (~100 KB with their item arrays) fit in L2. One core, rcgen on
 * glibc: small ~0.1 s, medium ~1 s, large ~5 s. */
static const hb_param_spec refcount_params[] = {
    {"ops", {2000000, 100000000, 500000000}, 1, INT64_C(1) << 40,
     "y = x; z = y; del z rounds per thread"},
    {"objects", {1000, 1000, 1000}, 1, 1 << 24, "lists the rounds cycle through"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

enum { DOC_COUNTS = 9 };
/* getrefcount(x) after x = [...], y = x, z = y, del z; then ob_refcnt of
 * the string after a = ..., b = a, c = a, c = 10, b = 10; then len(x)
 * after z.append(0). */
static const uint32_t doc_want[DOC_COUNTS] = {2, 3, 4, 3, 1, 2, 3, 2, 1};
static const uint32_t doc_len_want = 5;

typedef struct rc_thread {
    cwl_thread c;
    uint32_t doc[DOC_COUNTS];
    uint32_t doc_len;
    uint64_t written, read; /* sums of the values stored through z, read through x */
    uint64_t bad_count;     /* ops where a count was not what it must be */
    uint64_t bad_op;
    uint32_t bad_got, bad_want;
    uint64_t loop_allocs;   /* objects allocated by the loop: must be 0 */
} rc_thread;

typedef struct refcount {
    cwl c;
    uint64_t ops, objects;
} refcount;

static uint32_t getrefcount(hb_object *o)
{
    uint32_t n = hb_refcnt(o);
    return n == UINT32_MAX ? n : n + 1; /* the argument's own reference */
}

static int doc_sequence(hb_heap *h, rc_thread *t)
{
    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **x = hb_var(h), **y = hb_var(h), **z = hb_var(h);
    hb_object **a = hb_var(h), **b = hb_var(h), **c = hb_var(h);
    int err = 0;
    hb_set_new(h, x, hb_list_new(h));
    if (!*x) {
        err = ENOMEM;
        goto out;
    }
    for (int v = 4; v >= 1 && !err; v--)
        err = hb_list_append_new(h, *x, hb_int_new(h, v));
    if (err)
        goto out;
    t->doc[0] = getrefcount(*x);
    hb_set(h, y, *x);
    t->doc[1] = getrefcount(*x);
    hb_set(h, z, *y);
    t->doc[2] = getrefcount(*x);
    if ((err = hb_list_append_new(h, *z, hb_int_new(h, 0))) != 0)
        goto out;
    t->doc_len = (uint32_t)hb_list_len(*x);
    hb_del(h, z);
    t->doc[3] = getrefcount(*x);

    hb_set_new(h, a, hb_str_new(h, "Hello World", 11));
    if (!*a) {
        err = ENOMEM;
        goto out;
    }
    t->doc[4] = hb_refcnt(*a);
    hb_set(h, b, *a);
    t->doc[5] = hb_refcnt(*a);
    hb_set(h, c, *a);
    t->doc[6] = hb_refcnt(*a);
    hb_set_new(h, c, hb_int_new(h, 10));
    t->doc[7] = hb_refcnt(*a);
    hb_set_new(h, b, hb_int_new(h, 10));
    t->doc[8] = hb_refcnt(*a);
out:
    hb_scope_leave(h, &s);
    return err;
}

static void bad(rc_thread *t, uint64_t k, uint32_t got, uint32_t want)
{
    if (t->bad_count++ == 0) {
        t->bad_op = k;
        t->bad_got = got;
        t->bad_want = want;
    }
}

static int refcount_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(refcount), sizeof(rc_thread), w);
    if (err)
        return err;
    refcount *r = *w;
    r->ops = (uint64_t)ctx->param[P_OPS];
    r->objects = (uint64_t)ctx->param[P_OBJECTS];
    return 0;
}

static int refcount_run(void *w, int tid, hb_counts *out)
{
    refcount *r = w;
    rc_thread *t = cwl_at(&r->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    int err = doc_sequence(h, t);

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **pool = hb_var(h), **x = hb_var(h), **y = hb_var(h), **z = hb_var(h);
    if (!err) {
        hb_set_new(h, pool, hb_list_new(h));
        if (!*pool)
            err = ENOMEM;
    }
    for (uint64_t i = 0; i < r->objects && !err; i++) {
        hb_set_new(h, x, hb_list_new(h));
        if (!*x) {
            err = ENOMEM;
            break;
        }
        for (int v = 4; v >= 1 && !err; v--)
            err = hb_list_append_new(h, *x, hb_int_new(h, v));
        if (!err)
            err = hb_list_append(h, *pool, *x);
    }
    hb_del(h, x);

    int counted = t->c.refcounts;
    uint64_t allocs0 = h->allocs;
    for (uint64_t k = 0; k < r->ops && !err; k++) {
        uint64_t v = k & 255;
        hb_set(h, x, hb_list_get(*pool, k % r->objects));
        hb_op_begin(&out->lat); /* one op: y = x; z = y; z[0] = v; x[0]; del z; del y */
        hb_set(h, y, *x);
        hb_set(h, z, *y);
        hb_list_set(h, *z, 0, hb_int_new(h, (int64_t)v));
        uint64_t got = (uint64_t)hb_int_value(hb_list_get(*x, 0));
        if (counted && hb_refcnt(*x) != 4)
            bad(t, k, hb_refcnt(*x), 4);
        hb_del(h, z);
        hb_del(h, y);
        hb_op_end(&out->lat);
        if (counted && hb_refcnt(*x) != 2)
            bad(t, k, hb_refcnt(*x), 2);
        t->written += v;
        t->read += got;
        t->c.ops++;
    }
    t->loop_allocs = h->allocs - allocs0;
    hb_scope_leave(h, &s);
    return cwl_end(&t->c, h, out, err);
}

static int refcount_check(void *w, char *err, size_t errlen)
{
    refcount *r = w;
    if (cwl_check_done(&r->c, err, errlen))
        return 1;
    for (int tid = 0; tid < r->c.threads; tid++) {
        rc_thread *t = cwl_at(&r->c, tid);
        if (t->c.refcounts) {
            for (int i = 0; i < DOC_COUNTS; i++)
                if (t->doc[i] != doc_want[i]) {
                    snprintf(err, errlen, "thread %d: count %d of the documents' sequence is %" PRIu32
                             ", the documents print %" PRIu32, tid, i, t->doc[i], doc_want[i]);
                    return 1;
                }
        }
        if (t->doc_len != doc_len_want) {
            snprintf(err, errlen, "thread %d: len(x) after z.append(0) is %" PRIu32 ", want 5", tid,
                     t->doc_len);
            return 1;
        }
        if (t->bad_count) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " wrong counts; first at op %" PRIu64
                     ": %" PRIu32 ", want %" PRIu32, tid, t->bad_count, t->bad_op, t->bad_got,
                     t->bad_want);
            return 1;
        }
        if (t->c.ops != r->ops || t->read != t->written) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " ops of %" PRIu64 ", read %" PRIu64
                     " through x where %" PRIu64 " was stored through z", tid, t->c.ops, r->ops,
                     t->read, t->written);
            return 1;
        }
        if (t->loop_allocs) {
            snprintf(err, errlen, "thread %d: the loop allocated %" PRIu64 " objects, want none",
                     tid, t->loop_allocs);
            return 1;
        }
        /* doc: x and the string; pool: 1 + objects lists (small ints are immortal) */
        if (cwl_check_counts(&t->c, tid, 2 + 1 + r->objects, 0, err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_refcount = {
    .name = "refcount",
    .doc = "reference counting: y = x; z = y; del z and sys.getrefcount's counts (no allocation)",
    .min_threads = 1,
    .needs_collector = 1,
    .params = refcount_params,
    .setup = refcount_setup,
    .run = refcount_run,
    .check = refcount_check,
    .teardown = cwl_teardown,
};
