/* cycle_array.c -- the cycle-detection passes over an array of objects
 * (rcgen's generation 0; see rcgen.c's opening comment for why an array,
 * and cycle.h for what is shared). */
#include <errno.h>

#include "cycle.h"

/* Arrays of objects come from h->alloc (bookkeeping, like a mark stack)
 * and keep their size: after the first collections none allocates. */
int hb_cy_array_grow(hb_heap *h, hb_object ***a, size_t *cap, size_t need)
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

/* hb_cy_gather_count's pass over the array, last to first. `big`: a set larger
 * than PREFETCH_MAX, not prefetched, and the only one whose counts and
 * internal references are added up and whose plainness is noted, for
 * hb_cy_delete_all and hb_cy_delete_sparse (in a generation-0 pause, cache-resident,
 * the skipped pass would save little, and the sums and plainness cost a
 * fifth of this one: hb_cy_few_roots samples instead). */
static inline __attribute__((always_inline)) void count_array(hb_pass *p, hb_object **v, size_t k,
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
 * guess for hb_cy_delete_sparse, which gives up when it is wrong. */
#define SAMPLE 64
int hb_cy_few_roots(hb_object *const *a, size_t n)
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
 * array is counted last to first, so the next pass, hb_cy_move_array, starts
 * where this one left the caches warm, and hb_cy_delete_plain turns back again:
 * a set larger than the caches is swept back and forth, each sweep
 * starting where the previous one left the caches warm, rather than three
 * times from a cold start (the array of such a set was filled in
 * allocation order, mostly address order). */
int hb_cy_gather_count(hb_heap *h, hb_pass *p, hb_object ***a, size_t *cap, size_t *n)
{
    hb_object **v = *a;
    size_t k = *n;
    if (k <= PREFETCH_MAX)
        count_array(p, v, k, 0);
    else
        count_array(p, v, k, 1);
    for (hb_object *o = p->list->gc_next; o != p->list; o = o->gc_next) {
        if (k == *cap) {
            if (hb_cy_array_grow(h, a, cap, k + 1)) {
                *n = k;
                return ENOMEM;
            }
            v = *a;
        }
        v[k++] = o;
        p->not_plain = p->from_lists = 1; /* the older generations' part: no hb_cy_delete_all */
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
 * set, gc_refs 0: reachable, unscanned) for the rescan in hb_cy_move_array. */
static inline void visit_reachable_array(hb_object *t, void *arg)
{
    hb_pass *p = arg;
    if (!p->young[t->gen])
        return;
    t->gc_refs = 0;
    if (t->gen == p->unreach) {
        t->gen = p->done;
        t->refcnt--; /* hb_cy_move_array's hold on the tentatively unreachable */
        if (hb_objstack_push(p->h, p->gray, t)) {
            t->gen = 0;
            p->lost = 1;
        }
    }
}

/* What a root's scan pulled back, and the scans of other types: out of
 * line, so the common case below stays small enough to inline. */
static __attribute__((noinline)) void scan_slow(hb_pass *p, hb_object *o)
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

/* *tail: hb_cy_move_array's, in a register; p->tail while scan_slow links. */
static inline void scan_reachable(hb_pass *p, hb_object *o, hb_object **tail)
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
 * until DELETE or hb_cy_settle_front. Whether each is a plain node is noted as
 * it is classified, and SEEN_* of the front (which may say yes wrongly for
 * one pulled back, never no) is taken only when some is not. No prefetch here: hb_cy_gather_count
 * has just brought the set into L2 (with it or without, the same time per
 * generation-0 pause; without, a shorter loop). Returns how many objects
 * the front holds. */
#define BLOCK 64
size_t hb_cy_move_array(hb_pass *p, hb_object **a, size_t n, hb_object *old)
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
             * reads an unreachable object's again (DELETE, hb_cy_settle_front
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
static inline void pulled_back(const hb_pass *p, hb_object *o, hb_object *old)
{
    if (o->gc_prev == p->in_young)
        hb_gclist_append(old, o);
}

/* The front of `a` after hb_cy_move_array, when some garbage may have a
 * finalizer, weakrefs or a legacy finalizer: the unreachable objects, let
 * go, form the `unreachable` list for the states that need one. Returns
 * how many. */
size_t hb_cy_settle_front(hb_pass *p, hb_object **a, size_t k, hb_object *old,
                           hb_object *unreachable)
{
    size_t m = 0;
    for (size_t j = 0; j < k; j++) {
        hb_object *o = a[j];
        if (o->gen == p->done) {
            pulled_back(p, o, old);
            continue;
        }
        if (o->gc_prev != p->in_young)
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
    uint64_t kept; /* frees that leave the count (p->keeps_count) */
    int (*keeps_count)(void *arg, const hb_object *o);
    void *keeps_arg;
} freed;

static inline freed freed_start(const hb_heap *h, const hb_pass *p)
{
    return (freed){0, 0, h->obj_alloc->free, h->obj_alloc_state, 0, p->keeps_count, p->keeps_arg};
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
static inline void freed_count(hb_heap *h, const hb_pass *p, const freed *f)
{
    hb_heap_freed(h, f->n, f->bytes);
    long c = *p->count0, d = (long)(f->n - f->kept);
    *p->count0 = c > d ? c - d : 0;
}

/* The last of an object of plain garbage, cleared and held by us alone:
 * hb_decref's path without its queue (nothing here can run code) and
 * rcgen_untrack's without its call: in an array, not in generation 0's,
 * it has nothing to unlink (generation 0's count is settled by the
 * caller, as the counters are). */
static inline void free_cleared(hb_heap *h, hb_object *o, freed *f)
{
    if (hb_kindof(o) != HB_K_NODE) { /* a cleared node owns nothing, and is gone */
        if (f->keeps_count)
            f->kept += (uint64_t)f->keeps_count(f->keeps_arg, o);
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
 * it), from the front of `a`, where hb_cy_move_array left every tentatively
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
 * runs last to first, starting where hb_cy_move_array left the caches warm (see
 * hb_cy_gather_count). Returns how many objects were unreachable. */
size_t hb_cy_delete_plain(hb_heap *h, hb_pass *p, hb_object **a, size_t k,
                           hb_object *old)
{
    size_t m = 0, top = k; /* a[top..k): cleared, not freed */
    freed f = freed_start(h, p);
    size_t pf_from = k <= PREFETCH_MAX ? AHEAD : SIZE_MAX;
    for (size_t j = k; j-- > 0;) {
        if (j >= pf_from)
            prefetch_object(a[j - AHEAD]);
        hb_object *o = a[j];
        if (o->gen == p->done) {
            pulled_back(p, o, old);
            continue;
        }
        if (o->gc_prev != p->in_young) {
            hb_gclist_remove(o);
            o->gc_prev = p->in_young; /* as in an array: untrack unlinks nothing */
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
    freed_count(h, p, &f);
    return m;
}

/* DELETE for a set whose garbage is all plain nodes (not_plain_node 0),
 * each counted by the references other garbage holds to it plus `hold`:
 * 0 for hb_cy_delete_all and hb_cy_delete_sparse (the counts of a set that nothing
 * outside refers to, or of what its few roots do not reach), 1 for the
 * front hb_cy_move_array left (held, see hb_cy_delete_plain). An object of the set
 * with the survivors' gen byte is skipped: marked by hb_cy_delete_sparse, or
 * pulled back into the front (then it joins `old`). MOVE_UNREACHABLE
 * would find the rest unreachable; this pass clears the nodes: a
 * reference from inside the garbage is dropped by a plain decrement,
 * never a deallocation, and an object is freed once it is cleared and its
 * count is `hold` -- at its own clear, or at the clear of the last node
 * referring to it (GEN_CLEARED meanwhile). A reference to a survivor, or
 * outside the set, is dropped by hb_decref. Each object is touched once:
 * the 2-node cycles benchmark went from three sweeps to two. `backward`:
 * last to first, where hb_cy_move_array left the caches warm (see
 * hb_cy_gather_count). Only on an isolated heap (a shared heap's counts go
 * through shared.c). Returns how many objects were freed. */
static inline __attribute__((always_inline)) size_t
delete_nodes(hb_heap *h, hb_pass *p, hb_object **a, size_t n, uint32_t hold,
             int backward, hb_object *old)
{
    freed f = freed_start(h, p);
    uint8_t done = p->done;
    size_t pf = n <= PREFETCH_MAX && n > AHEAD ? n - AHEAD : 0;
    p->young[GEN_CLEARED] = 1;
    for (size_t i = 0; i < n; i++) {
        size_t j = backward ? n - 1 - i : i;
        if (i < pf)
            prefetch_object(a[backward ? j - AHEAD : j + AHEAD]);
        hb_object *o = a[j];
        if (UNLIKELY(o->gen == done)) {
            pulled_back(p, o, old);
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
    freed_count(h, p, &f);
    return f.n;
}

/* DELETE when the whole set is garbage that nothing outside refers to
 * (hb_cy_gather_count's sums: each object's count is at least the references
 * inside the set, so each equals them), all plain nodes: MOVE_UNREACHABLE
 * is skipped. */
size_t hb_cy_delete_all(hb_heap *h, hb_pass *p, hb_object **a, size_t n,
                         hb_object *old)
{
    return delete_nodes(h, p, a, n, 0, 0, old);
}

/* The front hb_cy_move_array left when it is all plain nodes from generation
 * 0's array (held: hb_cy_delete_plain's job, in delete_nodes' one pass). */
size_t hb_cy_delete_front(hb_heap *h, hb_pass *p, hb_object **a, size_t k,
                           hb_object *old)
{
    return delete_nodes(h, p, a, k, 1, 1, old);
}

/* Marks t reachable (hb_cy_delete_sparse): the survivors' gen byte, queued to be
 * scanned. If the queue cannot grow, unmarked again and p->lost set. */
static inline void visit_mark(hb_object *t, void *arg)
{
    hb_pass *p = arg;
    if (!p->young[t->gen])
        return; /* outside the set, or marked */
    t->gen = p->done;
    if (hb_objstack_push(p->h, p->gray, t)) {
        t->gen = 0;
        p->lost = 1;
    }
}

/* COUNT_REFS left few references from outside the set (rc_sum - in_sum,
 * an upper bound, for a large set; hb_cy_few_roots' samples for a small one), so
 * few roots: find them, mark what they reach, and delete the rest with
 * hb_cy_delete_all, skipping
 * MOVE_UNREACHABLE's pass that writes every object (its gen, its hold,
 * its slot). A generation-0 pause of a program that makes cyclic garbage
 * (CPython's own gc callbacks show ~700 objects freed of ~700 examined)
 * is mostly this. The roots' pass only reads; the marked objects are
 * queued on gray. If the marked set grows past a quarter of the set, gray
 * cannot grow, or some object left unmarked is not a plain node, the marks
 * are undone and SIZE_MAX returned: hb_cy_move_array runs as usual (the counts
 * are untouched). Otherwise the marked objects join `old` in the order
 * they were marked, each held (refcnt + 1) while hb_cy_delete_all runs -- a
 * reference from garbage to an old object may be the old object's last,
 * and its deallocation may drop a marked object's last: held, the object
 * outlives the pass that skips it -- then let go. Every object of the set
 * comes from generation 0's array (gen byte 0). Returns how many objects
 * were freed. */
size_t hb_cy_delete_sparse(hb_heap *h, hb_pass *p, hb_object **a, size_t n,
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
    size_t m = hb_cy_delete_all(h, p, a, n, old);
    for (size_t i = 0; i < q->n; i++)
        hb_decref(h, q->v[i]);
    q->n = 0;
    return m;
}
