/* marksweep.c -- a stop-the-world tracing collector with no reference
 * counts at all (clox's collectGarbage, with finalizers, weakrefs and a
 * lazy sweep).
 *
 * Invariant. Every object of the heap is on the `all` list and its gen
 * byte is its colour: `live` (reached by the last mark, or allocated
 * since) or the other one (found unreachable by the last mark). Objects of
 * the other colour exist only while a sweep is pending, and only between
 * the sweep cursor and the list's tail; they are garbage nothing can reach.
 * Counts are never maintained (HB_OF_NORC on every object), so nothing is
 * freed except by a sweep, and an object is freed after the first
 * collection that finds it unreachable from hb_heap_roots -- or, if it has
 * a finalizer that has not run, after the first collection after its
 * finalizer ran and it is still unreachable. HB_OF_MARK is not ours: the
 * verifying trace (hb_heap_leaks) uses it.
 *
 * A collection runs these states in order:
 *   FINISH_SWEEP      a sweep still pending finishes first: the colours
 *                     are about to swap                     (lazy sweeping)
 *   MARK_ROOTS        `live` flips; roots -> gray stack     (markRoots)
 *   TRACE             pop gray, mark, push what it refers to; an explicit
 *                     stack, never recursion                (traceReferences)
 *   WEAK              weakrefs to white objects are cleared; callbacks are
 *                     queued for weakrefs that are themselves marked
 *                                                           (tableRemoveWhite)
 *   FINALIZABLE       white objects whose finalizer has not run are marked
 *                     FINALIZED, queued, and traced: they and what they
 *                     reach survive this cycle
 *   SWEEP             white objects are freed to the allocator  (sweep)
 *   CALLBACKS         queued weakref callbacks, then finalizers, run (no
 *                     collection may start while they run)
 * WEAK and FINALIZABLE walk every object, so they run only when the heap
 * has weakrefs or objects with a finalizer not yet run (counted).
 *
 * Lazy sweep. An automatic collection only marks; SWEEP then runs a few
 * objects at a time in later allocating calls (SWEEP_STEP each), from a
 * cursor at the list's head to its tail, as Boehm sweeps lazily: the pause
 * is the mark, which is proportional to the live heap, and the sweep,
 * proportional to everything, is spread over the allocations that follow.
 * Nothing needs unmarking: the next mark flips the colour. New objects are
 * appended at the tail with the live colour, so the sweep passes them by.
 * The cost is garbage kept a little longer (the sweep ends after about
 * 1/16 of the next cycle's allocations). hb_collect sweeps at once, so
 * what it returns is freed when it returns.
 *
 * Marking is one loop with the types' traversal inlined for the built-in
 * containers, referents pushed unchecked with a prefetch, and the gray
 * objects taken through a small FIFO, so the header of an object is on
 * its way from memory while the objects before it are scanned: a tree
 * larger than the caches is otherwise one miss after another.
 *
 * The next collection starts when live bytes exceed `grow` times what
 * survived this one (never below min_heap): the cost of a collection is
 * proportional to the live heap, so growing the budget with it keeps the
 * amortised cost per allocated byte constant (clox's GC_HEAP_GROW_FACTOR).
 *
 * A hard limit (cfg.max_heap, the heap-size experiments of GC research:
 * a fixed heap, a multiple of the smallest the workload runs in) replaces
 * that schedule: the collector uses the heap it is given, collecting when
 * live bytes (unswept garbage included) pass 15/16 of the limit -- the last
 * 1/16 is room for the allocations a lazy sweep runs in -- and heap.c
 * stops an allocation that would cross the limit (reclaim finishes the
 * sweep; an object's allocation then collects at once). A heap too small to
 * go on is reported through hb_heap_oom, never a crash. "Too small" also
 * covers thrashing: TIGHT_RUN collections in a row that each leave less
 * than 1/TIGHT_FREE of the limit free (a heap barely above the
 * live size collects every few allocations, and a run that should take a
 * second takes an hour; HotSpot's GC overhead limit gives up the same way).
 *
 * Shared heaps: every collection stops the world (shared.c) and marks from
 * every thread's shadow stack (hb_heap_roots), and sweeps at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SWEEP_STEP 64 /* objects a lazy sweep step looks at */
