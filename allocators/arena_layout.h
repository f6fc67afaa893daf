/* arena_layout.h -- arena.c's data layout: the constants, the structs of
 * arenas, pools, lifos, heaps and instances, and the address and size-class
 * arithmetic on them (pure functions of a pointer or a size, and the table
 * ). arena.c and arena_pools.c include it; the algorithms over these
 * structures are there. */
#ifndef HB_ARENA_LAYOUT_H
#define HB_ARENA_LAYOUT_H

#include "large.h"
#include "os.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))

#define ARENA_TAG 1 /* region-map tag of our arenas; freelist.c uses 2 */
#define MED_TAG 3   /* region-map tag of medium arenas */
#define POOL_SHIFT 14
#define POOL_SIZE ((size_t)1 << POOL_SHIFT)
#define NPOOLS ((uint32_t)(HB_REGION / POOL_SIZE)) /* 64 pools per arena */
#define SMALL_MAX 512
/* Class index is (size + 15) >> 4, with size 0 folded onto index 1, so the
 * classes are 1..32 and the block size is index * 16. */
#define NCLASS 33
#define POOL_HDR 64 /* first block offset of pools 1..63: one cache line */
/* Pool 0 also carries the arena header (two lines: see struct arena). Both
 * offsets are multiples of 64, so a class whose size is a multiple of an
 * alignment <= 64 keeps it. */
#define POOL0_HDR (POOL_HDR + 128)
#define SMALL_ALIGN_MAX 64
/* Dead heaps one heap may own beside itself. A thread meets a new one only
 * when another thread has died holding blocks it frees; the adopted heaps
 * empty and are dropped as their blocks come back, so a few suffice, and
 * the loop over them on a non-local free stays short. */
#define ADOPT_MAX 4
/* Last-freed stacks: a class holds at most LIFO_BYTES of blocks, and at
 * most LIFO_MAX of them (64 of 16 B .. 256 B, 32 of 512 B, 4 of 4 KiB,
 * none above 16 KiB): at most 1.3 MiB a heap, in blocks it had in use. */
#define LIFO_BYTES 16384u
#define LIFO_MAX 64u
/* Caches of other heaps' blocks (see "Blocks of other threads" in arena.c):
 * per class at most FOREIGN_BYTES (the option foreign=BYTES; 0 turns them
 * off), and at most FOREIGN_MAX blocks. 32 KiB since the caches became
 * arrays (2026-12-04): their spills got cheap, and against 64 KiB, 8
 * alternating runs of mixed_remote t2 medium took 3.7% longer with 1.9 MiB
 * (7%) less peak RSS; larson and xthread were no slower. */
#define FOREIGN_BYTES 32768u
#define FOREIGN_MAX 64u
/* Owners one spill of a foreign cache gathers blocks for before it pushes
 * them, a chain and one compare-and-swap per owner. */
#define SPILL_OWNERS 4
/* A living heap with at least IDLE_REMOTE_BYTES of blocks waiting on its
 * remote list is not taking them back (its thread waits in a join, or
 * works without allocating): a thread that frees more of its blocks, its
 * foreign cache of the class full, keeps them on its kept lists, at most
 * KEPT_BYTES in all, to allocate from, instead of adding them to that list
 * (see "Blocks of other threads" in arena.c). */
#define IDLE_REMOTE_BYTES (1u << 20)
/* Bits of a heap's help word (arena_heaps.c, "helping an idle owner"). */
#define HELP_CLAIM 1u /* a helper holds the heap */
#define HELP_AWAY 2u  /* helped, and its owner has not been back since */
#define KEPT_BYTES (2u << 20)
/* A pool free for PURGE_MS gives its pages back (MADV_DONTNEED), all but
 * the one holding its header (arena_pools.c). The option purge=MS sets it. */
#define PURGE_MS 30u
/* Left heaps that keep their free memory for the threads that attach
 * next (arena_heaps.c, hb_arena_heap_leave); the option warm=N sets it. */
#define WARM_HEAPS 5u
/* pool_exhausted carves, after the next never-used block, those that lie
 * wholly in the same aligned 4 KiB (the smallest page): a carve touches no
 * page that its first block does not. */
#define HB_CARVE_PAGE ((uintptr_t)4096)

/* Medium classes: 8 per doubling above 512 B, index NCLASS + (b - 9) * 8 + j
 * for sizes in (2^b, 2^(b+1)]. 64 KiB pools hold 2 blocks of 32 KiB and
 * 113 of 576 B; their headers are at MPOOL_DESC + 64 * i in the region. */
#define MED_MAX ((size_t)32768)
#define NMED 48
#define NCLASS_ALL (NCLASS + NMED)
#define MPOOL_SHIFT 16
#define MPOOL_SIZE ((size_t)1 << MPOOL_SHIFT)
#define NMPOOLS ((uint32_t)(HB_REGION / MPOOL_SIZE))
#define MPOOL_DESC (POOL_HDR + 128) /* after the arena header */
#define MPOOL0_DATA ((size_t)4096)  /* pool 0's blocks start after the header page */

