/* arena_heaps.c -- arena's heaps from thread to thread: a thread's heap
 * made, attached, taken over from a dead thread or left (the heap
 * lifecycle that arena.c's header describes), the abandoned list the heaps
 * no thread owns wait on, whom they go to next (a thread that attaches, or
 * adopts a dead heap by freeing one of its blocks), and what of their
 * memory goes back meanwhile (arena_heaps.h). The allocation and free
 * paths are arena.c's. Nothing here may allocate: it is part of the
 * drop-in malloc. */
#include "arena_heaps.h"
#include "arena_pools.h"
#include "arena_remote.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

static void heap_help_locked(inst *in, heap *h, uint32_t now);

_Thread_local hb_arena_tcache hb_arena_tc __attribute__((tls_model("initial-exec")));

/* ------------------------------------------- a thread's heap: taken, left */

/* Leave a heap, and the dead heaps it adopted, for adoption. Their blocks
 * stay valid; frees from any thread go to their remote lists until an
 * adopter drains them. */
void hb_arena_heap_abandon(heap *h)
{
    if (!atomic_load_explicit(&h->busy, memory_order_relaxed)) /* hb_arena_heap_attach's failure holds it */
        hb_arena_owner_enter(h); /* hb_arena_heap_leave ends the window */
    if (hb_arena_tc.heap == h) {
        hb_arena_tc.id = 0;
        hb_arena_tc.heap = NULL;
    }
    hb_arena_foreign_flush(h); /* first: it may adopt heaps, dropped next */
    while (h->nadopted)
        hb_arena_heap_drop_adopted(h, h->nadopted - 1);
    hb_arena_lifo_flush(h);
    hb_arena_heap_leave(h);
}

/* The dead heap d as the calling thread's heap (the thread has none, or
 * hb_arena_heap_swap leaves its own next): 1 when it is, busy, for the caller to end
 * the window with hb_arena_owner_exit; 0 when another thread got there
 * first or the key cannot be set (d then back on the abandoned list). */
int hb_arena_heap_own(inst *in, heap *d)
{
    if (!hb_arena_abandoned_take(in, d, 1)) /* d busy: the caller ends its window */
        return 0;
    if (pthread_setspecific(in->key, d) != 0) {
        hb_arena_heap_leave(d);
        return 0;
    }
    hb_arena_tc.id = in->id;
    hb_arena_tc.heap = d;
    return 1;
}

/* A thread about to adopt the dead heap d takes it as its own heap instead,
 * and leaves its own heap `mine` for adoption, when d holds more than twice
 * mine's live bytes and at least as much memory. That is a thread
 * succeeding one that died holding its working set (Larson's chain of
 * workers; a thread pool replacing a thread) that had a heap before its
 * predecessor's died: it allocated before its first such free, or freed
 * while the predecessor still ran (free_other takes the dead heap of a
 * thread with none). Adopting would leave it building a second copy of the
 * working set in its heap while it frees the first into d, never
 * allocating from d (faulting in and then giving back a whole working set
 * per thread). Owning d, it frees into d's lifos and pools and allocates
 * from them. Its old heap's blocks stay valid and come back through
 * adoption, as any dead heap's. 1 when d is this thread's heap now. */
NOINLINE int hb_arena_heap_swap(inst *in, heap *mine, heap *d)
{
    uint64_t dl = atomic_load_explicit(&d->live, memory_order_relaxed);
    uint64_t ml = atomic_load_explicit(&mine->live, memory_order_relaxed) -
                  atomic_load_explicit(&mine->helped_live, memory_order_relaxed);
    if (dl / 2 <= ml || atomic_load_explicit(&d->os, memory_order_relaxed) <
                            atomic_load_explicit(&mine->os, memory_order_relaxed))
        return 0;
    if (!hb_arena_heap_own(in, d))
        return 0;
    /* d was abandoned, so it adopts nothing (hb_arena_heap_abandon dropped them):
     * mine's adopted heaps become d's. */
    for (uint32_t i = 0; i < mine->nadopted; i++)
        d->adopted[d->nadopted++] = mine->adopted[i];
    mine->nadopted = 0;
    hb_arena_heap_abandon(mine);
    hb_arena_drain_remote(d);
    return 1;
}

/* pthread key destructor: the thread exits without having detached. */
void hb_arena_heap_tsd_dtor(void *v)
{
    hb_arena_heap_abandon(v);
}

static heap *heap_new(inst *in)
{
    size_t page = hb_os_page_size();
    size_t size = (sizeof(heap) + page - 1) & ~(page - 1);
    heap *h = hb_os_map(size, page); /* zero-filled: every list starts empty */
    if (!h)
        return NULL;
    h->inst = in;
    for (size_t c = 1; c < NCLASS_ALL; c++) {
        uint32_t bsize = class_size(c), max = in->cache_bytes / bsize;
        h->cache[c].max = (uint16_t)(max < LIFO_MAX ? max : LIFO_MAX);
        h->cache[c].bsize = bsize;
        max = in->foreign_bytes / bsize;
        h->foreign[c].max = (uint16_t)(max < FOREIGN_MAX ? max : FOREIGN_MAX);
        h->foreign[c].bsize = bsize;
    }
    atomic_init(&h->remote, NULL);
    atomic_init(&h->busy, 1); /* hb_arena_heap_attach ends the window */
    pthread_mutex_lock(&in->lock);
    h->allnext = in->heaps;
    in->heaps = h;
    pthread_mutex_unlock(&in->lock);
    return h;
}

