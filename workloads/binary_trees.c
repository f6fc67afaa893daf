/* binary_trees.c -- the GCBench shape (Boehm's GCBench, as the Computer
 * Language Benchmarks Game's binary-trees keeps it): a stretch tree, a
 * long-lived tree, and many short-lived trees.
 *
 *   stretch    one tree of depth+1, built, checked and dropped: the heap
 *              must grow to it once
 *   long-lived one tree of `depth`, held for the whole run: every tracing
 *              collection has to walk it again
 *   iterations for d = min_depth, min_depth+2, ..., depth: 2^(depth-d+
 *              min_depth) trees of depth d, each built bottom-up, checked
 *              and dropped
 *
 * A tree of depth d is 2^(d+1)-1 nodes with two fields (left, right), the
 * leaves' fields None. Its item check counts its nodes; the Benchmarks
 * Game prints "stretch tree of depth D check: C", one line per depth
 * ("N trees of depth d check: C") and "long lived tree of depth D check:
 * C", and so does check() on a failure.
 *
 * What to expect: almost all garbage, acyclic, dying young and in bulk.
 * rc and rcgen free each tree the moment its root is dropped (rcgen's
 * collector still runs every 700 allocations and finds nothing, because
 * every new node is a container); marksweep and boehm trace the
 * long-lived tree at every collection, so their pause time is the
 * long-lived tree's size, and marksweep's longest pause comes after the
 * stretch tree has grown its budget.
 *
 * Self-check: every tree's item check (stretch, each short-lived tree,
 * the long-lived tree at the end) equals 2^(d+1)-1; the nodes allocated
 * equal the sum of the trees' sizes; nothing is left after the final
 * collection (no cycles anywhere).
 */
#include "cwl.h"

enum { P_DEPTH, P_MIN_DEPTH };

/* Nodes: ((depth-min_depth)/2+1) * 2^(depth+1) for the short-lived trees,
 * plus the two big ones: depth 14 is 3.2 M nodes, 16 is 15 M, 18 is 68 M.
 * One core, glibc/arena: small ~0.15 s; large ~3.4 s on rcgen, ~6.7 s on
 * marksweep (max pause ~39 ms), ~4.1 s on boehm (max pause ~20 ms). */
