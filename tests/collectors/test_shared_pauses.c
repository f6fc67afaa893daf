/* test_shared_pauses.c -- the pause events of a shared heap, checked over
 * many collections with 2 to 8 threads contending to stop the world.
 *
 * Every thread allocates garbage that makes collections due, asks for
 * collections of its own (hb_collect), blocks and unblocks around a yield
 * (hb_mutator_block), and detaches and attaches again in the middle of the
 * run, so collections are requested while another is stopping or resuming
 * the world and threads park on every path there is. One more thread,
 * never attached, collects too. Each event the heap reports must be a
 * pause as collector.h defines it:
 *   - 0 <= ttsp_ns <= duration_ns, and no duration longer than the run
 *     (an unsigned underflow: the end of one stop minus the request of the
 *     next);
 *   - inside the run: start_ns (the request) after the threads started,
 *     start_ns + duration_ns before the last of them finished;
 *   - disjoint: the world stops for one collection at a time, from its
 *     request to its last thread resuming, so sorted by start each pause
 *     ends before the next one is requested;
 *   - one event per collection the heap counted;
 *   - explicit (is_explicit 1) exactly as many as the hb_collect calls, each
 *     of which collects once, with other threads asking meanwhile (that
 *     automatic collections say 0: test_gc_explicit.c).
 * rcgen and marksweep (rc never collects), atomic and biased counts; boehm
 * (when built, not under TSan: it cannot follow Boehm's signals), whose
 * pauses are Boehm's own collection events, without the outsider (only
 * threads registered with Boehm may collect). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/collector.h"
#include "shared_cases.h"

extern const hb_allocator hb_system_allocator;

#ifdef HB_SANITIZER
#define OPS 20000
#else
#define OPS 200000
#endif
#define ROUNDS 4 /* attach .. detach per thread (a heap has 254 attaches) */
#define MAXT 8

typedef struct sink {
    pthread_mutex_t lock;
    hb_gc_event *ev;
    size_t n, cap;
    int oom;
} sink;

static void on_event(void *arg, const hb_gc_event *ev)
{
    sink *s = arg;
    pthread_mutex_lock(&s->lock);
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        hb_gc_event *v = realloc(s->ev, cap * sizeof *v);
        if (!v)
            s->oom = 1;
        else {
            s->ev = v;
            s->cap = cap;
        }
    }
    if (s->n < s->cap)
        s->ev[s->n++] = *ev;
    pthread_mutex_unlock(&s->lock);
}

typedef struct tstate {
    hb_heap *h;
    uint64_t rng;
    int err;
    volatile int *done; /* the unattached collector's stop */
    uint64_t asked;     /* hb_collect calls made */
} tstate;

static void *mutate(void *arg)
{
    tstate *t = arg;
    hb_heap *h = t->h;
    for (int r = 0; r < ROUNDS; r++) {
        if ((t->err = hb_mutator_attach(h)) != 0)
            return NULL;
        hb_scope sc;
        hb_scope_enter(h, &sc);
        hb_object **keep = hb_var(h), **tmp = hb_var(h);
        hb_set_new(h, keep, hb_list_new(h));
        for (int op = 0; op < OPS / ROUNDS; op++) {
            int k = (int)rnd(&t->rng, 1000);
            if (k < 900) { /* garbage, and a cycle now and then (rcgen's work) */
                hb_set_new(h, tmp, hb_list_new(h));
                if (!*tmp) {
                    t->err = ENOMEM;
                    break;
                }
                if (k < 100)
                    hb_list_append(h, *tmp, *tmp);
            } else if (k < 960) {
                hb_safepoint(h);
            } else if (k < 990) {
                hb_collect(h, (int)rnd(&t->rng, HB_GENERATIONS));
                t->asked++;
            } else {
                hb_mutator_block(h);
                sched_yield();
                hb_mutator_unblock(h);
            }
        }
        hb_scope_leave(h, &sc);
        hb_mutator_detach(h);
    }
    return NULL;
}

/* Not attached: collects now and then until the mutators are done. */
static void *outsider(void *arg)
{
    tstate *t = arg;
    while (!__atomic_load_n(t->done, __ATOMIC_ACQUIRE)) {
        hb_collect(t->h, -1);
        t->asked++;
        for (int i = 0; i < 2000; i++)
            sched_yield();
    }
    return NULL;
}

