/* rcgen.c -- reference counting plus CPython 3.12's generational cycle
 * collector (Modules/gcmodule.c).
 *
 * Invariant. Between collections every tracked container is on exactly one
 * of four lists: generation 0, 1, 2 or the permanent generation (frozen);
 * its COLLECTING and UNREACHABLE flags are clear and gc_refs is meaningless.
 * Reference counts are exact: refcnt is the number of references held by
 * variables, containers and C code. A collection of generation g looks only
 * at generations 0..g ("young"): an object in young is reachable iff its
 * count exceeds the references young objects hold to it (gc_refs > 0 after
 * subtract_refs) or a reachable young object refers to it. Everything else
 * in young is garbage made of cycles.
 *
 * A collection is a sequence of states, each a pass over lists:
 *   UPDATE_REFS      gc_refs = refcnt, flag COLLECTING          (young)
 *   SUBTRACT_REFS    gc_refs -= references from young objects   (young)
 *   MOVE_UNREACHABLE gc_refs == 0 -> `unreachable`, pulled back when a
 *                    reachable object refers to it; survivors go to g+1
 *   LEGACY           unreachable objects with a legacy finalizer, and all
 *                    they reach, move to `finalizers` (uncollectable)
 *   WEAKREFS         weakrefs to unreachable objects are cleared; callbacks
 *                    run only for weakrefs that are not themselves garbage
 *   FINALIZE         PEP 442: each tp_finalize runs once (FINALIZED flag)
 *   RESURRECT        UPDATE/SUBTRACT/MOVE again over `unreachable`; what a
 *                    finalizer or callback made reachable moves to g+1
 *                    (skipped when no finalizer or callback ran)
 *   DELETE           clear() each still-unreachable object; refcounting
 *                    frees the cycle
 *   GARBAGE          `finalizers` appended to gc.garbage, moved to g+1
 *
 * Schedule (as 3.12): generation 0's count is allocations minus
 * deallocations of containers; when it exceeds threshold 0 the oldest
 * generation whose count exceeds its threshold is collected, a generation's
 * count being the collections of the one below since its own last. A full
 * collection also needs long_lived_pending > long_lived_total / 4, so a
 * large stable heap is not rescanned every 10 x 10 x 700 allocations.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

typedef struct rcgen_gen {
    hb_object head;
    long threshold;
    long count;
} rcgen_gen;

typedef struct rcgen_state {
    rcgen_gen gen[HB_GENERATIONS];
    hb_object permanent;
    size_t long_lived_total;
    size_t long_lived_pending;
} rcgen_state;

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
    h->gc = s;
    return 0;
}

static void rcgen_destroy(hb_heap *h)
{
    rcgen_state *s = h->gc;
    /* one list, so references between generations are torn down together */
    for (int i = 0; i < HB_GENERATIONS; i++)
        hb_gclist_merge(&s->gen[i].head, &s->permanent);
    hb_teardown_list(h, &s->permanent);
    h->alloc->free(h->alloc_state, s, sizeof *s);
}

static void rcgen_track(hb_heap *h, hb_object *o)
{
    if (!(o->type->flags & HB_TF_GC))
        return;
    rcgen_state *s = h->gc;
    hb_gclist_append(&s->gen[0].head, o);
    s->gen[0].count++;
}

static void rcgen_untrack(hb_heap *h, hb_object *o)
{
    rcgen_state *s = h->gc;
    hb_gclist_remove(o);
    if (s->gen[0].count > 0)
        s->gen[0].count--;
}

/* ---- the passes ---- */

/* TRAVERSE(o, VISIT, arg): o->type->traverse(o, VISIT, arg), with the
 * built-in containers walked inline. A collection spends most of its time
 * here, and two indirect calls per reference (traverse, then visit) cost
 * more than the visit itself; the switch is exactly equivalent to the
 * types' traverse functions (types.c), which remain the contract. */
#define TRAVERSE(o, VISIT, arg)                                                     \
    do {                                                                            \
        hb_object *o_ = (o);                                                        \
        switch (o_->type->kind) {                                                   \
        case HB_K_NODE: {                                                           \
            hb_node *n_ = (hb_node *)o_;                                            \
            for (size_t i_ = 0; i_ < n_->nfields; i_++)                             \
                if (n_->fields[i_])                                                 \
                    VISIT(n_->fields[i_], arg);                                     \
            break;                                                                  \
        }                                                                           \
        case HB_K_LIST: {                                                           \
            hb_list *l_ = (hb_list *)o_;                                            \
            for (size_t i_ = 0; i_ < l_->len; i_++)                                 \
                if (l_->items[i_])                                                  \
                    VISIT(l_->items[i_], arg);                                      \
            break;                                                                  \
        }                                                                           \
        case HB_K_TUPLE: {                                                          \
            hb_tuple *t_ = (hb_tuple *)o_;                                          \
            for (size_t i_ = 0; i_ < t_->len; i_++)                                 \
                if (t_->items[i_])                                                  \
                    VISIT(t_->items[i_], arg);                                      \
            break;                                                                  \
        }                                                                           \
        default:                                                                    \
            o_->type->traverse(o_, VISIT, arg);                                     \
        }                                                                           \
    } while (0)

