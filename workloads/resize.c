/* resize.c -- buffers resized up and down by realloc, among small blocks.
 *
 * Each thread keeps `slots` slots and makes `ops` operations, each on a
 * random slot. An empty slot gets a new block: mostly up to 512 B, one in
 * 50 up to `big_kb` KiB. A full one is freed half the time; otherwise it is
 * resized by realloc, half of those to up to `max_kb` KiB and half to up to
 * 300 B. Every block is written whole after malloc and after realloc, as a
 * program fills the buffer it asked for. This is a line or message buffer
 * reused across requests, a parser's scratch, a cache entry rewritten at a
 * new size; a sweep of real programs found its cost (2026-12-05): an
 * allocator that maps blocks above 32 KiB one by one pays a call to the OS,
 * and a TLB flush of every CPU the process ran on, at nearly every resize of
 * those, where glibc and mimalloc carve them from memory they keep. Look at
 * `wall_s` and `peak_rss_kb`.
 *
 * Self-check: a block holds its tag in its first 8 bytes (when it has 8)
 * and a fill byte derived from it in the rest. Before a free or a realloc
 * the tag and the last byte are read back; after a realloc the tag and the
 * last byte the move had to keep are read again, so a realloc that lost
 * or mixed contents, or a block handed out twice, is caught; the tags read
 * must sum to the tags written.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

enum { P_OPS, P_SLOTS, P_MAX, P_BIG };

/* medium is the sweep's program (4,096 slots, 400,000 operations: about
 * 0.5 s on glibc here); small ~20 ms. */
