/* null.c -- hands out blocks and never takes them back: the harness's own
 * cost, measured (a cell on `null` times the workload, the clock reads, the
 * latency sampling and the bookkeeping, with almost no allocator in it).
 *
 * Blocks come by bumping a pointer through a per-thread 1 MiB chunk of one
 * slab mapped and faulted in at init (MAP_POPULATE), which is not timed: a
 * slab faulted lazily would time the kernel's page faults instead, several
 * times the cost of any real allocator. free does nothing, so a cell's memory
 * grows with its total allocation; when the slab (HEAPBENCH_NULL_SLAB_MB,
 * default 2048) is used up, alloc fails with ENOMEM and the cell fails
 * honestly. Not in the default matrix: an instrument, not a contender. */
#include "allocator.h"
#include "os.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK ((size_t)1 << 20)
#define HDR 16 /* the block's size, keeping blocks 16-aligned */

typedef struct null_heap {
    uint64_t id; /* unique per instance: a new one may be mapped at an old one's address */
    char *base;
    size_t size;
    _Atomic size_t next_chunk; /* offset of the next unclaimed chunk */
    _Atomic uint64_t live;     /* bytes handed out (never given back) */
} null_heap;

/* Each thread bumps through its own chunk; the instance id guards against a
 * chunk left over from another instance (tests create several). */
static __thread struct {
    uint64_t owner;
    char *cur, *end;
} tl;
static _Atomic uint64_t next_id = 1;

static int null_init(void **state, const char *options)
{
    (void)options;
    size_t mb = 2048;
    const char *e = getenv("HEAPBENCH_NULL_SLAB_MB");
    if (e && atoi(e) > 0)
        mb = (size_t)atoi(e);
    null_heap *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED)
        return ENOMEM;
    h->size = mb << 20;
    h->base = mmap(NULL, h->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (h->base == MAP_FAILED) {
        munmap(h, sizeof *h);
        return ENOMEM;
    }
    h->id = atomic_fetch_add(&next_id, 1);
    atomic_init(&h->next_chunk, 0);
    atomic_init(&h->live, 0);
    *state = h;
    return 0;
}

static void *bump(null_heap *h, size_t align, size_t size)
{
    if (size > h->size) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need = HDR + size + align;
    if (tl.owner != h->id || (size_t)(tl.end - tl.cur) < need) {
        size_t want = need > CHUNK ? (need + CHUNK - 1) & ~(CHUNK - 1) : CHUNK;
        size_t off = atomic_fetch_add(&h->next_chunk, want);
        if (off > h->size || h->size - off < want) {
            errno = ENOMEM;
            return NULL;
        }
        tl.owner = h->id;
        tl.cur = h->base + off;
        tl.end = tl.cur + want;
    }
    uintptr_t p = ((uintptr_t)tl.cur + HDR + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = size;
    tl.cur = (char *)p + size;
    atomic_fetch_add_explicit(&h->live, size, memory_order_relaxed);
    return (void *)p;
}

static void *null_alloc(void *st, size_t size)
{
    return bump(st, 16, size);
}

static void *null_alloc_aligned(void *st, size_t align, size_t size)
{
    return bump(st, align < 16 ? 16 : align, size);
}

static void null_free(void *st, void *p, size_t size)
{
    (void)st;
    (void)p;
    (void)size;
}

static size_t null_usable_size(void *st, const void *p)
{
    (void)st;
    return ((const size_t *)p)[-1];
}

static void *null_realloc(void *st, void *p, size_t old_size, size_t new_size)
{
    (void)old_size;
    if (!p)
        return null_alloc(st, new_size);
    size_t have = null_usable_size(st, p);
    if (new_size <= have)
        return p;
    void *q = null_alloc(st, new_size);
    if (q)
        memcpy(q, p, have);
    return q;
}

static int null_attach(void *st)
{
    (void)st;
    return 0;
}

static void null_detach(void *st)
{
    (void)st;
}

static int null_stats(void *st, hb_alloc_stats *out)
{
    null_heap *h = st;
    out->have = HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED;
    out->live_bytes = atomic_load_explicit(&h->live, memory_order_relaxed);
    out->os_bytes = atomic_load_explicit(&h->next_chunk, memory_order_relaxed); /* chunks claimed */
    if (out->os_bytes > h->size)
        out->os_bytes = h->size;
    out->released_bytes = 0; /* it never gives anything back: exact */
    return 0;
}

static void null_destroy(void *st)
{
    null_heap *h = st;
    munmap(h->base, h->size);
    munmap(h, sizeof *h);
}

const hb_allocator hb_null_allocator = {
    .name = "null",
    .doc = "bump pointer, never frees: measures the harness's own cost (not in the default matrix)",
    .init = null_init,
    .alloc = null_alloc,
    .alloc_aligned = null_alloc_aligned,
    .free = null_free,
    .realloc = null_realloc,
    .usable_size = null_usable_size,
    .thread_attach = null_attach,
    .thread_detach = null_detach,
    .stats = null_stats,
    .destroy = null_destroy,
};
