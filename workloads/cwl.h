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
 *                brings its own object heap (boehm: obj_alloc is not the
 *                heap's allocator) cannot count object deaths, so only
 *                allocations are checked there.
 */
#ifndef HB_CWL_H
#define HB_CWL_H

#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

/* The head of every collector workload's state. */
typedef struct cwl {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed;
    size_t bytes;   /* of the whole state, for teardown */
    size_t tbytes;  /* of one thread's record */
    char *t;        /* threads' records, tbytes apart, cache-line aligned */
} cwl;

/* The head of every thread's record: written only by its thread during run,
 * read by check after the join. */
typedef struct cwl_thread {
    alignas(64) int done;
    int err;
    int refcounts, finds_cycles, exact;
    uint64_t ops;
    uint64_t allocs0, frees0, collected0;
    uint64_t allocs, frees;   /* objects, over the whole run */
    uint64_t collected;       /* found by every collection of the run */
    uint64_t final_found;     /* by the final full collection */
    uint64_t live_end;        /* live objects after it */
} cwl_thread;

static inline int cwl_exact(const hb_heap *h) { return h->obj_alloc == h->alloc; }

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
    *w = c;
    return 0;
}

static inline void cwl_teardown(void *w)
{
    cwl *c = w;
    c->a->free(c->as, c, c->bytes);
}

static inline void *cwl_at(const cwl *c, int tid) { return c->t + (size_t)tid * c->tbytes; }

/* Per-thread random stream, distinct per thread and seed. */
static inline uint64_t cwl_rng(const cwl *c, int tid)
{
    return c->seed ^ ((uint64_t)(tid + 1) * 0x9e3779b97f4a7c15ULL);
}

static inline void cwl_begin(cwl_thread *t, hb_heap *h)
{
    t->refcounts = h->collector->refcounts;
    t->finds_cycles = h->collector->generations > 0;
    t->exact = cwl_exact(h);
    t->allocs0 = h->allocs;
    t->frees0 = h->frees;
    t->collected0 = h->collected_objects;
}

/* After the workload left its scopes: the final collection, the counts for
 * the harness (field by field: *out holds the recorder and the heap). */
static inline int cwl_end(cwl_thread *t, hb_heap *h, hb_counts *out, int err)
{
    if (!err)
        t->final_found = hb_collect(h, -1);
    t->allocs = h->allocs - t->allocs0;
    t->frees = h->frees - t->frees0;
    t->collected = h->collected_objects - t->collected0;
    t->live_end = h->live_objects;
    t->err = err;
    t->done = 1;
    out->ops = t->ops;
    out->allocs = t->allocs;
    out->frees = t->frees;
    return err;
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

/* Objects allocated, and (where exact) objects left after the final
 * collection, as the workload predicts them. */
static inline int cwl_check_counts(const cwl_thread *t, int tid, uint64_t allocs, uint64_t live,
                                   char *err, size_t errlen)
{
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

#endif
