/* arena_remote.c -- arena's blocks of other heaps: the remote lists of
 * carriers, and the foreign caches' spills and flushes back to the owners
 * (arena_remote.h; "Blocks of other threads" in arena.c). Nothing here may
 * allocate: it is part of the drop-in malloc. */
#include "arena_remote.h"
#include "arena_heaps.h"
#include "arena_pools.h"

#include <stdatomic.h>

/* Remote lists link carriers: a freed block whose word 0 is the next
 * carrier and word 1 the number of other blocks of its class it carries,
 * their addresses in the words after. The owner frees a carrier's blocks
 * from that array, loads independent of each other, where a list of
 * blocks was a chain of cache misses on lines the other core wrote, each
 * waiting for the one before (83% of drain_remote's samples on
 * mixed_remote at 2 threads were that walk's load). */
typedef struct carrier {
    struct carrier *next;
    uintptr_t n;
    block *blk[];
} carrier;

/* Other blocks a carrier of bsize bytes holds: none for 16 B blocks. */
static inline uint32_t carrier_room(uint32_t bsize)
{
    return (bsize - (uint32_t)sizeof(carrier)) / (uint32_t)sizeof(block *);
}

/* Every block of a list of carriers back to its pool in h (the owner, a
 * heap this thread adopted, or one it helps): each carrier last, so its
 * pool cannot empty while its array is read. Returns their bytes, which
 * the caller takes off h's live count. */
static uint64_t carriers_put(heap *h, carrier *c)
{
    uint64_t bytes = 0;
    while (c) {
        carrier *next = c->next;
        for (uintptr_t i = 0, n = c->n; i < n; i++) {
            pool *p = block_pool(c->blk[i]);
            bytes += p->bsize;
            pool_put(h, p, c->blk[i]);
        }
        pool *p = block_pool((block *)c);
        bytes += p->bsize;
        pool_put(h, p, (block *)c);
        c = next;
    }
    return bytes;
}

/* carriers_put, by h's owner or adopter: off live at once. */
static void carriers_free(heap *h, carrier *c)
{
    ctr_add(&h->live, -carriers_put(h, c));
}

/* Push a list of carriers, first to last, holding `bytes` of blocks, on
 * o's remote list: one compare-and-swap, and the count hb_arena_heap_idle
 * reads. */
static void remote_push(heap *o, carrier *first, carrier *last, uint64_t bytes)
{
    block *head = atomic_load_explicit(&o->remote, memory_order_relaxed);
    do
        last->next = (carrier *)head;
    while (!atomic_compare_exchange_weak_explicit(&o->remote, &head, (block *)first, memory_order_release,
                                                  memory_order_relaxed));
    /* Each IDLE_REMOTE_BYTES pushed without the owner taking them back:
     * take them back for it. */
    uint64_t was = atomic_fetch_add_explicit(&o->remote_bytes, bytes, memory_order_relaxed);
    if (__builtin_expect((was ^ (was + bytes)) >= IDLE_REMOTE_BYTES, 0) &&
        !atomic_load_explicit(&o->dead, memory_order_relaxed))
        hb_arena_heap_help(o);
}

/* Blocks of one owner (and one class) on their way back to it. */
typedef struct chain {
    heap *owner;
    carrier *head, *tail; /* tail: the carrier being filled */
    uint64_t bytes;
} chain;

/* A chain back to its owner: freed locally when h owns that heap too (it
 * adopted it, or adopts it now that it is dead), else pushed on its remote
 * list, the whole chain with one compare-and-swap. */
static void chain_give(heap *h, chain *c, int adopt)
{
    heap *o = c->owner;
    uint32_t i = 0;
    while (i < h->nadopted && h->adopted[i] != o)
        i++;
    if (i < h->nadopted ||
        (adopt && atomic_load_explicit(&o->dead, memory_order_relaxed) && hb_arena_heap_adopt(h, o))) {
        carriers_free(o, c->head);
        if (atomic_load_explicit(&o->live, memory_order_relaxed) == 0)
            hb_arena_heap_drop_adopted(h, i);
        return;
    }
    remote_push(o, c->head, c->tail, c->bytes);
}

/* n blocks of a foreign cache (one class), v[0] to v[n - 1], back to their
 * owners: gathered into a chain of carriers per owner (SPILL_OWNERS at a
 * time), so each owner costs one compare-and-swap however many blocks go
 * back to it. The addresses come from the cache's array; of the blocks,
 * only the carriers are written. */
static void foreign_return(heap *h, block *const *v, uint32_t nblk, uint32_t bsize, int adopt)
{
    chain ch[SPILL_OWNERS];
    uint32_t n = 0, room = carrier_room(bsize);
    for (uint32_t j = 0; j < nblk; j++) {
        block *b = v[j];
        heap *o = arena_of(b)->heap;
        uint32_t k = 0;
        while (k < n && ch[k].owner != o)
            k++;
        if (k < n && ch[k].tail->n < room) {
            ch[k].tail->blk[ch[k].tail->n++] = b;
            ch[k].bytes += bsize;
            continue;
        }
        carrier *c = (carrier *)b;
        c->next = NULL;
        c->n = 0;
        if (k < n) {
            ch[k].bytes += bsize;
            ch[k].tail->next = c;
            ch[k].tail = c;
            continue;
        }
        if (n == SPILL_OWNERS) {
            for (k = 0; k < n; k++)
                chain_give(h, &ch[k], adopt);
            n = 0;
        }
        ch[n++] = (chain){o, c, c, bsize};
    }
    for (uint32_t k = 0; k < n; k++)
        chain_give(h, &ch[k], adopt);
}

