/* marksweep.c -- a stop-the-world tracing collector with no reference
 * counts at all (clox's collectGarbage, with finalizers and weakrefs).
 *
 * Invariant. Every object of the heap is on the `all` list; between
 * collections every MARK flag is clear. Counts are never maintained
 * (HB_OF_NORC on every object), so nothing is freed except by a sweep, and
 * an object is freed by the first collection that finds it unreachable
 * from hb_heap_roots -- or, if it has a finalizer that has not run, by the
 * first collection after its finalizer ran and it is still unreachable.
 *
 * A collection runs these states in order:
 *   MARK_ROOTS        roots -> gray stack                     (markRoots)
 *   TRACE             pop gray, mark what it refers to; an explicit stack,
 *                     never recursion                         (traceReferences)
 *   WEAK              weakrefs to white objects are cleared; callbacks are
 *                     queued for weakrefs that are themselves marked
 *                                                             (tableRemoveWhite)
 *   FINALIZABLE       white objects whose finalizer has not run are marked
 *                     FINALIZED, queued, and traced: they and what they
 *                     reach survive this cycle
 *   SWEEP             white objects are freed to the allocator; marks
 *                     are cleared                             (sweep)
 *   CALLBACKS         queued weakref callbacks, then finalizers, run (no
 *                     collection may start while they run)
 * The next collection starts when live bytes exceed `grow` times what
 * survived this one (never below min_heap): the cost of a collection is
 * proportional to the live heap, so growing the budget with it keeps the
 * amortised cost per allocated byte constant (clox's GC_HEAP_GROW_FACTOR).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct ms_state {
    hb_object all;
    size_t nobjects;
    uint64_t next_gc;
    hb_objstack gray;
} ms_state;

static int ms_init(hb_heap *h)
{
    ms_state *s = h->alloc->alloc(h->alloc_state, sizeof *s);
    if (!s)
        return ENOMEM;
    memset(s, 0, sizeof *s);
    hb_gclist_init(&s->all);
    if (h->cfg.grow <= 0)
        h->cfg.grow = 2.0;
    if (!h->cfg.min_heap)
        h->cfg.min_heap = (size_t)1 << 20;
    s->next_gc = h->cfg.min_heap;
    h->gc = s;
    return 0;
}

static void ms_destroy(hb_heap *h)
{
    ms_state *s = h->gc;
    /* detach weakrefs first (no callbacks: h->closing), so clearing a
     * weakref never touches a freed target */
    for (hb_object *o = s->all.gc_next; o != &s->all; o = o->gc_next)
        if (o->flags & HB_OF_WEAKREFD)
            hb_weakrefs_clear(h, o, NULL);
    while (!hb_gclist_empty(&s->all)) {
        hb_object *o = s->all.gc_next;
        hb_gclist_remove(o);
        o->type->clear(h, o, 1);
        hb_object_free(h, o);
    }
    hb_objstack_free(h, &s->gray);
    h->alloc->free(h->alloc_state, s, sizeof *s);
}

static void ms_track(hb_heap *h, hb_object *o)
{
    ms_state *s = h->gc;
    hb_gclist_append(&s->all, o);
    s->nobjects++;
}

static void ms_untrack(hb_heap *h, hb_object *o)
{
    ms_state *s = h->gc;
    hb_gclist_remove(o);
    s->nobjects--;
}

static void mark_object(hb_object *o, void *arg)
{
    hb_heap *h = arg;
    if (o->flags & (HB_OF_MARK | HB_OF_IMMORTAL))
        return;
    o->flags |= HB_OF_MARK;
    if (!(o->type->flags & HB_TF_GC))
        return; /* holds no references: black at once */
    if (hb_objstack_push(h, &((ms_state *)h->gc)->gray, o)) {
        /* a half-marked heap cannot be swept safely */
        fprintf(stderr, "heapbench: marksweep: out of memory growing the mark stack past %zu\n",
                ((ms_state *)h->gc)->gray.n);
        abort();
    }
}

static void mark_roots(hb_heap *h) { hb_heap_roots(h, mark_object, h); }

static void trace_references(hb_heap *h)
{
    hb_objstack *gray = &((ms_state *)h->gc)->gray;
    while (gray->n) {
        hb_object *o = gray->v[--gray->n];
        o->type->traverse(o, mark_object, h);
    }
}

