/* cwl.h -- what the collector workloads share: their state's common head,
 * per-thread bookkeeping, the counts handed to the harness, and the
 * end-of-run accounting their self-checks build on.
 *
 * Every collector workload ends run the same way: it leaves its scopes and
 * asks for one full collection (gc.collect() at interpreter exit). That
 * collection is part of the timed work, and it makes what is left in the
 * heap afterwards mean one thing on every backend: objects the collector
 * cannot reclaim. On rc that is every cycle the workload made -- the leak
 * the harness's verifying trace then counts -- and on rcgen and marksweep
 * it is nothing, which is what the checks assert. Without it, garbage a
 * tracer simply had not reached yet would be counted as leaked.
 *
 * What a workload can know depends on the backend, and the checks use only
 * what is known:
 *   refcounts    rc, rcgen: an object dies when its count reaches zero, so
 *                acyclic garbage is gone at once and counts can be read
 *   finds cycles a backend with generations (rcgen, marksweep, boehm);
 *                rc has none and hb_collect always finds 0
 *   exact        the heap's live_objects counter is exact. A backend that
 *                brings its own object heap (own_heap: boehm) cannot
 *                count object deaths, so only allocations are checked
 *                there.
 *
 * Shared heaps (--heap shared). One heap serves every thread, so its
 * counters are everybody's, and a thread may not even read them while the
 * others run (they are written under the heap's lock). So on a shared heap:
 * thread 0 reads the counters' starting values before anyone allocates
 * (cwl_begin holds every thread at a barrier until then); the last thread
 * to finish -- every other one has left its scopes -- runs the one final
 * collection, stops the world once more with the verifying trace (on rc,
 * where the collection is a no-op, that is what merges the biased counts'
 * queues, so the counters are final) and takes the heap's figures into
 * `whole`. The checks then predict per thread as before, and
 * cwl_check_counts / cwl_check_collected compare the threads' sum with the
 * heap's figures. Isolated heaps are checked per thread, as always.
 */
#ifndef HB_CWL_H
#define HB_CWL_H

#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

typedef struct cwl cwl;

/* The head of every thread's record: written only by its thread during run,
 * read by check after the join. On a shared heap the heap's figures
 * (allocs .. stats) are in the state's `whole` record, not here. */
typedef struct cwl_thread {
    alignas(64) int done;
    int err;
    int refcounts, finds_cycles, exact;
    int shared;               /* the thread ran on a shared heap */
    cwl *state;               /* the state this record belongs to */
    uint64_t ops;
    uint64_t allocs0, frees0, collected0, live0;
    uint64_t allocs, frees;   /* objects, over the whole run */
    uint64_t collected;       /* found by every collection of the run */
    uint64_t final_found;     /* by the final full collection */
    uint64_t live_end;        /* live objects after it */
    uint64_t leaked;          /* shared: unreachable after it (the verifying trace) */
    hb_gen_stats stats[HB_GENERATIONS]; /* gc.get_stats() after it */
} cwl_thread;

/* The head of every collector workload's state. */
struct cwl {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed;
    size_t bytes;   /* of the whole state, for teardown */
    size_t tbytes;  /* of one thread's record */
    char *t;        /* threads' records, tbytes apart, cache-line aligned */
    /* shared heaps */
    pthread_barrier_t meet;  /* cwl_meet */
    int finished;            /* threads past cwl_end's count (atomic) */
    cwl_thread whole;        /* the heap's figures, by the last thread */
    uint64_t want_allocs, want_live, want_collected; /* check: the threads' sums */
};

static inline int cwl_exact(const hb_heap *h) { return !h->collector->own_heap; }

static inline void *cwl_at(const cwl *c, int tid) { return c->t + (size_t)tid * c->tbytes; }

/* Allocates a zeroed state of `bytes` (starting with a cwl) and `threads`
 * records of `tbytes` (each starting with a cwl_thread). */
