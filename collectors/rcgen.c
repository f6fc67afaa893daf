/* rcgen.c -- reference counting plus CPython 3.12's generational cycle
 * collector (Modules/gcmodule.c).
 *
 * Invariant. Between collections every tracked container is on exactly one
 * of four lists: generation 0, 1, 2 or the permanent generation (frozen);
 * its gen byte names that list (generation 2 by its current colour, see
 * GEN_OLD_A) and its gc_refs is 0. Reference counts are exact: refcnt is
 * the number of references held by variables, containers and C code. A
 * collection of generation g looks only at generations 0..g ("young"): an
 * object in young is reachable iff its count exceeds the references young
 * objects hold to it (refcnt > gc_refs after COUNT_REFS) or a reachable
 * young object refers to it. Everything else in young is garbage made of
 * cycles.
 *
 * A collection is a sequence of states, each a pass over lists:
 *   COUNT_REFS       gc_refs += 1 per reference from a young object: young
 *                    is known by the gen byte, so unlike CPython's
 *                    UPDATE_REFS + SUBTRACT_REFS this needs no pass to
 *                    flag the set first                         (young)
 *   MOVE_UNREACHABLE refcnt == gc_refs -> `unreachable`, pulled back when a
 *                    reachable object refers to it; survivors get g+1's
 *                    gen byte and gc_refs 0 as they are scanned (young)
 *   LEGACY           unreachable objects with a legacy finalizer, and all
 *                    they reach, move to `finalizers` (uncollectable)
 *   WEAKREFS         weakrefs to unreachable objects are cleared; callbacks
 *                    run only for weakrefs that are not themselves garbage
 *   FINALIZE         PEP 442: each tp_finalize runs once (FINALIZED flag)
 *   RESURRECT        COUNT/MOVE again over `unreachable`; what a finalizer
 *                    or callback made reachable moves to g+1
 *   DELETE           clear() each still-unreachable object; refcounting
 *                    frees the cycle
 *   GARBAGE          `finalizers` appended to gc.garbage, moved to g+1
 * MOVE_UNREACHABLE notes what it moved (legacy finalizers, weakrefs,
 * finalizers not run), and LEGACY, WEAKREFS, FINALIZE and RESURRECT are
 * skipped when it saw none: plain cycles cost two passes and the frees.
 *
 * Generation 0 is an array, not a list (`young`; the list gen[0] only
 * takes objects when the array cannot grow). A pass over a linked list is
 * one dependent load per object: 1600 young objects scattered over 100 KiB
 * miss L1, and the walk alone cost ~4.5 ns per object, most of a
 * generation-0 pause. Over an array the loads are independent and
 * prefetched. An object in the array has gc_prev == &in_young (non-NULL:
 * "tracked" for heap.c) and its index in gc_next; untrack swaps the last
 * object into its slot. The cost: two arrays of pointers (the spare takes
 * new objects while a collection works in the other), as large as the
 * largest set collected from an array -- 16 bytes per object at worst.
 *
 * A collection of generation 0, or of a set whose older lists are empty,
 * takes the array (GATHER appends the lists' objects, if any) and runs
 * COUNT_REFS and MOVE_UNREACHABLE over it: survivors from the array join
 * g+1's list, survivors from a list stay linked, and the unreachable are
 * compacted at the array's front, held (refcnt + 1). The array passes
 * avoid branches on what varies at random from one young object to the
 * next (None or not, reachable or not): mispredicted, those branches cost
 * more than the loads. Plain garbage (no finalizer, weakref or legacy
 * finalizer seen) is deleted from the front in one pass (DELETE, see
 * hb_cy_delete_front and hb_cy_delete_plain); otherwise the front becomes the
 * `unreachable` list and the states above run as listed. Two sets skip
 * MOVE_UNREACHABLE: one whose counts add up to its internal references
 * (all garbage, hb_cy_delete_all), and one with few references from outside
 * (few roots: what they reach is marked, the rest deleted, see
 * hb_cy_delete_sparse) -- a program making cyclic garbage leaves generation 0
 * mostly so. A set mostly on lists (a full collection
 * of a settled heap) is walked over its lists as before: list order is
 * mostly address order there, and copying it into an array only added
 * traffic (full collections of 10^6 objects took twice as long). So does
 * any collection when the array cannot grow to hold the set. Over lists,
 * a large list or tuple is scanned in step with the walk, each item when
 * the walk is at it (see cursor_items), so a settled heap of objects held
 * by one list costs one sweep per pass, not two.
 *
 * Schedule (as 3.12): generation 0's count is allocations minus
 * deallocations of containers, less those a free list serves (lists, dicts,
 * small tuples: see fl_take); when it exceeds threshold 0, in the
 * allocation that made it so (gc_alloc), the oldest generation whose count
 * exceeds its threshold is collected, a generation's count being the
 * collections of the one below since its own last. A full collection also
 * needs long_lived_pending > long_lived_total / 4, so a large stable heap
 * is not rescanned every 10 x 10 x 700 allocations. For the same program,
 * collections and objects collected per generation equal CPython 3.11's
 * gc.get_stats() (tests/workloads/test_fidelity.c).
 *
 * Shared heaps (shared.c). Every collection runs with the world stopped,
 * so the passes above run unchanged over every thread's objects; track and
 * untrack run under the heap lock, so generation 0's count is all threads'
 * allocations minus deallocations. With biased counts an object's count is
 * refcnt plus the shared word kept in gc_refs: the collection first folds
 * the shared word of every object of its set into refcnt (hb_shared_fold;
 * the collector adopts merged objects), so COUNT_REFS has its scratch, and
 * zeroes the scratch of what it found unreachable before any count changes
 * (DELETE, finalizers), so the collector's own count operations -- plain,
 * the world being stopped -- read a shared count of 0 there.
 */
