/* class_edges.c -- sizes one byte over the size-class boundaries, many live.
 *
 * The sizes are 2^k + 1 and 3 * 2^(k-1) + 1 for 2^k from 16 B to
 * 2^max_log B (17, 25, 33, 49, 65, ..., 513, 769, 1025, ...): one byte over a
 * boundary that every allocator's classes share, which is where rounding up
 * wastes the most (a 513 B request in a class of pages costs 4 KiB). Each
 * round allocates `per_size_kb` KiB of blocks of every size (as many whole
 * blocks as fit), interleaved across sizes as a program's objects are,
 * writes every byte of each, then frees them all; the peak is one round.
 *
 * The figure is `peak_rss_kb` against the bytes requested: `ops` counts
 * requested bytes (all rounds), so one round's bytes, what is live at the
 * peak, is ops / rounds / threads per thread. A peak RSS near that is an
 * allocator whose classes fit; a multiple of it is the waste.
 *
 * Self-check: every block holds its size and a tag at both ends, verified
 * at free; the sum of tags read must equal the sum written.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

enum { P_PER_SIZE, P_MAX_LOG, P_ROUNDS };

/* 33 sizes of 4 MiB each at medium: 132 MiB requested, about 550,000
 * blocks, half of them under 64 B. */
static const hb_param_spec edges_params[] = {
    {"per_size_kb", {256, 4096, 16384}, 1, 1 << 20, "KiB requested per size per round"},
    {"max_log", {16, 20, 22}, 5, 30, "largest boundary: sizes go up to 2^max_log + 1"},
    {"rounds", {2, 5, 5}, 1, 1 << 20, "fill-and-free rounds"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

#define MAX_SIZES 64

typedef struct edges_thread {
    alignas(64) int done;
    int err;
    uint64_t requested, allocs, frees;
    uint64_t sum_written, sum_read, bad;
} edges_thread;

typedef struct edges {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed, per_size, rounds;
    unsigned nsizes;
    size_t size[MAX_SIZES];
    uint64_t count[MAX_SIZES]; /* blocks of each size per round */
    uint64_t blocks;           /* their sum */
    edges_thread t[];
} edges;

static void write_block(unsigned char *p, size_t n, uint64_t tag)
{
    memset(p, (int)(tag & 0xff) | 1, n);
    memcpy(p, &tag, 8);
    memcpy(p + n - 8, &(uint64_t){~tag}, 8);
}

static int edges_setup(const hb_ctx *ctx, void **out)
{
    if (ctx->threads < 1)
        return EINVAL;
    size_t bytes = sizeof(edges) + (size_t)ctx->threads * sizeof(edges_thread);
    edges *e = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, bytes);
    if (!e)
        return ENOMEM;
    memset(e, 0, bytes);
    e->a = ctx->alloc;
    e->as = ctx->alloc_state;
    e->threads = ctx->threads;
    e->seed = ctx->seed;
    e->per_size = (uint64_t)ctx->param[P_PER_SIZE] * 1024;
    e->rounds = (uint64_t)ctx->param[P_ROUNDS];
    for (int k = 4; k <= ctx->param[P_MAX_LOG]; k++) {
        size_t pow = (size_t)1 << k;
        e->size[e->nsizes++] = pow + 1;
        if (k < ctx->param[P_MAX_LOG])
            e->size[e->nsizes++] = pow + pow / 2 + 1;
    }
    for (unsigned i = 0; i < e->nsizes; i++) {
        e->count[i] = e->per_size / e->size[i];
        e->blocks += e->count[i];
    }
    *out = e;
    return 0;
}

/* Interleaved: block j of the round is of size i where count[i] blocks are
 * spread evenly over the round, so sizes alternate as a program's do. */
static int edges_run(void *arg, int tid, hb_counts *out)
{
    edges *e = arg;
    edges_thread *t = &e->t[tid];
    size_t vec_bytes = (size_t)e->blocks * sizeof(unsigned char *);
    unsigned char **blk = e->a->alloc(e->as, vec_bytes ? vec_bytes : 1);
    uint32_t *which = e->a->alloc(e->as, e->blocks ? (size_t)e->blocks * sizeof(uint32_t) : 1);
    uint64_t made = 0, seq = 0;
    int err = 0;
    if (!blk || !which) {
        err = ENOMEM;
        goto out;
    }
    t->allocs += 2;
    /* The order of sizes: a fixed shuffle of the multiset, per thread. */
    uint64_t j = 0;
    for (unsigned i = 0; i < e->nsizes; i++)
        for (uint64_t c = 0; c < e->count[i]; c++)
            which[j++] = i;
    uint64_t rng = e->seed ^ ((uint64_t)(tid + 1) * 0x9e3779b97f4a7c15ULL);
    for (uint64_t k = e->blocks; k > 1; k--) {
        uint64_t r = hb_rand_below(&rng, k);
        uint32_t x = which[k - 1];
        which[k - 1] = which[r];
        which[r] = x;
    }
    for (uint64_t round = 0; round < e->rounds && !err; round++) {
        for (made = 0; made < e->blocks; made++) {
            size_t n = e->size[which[made]];
            uint64_t tag = hb_block_tag(e->seed, tid, seq++);
            hb_op_begin(&out->lat);
            unsigned char *p = e->a->alloc(e->as, n);
            if (!p) {
                hb_op_end(&out->lat);
                err = ENOMEM;
                break;
            }
            write_block(p, n, tag);
            hb_op_end(&out->lat);
            blk[made] = p;
            t->allocs++;
            t->requested += n;
            t->sum_written += tag;
        }
        /* Free in allocation order, checking each block. */
        uint64_t base = seq - made;
        for (uint64_t b = 0; b < made; b++) {
            size_t n = e->size[which[b]];
            uint64_t tag = hb_block_tag(e->seed, tid, base + b), head, tail;
            memcpy(&head, blk[b], 8);
            memcpy(&tail, blk[b] + n - 8, 8);
            t->sum_read += head;
            t->bad += head != tag || tail != ~tag || blk[b][n / 2] != ((tag & 0xff) | 1);
            e->a->free(e->as, blk[b], n);
            t->frees++;
        }
    }
out:
    if (which) {
        e->a->free(e->as, which, (size_t)e->blocks * sizeof(uint32_t));
        t->frees++;
    }
    if (blk) {
        e->a->free(e->as, blk, vec_bytes);
        t->frees++;
    }
    t->err = err;
    t->done = 1;
    out->ops = t->requested;
    out->allocs = t->allocs;
    out->frees = t->frees;
    return err;
}

static int edges_check(void *arg, char *err, size_t errlen)
{
    edges *e = arg;
    uint64_t want = 0;
    for (unsigned i = 0; i < e->nsizes; i++)
        want += e->count[i] * e->size[i];
    want *= e->rounds;
    for (int tid = 0; tid < e->threads; tid++) {
        edges_thread *t = &e->t[tid];
        if (hb_check_thread_done(err, errlen, tid, t->done, t->err))
            return 1;
        if (t->bad) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " corrupted blocks", tid, t->bad);
            return 1;
        }
        if (t->requested != want || t->allocs != t->frees) {
            snprintf(err, errlen,
                     "thread %d: %" PRIu64 " bytes requested (want %" PRIu64 "), %" PRIu64
                     " allocs vs %" PRIu64 " frees",
                     tid, t->requested, want, t->allocs, t->frees);
            return 1;
        }
        if (hb_check_tag_sums(err, errlen, tid, t->sum_read, t->sum_written))
            return 1;
    }
    return 0;
}

static void edges_teardown(void *arg)
{
    edges *e = arg;
    e->a->free(e->as, e, sizeof(edges) + (size_t)e->threads * sizeof(edges_thread));
}

const hb_workload hb_wl_class_edges = {
    .name = "class_edges",
    .doc = "sizes 1 B over each size-class boundary (17, 25, ..., 513, 769, 1025 B...), many live: RSS waste",
    .min_threads = 1,
    .params = edges_params,
    .setup = edges_setup,
    .run = edges_run,
    .check = edges_check,
    .teardown = edges_teardown,
};
