/* cell.c -- one cell, in its own process: the allocator, the workload's
 * threads between a start barrier and the last join (the timed interval), the
 * self-check, and what the kernel says of the process's memory. */
#include "harness.h"

#include <hwloc.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

int hb_cell_resolve(hb_cell *c, const hb_param_kv *kv, size_t n)
{
    int i = 0;
    for (const hb_param_spec *s = c->workload->params; s && s->name; s++, i++) {
        c->param[i] = s->preset[c->size];
        c->overridden[i] = 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(kv[k].key, s->name) == 0) {
                if (kv[k].value < s->min || kv[k].value > s->max)
                    return 2;
                c->param[i] = kv[k].value;
                c->overridden[i] = 1;
            }
    }
    return 0;
}

void hb_cell_params_string(const hb_cell *c, int only_overridden, char *buf, size_t len)
{
    size_t at = 0;
    int i = 0;
    buf[0] = 0;
    for (const hb_param_spec *s = c->workload->params; s && s->name; s++, i++) {
        if (only_overridden && !c->overridden[i])
            continue;
        if (at < len)
            at += (size_t)snprintf(buf + at, len - at, "%s%s=%lld", at ? ";" : "", s->name,
                                   (long long)c->param[i]);
    }
    /* Collector settings set by --param are part of what the cell is. */
    static const char *const gc_names[] = {"threshold", "threshold1", "threshold2"};
    for (int g = 0; c->collector && g < 3; g++)
        if (c->gc.threshold[g] && hb_workload_param_index(c->workload, gc_names[g]) < 0 && at < len)
            at += (size_t)snprintf(buf + at, len - at, "%s%s=%ld", at ? ";" : "", gc_names[g], c->gc.threshold[g]);
    if (c->collector && c->gc.grow_pct && at < len)
        at += (size_t)snprintf(buf + at, len - at, "%sgrow_pct=%d", at ? ";" : "", c->gc.grow_pct);
    /* a heap factor names the cell (its KiB come from a search, and are in
     * the heap_limit_kb column); a limit given in KiB names it itself */
    if (c->collector && c->gc.heap_factor > 0 && at < len)
        at += (size_t)snprintf(buf + at, len - at, "%sheap_factor=%g", at ? ";" : "", c->gc.heap_factor);
    else if (c->collector && c->gc.heap_kb && at < len)
        at += (size_t)snprintf(buf + at, len - at, "%sheap_kb=%lld", at ? ";" : "", (long long)c->gc.heap_kb);
    if (c->collector && c->gc.garbage_ms && at < len)
        at += (size_t)snprintf(buf + at, len - at, "%sgarbage_ms=%d", at ? ";" : "", c->gc.garbage_ms);
    if (c->collector && c->gc.incremental_mark && at < len)
        at += (size_t)snprintf(buf + at, len - at, "%sincremental_mark=%d", at ? ";" : "", c->gc.incremental_mark);
    if (c->shared && at < len) /* how a shared heap counts is part of the cell */
        at += (size_t)snprintf(buf + at, len - at, "%srefcount=%s", at ? ";" : "",
                               c->gc.refcount == HB_RC_BIASED ? "biased" : "atomic");
}

void hb_cell_id(const hb_cell *c, char *buf, size_t len)
{
    char over[256];
    hb_cell_params_string(c, 1, over, sizeof over);
    snprintf(buf, len, "%s/%s/%s/%s/t%d/%s%s%s", c->workload->name, c->alloc_label ? c->alloc_label : c->alloc->name,
             c->collector ? c->collector->name : "none", c->shared ? "shared" : "isolated", c->threads,
             hb_size_name(c->size),
             over[0] ? "/" : "", over);
}

/* Cells a backend cannot run are skipped, not run: boehm's collector is one
 * heap per process, so isolated heaps (one per thread) need 1 thread -- its
 * shared heap takes any number, each thread registered with Boehm when it
 * attaches -- and a collector without shared-heap support cannot run
 * --heap shared. */
int hb_cell_unrunnable(const hb_cell *c)
{
    if (hb_cpython_unrunnable(c, NULL, 0))
        return 1;
    if (!c->collector)
        return 0;
    if (c->shared)
        return !c->collector->shared_ok;
    return strcmp(c->collector->name, "boehm") == 0 && c->threads > 1;
}

