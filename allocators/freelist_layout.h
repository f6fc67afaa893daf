/* freelist_layout.h -- freelist.c's data layout: the constants, the structs
 * of spans, segments, central classes, bins, thread caches and heaps, and
 * the size-class and address arithmetic on them (with the table of classes
 * by size). Only freelist.c includes it (the table is its own); the
 * algorithms over these structures are there. */
#ifndef HB_FREELIST_LAYOUT_H
#define HB_FREELIST_LAYOUT_H

#include "large.h"
#include "os.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define FL_TAG 2 /* region-map tag of freelist segments (arena uses 1) */

/* 64 KiB spans: big enough that a 16 B class carves 4096 blocks per span,
 * small enough that one idle class pins little and a fully free span turns up
 * often. 16 spans per segment; the first 4 KiB of a segment is its header. */
#define FL_SPAN_SHIFT 16
#define FL_SPAN ((size_t)1 << FL_SPAN_SHIFT)
#define FL_SPANS (HB_REGION / FL_SPAN)
#define FL_HDR ((size_t)4096)

/* Classes: 16-byte steps to 512 B (32 classes, as obmalloc: at most 15 B
 * lost per block where small objects dominate), then eight classes per
 * doubling to 32 KiB (48 classes, at most 12.5% lost, as tcmalloc's; four
 * lost 25% on a size just over a power of two, and 513 B blocks then took
 * 640). Above 32 KiB, large.c: a mapping per block, freed spans cached and
 * given back after a delay, realloc by mremap. */
#define FL_SMALL_MAX 512
#define FL_MAX ((size_t)32768)
#define FL_NCLS 80


#define FL_LIKELY(x) __builtin_expect(!!(x), 1)
#define FL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FL_NOINLINE __attribute__((noinline))

typedef struct fl_span {
    void *free;                  /* blocks back from the caches, linked through word 0 */
    char *bump, *end;            /* the part never carved */
    struct fl_span *next, *prev; /* class's nonempty list; pool stacks use next */
    uint32_t out;                /* carved and not on `free`: live, cached or batched */
    uint8_t cls;
    uint8_t listed;      /* on the class's nonempty list */
    uint8_t decommitted; /* pages given back; os_bytes excludes them */
    uint32_t free_ms;    /* when it came back to the pool (hb_os_now_ms, low bits) */
} fl_span;

typedef struct fl_seg {
    _Atomic uint8_t cls[FL_SPANS]; /* read by free() without a lock */
    struct fl_seg *next;
    fl_span spans[FL_SPANS];
} fl_seg;

_Static_assert(sizeof(fl_seg) <= FL_HDR, "segment header must fit its page");

typedef struct fl_central {
    alignas(128) pthread_mutex_t lock; /* 128: two classes never share a line pair */
    void *batches;                     /* full batches; word 1 of a batch's first block links them */
    uint32_t nbatches, max_batches;
    fl_span *nonempty; /* spans with blocks on their free list */
    fl_span *carve;    /* span with uncarved room */
} fl_central;

/* Live bytes without a counter on the fast path: blocks taken from the
 * central lists (`moved`, changed a batch at a time) minus blocks still in
 * the bin (`count`, which the fast path writes anyway) are the blocks this
 * bin handed out net. Both are written by the owner only and read by stats,
 * hence relaxed atomics: plain loads and stores on the machines we run on. */
typedef struct fl_bin {
    void *head;
    _Atomic uint32_t count;
    uint32_t batch; /* the class's batch (cls_batch): what the transfer stack moves */
    uint32_t limit; /* 2 * batch: a push that reaches it sends a batch back */
    uint32_t fetch; /* what the next refill gathers from the spans: FL_FETCH0,
                       doubled by each refill up to batch (freelist.c) */
    _Atomic uint64_t moved;
} fl_bin;

typedef struct fl_tcache {
    fl_bin bins[FL_NCLS];
    struct fl_heap *heap;
    struct fl_tcache *next, *prev;
} fl_tcache;

