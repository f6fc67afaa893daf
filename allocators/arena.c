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
 * takes the whole list with one exchange, so there is no ABA), of carriers:
 * blocks that hold the addresses of other blocks of their class, so the
 * owner's drain reads addresses side by side instead of walking a chain
 * of blocks the other core wrote (struct carrier, arena_remote.c). A heap
 * whose thread detaches or exits is abandoned, never freed: its blocks
 * stay valid, and it is adopted whole (as mimalloc reclaims abandoned
 * segments), pools and all, by whichever comes first:
 *   - a thread with no heap takes it as its own: at its first
 *     allocation the heap left last, or at its first free of a dead
 *     heap's block that heap (a thread's heap is chosen at its first need,
 *     arena_thread_attach);
 *   - a thread with a heap that frees one of its blocks takes it as a
 *     second heap it owns (at most ADOPT_MAX): its frees into it are then
 *     local, with no atomic, instead of a push per free onto a list no one
 *     drains. It never allocates from it; once every block is back (live
 *     0, so no other thread can hold one and push), the heap gives back
 *     its free memory and is left for the next thread that attaches;
 *   - unless the thread's own heap holds less than half as much: then it
 *     takes the dead heap as its own and leaves its own (hb_arena_heap_swap).
 * A heap left keeps the memory freed in it lately, for the thread that
 * takes it next (a thread per task reuses it instead of refaulting it);
 * what stays idle goes back through the other heaps' sweeps, and a heap
 * left below the last WARM_HEAPS gives it all back at once (arena_heaps.c:
 * the abandoned list, hb_arena_heap_leave, hb_arena_abandoned_sweep).
 * That is the server pattern Larson & Krishnan's benchmark measures: a
 * thread exits and its successor frees the blocks it made.
 *
 * Above 512 B obmalloc hands a request to the platform's malloc, which here
 * is impossible (in the drop-in library this file *is* malloc) and was
 * slow when done as a mapping per block (a 513 B block took a page). So the
 * choice is explicit (docs/allocators.md): medium classes, eight per
 * doubling from 576 B to 32 KiB (at most 12.5% lost, as tcmalloc's), in
 * medium arenas: 1 MiB regions tagged MED_TAG, cut into sixteen 64 KiB
 * pools whose headers sit together in the region's first page (a 32 KiB
 * block would not leave room for an inline one). The pools are obmalloc's
 * own (the same struct, usedpools, bump and free list, arena list sorted
 * by free pools), so only the address arithmetic differs. Above 32 KiB,
 * large.c: a mapping per block, a cache of freed spans with decay, mremap.
 * Unlike obmalloc, a pool free for "purge=MS" (PURGE_MS) gives its pages
 * back though its arena is in use (arena_pools.c).
 *
 * Last freed, first reused. In front of the pools, each heap keeps per
 * class a bounded stack of the blocks its thread freed last (LIFO_BYTES,
 * at most LIFO_MAX blocks), and alloc takes from it first: the block
 * handed out is the one freed last, still in the cache, where obmalloc
 * hands out the head of its first used pool's free list, usually a block
 * freed long ago. A full stack sends its older half to the pools. Its
 * blocks stay counted out of their pools, so pools and arenas empty only
 * through obmalloc's own free; the stacks are flushed when the heap is
 * left. CPython keeps the same kind of list in front of obmalloc for its
 * hottest types (floats, tuples, lists, dicts: bounded free lists of dead
 * objects reused first); here it is per size class. Only the owner's
 * blocks go on its stacks; a block of another heap goes to that heap as
 * before. "cache=0" (init's options) turns the stacks off.
 *
 * Blocks of other threads ("foreign=BYTES", default FOREIGN_BYTES; 0 off).
 * A heap keeps per class a second bounded stack, of blocks of other
 * living heaps that its thread freed, and allocate from it when its own
 * stack is empty, as tcmalloc's thread cache does. Those blocks stay
 * counted out of their owners' pools (so ownership, the pools' counts and
 * adoption are as before), and the holder counts their bytes apart
 * (foreign_bytes, subtracted from live in stats); a full stack goes back
 * whole, in carriers and one compare-and-swap per owner
 * (arena_remote.c), and the stacks go back when the heap is left. The
 * stack is an array of the blocks' addresses (struct fcache), not a list
 * linked through them, so sending it back reads no block but the ones
 * that become carriers. On mixed_remote at 2 threads, measured side by
 * side on a quiet machine, they took arena from 1.7 times tcmalloc's time
 * to about 1.06, for about 2 MiB more peak RSS (then as linked stacks of
 * 64 KiB a class: a heap's bound rather than a class's, larger or smaller
 * bounds, or taking them before the own stack were each slower). Since
 * they are arrays a spill is cheap, and the bound is 32 KiB a class
 * (FOREIGN_BYTES; docs/arena-threads.md).
 * Past a full foreign cache, the blocks of a heap that takes nothing back
 * (1 MiB waiting on its remote list: its thread waits in a join) go on the
 * freeing heap's kept lists, at most KEPT_BYTES, and are allocated from
 * in the same way (docs/arena-threads.md). And every MiB pushed on such a
 * heap's remote list, the pushing thread takes the list back into the
 * heap's pools for its owner (hb_arena_heap_help, arena_heaps.c), and the
 * sweep gives what stays free back to the OS: the owner's slow paths,
 * which touch its pools, run in windows marked by a busy flag that a
 * helper checks after a membarrier(2); the lifos, which only the owner
 * ever touches, need none.
 *
 * Free reads neither the block's pool header nor its class's lists: the
 * owner and the class come from the arena header (arena.cls), a few lines
 * per heap that stay cached, where pool headers, 16 KiB apart, all fall
 * in one L1 set.
 *
 * Memory comes only from os.h and large.c, never from malloc: this file is also the
 * drop-in malloc of libheapbench_arena.so, so nothing here may allocate.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "allocator.h"
