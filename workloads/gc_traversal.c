/* gc_traversal.c -- pyperformance's bm_gc_traversal: repeated full
 * collections of a heap in which nothing is garbage.
 *
 *     def create_recursive_containers(n_levels):
 *         current_list = []
 *         for n in range(n_levels):
 *             new_list = [None] * n
 *             for index in range(n):
 *                 new_list[index] = current_list
 *             current_list = new_list
 *         return current_list
 *
 *     all_cycles = create_recursive_containers(1000)
 *     for _ in range(loops):
 *         gc.collect()
 *         collected = gc.collect()      # timed
 *         assert collected == 0
 *
 * `levels` lists hold levels*(levels-1)/2 references (500k at 1000) but
 * only `levels` objects: a collection's cost here is the traversal of
 * references, not of objects, and it finds nothing to free. Each timed
 * collection is one op (hb_op_begin/end around it), so lat_p50_ns is the
 * time of one full collection; pause_* say the same from the collector's
 * side.
 *
 * What to expect: rc does nothing (no collector), so it is the floor;
 * rcgen's full collection visits every reference twice (count, then
 * move), marksweep once; boehm scans the item arrays conservatively.
 *
 * Self-check: every timed collection found 0 (on every backend: boehm's
 * count is finalizers run, also 0 here); list n holds n references to list
 * n-1, verified after the loops; objects made = levels.
 */
#include "cwl.h"

enum { P_LEVELS, P_LOOPS };

/* rcgen on glibc, one core: small ~0.1 s, medium ~1 s, large ~5 s. */
static const hb_param_spec gct_params[] = {
    {"levels", {1000, 1000, 1000}, 1, 1 << 16, "nested lists (list n holds n references to n-1)"},
    {"loops", {20, 1000, 5000}, 1, INT64_C(1) << 32, "timed full collections per thread"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

typedef struct gct_thread {
    cwl_thread c;
    uint64_t found;     /* by the timed collections: must be 0 */
    uint64_t bad_level; /* first level whose list was wrong, +1 */
} gct_thread;

typedef struct gc_traversal {
    cwl c;
    uint64_t levels, loops;
} gc_traversal;

static int gct_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(gc_traversal), sizeof(gct_thread), w);
    if (err)
        return err;
    gc_traversal *g = *w;
    g->levels = (uint64_t)ctx->param[P_LEVELS];
    g->loops = (uint64_t)ctx->param[P_LOOPS];
    return 0;
}

static int gct_run(void *w, int tid, hb_counts *out)
{
    gc_traversal *g = w;
    gct_thread *t = cwl_at(&g->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    int err = 0;

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **cur = hb_var(h), **next = hb_var(h);
    hb_set_new(h, cur, hb_list_new(h));
    err = *cur ? 0 : ENOMEM;
    for (uint64_t n = 0; n + 1 < g->levels && !err; n++) {
        hb_set_new(h, next, hb_list_new(h));
        if (!*next) {
            err = ENOMEM;
            break;
        }
        for (uint64_t i = 0; i < n + 1 && !err; i++)
            err = hb_list_append(h, *next, *cur);
        hb_set(h, cur, *next);
    }
    hb_del(h, next);
    for (uint64_t l = 0; l < g->loops && !err; l++) {
        hb_collect(h, -1);
        hb_op_begin(&out->lat); /* one op: one full collection */
        t->found += hb_collect(h, -1);
        hb_op_end(&out->lat);
        t->c.ops++;
    }
    /* walk down: list n holds n references to list n-1 */
    hb_object *l = *cur;
    for (uint64_t n = g->levels; n-- > 0 && !err && !t->bad_level;) {
        if (!l || hb_list_len(l) != n) {
            t->bad_level = n + 1;
            break;
        }
        hb_object *below = n ? hb_list_get(l, 0) : NULL;
        for (uint64_t i = 1; i < n; i++)
            if (hb_list_get(l, i) != below)
                t->bad_level = n + 1;
        l = below;
    }
    hb_scope_leave(h, &s);
    return cwl_end(&t->c, h, out, err);
}

static int gct_check(void *w, char *err, size_t errlen)
{
    gc_traversal *g = w;
    if (cwl_check_done(&g->c, err, errlen))
        return 1;
    for (int tid = 0; tid < g->c.threads; tid++) {
        gct_thread *t = cwl_at(&g->c, tid);
        if (t->found) {
            snprintf(err, errlen, "thread %d: the timed collections found %" PRIu64
                     " objects in a heap with no garbage", tid, t->found);
            return 1;
        }
        if (t->bad_level) {
            snprintf(err, errlen, "thread %d: list %" PRIu64 " does not hold its references to list %"
                     PRIu64, tid, t->bad_level - 1, t->bad_level - 2);
            return 1;
        }
        if (t->c.ops != g->loops) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " collections of %" PRIu64, tid, t->c.ops, g->loops);
            return 1;
        }
        if (cwl_check_counts(&t->c, tid, g->levels, 0, err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_gc_traversal = {
    .name = "gc_traversal",
    .doc = "pyperformance gc_traversal: full collections of 1000 nested lists, nothing to free",
    .min_threads = 1,
    .needs_collector = 1,
    .params = gct_params,
    .setup = gct_setup,
    .run = gct_run,
    .check = gct_check,
    .teardown = cwl_teardown,
};