static inline int cwl_setup(const hb_ctx *ctx, size_t bytes, size_t tbytes, void **w)
{
    if (ctx->threads < 1)
        return EINVAL;
    tbytes = (tbytes + 63) & ~(size_t)63;
    size_t head = (bytes + 63) & ~(size_t)63;
    size_t all = head + (size_t)ctx->threads * tbytes;
    cwl *c = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, all);
    if (!c)
        return ENOMEM;
    memset(c, 0, all);
    c->a = ctx->alloc;
    c->as = ctx->alloc_state;
    c->threads = ctx->threads;
    c->seed = ctx->seed;
    c->bytes = all;
    c->tbytes = tbytes;
    c->t = (char *)c + head;
    for (int tid = 0; tid < ctx->threads; tid++)
        ((cwl_thread *)cwl_at(c, tid))->state = c;
    int err = pthread_barrier_init(&c->meet, NULL, (unsigned)ctx->threads);
    if (err) {
        ctx->alloc->free(ctx->alloc_state, c, all);
        return err;
    }
    *w = c;
    return 0;
}

static inline void cwl_teardown(void *w)
{
    cwl *c = w;
    hb_classes_release(c, c->bytes); /* the classes in the state and its records */
    pthread_barrier_destroy(&c->meet);
    c->a->free(c->as, c, c->bytes);
}

/* Every thread of the cell waits here for the others (a shared heap's
 * threads only: isolated ones have nothing to wait for). Blocked, so a
 * collection another thread starts meanwhile does not wait for us. */
static inline void cwl_meet(cwl *c, hb_heap *h)
{
    hb_mutator_block(h);
    pthread_barrier_wait(&c->meet);
    hb_mutator_unblock(h);
}

/* *var = a new instance of cls with `fields` fields, field 0 the int
 * `value` (a fresh object unless small); *var holds the node while the int
 * is allocated, so no collection can take it. 0 or ENOMEM. */
static inline int cwl_node_new(hb_heap *h, hb_object **var, const hb_type *cls, size_t fields,
                               int64_t value)
{
    hb_set_new(h, var, hb_node_new(h, cls, fields));
    hb_object *v = *var ? hb_int_new(h, value) : NULL;
    if (!v)
        return ENOMEM;
    hb_node_set_new(h, *var, 0, v);
    return 0;
}

/* Per-thread random stream, distinct per thread and seed. */
static inline uint64_t cwl_rng(const cwl *c, int tid)
{
    return c->seed ^ ((uint64_t)(tid + 1) * 0x9e3779b97f4a7c15ULL);
}

/* Counters before the run, into r. */
static inline void cwl_start_figures(cwl_thread *r, const hb_heap *h)
{
    r->allocs0 = h->allocs;
    r->frees0 = h->frees;
    r->collected0 = h->collected_objects;
    r->live0 = h->live_objects;
}

/* The final collection, then the figures since cwl_start_figures, into r. */
static inline void cwl_end_figures(cwl_thread *r, hb_heap *h, int collect)
{
    if (collect)
        r->final_found = hb_collect(h, -1);
    if (hb_heap_is_shared(h)) {
        uint64_t bytes;
        if (hb_heap_leaks(h, &r->leaked, &bytes) != 0)
            r->err = ENOMEM;
    }
    r->allocs = h->allocs - r->allocs0;
    r->frees = h->frees - r->frees0;
    r->collected = h->collected_objects - r->collected0;
    r->live_end = h->live_objects;
    for (int gen = 0; gen < HB_GENERATIONS; gen++)
        hb_gc_get_stats(h, gen, &r->stats[gen]);
}

static inline void cwl_begin(cwl_thread *t, hb_heap *h)
{
    t->refcounts = h->collector->refcounts;
    t->finds_cycles = h->collector->generations > 0;
    t->exact = cwl_exact(h);
    t->shared = hb_heap_is_shared(h);
    if (!t->shared) {
        cwl_start_figures(t, h);
        return;
    }
    cwl *c = t->state;
    if (t == cwl_at(c, 0))
        cwl_start_figures(&c->whole, h); /* nobody allocates before the barrier */
    cwl_meet(c, h);
}

/* After the workload left its scopes: the final collection, the counts for
 * the harness (field by field: *out holds the recorder and the heap). On a
 * shared heap the last thread to get here collects, for everyone, and
 * reports the heap's allocs and frees; the others report none. */
static inline int cwl_end(cwl_thread *t, hb_heap *h, hb_counts *out, int err)
{
    t->err = err;
    out->ops = t->ops;
    if (!t->shared) {
        cwl_end_figures(t, h, !err);
        t->done = 1;
        out->allocs = t->allocs;
        out->frees = t->frees;
        return err;
    }
    cwl *c = t->state;
    t->done = 1;
    out->allocs = out->frees = 0;
    if (__atomic_add_fetch(&c->finished, 1, __ATOMIC_ACQ_REL) == c->threads) {
        /* every other thread has left its scopes: only what they left
         * behind is in the heap */
        cwl_end_figures(&c->whole, h, 1);
        out->allocs = c->whole.allocs;
        out->frees = c->whole.frees;
        if (!err)
            err = t->err = c->whole.err;
    }
    return err;
}

