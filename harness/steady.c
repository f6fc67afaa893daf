/* steady.c -- the host probe of `run --steady` (steady.h).
 *
 * The canary is integer arithmetic and stores scattered over 64 KiB (the
 * core's L1 and L2, as an allocator's work is): a fixed amount of it, so
 * its time is the measure, run SAMPLES times in a row by one thread pinned
 * to each core, all cores at once (a spell may slow one core, and a cell
 * of two threads uses both). A core's figure is its total over the
 * samples, so both kinds of slowness count: every sample slower (the
 * spells seen here), or a few samples stopped for milliseconds (a core
 * shared by time slices). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "steady.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAMPLES 8
#define TABLE 16384     /* 64 KiB of unsigned */
#define ROUNDS 40       /* about 0.7 ms a sample on the machines here */
#define MAX_CORES 256   /* probed at once; beyond, the first ones */

/* The baseline forgets: a core's fastest total over the current epoch
 * and the one before (EPOCH_S each), so a host that has become slower for
 * good (minutes, not a spell) is its own new measure after two epochs at
 * most, instead of making every repetition wait. */
#define EPOCH_S 60.0

struct hb_host {
    int n;
    int cpu[MAX_CORES];
    double epoch_t;         /* when the current epoch began; 0: no probe yet */
    double best[MAX_CORES]; /* each core's fastest total this epoch; 0: none yet */
    double prev[MAX_CORES]; /* and the epoch before; 0: none */
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct probe_job {
    int cpu;
    double total;
} probe_job;

static void *canary(void *arg)
{
    probe_job *j = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(j->cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* unpinned if refused */
    unsigned table[TABLE]; /* on the probe thread's stack: no TLS in the cells' threads */
    memset(table, 0, sizeof table);
    unsigned x = 1;
    double t0 = now_s();
    for (int s = 0; s < SAMPLES; s++)
        for (int r = 0; r < ROUNDS; r++)
            for (int i = 0; i < TABLE; i++) {
                x = x * 1664525u + 1013904223u;
                table[(x >> 8) & (TABLE - 1)] += x;
            }
    j->total = now_s() - t0;
    __asm__ volatile("" : : "r"(x), "r"(table) : "memory"); /* the work is not optimised away */
    return NULL;
}

hb_host *hb_host_open(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        fprintf(stderr, "heapbench run: --steady: cannot read the cores this process may use\n");
        return NULL;
    }
    hb_host *h = calloc(1, sizeof *h);
    if (!h) {
        fprintf(stderr, "heapbench run: --steady: out of memory\n");
        return NULL;
    }
    for (int c = 0; c < CPU_SETSIZE && h->n < MAX_CORES; c++)
        if (CPU_ISSET(c, &set))
            h->cpu[h->n++] = c;
    return h;
}

void hb_host_close(hb_host *h)
{
    free(h);
}

double hb_host_probe(hb_host *h)
{
    probe_job job[MAX_CORES];
    pthread_t tid[MAX_CORES];
    int started[MAX_CORES];
    for (int i = 0; i < h->n; i++) {
        job[i] = (probe_job){.cpu = h->cpu[i]};
        started[i] = pthread_create(&tid[i], NULL, canary, &job[i]) == 0;
    }
    double now = now_s(), worst = 1;
    if (h->epoch_t == 0 || now - h->epoch_t > EPOCH_S) {
        for (int i = 0; i < h->n && h->epoch_t; i++) {
            h->prev[i] = h->best[i];
            h->best[i] = 0;
        }
        h->epoch_t = now;
    }
    for (int i = 0; i < h->n; i++) {
        if (!started[i])
            continue; /* out of threads: that core unprobed this time */
        pthread_join(tid[i], NULL);
        double t = job[i].total;
        if (h->best[i] == 0 || t < h->best[i])
            h->best[i] = t;
        double base = h->prev[i] > 0 && h->prev[i] < h->best[i] ? h->prev[i] : h->best[i];
        if (t / base > worst)
            worst = t / base;
    }
    return worst;
}

double hb_steady_settle(hb_host *h, volatile sig_atomic_t *stop)
{
    double waited = 0, ratio = hb_host_probe(h);
    while (!*stop && hb_steady_wait(ratio, waited)) {
        struct timespec nap = {0, (long)(HB_STEADY_POLL_S * 1e9)};
        nanosleep(&nap, NULL);
        waited += HB_STEADY_POLL_S;
        ratio = hb_host_probe(h);
    }
    return ratio;
}

int hb_steady_wait(double ratio, double waited_s)
{
    return ratio > HB_STEADY_LIMIT && waited_s < HB_STEADY_WAIT_S;
}

int hb_steady_retake(double ratio, int retakes)
{
    return ratio > HB_STEADY_LIMIT && retakes < HB_STEADY_RETAKES;
}
