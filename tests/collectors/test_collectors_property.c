/* test_collectors_property.c -- 10^4 random object graphs under random
 * mutations, on every collector, checked after every step against an
 * independent model: a plain adjacency matrix and a breadth-first
 * reachability oracle that shares no code with the collectors.
 *
 * Checked: no reachable object is ever freed or finalized (and ASan checks
 * that no freed memory is touched); under refcounting an unreachable object
 * that no garbage cycle reaches is freed at once; after a full collection
 * every unreachable object is freed (rcgen, rcinc; marksweep after two, since a
 * finalized object is freed one cycle later); under rc exactly the garbage
 * that cycles reach leaks, and hb_heap_leaks counts it, objects and bytes;
 * every finalizer runs at most once, and exactly once for each object that
 * died. Deaths are observed through a weakref per object whose callback
 * counts, held in a rooted list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "collectors/collector.h"

extern const hb_allocator hb_system_allocator;
extern const hb_allocator hb_arena_allocator;

#define TRIALS 10000
#define STEPS 40
#define MAXOBJ 48 /* ids stay small ints: the id field costs no object */
#define NVARS 4
#define MAXF 3

typedef struct model {
    int nobj;
    int nf[MAXOBJ];
    int edge[MAXOBJ][MAXF + 1]; /* field 1..nf; -1 is None */
    int var[NVARS];
    int has_fin[MAXOBJ];
    size_t bytes[MAXOBJ];
    /* the objects, stored complemented: this model is static data, which a
     * conservative collector (boehm) scans as a root, and a plain pointer
     * here would keep every object alive */
    uintptr_t hidden[MAXOBJ];
    int dead[MAXOBJ]; /* weakref callbacks seen */
    int fin[MAXOBJ];  /* finalizer runs */
    char reach[MAXOBJ], leak[MAXOBJ];
    /* no weakrefs and no finalizers, so rcgen's plain-garbage path runs:
     * deaths are then checked by count (live_objects), not one by one */
    int plain;
} model;

static hb_object *ptr(const model *m, int id) { return (hb_object *)~m->hidden[id]; }

/* A conservative collector (boehm) may keep garbage a stale word on the C
 * stack still points at: for it, garbage that stays is counted, not
 * failed, and the total must stay under a bound (test_random_graphs). */
static uint64_t garbage_seen, garbage_kept;

static uint64_t rng;
static uint64_t rnd(uint64_t n)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) % n;
}

static hb_type WithDel, Plain;

static void with_del(hb_heap *h, hb_object *self)
{
    (void)h;
    model *m = hb_typeof(self)->udata;
    m->fin[hb_int_value(hb_node_get(self, 0))]++;
}

static void on_death(hb_heap *h, hb_object *wr, hb_object *arg, void *ctx)
{
    (void)h, (void)wr, (void)arg;
    (*(int *)ctx)++;
}

/* The oracle: reach[] by BFS from the variables; leak[] = garbage that a
 * garbage cycle reaches (what refcounting can never free). */
static void oracle(model *m)
{
    int queue[MAXOBJ], qn = 0;
    memset(m->reach, 0, sizeof m->reach);
    memset(m->leak, 0, sizeof m->leak);
    for (int v = 0; v < NVARS; v++)
        if (m->var[v] >= 0 && !m->reach[m->var[v]]) {
            m->reach[m->var[v]] = 1;
            queue[qn++] = m->var[v];
        }
    for (int i = 0; i < qn; i++)
        for (int f = 1; f <= m->nf[queue[i]]; f++) {
            int t = m->edge[queue[i]][f];
            if (t >= 0 && !m->reach[t]) {
                m->reach[t] = 1;
                queue[qn++] = t;
            }
        }
    /* closure within garbage: can o reach itself? then o and all it reaches leak */
    for (int o = 0; o < m->nobj; o++) {
        if (m->reach[o])
            continue;
        char seen[MAXOBJ] = {0};
        int st[MAXOBJ], sn = 0, cyclic = 0;
        st[sn++] = o;
        while (sn) {
            int x = st[--sn];
            for (int f = 1; f <= m->nf[x]; f++) {
                int t = m->edge[x][f];
                if (t < 0)
                    continue;
                if (t == o)
                    cyclic = 1;
                if (!seen[t]) {
                    seen[t] = 1;
                    st[sn++] = t;
                }
            }
        }
        if (cyclic) {
            m->leak[o] = 1;
            for (int x = 0; x < m->nobj; x++)
                if (seen[x])
                    m->leak[x] = 1;
        }
    }
}

static int pick_reachable(const model *m)
{
    int c[MAXOBJ], n = 0;
    for (int i = 0; i < m->nobj; i++)
        if (m->reach[i])
            c[n++] = i;
    return n ? c[rnd((uint64_t)n)] : -1;
}

