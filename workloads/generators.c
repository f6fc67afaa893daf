/* generators.c -- summing a stream of ints produced one at a time against
 * materialising the whole list first: constant memory against memory in
 * proportion to n.
 *
 * The documents' two shapes, for the same n:
 *
 *   stream   def generate_numbers(n):       list   lst = [i for i in range(n)]
 *                for item in range(n):             total = 0
 *                    yield item                    for x in lst:
 *            total = 0                                 total += x
 *            for x in generate_numbers(n):         del lst
 *                total += x
 *
 * The generator is an object whose frame holds the item it yielded last;
 * each item past 256 is a fresh int, and so is every running total past
 * 253 (ints are immutable: total += x makes a new one). Streaming, each
 * item dies when the next replaces it, so on rc and rcgen the live objects
 * stay at a handful whatever n is; the list keeps all n items (and an item
 * array of 8n bytes) alive until it is deleted. `mode` 2 runs the stream
 * first and the list after, so the cell's RSS series (NAME.rss.csv,
 * sampled every 10 ms) shows a flat stretch and then the list's ramp;
 * modes 0 and 1 give one shape per cell, for comparing `peak_rss_kb`.
 *
 * What to expect: rc and rcgen stream in constant memory and free the
 * list's items the moment it goes; marksweep and boehm let the streamed
 * garbage pile up to their heap budget before a trace (bounded, but by the
 * budget, not by the program), and trace the whole list repeatedly while
 * it grows -- `gc_count` and `pause_max_us` in list mode. `wall_s` and
 * `ops_per_s` say what materialising costs besides memory.
 *
 * Self-check: both sums are n(n-1)/2; objects allocated are exactly the
 * generator or the list, the items past 256 and the totals past 253; on
 * rc and rcgen the live objects sampled at every item while streaming
 * never exceed 3 above the start, and while the list is built they reach
 * at least its allocated items; nothing is left after the final
 * collection. check() prints each shape's peak live objects and bytes on
 * stderr, one line per thread.
 */
#include "cwl.h"

enum { P_N, P_MODE };
enum { STREAM, LIST, BOTH };

/* n = 10^7 at large is the figure (~480 MB of ints for the list,
 * per thread). One core, rcgen on glibc, both modes: small ~0.1 s, medium
 * ~0.4 s, large ~2 s. */
static const hb_param_spec gen_params[] = {
    {"n", {200000, 2000000, 10000000}, 1, INT64_C(1) << 36, "ints summed per shape per thread"},
    {"mode", {BOTH, BOTH, BOTH}, 0, 2, "0 stream (a generator), 1 list (materialised first), "
     "2 both: stream, then list"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

/* Streaming holds the generator, the item it yielded (also x) and the
 * total; a new total is made while the old one is still held. */
enum { STREAM_LIVE_MAX = 3 };

typedef struct shape {
    int ran;
    uint64_t sum;
    uint64_t allocs;
    uint64_t peak_objects, peak_bytes; /* above the live counts at its start */
} shape;

typedef struct gr_thread {
    cwl_thread c;
    shape s[2]; /* STREAM, LIST */
} gr_thread;

typedef struct generators {
    cwl c;
    hb_type gencls;
    uint64_t n;
    int mode;
} generators;

static inline void sample(const hb_heap *h, uint64_t objects0, uint64_t bytes0, shape *s)
{
    /* a tracer may sweep garbage older than the shape: counts can drop below the start */
    if (h->live_objects > objects0 && h->live_objects - objects0 > s->peak_objects)
        s->peak_objects = h->live_objects - objects0;
    if (h->live_bytes > bytes0 && h->live_bytes - bytes0 > s->peak_bytes)
        s->peak_bytes = h->live_bytes - bytes0;
}

/* total = total + x */
static int add(hb_heap *h, hb_object **total, hb_object *x)
{
    hb_set_new(h, total, hb_int_new(h, hb_int_value(*total) + hb_int_value(x)));
    return *total ? 0 : ENOMEM;
}

static int stream(hb_heap *h, generators *g, gr_thread *t, hb_counts *out)
{
    shape *s = &t->s[STREAM];
    hb_scope sc;
    hb_scope_enter(h, &sc);
    hb_object **gen = hb_var(h), **x = hb_var(h), **total = hb_var(h);
    uint64_t allocs0 = h->allocs, objects0 = h->live_objects, bytes0 = h->live_bytes;
    int err = 0;
    hb_set_new(h, gen, hb_node_new(h, &g->gencls, 1)); /* gen = generate_numbers(n) */
    hb_set_new(h, total, hb_int_new(h, 0));
    if (!*gen)
        err = ENOMEM;
    for (uint64_t i = 0; i < g->n && !err; i++) {
        hb_op_begin(&out->lat); /* one op: x = next(gen); total += x */
        hb_object *item = hb_int_new(h, (int64_t)i);
        if (!item) {
            err = ENOMEM;
            hb_op_end(&out->lat);
            break;
        }
        hb_node_set_new(h, *gen, 0, item); /* the frame's `item` */
        hb_set(h, x, item);
        err = add(h, total, *x);
        hb_op_end(&out->lat);
        sample(h, objects0, bytes0, s);
        t->c.ops++;
    }
    if (!err) {
        hb_node_set(h, *gen, 0, NULL); /* StopIteration: the frame lets go */
        s->sum = (uint64_t)hb_int_value(*total);
        s->ran = 1;
    }
    s->allocs = h->allocs - allocs0;
    hb_scope_leave(h, &sc);
    return err;
}

static int materialise(hb_heap *h, generators *g, gr_thread *t, hb_counts *out)
{
    shape *s = &t->s[LIST];
    hb_scope sc;
    hb_scope_enter(h, &sc);
    hb_object **lst = hb_var(h), **x = hb_var(h), **total = hb_var(h);
    uint64_t allocs0 = h->allocs, objects0 = h->live_objects, bytes0 = h->live_bytes;
    int err = 0;
    hb_set_new(h, lst, hb_list_new(h)); /* lst = [i for i in range(n)] */
    if (!*lst)
        err = ENOMEM;
    for (uint64_t i = 0; i < g->n && !err; i++) {
        hb_op_begin(&out->lat); /* one op: lst.append(i) */
        err = hb_list_append_new(h, *lst, hb_int_new(h, (int64_t)i));
        hb_op_end(&out->lat);
        sample(h, objects0, bytes0, s);
    }
    hb_set_new(h, total, hb_int_new(h, 0));
    for (uint64_t i = 0; i < g->n && !err; i++) {
        hb_op_begin(&out->lat); /* one op: x = lst[i]; total += x */
        hb_set(h, x, hb_list_get(*lst, i));
        err = add(h, total, *x);
        hb_op_end(&out->lat);
        t->c.ops++;
    }
    if (!err) {
        s->sum = (uint64_t)hb_int_value(*total);
        s->ran = 1;
    }
    hb_del(h, lst);
    s->allocs = h->allocs - allocs0;
    hb_scope_leave(h, &sc);
    return err;
}

static int gr_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(generators), sizeof(gr_thread), w);
    if (err)
        return err;
    generators *g = *w;
    hb_class_init(&g->gencls, "generator", NULL, NULL, 0);
    g->n = (uint64_t)ctx->param[P_N];
    g->mode = (int)ctx->param[P_MODE];
    return 0;
}

