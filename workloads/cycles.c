/* cycles.c -- reference cycles: garbage that only a cycle collector or a
 * tracer reclaims.
 *
 * The documents' shapes, built one after another (`shape` 0 takes them in
 * turn, 1..4 one only):
 *
 *   1 pair    x = Node(1); y = Node(2); x.next = y; y.next = x
 *   2 ring    k nodes, each .next to the following, the last to the first
 *   3 dlist   a doubly linked list of k nodes (.next and .prev): every
 *             neighbour pair is a 2-cycle
 *   4 graph   k nodes in a list, each holding the list (its parent) and
 *             `degree` edges to random nodes of the same graph
 *
 * Each structure is held by a variable while it is built; then, with
 * probability survive_pct/100, it goes into a slot of a `keep`-slot table
 * of survivors (replacing, and so dropping, the one there), otherwise the
 * variable is simply reassigned. Either way it becomes garbage some time
 * later, unreachable but with every count above zero: refcounting alone
 * frees none of it. Survivors live long enough to be promoted on rcgen and
 * to be traced again and again by marksweep, which is the cost of keeping
 * a fraction of the cycles alive.
 *
 * What to expect: rc frees nothing -- every node made is still in the heap
 * at the end, and the harness's trace reports it as leaked; rcgen finds
 * them in its generation-0 collections (those that survived a while in the
 * older generations), marksweep in whole-heap traces whose cost grows with
 * the survivors.
 *
 * Self-check: the objects made are exactly the structures' nodes (values
 * are small ints, immortal); each structure's shape is verified by walking
 * it before it is dropped (a ring's k steps return to its head; a dlist's
 * prev undoes next); after the final collection an rc heap still holds
 * every node (the leak is exactly what was made), and an rcgen or
 * marksweep heap holds nothing, its collections having found at least
 * every node.
 */
#include "cwl.h"

enum { P_OPS, P_SHAPE, P_K, P_DEGREE, P_SURVIVE, P_KEEP };

/* Rings of 8 with 10% surviving in 1000 slots keep ~20k nodes alive:
 * enough for marksweep's traces to cost something, small enough that the
 * garbage, not the survivors, dominates. rcgen on glibc, one core: small
 * ~0.15 s, medium ~1.5 s, large ~8 s. */