/* The calling thread's heap, adopting an abandoned one or making one. */
NOINLINE heap *hb_arena_heap_attach(inst *in)
{
    heap *h = pthread_getspecific(in->key);
    if (!h) {
        pthread_mutex_lock(&in->lock);
        h = in->abandoned;
        if (h) {
            in->abandoned = h->abandoned_next;
            h->adoptee = 0;
            atomic_store_explicit(&h->busy, 1, memory_order_relaxed);
            atomic_store_explicit(&h->dead, 0, memory_order_relaxed);
        }
        pthread_mutex_unlock(&in->lock);
        if (!h && !(h = heap_new(in))) {
            errno = ENOMEM;
            return NULL;
        }
        if (pthread_setspecific(in->key, h) != 0) {
            hb_arena_heap_abandon(h);
            errno = ENOMEM;
            return NULL;
        }
        hb_arena_drain_remote(h);
        hb_arena_owner_exit(h);
    }
    hb_arena_tc.id = in->id;
    hb_arena_tc.heap = h;
    return h;
}

/* For free: this thread's heap if it has one, never creating one (a free
 * of another heap's block attaches one, free_other; a free of a block of
 * the thread's own heap cannot come without it). */
NOINLINE heap *hb_arena_heap_lookup(inst *in)
{
    heap *h = pthread_getspecific(in->key);
    if (h) {
        hb_arena_tc.id = in->id;
        hb_arena_tc.heap = h;
    }
    return h;
}

/* ------------------------------------------- heaps no thread owns */


/* Everything free in h, which no thread uses meanwhile, back: the blocks
 * it keeps of idle heaps to their owners, then its free pages. */
static void heap_give_back_all(heap *h)
{
    hb_arena_kept_flush(h);
    hb_arena_heap_trim(h);
}

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
 * the time well inside issue 15's 1.10 (docs/arena-threads.md). */
void hb_arena_heap_leave(heap *h)
{
    inst *in = h->inst;
    hb_arena_drain_remote(h);
    int held = hb_arena_heap_settle(h, (uint32_t)hb_os_now_ms());
    pthread_mutex_lock(&in->lock);
    h->abandoned_next = in->abandoned;
    in->abandoned = h;
    /* What helpers took back comes off live now, with no owner writing it
     * meanwhile; and the leaving thread's window ends here, under the lock
     * the next owner takes it with (hb_arena_abandoned_take, hb_arena_heap_attach). */
    uint64_t helped = atomic_exchange_explicit(&h->helped_live, 0, memory_order_relaxed);
    if (helped)
        ctr_add(&h->live, -helped);
    h->help_held = 0;
    atomic_fetch_and_explicit(&h->help, ~HELP_AWAY, memory_order_relaxed);
    atomic_store_explicit(&h->dead, 1, memory_order_relaxed);
    atomic_store_explicit(&h->busy, 0, memory_order_release);
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
    heap_give_back_all(cold);
    pthread_mutex_lock(&in->lock);
    for (pp = &in->abandoned; *pp;)
        pp = &(*pp)->abandoned_next;
    cold->abandoned_next = NULL;
    *pp = cold;
    pthread_mutex_unlock(&in->lock);
}

/* Let go of adopted heap i: empty, it waits for a thread that attaches; not
 * empty (its owner is leaving), for any adopter.
 *
 * An emptied one gives back all its free memory first, as a heap below
 * the warm ones does: its adopter freed its blocks and allocated none from
 * it, so its pages were last used by a thread that has died; and a thread
 * that succeeds one (hb_arena_heap_own) takes its predecessor's heap, not a warm
 * empty one. Kept warm instead, an emptied heap's pages stayed resident
 * for purge_ms while the adopter's own heap faulted in the working set
 * anew: larson at 2 threads, a successor that starts while its predecessor
 * still runs, peaked at 17.3 MiB (median of 7; up to 19.5) against 16.2
 * (docs/arena-threads.md). */
void hb_arena_heap_drop_adopted(heap *h, uint32_t i)
{
    heap *d = h->adopted[i];
    h->adopted[i] = h->adopted[--h->nadopted];
    if (atomic_load_explicit(&d->live, memory_order_relaxed) == 0)
        heap_give_back_all(d);
    hb_arena_heap_leave(d);
}

/* Take the dead heap d off the abandoned list, unless another thread got
 * there first: 1 when this thread now holds it. */
