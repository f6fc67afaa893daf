/* metrics.c -- see metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../workloads/latency.h"
#include "../collectors/collector.h"

void hb_buf_init(hb_buf *b, size_t rec)
{
    memset(b, 0, sizeof *b);
    b->rec = rec;
}

int hb_buf_push(hb_buf *b, const void *record)
{
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        void *p = mmap(NULL, cap * b->rec, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return ENOMEM;
        if (b->data) {
            memcpy(p, b->data, b->len * b->rec);
            munmap(b->data, b->cap * b->rec);
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy((char *)b->data + b->len * b->rec, record, b->rec);
    b->len++;
    return 0;
}

void hb_buf_free(hb_buf *b)
{
    if (b->data)
        munmap(b->data, b->cap * b->rec);
    hb_buf_init(b, b->rec);
}

int64_t hb_rss_now(void)
{
    /* statm is the cheapest way to read RSS: one short line, no parsing of
     * field names. Opened each time: a cell runs for at most minutes at 100
     * reads a second. */
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    unsigned long long size, resident;
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
        return -1;
    return (int64_t)resident * (int64_t)sysconf(_SC_PAGESIZE);
}

static void take_sample(hb_sampler *s)
{
    hb_rss_sample r = {0};
    r.ms = (hb_clock_ns() - s->t0_ns) / 1000000u;
    int64_t rss = hb_rss_now();
    r.rss_bytes = rss > 0 ? (uint64_t)rss : 0;
    r.live_bytes = -1;
    hb_alloc_stats st;
    if (s->alloc && s->alloc->stats(s->alloc_state, &st) == 0 && (st.have & HB_STAT_LIVE)) {
        r.live_bytes = (int64_t)st.live_bytes;
        if (r.live_bytes > s->peak_live)
            s->peak_live = r.live_bytes;
    }
    r.gc_live_bytes = -1;
    if (s->heaps) {
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->nheaps; i++)
            if (s->heaps[i])
                r.gc_live_bytes = (r.gc_live_bytes < 0 ? 0 : r.gc_live_bytes) + (int64_t)hb_heap_live_bytes(s->heaps[i]);
        pthread_mutex_unlock(&s->lock);
    }
    if (rss > 0)
        hb_buf_push(&s->samples, &r);
}

