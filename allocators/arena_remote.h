/* arena_remote.h -- arena's blocks of other heaps (arena_remote.c): remote
 * lists of carriers, drained by the owner, and the foreign caches' way back
 * to the owners; with what arena.c gives it, obmalloc's free into a pool
 * and the adoption of dead heaps. Internal to arena. */
#ifndef HB_ARENA_REMOTE_H
#define HB_ARENA_REMOTE_H

#include "arena_layout.h"

/* ---- arena_remote.c */

/* Take back every block other threads freed to h: one exchange for the lot. */
void hb_arena_drain_remote(heap *h);
/* The work of hb_arena_drain_all (below), called when there is some. */
void hb_arena_drain_all_slow(heap *h);
/* h's remote list and those of the dead heaps it adopted; an adopted heap
 * whose blocks are all back is let go. Inline: when nothing was freed to h
 * and it adopted none, the common case on the owner's paths, it costs a
 * load and a compare, no call. */
static inline void hb_arena_drain_all(heap *h)
{
    if (atomic_load_explicit(&h->remote, memory_order_relaxed) || h->nadopted)
        hb_arena_drain_all_slow(h);
}
/* A full foreign cache f of h: all of it back to the owners, then b on it. */
void hb_arena_foreign_spill(heap *h, fcache *f, block *b);
/* Every foreign cache of h back to the owners (h is being left; its kept
 * lists stay, for the thread that takes it next). */
void hb_arena_foreign_flush(heap *h);
/* Every kept list of the dead heap h, off the abandoned list, back to the
 * owners. */
void hb_arena_kept_flush(heap *h);
/* b, of bsize bytes, of the living heap owner, on owner's remote list. */
void hb_arena_remote_free(heap *owner, block *b, uint32_t bsize);

/* The living heap o is not taking back what others free to it: its remote
 * list holds IDLE_REMOTE_BYTES or more. A helper takes the list back at
 * each such MiB (hb_arena_heap_help), so this holds only where no helper
 * could ("help=0", no membarrier, the owner in a window): the kept lists
 * are the fallback. Kept while a heap was helped too, they cost larson t1
 * 3% of its instructions (the owner's blocks handed out through the
 * foreign paths) and saved no memory: the blocks they hand out keep the
 * owner's pools from emptying. */
static inline int hb_arena_heap_idle(heap *o)
{
    return atomic_load_explicit(&o->remote_bytes, memory_order_relaxed) >= IDLE_REMOTE_BYTES;
}
/* Every block on h's remote list back to its pools, by a helper that holds
 * h (arena_heaps.c): their bytes go on helped_live, not off live, which
 * the owner may be writing meanwhile (its lifos' counts). */
void hb_arena_drain_remote_helped(heap *h);

/* b, of class c, of an idle heap, freed by h: on h's kept list. */
void hb_arena_kept_free(heap *h, size_t c, block *b, uint32_t bsize);

/* The newest block of h's kept list of class c, which is not empty. */
static inline block *hb_arena_kept_pop(heap *h, size_t c, uint32_t bsize)
{
    block *b = h->kept[c];
    h->kept[c] = b->next;
    h->kept_bytes -= bsize;
    ctr_add(&h->foreign_bytes, -(uint64_t)bsize);
    return b;
}

/* A block of another heap on h's foreign cache f, which has room. */
static inline void hb_arena_foreign_push(heap *h, fcache *f, block *b)
{
    f->slot[f->n++] = b;
    ctr_add(&h->foreign_bytes, f->bsize);
}

/* The newest block of h's foreign cache f, which is not empty. */
static inline block *hb_arena_foreign_pop(heap *h, fcache *f)
{
    ctr_add(&h->foreign_bytes, -(uint64_t)f->bsize);
    return f->slot[--f->n];
}

/* ---- arena.c */

/* A pool that became empty, or was full: off or back on usedpools. */
void hb_arena_free_slow(heap *h, pool *p, block *last);

/* obmalloc's free into the block's pool; its live bytes are already off
 * (it comes from a lifo, or local_free took them). */
static inline void pool_put(heap *h, pool *p, block *b)
{
    block *last = p->freeblock;
    b->next = last;
    p->freeblock = b;
    if (UNLIKELY(--p->count == 0 || !last))
        hb_arena_free_slow(h, p, last);
}

static inline void local_free(heap *h, pool *p, block *b)
{
    ctr_add(&h->live, -(uint64_t)p->bsize);
    pool_put(h, p, b);
}

#endif
