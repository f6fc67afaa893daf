/* tracemalloc.c -- allocation-site tracing: a pattern run with tracing on
 * and off, the top 10 sites by line, and what the tracing costs.
 *
 * The documents: tracemalloc.start(); create_list(); snapshot =
 * tracemalloc.take_snapshot(); snapshot.statistics("lineno")[:10]. Here
 * the pattern is a small request-like graph per op, in the shape server
 * and cycles build:
 *
 *     rec = Record(); rec.name = "item-<i>"; rec.id = 1000 + i
 *     rec.rows = [(k, rec.id + k) for k in range(rows)]
 *     if cyclic: rec.back = rec                  # a cycle
 *     if keep:   cache[random slot] = rec        # lives until replaced
 *
 * Every allocating expression is written TRACE(tr, expr): when tracing is
 * on, the object expr returns is entered in an address table under its
 * site (__FILE__:__LINE__, the C form of a Python frame's filename and
 * lineno), and the site's count and bytes (the object's size, from its
 * header) grow. Frees are seen the way tracemalloc sees them: tracing
 * start() puts a hook in front of the heap's object allocator
 * (PyMem_SetAllocator's role) and stop() takes it out again; a freed block
 * found in the address table is subtracted from its site. Where the
 * backend brings its own object heap (boehm) there is no such allocator to
 * hook, so frees are seen only when an address comes back from a new
 * allocation (the old object must have died for that); its snapshot is
 * closer to what was allocated than to what is live.
 *
 * A run is 2 x `passes` passes of `ops` graphs each, alternately traced
 * and untraced in ABBA order (T U U T T U ...) so drift in the machine
 * cancels, each from the same seed, so the two kinds do the same work.
 * Each pass starts with gc.collect() (outside its timing), so what dies
 * during a traced pass was born in it. At the end of the last traced pass,
 * with its cache still alive, a snapshot is taken; check() prints its top
 * 10 sites by size and by count to stderr in statistics("lineno")'s
 * format, and the tracing cost: traced time / untraced time and the cost
 * per traced object.
 *
 * Figures: the stderr report (site table, cost ratio); `ops_per_s` and
 * `lat_p99_ns` mix both kinds of pass. What to expect: the cost is a hash
 * insert per allocation and a lookup per free (at every free of the heap,
 * traced or not, while tracing is on); marksweep's sweeps pay the lookups
 * in their pauses; rc's snapshot keeps the cyclic graphs, which never die.
 *
 * Self-check, on the traced passes: the site table's allocations equal the
 * heap's own counter (h->allocs) over those passes, site by site the
 * predicted counts (per graph: Record, name, id and rows list once, a
 * tuple and an int per row), and, where the heap counts exactly, the
 * table's live objects equal the heap's live_objects above the pass's
 * start both at the snapshot and after the pass's final collection; the
 * traced and untraced passes allocated the same objects.
 */
#include "cwl.h"

#include <time.h>

enum { P_OPS, P_PASSES, P_ROWS, P_CACHE, P_KEEP, P_CYCLIC };

/* 20k graphs x 8 passes of 2 + 2 x 4 objects each: the table holds the
 * cache's graphs (~10k objects) at the snapshot. One core, rcgen on glibc:
 * small ~0.15 s, medium ~1.5 s, large ~7 s. */