typedef struct block {
    struct block *next;
} block;

typedef struct heap heap;

/* Everything the fast paths touch lives in this one cache line. */
typedef struct pool {
    block *freeblock;          /* free blocks; never NULL while on usedpools */
    uint32_t count;            /* blocks out, remote frees not yet drained included */
    uint32_t bsize;            /* block size of the class */
    heap *heap;                /* owner: set when the pool is carved, read by other threads */
    struct pool *nextpool;     /* usedpools[szidx] list, or the arena's freepools */
    struct pool *prevpool;     /* usedpools[szidx] list */
    uint32_t nextoffset;       /* obmalloc's bump: next never-used block */
    uint32_t maxnextoffset;    /* last offset a block may start at */
    uint32_t szidx;
    uint32_t free_ms;          /* free: when it was given back (hb_os_now_ms, low bits) */
    uint32_t dirty;            /* free: its pages are still committed (arena_pools.c) */
} pool;

typedef struct arena {
    heap *heap;               /* owner of every pool in it: free's first read */
    pool *freepools;          /* pools handed back, linked by nextpool */
    char *pool_address;       /* next never-carved pool (medium: its header) */
    uint8_t nfreepools;       /* freepools plus never-carved pools */
    uint8_t ntotalpools;
    uint8_t medium;           /* 1: a medium arena (MED_TAG) */
    uint8_t ndirty;           /* free pools with pages committed: a prefix of freepools */
    uint32_t free_ms;         /* when it became wholly free (hb_os_now_ms, low bits) */
    struct arena *nextarena;  /* usable list: arenas with a free pool, */
    struct arena *prevarena;  /* sorted by nfreepools ascending */
    struct arena *allnext;    /* every arena of the heap (destroy) */
    struct arena *allprev;
    /* Class of each 16 KiB of the arena (a small pool, or a quarter of a
     * medium one), set when its pool is carved: free finds a block's owner
     * and class here, on the arena header's two lines (a few per heap, so
     * they stay cached), without reading the pool header (one line per
     * pool, 16 KiB apart, hence all in one L1 set). */
    _Alignas(64) uint8_t cls[NPOOLS];
} arena;

_Static_assert(sizeof(pool) <= POOL_HDR, "pool header must fit its cache line");
_Static_assert(POOL_HDR + sizeof(arena) <= POOL0_HDR, "arena header must fit pool 0");
_Static_assert(NCLASS_ALL <= 256, "a class index must fit arena.cls");
_Static_assert(MPOOL_DESC + NMPOOLS * POOL_HDR <= MPOOL0_DATA, "medium pool headers must fit the first page");

/* The arena lists of one kind of arena (small or medium), obmalloc's
 * usable_arenas and nfp2lasta. */
typedef struct arenas {
    arena *usable;
    arena *lasta[NPOOLS + 1];
} arenas;

struct inst;

/* A class's stack of last-freed blocks (see "Last freed, first reused" at
 * the top). Its blocks stay counted out of their pools. */
typedef struct lifo {
    block *head;
    uint16_t n, max; /* max 0: the class is not cached */
    uint16_t bsize;  /* at most MED_MAX */
    uint16_t take;   /* refills since the last flush, which set how many
                        blocks the next takes beyond the one asked (pool_take) */
} lifo;

/* A class's foreign cache (see "Blocks of other threads" in arena.c):
 * blocks of other heaps this heap's thread freed, the newest last. An
 * array rather than a stack linked through the blocks: sending blocks back
 * to their owners reads their addresses here, where a linked stack had to
 * read each block's link, cold by then. Its blocks stay counted out of
 * their owners' pools. */
typedef struct fcache {
    uint16_t n, max; /* max 0: the class is not cached */
    uint32_t bsize;
    block *slot[FOREIGN_MAX];
} fcache;

