/* dropin_check.c -- run under LD_PRELOAD=libheapbench_NAME.so: checks that
 * malloc really is that library, then the C allocation API at its edges,
 * across threads, across thread exit and across fork.
 *
 *   LD_PRELOAD=.../libheapbench_arena.so dropin_check arena */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
/* volatile: the compiler must not fold these impossible sizes at build time */
static volatile size_t huge = SIZE_MAX - 64, half = SIZE_MAX / 2, big33 = (size_t)1 << 33;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "dropin_check: %s:%d: ", __FILE__, __LINE__);                          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void check_is_ours(const char *name)
{
    void *f = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info info;
    char want[128];
    snprintf(want, sizeof want, "libheapbench_%s.so", name);
    CHECK(f && dladdr(f, &info) && info.dli_fname && strstr(info.dli_fname, want),
          "malloc resolves to %s, not %s", f && dladdr(f, &info) ? info.dli_fname : "?", want);
}

/* This process's resident set, KiB (statm's second field, in pages). */
static long resident_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f || fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    if (f)
        fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void check_edges(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t sizes[] = {0, 1, 16, 512, 513, page, page + 1, 1 << 20, 64u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = malloc(sizes[i]);
        CHECK(p != NULL, "malloc(%zu) failed", sizes[i]);
        if (!p)
            continue;
        CHECK((uintptr_t)p % 16 == 0, "malloc(%zu) = %p not 16-aligned", sizes[i], (void *)p);
        CHECK(malloc_usable_size(p) >= sizes[i], "usable %zu < %zu", malloc_usable_size(p), sizes[i]);
        memset(p, 0xab, sizes[i]);
        free(p);
    }
    errno = 0;
    CHECK(malloc(huge) == NULL && errno == ENOMEM, "malloc(SIZE_MAX-64) did not fail with ENOMEM");
    errno = 0;
    CHECK(calloc(half, 3) == NULL && errno == ENOMEM, "calloc overflow did not fail with ENOMEM");
    errno = 0;
    CHECK(calloc(big33, big33) == NULL && errno == ENOMEM, "calloc 2^66 did not fail");
    /* calloc zeroes recycled memory */
    for (int round = 0; round < 100; round++) {
        unsigned char *p = malloc(200);
        memset(p, 0xff, 200);
        free(p);
        unsigned char *q = calloc(25, 8);
        for (int i = 0; i < 200; i++)
            if (q[i]) {
                CHECK(0, "calloc returned a non-zero byte at %d", i);
                break;
            }
        free(q);
    }
    /* ... large ones too, reused or fresh; a fresh one is not written: 256
     * MiB of calloc with one byte touched stays out of RSS */
    for (int round = 0; round < 3; round++) {
        size_t n = (size_t)(1 + round * 3) << 20;
        unsigned char *p = malloc(n);
        memset(p, 0xff, n);
        free(p);
        unsigned char *q = calloc(n, 1);
        for (size_t i = 0; i < n; i += 61)
            if (q[i]) {
                CHECK(0, "calloc(%zu) returned a non-zero byte at %zu", n, i);
                break;
            }
        free(q);
    }
    long before = resident_kib();
    unsigned char *big = calloc((size_t)256 << 20, 1);
    CHECK(big != NULL, "calloc 256 MiB failed");
    if (big) {
        big[12345] = 1;
        long grew = resident_kib() - before;
        CHECK(grew < 64 * 1024, "calloc 256 MiB, one byte touched: RSS grew %ld KiB", grew);
        free(big);
    }
    CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) != 0");
    free(NULL);
}