typedef struct fl_heap {
    uint64_t id; /* unique over the process: TLS caches compare it, not the address */
    pthread_key_t key;
    size_t map_size;
    struct fl_heap *gnext, *gprev; /* all instances, for the fork handlers */

    pthread_mutex_t tc_lock; /* thread caches: registry, recycling, retired counters */
    fl_tcache *tc_live, *tc_free;
    void *tc_chunks; /* mappings holding tcaches, linked through their first word */
    char *tc_bump, *tc_end;
    uint64_t retired_live;         /* live bytes counted by caches that are gone */
    _Atomic uint64_t direct_live;  /* live bytes from threads with no cache */
    _Atomic uint64_t meta_bytes;   /* this struct and tcache chunks */

    pthread_mutex_t span_lock; /* taken after a class lock, never before one */
    fl_seg *segs;
    unsigned fresh_next; /* next never-used span of segs (the newest segment) */
    fl_span *hot, *hot_tail, *cold; /* hot: free and committed, newest first */
    unsigned nhot;
    uint64_t seg_bytes, decommitted_bytes, released_bytes;

    /* FL_MAX until a block of size <= FL_MAX goes to the large path
     * (alignment above a page), then 0. Until then a size given to free()
     * says small or large by itself, as sdallocx's does, and the region map
     * is not read: one compare against this field. */
    _Atomic size_t sized_max;

    /* Bytes in every class's transfer stack, bounded by FL_XFER_ONE while
     * the instance has one thread cache (freelist.c, central_release), and
     * the thread caches alive (written under tc_lock). */
    _Atomic uint64_t xfer_bytes;
    _Atomic uint32_t ntc;

    hb_large large; /* blocks above FL_MAX */

    fl_central cls[FL_NCLS];
} fl_heap;

typedef struct fl_tls {
    uint64_t id; /* instance whose cache `tc` is; 0 none */
    fl_tcache *tc;
    unsigned char exiting;  /* our key destructor ran: create no cache any more */
    unsigned char creating; /* inside tc_create: pthread_setspecific may allocate */
} fl_tls;

/* ---- classes ---- */

static inline unsigned cls_of(size_t size)
{
    if (size <= FL_SMALL_MAX)
        return (unsigned)((size - (size != 0)) >> 4);
    size_t s = size - 1;
    unsigned b = 63u - (unsigned)__builtin_clzll(s); /* 9..14 */
    return 32u + (b - 9u) * 8u + (unsigned)((s >> (b - 3u)) & 7u);
}

/* cls_of for every size up to FL_MAX, by 16 B steps (class boundaries
 * are multiples of 16): the fast path's class without a branch on the
 * size, which mixed sizes (larson's 8..1000 B) mispredict half the time. */
static uint8_t fl_cls_table[FL_MAX / 16 + 1];

static void cls_table_fill(void)
{
    for (size_t i = 0; i <= FL_MAX / 16; i++)
        fl_cls_table[i] = (uint8_t)cls_of(i * 16);
}

static inline size_t cls_size(unsigned c)
{
    if (c < 32)
        return ((size_t)c + 1) << 4;
    unsigned k = (c - 32) / 8, j = (c - 32) % 8;
    return ((size_t)9 + j) << (6 + k);
}

/* A new thread cache's first refill of a class (bin_refill's slow start). */
#define FL_FETCH0 4u

/* A batch moves 16 KiB (at most 64 blocks, at least 2): one lock round trip
 * per 64 small frees, while a cache holds at most 2 batches per class. */
static unsigned cls_batch(unsigned c)
{
    size_t n = 16384 / cls_size(c);
    return n > 64 ? 64 : n < 2 ? 2 : (unsigned)n;
}

/* What the transfer stacks of all classes hold at most while one thread
 * cache exists: 2 MiB (freelist.c, central_release). */
#define FL_XFER_ONE ((uint64_t)2 << 20)
/* The bytes of one of class c's batches, as the transfer stacks count
 * them (fl_heap.xfer_bytes). */
static inline uint64_t cls_batch_bytes(unsigned c)
{
    return (uint64_t)cls_batch(c) * cls_size(c);
}

/* The transfer stack holds up to 256 KiB per class (2..64 batches): deep
 * enough for producer/consumer hand-off, shallow enough not to pin spans. */
static unsigned cls_max_batches(unsigned c)
{
    size_t n = 262144 / (cls_batch(c) * cls_size(c));
    return n > 64 ? 64 : n < 2 ? 2 : (unsigned)n;
}

/* ---- addresses ---- */

static inline fl_seg *seg_of(const void *p)
{
    return (fl_seg *)((uintptr_t)p & ~(uintptr_t)(HB_REGION - 1));
}

static inline unsigned span_index(const void *p)
{
    return (unsigned)(((uintptr_t)p & (HB_REGION - 1)) >> FL_SPAN_SHIFT);
}

static inline fl_span *span_of(const void *p)
{
    return &seg_of(p)->spans[span_index(p)];
}

static inline unsigned block_cls(const void *p)
{
    return atomic_load_explicit(&seg_of(p)->cls[span_index(p)], memory_order_relaxed);
}

static char *span_base(fl_span *s)
{
    fl_seg *seg = seg_of(s);
    size_t i = (size_t)(s - seg->spans);
    return (char *)seg + (i ? i * FL_SPAN : FL_HDR);
}

static inline void *next_of(void *b)
{
    return *(void **)b;
}

static inline void set_next(void *b, void *n)
{
    *(void **)b = n;
}

static inline void add_relaxed(_Atomic uint64_t *v, uint64_t d)
{
    /* One writer: a plain load and store, no locked instruction. */
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + d,
                          memory_order_relaxed);
}

#endif
