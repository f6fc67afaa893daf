/* workload.h -- the workload contract.
 *
 * A workload is a named pattern with parameters and a fixed amount of work
 * (a count of operations, so memory use does not depend on speed). Each
 * exports one `const hb_workload` and is listed once, in registry.c.
 *
 * Life of a cell, run by the harness in its own process:
 *   setup(ctx, &w)             once, on the main thread
 *   run(w, tid, &counts)       on each of ctx->threads threads at once, after
 *                              the allocator's thread_attach; timed together
 *   check(w, err, errlen)      once, after every run returned: the self-check.
 *                              The cell's figures are accepted only if it
 *                              returns 0; otherwise err says what was wrong.
 *   teardown(w)                once; frees everything setup and run kept.
 *
 * Every allocation goes through ctx->alloc (never malloc), and every block
 * allocated is written to, so an allocator cannot win by not touching memory.
 * Results that could be optimised away feed a checksum that check() verifies.
 *
 * Collector workloads (needs_collector = 1) run once per collector of the
 * matrix and are written against the mutator API of collectors/collector.h.
 * The harness makes each thread's heap before run (on that thread, with the
 * cell's allocator and the harness's pause hook) and hands it over in
 * out->heap; run uses only that heap and leaves every scope it entered
 * before returning. After run the harness, not the workload, counts what
 * leaked (a verifying trace from the roots: the heap's globals are roots)
 * and destroys the heap. So objects never outlive run, and setup/check/
 * teardown see only the workload's own plain state. Allocator-only
 * workloads get out->heap NULL and record collector `none`.
 *
 * Errors: setup and run return 0 or an errno value; check returns 0 when the
 * result is right, non-zero otherwise.
 */
#ifndef HB_WORKLOAD_H
#define HB_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/allocator.h"
#include "../collectors/collector.h"
#include "latency.h"

typedef enum hb_size { HB_SIZE_SMALL, HB_SIZE_MEDIUM, HB_SIZE_LARGE, HB_SIZE_COUNT } hb_size;

/* A numeric parameter and its default at each size preset. */
typedef struct hb_param_spec {
    const char *name;
    int64_t preset[HB_SIZE_COUNT]; /* small, medium, large */
    int64_t min, max;              /* accepted range, inclusive */
    const char *help;
} hb_param_spec;

#define HB_MAX_PARAMS 16

enum { HB_HEAP_ISOLATED = 1, HB_HEAP_SHARED = 2 };

/* What the harness hands a workload: the allocator, the thread count and the
 * resolved value of every parameter the workload declared (same order). */
typedef struct hb_ctx {
    const hb_allocator *alloc;
    void *alloc_state;
    const hb_collector *collector; /* NULL for allocator-only workloads */
    int threads;
    hb_size size;
    uint64_t seed;                /* per cell and repetition */
    int64_t param[HB_MAX_PARAMS]; /* param[i] is the value of spec params[i] */
} hb_ctx;

/* What one thread did, summed over threads by the harness. */
typedef struct hb_counts {
    uint64_t ops;    /* the workload's unit of work, for ops_per_s */
    uint64_t allocs; /* calls that allocated a block */
    uint64_t frees;  /* calls that freed one */
    /* Set up by the harness before run: bracket each operation with
     * hb_op_begin(&out->lat) / hb_op_end(&out->lat) (latency.h). */
    hb_lat lat;
    /* This thread's heap, for collector workloads; NULL otherwise. */
    hb_heap *heap;
} hb_counts;

typedef struct hb_workload {
    const char *name;
    const char *doc;           /* the document pattern it reproduces, one line */
    int min_threads;           /* cells with fewer threads are rows with status skipped */
    int needs_collector;       /* 1: written against the mutator API, run per collector */
    const hb_param_spec *params; /* terminated by an entry with name NULL */
    /* Heap modes it runs in (collector workloads): HB_HEAP_ISOLATED and/or
     * HB_HEAP_SHARED; 0 means isolated only. */
    int heap_modes;
    /* A real program run as a child (programs/program.h), measured from
     * outside; NULL for in-process workloads. A program's setup, run,
     * check and teardown are NULL. */
    const struct hb_program *program;

    int (*setup)(const hb_ctx *ctx, void **w);
    int (*run)(void *w, int tid, hb_counts *out);
    int (*check)(void *w, char *err, size_t errlen);
    void (*teardown)(void *w);
} hb_workload;

extern const hb_workload *const hb_workloads[];
extern const size_t hb_workload_count;
const hb_workload *hb_workload_find(const char *name);

/* Index of a parameter in w->params, -1 if it has none of that name. */
int hb_workload_param_index(const hb_workload *w, const char *name);

/* Checks the allocator workloads' check() makes of each thread: 1, with
 * the message in err, when thread tid did not finish (done 0) or ended
 * with error e; when the tags it read back do not sum to those written. */
int hb_check_thread_done(char *err, size_t errlen, int tid, int done, int e);
int hb_check_tag_sums(char *err, size_t errlen, int tid, uint64_t read, uint64_t written);

/* A small, fast, reproducible generator for workloads (xoshiro256**-style
 * quality is not needed; splitmix64 is enough and one multiply-add cheap). */
static inline uint64_t hb_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without division bias that matters at these n. */
static inline uint64_t hb_rand_below(uint64_t *s, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)hb_rand(s) * n) >> 64);
}

/* Blocks that verify themselves, for allocator workloads. Block k made by
 * thread `who` carries a tag distinct per (who, k) and per seed; its size is
 * drawn from the tag's high half, uniform in [min, min + span), so whoever
 * frees a block can size it and check it from the tag alone. */
static inline uint64_t hb_block_tag(uint64_t seed, int who, uint64_t k)
{
    uint64_t s = seed ^ ((uint64_t)(who + 1) * 0xd1b54a32d192ed03ULL) ^ (k * 0xaf251af3b0f025b5ULL);
    return hb_rand(&s);
}

static inline size_t hb_block_size(uint64_t min, uint64_t span, uint64_t tag)
{
    return (size_t)(min + (((tag >> 32) * span) >> 32));
}

#endif
