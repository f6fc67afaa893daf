/* shared_graph.c -- threads read and relink one object graph: reference
 * count contention, the cost PEP 703 designs its biased counts against.
 *
 * The graph: `nodes` Node objects in a list (the table), each holding its
 * id (an int) and `degree` edges (fields 1..degree) to other table nodes
 * or None, drawn from the seed. On a shared heap thread 0 builds it and
 * hands it over at a barrier (cwl_meet), every thread then holding the
 * table in a variable of its own; on isolated heaps every thread builds
 * its own copy: the same work without contention, the baseline.
 *
 * Each op is, with write_pct percent, a relink and otherwise a read:
 *   read    cur = table[r]; then `path` times cur = cur.<random edge>
 *           (hb_node_load: a new reference, the old one dropped), every
 *           node on the way verified (its id, its place in the table, a
 *           pair's partner): in Python, walking `node.next.next...`,
 *           which takes and drops a reference at each step
 *   relink  node.edge = table[r] or None, replacing (and dropping) what
 *           the edge held (hb_node_store); or, for fresh_pct percent of
 *           them, node.edge = x for a new pair x.partner = y,
 *           y.partner = x, x.link = table[r]: a 2-cycle, garbage once a
 *           later relink replaces it, which only a collector frees
 * On a shared heap edge slot s (node s / degree, edge s % degree) is
 * relinked only by thread s % threads, so each slot's final value is known
 * to one thread's stream; reads go anywhere. Table nodes are owned (biased
 * counts) by thread 0, which built them: every other thread's increment is
 * an atomic add on the shared word, and the relinks' drops queue objects
 * to their owners when a shared count would go below zero.
 *
 * Self-check. Op decisions come from a per-thread stream that depends on
 * nothing else (walks draw from another), so check() replays every stream:
 * reads and relinks and pairs per thread as counted; after every thread's
 * last op (a second barrier) the builder snapshots the graph, which must be
 * exactly the replay's (every slot's target, every pair's shape and link);
 * no walk saw a malformed node; objects made are the table (1 + 2 nodes)
 * plus 4 per pair; after the final collection nothing is left on rcgen
 * and marksweep, and on rc exactly what reference counting keeps of the
 * final graph once the table is dropped -- every pair (each a cycle), and
 * the table nodes the check's own refcount simulation of the replayed
 * graph finds alive.
 */
#include "cwl.h"

enum { P_OPS, P_NODES, P_DEGREE, P_PATH, P_WRITE, P_FRESH };

/* 1000 nodes of degree 4: a graph every thread's walks keep meeting in
 * (a walk of 8 steps touches ~1% of the nodes), small enough to stay in
 * cache, so what is measured is the count traffic, not misses. check()
 * keeps 16 bytes per edge and graph. rcgen on glibc, one
 * core: small ~0.1 s, medium ~1 s, large ~5 s. */
