/* bleed.c -- threads replace random slots of one shared array of blocks:
 * the "bleeding" that Larson & Krishnan (1998) describe in servers, where a
 * block made by one thread is freed by whichever thread next lands on its
 * slot. (Their benchmark itself, with per-thread slots and successor
 * threads, is larson.c; this is the all-shared variant: every free has a
 * (T-1)/T chance of being remote, and no thread ever exits.)
 *
 * Each thread first fills its own stripe of the array, then `ops` times
 * makes a block and swaps it into a random slot of the whole array, and
 * verifies and frees the block it took out. With one thread every free is
 * local; with T threads about (T-1)/T of them are remote, and blocks drift
 * between threads' heaps as they would in a server whose requests hop
 * between workers.
 *
 * The swap is an atomic exchange with acquire-release order: the block's
 * contents, written before the exchange, are visible to the thread that
 * takes it out. A thread filling its stripe may find a block another thread
 * already put there; it frees that one like any other. So the frees each
 * thread does vary with timing, but the allocations do not, and the
 * accounting in check() holds whatever the interleaving.
 *
 * Block k of thread tid has a tag derived from (seed, tid, k) in its first
 * 8 bytes, its complement in its last 8, and a size derived from the tag, so
 * whoever frees a block can size and verify it from its contents. The tags
 * of blocks freed plus those still in the array must sum to the tags made.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { P_OPS, P_SLOTS, P_MIN, P_MAX };

/* As in churn, presets change only the length of the run, not the array
 * (10000 slots, about 2.6 MB of blocks). One core, glibc: small ~0.03 s,
 * medium ~1.5 s, large ~8 s. */
