/* mixed_remote.c -- mixed sizes from 16 B to 16 KiB, with frees from other
 * threads: what a threaded server or interpreter does with buffers, strings
 * and objects that change hands.
 *
 * Each thread keeps `live` blocks in slots, as churn does. One op: pick a
 * random slot; its block is either freed here, or, `remote_pct` percent of
 * the time, sent to the next thread (tid + 1 mod T), which frees it; then a
 * new block goes in the slot. So every thread both allocates and frees
 * blocks of others (an exchange rather than a one-way producer/consumer),
 * every free is remote with probability remote_pct / 100 when T >= 2, and
 * with one thread the blocks go round to the sender itself (all local).
 *
 * Sizes are log-uniform between min_size and max_size: as many blocks of
 * 16-32 B as of 8-16 KiB, so small blocks dominate the count and large ones
 * the bytes, and an allocator is exercised across its small and medium
 * classes at once.
 *
 * Hand-over: one single-producer single-consumer ring per thread pair,
 * `ring` entries. A sender finding it full waits for room, freeing what
 * arrives on its own incoming ring meanwhile (so threads waiting on each
 * other in a circle still make progress), so the share of remote frees is
 * remote_pct whatever the scheduler does. (Until 2026-12-04 a sender with
 * a full ring freed the block itself: on a machine whose two threads
 * often took turns on one core, the rings filled and a run at 2 threads
 * sent between 0.35 and 7 of its 20 million blocks, and its time moved
 * 2.5x with that.) A thread looks at its incoming ring every 16 ops, and
 * after its ops keeps freeing what arrives until its sender is done.
 *
 * Self-check: block k of thread t carries a tag derived from (seed, t, k)
 * in its first 8 bytes and the tag's complement in its last 8; its size
 * comes from the tag, so whoever frees it can size and verify it. Every
 * block made is freed by the end, so the sum of tags freed must equal the
 * sum of tags made, and frees the allocations.
 */
#include "roles.h"
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { P_OPS, P_LIVE, P_MIN, P_MAX, P_REMOTE, P_RING };

/* small: about 0.03 s of CPU per thread here (the default matrix runs it on
 * every allocator); about 5 MB live per thread. */
