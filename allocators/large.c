/* large.c -- large blocks: mapping per block, span cache with decay, mremap
 * (see large.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "large.h"
#include "os.h"

#include <errno.h>
#include <string.h>

/* The 64 bytes just below every large block. The block starts at base +
 * off, off = max(64, align), so any alignment works and, for alignments up
 * to a page, the block's offset in its first page is fixed: mremap keeps it
 * and a cached span serves any such request. */
typedef struct hb_lblock {
    size_t slot;  /* its slot in its shard's live table */
    size_t shard; /* the shard its mapping goes back to */
    char *base;
    size_t map_size;
    size_t off;
    size_t populated; /* from base: the size first asked, then what populate_ahead faulted in */
    uint64_t magic;
    size_t reserve; /* address space held from base: map_size, then PROT_NONE */
} hb_lblock;

_Static_assert(sizeof(hb_lblock) == 64, "the header is one cache line below the block");

#define LBLOCK_MAGIC 0x6862726765626c6bULL /* "hbrgeblk" */
#define LARGE_SIZE_MAX ((size_t)1 << 46)
/* A reused span's old bytes are cleared by MADV_DONTNEED rather than
 * memset from this much: the pages then cost no RSS until the program
 * writes them. Below it memset, as glibc clears a reused chunk: the
 * kernel's zeroing at each fault costs as much as the memset, plus the
 * fault. */
#define ZERO_BY_DECOMMIT ((size_t)8 << 20)
/* A block that realloc must move lands in a reservation this many times
 * its new size (at most GROW_RESERVE_MAX more), so the next growths
 * commit pages in place instead of moving them again. */
#define GROW_RESERVE 8
#define GROW_RESERVE_MAX ((size_t)1 << 30)
/* A block grown by realloc has the pages up to this far past the size
 * asked faulted in at once (MADV_POPULATE_WRITE): a program growing many
 * buffers by small steps in turn otherwise faults one page at a time in
 * each, and a fault that lands in a different page table than the last
 * costs 40% more in a threaded process under this machine's hypervisor
 * (docs/allocators.md). At most this much RSS more per grown block. */
#define POPULATE_AHEAD ((size_t)32 << 10)
/* Committed room a growth adds: as much again as asked up to here, a
 * quarter more beyond (untouched pages cost no RSS). */
#define SLACK_DOUBLE_MAX ((size_t)64 << 20)
/* Blocks whose mapping is at most CARVE_MAX that no cached span fits are
 * carved from a fresh mapping of CARVE_CHUNK, the rest cached: many blocks
 * of 32 KiB .. 1 MiB then cost no mmap each, and their frees and shrinks
 * no munmap (each a TLB flush on every CPU the process ran on). */
#define CARVE_MAX ((size_t)1 << 20)
#define CARVE_CHUNK ((size_t)4 << 20)
/* A block growing to at most this much moves by a copy into a cached span
 * (pages already faulted in) rather than by mremap: copying 256 KiB costs
 * less than a move's TLB flush and the refaults of its pages. */
#define COPY_MAX ((size_t)256 << 10)

static inline hb_lblock *hdr_of(const void *p)
{
    return (hb_lblock *)p - 1;
}

static inline size_t usable_of(const hb_lblock *h)
{
    return h->map_size - h->off;
}

static inline void add(_Atomic uint64_t *c, uint64_t d)
{
    atomic_fetch_add_explicit(c, d, memory_order_relaxed);
}

static inline void sub(_Atomic uint64_t *c, uint64_t d)
{
    atomic_fetch_sub_explicit(c, d, memory_order_relaxed);
}

static inline size_t page_round(size_t n)
{
    size_t page = hb_os_page_size();
    return (n + page - 1) & ~(page - 1);
}

/* The mapping a block of `size` bytes at offset `off` needs. At least one
 * byte: with off a whole number of pages (an alignment of a page or more)
 * a block of 0 bytes would start at the mapping's end, on an address that
 * is not ours, and free would read the region map there (another
 * allocator's region, mapped meanwhile). */
static inline size_t block_need(size_t off, size_t size)
{
    return page_round(off + (size ? size : 1));
}

int hb_large_init(hb_large *L)
{
    /* Adaptive: a waiter spins a while before it sleeps in the kernel.
     * The lock is held for a lookup in the cache, well under a
     * microsecond; a sleep and a wake-up cost more than the wait. */
    pthread_mutexattr_t attr;
    int err = pthread_mutexattr_init(&attr);
    if (err)
        return err;
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    for (unsigned k = 0; k < HB_LARGE_SHARDS && !err; k++) {
        L->shard[k].owner = L;
        err = pthread_mutex_init(&L->shard[k].lock, &attr);
        if (err)
            while (k--)
                pthread_mutex_destroy(&L->shard[k].lock);
    }
    pthread_mutexattr_destroy(&attr);
    return err;
}

