/* rc.c -- pure reference counting.
 *
 * Invariant: an object is alive exactly while its count is non-zero; it is
 * freed the moment the count reaches zero (heap.c's deallocation path).
 * Nothing else ever frees an object, so a cycle -- x.next = y; y.next = x;
 * del x, y -- is never reclaimed: that is the leak this backend exists to
 * measure. Containers are kept on one list only so the heap can be torn
 * down; hb_heap_leaks counts the leak by tracing from the roots.
 *
 * States: there is one, MUTATING. No collection ever runs.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

typedef struct rc_state {
    hb_object all; /* sentinel of the containers' list */
} rc_state;

static int rc_init(hb_heap *h)
{
    rc_state *s = h->alloc->alloc(h->alloc_state, sizeof *s);
    if (!s)
        return ENOMEM;
    memset(s, 0, sizeof *s);
    hb_gclist_init(&s->all);
    h->gc = s;
    return 0;
}

static void rc_destroy(hb_heap *h)
{
    rc_state *s = h->gc;
    hb_teardown_list(h, &s->all);
    h->alloc->free(h->alloc_state, s, sizeof *s);
}

static void rc_track(hb_heap *h, hb_object *o)
{
    if (hb_is_container(o))
        hb_gclist_append(&((rc_state *)h->gc)->all, o);
}

static void rc_untrack(hb_heap *h, hb_object *o)
{
    (void)h;
    hb_gclist_remove(o);
}

static void rc_maybe_collect(hb_heap *h) { (void)h; }

static size_t rc_collect(hb_heap *h, int gen)
{
    (void)h, (void)gen;
    return 0;
}

static int rc_freeze(hb_heap *h, int freeze)
{
    (void)h, (void)freeze;
    return EOPNOTSUPP;
}

static size_t rc_freeze_count(hb_heap *h)
{
    (void)h;
    return 0;
}

static int rc_threshold(hb_heap *h, const long *t, int n)
{
    (void)h, (void)t, (void)n;
    return EOPNOTSUPP;
}

static int rc_get_threshold(hb_heap *h, long *t, int n)
{
    (void)h, (void)t, (void)n;
    return EOPNOTSUPP;
}

const hb_collector hb_rc_collector = {
    .name = "rc",
    .doc = "pure reference counting; cycles leak and the leak is measured",
    .generations = 0,
    .refcounts = 1,
    .init = rc_init,
    .destroy = rc_destroy,
    .track = rc_track,
    .untrack = rc_untrack,
    .maybe_collect = rc_maybe_collect,
    .collect = rc_collect,
    .freeze = rc_freeze,
    .freeze_count = rc_freeze_count,
    .set_threshold = rc_threshold,
    .get_threshold = rc_get_threshold,
    .shared_ok = 1, /* counts only: shared.c does all a shared heap needs */
    .params = "garbage_ms",
};
