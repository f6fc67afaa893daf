/* bench_gc.c -- the speed figures for rcgen (not a timed test:
 * it prints, it does not judge).
 *
 *   cycles   10^6 objects in 2-node cycles, collected by one gc.collect()
 *   full     a full collection over 10^6 live objects, nothing to free
 *   gen0     generation-0 pauses at threshold 700 under churn (p50, p99)
 *
 * usage: bench_gc [allocator] [objects]     (default: system 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/collector.h"

static hb_type Node;

static uint64_t pauses[1 << 16];
static size_t npauses;
static void on_event(void *arg, const hb_gc_event *ev)
{
    (void)arg;
    if (ev->generation == 0 && npauses < sizeof pauses / sizeof pauses[0])
        pauses[npauses++] = ev->duration_ns;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static hb_heap *heap(const hb_allocator *a, void *as)
{
    hb_heap *h;
    hb_heap_config cfg = {.alloc = a, .alloc_state = as, .hook = on_event, .max_vars = 1 << 20};
    if (hb_heap_new(&h, hb_collector_find("rcgen"), &cfg)) {
        fprintf(stderr, "bench_gc: cannot make an rcgen heap\n");
        exit(1);
    }
    return h;
}

int main(int argc, char **argv)
{
    const char *an = argc > 1 ? argv[1] : "system";
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    const hb_allocator *a = hb_allocator_find(an);
    if (!a || n < 2) {
        fprintf(stderr, "usage: bench_gc [allocator] [objects >= 2]\n");
        return 2;
    }
    void *as;
    if (a->init(&as, NULL))
        return 1;
    hb_class_init(&Node, "Node", NULL, NULL, 0);

    /* cycles */
    hb_heap *h = heap(a, as);
    hb_gc_disable(h);
    hb_object **x = hb_var(h), **y = hb_var(h);
    for (long i = 0; i < n / 2; i++) {
        hb_set_new(h, x, hb_node_new(h, &Node, 1));
        hb_set_new(h, y, hb_node_new(h, &Node, 1));
        hb_node_set(h, *x, 0, *y);
        hb_node_set(h, *y, 0, *x);
    }
    hb_del(h, x);
    hb_del(h, y);
    uint64_t t0 = hb_now_ns();
    size_t got = hb_collect(h, 2);
    uint64_t dt = hb_now_ns() - t0;
    printf("rcgen %-8s cycles: %zu objects collected in %.3f ms = %.1f ns/object (target <= 20)\n",
           an, got, dt / 1e6, (double)dt / (double)got);
    hb_heap_destroy(h);

    /* full collection over live objects: a list of n - 1 nodes */
    h = heap(a, as);
    hb_gc_disable(h);
    hb_object **l = hb_var(h), **t = hb_var(h);
    hb_set_new(h, l, hb_list_new(h));
    for (long i = 0; i < n - 1; i++) {
        hb_set_new(h, t, hb_node_new(h, &Node, 1));
        hb_list_append(h, *l, *t);
    }
    hb_del(h, t);
    hb_collect(h, 2); /* settle: everything now in generation 2 */
    t0 = hb_now_ns();
    got = hb_collect(h, 2);
    dt = hb_now_ns() - t0;
    printf("rcgen %-8s full:   %ld live objects, %zu freed, %.3f ms = %.1f ns/object (target <= 10)\n",
           an, n, got, dt / 1e6, (double)dt / (double)n);
    hb_heap_destroy(h);

    /* gen0 pauses under churn: a rolling window of live nodes, some cycles */
    h = heap(a, as);
    npauses = 0;
    hb_object **win = hb_var(h), **v = hb_var(h);
    hb_set_new(h, win, hb_list_new(h));
    for (int i = 0; i < 1000; i++)
        hb_list_append_new(h, *win, NULL);
    uint64_t s = 1;
    for (long i = 0; i < 2000000; i++) {
        hb_set_new(h, v, hb_node_new(h, &Node, 1));
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        if ((s >> 60) == 0)
            hb_node_set(h, *v, 0, *v); /* 1 in 16 becomes cyclic garbage */
        hb_list_set(h, *win, (size_t)(s >> 33) % 1000, *v);
    }
    qsort(pauses, npauses, sizeof pauses[0], cmp_u64);
    if (npauses)
        printf("rcgen %-8s gen0:   %zu pauses, p50 %.1f us, p99 %.1f us, max %.1f us (target p99 < 20)\n",
               an, npauses, pauses[npauses / 2] / 1e3, pauses[npauses * 99 / 100] / 1e3,
               pauses[npauses - 1] / 1e3);
    hb_heap_destroy(h);
    a->destroy(as);
    return 0;
}
