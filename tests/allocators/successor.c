/* successor.c -- the successor-thread pattern of Larson & Krishnan's server
 * benchmark, as a stress test of every backend (and, under TSan, of the
 * races in arena's heap adoption and freelist's cache retirement).
 *
 *   alloc_successor [--backends all|A,B] [--chains N] [--generations G] [--ops K]
 *
 * N chains run at once; each is G threads one after the other: a worker
 * does K operations, starts its successor and exits, so the successor frees
 * blocks its predecessor made, after that thread (and its heap) is gone.
 * An operation takes a random slot -- of its own chain's stripe half the
 * time, of the whole array otherwise, so blocks of dead threads are freed
 * by several living ones at once (arena: several try to adopt one heap) --
 * verifies the block there against its fill pattern and frees it, or
 * fills the slot with a new block of mixed size (16 B to 64 KiB, now and
 * then 1 MiB). The way a worker joins and leaves varies with its
 * generation: thread_attach first or lazily on its first allocation, and
 * thread_detach before it exits or not (the key destructors then retire
 * its heap or cache, as they do under the drop-in libraries).
 *
 * Exits 1 on the first corrupted byte, naming the backend, block and size. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocators/allocator.h"

#define SLOTS 4096
#define MAX_CHAINS 64

typedef struct block_hdr {
    uint64_t size; /* requested size, header included */
    uint64_t seed;
} block_hdr;

typedef struct chain {
    int id;
    int gen; /* generation of the running worker */
    uint64_t rng;
    pthread_t prev;
    int has_prev;
    /* the last worker says so; main joins it */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    pthread_t last;
} chain;

static const hb_allocator *A;
static void *S;
static _Atomic(block_hdr *) slots[SLOTS];
static int nchains, generations;
static long long ops_per_worker;
static _Atomic int corrupt;
static _Atomic long long workers_run;

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Small sizes mostly, as a server's; medium and large ones now and then. */
static size_t pick_size(uint64_t *s)
{
    uint64_t r = rnd(s);
    switch (r % 128) {
    case 0:
        return 16 + (r >> 8) % (1u << 20);
    case 1: case 2: case 3: case 4: case 5: case 6: case 7:
        return 16 + (r >> 8) % 65536;
    default:
        return 16 + (r >> 8) % 1024;
    }
}

static unsigned char pat(uint64_t seed, size_t i)
{
    return (unsigned char)((seed >> (i % 56)) + i);
}

/* All of a small block, the head and tail of a big one. */
static void fill(block_hdr *b, size_t size, uint64_t seed)
{
    b->size = size;
    b->seed = seed;
    unsigned char *p = (unsigned char *)(b + 1);
    size_t n = size - sizeof *b;
    for (size_t i = 0; i < n; i++) {
        if (n > 1024 && i == 256)
            i = n - 256;
        p[i] = pat(seed, i);
    }
}

static int verify(const block_hdr *b)
{
    const unsigned char *p = (const unsigned char *)(b + 1);
    size_t n = b->size - sizeof *b;
    for (size_t i = 0; i < n; i++) {
        if (n > 1024 && i == 256)
            i = n - 256;
        if (p[i] != pat(b->seed, i)) {
            fprintf(stderr, "alloc_successor: %s: block %p size %llu corrupted at byte %zu\n",
                    A->name, (const void *)b, (unsigned long long)b->size, i + sizeof *b);
            atomic_store(&corrupt, 1);
            return 1;
        }
    }
    return 0;
}

static int work(chain *c)
{
    size_t lo = (size_t)c->id * SLOTS / (size_t)nchains;
    size_t span = (size_t)(c->id + 1) * SLOTS / (size_t)nchains - lo;
    for (long long op = 0; op < ops_per_worker; op++) {
        if (atomic_load_explicit(&corrupt, memory_order_relaxed))
            return 1;
        uint64_t r = rnd(&c->rng);
        size_t slot = (r & 1) && span ? lo + (r >> 1) % span : (r >> 1) % SLOTS;
        block_hdr *b = atomic_exchange(&slots[slot], NULL);
        if (b) {
            if (verify(b))
                return 1;
            A->free(S, b, b->size);
            continue;
        }
        size_t size = pick_size(&c->rng);
        b = A->alloc(S, size);
        if (!b) {
            fprintf(stderr, "alloc_successor: %s: alloc(%zu) failed\n", A->name, size);
            atomic_store(&corrupt, 1);
            return 1;
        }
        fill(b, size, rnd(&c->rng));
        block_hdr *old = atomic_exchange(&slots[slot], b);
        if (old) { /* another thread filled the slot meanwhile */
            if (verify(old))
                return 1;
            A->free(S, old, old->size);
        }
    }
    return 0;
}

