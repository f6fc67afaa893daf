/* large.h -- large blocks of arena and freelist: up to 1 MiB carved from
 * shared mappings, above it one mapping each; a cache of freed spans that
 * gives memory back after a delay; realloc in the cache (up to 256 KiB) or
 * by mremap into reserved address space.
 *
 * The one place that owns blocks above the size classes. Each backend
 * instance embeds one hb_large (in its own mapped state: nothing here calls
 * malloc, so the drop-in libraries can use it while they *are* malloc).
 *
 * Carving. A block of at most 1 MiB that no cached span fits is the head
 * of a fresh 4 MiB mapping, the rest cached; its shrinks put the tail in
 * the cache, its growths take the cached span behind it or (to 256 KiB)
 * copy into a cached span: buffers of these sizes resized up and down make
 * no call to the OS, each of which (munmap, mremap) flushes the TLB of
 * every CPU the process ran on.
 *
 * Cache. A freed block's mapping is kept, not unmapped: the next large
 * request of at most its size takes it (best fit, the rest split off and
 * kept), so a loop of big buffers reuses pages already faulted in instead
 * of paying mmap, munmap and a fault per page each time. Adjacent cached
 * spans are merged, so pieces split off come back whole. What the cache
 * holds is bounded (HB_LARGE_CACHE_MIN, or a quarter of the live large
 * bytes when that is more), and a span idle for HB_LARGE_DECAY_MS is
 * unmapped at the next large call, as jemalloc's dirty-page decay and
 * mimalloc's purge delay do; released_bytes counts what went back.
 *
 * Shards. Four of everything above, each under its own lock: a thread
 * allocates from its shard, a block is freed and resized in its own, so
 * threads resizing buffers meet on no lock. The cache's bound is the
 * instance's, its decay every shard's.
 *
 * Thread safety: every call may come from any thread; one mutex per
 * shard, taken only on this path. hb_large_usable reads the
 * block's own header and takes no lock.
 *
 * Errors follow allocator.h: NULL with errno = ENOMEM.
 */
#ifndef HB_LARGE_H
#define HB_LARGE_H

#include "os.h"
#include "spans.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A span idle this long goes back to the OS (os.h says why 1 s). */
#define HB_LARGE_DECAY_MS HB_DECAY_MS
/* The cache may always hold this much; more only while the live large
 * bytes are four times it (a program with 1 GiB of buffers churns more). */
#define HB_LARGE_CACHE_MIN ((size_t)64 << 20)

/* Shards: a thread takes its large blocks from one of these (threads in
 * turn, round the shards), and a block goes back to its own shard's cache
 * whichever thread frees it. Threads resizing large blocks then meet on
 * no lock and no cache line, as on one thread; spans of one shard merge
 * only with spans of the same shard. */
#define HB_LARGE_SHARDS 4

typedef struct hb_large_shard {
    pthread_mutex_t lock;
    struct hb_large *owner;
    /* Read by stats and by the other shards, from any thread. */
    _Atomic uint64_t live_bytes;     /* usable bytes of live blocks */
    _Atomic uint64_t os_bytes;       /* mapped: live blocks' mappings and the cache */
    _Atomic uint64_t released_bytes; /* unmapped, cumulative */
    _Atomic uint64_t cache_bytes;    /* cache.bytes, for the others to read */
    _Atomic uint64_t oldest_ms;      /* idle time of the oldest cached span, or earlier */
    uint64_t swept_ms;               /* when this shard last looked at the others' decay */
    /* Every live block, so destroy can unmap it (large.c: a table of
     * slots, mapped, with a chain of the free ones). */
    uintptr_t *live;
    size_t live_cap, live_used, live_free, nlive;
    hb_spans cache;
} __attribute__((aligned(64))) hb_large_shard;

/* In zeroed memory (a fresh mapping, static storage): init then touches a
 * line per shard, and a shard no thread uses costs no page. */
typedef struct hb_large {
    hb_large_shard shard[HB_LARGE_SHARDS];
} hb_large;

/* L must be zeroed memory (see hb_large). */
int hb_large_init(hb_large *L);
/* Unmaps every live and cached block; L is zeroed again. */
void hb_large_destroy(hb_large *L);

/* The instance's counts, summed over its shards (each shard's lock taken
 * in turn for the last three). */
typedef struct hb_large_counts {
    uint64_t live_bytes, os_bytes, released_bytes; /* as in hb_large_shard */
    uint64_t cache_bytes;
    size_t cache_spans, live_blocks;
} hb_large_counts;
void hb_large_count(hb_large *L, hb_large_counts *c);

/* `align` a power of two (16 if less); the block is `size` bytes or more. */
void *hb_large_alloc(hb_large *L, size_t align, size_t size);
/* As hb_large_alloc (alignment 16), every byte zero: calloc's large path.
 * A fresh mapping is not written (its pages stay out of RSS until used). */
void *hb_large_alloc_zeroed(hb_large *L, size_t size);
void hb_large_free(hb_large *L, void *p);
/* A backend's free hands hb_large_free what its region map does not know,
 * except the blocks for which this is 1: in a drop-in library (dropin.c,
 * which defines it in dropin_unity.c), the bootstrap blocks made while the
 * instance initialised, so that its free need not test for them first. */
#ifndef HB_DROPIN_FOREIGN
#define HB_DROPIN_FOREIGN(p) 0
#endif
/* Resize in place or by moving the mapping (mremap: pages move, bytes are
 * not copied). A block that grows gets as much room again as asked (a
 * quarter from 64 MiB), untouched pages that cost no RSS; one that must
 * move lands in address space reserved for eight times its size (PROT_NONE:
 * no memory, no commit charge), over which later growths extend it in
 * place. So a block grown by small steps moves its pages a handful of
 * times, not once per growth. NULL with errno = ENOMEM when nothing works;
 * the block is then untouched and the caller copies. */
void *hb_large_realloc(hb_large *L, void *p, size_t new_size);
size_t hb_large_usable(const void *p);

/* Fork handlers: hold and release every shard's lock around fork(). */
void hb_large_lock(hb_large *L);
void hb_large_unlock(hb_large *L);

#endif
