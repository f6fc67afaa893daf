/* realloc_grow.c -- many strings grown together by realloc, a step at a time.
 *
 * Each thread keeps `strings` strings. In each round every string in turn is
 * grown by `step` bytes with realloc and the new part written, until every
 * string is `final_kb` KiB; then all are freed. Because the strings grow
 * round-robin, a string's neighbour in memory is usually another live
 * string: growing in place needs room the allocator kept (a size class with
 * slack, a mapping that mremap can extend or move without copying), and an
 * allocator that allocates a new block and copies on every call does
 * O(final^2 / step) bytes of copying per string. This is a text buffer or a
 * list being appended to (CPython's list and bytearray over-allocate for the
 * same reason), a JSON writer, a log collector. Look at `wall_s`, and at
 * `peak_rss_kb` against the strings' final size (strings * final_kb per
 * thread): slack that is never written costs address space, not RSS.
 *
 * Self-check: the chunk written in round r of string s is filled with a byte
 * derived from (seed, thread, s, r); at the end the first and last byte of
 * every chunk are read back, so a realloc that lost or mixed contents is
 * caught, and a checksum of what was read must equal what was written.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

enum { P_STRINGS, P_FINAL, P_STEP };

/* medium is the shape (1,000 strings grown to 1 MiB, 1 GiB live at
 * the end); small shrinks both so a slow realloc still ends in ~0.1 s. */
static const hb_param_spec grow_params[] = {
    {"strings", {100, 1000, 1000}, 1, 1 << 24, "strings grown per thread"},
    {"final_kb", {128, 1024, 2048}, 1, 1 << 20, "final size of each string, KiB"},
    {"step", {4096, 4096, 4096}, 1, 1 << 24, "bytes added to a string per realloc"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

typedef struct grow_thread {
    alignas(64) int done;
    int err;
    uint64_t reallocs, allocs, frees;
    uint64_t sum_written, sum_read, bad;
} grow_thread;

typedef struct grow {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed, strings, final, step;
    grow_thread t[];
} grow;

static inline unsigned char chunk_byte(const grow *g, int tid, uint64_t s, uint64_t r)
{
    uint64_t x = g->seed ^ ((uint64_t)(tid + 1) << 48) ^ (s << 20) ^ r;
    return (unsigned char)(hb_rand(&x) | 1); /* never 0: a zeroed page is not a pass */
}

static int grow_setup(const hb_ctx *ctx, void **out)
{
    if (ctx->threads < 1)
        return EINVAL;
    size_t bytes = sizeof(grow) + (size_t)ctx->threads * sizeof(grow_thread);
    grow *g = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, bytes);
    if (!g)
        return ENOMEM;
    memset(g, 0, bytes);
    g->a = ctx->alloc;
    g->as = ctx->alloc_state;
    g->threads = ctx->threads;
    g->seed = ctx->seed;
    g->strings = (uint64_t)ctx->param[P_STRINGS];
    g->final = (uint64_t)ctx->param[P_FINAL] * 1024;
    g->step = (uint64_t)ctx->param[P_STEP];
    *out = g;
    return 0;
}

static int grow_run(void *arg, int tid, hb_counts *out)
{
    grow *g = arg;
    grow_thread *t = &g->t[tid];
    size_t vec_bytes = (size_t)g->strings * sizeof(unsigned char *);
    unsigned char **str = g->a->alloc(g->as, vec_bytes);
    int err = 0;
    uint64_t len = 0; /* every string's length: they grow together */
    if (!str) {
        err = ENOMEM;
        goto out;
    }
    t->allocs++;
    memset(str, 0, vec_bytes);
    for (uint64_t r = 0; len < g->final && !err; r++) {
        uint64_t add = g->final - len < g->step ? g->final - len : g->step;
        for (uint64_t s = 0; s < g->strings; s++) {
            hb_op_begin(&out->lat);
            unsigned char *q = g->a->realloc(g->as, str[s], len, len + add);
            if (!q) {
                hb_op_end(&out->lat);
                err = ENOMEM;
                break;
            }
            if (!str[s])
                t->allocs++;
            str[s] = q;
            unsigned char b = chunk_byte(g, tid, s, r);
            memset(q + len, b, add);
            hb_op_end(&out->lat);
            t->reallocs++;
            t->sum_written += 2u * b;
        }
        if (!err)
            len += add;
    }
    /* Read back the first and last byte of every chunk, then free. */
    for (uint64_t s = 0; s < g->strings; s++) {
        if (!str[s])
            continue;
        if (!err) {
            uint64_t r = 0;
            for (uint64_t at = 0; at < len; at += g->step, r++) {
                uint64_t end = at + g->step < len ? at + g->step : len;
                unsigned char b = chunk_byte(g, tid, s, r);
                t->sum_read += (uint64_t)str[s][at] + str[s][end - 1];
                t->bad += str[s][at] != b || str[s][end - 1] != b;
            }
        }
        g->a->free(g->as, str[s], len);
        t->frees++;
    }
    g->a->free(g->as, str, vec_bytes);
    t->frees++;
out:
    t->err = err;
    t->done = 1;
    out->ops = t->reallocs;
    out->allocs = t->allocs;
    out->frees = t->frees;
    return err;
}

static int grow_check(void *arg, char *err, size_t errlen)
{
    grow *g = arg;
    uint64_t rounds = (g->final + g->step - 1) / g->step;
    for (int tid = 0; tid < g->threads; tid++) {
        grow_thread *t = &g->t[tid];
        if (hb_check_thread_done(err, errlen, tid, t->done, t->err))
            return 1;
        if (t->bad) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " chunks lost their contents across realloc",
                     tid, t->bad);
            return 1;
        }
        if (t->reallocs != rounds * g->strings || t->allocs != t->frees) {
            snprintf(err, errlen,
                     "thread %d: %" PRIu64 " reallocs (want %" PRIu64 "), %" PRIu64 " allocs vs %" PRIu64
                     " frees",
                     tid, t->reallocs, rounds * g->strings, t->allocs, t->frees);
            return 1;
        }
        if (t->sum_read != t->sum_written) {
            snprintf(err, errlen, "thread %d: checksum %" PRIu64 " read, %" PRIu64 " written", tid,
                     t->sum_read, t->sum_written);
            return 1;
        }
    }
    return 0;
}

static void grow_teardown(void *arg)
{
    grow *g = arg;
    g->a->free(g->as, g, sizeof(grow) + (size_t)g->threads * sizeof(grow_thread));
}

const hb_workload hb_wl_realloc_grow = {
    .name = "realloc_grow",
    .doc = "many strings grown together by realloc, a step at a time (append buffers; copy per call?)",
    .min_threads = 1,
    .params = grow_params,
    .setup = grow_setup,
    .run = grow_run,
    .check = grow_check,
    .teardown = grow_teardown,
};