static const hb_param_spec resize_params[] = {
    {"ops", {20000, 400000, 2000000}, 1, INT64_C(1) << 40, "operations per thread"},
    {"slots", {1024, 4096, 4096}, 1, 1 << 24, "slots per thread"},
    {"max_kb", {100, 100, 100}, 1, 1 << 20, "largest size a realloc asks, KiB (half the reallocs)"},
    {"big_kb", {200, 200, 200}, 1, 1 << 20, "largest size one malloc in 50 asks, KiB"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

typedef struct resize_thread {
    alignas(64) int done;
    int err;
    uint64_t ops, allocs, reallocs, frees, blocks;
    uint64_t sum_written, sum_read, bad, bad_op;
} resize_thread;

typedef struct resize_wl {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed, ops, slots, max, big;
    resize_thread t[];
} resize_wl;

typedef struct rslot {
    unsigned char *p;
    size_t n;
    uint64_t tag;
} rslot;

static inline unsigned char fill_of(uint64_t tag)
{
    return (unsigned char)(tag >> 8) | 1; /* never 0: a zeroed page is not a pass */
}

/* Write a block whole for its tag. */
static void fill(rslot *s)
{
    unsigned char b = fill_of(s->tag);
    if (s->n >= 8) {
        memcpy(s->p, &s->tag, 8);
        memset(s->p + 8, b, s->n - 8);
    } else {
        memset(s->p, b, s->n);
    }
}

/* Read back the tag and the byte at n - 1 (n <= the block's size): 1 if
 * they are what s's tag wrote. `last`: the read that ends the tag (at the
 * free, or the realloc, that replaces it), which adds it to sum_read. */
static int intact(resize_thread *t, const rslot *s, size_t n, int last)
{
    uint64_t tag = s->tag;
    if (s->n >= 8 && n >= 8)
        memcpy(&tag, s->p, 8);
    if (last)
        t->sum_read += tag;
    if (tag != s->tag)
        return 0;
    if (s->n >= 8 && n <= 8)
        return 1; /* the tag was the whole of what is kept */
    return s->p[n - 1] == fill_of(s->tag);
}

static void note_bad(resize_thread *t)
{
    if (t->bad++ == 0)
        t->bad_op = t->ops;
}

static int resize_setup(const hb_ctx *ctx, void **out)
{
    if (ctx->threads < 1)
        return EINVAL;
    size_t bytes = sizeof(resize_wl) + (size_t)ctx->threads * sizeof(resize_thread);
    resize_wl *w = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, bytes);
    if (!w)
        return ENOMEM;
    memset(w, 0, bytes);
    w->a = ctx->alloc;
    w->as = ctx->alloc_state;
    w->threads = ctx->threads;
    w->seed = ctx->seed;
    w->ops = (uint64_t)ctx->param[P_OPS];
    w->slots = (uint64_t)ctx->param[P_SLOTS];
    w->max = (uint64_t)ctx->param[P_MAX] * 1024;
    w->big = (uint64_t)ctx->param[P_BIG] * 1024;
    *out = w;
    return 0;
}

/* One operation on slot s; ENOMEM when the allocator failed. */
static int step(resize_wl *w, resize_thread *t, int tid, rslot *s, uint64_t r)
{
    if (!s->p) {
        size_t n = 1 + (size_t)((r >> 8) % (((r >> 40) % 50 == 0) ? w->big : 512));
        s->p = w->a->alloc(w->as, n);
        if (!s->p)
            return ENOMEM;
        s->n = n;
        s->tag = hb_block_tag(w->seed, tid, t->blocks++);
        t->sum_written += s->tag;
        fill(s);
        t->allocs++;
        return 0;
    }
    if (!intact(t, s, s->n, 1))
        note_bad(t);
    if (r & 1) {
        w->a->free(w->as, s->p, s->n);
        s->p = NULL;
        t->frees++;
        return 0;
    }
    size_t n = 1 + (size_t)((r >> 8) % ((r & 2) ? w->max : 300));
    unsigned char *q = w->a->realloc(w->as, s->p, s->n, n);
    if (!q)
        return ENOMEM;
    t->reallocs++;
    s->p = q;
    size_t kept = n < s->n ? n : s->n;
    if (!intact(t, s, kept, 0))
        note_bad(t);
    s->n = n;
    s->tag = hb_block_tag(w->seed, tid, t->blocks++);
    t->sum_written += s->tag;
    fill(s);
    return 0;
}

static int resize_run(void *arg, int tid, hb_counts *out)
{
    resize_wl *w = arg;
    resize_thread *t = &w->t[tid];
    uint64_t rng = w->seed ^ ((uint64_t)(tid + 1) * 0x9e3779b97f4a7c15ULL);
    size_t slots_bytes = (size_t)w->slots * sizeof(rslot);
    rslot *s = w->a->alloc(w->as, slots_bytes);
    int err = 0;
    if (!s) {
        err = ENOMEM;
        goto out;
    }
    memset(s, 0, slots_bytes);
    for (; t->ops < w->ops && !err; t->ops++) {
        uint64_t r = hb_rand(&rng);
        hb_op_begin(&out->lat);
        err = step(w, t, tid, &s[hb_rand_below(&rng, w->slots)], r);
        hb_op_end(&out->lat);
    }
    for (uint64_t i = 0; i < w->slots; i++) {
        if (!s[i].p)
            continue;
        if (!intact(t, &s[i], s[i].n, 1))
            note_bad(t);
        w->a->free(w->as, s[i].p, s[i].n);
        t->frees++;
    }
    w->a->free(w->as, s, slots_bytes);
out:
    t->err = err;
    t->done = 1;
    out->ops = t->ops;
    out->allocs = t->allocs + 1;
    out->frees = t->frees + 1;
    return err;
}

static int resize_check(void *arg, char *err, size_t errlen)
{
    resize_wl *w = arg;
    for (int tid = 0; tid < w->threads; tid++) {
        resize_thread *t = &w->t[tid];
        if (hb_check_thread_done(err, errlen, tid, t->done, t->err))
            return 1;
        if (t->bad) {
            snprintf(err, errlen,
                     "thread %d: %" PRIu64 " blocks lost or mixed their contents, the first at operation %" PRIu64,
                     tid, t->bad, t->bad_op);
            return 1;
        }
        if (t->ops != w->ops || t->allocs != t->frees) {
            snprintf(err, errlen,
                     "thread %d: %" PRIu64 " operations (want %" PRIu64 "), %" PRIu64 " allocs vs %" PRIu64
                     " frees",
                     tid, t->ops, w->ops, t->allocs, t->frees);
            return 1;
        }
        if (hb_check_tag_sums(err, errlen, tid, t->sum_read, t->sum_written))
            return 1;
    }
    return 0;
}

static void resize_teardown(void *arg)
{
    resize_wl *w = arg;
    w->a->free(w->as, w, sizeof(resize_wl) + (size_t)w->threads * sizeof(resize_thread));
}

const hb_workload hb_wl_resize = {
    .name = "resize",
    .doc = "buffers resized up and down by realloc to 100 KiB among small blocks (a mapping per large block?)",
    .min_threads = 1,
    .params = resize_params,
    .setup = resize_setup,
    .run = resize_run,
    .check = resize_check,
    .teardown = resize_teardown,
};