static void check_aligned(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t a = sizeof(void *); a <= (1u << 20); a <<= 1) {
        void *p = NULL;
        CHECK(posix_memalign(&p, a, 100) == 0 && (uintptr_t)p % a == 0, "posix_memalign(%zu)", a);
        free(p);
        p = aligned_alloc(a, 3 * a);
        CHECK(p && (uintptr_t)p % a == 0, "aligned_alloc(%zu)", a);
        free(p);
        p = memalign(a, 1);
        CHECK(p && (uintptr_t)p % a == 0, "memalign(%zu)", a);
        free(p);
    }
    /* Every alignment to 4 MiB and sizes from 0 to 70000, each block freed
     * at once, while small blocks pile up beside them: regions the library
     * maps for those may land where an aligned block's mapping was. A block
     * of 0 bytes at an alignment of a page or more used to start at its
     * mapping's end, and its free corrupted whatever region came there
     * (2026-12-05). Then the small blocks must hold what was written. */
    enum { KEEP = 4096 };
    static unsigned char *keep[KEEP];
    size_t nkeep = 0;
    for (size_t a = sizeof(void *); a <= ((size_t)4 << 20); a <<= 1)
        for (size_t n = 0; n < 70000; n = n * 3 + 1) {
            void *q = NULL;
            CHECK(posix_memalign(&q, a, n) == 0 && (uintptr_t)q % a == 0, "posix_memalign(%zu, %zu)", a, n);
            if (q) {
                memset(q, 1, n);
                /* more than 0 even for 0 bytes: a block of none started
                 * at its mapping's end, on an address not its own */
                CHECK(malloc_usable_size(q) >= (n ? n : 1), "posix_memalign(%zu, %zu): usable size %zu", a, n,
                      malloc_usable_size(q));
            }
            free(q);
            q = memalign(a, n);
            CHECK(q && (uintptr_t)q % a == 0, "memalign(%zu, %zu)", a, n);
            free(q);
            q = aligned_alloc(a, n);
            CHECK(q && (uintptr_t)q % a == 0, "aligned_alloc(%zu, %zu)", a, n);
            free(q);
            for (int k = 0; k < 8 && nkeep < KEEP; k++, nkeep++) {
                size_t sz = 16 + (nkeep * 40) % 2000;
                keep[nkeep] = malloc(sz);
                CHECK(keep[nkeep] != NULL, "malloc(%zu)", sz);
                if (keep[nkeep])
                    memset(keep[nkeep], (int)(nkeep & 0xff), sz);
            }
        }
    for (size_t k = 0; k < nkeep; k++) {
        size_t sz = 16 + (k * 40) % 2000, bad = 0;
        for (size_t i = 0; keep[k] && i < sz; i++)
            bad += keep[k][i] != (unsigned char)(k & 0xff);
        CHECK(keep[k] && !bad && malloc_usable_size(keep[k]) >= sz && malloc_usable_size(keep[k]) < 4096,
              "small block %zu of %zu changed beside aligned blocks", k, nkeep);
        free(keep[k]);
    }
    void *p = (void *)1;
    CHECK(posix_memalign(&p, 24, 10) == EINVAL && p == (void *)1, "posix_memalign(24) not EINVAL");
    CHECK(posix_memalign(&p, 4, 10) == EINVAL, "posix_memalign(4) not EINVAL");
    p = valloc(10);
    CHECK(p && (uintptr_t)p % page == 0, "valloc not page aligned");
    free(p);
    p = pvalloc(10);
    CHECK(p && (uintptr_t)p % page == 0 && malloc_usable_size(p) >= page, "pvalloc");
    free(p);
}

static void check_realloc(void)
{
    unsigned char *p = realloc(NULL, 10);
    CHECK(p != NULL, "realloc(NULL, 10)");
    for (int i = 0; i < 10; i++)
        p[i] = (unsigned char)i;
    size_t sizes[] = {20, 500, 600, 5000, 100000, 3000000, 30, 10};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        p = realloc(p, sizes[k]);
        CHECK(p != NULL, "realloc to %zu", sizes[k]);
        for (int i = 0; i < 10; i++)
            if (p[i] != i) {
                CHECK(0, "realloc to %zu lost byte %d", sizes[k], i);
                break;
            }
    }
    CHECK(realloc(p, 0) == NULL, "realloc(p, 0) should free and return NULL");
    unsigned char *volatile keep = malloc(64);
    errno = 0;
    CHECK(realloc(keep, huge) == NULL && errno == ENOMEM, "huge realloc must fail");
    free(keep);
}

/* Threads that exit leave blocks that others free; cross-thread frees. */
#define TN 8
#define BN 5000
static void *handoff[TN][BN];

static void *thread_alloc(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < BN; i++) {
        handoff[t][i] = malloc(16 + (size_t)(i * 37 % 3000));
        memset(handoff[t][i], t, 16);
    }
    /* free half of the previous thread's blocks: cross-thread */
    return NULL;
}

static void check_threads(void)
{
    pthread_t th[TN];
    for (int round = 0; round < 5; round++) {
        for (int t = 0; t < TN; t++)
            pthread_create(&th[t], NULL, thread_alloc, (void *)(intptr_t)t);
        for (int t = 0; t < TN; t++)
            pthread_join(th[t], NULL);
        for (int t = 0; t < TN; t++)
            for (int i = 0; i < BN; i++) {
                unsigned char *p = handoff[t][i];
                CHECK(p[0] == t && p[15] == t, "block of exited thread %d corrupted", t);
                free(p);
            }
    }
}

static volatile int spinning = 1;
static void *busy(void *arg)
{
    (void)arg;
    while (spinning) {
        void *p = malloc(100);
        free(malloc(3000));
        free(p);
    }
    return NULL;
}

static void check_fork(void)
{
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        pthread_create(&th[t], NULL, busy, NULL);
    for (int i = 0; i < 50; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10); /* a deadlocked child dies instead of hanging the test */
            for (int k = 0; k < 1000; k++)
                free(malloc((size_t)k * 13));
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child after fork %d did not exit cleanly (status %d)", i, st);
    }
    spinning = 0;
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: LD_PRELOAD=libheapbench_NAME.so dropin_check NAME\n");
        return 2;
    }
    check_is_ours(argv[1]);
    check_edges();
    check_aligned();
    check_realloc();
    check_threads();
    check_fork();
    printf("dropin_check %s: %s\n", argv[1], failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
