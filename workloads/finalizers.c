/* finalizers.c -- __del__ in cycles, weakref.finalize callbacks,
 * resurrection and legacy finalizers: each finalizer runs exactly once.
 *
 * Op i makes one of these, in turn, and drops it:
 *
 *   0 del-cycle   the documents' SomeObject pair: foo.ref = bar; bar.ref =
 *                 foo, both with __del__; del foo, bar. Nothing runs at
 *                 del; gc.collect() runs both finalizers (PEP 442).
 *   1 finalize    weakref.finalize(obj, callback) on an object no cycle
 *                 holds: the callback runs when the last reference goes
 *   2 finalize-cyclic  the same on an object that holds itself: only a
 *                 collection runs it
 *   3 lazarus     an object in a self-cycle whose __del__ stores it in a
 *                 list (resurrection); the list is emptied every 1000, and
 *                 the second death must not run __del__ again
 *   4 legacy      every legacy_every-th op instead: a pair whose finalizer
 *                 is a legacy tp_del -- uncollectable on rcgen as in
 *                 CPython before 3.4, kept in gc.garbage
 *
 * Objects carry their number in three small-int fields (no allocation),
 * and every finalizer counts its run in a per-object byte, so check() can
 * say which object ran twice or never.
 *
 * Expected per backend (check() asserts exactly this): rc runs no
 * finalizer of a cycle (kinds 0, 2, 3, 4 never run; kind 1 runs once, at
 * del); rcgen runs each of kinds 0..3 exactly once and none of kind 4,
 * whose objects are counted uncollectable; marksweep has no notion of
 * legacy finalizers and runs every one exactly once; boehm runs each at
 * most once (a conservative scan may keep some alive to the end). The
 * line printed to stderr by check() reports finalizers run and
 * uncollectable objects, as gc.get_stats() would.
 */
#include "cwl.h"

#include <stdlib.h>

enum { P_OPS, P_LEGACY };

