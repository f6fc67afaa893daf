/* arena_pools.c -- arena's arenas and pools: obmalloc's arena half
 * (allocate_from_new_pool, insert_to_freepool), with free arenas kept and
 * given back after a delay (arena_pools.h). The blocks inside the pools,
 * the heaps and the interface are arena.c's. Nothing here may allocate:
 * it is part of the drop-in malloc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "arena_pools.h"
#include "arena_heaps.h"

#include <errno.h>

/* The pages of pool p of arena a that a purge gives back while p stays on
 * the freepools list: all but the page holding its header (a medium
 * pool's header is in the arena's first page, so only pool 0 loses a
 * page). A small arena's pools but pool 0 are purged whole instead
 * (pools_gone). */
static size_t pool_pages(const arena *a, pool *p, char **lo)
{
    if (a->medium) {
        uintptr_t base = (uintptr_t)p & ~(uintptr_t)(HB_REGION - 1);
        size_t i = ((uintptr_t)p - base - MPOOL_DESC) / POOL_HDR;
        *lo = (char *)(base + (i ? i * MPOOL_SIZE : MPOOL0_DATA));
        return i ? MPOOL_SIZE : MPOOL_SIZE - MPOOL0_DATA;
    }
    size_t page = hb_os_page_size();
    *lo = (char *)p + page;
    return POOL_SIZE - page;
}

/* The start of a's region: pool 0, whose header comes before a's. */
static char *arena_base(const arena *a)
{
    return (char *)a - POOL_HDR;
}

/* Pools of a small arena carved so far (never-carved ones lie above). */
static uint32_t pools_carved(const arena *a)
{
    return (uint32_t)((a->pool_address - arena_base(a)) / POOL_SIZE);
}

/* A small arena's free pools purged whole, header page and all (pool 0
 * excepted: its first page holds the arena's header): off the freepools
 * list, their class 0 in a->cls, which no carved pool has (class_index
 * starts at 1). Their headers are gone with their pages, so no list can
 * run through them; pool_take finds them by that 0 among the carved
 * pools once the list and the never-carved pools are used up. This
 * counts them. */
static uint32_t pools_gone(const arena *a)
{
    uint32_t n = 0;
    if (!a->medium)
        for (uint32_t i = 1; i < pools_carved(a); i++)
            n += a->cls[i] == 0;
    return n;
}

/* ---------------------------------------------------------------- arenas */

static void arena_release(heap *h, arena *a)
{
    char *base = arena_base(a);
    size_t gone = HB_REGION, lo_len;
    char *lo;
    for (pool *p = a->freepools; p; p = p->nextpool)
        if (!p->dirty && (lo_len = pool_pages(a, p, &lo)))
            gone -= lo_len; /* purged: counted released then */
    gone -= (size_t)pools_gone(a) * POOL_SIZE; /* purged whole, likewise */
    h->ndirty -= a->ndirty;
    if (a->allprev)
        a->allprev->allnext = a->allnext;
    else
        h->all = a->allnext;
    if (a->allnext)
        a->allnext->allprev = a->allprev;
    /* Untag first: once unmapped the range may come back as a large block. */
    hb_region_set(base, 0);
    hb_os_unmap(base, HB_REGION);
    ctr_add(&h->os, -(uint64_t)gone);
    ctr_add(&h->released, gone);
}

