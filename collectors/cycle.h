/* cycle.h -- the cycle-detection passes the reference-counting cycle
 * collectors share (rcgen, rcinc); internal to collectors/.
 *
 * A pass set is one collection's "young" set, told by the gen byte: a
 * table (hb_pass.young) says which gen values are in it, so the passes
 * need no pass of their own to flag the set. The collectors own gen
 * values 0..4 (their generations, the permanent one); 5 up are the
 * passes' below. cycle.c has the passes over lists -- COUNT_REFS (CPython's
 * update_refs plus subtract_refs), MOVE_UNREACHABLE, the legacy
 * finalizers, weakrefs and PEP 442 finalizers, resurrection, DELETE and
 * gc.garbage -- and cycle_array.c the same passes over an array (rcgen's
 * generation 0), with their shortcuts for plain garbage. rcgen.c's opening
 * comment is the algorithm, state by state.
 */
#ifndef HB_COLLECTORS_CYCLE_H
#define HB_COLLECTORS_CYCLE_H

#include <errno.h>
#include <string.h>

#include "internal.h"

/* The passes' gen bytes. */
enum {
    GEN_UNREACH = 5,  /* in a collection's unreachable set */
    GEN_UNREACH2 = 6, /* unreachable again, in the RESURRECT pass */
    GEN_LEGACY = 7,   /* set apart: reached from a legacy finalizer */
    GEN_CLEARED = 8,  /* DELETE: cleared, held, waiting for its last reference */
};

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* delete_sparse is tried when the references from outside the set are at
 * most one per SPARSE objects */
#define SPARSE 8

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

/* Non-zero for an object hb_cy_delete_all cannot delete: not of a plain node
 * class (HB_TB_PLAIN: a finalizer, a legacy finalizer or another type),
 * or weakref'd. The same object always gives the same value, so a sum of
 * them can be taken back object by object (hb_cy_delete_sparse). Finalized
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
typedef struct hb_pass {
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
    hb_object *in_young; /* the collector's: gc_prev of an object in an array */
    long *count0;       /* the array passes lower it by the objects they free
                         * (untrack would have: rcgen's generation-0 count) */
    /* NULL, or whether the death of o, not a node, leaves *count0 as it
     * is (rcgen: CPython's free lists take it); called before its clear */
    int (*keeps_count)(void *arg, const hb_object *o);
    void *keeps_arg;
    /* hb_cy_gather_count: the set's summed refcnt and references from inside
     * it, and whether any object may not be a plain node (another type, a
     * finalizer, weakrefs): see hb_cy_delete_all; after hb_cy_move_array, whether any
     * object of its front is not (see hb_cy_delete_front) */
    uint64_t rc_sum, in_sum;
    uintptr_t not_plain;
    int from_lists;     /* some of the set came from lists (no hb_cy_delete_sparse, hb_cy_delete_front) */
    int sums;           /* hb_cy_gather_count added up rc_sum and in_sum */
    hb_object *tail;    /* hb_cy_move_array: survivors from the array are linked after it */
    hb_object nil;
} hb_pass;

static inline void visit_count(hb_object *t, void *arg)
{
    if (((hb_pass *)arg)->young[t->gen])
        t->gc_refs++;
}

/* visit_count, adding up in p->in_sum (count_array, other types) */
static inline void visit_count_sum(hb_object *t, void *arg)
{
    hb_pass *p = arg;
    uint8_t y = p->young[t->gen];
    t->gc_refs += y;
    p->in_sum += y;
}

