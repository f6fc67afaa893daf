/* cycle.c -- the cycle-detection passes over gc lists that rcgen and
 * rcinc share (cycle.h): COUNT_REFS, MOVE_UNREACHABLE, legacy finalizers,
 * weakrefs and finalizers, resurrection, DELETE, gc.garbage. */
#include "cycle.h"

/* Large containers, scanned in step with the walk. A list of 10^6
 * objects scanned whole when the walk meets it touches every item, and the
 * walk touches each again later: two sweeps of a set far larger than the
 * caches. Programs build such lists in a loop, so the items mostly follow
 * the container in list order (allocation order). A cursor over the items
 * visits each item when the walk is at it: its cache line is then loaded
 * once for both. Items outside the set (older objects, None, ints) are
 * visited as the cursor meets them; the cursor waits at an item of the
 * set the walk has not reached. (Two cheaper rules failed. One item per
 * object walked, n ahead: the two streams ran apart whenever list order
 * was off by a few objects, and two streams even 4 KiB apart cost more
 * than the whole scan -- 8 ns per object at 1 apart, 11 at 32, 15 at 128.
 * Items up to the walk's address: the arena allocator hands a fresh
 * pool's blocks out downwards, and the cursor ran a pool ahead.) If the
 * cursor waits more than CURSOR_WAIT objects, the items are in some other
 * order, and it is drained at once, as the whole scan was; so it is if it
 * ever pulls an object back in MOVE_UNREACHABLE (the walk examined an item
 * before the cursor got to it). The walk ends only when the cursor is
 * drained. Measured on the full benchmark (10^6 nodes held by one list, a
 * list walk each pass): each pass went from two sweeps to one. */
#define CURSOR_MIN 256 /* items; a smaller container is scanned at once */
#define CURSOR_WAIT 64 /* objects walked with the cursor waiting: drain it */

/* The items of o if it is a list or tuple of at least CURSOR_MIN items
 * (*end past the last), else NULL. */
static inline hb_object **cursor_items(hb_object *o, hb_object ***end)
{
    hb_object **v;
    size_t n;
    if (!seq_items(o, hb_kindof(o), &v, &n) || n < CURSOR_MIN)
        return NULL;
    *end = v + n;
    return v;
}

/* Visit every item of [cur, end). */
#define CURSOR_DRAIN(cur, end, VISIT, arg)                                   \
    do {                                                                     \
        for (; (cur) < (end); (cur)++)                                       \
            if (*(cur))                                                      \
                VISIT(*(cur), arg);                                          \
    } while (0)

/* The cursor [cur, end) as the walk gets to `o`, when its next item is
 * not o: visit items up to one of the set the walk has not reached,
 * counting in *wait the objects walked without the cursor moving; drained
 * when they pass CURSOR_WAIT. `move`: for MOVE_UNREACHABLE, where the
 * objects not reached are those of the set not examined yet (examined
 * ones have the survivors' gen byte, outside the set, or `unreach`), and
 * a pull-back drains the cursor too; for COUNT_REFS, any other object of
 * the set. Returns the new cur. */
static inline __attribute__((always_inline)) hb_object **
cursor_slow(hb_pass *p, hb_object **cur, hb_object **end, hb_object *o, unsigned *wait, int move)
{
    hb_object **was = cur;
    size_t moved = p->moved;
    for (; cur < end; cur++) {
        hb_object *t = *cur;
        if (t) {
            if (t != o && p->young[t->gen] && (!move || t->gen != p->unreach))
                break;
            if (move)
                visit_reachable(t, p);
            else
                visit_count(t, p);
        }
    }
    *wait = cur == was ? *wait + 1 : 0;
    if (*wait > CURSOR_WAIT || p->moved != moved) {
        if (move)
            CURSOR_DRAIN(cur, end, visit_reachable, p);
        else
            CURSOR_DRAIN(cur, end, visit_count, p);
    }
    return cur;
}

/* Out of line, so the walks keep the in-step case small. */
static __attribute__((noinline)) hb_object **count_cursor(hb_pass *p, hb_object **cur,
                                                         hb_object **end, hb_object *o,
                                                         unsigned *wait)
{
    return cursor_slow(p, cur, end, o, wait, 0);
}
static __attribute__((noinline)) hb_object **move_cursor(hb_pass *p, hb_object **cur,
                                                        hb_object **end, hb_object *o,
                                                        unsigned *wait)
{
    return cursor_slow(p, cur, end, o, wait, 1);
}

/* The walk is at o: the open cursor's next item is visited if it is o (in
 * step: inline), else SLOW (count_cursor, move_cursor) decides. cur, end
 * and wait are the walk's locals: in registers. */
#define CURSOR_AT(p, cur, end, wait, o, VISIT, SLOW)                         \
    do {                                                                     \
        if ((cur) < (end)) {                                                 \
            if (*(cur) == (o)) {                                             \
                VISIT(o, p);                                                 \
                (cur)++;                                                     \
                (wait) = 0;                                                  \
            } else {                                                         \
                (cur) = SLOW(p, cur, end, o, &(wait));                       \
            }                                                                \
        }                                                                    \
    } while (0)

/* Opens a cursor over o's items if none is open and o is a large list or
 * tuple; true if it did (o's items are then the cursor's, not scanned). */
#define CURSOR_OPEN(cur, end, wait, o)                                       \
    ((cur) == (end) && cursor_open_(o, &(cur), &(end)) && ((wait) = 0, 1))
