/* rcinc.c -- reference counting plus CPython 3.14.0's incremental cycle
 * collector (Python/gc.c at v3.14.0; InternalDocs/garbage_collector.md).
 * CPython shipped it in 3.14.0 and went back to the generational collector
 * in 3.14.5 for the memory it held; heapbench runs both (rcgen is the
 * generational one) so the trade-off shows in numbers.
 *
 * Invariant. Between collections every tracked container is on exactly one
 * of four lists, which its gen byte names: young (GEN_YOUNG), the two
 * halves of the old generation (GEN_OLD_A, GEN_OLD_B), or the permanent
 * generation (gc.freeze()). One half is `visited` (s->visited names its gen
 * byte), the other `pending`. Its gc_refs is 0. Counts are exact, as for
 * rcgen: an object in a set is reachable iff its count exceeds the
 * references the set holds to it or a reachable object of the set refers
 * to it (cycle.c's passes decide this for any set).
 *
 * A scavenge is one sweep of the old generation: every object that was
 * pending when it began is either examined in some increment or marked
 * reachable, and ends in visited; then the halves swap (visited becomes
 * the next scavenge's pending, and an empty list becomes visited).
 *
 * Each automatic collection (young count over threshold 0, 2000) is one
 * increment, reported as generation 1:
 *   BUDGET   work_to_do += young count + min(heap / 10 / threshold1,
 *            2 x young count) (CPython's assess_work_to_do; threshold1 10,
 *            below 2 counts as 2); the young count restarts at 0. If the
 *            budget is still negative (a large mark overdrew it), nothing
 *            else happens (with incremental_mark: see below).
 *   MARK     first increment of a scavenge only, and all it does: every
 *            object the roots reach that is young or pending moves to
 *            visited, as reachable, without a reachability test
 *            (mark_at_start); work_to_do loses twice the objects marked, as
 *            in CPython (mark_at_start and its caller each subtract them).
 *   ROOTS    the other increments first mark from the roots the same way
 *            (CPython's mark_stacks; its frames' `visited` flag has no
 *            counterpart in a shadow stack, whose every slot may be
 *            reassigned, so every variable is looked at: one test each for
 *            the objects already visited).
 *   GATHER   the increment is all of young plus pending objects taken from
 *            the front of pending while the increment is smaller than
 *            work_to_do; each one taken brings everything pending it
 *            reaches, transitively, so no cycle is split across
 *            increments (expand_region_transitively_reachable).
 *   COLLECT  cycle.c's states over the increment (COUNT_REFS,
 *            MOVE_UNREACHABLE, LEGACY, WEAKREFS, FINALIZE, RESURRECT,
 *            DELETE, GARBAGE); survivors join visited. work_to_do loses the
 *            increment's size.
 *   SWAP     when pending is empty, the scavenge is complete: the halves
 *            swap by flipping s->visited (the gen bytes need no pass: the
 *            permanent generation has its own byte, where CPython's shares
 *            the visited bit and so moves visited into pending when frozen
 *            objects exist), work_to_do = 0, and the next increment marks.
 *
 * With --param incremental_mark=1 (cfg.incremental_mark) the MARK state is
 * spread over increments, the TO DO of CPython's mark_at_start done: the
 * first increment of a scavenge puts what the roots reach (young or
 * pending) on a gray list (gen byte GEN_GRAY); each increment of the MARK
 * phase takes gray objects from its front, moves each to visited and puts
 * what it reaches (young or pending) on the gray list, until it has taken
 * work_to_do objects or the list is empty (then the phase is COLLECT);
 * and it collects the young generation alone into visited, as
 * gc.collect(0), so that young garbage does not pile up while the mark
 * runs; the slice is the budget left after the young generation, as
 * GATHER's is. The mark is charged once. Two more rules of 3.14.0 change
 * with it, without which a cache's turnover (server) stalls the scavenge:
 * CPython lowers the young count for every container freed, old ones
 * too, so where old objects die as fast as young ones are kept (a cache
 * replacing its entries) the young generation holds several times the
 * count at an increment (server large: 7721 at a count of 2001); charged
 * for all of it, the increment overdraws, the next ones are skipped, the
 * young generation piles up meanwhile, and the debt never leaves room for
 * pending, so the scavenge never completes and the garbage visited holds
 * stays until gc.collect(). Here the young count is the young
 * generation's size (an untrack lowers it only for a young object), and
 * an increment whose budget is negative still collects the young
 * generation (the "the whole young generation, plus a slice"),
 * its slice empty. No write barrier is needed: the mark
 * only spares objects the reachability test; an object it misses (made
 * reachable meanwhile from a visited one) stays pending and is examined
 * by a later increment, and one freed by its count while gray leaves the
 * list as it leaves any list. Not CPython's: it shows what CPython's claim
 * of an order of magnitude shorter pauses would take.
 *
 * gc.collect(0) collects young alone into visited; gc.collect(1) is one
 * increment; gc.collect(2) (and -1) collects everything as one set, then
 * completes the scavenge, as CPython's gc_collect_full.
 *
 * Objects the marks move to visited are not tested again before the
 * halves swap, so garbage among them -- an object reachable when marked,
 * dropped since, in a cycle -- is held until a later scavenge reaches it.
 * That is the memory the generational collector does not hold, and what
 * heapbench's garbage measure (--garbage-ms) shows.
 *
 * Isolated heaps only (shared_ok 0): the increment's marks read every
 * thread's roots, which a shared heap would have to stop the world for on
 * every increment; rcgen is the collector for shared heaps.
 */