static const hb_param_spec sg_params[] = {
    {"ops", {150000, 3000000, 15000000}, 1, INT64_C(1) << 40, "reads and relinks per thread"},
    {"nodes", {1000, 1000, 1000}, 1, 1 << 20, "nodes of the graph"},
    {"degree", {4, 4, 4}, 1, 64, "edges per node"},
    {"path", {8, 8, 8}, 1, 1 << 16, "edges followed by one read"},
    {"write_pct", {20, 20, 20}, 0, 100, "percent of ops that relink an edge"},
    {"fresh_pct", {25, 25, 25}, 0, 100, "percent of relinks to a new pair (a 2-cycle)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

#define ID_BASE 1000 /* ids are stored as ID_BASE + id: never a small int, always allocated */
#define T_NONE (-1)
#define T_FRESH (-2)

enum { F_ID, F_PARTNER, F_LINK, PAIR_FIELDS }; /* a pair's nodes; table nodes: id, edges */

typedef struct sg_thread {
    cwl_thread c;
    uint64_t reads, writes, pairs, steps;
    uint64_t bad, bad_op;     /* walks that met a malformed node; the first one's op */
    uint64_t snap_bad;        /* builder: malformed nodes in the final graph */
} sg_thread;

/* A slot of the final graph, as the builder saw it. */
typedef struct sg_edge {
    int64_t target; /* id of the node the edge holds, T_NONE */
    int64_t link;   /* a pair: the table node x.link holds; else T_NONE */
} sg_edge;

typedef struct shared_graph {
    cwl c;
    hb_type node;
    uint64_t ops, n, degree, path, write_pct, fresh_pct;
    hb_object *table;  /* shared heap: thread 0's table, handed over at cwl_meet */
    sg_edge *snap;     /* threads graphs of n * degree slots (shared: graph 0 only) */
} shared_graph;

/* One op's decisions, from the op stream alone (run and check both). */
typedef struct sg_op {
    int write;
    uint64_t start;  /* read: the first node */
    uint64_t slot;   /* relink: the edge slot */
    int64_t target;  /* relink: a table index, T_NONE or T_FRESH */
    uint64_t link;   /* T_FRESH: the table node x.link holds */
} sg_op;

/* Writers of a graph: every thread on a shared heap, its own on isolated
 * ones. Writer `wid` of `nw` owns slots wid, wid + nw, ... */
static uint64_t owned_slots(const shared_graph *g, uint64_t nw, uint64_t wid)
{
    uint64_t all = g->n * g->degree;
    return wid < all ? (all - wid + nw - 1) / nw : 0;
}

/* A target: a table index, or (1 in 17) None. */
static int64_t draw_target(const shared_graph *g, uint64_t *rng)
{
    uint64_t r = hb_rand_below(rng, g->n + g->n / 16 + 1);
    return r < g->n ? (int64_t)r : T_NONE;
}

static int64_t initial_target(const shared_graph *g, uint64_t slot)
{
    uint64_t s = g->c.seed ^ ((slot + 1) * 0xd1b54a32d192ed03ULL);
    return draw_target(g, &s);
}

static void decide(const shared_graph *g, uint64_t *rng, uint64_t owned, uint64_t nw, uint64_t wid,
                   sg_op *op)
{
    op->write = owned && hb_rand_below(rng, 100) < g->write_pct;
    if (!op->write) {
        op->start = hb_rand_below(rng, g->n);
        return;
    }
    op->slot = hb_rand_below(rng, owned) * nw + wid;
    if (hb_rand_below(rng, 100) < g->fresh_pct) {
        op->target = T_FRESH;
        op->link = hb_rand_below(rng, g->n);
    } else {
        op->target = draw_target(g, rng);
        /* unread unless T_FRESH; set so that gcc 12 -O3 does not warn that
         * the inlined callers may read it uninitialised (they never do) */
        op->link = 0;
    }
}

/* The id of pair number k of writer wid: x's; y's is one more. */
static int64_t pair_id(const shared_graph *g, uint64_t k, uint64_t nw, uint64_t wid)
{
    return (int64_t)(g->n + 2 * (k * nw + wid));
}

static int64_t id_of(const hb_object *o) { return hb_int_value(hb_node_get(o, F_ID)) - ID_BASE; }

/* *var = Node(id) with `fields` fields (the id in F_ID, field 0). */
static int node_new(hb_heap *h, shared_graph *g, hb_object **var, size_t fields, int64_t id)
{
    return cwl_node_new(h, var, &g->node, fields, ID_BASE + id);
}

/* A node is what its id says: table node i is table[i]; a pair's nodes
 * point at each other, and x's link is a table node. Fields read here
 * never change once the node is reachable. */
static int well_formed(const shared_graph *g, hb_object *table, hb_object *o)
{
    int64_t id = id_of(o);
    if (id < 0)
        return 0;
    if ((uint64_t)id < g->n)
        return hb_list_get(table, (size_t)id) == o;
    hb_object *p = hb_node_get(o, F_PARTNER), *l = hb_node_get(o, F_LINK);
    int x = ((uint64_t)id - g->n) % 2 == 0;
    return p && hb_node_get(p, F_PARTNER) == o && id_of(p) == (x ? id + 1 : id - 1) &&
           (x ? l && (uint64_t)id_of(l) < g->n : !l);
}

static int build(hb_heap *h, shared_graph *g, hb_object **table, hb_object **cur)
{
    hb_set_new(h, table, hb_list_new(h));
    if (!*table)
        return ENOMEM;
    for (uint64_t i = 0; i < g->n; i++) {
        int err = node_new(h, g, cur, 1 + g->degree, (int64_t)i);
        if (err || (err = hb_list_append(h, *table, *cur)) != 0)
            return err;
    }
    hb_del(h, cur);
    for (uint64_t s = 0; s < g->n * g->degree; s++) {
        int64_t to = initial_target(g, s);
        if (to >= 0)
            hb_node_set(h, hb_list_get(*table, s / g->degree), 1 + s % g->degree,
                        hb_list_get(*table, (size_t)to));
    }
    return 0;
}

static void walk(hb_heap *h, shared_graph *g, sg_thread *t, hb_object *table, const sg_op *op,
                 hb_object **cur, uint64_t *rng, uint64_t opno)
{
    hb_set(h, cur, hb_list_get(table, op->start));
    for (uint64_t i = 0; i < g->path && *cur; i++) {
        if (!well_formed(g, table, *cur)) {
            if (t->bad++ == 0)
                t->bad_op = opno;
            break;
        }
        t->steps++;
        size_t fields = hb_node_nfields(*cur);
        hb_set_new(h, cur, hb_node_load(h, *cur, 1 + hb_rand_below(rng, fields - 1)));
    }
    hb_del(h, cur);
    t->reads++;
}

static int relink(hb_heap *h, shared_graph *g, sg_thread *t, hb_object *table, const sg_op *op,
                  hb_object **x, hb_object **y, uint64_t nw, uint64_t wid)
{
    hb_object *a = hb_list_get(table, op->slot / g->degree);
    size_t field = 1 + op->slot % g->degree;
    t->writes++;
    if (op->target != T_FRESH) {
        hb_node_store(h, a, field, op->target < 0 ? NULL : hb_list_get(table, (size_t)op->target));
        return 0;
    }
    int64_t id = pair_id(g, t->pairs, nw, wid);
    int err = node_new(h, g, x, PAIR_FIELDS, id);
    if (!err)
        err = node_new(h, g, y, PAIR_FIELDS, id + 1);
    if (err)
        return err;
    hb_node_set(h, *x, F_PARTNER, *y); /* ours until stored: plain sets */
    hb_node_set(h, *y, F_PARTNER, *x);
    hb_node_set(h, *x, F_LINK, hb_list_get(table, op->link));
    hb_node_store(h, a, field, *x);
    hb_del(h, y);
    hb_del(h, x);
    t->pairs++;
    return 0;
}

/* The final graph, read by its builder once nobody writes. */
static void snapshot(shared_graph *g, sg_thread *t, hb_object *table, sg_edge *e)
{
    for (uint64_t i = 0; i < g->n; i++)
        t->snap_bad += !well_formed(g, table, hb_list_get(table, i));
    for (uint64_t s = 0; s < g->n * g->degree; s++) {
        hb_object *v = hb_node_get(hb_list_get(table, s / g->degree), 1 + s % g->degree);
        e[s].target = v ? id_of(v) : T_NONE;
        e[s].link = T_NONE;
        if (v && (uint64_t)e[s].target >= g->n) {
            t->snap_bad += !well_formed(g, table, v);
            hb_object *l = hb_node_get(v, F_LINK);
            e[s].link = l ? id_of(l) : T_NONE;
        }
    }
}

static int sg_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(shared_graph), sizeof(sg_thread), w);
    if (err)
        return err;
    shared_graph *g = *w;
    hb_class_init(&g->node, "Node", NULL, NULL, 0);
    g->ops = (uint64_t)ctx->param[P_OPS];
    g->n = (uint64_t)ctx->param[P_NODES];
    g->degree = (uint64_t)ctx->param[P_DEGREE];
    g->path = (uint64_t)ctx->param[P_PATH];
    g->write_pct = (uint64_t)ctx->param[P_WRITE];
    g->fresh_pct = (uint64_t)ctx->param[P_FRESH];
    g->snap = ctx->alloc->alloc(ctx->alloc_state, (size_t)ctx->threads * g->n * g->degree * sizeof *g->snap);
    if (!g->snap) {
        cwl_teardown(g);
        return ENOMEM;
    }
    return 0;
}