#include "large.h"
#include "os.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "arena_layout.h"
#include "arena_heaps.h"
#include "arena_pools.h"
#include "arena_remote.h"

/* Instance list for pthread_atfork: lock order is g_lock, then inst->lock. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static inst *g_insts;
static _Atomic uint64_t g_next_id = 1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_once_err;

/* Whether hb_arena_tc (the thread's cached heap, arena_heaps.h) holds its
 * heap of instance `in`. Instances come and go in process, and a new one's
 * heaps may land where a dead one's were: the id tells them apart. The
 * drop-in library has one instance, never destroyed, so there
 * hb_arena_tc.heap is that instance's heap or NULL, and the id is not
 * read: a malloc and free pair costs 3 instructions less, 0.6% of python's
 * under callgrind (free's comparison of the block's heap with
 * hb_arena_tc.heap needs no test before it: a heap is never NULL). */
#ifdef HB_DROPIN_BACKEND
#define TC_HIT(in) ((void)(in), hb_arena_tc.heap != NULL)
#define TC_FREE_HIT(in) ((void)(in), 1)
#else
#define TC_HIT(in) (hb_arena_tc.id == (in)->id)
#define TC_FREE_HIT(in) TC_HIT(in)
#endif

/* The class of every size up to MED_MAX, by 16 B steps (class boundaries
 * are multiples of 16): alloc's class without a branch on the size, which
 * mixed sizes (larson's 8..1000 B) mispredict half the time. */
static uint8_t cls_table[MED_MAX / 16 + 1];

