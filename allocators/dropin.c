/* dropin.c -- a backend as the process's malloc, for LD_PRELOAD.
 *
 * Built once per backend (libheapbench_arena.so, libheapbench_freelist.so)
 * with HB_DROPIN_BACKEND naming its hb_allocator, in one translation unit
 * with the backend's source (dropin_unity.c), so that the calls through
 * the table are direct. malloc, free and realloc test for the common case
 * first and jump to the backend, with no stack frame of their own.
 *
 * One instance is created on the first call. While that instance
 * initialises, libc may itself call malloc (pthread_atfork registers its
 * handler in a malloc'd list), so calls made by the initialising thread
 * are served from a small static bootstrap buffer that is never reused;
 * free() recognises and ignores those blocks.
 *
 * With HEAPBENCH_VERBOSE=1 the library names itself on stderr at start, so
 * no one benchmarks glibc believing it is this allocator. HEAPBENCH_OPTIONS
 * passes the backend its init options; options it does not take end the
 * process with a one-line message and exit status 2. */
#include "allocator.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

extern const hb_allocator HB_DROPIN_BACKEND;
#define BK (&HB_DROPIN_BACKEND)

enum { UNINIT, INITIALISING, READY };
static _Atomic int init_state = UNINIT;
static void *instance;
static _Atomic(pthread_t) init_thread;

/* Bootstrap blocks: enough for what libc asks during init (a few hundred
 * bytes seen); 64 KiB leaves room for a libc that asks more. */
static _Alignas(64) unsigned char boot_buf[64 * 1024];
static _Atomic size_t boot_used;

static int is_boot(const void *p)
{
    return (const unsigned char *)p >= boot_buf && (const unsigned char *)p < boot_buf + sizeof boot_buf;
}

static void *boot_alloc(size_t align, size_t size)
{
    if (align < 16)
        align = 16;
    /* 16 bytes in front keep the size for realloc and usable_size. */
    size_t need = size + align + 16;
    size_t off = atomic_fetch_add(&boot_used, need);
    if (off + need > sizeof boot_buf) {
        static const char msg[] = "heapbench dropin: bootstrap buffer exhausted\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        abort();
    }
    uintptr_t p = ((uintptr_t)(boot_buf + off + 16) + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = size;
    return (void *)p;
}

static int ready_slow(void)
{
    int expected = UNINIT;
    if (atomic_compare_exchange_strong(&init_state, &expected, INITIALISING)) {
        atomic_store(&init_thread, pthread_self());
        /* The backend's init options, as `heapbench run` takes them
         * (arena: "cache=BYTES,foreign=BYTES,purge=MS,warm=N"). */
        const char *opt = getenv("HEAPBENCH_OPTIONS");
        int err = BK->init(&instance, opt && *opt ? opt : NULL);
        if (err != 0) {
            static const char bad[] = "heapbench: HEAPBENCH_OPTIONS not understood by libheapbench_" HB_DROPIN_NAME
                                      ".so (see docs/allocators.md)\n";
            static const char msg[] = "heapbench dropin: backend init failed\n";
            ssize_t w = err == EINVAL && opt && *opt ? write(2, bad, sizeof bad - 1) : write(2, msg, sizeof msg - 1);
            (void)w;
            _exit(2);
        }
        atomic_store(&init_state, READY);
        return 1;
    }
    if (expected == INITIALISING && pthread_equal(atomic_load(&init_thread), pthread_self()))
        return 0; /* re-entered from inside init: use the bootstrap buffer */
    while (atomic_load(&init_state) != READY)
        sched_yield();
    return 1;
}

/* The instance is up: the common case, a load and a compare. */
static inline int is_ready(void)
{
    return __builtin_expect(atomic_load_explicit(&init_state, memory_order_acquire) == READY, 1);
}

static inline int ready(void)
{
    if (is_ready())
        return 1;
    return ready_slow();
}

EXPORT void *malloc(size_t size)
{
    if (!ready())
        return boot_alloc(16, size);
    return BK->alloc(instance, size);
}

static __attribute__((noinline)) void dropin_free_slow(void *p)
{
    if (!p || is_boot(p) || !ready())
        return;
    BK->free(instance, p, 0);
}

/* The common case first and alone, so it needs no stack frame: the
 * compiler saves registers for a call only on the path that makes it.
 * NULL and the bootstrap blocks go to the backend too: both are in no
 * region of its map, and the path that takes such pointers ignores them
 * (HB_DROPIN_FOREIGN, large.h), which saves every free two tests. */
EXPORT void free(void *p)
{
    if (is_ready()) {
        BK->free(instance, p, 0);
        return;
    }
    dropin_free_slow(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (!ready() || !BK->alloc_zeroed) {
        void *p = malloc(total);
        if (p && !is_boot(p))
            memset(p, 0, total); /* the bootstrap buffer is static: zero already */
        return p;
    }
    void *p = BK->alloc_zeroed(instance, total);
    if (!p)
        errno = ENOMEM;
    return p;
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (is_boot(p))
        return ((size_t *)p)[-1];
    if (!ready())
        return 0;
    return BK->usable_size(instance, p);
}

static __attribute__((noinline)) void *realloc_slow(void *p, size_t size)
{
    if (!p)
        return malloc(size);
    if (size == 0) { /* glibc's behaviour, which programs rely on */
        free(p);
        return NULL;
    }
    if (is_boot(p)) {
        size_t old = ((size_t *)p)[-1];
        void *q = malloc(size);
        if (q)
            memcpy(q, p, old < size ? old : size);
        return q;
    }
    if (!ready())
        return NULL;
    return BK->realloc(instance, p, 0, size);
}

/* As free: the common case alone, with no frame. */
EXPORT void *realloc(void *p, size_t size)
{
    if (is_ready() && p && size && !is_boot(p))
        return BK->realloc(instance, p, 0, size);
    return realloc_slow(p, size);
}

static int pow2(size_t a)
{
    return a && (a & (a - 1)) == 0;
}

static void *aligned(size_t align, size_t size)
{
    if (!ready())
        return boot_alloc(align, size);
    if (align <= 16)
        return BK->alloc(instance, size);
    return BK->alloc_aligned(instance, align, size);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (!pow2(align) || align % sizeof(void *))
        return EINVAL;
    void *p = aligned(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(align, size);
}

EXPORT void *memalign(size_t align, size_t size)
{
    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(align, size);
}

EXPORT void *valloc(size_t size)
{
    return aligned((size_t)sysconf(_SC_PAGESIZE), size);
}

EXPORT void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t rounded = (size + page - 1) & ~(page - 1);
    if (rounded < size) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned(page, rounded ? rounded : page);
}

__attribute__((constructor)) static void dropin_announce(void)
{
    const char *v = getenv("HEAPBENCH_VERBOSE");
    if (v && strcmp(v, "1") == 0) {
        static const char msg[] = "heapbench: malloc is libheapbench_" HB_DROPIN_NAME ".so\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
    }
}