void hb_large_lock(hb_large *L)
{
    for (unsigned k = 0; k < HB_LARGE_SHARDS; k++)
        pthread_mutex_lock(&L->shard[k].lock);
}

void hb_large_unlock(hb_large *L)
{
    for (unsigned k = HB_LARGE_SHARDS; k-- > 0;)
        pthread_mutex_unlock(&L->shard[k].lock);
}

/* A thread's shard: threads in the order of their first large call, round
 * the shards (the same in every instance). */
static _Atomic unsigned g_threads;
static __thread unsigned t_shard; /* 1 + the shard; 0 before the first call */

static hb_large_shard *my_shard(hb_large *G)
{
    unsigned s = t_shard;
    if (!s)
        s = t_shard = 1 + atomic_fetch_add_explicit(&g_threads, 1, memory_order_relaxed) % HB_LARGE_SHARDS;
    return &G->shard[s - 1];
}

static hb_large_shard *shard_of(hb_large *G, const hb_lblock *h)
{
    return &G->shard[h->shard];
}

void hb_large_count(hb_large *G, hb_large_counts *c)
{
    memset(c, 0, sizeof *c);
    for (unsigned k = 0; k < HB_LARGE_SHARDS; k++) {
        hb_large_shard *L = &G->shard[k];
        c->live_bytes += atomic_load_explicit(&L->live_bytes, memory_order_relaxed);
        c->os_bytes += atomic_load_explicit(&L->os_bytes, memory_order_relaxed);
        c->released_bytes += atomic_load_explicit(&L->released_bytes, memory_order_relaxed);
        pthread_mutex_lock(&L->lock);
        c->cache_bytes += L->cache.bytes;
        c->cache_spans += L->cache.n;
        c->live_blocks += L->nlive;
        pthread_mutex_unlock(&L->lock);
    }
}

/* ---- the cache (under the lock) ---- */

static void span_unmap(hb_large_shard *L, char *base, size_t size)
{
    hb_os_unmap(base, size);
    sub(&L->os_bytes, size);
    add(&L->released_bytes, size);
}

/* Publish cache.bytes for the other shards' bound: once at the end of
 * every hold of the lock that changed the cache (cache_trim does it for
 * every put and alloc; grow_from_cache, which does not trim, itself). */
static void cache_sync(hb_large_shard *L)
{
    atomic_store_explicit(&L->cache_bytes, L->cache.bytes, memory_order_relaxed);
}

/* The exact idle time of the oldest cached span. Between scans oldest_ms
 * is only a lower bound (a take does not raise it), which costs at most
 * one early scan. */
static void cache_oldest(hb_large_shard *L)
{
    uint64_t t = UINT64_MAX;
    for (unsigned i = 0; i < L->cache.fresh; i++)
        if (L->cache.size[i] && L->cache.idle_ms[i] < t)
            t = L->cache.idle_ms[i];
    atomic_store_explicit(&L->oldest_ms, t, memory_order_relaxed);
}

static void cache_drop(hb_large_shard *L, unsigned i)
{
    span_unmap(L, L->cache.base[i], L->cache.size[i]);
    hb_spans_remove(&L->cache, i);
}

/* Unmap the spans idle longer than the decay. */
static void cache_decay(hb_large_shard *L, uint64_t now)
{
    hb_spans *S = &L->cache;
    if (!S->n || now - atomic_load_explicit(&L->oldest_ms, memory_order_relaxed) < HB_LARGE_DECAY_MS)
        return;
    for (unsigned i = 0; i < S->fresh; i++)
        if (S->size[i] && now - S->idle_ms[i] >= HB_LARGE_DECAY_MS)
            cache_drop(L, i);
    cache_oldest(L);
}

/* Decay, this shard's and, a few times a decay period, the other shards'
 * (a shard whose threads stopped calling gives its memory back too; taken
 * only if free). Then the bound, over the whole instance: a shard holding
 * more than its share unmaps its own oldest spans until the instance is
 * within it. Unmapping under the lock keeps a span from being handed out
 * while it goes; large calls are rare next to small ones. */