#include <errno.h>
#include <string.h>

#include "cycle.h"

/* The gen byte of a tracked object; 5 up are the passes' (cycle.h). */
enum {
    GEN_YOUNG = 0,
    GEN_INC = 1,                  /* in the increment being collected */
    GEN_OLD_A = 2, GEN_OLD_B = 3, /* the old generation's halves */
    GEN_PERMANENT = 4,
    GEN_GRAY = 9, /* incremental_mark: marked, not yet scanned */
};

enum { PHASE_MARK, PHASE_COLLECT };

/* CPython's SCAN_RATE_DIVISOR: threshold1 10 scans 1% of the heap */
#define SCAN_RATE_DIVISOR 10

typedef struct rcinc_state {
    hb_object young;
    hb_object old[2]; /* by gen byte - GEN_OLD_A */
    hb_object permanent;
    hb_object gray;   /* incremental_mark: marked, not yet scanned */
    uint8_t visited;  /* GEN_OLD_A or GEN_OLD_B */
    int phase;
    int incremental_mark; /* cfg.incremental_mark */
    int mark_started;     /* incremental_mark: the roots are on the gray list */
    long threshold[HB_GENERATIONS]; /* young; threshold1 (the scan rate); unused */
    long young_count;  /* tracks minus untracks since the last increment, >= 0 */
    int64_t heap_size; /* tracked objects */
    int64_t work_to_do;
} rcinc_state;

static inline uint8_t pending_gen(const rcinc_state *s)
{
    return (uint8_t)(GEN_OLD_A + GEN_OLD_B - s->visited);
}
static inline hb_object *space(rcinc_state *s, uint8_t gen) { return &s->old[gen - GEN_OLD_A]; }

static int rcinc_init(hb_heap *h)
{
    static const long dflt[HB_GENERATIONS] = {2000, 10, 0}; /* gc.get_threshold() in 3.14 */
    rcinc_state *s = h->alloc->alloc(h->alloc_state, sizeof *s);
    if (!s)
        return ENOMEM;
    memset(s, 0, sizeof *s);
    hb_gclist_init(&s->young);
    hb_gclist_init(&s->old[0]);
    hb_gclist_init(&s->old[1]);
    hb_gclist_init(&s->permanent);
    hb_gclist_init(&s->gray);
    s->incremental_mark = h->cfg.incremental_mark;
    for (int i = 0; i < HB_GENERATIONS; i++)
        s->threshold[i] = h->cfg.threshold[i] > 0 ? h->cfg.threshold[i] : dflt[i];
    s->visited = GEN_OLD_A;
    s->phase = PHASE_MARK;
    h->gc = s;
    return 0;
}

static void rcinc_destroy(hb_heap *h)
{
    rcinc_state *s = h->gc;
    /* one list, so references between the lists are torn down together */
    hb_gclist_merge(&s->young, &s->permanent);
    hb_gclist_merge(&s->old[0], &s->permanent);
    hb_gclist_merge(&s->old[1], &s->permanent);
    hb_gclist_merge(&s->gray, &s->permanent);
    hb_teardown_list(h, &s->permanent);
    h->alloc->free(h->alloc_state, s, sizeof *s);
}