#define FIFO 8         /* gray objects in flight (prefetched) */
/* Out of memory under a limit when this many collections in a row each
 * left less than limit/TIGHT_FREE free. 32 and 4: the heap-size
 * search (harness/minheap.c) then finds a minimum that runs in seconds, and
 * a heap 1/32 above it is not one that thrashes. */
#define TIGHT_FREE 32
#define TIGHT_RUN 4

typedef struct ms_state {
    hb_object all;
    size_t nobjects;
    uint64_t next_gc;
    hb_object **gray; /* the mark stack */
    size_t ngray, graycap;
    uint8_t live;        /* the colour of reached and new objects */
    hb_object *cursor;   /* the sweep's next object; NULL: no sweep pending */
    size_t nfinal;       /* objects whose finalizer has not run */
    uint64_t marked_bytes;
    size_t marked;
    int tight; /* collections in a row that left too little free (a limit) */
} ms_state;

/* The budget after a collection: the grow rule, or with a limit 15/16 of
 * it -- but never less than limit/TIGHT_FREE above what survived, so that
 * collections are that many bytes of allocation apart unless they are
 * tight (counted) and the limit itself is the budget. */
static uint64_t budget(const hb_heap *h, uint64_t marked)
{
    uint64_t lim = h->cfg.max_heap;
    if (lim) {
        uint64_t b = lim - lim / 16, room = marked + lim / TIGHT_FREE;
        room = room < lim ? room : lim;
        return b > room ? b : room;
    }
    uint64_t next = (uint64_t)((double)marked * h->cfg.grow);
    return next > h->cfg.min_heap ? next : h->cfg.min_heap;
}

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
    s->next_gc = h->cfg.max_heap ? budget(h, 0) : h->cfg.min_heap;
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
        hb_typeof(o)->clear(h, o, 1);
        hb_object_free(h, o);
    }
    h->alloc->free(h->alloc_state, s->gray, s->graycap * sizeof *s->gray);
    h->alloc->free(h->alloc_state, s, sizeof *s);
}

static void ms_track(hb_heap *h, hb_object *o)
{
    ms_state *s = h->gc;
    hb_gclist_append(&s->all, o);
    o->gen = s->live;
    s->nobjects++;
    if (hb_typeof(o)->finalize && !(o->flags & HB_OF_FINALIZED))
        s->nfinal++;
}

static void ms_untrack(hb_heap *h, hb_object *o)
{
    ms_state *s = h->gc;
    hb_gclist_remove(o);
    s->nobjects--;
}

/* ---- mark ---- */

static __attribute__((noinline)) void gray_grow(hb_heap *h, ms_state *s)
{
    size_t cap = s->graycap ? 2 * s->graycap : 4096;
    hb_object **v = h->alloc->realloc(h->alloc_state, s->gray, s->graycap * sizeof *v,
                                      cap * sizeof *v);
    if (!v) {
        /* a half-marked heap cannot be swept safely */
        fprintf(stderr, "heapbench: marksweep: out of memory growing the mark stack past %zu\n",
                s->ngray);
        abort();
    }
    s->gray = v;
    s->graycap = cap;
}

/* A referent, unchecked: whether it is marked is read when it is popped,
 * by which time the prefetch has brought its header in. */
static inline void push(hb_heap *h, ms_state *s, hb_object *o)
{
    if (!o)
        return;
    __builtin_prefetch(o);
    if (__builtin_expect(s->ngray == s->graycap, 0))
        gray_grow(h, s);
    s->gray[s->ngray++] = o;
}

typedef struct visit_arg {
    hb_heap *h;
    ms_state *s;
} visit_arg;

static void push_visit(hb_object *o, void *arg)
{
    visit_arg *va = arg;
    push(va->h, va->s, o);
}

/* Mark one gray object and push its referents (traverse inlined for the
 * built-in containers, as rcgen's TRAVERSE). */