static void sg_teardown(void *w)
{
    shared_graph *g = w;
    g->c.a->free(g->c.as, g->snap, (size_t)g->c.threads * g->n * g->degree * sizeof *g->snap);
    cwl_teardown(w);
}

static int sg_run(void *w, int tid, hb_counts *out)
{
    shared_graph *g = w;
    sg_thread *t = cwl_at(&g->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    int shared = t->c.shared, builder = !shared || tid == 0, err = 0;
    uint64_t nw = shared ? (uint64_t)g->c.threads : 1, wid = shared ? (uint64_t)tid : 0;

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **table = hb_var(h), **cur = hb_var(h), **x = hb_var(h), **y = hb_var(h);
    if (builder)
        err = build(h, g, table, cur);
    if (shared) {
        if (tid == 0)
            g->table = err ? NULL : *table;
        cwl_meet(&g->c, h); /* the graph is built */
        if (!g->table && !err)
            err = ECANCELED; /* the builder failed */
        else if (tid)
            hb_set(h, table, g->table);
    }
    uint64_t owned = owned_slots(g, nw, wid);
    uint64_t rng = cwl_rng(&g->c, tid), walks = rng ^ 0x5851f42d4c957f2dULL;
    for (uint64_t op = 0; op < g->ops && !err; op++) {
        sg_op o;
        decide(g, &rng, owned, nw, wid, &o);
        hb_op_begin(&out->lat); /* one op: a walk, or a relink */
        if (o.write)
            err = relink(h, g, t, *table, &o, x, y, nw, wid);
        else
            walk(h, g, t, *table, &o, cur, &walks, op);
        hb_op_end(&out->lat);
        hb_safepoint(h); /* walks allocate nothing: a collection waits here */
        t->c.ops++;
    }
    if (shared)
        cwl_meet(&g->c, h); /* every relink is done */
    if (builder && !err)
        snapshot(g, t, *table, g->snap + (size_t)(shared ? 0 : tid) * g->n * g->degree);
    hb_scope_leave(h, &s);
    return cwl_end(&t->c, h, out, err);
}

/* What the streams of a graph's writers say (check). */
typedef struct sg_replay {
    int64_t *target, *link; /* per slot, as sg_edge */
    uint64_t *refs;         /* per table node: edges to it, and pairs linking it */
    uint64_t *stack;
    uint64_t pairs;
} sg_replay;

/* Table nodes that reference counting keeps once the table is dropped:
 * a node dies when nothing holds it, and its edges then drop theirs. Every
 * pair ever made is a 2-cycle and never dies, so a pair's link (pins, per
 * table node) holds its node forever. */
static uint64_t rc_survivors(const shared_graph *g, sg_replay *r, const uint64_t *pins)
{
    uint64_t n = g->n, d = g->degree, top = 0, dead = 0;
    for (uint64_t i = 0; i < n; i++)
        r->refs[i] = pins[i];
    for (uint64_t s = 0; s < n * d; s++)
        if (r->target[s] >= 0 && (uint64_t)r->target[s] < n)
            r->refs[r->target[s]]++;
    for (uint64_t i = 0; i < n; i++)
        if (!r->refs[i])
            r->stack[top++] = i;
    while (top) {
        uint64_t a = r->stack[--top];
        dead++;
        for (uint64_t s = a * d; s < (a + 1) * d; s++)
            if (r->target[s] >= 0 && (uint64_t)r->target[s] < n && --r->refs[r->target[s]] == 0)
                r->stack[top++] = (uint64_t)r->target[s];
    }
    return n - dead;
}

/* Replays graph gi's writers into r, checking their counts; 0 or 1. */
static int replay(shared_graph *g, int gi, int shared, sg_replay *r, uint64_t *pins, char *err,
                  size_t errlen)
{
    uint64_t nw = shared ? (uint64_t)g->c.threads : 1;
    for (uint64_t s = 0; s < g->n * g->degree; s++) {
        r->target[s] = initial_target(g, s);
        r->link[s] = T_NONE;
    }
    memset(pins, 0, g->n * sizeof *pins);
    r->pairs = 0;
    for (uint64_t wid = 0; wid < nw; wid++) {
        int tid = shared ? (int)wid : gi;
        sg_thread *t = cwl_at(&g->c, tid);
        uint64_t rng = cwl_rng(&g->c, tid), owned = owned_slots(g, nw, wid);
        uint64_t reads = 0, writes = 0, pairs = 0;
        for (uint64_t op = 0; op < g->ops; op++) {
            sg_op o;
            decide(g, &rng, owned, nw, wid, &o);
            if (!o.write) {
                reads++;
                continue;
            }
            writes++;
            r->target[o.slot] = o.target == T_FRESH ? pair_id(g, pairs++, nw, wid) : o.target;
            r->link[o.slot] = o.target == T_FRESH ? (int64_t)o.link : T_NONE;
            if (o.target == T_FRESH)
                pins[o.link]++;
        }
        if (t->reads != reads || t->writes != writes || t->pairs != pairs) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " reads, %" PRIu64 " relinks, %" PRIu64
                     " pairs; its stream says %" PRIu64 ", %" PRIu64 ", %" PRIu64, tid, t->reads,
                     t->writes, t->pairs, reads, writes, pairs);
            return 1;
        }
        r->pairs += pairs;
    }
    return 0;
}