static void cls_table_fill(void)
{
    for (size_t i = 0; i <= MED_MAX / 16; i++)
        cls_table[i] = (uint8_t)(i * 16 <= SMALL_MAX ? class_index(i * 16) : med_index(i * 16));
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

/* ------------------------------------------------------------- the lifos */

/* Whether the blocks on the lifos count in h->live. In process they do
 * not: live is the program's bytes, which stats report. A drop-in library
 * has no reader of its stats, so there they do, and a push and a pop
 * leave the counter alone (6 instructions of the 50 or so that a malloc
 * and free pair costs); the blocks come off live as they go back to their
 * pools (lifo_return). live's other readers see the same as before: the
 * dead heaps whose live 0 means every block came back have had their
 * lifos flushed, and hb_arena_heap_swap's comparison is off by a lifo per class at
 * most. */
#ifdef HB_DROPIN_BACKEND
#define LIFO_LIVE 1
#else
#define LIFO_LIVE 0
#endif

static inline void lifo_push(heap *h, lifo *l, block *b)
{
    b->next = l->head;
    l->head = b;
    l->n++;
    if (!LIFO_LIVE)
        ctr_add(&h->live, -(uint64_t)l->bsize);
}

/* The stack l cut after its first `keep` blocks (its newest): returns the
 * rest, the older ones, and l->n is keep. */
static inline block *lifo_cut(lifo *l, uint32_t keep)
{
    block *rest = l->head;
    if (keep) {
        block *cut = l->head;
        for (uint32_t i = 1; i < keep; i++)
            cut = cut->next;
        rest = cut->next;
        cut->next = NULL;
    } else {
        l->head = NULL;
    }
    l->n = (uint16_t)keep;
    return rest;
}

/* Blocks of a lifo, from `rest` down, back to their pools: all of one
 * class, so their pools' kind is known without the region map. */
static void lifo_return(heap *h, block *rest, int medium)
{
    while (rest) {
        block *next = rest->next;
        pool *p = medium ? mpool_of(rest) : pool_of(rest);
        if (LIFO_LIVE)
            local_free(h, p, rest);
        else
            pool_put(h, p, rest);
        rest = next;
    }
}

/* A full lifo (or a class not cached): the older half goes back to the
 * pools, a block at a time as obmalloc frees, and b goes on top. Halving
 * rather than emptying keeps the most recently freed blocks, which are the
 * ones still in the cache. */
static NOINLINE void lifo_spill(heap *h, lifo *l, block *b)
{
    if (!l->max) {
        local_free(h, block_pool(b), b);
        return;
    }
    block *rest = lifo_cut(l, l->max / 2u);
    lifo_return(h, rest, l->bsize > SMALL_MAX);
    lifo_push(h, l, b);
}

/* Every lifo of h back to the pools (arena_heaps.h). */
void hb_arena_lifo_flush(heap *h)
{
    for (size_t c = 1; c < NCLASS_ALL; c++) {
        lifo *l = &h->cache[c];
        block *rest = l->head;
        l->head = NULL;
        l->n = 0;
        l->take = 0;
        lifo_return(h, rest, c >= NCLASS);
    }
}

/* The freelist ran dry: carve never-used blocks, or the pool is full and
 * leaves usedpools. Also the owner's regular chance to drain remote frees.
 *
 * obmalloc carves one block per call so that untouched pages stay
 * untouched. Here a call carves the next block and every further one that
 * lies wholly in the page where that block starts (256 of 16 B, 8 of
 * 512 B, 1 of 4 KiB): the same pages are touched, in the same order, and
 * the blocks come out in the same order, but a program that grows (perl
 * building its hashes, every allocation a never-used block) pays this call
 * and its drain once per page instead of once per block. */
static NOINLINE void pool_exhausted(heap *h, pool *p)
{
    if (p->nextoffset <= p->maxnextoffset) {
        char *base = (char *)p;
        uintptr_t off = p->nextoffset, bsize = p->bsize;
        /* lim: the last offset a block may start at and still end inside
         * the page where the next block starts (in_page: that page's end) */
        uintptr_t in_page = (((uintptr_t)base + off + HB_CARVE_PAGE) & ~(HB_CARVE_PAGE - 1)) - (uintptr_t)base;
        uintptr_t lim = in_page >= bsize ? in_page - bsize : 0;
        if (lim > p->maxnextoffset)
            lim = p->maxnextoffset;
        char *b = base + off;
        p->freeblock = (block *)b;
        for (char *end = base + lim; b + bsize <= end; b += bsize)
            ((block *)b)->next = (block *)(b + bsize);
        ((block *)b)->next = NULL;
        p->nextoffset = (uint32_t)(b - base + bsize);
    } else {
        pool *next = p->nextpool; /* p is the head: we only allocate from there */
        h->used[p->szidx] = next;
        if (next)
            next->prevpool = NULL;
        else
            h->usedtail[p->szidx] = NULL;
    }
    hb_arena_drain_all(h);
}

NOINLINE void hb_arena_free_slow(heap *h, pool *p, block *last)
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
        hb_arena_pool_give_back(h, p);
        return;
    }
    /* It was full: back on usedpools. A small pool goes at the tail where
     * obmalloc puts it at the front. Under random frees the front makes
     * nearly every operation toggle a pool full/non-full through both slow
     * paths (48% of operations with 10k live blocks); at the tail a pool
     * gathers frees before it is allocated from again (4%).
     *
     * A medium pool goes at the front, as obmalloc's. It holds 2 to 113
     * blocks, so it fills within a few allocations either way, and at the
     * tail allocation went round every pool of the class in turn, taking
     * each time from the one that had waited longest, hence the emptiest:
     * no pool ever drained. On mixed_remote at 2 threads a heap's partly
     * used medium pools held 4.3 MB free beside 6 MB in use (per-class
     * counters); at the front the pools last freed into fill first and the
     * others drain. 4 alternating runs: peak RSS 28.0 -> 26.5 MiB at 2
     * threads, 12.8 -> 12.3 at 1, larson t2 20.1 -> 18.2, wall time the
     * same within 2%. */
    if (p->bsize > SMALL_MAX) {
        pool *head = h->used[p->szidx];
        p->prevpool = NULL;
        p->nextpool = head;
        if (head)
            head->prevpool = p;
        else
            h->usedtail[p->szidx] = p;
        h->used[p->szidx] = p;
        return;
    }
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
    hb_arena_drain_all(h);
    pool *p = h->used[c];
    if (!p) {
        int medium = c >= NCLASS;
        hb_arena_abandoned_sweep(h->inst); /* this heap grows: others' idle memory goes */
        p = hb_arena_pool_take(h, medium);
        if (!p)
            return NULL;
        uint32_t bsize = class_size(c), first, end;
        size_t i; /* the pool's index in its arena */
        if (!medium) {
            i = slice_of(p);
            first = i == 0 ? POOL0_HDR : POOL_HDR;
            end = (uint32_t)POOL_SIZE;
        } else {
            /* Offsets from the header in the first page to the pool's
             * 64 KiB of blocks above it. */
            uintptr_t base = (uintptr_t)p & ~(uintptr_t)(HB_REGION - 1);
            i = ((uintptr_t)p - base - MPOOL_DESC) / POOL_HDR;
            uintptr_t data = base + (i ? i * MPOOL_SIZE : MPOOL0_DATA);
            first = (uint32_t)(data - (uintptr_t)p);
            end = (uint32_t)(base + (i + 1) * MPOOL_SIZE - (uintptr_t)p);
        }
        p->heap = h;
        if (!medium)
            arena_of(p)->cls[i] = (uint8_t)c;
        else
            memset(arena_of(p)->cls + i * (MPOOL_SIZE / POOL_SIZE), (int)c, MPOOL_SIZE / POOL_SIZE);
        p->szidx = (uint32_t)c;
        p->bsize = bsize;
        p->count = 0;
        p->freeblock = (block *)((char *)p + first);
        p->freeblock->next = NULL;
        p->nextoffset = first + bsize;
        p->maxnextoffset = end - bsize;
        p->nextpool = p->prevpool = NULL;
        h->used[c] = h->usedtail[c] = p;
    }
    return pool_pop(h, p);
}