static const hb_param_spec tm_params[] = {
    {"ops", {8000, 200000, 1000000}, 1, INT64_C(1) << 40, "graphs per pass"},
    {"passes", {4, 4, 4}, 1, 1 << 20, "traced passes per thread (as many untraced, alternating)"},
    {"rows", {4, 4, 4}, 0, 1 << 16, "row tuples per graph"},
    {"cache", {500, 500, 500}, 1, 1 << 24, "slots of the cache graphs are kept in"},
    {"keep_pct", {20, 20, 20}, 0, 100, "percent of graphs stored in the cache"},
    {"cyclic_pct", {5, 5, 5}, 0, 100, "percent of graphs that refer to themselves"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

enum { R_NAME, R_ID, R_ROWS, R_BACK, R_FIELDS };
enum { MAX_SITES = 16, TOP = 10 };

typedef struct tm_site {
    const char *file;
    int line;
    uint64_t count, bytes;             /* live: traced and not seen freed */
    uint64_t total_count, total_bytes; /* traced since start() */
} tm_site;

typedef struct tm_slot {
    uintptr_t addr; /* 0: empty */
    uint32_t size;
    uint32_t site;
} tm_slot;

/* One thread's tracer: tracemalloc's state for one heap. */
typedef struct tracer {
    int on, hooked, err;
    const hb_allocator *inner; /* the heap's object allocator, while hooked */
    void *inner_state;
    const hb_allocator *a; /* where the address table lives (never traced) */
    void *as;
    tm_slot *slots;
    size_t cap, n;
    tm_site site[MAX_SITES];
    int nsites;
    uint64_t frees_seen, reused;
} tracer;

typedef struct tm_thread {
    cwl_thread c;
    tracer tr;
    tm_site snap[MAX_SITES]; /* the snapshot of the last traced pass */
    int snap_sites;
    uint64_t snap_objects;
    int hooked;
    uint64_t traced_allocs, table_allocs, untraced_allocs;
    uint64_t site_bad; /* sites whose count is not one the pattern predicts */
    uint64_t live_bad, live_table, live_heap;
    const char *live_when;
    uint64_t ns[2]; /* untraced, traced */
    uint64_t graphs[2];
    uint64_t cyclic; /* graphs that refer to themselves, over every pass */
} tm_thread;

typedef struct tracemalloc {
    cwl c;
    hb_type record;
    uint64_t ops, passes, rows, cache, keep, cyclic;
} tracemalloc;

/* ---- the tracer ---- */

static size_t slot_of(const tracer *tr, uintptr_t addr)
{
    return (size_t)(((uint64_t)(addr >> 4) * 0x9e3779b97f4a7c15ULL) >> 32) & (tr->cap - 1);
}

static tm_slot *find(tracer *tr, uintptr_t addr)
{
    if (!tr->cap)
        return NULL;
    for (size_t j = slot_of(tr, addr);; j = (j + 1) & (tr->cap - 1)) {
        if (tr->slots[j].addr == addr)
            return &tr->slots[j];
        if (!tr->slots[j].addr)
            return NULL;
    }
}

/* Linear probing with backward-shift deletion: no tombstones, so a table
 * that sees millions of frees does not fill up with them. */
static void erase(tracer *tr, tm_slot *s)
{
    size_t i = (size_t)(s - tr->slots), mask = tr->cap - 1;
    for (size_t j = (i + 1) & mask; tr->slots[j].addr; j = (j + 1) & mask) {
        size_t home = slot_of(tr, tr->slots[j].addr);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            tr->slots[i] = tr->slots[j];
            i = j;
        }
    }
    tr->slots[i].addr = 0;
    tr->n--;
}

static void forget(tracer *tr, tm_slot *s)
{
    tm_site *st = &tr->site[s->site];
    st->count--;
    st->bytes -= s->size;
    erase(tr, s);
}

static int grow(tracer *tr)
{
    size_t cap = tr->cap ? 2 * tr->cap : 1024;
    tm_slot *old = tr->slots;
    size_t oldcap = tr->cap;
    tr->slots = tr->a->alloc(tr->as, cap * sizeof *tr->slots);
    if (!tr->slots) {
        tr->slots = old;
        return ENOMEM;
    }
    memset(tr->slots, 0, cap * sizeof *tr->slots);
    tr->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].addr) {
            size_t j = slot_of(tr, old[i].addr);
            while (tr->slots[j].addr)
                j = (j + 1) & (cap - 1);
            tr->slots[j] = old[i];
        }
    tr->a->free(tr->as, old, oldcap * sizeof *old);
    return 0;
}