static void *sampler_main(void *arg)
{
    hb_sampler *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        pthread_mutex_unlock(&s->lock);
        take_sample(s);
        pthread_mutex_lock(&s->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)s->period_ms * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

void hb_sampler_heap(hb_sampler *s, size_t slot, struct hb_heap *h)
{
    if (!s->heaps || slot >= s->nheaps)
        return;
    pthread_mutex_lock(&s->lock);
    s->heaps[slot] = h;
    pthread_mutex_unlock(&s->lock);
}

int hb_sampler_start(hb_sampler *s, unsigned period_ms, const hb_allocator *a, void *as, size_t heap_slots)
{
    memset(s, 0, sizeof *s);
    hb_buf_init(&s->samples, sizeof(hb_rss_sample));
    s->period_ms = period_ms;
    s->alloc = a;
    s->alloc_state = as;
    s->peak_live = -1;
    s->t0_ns = hb_clock_ns();
    if (period_ms == 0)
        return 0;
    pthread_mutex_init(&s->lock, NULL);
    if (heap_slots) {
        /* mmap, like every harness buffer: never the heap being measured */
        void *p = mmap(NULL, heap_slots * sizeof *s->heaps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED)
            return ENOMEM;
        s->heaps = p;
        s->nheaps = heap_slots;
    }
    pthread_cond_init(&s->wake, NULL);
    int rc = pthread_create(&s->thread, NULL, sampler_main, s);
    if (rc == 0)
        s->running = 1;
    return rc;
}

void hb_sampler_stop(hb_sampler *s)
{
    if (!s->running)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->running = 0;
    take_sample(s); /* the state at the end, whatever the period */
    if (s->heaps)
        munmap(s->heaps, s->nheaps * sizeof *s->heaps);
    s->heaps = NULL;
}

const double hb_mmu_windows_ms[3] = {1, 10, 100};

/* Paused time in [0, x) for one thread's events (sorted by start, never
 * overlapping: a thread is in one pause at a time), from the prefix sums
 * cum[i] = total duration of events 0..i-1. */
static uint64_t paused_before(const hb_pause *ev, const uint64_t *cum, size_t n, uint64_t x)
{
    size_t lo = 0, hi = n; /* first event starting at or after x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ev[mid].start_ns < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    const hb_pause *last = &ev[lo - 1];
    uint64_t in_last = x - last->start_ns;
    return cum[lo - 1] + (in_last < last->duration_ns ? in_last : last->duration_ns);
}

double hb_mmu(const hb_pause *ev, size_t n, uint64_t t0, uint64_t t1, uint64_t w)
{
    if (t1 < t0 || t1 - t0 < w || w == 0)
        return -1;
    hb_buf cb;
    hb_buf_init(&cb, sizeof(uint64_t));
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (hb_buf_push(&cb, &acc))
            return -1;
        acc += ev[i].duration_ns;
    }
    const uint64_t *cum = cb.data;
    /* The least-utilised window starts where a pause starts or ends where a
     * pause ends (paused time is piecewise linear in the window's start, with
     * breaks only there), so only those starts, clamped to the run, and the
     * run's own start need checking. */
    uint64_t worst = paused_before(ev, cum, n, t0 + w) - paused_before(ev, cum, n, t0);
    for (size_t i = 0; i < n; i++) {
        uint64_t end = ev[i].start_ns + ev[i].duration_ns;
        uint64_t cands[2] = {ev[i].start_ns, end > w ? end - w : 0};
        for (int c = 0; c < 2; c++) {
            uint64_t a = cands[c];
            if (a < t0)
                a = t0;
            if (a > t1 - w)
                a = t1 - w;
            uint64_t p = paused_before(ev, cum, n, a + w) - paused_before(ev, cum, n, a);
            if (p > worst)
                worst = p;
        }
    }
    hb_buf_free(&cb);
    return 1.0 - (double)worst / (double)w;
}

static int by_duration(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int by_thread_start(const void *a, const void *b)
{
    const hb_pause *x = a, *y = b;
    if (x->thread != y->thread)
        return x->thread < y->thread ? -1 : 1;
    return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static double rank_us(const uint64_t *sorted, size_t n, double p)
{
    /* nearest rank ceil(p/100 * n), with p/100 * n computed as p * n / 100:
     * 99.9 / 100 * 1000 is 999.0000000000001 in doubles and would round up */
    size_t rank = (size_t)ceil(p * (double)n / 100.0 - 1e-9);
    if (rank < 1)
        rank = 1;
    return (double)sorted[rank - 1] / 1000.0;
}

void hb_pause_stats_compute(const hb_pause *ev, size_t n, uint64_t t0, uint64_t t1, hb_pause_stats *out)
{
    memset(out, 0, sizeof *out);
    out->count = n;
    out->max_auto_us = -1;
    for (int k = 0; k < 3; k++)
        out->mmu[k] = t1 - t0 >= (uint64_t)(hb_mmu_windows_ms[k] * 1e6) ? 1.0 : -1.0;
    if (n == 0)
        return;
    hb_buf d, e;
    hb_buf_init(&d, sizeof(uint64_t));
    hb_buf_init(&e, sizeof(hb_pause));
    uint64_t total = 0, max_auto = 0;
    int have_auto = 0;
    for (size_t i = 0; i < n; i++) {
        total += ev[i].duration_ns;
        if (!ev[i].is_explicit && (!have_auto || ev[i].duration_ns > max_auto)) {
            max_auto = ev[i].duration_ns;
            have_auto = 1;
        }
        if (hb_buf_push(&d, &ev[i].duration_ns) || hb_buf_push(&e, &ev[i])) {
            hb_buf_free(&d);
            hb_buf_free(&e);
            out->count = 0; /* cannot compute: leave every figure unset */
            for (int k = 0; k < 3; k++)
                out->mmu[k] = -1;
            return;
        }
    }
    uint64_t *dur = d.data;
    qsort(dur, n, sizeof *dur, by_duration);
    out->total_ms = (double)total / 1e6;
    out->p50_us = rank_us(dur, n, 50);
    out->p90_us = rank_us(dur, n, 90);
    out->p99_us = rank_us(dur, n, 99);
    out->p999_us = rank_us(dur, n, 99.9);
    out->max_us = (double)dur[n - 1] / 1000.0;
    out->max_auto_us = have_auto ? (double)max_auto / 1000.0 : -1;
    hb_pause *sorted = e.data;
    qsort(sorted, n, sizeof *sorted, by_thread_start);
    for (int k = 0; k < 3; k++) {
        uint64_t w = (uint64_t)(hb_mmu_windows_ms[k] * 1e6);
        double worst = out->mmu[k];
        for (size_t i = 0; i < n && worst >= 0;) {
            size_t j = i;
            while (j < n && sorted[j].thread == sorted[i].thread)
                j++;
            double m = hb_mmu(sorted + i, j - i, t0, t1, w);
            if (m < worst)
                worst = m;
            i = j;
        }
        out->mmu[k] = worst;
    }
    hb_buf_free(&d);
    hb_buf_free(&e);
}