static const hb_param_spec cycles_params[] = {
    {"ops", {50000, 1000000, 5000000}, 1, INT64_C(1) << 40, "structures built per thread"},
    {"shape", {0, 0, 0}, 0, 4, "0 all in turn, 1 pairs, 2 rings, 3 doubly linked lists, 4 graphs"},
    {"k", {8, 8, 8}, 2, 1 << 20, "nodes per ring, list or graph"},
    {"degree", {2, 2, 2}, 0, 64, "random edges per graph node"},
    {"survive_pct", {10, 10, 10}, 0, 100, "percent of structures kept in the survivors' table"},
    {"keep", {1000, 1000, 1000}, 1, 1 << 24, "slots in the survivors' table"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

enum { F_VAL, F_NEXT, F_PREV }; /* node fields; graph nodes: parent, then edges */

typedef struct cy_thread {
    cwl_thread c;
    uint64_t nodes;    /* objects the structures are made of */
    uint64_t bad;      /* structures whose shape did not verify */
    uint64_t bad_op;
    int bad_shape;
} cy_thread;

typedef struct cycles {
    cwl c;
    hb_type node;
    uint64_t ops, k, degree, survive, keep;
    int shape;
} cycles;

static hb_object *node_new(hb_heap *h, cycles *cy, size_t fields, int64_t val)
{
    hb_object *n = hb_node_new(h, &cy->node, fields);
    if (n)
        hb_node_set_new(h, n, F_VAL, hb_int_new(h, val & 127));
    return n;
}

/* A chain of k nodes from *head: ring (last.next = head) or dlist (prev
 * links, no wrap). *head and *cur are variables, so every node is reachable
 * while the next is allocated. */
static int build_chain(hb_heap *h, cycles *cy, hb_object **head, hb_object **cur, uint64_t k,
                       int ring)
{
    hb_set_new(h, head, node_new(h, cy, 3, 0));
    if (!*head)
        return ENOMEM;
    hb_set(h, cur, *head);
    for (uint64_t i = 1; i < k; i++) {
        hb_object *n = node_new(h, cy, 3, (int64_t)i);
        if (!n)
            return ENOMEM;
        hb_node_set_new(h, *cur, F_NEXT, n); /* cur.next = Node(i) */
        if (!ring)
            hb_node_set(h, n, F_PREV, *cur);
        hb_set(h, cur, n);
    }
    if (ring)
        hb_node_set(h, *cur, F_NEXT, *head);
    return 0;
}

static int verify_chain(hb_object *head, uint64_t k, int ring)
{
    hb_object *n = head;
    for (uint64_t i = 0; i < k; i++) {
        if (!n || hb_int_value(hb_node_get(n, F_VAL)) != (int64_t)(i & 127))
            return 0;
        hb_object *next = hb_node_get(n, F_NEXT);
        if (!ring && next && hb_node_get(next, F_PREV) != n)
            return 0;
        n = next;
    }
    return ring ? n == head : n == NULL;
}

static int build_graph(hb_heap *h, cycles *cy, hb_object **g, hb_object **cur, uint64_t *rng)
{
    hb_set_new(h, g, hb_list_new(h));
    if (!*g)
        return ENOMEM;
    for (uint64_t i = 0; i < cy->k; i++) {
        hb_set_new(h, cur, node_new(h, cy, 2 + cy->degree, (int64_t)i));
        if (!*cur)
            return ENOMEM;
        hb_node_set(h, *cur, 1, *g); /* parent: every node is on a cycle through g */
        int err = hb_list_append(h, *g, *cur);
        if (err)
            return err;
    }
    for (uint64_t i = 0; i < cy->k; i++) {
        hb_object *n = hb_list_get(*g, i);
        for (uint64_t e = 0; e < cy->degree; e++)
            hb_node_set(h, n, 2 + e, hb_list_get(*g, hb_rand_below(rng, cy->k)));
    }
    return 0;
}

static int verify_graph(hb_object *g, uint64_t k)
{
    if (hb_list_len(g) != k)
        return 0;
    for (uint64_t i = 0; i < k; i++) {
        hb_object *n = hb_list_get(g, i);
        if (hb_node_get(n, 1) != g || hb_int_value(hb_node_get(n, F_VAL)) != (int64_t)(i & 127))
            return 0;
    }
    return 1;
}

static int cycles_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(cycles), sizeof(cy_thread), w);
    if (err)
        return err;
    cycles *cy = *w;
    hb_class_init(&cy->node, "Node", NULL, NULL, 0);
    cy->ops = (uint64_t)ctx->param[P_OPS];
    cy->shape = (int)ctx->param[P_SHAPE];
    cy->k = (uint64_t)ctx->param[P_K];
    cy->degree = (uint64_t)ctx->param[P_DEGREE];
    cy->survive = (uint64_t)ctx->param[P_SURVIVE];
    cy->keep = (uint64_t)ctx->param[P_KEEP];
    return 0;
}