typedef struct worker {
    pthread_t tid_handle;
    int tid;
    const hb_cell *cell;
    hb_ctx *ctx;
    void *w;
    pthread_barrier_t *start;
    hwloc_topology_t topo; /* NULL: not pinned */
    hwloc_const_cpuset_t cpu;
    hb_counts counts;
    hb_hist *hist;
    double t_start, t_end; /* this thread's own clock readings */
    int rc;
    /* collector cells: this thread's pauses and its heap's figures */
    hb_buf pauses;       /* hb_pause, appended by the heap's hook */
    int recording;       /* the hook records only during the timed run */
    int64_t collected, leaked_objects, leaked_bytes, peak_live;
    uint64_t gc_ns_own, gc_count_own; /* the heap's own totals over the timed run */
    hb_gen_stats gen[HB_GENERATIONS];  /* and its gc.get_stats() at the run's end */
    hb_buf probes;       /* hb_probe: the garbage probes of the timed run */
    char heap_error[160];
    hb_sampler *sampler; /* where this thread's heap is shown while it lives */
    hb_heap *shared;     /* --heap shared: the one heap, made by the main thread */
} worker;

/* --heap shared: the pauses of the one heap, from whichever thread
 * collects. A stop-the-world pause stops every thread, so its events count
 * as one timeline (thread 0) for MMU. */
typedef struct shared_sink {
    pthread_mutex_t lock;
    hb_buf pauses;
    int recording, failed;
} shared_sink;

/* A heap's event as the pause of `thread` the harness records. */
static hb_pause pause_of(const hb_gc_event *ev, int thread)
{
    return (hb_pause){.start_ns = ev->start_ns, .duration_ns = ev->duration_ns, .ttsp_ns = ev->ttsp_ns,
                      .generation = ev->generation, .thread = thread, .examined = ev->examined,
                      .freed = ev->freed, .is_explicit = ev->is_explicit};
}

static void on_shared_event(void *arg, const hb_gc_event *ev)
{
    shared_sink *s = arg;
    pthread_mutex_lock(&s->lock);
    if (s->recording) {
        hb_pause p = pause_of(ev, 0);
        if (hb_buf_push(&s->pauses, &p))
            s->failed = 1;
    }
    pthread_mutex_unlock(&s->lock);
}

/* One garbage probe (collector.h): when, how long its trace took, what it
 * found. */
typedef struct hb_probe {
    uint64_t at_ns, took_ns, bytes;
} hb_probe;

static void on_garbage(void *arg, uint64_t at_ns, uint64_t took_ns, uint64_t objects, uint64_t bytes, int rc)
{
    worker *k = arg;
    (void)objects;
    if (!k->recording)
        return;
    if (rc) {
        if (k->rc == 0) {
            k->rc = rc;
            snprintf(k->heap_error, sizeof k->heap_error, "garbage probe: the verifying trace failed: %s",
                     strerror(rc));
        }
        return;
    }
    hb_probe p = {at_ns, took_ns, bytes};
    if (hb_buf_push(&k->probes, &p) && k->rc == 0)
        k->rc = ENOMEM;
}

/* The heap's event hook: one pause, on this worker's own list (no lock: a
 * heap belongs to one thread). */
static void on_gc_event(void *arg, const hb_gc_event *ev)
{
    worker *k = arg;
    if (!k->recording)
        return;
    hb_pause p = pause_of(ev, k->tid);
    if (hb_buf_push(&k->pauses, &p) && k->rc == 0)
        k->rc = ENOMEM;
}

/* The cell's child (hb_cell_main): where its report goes, for on_oom. */
static int report_fd = -1;
static const hb_cell *report_cell;

static int send_out(int fd, const hb_cell_out *o);

/* The heap ran out under the cell's limit: the cell's report is an `oom`
 * row, sent now, and the process ends (the workload cannot go on without
 * the memory, and a NULL it was never written to expect would crash it).
 * One thread reports; another that runs out meanwhile waits for the end. */
static void on_oom(void *arg, size_t asked, uint64_t used, uint64_t limit)
{
    static int once;
    (void)arg;
    if (report_fd < 0)
        return; /* not a cell's child: the allocation fails with ENOMEM */
    if (__atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL))
        for (;;)
            pause();
    hb_cell_out o;
    hb_cell_out_init(&o, report_cell);
    o.r.status = HB_ST_OOM;
    if (asked)
        snprintf(o.r.error, sizeof o.r.error,
                 "out of memory under the heap limit of %llu KiB: %llu KiB in use after a full collection, "
                 "%zu bytes more asked", (unsigned long long)(limit >> 10), (unsigned long long)(used >> 10), asked);
    else
        snprintf(o.r.error, sizeof o.r.error,
                 "out of memory under the heap limit of %llu KiB: collections in a row left too little of it "
                 "free (%llu KiB survived the last)", (unsigned long long)(limit >> 10), (unsigned long long)(used >> 10));
    _exit(send_out(report_fd, &o) ? 3 : 0);
}

