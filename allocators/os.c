/* os.c -- mappings and the region map (see os.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "os.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
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

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int hb_os_populate(void *p, size_t size)
{
    return madvise(p, size, MADV_POPULATE_WRITE) == 0 ? 0 : errno;
}

void *hb_os_reserve(size_t size)
{
    size_t page = hb_os_page_size();
    if (size == 0 || size > ((size_t)1 << HB_ADDR_BITS) || (size & (page - 1))) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    return p;
}

int hb_os_extend(void *p, size_t old_size, size_t new_size)
{
    if (munmap((char *)p + old_size, new_size - old_size) != 0)
        return errno;
    return mremap(p, old_size, new_size, 0) == MAP_FAILED ? errno : 0;
}

int hb_os_uncommit(void *p, size_t size)
{
    void *q = mmap(p, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return q == MAP_FAILED ? errno : 0;
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

int hb_region_map_make(void)
{
    return map_get(1) ? 0 : ENOMEM;
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

#if defined(__SANITIZE_THREAD__)
#define HB_OS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HB_OS_TSAN 1
#endif
#endif

void *hb_os_remap(void *p, size_t old_size, size_t new_size)
{
#ifdef HB_OS_TSAN
    /* ThreadSanitizer does not intercept mremap: pages it moves keep their
     * old addresses' access history, and the next mapping placed there
     * reports races with the previous owner's accesses. Under TSan, move by
     * hand with calls it does see. */
    void *n = hb_os_map(new_size, hb_os_page_size());
    if (!n)
        return NULL;
    memcpy(n, p, old_size < new_size ? old_size : new_size);
    munmap(p, old_size);
    return n;
#endif
    void *q = mremap(p, old_size, new_size, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
}

void *hb_os_remap_at(void *p, size_t old_size, size_t new_size, void *dest)
{
#ifdef HB_OS_TSAN
    /* As in hb_os_remap: move by calls TSan sees. */
    if (mmap(dest, new_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
        MAP_FAILED)
        return NULL;
    memcpy(dest, p, old_size < new_size ? old_size : new_size);
    munmap(p, old_size);
    return dest;
#endif
    void *q = mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
    return q == MAP_FAILED ? NULL : q;
}

uint64_t hb_os_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
