/* arena_pools.h -- arena.c's arenas (2 MiB regions) and the pools carved
 * from them, obmalloc's usable_arenas order and the delayed return of free
 * arenas to the OS (arena_pools.c). Internal to arena. */
#ifndef HB_ARENA_POOLS_H
#define HB_ARENA_POOLS_H

#include "arena_layout.h"

/* A free pool of h's small (medium 0) or medium arenas, from the arena with
 * the fewest free pools (a new arena when none has one); NULL, errno set,
 * when the OS has no memory. */
pool *hb_arena_pool_take(heap *h, int medium);
/* An empty pool back to its arena; its pages go back to the OS once it is
 * idle for the instance's purge_ms (PURGE_MS), and an arena wholly free is
 * unmapped once idle for HB_DECAY_MS. */
void hb_arena_pool_give_back(heap *h, pool *p);
/* What pool_give_back would purge and unmap by now, from a path other
 * than a give-back (at most every purge_ms / 2): the pools a burst of frees
 * emptied are purged even when no pool empties after them. */
void hb_arena_heap_tick(heap *h);
/* What of h has been idle long enough back to the OS now: free pools'
 * pages idle for purge_ms, wholly free arenas idle for HB_DECAY_MS. 1 when
 * h still holds free memory that will be (the heap is left: the thread that
 * takes it next reuses that memory, or a sweep gives it back later). */
int hb_arena_heap_settle(heap *h, uint32_t now);
/* Whether h holds free memory a settle or a trim may give back: free
 * pools with their pages, or wholly free arenas (the last of lasta). */
static inline int hb_arena_heap_holds_free(const heap *h)
{
    return h->ndirty || h->kind[0].lasta[NPOOLS] || h->kind[1].lasta[NMPOOLS];
}
/* Everything free in the left heap h back to the OS now: its wholly free
 * arenas unmapped, its other free pools' pages purged (hb_arena_heap_leave, for a
 * heap left below the warm ones). */
void hb_arena_heap_trim(heap *h);
/* arena_init's options (arena_options.c). */
typedef struct hb_arena_opts {
    uint32_t cache_bytes, foreign_bytes, purge_ms, warm, help;
} hb_arena_opts;
/* NULL or "" for the defaults, else comma-separated cache=BYTES,
 * foreign=BYTES, purge=MS, warm=N, help=0|1; 0, or EINVAL on an unknown
 * key or a malformed value. */
int hb_arena_parse_options(const char *options, hb_arena_opts *out);

#endif
