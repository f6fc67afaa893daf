/* allocator.h -- the allocator contract.
 *
 * Every allocator backend exports one `const hb_allocator` instance and is
 * listed once, in registry.c. The harness, the collectors and the drop-in
 * libraries reach a backend only through this table, so one binary holds all
 * of them and picks one by name at run time (no malloc-shadowing macros).
 *
 * State. `init` creates an instance and hands back an opaque state pointer;
 * every other call takes it first. Backends that wrap a process-wide library
 * (system, jemalloc, mimalloc, tcmalloc) share that library's heap between
 * instances; arena and freelist keep everything in the instance.
 *
 * Thread safety. alloc, alloc_aligned, free, realloc, usable_size and stats
 * may be called from any number of threads at once. A block may be freed or
 * reallocated by a thread other than the one that allocated it. A thread
 * calls thread_attach before its first allocation on an instance (backends
 * attach lazily if it does not) and thread_detach before it exits; blocks it
 * still owns stay valid after detach. init and destroy are not concurrent
 * with anything on the same instance.
 *
 * Ownership. A block belongs to the caller from alloc until free. Freeing a
 * block through another instance, or twice, is undefined.
 *
 * Errors. Functions returning int return 0 on success or an errno value
 * (never -1); outputs go through pointers. alloc/alloc_aligned/realloc
 * return NULL with errno = ENOMEM when memory cannot be had, and never abort.
 */
#ifndef HB_ALLOCATOR_H
#define HB_ALLOCATOR_H

#include <stddef.h>
#include <stdint.h>

/* Which fields of hb_alloc_stats a backend could measure; a field whose bit
 * is clear is unknown and must not be printed as a number. */
enum {
    HB_STAT_LIVE = 1u << 0,
    HB_STAT_OS = 1u << 1,
    HB_STAT_RELEASED = 1u << 2,
};

typedef struct hb_alloc_stats {
    unsigned have;           /* HB_STAT_* bits of the fields below that are real */
    uint64_t live_bytes;     /* bytes in blocks handed out and not freed, as the backend counts
                                them (size-class rounding included) */
    uint64_t os_bytes;       /* bytes currently held from the OS for the heap (mapped or committed) */
    uint64_t released_bytes; /* bytes given back to the OS since init (munmap, MADV_DONTNEED/FREE,
                                purges), cumulative */
} hb_alloc_stats;

typedef struct hb_allocator {
    const char *name; /* unique, lower case, as typed on the command line */
    const char *doc;  /* one line for `heapbench list` */

    /* Create an instance. `options` is NULL or a backend-specific string. */
    int (*init)(void **state, const char *options);

    /* A block of at least `size` bytes aligned to 16 (size 0 gives a unique,
     * freeable block). */
    void *(*alloc)(void *state, size_t size);
    /* `align` is a power of two; any power of two up to 1 MiB must work.
     * Free the block with size 0. */
    void *(*alloc_aligned)(void *state, size_t align, size_t size);
    /* `size` is the size passed to alloc/realloc for this block, or 0 when the
     * caller does not know it. Blocks from alloc_aligned are always freed
     * with size 0: a backend's size class can depend on the alignment, which
     * a sized free does not carry (jemalloc's sdallocx needs both). p may be
     * NULL (no-op). */
    void (*free)(void *state, void *p, size_t size);
    /* Optional (NULL: alloc, then clear the block): alloc with every byte
     * of the block zero, for calloc. A backend that knows which memory is
     * fresh from the OS clears only what is not. */
    void *(*alloc_zeroed)(void *state, size_t size);
    /* Like C realloc except that new_size 0 returns a minimal block, never
     * frees. p NULL behaves as alloc. old_size as for free. On failure the
     * old block is untouched and NULL is returned with errno = ENOMEM. */
    void *(*realloc)(void *state, void *p, size_t old_size, size_t new_size);
    /* Bytes usable in a live block (>= its requested size). */
    size_t (*usable_size)(void *state, const void *p);

    int (*thread_attach)(void *state);
    void (*thread_detach)(void *state);

    /* Counters of the whole instance; safe to call while other threads
     * allocate (the figures are then approximate, never torn). */
    int (*stats)(void *state, hb_alloc_stats *out);
    /* Release the instance. Blocks still live are reclaimed where the
     * backend owns its memory (arena, freelist). */
    void (*destroy)(void *state);
} hb_allocator;

/* registry.c: the backends compiled into this binary, in listing order. */
extern const hb_allocator *const hb_allocators[];
extern const size_t hb_allocator_count;
/* NULL when no backend has that name. */
const hb_allocator *hb_allocator_find(const char *name);

#endif
