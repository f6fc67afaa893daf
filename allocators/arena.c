/* arena.c -- CPython obmalloc's design, made thread-safe without a global lock.
 *
 * Layout (as obmalloc): 16-byte size classes up to 512 B, 16 KiB pools,
 * 1 MiB arenas. An arena is one HB_REGION mapping tagged ARENA_TAG in the
 * region map, so free() tells small from large with one byte load. Pools are
 * 16 KiB aligned inside it, so a block's pool header is p & ~(POOL_SIZE - 1);
 * the arena's own header sits in pool 0 just after that pool's header, which
 * keeps all 64 pools usable.
 *
 * Threads. Every thread attached to an instance owns a heap (usedpools,
 * arenas) that only it touches, so alloc and an owner's free take no lock
 * and no atomic read-modify-write. A block freed by another thread is pushed
 * on its owner heap's remote list (a Treiber stack: push only, the owner
 * takes the whole list with one exchange, so there is no ABA). A heap whose
 * thread detaches or exits is abandoned, never freed: its blocks stay valid,
 * and it is adopted whole (as mimalloc reclaims abandoned segments), pools
 * and all, by whichever comes first:
 *   - a thread that attaches and has no heap takes it as its own;
 *   - a thread with a heap that frees one of its blocks takes it as a
 *     second heap it owns (at most ADOPT_MAX): its frees into it are then
 *     local, with no atomic, instead of a push per free onto a list no one
 *     drains. It never allocates from it; once every block is back (live
 *     0, so no other thread can hold one and push), the heap is trimmed and
 *     left for the next thread that attaches.
 * That is the server pattern Larson & Krishnan's benchmark measures: a
 * thread exits and its successor frees the blocks it made.
 *
 * Memory comes only from os.h, never from malloc: this file is also the
 * drop-in malloc of libheapbench_arena.so, so nothing here may allocate.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "allocator.h"
#include "os.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))

#define ARENA_TAG 1 /* region-map tag of our arenas; freelist.c uses 2 */
#define POOL_SHIFT 14
#define POOL_SIZE ((size_t)1 << POOL_SHIFT)
#define NPOOLS ((uint32_t)(HB_REGION / POOL_SIZE)) /* 64 pools per arena */
#define SMALL_MAX 512
/* Class index is (size + 15) >> 4, with size 0 folded onto index 1, so the
 * classes are 1..32 and the block size is index * 16. */
#define NCLASS 33
#define POOL_HDR 64 /* first block offset of pools 1..63: one cache line */
/* Pool 0 also carries the arena header. Both offsets are multiples of 64,
 * so a class whose size is a multiple of an alignment <= 64 keeps it. */
#define POOL0_HDR (POOL_HDR + 64)
#define SMALL_ALIGN_MAX 64
/* Dead heaps one heap may own beside itself. A thread meets a new one only
 * when another thread has died holding blocks it frees; the adopted heaps
 * empty and are dropped as their blocks come back, so a few suffice, and
 * the loop over them on a non-local free stays short. */
#define ADOPT_MAX 4

/* Large-block cache. python3 under the drop-in sends us only what pymalloc
 * does not take, i.e. nearly all its traffic is 0.5-64 KiB blocks, each an
 * mmap/munmap pair (and page faults) without a cache; a dict of a few
 * thousand such values is freed and rebuilt at once, so a cache of a few
 * dozen entries misses. Hence buckets by mapping size in pages, bounded in
 * bytes rather than entries; beyond the bound blocks go straight back. */
#define LCACHE_BYTES ((size_t)32 << 20)
#define LBUCKETS 16               /* exact page counts 1..16 */
#define LBIG_N 32                 /* mappings above 16 pages: a best-fit list */
#define LCACHE_ONE_MAX ((size_t)4 << 20) /* larger blocks go straight back */

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
} pool;

typedef struct arena {
    heap *heap;
    pool *freepools;          /* pools handed back, linked by nextpool */
    char *pool_address;       /* next never-carved pool */
    uint32_t nfreepools;      /* freepools plus never-carved pools */
    uint32_t ntotalpools;
    struct arena *nextarena;  /* usable list: arenas with a free pool, */
    struct arena *prevarena;  /* sorted by nfreepools ascending */
    struct arena *allnext;    /* every arena of the heap (destroy) */
    struct arena *allprev;
} arena;

