/* xthread.c -- producers allocate, consumers free what they receive: every
 * free comes from a thread other than the one that allocated.
 *
 * Roles (roles.h): T/2 producers, the other threads consumers, each
 * consumer fed by one producer, which deals its blocks round robin.
 *
 * Transport. One bounded single-producer single-consumer ring per consumer,
 * `ring` entries long, so the memory in flight is bounded by C * ring blocks
 * whatever the relative speed of the threads. A full or empty ring spins
 * with a pause and yields now and then, because cells may run with more
 * threads than cores. Indices are published in batches (PUBLISH_BATCH).
 *
 * Checking. Block i of producer p has a tag derived from (seed, p, i) in its
 * first 8 bytes, its complement in the last 8, and a size derived from the
 * tag. A consumer knows which blocks it is owed, in order, so it verifies
 * each against the exact tag expected: a lost, duplicated, reordered or
 * overwritten block is caught.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_yield, pthread_barrier_t */
#endif
#include "roles.h"
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { P_OPS, P_RING, P_MIN, P_MAX };

/* One producer and one consumer sharing one core, glibc: small ~0.1 s,
 * medium ~1.5 s, large ~7.5 s. */
static const hb_param_spec xthread_params[] = {
    {"ops", {800000, 30000000, 150000000}, 1, INT64_C(1) << 40, "blocks allocated per producer"},
    {"ring", {1024, 1024, 1024}, 1, 1 << 20,
     "blocks in flight per consumer (bounds memory, not work)"},
    {"min_size", {16, 16, 16}, 16, 1 << 20, "smallest block, bytes (room for two tag words)"},
    {"max_size", {512, 512, 512}, 16, 1 << 20, "largest block, bytes"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

/* One ring. Each side's fields sit on their own cache line; the cached copy
 * of the other side's index saves a shared load per operation. */
typedef struct ring {
    alignas(64) _Atomic uint64_t tail; /* blocks published by the producer */
    uint64_t wcount, head_seen, wpos;  /* the producer's own: pushed, last head seen, index */
    alignas(64) _Atomic uint64_t head; /* blocks released by the consumer */
    uint64_t rcount, tail_seen, rpos;  /* the consumer's own: taken, last tail seen, index */
    alignas(64) void **slot;           /* entries published by release on tail */
} ring;

/* Each side publishes its index every PUBLISH_BATCH blocks, and always
 * before it waits (so nothing is ever waited for that was not published).
 * Publishing every block would make the two cores trade the index line once
 * per block whenever the ring runs nearly full or empty: the transport, not
 * the allocator, would be measured. 32 blocks of up to 512 B is still a
 * small part of a 1024-entry ring. */
#define PUBLISH_BATCH 32

/* Written by its own thread during run, read by check after the join. */
typedef struct xt_thread {
    alignas(64) int done;
    int err;
    uint64_t allocs, frees;
    uint64_t sum_made;  /* tags written (producer) */
    uint64_t sum_freed; /* tags read back (consumer) */
    uint64_t want;    /* blocks a consumer is owed */
    uint64_t bad, bad_block, bad_head, bad_want;
} xt_thread;

typedef struct xthread {
    const hb_allocator *a;
    void *as;
    int threads;
    hb_roles roles;
    uint64_t seed, ops, cap, min, span;
    _Atomic int stop; /* a thread failed: the others must not wait for it */
    ring *rings;      /* one per consumer */
    xt_thread t[];
} xthread;

static int xthread_setup(const hb_ctx *ctx, void **w)
{
    if (ctx->param[P_MIN] > ctx->param[P_MAX] || ctx->threads < 2)
        return EINVAL;
    int T = ctx->threads, C = hb_roles_of(T).consumers;
    size_t bytes = sizeof(xthread) + (size_t)T * sizeof(xt_thread);
    size_t cap = (size_t)ctx->param[P_RING];
    xthread *x = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, bytes);
    ring *r = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, (size_t)C * sizeof(ring));
    void **slots = ctx->alloc->alloc(ctx->alloc_state, (size_t)C * cap * sizeof(void *));
    if (!x || !r || !slots) {
        if (x)
            ctx->alloc->free(ctx->alloc_state, x, bytes);
        if (r)
            ctx->alloc->free(ctx->alloc_state, r, (size_t)C * sizeof(ring));
        if (slots)
            ctx->alloc->free(ctx->alloc_state, slots, (size_t)C * cap * sizeof(void *));
        return ENOMEM;
    }
    memset(x, 0, bytes);
    memset(r, 0, (size_t)C * sizeof(ring));
    memset(slots, 0, (size_t)C * cap * sizeof(void *)); /* touch the rings before timing */
    *x = (xthread){.a = ctx->alloc, .as = ctx->alloc_state, .threads = T, .roles = hb_roles_of(T),
                   .seed = ctx->seed, .ops = (uint64_t)ctx->param[P_OPS],
                   .cap = cap, .min = (uint64_t)ctx->param[P_MIN],
                   .span = (uint64_t)(ctx->param[P_MAX] - ctx->param[P_MIN] + 1), .rings = r};
    for (int c = 0; c < C; c++) {
        atomic_init(&r[c].tail, 0);
        atomic_init(&r[c].head, 0);
        r[c].slot = slots + (size_t)c * cap;
    }
    atomic_init(&x->stop, 0);
    *w = x;
    return 0;
}

