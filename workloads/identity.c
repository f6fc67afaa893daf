/* identity.c -- `a is b`: small ints -5..256 cached, 257 not, interned
 * strings: shared immortal objects, the allocations they avoid and the
 * count updates they skip.
 *
 * First the documents' own lines, once per thread, with what they print
 * recorded for check():
 *
 *     a = 1; b = 1                  a is b  -> True   (the small-int cache)
 *     c = 257; d = 257              c is d  -> False  (two int objects)
 *     m = "abc"; n = "abc"          m is n  -> True   (interned)
 *     x = "long string example"; y = "long string example"
 *                                   x is y  -> True
 *     p = "".join(...); q = "".join(...)    p is q -> False, p == q -> True
 *
 * (The documents' literals are constants the compiler interns or merges
 * within one code object, so they are hb_str_intern here; the last line is
 * the same text built at run time, which CPython does not intern.)
 *
 * Then the measured loop, op k with v = -int_below + k mod (int_below +
 * int_max + 1):
 *
 *     a = int(v); b = int(v)        separately created: a is b iff v in -5..256
 *     c = a + b                     allocated unless 2v is small
 *     s = <"key<k mod keys>">; t = <the same text>
 *
 * where for intern_pct percent of the ops the text is an identifier-like
 * literal (interned: s is t, nothing allocated after the first use of a
 * key -- and the heap's counters do not count interned strings at all),
 * and for the others it is built at run time (two fresh str objects:
 * s is not t, s == t).
 *
 * Stresses: hb_int_new/hb_str_new against a table lookup. What the cache
 * and the interning buy is counted, not estimated: ints and strs made,
 * how many came from the cache or the interned table, objects allocated
 * and allocations avoided -- printed by check() on stderr, one line per
 * thread. On rc and rcgen every store of an immortal object also skips
 * its count update (the header's NORC bit: no write to the object, so no
 * cache line bounces when every thread uses `1`); marksweep counts
 * nothing anyway, so there the cache saves allocations only. Figures:
 * `allocs` and `ops_per_s` against `int_below`/`int_max`/`intern_pct`
 * sweeps; `peak_live_bytes` (immortals are outside it).
 *
 * Self-check: the documents' answers; on every op, `a is b` exactly when
 * v is small, the sum 2v, every cached or interned object immortal, fresh
 * strings distinct but equal; objects allocated exactly what the ranges
 * predict (no interned string, no small int counted) and nothing left
 * after the final collection.
 */
#include "cwl.h"

enum { P_OPS, P_INT_BELOW, P_INT_MAX, P_KEYS, P_INTERN };

/* [-100, 600] (int_below 100) puts 262 of every 701 values in the cache, and c = 2v
 * crosses 256 at v = 129: both sides of the boundary in every pass. One
 * core, rcgen on glibc: small ~0.1 s, medium ~1 s, large ~5 s. */