/* ------------------------------------- heaps (their lifecycle: arena_heaps.c) */

/* This thread's heap, for free; NULL when it has none yet. */
static inline heap *heap_mine(inst *in)
{
    return LIKELY(TC_HIT(in)) ? hb_arena_tc.heap : hb_arena_heap_lookup(in);
}

/* ---------------------------------------------------------- the interface */

static void fork_prepare(void)
{
    pthread_mutex_lock(&g_lock);
    for (inst *in = g_insts; in; in = in->gnext) {
        pthread_mutex_lock(&in->lock);
        hb_large_lock(&in->large);
    }
}

/* In the child, heaps attached to the parent's other threads stay attached
 * to nobody: they may have been mid-update, so they are leaked rather than
 * adopted. Their blocks stay valid and can still be freed. */
static void fork_release(void)
{
    for (inst *in = g_insts; in; in = in->gnext) {
        hb_large_unlock(&in->large);
        pthread_mutex_unlock(&in->lock);
    }
    pthread_mutex_unlock(&g_lock);
}

/* Once per process: the class table and the fork handlers. */
static void global_init(void)
{
    cls_table_fill();
    g_once_err = pthread_atfork(fork_prepare, fork_release, fork_release);
    if (!g_once_err)
        g_once_err = hb_region_map_make(); /* free's hb_region_tag_made */
}

