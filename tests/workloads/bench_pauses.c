/* bench_pauses.c -- a collector workload's pauses in the thread's CPU time
 * (a benchmark that prints, not a test).
 *
 * The harness times pauses by the wall clock, which is the right measure
 * and the wrong one on a shared machine: a collection descheduled for a
 * while looks that much longer. This runs one workload on one collector,
 * one thread, glibc, and times every call into the collector that ran a
 * collection (track, maybe_collect, collect: the collector's own functions,
 * wrapped) by CLOCK_THREAD_CPUTIME_ID, which stops while the thread waits.
 * What other tenants do to the caches still shows.
 *
 * usage: bench_pauses WORKLOAD COLLECTOR small|medium|large [KEY=VALUE...]
 * (KEY a parameter of the workload, or incremental_mark for rcinc)
 * prints: pauses, p50, p99 and max of their CPU time, the max of the
 * automatic ones (a call whose collection the collector scheduled: the
 * event's is_explicit 0; not hb_collect's), the largest number of objects
 * one pause examined, the heap's peak live bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workloads/workload.h"

#define MAXP (1u << 22)

static const hb_collector *base;
static uint64_t events, max_examined;
static int saw_auto; /* an automatic collection's event came */
static double *cpu, max_auto = -1;
static size_t n;

static double cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void hook(void *arg, const hb_gc_event *ev)
{
    (void)arg;
    events++;
    saw_auto |= !ev->is_explicit;
    if (ev->examined > max_examined)
        max_examined = ev->examined;
}

/* A call that ran a collection (an event came) is one pause. */
#define TIMED(call)                                                     \
    do {                                                                \
        uint64_t e0 = events;                                           \
        saw_auto = 0;                                                   \
        double t0 = cpu_ns();                                           \
        call;                                                           \
        double t1 = cpu_ns();                                           \
        if (events > e0 && n < MAXP)                                    \
            cpu[n++] = t1 - t0;                                         \
        if (saw_auto && t1 - t0 > max_auto)                             \
            max_auto = t1 - t0;                                         \
    } while (0)

static void w_track(hb_heap *h, hb_object *o) { TIMED(base->track(h, o)); }
static void w_maybe(hb_heap *h) { TIMED(base->maybe_collect(h)); }
static size_t w_collect(hb_heap *h, int g)
{
    size_t r;
    TIMED(r = base->collect(h, g));
    return r;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int size_of(const char *s, hb_size *out)
{
    static const char *const names[] = {"small", "medium", "large"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = (hb_size)i;
            return 0;
        }
    return 1;
}

int main(int argc, char **argv)
{
    hb_size size;
    if (argc < 4 || !(base = hb_collector_find(argv[2])) || size_of(argv[3], &size)) {
        fprintf(stderr, "usage: bench_pauses WORKLOAD COLLECTOR small|medium|large [KEY=VALUE...]\n");
        return 2;
    }
    const hb_workload *wl = hb_workload_find(argv[1]);
    const hb_allocator *a = hb_allocator_find("system");
    if (!wl || !wl->needs_collector || base->own_heap) {
        fprintf(stderr, "bench_pauses: '%s' is not a collector workload, or %s has its own heap\n",
                argv[1], argv[2]);
        return 2;
    }
    hb_collector c = *base;
    c.track = w_track;
    c.maybe_collect = w_maybe;
    c.collect = w_collect;
    void *as;
    if (a->init(&as, NULL) || !(cpu = malloc(MAXP * sizeof *cpu))) {
        fprintf(stderr, "bench_pauses: no memory\n");
        return 1;
    }
    hb_ctx ctx = {.alloc = a, .alloc_state = as, .collector = &c, .threads = 1, .size = size, .seed = 1};
    for (int i = 0; wl->params[i].name; i++)
        ctx.param[i] = wl->params[i].preset[size];
    int incremental_mark = 0;
    for (int k = 4; k < argc; k++) {
        char key[64] = "";
        long long v;
        int i = sscanf(argv[k], "%63[^=]=%lld", key, &v) == 2 ? hb_workload_param_index(wl, key) : -1;
        if (i < 0 && !strcmp(key, "incremental_mark") && (v == 0 || v == 1)) {
            incremental_mark = (int)v;
            continue;
        }
        if (i < 0) {
            fprintf(stderr, "bench_pauses: bad parameter '%s' for %s\n", argv[k], wl->name);
            return 2;
        }
        ctx.param[i] = v;
    }
    void *w;
    if (wl->setup(&ctx, &w)) {
        fprintf(stderr, "bench_pauses: %s setup failed\n", wl->name);
        return 1;
    }
    hb_heap_config cfg = {.alloc = a, .alloc_state = as, .hook = hook, .incremental_mark = incremental_mark};
    int ti = hb_workload_param_index(wl, "threshold");
    if (ti >= 0)
        cfg.threshold[0] = (long)ctx.param[ti];
    hb_counts counts = {0};
    hb_lat_init(&counts.lat, NULL, 0, 1);
    a->thread_attach(as);
    if (hb_heap_new(&counts.heap, &c, &cfg)) {
        fprintf(stderr, "bench_pauses: cannot make a %s heap\n", argv[2]);
        return 1;
    }
    double t0 = cpu_ns();
    int rc = wl->run(w, 0, &counts);
    double t1 = cpu_ns();
    uint64_t peak = counts.heap->peak_live_bytes;
    hb_heap_destroy(counts.heap);
    a->thread_detach(as);
    char err[256] = "";
    int bad = rc || wl->check(w, err, sizeof err);
    wl->teardown(w);
    a->destroy(as);
    if (bad || !n) {
        fprintf(stderr, "bench_pauses: %s on %s: %s\n", wl->name, argv[2], rc ? "run failed" : n ? err : "no pauses");
        return 1;
    }
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += cpu[i];
    qsort(cpu, n, sizeof *cpu, cmp);
    char autos[48] = "none";
    if (max_auto >= 0)
        snprintf(autos, sizeof autos, "%.1f us", max_auto / 1e3);
    printf("%s %s %s: run %.3f s CPU, %zu pauses, CPU p50 %.1f us, p99 %.1f us, max %.1f us, max automatic %s, "
           "total %.1f ms; largest pause examined %llu objects; peak live %.1f MiB\n",
           wl->name, argv[2], argv[3], (t1 - t0) / 1e9, n, cpu[n / 2] / 1e3, cpu[(size_t)((double)n * 0.99)] / 1e3,
           cpu[n - 1] / 1e3, autos, total / 1e6, (unsigned long long)max_examined, (double)peak / 1048576.0);
    free(cpu);
    return 0;
}
