/* system.c -- libc malloc, the baseline every other backend is read against. */
#include "allocator.h"
#include "libwrap.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* glibc's heap is process-wide, so every instance shares one tracker. */
static hb_release_tracker sys_release = HB_RELEASE_TRACKER_INIT;

/* Whether mallinfo2 describes the heap malloc uses: under a preloaded
 * malloc library (an allocator given as NAME=PATH runs this backend with
 * the library preloaded) malloc is the library's, mallinfo2 still glibc's,
 * and it would report glibc's idle heap -- near 0 -- as the live bytes.
 * Decided once from where the two functions this process calls are defined;
 * 1: the same object. */
static int mallinfo_is_malloc(void)
{
    static _Atomic int known = -1; /* instances may be made from several threads */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k >= 0)
        return k;
    /* read through volatile: the addresses the program's calls bind to */
    void *(*volatile m)(size_t) = malloc;
    struct mallinfo2 (*volatile mi)(void) = mallinfo2;
    Dl_info a, b;
    k = dladdr((void *)m, &a) && dladdr((void *)mi, &b) && a.dli_fbase == b.dli_fbase;
    atomic_store_explicit(&known, k, memory_order_relaxed);
    return k;
}

static int sys_init(void **state, const char *options)
{
    (void)options;
    *state = &sys_release;
    (void)mallinfo_is_malloc();
    return 0;
}

static void *sys_alloc(void *st, size_t size)
{
    (void)st;
    return malloc(size);
}

static void *sys_alloc_aligned(void *st, size_t align, size_t size)
{
    (void)st;
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    int rc = posix_memalign(&p, align, size);
    if (rc) {
        errno = rc;
        return NULL;
    }
    return p;
}

static void sys_free(void *st, void *p, size_t size)
{
    (void)st;
    (void)size;
    free(p);
}

static void *sys_realloc(void *st, void *p, size_t old_size, size_t new_size)
{
    (void)st;
    (void)old_size;
    /* glibc frees on realloc(p, 0); the contract wants a minimal block. */
    return realloc(p, new_size ? new_size : 1);
}

static size_t sys_usable_size(void *st, const void *p)
{
    (void)st;
    return malloc_usable_size((void *)p);
}

static int sys_attach(void *st)
{
    (void)st;
    return 0;
}

static void sys_detach(void *st)
{
    (void)st;
}

static int sys_stats(void *st, hb_alloc_stats *out)
{
    /* mallinfo2 walks every arena: uordblks is in-use bytes of the sbrk/heap
     * arenas, hblkhd the bytes of mmapped chunks, arena the bytes the arenas
     * hold from the OS. */
#ifdef HB_SANITIZER
    /* A sanitizer runtime replaces glibc's malloc and mallinfo2 then reads
     * zero: nothing here can be measured, so nothing is claimed. */
    (void)st;
    out->have = 0;
    out->live_bytes = out->os_bytes = out->released_bytes = 0;
    return 0;
#endif
    if (!mallinfo_is_malloc()) {
        /* a malloc that is not glibc's: no counter of its own to read */
        out->have = 0;
        out->live_bytes = out->os_bytes = out->released_bytes = 0;
        return 0;
    }
    struct mallinfo2 mi = mallinfo2();
    out->have = HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED;
    out->live_bytes = mi.uordblks + mi.hblkhd;
    out->os_bytes = mi.arena + mi.hblkhd;
    out->released_bytes = hb_release_observe(st, out->os_bytes);
    return 0;
}

static void sys_destroy(void *st)
{
    (void)st;
}

const hb_allocator hb_system_allocator = {
    .name = "system",
    .doc = "libc malloc (glibc ptmalloc2), the baseline",
    .init = sys_init,
    .alloc = sys_alloc,
    .alloc_aligned = sys_alloc_aligned,
    .free = sys_free,
    .realloc = sys_realloc,
    .usable_size = sys_usable_size,
    .thread_attach = sys_attach,
    .thread_detach = sys_detach,
    .stats = sys_stats,
    .destroy = sys_destroy,
};
