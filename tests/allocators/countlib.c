/* countlib.c -- a tiny malloc library that counts its calls, for the tests
 * of an allocator given as a library (tests/allocators/test_library.sh and
 * the program cells' tests).
 *
 * It serves the malloc family from glibc's own __libc_* entry points, so it
 * is a real, complete replacement from the loader's point of view while
 * adding nothing to the heap's behaviour, and counts every call. At exit it
 * appends one line "PID malloc=N calloc=N realloc=N free=N memalign=N" to
 * the file named by HB_COUNTLIB_OUT (when set), so a test can prove that a
 * process it did not write -- a cell, a program -- called this malloc and how
 * often.
 *
 * Built three ways (tests/CMakeLists.txt):
 *   libhbcount.so           the library, with a build-id
 *   libhbcount_noid.so      without a build-id: the row's id is sha256
 *   libhbcount_versioned.so every symbol under version HBCOUNT_1.0: its
 *                           dynamic symbol table defines malloc, but a
 *                           program's reference to malloc@GLIBC_2.2.5 does
 *                           not bind to it -- a preload that does not take
 *   libhbcount_nomalloc.so  (HB_COUNTLIB_NO_MALLOC) everything but malloc
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static _Atomic unsigned long n_malloc, n_calloc, n_realloc, n_free, n_memalign;

#ifndef HB_COUNTLIB_NO_MALLOC
EXPORT void *malloc(size_t n)
{
    atomic_fetch_add_explicit(&n_malloc, 1, memory_order_relaxed);
    return __libc_malloc(n);
}
#endif

EXPORT void *calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&n_calloc, 1, memory_order_relaxed);
    return __libc_calloc(n, size);
}

EXPORT void *realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&n_realloc, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}

EXPORT void free(void *p)
{
    atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
    __libc_free(p);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    atomic_fetch_add_explicit(&n_memalign, 1, memory_order_relaxed);
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    atomic_fetch_add_explicit(&n_memalign, 1, memory_order_relaxed);
    return __libc_memalign(align, n);
}

EXPORT void *memalign(size_t align, size_t n)
{
    atomic_fetch_add_explicit(&n_memalign, 1, memory_order_relaxed);
    return __libc_memalign(align, n);
}

__attribute__((destructor)) static void countlib_report(void)
{
    const char *path = getenv("HB_COUNTLIB_OUT");
    if (!path || !*path)
        return;
    char line[256];
    int n = snprintf(line, sizeof line, "%d malloc=%lu calloc=%lu realloc=%lu free=%lu memalign=%lu\n",
                     (int)getpid(), atomic_load(&n_malloc), atomic_load(&n_calloc), atomic_load(&n_realloc),
                     atomic_load(&n_free), atomic_load(&n_memalign));
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t w = write(fd, line, (size_t)n); /* one write: lines of processes at once do not mix */
    (void)w;
    close(fd);
}