_Static_assert(sizeof(pool) <= POOL_HDR, "pool header must fit its cache line");
_Static_assert(POOL_HDR + sizeof(arena) <= POOL0_HDR, "arena header must fit pool 0");

struct inst;

struct heap {
    pool *used[NCLASS];           /* obmalloc's usedpools: pools with a free block */
    pool *usedtail[NCLASS];       /* their last pool (see free_slow) */
    /* Written by the owner only, read by stats() from any thread. */
    _Atomic uint64_t live, os, released;
    arena *usable;                /* obmalloc's usable_arenas */
    arena *lasta[NPOOLS + 1];     /* obmalloc's nfp2lasta: last arena with n free pools */
    arena *all;
    struct inst *inst;
    heap *allnext;                /* instance's list of heaps (under inst lock) */
    heap *abandoned_next;         /* instance's abandoned list (under inst lock) */
    heap *adopted[ADOPT_MAX];     /* dead heaps this one owns (owner only) */
    uint32_t nadopted;
    /* Other threads write this line; keep it off the owner's lines. */
    _Alignas(64) _Atomic(block *) remote;
    _Atomic int dead; /* on the abandoned list: a freeing thread may adopt it */
};

/* The 32 bytes just below every large block. */
typedef struct lhdr {
    struct lhdr *prev, *next; /* instance's live list, so destroy reclaims it */
    void *raw;                /* what hb_large_alloc returned */
    size_t usable;
} lhdr;

typedef struct inst {
    uint64_t id;              /* unique per init: the TLS cache key (addresses get reused) */
    pthread_key_t key;        /* this thread's heap, and its exit destructor */
    size_t map_size;
    pthread_mutex_t lock;     /* heaps, abandoned, large list and cache; rare paths only */
    heap *heaps;
    heap *abandoned;
    hb_large_counters large;
    lhdr *large_live;
    lhdr *lbucket[LBUCKETS + 1]; /* cached mappings of exactly i pages, by next */
    lhdr *lbig;                  /* cached mappings of more pages, by next */
    unsigned lbig_n;
    size_t lcache_bytes;         /* mapped bytes of all cached blocks */
    struct inst *gnext, *gprev; /* every instance, for the fork handlers */
} inst;

/* Instance list for pthread_atfork: lock order is g_lock, then inst->lock. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static inst *g_insts;
static _Atomic uint64_t g_next_id = 1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_once_err;

/* One-entry cache of this thread's heap: alloc/free on the owning thread cost
 * a TLS load and a compare. initial-exec because the drop-in is preloaded and
 * the general-dynamic model's __tls_get_addr may allocate. */
typedef struct tcache {
    uint64_t id;
    heap *heap;
} tcache;
static _Thread_local tcache tc __attribute__((tls_model("initial-exec")));

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

