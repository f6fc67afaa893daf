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

/* The gen byte of a tracked object (HB_GEN_NONE when untracked). The
 * oldest generation has two values, its colour, swapped by every full
 * collection: survivors take the other colour, so a full collection can
 * tell scanned from unscanned objects without a pass to flag its set. */
enum {
    GEN_OLD_A = 2, GEN_OLD_B = 3, /* generation 2, either colour */
    GEN_PERMANENT = 4,            /* gc.freeze() */
    GEN_UNREACH = 5,              /* in a collection's unreachable set */
    GEN_UNREACH2 = 6,             /* unreachable again, in the RESURRECT pass */
    GEN_LEGACY = 7,               /* set apart: reached from a legacy finalizer */
};

typedef struct rcgen_state {
    rcgen_gen gen[HB_GENERATIONS];
    hb_object permanent;
    uint8_t colour; /* generation 2's gen byte now */
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
    s->colour = GEN_OLD_A;
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
    o->gen = 0;
    s->gen[0].count++;
}

static void rcgen_untrack(hb_heap *h, hb_object *o)
{
    rcgen_state *s = h->gc;
    hb_gclist_remove(o);
    o->gen = HB_GEN_NONE;
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

/* What a pass saw among the objects it found unreachable (some may have
 * been pulled back later: the bits may say yes wrongly, never no). */
enum { SEEN_LEGACY = 1, SEEN_WEAKREFD = 2, SEEN_FINALIZER = 4 };

/* One reachability test (COUNT_REFS then MOVE_UNREACHABLE) over a list. */
typedef struct pass {
    uint8_t young[256]; /* young[gen]: an object with this gen is in the set */
    uint8_t done;       /* gen given to objects found reachable */
    uint8_t unreach;    /* gen given to tentatively unreachable objects */
    uint8_t again;      /* gen given to those pulled back (young, not unreach) */
    hb_object *list;    /* the set; reachable objects stay on it */
    size_t moved;       /* now on the unreachable list */
    unsigned seen;      /* SEEN_* among the objects moved to unreachable */
} pass;

static inline void visit_count(hb_object *t, void *arg)
{
    if (((pass *)arg)->young[t->gen])
        t->gc_refs++;
}

/* COUNT_REFS; returns the number of objects in the set. */
static size_t count_refs(pass *p)
{
    size_t n = 0;
    for (hb_object *o = p->list->gc_next; o != p->list; o = o->gc_next, n++)
        TRAVERSE(o, visit_count, p);
    return n;
}

static inline void visit_reachable(hb_object *t, void *arg)
{
    pass *p = arg;
    if (!p->young[t->gen])
        return; /* outside the set, or already scanned as reachable */
    t->gc_refs = 0; /* 0 < refcnt: reachable when the scan gets to it */
    if (t->gen == p->unreach) {
        /* tentatively unreachable: back to the set's tail, to be scanned */
        hb_gclist_move(t, p->list);
        t->gen = p->again;
        p->moved--;
    }
}

/* MOVE_UNREACHABLE. Reachable objects stay on the list with gen = done and
 * gc_refs = 0; the unreachable move to `unreachable` with gen = unreach
 * (gc_refs holds their internal count, reset by whoever keeps them). */
static void move_unreachable(pass *p, hb_object *unreachable)
{
    hb_object *young = p->list, *o = young->gc_next;
    while (o != young) {
        if (o->refcnt > o->gc_refs) {
            o->gc_refs = 0;
            o->gen = p->done;
            /* read next only after traverse: it may append to young */
            TRAVERSE(o, visit_reachable, p);
            o = o->gc_next;
        } else {
            hb_object *next = o->gc_next;
            hb_gclist_move(o, unreachable);
            o->gen = p->unreach;
            p->moved++;
            p->seen |= (o->type->flags & HB_TF_LEGACY_FINALIZER ? SEEN_LEGACY : 0u) |
                       (o->flags & HB_OF_WEAKREFD ? SEEN_WEAKREFD : 0u) |
                       (o->type->finalize && !(o->flags & HB_OF_FINALIZED) ? SEEN_FINALIZER : 0u);
            o = next;
        }
    }
}

/* Objects that leave a collection alive join generation `gen`. */
static void settle(hb_object *list, uint8_t gen)
{
    for (hb_object *o = list->gc_next; o != list; o = o->gc_next) {
        o->gen = gen;
        o->gc_refs = 0;
    }
}

static void visit_move(hb_object *t, void *arg)
{
    if (t->gen == GEN_UNREACH) {
        t->gen = GEN_LEGACY;
        hb_gclist_move(t, (hb_object *)arg);
    }
}

/* LEGACY: a cycle with a legacy finalizer cannot be cleared safely (no
 * order to run tp_del in), so it and everything it reaches is kept. Only
 * called when the unreachable set holds such a type; returns how many
 * objects were set apart. */
static size_t move_legacy_finalizers(hb_object *unreachable, hb_object *finalizers)
{
    size_t n = 0;
    hb_object *o = unreachable->gc_next;
    while (o != unreachable) {
        hb_object *next = o->gc_next;
        if (o->type->flags & HB_TF_LEGACY_FINALIZER) {
            o->gen = GEN_LEGACY;
            hb_gclist_move(o, finalizers);
        }
        o = next;
    }
    for (o = finalizers->gc_next; o != finalizers; o = o->gc_next, n++)
        o->type->traverse(o, visit_move, finalizers);
    return n;
}

static int wr_not_garbage(hb_object *wr) { return wr->gen != GEN_UNREACH; }

/* WEAKREFS and FINALIZE; returns 1 if any mutator code ran. `seen` says
 * whether some garbage has weakrefs or a finalizer (it may say so wrongly,
 * never the other way), so plain cycles cost no pass here. */
static int weakrefs_and_finalizers(hb_heap *h, hb_object *unreachable, unsigned seen)
{
    int ran = 0;
    if (seen & SEEN_WEAKREFD) {
        hb_objstack fire = {0};
        for (hb_object *o = unreachable->gc_next; o != unreachable; o = o->gc_next)
            if (o->flags & HB_OF_WEAKREFD)
                hb_weakrefs_detach(h, o, wr_not_garbage, &fire);
        for (size_t i = 0; i < fire.n; i++)
            hb_weakref_fire(h, fire.v[i]);
        ran = fire.n > 0;
        hb_objstack_free(h, &fire);
    }
    if (!(seen & SEEN_FINALIZER))
        return ran;
    /* a finalizer may free or resurrect others: walk by moving to `seen` */
    hb_object done;
    hb_gclist_init(&done);
    while (!hb_gclist_empty(unreachable)) {
        hb_object *o = unreachable->gc_next;
        hb_gclist_move(o, &done);
        if (o->type->finalize && !(o->flags & HB_OF_FINALIZED)) {
            o->refcnt++;
            hb_object_finalize(h, o);
            hb_decref(h, o);
            ran = 1;
        }
    }
    hb_gclist_merge(&done, unreachable);
    return ran;
}

/* RESURRECT: run the reachability test again inside `unreachable`; what a
 * finalizer or callback stored somewhere now has more references than the
 * set holds. Survivors join `old` as generation `gen`. */
static void handle_resurrected(hb_object *unreachable, hb_object *still, hb_object *old, uint8_t gen)
{
    pass p = {.done = gen, .unreach = GEN_UNREACH2, .again = GEN_UNREACH, .list = unreachable};
    p.young[GEN_UNREACH] = p.young[GEN_UNREACH2] = 1;
    for (hb_object *o = unreachable->gc_next; o != unreachable; o = o->gc_next)
        o->gc_refs = 0;
    count_refs(&p);
    move_unreachable(&p, still);
    hb_gclist_merge(unreachable, old);
}

/* DELETE: break every cycle by clearing its members; the refcounts do the
 * rest. An object that survives its clear (someone still refers to it)
 * joins `old` as generation `gen` and may die later. */
static void delete_garbage(hb_heap *h, hb_object *list, hb_object *old, uint8_t gen)
{
    while (!hb_gclist_empty(list)) {
        hb_object *o = list->gc_next;
        o->refcnt++;
        o->type->clear(h, o, 0);
        if (list->gc_next == o) {
            o->gen = gen;
            o->gc_refs = 0;
            hb_gclist_move(o, old);
        }
        hb_decref(h, o);
    }
}

/* GARBAGE: append to gc.garbage, keep the objects in `old`. */
static size_t handle_legacy(hb_heap *h, hb_object *finalizers, hb_object *old, uint8_t gen)
{
    size_t n = 0;
    for (hb_object *o = finalizers->gc_next; o != finalizers; o = o->gc_next, n++) {
        o->gen = gen;
        o->gc_refs = 0;
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

    /* the set: generations 0..gen by their gen byte; survivors get the
     * older generation's byte -- for a full collection the other colour */
    pass p = {.unreach = GEN_UNREACH, .again = 0, .list = young};
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

    size_t examined = count_refs(&p);
    move_unreachable(&p, &unreachable);
    size_t legacy = 0;
    if (p.seen & SEEN_LEGACY)
        legacy = move_legacy_finalizers(&unreachable, &finalizers);
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

    hb_object *doomed = &unreachable;
    if (weakrefs_and_finalizers(h, &unreachable, p.seen)) {
        handle_resurrected(&unreachable, &still, old, p.done);
        doomed = &still;
    }
    delete_garbage(h, doomed, old, p.done);
    size_t n = handle_legacy(h, &finalizers, old, p.done);

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
        settle(&s->permanent, GEN_PERMANENT);
        s->gen[0].count = 0;
    } else {
        settle(&s->permanent, s->colour);
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
