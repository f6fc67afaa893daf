/* arena_heaps.h -- arena's abandoned heaps (arena_heaps.c): the list of
 * heaps no thread owns, taking one off it, adoption by a freeing thread,
 * and the sweep that gives back their idle memory. Internal to arena. */
#ifndef HB_ARENA_HEAPS_H
#define HB_ARENA_HEAPS_H

#include "arena_layout.h"

#include <stdatomic.h>

/* ---- a thread's heap
 *
 * One-entry cache of this thread's heap: alloc and free on the owning
 * thread cost a TLS load and a compare (arena.c's TC_HIT). initial-exec
 * because the drop-in is preloaded and the general-dynamic model's
 * __tls_get_addr may allocate. id 0: no instance. */
typedef struct hb_arena_tcache {
    uint64_t id;
    heap *heap;
} hb_arena_tcache;
extern _Thread_local hb_arena_tcache hb_arena_tc __attribute__((tls_model("initial-exec")));

/* The calling thread's heap of instance in, adopting the heap left last or
 * making one (errno ENOMEM and NULL when it cannot). */
heap *hb_arena_heap_attach(inst *in);
/* For free: this thread's heap if it has one, never making one. */
heap *hb_arena_heap_lookup(inst *in);
/* The dead heap d as the calling thread's heap (it has none, or
 * hb_arena_heap_swap leaves its own next): 1 when it is, busy, for the
 * caller to end the window with hb_arena_owner_exit; 0 when another thread
 * got there first or the key cannot be set. */
int hb_arena_heap_own(inst *in, heap *d);
/* A thread with heap mine about to adopt the dead heap d takes it as its
 * own instead when d holds more than twice mine's live bytes and at least
 * as much memory (1, busy as hb_arena_heap_own's), leaving mine. */
int hb_arena_heap_swap(inst *in, heap *mine, heap *d);
/* Leave h, and the dead heaps it adopted, for adoption (a detach, an exit:
 * hb_arena_heap_tsd_dtor is the instance key's destructor). */
void hb_arena_heap_abandon(heap *h);
void hb_arena_heap_tsd_dtor(void *v);
/* Every lifo of h back to its pools (arena.c), before h is left to other
 * threads, which must find its pools' counts true. */
void hb_arena_lifo_flush(heap *h);

/* ---- heaps no thread owns */

/* h, which no thread owns any more, on the abandoned list (its remote list
 * drained, its idle memory settled); a heap it pushes below the top
 * in->warm gives back all its free memory. */
void hb_arena_heap_leave(heap *h);
/* The dead heap d off the abandoned list, unless another thread got there
 * first: 1 when the caller now holds it, as its own heap (own 1: busy, for
 * the caller to let go with hb_arena_owner_exit) or as an adopted one. */
int hb_arena_abandoned_take(inst *in, heap *d, int own);
/* The dead heap d adopted by the thread of heap mine (1), or not (0). */
int hb_arena_heap_adopt(heap *mine, heap *d);
/* Let go of the heap mine adopted at index i. */
void hb_arena_heap_drop_adopted(heap *h, uint32_t i);
/* The abandoned heaps' memory that has become idle enough, given back: at
 * most every purge_ms / 2, by a thread that holds no heap lock, skipped
 * when the instance's lock is busy. One relaxed load when no abandoned heap
 * holds any. */
void hb_arena_abandoned_sweep(inst *in);

/* ---- helping a heap whose thread has stopped allocating
 *
 * A living heap's pools are its owner's alone, but an owner that has
 * stopped allocating (waiting in a join) never takes back what others free
 * to it. Another thread may then do it for it: drain its remote list into
 * its pools and give back what stays idle (hb_arena_heap_help). The owner
 * marks the stretches of its code that touch its pools (its slow paths:
 * the lifos, which a helper never touches, need none) with a plain store
 * of busy and a load of help; a helper sets HELP_CLAIM, makes every running
 * thread pass a full barrier (membarrier(2), MEMBARRIER_CMD_PRIVATE_
 * EXPEDITED) and goes ahead only if busy is 0. Between them one of the two
 * sees the other's store, and the owner's fast path pays no fence (an
 * asymmetric Dekker, as liburcu's and Folly's asymmetric fences). Without
 * membarrier no heap is helped. */
#if defined(__SANITIZE_THREAD__)
#define HB_HELP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HB_HELP_TSAN 1
#endif
#endif
/* busy set, then ordered before the load of help that follows. Under
 * ThreadSanitizer, which knows neither membarrier nor fences, a
 * sequentially consistent exchange (and the helper's seq_cst RMW and load,
 * with no membarrier: a plain Dekker). */
#ifdef HB_HELP_TSAN
#define HB_OWNER_MARK(h) ((void)atomic_exchange_explicit(&(h)->busy, 1, memory_order_seq_cst))
#else
#define HB_OWNER_MARK(h)                                                                          \
    (atomic_store_explicit(&(h)->busy, 1, memory_order_relaxed), atomic_signal_fence(memory_order_seq_cst))
#endif
/* h's help word was not 0 at a window's start: wait while a helper holds
 * h, and clear HELP_AWAY (owner side). */
void hb_arena_owner_back(heap *h);
/* The owner is about to touch h's pools (its windows do not nest). */
static inline void hb_arena_owner_enter(heap *h)
{
    HB_OWNER_MARK(h);
    if (__builtin_expect(atomic_load_explicit(&h->help, memory_order_seq_cst) != 0, 0))
        hb_arena_owner_back(h);
}
static inline void hb_arena_owner_exit(heap *h)
{
    atomic_store_explicit(&h->busy, 0, memory_order_release);
}
/* The living heap o's owner takes nothing back (its remote list holds
 * IDLE_REMOTE_BYTES): drain it and settle it for its owner, unless its
 * owner is in a window, another helper or the instance lock is busy, or o
 * was helped less than purge_ms / 2 ago. */
void hb_arena_heap_help(heap *o);

#endif