static const hb_param_spec identity_params[] = {
    {"ops", {200000, 5000000, 25000000}, 1, INT64_C(1) << 40, "rounds per thread"},
    {"int_below", {100, 100, 100}, 0, INT64_C(1) << 40,
     "ints start this far below zero: they cycle through -int_below..int_max"},
    {"int_max", {600, 600, 600}, 0, INT64_C(1) << 40, "highest int value made"},
    {"keys", {1000, 1000, 1000}, 1, 1 << 24, "distinct string texts"},
    {"intern_pct", {50, 50, 50}, 0, 100, "percent of ops whose strings are interned literals"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

enum { DOC_ANSWERS = 6, DOC_ALLOCS = 4 }; /* c, d, p, q */
/* 1 is 1, 257 is 257, "abc" is "abc", the long literal, p is q, p == q */
static const int doc_want[DOC_ANSWERS] = {1, 0, 1, 1, 0, 1};

typedef struct id_thread {
    cwl_thread c;
    int doc[DOC_ANSWERS];
    uint64_t ints, ints_cached;   /* int objects asked for, and served by the cache */
    uint64_t strs, strs_interned; /* str objects asked for, and served interned */
    uint64_t immortal_stores;     /* assignments of an immortal object */
    uint64_t sum;                 /* of the values of c, against the predicted sum */
    uint64_t bad, bad_op;
    const char *bad_what;
} id_thread;

typedef struct identity {
    cwl c;
    uint64_t ops, span, keys, intern;
    int64_t int_min;
} identity;

static int small(int64_t v) { return v >= HB_SMALLINT_MIN && v <= HB_SMALLINT_MAX; }
static int immortal(const hb_object *o) { return (o->flags & HB_OF_IMMORTAL) != 0; }

static void bad(id_thread *t, uint64_t k, const char *what)
{
    if (t->bad++ == 0) {
        t->bad_op = k;
        t->bad_what = what;
    }
}

static int doc_lines(hb_heap *h, id_thread *t)
{
    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **a = hb_var(h), **b = hb_var(h), **c = hb_var(h), **d = hb_var(h);
    hb_object **m = hb_var(h), **n = hb_var(h), **p = hb_var(h), **q = hb_var(h);
    static const char long_lit[] = "long string example";
    int err = 0;
    hb_set_new(h, a, hb_int_new(h, 1));
    hb_set_new(h, b, hb_int_new(h, 1));
    t->doc[0] = *a == *b;
    hb_set_new(h, c, hb_int_new(h, 257));
    hb_set_new(h, d, *c ? hb_int_new(h, 257) : NULL);
    hb_set(h, m, hb_str_intern(h, "abc"));
    hb_set(h, n, hb_str_intern(h, "abc"));
    hb_set(h, a, hb_str_intern(h, long_lit));
    hb_set(h, b, hb_str_intern(h, long_lit));
    if (!*d || !*m || !*n || !*a || !*b) {
        err = ENOMEM;
        goto out;
    }
    t->doc[1] = *c == *d;
    t->doc[2] = *m == *n;
    t->doc[3] = *a == *b;
    hb_set_new(h, p, hb_str_new(h, long_lit, sizeof long_lit - 1));
    hb_set_new(h, q, *p ? hb_str_new(h, long_lit, sizeof long_lit - 1) : NULL);
    if (!*q) {
        err = ENOMEM;
        goto out;
    }
    t->doc[4] = *p == *q;
    t->doc[5] = hb_str_eq(*p, *q);
out:
    hb_scope_leave(h, &s);
    return err;
}

/* "key<j>" into buf (at least 24 bytes); its length. */
static size_t key_text(char *buf, uint64_t j)
{
    char rev[20];
    size_t n = 0, len = 3;
    memcpy(buf, "key", 3);
    do {
        rev[n++] = (char)('0' + j % 10);
        j /= 10;
    } while (j);
    while (n)
        buf[len++] = rev[--n];
    buf[len] = '\0';
    return len;
}

static int identity_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(identity), sizeof(id_thread), w);
    if (err)
        return err;
    identity *id = *w;
    id->ops = (uint64_t)ctx->param[P_OPS];
    id->int_min = -ctx->param[P_INT_BELOW];
    id->span = (uint64_t)(ctx->param[P_INT_MAX] + ctx->param[P_INT_BELOW]) + 1;
    id->keys = (uint64_t)ctx->param[P_KEYS];
    id->intern = (uint64_t)ctx->param[P_INTERN];
    return 0;
}

