/* tcmalloc.c -- gperftools' tcmalloc (Debian's libtcmalloc_minimal), optional.
 *
 * Opened with RTLD_LOCAL (libwrap.h says why); the tc_ API and the
 * MallocExtension numeric properties are called by name. */
#include "allocator.h"
#include "libwrap.h"

#include <errno.h>
#include <string.h>

static struct {
    void *(*malloc_)(size_t);
    void *(*memalign)(size_t, size_t);
    void (*free_sized)(void *, size_t);
    void (*free_)(void *);
    void *(*realloc_)(void *, size_t);
    size_t (*malloc_size)(void *);
    size_t (*nallocx)(size_t, int);
    int (*property)(const char *, size_t *);
} tc;

static hb_release_tracker tc_release = HB_RELEASE_TRACKER_INIT;

/* tcmalloc's 8-byte class is 8-aligned; the contract promises 16. A sized
 * free must name the class the block was made in, so it is mapped alike. */
static inline size_t tcm_size(size_t size)
{
    return size < 16 ? 16 : size;
}

static int tcm_init(void **state, const char *options)
{
    (void)options;
    const hb_libsym syms[] = {
        {"tc_malloc", (void **)&tc.malloc_},
        {"tc_memalign", (void **)&tc.memalign},
        {"tc_free_sized", (void **)&tc.free_sized},
        {"tc_free", (void **)&tc.free_},
        {"tc_realloc", (void **)&tc.realloc_},
        {"tc_malloc_size", (void **)&tc.malloc_size},
        {"tc_nallocx", (void **)&tc.nallocx},
        {"MallocExtension_GetNumericProperty", (void **)&tc.property},
    };
    int rc = hb_lib_open(HB_TCMALLOC_SO, syms, sizeof syms / sizeof syms[0]);
    *state = &tc_release;
    return rc;
}

static void *tcm_alloc(void *st, size_t size)
{
    (void)st;
    void *p = tc.malloc_(tcm_size(size));
    if (!p)
        errno = ENOMEM;
    return p;
}

static void *tcm_alloc_aligned(void *st, size_t align, size_t size)
{
    (void)st;
    void *p = tc.memalign(align, tcm_size(size));
    if (!p)
        errno = ENOMEM;
    return p;
}

static void tcm_free(void *st, void *p, size_t size)
{
    (void)st;
    if (size)
        tc.free_sized(p, tcm_size(size));
    else
        tc.free_(p);
}

static void *tcm_realloc(void *st, void *p, size_t old_size, size_t new_size)
{
    (void)st;
    (void)old_size;
    if (!p)
        return tcm_alloc(st, new_size);
    /* tc_realloc keeps a block in place when it shrinks to half or more, and
     * tc_free_sized would then name the wrong size class. So a block stays
     * put only when the new size maps to the class it is in. */
    size_t have = tc.malloc_size(p), want = tcm_size(new_size);
    if (tc.nallocx(want, 0) == have)
        return p;
    void *q = tc.malloc_(want);
    if (!q) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(q, p, have < new_size ? have : new_size);
    tc.free_(p);
    return q;
}

static size_t tcm_usable_size(void *st, const void *p)
{
    (void)st;
    return tc.malloc_size((void *)p);
}

static int tcm_attach(void *st)
{
    (void)st;
    return 0;
}

static void tcm_detach(void *st)
{
    (void)st;
}

static int tcm_stats(void *st, hb_alloc_stats *out)
{
    size_t allocated = 0, heap = 0, unmapped = 0;
    if (!tc.property("generic.current_allocated_bytes", &allocated) ||
        !tc.property("generic.heap_size", &heap) ||
        !tc.property("tcmalloc.pageheap_unmapped_bytes", &unmapped))
        return ENOTSUP;
    out->have = HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED;
    out->live_bytes = allocated;
    /* heap_size counts unmapped (released) pages too. */
    out->os_bytes = heap - unmapped;
    out->released_bytes = hb_release_observe(st, out->os_bytes);
    return 0;
}

static void tcm_destroy(void *st)
{
    (void)st;
}

const hb_allocator hb_tcmalloc_allocator = {
    .name = "tcmalloc",
    .doc = "gperftools tcmalloc (Debian's libtcmalloc_minimal, RTLD_LOCAL) via tc_*",
    .init = tcm_init,
    .alloc = tcm_alloc,
    .alloc_aligned = tcm_alloc_aligned,
    .free = tcm_free,
    .realloc = tcm_realloc,
    .usable_size = tcm_usable_size,
    .thread_attach = tcm_attach,
    .thread_detach = tcm_detach,
    .stats = tcm_stats,
    .destroy = tcm_destroy,
};
