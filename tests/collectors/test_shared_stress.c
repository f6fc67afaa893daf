/* test_shared_stress.c -- many threads mutating one shared heap, checked at
 * the end against a reachability oracle that shares no code with the
 * collectors (the property test's approach, over the union of every
 * thread's model).
 *
 * Each thread makes nodes (with a __del__ that counts, and its global id
 * in field 0) and mutates: stores into fields of its own nodes (so each
 * field's final value is known to one thread's model), loads fields of
 * anyone's nodes and publishes/fetches references through a shared
 * exchange node held in a global (slot i written by thread i % T only),
 * drops variables, churns garbage to drive collections and asks for some.
 * What a load returns depends on the interleaving; the model learns it
 * from the object itself (field 0). At the end every thread detaches
 * (dropping its variables), the main thread collects, and the oracle's
 * reachability from the exchange node must match exactly: no reachable
 * node was ever finalized (freed), every unreachable one was finalized
 * exactly once -- except under rc the garbage that cycles reach, which
 * hb_heap_leaks must count -- and live_objects is what the model says.
 *
 * 10^6 mutations per thread at 2, 4 and 8 threads on rc, rcgen and
 * marksweep, atomic and biased counts; 10^5 under sanitizers (TSan runs
 * ~20x slower).
 *
 * boehm too (when built; not under TSan, which cannot follow Boehm's
 * signal-driven stops), with no counts to choose: Boehm is conservative
 * (a stale word on a stack keeps garbage alive), so the oracle is checked
 * one way exactly and the other way in bulk: no reachable node was ever
 * finalized, none twice, and at least 90% of the unreachable ones were. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/collector.h"
#include "shared_cases.h"

extern const hb_allocator hb_system_allocator;

#ifdef HB_SANITIZER
#define OPS 100000
#else
#define OPS 1000000
#endif
#define NF 3     /* reference fields 1..NF; field 0 holds the id */
#define NVARS 6
#define SLOTS 64 /* exchange slots */
#define PER (OPS / 8 + 16) /* nodes a thread may make */

typedef struct tstate {
    int tid;
    uint64_t rng;
    int32_t *edge; /* [PER][NF] targets' gids, -1: None */
    int32_t var[NVARS];
    int n;         /* nodes made */
    int err;
} tstate;

static hb_heap *heap;
static hb_object **exch_g;
static int T;
static tstate ts[8];
static int32_t exch[SLOTS];
static uint8_t *fin; /* [8 * PER] finalizer runs */
static hb_type Node;

static void node_del(hb_heap *h, hb_object *self)
{
    (void)h;
    int64_t gid = hb_int_value(hb_node_get(self, 0)) - 1000;
    __atomic_fetch_add(&fin[gid], 1, __ATOMIC_RELAXED);
}

static int32_t gid_of(hb_object *o) { return o ? (int32_t)(hb_int_value(hb_node_get(o, 0)) - 1000) : -1; }