#include <errno.h>
#include <string.h>

#include "cycle.h"

typedef struct rcgen_gen {
    hb_object head;
    long threshold;
    long count;
} rcgen_gen;

/* The gen byte of a tracked object (HB_GEN_NONE when untracked). The
 * oldest generation has two values, its colour, swapped by every full
 * collection: survivors take the other colour, so a full collection can
 * tell scanned from unscanned objects without a pass to flag its set. */
enum {
    GEN_OLD_A = 2, GEN_OLD_B = 3, /* generation 2, either colour */
    GEN_PERMANENT = 4,            /* gc.freeze() */
};                                /* 5 up: the passes' (cycle.h) */

typedef struct rcgen_state {
    rcgen_gen gen[HB_GENERATIONS];
    hb_object permanent;
    hb_object in_young; /* its address only: gc_prev of an object in an array */
    hb_object **young;  /* generation 0; young[i]->gc_next holds i */
    size_t nyoung, young_cap;
    hb_object **spare;  /* the other array, empty: a collection works in one */
    size_t spare_cap;
    hb_objstack gray;   /* MOVE_UNREACHABLE: pulled back, not yet scanned */
    uint8_t colour; /* generation 2's gen byte now */
    uint32_t fl_list, fl_dict, fl_tuple[20]; /* CPython's free lists' lengths (fl_take) */
    size_t long_lived_total;
    size_t long_lived_pending;
} rcgen_state;

/* Generation 0's array into its list (freeze, teardown, no memory). */
static void young_spill(rcgen_state *s)
{
    for (size_t i = 0; i < s->nyoung; i++)
        hb_gclist_append(&s->gen[0].head, s->young[i]);
    s->nyoung = 0;
}

static int rcgen_init(hb_heap *h)
{
    static const long dflt[HB_GENERATIONS] = {700, 10, 10};
    rcgen_state *s = h->alloc->alloc(h->alloc_state, sizeof *s);
    if (!s)
        return ENOMEM;
    memset(s, 0, sizeof *s);
    for (int i = 0; i < HB_GENERATIONS; i++) {
        hb_gclist_init(&s->gen[i].head);
        s->gen[i].threshold = h->cfg.threshold[i] > 0 ? h->cfg.threshold[i] : dflt[i];
    }
    hb_gclist_init(&s->permanent);
    s->colour = GEN_OLD_A;
    h->gc = s;
    return 0;
}