static const uint16_t COLLECTING = HB_OF_COLLECTING, UNREACHABLE = HB_OF_UNREACHABLE;

/* UPDATE_REFS; returns the number of objects in the list. */
static size_t update_refs(hb_object *list)
{
    size_t n = 0;
    for (hb_object *o = list->gc_next; o != list; o = o->gc_next, n++) {
        o->gc_refs = o->refcnt;
        o->flags |= COLLECTING;
    }
    return n;
}

static inline void visit_decref(hb_object *t, void *arg)
{
    (void)arg;
    if (t->flags & COLLECTING)
        t->gc_refs--;
}

static void subtract_refs(hb_object *list)
{
    for (hb_object *o = list->gc_next; o != list; o = o->gc_next)
        TRAVERSE(o, visit_decref, NULL);
}

static inline void visit_reachable(hb_object *t, void *arg)
{
    if (!(t->flags & COLLECTING))
        return; /* outside young, or already scanned as reachable */
    if (t->flags & UNREACHABLE) {
        /* tentatively unreachable: back to young's tail, to be scanned */
        hb_gclist_move(t, (hb_object *)arg);
        t->flags &= (uint16_t)~UNREACHABLE;
        t->gc_refs = 1;
    } else if (t->gc_refs == 0) {
        t->gc_refs = 1; /* still ahead of the scan: it will be traversed */
    }
}

/* MOVE_UNREACHABLE. Reachable objects leave with COLLECTING clear; the
 * unreachable keep COLLECTING | UNREACHABLE. */
static void move_unreachable(hb_object *young, hb_object *unreachable)
{
    hb_object *o = young->gc_next;
    while (o != young) {
        if (o->gc_refs) {
            /* read next only after traverse: it may append to young */
            TRAVERSE(o, visit_reachable, young);
            o->flags &= (uint16_t)~COLLECTING;
            o = o->gc_next;
        } else {
            hb_object *next = o->gc_next;
            hb_gclist_move(o, unreachable);
            o->flags |= UNREACHABLE;
            o = next;
        }
    }
}

static void visit_move(hb_object *t, void *arg)
{
    if (t->flags & COLLECTING) {
        t->flags &= (uint16_t)~(COLLECTING | UNREACHABLE);
        hb_gclist_move(t, (hb_object *)arg);
    }
}

/* What the pass over the unreachable set found. */
typedef struct scan {
    size_t unreachable; /* all garbage, before legacy finalizers are set apart */
    size_t legacy;      /* set apart as uncollectable */
    int weakrefd;       /* some garbage has weakrefs */
    int finalizers;     /* some garbage has a finalizer that has not run */
} scan;

/* LEGACY: a cycle with a legacy finalizer cannot be cleared safely (no
 * order to run tp_del in), so it and everything it reaches is kept. The
 * same pass counts the garbage and notes whether the WEAKREFS and FINALIZE
 * passes have anything to do, so plain cycles cost no extra pass. */
static scan move_legacy_finalizers(hb_object *unreachable, hb_object *finalizers)
{
    scan sc = {0};
    hb_object *o = unreachable->gc_next;
    while (o != unreachable) {
        hb_object *next = o->gc_next;
        sc.unreachable++;
        sc.weakrefd |= (o->flags & HB_OF_WEAKREFD) != 0;
        if (o->type->flags & HB_TF_LEGACY_FINALIZER) {
            o->flags &= (uint16_t)~(COLLECTING | UNREACHABLE);
            hb_gclist_move(o, finalizers);
        } else if (o->type->finalize && !(o->flags & HB_OF_FINALIZED)) {
            sc.finalizers = 1;
        }
        o = next;
    }
    for (o = finalizers->gc_next; o != finalizers; o = o->gc_next, sc.legacy++)
        o->type->traverse(o, visit_move, finalizers);
    return sc;
}

static int wr_not_garbage(hb_object *wr) { return !(wr->flags & COLLECTING); }

/* WEAKREFS and FINALIZE; returns 1 if any mutator code ran. */
static int weakrefs_and_finalizers(hb_heap *h, hb_object *unreachable, const scan *sc)
{
    int ran = 0;
    if (sc->weakrefd) {
        hb_objstack fire = {0};
        for (hb_object *o = unreachable->gc_next; o != unreachable; o = o->gc_next)
            if (o->flags & HB_OF_WEAKREFD)
                hb_weakrefs_detach(h, o, wr_not_garbage, &fire);
        for (size_t i = 0; i < fire.n; i++)
            hb_weakref_fire(h, fire.v[i]);
        ran = fire.n > 0;
        hb_objstack_free(h, &fire);
    }
    if (!sc->finalizers)
        return ran;
    /* a finalizer may free or resurrect others: walk by moving to `seen` */
    hb_object seen;
    hb_gclist_init(&seen);
    while (!hb_gclist_empty(unreachable)) {
        hb_object *o = unreachable->gc_next;
        hb_gclist_move(o, &seen);
        if (o->type->finalize && !(o->flags & HB_OF_FINALIZED)) {
            o->refcnt++;
            hb_object_finalize(h, o);
            hb_decref(h, o);
        }
    }
    hb_gclist_merge(&seen, unreachable);
    return 1;
}