/* Tell the consumers fed by producer p what has been pushed so far. */
static void publish_tails(xthread *x, int p)
{
    for (int c = p; c < x->roles.consumers; c += x->roles.producers)
        atomic_store_explicit(&x->rings[c].tail, x->rings[c].wcount, memory_order_release);
}

static int produce(xthread *x, xt_thread *t, int p, hb_lat *lat)
{
    uint64_t k = hb_fan_out(x->roles, p);
    int err = 0;
    for (uint64_t i = 0; i < x->ops; i++) {
        ring *r = &x->rings[p + (int)(i % k) * x->roles.producers];
        unsigned spins = 0;
        while (r->wcount - r->head_seen == x->cap) {
            r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
            if (r->wcount - r->head_seen < x->cap)
                break;
            /* About to wait: unpublished blocks must not be waited for. */
            publish_tails(x, p);
            if (atomic_load_explicit(&x->stop, memory_order_relaxed))
                return ECANCELED;
            hb_relax(&spins);
        }
        /* A producer's op is making and filling a block, not waiting for
         * room in the ring. */
        hb_op_begin(lat);
        uint64_t tag = hb_block_tag(x->seed, p, i);
        size_t n = hb_block_size(x->min, x->span, tag);
        uint64_t *b = x->a->alloc(x->as, n);
        if (!b) {
            err = ENOMEM;
            break;
        }
        b[0] = tag;
        memcpy((char *)b + n - 8, &(uint64_t){~tag}, 8);
        hb_op_end(lat);
        t->allocs++;
        t->sum_made += tag;
        r->slot[r->wpos] = b;
        if (++r->wpos == x->cap)
            r->wpos = 0;
        if (++r->wcount % PUBLISH_BATCH == 0)
            atomic_store_explicit(&r->tail, r->wcount, memory_order_release);
    }
    publish_tails(x, p);
    return err;
}

static int consume(xthread *x, xt_thread *t, int c, hb_lat *lat)
{
    ring *r = &x->rings[c];
    int p = c % x->roles.producers;
    uint64_t k = hb_fan_out(x->roles, p), i = (uint64_t)(c / x->roles.producers);
    t->want = hb_owed(x->roles, x->ops, c);
    for (uint64_t m = 0; m < t->want; m++, i += k) {
        unsigned spins = 0;
        while (r->rcount == r->tail_seen) {
            r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
            if (r->rcount != r->tail_seen)
                break;
            atomic_store_explicit(&r->head, r->rcount, memory_order_release);
            if (atomic_load_explicit(&x->stop, memory_order_relaxed))
                return ECANCELED;
            hb_relax(&spins);
        }
        hb_op_begin(lat); /* a consumer's op: check and free one block */
        uint64_t *b = r->slot[r->rpos];
        if (++r->rpos == x->cap)
            r->rpos = 0;
        uint64_t want = hb_block_tag(x->seed, p, i), tail;
        size_t n = hb_block_size(x->min, x->span, want);
        memcpy(&tail, (char *)b + n - 8, 8);
        t->sum_freed += b[0];
        if ((b[0] != want || tail != ~want) && t->bad++ == 0) {
            t->bad_block = i;
            t->bad_head = b[0] != want ? b[0] : ~tail;
            t->bad_want = want;
        }
        x->a->free(x->as, b, n);
        hb_op_end(lat);
        t->frees++;
        if (++r->rcount % PUBLISH_BATCH == 0)
            atomic_store_explicit(&r->head, r->rcount, memory_order_release);
    }
    atomic_store_explicit(&r->head, r->rcount, memory_order_release);
    return 0;
}