static void rcgen_destroy(hb_heap *h)
{
    rcgen_state *s = h->gc;
    /* one list, so references between generations are torn down together */
    young_spill(s);
    for (int i = 0; i < HB_GENERATIONS; i++)
        hb_gclist_merge(&s->gen[i].head, &s->permanent);
    hb_teardown_list(h, &s->permanent);
    h->alloc->free(h->alloc_state, s->young, s->young_cap * sizeof *s->young);
    h->alloc->free(h->alloc_state, s->spare, s->spare_cap * sizeof *s->spare);
    hb_objstack_free(h, &s->gray);
    h->alloc->free(h->alloc_state, s, sizeof *s);
}

/* CPython's free lists, as they move generation 0's count. A list, a dict
 * or a tuple of 1 to 19 items that dies goes to its type's free list while
 * that has room (80 lists, 80 dicts, 2000 tuples of each length: 3.11's
 * and 3.12's sizes), not to PyObject_GC_Del, so its death does not lower
 * the count; the next one made comes off the free list, not from
 * gc_alloc, so its birth does not raise it. A full collection empties them
 * (clear_freelists). A program that makes lists collects about 80 lists
 * later per collection than the count of containers alone says (selfref's
 * lists at threshold 100: 181 allocations apart, not 101). The model keeps
 * no blocks, only the lists' lengths, for the schedule
 * (tests/workloads/test_fidelity.c compares it with CPython's). */
#define FL_LIST 80
#define FL_DICT 80
#define FL_TUPLE 2000
static inline uint32_t *freelist(rcgen_state *s, const hb_object *o, uint32_t *cap)
{
    if (o->tindex == HB_TI_LIST) {
        *cap = FL_LIST;
        return &s->fl_list;
    }
    if (o->tindex == HB_TI_DICT) {
        *cap = FL_DICT;
        return &s->fl_dict;
    }
    size_t n = hb_tuple_len(o);
    if (n == 0 || n >= sizeof s->fl_tuple / sizeof s->fl_tuple[0])
        return NULL; /* the empty tuple is a singleton in CPython; long ones are not kept */
    *cap = FL_TUPLE;
    return &s->fl_tuple[n];
}

static inline int is_freelisted(const hb_object *o)
{
    _Static_assert(HB_TI_LIST + 1 == HB_TI_TUPLE && HB_TI_TUPLE + 1 == HB_TI_DICT, "type indexes");
    return (unsigned)(o->tindex - HB_TI_LIST) <= HB_TI_DICT - HB_TI_LIST;
}

/* A list, dict or tuple is made: off its free list if it has one there
 * (1), else 0. */
static __attribute__((noinline)) int fl_take(rcgen_state *s, const hb_object *o)
{
    uint32_t cap, *fl = freelist(s, o, &cap);
    if (!fl || !*fl)
        return 0;
    (*fl)--;
    return 1;
}

/* ... dies: onto its free list if there is room (1: the count stays).
 * Out of line, so untrack's common path keeps no frame for it. */
static __attribute__((noinline)) int fl_put(void *arg, const hb_object *o)
{
    rcgen_state *s = arg;
    uint32_t cap, *fl = freelist(s, o, &cap);
    if (!fl || *fl >= cap)
        return 0;
    (*fl)++;
    return 1;
}

/* untrack's count for a list, dict or tuple: less what a free list takes */
static __attribute__((noinline)) void untrack_freelisted(rcgen_state *s, const hb_object *o)
{
    if (!fl_put(s, o) && s->gen[0].count > 0)
        s->gen[0].count--;
}

static void collect_due(hb_heap *h);