static void heap_config(const hb_cell *c, void *alloc_state, hb_heap_config *out)
{
    hb_heap_config cfg = {0};
    cfg.alloc = c->alloc;
    cfg.alloc_state = alloc_state;
    for (int g = 0; g < 3; g++)
        cfg.threshold[g] = c->gc.threshold[g];
    /* A workload's own `threshold` parameter (generational sweeps it) is the
     * collector's threshold0. */
    int ti = hb_workload_param_index(c->workload, "threshold");
    if (ti >= 0)
        cfg.threshold[0] = (long)c->param[ti];
    cfg.grow = c->gc.grow_pct ? c->gc.grow_pct / 100.0 : 0;
    cfg.shared = c->shared;
    cfg.refcount_mode = c->gc.refcount;
    cfg.max_heap = (size_t)c->gc.heap_kb << 10;
    cfg.incremental_mark = c->gc.incremental_mark;
    cfg.oom_hook = on_oom;
    *out = cfg;
}

static int make_heap(worker *k, hb_heap **out)
{
    const hb_cell *c = k->cell;
    hb_heap_config cfg;
    heap_config(c, k->ctx->alloc_state, &cfg);
    cfg.hook = on_gc_event;
    cfg.hook_arg = k;
    cfg.garbage_every_ns = (uint64_t)c->gc.garbage_ms * 1000000u;
    cfg.garbage_hook = on_garbage;
    int rc = hb_heap_new(out, c->collector, &cfg);
    if (rc)
        snprintf(k->heap_error, sizeof k->heap_error, "%s: cannot make a heap on thread %d: %s",
                 c->collector->name, k->tid, strerror(rc));
    return rc;
}

/* After the timed run, untimed: what the heap collected, then what leaked.
 * For collectors that find garbage, a last full collection (not recorded
 * as a pause) runs first, so `leaked` means what no collection would ever
 * free; under rc that is the cyclic garbage. A backend with its own object
 * heap (boehm) can neither count its garbage nor be walked: -1, empty
 * fields. On a shared heap the calling thread attaches for the collection. */
static void heap_figures(hb_heap *h, int shared, int64_t *collected, int64_t *leaked_objects,
                         int64_t *leaked_bytes)
{
    int own = h->collector->own_heap;
    *collected = own ? -1 : (int64_t)h->collected_objects;
    *leaked_objects = *leaked_bytes = -1;
    if (own)
        return;
    if (h->collector->generations > 0) {
        if (!shared) {
            hb_collect(h, -1);
        } else if (hb_mutator_attach(h) == 0) {
            hb_collect(h, -1);
            hb_mutator_detach(h);
        }
    }
    uint64_t objs, bytes;
    if (hb_heap_leaks(h, &objs, &bytes) == 0) {
        *leaked_objects = (int64_t)objs;
        *leaked_bytes = (int64_t)bytes;
    }
}

static void close_heap(worker *k, hb_heap *h)
{
    k->recording = 0;
    k->peak_live = (int64_t)h->peak_live_bytes;
    heap_figures(h, 0, &k->collected, &k->leaked_objects, &k->leaked_bytes);
    hb_heap_destroy(h);
}

static void *worker_main(void *arg)
{
    worker *k = arg;
    const hb_allocator *a = k->cell->alloc;
    if (k->topo && hwloc_set_cpubind(k->topo, k->cpu, HWLOC_CPUBIND_THREAD) != 0)
        k->rc = errno ? errno : EINVAL;
    if (k->rc == 0)
        k->rc = a->thread_attach(k->ctx->alloc_state);
    hb_lat_init(&k->counts.lat, k->hist, k->cell->m.lat_every,
                k->ctx->seed ^ ((uint64_t)(k->tid + 1) << 32));
    hb_buf_init(&k->pauses, sizeof(hb_pause));
    hb_buf_init(&k->probes, sizeof(hb_probe));
    hb_heap *heap = NULL;
    if (k->shared) {
        /* no heap of its own: the shared heap's figures are the cell's */
        k->collected = k->leaked_objects = k->leaked_bytes = -1;
        if (k->rc == 0 && (k->rc = hb_mutator_attach(k->shared)) == 0)
            k->counts.heap = k->shared;
        else
            snprintf(k->heap_error, sizeof k->heap_error, "thread %d cannot attach to the shared heap: %s",
                     k->tid, strerror(k->rc));
    } else {
        if (k->rc == 0 && k->cell->collector && (k->rc = make_heap(k, &heap)) != 0)
            heap = NULL;
        k->counts.heap = heap;
    }
    if (heap)
        hb_sampler_heap(k->sampler, (size_t)k->tid, heap);
    k->recording = 1;
    uint64_t ns0 = heap ? heap->gc_ns_total : 0, n0 = heap ? heap->collections : 0;
    pthread_barrier_wait(k->start);
    k->t_start = hb_now();
    if (k->rc == 0)
        k->rc = k->cell->workload->run(k->w, k->tid, &k->counts);
    k->t_end = hb_now();
    if (heap) {
        k->gc_ns_own = heap->gc_ns_total - ns0;
        k->gc_count_own = heap->collections - n0;
        for (int g = 0; g < HB_GENERATIONS; g++) /* a new heap's start at 0 */
            hb_gc_get_stats(heap, g, &k->gen[g]);
    }
    if (heap) {
        hb_sampler_heap(k->sampler, (size_t)k->tid, NULL); /* before it goes */
        close_heap(k, heap);
    }
    if (k->shared && k->counts.heap)
        hb_mutator_detach(k->shared);
    a->thread_detach(k->ctx->alloc_state);
    return NULL;
}

