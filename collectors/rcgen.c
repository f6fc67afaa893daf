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
 * delete_front and delete_plain); otherwise the front becomes the
 * `unreachable` list and the states above run as listed. Two sets skip
 * MOVE_UNREACHABLE: one whose counts add up to its internal references
 * (all garbage, delete_all), and one with few references from outside
 * (few roots: what they reach is marked, the rest deleted, see
 * delete_sparse) -- a program making cyclic garbage leaves generation 0
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
 * deallocations of containers; when it exceeds threshold 0 the oldest
 * generation whose count exceeds its threshold is collected, a generation's
 * count being the collections of the one below since its own last. A full
 * collection also needs long_lived_pending > long_lived_total / 4, so a
 * large stable heap is not rescanned every 10 x 10 x 700 allocations.
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
    GEN_CLEARED = 8,              /* DELETE: cleared, held, waiting for its last reference */
};

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
    size_t long_lived_total;
    size_t long_lived_pending;
} rcgen_state;

/* Both arrays come from h->alloc (bookkeeping, like a mark stack) and keep
 * their size: after the first collections none allocates. */
static int array_grow(hb_heap *h, hb_object ***a, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < need)
        ncap *= 2;
    hb_object **v = h->alloc->realloc(h->alloc_state, *a, *cap * sizeof *v, ncap * sizeof *v);
    if (!v)
        return ENOMEM;
    *a = v;
    *cap = ncap;
    return 0;
}

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

