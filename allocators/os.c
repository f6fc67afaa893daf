/* os.c -- mappings, the region map and the large-object path (see os.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "os.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* 47-bit user address space / 1 MiB regions = 2^27 one-byte tags: 128 MiB of
 * address space reserved with MAP_NORESERVE, of which only the pages covering
 * regions actually used are ever touched (a few KiB in practice). */
#define HB_MAP_ENTRIES ((size_t)1 << (HB_ADDR_BITS - HB_REGION_SHIFT))

_Atomic(uint8_t *) hb_region_map;

size_t hb_os_page_size(void)
{
    static size_t page;
    if (page == 0)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

void *hb_os_map(size_t size, size_t align)
{
    size_t page = hb_os_page_size();
    if (align < page)
        align = page;
    if (size == 0 || size > ((size_t)1 << HB_ADDR_BITS) || (size & (page - 1))) {
        errno = ENOMEM;
        return NULL;
    }
    /* Try the plain mapping first: the kernel often returns aligned ranges. */
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    if (((uintptr_t)p & (align - 1)) == 0)
        return p;
    munmap(p, size);
    /* Over-map by the alignment and trim both ends. */
    size_t span = size + align;
    if (span < size) {
        errno = ENOMEM;
        return NULL;
    }
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    char *aligned = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
    size_t head = (size_t)(aligned - raw), tail = span - head - size;
    if (head)
        munmap(raw, head);
    if (tail)
        munmap(aligned + size, tail);
    return aligned;
}

int hb_os_unmap(void *p, size_t size)
{
    return munmap(p, size) == 0 ? 0 : errno;
}

int hb_os_decommit(void *p, size_t size)
{
    return madvise(p, size, MADV_DONTNEED) == 0 ? 0 : errno;
}

static uint8_t *map_get(int create)
{
    uint8_t *m = atomic_load_explicit(&hb_region_map, memory_order_acquire);
    if (m || !create)
        return m;
    void *fresh = mmap(NULL, HB_MAP_ENTRIES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (fresh == MAP_FAILED)
        return NULL;
    uint8_t *expected = NULL;
    if (!atomic_compare_exchange_strong(&hb_region_map, &expected, (uint8_t *)fresh)) {
        munmap(fresh, HB_MAP_ENTRIES); /* another thread won the race */
        return expected;
    }
    return fresh;
}

int hb_region_set(const void *region, uint8_t tag)
{
    uintptr_t a = (uintptr_t)region;
    if ((a & (HB_REGION - 1)) || (a >> HB_ADDR_BITS))
        return EINVAL;
    uint8_t *m = map_get(1);
    if (!m)
        return ENOMEM;
    atomic_store_explicit((_Atomic uint8_t *)&m[a >> HB_REGION_SHIFT], tag, memory_order_release);
    return 0;
}

/* The header sits just below the block so that any alignment works: the
 * mapping starts at `base`, the block at base + offset. 32 bytes keep the
 * block 16-aligned when no larger alignment is asked. */
typedef struct large_hdr {
    void *base;
    size_t map_size;
    size_t usable;
    uint64_t magic;
} large_hdr;

#define LARGE_MAGIC 0x6862726765626c6bULL /* "hbrgeblk" */

void *hb_large_alloc(hb_large_counters *c, size_t align, size_t size)
{
    size_t page = hb_os_page_size();
    if (align < 16)
        align = 16;
    size_t off = sizeof(large_hdr) > align ? sizeof(large_hdr) : align;
    off = (off + align - 1) & ~(align - 1);
    if (size > ((size_t)1 << HB_ADDR_BITS)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t map_size = (off + size + page - 1) & ~(page - 1);
    /* The mapping is page aligned; an alignment above a page is asked of
     * hb_os_map so the block keeps it. */
    char *base = hb_os_map(map_size, align > page ? align : page);
    if (!base)
        return NULL;
    char *p = base + off;
    large_hdr *h = (large_hdr *)(p - sizeof(large_hdr));
    h->base = base;
    h->map_size = map_size;
    h->usable = map_size - off;
    h->magic = LARGE_MAGIC;
    atomic_fetch_add_explicit(&c->live_bytes, h->usable, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->os_bytes, map_size, memory_order_relaxed);
    return p;
}

void hb_large_free(hb_large_counters *c, void *p)
{
    large_hdr *h = (large_hdr *)((char *)p - sizeof(large_hdr));
    size_t map_size = h->map_size;
    atomic_fetch_sub_explicit(&c->live_bytes, h->usable, memory_order_relaxed);
    atomic_fetch_sub_explicit(&c->os_bytes, map_size, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->released_bytes, map_size, memory_order_relaxed);
    h->magic = 0;
    hb_os_unmap(h->base, map_size);
}

size_t hb_large_usable(const void *p)
{
    const large_hdr *h = (const large_hdr *)((const char *)p - sizeof(large_hdr));
    return h->usable;
}
