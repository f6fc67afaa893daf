/* churn.c -- random small sizes over a fixed live set: the single-thread fast
 * path.
 *
 * Each thread owns `live` slots. It fills them, then `ops` times frees the
 * block in a random slot and puts a new block of random size there, then
 * frees what is left. Every thread works only on its own blocks, so a
 * per-thread allocator never sees a remote free here: this is the cost of
 * the fast path with a realistic mix of sizes and a working set larger than
 * a cache of one size class.
 *
 * Each block carries a tag in its first 8 bytes and the tag's complement in
 * its last 8, derived from (seed, tid, block number); the size is derived
 * from the tag too. A block is verified when it is freed, so an allocator
 * that hands out overlapping or recycled-while-live memory is caught, and
 * the sum of tags read back must equal the sum written.
 *
 * The prefill and the final drain run inside run(), on the thread that owns
 * the blocks: done in setup they would come from the main thread's heap,
 * which is not the pattern. They are cheap next to `ops` and are counted.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

enum { P_OPS, P_LIVE, P_MIN, P_MAX };

/* Presets change only the length of the run: the live set stays at 10000
 * blocks (about 2.6 MB per thread at the default sizes, more than an L2) so
 * that ops/s at one size compares with another. Timed on one core with
 * glibc: small ~0.1 s, medium ~1.5 s, large ~8 s. */