static void *worker(void *arg)
{
    chain *c = arg;
    int gen = c->gen;
    atomic_fetch_add(&workers_run, 1);
    if (gen % 3 != 2 && A->thread_attach(S) != 0) { /* every third attaches lazily */
        fprintf(stderr, "alloc_successor: %s: thread_attach failed\n", A->name);
        atomic_store(&corrupt, 1);
    }
    int failed = atomic_load(&corrupt) || work(c);
    if (c->has_prev)
        pthread_join(c->prev, NULL);
    if (!failed && gen + 1 < generations) {
        pthread_t next;
        c->prev = pthread_self();
        c->has_prev = 1;
        c->gen = gen + 1;
        if (pthread_create(&next, NULL, worker, c) == 0) {
            /* c is the successor's now. Every other worker leaves without
             * detaching: its key destructor retires its heap. */
            if (gen % 2 == 0)
                A->thread_detach(S);
            return NULL;
        }
        fprintf(stderr, "alloc_successor: cannot start generation %d\n", gen + 1);
        atomic_store(&corrupt, 1);
    }
    A->thread_detach(S);
    pthread_mutex_lock(&c->lock);
    c->last = pthread_self();
    c->done = 1;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static int run_backend(const hb_allocator *a)
{
    A = a;
    atomic_store(&workers_run, 0);
    int rc = a->init(&S, NULL);
    if (rc) {
        fprintf(stderr, "alloc_successor: %s: init failed: %s\n", a->name, strerror(rc));
        return 1;
    }
    static chain ch[MAX_CHAINS];
    for (int i = 0; i < nchains; i++) {
        ch[i] = (chain){.id = i, .rng = (uint64_t)(i + 1) * 0x2545f4914f6cdd1dULL};
        pthread_mutex_init(&ch[i].lock, NULL);
        pthread_cond_init(&ch[i].cond, NULL);
        pthread_t first;
        if (pthread_create(&first, NULL, worker, &ch[i]) != 0) {
            fprintf(stderr, "alloc_successor: cannot start chain %d\n", i);
            exit(1);
        }
    }
    for (int i = 0; i < nchains; i++) {
        pthread_mutex_lock(&ch[i].lock);
        while (!ch[i].done)
            pthread_cond_wait(&ch[i].cond, &ch[i].lock);
        pthread_mutex_unlock(&ch[i].lock);
        pthread_join(ch[i].last, NULL);
        pthread_mutex_destroy(&ch[i].lock);
        pthread_cond_destroy(&ch[i].cond);
    }
    /* This thread frees what the chains left: blocks of dead heaps only. */
    long long left = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        block_hdr *b = atomic_exchange(&slots[i], NULL);
        if (b) {
            verify(b);
            a->free(S, b, b->size);
            left++;
        }
    }
    a->destroy(S);
    long long want = (long long)nchains * generations;
    if (!atomic_load(&corrupt) && atomic_load(&workers_run) != want) {
        fprintf(stderr, "alloc_successor: %s: %lld workers ran, want %lld\n", a->name,
                atomic_load(&workers_run), want);
        atomic_store(&corrupt, 1);
    }
    printf("%-10s %d chains x %d generations x %lld ops, %lld blocks left%s\n", a->name, nchains,
           generations, ops_per_worker, left, atomic_load(&corrupt) ? "  FAILED" : "");
    return atomic_load(&corrupt) ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *backends = "all";
    nchains = 4;
    generations = 40;
    ops_per_worker = 5000;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "alloc_successor: %s needs a value\n", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--backends"))
            backends = argv[i + 1];
        else if (!strcmp(argv[i], "--chains"))
            nchains = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--generations"))
            generations = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ops"))
            ops_per_worker = atoll(argv[i + 1]);
        else {
            fprintf(stderr, "alloc_successor: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (nchains < 1 || nchains > MAX_CHAINS || generations < 1 || ops_per_worker < 1) {
        fprintf(stderr, "alloc_successor: bad --chains (1..%d), --generations or --ops\n", MAX_CHAINS);
        return 2;
    }
    int failed = 0, ran = 0;
    for (size_t i = 0; i < hb_allocator_count; i++) {
        const char *n = hb_allocators[i]->name;
        if (strcmp(backends, "all") == 0 && strcmp(n, "null") == 0)
            continue;
        if (strcmp(backends, "all") != 0) {
            char list[512], key[64];
            snprintf(list, sizeof list, ",%s,", backends);
            snprintf(key, sizeof key, ",%s,", n);
            if (!strstr(list, key))
                continue;
        }
        ran++;
        failed += run_backend(hb_allocators[i]);
    }
    if (!ran) {
        fprintf(stderr, "alloc_successor: no backend matches '%s'\n", backends);
        return 2;
    }
    printf("%d passed, %d failed\n", ran - failed, failed);
    return failed ? 1 : 0;
}