static hb_object *trace_record(tracer *tr, const char *file, int line, hb_object *o)
{
    if (!tr->on || !o || (o->flags & HB_OF_IMMORTAL) || tr->err)
        return o;
    int k = 0;
    while (k < tr->nsites && (tr->site[k].line != line ||
                              (tr->site[k].file != file && strcmp(tr->site[k].file, file))))
        k++;
    if (k == tr->nsites) {
        if (k == MAX_SITES) {
            tr->err = ENOSPC;
            return o;
        }
        tr->site[k] = (tm_site){.file = file, .line = line};
        tr->nsites++;
    }
    tm_slot *s = find(tr, (uintptr_t)o);
    if (s) { /* its memory came back: the object traced there died unseen */
        forget(tr, s);
        tr->reused++;
    }
    if (2 * (tr->n + 1) > tr->cap && (tr->err = grow(tr)) != 0)
        return o;
    size_t j = slot_of(tr, (uintptr_t)o);
    while (tr->slots[j].addr)
        j = (j + 1) & (tr->cap - 1);
    tr->slots[j] = (tm_slot){.addr = (uintptr_t)o, .size = o->size, .site = (uint32_t)k};
    tr->n++;
    tm_site *st = &tr->site[k];
    st->count++;
    st->bytes += o->size;
    st->total_count++;
    st->total_bytes += o->size;
    return o;
}

/* Record the object `expr` makes under this line. */
#define TRACE(tr, expr) trace_record((tr), __FILE__, __LINE__, (expr))

/* The hook in front of the heap's object allocator: every call passes
 * through; a free of a traced block takes it off its site. */
static void *hk_alloc(void *st, size_t n)
{
    tracer *tr = st;
    return tr->inner->alloc(tr->inner_state, n);
}
static void *hk_alloc_aligned(void *st, size_t align, size_t n)
{
    tracer *tr = st;
    return tr->inner->alloc_aligned(tr->inner_state, align, n);
}
static void hk_free(void *st, void *p, size_t n)
{
    tracer *tr = st;
    tm_slot *s = p ? find(tr, (uintptr_t)p) : NULL;
    if (s) {
        forget(tr, s);
        tr->frees_seen++;
    }
    tr->inner->free(tr->inner_state, p, n);
}
static void *hk_realloc(void *st, void *p, size_t old, size_t n)
{
    tracer *tr = st; /* item arrays only: objects are never resized */
    return tr->inner->realloc(tr->inner_state, p, old, n);
}
static size_t hk_usable_size(void *st, const void *p)
{
    tracer *tr = st;
    return tr->inner->usable_size(tr->inner_state, p);
}
static int hk_stats(void *st, hb_alloc_stats *out)
{
    tracer *tr = st;
    return tr->inner->stats(tr->inner_state, out);
}

static const hb_allocator trace_hook = {
    .name = "tracemalloc",
    .doc = "tracemalloc's hook in front of a heap's object allocator",
    .alloc = hk_alloc,
    .alloc_aligned = hk_alloc_aligned,
    .free = hk_free,
    .realloc = hk_realloc,
    .usable_size = hk_usable_size,
    .stats = hk_stats,
};

/* tracemalloc.start(). The hook goes only where the heap's objects come
 * from its own allocator (cwl_exact): a backend with its own object heap
 * never frees through one. The heap is this thread's, and no allocation
 * is under way, so swapping the pointer is safe; stop() puts it back. */
static void trace_start(tracer *tr, hb_heap *h)
{
    memset(tr->site, 0, sizeof tr->site);
    tr->nsites = 0;
    tr->hooked = cwl_exact(h);
    if (tr->hooked) {
        tr->inner = h->obj_alloc;
        tr->inner_state = h->obj_alloc_state;
        h->obj_alloc = &trace_hook;
        h->obj_alloc_state = tr;
    }
    tr->on = 1;
}

/* tracemalloc.stop(): unhook, forget every trace. */
static void trace_stop(tracer *tr, hb_heap *h)
{
    tr->on = 0;
    if (tr->hooked) {
        h->obj_alloc = tr->inner;
        h->obj_alloc_state = tr->inner_state;
        tr->hooked = 0;
    }
    if (tr->cap)
        memset(tr->slots, 0, tr->cap * sizeof *tr->slots);
    tr->n = 0;
}