static int check_graph(shared_graph *g, int gi, int shared, sg_replay *r, uint64_t *pins,
                       uint64_t *survivors, char *err, size_t errlen)
{
    if (replay(g, gi, shared, r, pins, err, errlen))
        return 1;
    const sg_edge *e = g->snap + (size_t)gi * g->n * g->degree;
    for (uint64_t s = 0; s < g->n * g->degree; s++)
        if (e[s].target != r->target[s] || e[s].link != r->link[s]) {
            snprintf(err, errlen, "graph %d: node %" PRIu64 " edge %" PRIu64 " holds %" PRId64
                     " (link %" PRId64 "), the relinks say %" PRId64 " (link %" PRId64 ")", gi,
                     s / g->degree, s % g->degree, e[s].target, e[s].link, r->target[s], r->link[s]);
            return 1;
        }
    *survivors = rc_survivors(g, r, pins);
    return 0;
}

static int sg_check(void *w, char *err, size_t errlen)
{
    shared_graph *g = w;
    if (cwl_check_done(&g->c, err, errlen))
        return 1;
    int shared = ((sg_thread *)cwl_at(&g->c, 0))->c.shared;
    size_t slots = g->n * g->degree;
    /* one block: targets and links per slot; pins, refs, stack per node */
    size_t bytes = (2 * slots + 3 * g->n) * sizeof(uint64_t);
    uint64_t *mem = g->c.a->alloc(g->c.as, bytes);
    if (!mem) {
        snprintf(err, errlen, "out of memory replaying a graph of %zu slots", slots);
        return 1;
    }
    sg_replay r = {.target = (int64_t *)mem, .link = (int64_t *)mem + slots, .refs = mem + 2 * slots,
                   .stack = mem + 2 * slots + g->n};
    uint64_t *pins = mem + 2 * slots + 2 * g->n;
    int bad = 0;
    for (int tid = 0; tid < g->c.threads && !bad; tid++) {
        sg_thread *t = cwl_at(&g->c, tid);
        int builder = !shared || tid == 0;
        uint64_t survivors = 0;
        if (t->bad || t->snap_bad) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " walks met a malformed node (first at op %"
                     PRIu64 "); %" PRIu64 " in the final graph", tid, t->bad, t->bad_op, t->snap_bad);
            bad = 1;
        } else if (t->c.ops != g->ops) {
            snprintf(err, errlen, "thread %d did %" PRIu64 " ops of %" PRIu64, tid, t->c.ops, g->ops);
            bad = 1;
        } else if (builder && check_graph(g, shared ? 0 : tid, shared, &r, pins, &survivors, err, errlen)) {
            bad = 1;
        } else {
            /* rc keeps every pair (4 objects) and the table nodes (2) it
             * cannot free; the builder made the table */
            uint64_t allocs = 4 * t->pairs + (builder ? 1 + 2 * g->n : 0);
            uint64_t left = t->c.finds_cycles ? 0 : 4 * t->pairs + 2 * survivors;
            bad = cwl_check_counts(&t->c, tid, allocs, left, err, errlen) ||
                  cwl_check_collected(&t->c, tid, 2 * t->pairs, "every pair's nodes", err, errlen);
        }
    }
    g->c.a->free(g->c.as, mem, bytes);
    return bad;
}

const hb_workload hb_wl_shared_graph = {
    .name = "shared_graph",
    .doc = "free threading (PEP 703): threads walk and relink one object graph; refcount contention",
    .min_threads = 1,
    .needs_collector = 1,
    .params = sg_params,
    .heap_modes = HB_HEAP_ISOLATED | HB_HEAP_SHARED,
    .setup = sg_setup,
    .run = sg_run,
    .check = sg_check,
    .teardown = sg_teardown,
};
