/* generational.c -- many short-lived objects and a few survivors: the
 * generational hypothesis, and the collector's schedule.
 *
 * The documents: objects start in generation 0; a collection runs when a
 * generation's count passes its threshold (gc.get_threshold() is (700, 10,
 * 10)); survivors move to the next generation. Each op makes one small
 * container -- a 3-tuple of small ints, or, for cyclic_pct percent of them,
 * a list holding itself (a young cycle that only the collector frees) --
 * and, with probability survive_ppm per million, stores it into a random
 * slot of a `live`-slot table, dropping what was there: survivors live for
 * about live / (ops * survive_ppm / 1e6) of the run, long enough to be
 * promoted, and then die old. Everything else dies at once.
 *
 * `threshold` is rcgen's threshold0, applied by the harness to the heap
 * (gc.set_threshold(threshold)): a sweep over it trades pause length (a
 * generation-0 collection examines up to `threshold` objects) against
 * throughput (collections per object made). Backends without thresholds
 * ignore it.
 *
 * Figures: ops_per_s against gc_count and pause_p99_us over a threshold
 * sweep; mmu_10ms. rc never collects (its young cycles leak: leaked_
 * objects); rcgen's pauses are short and many; marksweep's are few and
 * proportional to the live table.
 *
 * Self-check: objects made = ops (the ints are small); rc leaves exactly
 * the young cycles made, rcgen and marksweep nothing, having found at
 * least those; on rcgen the heap's threshold0 is the `threshold` asked for
 * and the number of collections is within what that threshold allows.
 * On a shared heap (each thread its own table, one heap, one schedule)
 * the same, for the threads' sums against the heap's figures.
 */
#include "cwl.h"

enum { P_OPS, P_SURVIVE, P_LIVE, P_CYCLIC, P_THRESHOLD };

/* rcgen on glibc, one core: small ~0.09 s, medium ~0.9 s, large ~4.5 s. */
static const hb_param_spec gen_params[] = {
    {"ops", {400000, 20000000, 100000000}, 1, INT64_C(1) << 40, "objects made per thread"},
    {"survive_ppm", {10000, 10000, 10000}, 0, 1000000,
     "survivors per million objects (stored in the live table)"},
    {"live", {10000, 10000, 10000}, 1, 1 << 24, "slots in the table of survivors"},
    {"cyclic_pct", {10, 10, 10}, 0, 100, "percent of objects that are young cycles"},
    {"threshold", {700, 700, 700}, 1, 1 << 30,
     "rcgen's threshold0 (applied by the harness to the heap config)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

typedef struct gen_thread {
    cwl_thread c;
    uint64_t cyclic, survivors;
    long threshold0; /* as the heap reports it (rcgen), -1 otherwise */
    uint64_t bad;
} gen_thread;

typedef struct generational {
    cwl c;
    uint64_t ops, survive, live, cyclic;
    long threshold;
} generational;

static int gen_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(generational), sizeof(gen_thread), w);
    if (err)
        return err;
    generational *g = *w;
    g->ops = (uint64_t)ctx->param[P_OPS];
    g->survive = (uint64_t)ctx->param[P_SURVIVE];
    g->live = (uint64_t)ctx->param[P_LIVE];
    g->cyclic = (uint64_t)ctx->param[P_CYCLIC];
    g->threshold = (long)ctx->param[P_THRESHOLD];
    return 0;
}

static int gen_run(void *w, int tid, hb_counts *out)
{
    generational *g = w;
    gen_thread *t = cwl_at(&g->c, tid);
    hb_heap *h = out->heap;
    uint64_t rng = cwl_rng(&g->c, tid);
    cwl_begin(&t->c, h);
    long th[HB_GENERATIONS];
    t->threshold0 = hb_gc_get_threshold(h, th, HB_GENERATIONS) ? -1 : th[0];
    int err = 0;

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **table = hb_var(h), **x = hb_var(h);
    hb_object *items[3];
    hb_set_new(h, table, hb_list_new(h));
    if (!*table)
        err = ENOMEM;
    for (uint64_t i = 0; i < g->live && !err; i++)
        err = hb_list_append_new(h, *table, NULL);

    for (uint64_t i = 0; i < g->ops && !err; i++) {
        uint64_t r = hb_rand(&rng);
        hb_op_begin(&out->lat); /* one op: make an object; maybe keep it */
        if ((r & 0xffff) * 100 < g->cyclic * 0x10000) {
            hb_set_new(h, x, hb_list_new(h));
            err = *x ? hb_list_append(h, *x, *x) : ENOMEM;
            t->cyclic++;
        } else {
            for (int k = 0; k < 3; k++)
                items[k] = hb_int_new(h, (int64_t)((i + (uint64_t)k) & 255));
            hb_set_new(h, x, hb_tuple_new(h, 3, items));
            if (!*x)
                err = ENOMEM;
            else if (hb_int_value(hb_tuple_get(*x, 2)) != (int64_t)((i + 2) & 255))
                t->bad++;
        }
        if (!err && ((r >> 16) & 0xfffff) * 1000000 < g->survive * 0x100000) {
            hb_list_set(h, *table, (r >> 36) % g->live, *x);
            t->survivors++;
        }
        hb_del(h, x);
        hb_op_end(&out->lat);
        t->c.ops++;
    }
    hb_scope_leave(h, &s);
    return cwl_end(&t->c, h, out, err);
}

