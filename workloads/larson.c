/* larson.c -- Larson & Krishnan's server benchmark (ISMM 1998), as
 * mimalloc-bench runs it (`larson 5 8 1000 5000 100 4141 T`).
 *
 * The published program, step by step, and what this file does for each:
 *
 *   warm-up   the main thread allocates T * chunks blocks of random size,
 *             shuffles them (a random permutation) and then replaces 4 *
 *             T * chunks random ones, so every thread's slots start out
 *             holding blocks made by the main thread, in random order.
 *             Here: setup(), on the harness's main thread, untimed as in
 *             the original (its clock starts after the threads are made).
 *   workers   thread i owns slots [i * chunks, (i+1) * chunks). It does
 *             rounds * chunks replacements: pick a random slot, free its
 *             block, allocate one of random size in [min, max), write it.
 *             Then it starts its successor on the same slots and exits, so
 *             the successor frees blocks its predecessor allocated: blocks
 *             outlive the thread, and the per-thread heap, that made them.
 *   figures   throughput = replacements / seconds, and the "relative time"
 *             it prints, 1e9 / throughput (seconds per 10^9 replacements).
 *             Here ops counts replacements, so ops_per_s is the throughput
 *             and 1e9 / ops_per_s the relative time.
 *
 * The original runs for a fixed time; a workload does fixed work (so memory
 * does not depend on speed): `ops` replacements per thread, done by a chain
 * of ceil(ops / (rounds * chunks)) workers, each worker the successor of the
 * last. Each worker is a thread this file creates, so it calls the
 * allocator's thread_attach itself first, and thread_detach after it has
 * started its successor (as the original's thread exits, and its heap is
 * torn down, after creating the next one). The harness thread of slot
 * group i starts the first worker and waits for the chain to end.
 *
 * Self-check: every block carries a tag in its first 8 bytes, kept also
 * beside its slot; the worker that frees it checks the head against the
 * slot's copy (which catches overlapping blocks). Tags made must equal tags
 * freed plus the tags of the blocks left in the slots, and allocations
 * minus frees the number of slots. (The original writes two bytes per block
 * and checks nothing; one 8-byte write and read of the line the allocator
 * touches anyway keeps its memory traffic.)
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

enum { P_OPS, P_CHUNKS, P_ROUNDS, P_MIN, P_MAX };

/* mimalloc-bench's arguments: 8..1000 B, 5000 blocks per thread, 100 rounds
 * (500,000 replacements per worker). The presets differ only in how many
 * workers each chain has (3, 50, 200). */
