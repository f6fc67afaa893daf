/* internal.h -- what heap.c, types.c and the backends share; not part of
 * the contract (workloads include object.h and collector.h only). */
#ifndef HB_COLLECTORS_INTERNAL_H
#define HB_COLLECTORS_INTERNAL_H

#include "collector.h"

/* A new object block of `size` bytes with its header set (refcount 1, not
 * tracked). May first run an automatic collection: the caller's fresh,
 * unstored objects are not safe across this call (see object.h). NULL with
 * errno = ENOMEM. */
hb_object *hb_object_alloc(hb_heap *h, const hb_type *t, size_t size);
/* The object is fully built: hand it to the collector. */
void hb_object_ready(hb_heap *h, hb_object *o);

/* hb_object_free in two halves, for a collection freeing many objects at
 * once: the block alone, then the counters once for the lot (a collector
 * that runs alone: an isolated heap, or the world stopped). */
static inline void hb_object_free_block(hb_heap *h, hb_object *o)
{
    h->obj_alloc->free(h->obj_alloc_state, o, o->size);
}
void hb_heap_freed(hb_heap *h, uint64_t objects, uint64_t bytes);

/* Buffers owned by objects (list items, dict slots), counted in live_bytes. */
void *hb_mem_alloc(hb_heap *h, size_t n);
void *hb_mem_realloc(hb_heap *h, void *p, size_t old, size_t n);
void hb_mem_free(hb_heap *h, void *p, size_t n);

/* types.c: immortal objects and the weakref map of a heap. */
int hb_types_init(hb_heap *h);
void hb_types_fini(hb_heap *h);
/* Visit the live weakref.finalize objects (roots). */
void hb_finalizers_visit(hb_heap *h, hb_visit_fn visit, void *arg);
/* Empty the finalize registry, dropping its references (heap teardown). */
void hb_finalizers_forget(hb_heap *h);

/* Free every object on a gc list by refcount teardown (rc, rcgen destroy):
 * holds a reference to each, clears them, drops the references. */
void hb_teardown_list(hb_heap *h, hb_object *head);

/* shared.c: what heap.c and the backends use of a shared heap. */
typedef struct hb_mutator hb_mutator;
struct hb_mutator {
    hb_heap *h;
    uint32_t heap_id;
    uint8_t slot;        /* 1..254: the owner byte of its objects */
    int parked;          /* at a safepoint or blocked: counts as stopped */
    int waking;          /* parked at a safepoint, to be counted when it resumes */
    hb_object **vars;    /* its shadow stack */
    size_t nvars, max_vars;
    hb_object *dead;     /* its deallocation queue (heap.c) */
    int in_dealloc;
    /* biased counts: objects other threads queued for it to merge */
    void *qlock;         /* pthread_mutex_t, kept opaque here */
    hb_objstack queue;
    int qpending;        /* queue.n, read without the lock */
    int detached;        /* under qlock: enqueuers merge themselves */
};

int hb_shared_init(hb_heap *h);
void hb_shared_fini(hb_heap *h);
/* The calling thread's mutator of h, NULL if it is not attached. */
hb_mutator *hb_mutator_self(hb_heap *h);
/* The heap lock: object lifecycle, counters, weakref and intern tables. It
 * is recursive; nobody parks while holding it. */
void hb_heap_lock(hb_heap *h);
void hb_heap_unlock(hb_heap *h);
/* The heap lock around the backend's untrack, if o is tracked (gc_prev: a
 * neighbour's untrack may write it). */
void hb_shared_untrack(hb_heap *h, hb_object *o);
/* hb_object_dealloc for a shared heap's objects (heap.c). */
void hb_object_dealloc_shared(hb_heap *h, hb_object *o);
/* At allocation: safepoint, merge queue, and a collection if one is due. */
void hb_shared_alloc_poll(hb_heap *h);
/* Stop the world (1: we collect; 0: another thread's stop was under way,
 * and we were parked through it, or waited for its end if not attached)
 * and start it again, emitting the collection's event. A stop begins only
 * when the previous one has ended (shared.c, states of the world). */
int hb_world_stop(hb_heap *h);
void hb_world_start(hb_heap *h);
/* The calling thread holds the world stopped (or is alone: destroy). */
int hb_world_stopped_by_me(void);
/* No thread attached: merge every queue, run with plain counts. */
void hb_shared_quiesce(hb_heap *h, int on);
/* A new object's count fields for the calling thread. */
void hb_shared_object_init(hb_heap *h, hb_object *o);
/* rcgen on biased counts, world stopped: fold the shared count into refcnt
 * (gc_refs becomes the collection's scratch) / clear scratch to 0. */
void hb_shared_fold(hb_heap *h, hb_object *o);
/* dealloc's finalizer: the object, dead, gets one reference for the
 * finalizer; 1 if it is dead again after dropping it (not resurrected). */
void hb_shared_revive(hb_heap *h, hb_object *o);
int hb_shared_release(hb_heap *h, hb_object *o);
/* A collection on a shared heap: the event is held until the world starts. */
void hb_shared_event(hb_heap *h, const hb_gc_event *ev);
/* Mutators by slot (1..nslots; NULL when never attached): roots. */
int hb_shared_nslots(hb_heap *h);
hb_mutator *hb_shared_mutator(hb_heap *h, int slot);

#endif
