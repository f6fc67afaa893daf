/* arena_heaps.c -- arena's heaps that no thread owns: the abandoned list
 * they wait on, whom they go to next (a thread that attaches, or adopts a
 * dead heap by freeing one of its blocks), and what of their memory goes
 * back meanwhile (arena_heaps.h). The heaps' own paths are arena.c's.
 * Nothing here may allocate: it is part of the drop-in malloc. */
#include "arena_heaps.h"
#include "arena_pools.h"
#include "arena_remote.h"

#include <pthread.h>
#include <stdatomic.h>

/* Put a heap no thread owns any more on the abandoned list, with what of
 * its free memory has been idle long enough given back; the rest waits for
 * the thread that takes the heap next, or for hb_arena_abandoned_sweep.
 *
 * The list is a stack: the next thread to attach takes the heap left
 * last. Only the top in->warm ("warm=N", WARM_HEAPS) keep their memory
 * for it; the heap pushed below them gives back everything free at once
 * (hb_arena_heap_trim), off the list meanwhile and back at its bottom.
 * With a thread per task the stack holds every heap not in use, and a
 * heap deep in it was taken again before its pools had been idle for
 * purge_ms often enough that they never went back: larson with a worker
 * per 500 replacements at 2 threads kept 4 to 6 heaps on it, holding 100
 * to 160 free pools with their pages (peak RSS 1.59 times jemalloc's).
 * The depth is a trade of memory for time, the trimmed heap's pages
 * faulting in again when it is taken after all: on that row, 7
 * interleaved repetitions each, peak RSS and time against the best of
 * jemalloc and tcmalloc were 1.12 and 1.34 at warm=3, 1.19 and 0.99 at 4,
 * 1.38 and 0.85 at 5, 1.60 and 0.72 at 6 (as without the trim). 5 keeps
 * the time well inside issue 15's 1.10 (docs/allocators.md). */
void hb_arena_heap_leave(heap *h)
{
    inst *in = h->inst;
    hb_arena_drain_remote(h);
    int held = hb_arena_heap_settle(h, (uint32_t)hb_os_now_ms());
    pthread_mutex_lock(&in->lock);
    h->abandoned_next = in->abandoned;
    in->abandoned = h;
    atomic_store_explicit(&h->dead, 1, memory_order_relaxed);
    if (held)
        atomic_store_explicit(&in->abandoned_held, 1, memory_order_relaxed);
    heap **pp = &in->abandoned, *cold;
    for (uint32_t i = 0; *pp && i < in->warm; i++)
        pp = &(*pp)->abandoned_next;
    cold = *pp;
    if (cold && (hb_arena_heap_holds_free(cold) || cold->kept_bytes)) /* off the list while it is trimmed, dead all along */
        *pp = cold->abandoned_next;
    else
        cold = NULL;
    pthread_mutex_unlock(&in->lock);
    if (!cold)
        return;
    hb_arena_kept_flush(cold);
    hb_arena_heap_trim(cold);
    pthread_mutex_lock(&in->lock);
    for (pp = &in->abandoned; *pp;)
        pp = &(*pp)->abandoned_next;
    cold->abandoned_next = NULL;
    *pp = cold;
    pthread_mutex_unlock(&in->lock);
}

/* Let go of adopted heap i: empty, it waits for a thread that attaches; not
 * empty (its owner is leaving), for any adopter. */
void hb_arena_heap_drop_adopted(heap *h, uint32_t i)
{
    heap *d = h->adopted[i];
    h->adopted[i] = h->adopted[--h->nadopted];
    hb_arena_heap_leave(d);
}

/* Take the dead heap d off the abandoned list, unless another thread got
 * there first: 1 when this thread now holds it. */
int hb_arena_abandoned_take(inst *in, heap *d)
{
    int got = 0;
    pthread_mutex_lock(&in->lock);
    for (heap **pp = &in->abandoned; *pp; pp = &(*pp)->abandoned_next) {
        if (*pp == d) {
            *pp = d->abandoned_next;
            atomic_store_explicit(&d->dead, 0, memory_order_relaxed);
            got = 1;
            break;
        }
    }
    pthread_mutex_unlock(&in->lock);
    return got;
}

/* A thread with heap `mine` frees a block of the dead heap d: take d off the
 * abandoned list (unless another thread got there first) and own it beside
 * mine. 1 when mine now owns d. */
NOINLINE int hb_arena_heap_adopt(heap *mine, heap *d)
{
    if (mine->nadopted == ADOPT_MAX || !hb_arena_abandoned_take(mine->inst, d))
        return 0;
    mine->adopted[mine->nadopted++] = d;
    hb_arena_drain_remote(d);
    return 1;
}

/* A left heap keeps what became free in it lately (hb_arena_heap_leave
 * settles it, not trims it, unless it is below the warm ones): a program that runs a thread per task has the next
 * thread take the heap (heap_attach) and reuse those pages, where giving
 * them all back at every exit cost a madvise per free pool, with its TLB
 * shootdown, and a page fault per page reused (a chain of 40000 threads,
 * each freeing its predecessor's 500 blocks and making 500: 8.8 s against
 * glibc's 6.9 and tcmalloc's 4.9, 40% of it in madvise and faults). When no
 * thread takes it, this sweep, run from the other heaps' ticks, gives it
 * back once idle, as each heap's own memory goes. The abandoned heaps are
 * touched by no thread while on the list, and the list is under the
 * instance's lock, which the sweep holds. */
void hb_arena_abandoned_sweep(inst *in)
{
    if (LIKELY(!atomic_load_explicit(&in->abandoned_held, memory_order_relaxed)))
        return;
    uint32_t now = (uint32_t)hb_os_now_ms();
    uint32_t last = atomic_load_explicit(&in->abandoned_swept_ms, memory_order_relaxed);
    if (now - last <= in->purge_ms / 2u ||
        !atomic_compare_exchange_strong_explicit(&in->abandoned_swept_ms, &last, now, memory_order_relaxed,
                                                 memory_order_relaxed))
        return;
    if (pthread_mutex_trylock(&in->lock) != 0)
        return;
    int held = 0;
    for (heap *h = in->abandoned; h; h = h->abandoned_next)
        held |= hb_arena_heap_settle(h, now);
    atomic_store_explicit(&in->abandoned_held, held, memory_order_relaxed);
    pthread_mutex_unlock(&in->lock);
}