static const hb_param_spec bt_params[] = {
    {"depth", {13, 16, 18}, 4, 24, "depth of the long-lived tree (the stretch tree is one deeper)"},
    {"min_depth", {4, 4, 4}, 0, 24, "depth of the smallest short-lived trees"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

#define BT_MAX_LEVELS 16

typedef struct bt_thread {
    cwl_thread c;
    uint64_t stretch_check, long_check;
    uint64_t level_check[BT_MAX_LEVELS]; /* sum of item checks at each depth */
    uint64_t bad_trees;                  /* short-lived trees with a wrong check */
    uint64_t nodes;
} bt_thread;

typedef struct binary_trees {
    cwl c;
    hb_type node;
    int depth, min_depth;
} binary_trees;

static uint64_t tree_nodes(int d) { return ((uint64_t)2 << d) - 1; }
static uint64_t iterations(const binary_trees *b, int d)
{
    return (uint64_t)1 << (b->depth - d + b->min_depth);
}

/* bottom_up(d): a NEW reference to a tree of depth d, or NULL (ENOMEM).
 * The subtrees are variables while their sibling and parent are
 * allocated, so a collection then finds them. */
static hb_object *bottom_up(hb_heap *h, const hb_type *node, int d)
{
    if (d == 0)
        return hb_node_new(h, node, 2);
    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **l = hb_var(h), **r = hb_var(h), *n = NULL;
    hb_set_new(h, l, bottom_up(h, node, d - 1));
    if (*l)
        hb_set_new(h, r, bottom_up(h, node, d - 1));
    if (*r && (n = hb_node_new(h, node, 2)) != NULL) {
        hb_node_set(h, n, 0, *l);
        hb_node_set(h, n, 1, *r);
    }
    hb_scope_leave(h, &s); /* drops l and r: n holds them now */
    return n;
}

/* item_check: nodes in the tree, without recursion on the C stack
 * deeper than the tree (depth <= 25). */
static uint64_t item_check(hb_object *n)
{
    hb_object *l = hb_node_get(n, 0);
    return l ? 1 + item_check(l) + item_check(hb_node_get(n, 1)) : 1;
}

static int bt_setup(const hb_ctx *ctx, void **w)
{
    int depth = (int)ctx->param[P_DEPTH], min = (int)ctx->param[P_MIN_DEPTH];
    if (min > depth || (depth - min) / 2 + 1 > BT_MAX_LEVELS)
        return EINVAL;
    int err = cwl_setup(ctx, sizeof(binary_trees), sizeof(bt_thread), w);
    if (err)
        return err;
    binary_trees *b = *w;
    hb_class_init(&b->node, "TreeNode", NULL, NULL, 0);
    b->depth = depth;
    b->min_depth = min;
    return 0;
}

static int bt_run(void *w, int tid, hb_counts *out)
{
    binary_trees *b = w;
    bt_thread *t = cwl_at(&b->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    int err = 0;
    uint64_t a0 = h->allocs;

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **tree = hb_var(h), **long_lived = hb_var(h);

    hb_op_begin(&out->lat);
    hb_set_new(h, tree, bottom_up(h, &b->node, b->depth + 1));
    if (*tree)
        t->stretch_check = item_check(*tree);
    hb_del(h, tree);
    hb_op_end(&out->lat);
    t->c.ops++;

    hb_set_new(h, long_lived, bottom_up(h, &b->node, b->depth));
    if (!*long_lived)
        err = ENOMEM;

    for (int d = b->min_depth, lv = 0; d <= b->depth && !err; d += 2, lv++) {
        uint64_t n = iterations(b, d), want = tree_nodes(d);
        for (uint64_t i = 0; i < n; i++) {
            hb_op_begin(&out->lat); /* one op: one short-lived tree */
            hb_set_new(h, tree, bottom_up(h, &b->node, d));
            if (!*tree) {
                err = ENOMEM;
                hb_op_end(&out->lat);
                break;
            }
            uint64_t c = item_check(*tree);
            hb_del(h, tree);
            hb_op_end(&out->lat);
            t->level_check[lv] += c;
            t->bad_trees += c != want;
            t->c.ops++;
        }
    }
    if (!err)
        t->long_check = item_check(*long_lived);
    t->nodes = h->allocs - a0;
    hb_scope_leave(h, &s);
    return cwl_end(&t->c, h, out, err);
}

static int bt_check(void *w, char *err, size_t errlen)
{
    binary_trees *b = w;
    if (cwl_check_done(&b->c, err, errlen))
        return 1;
    uint64_t nodes = tree_nodes(b->depth + 1) + tree_nodes(b->depth);
    for (int d = b->min_depth; d <= b->depth; d += 2)
        nodes += iterations(b, d) * tree_nodes(d);
    for (int tid = 0; tid < b->c.threads; tid++) {
        bt_thread *t = cwl_at(&b->c, tid);
        if (t->stretch_check != tree_nodes(b->depth + 1)) {
            snprintf(err, errlen, "thread %d: stretch tree of depth %d check: %" PRIu64 ", want %" PRIu64,
                     tid, b->depth + 1, t->stretch_check, tree_nodes(b->depth + 1));
            return 1;
        }
        for (int d = b->min_depth, lv = 0; d <= b->depth; d += 2, lv++) {
            uint64_t want = iterations(b, d) * tree_nodes(d);
            if (t->level_check[lv] != want) {
                snprintf(err, errlen, "thread %d: %" PRIu64 " trees of depth %d check: %" PRIu64
                         ", want %" PRIu64, tid, iterations(b, d), d, t->level_check[lv], want);
                return 1;
            }
        }
        if (t->bad_trees) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " short-lived trees had a wrong item check",
                     tid, t->bad_trees);
            return 1;
        }
        if (t->long_check != tree_nodes(b->depth)) {
            snprintf(err, errlen, "thread %d: long lived tree of depth %d check: %" PRIu64
                     ", want %" PRIu64, tid, b->depth, t->long_check, tree_nodes(b->depth));
            return 1;
        }
        if (t->nodes != nodes) {
            snprintf(err, errlen, "thread %d made %" PRIu64 " nodes, want %" PRIu64, tid, t->nodes, nodes);
            return 1;
        }
        if (cwl_check_counts(&t->c, tid, nodes, 0, err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_binary_trees = {
    .name = "binary_trees",
    .doc = "GCBench / binary-trees: stretch tree, long-lived tree, many short-lived trees (generations)",
    .min_threads = 1,
    .needs_collector = 1,
    .params = bt_params,
    .setup = bt_setup,
    .run = bt_run,
    .check = bt_check,
    .teardown = cwl_teardown,
};
