/* scratch.c -- blocks allocated by one thread, written and freed by another:
 * passive false sharing (Hoard's cache-scratch, Berger et al. 2000).
 *
 * setup, on the main thread, allocates one small object per thread one
 * after another, so with most allocators they share cache lines. Each
 * thread frees the object it was given, then `iterations` times allocates an
 * object of the same size, writes every byte of it `writes` times and frees
 * it. An allocator that hands the freed object straight back to the thread
 * that freed it (a per-thread cache fed by remote frees) keeps the threads
 * writing into one cache line: the writes, not the allocator calls, then
 * dominate the time, and that is what this workload measures. An allocator
 * that returns remote frees to their owner gives each thread its own line.
 *
 * Writes go through a volatile pointer so the compiler keeps every store,
 * and the bytes left in each object feed a checksum whose exact value check()
 * recomputes. The object given to a thread is verified before it is freed.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

enum { P_ITER, P_WRITES, P_OBJ };

/* 1000 writes of an 8-byte object make a round cost ~3 us against ~20 ns
 * for the allocator calls: as in Hoard's benchmark the time is the writes',
 * and only where the allocator put the object changes it. One core, glibc:
 * small ~0.02 s, medium ~1.4 s, large ~7 s. */
static const hb_param_spec scratch_params[] = {
    {"iterations", {6000, 400000, 2000000}, 1, INT64_C(1) << 40,
     "alloc/write/free rounds per thread"},
    {"writes", {1000, 1000, 1000}, 1, 1 << 24, "times every byte of an object is written per round"},
    {"obj_size", {8, 8, 8}, 1, 4096, "object size, bytes (Hoard uses 8)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

/* Written by its own thread during run, read by check after the join. */
typedef struct scratch_thread {
    alignas(64) int done;
    int err;
    int given_freed; /* the object from setup was freed by this thread */
    int given_bad;   /* ... and did not hold what setup wrote */
    uint64_t rounds, sum;
} scratch_thread;

typedef struct scratch {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t iterations, writes;
    size_t obj;
    unsigned char **given; /* given[tid]: allocated by setup, freed by tid */
    scratch_thread t[];
} scratch;

/* What setup writes into thread tid's object, byte k. */
static unsigned char given_byte(int tid, size_t k)
{
    return (unsigned char)(tid * 31 + (int)k + 1);
}

/* What pass r of round i of thread tid writes at byte k; the last pass
 * (r = writes - 1) is what the checksum reads. */
static unsigned char round_byte(int tid, uint64_t i, uint64_t r, size_t k)
{
    return (unsigned char)((uint64_t)tid + i + r + k);
}

static size_t state_bytes(int threads)
{
    return sizeof(scratch) + (size_t)threads * sizeof(scratch_thread);
}

static int scratch_setup(const hb_ctx *ctx, void **w)
{
    int T = ctx->threads;
    if (T < 1)
        return EINVAL;
    scratch *s = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, state_bytes(T));
    unsigned char **given = ctx->alloc->alloc(ctx->alloc_state, (size_t)T * sizeof(*given));
    if (!s || !given) {
        if (s)
            ctx->alloc->free(ctx->alloc_state, s, state_bytes(T));
        if (given)
            ctx->alloc->free(ctx->alloc_state, given, (size_t)T * sizeof(*given));
        return ENOMEM;
    }
    memset(s, 0, state_bytes(T));
    *s = (scratch){.a = ctx->alloc, .as = ctx->alloc_state, .threads = T,
                   .iterations = (uint64_t)ctx->param[P_ITER],
                   .writes = (uint64_t)ctx->param[P_WRITES], .obj = (size_t)ctx->param[P_OBJ],
                   .given = given};
    /* One after another, with nothing in between, so they end up adjacent. */
    for (int tid = 0; tid < T; tid++) {
        given[tid] = ctx->alloc->alloc(ctx->alloc_state, s->obj);
        if (!given[tid]) {
            while (tid-- > 0)
                ctx->alloc->free(ctx->alloc_state, given[tid], s->obj);
            ctx->alloc->free(ctx->alloc_state, given, (size_t)T * sizeof(*given));
            ctx->alloc->free(ctx->alloc_state, s, state_bytes(T));
            return ENOMEM;
        }
    }
    for (int tid = 0; tid < T; tid++)
        for (size_t k = 0; k < s->obj; k++)
            given[tid][k] = given_byte(tid, k);
    *w = s;
    return 0;
}

static int scratch_run(void *w, int tid, hb_counts *out)
{
    scratch *s = w;
    scratch_thread *t = &s->t[tid];
    uint64_t allocs = 0, frees = 0, sum = 0;
    int err = 0;

    for (size_t k = 0; k < s->obj; k++)
        if (s->given[tid][k] != given_byte(tid, k))
            t->given_bad = 1;
    s->a->free(s->as, s->given[tid], s->obj);
    t->given_freed = 1;
    frees++;

    for (uint64_t i = 0; i < s->iterations; i++) {
        hb_op_begin(&out->lat); /* one op: a round of alloc, writes, free */
        volatile unsigned char *p = s->a->alloc(s->as, s->obj);
        if (!p) {
            err = ENOMEM;
            break;
        }
        allocs++;
        for (uint64_t r = 0; r < s->writes; r++)
            for (size_t k = 0; k < s->obj; k++)
                p[k] = round_byte(tid, i, r, k);
        for (size_t k = 0; k < s->obj; k++)
            sum += p[k];
        s->a->free(s->as, (void *)p, s->obj);
        hb_op_end(&out->lat);
        frees++;
        t->rounds++;
    }
    t->sum = sum;
    t->err = err;
    t->done = 1;
    out->ops = t->rounds;
    out->allocs = allocs;
    out->frees = frees;
    return err;
}

static int scratch_check(void *w, char *err, size_t errlen)
{
    scratch *s = w;
    for (int tid = 0; tid < s->threads; tid++) {
        scratch_thread *t = &s->t[tid];
        if (hb_check_thread_done(err, errlen, tid, t->done, t->err))
            return 1;
        if (t->given_bad) {
            snprintf(err, errlen, "thread %d: the object setup gave it was overwritten", tid);
            return 1;
        }
        /* The checksum sees only the last pass of each round. */
        uint64_t want = 0;
        for (uint64_t i = 0; i < s->iterations; i++)
            for (size_t k = 0; k < s->obj; k++)
                want += round_byte(tid, i, s->writes - 1, k);
        if (t->rounds != s->iterations || t->sum != want) {
            snprintf(err, errlen,
                     "thread %d: %" PRIu64 " rounds (want %" PRIu64 "), checksum %" PRIu64
                     " (want %" PRIu64 ")",
                     tid, t->rounds, s->iterations, t->sum, want);
            return 1;
        }
    }
    return 0;
}

static void scratch_teardown(void *w)
{
    scratch *s = w;
    for (int tid = 0; tid < s->threads; tid++)
        if (!s->t[tid].given_freed)
            s->a->free(s->as, s->given[tid], s->obj);
    s->a->free(s->as, s->given, (size_t)s->threads * sizeof(*s->given));
    s->a->free(s->as, s, state_bytes(s->threads));
}

const hb_workload hb_wl_scratch = {
    .name = "scratch",
    .doc = "objects allocated by one thread, written and freed by another (passive false sharing)",
    .min_threads = 1,
    .params = scratch_params,
    .setup = scratch_setup,
    .run = scratch_run,
    .check = scratch_check,
    .teardown = scratch_teardown,
};
