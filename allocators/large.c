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
    struct hb_lblock *prev, *next; /* the instance's live list */
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
    memset(L, 0, sizeof *L);
    /* Adaptive: a waiter spins a while before it sleeps in the kernel.
     * The lock is held for a scan of the cache, a microsecond or two, and
     * threads resizing large blocks meet on it at every call; a sleep and
     * a wake-up cost more than the wait. */
    pthread_mutexattr_t attr;
    int err = pthread_mutexattr_init(&attr);
    if (err)
        return err;
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    err = pthread_mutex_init(&L->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return err;
}

void hb_large_lock(hb_large *L)
{
    pthread_mutex_lock(&L->lock);
}

void hb_large_unlock(hb_large *L)
{
    pthread_mutex_unlock(&L->lock);
}

/* ---- the cache (under the lock) ---- */

static void span_unmap(hb_large *L, char *base, size_t size)
{
    hb_os_unmap(base, size);
    sub(&L->os_bytes, size);
    add(&L->released_bytes, size);
}

static void cache_remove(hb_large *L, unsigned i)
{
    L->cache_bytes -= L->cache[i].size;
    L->cache[i] = L->cache[--L->ncache];
}

static void cache_oldest(hb_large *L)
{
    uint64_t t = UINT64_MAX;
    for (unsigned i = 0; i < L->ncache; i++)
        if (L->cache[i].idle_since_ms < t)
            t = L->cache[i].idle_since_ms;
    L->oldest_ms = t;
}

/* Unmap spans idle longer than the decay, then the oldest until the cache
 * is within its bound. Unmapping under the lock keeps a span from being
 * handed out while it goes; large calls are rare next to small ones. */
static void cache_trim(hb_large *L, uint64_t now)
{
    if (L->ncache && now - L->oldest_ms >= HB_LARGE_DECAY_MS) {
        for (unsigned i = 0; i < L->ncache;) {
            if (now - L->cache[i].idle_since_ms >= HB_LARGE_DECAY_MS) {
                span_unmap(L, L->cache[i].base, L->cache[i].size);
                cache_remove(L, i);
            } else {
                i++;
            }
        }
        cache_oldest(L);
    }
    uint64_t live = atomic_load_explicit(&L->live_bytes, memory_order_relaxed);
    size_t bound = live / 4 > HB_LARGE_CACHE_MIN ? live / 4 : HB_LARGE_CACHE_MIN;
    while (L->cache_bytes > bound) {
        unsigned old = 0;
        for (unsigned i = 1; i < L->ncache; i++)
            if (L->cache[i].idle_since_ms < L->cache[old].idle_since_ms)
                old = i;
        span_unmap(L, L->cache[old].base, L->cache[old].size);
        cache_remove(L, old);
        cache_oldest(L);
    }
}

/* Keep a span, merged with cached neighbours; unmap it when there is no
 * slot left. The merged span counts as idle from now. */
static void cache_put(hb_large *L, char *base, size_t size, uint64_t now)
{
    for (unsigned i = 0; i < L->ncache;) {
        hb_large_span *s = &L->cache[i];
        if (s->base + s->size == base || base + size == s->base) {
            if (s->base < base)
                base = s->base;
            size += s->size;
            cache_remove(L, i);
        } else {
            i++;
        }
    }
    if (L->ncache == HB_LARGE_CACHE_SPANS) {
        span_unmap(L, base, size);
        return;
    }
    L->cache[L->ncache++] = (hb_large_span){base, size, now};
    L->cache_bytes += size;
    if (L->ncache == 1 || now < L->oldest_ms)
        L->oldest_ms = now;
    cache_trim(L, now);
}

/* The head of cached span i, up to `want` bytes; its size in *got. */
static char *span_take(hb_large *L, unsigned i, size_t want, size_t *got)
{
    hb_large_span *s = &L->cache[i];
    char *base = s->base;
    if (s->size > want) {
        s->base += want;
        s->size -= want;
        L->cache_bytes -= want;
        *got = want;
    } else {
        *got = s->size;
        cache_remove(L, i);
        cache_oldest(L);
    }
    return base;
}

/* The smallest cached span of at least `need` bytes, split: its head of
 * up to `want` bytes (want >= need, whole pages) is returned and its size
 * put in *got, the rest stays cached with its age. NULL when none fits. */
static char *cache_take(hb_large *L, size_t need, size_t want, size_t *got)
{
    unsigned best = L->ncache;
    for (unsigned i = 0; i < L->ncache; i++)
        if (L->cache[i].size >= need && (best == L->ncache || L->cache[i].size < L->cache[best].size))
            best = i;
    if (best == L->ncache)
        return NULL;
    return span_take(L, best, want, got);
}

/* The cached span starting at `at`, if it has `need` bytes: its head of up
 * to `want` bytes, as cache_take. For a block to grow over its free
 * neighbour in place, as glibc's realloc does. */
static char *cache_take_at(hb_large *L, char *at, size_t need, size_t want, size_t *got)
{
    for (unsigned i = 0; i < L->ncache; i++)
        if (L->cache[i].base == at)
            return L->cache[i].size >= need ? span_take(L, i, want, got) : NULL;
    return NULL;
}

/* Take the largest cached span whole (for hb_large_alloc to extend); NULL
 * when the cache is empty. */
static char *cache_largest(hb_large *L, size_t *size)
{
    if (!L->ncache)
        return NULL;
    unsigned best = 0;
    for (unsigned i = 1; i < L->ncache; i++)
        if (L->cache[i].size > L->cache[best].size)
            best = i;
    char *base = L->cache[best].base;
    *size = L->cache[best].size;
    cache_remove(L, best);
    cache_oldest(L);
    return base;
}