struct heap {
    lifo cache[NCLASS_ALL];       /* owner only */
    pool *used[NCLASS_ALL];       /* obmalloc's usedpools: pools with a free block */
    pool *usedtail[NCLASS_ALL];   /* their last pool (see free_slow) */
    /* Written by the owner only, read by stats() from any thread. */
    _Atomic uint64_t live, os, released;
    /* Bytes on the foreign caches: counted live by their owners, free here. */
    _Atomic uint64_t foreign_bytes;
    arenas kind[2];               /* small, medium */
    arena *all;
    struct inst *inst;
    heap *allnext;                /* instance's list of heaps (under inst lock) */
    heap *abandoned_next;         /* instance's abandoned list (under inst lock) */
    uint32_t ndirty;              /* free pools with pages committed, all arenas */
    uint32_t sweep_ms;            /* when arena_pools.c last purged them */
    heap *adopted[ADOPT_MAX];     /* dead heaps this one owns (owner only) */
    uint32_t nadopted;
    fcache foreign[NCLASS_ALL];   /* owner only: blocks of other heaps it freed */
    /* Owner only: blocks of idle heaps it freed past its foreign caches,
     * per class a stack linked through them, kept_bytes in all (counted in
     * foreign_bytes too). */
    block *kept[NCLASS_ALL];
    uint64_t kept_bytes;
    /* The owner's window (arena_heaps.h, hb_arena_owner_enter): busy while
     * its thread touches the pools; help's HELP_CLAIM while a helper does
     * (a thread that takes back the remote list of a heap whose thread has
     * stopped allocating, arena_heaps.c), HELP_AWAY from a help until the
     * owner's next window. The owner writes busy at each window; the
     * helpers write help rarely. */
    _Alignas(64) _Atomic uint32_t busy;
    _Atomic uint32_t help;
    /* Bytes the helpers took back into the pools, off live (folded into it
     * when the heap is left: only its owner writes live). */
    _Atomic uint64_t helped_live;
    uint8_t help_held;        /* under the instance lock: helped, holds free memory */
    uint8_t adoptee;          /* under the instance lock: owned as another's adopted heap */
    /* Other threads write this line; keep it off the owner's lines. */
    _Alignas(64) _Atomic(block *) remote;
    /* Bytes pushed on remote since the owner last took it (a hint: a push
     * and a take may cross). */
    _Atomic uint64_t remote_bytes;
    _Atomic int dead; /* on the abandoned list: a freeing thread may adopt it */
};

typedef struct inst {
    uint64_t id;              /* unique per init: the TLS cache key (addresses get reused) */
    pthread_key_t key;        /* this thread's heap, and its exit destructor */
    size_t map_size;
    uint32_t cache_bytes;     /* bound of a class's lifo, in bytes; 0 none ("cache=0") */
    uint32_t foreign_bytes;   /* bound of a class's foreign cache; 0 none ("foreign=0") */
    uint32_t purge_ms;        /* a free pool's pages go back after this ("purge=MS") */
    uint32_t warm;            /* left heaps that keep their memory ("warm=N") */
    uint32_t help;            /* idle owners helped ("help=0" turns it off) */
    pthread_mutex_t lock;     /* heaps and abandoned; rare paths only */
    heap *heaps;
    heap *abandoned;
    /* Some abandoned heap still holds free pools' pages or free arenas that
     * have not been idle long enough to go back (set and cleared under
     * lock; read without it as a hint), and when the last sweep of them
     * was (arena_pools.c, hb_arena_abandoned_sweep). */
    _Atomic int abandoned_held;
    _Atomic uint32_t abandoned_swept_ms;
    /* Some living heap a helper took back still holds free memory (set and
     * cleared under lock, read as a hint): the sweep goes back to it. */
    _Atomic int helped_held;
    hb_large large;           /* blocks above MED_MAX */
    struct inst *gnext, *gprev; /* every instance, for the fork handlers */
} inst;

static inline pool *pool_of(const void *p)
{
    return (pool *)((uintptr_t)p & ~(uintptr_t)(POOL_SIZE - 1));
}

static inline arena *arena_of(const void *p)
{
    return (arena *)(((uintptr_t)p & ~(uintptr_t)(HB_REGION - 1)) + POOL_HDR);
}

static inline size_t class_index(size_t size)
{
    return (size + 15 + (size == 0)) >> 4;
}

/* A medium block's pool header: in the region's first page. */
static inline pool *mpool_of(const void *p)
{
    uintptr_t base = (uintptr_t)p & ~(uintptr_t)(HB_REGION - 1);
    return (pool *)(base + MPOOL_DESC + (((uintptr_t)p - base) >> MPOOL_SHIFT) * POOL_HDR);
}

/* Index in arena.cls of block p: its 16 KiB slice of the arena. */
static inline size_t slice_of(const void *p)
{
    return ((uintptr_t)p & (HB_REGION - 1)) >> POOL_SHIFT;
}

/* Any block's pool header, small or medium, from the region's tag. */
static inline pool *block_pool(const void *p)
{
    return hb_region_tag_made(p) == ARENA_TAG ? pool_of(p) : mpool_of(p);
}

/* 513 B .. MED_MAX: the class index, then the class size. */
static inline size_t med_index(size_t size)
{
    size_t s = size - 1;
    unsigned b = 63u - (unsigned)__builtin_clzll(s); /* 9..14 */
    return NCLASS + (b - 9u) * 8u + ((s >> (b - 3u)) & 7u);
}

static inline uint32_t class_size(size_t c)
{
    if (c < NCLASS)
        return (uint32_t)c << 4;
    size_t m = c - NCLASS;
    return (uint32_t)((9 + m % 8) << (m / 8 + 6));
}

static inline void ctr_add(_Atomic uint64_t *c, uint64_t d)
{
    /* Single writer: a plain load and store, no locked instruction. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                          memory_order_relaxed);
}

#endif