static void rcinc_track(hb_heap *h, hb_object *o)
{
    if (!hb_is_container(o))
        return;
    rcinc_state *s = h->gc;
    o->gen = GEN_YOUNG;
    hb_gclist_append(&s->young, o);
    s->young_count++;
    s->heap_size++;
}

static void rcinc_untrack(hb_heap *h, hb_object *o)
{
    rcinc_state *s = h->gc;
    /* CPython lowers the young count for any container freed; with
     * incremental_mark only for a young one, so the count is the young
     * generation's size (see the opening comment) */
    int young = o->gen == GEN_YOUNG || !s->incremental_mark;
    hb_gclist_remove(o);
    o->gen = HB_GEN_NONE;
    if (young && s->young_count > 0)
        s->young_count--;
    s->heap_size--;
}

/* ---- marking from the roots ---- */

typedef struct marker {
    rcinc_state *s;
    hb_object reachable; /* marked, not yet scanned */
    uint8_t pending;
    size_t marked;
} marker;

/* An object young or pending becomes visited and is queued to be scanned
 * (CPython's move_to_reachable and visit_add_to_container). */
static void visit_mark(hb_object *t, void *arg)
{
    marker *m = arg;
    if (t->gen != GEN_YOUNG && t->gen != m->pending)
        return;
    t->gen = m->s->visited;
    hb_gclist_move(t, &m->reachable);
    m->marked++;
}

/* Everything the roots reach that is young or pending, to visited;
 * returns how many objects moved (mark_at_start, mark_stacks). */
static size_t mark_from_roots(hb_heap *h, rcinc_state *s)
{
    marker m = {.s = s, .pending = pending_gen(s)};
    hb_gclist_init(&m.reachable);
    hb_object *visited = space(s, s->visited);
    hb_heap_roots(h, visit_mark, &m);
    while (!hb_gclist_empty(&m.reachable)) {
        hb_object *o = m.reachable.gc_next;
        hb_gclist_move(o, visited);
        TRAVERSE(o, visit_mark, &m);
    }
    return m.marked;
}

/* incremental_mark: an object young or pending goes gray. */
static void visit_gray(hb_object *t, void *arg)
{
    marker *m = arg;
    if (t->gen != GEN_YOUNG && t->gen != m->pending)
        return;
    t->gen = GEN_GRAY;
    hb_gclist_move(t, &m->s->gray);
    m->marked++;
}

/* incremental_mark: one slice of the mark, at most `budget` gray objects
 * scanned into visited (the roots first, at a scavenge's first slice).
 * Returns the objects scanned; the phase is COLLECT once none is gray. */
static size_t mark_slice(hb_heap *h, rcinc_state *s, int64_t budget)
{
    marker m = {.s = s, .pending = pending_gen(s)};
    if (!s->mark_started) {
        hb_heap_roots(h, visit_gray, &m);
        s->mark_started = 1;
    }
    hb_object *visited = space(s, s->visited);
    size_t scanned = 0;
    while (!hb_gclist_empty(&s->gray) && (int64_t)scanned < budget) {
        hb_object *o = s->gray.gc_next;
        o->gen = s->visited;
        hb_gclist_move(o, visited);
        TRAVERSE(o, visit_gray, &m);
        scanned++;
    }
    if (hb_gclist_empty(&s->gray)) {
        s->phase = PHASE_COLLECT;
        s->mark_started = 0;
    }
    return scanned;
}

/* ---- the increment ---- */

typedef struct gatherer {
    hb_object *inc;
    uint8_t pending;
    size_t n;
} gatherer;

static void visit_gather(hb_object *t, void *arg)
{
    gatherer *g = arg;
    if (t->gen != g->pending)
        return;
    t->gen = GEN_INC;
    hb_gclist_move(t, g->inc);
    g->n++;
}

/* Every object of `list` joins the set (gen byte GEN_INC), appended to inc. */
static size_t join(hb_object *list, hb_object *inc)
{
    size_t n = 0;
    for (hb_object *o = list->gc_next; o != list; o = o->gc_next, n++)
        o->gen = GEN_INC;
    hb_gclist_merge(list, inc);
    return n;
}

/* CPython's gc_collect_region over `set` (every object GEN_INC): the
 * unreachable are deleted, survivors join `to` with gen byte `done`.
 * Returns how many were collected; *uncollectable, *examined. */