static void rcgen_track(hb_heap *h, hb_object *o)
{
    if (!hb_is_container(o))
        return;
    rcgen_state *s = h->gc;
    if (!(is_freelisted(o) && fl_take(s, o))) {
        /* CPython collects in gc_alloc, as the count passes threshold 0: at
         * the allocation of a container not taken off a free list, before
         * it is tracked, and at no other allocation. A shared heap
         * collects at its safepoints instead (rcgen_due). */
        if (++s->gen[0].count > s->gen[0].threshold && s->gen[0].threshold && !h->sh &&
            h->enabled && !h->collecting && !h->in_dealloc)
            collect_due(h);
    }
    o->gen = 0;
    if (s->nyoung == s->young_cap && hb_cy_array_grow(h, &s->young, &s->young_cap, s->nyoung + 1)) {
        hb_gclist_append(&s->gen[0].head, o); /* no memory for the array: the list */
        return;
    }
    o->gc_prev = &s->in_young;
    o->gc_next = (hb_object *)(uintptr_t)s->nyoung;
    s->young[s->nyoung++] = o;
}

static void rcgen_untrack(hb_heap *h, hb_object *o)
{
    rcgen_state *s = h->gc;
    if (o->gc_prev != &s->in_young) {
        hb_gclist_remove(o);
    } else {
        /* in generation 0's array, or (gen GEN_UNREACH) dying in a
         * collection's array, where there is nothing to unlink */
        if (o->gen == 0) {
            size_t i = (uintptr_t)o->gc_next;
            hb_object *last = s->young[--s->nyoung];
            s->young[i] = last;
            last->gc_next = (hb_object *)(uintptr_t)i;
        }
        o->gc_next = o->gc_prev = NULL;
    }
    o->gen = HB_GEN_NONE;
    if (UNLIKELY(is_freelisted(o)))
        untrack_freelisted(s, o);
    else if (s->gen[0].count > 0)
        s->gen[0].count--;
}

/* biased: a constant in each of the two copies below (collect_gen), so an
 * isolated heap's collection carries none of the shared heap's steps. */