/* ---- blocks ---- */

static void live_link(hb_large *L, hb_lblock *h)
{
    h->prev = NULL;
    h->next = L->live;
    if (h->next)
        h->next->prev = h;
    L->live = h;
}

static void live_unlink(hb_large *L, hb_lblock *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        L->live = h->next;
    if (h->next)
        h->next->prev = h->prev;
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
 * bytes of the program's, linked live (under the lock). */
static void *block_live(hb_large *L, char *base, size_t map_size, size_t off, size_t size)
{
    void *p = block_init(base, map_size, off);
    hb_lblock *h = hdr_of(p);
    h->populated = off + size; /* the program's: realloc populates past it only */
    add(&L->live_bytes, usable_of(h));
    live_link(L, h);
    return p;
}

/* hb_large_alloc's work; *dirty gets how many bytes of the mapping, from
 * its base, may hold old data (0 for a fresh mapping: the kernel's pages
 * are zero). */
static void *large_alloc(hb_large *L, size_t align, size_t size, size_t *dirty)
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
    pthread_mutex_lock(&L->lock);
    *dirty = 0;
    if (align <= page) {
        size_t got;
        base = cache_take(L, need, need, &got);
        if (base) {
            /* linked in the same hold of the lock: threads resizing
             * blocks of these sizes meet here at every call */
            *dirty = need;
            p = block_live(L, base, need, off, size);
        } else if (need > CARVE_MAX) {
            grow = cache_largest(L, &grow_size);
        }
    }
    cache_trim(L, now);
    pthread_mutex_unlock(&L->lock);
    if (p)
        return p;
    if (!grow && need <= CARVE_MAX && align <= page) {
        /* A fresh chunk: the block is its head, the rest is cached (pages
         * never touched: no RSS until a block uses them). */
        base = hb_os_map(CARVE_CHUNK, page);
        if (base) {
            add(&L->os_bytes, CARVE_CHUNK);
            pthread_mutex_lock(&L->lock);
            cache_put(L, base + need, CARVE_CHUNK - need, now);
            p = block_live(L, base, need, off, size);
            pthread_mutex_unlock(&L->lock);
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
    return p;
}

void *hb_large_alloc(hb_large *L, size_t align, size_t size)
{
    size_t dirty;
    return large_alloc(L, align, size, &dirty);
}

/* Only the bytes a reused span may hold are cleared: a fresh mapping is
 * zero already and stays untouched (no RSS for calloc's pages the program
 * never writes, as glibc's calloc of an mmapped chunk). Whole pages of a
 * reused span are given back instead of written when there are many
 * (MADV_DONTNEED: they read as zero and cost no RSS until touched). */
void *hb_large_alloc_zeroed(hb_large *L, size_t size)
{
    size_t dirty;
    char *p = large_alloc(L, 16, size, &dirty);
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

void hb_large_free(hb_large *L, void *p)
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

size_t hb_large_usable(const void *p)
{
    return usable_of(hdr_of(p));
}

/* Extend the block over its reservation to `grown` bytes from its base. */
static int grow_in_place(hb_large *L, hb_lblock *h, size_t grown)
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
static void *grow_from_cache(hb_large *L, hb_lblock *h, size_t new_size, size_t want)
{
    size_t need = block_need(h->off, new_size), got;
    pthread_mutex_lock(&L->lock);
    char *next = cache_take_at(L, h->base + h->map_size, need - h->map_size, want - h->map_size, &got);
    void *q = NULL;
    if (!next && need <= COPY_MAX) {
        char *dest = cache_take(L, need, want, &got);
        if (dest)
            q = block_live(L, dest, got, h->off, new_size);
    }
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
    hb_large_free(L, h + 1);
    return q;
}

static void *realloc_block(hb_large *L, void *p, size_t new_size)
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
    /* Off the live list while the header may move with its pages. */
    pthread_mutex_lock(&L->lock);
    live_unlink(L, h);
    pthread_mutex_unlock(&L->lock);
    char *base = dest ? hb_os_remap_at(old_base, old_map, grown, dest) : NULL;
    if (!base && dest) {
        hb_os_unmap(dest, reserve);
        reserve = grown;
    }
    if (!base) /* no reservation: move the pages anyway */
        base = hb_os_remap(old_base, old_map, grown);
    void *q = p;
    if (base) {
        if (old_reserve > old_map)
            hb_os_unmap(old_base + old_map, old_reserve - old_map);
        q = block_init(base, grown, off);
        h = hdr_of(q);
        h->reserve = reserve;
        h->populated = populated; /* the pages moved with the header */
        add(&L->os_bytes, grown - old_map);
        add(&L->live_bytes, usable_of(h) - old_usable);
    }
    pthread_mutex_lock(&L->lock);
    live_link(L, h);
    pthread_mutex_unlock(&L->lock);
    if (!base) {
        errno = ENOMEM;
        return NULL;
    }
    return q;
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

void *hb_large_realloc(hb_large *L, void *p, size_t new_size)
{
    void *q = realloc_block(L, p, new_size);
    if (q)
        populate_ahead(hdr_of(q), new_size);
    return q;
}

void hb_large_destroy(hb_large *L)
{
    for (hb_lblock *h = L->live, *n; h; h = n) {
        n = h->next;
        hb_os_unmap(h->base, h->reserve);
    }
    L->live = NULL;
    for (unsigned i = 0; i < L->ncache; i++)
        hb_os_unmap(L->cache[i].base, L->cache[i].size);
    L->ncache = 0;
    L->cache_bytes = 0;
    pthread_mutex_destroy(&L->lock);
}