static void *mutate(void *arg)
{
    tstate *t = arg;
    hb_heap *h = heap;
    if (hb_mutator_attach(h)) {
        t->err = 1;
        return NULL;
    }
    hb_scope sc;
    hb_scope_enter(h, &sc);
    hb_object **var[NVARS];
    for (int v = 0; v < NVARS; v++) {
        var[v] = hb_var(h);
        t->var[v] = -1;
    }
    hb_object *ex = *exch_g; /* the global holds it for the whole run */
    for (int op = 0; op < OPS; op++) {
        int k = (int)rnd(&t->rng, 100), v = (int)rnd(&t->rng, NVARS);
        if (k < 10 && t->n < PER) { /* var = Node() */
            int32_t gid = t->tid * PER + t->n;
            hb_object *o = hb_node_new(h, &Node, NF + 1);
            if (!o) {
                t->err = ENOMEM;
                break;
            }
            hb_set_new(h, var[v], o);
            hb_node_set_new(h, o, 0, hb_int_new(h, 1000 + gid));
            for (int f = 0; f < NF; f++)
                t->edge[(size_t)t->n * NF + f] = -1;
            t->n++;
            t->var[v] = gid;
        } else if (k < 40) { /* a.f = b (a one of ours) */
            int32_t a = t->var[v];
            if (a < 0 || a / PER != t->tid)
                continue;
            int w = (int)rnd(&t->rng, NVARS + 1);
            hb_object *b = w < NVARS ? *var[w] : NULL;
            int f = (int)rnd(&t->rng, NF);
            hb_node_store(h, *var[v], (size_t)f + 1, b);
            t->edge[(size_t)(a % PER) * NF + f] = w < NVARS ? t->var[w] : -1;
        } else if (k < 60) { /* var = a.f (anyone's a) */
            if (!*var[v])
                continue;
            hb_object *o = hb_node_load(h, *var[v], 1 + rnd(&t->rng, NF));
            int w = (int)rnd(&t->rng, NVARS);
            hb_set_new(h, var[w], o);
            t->var[w] = gid_of(o);
        } else if (k < 70) { /* publish */
            int s = (int)(rnd(&t->rng, SLOTS / T)) * T + t->tid;
            if (s >= SLOTS || s == 0) /* slot 0 holds the exchange's id */
                continue;
            hb_node_store(h, ex, (size_t)s, *var[v]);
            exch[s] = t->var[v];
        } else if (k < 80) { /* fetch */
            hb_object *o = hb_node_load(h, ex, 1 + rnd(&t->rng, SLOTS - 1));
            hb_set_new(h, var[v], o);
            t->var[v] = gid_of(o);
        } else if (k < 90) { /* del var */
            hb_del(h, var[v]);
            t->var[v] = -1;
        } else if (k < 99) { /* churn: garbage that drives collections */
            hb_scope s2;
            hb_scope_enter(h, &s2);
            hb_object **tmp = hb_var(h);
            for (int i = 0; i < 4; i++)
                hb_set_new(h, tmp, hb_list_new(h));
            hb_scope_leave(h, &s2);
            hb_safepoint(h);
        } else if (rnd(&t->rng, 20) == 0) {
            hb_collect(h, (int)rnd(&t->rng, 3));
        }
    }
    hb_scope_leave(h, &sc);
    hb_mutator_detach(h);
    return NULL;
}

/* Reachability over the union model from the exchange slots; under rc the
 * garbage that cycles reach (Kahn: what never reaches in-degree 0). */
