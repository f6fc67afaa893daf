/* os.h -- the one seam between heapbench's own allocators and the kernel.
 *
 * arena.c, freelist.c and large.c get memory only from here: aligned
 * mappings, pages given back, mappings moved. Nothing here calls
 * malloc, so the drop-in libraries can use it while they *are* malloc.
 *
 * Region map. Small blocks live in HB_REGION-aligned regions that a backend
 * registers with a non-zero tag; any other pointer handed out by a backend is
 * a large block. Telling them apart costs one byte load, as obmalloc's radix
 * tree does. The map is process-wide because it describes the address space,
 * which is process-wide; a region belongs to exactly one backend instance.
 *
 * Errors follow allocator.h: 0 or an errno value; NULL with errno = ENOMEM.
 */
#ifndef HB_OS_H
#define HB_OS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HB_REGION_SHIFT 20
#define HB_REGION ((size_t)1 << HB_REGION_SHIFT) /* 1 MiB: obmalloc's arena size */

size_t hb_os_page_size(void);

/* Map `size` bytes (a multiple of the page size) aligned to `align` (a power
 * of two, at least a page). NULL with errno = ENOMEM on failure. */
void *hb_os_map(size_t size, size_t align);
int hb_os_unmap(void *p, size_t size);
/* Give pages back to the OS but keep the address range (MADV_DONTNEED):
 * the next touch reads zeros. */
int hb_os_decommit(void *p, size_t size);
/* Move or resize a mapping made by hb_os_map (mremap with MREMAP_MAYMOVE:
 * the pages move, no byte is copied; the page offset is kept, a larger
 * alignment is not). NULL when the kernel refuses; the mapping is then
 * untouched. */
void *hb_os_remap(void *p, size_t old_size, size_t new_size);
/* Fault in [p, p + size) for writing now (MADV_POPULATE_WRITE, Linux 5.14;
 * EINVAL before): one call instead of a fault per page. */
int hb_os_populate(void *p, size_t size);
/* Address space without memory: a PROT_NONE mapping of `size` bytes (a
 * multiple of the page size) that costs no RSS and no commit charge, for a
 * block to grow into without moving. NULL with errno = ENOMEM. Released by
 * hb_os_unmap. */
void *hb_os_reserve(size_t size);
/* Grow the mapping [p, p + old_size) in place to new_size over the
 * reservation that follows it: that part of the reservation is released
 * and the mapping extended into it (mremap without moving, so the kernel
 * keeps one mapping that a later hb_os_remap can move whole). 0, or an
 * errno value when the kernel refuses; the released part may then be gone
 * from the reservation (another thread may map it), the rest is held. */
int hb_os_extend(void *p, size_t old_size, size_t new_size);
/* Give pages back and turn them into reservation again (the range stays
 * held, so a later hb_os_extend can grow the mapping back over it). */
int hb_os_uncommit(void *p, size_t size);
/* As hb_os_remap, but the mapping lands at `dest`, replacing what is there
 * (a reservation of at least new_size bytes). */
void *hb_os_remap_at(void *p, size_t old_size, size_t new_size, void *dest);
/* Monotonic milliseconds, for delays such as large.c's decay. */
uint64_t hb_os_now_ms(void);

/* Memory freed and idle this long goes back to the OS: large.c's cached
 * spans, arena's free arenas, freelist's free spans. mimalloc waits 10 ms,
 * jemalloc decays over 10 s; 1 s keeps a program's next burst from
 * refaulting what it just freed while an idle heap shrinks within a
 * second. */
#define HB_DECAY_MS 1000

/* Tag the HB_REGION-aligned region starting at `region` (0 clears it). */
int hb_region_set(const void *region, uint8_t tag);

/* The map: one byte per region of the 47-bit address space, created by the
 * first hb_region_set. Hidden: each shared object (a drop-in library and
 * the program that loads it) keeps its own map, as each has its own
 * backends. */
#define HB_ADDR_BITS 47
extern _Atomic(uint8_t *) hb_region_map __attribute__((visibility("hidden")));

/* Makes the map now, if no hb_region_set has: 0, or ENOMEM. A backend's
 * init calls it, so that its frees can use hb_region_tag_made. */
int hb_region_map_make(void);

/* The tag of the region holding `p` once hb_region_map_make has succeeded
 * (the map is never unmade), 0 when none: safe for any address. Every free
 * of arena.c and freelist.c starts here. */
static inline uint8_t hb_region_tag_made(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (a >> HB_ADDR_BITS)
        return 0;
    uint8_t *m = atomic_load_explicit(&hb_region_map, memory_order_acquire);
    return atomic_load_explicit((_Atomic uint8_t *)&m[a >> HB_REGION_SHIFT], memory_order_acquire);
}

/* The same before any map may exist (the tests ask it; 0 without a map). */
static inline uint8_t hb_region_tag(const void *p)
{
    return atomic_load_explicit(&hb_region_map, memory_order_acquire) ? hb_region_tag_made(p) : 0;
}

#endif
