/* arena_heaps.h -- arena's abandoned heaps (arena_heaps.c): the list of
 * heaps no thread owns, taking one off it, adoption by a freeing thread,
 * and the sweep that gives back their idle memory. Internal to arena. */
#ifndef HB_ARENA_HEAPS_H
#define HB_ARENA_HEAPS_H

#include "arena_layout.h"

/* h, which no thread owns any more, on the abandoned list (its remote list
 * drained, its idle memory settled); a heap it pushes below the top
 * in->warm gives back all its free memory. */
void hb_arena_heap_leave(heap *h);
/* The dead heap d off the abandoned list, unless another thread got there
 * first: 1 when the caller now holds it. */
int hb_arena_abandoned_take(inst *in, heap *d);
/* The dead heap d adopted by the thread of heap mine (1), or not (0). */
int hb_arena_heap_adopt(heap *mine, heap *d);
/* Let go of the heap mine adopted at index i. */
void hb_arena_heap_drop_adopted(heap *h, uint32_t i);
/* The abandoned heaps' memory that has become idle enough, given back: at
 * most every purge_ms / 2, by a thread that holds no heap lock, skipped
 * when the instance's lock is busy. One relaxed load when no abandoned heap
 * holds any. */
void hb_arena_abandoned_sweep(inst *in);

#endif