static const hb_param_spec larson_params[] = {
    {"ops", {1500000, 25000000, 100000000}, 1, INT64_C(1) << 40,
     "replacements per thread, over all its successive workers"},
    {"chunks", {5000, 5000, 5000}, 1, 1 << 22, "blocks (slots) per thread"},
    {"rounds", {100, 100, 100}, 1, 1 << 20,
     "a worker does rounds * chunks replacements, then starts its successor and exits"},
    {"min_size", {8, 8, 8}, 8, 1 << 20, "smallest block, bytes (room for the tag)"},
    {"max_size", {1000, 1000, 1000}, 8, 1 << 20,
     "sizes are min_size + rand % (max_size - min_size), as the original draws them"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

struct larson;

/* One per harness thread: its slots and the chain of workers on them.
 * Workers of a chain run one after another (each is created by the last),
 * so they share this without locks: pthread_create orders it. */
typedef struct chain {
    alignas(64) struct larson *l;
    int tid;
    uint64_t rng;
    char **blk;    /* the slots: block, its size and its tag */
    uint32_t *size;
    uint64_t *tag;
    uint64_t left; /* replacements still to do */
    hb_lat *lat;
    pthread_t prev; /* the worker that started the running one, joined by it */
    int has_prev;
    int err;
    uint64_t workers, allocs, frees, sum_made, sum_freed;
    uint64_t bad, bad_slot, bad_head, bad_want;
    /* The last worker says it is done; the harness thread then joins it. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    pthread_t last;
} chain;

typedef struct larson {
    const hb_allocator *a;
    void *as;
    int threads;
    uint64_t seed, ops, chunks, per_worker, min, range, nslots;
    char **blk;
    uint32_t *size;
    uint64_t *tag;
    /* the warm-up's own counts, made on the main thread */
    uint64_t warm_allocs, warm_frees, warm_made, warm_freed, warm_bad;
    chain c[];
} larson;

static size_t draw_size(const larson *l, uint64_t *rng)
{
    return (size_t)(l->min + (l->range ? hb_rand_below(rng, l->range) : 0));
}

static void *block_make(larson *l, size_t n, uint64_t tag)
{
    char *b = l->a->alloc(l->as, n);
    if (b)
        memcpy(b, &tag, 8);
    return b;
}

/* 1 when the block's head still holds its tag. */
static int block_ok(const char *b, uint64_t want, uint64_t *head)
{
    memcpy(head, b, 8);
    return *head == want;
}

static size_t slots_bytes(uint64_t n)
{
    return (size_t)n * (sizeof(char *) + sizeof(uint32_t) + sizeof(uint64_t));
}

static void larson_free_all(larson *l)
{
    if (l->blk) {
        for (uint64_t i = 0; i < l->nslots; i++)
            if (l->blk[i])
                l->a->free(l->as, l->blk[i], l->size[i]);
        l->a->free(l->as, l->blk, slots_bytes(l->nslots));
    }
    for (int i = 0; i < l->threads; i++) {
        pthread_mutex_destroy(&l->c[i].lock);
        pthread_cond_destroy(&l->c[i].cond);
    }
    l->a->free(l->as, l, sizeof(larson) + (size_t)l->threads * sizeof(chain));
}

/* The original's warmup(): allocate, shuffle, then 4 * n replacements. */
static int warm_up(larson *l, uint64_t *rng)
{
    uint64_t n = l->nslots;
    const int who = l->threads; /* tags distinct from every chain's */
    for (uint64_t i = 0; i < n; i++) {
        size_t sz = draw_size(l, rng);
        uint64_t tag = hb_block_tag(l->seed, who, l->warm_allocs);
        if (!(l->blk[i] = block_make(l, sz, tag)))
            return ENOMEM;
        l->size[i] = (uint32_t)sz;
        l->tag[i] = tag;
        l->warm_allocs++;
        l->warm_made += tag;
    }
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = hb_rand_below(rng, i);
        char *b = l->blk[j];
        uint32_t s = l->size[j];
        uint64_t t = l->tag[j];
        l->blk[j] = l->blk[i - 1], l->size[j] = l->size[i - 1], l->tag[j] = l->tag[i - 1];
        l->blk[i - 1] = b, l->size[i - 1] = s, l->tag[i - 1] = t;
    }
    for (uint64_t k = 0; k < 4 * n; k++) {
        uint64_t v = hb_rand_below(rng, n), head;
        l->warm_bad += !block_ok(l->blk[v], l->tag[v], &head);
        l->warm_freed += l->tag[v];
        l->a->free(l->as, l->blk[v], l->size[v]);
        l->blk[v] = NULL;
        l->warm_frees++;
        size_t sz = draw_size(l, rng);
        uint64_t tag = hb_block_tag(l->seed, who, l->warm_allocs);
        if (!(l->blk[v] = block_make(l, sz, tag)))
            return ENOMEM;
        l->size[v] = (uint32_t)sz;
        l->tag[v] = tag;
        l->warm_allocs++;
        l->warm_made += tag;
    }
    return 0;
}

static int larson_setup(const hb_ctx *ctx, void **w)
{
    if (ctx->param[P_MIN] > ctx->param[P_MAX] || ctx->threads < 1)
        return EINVAL;
    uint64_t chunks = (uint64_t)ctx->param[P_CHUNKS];
    uint64_t nslots = chunks * (uint64_t)ctx->threads;
    size_t bytes = sizeof(larson) + (size_t)ctx->threads * sizeof(chain);
    larson *l = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, bytes);
    if (!l)
        return ENOMEM;
    memset(l, 0, bytes);
    *l = (larson){.a = ctx->alloc, .as = ctx->alloc_state, .threads = ctx->threads,
                  .seed = ctx->seed, .ops = (uint64_t)ctx->param[P_OPS], .chunks = chunks,
                  .per_worker = chunks * (uint64_t)ctx->param[P_ROUNDS],
                  .min = (uint64_t)ctx->param[P_MIN],
                  .range = (uint64_t)(ctx->param[P_MAX] - ctx->param[P_MIN]), .nslots = nslots};
    for (int i = 0; i < l->threads; i++) {
        pthread_mutex_init(&l->c[i].lock, NULL);
        pthread_cond_init(&l->c[i].cond, NULL);
    }
    /* One allocation for the three slot arrays, pointers first (aligned). */
    char *arr = ctx->alloc->alloc(ctx->alloc_state, slots_bytes(nslots));
    if (!arr) {
        larson_free_all(l);
        return ENOMEM;
    }
    memset(arr, 0, slots_bytes(nslots));
    l->blk = (char **)arr;
    l->tag = (uint64_t *)(arr + nslots * sizeof(char *));
    l->size = (uint32_t *)(arr + nslots * (sizeof(char *) + sizeof(uint64_t)));
    uint64_t rng = ctx->seed ^ 0x1a450bULL;
    int rc = warm_up(l, &rng);
    if (rc) {
        larson_free_all(l);
        return rc;
    }
    for (int i = 0; i < l->threads; i++) {
        chain *c = &l->c[i];
        c->l = l;
        c->tid = i;
        c->rng = hb_rand(&rng); /* as the original seeds each thread from its generator */
        c->blk = l->blk + (uint64_t)i * chunks;
        c->size = l->size + (uint64_t)i * chunks;
        c->tag = l->tag + (uint64_t)i * chunks;
        c->left = l->ops;
    }
    *w = l;
    return 0;
}

