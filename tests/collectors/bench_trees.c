/* bench_trees.c -- GCBench / binary-trees under each tracing collector,
 * side by side in one run (a benchmark that prints, not a timed test).
 *
 * The shape of the benchmarks game's binary-trees, which is GCBench's: a
 * stretch tree of depth+1 built and dropped, a long-lived tree of `depth`
 * kept throughout, then for d = 4, 6, .., depth: 2^(depth - d + 4) trees
 * of depth d, each built, checked (its nodes counted) and dropped. Trees
 * are nodes with two fields, built bottom-up with every intermediate held
 * by a variable, so any collection is safe at any allocation.
 *
 * Printed per collector: wall time, collections, the longest pause and the
 * pauses' total, and the check sum (the same for every collector).
 *
 * usage: bench_trees [allocator] [depth] [collectors]
 *        (default: arena 18 marksweep,boehm)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/collector.h"

static hb_type Tree;

typedef struct pauses {
    uint64_t n, total, max;
} pauses;

static void on_event(void *arg, const hb_gc_event *ev)
{
    pauses *p = arg;
    p->n++;
    p->total += ev->duration_ns;
    if (ev->duration_ns > p->max)
        p->max = ev->duration_ns;
}

/* A tree of depth d, as a NEW reference. */
static hb_object *build(hb_heap *h, int d)
{
    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **n = hb_var(h);
    hb_set_new(h, n, hb_node_new(h, &Tree, 2));
    if (!*n) {
        fprintf(stderr, "bench_trees: out of memory at depth %d\n", d);
        exit(1);
    }
    if (d > 0) {
        hb_node_set_new(h, *n, 0, build(h, d - 1));
        hb_node_set_new(h, *n, 1, build(h, d - 1));
    }
    hb_object *r = *n;
    hb_incref(r);
    hb_scope_leave(h, &s);
    return r;
}

static long check(const hb_object *t)
{
    long n = 1;
    const hb_object *l = hb_node_get(t, 0);
    if (l)
        n += check(l) + check(hb_node_get(t, 1));
    return n;
}

static void run(const char *cn, const char *an, const hb_allocator *a, int depth)
{
    const hb_collector *c = hb_collector_find(cn);
    if (!c) {
        printf("%-9s %-6s skipped: not built in\n", cn, an);
        return;
    }
    void *as;
    if (a->init(&as, NULL)) {
        fprintf(stderr, "bench_trees: cannot initialise allocator %s\n", an);
        exit(1);
    }
    pauses p = {0};
    hb_heap *h;
    hb_heap_config cfg = {.alloc = a, .alloc_state = as, .hook = on_event, .hook_arg = &p};
    int rc = hb_heap_new(&h, c, &cfg);
    if (rc) {
        fprintf(stderr, "bench_trees: cannot make a %s heap: %s\n", cn, strerror(rc));
        exit(1);
    }
    uint64_t t0 = hb_now_ns();
    long sum = 0;
    hb_object **t = hb_var(h), **longlived = hb_var(h);
    hb_set_new(h, t, build(h, depth + 1)); /* stretch */
    sum += check(*t);
    hb_del(h, t);
    hb_set_new(h, longlived, build(h, depth));
    for (int d = 4; d <= depth; d += 2) {
        long iters = 1L << (depth - d + 4);
        for (long i = 0; i < iters; i++) {
            hb_set_new(h, t, build(h, d));
            sum += check(*t);
            hb_del(h, t);
        }
    }
    sum += check(*longlived);
    uint64_t dt = hb_now_ns() - t0;
    printf("%-9s %-6s depth %d: %.3f s, %llu collections, longest pause %.2f ms, "
           "pauses %.1f ms in all, check %ld\n",
           cn, strcmp(cn, "boehm") ? an : "own", depth, dt / 1e9, (unsigned long long)p.n,
           p.max / 1e6, p.total / 1e6, sum);
    fflush(stdout);
    hb_heap_destroy(h);
    a->destroy(as);
}

int main(int argc, char **argv)
{
    const char *an = argc > 1 ? argv[1] : "arena";
    int depth = argc > 2 ? atoi(argv[2]) : 18;
    const char *want = argc > 3 ? argv[3] : "marksweep,boehm";
    const hb_allocator *a = hb_allocator_find(an);
    if (!a || depth < 4 || depth > 24) {
        fprintf(stderr, "usage: bench_trees [allocator] [depth 4..24] [collectors]\n");
        return 2;
    }
    hb_class_init(&Tree, "Tree", NULL, NULL, 0);
    char list[256];
    snprintf(list, sizeof list, "%s", want);
    for (char *save, *cn = strtok_r(list, ",", &save); cn; cn = strtok_r(NULL, ",", &save))
        run(cn, an, a, depth);
    return 0;
}