/* all_dead: every garbage object must be dead now (after full collection). */
static void check(const model *m, hb_heap *h, int all_dead, const char *where, int trial)
{
    int rcount = h->collector->refcounts;
    if (m->plain) {
        /* alive: the reachable nodes and the weakref list, at least; after
         * a full collection exactly; under rc exactly, with what leaked */
        uint64_t reach = 1, leak = 0;
        int is_rc = !strcmp(h->collector->name, "rc");
        for (int o = 0; o < m->nobj; o++) {
            reach += m->reach[o] != 0;
            leak += !m->reach[o] && m->leak[o];
        }
        if (!strcmp(h->collector->name, "boehm"))
            return; /* frees without telling us (boehm.c) */
        if ((all_dead || is_rc) && h->live_objects != reach + (is_rc ? leak : 0))
            fail_msg("trial %d %s: %llu objects alive, the oracle says %llu", trial, where,
                     (unsigned long long)h->live_objects,
                     (unsigned long long)(reach + (is_rc ? leak : 0)));
        if (h->live_objects < reach)
            fail_msg("trial %d %s: %llu objects alive, fewer than the %llu reachable", trial,
                     where, (unsigned long long)h->live_objects, (unsigned long long)reach);
        if (rcount && h->live_objects > reach + leak)
            fail_msg("trial %d %s: %llu objects alive, more than %llu reachable or cyclic",
                     trial, where, (unsigned long long)h->live_objects,
                     (unsigned long long)(reach + leak));
        return;
    }
    for (int o = 0; o < m->nobj; o++) {
        if (m->dead[o] > 1 || m->fin[o] > 1)
            fail_msg("trial %d %s: object %d died %d times, finalized %d times", trial, where, o,
                     m->dead[o], m->fin[o]);
        if (m->reach[o]) {
            if (m->dead[o] || m->fin[o])
                fail_msg("trial %d %s: reachable object %d was freed/finalized", trial, where, o);
            continue;
        }
        int must_die = all_dead || (rcount && !m->leak[o]);
        if (must_die && !strcmp(h->collector->name, "boehm")) {
            if (strcmp(where, "end"))
                continue; /* counted once per object, at the end */
            garbage_seen++;
            if (!m->dead[o]) {
                garbage_kept++;
                continue;
            }
        }
        if (!strcmp(h->collector->name, "rc") && m->leak[o] && m->dead[o])
            fail_msg("trial %d %s: rc freed cyclic garbage %d", trial, where, o);
        if (must_die && !m->dead[o])
            fail_msg("trial %d %s: unreachable object %d (leak=%d) not freed by %s", trial, where,
                     o, m->leak[o], h->collector->name);
        if (must_die && m->has_fin[o] && m->fin[o] != 1)
            fail_msg("trial %d %s: dead object %d finalized %d times", trial, where, o, m->fin[o]);
    }
}

static void full_collect(hb_heap *h)
{
    hb_collect(h, -1);
    if (!h->collector->refcounts)
        hb_collect(h, -1); /* finalized objects go one cycle later */
}