static inline void blacken(hb_heap *h, ms_state *s, hb_object *o)
{
    if (o->gen == s->live)
        return;
    o->gen = s->live;
    if (o->flags & HB_OF_IMMORTAL)
        return; /* not ours to count; holds no references */
    s->marked++;
    if (hb_kindof(o) == HB_K_NODE) { /* the index alone: no load of the type */
        hb_node *n = (hb_node *)o;
        s->marked_bytes += o->size;
        for (size_t i = 0, k = hb_node_nfields(o); i < k; i++)
            push(h, s, n->fields[i]);
        return;
    }
    const hb_type *t = hb_typeof(o);
    s->marked_bytes += hb_object_bytes(o);
    if (!(t->flags & HB_TF_GC))
        return;
    if (t->kind == HB_K_LIST) {
        hb_list *l = (hb_list *)o;
        for (size_t i = 0; i < l->len; i++)
            push(h, s, l->items[i]);
    } else if (t->kind == HB_K_TUPLE) {
        hb_tuple *tu = (hb_tuple *)o;
        for (size_t i = 0; i < tu->len; i++)
            push(h, s, tu->items[i]);
    } else {
        visit_arg va = {h, s};
        t->traverse(o, push_visit, &va);
    }
}

/* TRACE: until the gray stack is empty, through a FIFO of FIFO objects
 * whose headers were prefetched when they entered it. */
static void trace_references(hb_heap *h)
{
    ms_state *s = h->gc;
    hb_object *fifo[FIFO];
    size_t head = 0, n = 0;
    for (;;) {
        while (n < FIFO && s->ngray) {
            hb_object *o = s->gray[--s->ngray];
            __builtin_prefetch(o);
            fifo[(head + n++) % FIFO] = o;
        }
        if (!n)
            return;
        hb_object *o = fifo[head];
        head = (head + 1) % FIFO;
        n--;
        blacken(h, s, o);
    }
}

static void mark_root(hb_object *o, void *arg)
{
    visit_arg *va = arg;
    push(va->h, va->s, o);
}

static void mark_roots(hb_heap *h)
{
    ms_state *s = h->gc;
    visit_arg va = {h, s};
    hb_heap_roots(h, mark_root, &va);
}

/* Is the weakref itself marked? The predicate gets no heap: one per colour. */
static int wr_marked0(hb_object *wr) { return wr->gen == 0; }
static int wr_marked1(hb_object *wr) { return wr->gen == 1; }

/* ---- sweep ---- */

/* Free one white object. A cleared node owns nothing, so only other
 * types' clear runs (it frees their buffers). */
static inline void sweep_free(hb_heap *h, hb_object *o)
{
    ms_untrack(h, o);
    if (hb_kindof(o) != HB_K_NODE)
        hb_typeof(o)->clear(h, o, 1);
    hb_object_free(h, o);
}

/* Look at up to `budget` objects from the cursor (SIZE_MAX: to the end). */
static void sweep_some(hb_heap *h, size_t budget)
{
    ms_state *s = h->gc;
    hb_object *o = s->cursor;
    uint8_t live = s->live;
    if (!o)
        return;
    while (o != &s->all && budget--) {
        hb_object *next = o->gc_next;
        if (o->gen != live)
            sweep_free(h, o);
        o = next;
    }
    s->cursor = o == &s->all ? NULL : o;
}

/* Weakrefs to white objects are cleared now, before finalizable objects
 * are re-marked, so a weakref never outlives its target's unreachability
 * (as CPython clears them before running finalizers). */
static void table_remove_white(hb_heap *h, hb_objstack *fire)
{
    ms_state *s = h->gc;
    int (*marked)(hb_object *) = s->live ? wr_marked1 : wr_marked0;
    for (hb_object *o = s->all.gc_next; o != &s->all; o = o->gc_next)
        if (o->gen != s->live && (o->flags & HB_OF_WEAKREFD))
            hb_weakrefs_detach(h, o, marked, fire);
}