static inline void visit_reachable(hb_object *t, void *arg)
{
    hb_pass *p = arg;
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

/* ---- cycle.c: over lists ---- */

/* COUNT_REFS over p->list: gc_refs += 1 per reference from an object of
 * the set; returns the number of objects in the set. */
size_t hb_cy_count_refs(hb_pass *p);
/* MOVE_UNREACHABLE: reachable objects stay on p->list with gen p->done and
 * gc_refs 0; the rest move to `unreachable` with gen p->unreach. */
void hb_cy_move_unreachable(hb_pass *p, hb_object *unreachable);
/* Objects that leave a collection alive join generation `gen`. */
void hb_cy_settle(hb_object *list, uint8_t gen);
/* LEGACY: unreachable objects with a legacy finalizer and all they reach
 * to `finalizers`; returns how many. */
size_t hb_cy_move_legacy_finalizers(hb_object *unreachable, hb_object *finalizers);
/* WEAKREFS and FINALIZE (as `seen` says some are needed); 1 if any
 * mutator code ran. */
int hb_cy_weakrefs_and_finalizers(hb_heap *h, hb_object *unreachable, unsigned seen);
/* RESURRECT: what is still unreachable to `still`, the rest to `old` as
 * generation `gen`. */
void hb_cy_handle_resurrected(hb_object *unreachable, hb_object *still, hb_object *old,
                              uint8_t gen);
/* DELETE: clear each object; survivors of their clear join `old`. */
void hb_cy_delete_garbage(hb_heap *h, hb_object *list, hb_object *old, uint8_t gen);
/* GARBAGE: `finalizers` to gc.garbage and `old`; returns how many. */
size_t hb_cy_handle_legacy(hb_heap *h, hb_object *finalizers, hb_object *old, uint8_t gen);
/* Shared heap, biased counts: gc_refs of the list's objects back to 0. */
void hb_cy_zero_scratch(hb_object *list);

/* ---- cycle_array.c: over an array (see rcgen.c) ---- */

/* Grow *a to hold `need` objects (doubling); ENOMEM leaves it as it was. */
int hb_cy_array_grow(hb_heap *h, hb_object ***a, size_t *cap, size_t need);
/* GATHER and COUNT_REFS over the n objects of `a` and then p->list's,
 * appended to `a`; ENOMEM if `a` cannot grow (*n says how far it got). */
int hb_cy_gather_count(hb_heap *h, hb_pass *p, hb_object ***a, size_t *cap, size_t *n);
/* Whether a set counted without sums may have few roots (a guess). */
int hb_cy_few_roots(hb_object *const *a, size_t n);
/* MOVE_UNREACHABLE over `a`: survivors from the array join `old`, the
 * tentatively unreachable are held at the front; returns how many. */
size_t hb_cy_move_array(hb_pass *p, hb_object **a, size_t n, hb_object *old);
/* The front, let go, as the `unreachable` list; returns how many. */
size_t hb_cy_settle_front(hb_pass *p, hb_object **a, size_t k, hb_object *old,
                          hb_object *unreachable);
/* DELETE of plain garbage from the front; returns how many were unreachable. */
size_t hb_cy_delete_plain(hb_heap *h, hb_pass *p, hb_object **a, size_t k, hb_object *old);
/* DELETE of a set that is all garbage of plain nodes; returns how many. */
size_t hb_cy_delete_all(hb_heap *h, hb_pass *p, hb_object **a, size_t n, hb_object *old);
/* DELETE of a front of plain nodes from the array; returns how many. */
size_t hb_cy_delete_front(hb_heap *h, hb_pass *p, hb_object **a, size_t k, hb_object *old);
/* Few roots: mark what they reach, delete the rest; SIZE_MAX if it gave
 * up (nothing changed), else how many were freed. */
size_t hb_cy_delete_sparse(hb_heap *h, hb_pass *p, hb_object **a, size_t n, hb_object *old);

/* set_threshold's check, rcgen's and rcinc's: 1..HB_GENERATIONS values, none
 * negative. 0 or EINVAL. */
static inline int hb_cy_thresholds_check(const long *t, int n)
{
    if (n < 1 || n > HB_GENERATIONS)
        return EINVAL;
    for (int i = 0; i < n; i++)
        if (t[i] < 0)
            return EINVAL;
    return 0;
}

#endif