static uint64_t table_live(const tracer *tr)
{
    uint64_t n = 0;
    for (int k = 0; k < tr->nsites; k++)
        n += tr->site[k].count;
    return n;
}

/* ---- the pattern ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One graph into *rec (a variable of the caller). */
static int graph(hb_heap *h, tracemalloc *tm, tracer *tr, uint64_t i, hb_object **rec,
                 hb_object **id, hb_object **num)
{
    char buf[32];
    hb_set_new(h, rec, TRACE(tr, hb_node_new(h, &tm->record, R_FIELDS)));
    if (!*rec)
        return ENOMEM;
    int len = snprintf(buf, sizeof buf, "item-%" PRIu64, i);
    hb_node_set_new(h, *rec, R_NAME, TRACE(tr, hb_str_new(h, buf, (size_t)len)));
    hb_set_new(h, id, TRACE(tr, hb_int_new(h, (int64_t)(1000 + i))));
    if (!hb_node_get(*rec, R_NAME) || !*id)
        return ENOMEM;
    hb_node_set(h, *rec, R_ID, *id);
    hb_node_set_new(h, *rec, R_ROWS, TRACE(tr, hb_list_new(h)));
    hb_object *rows = hb_node_get(*rec, R_ROWS);
    if (!rows)
        return ENOMEM;
    for (uint64_t k = 0; k < tm->rows; k++) {
        hb_object *it[2];
        it[0] = hb_int_new(h, (int64_t)(k & 255));
        hb_set_new(h, num, TRACE(tr, hb_int_new(h, hb_int_value(*id) + (int64_t)k)));
        if (!*num)
            return ENOMEM;
        it[1] = *num; /* items are variables while the tuple is allocated */
        hb_object *row = TRACE(tr, hb_tuple_new(h, 2, it));
        if (!row)
            return ENOMEM;
        int err = hb_list_append_new(h, rows, row);
        if (err)
            return err;
    }
    return 0;
}

/* Objects one graph is made of. */
static uint64_t graph_objects(const tracemalloc *tm) { return 4 + 2 * tm->rows; }

static int pass(hb_heap *h, tracemalloc *tm, tm_thread *t, int traced, int last, int tid,
                hb_counts *out)
{
    tracer *tr = &t->tr;
    uint64_t rng = cwl_rng(&tm->c, tid); /* the same graphs every pass */
    hb_collect(h, -1); /* gc.collect(): nothing older dies during the pass */
    uint64_t live0 = h->live_objects, allocs0 = h->allocs;
    if (traced)
        trace_start(tr, h);
    int err = 0;
    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **cache = hb_var(h), **rec = hb_var(h), **id = hb_var(h), **num = hb_var(h);
    uint64_t t0 = now_ns();
    hb_set_new(h, cache, TRACE(tr, hb_list_new(h)));
    if (!*cache)
        err = ENOMEM;
    for (uint64_t i = 0; i < tm->cache && !err; i++)
        err = hb_list_append_new(h, *cache, NULL);
    for (uint64_t i = 0; i < tm->ops && !err; i++) {
        uint64_t r = hb_rand(&rng);
        hb_op_begin(&out->lat); /* one op: build a graph; keep it or drop it */
        err = graph(h, tm, tr, i, rec, id, num);
        if (!err && (r & 0xffff) * 100 < tm->cyclic * 0x10000) {
            hb_node_set(h, *rec, R_BACK, *rec);
            t->cyclic++;
        }
        if (!err && ((r >> 16) & 0xffff) * 100 < tm->keep * 0x10000)
            hb_list_set(h, *cache, (r >> 32) % tm->cache, *rec);
        hb_del(h, num);
        hb_del(h, id);
        hb_del(h, rec);
        hb_op_end(&out->lat);
        t->c.ops++;
        t->graphs[traced]++;
    }
    t->ns[traced] += now_ns() - t0;
    err = err ? err : tr->err;
    if (traced && !err) {
        /* take_snapshot(), with the cache alive */
        uint64_t table = table_live(tr), heap = h->live_objects - live0;
        if (tr->hooked && table != heap && t->live_bad++ == 0) {
            t->live_table = table;
            t->live_heap = heap;
            t->live_when = "at the snapshot";
        }
        if (last) {
            memcpy(t->snap, tr->site, sizeof t->snap);
            t->snap_sites = tr->nsites;
            t->snap_objects = table;
            t->hooked = tr->hooked;
        }
    }
    hb_scope_leave(h, &s);
    if (traced) {
        if (!err) {
            hb_collect(h, -1); /* the pass's garbage: only rc's cycles stay */
            uint64_t table = table_live(tr), heap = h->live_objects - live0;
            if (tr->hooked && table != heap && t->live_bad++ == 0) {
                t->live_table = table;
                t->live_heap = heap;
                t->live_when = "after the pass's collection";
            }
            uint64_t total = 0;
            for (int k = 0; k < tr->nsites; k++) {
                uint64_t n = tr->site[k].total_count;
                total += n;
                if (n != 1 && n != tm->ops && n != tm->rows * tm->ops)
                    t->site_bad++; /* the cache list is the one site made once */
            }
            t->table_allocs += total;
            t->traced_allocs += h->allocs - allocs0;
        }
        trace_stop(tr, h);
    } else {
        t->untraced_allocs += h->allocs - allocs0;
    }
    return err;
}