static void one_trial(int trial, const hb_collector *c, const hb_allocator *a)
{
    static model m;
    memset(&m, 0, sizeof m);
    for (int v = 0; v < NVARS; v++)
        m.var[v] = -1;
    WithDel.udata = &m;

    m.plain = trial % 5 == 1;
    void *as;
    assert_int_equal(a->init(&as, NULL), 0);
    hb_heap_config cfg = {.alloc = a, .alloc_state = as};
    /* plain trials collect less often, so garbage piles up into larger,
     * interlinked sets (rcgen's plain DELETE must settle objects that
     * garbage not yet cleared still refers to) */
    cfg.threshold[0] = m.plain ? 16 + (long)rnd(48) : 1 + (long)rnd(12);
    cfg.threshold[1] = 1 + (long)rnd(3);
    cfg.threshold[2] = 1 + (long)rnd(3);
    cfg.min_heap = 256 + rnd(4096);
    cfg.grow = 1.2 + (double)rnd(10) / 10;
    cfg.incremental_mark = (int)rnd(2); /* rcinc's two marks */
    hb_heap *h;
    assert_int_equal(hb_heap_new(&h, c, &cfg), 0);

    hb_object **wrlist = hb_var(h);
    hb_set_new(h, wrlist, hb_list_new(h));
    hb_object **var[NVARS];
    for (int v = 0; v < NVARS; v++)
        var[v] = hb_var(h);

    for (int step = 0; step < STEPS; step++) {
        int op = (int)rnd(10), all_dead = 0;
        if (op <= 2 && m.nobj < MAXOBJ) { /* var = Node() */
            int id = m.nobj++, v = (int)rnd(NVARS);
            m.nf[id] = 1 + (int)rnd(MAXF);
            for (int f = 1; f <= MAXF; f++)
                m.edge[id][f] = -1;
            m.has_fin[id] = !m.plain && rnd(3) == 0;
            hb_object *o = hb_node_new(h, m.has_fin[id] ? &WithDel : &Plain, (size_t)m.nf[id] + 1);
            assert_non_null(o);
            hb_set_new(h, var[v], o); /* stored before the next allocation */
            m.var[v] = id;
            m.hidden[id] = ~(uintptr_t)o;
            m.bytes[id] = hb_object_bytes(o);
            hb_node_set_new(h, o, 0, hb_int_new(h, id));
            if (!m.plain) {
                hb_object *wr = hb_weakref_new(h, o, on_death, NULL, &m.dead[id]);
                assert_non_null(wr);
                assert_int_equal(hb_list_append_new(h, *wrlist, wr), 0);
            }
        } else if (op <= 5) { /* a.f = b or None */
            int x = pick_reachable(&m);
            if (x >= 0) {
                int f = 1 + (int)rnd((uint64_t)m.nf[x]);
                int t = rnd(4) ? pick_reachable(&m) : -1;
                hb_node_set(h, ptr(&m, x), (size_t)f, t >= 0 ? ptr(&m, t) : NULL);
                m.edge[x][f] = t;
            }
        } else if (op <= 7) { /* v = b, or del v */
            int v = (int)rnd(NVARS), t = rnd(3) ? pick_reachable(&m) : -1;
            hb_set(h, var[v], t >= 0 ? ptr(&m, t) : NULL);
            m.var[v] = t;
        } else if (op == 8 && (!m.plain || rnd(3) == 0)) {
            if (rnd(2) || !h->collector->refcounts) {
                full_collect(h);
                all_dead = strcmp(c->name, "rc") != 0;
            } else {
                hb_collect(h, (int)rnd(2));
            }
        } else {
            /* allocation churn with nothing kept: drives automatic collections */
            hb_scope s;
            hb_scope_enter(h, &s);
            hb_object **tmp = hb_var(h);
            for (int i = 0; i < 8; i++)
                hb_set_new(h, tmp, hb_list_new(h));
            hb_scope_leave(h, &s);
        }
        oracle(&m);
        check(&m, h, all_dead, "step", trial);
    }

    /* the end of the cell: drop every variable but the weakref list */
    for (int v = 0; v < NVARS; v++) {
        hb_del(h, var[v]);
        m.var[v] = -1;
    }
    oracle(&m);
    uint64_t lo, lb, want_o = 0, want_b = 0;
    for (int o = 0; o < m.nobj; o++)
        if (m.leak[o]) {
            want_o++;
            want_b += m.bytes[o];
        }
    if (!strcmp(c->name, "rc")) {
        assert_int_equal(hb_heap_leaks(h, &lo, &lb), 0);
        if (lo != want_o || lb != want_b)
            fail_msg("trial %d: rc leaked %llu objects / %llu bytes, oracle says %llu / %llu", trial,
                     (unsigned long long)lo, (unsigned long long)lb, (unsigned long long)want_o,
                     (unsigned long long)want_b);
        check(&m, h, 0, "end", trial);
    } else {
        full_collect(h);
        check(&m, h, 1, "end", trial);
        if (!strcmp(c->name, "boehm")) {
            /* Boehm frees without telling us: live counts, hence leaks,
             * are not known (boehm.c) */
            hb_heap_destroy(h);
            a->destroy(as);
            return;
        }
        assert_int_equal(hb_heap_leaks(h, &lo, &lb), 0);
        assert_int_equal(lo, 0);
        assert_int_equal(lb, 0);
    }
    hb_heap_destroy(h);
    a->destroy(as);
}

static void test_random_graphs(void **state)
{
    (void)state;
    hb_class_init(&WithDel, "WithDel", with_del, NULL, 0);
    hb_class_init(&Plain, "Plain", NULL, NULL, 0);
    rng = 0x5eed;
    for (int trial = 0; trial < TRIALS; trial++) {
        const hb_collector *c = hb_collectors[trial % hb_collector_count];
        if (c->external)
            continue; /* cpython: no in-process heap (collector.h) */
        const hb_allocator *a = trial % 7 == 0 ? &hb_arena_allocator : &hb_system_allocator;
        one_trial(trial, c, a);
    }
    if (garbage_seen) {
        /* boehm: conservative, so some garbage may survive; a few percent
         * is what stale stack words explain (1.6% measured), more would be
         * a bug of ours (a root we keep that we should not). Under ASan
         * frames are larger and keep more stale words (6.8% measured). */
        printf("boehm: %llu of %llu garbage objects still alive after full collections\n",
               (unsigned long long)garbage_kept, (unsigned long long)garbage_seen);
#ifdef HB_SANITIZER
        assert_true(garbage_kept * 8 <= garbage_seen);
#else
        assert_true(garbage_kept * 20 <= garbage_seen);
#endif
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_graphs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