static int cycles_run(void *w, int tid, hb_counts *out)
{
    cycles *cy = w;
    cy_thread *t = cwl_at(&cy->c, tid);
    hb_heap *h = out->heap;
    uint64_t rng = cwl_rng(&cy->c, tid);
    cwl_begin(&t->c, h);
    int err = 0;

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **keep = hb_var(h), **x = hb_var(h), **y = hb_var(h);
    hb_set_new(h, keep, hb_list_new(h));
    if (!*keep)
        err = ENOMEM;
    for (uint64_t i = 0; i < cy->keep && !err; i++)
        err = hb_list_append_new(h, *keep, NULL);
    int own = !hb_heap_is_shared(h); /* a shared heap's counters are everyone's */
    uint64_t nodes0 = own ? h->allocs : 0;

    for (uint64_t op = 0; op < cy->ops && !err; op++) {
        int shape = cy->shape ? cy->shape : (int)(op % 4) + 1;
        int ok;
        hb_op_begin(&out->lat); /* one op: build a structure, verify it, keep or drop it */
        switch (shape) {
        case 1: /* x.next = y; y.next = x */
            hb_set_new(h, x, node_new(h, cy, 3, 1));
            hb_set_new(h, y, *x ? node_new(h, cy, 3, 2) : NULL);
            if (!*y) {
                err = ENOMEM;
                break;
            }
            hb_node_set(h, *x, F_NEXT, *y);
            hb_node_set(h, *y, F_NEXT, *x);
            ok = hb_node_get(hb_node_get(*x, F_NEXT), F_NEXT) == *x &&
                 hb_int_value(hb_node_get(*y, F_VAL)) == 2;
            break;
        case 2:
        case 3:
            err = build_chain(h, cy, x, y, cy->k, shape == 2);
            ok = !err && verify_chain(*x, cy->k, shape == 2);
            break;
        default:
            err = build_graph(h, cy, x, y, &rng);
            ok = !err && verify_graph(*x, cy->k);
            break;
        }
        if (err) {
            hb_op_end(&out->lat);
            break;
        }
        if (!ok && t->bad++ == 0) {
            t->bad_op = op;
            t->bad_shape = shape;
        }
        if (hb_rand_below(&rng, 100) < cy->survive)
            hb_list_set(h, *keep, hb_rand_below(&rng, cy->keep), *x);
        hb_del(h, y);
        hb_del(h, x);
        hb_op_end(&out->lat);
        t->c.ops++;
    }
    if (own)
        t->nodes = h->allocs - nodes0;
    hb_scope_leave(h, &s);
    return cwl_end(&t->c, h, out, err);
}

/* Objects one structure of `shape` is made of. */
static uint64_t shape_nodes(const cycles *cy, int shape)
{
    return shape == 1 ? 2 : shape == 4 ? cy->k + 1 : cy->k;
}

static int cycles_check(void *w, char *err, size_t errlen)
{
    cycles *cy = w;
    if (cwl_check_done(&cy->c, err, errlen))
        return 1;
    uint64_t want = 0;
    for (uint64_t op = 0; op < cy->ops; op++)
        want += shape_nodes(cy, cy->shape ? cy->shape : (int)(op % 4) + 1);
    for (int tid = 0; tid < cy->c.threads; tid++) {
        cy_thread *t = cwl_at(&cy->c, tid);
        if (t->bad) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " structures malformed; first: op %" PRIu64
                     ", shape %d", tid, t->bad, t->bad_op, t->bad_shape);
            return 1;
        }
        if (!t->c.shared && t->nodes != want) {
            snprintf(err, errlen, "thread %d made %" PRIu64 " nodes, want %" PRIu64, tid, t->nodes,
                     want);
            return 1;
        }
        /* rc: every node is still there (the table went, being acyclic) */
        uint64_t left = t->c.finds_cycles ? 0 : want;
        if (cwl_check_counts(&t->c, tid, want + 1, left, err, errlen) ||
            cwl_check_collected(&t->c, tid, want, "every node", err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_cycles = {
    .name = "cycles",
    .doc = "cycles: x.next = y; y.next = x, rings, doubly linked lists, graphs; a fraction survives",
    .min_threads = 1,
    .needs_collector = 1,
    .params = cycles_params,
    .heap_modes = HB_HEAP_ISOLATED | HB_HEAP_SHARED,
    .setup = cycles_setup,
    .run = cycles_run,
    .check = cycles_check,
    .teardown = cwl_teardown,
};