/* The thread of the cell's first thread exit (see its caller). */
static void *first_exit(void *arg)
{
    return arg;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* Chooses a CPU set per worker: distinct cores while there are enough, then
 * distinct PUs (hyperthreads), then PUs shared, and says which in `pinned`. */
static int plan_pinning(hwloc_topology_t topo, worker *ks, int n, char *pinned, size_t len)
{
    int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    if (pus <= 0)
        return ENOTSUP;
    for (int t = 0; t < n; t++) {
        hwloc_obj_t o;
        if (cores > 0 && n <= cores) {
            hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)t);
            o = hwloc_get_obj_inside_cpuset_by_type(topo, core->cpuset, HWLOC_OBJ_PU, 0);
        } else {
            o = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)(t % pus));
        }
        if (!o)
            return ENOTSUP;
        ks[t].topo = topo;
        ks[t].cpu = o->cpuset;
    }
    if (cores > 0 && n <= cores)
        snprintf(pinned, len, "yes");
    else if (n <= pus)
        snprintf(pinned, len, "yes: %d threads on %d PUs of %d cores", n, pus, cores);
    else
        snprintf(pinned, len, "shared: %d threads on %d PUs", n, pus);
    return 0;
}

static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void fail(hb_result *r, const char *fmt, const char *a, const char *b)
{
    r->status = HB_ST_FAILED;
    snprintf(r->error, sizeof r->error, fmt, a, b);
}

void hb_cell_out_init(hb_cell_out *o, const hb_cell *c)
{
    hb_result *r = &o->r;
    memset(r, 0, sizeof *r);
    hb_buf_init(&o->rss, sizeof(hb_rss_sample));
    hb_buf_init(&o->pauses, sizeof(hb_pause));
    /* -1: not measured, so never printed as a number */
    r->peak_rss_kb = r->final_rss_kb = r->peak_live_bytes = -1;
    r->collected_objects = r->leaked_objects = r->leaked_bytes = -1;
    r->garbage_mean_bytes = r->garbage_max_bytes = -1;
    r->maxrss_kb = r->minflt = r->majflt = r->nvcsw = r->nivcsw = -1;
    r->figure = r->harness_cpu_s = -1;
    r->host_slow = -1;
    r->retakes = -1;
    snprintf(r->pinned, sizeof r->pinned, "%s", c->m.pin ? "yes" : "no");
}