static const hb_param_spec mixed_params[] = {
    {"ops", {500000, 20000000, 100000000}, 1, INT64_C(1) << 40, "replacements per thread"},
    {"live", {2000, 2000, 2000}, 1, 1 << 24, "blocks each thread keeps"},
    {"min_size", {16, 16, 16}, 16, 1 << 24, "smallest block, bytes (room for two tag words)"},
    {"max_size", {16384, 16384, 16384}, 16, 1 << 24, "largest block, bytes"},
    {"remote_pct", {50, 50, 50}, 0, 100, "percent of replaced blocks sent to the next thread"},
    {"ring", {1024, 1024, 1024}, 1, 1 << 20, "entries of each thread's incoming ring"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

/* Blocks thread t sends to thread t + 1. Producer and consumer fields on
 * their own lines. */
typedef struct ring {
    alignas(64) _Atomic uint64_t tail; /* written by the sender */
    _Atomic int closed;                /* the sender is done: nothing more comes */
    alignas(64) _Atomic uint64_t head; /* written by the receiver */
    alignas(64) _Atomic(uint64_t *) *slot;
} ring;

typedef struct mthread {
    alignas(64) int done;
    int err;
    uint64_t allocs, frees, remote_frees, sent;
    uint64_t sum_made, sum_freed;
    uint64_t bad, bad_head, bad_tail;
    uint64_t **live;
} mthread;

typedef struct mixed {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed, ops, nlive, min, doublings, remote_pct, cap, max;
    ring *rings;
    mthread t[];
} mixed;

/* Log-uniform in [min, max]: one of `doublings` doublings [lo, 2 lo)
 * chosen from the tag's low bits (the last cut at max + 1 when max is not
 * min times a power of two), a place inside it from the next ones. (Until
 * 2026-12-04 the choice was among doublings + 1, and the extra one,
 * [max, 2 max), was clamped to max: at the defaults 1 block in 11 was
 * exactly 16 KiB, and those held about 40% of the live bytes.) */
static size_t tag_size(const mixed *m, uint64_t tag)
{
    uint64_t e = ((tag & 0xffffffffu) * m->doublings) >> 32;
    uint64_t lo = m->min << e, hi = lo << 1;
    if (hi > m->max + 1)
        hi = m->max + 1;
    return (size_t)(lo + ((((tag >> 32) & 0xffffu) * (hi - lo)) >> 16));
}

static void block_free(mixed *m, mthread *t, uint64_t *b, int remote)
{
    size_t n = tag_size(m, b[0]);
    uint64_t tail;
    memcpy(&tail, (char *)b + n - 8, 8);
    if (tail != ~b[0] && t->bad++ == 0) {
        t->bad_head = b[0];
        t->bad_tail = tail;
    }
    t->sum_freed += b[0];
    m->a->free(m->as, b, n);
    t->frees++;
    t->remote_frees += (uint64_t)remote;
}

/* Free whatever has arrived; returns how many. */
static uint64_t drain(mixed *m, mthread *t, ring *in, int remote)
{
    uint64_t head = atomic_load_explicit(&in->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&in->tail, memory_order_acquire);
    for (uint64_t i = head; i < tail; i++)
        block_free(m, t, atomic_load_explicit(&in->slot[i % m->cap], memory_order_relaxed), remote);
    if (tail != head)
        atomic_store_explicit(&in->head, tail, memory_order_release);
    return tail - head;
}

/* Puts b on `out`, waiting for room while the ring is full; meanwhile it
 * frees what arrives on `in` (with one thread `out` is `in`). */
static void send(mixed *m, mthread *t, ring *out, ring *in, int remote, uint64_t *b)
{
    uint64_t tail = atomic_load_explicit(&out->tail, memory_order_relaxed);
    unsigned spins = 0;
    while (tail - atomic_load_explicit(&out->head, memory_order_acquire) == m->cap)
        if (drain(m, t, in, remote) == 0)
            hb_relax(&spins);
    atomic_store_explicit(&out->slot[tail % m->cap], b, memory_order_relaxed);
    atomic_store_explicit(&out->tail, tail + 1, memory_order_release);
    t->sent++;
}

static size_t mixed_bytes(int threads)
{
    return sizeof(mixed) + (size_t)threads * sizeof(mthread);
}

static void mixed_free_all(mixed *m)
{
    for (int i = 0; i < m->threads; i++) {
        if (m->t[i].live)
            m->a->free(m->as, m->t[i].live, m->nlive * sizeof(uint64_t *));
        if (m->rings && m->rings[i].slot)
            m->a->free(m->as, (void *)m->rings[i].slot, m->cap * sizeof(uint64_t *));
    }
    if (m->rings)
        m->a->free(m->as, m->rings, (size_t)m->threads * sizeof(ring));
    m->a->free(m->as, m, mixed_bytes(m->threads));
}

static int mixed_setup(const hb_ctx *ctx, void **w)
{
    if (ctx->param[P_MIN] > ctx->param[P_MAX] || ctx->threads < 1)
        return EINVAL;
    const hb_allocator *a = ctx->alloc;
    mixed *m = a->alloc_aligned(ctx->alloc_state, 64, mixed_bytes(ctx->threads));
    if (!m)
        return ENOMEM;
    memset(m, 0, mixed_bytes(ctx->threads));
    /* Doublings from min to max, a last partial one counted whole; 1 when
     * min == max. */
    uint64_t min = (uint64_t)ctx->param[P_MIN], max = (uint64_t)ctx->param[P_MAX], d = 1;
    while ((min << d) < max)
        d++;
    *m = (mixed){.a = a, .as = ctx->alloc_state, .threads = ctx->threads, .seed = ctx->seed,
                 .ops = (uint64_t)ctx->param[P_OPS], .nlive = (uint64_t)ctx->param[P_LIVE],
                 .min = min, .max = max, .doublings = d,
                 .remote_pct = (uint64_t)ctx->param[P_REMOTE], .cap = (uint64_t)ctx->param[P_RING]};
    m->rings = a->alloc_aligned(m->as, 64, (size_t)m->threads * sizeof(ring));
    if (!m->rings) {
        mixed_free_all(m);
        return ENOMEM;
    }
    memset(m->rings, 0, (size_t)m->threads * sizeof(ring));
    for (int i = 0; i < m->threads; i++) {
        m->rings[i].slot = a->alloc(m->as, m->cap * sizeof(uint64_t *));
        m->t[i].live = a->alloc(m->as, m->nlive * sizeof(uint64_t *));
        if (!m->rings[i].slot || !m->t[i].live) {
            mixed_free_all(m);
            return ENOMEM;
        }
        memset(m->t[i].live, 0, m->nlive * sizeof(uint64_t *));
    }
    *w = m;
    return 0;
}

static uint64_t *block_make(mixed *m, mthread *t, int tid)
{
    uint64_t tag = hb_block_tag(m->seed, tid, t->allocs);
    size_t n = tag_size(m, tag);
    uint64_t *b = m->a->alloc(m->as, n);
    if (!b)
        return NULL;
    b[0] = tag;
    memcpy((char *)b + n - 8, &(uint64_t){~tag}, 8);
    t->allocs++;
    t->sum_made += tag;
    return b;
}

static int mixed_run(void *w, int tid, hb_counts *out)
{
    mixed *m = w;
    mthread *t = &m->t[tid];
    ring *outr = &m->rings[tid], *in = &m->rings[(tid + m->threads - 1) % m->threads];
    int remote = m->threads > 1;
    uint64_t rng = m->seed ^ ((uint64_t)(tid + 1) * 0x2545f4914f6cdd1dULL);
    int err = 0;
    for (uint64_t i = 0; i < m->nlive && !err; i++)
        if (!(t->live[i] = block_make(m, t, tid)))
            err = ENOMEM;
    for (uint64_t k = 0; k < m->ops && !err; k++) {
        hb_op_begin(&out->lat); /* one op: hand over or free a block, make one */
        uint64_t r = hb_rand(&rng);
        uint64_t j = (uint64_t)(((unsigned __int128)r * m->nlive) >> 64);
        uint64_t *old = t->live[j];
        if ((r & 0xffff) * 100 < m->remote_pct * 0x10000)
            send(m, t, outr, in, remote, old);
        else
            block_free(m, t, old, 0);
        if (!(t->live[j] = block_make(m, t, tid)))
            err = ENOMEM;
        if ((k & 15) == 0)
            drain(m, t, in, remote);
        hb_op_end(&out->lat);
    }
    for (uint64_t i = 0; i < m->nlive; i++) {
        if (t->live[i])
            block_free(m, t, t->live[i], 0);
        t->live[i] = NULL;
    }
    /* Nothing more leaves this thread; free what still comes until the
     * sender says the same (closed read before the last drain). */
    atomic_store_explicit(&outr->closed, 1, memory_order_release);
    for (;;) {
        int closed = atomic_load_explicit(&in->closed, memory_order_acquire);
        if (drain(m, t, in, remote) == 0) {
            if (closed)
                break;
            sched_yield();
        }
    }
    t->err = err;
    t->done = 1;
    out->ops = m->ops;
    out->allocs = t->allocs;
    out->frees = t->frees;
    return err;
}

static int mixed_check(void *w, char *err, size_t errlen)
{
    mixed *m = w;
    uint64_t allocs = 0, frees = 0, made = 0, freed = 0, sent = 0, remote = 0;
    for (int tid = 0; tid < m->threads; tid++) {
        mthread *t = &m->t[tid];
        if (hb_check_thread_done(err, errlen, tid, t->done, t->err))
            return 1;
        if (t->bad) {
            snprintf(err, errlen,
                     "thread %d freed %" PRIu64 " corrupted blocks; first: head %016" PRIx64
                     ", tail %016" PRIx64 " (want its complement)",
                     tid, t->bad, t->bad_head, t->bad_tail);
            return 1;
        }
        if (t->allocs != m->ops + m->nlive) {
            snprintf(err, errlen, "thread %d made %" PRIu64 " blocks, want %" PRIu64, tid, t->allocs,
                     m->ops + m->nlive);
            return 1;
        }
        allocs += t->allocs;
        frees += t->frees;
        made += t->sum_made;
        freed += t->sum_freed;
        sent += t->sent;
        remote += t->remote_frees;
    }
    if (frees != allocs || (m->threads > 1 && remote != sent)) {
        snprintf(err, errlen,
                 "%" PRIu64 " blocks made, %" PRIu64 " freed; %" PRIu64 " sent, %" PRIu64
                 " freed by their receiver",
                 allocs, frees, sent, remote);
        return 1;
    }
    if (freed != made) {
        snprintf(err, errlen,
                 "tag sums: %016" PRIx64 " freed != %016" PRIx64
                 " made (a block was lost or freed twice)",
                 freed, made);
        return 1;
    }
    return 0;
}

static void mixed_teardown(void *w)
{
    mixed_free_all(w);
}

const hb_workload hb_wl_mixed_remote = {
    .name = "mixed_remote",
    .doc = "mixed sizes 16 B-16 KiB (log-uniform), threads exchange blocks: remote frees across "
           "small and medium classes",
    .min_threads = 1,
    .params = mixed_params,
    .setup = mixed_setup,
    .run = mixed_run,
    .check = mixed_check,
    .teardown = mixed_teardown,
};
