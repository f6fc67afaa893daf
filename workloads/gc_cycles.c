/* gc_cycles.c -- pyperformance's bm_gc_collect: cycles made, dropped, and
 * collected by one explicit gc.collect().
 *
 *     class Node:
 *         def link_next(self, next):
 *             self.next = next
 *             self.next.prev = self
 *
 *     def create_cycle(node, n_links):
 *         current = node
 *         for i in range(n_links):
 *             next_node = Node()
 *             current.link_next(next_node)
 *             current = next_node
 *         current.link_next(node)
 *
 *     for _ in range(loops):
 *         gc.collect()
 *         all_cycles = [Node() + create_cycle(...) for _ in range(100)]
 *         del all_cycles
 *         collected = gc.collect()         # timed
 *         assert collected >= 100 * (20 + 1)
 *
 * Each loop makes `cycles` doubly linked rings of links+1 nodes (2100 at
 * the defaults), drops them all at once and times the one collection that
 * frees them (one op, hb_op_begin/end around it). Automatic collections
 * also run while the rings are built and find nothing.
 *
 * What to expect: rc finds nothing and keeps every node (leaked_objects);
 * rcgen's full collection pays per object of the rings and per object of
 * the rest of the heap, marksweep for the (tiny) live heap plus a sweep of
 * the rings.
 *
 * Self-check: on rcgen and marksweep every timed collection found at least
 * cycles*(links+1) objects; rc's found 0 and its heap keeps every node;
 * each ring verified (links+1 steps of .next come back, .prev undoes
 * .next) before it is dropped; objects made = loops*(cycles*(links+1)+1).
 */
#include "cwl.h"

enum { P_LOOPS, P_CYCLES, P_LINKS };

/* rcgen on glibc, one core: small ~0.1 s, medium ~1 s, large ~5 s. */
static const hb_param_spec gcc_params[] = {
    {"loops", {300, 3000, 15000}, 1, INT64_C(1) << 32, "make/drop/collect rounds per thread"},
    {"cycles", {100, 100, 100}, 1, 1 << 24, "rings per round"},
    {"links", {20, 20, 20}, 0, 1 << 20, "nodes added to each ring's first (ring of links+1)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

enum { F_NEXT, F_PREV };

typedef struct gcc_thread {
    cwl_thread c;
    uint64_t min_found, max_found; /* over the timed collections */
    uint64_t bad_rings;
} gcc_thread;

typedef struct gc_cycles {
    cwl c;
    hb_type node;
    uint64_t loops, cycles, links;
} gc_cycles;

static int gcc_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(gc_cycles), sizeof(gcc_thread), w);
    if (err)
        return err;
    gc_cycles *g = *w;
    hb_class_init(&g->node, "Node", NULL, NULL, 0);
    g->loops = (uint64_t)ctx->param[P_LOOPS];
    g->cycles = (uint64_t)ctx->param[P_CYCLES];
    g->links = (uint64_t)ctx->param[P_LINKS];
    return 0;
}

static void link_next(hb_heap *h, hb_object *self, hb_object *next)
{
    hb_node_set(h, self, F_NEXT, next);
    hb_node_set(h, next, F_PREV, self);
}

static int ring_ok(hb_object *first, uint64_t n)
{
    hb_object *o = first;
    for (uint64_t i = 0; i < n; i++) {
        hb_object *next = hb_node_get(o, F_NEXT);
        if (!next || hb_node_get(next, F_PREV) != o)
            return 0;
        o = next;
    }
    return o == first;
}

static int gcc_run(void *w, int tid, hb_counts *out)
{
    gc_cycles *g = w;
    gcc_thread *t = cwl_at(&g->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    t->min_found = UINT64_MAX;
    int err = 0;

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **all = hb_var(h), **node = hb_var(h), **cur = hb_var(h), **next = hb_var(h);
    for (uint64_t l = 0; l < g->loops && !err; l++) {
        hb_collect(h, -1);
        hb_set_new(h, all, hb_list_new(h));
        err = *all ? 0 : ENOMEM;
        for (uint64_t c = 0; c < g->cycles && !err; c++) {
            hb_set_new(h, node, hb_node_new(h, &g->node, 2));
            if (!*node || (err = hb_list_append(h, *all, *node)) != 0) {
                err = err ? err : ENOMEM;
                break;
            }
            hb_set(h, cur, *node);
            for (uint64_t i = 0; i < g->links; i++) {
                hb_set_new(h, next, hb_node_new(h, &g->node, 2));
                if (!*next) {
                    err = ENOMEM;
                    break;
                }
                link_next(h, *cur, *next);
                hb_set(h, cur, *next);
            }
            if (!err)
                link_next(h, *cur, *node);
            if (!err && !ring_ok(*node, g->links + 1))
                t->bad_rings++;
        }
        hb_del(h, node);
        hb_del(h, cur);
        hb_del(h, next);
        hb_del(h, all); /* del all_cycles */
        if (err)
            break;
        hb_op_begin(&out->lat); /* one op: the collection that frees the rings */
        uint64_t found = hb_collect(h, -1);
        hb_op_end(&out->lat);
        if (found < t->min_found)
            t->min_found = found;
        if (found > t->max_found)
            t->max_found = found;
        t->c.ops++;
    }
    hb_scope_leave(h, &s);
    return cwl_end(&t->c, h, out, err);
}

static int gcc_check(void *w, char *err, size_t errlen)
{
    gc_cycles *g = w;
    if (cwl_check_done(&g->c, err, errlen))
        return 1;
    uint64_t per = g->cycles * (g->links + 1);
    for (int tid = 0; tid < g->c.threads; tid++) {
        gcc_thread *t = cwl_at(&g->c, tid);
        if (t->bad_rings) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " rings malformed", tid, t->bad_rings);
            return 1;
        }
        if (t->c.ops != g->loops) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " rounds of %" PRIu64, tid, t->c.ops, g->loops);
            return 1;
        }
        if (!t->c.finds_cycles && t->max_found != 0) {
            snprintf(err, errlen, "thread %d: a collector without cycle collection found %" PRIu64,
                     tid, t->max_found);
            return 1;
        }
        if (t->c.finds_cycles && t->c.exact && t->min_found < per) {
            snprintf(err, errlen, "thread %d: a timed collection found %" PRIu64
                     " objects, want at least %" PRIu64 " (cycles * (links + 1))", tid, t->min_found, per);
            return 1;
        }
        if (cwl_check_counts(&t->c, tid, g->loops * (per + 1),
                             t->c.finds_cycles ? 0 : g->loops * per, err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_gc_cycles = {
    .name = "gc_cycles",
    .doc = "pyperformance gc_collect: 100 cycles of 21 nodes made, dropped and gc.collect()ed",
    .min_threads = 1,
    .needs_collector = 1,
    .params = gcc_params,
    .setup = gcc_setup,
    .run = gcc_run,
    .check = gcc_check,
    .teardown = cwl_teardown,
};