/* A full foreign cache goes back to the owners whole, then b is its first
 * block. Whole rather than its older half as the own lifo's spill: most of
 * what a foreign cache holds goes back in any case (on mixed_remote at 2
 * threads it served 1 to 6% of the allocations and sent back the rest),
 * and side by side the half spill was slower (6 alternating runs of
 * mixed_remote t2 medium with the array: 5.33 s against 5.00, 37.4 MiB
 * against 35.7). */
void hb_arena_foreign_spill(heap *h, fcache *f, block *b)
{
    uint32_t n = f->n;
    f->n = 0;
    ctr_add(&h->foreign_bytes, -(uint64_t)n * f->bsize);
    foreign_return(h, f->slot, n, f->bsize, 1);
    hb_arena_foreign_push(h, f, b);
    /* And take back h's own blocks: a thread that has stopped allocating
     * (done with its share of the work, waiting for the others) never
     * reaches alloc_slow, while its remote list grows with every block the
     * others free; drained, its pools empty and are purged. */
    hb_arena_drain_all(h);
    hb_arena_heap_tick(h);
}

/* Every foreign cache of h back to the owners (h is being left). Its kept
 * lists stay, for the thread that takes h next: their owners take nothing
 * back (hb_arena_kept_flush returns them if h goes cold). */
void hb_arena_foreign_flush(heap *h)
{
    for (size_t c = 1; c < NCLASS_ALL; c++) {
        fcache *f = &h->foreign[c];
        uint32_t n = f->n;
        f->n = 0;
        foreign_return(h, f->slot, n, f->bsize, 1);
    }
    atomic_store_explicit(&h->foreign_bytes, h->kept_bytes, memory_order_relaxed);
}

/* Every kept list of h back to the owners, FOREIGN_MAX blocks at a time,
 * their links read before foreign_return makes carriers of some. h is
 * dead, off the abandoned list, so it adopts no heap: the blocks go on
 * their owners' remote lists, a dead owner's drained by whoever takes it. */
void hb_arena_kept_flush(heap *h)
{
    for (size_t c = 1; c < NCLASS_ALL; c++) {
        for (block *b = h->kept[c]; b;) {
            block *v[FOREIGN_MAX];
            uint32_t n = 0;
            for (; b && n < FOREIGN_MAX; b = b->next)
                v[n++] = b;
            foreign_return(h, v, n, h->foreign[c].bsize, 0);
        }
        h->kept[c] = NULL;
    }
    ctr_add(&h->foreign_bytes, -h->kept_bytes);
    h->kept_bytes = 0;
}

/* h's whole remote list, with one exchange (NULL when empty). */
static carrier *remote_take(heap *h)
{
    if (!atomic_load_explicit(&h->remote, memory_order_relaxed))
        return NULL;
    atomic_store_explicit(&h->remote_bytes, 0, memory_order_relaxed);
    return (carrier *)atomic_exchange_explicit(&h->remote, NULL, memory_order_acquire);
}

/* Take back every block other threads freed: one exchange for the lot. */
void hb_arena_drain_remote(heap *h)
{
    carrier *c = remote_take(h);
    if (c)
        carriers_free(h, c);
}

void hb_arena_drain_remote_helped(heap *h)
{
    carrier *c = remote_take(h);
    if (c)
        atomic_fetch_add_explicit(&h->helped_live, carriers_put(h, c), memory_order_relaxed);
}

/* b, of class c (bsize bytes), of an idle heap, on h's kept list. */
static void kept_push(heap *h, size_t c, block *b, uint32_t bsize)
{
    b->next = h->kept[c];
    h->kept[c] = b;
    h->kept_bytes += bsize;
    ctr_add(&h->foreign_bytes, bsize);
}

/* b, a block of class c of an idle heap, on h's kept list. Every 64 KiB
 * kept, h also takes back its own blocks and purges, as a spill does (a
 * thread that has stopped allocating reaches no other slow path). */
void hb_arena_kept_free(heap *h, size_t c, block *b, uint32_t bsize)
{
    uint64_t before = h->kept_bytes;
    kept_push(h, c, b, bsize);
    if ((before ^ h->kept_bytes) >> 16) {
        hb_arena_drain_all(h);
        hb_arena_heap_tick(h);
    }
}

/* The owner's regular chance to take back remote frees, its own and those
 * of the dead heaps it adopted; an adopted heap whose blocks are all back
 * is let go. */
void hb_arena_drain_all_slow(heap *h)
{
    hb_arena_drain_remote(h);
    for (uint32_t i = h->nadopted; i-- > 0;) {
        heap *d = h->adopted[i];
        hb_arena_drain_remote(d);
        if (atomic_load_explicit(&d->live, memory_order_relaxed) == 0)
            hb_arena_heap_drop_adopted(h, i);
    }
}

/* A block of bsize bytes of a living heap, freed by a thread that keeps no
 * foreign cache for it: pushed on the owner's remote list, a carrier of
 * itself alone. */
void hb_arena_remote_free(heap *owner, block *b, uint32_t bsize)
{
    carrier *c = (carrier *)b;
    c->n = 0;
    remote_push(owner, c, c, bsize);
}
