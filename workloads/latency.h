/* latency.h -- operation latency, sampled by workloads, read by the harness.
 *
 * A workload brackets one operation with hb_op_begin/hb_op_end. Only one
 * operation in about `every` is timed (the gap is random, so a periodic
 * pattern such as a collection every 700 allocations is not aliased), which
 * keeps the cost of two clock reads off most operations. Samples go into a
 * log-linear histogram: values below 256 ns are exact, larger ones keep 8
 * significant bits, so a bucket is under 1/128 of its value wide and its
 * midpoint is within 0.4% of any value in it.
 *
 * A thread's recorder is written only by that thread; the harness merges
 * them after the join. */
#ifndef HB_LATENCY_H
#define HB_LATENCY_H

#include <stdint.h>
#include <time.h>

#define HB_HIST_SIG 8 /* significant bits kept */
#define HB_HIST_BUCKETS ((1 << HB_HIST_SIG) + (64 - HB_HIST_SIG) * (1 << (HB_HIST_SIG - 1)))

typedef struct hb_hist {
    uint64_t count;
    uint64_t max;
    uint64_t bucket[HB_HIST_BUCKETS];
} hb_hist;

typedef struct hb_lat {
    hb_hist *hist;      /* NULL: sampling off */
    uint32_t every;     /* mean gap between timed operations */
    uint32_t countdown; /* operations until the next timed one */
    uint64_t rng;
    uint64_t t0;        /* start of the operation being timed, 0 if none */
} hb_lat;

static inline uint64_t hb_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* every 0: off (the countdown then starts at 2^32 - 1 and the slow path
 * re-arms it without timing anything). */
void hb_lat_init(hb_lat *l, hb_hist *hist, uint32_t every, uint64_t seed);
/* The slow paths, out of line so the per-operation cost is one decrement
 * and two well-predicted branches. */
void hb_lat_start(hb_lat *l);
void hb_lat_stop(hb_lat *l);

static inline void hb_op_begin(hb_lat *l)
{
    if (__builtin_expect(--l->countdown == 0, 0))
        hb_lat_start(l);
}

static inline void hb_op_end(hb_lat *l)
{
    if (__builtin_expect(l->t0 != 0, 0))
        hb_lat_stop(l);
}

void hb_hist_add(hb_hist *h, uint64_t v);
void hb_hist_merge(hb_hist *into, const hb_hist *from);
/* Nearest-rank percentile p in (0, 100]: the bucket midpoint, or the exact
 * maximum for the top rank; 0 when the histogram is empty. */
uint64_t hb_hist_percentile(const hb_hist *h, double p);
/* Bucket index and bounds, for tests. */
unsigned hb_hist_index(uint64_t v);
void hb_hist_bounds(unsigned idx, uint64_t *lo, uint64_t *hi);

#endif