static int arena_init(void **state, const char *options)
{
    *state = NULL;
    hb_arena_opts opt;
    if (hb_arena_parse_options(options, &opt))
        return EINVAL;
    pthread_once(&g_once, global_init);
    if (g_once_err)
        return g_once_err;
    size_t page = hb_os_page_size();
    size_t size = (sizeof(inst) + page - 1) & ~(page - 1);
    inst *in = hb_os_map(size, page);
    if (!in)
        return ENOMEM;
    in->map_size = size;
    in->cache_bytes = opt.cache_bytes;
    in->foreign_bytes = opt.foreign_bytes;
    in->purge_ms = opt.purge_ms;
    in->warm = opt.warm;
    in->help = opt.help;
    in->id = atomic_fetch_add_explicit(&g_next_id, 1, memory_order_relaxed);
    int err = pthread_mutex_init(&in->lock, NULL);
    if (err) {
        hb_os_unmap(in, size);
        return err;
    }
    err = hb_large_init(&in->large);
    if (err) {
        pthread_mutex_destroy(&in->lock);
        hb_os_unmap(in, size);
        return err;
    }
    err = pthread_key_create(&in->key, hb_arena_heap_tsd_dtor);
    if (err) {
        hb_large_destroy(&in->large);
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

/* A block of pool p for h's empty lifo l, which also gets blocks after it
 * on p's free list: one walk down the list, where a block at a time cost a
 * call and a pool_pop each (python under the drop-in: 43% of its mallocs
 * found the lifo empty, its 32 and 64 B objects made and dropped by the
 * thousand). How many grows with the lifo's refills (l->take counts them):
 * none for the first TAKE_AFTER, then 1, 3, 7... up to half the lifo's
 * bound; lifo_flush starts the count again. A thread that makes a few
 * blocks of a class and exits (larson's worker per 500 replacements) then
 * takes little that its exit must give back: taking half the bound from
 * the first refill cost that row 56% more time, doubling from the first
 * 10% (3.5% more instructions). */
#define TAKE_AFTER 4u
static inline void *pool_take(heap *h, pool *p, lifo *l)
{
    uint32_t s = l->take, want = s < TAKE_AFTER ? 0 : (1u << (s - TAKE_AFTER)) - 1u;
    if (want > l->max / 2u)
        want = l->max / 2u;
    else
        l->take = (uint16_t)(s + 1);
    if (want) { /* the blocks after the head onto the lifo, out of the pool */
        block *b = p->freeblock, *last = b;
        uint32_t k = 0;
        while (k < want && last->next) {
            last = last->next;
            k++;
        }
        if (k) {
            l->head = b->next;
            l->n = (uint16_t)k;
            b->next = last->next;
            last->next = NULL;
            p->count += k;
            if (LIFO_LIVE)
                ctr_add(&h->live, (uint64_t)p->bsize * k);
        }
    }
    return pool_pop(h, p); /* the head, as obmalloc's malloc */
}

/* h's lifo of class c came up empty: a block from its foreign cache, else
 * from its pools (obmalloc's malloc). */
static NOINLINE void *class_alloc_pools(heap *h, size_t c)
{
    fcache *f = &h->foreign[c];
    if (f->n) /* still counted out of its owner's pool */
        return hb_arena_foreign_pop(h, f);
    if (h->kept[c]) /* so are these */
        return hb_arena_kept_pop(h, c, f->bsize);
    hb_arena_owner_enter(h);
    pool *p = h->used[c];
    void *b = LIKELY(p) ? pool_take(h, p, &h->cache[c]) : alloc_slow(h, c);
    hb_arena_owner_exit(h);
    return b;
}

static inline void *lifo_pop(heap *h, lifo *l)
{
    block *b = l->head;
    l->head = b->next;
    l->n--;
    if (!LIFO_LIVE)
        ctr_add(&h->live, l->bsize);
    return b;
}

static inline void *class_alloc(inst *in, size_t c);

/* The thread's first allocation from this instance, or its first since
 * another instance's: find or make its heap (which sets the thread's
 * cache), then allocate as every later call does. */
static NOINLINE void *class_alloc_attach(inst *in, size_t c)
{
    if (UNLIKELY(!hb_arena_heap_attach(in)))
        return NULL;
    return class_alloc(in, c);
}

/* A block of class c (small or medium) from this thread's heap: the last
 * freed of its class. A leaf that only tail-calls, so it saves no
 * registers. */
static inline void *class_alloc(inst *in, size_t c)
{
    if (LIKELY(TC_HIT(in))) {
        heap *h = hb_arena_tc.heap;
        lifo *l = &h->cache[c];
        if (LIKELY(l->head))
            return lifo_pop(h, l);
        return class_alloc_pools(h, c);
    }
    return class_alloc_attach(in, c);
}

static void *arena_alloc(void *state, size_t size)
{
    inst *in = state;
    if (LIKELY(size <= MED_MAX))
        return class_alloc(in, cls_table[(size + 15) >> 4]);
    return hb_large_alloc(&in->large, 16, size);
}

static void *arena_alloc_zeroed(void *state, size_t size)
{
    inst *in = state;
    if (size > MED_MAX)
        return hb_large_alloc_zeroed(&in->large, size);
    void *p = arena_alloc(state, size);
    if (p)
        memset(p, 0, size);
    return p;
}

static void *arena_alloc_aligned(void *state, size_t align, size_t size)
{
    inst *in = state;
    if (align <= 16)
        return arena_alloc(state, size);
    if (align <= SMALL_ALIGN_MAX && size <= SMALL_MAX) {
        /* A class whose size is a multiple of align: every block of its
         * pools is aligned (pools and first offsets are 64-aligned). */
        size_t s = size ? (size + align - 1) & ~(align - 1) : align;
        if (s <= SMALL_MAX)
            return arena_alloc(state, s);
    }
    if (align <= MPOOL0_DATA && size <= MED_MAX) {
        /* Medium pools' blocks start page aligned, at multiples of the
         * class size: a class that is a multiple of align keeps it. */
        size_t want = size > align ? size : align;
        for (size_t c = med_index(want > SMALL_MAX ? want : SMALL_MAX + 1); c < NCLASS_ALL; c++)
            if ((class_size(c) & (align - 1)) == 0)
                return class_alloc(in, c);
    }
    return hb_large_alloc(&in->large, align, size);
}

/* A block of another heap: local if this thread owns that heap too (it
 * adopted it), or adopts it now if it is dead; otherwise pushed on the
 * owner's remote list, which the owner, or its adopter, drains. */
static NOINLINE void free_other(inst *in, heap *owner, pool *pl, void *p)
{
    heap *mine = heap_mine(in);
    if (!mine) {
        /* The thread's first free, and it has no heap yet. Of a dead
         * heap's block: that heap becomes its own (a successor freeing its
         * predecessor's working set, see arena_thread_attach), its blocks
         * freed locally and their memory reused by its allocations. Of a
         * living heap's: it attaches a heap as its first allocation would,
         * so that what it frees of others goes through its foreign cache
         * rather than a push per block on the owner's list (xthread's
         * consumers only free: 7.6 s at 2 threads without, 2.6 with). */
        if (atomic_load_explicit(&owner->dead, memory_order_relaxed) && hb_arena_heap_own(in, owner)) {
            hb_arena_drain_remote(owner);
            local_free(owner, pl, p);
            hb_arena_owner_exit(owner);
            return;
        }
        int e = errno; /* free sets no errno */
        if (!(mine = hb_arena_heap_attach(in))) {
            errno = e;
            hb_arena_remote_free(owner, p, pl->bsize);
            return;
        }
    }
    uint32_t i = 0;
    while (i < mine->nadopted && mine->adopted[i] != owner)
        i++;
    int dead = i == mine->nadopted && atomic_load_explicit(&owner->dead, memory_order_relaxed);
    if (dead && hb_arena_heap_swap(in, mine, owner)) {
        local_free(owner, pl, p);
        hb_arena_owner_exit(owner); /* busy since hb_arena_heap_swap took it */
        return;
    }
    if (i < mine->nadopted || (dead && hb_arena_heap_adopt(mine, owner))) {
        local_free(owner, pl, p);
        /* Its last block: let it go now, for the next thread that
         * attaches, rather than at the next drain_all, which the
         * lifos make rare: dead heaps of a chain of threads held
         * their memory meanwhile, out of every thread's reach
         * (larson under the drop-in library, 2 threads: 24 MiB peak
         * without the lifos, 42 with). hb_arena_heap_leave keeps the memory
         * freed lately with it, and hb_arena_abandoned_sweep gives
         * back what then stays idle. */
        if (atomic_load_explicit(&owner->live, memory_order_relaxed) == 0)
            hb_arena_heap_drop_adopted(mine, i);
        return;
    }
    size_t c = arena_of(p)->cls[slice_of(p)];
    fcache *f = &mine->foreign[c];
    if (LIKELY(f->n < f->max)) {
        hb_arena_foreign_push(mine, f, p);
        return;
    }
    if (f->max) {
        hb_arena_owner_enter(mine); /* both drain mine and tick */
        if (mine->kept_bytes < KEPT_BYTES && hb_arena_heap_idle(owner))
            hb_arena_kept_free(mine, c, p, f->bsize);
        else
            hb_arena_foreign_spill(mine, f, p);
        hb_arena_owner_exit(mine);
        return;
    }
    hb_arena_remote_free(owner, p, pl->bsize);
}

/* Every free but the common one: a full lifo, another heap's block, a
 * large one, a thread's first free. */
static NOINLINE void free_general(inst *in, void *p, uint8_t tag)
{
    if (tag == ARENA_TAG || tag == MED_TAG) {
        arena *a = arena_of(p);
        heap *owner = a->heap;
        if (owner == heap_mine(in)) {
            lifo *l = &owner->cache[a->cls[slice_of(p)]];
            if (l->n < l->max) {
                lifo_push(owner, l, p);
            } else {
                hb_arena_owner_enter(owner);
                lifo_spill(owner, l, p);
                hb_arena_owner_exit(owner);
            }
            return;
        }
        free_other(in, owner, tag == MED_TAG ? mpool_of(p) : pool_of(p), p);
    } else if (p && !HB_DROPIN_FOREIGN(p)) {
        hb_large_free(&in->large, p);
    }
}

/* A small or medium block of this thread's heap goes on its class's lifo
 * (owner and class from the arena header, see struct arena); anything
 * else to free_general. A leaf that only tail-calls, as class_alloc. */
static void arena_free(void *state, void *p, size_t size)
{
    (void)size;
    inst *in = state;
    uint8_t tag = hb_region_tag_made(p);
    if (LIKELY((tag == ARENA_TAG || tag == MED_TAG) && TC_FREE_HIT(in))) {
        arena *a = arena_of(p);
        heap *h = hb_arena_tc.heap;
        if (LIKELY(a->heap == h)) {
            lifo *l = &h->cache[a->cls[slice_of(p)]];
            if (LIKELY(l->n < l->max)) {
                lifo_push(h, l, p);
                return;
            }
        }
    }
    free_general(in, p, tag);
}

static size_t arena_usable_size(void *state, const void *p)
{
    (void)state;
    uint8_t tag = hb_region_tag_made(p);
    if (tag == ARENA_TAG)
        return pool_of(p)->bsize;
    if (tag == MED_TAG)
        return mpool_of(p)->bsize;
    return hb_large_usable(p);
}

static inline size_t size_class(size_t size)
{
    return size <= SMALL_MAX ? class_index(size) : med_index(size);
}

/* In place while the block's class is the one the new size would get;
 * a large block grows or shrinks in place or by mremap while it stays
 * above MED_MAX; anything else moves (alloc, copy, free). */
static void *arena_realloc(void *state, void *p, size_t old_size, size_t new_size)
{
    (void)old_size;
    inst *in = state;
    if (!p)
        return arena_alloc(state, new_size);
    size_t have;
    uint8_t tag = hb_region_tag_made(p);
    if (tag == ARENA_TAG || tag == MED_TAG) {
        pool *pl = tag == ARENA_TAG ? pool_of(p) : mpool_of(p);
        have = pl->bsize;
        if (new_size <= MED_MAX && size_class(new_size) == pl->szidx)
            return p;
    } else {
        have = hb_large_usable(p);
        if (new_size > MED_MAX) {
            void *q = hb_large_realloc(&in->large, p, new_size);
            if (q)
                return q;
        }
    }
    void *q = arena_alloc(state, new_size);
    if (!q)
        return NULL;
    memcpy(q, p, new_size < have ? new_size : have);
    arena_free(state, p, 0);
    return q;
}

/* A thread's heap is chosen when it first needs one, not here: at its
 * first allocation (hb_arena_heap_attach: the heap left last, or a new one), or at
 * its first free, whichever comes first (free_other: the freed block's
 * heap if it is dead, else as at an allocation). A successor whose first act is to free what its predecessor
 * made (Larson's chain; a thread per task) then takes the predecessor's
 * heap, not whichever heap was left last, often another chain's working
 * set, which it would build beside while freeing its own into a dead heap.
 * On larson at size medium, 7 alternating runs each, peak RSS went from a
 * median of 18.0 MiB (16.3 to 19.6) to 16.2 at 2 threads, 13.9 to 10.7 at
 * one, and with a worker per 500 replacements at 2 threads from 8.9 to 6.4
 * MiB, in 0.11 s instead of 0.18 (docs/arena-threads.md). */
static int arena_thread_attach(void *state)
{
    (void)state;
    return 0;
}

static void arena_thread_detach(void *state)
{
    inst *in = state;
    heap *h = pthread_getspecific(in->key);
    if (!h)
        return;
    pthread_setspecific(in->key, NULL);
    hb_arena_heap_abandon(h);
}

static int arena_stats(void *state, hb_alloc_stats *out)
{
    inst *in = state;
    uint64_t live = 0, os = 0, released = 0;
    pthread_mutex_lock(&in->lock);
    for (heap *h = in->heaps; h; h = h->allnext) {
        live += atomic_load_explicit(&h->live, memory_order_relaxed) -
                atomic_load_explicit(&h->foreign_bytes, memory_order_relaxed) -
                atomic_load_explicit(&h->helped_live, memory_order_relaxed);
        os += atomic_load_explicit(&h->os, memory_order_relaxed);
        released += atomic_load_explicit(&h->released, memory_order_relaxed);
    }
    pthread_mutex_unlock(&in->lock);
    hb_large_counts big;
    hb_large_count(&in->large, &big);
    out->have = HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED;
    out->live_bytes = live + big.live_bytes;
    out->os_bytes = os + big.os_bytes;
    out->released_bytes = released + big.released_bytes;
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
    if (hb_arena_tc.id == in->id) {
        hb_arena_tc.id = 0;
        hb_arena_tc.heap = NULL;
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
    hb_large_destroy(&in->large);
    pthread_mutex_destroy(&in->lock);
    hb_os_unmap(in, in->map_size);
}

const hb_allocator hb_arena_allocator = {
    .name = "arena",
    .doc = "obmalloc design: 16 B classes to 512 B, 16 KiB pools, 1 MiB arenas, per-thread heaps; medium classes to 32 KiB",
    .init = arena_init,
    .alloc = arena_alloc,
    .alloc_aligned = arena_alloc_aligned,
    .alloc_zeroed = arena_alloc_zeroed,
    .free = arena_free,
    .realloc = arena_realloc,
    .usable_size = arena_usable_size,
    .thread_attach = arena_thread_attach,
    .thread_detach = arena_thread_detach,
    .stats = arena_stats,
    .destroy = arena_destroy,
};