/* rcgen's generation-0 count is container allocations minus deallocations
 * (as CPython 3.12): the tuples, dying at once, add nothing; each young
 * cycle adds one until a collection frees it -- unless it came off the
 * list free list, which takes up to 80 of the lists a collection frees and
 * hands them out again uncounted (rcgen.c, fl_take). A collection starts
 * when the count *exceeds* threshold0 (CPython's `count > threshold`), so it
 * takes threshold0 + 1 net allocations. So collections ran at most once per
 * threshold0 objects made, and at least once per threshold0 + 80 young
 * cycles not offset by a survivor's death (dividing by threshold0 alone made
 * the bound too high at threshold 1: every cell of --param threshold=1..3
 * failed). `f` holds the stats of the heap that made `ops` objects (one
 * thread's, or the shared heap of them all). */
static int check_schedule(const generational *g, const cwl_thread *f, const char *who, uint64_t ops,
                          uint64_t cyclic, uint64_t survivors, char *err, size_t errlen)
{
    uint64_t colls = f->stats[0].collections + f->stats[1].collections + f->stats[2].collections;
    uint64_t most = ops / (uint64_t)g->threshold + 1;
    uint64_t net = cyclic > survivors ? cyclic - survivors : 0;
    uint64_t least = net / ((uint64_t)g->threshold + 80) * 9 / 10;
    if (colls > most || colls < least) {
        snprintf(err, errlen, "%s: %" PRIu64 " collections at threshold0 %ld for %" PRIu64
                 " objects (%" PRIu64 " young cycles): want %" PRIu64 "..%" PRIu64, who, colls,
                 g->threshold, ops, cyclic, least, most);
        return 1;
    }
    return 0;
}

static int gen_check(void *w, char *err, size_t errlen)
{
    generational *g = w;
    if (cwl_check_done(&g->c, err, errlen))
        return 1;
    uint64_t ops = 0, cyclic = 0, survivors = 0;
    for (int tid = 0; tid < g->c.threads; tid++) {
        gen_thread *t = cwl_at(&g->c, tid);
        if (t->bad) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " tuples did not hold what was put in", tid,
                     t->bad);
            return 1;
        }
        if (cwl_check_counts(&t->c, tid, g->ops + 1, t->c.finds_cycles ? 0 : t->cyclic, err,
                             errlen) ||
            cwl_check_collected(&t->c, tid, t->cyclic, "the young cycles", err, errlen))
            return 1;
        if (t->threshold0 < 0)
            continue; /* no thresholds on this backend */
        if (t->threshold0 != g->threshold) {
            snprintf(err, errlen, "thread %d: the heap's threshold0 is %ld, the run asked for %ld "
                     "(was it applied to the heap config?)", tid, t->threshold0, g->threshold);
            return 1;
        }
        char who[32];
        snprintf(who, sizeof who, "thread %d", tid);
        ops += g->ops; /* shared: one heap, one schedule for all the threads */
        cyclic += t->cyclic;
        survivors += t->survivors;
        if (!t->c.shared && check_schedule(g, &t->c, who, g->ops, t->cyclic, t->survivors, err, errlen))
            return 1;
        if (t->c.shared && tid == g->c.threads - 1 &&
            check_schedule(g, cwl_figures(&t->c), "shared heap", ops, cyclic, survivors, err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_generational = {
    .name = "generational",
    .doc = "generations: thresholds (700, 10, 10), many short-lived objects, few survivors",
    .min_threads = 1,
    .needs_collector = 1,
    .params = gen_params,
    .heap_modes = HB_HEAP_ISOLATED | HB_HEAP_SHARED,
    .setup = gen_setup,
    .run = gen_run,
    .check = gen_check,
    .teardown = cwl_teardown,
};