void hb_cell_run(const hb_cell *c, hb_cell_out *o)
{
    hb_cell_out_init(o, c);
    hb_result *r = &o->r;
    snprintf(r->pinned, sizeof r->pinned, "no"); /* until the threads are placed */
    const hb_workload *wl = c->workload;
    if (c->threads < wl->min_threads) {
        r->status = HB_ST_SKIPPED;
        snprintf(r->error, sizeof r->error, "%s needs at least %d threads", wl->name, wl->min_threads);
        return;
    }
    if (hb_cpython_unrunnable(c, r->error, sizeof r->error)) {
        r->status = HB_ST_SKIPPED;
        return;
    }
    if (hb_cell_unrunnable(c)) {
        r->status = HB_ST_SKIPPED;
        if (c->shared)
            snprintf(r->error, sizeof r->error, "%s has no shared-heap support", c->collector->name);
        else
            snprintf(r->error, sizeof r->error, "boehm has one heap per process: isolated heaps need 1 thread");
        return;
    }
    /* A thread started and joined before anything is measured: a process's
     * first thread exit raises its RSS by 128-192 KB (measured on Debian
     * 12's glibc, with no malloc in the thread; later exits by nothing).
     * Left to the workers' exits, that lands after the run, on the peak of
     * an allocator that keeps its memory to the end and not on one that
     * gives it back at thread exit (jemalloc): 2% of churn's peak. Here it
     * is in every cell's baseline alike. */
    pthread_t first;
    if (pthread_create(&first, NULL, first_exit, NULL) == 0)
        pthread_join(first, NULL);
    hb_ctx ctx = {0};
    ctx.alloc = c->alloc;
    ctx.collector = c->collector;
    ctx.threads = c->threads;
    ctx.size = c->size;
    ctx.seed = c->seed;
    memcpy(ctx.param, c->param, sizeof ctx.param);
    int rc = c->alloc->init(&ctx.alloc_state, NULL);
    if (rc) {
        fail(r, "allocator %s: init failed: %s", c->alloc->name, strerror(rc));
        return;
    }
    /* Harness memory comes from mmap, never from the allocator under test
     * nor from glibc's heap (which is the `system` backend). */
    worker *ks = map_zeroed((size_t)c->threads * sizeof *ks);
    hb_hist *hists = c->m.lat_every ? map_zeroed((size_t)c->threads * sizeof(hb_hist)) : NULL;
    if (!ks || (c->m.lat_every && !hists)) {
        fail(r, "cannot map bookkeeping for %s threads%s", "the", "");
        return;
    }
    hwloc_topology_t topo = NULL;
    if (c->m.pin) {
        if (hwloc_topology_init(&topo) || hwloc_topology_load(topo) ||
            plan_pinning(topo, ks, c->threads, r->pinned, sizeof r->pinned)) {
            fail(r, "--pin: cannot read the topology with hwloc%s%s", "", "");
            return;
        }
    }
    hb_sampler sampler;
    if ((rc = hb_sampler_start(&sampler, c->m.sample_ms, c->alloc, ctx.alloc_state,
                               c->collector ? (size_t)c->threads : 0)) != 0) {
        fail(r, "cannot start the RSS sampler: %s%s", strerror(rc), "");
        return;
    }
    r->t0_ns = sampler.t0_ns;
    void *w = NULL;
    if ((rc = wl->setup(&ctx, &w)) != 0) {
        hb_sampler_stop(&sampler);
        fail(r, "%s setup failed: %s", wl->name, strerror(rc));
        return;
    }
    /* --heap shared: the main thread makes the one heap; workers attach. */
    static shared_sink sink;
    hb_heap *shared = NULL;
    uint64_t shared_ns0 = 0, shared_n0 = 0;
    if (c->shared) {
        pthread_mutex_init(&sink.lock, NULL);
        hb_buf_init(&sink.pauses, sizeof(hb_pause));
        sink.recording = 1;
        hb_heap_config cfg;
        heap_config(c, ctx.alloc_state, &cfg);
        cfg.hook = on_shared_event;
        cfg.hook_arg = &sink;
        if ((rc = hb_heap_new(&shared, c->collector, &cfg)) != 0) {
            fail(r, "%s: cannot make a shared heap: %s", c->collector->name, strerror(rc));
            return;
        }
        hb_sampler_heap(&sampler, 0, shared);
        shared_ns0 = shared->gc_ns_total;
        shared_n0 = shared->collections;
    }
    pthread_barrier_t start;
    if (pthread_barrier_init(&start, NULL, (unsigned)c->threads + 1)) {
        fail(r, "cannot make a barrier for %s threads%s", "the", "");
        return;
    }
    for (int t = 0; t < c->threads; t++) {
        hwloc_topology_t tp = ks[t].topo;
        hwloc_const_cpuset_t cpu = ks[t].cpu;
        ks[t] = (worker){.tid = t, .cell = c, .ctx = &ctx, .w = w, .start = &start, .topo = tp,
                         .cpu = cpu, .hist = hists ? &hists[t] : NULL, .sampler = &sampler, .shared = shared};
        if ((rc = pthread_create(&ks[t].tid_handle, NULL, worker_main, &ks[t])) != 0) {
            /* The barrier can never open now: report, do not hang. */
            fprintf(stderr, "heapbench: cannot start thread %d of %d: %s\n", t, c->threads, strerror(rc));
            _exit(3);
        }
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    pthread_barrier_wait(&start);
    for (int t = 0; t < c->threads; t++)
        pthread_join(ks[t].tid_handle, NULL);
    getrusage(RUSAGE_SELF, &ru1);
    pthread_barrier_destroy(&start);

    /* Wall time is read by the workers themselves, from the first to leave
     * the barrier to the last to finish: the main thread may be descheduled
     * right after the barrier, and its own clock would then miss the run. */
    double t0 = ks[0].t_start, t1 = ks[0].t_end;
    for (int t = 1; t < c->threads; t++) {
        if (ks[t].t_start < t0)
            t0 = ks[t].t_start;
        if (ks[t].t_end > t1)
            t1 = ks[t].t_end;
    }
    r->wall_s = t1 - t0;
    r->user_s = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
    r->sys_s = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
    r->minflt = ru1.ru_minflt - ru0.ru_minflt;
    r->majflt = ru1.ru_majflt - ru0.ru_majflt;
    r->nvcsw = ru1.ru_nvcsw - ru0.ru_nvcsw;
    r->nivcsw = ru1.ru_nivcsw - ru0.ru_nivcsw;
    r->maxrss_kb = ru1.ru_maxrss;
    r->status = HB_ST_OK;
    r->collected_objects = r->leaked_objects = r->leaked_bytes = -1;
    int64_t gc_peak = 0;
    uint64_t probe_ns = 0; /* the most any thread spent in garbage probes */
    for (int t = 0; t < c->threads; t++) {
        r->counts.ops += ks[t].counts.ops;
        r->counts.allocs += ks[t].counts.allocs;
        r->counts.frees += ks[t].counts.frees;
        if (ks[t].rc && r->status == HB_ST_OK) {
            r->status = HB_ST_FAILED;
            if (ks[t].heap_error[0])
                snprintf(r->error, sizeof r->error, "%s", ks[t].heap_error);
            else
                snprintf(r->error, sizeof r->error, "%s thread %d failed: %s", wl->name, t, strerror(ks[t].rc));
        }
        if (c->collector) {
            /* The garbage probes' traces ran on this thread: its pauses
             * move back by the probe time before each, so the timeline (and
             * MMU) is the run's without them. */
            const hb_probe *pr = ks[t].probes.data;
            size_t np = ks[t].probes.len, j = 0;
            uint64_t shift = 0, sum = 0, max = 0;
            for (size_t i = 0; i < ks[t].pauses.len; i++) {
                hb_pause p = ((const hb_pause *)ks[t].pauses.data)[i];
                for (; j < np && pr[j].at_ns < p.start_ns; j++)
                    shift += pr[j].took_ns;
                p.start_ns -= shift;
                hb_buf_push(&o->pauses, &p);
            }
            hb_buf_free(&ks[t].pauses);
            shift = 0;
            for (j = 0; j < np; j++) {
                shift += pr[j].took_ns;
                sum += pr[j].bytes;
                max = pr[j].bytes > max ? pr[j].bytes : max;
            }
            if (np) {
                /* per-thread heaps: the cell's garbage is their sum (of
                 * maxima: a bound from above, as for peak_live) */
                r->garbage_mean_bytes = (r->garbage_mean_bytes < 0 ? 0 : r->garbage_mean_bytes) + (int64_t)(sum / np);
                r->garbage_max_bytes = (r->garbage_max_bytes < 0 ? 0 : r->garbage_max_bytes) + (int64_t)max;
                r->garbage_probes += np;
            }
            probe_ns = shift > probe_ns ? shift : probe_ns;
            hb_buf_free(&ks[t].probes);
            /* per-thread heaps: the cell's figures are their sums (a sum of
             * peaks bounds the peak of the sum from above) */
            if (ks[t].collected >= 0)
                r->collected_objects = (r->collected_objects < 0 ? 0 : r->collected_objects) + ks[t].collected;
            gc_peak += ks[t].peak_live;
            r->gc_own_ms += (double)ks[t].gc_ns_own / 1e6;
            r->gc_own_count += ks[t].gc_count_own;
            for (int g = 0; g < HB_GENERATIONS; g++) {
                r->gen_stats[g].collections += ks[t].gen[g].collections;
                r->gen_stats[g].collected += ks[t].gen[g].collected;
                r->gen_stats[g].uncollectable += ks[t].gen[g].uncollectable;
            }
            if (ks[t].leaked_objects >= 0) {
                r->leaked_objects = (r->leaked_objects < 0 ? 0 : r->leaked_objects) + ks[t].leaked_objects;
                r->leaked_bytes = (r->leaked_bytes < 0 ? 0 : r->leaked_bytes) + ks[t].leaked_bytes;
            }
        }
    }
    if (shared) {
        /* untimed, as for isolated heaps: its figures, one last collection
         * (by an attached main thread), the leak trace, then it goes */
        pthread_mutex_lock(&sink.lock);
        sink.recording = 0;
        pthread_mutex_unlock(&sink.lock);
        r->gc_own_ms = (double)(shared->gc_ns_total - shared_ns0) / 1e6;
        r->gc_own_count = shared->collections - shared_n0;
        for (int g = 0; g < HB_GENERATIONS; g++)
            hb_gc_get_stats(shared, g, &r->gen_stats[g]);
        for (size_t i = 0; i < sink.pauses.len; i++)
            hb_buf_push(&o->pauses, (const hb_pause *)sink.pauses.data + i);
        if (sink.failed && r->status == HB_ST_OK) {
            r->status = HB_ST_FAILED;
            snprintf(r->error, sizeof r->error, "cannot record the shared heap's pauses: out of memory");
        }
        hb_buf_free(&sink.pauses);
        gc_peak = (int64_t)shared->peak_live_bytes;
        heap_figures(shared, 1, &r->collected_objects, &r->leaked_objects, &r->leaked_bytes);
        hb_sampler_heap(&sampler, 0, NULL);
        hb_heap_destroy(shared);
    }
    if (c->collector && r->status == HB_ST_OK && o->pauses.len != r->gc_own_count) {
        /* every collection is an event: a difference means the harness lost
         * some, and the pause figures would be wrong */
        r->status = HB_ST_FAILED;
        snprintf(r->error, sizeof r->error, "%zu pause events recorded but the collector counted %llu collections",
                 o->pauses.len, (unsigned long long)r->gc_own_count);
    }
    r->wall_s -= (double)probe_ns / 1e9; /* the probes are not the workload's time */
    if (c->collector) {
        r->have_gen_stats = !c->collector->own_heap; /* boehm keeps none */
        r->have_pauses = 1;
        hb_pause_stats_compute(o->pauses.data, o->pauses.len, (uint64_t)(t0 * 1e9),
                               (uint64_t)(t1 * 1e9) - probe_ns, &r->pauses);
    }
    if (hists) {
        for (int t = 1; t < c->threads; t++)
            hb_hist_merge(&hists[0], &hists[t]);
        r->lat_count = hists[0].count;
        r->lat_p50_ns = hb_hist_percentile(&hists[0], 50);
        r->lat_p90_ns = hb_hist_percentile(&hists[0], 90);
        r->lat_p99_ns = hb_hist_percentile(&hists[0], 99);
        r->lat_p999_ns = hb_hist_percentile(&hists[0], 99.9);
        r->lat_max_ns = hists[0].max;
        munmap(hists, (size_t)c->threads * sizeof(hb_hist));
    }
    munmap(ks, (size_t)c->threads * sizeof *ks);
    if (r->status == HB_ST_OK) {
        char err[200] = "";
        if (wl->check(w, err, sizeof err) != 0) {
            r->status = HB_ST_FAILED;
            snprintf(r->error, sizeof r->error, "self-check failed: %s", err[0] ? err : "(no detail)");
        }
    }
    wl->teardown(w);
    hb_sampler_stop(&sampler);
    o->rss = sampler.samples;
    /* A peak read off a 10 ms sampler means something only if the sampler
     * saw the run: with fewer than two samples inside it (a run shorter than
     * two periods) the column stays empty rather than report the setup's or
     * the teardown's figure as the peak. */
    uint64_t run0 = (uint64_t)(t0 * 1e9), run1 = (uint64_t)(t1 * 1e9);
    size_t inside = 0;
    for (size_t i = 0; i < o->rss.len; i++) {
        uint64_t at = sampler.t0_ns + ((const hb_rss_sample *)o->rss.data)[i].ms * 1000000u;
        inside += at >= run0 && at <= run1;
    }
    r->peak_live_bytes = inside >= 2 ? sampler.peak_live : -1;
    if (c->collector && !c->collector->own_heap)
        r->peak_live_bytes = gc_peak; /* the heap's own exact count */
    /* After teardown everything is freed: what the process still holds is
     * what the allocator kept from the OS. VmHWM is the kernel's peak. */
    r->final_rss_kb = hb_proc_status_kb("VmRSS");
    r->peak_rss_kb = hb_proc_status_kb("VmHWM");
    if (r->peak_rss_kb < 0 && r->status == HB_ST_OK) {
        r->status = HB_ST_FAILED;
        snprintf(r->error, sizeof r->error, "cannot read VmHWM from /proc/self/status");
    }
    if (topo)
        hwloc_topology_destroy(topo);
    c->alloc->destroy(ctx.alloc_state);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *q = p;
    while (n) {
        ssize_t k = write(fd, q, n);
        if (k <= 0)
            return -1;
        q += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The child's report: the result, then each series as a count and records. */
static int send_out(int fd, const hb_cell_out *o)
{
    uint64_t nr = o->rss.len, np = o->pauses.len;
    if (write_all(fd, &o->r, sizeof o->r) || write_all(fd, &nr, sizeof nr) ||
        (nr && write_all(fd, o->rss.data, nr * sizeof(hb_rss_sample))) || write_all(fd, &np, sizeof np) ||
        (np && write_all(fd, o->pauses.data, np * sizeof(hb_pause))))
        return -1;
    return 0;
}

/* Before anything is measured: whether the malloc this process calls is the
 * allocator the row will name. For a library (LIB, preloaded by the
 * runner), that it comes from the library: a preload that did not take
 * would benchmark glibc under the library's name. For `system`, that it is
 * glibc's: an LD_PRELOAD inherited from the shell would put another malloc
 * under glibc's name. Sanitizer builds replace malloc themselves, so
 * `system` is not checked there. 0, or 1 with the reason in r. */
static int check_malloc(const hb_cell *c, const char *lib_path, hb_result *r)
{
    hb_alloc_lib lib = {0};
    int preloaded = strcmp(lib_path, "-") != 0;
    if (!preloaded && strcmp(c->alloc->name, "system") != 0)
        return 0; /* a backend compiled in: it does not go through malloc */
#ifdef HB_SANITIZER
    if (!preloaded)
        return 0;
#endif
    if (preloaded)
        snprintf(lib.path, sizeof lib.path, "%s", lib_path);
    char why[sizeof r->error - 32];
    if (hb_alloc_lib_verify(&lib, why, sizeof why) == 0)
        return 0;
    r->status = HB_ST_FAILED;
    snprintf(r->error, sizeof r->error, "allocator %s: %s", c->alloc_label, why);
    return 1;
}

/* __cell FD ALLOCATOR WORKLOAD THREADS SIZE REP SEED LAT_EVERY SAMPLE_MS PIN
 *        COLLECTOR ALLOC_LABEL T0,T1,T2,GROW_PCT,REFCOUNT,SHARED,GARBAGE_MS,HEAP_KB LIB [PARAM...]
 * LIB: the path of the preloaded allocator library, or "-". */
int hb_cell_main(int argc, char **argv)
{
    if (argc < 14) {
        fprintf(stderr, "heapbench __cell: internal use only\n");
        return 2;
    }
    hb_cell c = {0};
    long long heap_kb = 0;
    int fd = atoi(argv[0]);
    c.alloc = hb_allocator_find(argv[1]);
    c.workload = hb_workload_find(argv[2]);
    c.threads = atoi(argv[3]);
    if (!c.alloc || !c.workload || hb_size_parse(argv[4], &c.size) || c.threads < 1) {
        fprintf(stderr, "heapbench __cell: bad cell description\n");
        return 2;
    }
    c.rep = atoi(argv[5]);
    c.seed = strtoull(argv[6], NULL, 10);
    c.m.lat_every = (unsigned)strtoul(argv[7], NULL, 10);
    c.m.sample_ms = (unsigned)strtoul(argv[8], NULL, 10);
    c.m.pin = atoi(argv[9]);
    c.collector = strcmp(argv[10], "none") ? hb_collector_find(argv[10]) : NULL;
    c.alloc_label = argv[11];
    if ((strcmp(argv[10], "none") && !c.collector) ||
        sscanf(argv[12], "%ld,%ld,%ld,%d,%d,%d,%d,%lld,%d", &c.gc.threshold[0], &c.gc.threshold[1],
               &c.gc.threshold[2], &c.gc.grow_pct, &c.gc.refcount, &c.shared, &c.gc.garbage_ms, &heap_kb,
               &c.gc.incremental_mark) != 9 || heap_kb < 0) {
        fprintf(stderr, "heapbench __cell: bad collector description\n");
        return 2;
    }
    c.gc.heap_kb = heap_kb;
    for (int i = 14; i < argc && i - 14 < HB_MAX_PARAMS; i++)
        c.param[i - 14] = strtoll(argv[i], NULL, 10);
    report_fd = fd;
    report_cell = &c;
    hb_cell_out o;
    hb_cell_out_init(&o, &c);
    if (!check_malloc(&c, argv[13], &o.r))
        hb_cell_run(&c, &o);
    return send_out(fd, &o) ? 3 : 0;
}