static const hb_param_spec bleed_params[] = {
    {"ops", {600000, 30000000, 150000000}, 1, INT64_C(1) << 40,
     "blocks swapped into the array per thread, after its stripe is filled"},
    {"slots", {10000, 10000, 10000}, 1, 1 << 24, "slots in the shared array (all threads)"},
    {"min_size", {16, 16, 16}, 16, 1 << 20, "smallest block, bytes (room for two tag words)"},
    {"max_size", {512, 512, 512}, 16, 1 << 20, "largest block, bytes"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

/* Written by its own thread during run, read by check after the join. */
typedef struct bleed_thread {
    alignas(64) int done;
    int err;
    uint64_t allocs, frees, ops;
    uint64_t sum_made, sum_freed;
    uint64_t bad, bad_head, bad_tail;
} bleed_thread;

typedef struct bleed {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed, ops, nslots, min, span;
    _Atomic(uint64_t *) *slot;
    bleed_thread t[];
} bleed;

/* Whether a block's head and tail agree; its size comes from the head, so a
 * corrupted head can also point the tail check elsewhere in the block's
 * size range, which is still a mismatch. */
static int block_ok(const bleed *l, const uint64_t *b, uint64_t *tail)
{
    memcpy(tail, (const char *)b + hb_block_size(l->min, l->span, b[0]) - 8, 8);
    return *tail == ~b[0];
}

static void block_retire(bleed *l, bleed_thread *t, uint64_t *b)
{
    uint64_t tail;
    if (!block_ok(l, b, &tail) && t->bad++ == 0) {
        t->bad_head = b[0];
        t->bad_tail = tail;
    }
    t->sum_freed += b[0];
    l->a->free(l->as, b, hb_block_size(l->min, l->span, b[0]));
    t->frees++;
}

static int bleed_setup(const hb_ctx *ctx, void **w)
{
    if (ctx->param[P_MIN] > ctx->param[P_MAX] || ctx->threads < 1)
        return EINVAL;
    size_t bytes = sizeof(bleed) + (size_t)ctx->threads * sizeof(bleed_thread);
    size_t nslots = (size_t)ctx->param[P_SLOTS];
    bleed *l = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, bytes);
    _Atomic(uint64_t *) *slot = ctx->alloc->alloc(ctx->alloc_state, nslots * sizeof(*slot));
    if (!l || !slot) {
        if (l)
            ctx->alloc->free(ctx->alloc_state, l, bytes);
        if (slot)
            ctx->alloc->free(ctx->alloc_state, slot, nslots * sizeof(*slot));
        return ENOMEM;
    }
    memset(l, 0, bytes);
    *l = (bleed){.a = ctx->alloc, .as = ctx->alloc_state, .threads = ctx->threads,
                  .seed = ctx->seed, .ops = (uint64_t)ctx->param[P_OPS], .nslots = nslots,
                  .min = (uint64_t)ctx->param[P_MIN],
                  .span = (uint64_t)(ctx->param[P_MAX] - ctx->param[P_MIN] + 1), .slot = slot};
    for (size_t i = 0; i < nslots; i++)
        atomic_init(&slot[i], NULL);
    *w = l;
    return 0;
}

static int bleed_run(void *w, int tid, hb_counts *out)
{
    bleed *l = w;
    bleed_thread *t = &l->t[tid];
    uint64_t rng = l->seed ^ ((uint64_t)(tid + 1) * 0x9e3779b97f4a7c15ULL);
    uint64_t lo = l->nslots * (uint64_t)tid / (uint64_t)l->threads;
    uint64_t hi = l->nslots * (uint64_t)(tid + 1) / (uint64_t)l->threads;
    uint64_t total = (hi - lo) + l->ops;
    int err = 0;

    for (uint64_t k = 0; k < total; k++) {
        hb_op_begin(&out->lat); /* one op: make a block, swap it in, free the old */
        uint64_t tag = hb_block_tag(l->seed, tid, k);
        size_t n = hb_block_size(l->min, l->span, tag);
        uint64_t *b = l->a->alloc(l->as, n);
        if (!b) {
            err = ENOMEM;
            break;
        }
        b[0] = tag;
        memcpy((char *)b + n - 8, &(uint64_t){~tag}, 8);
        t->allocs++;
        t->sum_made += tag;
        uint64_t j = k < hi - lo ? lo + k : hb_rand_below(&rng, l->nslots);
        uint64_t *old = atomic_exchange_explicit(&l->slot[j], b, memory_order_acq_rel);
        if (old)
            block_retire(l, t, old);
        hb_op_end(&out->lat);
        t->ops++;
    }
    t->err = err;
    t->done = 1;
    out->ops = t->ops;
    out->allocs = t->allocs;
    out->frees = t->frees;
    return err;
}

static int bleed_check(void *w, char *err, size_t errlen)
{
    bleed *l = w;
    uint64_t allocs = 0, frees = 0, made = 0, freed = 0, live = 0, in_array = 0;
    for (int tid = 0; tid < l->threads; tid++) {
        bleed_thread *t = &l->t[tid];
        uint64_t stripe = l->nslots * (uint64_t)(tid + 1) / (uint64_t)l->threads -
                          l->nslots * (uint64_t)tid / (uint64_t)l->threads;
        if (hb_check_thread_done(err, errlen, tid, t->done, t->err))
            return 1;
        if (t->bad) {
            snprintf(err, errlen,
                     "thread %d freed %" PRIu64 " corrupted blocks; first: head %016" PRIx64
                     ", tail %016" PRIx64 " (want its complement)",
                     tid, t->bad, t->bad_head, t->bad_tail);
            return 1;
        }
        if (t->allocs != stripe + l->ops) {
            snprintf(err, errlen, "thread %d made %" PRIu64 " blocks, want %" PRIu64, tid,
                     t->allocs, stripe + l->ops);
            return 1;
        }
        allocs += t->allocs;
        frees += t->frees;
        made += t->sum_made;
        freed += t->sum_freed;
    }
    /* Every slot was filled by its stripe's owner and is never emptied. */
    for (uint64_t i = 0; i < l->nslots; i++) {
        uint64_t *b = atomic_load_explicit(&l->slot[i], memory_order_acquire), tail;
        if (!b) {
            snprintf(err, errlen, "slot %" PRIu64 " is empty after the run", i);
            return 1;
        }
        if (!block_ok(l, b, &tail)) {
            snprintf(err, errlen,
                     "block in slot %" PRIu64 " corrupted: head %016" PRIx64 ", tail %016" PRIx64,
                     i, b[0], tail);
            return 1;
        }
        live++;
        in_array += b[0];
    }
    if (allocs - frees != live) {
        snprintf(err, errlen,
                 "%" PRIu64 " allocs - %" PRIu64 " frees != %" PRIu64 " blocks in the array",
                 allocs, frees, live);
        return 1;
    }
    /* Catches a block seen twice (overlapping blocks) and one never seen. */
    if (freed + in_array != made) {
        snprintf(err, errlen,
                 "tag sums: %016" PRIx64 " freed + %016" PRIx64 " in the array != %016" PRIx64
                 " made (a block was lost or seen twice)",
                 freed, in_array, made);
        return 1;
    }
    return 0;
}

static void bleed_teardown(void *w)
{
    bleed *l = w;
    for (uint64_t i = 0; i < l->nslots; i++) {
        uint64_t *b = atomic_load_explicit(&l->slot[i], memory_order_acquire);
        if (b)
            l->a->free(l->as, b, hb_block_size(l->min, l->span, b[0]));
    }
    l->a->free(l->as, (void *)l->slot, l->nslots * sizeof(*l->slot));
    l->a->free(l->as, l, sizeof(bleed) + (size_t)l->threads * sizeof(bleed_thread));
}

const hb_workload hb_wl_bleed = {
    .name = "bleed",
    .doc = "threads replace random slots of a shared array of blocks (a server's bleeding pattern)",
    .min_threads = 1,
    .params = bleed_params,
    .setup = bleed_setup,
    .run = bleed_run,
    .check = bleed_check,
    .teardown = bleed_teardown,
};