static int tm_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(tracemalloc), sizeof(tm_thread), w);
    if (err)
        return err;
    tracemalloc *tm = *w;
    hb_class_init(&tm->record, "Record", NULL, NULL, 0);
    tm->ops = (uint64_t)ctx->param[P_OPS];
    tm->passes = (uint64_t)ctx->param[P_PASSES];
    tm->rows = (uint64_t)ctx->param[P_ROWS];
    tm->cache = (uint64_t)ctx->param[P_CACHE];
    tm->keep = (uint64_t)ctx->param[P_KEEP];
    tm->cyclic = (uint64_t)ctx->param[P_CYCLIC];
    return 0;
}

static int tm_run(void *w, int tid, hb_counts *out)
{
    tracemalloc *tm = w;
    tm_thread *t = cwl_at(&tm->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    t->tr.a = tm->c.a;
    t->tr.as = tm->c.as;
    int err = 0;
    for (uint64_t p = 0; p < 2 * tm->passes && !err; p++) {
        int traced = (p & 1) == ((p >> 1) & 1); /* T U U T T U U T ... */
        err = pass(h, tm, t, traced, p >= 2 * tm->passes - 2 && traced, tid, out);
    }
    tracer *tr = &t->tr;
    tr->a->free(tr->as, tr->slots, tr->cap * sizeof *tr->slots);
    tr->slots = NULL;
    tr->cap = 0;
    return cwl_end(&t->c, h, out, err);
}

/* tracemalloc's _format_size: 3 or 4 significant digits and a unit. */
static void format_size(char *buf, size_t len, double size)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0;; u++) {
        if (size < 100 && u > 0) {
            snprintf(buf, len, "%.1f %s", size, unit[u]);
            return;
        }
        if (size < 10 * 1024 || u == 4) {
            snprintf(buf, len, "%.0f %s", size, unit[u]);
            return;
        }
        size /= 1024;
    }
}

static void print_top(int tid, const tm_site *site, int n, int by_count)
{
    int order[MAX_SITES];
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) /* insertion sort, largest first: a few sites */
        for (int j = i; j > 0; j--) {
            const tm_site *a = &site[order[j - 1]], *b = &site[order[j]];
            uint64_t ka = by_count ? a->count : a->bytes, kb = by_count ? b->count : b->bytes;
            if (ka >= kb)
                break;
            int x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    fprintf(stderr, "tracemalloc: thread %d: [ Top %d by %s ]\n", tid, TOP, by_count ? "count" : "size");
    for (int i = 0; i < n && i < TOP; i++) {
        const tm_site *s = &site[order[i]];
        const char *base = strrchr(s->file, '/');
        char size[32], avg[32];
        format_size(size, sizeof size, (double)s->bytes);
        format_size(avg, sizeof avg, s->count ? (double)s->bytes / (double)s->count : 0);
        fprintf(stderr, "%s:%d: size=%s, count=%" PRIu64 ", average=%s\n", base ? base + 1 : s->file,
                s->line, size, s->count, avg);
    }
}