static inline __attribute__((always_inline)) size_t collect_gen_(hb_heap *h, int gen, int biased)
{
    rcgen_state *s = h->gc;
    uint64_t t0 = hb_now_ns();
    h->collecting = 1;

    if (gen + 1 < HB_GENERATIONS)
        s->gen[gen + 1].count++;
    for (int i = 0; i <= gen; i++)
        s->gen[i].count = 0;
    for (int i = 0; i < gen; i++)
        hb_gclist_merge(&s->gen[i].head, &s->gen[gen].head);
    hb_object *young = &s->gen[gen].head;
    hb_object *old = gen + 1 < HB_GENERATIONS ? &s->gen[gen + 1].head : young;
    if (biased) { /* fold the shared words (see collect_gen) */
        for (size_t i = 0; i < s->nyoung; i++)
            hb_shared_fold(h, s->young[i]);
        for (hb_object *o = young->gc_next; o != young; o = o->gc_next)
            hb_shared_fold(h, o);
    }

    /* the set: generations 0..gen by their gen byte; survivors get the
     * older generation's byte -- for a full collection the other colour */
    hb_pass p = {.unreach = GEN_UNREACH, .again = 0, .list = young};
    p.young[0] = p.young[GEN_UNREACH] = 1;
    if (gen >= 1)
        p.young[1] = 1;
    if (gen >= 2)
        p.young[s->colour] = 1;
    p.done = gen == 0 ? 1 : gen == 1 ? s->colour : (uint8_t)(GEN_OLD_A + GEN_OLD_B - s->colour);

    hb_object unreachable, finalizers, still;
    hb_gclist_init(&unreachable);
    hb_gclist_init(&finalizers);
    hb_gclist_init(&still);

    /* GATHER: take generation 0's array, or the spare if it is larger
     * (it was the set of a larger collection: no regrowing it), and new
     * objects go to the other one */
    hb_object **a = s->young;
    size_t n = s->nyoung, cap = s->young_cap, n0 = n;
    if (s->spare_cap > cap) {
        a = s->spare;
        cap = s->spare_cap;
        if (n0)
            memcpy(a, s->young, n0 * sizeof *a); /* same slots: same indices */
        s->spare = s->young;
        s->spare_cap = s->young_cap;
    }
    s->young = s->spare;
    s->young_cap = s->spare_cap;
    s->nyoung = 0;
    s->spare = NULL;
    s->spare_cap = 0;
    p.h = h;
    p.gray = &s->gray;
    p.in_young = &s->in_young;
    p.count0 = &s->gen[0].count;
    p.keeps_count = fl_put;
    p.keeps_arg = s;
    p.nil.gen = HB_GEN_NONE;

    /* the array passes when the set is mostly generation 0's array; a set
     * mostly on lists (a full collection of a settled heap) is walked in
     * list order, which is mostly address order, and copying it into the
     * array would only add traffic */
    int counted = 0, use_array = gen == 0 || hb_gclist_empty(young);
    size_t examined, legacy = 0, plain = 0;
    if (use_array && !(counted = 1, hb_cy_gather_count(h, &p, &a, &cap, &n))) {
        examined = n;
        size_t ext = (size_t)(p.rc_sum - p.in_sum), got = SIZE_MAX;
        if (p.sums && !p.not_plain && !ext && !h->sh) {
            plain = 1;
            p.moved = hb_cy_delete_all(h, &p, a, n, old);
        } else if (!h->sh && !p.from_lists &&
                   (p.sums ? ext <= n / SPARSE : hb_cy_few_roots(a, n)) &&
                   (got = hb_cy_delete_sparse(h, &p, a, n, old)) != SIZE_MAX) {
            plain = 1;
            p.moved = got;
        } else {
            size_t k = hb_cy_move_array(&p, a, n, old);
            if (biased) /* counts are changed from here on: no scratch may pass for a count */
                for (size_t j = 0; j < k; j++)
                    a[j]->gc_refs = 0;
            if (!p.seen && !p.not_plain && !p.from_lists && !h->sh) {
                plain = 1;
                p.moved = hb_cy_delete_front(h, &p, a, k, old);
            } else if (!p.seen) {
                plain = 1;
                p.moved = hb_cy_delete_plain(h, &p, a, k, old);
            } else {
                p.moved = hb_cy_settle_front(&p, a, k, old, &unreachable);
            }
        }
    } else {
        /* over the lists; if the array could not grow, undo its counts */
        if (counted) {
            for (size_t i = 0; i < n0; i++)
                a[i]->gc_refs = 0;
            for (hb_object *o = young->gc_next; o != young; o = o->gc_next)
                o->gc_refs = 0;
        }
        for (size_t i = 0; i < n0; i++)
            hb_gclist_append(young, a[i]);
        examined = hb_cy_count_refs(&p);
        hb_cy_move_unreachable(&p, &unreachable);
        if (biased)
            hb_cy_zero_scratch(&unreachable);
    }
    if (p.seen & SEEN_LEGACY) {
        legacy = hb_cy_move_legacy_finalizers(&unreachable, &finalizers);
        if (biased)
            hb_cy_zero_scratch(&finalizers);
    }
    size_t survivors = examined - p.moved;
    if (young != old) {
        if (gen == HB_GENERATIONS - 2)
            s->long_lived_pending += survivors;
        hb_gclist_merge(young, old);
    } else {
        /* full collection: unreachable objects never left the count */
        s->long_lived_pending = 0;
        s->long_lived_total = survivors;
        s->colour = p.done;
    }

    size_t m = p.moved - legacy;

    if (!plain) {
        hb_object *doomed = &unreachable;
        if (hb_cy_weakrefs_and_finalizers(h, &unreachable, p.seen)) {
            hb_cy_handle_resurrected(&unreachable, &still, old, p.done);
            doomed = &still;
            if (biased)
                hb_cy_zero_scratch(&still);
        }
        hb_cy_delete_garbage(h, doomed, old, p.done);
    }
    size_t nl = hb_cy_handle_legacy(h, &finalizers, old, p.done);
    if (gen == HB_GENERATIONS - 1) { /* clear_freelists */
        s->fl_list = s->fl_dict = 0;
        memset(s->fl_tuple, 0, sizeof s->fl_tuple);
    }
    /* the array is the spare again (nothing took the spare meanwhile) */
    s->spare = a;
    s->spare_cap = cap;

    h->stats[gen].collections++;
    h->stats[gen].collected += m;
    h->stats[gen].uncollectable += nl;
    h->collecting = 0;

    hb_gc_event ev = {.start_ns = t0, .duration_ns = hb_now_ns() - t0, .generation = gen, .examined = examined,
                      .freed = m + nl, .is_explicit = h->collect_explicit};
    hb_heap_event(h, &ev);
    return m + nl;
}