static size_t collect_region(hb_heap *h, hb_object *set, hb_object *to, uint8_t done,
                             size_t *uncollectable, size_t *examined)
{
    hb_pass p = {.unreach = GEN_UNREACH, .again = GEN_INC, .done = done, .list = set, .h = h};
    p.young[GEN_INC] = p.young[GEN_UNREACH] = 1;
    hb_object unreachable, finalizers, still;
    hb_gclist_init(&unreachable);
    hb_gclist_init(&finalizers);
    hb_gclist_init(&still);
    *examined = hb_cy_count_refs(&p);
    hb_cy_move_unreachable(&p, &unreachable);
    if (set != to)
        hb_gclist_merge(set, to);
    size_t legacy = 0;
    if (p.seen & SEEN_LEGACY)
        legacy = hb_cy_move_legacy_finalizers(&unreachable, &finalizers);
    size_t m = p.moved - legacy;
    hb_object *doomed = &unreachable;
    if (hb_cy_weakrefs_and_finalizers(h, &unreachable, p.seen)) {
        hb_cy_handle_resurrected(&unreachable, &still, to, done);
        doomed = &still;
    }
    hb_cy_delete_garbage(h, doomed, to, done);
    *uncollectable = hb_cy_handle_legacy(h, &finalizers, to, done);
    return m;
}

/* The end of a scavenge: the halves swap. */
static void completed_scavenge(rcinc_state *s)
{
    /* (a full collection during an incremental mark: its gray objects were
     * in the set, and are visited now) */
    s->mark_started = 0;
    s->visited = pending_gen(s); /* the empty half */
    s->work_to_do = 0;
    s->phase = PHASE_MARK;
}

/* CPython's assess_work_to_do. */
static int64_t assess_work_to_do(rcinc_state *s)
{
    int64_t scale = s->threshold[1] < 2 ? 2 : s->threshold[1];
    int64_t fresh = s->young_count, frac = s->heap_size / SCAN_RATE_DIVISOR / scale;
    if (frac > 2 * fresh)
        frac = 2 * fresh;
    s->young_count = 0;
    return fresh + frac;
}

/* One increment: see the states above. Returns objects found unreachable;
 * *examined the objects marked or examined. */
static size_t increment(hb_heap *h, rcinc_state *s, size_t *uncollectable, size_t *examined)
{
    *uncollectable = *examined = 0;
    s->work_to_do += assess_work_to_do(s);
    /* incremental_mark: a debt empties the slice, not the increment */
    if (s->work_to_do < 0 && !s->incremental_mark)
        return 0;
    if (s->phase == PHASE_MARK && s->incremental_mark) {
        /* the slice is the budget left after young, as GATHER's is */
        int64_t left = s->work_to_do - (int64_t)hb_gclist_length(&s->young);
        size_t scanned = mark_slice(h, s, left);
        hb_object set;
        hb_gclist_init(&set);
        size_t n = 0, m = 0;
        if (!hb_gclist_empty(&s->young)) { /* young alone, into visited */
            join(&s->young, &set);
            m = collect_region(h, &set, space(s, s->visited), s->visited, uncollectable, &n);
        }
        s->work_to_do -= (int64_t)(scanned + n);
        *examined = scanned + n;
        return m;
    }
    if (s->phase == PHASE_MARK) {
        size_t marked = mark_from_roots(h, s);
        s->work_to_do -= 2 * (int64_t)marked;
        s->phase = PHASE_COLLECT;
        *examined = marked;
        return 0;
    }
    size_t marked = mark_from_roots(h, s);
    s->work_to_do -= (int64_t)marked;
    hb_object inc;
    hb_gclist_init(&inc);
    hb_object *pending = space(s, pending_gen(s));
    gatherer g = {.inc = &inc, .pending = pending_gen(s), .n = join(&s->young, &inc)};
    while ((int64_t)g.n < s->work_to_do && !hb_gclist_empty(pending)) {
        hb_object *o = pending->gc_next;
        o->gen = GEN_INC;
        hb_gclist_move(o, &inc);
        g.n++;
        /* what o reaches, transitively: the walk runs to the list's end,
         * which moves on as it appends */
        for (; o != &inc; o = o->gc_next)
            TRAVERSE(o, visit_gather, &g);
    }
    size_t n;
    size_t m = collect_region(h, &inc, space(s, s->visited), s->visited, uncollectable, &n);
    s->work_to_do -= (int64_t)g.n;
    if (hb_gclist_empty(pending))
        completed_scavenge(s);
    *examined = marked + n;
    return m;
}

