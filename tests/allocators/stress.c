/* stress.c -- every backend under threads: random alloc/free/realloc with
 * pattern fill and verify, blocks passed between threads through a shared
 * array of slots (so most frees are cross-thread), 10^7 operations.
 *
 *   alloc_stress [--backends all|A,B] [--threads N] [--ops TOTAL]
 *
 * Exits 1 on the first corrupted byte, naming the backend, block and size. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allocators/allocator.h"

#define SLOTS 16384

typedef struct block_hdr {
    uint64_t size; /* requested size, header included */
    uint64_t seed;
} block_hdr;

static const hb_allocator *A;
static void *S;
static _Atomic(block_hdr *) slots[SLOTS];
static long long ops_per_thread;
static _Atomic int corrupt;

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t pick_size(uint64_t *s)
{
    uint64_t r = rnd(s);
    switch (r % 64) {
    case 0:
        return 16 + (r >> 8) % (1u << 20); /* rarely up to 1 MiB */
    case 1: case 2: case 3:
        return 16 + (r >> 8) % 65536;
    default:
        return 16 + (r >> 8) % 512;
    }
}

/* Bytes checked: all of a small block, the head and tail of a big one. */
static unsigned char pat(uint64_t seed, size_t i)
{
    return (unsigned char)((seed >> (i % 56)) + i);
}

static void fill(block_hdr *b, size_t size, uint64_t seed)
{
    b->size = size;
    b->seed = seed;
    unsigned char *p = (unsigned char *)(b + 1);
    size_t n = size - sizeof *b;
    if (n <= 1024) {
        for (size_t i = 0; i < n; i++)
            p[i] = pat(seed, i);
    } else {
        for (size_t i = 0; i < 256; i++)
            p[i] = pat(seed, i);
        for (size_t i = n - 256; i < n; i++)
            p[i] = pat(seed, i);
    }
}

static int verify(const block_hdr *b, size_t upto)
{
    const unsigned char *p = (const unsigned char *)(b + 1);
    size_t n = upto - sizeof *b;
    for (size_t i = 0; i < n; i++) {
        if (n > 1024 && i == 256)
            i = n - 256;
        if (p[i] != pat(b->seed, i)) {
            fprintf(stderr, "alloc_stress: %s: block %p size %llu corrupted at byte %zu\n", A->name,
                    (const void *)b, (unsigned long long)b->size, i + sizeof *b);
            atomic_store(&corrupt, 1);
            return 1;
        }
    }
    return 0;
}

static void *worker(void *arg)
{
    uint64_t s = (uint64_t)(uintptr_t)arg * 0x2545f4914f6cdd1dULL + 1;
    A->thread_attach(S);
    for (long long op = 0; op < ops_per_thread && !atomic_load_explicit(&corrupt, memory_order_relaxed); op++) {
        size_t slot = rnd(&s) % SLOTS;
        block_hdr *b = atomic_exchange(&slots[slot], NULL);
        if (!b) {
            size_t size = pick_size(&s);
            b = A->alloc(S, size);
            if (!b) {
                fprintf(stderr, "alloc_stress: %s: alloc(%zu) failed\n", A->name, size);
                atomic_store(&corrupt, 1);
                break;
            }
            fill(b, size, rnd(&s));
        } else {
            if (verify(b, b->size))
                break;
            if (rnd(&s) % 4 == 0) { /* realloc keeps the common prefix */
                size_t old = b->size, size = pick_size(&s);
                block_hdr *q = A->realloc(S, b, old, size);
                if (!q) {
                    fprintf(stderr, "alloc_stress: %s: realloc(%zu -> %zu) failed\n", A->name, old, size);
                    atomic_store(&corrupt, 1);
                    break;
                }
                /* a big block was filled only at its head and tail: of
                 * the common prefix, check what was filled */
                size_t keep = old < size ? old : size;
                if (old - sizeof *q > 1024 && keep > sizeof *q + 256)
                    keep = sizeof *q + 256;
                q->size = keep;
                if (verify(q, keep))
                    break;
                fill(q, size, rnd(&s));
                b = q;
            } else {
                A->free(S, b, b->size);
                continue;
            }
        }
        block_hdr *old = atomic_exchange(&slots[slot], b);
        if (old) { /* another thread filled the slot meanwhile */
            if (verify(old, old->size))
                break;
            A->free(S, old, old->size);
        }
    }
    A->thread_detach(S);
    return NULL;
}

static int run_backend(const hb_allocator *a, int threads, long long ops)
{
    A = a;
    int rc = a->init(&S, NULL);
    if (rc) {
        fprintf(stderr, "alloc_stress: %s: init failed: %s\n", a->name, strerror(rc));
        return 1;
    }
    ops_per_thread = ops / threads;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t th[1024];
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (size_t i = 0; i < SLOTS; i++) {
        block_hdr *b = atomic_exchange(&slots[i], NULL);
        if (b) {
            verify(b, b->size);
            a->free(S, b, b->size);
        }
    }
    hb_alloc_stats st;
    a->stats(S, &st);
    a->destroy(S);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("%-10s %d threads %lld ops %.2f s %.2f Mops/s%s\n", a->name, threads, ops_per_thread * threads, secs,
           (double)ops_per_thread * threads / secs / 1e6, atomic_load(&corrupt) ? "  CORRUPTED" : "");
    return atomic_load(&corrupt) ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *backends = "all";
    int threads = 8;
    long long ops = 10000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--backends"))
            backends = argv[i + 1];
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ops"))
            ops = atoll(argv[i + 1]);
        else {
            fprintf(stderr, "alloc_stress: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (threads < 1 || threads > 1024 || ops < threads) {
        fprintf(stderr, "alloc_stress: bad --threads or --ops\n");
        return 2;
    }
    int failed = 0, ran = 0;
    for (size_t i = 0; i < hb_allocator_count; i++) {
        const char *n = hb_allocators[i]->name;
        if (strcmp(backends, "all") == 0 && strcmp(n, "null") == 0)
            continue; /* never frees: 10^7 operations would fill its slab */
        if (strcmp(backends, "all") != 0) {
            char list[512];
            snprintf(list, sizeof list, ",%s,", backends);
            char key[64];
            snprintf(key, sizeof key, ",%s,", n);
            if (!strstr(list, key))
                continue;
        }
        ran++;
        failed += run_backend(hb_allocators[i], threads, ops);
    }
    if (!ran) {
        fprintf(stderr, "alloc_stress: no backend matches '%s'\n", backends);
        return 2;
    }
    printf("%d passed, %d failed\n", ran - failed, failed);
    return failed ? 1 : 0;
}