static int gr_run(void *w, int tid, hb_counts *out)
{
    generators *g = w;
    gr_thread *t = cwl_at(&g->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    int err = 0;
    if (g->mode != LIST)
        err = stream(h, g, t, out);
    if (g->mode != STREAM && !err)
        err = materialise(h, g, t, out);
    return cwl_end(&t->c, h, out, err);
}

/* Values in [0, n) past 256, and running totals i(i+1)/2 past 256 (from
 * i = 23: 22 * 23 / 2 = 253, 23 * 24 / 2 = 276). */
static uint64_t shape_allocs(uint64_t n)
{
    return 1 + (n > 257 ? n - 257 : 0) + (n > 23 ? n - 23 : 0);
}

static int gr_check(void *w, char *err, size_t errlen)
{
    generators *g = w;
    if (cwl_check_done(&g->c, err, errlen))
        return 1;
    static const char *const name[2] = {"stream", "list"};
    uint64_t want_sum = g->n % 2 ? g->n * ((g->n - 1) / 2) : (g->n / 2) * (g->n - 1);
    for (int tid = 0; tid < g->c.threads; tid++) {
        gr_thread *t = cwl_at(&g->c, tid);
        fprintf(stderr, "generators: thread %d: n=%" PRIu64, tid, g->n);
        for (int k = STREAM; k <= LIST; k++)
            if (t->s[k].ran) {
                if (t->c.exact)
                    fprintf(stderr, "; %s: peak live +%" PRIu64 " objects, +%.1f KiB", name[k],
                            t->s[k].peak_objects, (double)t->s[k].peak_bytes / 1024);
                else
                    fprintf(stderr, "; %s: live objects not counted by this backend", name[k]);
            }
        fprintf(stderr, "\n");
        uint64_t allocs = 0;
        for (int k = STREAM; k <= LIST; k++) {
            const shape *s = &t->s[k];
            if (g->mode != BOTH && g->mode != k)
                continue;
            if (!s->ran || s->sum != want_sum) {
                snprintf(err, errlen, "thread %d: the %s sum is %" PRIu64 ", want n(n-1)/2 = %" PRIu64,
                         tid, name[k], s->sum, want_sum);
                return 1;
            }
            if (s->allocs != shape_allocs(g->n)) {
                snprintf(err, errlen, "thread %d: the %s allocated %" PRIu64 " objects, want %" PRIu64,
                         tid, name[k], s->allocs, shape_allocs(g->n));
                return 1;
            }
            allocs += s->allocs;
        }
        if (t->c.exact && t->c.refcounts) {
            const shape *s = &t->s[STREAM], *l = &t->s[LIST];
            if (s->ran && s->peak_objects > STREAM_LIVE_MAX) {
                snprintf(err, errlen, "thread %d: %" PRIu64 " objects live at once while streaming, "
                         "want at most %d whatever n", tid, s->peak_objects, STREAM_LIVE_MAX);
                return 1;
            }
            uint64_t items = g->n > 257 ? g->n - 257 : 0;
            if (l->ran && l->peak_objects < 1 + items) {
                snprintf(err, errlen, "thread %d: at most %" PRIu64 " objects live while the list "
                         "was built, want its %" PRIu64 " allocated items and itself", tid,
                         l->peak_objects, items);
                return 1;
            }
        }
        uint64_t ops = g->mode == BOTH ? 2 * g->n : g->n;
        if (t->c.ops != ops) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " ints summed, want %" PRIu64, tid, t->c.ops,
                     ops);
            return 1;
        }
        if (cwl_check_counts(&t->c, tid, allocs, 0, err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_generators = {
    .name = "generators",
    .doc = "generators vs range lists: sum a stream of ints made one at a time, or the whole list",
    .min_threads = 1,
    .needs_collector = 1,
    .params = gen_params,
    .setup = gr_setup,
    .run = gr_run,
    .check = gr_check,
    .teardown = cwl_teardown,
};