static arena *arena_new(heap *h, int medium)
{
    char *base = hb_os_map(HB_REGION, HB_REGION);
    if (!base)
        return NULL;
    if (hb_region_set(base, medium ? MED_TAG : ARENA_TAG) != 0) {
        hb_os_unmap(base, HB_REGION);
        errno = ENOMEM;
        return NULL;
    }
    arena *a = (arena *)(base + POOL_HDR);
    a->heap = h;
    a->freepools = NULL;
    a->pool_address = medium ? base + MPOOL_DESC : base;
    a->nfreepools = a->ntotalpools = (uint8_t)(medium ? NMPOOLS : NPOOLS);
    a->medium = (uint8_t)medium;
    a->ndirty = 0;
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
pool *hb_arena_pool_take(heap *h, int medium)
{
    arenas *k = &h->kind[medium];
    arena *a = k->usable;
    if (!a) {
        a = arena_new(h, medium);
        if (!a)
            return NULL;
        k->usable = a;
        k->lasta[a->nfreepools] = a;
    }
    if (k->lasta[a->nfreepools] == a)
        k->lasta[a->nfreepools] = NULL; /* it was the last with that count */
    if (a->nfreepools > 1)
        k->lasta[a->nfreepools - 1] = a; /* it becomes the first, hence last, of count-1 */
    pool *p = a->freepools;
    if (p) {
        a->freepools = p->nextpool;
        if (p->dirty) {
            a->ndirty--;
            h->ndirty--;
        } else { /* purged: its pages fault in again */
            char *lo;
            ctr_add(&h->os, pool_pages(a, p, &lo));
        }
    } else if (medium || a->pool_address < arena_base(a) + HB_REGION) {
        p = (pool *)a->pool_address;
        a->pool_address += medium ? POOL_HDR : POOL_SIZE;
    } else { /* a pool purged whole: it faults in again, header and all */
        uint32_t i = 1;
        while (a->cls[i]) /* nfreepools counts one, so the scan ends */
            i++;
        p = (pool *)(arena_base(a) + (size_t)i * POOL_SIZE);
        ctr_add(&h->os, POOL_SIZE);
    }
    if (--a->nfreepools == 0) {
        k->usable = a->nextarena;
        if (k->usable)
            k->usable->prevarena = NULL;
        a->nextarena = a->prevarena = NULL;
    }
    return p;
}

/* Give back the wholly free arenas of k idle for HB_DECAY_MS, oldest first:
 * they are the list's tail, from k->lasta[n] backwards (a newly free arena
 * goes before the ones already free); all of them when `all`. */
static void arenas_decay(heap *h, arenas *k, uint32_t n, int all, uint64_t now)
{
    for (arena *a = k->lasta[n], *prev; a && a->nfreepools == n; a = prev) {
        prev = a->prevarena;
        if (!all && (uint32_t)now - a->free_ms < HB_DECAY_MS)
            break;
        k->lasta[n] = (prev && prev->nfreepools == n) ? prev : NULL;
        if (prev)
            prev->nextarena = a->nextarena;
        else
            k->usable = a->nextarena;
        if (a->nextarena)
            a->nextarena->prevarena = prev;
        arena_release(h, a);
    }
}

/* obmalloc's insert_to_freepool: an empty pool goes back to its arena and
 * the arena slides right to keep usable_arenas sorted. */
static void pool_relink(heap *h, pool *p)
{
    arena *a = arena_of(p);
    arenas *k = &h->kind[a->medium];
    p->nextpool = a->freepools;
    a->freepools = p;
    uint32_t nf = a->nfreepools;
    arena *lastnf = k->lasta[nf];
    if (lastnf == a) {
        arena *prev = a->prevarena;
        k->lasta[nf] = (prev && prev->nfreepools == nf) ? prev : NULL;
    }
    a->nfreepools = ++nf;

    if (nf == 1) { /* it was full, hence off the list: it goes first */
        a->nextarena = k->usable;
        a->prevarena = NULL;
        if (k->usable)
            k->usable->prevarena = a;
        k->usable = a;
        if (!k->lasta[1])
            k->lasta[1] = a;
        return;
    }
    if (!k->lasta[nf])
        k->lasta[nf] = a;
    if (a == lastnf)
        return; /* still in order */
    /* Move right, after the last arena that had its old count. */
    if (a->prevarena)
        a->prevarena->nextarena = a->nextarena;
    else
        k->usable = a->nextarena;
    a->nextarena->prevarena = a->prevarena;
    a->prevarena = lastnf;
    a->nextarena = lastnf->nextarena;
    if (a->nextarena)
        a->nextarena->prevarena = a;
    lastnf->nextarena = a;
}

/* Free pools' pages. obmalloc keeps a free pool's pages until its whole
 * arena is free, so an arena with one pool in use holds the RSS of all 64.
 * Under mixed sizes from several threads many arenas are like that. So a
 * pool free for purge_ms (PURGE_MS) gives its pages back, header and all
 * (a small arena's pool 0 keeps the page with the arena's header, a medium
 * pool's header stays in the arena's first page); reused, they fault in
 * again as zeros. Until 2026-12-06 a small pool kept its header's page,
 * 4 KiB of its 16, to stay on the freepools list. Measured side by side
 * (docs/allocators.md), mixed_remote at 2 threads: peak RSS 36.0 MiB
 * without, 33.6 at 30 ms, 32.0 at 10 ms (mimalloc's purge delay); but at
 * 10 ms class_edges at 2 threads, whose rounds free a generation and build
 * the next, took 2.4 times as long (its pages refault), and 1.04 at 30 ms.
 *
 * The free pools with pages committed are a prefix of each arena's
 * freepools: the list is LIFO and a sweep purges the oldest, so the
 * deepest go first. The sweep runs when a pool is given back, at most
 * every purge_ms / 2, and reads only the arenas with such pools. */
static int pool_decommit(heap *h, arena *a, pool *p)
{
    /* whole: a small arena's pool but pool 0 (pools_gone); else pool_pages */
    int whole = !a->medium && slice_of(p);
    char *lo = (char *)p;
    size_t len = whole ? POOL_SIZE : pool_pages(a, p, &lo);
    hb_os_decommit(lo, len);
    ctr_add(&h->os, -(uint64_t)len);
    ctr_add(&h->released, len);
    return whole;
}

/* Purge the free pools idle for `delay` ms; every one when delay is 0. */
static void pools_purge(heap *h, uint32_t now, uint32_t delay)
{
    h->sweep_ms = now;
    for (arena *a = h->all; a && h->ndirty; a = a->allnext) {
        uint32_t left = a->ndirty;
        for (pool **pp = &a->freepools, *p; (p = *pp) && left;) {
            if (!p->dirty || (left--, now - p->free_ms < delay)) {
                pp = &p->nextpool;
                continue;
            }
            a->ndirty--;
            h->ndirty--;
            pool *next = p->nextpool; /* read first: a whole purge zeroes the header */
            if (pool_decommit(h, a, p)) { /* whole: off the list, see pools_gone */
                *pp = next;
                a->cls[slice_of(p)] = 0;
                continue;
            }
            p->dirty = 0;
            pp = &p->nextpool;
        }
    }
}

/* An empty pool back to its arena. A wholly free arena is kept, and given
 * back once idle for HB_DECAY_MS (arenas_decay). obmalloc gives it back at
 * once unless it is the last in the list (keeping one since bpo-37257, so
 * a loop at an arena boundary does not mmap/munmap every iteration); a
 * program that frees a whole generation of objects and builds the next
 * (class_edges' rounds, a request's working set) then refaults every page
 * of it: 3-4x the system time of tcmalloc, which keeps its pages. Free
 * arenas sort last, so pool_take uses them last and they age. */
void hb_arena_pool_give_back(heap *h, pool *p)
{
    arena *a = arena_of(p);
    uint32_t now = (uint32_t)hb_os_now_ms(), delay = h->inst->purge_ms;
    pool_relink(h, p);
    p->free_ms = now;
    p->dirty = 1;
    a->ndirty++;
    h->ndirty++;
    if (now - h->sweep_ms > delay / 2u) {
        pools_purge(h, now, delay);
        hb_arena_abandoned_sweep(h->inst);
    }
    if (a->nfreepools == a->ntotalpools) {
        /* Stamped first: the walk reaches it last and stops there. */
        a->free_ms = now;
        arenas_decay(h, &h->kind[a->medium], a->ntotalpools, 0, now);
    }
}

void hb_arena_heap_tick(heap *h)
{
    hb_arena_abandoned_sweep(h->inst);
    if (!hb_arena_heap_holds_free(h))
        return; /* nothing to purge or unmap: no clock read */
    uint32_t now = (uint32_t)hb_os_now_ms(), delay = h->inst->purge_ms;
    if (now - h->sweep_ms <= delay / 2u)
        return;
    hb_arena_heap_settle(h, now);
}

int hb_arena_heap_settle(heap *h, uint32_t now)
{
    if (h->ndirty)
        pools_purge(h, now, h->inst->purge_ms);
    arenas_decay(h, &h->kind[0], NPOOLS, 0, now);
    arenas_decay(h, &h->kind[1], NMPOOLS, 0, now);
    return hb_arena_heap_holds_free(h);
}

void hb_arena_heap_trim(heap *h)
{
    uint32_t now = (uint32_t)hb_os_now_ms();
    arenas_decay(h, &h->kind[0], NPOOLS, 1, now);
    arenas_decay(h, &h->kind[1], NMPOOLS, 1, now);
    if (h->ndirty)
        pools_purge(h, now, 0);
}