static void mark_finalizable(hb_heap *h, hb_objstack *queue)
{
    ms_state *s = h->gc;
    for (hb_object *o = s->all.gc_next; o != &s->all; o = o->gc_next)
        if (o->gen != s->live && hb_typeof(o)->finalize && !(o->flags & HB_OF_FINALIZED)) {
            if (hb_objstack_push(h, queue, o)) {
                fprintf(stderr, "heapbench: marksweep: out of memory queueing finalizers\n");
                abort();
            }
            o->flags |= HB_OF_FINALIZED;
            s->nfinal--;
        }
    visit_arg va = {h, s};
    for (size_t i = 0; i < queue->n; i++)
        push_visit(queue->v[i], &va);
    trace_references(h);
}

/* eager: sweep at once */
static size_t collect_(hb_heap *h, int eager)
{
    ms_state *s = h->gc;
    uint64_t t0 = hb_now_ns();
    h->collecting = 1;
    if (s->cursor)
        sweep_some(h, SIZE_MAX); /* FINISH_SWEEP */
    size_t examined = s->nobjects;
    hb_objstack fire = {0}, queue = {0};

    s->live ^= 1;
    s->marked = 0;
    s->marked_bytes = 0;
    mark_roots(h);
    trace_references(h);
    if (h->nwr)
        table_remove_white(h, &fire);
    if (s->nfinal)
        mark_finalizable(h, &queue);
    size_t freed = examined - s->marked;
    s->cursor = hb_gclist_empty(&s->all) ? NULL : s->all.gc_next;
    if (eager)
        sweep_some(h, SIZE_MAX);

    s->next_gc = budget(h, s->marked_bytes);
    /* with a limit: too little free, TIGHT_RUN times in a row */
    int oom = 0;
    if (h->cfg.max_heap) {
        uint64_t lim = h->cfg.max_heap;
        s->tight = s->marked_bytes + lim / TIGHT_FREE > lim ? s->tight + 1 : 0;
        oom = s->tight >= TIGHT_RUN;
    }

    for (size_t i = 0; i < fire.n; i++)
        hb_weakref_fire(h, fire.v[i]);
    for (size_t i = 0; i < queue.n; i++)
        hb_typeof(queue.v[i])->finalize(h, queue.v[i]);
    hb_objstack_free(h, &fire);
    hb_objstack_free(h, &queue);

    h->stats[0].collections++;
    h->stats[0].collected += freed;
    h->collecting = 0;
    hb_gc_event ev = {.start_ns = t0, .duration_ns = hb_now_ns() - t0, .examined = examined, .freed = freed,
                      .is_explicit = h->collect_explicit};
    hb_heap_event(h, &ev);
    if (oom) {
        s->tight = 0;
        hb_heap_oom(h, 0, s->marked_bytes);
    }
    return freed;
}

/* gc.collect(): sweeps at once. */
static size_t ms_collect(hb_heap *h, int gen)
{
    (void)gen;
    return collect_(h, 1);
}

/* heap.c at the limit: the rest of a pending sweep. */
static void ms_reclaim(hb_heap *h)
{
    sweep_some(h, SIZE_MAX);
}

/* Allocating calls: a step of a pending sweep, or a collection if due (its
 * sweep then runs lazily). The budget counts marked bytes, not the live
 * bytes of a heap with garbage still to sweep: a collection waits for the
 * sweep, which is far ahead of it. */
static void ms_maybe_collect(hb_heap *h)
{
    ms_state *s = h->gc;
    if (s->cursor)
        sweep_some(h, SWEEP_STEP);
    else if (h->live_bytes > s->next_gc)
        collect_(h, h->sh != NULL);
}

/* Shared heaps: the sweep is not lazy (the world is stopped for the whole
 * collection: a sweep step in any thread's allocation would need the heap
 * lock around the list), so a collection is due on the budget alone. */
static int ms_due(hb_heap *h)
{
    ms_state *s = h->gc;
    return h->live_bytes > s->next_gc;
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
    .due = ms_due,
    .shared_ok = 1,
    .max_heap_ok = 1,
    .reclaim = ms_reclaim,
    .params = "grow_pct,heap_kb",
};