static int identity_run(void *w, int tid, hb_counts *out)
{
    identity *id = w;
    id_thread *t = cwl_at(&id->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    int err = doc_lines(h, t);

    hb_scope sc;
    hb_scope_enter(h, &sc);
    hb_object **a = hb_var(h), **b = hb_var(h), **c = hb_var(h), **s = hb_var(h), **u = hb_var(h);
    char buf[24];
    for (uint64_t k = 0; k < id->ops && !err; k++) {
        int64_t v = id->int_min + (int64_t)(k % id->span);
        size_t len = key_text(buf, k % id->keys);
        int interned = k % 100 < id->intern;
        hb_op_begin(&out->lat); /* one op: a = v; b = v; c = a + b; s = t = "key<j>" */
        hb_set_new(h, a, hb_int_new(h, v));
        hb_set_new(h, b, *a ? hb_int_new(h, v) : NULL);
        if (!*b) {
            err = ENOMEM;
            hb_op_end(&out->lat);
            break;
        }
        int is = *a == *b;
        hb_set_new(h, c, hb_int_new(h, hb_int_value(*a) + hb_int_value(*b)));
        if (interned) {
            hb_set(h, s, hb_str_intern(h, buf));
            hb_set(h, u, hb_str_intern(h, buf));
        } else {
            hb_set_new(h, s, hb_str_new(h, buf, len));
            hb_set_new(h, u, *s ? hb_str_new(h, buf, len) : NULL);
        }
        if (!*c || !*s || !*u) {
            err = ENOMEM;
            hb_op_end(&out->lat);
            break;
        }
        hb_op_end(&out->lat);

        if (is != small(v))
            bad(t, k, is ? "a is b for a value outside -5..256" : "a is not b for a small value");
        if (small(v) && !immortal(*a))
            bad(t, k, "a cached small int is not immortal");
        if (hb_int_value(*c) != 2 * v)
            bad(t, k, "a + b is not 2v");
        if ((*s == *u) != interned || !hb_str_eq(*s, *u) || immortal(*s) != interned)
            bad(t, k, interned ? "interned strings not one immortal object"
                               : "fresh strings not two equal mortal objects");
        t->ints += 3;
        t->ints_cached += 2 * (uint64_t)small(v) + (uint64_t)small(2 * v);
        t->strs += 2;
        t->strs_interned += 2 * (uint64_t)interned;
        t->immortal_stores += immortal(*a) + immortal(*b) + immortal(*c) + immortal(*s) + immortal(*u);
        t->sum += (uint64_t)hb_int_value(*c);
        t->c.ops++;
    }
    hb_scope_leave(h, &sc);
    return cwl_end(&t->c, h, out, err);
}

/* Ops k in [0, ops) whose value int_min + k mod span lies in [lo, hi]. */
static uint64_t ops_with_value(const identity *id, int64_t lo, int64_t hi)
{
    int64_t top = id->int_min + (int64_t)id->span - 1;
    if (lo < id->int_min)
        lo = id->int_min;
    if (hi > top)
        hi = top;
    if (lo > hi)
        return 0;
    uint64_t r0 = (uint64_t)(lo - id->int_min), r1 = (uint64_t)(hi - id->int_min);
    uint64_t full = id->ops / id->span, part = id->ops % id->span; /* residues < part: one more */
    uint64_t n = (r1 - r0 + 1) * full;
    if (part > r0)
        n += (part - 1 < r1 ? part - 1 : r1) - r0 + 1;
    return n;
}

/* The sum of c = 2v over every op. */
static uint64_t predicted_sum(const identity *id)
{
    uint64_t full = id->ops / id->span, part = id->ops % id->span, sum = 0;
    for (uint64_t r = 0; r < id->span && (full || r < part); r++) {
        uint64_t times = full + (r < part);
        sum += times * (uint64_t)(2 * (id->int_min + (int64_t)r));
    }
    return sum;
}

static int identity_check(void *w, char *err, size_t errlen)
{
    identity *id = w;
    if (cwl_check_done(&id->c, err, errlen))
        return 1;
    uint64_t small_v = ops_with_value(id, HB_SMALLINT_MIN, HB_SMALLINT_MAX);
    uint64_t small_2v = ops_with_value(id, -2, HB_SMALLINT_MAX / 2); /* 2v in -5..256 */
    uint64_t interned = id->ops / 100 * id->intern + (id->ops % 100 < id->intern ? id->ops % 100
                                                                                : id->intern);
    uint64_t ints_cached = 2 * small_v + small_2v, strs_interned = 2 * interned;
    uint64_t allocs = DOC_ALLOCS + 3 * id->ops - ints_cached + 2 * id->ops - strs_interned;
    uint64_t sum = predicted_sum(id);
    for (int tid = 0; tid < id->c.threads; tid++) {
        id_thread *t = cwl_at(&id->c, tid);
        uint64_t made = t->ints + t->strs, avoided = t->ints_cached + t->strs_interned;
        fprintf(stderr, "identity: thread %d: ints %" PRIu64 " made, %" PRIu64
                " from the small-int cache (%.1f%%); strs %" PRIu64 " made, %" PRIu64
                " interned (%.1f%%); objects allocated %" PRIu64 ", allocations avoided %" PRIu64
                " (%.1f%%); stores of immortal objects %" PRIu64 "%s\n", tid, t->ints,
                t->ints_cached, t->ints ? 100.0 * (double)t->ints_cached / (double)t->ints : 0.0,
                t->strs, t->strs_interned,
                t->strs ? 100.0 * (double)t->strs_interned / (double)t->strs : 0.0, t->c.allocs,
                avoided, made ? 100.0 * (double)avoided / (double)made : 0.0, t->immortal_stores,
                t->c.refcounts ? " (each an increment and a decrement skipped)" : "");
        for (int i = 0; i < DOC_ANSWERS; i++)
            if (t->doc[i] != doc_want[i]) {
                static const char *const line[DOC_ANSWERS] = {
                    "1 is 1", "257 is 257", "\"abc\" is \"abc\"", "the long literals are one object",
                    "p is q (built at run time)", "p == q"};
                snprintf(err, errlen, "thread %d: %s is %s, the documents print %s", tid, line[i],
                         t->doc[i] ? "True" : "False", doc_want[i] ? "True" : "False");
                return 1;
            }
        if (t->bad) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " ops wrong; first at op %" PRIu64 ": %s", tid,
                     t->bad, t->bad_op, t->bad_what);
            return 1;
        }
        if (t->c.ops != id->ops || t->sum != sum) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " ops of %" PRIu64 ", sum of a + b %" PRIu64
                     ", want %" PRIu64, tid, t->c.ops, id->ops, t->sum, sum);
            return 1;
        }
        if (t->ints_cached != ints_cached || t->strs_interned != strs_interned) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " cached ints and %" PRIu64
                     " interned strs, want %" PRIu64 " and %" PRIu64, tid, t->ints_cached,
                     t->strs_interned, ints_cached, strs_interned);
            return 1;
        }
        /* the heap's own counter: neither small ints nor interned strs count */
        if (cwl_check_counts(&t->c, tid, allocs, 0, err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_identity = {
    .name = "identity",
    .doc = "identity: a is b, small ints -5..256 cached and 257 not, interned strings",
    .min_threads = 1,
    .needs_collector = 1,
    .params = identity_params,
    .setup = identity_setup,
    .run = identity_run,
    .check = identity_check,
    .teardown = cwl_teardown,
};