static int cmp_start(const void *a, const void *b)
{
    const hb_gc_event *x = a, *y = b;
    return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static int run_one(const hb_collector *c, int mode, int threads)
{
    void *as;
    const hb_allocator *a = &hb_system_allocator;
    if (a->init(&as, NULL))
        return 1;
    sink s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    hb_heap_config cfg = {.alloc = a, .alloc_state = as, .shared = 1, .refcount_mode = mode,
                          .hook = on_event, .hook_arg = &s};
    cfg.min_heap = 32 << 10;
    cfg.threshold[0] = 200;
    hb_heap *h;
    if (hb_heap_new(&h, c, &cfg)) {
        fprintf(stderr, "%s: no shared heap\n", c->name);
        return 1;
    }
    tstate ts[MAXT + 1];
    pthread_t th[MAXT + 1];
    volatile int done = 0;
    uint64_t t0 = hb_now_ns();
    int outside = !c->own_stw;
    for (int i = 0; i < threads + outside; i++) {
        ts[i] = (tstate){.h = h, .rng = 0x9a05e + (uint64_t)i * 7919 + (uint64_t)mode * 31, .done = &done};
        pthread_create(&th[i], NULL, i < threads ? mutate : outsider, &ts[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    if (outside)
        pthread_join(th[threads], NULL);
    uint64_t t1 = hb_now_ns();

    int bad = s.oom;
    const char *rc = shared_mode_name(c, mode);
    for (int i = 0; i < threads; i++)
        if (ts[i].err) {
            fprintf(stderr, "%s/%s/%d: thread %d failed: %s\n", c->name, rc, threads, i, strerror(ts[i].err));
            bad = 1;
        }
    if (s.n != h->collections) {
        fprintf(stderr, "%s/%s/%d: %zu events, %llu collections\n", c->name, rc, threads, s.n,
                (unsigned long long)h->collections);
        bad = 1;
    }
    uint64_t asked = 0, nexplicit = 0;
    for (int i = 0; i < threads + outside; i++)
        asked += ts[i].asked;
    for (size_t i = 0; i < s.n; i++)
        nexplicit += s.ev[i].is_explicit == 1;
    if (!bad && nexplicit != asked) {
        fprintf(stderr, "%s/%s/%d: %llu explicit events of %zu, %llu hb_collect calls\n", c->name, rc, threads,
                (unsigned long long)nexplicit, s.n, (unsigned long long)asked);
        bad = 1;
    }
    qsort(s.ev, s.n, sizeof *s.ev, cmp_start);
    uint64_t max_ttsp = 0, max_pause = 0;
    for (size_t i = 0; i < s.n && !bad; i++) {
        const hb_gc_event *e = &s.ev[i];
        const char *why = NULL;
        if (e->ttsp_ns > e->duration_ns)
            why = "ttsp longer than the pause";
        else if (e->duration_ns > t1 - t0)
            why = "a pause longer than the run (negative)";
        else if (e->start_ns < t0 || e->start_ns + e->duration_ns > t1)
            why = "outside the run";
        else if (i && s.ev[i - 1].start_ns + s.ev[i - 1].duration_ns > e->start_ns)
            why = "overlaps the previous pause";
        if (why) {
            fprintf(stderr,
                    "%s/%s/%d: event %zu of %zu: %s: start %+lld ns, duration %lld ns, ttsp %lld ns "
                    "(previous: start %+lld, duration %lld)\n",
                    c->name, rc, threads, i, s.n, why, (long long)(e->start_ns - t0),
                    (long long)e->duration_ns, (long long)e->ttsp_ns,
                    i ? (long long)(s.ev[i - 1].start_ns - t0) : 0LL,
                    i ? (long long)s.ev[i - 1].duration_ns : 0LL);
            bad = 1;
        }
        if (e->ttsp_ns > max_ttsp)
            max_ttsp = e->ttsp_ns;
        if (e->duration_ns > max_pause)
            max_pause = e->duration_ns;
    }
    if (!bad && s.n < 10) {
        fprintf(stderr, "%s/%s/%d: only %zu collections: the test tests nothing\n", c->name, rc, threads, s.n);
        bad = 1;
    }
    printf("%-9s %-6s %d threads: %zu pauses (%llu explicit), max %.3f ms, max ttsp %.3f ms%s\n", c->name, rc,
           threads, s.n, (unsigned long long)nexplicit, (double)max_pause / 1e6, (double)max_ttsp / 1e6,
           bad ? "  FAILED" : "");
    hb_heap_destroy(h);
    a->destroy(as);
    free(s.ev);
    return bad;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    static const char *const names[] = {"rcgen", "marksweep", "boehm", NULL};
    return shared_cases(names, only, run_one);
}