static const hb_param_spec churn_params[] = {
    {"ops", {1500000, 40000000, 200000000}, 1, INT64_C(1) << 40,
     "alloc+free pairs per thread after the prefill"},
    {"live", {10000, 10000, 10000}, 1, 1 << 24, "live blocks (slots) per thread"},
    {"min_size", {16, 16, 16}, 16, 1 << 20, "smallest block, bytes (room for two tag words)"},
    {"max_size", {512, 512, 512}, 16, 1 << 20, "largest block, bytes"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

/* Written only by its own thread during run, read by check after the join.
 * Aligned to a cache line so the bookkeeping adds no false sharing. */
typedef struct churn_thread {
    alignas(64) int done;
    int err;
    uint64_t blocks;      /* data blocks allocated (= verified and freed) */
    uint64_t allocs, frees;
    uint64_t sum_written; /* tags written */
    uint64_t sum_read;    /* head words read back at free */
    uint64_t bad;         /* blocks whose tags did not match */
    uint64_t bad_block;   /* blocks made when the first was seen */
    uint64_t bad_head, bad_want;
} churn_thread;

typedef struct churn {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed, ops, live, min, span;
    churn_thread t[];
} churn;

typedef struct slot {
    uint64_t *p;
    uint64_t tag;
} slot;

static void block_write(uint64_t *p, size_t n, uint64_t tag)
{
    p[0] = tag;
    memcpy((char *)p + n - 8, &(uint64_t){~tag}, 8);
}

/* Verify and free one block; records the first mismatch. */
static void block_retire(churn *c, churn_thread *t, slot s)
{
    size_t n = hb_block_size(c->min, c->span, s.tag);
    uint64_t head = s.p[0], tail;
    memcpy(&tail, (char *)s.p + n - 8, 8);
    t->sum_read += head;
    if (head != s.tag || tail != ~s.tag) {
        if (t->bad++ == 0) {
            t->bad_block = t->blocks;
            t->bad_head = head != s.tag ? head : ~tail;
            t->bad_want = s.tag;
        }
    }
    c->a->free(c->as, s.p, n);
    t->frees++;
}

/* Allocate, write and account block number t->blocks. */
static int block_new(churn *c, churn_thread *t, int tid, slot *out)
{
    uint64_t tag = hb_block_tag(c->seed, tid, t->blocks);
    size_t n = hb_block_size(c->min, c->span, tag);
    uint64_t *p = c->a->alloc(c->as, n);
    if (!p)
        return ENOMEM;
    block_write(p, n, tag);
    t->allocs++;
    t->blocks++;
    t->sum_written += tag;
    *out = (slot){p, tag};
    return 0;
}

static int churn_setup(const hb_ctx *ctx, void **w)
{
    if (ctx->param[P_MIN] > ctx->param[P_MAX] || ctx->threads < 1)
        return EINVAL;
    size_t bytes = sizeof(churn) + (size_t)ctx->threads * sizeof(churn_thread);
    churn *c = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, bytes);
    if (!c)
        return ENOMEM;
    memset(c, 0, bytes);
    c->a = ctx->alloc;
    c->as = ctx->alloc_state;
    c->threads = ctx->threads;
    c->seed = ctx->seed;
    c->ops = (uint64_t)ctx->param[P_OPS];
    c->live = (uint64_t)ctx->param[P_LIVE];
    c->min = (uint64_t)ctx->param[P_MIN];
    c->span = (uint64_t)(ctx->param[P_MAX] - ctx->param[P_MIN] + 1);
    *w = c;
    return 0;
}

static int churn_run(void *w, int tid, hb_counts *out)
{
    churn *c = w;
    churn_thread *t = &c->t[tid];
    uint64_t rng = c->seed ^ ((uint64_t)(tid + 1) * 0x9e3779b97f4a7c15ULL);
    size_t slots_bytes = (size_t)c->live * sizeof(slot);
    slot *s = c->a->alloc(c->as, slots_bytes);
    int err = 0;
    uint64_t filled = 0;

    if (!s) {
        err = ENOMEM;
        goto out;
    }
    t->allocs++;
    for (; filled < c->live; filled++)
        if ((err = block_new(c, t, tid, &s[filled])) != 0)
            goto drain;
    for (uint64_t i = 0; i < c->ops; i++) {
        uint64_t j = hb_rand_below(&rng, c->live);
        hb_op_begin(&out->lat); /* one op: free a block, make its replacement */
        block_retire(c, t, s[j]);
        err = block_new(c, t, tid, &s[j]);
        hb_op_end(&out->lat);
        if (err) {
            s[j] = s[--filled]; /* keep the drain below from freeing it twice */
            goto drain;
        }
    }
drain:
    for (uint64_t i = 0; i < filled; i++)
        block_retire(c, t, s[i]);
    c->a->free(c->as, s, slots_bytes);
    t->frees++;
out:
    t->err = err;
    t->done = 1;
    out->ops = t->blocks;
    out->allocs = t->allocs;
    out->frees = t->frees;
    return err;
}

static int churn_check(void *w, char *err, size_t errlen)
{
    churn *c = w;
    for (int tid = 0; tid < c->threads; tid++) {
        churn_thread *t = &c->t[tid];
        if (hb_check_thread_done(err, errlen, tid, t->done, t->err))
            return 1;
        if (t->bad) {
            snprintf(err, errlen,
                     "thread %d: %" PRIu64 " corrupted blocks; the first, seen after %" PRIu64
                     " blocks were made, read tag %016" PRIx64 " where %016" PRIx64 " was written",
                     tid, t->bad, t->bad_block, t->bad_head, t->bad_want);
            return 1;
        }
        if (t->blocks != c->live + c->ops || t->allocs != t->frees) {
            snprintf(err, errlen,
                     "thread %d: %" PRIu64 " blocks (want %" PRIu64 "), %" PRIu64
                     " allocs vs %" PRIu64 " frees",
                     tid, t->blocks, c->live + c->ops, t->allocs, t->frees);
            return 1;
        }
        if (hb_check_tag_sums(err, errlen, tid, t->sum_read, t->sum_written))
            return 1;
    }
    return 0;
}

static void churn_teardown(void *w)
{
    churn *c = w;
    /* run() frees every block it allocated, even on error, so only the
     * state itself is left. */
    c->a->free(c->as, c, sizeof(churn) + (size_t)c->threads * sizeof(churn_thread));
}

const hb_workload hb_wl_churn = {
    .name = "churn",
    .doc = "alloc/free of random small sizes over a fixed live set (single-thread fast path)",
    .min_threads = 1,
    .params = churn_params,
    .setup = churn_setup,
    .run = churn_run,
    .check = churn_check,
    .teardown = churn_teardown,
};