static int tm_check(void *w, char *err, size_t errlen)
{
    tracemalloc *tm = w;
    if (cwl_check_done(&tm->c, err, errlen))
        return 1;
    uint64_t per_pass = 1 + tm->ops * graph_objects(tm); /* the cache list, the graphs */
    for (int tid = 0; tid < tm->c.threads; tid++) {
        tm_thread *t = cwl_at(&tm->c, tid);
        print_top(tid, t->snap, t->snap_sites, 0);
        print_top(tid, t->snap, t->snap_sites, 1);
        double tr_s = (double)t->ns[1] / 1e9, un_s = (double)t->ns[0] / 1e9;
        fprintf(stderr, "tracemalloc: thread %d: %" PRIu64 " objects in the snapshot; frees %s; "
                "tracing cost: traced %.3f s, untraced %.3f s over %" PRIu64 " passes each: "
                "x%.2f, %+.0f ns per traced object\n", tid, t->snap_objects,
                t->hooked ? "seen through the allocator hook"
                          : "not seen (the backend's own object heap): sizes are allocations",
                tr_s, un_s, tm->passes, un_s > 0 ? tr_s / un_s : 0.0,
                t->traced_allocs ? ((double)t->ns[1] - (double)t->ns[0]) / (double)t->traced_allocs
                                 : 0.0);
        if (t->graphs[0] != t->graphs[1] || t->graphs[1] != tm->passes * tm->ops) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " traced and %" PRIu64 " untraced graphs, "
                     "want %" PRIu64 " each", tid, t->graphs[1], t->graphs[0], tm->passes * tm->ops);
            return 1;
        }
        if (t->table_allocs != t->traced_allocs || t->traced_allocs != tm->passes * per_pass) {
            snprintf(err, errlen, "thread %d: the site table traced %" PRIu64 " allocations, the "
                     "heap counted %" PRIu64 ", the pattern makes %" PRIu64, tid, t->table_allocs,
                     t->traced_allocs, tm->passes * per_pass);
            return 1;
        }
        if (t->site_bad || t->snap_sites != (tm->rows ? 6 : 4) + 1) {
            snprintf(err, errlen, "thread %d: %d sites, %" PRIu64 " of them with counts the pattern "
                     "does not make", tid, t->snap_sites, t->site_bad);
            return 1;
        }
        if (t->live_bad) {
            snprintf(err, errlen, "thread %d: %s the site table holds %" PRIu64 " live objects, the "
                     "heap %" PRIu64 " (%" PRIu64 " passes differ)", tid, t->live_when, t->live_table,
                     t->live_heap, t->live_bad);
            return 1;
        }
        if (t->untraced_allocs != t->traced_allocs) {
            snprintf(err, errlen, "thread %d: traced passes allocated %" PRIu64 " objects, untraced "
                     "%" PRIu64 ": not the same pattern", tid, t->traced_allocs, t->untraced_allocs);
            return 1;
        }
        /* rc: the cyclic graphs of every pass stay, with all they hold */
        if (cwl_check_counts(&t->c, tid, 2 * tm->passes * per_pass,
                             t->c.finds_cycles ? 0 : t->cyclic * graph_objects(tm), err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_tracemalloc = {
    .name = "tracemalloc",
    .doc = "tracemalloc: allocation sites traced by line, top 10 by size and count, and their cost",
    .min_threads = 1,
    .needs_collector = 1,
    .params = tm_params,
    .setup = tm_setup,
    .run = tm_run,
    .check = tm_check,
    .teardown = cwl_teardown,
};