static void rcgen_track(hb_heap *h, hb_object *o)
{
    if (!hb_is_container(o))
        return;
    rcgen_state *s = h->gc;
    o->gen = 0;
    s->gen[0].count++;
    if (s->nyoung == s->young_cap && array_grow(h, &s->young, &s->young_cap, s->nyoung + 1)) {
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
    if (s->gen[0].count > 0)
        s->gen[0].count--;
}

/* ---- the passes ---- */

/* A list's or tuple's items (*v) and their count (*n), if o (of kind k)
 * is one; 0 for the other kinds. */
static inline int seq_items(hb_object *o, hb_kind k, hb_object ***v, size_t *n)
{
    if (k == HB_K_LIST) {
        *v = ((hb_list *)o)->items;
        *n = ((hb_list *)o)->len;
    } else if (k == HB_K_TUPLE) {
        *v = ((hb_tuple *)o)->items;
        *n = ((hb_tuple *)o)->len;
    } else {
        return 0;
    }
    return 1;
}

/* TRAVERSE(o, VISIT, arg): hb_typeof(o)->traverse(o, VISIT, arg), with the
 * built-in containers walked inline. A collection spends most of its time
 * here, and two indirect calls per reference (traverse, then visit) cost
 * more than the visit itself; the switch is exactly equivalent to the
 * types' traverse functions (types.c), which remain the contract. */
#define TRAVERSE(o, VISIT, arg)                                                     \
    do {                                                                            \
        hb_object *o_ = (o), **v_;                                                  \
        size_t l_;                                                                  \
        hb_kind k_ = hb_kindof(o_);                                                 \
        if (__builtin_expect(k_ == HB_K_NODE, 1)) {                                 \
            hb_node *n_ = (hb_node *)o_;                                            \
            for (hb_object **f_ = n_->fields, **e_ = hb_node_end(o_); f_ < e_; f_++) \
                if (*f_)                                                            \
                    VISIT(*f_, arg);                                                \
        } else if (seq_items(o_, k_, &v_, &l_)) {                                   \
            for (size_t i_ = 0; i_ < l_; i_++)                                      \
                if (v_[i_])                                                         \
                    VISIT(v_[i_], arg);                                             \
        } else {                                                                    \
            hb_typeof(o_)->traverse(o_, VISIT, arg);                                \
        }                                                                           \
    } while (0)

/* What a pass saw among the objects it found unreachable (some may have
 * been pulled back later: the bits may say yes wrongly, never no). */
enum { SEEN_LEGACY = 1, SEEN_WEAKREFD = 2, SEEN_FINALIZER = 4 };

/* SEEN_* of one object, without a branch. */
static inline unsigned seen_bits(const hb_object *o)
{
    /* the bits line up: type bits LEGACY and FINALIZE are SEEN_LEGACY and
     * SEEN_FINALIZER, FINALIZED << 1 is SEEN_FINALIZER, WEAKREFD >> 1 is
     * SEEN_WEAKREFD */
    _Static_assert((int)HB_TB_LEGACY == (int)SEEN_LEGACY &&
                       (int)HB_TB_FINALIZE == (int)SEEN_FINALIZER &&
                       (int)HB_OF_FINALIZED << 1 == (int)SEEN_FINALIZER &&
                       (int)HB_OF_WEAKREFD >> 1 == (int)SEEN_WEAKREFD,
                   "seen_bits");
    unsigned f = o->flags;
    return ((unsigned)hb_type_bits[o->tindex] & (SEEN_LEGACY | SEEN_FINALIZER) &
            ~((f & HB_OF_FINALIZED) << 1)) |
           ((f >> 1) & SEEN_WEAKREFD);
}

/* Non-zero for an object delete_all cannot delete: not of a plain node
 * class (HB_TB_PLAIN: a finalizer, a legacy finalizer or another type),
 * or weakref'd. The same object always gives the same value, so a sum of
 * them can be taken back object by object (delete_sparse). Finalized
 * (its flag in HB_TB_PLAIN's place) only when its class has a finalizer,
 * so not plain anyway. */
static inline unsigned not_plain_node(const hb_object *o)
{
    _Static_assert((int)HB_TB_PLAIN == (int)HB_OF_FINALIZED &&
                       ((int)HB_TB_PLAIN & (int)HB_OF_WEAKREFD) == 0,
                   "not_plain_node");
    return ((hb_type_bits[o->tindex] ^ HB_TB_PLAIN) | o->flags) & (HB_TB_PLAIN | HB_OF_WEAKREFD);
}

/* refcnt and gc_refs, adjacent, as one word (refcnt in the low half, as
 * on every little-endian target; the layout is object.h's) */
_Static_assert(offsetof(hb_object, gc_refs) == offsetof(hb_object, refcnt) + 4 &&
                   offsetof(hb_object, refcnt) % 8 == 0,
               "refcnt, gc_refs: one aligned word");
static inline uint64_t counts_get(const hb_object *o)
{
    uint64_t w;
    memcpy(&w, &o->refcnt, sizeof w);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = w << 32 | w >> 32;
#endif
    return w;
}

/* A root of the set, after COUNT_REFS: referred to from outside it. */
static inline int counted_root(const hb_object *o) { return o->refcnt > o->gc_refs; }

/* refcnt = rc, gc_refs = 0, one store */
static inline void counts_set(hb_object *o, uint32_t rc)
{
    uint64_t w = rc;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w <<= 32;
#endif
    memcpy(&o->refcnt, &w, sizeof w);
}

/* One reachability test (COUNT_REFS then MOVE_UNREACHABLE) over a list. */
typedef struct pass {
    uint8_t young[256]; /* young[gen]: an object with this gen is in the set */
    uint8_t done;       /* gen given to objects found reachable */
    uint8_t unreach;    /* gen given to tentatively unreachable objects */
    uint8_t again;      /* gen given to those pulled back (young, not unreach) */
    hb_object *list;    /* the set; reachable objects stay on it */
    size_t moved;       /* now on the unreachable list */
    unsigned seen;      /* SEEN_* among the objects moved to unreachable */
    hb_heap *h;         /* the array passes: */
    hb_objstack *gray;  /* pulled back, to scan */
    int lost;           /* a pulled-back object did not fit on gray (see below) */
    hb_object *in_young; /* rcgen_state's: gc_prev of an object in an array */
    /* gather_count: the set's summed refcnt and references from inside
     * it, and whether any object may not be a plain node (another type, a
     * finalizer, weakrefs): see delete_all; after move_array, whether any
     * object of its front is not (see delete_front) */
    uint64_t rc_sum, in_sum;
    uintptr_t not_plain;
    int from_lists;     /* some of the set came from lists (no delete_sparse, delete_front) */
    int sums;           /* gather_count added up rc_sum and in_sum */
    hb_object *tail;    /* move_array: survivors from the array are linked after it */
    hb_object nil;
} pass;

static inline void visit_count(hb_object *t, void *arg)
{
    if (((pass *)arg)->young[t->gen])
        t->gc_refs++;
}

/* visit_count, adding up in p->in_sum (count_array, other types) */
static inline void visit_count_sum(hb_object *t, void *arg)
{
    pass *p = arg;
    uint8_t y = p->young[t->gen];
    t->gc_refs += y;
    p->in_sum += y;
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
cursor_slow(pass *p, hb_object **cur, hb_object **end, hb_object *o, unsigned *wait, int move)
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
static __attribute__((noinline)) hb_object **count_cursor(pass *p, hb_object **cur,
                                                         hb_object **end, hb_object *o,
                                                         unsigned *wait)
{
    return cursor_slow(p, cur, end, o, wait, 0);
}
static __attribute__((noinline)) hb_object **move_cursor(pass *p, hb_object **cur,
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
static size_t count_refs(pass *p)
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
static void move_unreachable(pass *p, hb_object *unreachable)
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

/* ---- the same passes over an array ---- */

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* An object's first two cache lines: the header and, for most objects
 * (blocks are only 16-byte aligned), the first references. */
static inline void prefetch_object(const hb_object *o)
{
    __builtin_prefetch(o);
    __builtin_prefetch((const char *)o + 48);
}

/* t, or `nil` for None, without a branch: in a young generation None and
 * non-None fields interleave at random, and a branch on it mispredicts
 * for a good part of the objects (it was half a COUNT_REFS pass). On
 * x86-64 a test and a cmov: gcc makes the portable form below six
 * instructions longer (sete, neg, two ands, or, lea), which was 5% of a
 * generation-0 pause's instructions (callgrind). */
static inline hb_object *nil_or(hb_object *t, hb_object *nil)
{
#if defined(__x86_64__)
    __asm__("test %0, %0\n\tcmovz %1, %0" : "+r"(t) : "r"(nil) : "cc");
    return t;
#else
    uintptr_t z = -(uintptr_t)(t == NULL);
    return (hb_object *)(((uintptr_t)t & ~z) | ((uintptr_t)nil & z));
#endif
}

/* How far ahead the array passes prefetch: about the objects in flight
 * that hide an L2 miss behind one object's work. */
#define AHEAD 8
/* Only for a set that fits the caches (a young generation, scattered by
 * the allocator's reuse): a larger one was allocated in address order,
 * which the hardware prefetcher follows better (measured: the cycles
 * benchmark's 10^6 objects took ~25% longer with it). */
#define PREFETCH_MAX ((size_t)1 << 15)
/* delete_sparse is tried when the references from outside the set are at
 * most one per SPARSE objects */
#define SPARSE 8

/* gather_count's pass over the array, last to first. `big`: a set larger
 * than PREFETCH_MAX, not prefetched, and the only one whose counts and
 * internal references are added up and whose plainness is noted, for
 * delete_all and delete_sparse (in a generation-0 pause, cache-resident,
 * the skipped pass would save little, and the sums and plainness cost a
 * fifth of this one: few_roots samples instead). */
static inline __attribute__((always_inline)) void count_array(pass *p, hb_object **v, size_t k,
                                                              int big)
{
    uint64_t rc_sum = 0, in_sum = 0;
    uintptr_t not_plain = !big;
    for (size_t i = k; i-- > 0;) {
        if (!big && i >= AHEAD)
            prefetch_object(v[i - AHEAD]);
        hb_object *o = v[i];
        if (big)
            rc_sum += o->refcnt;
        if (hb_kindof(o) == HB_K_NODE) {
            hb_node *nd = (hb_node *)o;
            if (big)
                not_plain |= not_plain_node(o);
            for (hb_object **f = nd->fields, **e = hb_node_end(o); f < e; f++) {
                hb_object *t = nil_or(*f, &p->nil);
                uint8_t y = p->young[t->gen];
                t->gc_refs += y;
                if (big)
                    in_sum += y;
            }
        } else if (big) {
            not_plain = 1;
            p->in_sum = 0;
            TRAVERSE(o, visit_count_sum, p);
            in_sum += p->in_sum;
        } else {
            TRAVERSE(o, visit_count, p);
        }
    }
    p->rc_sum = rc_sum;
    p->in_sum = in_sum;
    p->not_plain = not_plain;
    p->sums = big;
}

/* Whether a set counted without sums (count_array) may have few roots:
 * at most one in SPARSE of SAMPLE objects spread over it is one. A
 * guess for delete_sparse, which gives up when it is wrong. */
#define SAMPLE 64
static int few_roots(hb_object *const *a, size_t n)
{
    size_t step = n / SAMPLE + 1, looked = 0, roots = 0;
    for (size_t j = 0; j < n; j += step, looked++)
        roots += counted_root(a[j]);
    return roots * SPARSE <= looked;
}

/* GATHER and COUNT_REFS: count over the n objects of `a`, then append every
 * object of p->list to `a`, counting as it goes (a list walk cannot
 * prefetch; it is the older generations' part, only in gen 1 and 2
 * collections). ENOMEM if `a` cannot grow: *n says how far it got. The
 * array is counted last to first, so the next pass, move_array, starts
 * where this one left the caches warm, and delete_plain turns back again:
 * a set larger than the caches is swept back and forth, each sweep
 * starting where the previous one left the caches warm, rather than three
 * times from a cold start (the array of such a set was filled in
 * allocation order, mostly address order). */
static int gather_count(hb_heap *h, pass *p, hb_object ***a, size_t *cap, size_t *n)
{
    hb_object **v = *a;
    size_t k = *n;
    if (k <= PREFETCH_MAX)
        count_array(p, v, k, 0);
    else
        count_array(p, v, k, 1);
    for (hb_object *o = p->list->gc_next; o != p->list; o = o->gc_next) {
        if (k == *cap) {
            if (array_grow(h, a, cap, k + 1)) {
                *n = k;
                return ENOMEM;
            }
            v = *a;
        }
        v[k++] = o;
        p->not_plain = p->from_lists = 1; /* the older generations' part: no delete_all */
        TRAVERSE(o, visit_count, p);
    }
    *n = k;
    return 0;
}

/* A survivor from generation 0's array joins the older generation when it
 * is scanned -- a root in array order, pulled-back objects in the order
 * they were pulled back (gray is read first in, first out) -- so the list
 * keeps the array's order (allocation order, mostly). Linked at the end
 * instead (and gray read as a stack), pulled-back objects left a list of
 * objects built in a loop with its first items at the generation's tail,
 * reversed, and the next full collection's walk met them last (see
 * cursor_items). One from a list stays linked. */
static inline void survivor_link(hb_object *in_young, hb_object **tail, hb_object *o)
{
    if (LIKELY(o->gc_prev == in_young)) {
        o->gc_prev = *tail;
        (*tail)->gc_next = o;
        *tail = o;
    }
}

/* A reachable object's referent: reachable. If the pass already left it
 * tentatively unreachable it is pulled back and must be scanned: onto gray
 * with the survivors' gen byte, or, if gray cannot grow, marked 0 (in the
 * set, gc_refs 0: reachable, unscanned) for the rescan in move_array. */
static inline void visit_reachable_array(hb_object *t, void *arg)
{
    pass *p = arg;
    if (!p->young[t->gen])
        return;
    t->gc_refs = 0;
    if (t->gen == p->unreach) {
        t->gen = p->done;
        t->refcnt--; /* move_array's hold on the tentatively unreachable */
        if (hb_objstack_push(p->h, p->gray, t)) {
            t->gen = 0;
            p->lost = 1;
        }
    }
}

/* What a root's scan pulled back, and the scans of other types: out of
 * line, so the common case below stays small enough to inline. */
static __attribute__((noinline)) void scan_slow(pass *p, hb_object *o)
{
    if (o)
        TRAVERSE(o, visit_reachable_array, p);
    /* first in, first out: survivors are linked in the order they were
     * pulled back (survivor_link) */
    for (size_t i = 0; i < p->gray->n; i++) {
        hb_object *t = p->gray->v[i];
        survivor_link(p->in_young, &p->tail, t);
        TRAVERSE(t, visit_reachable_array, p);
    }
    p->gray->n = 0;
}

/* *tail: move_array's, in a register; p->tail while scan_slow links. */
static inline void scan_reachable(pass *p, hb_object *o, hb_object **tail)
{
    if (LIKELY(hb_kindof(o) == HB_K_NODE)) {
        /* most referents are outside the set or already done: one
         * predictable test each, None folded onto p->nil (not young) */
        hb_node *nd = (hb_node *)o;
        for (hb_object **f = nd->fields, **e = hb_node_end(o); f < e; f++) {
            hb_object *t = nil_or(*f, &p->nil);
            if (UNLIKELY(p->young[t->gen]))
                visit_reachable_array(t, p);
        }
        if (LIKELY(!p->gray->n))
            return;
        o = NULL;
    }
    p->tail = *tail;
    scan_slow(p, o);
    *tail = p->tail;
}

/* MOVE_UNREACHABLE over `a`, a block at a time. First the block is
 * classified without a branch: refcnt > gc_refs means reachable from
 * outside (a root: the survivors' gen byte, gc_refs 0), otherwise
 * tentatively unreachable, compacted at the front of `a` (slots already
 * passed). Then the block's roots are scanned: what they reach ahead gets
 * gc_refs 0 (a root when its block comes), what they reach behind is
 * pulled back and scanned. Reachability is the closure of the roots, so
 * the order is free; the split is for speed: in a young generation
 * reachable and unreachable objects interleave at random, and a branch on
 * it mispredicts for half of them (measured: the branch-per-object form of
 * this pass cost ~6 ns per object, twice a plain walk). A root that came
 * from generation 0's array joins `old` as it is scanned; one from a list
 * stays linked. Each tentatively unreachable object is held (refcnt + 1)
 * until DELETE or settle_front. Whether each is a plain node is noted as
 * it is classified, and SEEN_* of the front (which may say yes wrongly for
 * one pulled back, never no) is taken only when some is not. No prefetch here: gather_count
 * has just brought the set into L2 (with it or without, the same time per
 * generation-0 pause; without, a shorter loop). Returns how many objects
 * the front holds. */
#define BLOCK 64
static size_t move_array(pass *p, hb_object **a, size_t n, hb_object *old)
{
    size_t k = 0;
    unsigned seen = 0, odd = 0;
    const uint8_t gens[2] = {p->unreach, p->done};
    /* survivors from the array are linked after `tail`, and `old` closed
     * once at the end: nothing else touches `old` during the pass */
    hb_object *tail = old->gc_prev, *in_young = p->in_young;
    for (size_t i = 0; i < n; i += BLOCK) {
        hb_object *roots[BLOCK];
        size_t e = n - i < BLOCK ? n : i + BLOCK, nr = 0, k0 = k;
        for (size_t j = i; j < e; j++) {
            hb_object *o = a[j];
            uint64_t w = counts_get(o), rc = (uint32_t)w, r = rc > w >> 32;
            o->gen = gens[r];
            /* gc_refs 0 for both: a root's is done with, and nothing
             * reads an unreachable object's again (DELETE, settle_front
             * and RESURRECT set it before use) */
            counts_set(o, (uint32_t)(rc + 1 - r));
            a[k] = o;
            k += r ^ 1;
            roots[nr] = o;
            nr += r;
        }
        /* whether the block's tentatively unreachable objects are all
         * plain nodes (in L1 still, and in a young generation fewer than
         * all); their SEEN_* only if not, below */
        for (size_t j = k0; j < k; j++)
            odd |= not_plain_node(a[j]);
        for (size_t j = 0; j < nr; j++) {
            hb_object *o = roots[j];
            survivor_link(in_young, &tail, o);
            scan_reachable(p, o, &tail);
        }
    }
    /* only when gray could not grow: the objects marked 0 are at the
     * front; scan them until none is left (each round marks some done) */
    while (p->lost) {
        p->lost = 0;
        for (size_t j = 0; j < k; j++)
            if (a[j]->gen == 0) {
                a[j]->gen = p->done;
                survivor_link(in_young, &tail, a[j]);
                scan_reachable(p, a[j], &tail);
            }
    }
    tail->gc_next = old;
    old->gc_prev = tail;
    /* plain nodes have no SEEN_* (no legacy finalizer or finalizer in
     * their class, no weakref) */
    if (odd)
        for (size_t j = 0; j < k; j++)
            seen |= seen_bits(a[j]);
    p->seen = seen;
    p->not_plain = odd;
    return k;
}

/* Where a front object that was pulled back goes: `old` if it came from
 * generation 0's array; one from a list is still linked. */
static inline void pulled_back(rcgen_state *s, hb_object *o, hb_object *old)
{
    if (o->gc_prev == &s->in_young)
        hb_gclist_append(old, o);
}

/* The front of `a` after move_array, when some garbage may have a
 * finalizer, weakrefs or a legacy finalizer: the unreachable objects, let
 * go, form the `unreachable` list for the states that need one. Returns
 * how many. */
static size_t settle_front(rcgen_state *s, pass *p, hb_object **a, size_t k, hb_object *old,
                           hb_object *unreachable)
{
    size_t m = 0;
    for (size_t j = 0; j < k; j++) {
        hb_object *o = a[j];
        if (o->gen == p->done) {
            pulled_back(s, o, old);
            continue;
        }
        if (o->gc_prev != &s->in_young)
            hb_gclist_remove(o);
        o->refcnt--;
        hb_gclist_append(unreachable, o);
        m++;
    }
    return m;
}

/* Frees of one DELETE, counted once at its end (hb_heap_freed), and the
 * allocator's free, read once for the pass. */
typedef struct freed {
    uint64_t n, bytes;
    void (*release)(void *state, void *p, size_t size);
    void *state;
} freed;

static inline freed freed_start(const hb_heap *h)
{
    return (freed){0, 0, h->obj_alloc->free, h->obj_alloc_state};
}

/* o's block back to the allocator (hb_object_free_block), counted. */
static inline void free_counted(freed *f, hb_object *o)
{
    f->n++;
    f->bytes += o->size;
    f->release(f->state, o, o->size);
}

/* The end of a DELETE that freed with free_counted: the heap's counters,
 * and generation 0's count as each free's untrack would have left it. */
static inline void freed_count(hb_heap *h, rcgen_state *s, const freed *f)
{
    hb_heap_freed(h, f->n, f->bytes);
    long c = s->gen[0].count;
    s->gen[0].count = c > (long)f->n ? c - (long)f->n : 0;
}

/* The last of an object of plain garbage, cleared and held by us alone:
 * hb_decref's path without its queue (nothing here can run code) and
 * rcgen_untrack's without its call: in an array, not in generation 0's,
 * it has nothing to unlink (generation 0's count is settled by the
 * caller, as the counters are). */
static inline void free_cleared(hb_heap *h, hb_object *o, freed *f)
{
    if (hb_kindof(o) != HB_K_NODE) { /* a cleared node owns nothing, and is gone */
        o->refcnt = 0;
        o->flags |= HB_OF_DEAD;
        o->gen = HB_GEN_NONE;
        o->gc_next = o->gc_prev = NULL;
        hb_typeof(o)->clear(h, o, 1);
    }
    free_counted(f, o);
}

static inline int plain_object(const hb_object *o)
{
    return !(seen_bits(o) & (SEEN_WEAKREFD | SEEN_FINALIZER));
}

/* DELETE for plain garbage (no finalizer, weakref or legacy finalizer in
 * it), from the front of `a`, where move_array left every tentatively
 * unreachable object held. One pass clears each object and frees it at
 * once if our hold is then its only reference: nothing can still refer to
 * it, the objects before it being cleared and those after it counting.
 * The others (referred to by garbage not yet cleared, or from outside)
 * are compacted at the end of the front, marked GEN_CLEARED with their
 * slot in gc_next, and freed as soon as the clear of a later object drops
 * their last reference but our hold -- the other half of a 2-node cycle,
 * still in cache, instead of a second pass that misses on it again. What
 * is left is settled in a second pass: freed or, if someone else still
 * refers to it, survivors in `old`. Held, no object can die under the
 * pass, so the array needs no unlinking as the list walk did. The pass
 * runs last to first, starting where move_array left the caches warm (see
 * gather_count). Returns how many objects were unreachable. */
static size_t delete_plain(hb_heap *h, rcgen_state *s, pass *p, hb_object **a, size_t k,
                           hb_object *old)
{
    size_t m = 0, top = k; /* a[top..k): cleared, not freed */
    freed f = freed_start(h);
    size_t pf_from = k <= PREFETCH_MAX ? AHEAD : SIZE_MAX;
    for (size_t j = k; j-- > 0;) {
        if (j >= pf_from)
            prefetch_object(a[j - AHEAD]);
        hb_object *o = a[j];
        if (o->gen == p->done) {
            pulled_back(s, o, old);
            continue;
        }
        if (o->gc_prev != &s->in_young) {
            hb_gclist_remove(o);
            o->gc_prev = &s->in_young; /* as in an array: untrack unlinks nothing */
        }
        m++;
        if (hb_kindof(o) == HB_K_NODE) {
            /* node_clear (types.c), inline as TRAVERSE is */
            hb_node *nd = (hb_node *)o;
            for (hb_object **fp = nd->fields, **e = hb_node_end(o); fp < e; fp++) {
                hb_object *v = *fp;
                *fp = NULL;
                if (v && v->gen == GEN_CLEARED && v->refcnt == 2) {
                    /* cleared, kept for this reference: now ours alone */
                    size_t at = (uintptr_t)v->gc_next;
                    if (at == top)
                        top++;
                    else
                        a[at] = NULL;
                    free_cleared(h, v, &f);
                } else {
                    hb_decref(h, v);
                }
            }
        } else {
            hb_typeof(o)->clear(h, o, 0);
        }
        if (!plain_object(o)) {
            a[--top] = o;
        } else if (o->refcnt == 1) {
            free_cleared(h, o, &f);
        } else {
            a[--top] = o;
            if (!(o->flags & HB_OF_SHARED)) { /* shared counts: the decref's way */
                o->gen = GEN_CLEARED;
                o->gc_next = (hb_object *)(uintptr_t)top;
            }
        }
    }
    for (size_t j = top; j < k; j++) {
        hb_object *o = a[j];
        if (!o)
            continue;
        if (o->refcnt > 1) {
            o->gen = p->done;
            o->gc_refs = 0;
            hb_gclist_append(old, o);
        } else if (plain_object(o)) {
            free_cleared(h, o, &f);
            continue;
        }
        hb_decref(h, o);
    }
    freed_count(h, s, &f);
    return m;
}

/* DELETE for a set whose garbage is all plain nodes (not_plain_node 0),
 * each counted by the references other garbage holds to it plus `hold`:
 * 0 for delete_all and delete_sparse (the counts of a set that nothing
 * outside refers to, or of what its few roots do not reach), 1 for the
 * front move_array left (held, see delete_plain). An object of the set
 * with the survivors' gen byte is skipped: marked by delete_sparse, or
 * pulled back into the front (then it joins `old`). MOVE_UNREACHABLE
 * would find the rest unreachable; this pass clears the nodes: a
 * reference from inside the garbage is dropped by a plain decrement,
 * never a deallocation, and an object is freed once it is cleared and its
 * count is `hold` -- at its own clear, or at the clear of the last node
 * referring to it (GEN_CLEARED meanwhile). A reference to a survivor, or
 * outside the set, is dropped by hb_decref. Each object is touched once:
 * the 2-node cycles benchmark went from three sweeps to two. `backward`:
 * last to first, where move_array left the caches warm (see
 * gather_count). Only on an isolated heap (a shared heap's counts go
 * through shared.c). Returns how many objects were freed. */
static inline __attribute__((always_inline)) size_t
delete_nodes(hb_heap *h, rcgen_state *s, pass *p, hb_object **a, size_t n, uint32_t hold,
             int backward, hb_object *old)
{
    freed f = freed_start(h);
    uint8_t done = p->done;
    size_t pf = n <= PREFETCH_MAX && n > AHEAD ? n - AHEAD : 0;
    p->young[GEN_CLEARED] = 1;
    for (size_t i = 0; i < n; i++) {
        size_t j = backward ? n - 1 - i : i;
        if (i < pf)
            prefetch_object(a[backward ? j - AHEAD : j + AHEAD]);
        hb_object *o = a[j];
        if (UNLIKELY(o->gen == done)) {
            pulled_back(s, o, old);
            continue;
        }
        hb_node *nd = (hb_node *)o;
        for (hb_object **fp = nd->fields, **e = hb_node_end(o); fp < e; fp++) {
            hb_object *v = *fp;
            if (!v)
                continue;
            *fp = NULL;
            if (p->young[v->gen]) {
                if (--v->refcnt == hold && v->gen == GEN_CLEARED)
                    free_counted(&f, v);
            } else {
                hb_decref(h, v);
            }
        }
        if (o->refcnt == hold)
            free_counted(&f, o);
        else
            o->gen = GEN_CLEARED;
    }
    p->young[GEN_CLEARED] = 0;
    freed_count(h, s, &f);
    return f.n;
}

/* DELETE when the whole set is garbage that nothing outside refers to
 * (gather_count's sums: each object's count is at least the references
 * inside the set, so each equals them), all plain nodes: MOVE_UNREACHABLE
 * is skipped. */
static size_t delete_all(hb_heap *h, rcgen_state *s, pass *p, hb_object **a, size_t n,
                         hb_object *old)
{
    return delete_nodes(h, s, p, a, n, 0, 0, old);
}

/* The front move_array left when it is all plain nodes from generation
 * 0's array (held: delete_plain's job, in delete_nodes' one pass). */
static size_t delete_front(hb_heap *h, rcgen_state *s, pass *p, hb_object **a, size_t k,
                           hb_object *old)
{
    return delete_nodes(h, s, p, a, k, 1, 1, old);
}

/* Marks t reachable (delete_sparse): the survivors' gen byte, queued to be
 * scanned. If the queue cannot grow, unmarked again and p->lost set. */
static inline void visit_mark(hb_object *t, void *arg)
{
    pass *p = arg;
    if (!p->young[t->gen])
        return; /* outside the set, or marked */
    t->gen = p->done;
    if (hb_objstack_push(p->h, p->gray, t)) {
        t->gen = 0;
        p->lost = 1;
    }
}

/* COUNT_REFS left few references from outside the set (rc_sum - in_sum,
 * an upper bound, for a large set; few_roots' samples for a small one), so
 * few roots: find them, mark what they reach, and delete the rest with
 * delete_all, skipping
 * MOVE_UNREACHABLE's pass that writes every object (its gen, its hold,
 * its slot). A generation-0 pause of a program that makes cyclic garbage
 * (CPython's own gc callbacks show ~700 objects freed of ~700 examined)
 * is mostly this. The roots' pass only reads; the marked objects are
 * queued on gray. If the marked set grows past a quarter of the set, gray
 * cannot grow, or some object left unmarked is not a plain node, the marks
 * are undone and SIZE_MAX returned: move_array runs as usual (the counts
 * are untouched). Otherwise the marked objects join `old` in the order
 * they were marked, each held (refcnt + 1) while delete_all runs -- a
 * reference from garbage to an old object may be the old object's last,
 * and its deallocation may drop a marked object's last: held, the object
 * outlives the pass that skips it -- then let go. Every object of the set
 * comes from generation 0's array (gen byte 0). Returns how many objects
 * were freed. */
static size_t delete_sparse(hb_heap *h, rcgen_state *s, pass *p, hb_object **a, size_t n,
                            hb_object *old)
{
    hb_objstack *q = p->gray; /* empty */
    size_t odd = 0; /* objects that are not plain nodes */
    for (size_t j = 0; j < n; j++) {
        hb_object *o = a[j];
        odd += not_plain_node(o);
        if (UNLIKELY(counted_root(o)))
            visit_mark(o, p);
    }
    for (size_t i = 0; i < q->n && !p->lost && q->n <= n / 4; i++)
        TRAVERSE(q->v[i], visit_mark, p);
    for (size_t i = 0; i < q->n; i++)
        odd -= not_plain_node(q->v[i]);
    if (p->lost || q->n > n / 4 || odd) {
        for (size_t i = 0; i < q->n; i++)
            q->v[i]->gen = 0;
        q->n = 0;
        p->lost = 0;
        return SIZE_MAX;
    }
    hb_object *tail = old->gc_prev, *in_young = p->in_young;
    for (size_t i = 0; i < q->n; i++) {
        hb_object *o = q->v[i];
        o->refcnt++;
        o->gc_refs = 0;
        survivor_link(in_young, &tail, o);
    }
    tail->gc_next = old;
    old->gc_prev = tail;
    size_t m = delete_all(h, s, p, a, n, old);
    for (size_t i = 0; i < q->n; i++)
        hb_decref(h, q->v[i]);
    q->n = 0;
    return m;
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

/* Shared heap, biased counts: gc_refs of the set's objects back to 0, the
 * shared count they were folded with (see hb_shared_fold). */
static void zero_scratch(hb_object *list)
{
    for (hb_object *o = list->gc_next; o != list; o = o->gc_next)
        o->gc_refs = 0;
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
    p.nil.gen = HB_GEN_NONE;

    /* the array passes when the set is mostly generation 0's array; a set
     * mostly on lists (a full collection of a settled heap) is walked in
     * list order, which is mostly address order, and copying it into the
     * array would only add traffic */
    int counted = 0, use_array = gen == 0 || hb_gclist_empty(young);
    size_t examined, legacy = 0, plain = 0;
    if (use_array && !(counted = 1, gather_count(h, &p, &a, &cap, &n))) {
        examined = n;
        size_t ext = (size_t)(p.rc_sum - p.in_sum), got = SIZE_MAX;
        if (p.sums && !p.not_plain && !ext && !h->sh) {
            plain = 1;
            p.moved = delete_all(h, s, &p, a, n, old);
        } else if (!h->sh && !p.from_lists &&
                   (p.sums ? ext <= n / SPARSE : few_roots(a, n)) &&
                   (got = delete_sparse(h, s, &p, a, n, old)) != SIZE_MAX) {
            plain = 1;
            p.moved = got;
        } else {
            size_t k = move_array(&p, a, n, old);
            if (biased) /* counts are changed from here on: no scratch may pass for a count */
                for (size_t j = 0; j < k; j++)
                    a[j]->gc_refs = 0;
            if (!p.seen && !p.not_plain && !p.from_lists && !h->sh) {
                plain = 1;
                p.moved = delete_front(h, s, &p, a, k, old);
            } else if (!p.seen) {
                plain = 1;
                p.moved = delete_plain(h, s, &p, a, k, old);
            } else {
                p.moved = settle_front(s, &p, a, k, old, &unreachable);
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
        examined = count_refs(&p);
        move_unreachable(&p, &unreachable);
        if (biased)
            zero_scratch(&unreachable);
    }
    if (p.seen & SEEN_LEGACY) {
        legacy = move_legacy_finalizers(&unreachable, &finalizers);
        if (biased)
            zero_scratch(&finalizers);
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
        if (weakrefs_and_finalizers(h, &unreachable, p.seen)) {
            handle_resurrected(&unreachable, &still, old, p.done);
            doomed = &still;
            if (biased)
                zero_scratch(&still);
        }
        delete_garbage(h, doomed, old, p.done);
    }
    size_t nl = handle_legacy(h, &finalizers, old, p.done);
    /* the array is the spare again (nothing took the spare meanwhile) */
    s->spare = a;
    s->spare_cap = cap;

    h->stats[gen].collections++;
    h->stats[gen].collected += m;
    h->stats[gen].uncollectable += nl;
    h->collecting = 0;

    hb_gc_event ev = {t0, hb_now_ns() - t0, gen, examined, m + nl, 0};
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
    .due = rcgen_due,
    .shared_ok = 1,
};
