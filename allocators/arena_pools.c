/* arena_pools.c -- arena's arenas and pools: obmalloc's arena half
 * (allocate_from_new_pool, insert_to_freepool), with free arenas kept and
 * given back after a delay (arena_pools.h). The blocks inside the pools,
 * the heaps and the interface are arena.c's. Nothing here may allocate:
 * it is part of the drop-in malloc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "arena_pools.h"

#include <errno.h>

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
    } else {
        p = (pool *)a->pool_address;
        a->pool_address += medium ? POOL_HDR : POOL_SIZE;
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
    pool_relink(h, p);
    if (a->nfreepools == a->ntotalpools) {
        /* Stamped first: the walk reaches it last and stops there. */
        uint64_t now = hb_os_now_ms();
        a->free_ms = (uint32_t)now;
        arenas_decay(h, &h->kind[a->medium], a->ntotalpools, 0, now);
    }
}

/* Give back every wholly free arena pool_give_back keeps (on detach). */
void hb_arena_heap_trim(heap *h)
{
    arenas_decay(h, &h->kind[0], NPOOLS, 1, 0);
    arenas_decay(h, &h->kind[1], NMPOOLS, 1, 0);
}