static int run_one(const hb_collector *c, int mode, int threads)
{
    void *as;
    const hb_allocator *a = &hb_system_allocator;
    if (a->init(&as, NULL))
        return 1;
    hb_heap_config cfg = {.alloc = a, .alloc_state = as, .shared = 1, .refcount_mode = mode};
    cfg.min_heap = 64 << 10;
    if (hb_heap_new(&heap, c, &cfg)) {
        fprintf(stderr, "%s: no shared heap\n", c->name);
        return 1;
    }
    T = threads;
    size_t total = (size_t)threads * PER;
    fin = calloc(total + 1, 1); /* + the exchange node */
    for (int s = 0; s < SLOTS; s++)
        exch[s] = -1;
    /* the exchange node: made by an attached main thread, kept in a global */
    hb_mutator_attach(heap);
    exch_g = hb_global(heap);
    hb_set_new(heap, exch_g, hb_node_new(heap, &Node, SLOTS));
    hb_node_set_new(heap, *exch_g, 0, hb_int_new(heap, 1000 + (int64_t)total));
    hb_mutator_detach(heap);
    pthread_t th[8];
    for (int i = 0; i < threads; i++) {
        ts[i] = (tstate){.tid = i, .rng = 0x5eed + (uint64_t)i * 7919 + (uint64_t)mode * 31};
        ts[i].edge = malloc((size_t)PER * NF * sizeof(int32_t));
        pthread_create(&th[i], NULL, mutate, &ts[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    int bad = 0;
    for (int i = 0; i < threads; i++)
        if (ts[i].err) {
            fprintf(stderr, "thread %d failed: %d\n", i, ts[i].err);
            bad = 1;
        }
    hb_mutator_attach(heap);
    hb_collect(heap, -1);
    hb_collect(heap, -1); /* marksweep: finalized objects go one cycle later */
    hb_mutator_detach(heap);

    /* the oracle */
    char *reach = calloc(total, 1), *leak = calloc(total, 1);
    int32_t *queue = malloc(total * sizeof *queue);
    size_t qn = 0, nodes = 0;
    for (int i = 0; i < threads; i++)
        nodes += (size_t)ts[i].n;
#define EDGE(g, f) ts[(g) / PER].edge[(size_t)((g) % PER) * NF + (f)]
    /* slot 0 of the exchange is its id: slots written are 1..SLOTS-1 */
    for (int s = 1; s < SLOTS; s++)
        if (exch[s] >= 0 && !reach[exch[s]]) {
            reach[exch[s]] = 1;
            queue[qn++] = exch[s];
        }
    for (size_t i = 0; i < qn; i++)
        for (int f = 0; f < NF; f++) {
            int32_t t = EDGE(queue[i], f);
            if (t >= 0 && !reach[t]) {
                reach[t] = 1;
                queue[qn++] = t;
            }
        }
    size_t nreach = qn, nleak = 0;
    int is_rc = !strcmp(c->name, "rc"), is_boehm = !strcmp(c->name, "boehm");
    size_t nfin = 0, ngarbage = 0;
    if (is_rc) {
        uint32_t *indeg = calloc(total, sizeof *indeg);
        for (int i = 0; i < threads; i++)
            for (int k = 0; k < ts[i].n; k++) {
                int32_t g = i * PER + k;
                if (reach[g])
                    continue;
                leak[g] = 1;
                for (int f = 0; f < NF; f++)
                    if (EDGE(g, f) >= 0)
                        indeg[EDGE(g, f)]++;
            }
        qn = 0;
        for (int i = 0; i < threads; i++)
            for (int k = 0; k < ts[i].n; k++) {
                int32_t g = i * PER + k;
                if (leak[g] && !indeg[g])
                    queue[qn++] = g;
            }
        for (size_t i = 0; i < qn; i++) {
            leak[queue[i]] = 0;
            for (int f = 0; f < NF; f++) {
                int32_t t = EDGE(queue[i], f);
                if (t >= 0 && --indeg[t] == 0)
                    queue[qn++] = t;
            }
        }
        for (size_t g = 0; g < total; g++)
            nleak += leak[g] != 0;
        free(indeg);
    }
    for (int i = 0; i < threads && !bad; i++)
        for (int k = 0; k < ts[i].n; k++) {
            int32_t g = i * PER + k;
            int want = reach[g] || leak[g] ? 0 : 1;
            ngarbage += want;
            nfin += fin[g] == 1;
            if (is_boehm ? fin[g] > want : fin[g] != want) {
                fprintf(stderr, "%s/%s/%d: node %d (reachable %d, leaked %d) finalized %d times\n",
                        c->name, shared_mode_name(c, mode), threads, g, reach[g], leak[g], fin[g]);
                bad = 1;
                break;
            }
        }
    if (!bad && is_boehm && nfin < ngarbage - ngarbage / 10) {
        fprintf(stderr, "boehm/%d: %zu of %zu unreachable nodes finalized (want 90%%)\n", threads, nfin,
                ngarbage);
        bad = 1;
    }
    /* each node holds its id (an int); plus the exchange node and its id
     * (boehm's live_objects counts only what a finalizer saw die) */
    uint64_t want_live = 2 * (nreach + nleak) + 2;
    if (!bad && !is_boehm && heap->live_objects != want_live) {
        fprintf(stderr, "%s/%s/%d: %llu objects alive, the oracle says %llu\n", c->name,
                shared_mode_name(c, mode), threads, (unsigned long long)heap->live_objects,
                (unsigned long long)want_live);
        bad = 1;
    }
    if (!bad && is_rc) {
        uint64_t lo, lb;
        if (hb_heap_leaks(heap, &lo, &lb) || lo != 2 * nleak) {
            fprintf(stderr, "rc/%s/%d: leaked %llu objects, the oracle says %llu\n",
                    shared_mode_name(c, mode), threads, (unsigned long long)lo,
                    (unsigned long long)(2 * nleak));
            bad = 1;
        }
    }
    printf("%-9s %-6s %d threads: %zu nodes, %zu reachable, %zu leaked, %zu of %zu unreachable finalized, "
           "%llu collections%s\n",
           c->name, shared_mode_name(c, mode), threads, nodes, nreach, nleak, nfin, ngarbage,
           (unsigned long long)heap->collections, bad ? "  FAILED" : "");
    hb_heap_destroy(heap);
    a->destroy(as);
    for (int i = 0; i < threads; i++)
        free(ts[i].edge);
    free(reach);
    free(leak);
    free(queue);
    free(fin);
    return bad;
}

int main(int argc, char **argv)
{
    hb_class_init(&Node, "Node", node_del, NULL, 0);
    const char *only = argc > 1 ? argv[1] : NULL;
    static const char *const names[] = {"rc", "rcgen", "marksweep", "boehm", NULL};
    return shared_cases(names, only, run_one);
}