/* RESURRECT: run the reachability test again inside `unreachable`; what a
 * finalizer or callback stored somewhere now has gc_refs > 0. */
static void handle_resurrected(hb_object *unreachable, hb_object *still, hb_object *old)
{
    for (hb_object *o = unreachable->gc_next; o != unreachable; o = o->gc_next)
        o->flags &= (uint16_t)~(COLLECTING | UNREACHABLE);
    update_refs(unreachable);
    subtract_refs(unreachable);
    move_unreachable(unreachable, still);
    hb_gclist_merge(unreachable, old);
}

/* DELETE: break every cycle by clearing its members; the refcounts do the
 * rest. An object that survives its clear (someone still refers to it)
 * moves to `old` and may die later. Returns how many were freed. */
static void delete_garbage(hb_heap *h, hb_object *list, hb_object *old)
{
    while (!hb_gclist_empty(list)) {
        hb_object *o = list->gc_next;
        o->refcnt++;
        o->type->clear(h, o, 0);
        if (list->gc_next == o) {
            o->flags &= (uint16_t)~(COLLECTING | UNREACHABLE);
            hb_gclist_move(o, old);
        }
        hb_decref(h, o);
    }
}

/* GARBAGE: append to gc.garbage, keep the objects in `old`. */
static size_t handle_legacy(hb_heap *h, hb_object *finalizers, hb_object *old)
{
    size_t n = 0;
    for (hb_object *o = finalizers->gc_next; o != finalizers; o = o->gc_next, n++) {
        /* if gc.garbage cannot grow the objects stay in `old`, alive and
         * counted uncollectable, only not listed */
        if (!h->garbage)
            h->garbage = hb_list_new(h);
        if (h->garbage)
            (void)hb_list_append(h, h->garbage, o);
    }
    hb_gclist_merge(finalizers, old);
    return n;
}

static size_t collect_gen(hb_heap *h, int gen)
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

    hb_object unreachable, finalizers, still;
    hb_gclist_init(&unreachable);
    hb_gclist_init(&finalizers);
    hb_gclist_init(&still);

    size_t examined = update_refs(young);
    subtract_refs(young);
    move_unreachable(young, &unreachable);
    scan sc = move_legacy_finalizers(&unreachable, &finalizers);
    size_t survivors = examined - sc.unreachable;
    if (young != old) {
        if (gen == HB_GENERATIONS - 2)
            s->long_lived_pending += survivors;
        hb_gclist_merge(young, old);
    } else {
        /* full collection: unreachable objects never left the count */
        s->long_lived_pending = 0;
        s->long_lived_total = survivors;
    }

    size_t m = sc.unreachable - sc.legacy;

    hb_object *doomed = &unreachable;
    if (weakrefs_and_finalizers(h, &unreachable, &sc)) {
        handle_resurrected(&unreachable, &still, old);
        doomed = &still;
    }
    delete_garbage(h, doomed, old);
    size_t n = handle_legacy(h, &finalizers, old);

    h->stats[gen].collections++;
    h->stats[gen].collected += m;
    h->stats[gen].uncollectable += n;
    h->collecting = 0;

    hb_gc_event ev = {t0, hb_now_ns() - t0, gen, examined, m + n};
    hb_heap_event(h, &ev);
    return m + n;
}

static void rcgen_maybe_collect(hb_heap *h)
{
    rcgen_state *s = h->gc;
    if (!s->gen[0].threshold || s->gen[0].count <= s->gen[0].threshold)
        return;
    for (int i = HB_GENERATIONS - 1; i >= 0; i--) {
        if (s->gen[i].count > s->gen[i].threshold) {
            if (i == HB_GENERATIONS - 1 && s->long_lived_pending < s->long_lived_total / 4)
                continue;
            collect_gen(h, i);
            break;
        }
    }
}

static size_t rcgen_collect(hb_heap *h, int gen) { return collect_gen(h, gen); }

static int rcgen_freeze(hb_heap *h, int freeze)
{
    rcgen_state *s = h->gc;
    if (freeze) {
        for (int i = 0; i < HB_GENERATIONS; i++)
            hb_gclist_merge(&s->gen[i].head, &s->permanent);
        s->gen[0].count = 0;
    } else {
        hb_gclist_merge(&s->permanent, &s->gen[HB_GENERATIONS - 1].head);
    }
    return 0;
}

static size_t rcgen_freeze_count(hb_heap *h)
{
    rcgen_state *s = h->gc;
    size_t n = 0;
    for (hb_object *o = s->permanent.gc_next; o != &s->permanent; o = o->gc_next)
        n++;
    return n;
}

static int rcgen_set_threshold(hb_heap *h, const long *t, int n)
{
    rcgen_state *s = h->gc;
    if (n < 1 || n > HB_GENERATIONS)
        return EINVAL;
    for (int i = 0; i < n; i++)
        if (t[i] < 0)
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
};