/* The original's exercise_heap: one worker's rounds on the chain's slots. */
static int work(chain *c)
{
    larson *l = c->l;
    uint64_t n = c->left < l->per_worker ? c->left : l->per_worker;
    for (uint64_t k = 0; k < n; k++) {
        hb_op_begin(c->lat); /* one op: free a random slot's block, fill it anew */
        uint64_t v = hb_rand_below(&c->rng, l->chunks), head;
        if (!block_ok(c->blk[v], c->tag[v], &head) && c->bad++ == 0) {
            c->bad_slot = v;
            c->bad_head = head;
            c->bad_want = c->tag[v];
        }
        c->sum_freed += c->tag[v];
        l->a->free(l->as, c->blk[v], c->size[v]);
        c->frees++;
        size_t sz = draw_size(l, &c->rng);
        uint64_t tag = hb_block_tag(l->seed, c->tid, c->allocs);
        char *b = block_make(l, sz, tag);
        if (!b) {
            c->blk[v] = NULL;
            c->left -= k;
            return ENOMEM;
        }
        c->blk[v] = b;
        c->size[v] = (uint32_t)sz;
        c->tag[v] = tag;
        c->allocs++;
        c->sum_made += tag;
        hb_op_end(c->lat);
    }
    c->left -= n;
    return 0;
}