static void cache_trim(hb_large_shard *L, uint64_t now)
{
    cache_decay(L, now);
    if (now - L->swept_ms >= HB_LARGE_DECAY_MS / 4) {
        L->swept_ms = now;
        for (unsigned k = 0; k < HB_LARGE_SHARDS; k++) {
            hb_large_shard *O = &L->owner->shard[k];
            if (O != L && atomic_load_explicit(&O->cache_bytes, memory_order_relaxed) &&
                now - atomic_load_explicit(&O->oldest_ms, memory_order_relaxed) >= HB_LARGE_DECAY_MS &&
                pthread_mutex_trylock(&O->lock) == 0) {
                cache_decay(O, now);
                cache_sync(O);
                pthread_mutex_unlock(&O->lock);
            }
        }
    }
    hb_spans *S = &L->cache;
    if (S->bytes > HB_LARGE_CACHE_MIN / HB_LARGE_SHARDS) {
        uint64_t live = 0, cached = 0;
        for (unsigned k = 0; k < HB_LARGE_SHARDS; k++) {
            hb_large_shard *O = &L->owner->shard[k];
            live += atomic_load_explicit(&O->live_bytes, memory_order_relaxed);
            cached += O == L ? S->bytes : atomic_load_explicit(&O->cache_bytes, memory_order_relaxed);
        }
        uint64_t bound = live / 4 > HB_LARGE_CACHE_MIN ? live / 4 : HB_LARGE_CACHE_MIN;
        while (cached > bound && S->n) {
            unsigned old = HB_SPANS_MAX;
            for (unsigned i = 0; i < S->fresh; i++)
                if (S->size[i] && (old == HB_SPANS_MAX || S->idle_ms[i] < S->idle_ms[old]))
                    old = i;
            cached -= S->size[old];
            cache_drop(L, old);
        }
    }
    cache_sync(L);
}

/* Keep a span, merged with cached neighbours; unmap it when there is no
 * slot left. The merged span counts as idle from now. */
static void cache_put(hb_large_shard *L, char *base, size_t size, uint64_t now)
{
    if (hb_spans_put(&L->cache, &base, &size, now) != 0) {
        span_unmap(L, base, size);
        return;
    }
    if (L->cache.n == 1 || now < atomic_load_explicit(&L->oldest_ms, memory_order_relaxed))
        atomic_store_explicit(&L->oldest_ms, now, memory_order_relaxed);
    cache_trim(L, now);
}

/* ---- blocks ---- */

/* The live table: slot i holds a live block's header, or, free, the next
 * free slot's index + 1 shifted left with the low bit set (a chain). A
 * free writes only its own slot, where a linked list would write two
 * other blocks' headers, cold lines, under the lock. */
#define LIVE_FIRST 4096 /* slots mapped at the first block: 32 KiB */

static int live_link(hb_large_shard *L, hb_lblock *h)
{
    size_t i;
    if (L->live_free) {
        i = L->live_free - 1;
        L->live_free = L->live[i] >> 1;
    } else {
        if (L->live_used == L->live_cap) {
            size_t cap = L->live_cap ? 2 * L->live_cap : LIVE_FIRST;
            uintptr_t *t = L->live ? hb_os_remap(L->live, L->live_cap * sizeof *t, cap * sizeof *t)
                                   : hb_os_map(cap * sizeof *t, hb_os_page_size());
            if (!t) {
                errno = ENOMEM;
                return -1;
            }
            L->live = t;
            L->live_cap = cap;
        }
        i = L->live_used++;
    }
    L->live[i] = (uintptr_t)h;
    h->slot = i;
    L->nlive++;
    return 0;
}

static void live_unlink(hb_large_shard *L, hb_lblock *h)
{
    L->live[h->slot] = (uintptr_t)L->live_free << 1 | 1;
    L->live_free = h->slot + 1;
    L->nlive--;
}

static void *block_init(char *base, size_t map_size, size_t off)
{
    hb_lblock *h = (hb_lblock *)(base + off) - 1;
    h->base = base;
    h->map_size = map_size;
    h->off = off;
    h->populated = 0;
    h->magic = LBLOCK_MAGIC;
    h->reserve = map_size;
    return h + 1;
}

/* The block at offset `off` over [base, base + map_size), for `size`
 * bytes of the program's, linked live (under the lock). NULL when the
 * live table cannot grow: the span is then still the caller's. */