static inline int cursor_open_(hb_object *o, hb_object ***cur, hb_object ***end)
{
    hb_object **e, **v = cursor_items(o, &e);
    if (!v)
        return 0;
    *cur = v;
    *end = e;
    return 1;
}

/* COUNT_REFS; returns the number of objects in the set. */
size_t hb_cy_count_refs(hb_pass *p)
{
    size_t n = 0;
    hb_object **cur = NULL, **end = NULL; /* the open cursor, if cur < end */
    unsigned wait = 0;
    for (hb_object *o = p->list->gc_next; o != p->list; o = o->gc_next, n++) {
        CURSOR_AT(p, cur, end, wait, o, visit_count, count_cursor);
        if (!CURSOR_OPEN(cur, end, wait, o))
            TRAVERSE(o, visit_count, p);
    }
    CURSOR_DRAIN(cur, end, visit_count, p);
    return n;
}

/* MOVE_UNREACHABLE. Reachable objects stay on the list with gen = done and
 * gc_refs = 0; the unreachable move to `unreachable` with gen = unreach
 * (gc_refs holds their internal count, reset by whoever keeps them). A
 * large reachable container is scanned by a cursor, in step with the walk
 * (see cursor_items); at the end the walk drains the cursor and goes on
 * with what it pulled back. */
void hb_cy_move_unreachable(hb_pass *p, hb_object *unreachable)
{
    hb_object *young = p->list, *o = young->gc_next;
    hb_object **cur = NULL, **end = NULL; /* the open cursor, if cur < end */
    unsigned wait = 0;
    for (;;) {
        if (o == young) {
            if (cur == end)
                break;
            /* the tail is examined and reachable (or young itself): what
             * the drain pulls back is appended after it */
            hb_object *last = young->gc_prev;
            CURSOR_DRAIN(cur, end, visit_reachable, p);
            o = last->gc_next;
            continue;
        }
        CURSOR_AT(p, cur, end, wait, o, visit_reachable, move_cursor);
        if (o->refcnt > o->gc_refs) {
            o->gc_refs = 0;
            o->gen = p->done;
            /* read next only after the scan: it may append to young */
            if (!CURSOR_OPEN(cur, end, wait, o))
                TRAVERSE(o, visit_reachable, p);
            o = o->gc_next;
        } else {
            hb_object *next = o->gc_next;
            hb_gclist_move(o, unreachable);
            o->gen = p->unreach;
            p->moved++;
            p->seen |= seen_bits(o);
            o = next;
        }
    }
}

/* Objects that leave a collection alive join generation `gen`. */
void hb_cy_settle(hb_object *list, uint8_t gen)
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
size_t hb_cy_move_legacy_finalizers(hb_object *unreachable, hb_object *finalizers)
{
    size_t n = 0;
    hb_object *o = unreachable->gc_next;
    while (o != unreachable) {
        hb_object *next = o->gc_next;
        if (hb_typeof(o)->flags & HB_TF_LEGACY_FINALIZER) {
            o->gen = GEN_LEGACY;
            hb_gclist_move(o, finalizers);
        }
        o = next;
    }
    for (o = finalizers->gc_next; o != finalizers; o = o->gc_next, n++)
        hb_typeof(o)->traverse(o, visit_move, finalizers);
    return n;
}

static int wr_not_garbage(hb_object *wr) { return wr->gen != GEN_UNREACH; }

/* WEAKREFS and FINALIZE; returns 1 if any mutator code ran. `seen` says
 * whether some garbage has weakrefs or a finalizer (it may say so wrongly,
 * never the other way), so plain cycles cost no pass here. */
int hb_cy_weakrefs_and_finalizers(hb_heap *h, hb_object *unreachable, unsigned seen)
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
        if (hb_typeof(o)->finalize && !(o->flags & HB_OF_FINALIZED)) {
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
void hb_cy_handle_resurrected(hb_object *unreachable, hb_object *still, hb_object *old, uint8_t gen)
{
    hb_pass p = {.done = gen, .unreach = GEN_UNREACH2, .again = GEN_UNREACH, .list = unreachable};
    p.young[GEN_UNREACH] = p.young[GEN_UNREACH2] = 1;
    for (hb_object *o = unreachable->gc_next; o != unreachable; o = o->gc_next)
        o->gc_refs = 0;
    hb_cy_count_refs(&p);
    hb_cy_move_unreachable(&p, still);
    hb_gclist_merge(unreachable, old);
}

/* DELETE: break every cycle by clearing its members; the refcounts do the
 * rest. An object that survives its clear (someone still refers to it)
 * joins `old` as generation `gen` and may die later. */
void hb_cy_delete_garbage(hb_heap *h, hb_object *list, hb_object *old, uint8_t gen)
{
    while (!hb_gclist_empty(list)) {
        hb_object *o = list->gc_next;
        o->refcnt++;
        hb_typeof(o)->clear(h, o, 0);
        if (list->gc_next == o) {
            o->gen = gen;
            o->gc_refs = 0;
            hb_gclist_move(o, old);
        }
        hb_decref(h, o);
    }
}

/* GARBAGE: append to gc.garbage, keep the objects in `old`. */
size_t hb_cy_handle_legacy(hb_heap *h, hb_object *finalizers, hb_object *old, uint8_t gen)
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

/* Shared heap, biased counts: gc_refs of the set's objects back to 0, the
 * shared count they were folded with (see hb_shared_fold). */
void hb_cy_zero_scratch(hb_object *list)
{
    for (hb_object *o = list->gc_next; o != list; o = o->gc_next)
        o->gc_refs = 0;
}