static int wr_marked(hb_object *wr) { return (wr->flags & HB_OF_MARK) != 0; }

/* Weakrefs to white objects are cleared now, before finalizable objects
 * are re-marked, so a weakref never outlives its target's unreachability
 * (as CPython clears them before running finalizers). */
static void table_remove_white(hb_heap *h, hb_objstack *fire)
{
    ms_state *s = h->gc;
    for (hb_object *o = s->all.gc_next; o != &s->all; o = o->gc_next)
        if (!(o->flags & HB_OF_MARK) && (o->flags & HB_OF_WEAKREFD))
            hb_weakrefs_detach(h, o, wr_marked, fire);
}

static void mark_finalizable(hb_heap *h, hb_objstack *queue)
{
    ms_state *s = h->gc;
    for (hb_object *o = s->all.gc_next; o != &s->all; o = o->gc_next)
        if (!(o->flags & HB_OF_MARK) && o->type->finalize && !(o->flags & HB_OF_FINALIZED)) {
            if (hb_objstack_push(h, queue, o)) {
                fprintf(stderr, "heapbench: marksweep: out of memory queueing finalizers\n");
                abort();
            }
            o->flags |= HB_OF_FINALIZED;
        }
    for (size_t i = 0; i < queue->n; i++)
        mark_object(queue->v[i], h);
    trace_references(h);
}

static size_t sweep(hb_heap *h)
{
    ms_state *s = h->gc;
    size_t freed = 0;
    hb_object *o = s->all.gc_next;
    while (o != &s->all) {
        hb_object *next = o->gc_next;
        if (o->flags & HB_OF_MARK) {
            o->flags &= (uint16_t)~HB_OF_MARK;
        } else {
            ms_untrack(h, o);
            o->type->clear(h, o, 1);
            hb_object_free(h, o);
            freed++;
        }
        o = next;
    }
    return freed;
}

static size_t ms_collect(hb_heap *h, int gen)
{
    (void)gen;
    ms_state *s = h->gc;
    uint64_t t0 = hb_now_ns();
    h->collecting = 1;
    size_t examined = s->nobjects;
    hb_objstack fire = {0}, queue = {0};

    mark_roots(h);
    trace_references(h);
    table_remove_white(h, &fire);
    mark_finalizable(h, &queue);
    size_t freed = sweep(h);

    uint64_t next = (uint64_t)((double)h->live_bytes * h->cfg.grow);
    s->next_gc = next > h->cfg.min_heap ? next : h->cfg.min_heap;

    for (size_t i = 0; i < fire.n; i++)
        hb_weakref_fire(h, fire.v[i]);
    for (size_t i = 0; i < queue.n; i++)
        queue.v[i]->type->finalize(h, queue.v[i]);
    hb_objstack_free(h, &fire);
    hb_objstack_free(h, &queue);

    h->stats[0].collections++;
    h->stats[0].collected += freed;
    h->collecting = 0;
    hb_gc_event ev = {t0, hb_now_ns() - t0, 0, examined, freed};
    hb_heap_event(h, &ev);
    return freed;
}

static void ms_maybe_collect(hb_heap *h)
{
    if (h->live_bytes > ((ms_state *)h->gc)->next_gc)
        ms_collect(h, 0);
}

static int ms_freeze(hb_heap *h, int freeze)
{
    (void)h, (void)freeze;
    return EOPNOTSUPP;
}

static size_t ms_freeze_count(hb_heap *h)
{
    (void)h;
    return 0;
}

static int ms_set_threshold(hb_heap *h, const long *t, int n)
{
    (void)h, (void)t, (void)n;
    return EOPNOTSUPP;
}

static int ms_get_threshold(hb_heap *h, long *t, int n)
{
    (void)h, (void)t, (void)n;
    return EOPNOTSUPP;
}

const hb_collector hb_marksweep_collector = {
    .name = "marksweep",
    .doc = "stop-the-world mark-sweep from the shadow stack, no reference counts",
    .generations = 1,
    .refcounts = 0,
    .init = ms_init,
    .destroy = ms_destroy,
    .track = ms_track,
    .untrack = ms_untrack,
    .maybe_collect = ms_maybe_collect,
    .collect = ms_collect,
    .freeze = ms_freeze,
    .freeze_count = ms_freeze_count,
    .set_threshold = ms_set_threshold,
    .get_threshold = ms_get_threshold,
};
