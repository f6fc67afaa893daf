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

#endif
