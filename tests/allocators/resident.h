/* resident.h -- resident pages of an address range, by mincore: exact,
 * unlike RSS. Include after cmocka.h and allocators/os.h. */
#ifndef HB_TEST_RESIDENT_H
#define HB_TEST_RESIDENT_H

#include <stdint.h>
#include <sys/mman.h>

/* Resident pages of [p, p + n), asked 256 pages at a time. */
static size_t resident_pages(const void *p, size_t n)
{
    size_t page = hb_os_page_size();
    uintptr_t lo = (uintptr_t)p & ~(page - 1), hi = ((uintptr_t)p + n + page - 1) & ~(page - 1);
    unsigned char vec[256];
    size_t r = 0;
    for (uintptr_t a = lo; a < hi; a += sizeof vec * page) {
        size_t len = hi - a < sizeof vec * page ? hi - a : sizeof vec * page;
        assert_int_equal(mincore((void *)a, len, vec), 0);
        for (size_t i = 0; i < len / page; i++)
            r += vec[i] & 1;
    }
    return r;
}

#endif
