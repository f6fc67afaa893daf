/* jemalloc.c -- the real jemalloc through its non-standard API.
 *
 * The library is Debian's libjemalloc_pic.a with its public names prefixed
 * hbje_ at build time (see CMakeLists.txt), so it coexists with glibc. Sized
 * frees use sdallocx, which skips jemalloc's size lookup, the fast path a
 * runtime that knows its object sizes would use. */
#include "allocator.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void *hbje_mallocx(size_t size, int flags);
void *hbje_rallocx(void *p, size_t size, int flags);
void hbje_dallocx(void *p, int flags);
void hbje_sdallocx(void *p, size_t size, int flags);
size_t hbje_sallocx(const void *p, int flags);
int hbje_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

/* jemalloc.h: MALLOCX_LG_ALIGN(la) is la itself in the low bits. */
#define JE_ALIGN(a) (ffs((int)(a)) - 1)

/* jemalloc's 8-byte class is only 8-aligned and the contract promises 16:
 * every request under 16 B is made as 16 B, and a sized free passes the size
 * the block was made with, which sdallocx requires. mallocx(0) is undefined
 * in jemalloc's API, and is covered by the same rule. */
static inline size_t je_size(size_t size)
{
    return size < 16 ? 16 : size;
}

static int je_init(void **state, const char *options)
{
    (void)options;
    const char *version = NULL;
    size_t len = sizeof version;
    int rc = hbje_mallctl("version", &version, &len, NULL, 0);
    if (rc)
        return rc;
    /* jemalloc's heap is process-wide: the state is a token, never NULL so
     * callers can tell an instance from none. */
    static char token;
    *state = &token;
    return 0;
}

static void *je_alloc(void *st, size_t size)
{
    (void)st;
    void *p = hbje_mallocx(je_size(size), 0);
    if (!p)
        errno = ENOMEM;
    return p;
}

static void *je_alloc_aligned(void *st, size_t align, size_t size)
{
    (void)st;
    void *p = hbje_mallocx(je_size(size), JE_ALIGN(align));
    if (!p)
        errno = ENOMEM;
    return p;
}

static void je_free(void *st, void *p, size_t size)
{
    (void)st;
    if (!p)
        return;
    if (size)
        hbje_sdallocx(p, je_size(size), 0);
    else
        hbje_dallocx(p, 0);
}

static void *je_realloc(void *st, void *p, size_t old_size, size_t new_size)
{
    (void)st;
    (void)old_size;
    if (!p)
        return je_alloc(st, new_size);
    void *q = hbje_rallocx(p, je_size(new_size), 0);
    if (!q)
        errno = ENOMEM;
    return q;
}

static size_t je_usable_size(void *st, const void *p)
{
    (void)st;
    return hbje_sallocx(p, 0);
}

static int je_attach(void *st)
{
    (void)st;
    return 0;
}

static void je_detach(void *st)
{
    (void)st;
}

static int je_read(const char *name, uint64_t *out, int size_t_valued)
{
    int rc;
    if (size_t_valued) {
        size_t v = 0, len = sizeof v;
        rc = hbje_mallctl(name, &v, &len, NULL, 0);
        *out = v;
    } else {
        uint64_t v = 0;
        size_t len = sizeof v;
        rc = hbje_mallctl(name, &v, &len, NULL, 0);
        *out = v;
    }
    return rc;
}

static int je_stats(void *st, hb_alloc_stats *out)
{
    (void)st;
    /* Statistics are a snapshot refreshed by writing the epoch. */
    uint64_t epoch = 1;
    size_t len = sizeof epoch;
    int rc = hbje_mallctl("epoch", &epoch, &len, &epoch, len);
    uint64_t allocated = 0, resident = 0, dirty = 0, muzzy = 0;
    if (!rc)
        rc = je_read("stats.allocated", &allocated, 1);
    if (!rc)
        rc = je_read("stats.resident", &resident, 1);
    /* Pages purged (given back with madvise) over all arenas, cumulative. */
    if (!rc)
        rc = je_read("stats.arenas.4096.dirty_purged", &dirty, 0);
    if (!rc)
        rc = je_read("stats.arenas.4096.muzzy_purged", &muzzy, 0);
    if (rc)
        return rc;
    out->have = HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED;
    out->live_bytes = allocated;
    out->os_bytes = resident;
    out->released_bytes = (dirty + muzzy) * (uint64_t)sysconf(_SC_PAGESIZE);
    return 0;
}

static void je_destroy(void *st)
{
    (void)st;
}

const hb_allocator hb_jemalloc_allocator = {
    .name = "jemalloc",
    .doc = "jemalloc 5 (Debian's library) via mallocx/sdallocx, stats via mallctl",
    .init = je_init,
    .alloc = je_alloc,
    .alloc_aligned = je_alloc_aligned,
    .free = je_free,
    .realloc = je_realloc,
    .usable_size = je_usable_size,
    .thread_attach = je_attach,
    .thread_detach = je_detach,
    .stats = je_stats,
    .destroy = je_destroy,
};