int hb_arena_abandoned_take(inst *in, heap *d, int own)
{
    int got = 0;
    pthread_mutex_lock(&in->lock);
    for (heap **pp = &in->abandoned; *pp; pp = &(*pp)->abandoned_next) {
        if (*pp == d) {
            *pp = d->abandoned_next;
            d->adoptee = (uint8_t)!own;
            if (own)
                atomic_store_explicit(&d->busy, 1, memory_order_relaxed);
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
    if (mine->nadopted == ADOPT_MAX || !hb_arena_abandoned_take(mine->inst, d, 0))
        return 0;
    mine->adopted[mine->nadopted++] = d;
    hb_arena_drain_remote(d);
    return 1;
}

/* A left heap keeps what became free in it lately (hb_arena_heap_leave
 * settles it, not trims it, unless it is below the warm ones): a program that runs a thread per task has the next
 * thread take the heap (hb_arena_heap_attach) and reuse those pages, where giving
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
    if (LIKELY(!atomic_load_explicit(&in->abandoned_held, memory_order_relaxed) &&
               !atomic_load_explicit(&in->helped_held, memory_order_relaxed)))
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
    if (atomic_load_explicit(&in->helped_held, memory_order_relaxed)) {
        held = 0;
        for (heap *h = in->heaps; h; h = h->allnext) {
            /* helped and holding free memory, or blocks pushed since to an
             * owner still away (less than the MiB that calls a helper) */
            int away = (atomic_load_explicit(&h->help, memory_order_relaxed) & HELP_AWAY) != 0;
            if (h->help_held || (away && atomic_load_explicit(&h->remote, memory_order_relaxed)))
                heap_help_locked(in, h, now);
            held |= h->help_held | away; /* a leave clears HELP_AWAY */
        }
        atomic_store_explicit(&in->helped_held, held, memory_order_relaxed);
    }
    pthread_mutex_unlock(&in->lock);
}

/* ---------------------------------------------- helping an idle owner */

/* membarrier(2) registered for this process: 1, or -1 when it cannot be
 * (old kernel, a seccomp filter): then no heap is helped. 0 not tried yet:
 * a program whose heaps are never idle makes no such call. */
#ifndef HB_HELP_TSAN
static _Atomic int g_membarrier;
#endif

/* Every running thread of the process through a full barrier; 0 when that
 * cannot be had. */
static int help_fence(void)
{
#ifdef HB_HELP_TSAN
    return 1; /* the RMW and the load around this are seq_cst */
#else
    int st = atomic_load_explicit(&g_membarrier, memory_order_relaxed);
    if (st == 0) {
        st = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 ? 1 : -1;
        atomic_store_explicit(&g_membarrier, st, memory_order_relaxed);
    }
    if (st < 0)
        return 0;
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
        /* a child after fork(2) is not registered: try it once more */
        atomic_store_explicit(&g_membarrier, 0, memory_order_relaxed);
        return 0;
    }
    return 1;
#endif
}

void hb_arena_owner_back(heap *h)
{
    while (atomic_load_explicit(&h->help, memory_order_acquire) & HELP_CLAIM) {
        atomic_store_explicit(&h->busy, 0, memory_order_release);
        while (atomic_load_explicit(&h->help, memory_order_acquire) & HELP_CLAIM)
            sched_yield();
        HB_OWNER_MARK(h);
    }
    if (atomic_load_explicit(&h->help, memory_order_relaxed) & HELP_AWAY)
        atomic_fetch_and_explicit(&h->help, ~HELP_AWAY, memory_order_relaxed); /* it is back */
}

/* hb_arena_heap_help with the instance lock held: the lock keeps h's
 * owner from changing (take, leave and attach run under it), so a living
 * heap that is no adopted one has a thread whose windows guard it. */
static void heap_help_locked(inst *in, heap *h, uint32_t now)
{
    if (atomic_load_explicit(&h->dead, memory_order_relaxed) || h->adoptee)
        return;
    atomic_fetch_or_explicit(&h->help, HELP_CLAIM, memory_order_seq_cst);
    if (!help_fence() || atomic_load_explicit(&h->busy, memory_order_seq_cst)) {
        atomic_fetch_and_explicit(&h->help, ~HELP_CLAIM, memory_order_release);
        return;
    }
    hb_arena_drain_remote_helped(h);
    h->help_held = (uint8_t)hb_arena_heap_settle(h, now);
    if (h->help_held)
        atomic_store_explicit(&in->helped_held, 1, memory_order_relaxed);
    atomic_fetch_or_explicit(&h->help, HELP_AWAY, memory_order_relaxed);
    atomic_fetch_and_explicit(&h->help, ~HELP_CLAIM, memory_order_release);
}

/* Why: larson's main thread makes every slot's first block, then waits in
 * a join for the whole run. Its workers free those blocks, and what their
 * foreign caches and kept lists do not reuse went on its remote list,
 * which only it drains: on larson t2 medium under the drop-in library,
 * 5.1 MB of its 5.3 MB of blocks stayed there to the end, resident, beside
 * the workers' own working sets. Taken back for it, its pools empty and
 * their pages go back after purge_ms. */
void hb_arena_heap_help(heap *o)
{
    inst *in = o->inst;
    uint32_t now = (uint32_t)hb_os_now_ms();
    if (!in->help || pthread_mutex_trylock(&in->lock) != 0)
        return;
    heap_help_locked(in, o, now);
    pthread_mutex_unlock(&in->lock);
}
