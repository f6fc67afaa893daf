/* metrics.h -- what a cell measures besides time: RSS over time, collection
 * pauses and their statistics. DESIGN.md defines each figure.
 *
 * Buffers come from mmap, not malloc, so the harness's own bookkeeping never
 * lands in the heap of the `system` backend it is measuring. */
#ifndef HB_METRICS_H
#define HB_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../allocators/allocator.h"

/* A growable array of fixed-size records in mmap'd memory. */
typedef struct hb_buf {
    void *data;
    size_t len, cap; /* in records */
    size_t rec;      /* record size */
} hb_buf;

void hb_buf_init(hb_buf *b, size_t rec);
/* 0 or ENOMEM; the record is copied in. */
int hb_buf_push(hb_buf *b, const void *record);
void hb_buf_free(hb_buf *b);

typedef struct hb_rss_sample {
    uint64_t ms;           /* since the sampler started (the cell's start) */
    uint64_t rss_bytes;    /* resident set, /proc/self/statm */
    int64_t live_bytes;    /* the allocator's live bytes; -1 unknown */
    int64_t gc_live_bytes; /* the collector heaps' live object bytes; -1 none */
} hb_rss_sample;

typedef struct hb_pause {
    uint64_t start_ns; /* CLOCK_MONOTONIC */
    uint64_t duration_ns;
    uint64_t ttsp_ns; /* shared heaps: request to every mutator stopped (in duration_ns) */
    int32_t generation;
    int32_t thread;
    uint64_t examined, freed;
    int32_t is_explicit; /* 1: hb_collect (gc.collect()) asked for it; 0: automatic */
} hb_pause;

/* ---- the RSS sampler: a thread reading RSS and live bytes every period */
typedef struct hb_sampler {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop, running;
    unsigned period_ms;
    uint64_t t0_ns;
    const hb_allocator *alloc;
    void *alloc_state;
    hb_buf samples; /* hb_rss_sample */
    int64_t peak_live;
    /* the collector heaps alive now, registered by their threads under
     * `lock` so a sample never reads a heap being destroyed */
    struct hb_heap **heaps;
    size_t nheaps;
} hb_sampler;

/* A worker's heap joins or leaves the samples (slot = the worker's index). */
void hb_sampler_heap(hb_sampler *s, size_t slot, struct hb_heap *h);

/* period_ms 0: no thread, no samples. `heap_slots` is the number of threads
 * that may register a heap. 0 or an errno value. */
int hb_sampler_start(hb_sampler *s, unsigned period_ms, const hb_allocator *a, void *as, size_t heap_slots);
/* Takes one last sample, stops the thread. */
void hb_sampler_stop(hb_sampler *s);
/* Resident bytes now (/proc/self/statm), -1 when unreadable. */
int64_t hb_rss_now(void);

/* ---- pauses: statistics over the events of one cell */
typedef struct hb_pause_stats {
    uint64_t count;
    double total_ms;
    double p50_us, p90_us, p99_us, p999_us, max_us; /* nearest rank, over every pause */
    double max_auto_us; /* the largest automatic pause (is_explicit 0); < 0 when none */
    double mmu[3]; /* at 1, 10, 100 ms; < 0 when the run is shorter than the window */
} hb_pause_stats;

extern const double hb_mmu_windows_ms[3];

/* Events may come from several threads, each with its own heap: a pause
 * stops only its thread, so MMU is computed per thread over [t0, t1] and the
 * minimum over threads is reported. */
void hb_pause_stats_compute(const hb_pause *ev, size_t n, uint64_t t0_ns, uint64_t t1_ns,
                            hb_pause_stats *out);
/* MMU(w) of one thread's pauses, sorted by start, over [t0, t1]. */
double hb_mmu(const hb_pause *ev, size_t n, uint64_t t0_ns, uint64_t t1_ns, uint64_t w_ns);

#endif
