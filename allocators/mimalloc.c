/* mimalloc.c -- Microsoft's mimalloc (Debian's libmimalloc), optional.
 *
 * Opened with RTLD_LOCAL (libwrap.h says why). A release build of mimalloc
 * keeps no count of live bytes, so only what it holds from the OS (its
 * committed bytes) and what it gave back are reported. */
#include "allocator.h"
#include "libwrap.h"

#include <errno.h>
#include <stdbool.h>

static struct {
    void *(*malloc_)(size_t);
    void *(*malloc_aligned)(size_t, size_t);
    void (*free_size)(void *, size_t);
    void (*free_)(void *);
    void *(*realloc_)(void *, size_t);
    size_t (*usable_size)(const void *);
    void (*thread_init)(void);
    void (*thread_done)(void);
    void (*process_info)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
                         size_t *);
} mi;

static hb_release_tracker mi_release = HB_RELEASE_TRACKER_INIT;

/* mimalloc's 8-byte class is 8-aligned; the contract promises 16. */
static inline size_t mim_size(size_t size)
{
    return size < 16 ? 16 : size;
}

static int mim_init(void **state, const char *options)
{
    (void)options;
    const hb_libsym syms[] = {
        {"mi_malloc", (void **)&mi.malloc_},
        {"mi_malloc_aligned", (void **)&mi.malloc_aligned},
        {"mi_free_size", (void **)&mi.free_size},
        {"mi_free", (void **)&mi.free_},
        {"mi_realloc", (void **)&mi.realloc_},
        {"mi_usable_size", (void **)&mi.usable_size},
        {"mi_thread_init", (void **)&mi.thread_init},
        {"mi_thread_done", (void **)&mi.thread_done},
        {"mi_process_info", (void **)&mi.process_info},
    };
    int rc = hb_lib_open(HB_MIMALLOC_SO, syms, sizeof syms / sizeof syms[0]);
    *state = &mi_release;
    return rc;
}

static void *mim_alloc(void *st, size_t size)
{
    (void)st;
    void *p = mi.malloc_(mim_size(size));
    if (!p)
        errno = ENOMEM;
    return p;
}

static void *mim_alloc_aligned(void *st, size_t align, size_t size)
{
    (void)st;
    /* mimalloc 2.0.9 (Debian 12) returns misaligned blocks for alignments
     * 256..1024 when the size fits its small path (upstream issue #700,
     * fixed after 2.0.9): keep such requests off that path. */
    if (align > 128 && align <= 1024 && size <= 1024)
        size = 1025;
    void *p = mi.malloc_aligned(mim_size(size), align);
    if (!p)
        errno = ENOMEM;
    return p;
}

static void mim_free(void *st, void *p, size_t size)
{
    (void)st;
    if (size)
        mi.free_size(p, mim_size(size));
    else
        mi.free_(p);
}

static void *mim_realloc(void *st, void *p, size_t old_size, size_t new_size)
{
    (void)st;
    (void)old_size;
    void *q = mi.realloc_(p, mim_size(new_size));
    if (!q)
        errno = ENOMEM;
    return q;
}

static size_t mim_usable_size(void *st, const void *p)
{
    (void)st;
    return mi.usable_size(p);
}

static int mim_attach(void *st)
{
    (void)st;
    mi.thread_init();
    return 0;
}

static void mim_detach(void *st)
{
    (void)st;
    mi.thread_done();
}

static int mim_stats(void *st, hb_alloc_stats *out)
{
    size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
    mi.process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
    out->have = HB_STAT_OS | HB_STAT_RELEASED;
    out->live_bytes = 0;
    out->os_bytes = commit;
    out->released_bytes = hb_release_observe(st, commit);
    return 0;
}

static void mim_destroy(void *st)
{
    (void)st;
}

const hb_allocator hb_mimalloc_allocator = {
    .name = "mimalloc",
    .doc = "mimalloc 2 (Debian's library, RTLD_LOCAL) via mi_malloc/mi_free_size",
    .init = mim_init,
    .alloc = mim_alloc,
    .alloc_aligned = mim_alloc_aligned,
    .free = mim_free,
    .realloc = mim_realloc,
    .usable_size = mim_usable_size,
    .thread_attach = mim_attach,
    .thread_detach = mim_detach,
    .stats = mim_stats,
    .destroy = mim_destroy,
};