static void *worker_main(void *arg)
{
    chain *c = arg;
    larson *l = c->l;
    c->workers++;
    int rc = l->a->thread_attach(l->as);
    if (rc == 0)
        rc = work(c);
    /* Reap the predecessor now that it has long exited (the original never
     * joins; joining here keeps the chain from leaking thread stacks). */
    if (c->has_prev)
        pthread_join(c->prev, NULL);
    if (rc == 0 && c->left > 0) {
        pthread_t next;
        c->prev = pthread_self();
        c->has_prev = 1;
        rc = pthread_create(&next, NULL, worker_main, c);
        if (rc == 0) {
            /* From here on c belongs to the successor. */
            l->a->thread_detach(l->as);
            return NULL;
        }
    }
    c->err = rc;
    l->a->thread_detach(l->as);
    pthread_mutex_lock(&c->lock);
    c->last = pthread_self();
    c->done = 1;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static int larson_run(void *w, int tid, hb_counts *out)
{
    larson *l = w;
    chain *c = &l->c[tid];
    c->lat = &out->lat;
    pthread_t first;
    int rc = pthread_create(&first, NULL, worker_main, c);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->lock);
    while (!c->done)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_t last = c->last;
    pthread_mutex_unlock(&c->lock);
    pthread_join(last, NULL);
    out->ops = c->allocs;
    out->allocs = c->allocs;
    out->frees = c->frees;
    return c->err;
}

static int larson_check(void *w, char *err, size_t errlen)
{
    larson *l = w;
    uint64_t allocs = l->warm_allocs, frees = l->warm_frees;
    uint64_t made = l->warm_made, freed = l->warm_freed, in_slots = 0;
    if (l->warm_bad) {
        snprintf(err, errlen, "the warm-up freed %" PRIu64 " corrupted blocks", l->warm_bad);
        return 1;
    }
    uint64_t want_workers = (l->ops + l->per_worker - 1) / l->per_worker;
    for (int tid = 0; tid < l->threads; tid++) {
        chain *c = &l->c[tid];
        if (!c->done || c->err) {
            snprintf(err, errlen, "thread %d's chain stopped after %" PRIu64 " workers (error %d)",
                     tid, c->workers, c->err);
            return 1;
        }
        if (c->bad) {
            snprintf(err, errlen,
                     "thread %d freed %" PRIu64 " corrupted blocks; first in slot %" PRIu64
                     ": head %016" PRIx64 ", want %016" PRIx64,
                     tid, c->bad, c->bad_slot, c->bad_head, c->bad_want);
            return 1;
        }
        if (c->allocs != l->ops || c->frees != l->ops || c->workers != want_workers) {
            snprintf(err, errlen,
                     "thread %d made %" PRIu64 " and freed %" PRIu64 " blocks in %" PRIu64
                     " workers, want %" PRIu64 " in %" PRIu64,
                     tid, c->allocs, c->frees, c->workers, l->ops, want_workers);
            return 1;
        }
        allocs += c->allocs;
        frees += c->frees;
        made += c->sum_made;
        freed += c->sum_freed;
    }
    for (uint64_t i = 0; i < l->nslots; i++) {
        uint64_t head;
        if (!l->blk[i] || !block_ok(l->blk[i], l->tag[i], &head)) {
            snprintf(err, errlen, "slot %" PRIu64 " is %s after the run", i,
                     l->blk[i] ? "corrupted" : "empty");
            return 1;
        }
        in_slots += l->tag[i];
    }
    if (allocs - frees != l->nslots) {
        snprintf(err, errlen, "%" PRIu64 " allocs - %" PRIu64 " frees != %" PRIu64 " slots", allocs,
                 frees, l->nslots);
        return 1;
    }
    if (freed + in_slots != made) {
        snprintf(err, errlen,
                 "tag sums: %016" PRIx64 " freed + %016" PRIx64 " in the slots != %016" PRIx64
                 " made (a block was lost or seen twice)",
                 freed, in_slots, made);
        return 1;
    }
    return 0;
}

static void larson_teardown(void *w)
{
    larson_free_all(w);
}

const hb_workload hb_wl_larson = {
    .name = "larson",
    .doc = "Larson & Krishnan's server benchmark: each thread's successor frees the blocks it made "
           "(ops_per_s is its throughput, 1e9/ops_per_s its relative time)",
    .min_threads = 1,
    .params = larson_params,
    .setup = larson_setup,
    .run = larson_run,
    .check = larson_check,
    .teardown = larson_teardown,
};