static int xthread_run(void *w, int tid, hb_counts *out)
{
    xthread *x = w;
    xt_thread *t = &x->t[tid];
    int me, producer = hb_role(x->roles, tid, &me);
    int err = producer ? produce(x, t, me, &out->lat) : consume(x, t, me, &out->lat);
    if (err)
        atomic_store_explicit(&x->stop, 1, memory_order_relaxed);
    t->err = err;
    t->done = 1;
    /* A block's one unit of work is counted once, where it was made. */
    out->ops = producer ? t->allocs : 0;
    out->allocs = t->allocs;
    out->frees = t->frees;
    return err;
}

static int xthread_check(void *w, char *err, size_t errlen)
{
    xthread *x = w;
    uint64_t made = 0, freed = 0, sum_made = 0, sum_freed = 0;
    for (int tid = 0; tid < x->threads; tid++) {
        xt_thread *t = &x->t[tid];
        if (hb_check_thread_done(err, errlen, tid, t->done, t->err))
            return 1;
        if (t->bad) {
            snprintf(err, errlen,
                     "consumer thread %d: %" PRIu64 " bad blocks; first is block %" PRIu64
                     ": read tag %016" PRIx64 ", want %016" PRIx64,
                     tid, t->bad, t->bad_block, t->bad_head, t->bad_want);
            return 1;
        }
        if (t->frees != t->want) {
            snprintf(err, errlen, "consumer thread %d freed %" PRIu64 " blocks, owed %" PRIu64,
                     tid, t->frees, t->want);
            return 1;
        }
        made += t->allocs;
        freed += t->frees;
        sum_made += t->sum_made;
        sum_freed += t->sum_freed;
    }
    if (made != (uint64_t)x->roles.producers * x->ops || freed != made || sum_made != sum_freed) {
        snprintf(err, errlen,
                 "%" PRIu64 " blocks made (want %" PRIu64 "), %" PRIu64
                 " freed; tag sums %016" PRIx64 " made, %016" PRIx64 " freed",
                 made, (uint64_t)x->roles.producers * x->ops, freed, sum_made, sum_freed);
        return 1;
    }
    return 0;
}

static void xthread_teardown(void *w)
{
    xthread *x = w;
    /* After a failed run blocks may still sit in the rings. */
    for (int c = 0; c < x->roles.consumers; c++) {
        ring *r = &x->rings[c];
        int p = c % x->roles.producers;
        uint64_t k = hb_fan_out(x->roles, p), j = (uint64_t)(c / x->roles.producers);
        /* Run and its joins are over: the private counts are exact. */
        for (uint64_t head = r->rcount; head != r->wcount; head++) {
            void *b = r->slot[r->rpos];
            if (++r->rpos == x->cap)
                r->rpos = 0;
            /* The m-th block a consumer receives is its producer's block
             * j + m*k; its size follows from that block's tag. */
            x->a->free(x->as, b, hb_block_size(x->min, x->span, hb_block_tag(x->seed, p, j + head * k)));
        }
    }
    x->a->free(x->as, x->rings[0].slot, (size_t)x->roles.consumers * x->cap * sizeof(void *));
    x->a->free(x->as, x->rings, (size_t)x->roles.consumers * sizeof(ring));
    x->a->free(x->as, x, sizeof(xthread) + (size_t)x->threads * sizeof(xt_thread));
}

const hb_workload hb_wl_xthread = {
    .name = "xthread",
    .doc = "producers allocate, consumers free what they receive (frees from another thread)",
    .min_threads = 2,
    .params = xthread_params,
    .setup = xthread_setup,
    .run = xthread_run,
    .check = xthread_check,
    .teardown = xthread_teardown,
};