static __attribute__((noinline)) size_t collect_gen_biased(hb_heap *h, int gen)
{
    return collect_gen_(h, gen, 1);
}

static size_t collect_gen(hb_heap *h, int gen)
{
    /* a shared heap with biased counts (the world is stopped): the set's
     * counts become refcnt alone, so gc_refs is free for the passes */
    if (__builtin_expect(h->sh != NULL, 0) && h->cfg.refcount_mode == HB_RC_BIASED)
        return collect_gen_biased(h, gen);
    return collect_gen_(h, gen, 0);
}

/* The oldest generation whose count exceeds its threshold, as 3.12's
 * gc_collect_generations. */
static void collect_due(hb_heap *h)
{
    rcgen_state *s = h->gc;
    for (int i = HB_GENERATIONS - 1; i >= 0; i--) {
        if (s->gen[i].count > s->gen[i].threshold) {
            if (i == HB_GENERATIONS - 1 && s->long_lived_pending < s->long_lived_total / 4)
                continue;
            collect_gen(h, i);
            break;
        }
    }
}

/* An isolated heap collects in track (above); a shared heap here, at the
 * safepoint that saw rcgen_due. */
static void rcgen_maybe_collect(hb_heap *h)
{
    rcgen_state *s = h->gc;
    if (h->sh && s->gen[0].threshold && s->gen[0].count > s->gen[0].threshold)
        collect_due(h);
}

static size_t rcgen_collect(hb_heap *h, int gen) { return collect_gen(h, gen); }

/* Shared heaps: maybe_collect's first test, under the heap lock (gen[0]'s
 * count is every thread's allocations minus deallocations). */
static int rcgen_due(hb_heap *h)
{
    rcgen_state *s = h->gc;
    return s->gen[0].threshold && s->gen[0].count > s->gen[0].threshold;
}

static int rcgen_freeze(hb_heap *h, int freeze)
{
    rcgen_state *s = h->gc;
    if (freeze) {
        young_spill(s);
        for (int i = 0; i < HB_GENERATIONS; i++)
            hb_gclist_merge(&s->gen[i].head, &s->permanent);
        hb_cy_settle(&s->permanent, GEN_PERMANENT);
        s->gen[0].count = 0;
    } else {
        hb_cy_settle(&s->permanent, s->colour);
        hb_gclist_merge(&s->permanent, &s->gen[HB_GENERATIONS - 1].head);
    }
    return 0;
}

static size_t rcgen_freeze_count(hb_heap *h)
{
    rcgen_state *s = h->gc;
    return hb_gclist_length(&s->permanent);
}

static int rcgen_set_threshold(hb_heap *h, const long *t, int n)
{
    rcgen_state *s = h->gc;
    if (hb_cy_thresholds_check(t, n))
        return EINVAL;
    for (int i = 0; i < n; i++)
        s->gen[i].threshold = t[i];
    return 0;
}

static int rcgen_get_threshold(hb_heap *h, long *t, int n)
{
    rcgen_state *s = h->gc;
    for (int i = 0; i < n && i < HB_GENERATIONS; i++)
        t[i] = s->gen[i].threshold;
    return 0;
}

const hb_collector hb_rcgen_collector = {
    .name = "rcgen",
    .doc = "reference counting plus CPython 3.12's generational cycle collector",
    .generations = HB_GENERATIONS,
    .refcounts = 1,
    .init = rcgen_init,
    .destroy = rcgen_destroy,
    .track = rcgen_track,
    .untrack = rcgen_untrack,
    .maybe_collect = rcgen_maybe_collect,
    .collect = rcgen_collect,
    .freeze = rcgen_freeze,
    .freeze_count = rcgen_freeze_count,
    .set_threshold = rcgen_set_threshold,
    .get_threshold = rcgen_get_threshold,
    .due = rcgen_due,
    .shared_ok = 1,
    .params = "threshold,threshold1,threshold2,garbage_ms",
};