static void *block_live(hb_large_shard *L, char *base, size_t map_size, size_t off, size_t size)
{
    void *p = block_init(base, map_size, off);
    hb_lblock *h = hdr_of(p);
    if (live_link(L, h) != 0)
        return NULL;
    h->shard = (size_t)(L - L->owner->shard);
    h->populated = off + size; /* the program's: realloc populates past it only */
    add(&L->live_bytes, usable_of(h));
    return p;
}

/* hb_large_alloc's work; *dirty gets how many bytes of the mapping, from
 * its base, may hold old data (0 for a fresh mapping: the kernel's pages
 * are zero). */
static void *large_alloc(hb_large_shard *L, size_t align, size_t size, size_t *dirty)
{
    size_t page = hb_os_page_size();
    if (align < 16)
        align = 16;
    if (size > LARGE_SIZE_MAX || align > ((size_t)1 << 40)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t off = align > sizeof(hb_lblock) ? align : sizeof(hb_lblock);
    size_t need = block_need(off, size);
    char *base = NULL, *grow = NULL;
    size_t grow_size = 0;
    uint64_t now = hb_os_now_ms();
    void *p = NULL;
    int taken = 0;
    pthread_mutex_lock(&L->lock);
    *dirty = 0;
    if (align <= page) {
        size_t got;
        base = hb_spans_take(&L->cache, need, need, &got);
        if (base) {
            /* linked in the same hold of the lock: threads resizing
             * blocks of these sizes meet here at every call */
            *dirty = need;
            taken = 1;
            p = block_live(L, base, need, off, size);
            if (!p)
                cache_put(L, base, got, now);
        } else if (need > CARVE_MAX) {
            grow = hb_spans_take_largest(&L->cache, &grow_size);
        }
    }
    cache_trim(L, now); /* and the count the other shards read */
    pthread_mutex_unlock(&L->lock);
    if (taken) {
        if (!p)
            errno = ENOMEM;
        return p;
    }
    if (!grow && need <= CARVE_MAX && align <= page) {
        /* A fresh chunk: the block is its head, the rest is cached (pages
         * never touched: no RSS until a block uses them). */
        base = hb_os_map(CARVE_CHUNK, page);
        if (base) {
            add(&L->os_bytes, CARVE_CHUNK);
            pthread_mutex_lock(&L->lock);
            cache_put(L, base + need, CARVE_CHUNK - need, now);
            p = block_live(L, base, need, off, size);
            if (!p)
                cache_put(L, base, need, now);
            pthread_mutex_unlock(&L->lock);
            if (!p)
                errno = ENOMEM;
            return p;
        }
    }
    if (grow) {
        /* No span fits: extend the largest one (mremap keeps its pages,
         * already faulted in) so only the difference is new memory. */
        base = hb_os_remap(grow, grow_size, need);
        if (base) {
            *dirty = grow_size;
            add(&L->os_bytes, need - grow_size);
        } else {
            pthread_mutex_lock(&L->lock);
            cache_put(L, grow, grow_size, now);
            pthread_mutex_unlock(&L->lock);
        }
    }
    if (!base) {
        *dirty = 0;
        base = hb_os_map(need, align > page ? align : page);
        if (!base)
            return NULL;
        add(&L->os_bytes, need);
    }
    pthread_mutex_lock(&L->lock);
    p = block_live(L, base, need, off, size);
    pthread_mutex_unlock(&L->lock);
    if (!p) {
        span_unmap(L, base, need);
        errno = ENOMEM;
    }
    return p;
}

void *hb_large_alloc(hb_large *G, size_t align, size_t size)
{
    size_t dirty;
    return large_alloc(my_shard(G), align, size, &dirty);
}

/* Only the bytes a reused span may hold are cleared: a fresh mapping is
 * zero already and stays untouched (no RSS for calloc's pages the program
 * never writes, as glibc's calloc of an mmapped chunk). Whole pages of a
 * reused span are given back instead of written when there are many
 * (MADV_DONTNEED: they read as zero and cost no RSS until touched). */
void *hb_large_alloc_zeroed(hb_large *G, size_t size)
{
    size_t dirty;
    char *p = large_alloc(my_shard(G), 16, size, &dirty);
    if (!p || !dirty)
        return p;
    hb_lblock *h = hdr_of(p);
    /* only what was asked for: calloc promises nothing of the rest */
    char *end = h->base + (dirty < h->map_size ? dirty : h->map_size);
    if (end > p + size)
        end = p + size;
    if (end <= p)
        return p;
    size_t page = hb_os_page_size();
    char *lo = (char *)page_round((size_t)(uintptr_t)p);
    if ((size_t)(end - lo) >= ZERO_BY_DECOMMIT && lo < end) {
        size_t n = (size_t)(end - lo) & ~(page - 1);
        if (hb_os_decommit(lo, n) == 0) {
            memset(p, 0, (size_t)(lo - p));
            memset(lo + n, 0, (size_t)(end - (lo + n)));
            return p;
        }
    }
    memset(p, 0, (size_t)(end - p));
    return p;
}

static void shard_free(hb_large_shard *L, void *p)
{
    hb_lblock *h = hdr_of(p);
    uint64_t now = hb_os_now_ms();
    sub(&L->live_bytes, usable_of(h));
    h->magic = 0;
    char *base = h->base;
    size_t map_size = h->map_size, reserve = h->reserve;
    pthread_mutex_lock(&L->lock);
    live_unlink(L, h);
    cache_put(L, base, map_size, now);
    pthread_mutex_unlock(&L->lock);
    if (reserve > map_size) /* the cache keeps committed pages only */
        hb_os_unmap(base + map_size, reserve - map_size);
}

void hb_large_free(hb_large *G, void *p)
{
    shard_free(shard_of(G, hdr_of(p)), p);
}

size_t hb_large_usable(const void *p)
{
    return usable_of(hdr_of(p));
}

/* Extend the block over its reservation to `grown` bytes from its base. */
static int grow_in_place(hb_large_shard *L, hb_lblock *h, size_t grown)
{
    if (hb_os_extend(h->base, h->map_size, grown) != 0) {
        /* [map_size, grown) may belong to another mapping now: let the
         * rest of the reservation go too, and the caller moves the block. */
        if (grown < h->reserve)
            hb_os_unmap(h->base + grown, h->reserve - grown);
        h->reserve = h->map_size;
        return -1;
    }
    add(&L->os_bytes, grown - h->map_size);
    add(&L->live_bytes, grown - h->map_size);
    h->map_size = grown;
    return 0;
}

/* Growth with no call to the OS, for a block with nothing reserved behind
 * it: over the cached span that follows it, when that is free and big
 * enough (glibc's realloc does the same with the next chunk); or, up to
 * COPY_MAX, by a copy into a cached span that fits. The block gets up to
 * `want` bytes from its base. NULL when neither applies. */
static void *grow_from_cache(hb_large_shard *L, hb_lblock *h, size_t new_size, size_t want)
{
    size_t need = block_need(h->off, new_size), got;
    pthread_mutex_lock(&L->lock);
    char *next = hb_spans_take_at(&L->cache, h->base + h->map_size, need - h->map_size, want - h->map_size, &got);
    void *q = NULL;
    if (!next && need <= COPY_MAX) {
        char *dest = hb_spans_take(&L->cache, need, want, &got);
        if (dest && !(q = block_live(L, dest, got, h->off, new_size)))
            cache_put(L, dest, got, hb_os_now_ms());
    }
    cache_sync(L);
    pthread_mutex_unlock(&L->lock);
    if (next) {
        h->map_size += got;
        h->reserve = h->map_size;
        add(&L->live_bytes, got);
        return h + 1;
    }
    if (!q)
        return NULL;
    memcpy(q, h + 1, usable_of(h));
    shard_free(L, h + 1);
    return q;
}

static void *realloc_block(hb_large_shard *L, void *p, size_t new_size)
{
    hb_lblock *h = hdr_of(p);
    size_t page = hb_os_page_size();
    if (new_size > LARGE_SIZE_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    if (new_size <= usable_of(h)) {
        size_t keep = block_need(h->off, new_size);
        /* Only a tail that is most of the mapping goes: a block keeps the
         * slack a growth gave it, which the next growths fill. */
        if (keep > h->map_size / 2)
            return p;
        size_t tail = h->map_size - keep;
        if (h->reserve == h->map_size && keep <= CARVE_MAX && tail <= CARVE_CHUNK) {
            /* A block of the carved sizes with nothing reserved behind it:
             * its tail joins the cache, no call to the OS; a growth takes
             * it back in place while it stays free. */
            uint64_t now = hb_os_now_ms();
            pthread_mutex_lock(&L->lock);
            cache_put(L, h->base + keep, tail, now);
            pthread_mutex_unlock(&L->lock);
            h->reserve = keep;
        } else if (hb_os_uncommit(h->base + keep, tail) == 0) {
            /* Otherwise the tail goes back to the OS; its address space
             * stays held for a later growth. */
            sub(&L->os_bytes, tail);
            add(&L->released_bytes, tail);
        } else {
            return p;
        }
        sub(&L->live_bytes, tail);
        h->map_size = keep;
        if (h->populated > keep)
            h->populated = keep;
        return p;
    }
    /* mremap keeps the offset in the page, not a larger alignment. */
    if (((uintptr_t)h->base & (page - 1)) || h->off > page) {
        errno = ENOMEM;
        return NULL;
    }
    size_t slack = new_size < SLACK_DOUBLE_MAX ? new_size : new_size / 4;
    size_t grown = page_round(h->off + new_size + slack);
    if (grown < new_size) {
        errno = ENOMEM;
        return NULL;
    }
    if (h->reserve == h->map_size) {
        void *q = grow_from_cache(L, h, new_size, grown);
        if (q)
            return q;
    }
    /* Room reserved behind the block: extend over it, nothing moves. */
    if (page_round(h->off + new_size) <= h->reserve &&
        grow_in_place(L, h, grown < h->reserve ? grown : h->reserve) == 0)
        return p;
    /* Move the pages (mremap: no byte copied) into a new reservation. */
    size_t extra = new_size < GROW_RESERVE_MAX / (GROW_RESERVE - 1) ? new_size * (GROW_RESERVE - 1)
                                                                      : GROW_RESERVE_MAX;
    size_t reserve = page_round(h->off + new_size + (extra > slack ? extra : slack));
    char *dest = reserve > grown ? hb_os_reserve(reserve) : NULL;
    if (!dest)
        reserve = grown;
    char *old_base = h->base;
    size_t old_map = h->map_size, old_reserve = h->reserve, old_usable = usable_of(h), off = h->off;
    size_t populated = h->populated;
    char *base = dest ? hb_os_remap_at(old_base, old_map, grown, dest) : NULL;
    if (!base && dest) {
        hb_os_unmap(dest, reserve);
        reserve = grown;
    }
    if (!base) /* no reservation: move the pages anyway */
        base = hb_os_remap(old_base, old_map, grown);
    if (base) {
        if (old_reserve > old_map)
            hb_os_unmap(old_base + old_map, old_reserve - old_map);
        void *q = block_init(base, grown, off);
        h = hdr_of(q);
        h->reserve = reserve;
        h->populated = populated; /* the pages moved with the header */
        add(&L->os_bytes, grown - old_map);
        add(&L->live_bytes, usable_of(h) - old_usable);
        /* the header moved with its pages, slot and all */
        pthread_mutex_lock(&L->lock);
        L->live[h->slot] = (uintptr_t)h;
        pthread_mutex_unlock(&L->lock);
        return q;
    }
    errno = ENOMEM;
    return NULL;
}

/* The pages just past what realloc was asked for are faulted in together,
 * POPULATE_AHEAD at a time, rather than one page per fault as the program
 * writes them; only past what the block was first asked for, so a shrink
 * faults nothing in. */
static void populate_ahead(hb_lblock *h, size_t new_size)
{
    size_t end = h->off + new_size, page = hb_os_page_size();
    if (end <= h->populated)
        return;
    size_t lo = (end - 1) & ~(page - 1), hi = page_round(end) + POPULATE_AHEAD;
    /* populated need not be on a page (it starts as the program's size):
     * madvise takes whole pages, and refuses an address inside one */
    size_t done = h->populated & ~(page - 1);
    if (lo < done)
        lo = done;
    if (hi > h->map_size)
        hi = h->map_size;
    if (lo < hi && hb_os_populate(h->base + lo, hi - lo) == 0)
        h->populated = hi;
}

void *hb_large_realloc(hb_large *G, void *p, size_t new_size)
{
    void *q = realloc_block(shard_of(G, hdr_of(p)), p, new_size);
    if (q)
        populate_ahead(hdr_of(q), new_size);
    return q;
}

void hb_large_destroy(hb_large *G)
{
    for (unsigned k = 0; k < HB_LARGE_SHARDS; k++) {
        hb_large_shard *L = &G->shard[k];
        for (size_t i = 0; i < L->live_used; i++)
            if (!(L->live[i] & 1)) {
                hb_lblock *h = (hb_lblock *)L->live[i];
                hb_os_unmap(h->base, h->reserve);
            }
        if (L->live)
            hb_os_unmap(L->live, L->live_cap * sizeof *L->live);
        for (unsigned i = 0; i < L->cache.fresh; i++)
            if (L->cache.size[i])
                hb_os_unmap(L->cache.base[i], L->cache.size[i]);
        pthread_mutex_destroy(&L->lock);
    }
    memset(G, 0, sizeof *G);
}