static size_t collect(hb_heap *h, int gen)
{
    rcinc_state *s = h->gc;
    uint64_t t0 = hb_now_ns();
    h->collecting = 1;
    size_t m, nl = 0, examined = 0;
    hb_object *visited = space(s, s->visited);
    if (gen == 0) {
        /* young alone, into visited (gc_collect_young) */
        hb_object set;
        hb_gclist_init(&set);
        join(&s->young, &set);
        s->young_count = 0;
        m = collect_region(h, &set, visited, s->visited, &nl, &examined);
    } else if (gen == 1) {
        m = increment(h, s, &nl, &examined);
    } else {
        /* everything as one set in visited, then a complete scavenge
         * (gc_collect_full) */
        hb_object set;
        hb_gclist_init(&set);
        join(visited, &set);
        join(space(s, pending_gen(s)), &set);
        join(&s->gray, &set);
        join(&s->young, &set);
        s->young_count = 0;
        m = collect_region(h, &set, visited, s->visited, &nl, &examined);
        completed_scavenge(s);
    }
    h->stats[gen].collections++;
    h->stats[gen].collected += m;
    h->stats[gen].uncollectable += nl;
    h->collecting = 0;
    hb_gc_event ev = {.start_ns = t0, .duration_ns = hb_now_ns() - t0, .generation = gen, .examined = examined,
                      .freed = m + nl, .is_explicit = h->collect_explicit};
    hb_heap_event(h, &ev);
    return m + nl;
}

static void rcinc_maybe_collect(hb_heap *h)
{
    rcinc_state *s = h->gc;
    if (s->threshold[0] && s->young_count > s->threshold[0])
        collect(h, 1);
}

static size_t rcinc_collect(hb_heap *h, int gen) { return collect(h, gen); }

static int rcinc_due(hb_heap *h)
{
    rcinc_state *s = h->gc;
    return s->threshold[0] && s->young_count > s->threshold[0];
}

static int rcinc_freeze(hb_heap *h, int freeze)
{
    rcinc_state *s = h->gc;
    if (freeze) {
        hb_gclist_merge(&s->young, &s->permanent);
        hb_gclist_merge(&s->old[0], &s->permanent);
        hb_gclist_merge(&s->old[1], &s->permanent);
        hb_gclist_merge(&s->gray, &s->permanent);
        hb_cy_settle(&s->permanent, GEN_PERMANENT);
        s->young_count = 0;
    } else {
        hb_cy_settle(&s->permanent, s->visited);
        hb_gclist_merge(&s->permanent, space(s, s->visited));
    }
    return 0;
}

static size_t rcinc_freeze_count(hb_heap *h)
{
    rcinc_state *s = h->gc;
    return hb_gclist_length(&s->permanent);
}

static int rcinc_set_threshold(hb_heap *h, const long *t, int n)
{
    rcinc_state *s = h->gc;
    if (hb_cy_thresholds_check(t, n))
        return EINVAL;
    for (int i = 0; i < n; i++)
        s->threshold[i] = t[i];
    return 0;
}

static int rcinc_get_threshold(hb_heap *h, long *t, int n)
{
    rcinc_state *s = h->gc;
    for (int i = 0; i < n && i < HB_GENERATIONS; i++)
        t[i] = s->threshold[i];
    return 0;
}

const hb_collector hb_rcinc_collector = {
    .name = "rcinc",
    .doc = "reference counting plus CPython 3.14.0's incremental cycle collector",
    .generations = HB_GENERATIONS,
    .refcounts = 1,
    .init = rcinc_init,
    .destroy = rcinc_destroy,
    .track = rcinc_track,
    .untrack = rcinc_untrack,
    .maybe_collect = rcinc_maybe_collect,
    .collect = rcinc_collect,
    .freeze = rcinc_freeze,
    .freeze_count = rcinc_freeze_count,
    .set_threshold = rcinc_set_threshold,
    .get_threshold = rcinc_get_threshold,
    .due = rcinc_due,
    .shared_ok = 0,
    .params = "threshold,threshold1,garbage_ms,incremental_mark",
};