static inline void ctr_add(_Atomic uint64_t *c, uint64_t d)
{
    /* Single writer: a plain load and store, no locked instruction. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                          memory_order_relaxed);
}

/* ---------------------------------------------------------------- arenas */

static void arena_release(heap *h, arena *a)
{
    char *base = (char *)a - POOL_HDR;
    if (a->allprev)
        a->allprev->allnext = a->allnext;
    else
        h->all = a->allnext;
    if (a->allnext)
        a->allnext->allprev = a->allprev;
    /* Untag first: once unmapped the range may come back as a large block. */
    hb_region_set(base, 0);
    hb_os_unmap(base, HB_REGION);
    ctr_add(&h->os, -(uint64_t)HB_REGION);
    ctr_add(&h->released, HB_REGION);
}

static arena *arena_new(heap *h)
{
    char *base = hb_os_map(HB_REGION, HB_REGION);
    if (!base)
        return NULL;
    if (hb_region_set(base, ARENA_TAG) != 0) {
        hb_os_unmap(base, HB_REGION);
        errno = ENOMEM;
        return NULL;
    }
    arena *a = (arena *)(base + POOL_HDR);
    a->heap = h;
    a->freepools = NULL;
    a->pool_address = base;
    a->nfreepools = a->ntotalpools = NPOOLS;
    a->nextarena = a->prevarena = NULL;
    a->allprev = NULL;
    a->allnext = h->all;
    if (h->all)
        h->all->allprev = a;
    h->all = a;
    ctr_add(&h->os, HB_REGION);
    return a;
}

/* obmalloc's allocate_from_new_pool, arena half: a pool from the head of
 * usable_arenas, the arena with the fewest free pools, so the emptier
 * arenas drain and can go back to the OS. */
static pool *pool_take(heap *h)
{
    arena *a = h->usable;
    if (!a) {
        a = arena_new(h);
        if (!a)
            return NULL;
        h->usable = a;
        h->lasta[a->nfreepools] = a;
    }
    if (h->lasta[a->nfreepools] == a)
        h->lasta[a->nfreepools] = NULL; /* it was the last with that count */
    if (a->nfreepools > 1)
        h->lasta[a->nfreepools - 1] = a; /* it becomes the first, hence last, of count-1 */
    pool *p = a->freepools;
    if (p) {
        a->freepools = p->nextpool;
    } else {
        p = (pool *)a->pool_address;
        a->pool_address += POOL_SIZE;
    }
    if (--a->nfreepools == 0) {
        h->usable = a->nextarena;
        if (h->usable)
            h->usable->prevarena = NULL;
        a->nextarena = a->prevarena = NULL;
    }
    return p;
}

/* obmalloc's insert_to_freepool: an empty pool goes back to its arena and
 * the arena slides right to keep usable_arenas sorted. */
static void pool_give_back(heap *h, pool *p)
{
    arena *a = arena_of(p);
    p->nextpool = a->freepools;
    a->freepools = p;
    uint32_t nf = a->nfreepools;
    arena *lastnf = h->lasta[nf];
    if (lastnf == a) {
        arena *prev = a->prevarena;
        h->lasta[nf] = (prev && prev->nfreepools == nf) ? prev : NULL;
    }
    a->nfreepools = ++nf;

    /* Wholly free: give it back unless it is the last in the list. Like
     * obmalloc since bpo-37257, that keeps at most one free arena cached,
     * so a loop allocating and freeing at an arena boundary does not
     * mmap/munmap (and refault 1 MiB) every iteration; the cost is up to
     * 1 MiB held per heap, which heap_trim gives back on detach. */
    if (nf == a->ntotalpools && a->nextarena) {
        if (a->prevarena)
            a->prevarena->nextarena = a->nextarena;
        else
            h->usable = a->nextarena;
        a->nextarena->prevarena = a->prevarena;
        arena_release(h, a);
        return;
    }
    if (nf == 1) { /* it was full, hence off the list: it goes first */
        a->nextarena = h->usable;
        a->prevarena = NULL;
        if (h->usable)
            h->usable->prevarena = a;
        h->usable = a;
        if (!h->lasta[1])
            h->lasta[1] = a;
        return;
    }
    if (!h->lasta[nf])
        h->lasta[nf] = a;
    if (a == lastnf)
        return; /* still in order */
    /* Move right, after the last arena that had its old count. */
    if (a->prevarena)
        a->prevarena->nextarena = a->nextarena;
    else
        h->usable = a->nextarena;
    a->nextarena->prevarena = a->prevarena;
    a->prevarena = lastnf;
    a->nextarena = lastnf->nextarena;
    if (a->nextarena)
        a->nextarena->prevarena = a;
    lastnf->nextarena = a;
}

/* Give back the one wholly free arena pool_give_back keeps, if any. */
static void heap_trim(heap *h)
{
    arena *a = h->lasta[NPOOLS];
    if (!a || a->nfreepools != a->ntotalpools)
        return;
    arena *prev = a->prevarena;
    h->lasta[NPOOLS] = (prev && prev->nfreepools == NPOOLS) ? prev : NULL;
    if (prev)
        prev->nextarena = a->nextarena;
    else
        h->usable = a->nextarena;
    if (a->nextarena)
        a->nextarena->prevarena = prev;
    arena_release(h, a);
}

/* ------------------------------------------------------------------ pools */

static void pool_exhausted(heap *h, pool *p);

static inline void *pool_pop(heap *h, pool *p)
{
    block *b = p->freeblock;
    p->freeblock = b->next;
    p->count++;
    ctr_add(&h->live, p->bsize);
    if (UNLIKELY(!p->freeblock))
        pool_exhausted(h, p);
    return b;
}

static void free_slow(heap *h, pool *p, block *last);

static inline void local_free(heap *h, pool *p, block *b)
{
    block *last = p->freeblock;
    b->next = last;
    p->freeblock = b;
    ctr_add(&h->live, -(uint64_t)p->bsize);
    if (UNLIKELY(--p->count == 0 || !last))
        free_slow(h, p, last);
}

/* Take back every block other threads freed: one exchange for the lot. */
static void drain_remote(heap *h)
{
    if (!atomic_load_explicit(&h->remote, memory_order_relaxed))
        return;
    block *b = atomic_exchange_explicit(&h->remote, NULL, memory_order_acquire);
    while (b) {
        block *next = b->next;
        local_free(h, pool_of(b), b);
        b = next;
    }
}

static void heap_trim(heap *h);
static void heap_drop_adopted(heap *h, uint32_t i);

/* The owner's regular chance to take back remote frees, its own and those
 * of the dead heaps it adopted; an adopted heap whose blocks are all back
 * is let go. */
static void drain_all(heap *h)
{
    drain_remote(h);
    for (uint32_t i = h->nadopted; i-- > 0;) {
        heap *d = h->adopted[i];
        drain_remote(d);
        if (atomic_load_explicit(&d->live, memory_order_relaxed) == 0)
            heap_drop_adopted(h, i);
    }
}

/* The freelist ran dry: bump one never-used block (obmalloc hands them out
 * one at a time so untouched pages stay untouched), or the pool is full and
 * leaves usedpools. Also the owner's regular chance to drain remote frees. */
static NOINLINE void pool_exhausted(heap *h, pool *p)
{
    if (p->nextoffset <= p->maxnextoffset) {
        block *b = (block *)((char *)p + p->nextoffset);
        p->nextoffset += p->bsize;
        b->next = NULL;
        p->freeblock = b;
    } else {
        pool *next = p->nextpool; /* p is the head: we only allocate from there */
        h->used[p->szidx] = next;
        if (next)
            next->prevpool = NULL;
        else
            h->usedtail[p->szidx] = NULL;
    }
    drain_all(h);
}

static NOINLINE void free_slow(heap *h, pool *p, block *last)
{
    if (p->count == 0) {
        if (last) { /* it was on usedpools */
            if (p->prevpool)
                p->prevpool->nextpool = p->nextpool;
            else
                h->used[p->szidx] = p->nextpool;
            if (p->nextpool)
                p->nextpool->prevpool = p->prevpool;
            else
                h->usedtail[p->szidx] = p->prevpool;
        }
        pool_give_back(h, p);
        return;
    }
    /* It was full: back on usedpools, but at the tail where obmalloc puts it
     * at the front. Under random frees the front makes nearly every
     * operation toggle a pool full/non-full through both slow paths (48% of
     * operations with 10k live blocks); at the tail a pool gathers frees
     * before it is allocated from again (4%). */
    pool *tail = h->usedtail[p->szidx];
    p->nextpool = NULL;
    p->prevpool = tail;
    if (tail)
        tail->nextpool = p;
    else
        h->used[p->szidx] = p;
    h->usedtail[p->szidx] = p;
}

static NOINLINE void *alloc_slow(heap *h, size_t c)
{
    drain_all(h);
    pool *p = h->used[c];
    if (!p) {
        p = pool_take(h);
        if (!p)
            return NULL;
        uint32_t first = ((uintptr_t)p & (HB_REGION - 1)) == 0 ? POOL0_HDR : POOL_HDR;
        uint32_t bsize = (uint32_t)c << 4;
        p->heap = h;
        p->szidx = (uint32_t)c;
        p->bsize = bsize;
        p->count = 0;
        p->freeblock = (block *)((char *)p + first);
        p->freeblock->next = NULL;
        p->nextoffset = first + bsize;
        p->maxnextoffset = (uint32_t)POOL_SIZE - bsize;
        p->nextpool = p->prevpool = NULL;
        h->used[c] = h->usedtail[c] = p;
    }
    return pool_pop(h, p);
}

/* ------------------------------------------------------------------ heaps */

static void inst_lock(inst *in)
{
    pthread_mutex_lock(&in->lock);
}

static void inst_unlock(inst *in)
{
    pthread_mutex_unlock(&in->lock);
}

/* Put a heap no thread owns any more on the abandoned list. */
static void heap_leave(heap *h)
{
    inst *in = h->inst;
    drain_remote(h);
    heap_trim(h);
    inst_lock(in);
    h->abandoned_next = in->abandoned;
    in->abandoned = h;
    atomic_store_explicit(&h->dead, 1, memory_order_relaxed);
    inst_unlock(in);
}

/* Leave a heap, and the dead heaps it adopted, for adoption. Their blocks
 * stay valid; frees from any thread go to their remote lists until an
 * adopter drains them. */
static void heap_abandon(heap *h)
{
    if (tc.heap == h) {
        tc.id = 0;
        tc.heap = NULL;
    }
    while (h->nadopted)
        heap_drop_adopted(h, h->nadopted - 1);
    heap_leave(h);
}

/* Let go of adopted heap i: empty, it waits for a thread that attaches; not
 * empty (its owner is leaving), for any adopter. */
static void heap_drop_adopted(heap *h, uint32_t i)
{
    heap *d = h->adopted[i];
    h->adopted[i] = h->adopted[--h->nadopted];
    heap_leave(d);
}

/* A thread with heap `mine` frees a block of the dead heap d: take d off the
 * abandoned list (unless another thread got there first) and own it beside
 * mine. 1 when mine now owns d. */
static NOINLINE int heap_adopt(heap *mine, heap *d)
{
    if (mine->nadopted == ADOPT_MAX)
        return 0;
    inst *in = mine->inst;
    int got = 0;
    inst_lock(in);
    for (heap **pp = &in->abandoned; *pp; pp = &(*pp)->abandoned_next) {
        if (*pp == d) {
            *pp = d->abandoned_next;
            atomic_store_explicit(&d->dead, 0, memory_order_relaxed);
            got = 1;
            break;
        }
    }
    inst_unlock(in);
    if (!got)
        return 0;
    mine->adopted[mine->nadopted++] = d;
    drain_remote(d);
    return 1;
}

/* pthread key destructor: the thread exits without having detached. */
static void heap_tsd_dtor(void *v)
{
    heap_abandon(v);
}

static heap *heap_new(inst *in)
{
    size_t page = hb_os_page_size();
    size_t size = (sizeof(heap) + page - 1) & ~(page - 1);
    heap *h = hb_os_map(size, page); /* zero-filled: every list starts empty */
    if (!h)
        return NULL;
    h->inst = in;
    atomic_init(&h->remote, NULL);
    inst_lock(in);
    h->allnext = in->heaps;
    in->heaps = h;
    inst_unlock(in);
    return h;
}

/* The calling thread's heap, adopting an abandoned one or making one. */
static NOINLINE heap *heap_attach(inst *in)
{
    heap *h = pthread_getspecific(in->key);
    if (!h) {
        inst_lock(in);
        h = in->abandoned;
        if (h)
            in->abandoned = h->abandoned_next;
        inst_unlock(in);
        if (!h && !(h = heap_new(in))) {
            errno = ENOMEM;
            return NULL;
        }
        atomic_store_explicit(&h->dead, 0, memory_order_relaxed);
        if (pthread_setspecific(in->key, h) != 0) {
            heap_abandon(h);
            errno = ENOMEM;
            return NULL;
        }
        drain_remote(h);
    }
    tc.id = in->id;
    tc.heap = h;
    return h;
}

/* For free: this thread's heap if it has one, never creating one (a thread
 * that only frees pushes to the owners and needs no heap). */
static NOINLINE heap *heap_lookup(inst *in)
{
    heap *h = pthread_getspecific(in->key);
    if (h) {
        tc.id = in->id;
        tc.heap = h;
    }
    return h;
}

static inline heap *heap_mine(inst *in)
{
    return LIKELY(tc.id == in->id) ? tc.heap : heap_lookup(in);
}

/* ------------------------------------------------------------ large blocks */

static inline lhdr *lhdr_of(const void *p)
{
    return (lhdr *)p - 1;
}

static void large_link(inst *in, lhdr *l)
{
    l->prev = NULL;
    l->next = in->large_live;
    if (l->next)
        l->next->prev = l;
    in->large_live = l;
}

static void large_unlink(inst *in, lhdr *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        in->large_live = l->next;
    if (l->next)
        l->next->prev = l->prev;
}

/* Only blocks with our plain 32-byte prefix are cached: their mapping is
 * usable + LPRE bytes, so a bucket's blocks are interchangeable. */
#define LPRE (2 * sizeof(lhdr))

static inline size_t lcache_pages(size_t size)
{
    size_t page = hb_os_page_size();
    return (size + LPRE + page - 1) / page;
}

/* Under the lock. A block may be up to twice the pages asked: a bigger one
 * would waste memory it has already faulted in. */
static lhdr *lcache_take(inst *in, size_t align, size_t size)
{
    if (align > sizeof(lhdr) || size > LCACHE_ONE_MAX)
        return NULL;
    size_t np = lcache_pages(size), page = hb_os_page_size();
    lhdr *l = NULL;
    if (np <= LBUCKETS) {
        for (size_t k = np; k <= 2 * np && k <= LBUCKETS && !l; k++) {
            l = in->lbucket[k];
            if (l)
                in->lbucket[k] = l->next;
        }
    } else {
        lhdr **best = NULL;
        for (lhdr **pp = &in->lbig; *pp; pp = &(*pp)->next) {
            size_t u = (*pp)->usable;
            if (u >= size && u <= 2 * size + page && (!best || u < (*best)->usable))
                best = pp;
        }
        if (best) {
            l = *best;
            *best = l->next;
            in->lbig_n--;
        }
    }
    if (l)
        in->lcache_bytes -= l->usable + LPRE;
    return l;
}

/* Under the lock: 1 when kept. */
static int lcache_put(inst *in, lhdr *l)
{
    size_t bytes = l->usable + LPRE, page = hb_os_page_size();
    if ((char *)(l + 1) - (char *)l->raw != sizeof(lhdr) || l->usable > LCACHE_ONE_MAX ||
        in->lcache_bytes + bytes > LCACHE_BYTES)
        return 0;
    size_t np = bytes / page;
    if (np <= LBUCKETS) {
        l->next = in->lbucket[np];
        in->lbucket[np] = l;
    } else {
        if (in->lbig_n == LBIG_N)
            return 0;
        l->next = in->lbig;
        in->lbig = l;
        in->lbig_n++;
    }
    in->lcache_bytes += bytes;
    return 1;
}

/* Unmap a large block; its bytes were taken out of live when it was cached,
 * or are counted there still when `cached` is 0. */
static void large_unmap(inst *in, lhdr *l, int cached)
{
    size_t full = hb_large_usable(l->raw);
    /* hb_large_free takes the mapping's full usable size out of live; we
     * count only l->usable (see large_alloc), or nothing when cached. */
    atomic_fetch_add_explicit(&in->large.live_bytes, cached ? full : full - l->usable,
                              memory_order_relaxed);
    hb_large_free(&in->large, l->raw);
}

static NOINLINE void *large_alloc(inst *in, size_t align, size_t size)
{
    if (align < 16)
        align = 16;
    if (size > ((size_t)1 << 46) || align > ((size_t)1 << 40)) {
        errno = ENOMEM;
        return NULL;
    }
    inst_lock(in);
    lhdr *l = lcache_take(in, align, size);
    if (l)
        large_link(in, l);
    inst_unlock(in);
    if (l) {
        atomic_fetch_add_explicit(&in->large.live_bytes, l->usable, memory_order_relaxed);
        return l + 1;
    }
    /* Our header goes in front, so ask hb_large_alloc for `pre` more bytes
     * aligned to `pre`: the block at raw + pre keeps any alignment. */
    size_t pre = align > sizeof(lhdr) ? align : sizeof(lhdr);
    char *raw = hb_large_alloc(&in->large, pre, size + pre);
    if (!raw) {
        errno = ENOMEM;
        return NULL;
    }
    l = (lhdr *)(raw + pre) - 1;
    l->raw = raw;
    l->usable = hb_large_usable(raw) - pre;
    /* live counts what usable_size reports, not our header. */
    atomic_fetch_sub_explicit(&in->large.live_bytes, pre, memory_order_relaxed);
    inst_lock(in);
    large_link(in, l);
    inst_unlock(in);
    return l + 1;
}

static NOINLINE void large_free(inst *in, void *p)
{
    lhdr *l = lhdr_of(p);
    atomic_fetch_sub_explicit(&in->large.live_bytes, l->usable, memory_order_relaxed);
    inst_lock(in);
    large_unlink(in, l);
    int kept = lcache_put(in, l);
    inst_unlock(in);
    if (!kept)
        large_unmap(in, l, 1);
}

/* ---------------------------------------------------------- the interface */

static void fork_prepare(void)
{
    pthread_mutex_lock(&g_lock);
    for (inst *in = g_insts; in; in = in->gnext)
        inst_lock(in);
}

/* In the child, heaps attached to the parent's other threads stay attached
 * to nobody: they may have been mid-update, so they are leaked rather than
 * adopted. Their blocks stay valid and can still be freed. */
static void fork_release(void)
{
    for (inst *in = g_insts; in; in = in->gnext)
        inst_unlock(in);
    pthread_mutex_unlock(&g_lock);
}

static void register_fork(void)
{
    g_once_err = pthread_atfork(fork_prepare, fork_release, fork_release);
}

static int arena_init(void **state, const char *options)
{
    (void)options; /* none yet */
    *state = NULL;
    pthread_once(&g_once, register_fork);
    if (g_once_err)
        return g_once_err;
    size_t page = hb_os_page_size();
    size_t size = (sizeof(inst) + page - 1) & ~(page - 1);
    inst *in = hb_os_map(size, page);
    if (!in)
        return ENOMEM;
    in->map_size = size;
    in->id = atomic_fetch_add_explicit(&g_next_id, 1, memory_order_relaxed);
    int err = pthread_mutex_init(&in->lock, NULL);
    if (err) {
        hb_os_unmap(in, size);
        return err;
    }
    err = pthread_key_create(&in->key, heap_tsd_dtor);
    if (err) {
        pthread_mutex_destroy(&in->lock);
        hb_os_unmap(in, size);
        return err;
    }
    pthread_mutex_lock(&g_lock);
    in->gnext = g_insts;
    if (g_insts)
        g_insts->gprev = in;
    g_insts = in;
    pthread_mutex_unlock(&g_lock);
    *state = in;
    return 0;
}

static void *arena_alloc(void *state, size_t size)
{
    inst *in = state;
    if (LIKELY(size <= SMALL_MAX)) {
        heap *h = LIKELY(tc.id == in->id) ? tc.heap : heap_attach(in);
        if (UNLIKELY(!h))
            return NULL;
        size_t c = class_index(size);
        pool *p = h->used[c];
        if (LIKELY(p))
            return pool_pop(h, p);
        return alloc_slow(h, c);
    }
    return large_alloc(in, 16, size);
}

static void *arena_alloc_aligned(void *state, size_t align, size_t size)
{
    if (align <= 16)
        return arena_alloc(state, size);
    if (align <= SMALL_ALIGN_MAX && size <= SMALL_MAX) {
        /* A class whose size is a multiple of align: every block of its
         * pools is aligned (pools and first offsets are 64-aligned). */
        size_t s = size ? (size + align - 1) & ~(align - 1) : align;
        if (s <= SMALL_MAX)
            return arena_alloc(state, s);
    }
    return large_alloc(state, align, size);
}

/* A block of another heap: local if this thread owns that heap too (it
 * adopted it), or adopts it now if it is dead; otherwise pushed on the
 * owner's remote list, which the owner, or its adopter, drains. */
static NOINLINE void free_other(inst *in, heap *owner, pool *pl, void *p)
{
    heap *mine = heap_mine(in);
    if (mine) {
        for (uint32_t i = 0; i < mine->nadopted; i++)
            if (mine->adopted[i] == owner) {
                local_free(owner, pl, p);
                return;
            }
        if (atomic_load_explicit(&owner->dead, memory_order_relaxed) && heap_adopt(mine, owner)) {
            local_free(owner, pl, p);
            return;
        }
    }
    block *b = p;
    block *head = atomic_load_explicit(&owner->remote, memory_order_relaxed);
    do
        b->next = head;
    while (!atomic_compare_exchange_weak_explicit(&owner->remote, &head, b, memory_order_release,
                                                  memory_order_relaxed));
}

static void arena_free(void *state, void *p, size_t size)
{
    (void)size;
    inst *in = state;
    if (LIKELY(hb_region_tag(p) == ARENA_TAG)) {
        pool *pl = pool_of(p);
        heap *owner = pl->heap;
        if (LIKELY(owner == heap_mine(in))) {
            local_free(owner, pl, p);
            return;
        }
        free_other(in, owner, pl, p);
        return;
    }
    if (p)
        large_free(in, p);
}


static size_t arena_usable_size(void *state, const void *p)
{
    (void)state;
    if (hb_region_tag(p) == ARENA_TAG)
        return pool_of(p)->bsize;
    return lhdr_of(p)->usable;
}

static void *arena_realloc(void *state, void *p, size_t old_size, size_t new_size)
{
    (void)old_size;
    if (!p)
        return arena_alloc(state, new_size);
    size_t have;
    if (hb_region_tag(p) == ARENA_TAG) {
        have = pool_of(p)->bsize;
        if (new_size <= SMALL_MAX && (class_index(new_size) << 4) == have)
            return p;
    } else {
        /* In place unless it would waste more than half the block or fit
         * a size class. */
        have = lhdr_of(p)->usable;
        if (new_size <= have && new_size > SMALL_MAX && new_size >= have / 2)
            return p;
    }
    void *q = arena_alloc(state, new_size);
    if (!q)
        return NULL;
    memcpy(q, p, new_size < have ? new_size : have);
    arena_free(state, p, 0);
    return q;
}

static int arena_thread_attach(void *state)
{
    heap *h = heap_attach(state);
    if (!h)
        return ENOMEM;
    drain_remote(h);
    return 0;
}

static void arena_thread_detach(void *state)
{
    inst *in = state;
    heap *h = pthread_getspecific(in->key);
    if (!h)
        return;
    pthread_setspecific(in->key, NULL);
    heap_abandon(h);
}

static int arena_stats(void *state, hb_alloc_stats *out)
{
    inst *in = state;
    uint64_t live = 0, os = 0, released = 0;
    inst_lock(in);
    for (heap *h = in->heaps; h; h = h->allnext) {
        live += atomic_load_explicit(&h->live, memory_order_relaxed);
        os += atomic_load_explicit(&h->os, memory_order_relaxed);
        released += atomic_load_explicit(&h->released, memory_order_relaxed);
    }
    inst_unlock(in);
    out->have = HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED;
    out->live_bytes = live + atomic_load_explicit(&in->large.live_bytes, memory_order_relaxed);
    out->os_bytes = os + atomic_load_explicit(&in->large.os_bytes, memory_order_relaxed);
    out->released_bytes =
        released + atomic_load_explicit(&in->large.released_bytes, memory_order_relaxed);
    return 0;
}

static void arena_destroy(void *state)
{
    inst *in = state;
    if (!in)
        return;
    pthread_mutex_lock(&g_lock);
    if (in->gprev)
        in->gprev->gnext = in->gnext;
    else
        g_insts = in->gnext;
    if (in->gnext)
        in->gnext->gprev = in->gprev;
    pthread_mutex_unlock(&g_lock);
    pthread_key_delete(in->key);
    if (tc.id == in->id) {
        tc.id = 0;
        tc.heap = NULL;
    }
    size_t page = hb_os_page_size();
    size_t hsize = (sizeof(heap) + page - 1) & ~(page - 1);
    for (heap *h = in->heaps, *hn; h; h = hn) {
        hn = h->allnext;
        for (arena *a = h->all, *an; a; a = an) {
            an = a->allnext;
            char *base = (char *)a - POOL_HDR;
            hb_region_set(base, 0);
            hb_os_unmap(base, HB_REGION);
        }
        hb_os_unmap(h, hsize);
    }
    for (lhdr *l = in->large_live, *ln; l; l = ln) {
        ln = l->next;
        large_unmap(in, l, 0);
    }
    for (size_t k = 0; k <= LBUCKETS; k++)
        for (lhdr *l = in->lbucket[k], *ln; l; l = ln) {
            ln = l->next;
            large_unmap(in, l, 1);
        }
    for (lhdr *l = in->lbig, *ln; l; l = ln) {
        ln = l->next;
        large_unmap(in, l, 1);
    }
    pthread_mutex_destroy(&in->lock);
    hb_os_unmap(in, in->map_size);
}

const hb_allocator hb_arena_allocator = {
    .name = "arena",
    .doc = "obmalloc design: 16 B classes to 512 B, 16 KiB pools, 1 MiB arenas, per-thread heaps",
    .init = arena_init,
    .alloc = arena_alloc,
    .alloc_aligned = arena_alloc_aligned,
    .free = arena_free,
    .realloc = arena_realloc,
    .usable_size = arena_usable_size,
    .thread_attach = arena_thread_attach,
    .thread_detach = arena_thread_detach,
    .stats = arena_stats,
    .destroy = arena_destroy,
};
