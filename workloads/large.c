/* large.c -- blocks of several MiB allocated, written and freed in a loop.
 *
 * Each thread keeps `live` slots. It fills them, then `ops` times frees the
 * block in a random slot and puts a new one there, of a size drawn uniformly
 * from [min_kb, max_kb] KiB, then frees what is left. Every new block is
 * written whole (memset), as a program fills a buffer it asked for. The
 * shape is a decoder's frame buffers or a server's request bodies: an
 * allocator that maps and unmaps each block pays a system call pair and a
 * page fault per 4 KiB page on every round, one that keeps a few freed spans
 * (glibc's heap below its 32 MiB mmap threshold, jemalloc's dirty extents,
 * tcmalloc's page heap) pays only the writes. Look at `wall_s` and
 * `peak_rss_kb`: the second says what the first cost in memory held.
 *
 * Self-check: a block's fill byte, its first and last words are derived
 * from its tag (seed, thread, block number, as churn's); at free one byte
 * per page and both end words are read back, so a block handed out twice
 * or not really writable is caught, and the sum of tags read must equal
 * the sum written.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

enum { P_OPS, P_LIVE, P_MIN, P_MAX };

/* Writing 15 MiB on average takes ~1.5 ms here; presets are set by that:
 * small ~0.02 s, medium ~1 s, large ~5 s on glibc. */
static const hb_param_spec large_params[] = {
    {"ops", {12, 600, 3000}, 1, INT64_C(1) << 32, "blocks replaced per thread after the prefill"},
    {"live", {2, 2, 2}, 1, 1024, "live blocks (slots) per thread"},
    {"min_kb", {5120, 5120, 5120}, 1, 1 << 20, "smallest block, KiB"},
    {"max_kb", {25600, 25600, 25600}, 1, 1 << 20, "largest block, KiB"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

typedef struct large_thread {
    alignas(64) int done;
    int err;
    uint64_t blocks, allocs, frees;
    uint64_t sum_written, sum_read;
    uint64_t bad, bad_block;
} large_thread;

typedef struct large_wl {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed, ops, live, min, span;
    large_thread t[];
} large_wl;

typedef struct lslot {
    unsigned char *p;
    uint64_t tag;
} lslot;

#define LPAGE 4096

static inline unsigned char fill_byte(uint64_t tag)
{
    return (unsigned char)(tag >> 8);
}

static void retire(large_wl *w, large_thread *t, lslot s)
{
    size_t n = hb_block_size(w->min, w->span, s.tag);
    uint64_t head, tail;
    memcpy(&head, s.p, 8);
    memcpy(&tail, s.p + n - 8, 8);
    int bad = head != s.tag || tail != ~s.tag;
    unsigned char b = fill_byte(s.tag);
    for (size_t off = LPAGE; off + 8 < n && !bad; off += LPAGE)
        bad = s.p[off] != b;
    t->sum_read += head;
    if (bad && t->bad++ == 0)
        t->bad_block = t->blocks;
    w->a->free(w->as, s.p, n);
    t->frees++;
}

static int make(large_wl *w, large_thread *t, int tid, lslot *out)
{
    uint64_t tag = hb_block_tag(w->seed, tid, t->blocks);
    size_t n = hb_block_size(w->min, w->span, tag);
    unsigned char *p = w->a->alloc(w->as, n);
    if (!p)
        return ENOMEM;
    memset(p, fill_byte(tag), n);
    memcpy(p, &tag, 8);
    memcpy(p + n - 8, &(uint64_t){~tag}, 8);
    t->allocs++;
    t->blocks++;
    t->sum_written += tag;
    *out = (lslot){p, tag};
    return 0;
}

static int large_setup(const hb_ctx *ctx, void **out)
{
    if (ctx->param[P_MIN] > ctx->param[P_MAX] || ctx->threads < 1)
        return EINVAL;
    size_t bytes = sizeof(large_wl) + (size_t)ctx->threads * sizeof(large_thread);
    large_wl *w = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, bytes);
    if (!w)
        return ENOMEM;
    memset(w, 0, bytes);
    w->a = ctx->alloc;
    w->as = ctx->alloc_state;
    w->threads = ctx->threads;
    w->seed = ctx->seed;
    w->ops = (uint64_t)ctx->param[P_OPS];
    w->live = (uint64_t)ctx->param[P_LIVE];
    w->min = (uint64_t)ctx->param[P_MIN] * 1024;
    w->span = (uint64_t)(ctx->param[P_MAX] - ctx->param[P_MIN]) * 1024 + 1;
    *out = w;
    return 0;
}

static int large_run(void *arg, int tid, hb_counts *out)
{
    large_wl *w = arg;
    large_thread *t = &w->t[tid];
    uint64_t rng = w->seed ^ ((uint64_t)(tid + 1) * 0x9e3779b97f4a7c15ULL);
    size_t slots_bytes = (size_t)w->live * sizeof(lslot);
    lslot *s = w->a->alloc(w->as, slots_bytes);
    uint64_t filled = 0;
    int err = 0;
    if (!s) {
        err = ENOMEM;
        goto out;
    }
    t->allocs++;
    for (; filled < w->live; filled++)
        if ((err = make(w, t, tid, &s[filled])) != 0)
            goto drain;
    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t j = hb_rand_below(&rng, w->live);
        hb_op_begin(&out->lat);
        retire(w, t, s[j]);
        err = make(w, t, tid, &s[j]);
        hb_op_end(&out->lat);
        if (err) {
            s[j] = s[--filled];
            goto drain;
        }
    }
drain:
    for (uint64_t i = 0; i < filled; i++)
        retire(w, t, s[i]);
    w->a->free(w->as, s, slots_bytes);
    t->frees++;
out:
    t->err = err;
    t->done = 1;
    out->ops = t->blocks;
    out->allocs = t->allocs;
    out->frees = t->frees;
    return err;
}

static int large_check(void *arg, char *err, size_t errlen)
{
    large_wl *w = arg;
    for (int tid = 0; tid < w->threads; tid++) {
        large_thread *t = &w->t[tid];
        if (hb_check_thread_done(err, errlen, tid, t->done, t->err))
            return 1;
        if (t->bad) {
            snprintf(err, errlen,
                     "thread %d: %" PRIu64 " corrupted blocks, the first seen after %" PRIu64
                     " blocks were made",
                     tid, t->bad, t->bad_block);
            return 1;
        }
        if (t->blocks != w->live + w->ops || t->allocs != t->frees) {
            snprintf(err, errlen,
                     "thread %d: %" PRIu64 " blocks (want %" PRIu64 "), %" PRIu64 " allocs vs %" PRIu64
                     " frees",
                     tid, t->blocks, w->live + w->ops, t->allocs, t->frees);
            return 1;
        }
        if (hb_check_tag_sums(err, errlen, tid, t->sum_read, t->sum_written))
            return 1;
    }
    return 0;
}

static void large_teardown(void *arg)
{
    large_wl *w = arg;
    w->a->free(w->as, w, sizeof(large_wl) + (size_t)w->threads * sizeof(large_thread));
}

const hb_workload hb_wl_large = {
    .name = "large",
    .doc = "blocks of 5-25 MiB allocated, written whole and freed in a loop (buffers; mmap/munmap per block)",
    .min_threads = 1,
    .params = large_params,
    .setup = large_setup,
    .run = large_run,
    .check = large_check,
    .teardown = large_teardown,
};