/* rcgen on glibc, one core: small ~0.1 s, medium ~1 s, large ~5 s. */
static const hb_param_spec fin_params[] = {
    {"ops", {100000, 2000000, 5000000}, 1, 1 << 23, "structures with finalizers per thread"},
    {"legacy_every", {100, 100, 100}, 0, INT64_C(1) << 32,
     "every n-th op makes a legacy-finalizer pair (0: none)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

enum { K_DEL, K_FIN, K_FINCYC, K_LAZARUS, K_LEGACY, K_KINDS };
static const char *const kind_name[K_KINDS] = {"__del__ in a cycle", "weakref.finalize",
                                               "weakref.finalize in a cycle", "resurrection",
                                               "legacy finalizer"};
enum { F_ID0, F_ID1, F_ID2, F_REF, F_FIELDS };
#define LAZARUS_BATCH 1000

typedef struct fin_thread {
    cwl_thread c;
    hb_type del_cls, lazarus_cls, legacy_cls, plain_cls; /* udata: this record */
    hb_object **resurrected;                             /* the list lazarus joins */
    uint8_t *runs;      /* per object: finalizer runs */
    uint8_t *kind;      /* per object: its kind */
    uint64_t nobj;
    uint64_t made[K_KINDS], ran[K_KINDS], twice, resurrections;
    uint64_t uncollectable;
    int err;
} fin_thread;

typedef struct finalizers {
    cwl c;
    uint64_t ops, legacy_every, maxobj;
} finalizers;

static uint64_t obj_id(hb_object *n)
{
    return (uint64_t)hb_int_value(hb_node_get(n, F_ID0)) |
           (uint64_t)hb_int_value(hb_node_get(n, F_ID1)) << 8 |
           (uint64_t)hb_int_value(hb_node_get(n, F_ID2)) << 16;
}

static void count_run(fin_thread *t, uint64_t id)
{
    if (t->runs[id]++ == 1)
        t->twice++;
    t->ran[t->kind[id]]++;
}

static void del_fn(hb_heap *h, hb_object *self)
{
    (void)h;
    count_run(hb_typeof(self)->udata, obj_id(self));
}

static void lazarus_fn(hb_heap *h, hb_object *self)
{
    fin_thread *t = hb_typeof(self)->udata;
    count_run(t, obj_id(self));
    if (!t->resurrected)
        return; /* after run's scope: nowhere to go back to (boehm, late) */
    if (hb_list_append(h, *t->resurrected, self) == 0) /* resurrect */
        t->resurrections++;
    else
        t->err = ENOMEM;
}

static void finalize_cb(hb_heap *h, hb_object *wr, hb_object *arg, void *ctx)
{
    (void)h, (void)wr;
    count_run(ctx, obj_id(arg));
}

/* A node of class cls numbered id (the next object number). */
static hb_object *make(hb_heap *h, fin_thread *t, const hb_type *cls, int kind)
{
    uint64_t id = t->nobj;
    hb_object *n = hb_node_new(h, cls, F_FIELDS);
    if (!n)
        return NULL;
    hb_node_set_new(h, n, F_ID0, hb_int_new(h, (int64_t)(id & 255)));
    hb_node_set_new(h, n, F_ID1, hb_int_new(h, (int64_t)((id >> 8) & 255)));
    hb_node_set_new(h, n, F_ID2, hb_int_new(h, (int64_t)((id >> 16) & 255)));
    t->kind[id] = (uint8_t)kind;
    t->nobj++;
    t->made[kind]++;
    return n;
}

static int fin_setup(const hb_ctx *ctx, void **w)
{
    uint64_t maxobj = 2 * (uint64_t)ctx->param[P_OPS];
    if (maxobj > (1u << 24))
        return EINVAL; /* numbers are three small ints */
    int err = cwl_setup(ctx, sizeof(finalizers), sizeof(fin_thread), w);
    if (err)
        return err;
    finalizers *f = *w;
    f->ops = (uint64_t)ctx->param[P_OPS];
    f->legacy_every = (uint64_t)ctx->param[P_LEGACY];
    f->maxobj = maxobj;
    for (int tid = 0; tid < f->c.threads; tid++) {
        fin_thread *t = cwl_at(&f->c, tid);
        hb_class_init(&t->del_cls, "SomeObject", del_fn, t, 0);
        hb_class_init(&t->lazarus_cls, "Lazarus", lazarus_fn, t, 0);
        hb_class_init(&t->legacy_cls, "Legacy", del_fn, t, 1);
        hb_class_init(&t->plain_cls, "Plain", NULL, t, 0);
        t->runs = f->c.a->alloc(f->c.as, 2 * maxobj);
        if (!t->runs) {
            for (int i = 0; i < tid; i++)
                f->c.a->free(f->c.as, ((fin_thread *)cwl_at(&f->c, i))->runs, 2 * maxobj);
            cwl_teardown(f);
            return ENOMEM;
        }
        memset(t->runs, 0, 2 * maxobj);
        t->kind = t->runs + maxobj;
    }
    return 0;
}

static void fin_teardown(void *w)
{
    finalizers *f = w;
    for (int tid = 0; tid < f->c.threads; tid++)
        f->c.a->free(f->c.as, ((fin_thread *)cwl_at(&f->c, tid))->runs, 2 * f->maxobj);
    cwl_teardown(f);
}

static int fin_run(void *w, int tid, hb_counts *out)
{
    finalizers *f = w;
    fin_thread *t = cwl_at(&f->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    hb_gen_stats st0[HB_GENERATIONS];
    for (int g = 0; g < HB_GENERATIONS; g++)
        hb_gc_get_stats(h, g, &st0[g]);
    int err = 0;

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **foo = hb_var(h), **bar = hb_var(h);
    t->resurrected = hb_var(h);
    hb_set_new(h, t->resurrected, hb_list_new(h));
    if (!*t->resurrected)
        err = ENOMEM;
    for (uint64_t i = 0; i < f->ops && !err && !t->err; i++) {
        int kind = f->legacy_every && i % f->legacy_every == f->legacy_every - 1 ? K_LEGACY
                                                                                : (int)(i % 4);
        hb_op_begin(&out->lat); /* one op: make it, drop it (and whatever runs then) */
        switch (kind) {
        case K_DEL:
        case K_LEGACY: {
            const hb_type *cls = kind == K_DEL ? &t->del_cls : &t->legacy_cls;
            hb_set_new(h, foo, make(h, t, cls, kind));
            hb_set_new(h, bar, *foo ? make(h, t, cls, kind) : NULL);
            if (!*bar) {
                err = ENOMEM;
                break;
            }
            hb_node_set(h, *foo, F_REF, *bar);
            hb_node_set(h, *bar, F_REF, *foo);
            break;
        }
        case K_FIN:
        case K_FINCYC:
            hb_set_new(h, foo, make(h, t, &t->plain_cls, kind));
            if (!*foo) {
                err = ENOMEM;
                break;
            }
            if (kind == K_FINCYC)
                hb_node_set(h, *foo, F_REF, *foo);
            /* the callback's argument is the object's number: a second
             * node holding the same three small ints */
            hb_set_new(h, bar, hb_node_new(h, &t->plain_cls, F_FIELDS));
            if (!*bar || !hb_finalize_new(h, *foo, finalize_cb, *bar, t)) {
                err = ENOMEM;
                break;
            }
            for (int k = F_ID0; k <= F_ID2; k++)
                hb_node_set(h, *bar, (size_t)k, hb_node_get(*foo, (size_t)k));
            break;
        default:
            hb_set_new(h, foo, make(h, t, &t->lazarus_cls, kind));
            if (!*foo) {
                err = ENOMEM;
                break;
            }
            hb_node_set(h, *foo, F_REF, *foo);
            break;
        }
        hb_del(h, foo);
        hb_del(h, bar);
        if (hb_list_len(*t->resurrected) >= LAZARUS_BATCH)
            hb_list_clear(h, *t->resurrected); /* they die again: no second __del__ */
        hb_op_end(&out->lat);
        t->c.ops++;
    }
    /* Run what is pending while the resurrection list still exists, let
     * the resurrected die a second time, and collect them (marksweep frees
     * a finalized object one collection after its finalizer ran). */
    if (!err && !t->err) {
        hb_collect(h, -1);
        hb_list_clear(h, *t->resurrected);
        hb_collect(h, -1);
        hb_collect(h, -1);
    }
    t->resurrected = NULL;
    hb_scope_leave(h, &s);
    err = cwl_end(&t->c, h, out, err ? err : t->err);
    for (int g = 0; g < HB_GENERATIONS; g++) {
        hb_gen_stats st;
        hb_gc_get_stats(h, g, &st);
        t->uncollectable += st.uncollectable - st0[g].uncollectable;
    }
    return err;
}

static int fin_check(void *w, char *err, size_t errlen)
{
    finalizers *f = w;
    if (cwl_check_done(&f->c, err, errlen))
        return 1;
    for (int tid = 0; tid < f->c.threads; tid++) {
        fin_thread *t = cwl_at(&f->c, tid);
        int rc = !t->c.finds_cycles, rcgen = t->c.refcounts && t->c.finds_cycles;
        fprintf(stderr, "finalizers: thread %d: %" PRIu64 " objects; finalizers run: %" PRIu64
                " __del__ in cycles, %" PRIu64 " + %" PRIu64 " weakref.finalize, %" PRIu64
                " resurrections, %" PRIu64 " legacy; uncollectable %" PRIu64 "\n", tid, t->nobj,
                t->ran[K_DEL], t->ran[K_FIN], t->ran[K_FINCYC], t->resurrections, t->ran[K_LEGACY],
                t->uncollectable);
        if (t->twice) {
            for (uint64_t id = 0; id < t->nobj; id++)
                if (t->runs[id] > 1) {
                    snprintf(err, errlen, "thread %d: object %" PRIu64 " (%s) was finalized %d times",
                             tid, id, kind_name[t->kind[id]], t->runs[id]);
                    return 1;
                }
        }
        for (uint64_t id = 0; id < t->nobj; id++) {
            int k = t->kind[id];
            int want = rc ? k == K_FIN : rcgen ? k != K_LEGACY : 1;
            if (t->c.exact ? t->runs[id] != want : t->runs[id] > 1) {
                snprintf(err, errlen, "thread %d: object %" PRIu64 " (%s) was finalized %d times, want %d",
                         tid, id, kind_name[k], t->runs[id], want);
                return 1;
            }
        }
        uint64_t legacy = t->made[K_LEGACY];
        if (t->c.exact && t->uncollectable != (rcgen ? legacy : 0)) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " uncollectable objects, want %" PRIu64, tid,
                     t->uncollectable, rcgen ? legacy : 0);
            return 1;
        }
        /* objects made: the numbered ones plus one argument per finalize,
         * the finalize objects, and the resurrection list */
        uint64_t fins = t->made[K_FIN] + t->made[K_FINCYC];
        uint64_t left = 0;
        if (rc) /* every cycle; a finalize on a cyclic target keeps itself and its argument */
            left = t->made[K_DEL] + 3 * t->made[K_FINCYC] + t->made[K_LAZARUS] + legacy;
        else if (rcgen && legacy) /* gc.garbage (a list) and what it holds */
            left = 1 + legacy;
        if (cwl_check_counts(&t->c, tid, t->nobj + 2 * fins + 1 + (rcgen && legacy), left, err,
                             errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_finalizers = {
    .name = "finalizers",
    .doc = "finalizers: __del__ in cycles, weakref.finalize, resurrection; each runs exactly once",
    .min_threads = 1,
    .needs_collector = 1,
    .params = fin_params,
    .setup = fin_setup,
    .run = fin_run,
    .check = fin_check,
    .teardown = fin_teardown,
};