/* The heap's figures that a check reads for thread t: its own heap's, or
 * the shared heap's. */
static inline const cwl_thread *cwl_figures(const cwl_thread *t)
{
    return t->shared ? &t->state->whole : t;
}

/* Every thread finished without error. */
static inline int cwl_check_done(const cwl *c, char *err, size_t errlen)
{
    for (int tid = 0; tid < c->threads; tid++) {
        const cwl_thread *t = cwl_at(c, tid);
        if (!t->done || t->err) {
            snprintf(err, errlen, "thread %d did not finish (error %d)", tid, t->err);
            return 1;
        }
    }
    return 0;
}

/* Sums over threads 0..tid of what a check predicts, for a shared heap:
 * 1 when tid is the last thread (compare now), 0 before. */
static inline int cwl_sum(const cwl_thread *t, int tid, uint64_t *sum, uint64_t v)
{
    *sum = (tid ? *sum : 0) + v;
    return tid == t->state->threads - 1;
}

/* Objects allocated, and (where exact) objects left after the final
 * collection, as the workload predicts them. Called for every thread in
 * order: on a shared heap the predictions' sums are compared with the
 * heap's figures at the last thread, and every object left must be
 * unreachable (the threads left their scopes). */
static inline int cwl_check_counts(const cwl_thread *t, int tid, uint64_t allocs, uint64_t live,
                                   char *err, size_t errlen)
{
    if (t->shared) {
        cwl *c = t->state;
        const cwl_thread *w = &c->whole;
        int last = cwl_sum(t, tid, &c->want_allocs, allocs);
        cwl_sum(t, tid, &c->want_live, live);
        if (!last)
            return 0;
        if (w->allocs != c->want_allocs) {
            snprintf(err, errlen, "the %d threads allocated %" PRIu64 " objects on the shared heap, "
                     "want %" PRIu64, c->threads, w->allocs, c->want_allocs);
            return 1;
        }
        if (t->exact && w->frees + w->live_end != w->allocs + w->live0) {
            snprintf(err, errlen, "shared heap: %" PRIu64 " objects made, %" PRIu64 " freed, %" PRIu64
                     " left: not every object was freed once or left", w->allocs, w->frees, w->live_end);
            return 1;
        }
        if (t->exact && (w->live_end != c->want_live || w->leaked != w->live_end)) {
            snprintf(err, errlen, "shared heap: %" PRIu64 " objects left after the final collection "
                     "(%" PRIu64 " unreachable), want %" PRIu64, w->live_end, w->leaked, c->want_live);
            return 1;
        }
        return 0;
    }
    if (t->allocs != allocs) {
        snprintf(err, errlen, "thread %d allocated %" PRIu64 " objects, want %" PRIu64, tid,
                 t->allocs, allocs);
        return 1;
    }
    if (t->exact && t->live_end != live) {
        snprintf(err, errlen,
                 "thread %d: %" PRIu64 " objects left after the final collection, want %" PRIu64,
                 tid, t->live_end, live);
        return 1;
    }
    return 0;
}

/* Where the backend finds cycles and counts exactly: its collections
 * found at least `least` objects (`what` says which), per thread or, on a
 * shared heap, summed (called for every thread in order). */
static inline int cwl_check_collected(const cwl_thread *t, int tid, uint64_t least,
                                      const char *what, char *err, size_t errlen)
{
    uint64_t want = least;
    if (t->shared && !cwl_sum(t, tid, &t->state->want_collected, least))
        return 0;
    if (t->shared)
        want = t->state->want_collected;
    const cwl_thread *f = cwl_figures(t);
    if (t->finds_cycles && t->exact && f->collected < want) {
        char who[32] = "shared heap";
        if (!t->shared)
            snprintf(who, sizeof who, "thread %d", tid);
        snprintf(err, errlen, "%s: collections found %" PRIu64 " objects, want at least %" PRIu64
                 " (%s)", who, f->collected, want, what);
        return 1;
    }
    return 0;
}

#endif
