/* cell.c -- one cell, in its own process: the allocator, the workload's
 * threads between a start barrier and the last join (the timed interval), the
 * self-check, and what the kernel says of the process's memory. */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
}

void hb_cell_id(const hb_cell *c, char *buf, size_t len)
{
    char over[256];
    hb_cell_params_string(c, 1, over, sizeof over);
    snprintf(buf, len, "%s/%s/%s/%s/t%d/%s%s%s", c->workload->name, c->alloc->name, "none",
             "isolated", c->threads, hb_size_name(c->size), over[0] ? "/" : "", over);
}

typedef struct worker {
    pthread_t tid_handle;
    int tid;
    const hb_cell *cell;
    hb_ctx *ctx;
    void *w;
    pthread_barrier_t *start;
    hb_counts counts;
    double t_start, t_end; /* this thread's own clock readings */
    int rc;
} worker;

static void *worker_main(void *arg)
{
    worker *k = arg;
    const hb_allocator *a = k->cell->alloc;
    k->rc = a->thread_attach(k->ctx->alloc_state);
    pthread_barrier_wait(k->start);
    k->t_start = hb_now();
    if (k->rc == 0)
        k->rc = k->cell->workload->run(k->w, k->tid, &k->counts);
    k->t_end = hb_now();
    a->thread_detach(k->ctx->alloc_state);
    return NULL;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

void hb_cell_run(const hb_cell *c, hb_result *r)
{
    memset(r, 0, sizeof *r);
    r->peak_rss_kb = r->final_rss_kb = -1;
    const hb_workload *wl = c->workload;
    if (c->threads < wl->min_threads) {
        r->status = HB_ST_SKIPPED;
        snprintf(r->error, sizeof r->error, "%s needs at least %d threads", wl->name, wl->min_threads);
        return;
    }
    hb_ctx ctx = {0};
    ctx.alloc = c->alloc;
    ctx.threads = c->threads;
    ctx.size = c->size;
    ctx.seed = c->seed;
    memcpy(ctx.param, c->param, sizeof ctx.param);
    int rc = c->alloc->init(&ctx.alloc_state, NULL);
    if (rc) {
        r->status = HB_ST_FAILED;
        snprintf(r->error, sizeof r->error, "allocator %s: init failed: %s", c->alloc->name, strerror(rc));
        return;
    }
    void *w = NULL;
    if ((rc = wl->setup(&ctx, &w)) != 0) {
        r->status = HB_ST_FAILED;
        snprintf(r->error, sizeof r->error, "%s setup failed: %s", wl->name, strerror(rc));
        return;
    }
    worker *ks = calloc((size_t)c->threads, sizeof *ks);
    pthread_barrier_t start;
    if (!ks || pthread_barrier_init(&start, NULL, (unsigned)c->threads + 1)) {
        r->status = HB_ST_FAILED;
        snprintf(r->error, sizeof r->error, "cannot allocate %d worker slots", c->threads);
        return;
    }
    int started = 0;
    for (int t = 0; t < c->threads; t++) {
        ks[t] = (worker){.tid = t, .cell = c, .ctx = &ctx, .w = w, .start = &start};
        if ((rc = pthread_create(&ks[t].tid_handle, NULL, worker_main, &ks[t])) != 0) {
            /* The barrier can never open now: report, do not hang. */
            fprintf(stderr, "heapbench: cannot start thread %d of %d: %s\n", t, c->threads, strerror(rc));
            _exit(3);
        }
        started++;
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    pthread_barrier_wait(&start);
    for (int t = 0; t < started; t++)
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
    r->status = HB_ST_OK;
    for (int t = 0; t < c->threads; t++) {
        r->counts.ops += ks[t].counts.ops;
        r->counts.allocs += ks[t].counts.allocs;
        r->counts.frees += ks[t].counts.frees;
        if (ks[t].rc && r->status == HB_ST_OK) {
            r->status = HB_ST_FAILED;
            snprintf(r->error, sizeof r->error, "%s thread %d failed: %s", wl->name, t, strerror(ks[t].rc));
        }
    }
    free(ks);
    if (r->status == HB_ST_OK) {
        char err[200] = "";
        if (wl->check(w, err, sizeof err) != 0) {
            r->status = HB_ST_FAILED;
            snprintf(r->error, sizeof r->error, "self-check failed: %s", err[0] ? err : "(no detail)");
        }
    }
    wl->teardown(w);
    /* After teardown everything is freed: what the process still holds is
     * what the allocator kept from the OS. VmHWM is the kernel's peak. */
    r->final_rss_kb = hb_proc_status_kb("VmRSS");
    r->peak_rss_kb = hb_proc_status_kb("VmHWM");
    if (r->peak_rss_kb < 0 && r->status == HB_ST_OK) {
        r->status = HB_ST_FAILED;
        snprintf(r->error, sizeof r->error, "cannot read VmHWM from /proc/self/status");
    }
    c->alloc->destroy(ctx.alloc_state);
}

/* __cell FD ALLOCATOR WORKLOAD THREADS SIZE REP SEED [PARAM...] */
int hb_cell_main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "heapbench __cell: internal use only\n");
        return 2;
    }
    hb_cell c = {0};
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
    for (int i = 7; i < argc && i - 7 < HB_MAX_PARAMS; i++)
        c.param[i - 7] = strtoll(argv[i], NULL, 10);
    hb_result r;
    hb_cell_run(&c, &r);
    const char *p = (const char *)&r;
    size_t left = sizeof r;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n <= 0)
            return 3;
        p += n;
        left -= (size_t)n;
    }
    return 0;
}
