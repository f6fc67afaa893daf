/* heap.c -- what every collector shares: the heap's lifecycle, variables
 * (the shadow stack), the roots, object memory, the refcount deallocation
 * path, the gc module's entry points and the verifying leak trace. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* allocations between two clock readings of the garbage probe */
#define PROBE_EVERY 256

uint64_t hb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void hb_heap_event(hb_heap *h, const hb_gc_event *ev)
{
    if (h->sh && hb_world_stopped_by_me()) {
        hb_shared_event(h, ev); /* its pause ends when the world starts */
        return;
    }
    /* The collector's own running totals, kept whether or not anyone
     * listens: the harness checks its recorded pauses against them. */
    h->gc_ns_total += ev->duration_ns;
    h->collections++;
    h->collected_objects += ev->freed;
    if (h->cfg.hook)
        h->cfg.hook(h->cfg.hook_arg, ev);
}

void hb_heap_oom(hb_heap *h, size_t asked, uint64_t used)
{
    if (h->cfg.oom_hook)
        h->cfg.oom_hook(h->cfg.hook_arg, asked, used, h->cfg.max_heap);
}

/* ---- lifecycle ---- */

static void stack_leave(hb_heap *h, hb_object **vars, size_t *nvars, size_t base);

int hb_heap_new(hb_heap **out, const hb_collector *c, const hb_heap_config *cfg)
{
    *out = NULL;
    if (!c || !cfg || !cfg->alloc || !cfg->alloc_state)
        return EINVAL;
    if (cfg->max_heap && !c->max_heap_ok)
        return ENOTSUP;
    const hb_allocator *a = cfg->alloc;
    hb_heap *h = a->alloc(cfg->alloc_state, sizeof *h);
    if (!h)
        return ENOMEM;
    memset(h, 0, sizeof *h);
    h->collector = c;
    h->alloc = a;
    h->alloc_state = cfg->alloc_state;
    h->obj_alloc = a;
    h->obj_alloc_state = cfg->alloc_state;
    h->cfg = *cfg;
    h->enabled = 1;
    h->max_vars = cfg->max_vars ? cfg->max_vars : (size_t)1 << 16;
    h->vars = a->alloc(h->alloc_state, h->max_vars * sizeof *h->vars);
    int rc = h->vars ? hb_types_init(h) : ENOMEM;
    if (!rc && cfg->shared)
        rc = hb_shared_init(h);
    if (!rc)
        rc = c->init(h);
    if (rc) {
        hb_shared_fini(h);
        if (h->smallints)
            hb_types_fini(h);
        a->free(h->alloc_state, h->vars, h->max_vars * sizeof *h->vars);
        a->free(h->alloc_state, h, sizeof *h);
        return rc;
    }
    /* from here on (the immortals made above are not the workload's) */
    h->limit = c->own_heap ? 0 : cfg->max_heap;
    h->globals.base = 0; /* the heap's own variables (on a shared heap: no thread's) */
    if (!cfg->garbage_every_ns || !c->refcounts || cfg->shared)
        h->cfg.garbage_every_ns = 0; /* see collector.h */
    h->probe_countdown = h->cfg.garbage_every_ns ? PROBE_EVERY : UINT32_MAX;
    h->probe_next_ns = hb_now_ns() + h->cfg.garbage_every_ns;
    *out = h;
    return 0;
}

void hb_heap_destroy(hb_heap *h)
{
    if (!h)
        return;
    if (h->sh)
        hb_shared_quiesce(h, 1); /* no thread attached: we run alone */
    hb_gc_disable(h);
    stack_leave(h, h->vars, &h->nvars, h->globals.base);
    h->closing = 1;
    hb_finalizers_forget(h);
    hb_object *g = h->garbage;
    h->garbage = NULL;
    hb_decref(h, g);
    h->collector->destroy(h); /* frees every object still alive */
    hb_types_fini(h);
    if (h->sh) {
        hb_shared_fini(h);
        hb_shared_quiesce(h, 0);
    }
    const hb_allocator *a = h->alloc;
    void *as = h->alloc_state;
    a->free(as, h->vars, h->max_vars * sizeof *h->vars);
    a->free(as, h, sizeof *h);
}

/* ---- variables ---- */

/* On a shared heap each attached thread has its own shadow stack. */
static __attribute__((noinline)) hb_mutator *self(hb_heap *h)
{
    hb_mutator *m = hb_mutator_self(h);
    if (!m) {
        fprintf(stderr, "heapbench: a thread uses a shared heap without hb_mutator_attach\n");
        abort();
    }
    return m;
}

void hb_scope_enter(hb_heap *h, hb_scope *s)
{
    s->base = __builtin_expect(h->sh != NULL, 0) ? self(h)->nvars : h->nvars;
}

static void stack_leave(hb_heap *h, hb_object **vars, size_t *nvars, size_t base)
{
    while (*nvars > base) {
        hb_object *o = vars[--*nvars];
        hb_decref(h, o);
    }
}

void hb_scope_leave(hb_heap *h, hb_scope *s)
{
    if (__builtin_expect(h->sh != NULL, 0)) {
        hb_mutator *m = self(h);
        stack_leave(h, m->vars, &m->nvars, s->base);
    } else {
        stack_leave(h, h->vars, &h->nvars, s->base);
    }
}

static __attribute__((noinline)) void overflow(size_t max)
{
    fprintf(stderr, "heapbench: shadow stack overflow: %zu variables (max_vars) in use\n", max);
    abort();
}

hb_object **hb_var(hb_heap *h)
{
    hb_object **vars = h->vars;
    size_t *n = &h->nvars;
    if (__builtin_expect(h->sh != NULL, 0)) {
        hb_mutator *m = self(h);
        vars = m->vars;
        n = &m->nvars;
    }
    if (*n == h->max_vars)
        overflow(h->max_vars);
    hb_object **v = &vars[(*n)++];
    *v = NULL;
    return v;
}

/* The roots, all of them: variables (locals and globals), the live
 * weakref.finalize objects, and gc.garbage. Immortal objects are not roots:
 * they hold no references. */
void hb_heap_roots(hb_heap *h, hb_visit_fn visit, void *arg)
{
    for (size_t i = 0; i < h->nvars; i++)
        if (h->vars[i])
            visit(h->vars[i], arg);
    if (h->sh) /* every thread's locals; the world is stopped */
        for (size_t t = 0; (int)t < hb_shared_nslots(h); t++) {
            hb_mutator *m = hb_shared_mutator(h, (int)t + 1);
            for (size_t i = 0; m && i < m->nvars; i++)
                if (m->vars[i])
                    visit(m->vars[i], arg);
        }
    hb_finalizers_visit(h, visit, arg);
    if (h->garbage)
        visit(h->garbage, arg);
}

/* ---- memory ---- */

static inline void account_(hb_heap *h, int64_t bytes)
{
    /* A relaxed atomic store (a plain mov on x86): the harness's sampler
     * reads live_bytes from its own thread (hb_heap_live_bytes). */
    uint64_t live = h->live_bytes + (uint64_t)bytes;
    __atomic_store_n(&h->live_bytes, live, __ATOMIC_RELAXED);
    if (live > h->peak_live_bytes)
        h->peak_live_bytes = live;
}

static __attribute__((noinline)) void account_locked(hb_heap *h, int64_t bytes)
{
    hb_heap_lock(h);
    account_(h, bytes);
    hb_heap_unlock(h);
}

static inline void account(hb_heap *h, int64_t bytes)
{
    if (__builtin_expect(h->sh != NULL, 0))
        account_locked(h, bytes);
    else
        account_(h, bytes);
}

static size_t collect_(hb_heap *h, int gen, int is_explicit);

/* An allocation of n more bytes would cross the heap's limit: free what is
 * known to be garbage, then, where a collection may run (`may_collect`: an
 * object allocation, whose caller's fresh objects are not promised to
 * survive it; never a buffer's growth, whose owner may be such an object),
 * collect everything; 0 when it fits then, else ENOMEM once the hook has
 * been told (and has returned). */
static __attribute__((noinline)) int heap_full(hb_heap *h, size_t n, int may_collect)
{
    if (h->collector->reclaim && !h->collecting)
        h->collector->reclaim(h);
    if (hb_heap_live_bytes(h) + n <= h->limit)
        return 0;
    if (may_collect && h->enabled && !h->collecting && !h->in_dealloc) {
        collect_(h, -1, 0); /* automatic: the program did not ask for it */
        if (hb_heap_live_bytes(h) + n <= h->limit)
            return 0;
    }
    hb_heap_oom(h, n, hb_heap_live_bytes(h));
    return ENOMEM;
}

static inline int over_limit(hb_heap *h, size_t n, int may_collect)
{
    return __builtin_expect(h->limit != 0, 0) && hb_heap_live_bytes(h) + n > h->limit &&
           heap_full(h, n, may_collect);
}

void *hb_mem_alloc(hb_heap *h, size_t n)
{
    if (over_limit(h, n, 0)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = h->obj_alloc->alloc(h->obj_alloc_state, n);
    if (p)
        account(h, (int64_t)n);
    else
        errno = ENOMEM;
    return p;
}

void *hb_mem_realloc(hb_heap *h, void *p, size_t old, size_t n)
{
    if (n > old && over_limit(h, n - old, 0)) {
        errno = ENOMEM;
        return NULL;
    }
    void *q = h->obj_alloc->realloc(h->obj_alloc_state, p, old, n);
    if (q)
        account(h, (int64_t)n - (int64_t)old);
    return q;
}

void hb_mem_free(hb_heap *h, void *p, size_t n)
{
    if (!p)
        return;
    h->obj_alloc->free(h->obj_alloc_state, p, n);
    account(h, -(int64_t)n);
}

/* A new object's header: one reference (the caller's), untracked, in no
 * generation, owned by no thread (shared heaps set the owner after). */
static inline void header_init(hb_heap *h, hb_object *o, const hb_type *t, size_t size)
{
    o->gc_next = o->gc_prev = NULL;
    o->tindex = t->index;
    o->refcnt = 1;
    o->gc_refs = 0;
    o->size = (uint32_t)size;
    o->flags = h->collector->refcounts ? 0 : HB_OF_NORC;
    o->gen = HB_GEN_NONE;
    o->owner = 0;
}

/* A new object's block: the backend's own (boehm types its blocks), or the
 * objects' allocator's. */
static inline hb_object *object_block(hb_heap *h, const hb_type *t, size_t size)
{
    return h->collector->object_block ? h->collector->object_block(h, t, size)
                                      : h->obj_alloc->alloc(h->obj_alloc_state, size);
}

static __attribute__((noinline)) hb_object *shared_alloc(hb_heap *h, const hb_type *t, size_t size)
{
    hb_shared_alloc_poll(h);
    if (over_limit(h, size, 1)) {
        errno = ENOMEM;
        return NULL;
    }
    hb_object *o = object_block(h, t, size);
    if (!o) {
        errno = ENOMEM;
        return NULL;
    }
    header_init(h, o, t, size);
    if (h->collector->refcounts)
        hb_shared_object_init(h, o);
    hb_heap_lock(h);
    h->allocs++;
    h->live_objects++;
    account_(h, (int64_t)size);
    hb_heap_unlock(h);
    return o;
}

/* The garbage probe (collector.h, garbage_every_ns), at most once per
 * PROBE_EVERY allocations: between them one decrement, no clock read. */
static __attribute__((noinline)) void garbage_probe(hb_heap *h)
{
    h->probe_countdown = h->cfg.garbage_every_ns ? PROBE_EVERY : UINT32_MAX;
    if (!h->cfg.garbage_every_ns || h->collecting || h->in_dealloc)
        return;
    uint64_t now = hb_now_ns();
    if (now < h->probe_next_ns)
        return;
    uint64_t objects = 0, bytes = 0;
    int rc = hb_heap_leaks(h, &objects, &bytes);
    uint64_t took = hb_now_ns() - now;
    h->probe_next_ns = now + took + h->cfg.garbage_every_ns;
    if (h->cfg.garbage_hook)
        h->cfg.garbage_hook(h->cfg.hook_arg, now, took, objects, bytes, rc);
}

hb_object *hb_object_alloc(hb_heap *h, const hb_type *t, size_t size)
{
    if (__builtin_expect(h->sh != NULL, 0))
        return shared_alloc(h, t, size);
    if (__builtin_expect(--h->probe_countdown == 0, 0))
        garbage_probe(h);
    if (h->enabled && !h->collecting && !h->in_dealloc)
        h->collector->maybe_collect(h);
    if (over_limit(h, size, 1)) {
        errno = ENOMEM;
        return NULL;
    }
    hb_object *o = object_block(h, t, size);
    if (!o) {
        errno = ENOMEM;
        return NULL;
    }
    header_init(h, o, t, size);
    h->allocs++;
    h->live_objects++;
    account(h, (int64_t)size);
    return o;
}

void hb_object_ready(hb_heap *h, hb_object *o) { h->collector->track(h, o); }

static inline void freed_(hb_heap *h, uint64_t objects, uint64_t bytes)
{
    h->frees += objects;
    h->live_objects -= objects;
    account_(h, -(int64_t)bytes);
}

void hb_object_free(hb_heap *h, hb_object *o)
{
    freed_(h, 1, o->size);
    hb_object_free_block(h, o);
}

void hb_heap_freed(hb_heap *h, uint64_t objects, uint64_t bytes) { freed_(h, objects, bytes); }

/* A shared heap's mutators free under the heap lock (the counters); the
 * collector, which runs alone, frees with hb_object_free. */
static __attribute__((noinline)) void shared_free(hb_heap *h, hb_object *o)
{
    hb_heap_lock(h);
    h->frees++;
    h->live_objects--;
    account_(h, -(int64_t)o->size);
    hb_heap_unlock(h);
    h->obj_alloc->free(h->obj_alloc_state, o, o->size);
}

void hb_object_discard(hb_heap *h, hb_object *o)
{
    if (h->sh)
        shared_free(h, o);
    else
        hb_object_free(h, o);
}

/* ---- the refcount deallocation path (rc, rcgen) ---- */

int hb_object_finalize(hb_heap *h, hb_object *o)
{
    const hb_type *t = hb_typeof(o);
    if (!t->finalize || (o->flags & HB_OF_FINALIZED))
        return 0;
    o->flags |= HB_OF_FINALIZED;
    t->finalize(h, o);
    return 1;
}

/* One object whose count reached zero: PEP 442 finalizer (which may
 * resurrect it), weakrefs, references, memory. */
/* PEP 442: 1 if the finalizer resurrected o. Out of line: most objects
 * have none, and dealloc_one stays small enough to inline. */
static __attribute__((noinline)) int finalize_dying(hb_heap *h, hb_object *o)
{
    o->flags &= (uint8_t)~HB_OF_DEAD;
    int shared = (o->flags & HB_OF_SHARED) != 0;
    if (shared)
        hb_shared_revive(h, o);
    else
        o->refcnt = 1; /* the finalizer gets a live object */
    hb_object_finalize(h, o);
    if (shared ? !hb_shared_release(h, o) : --o->refcnt != 0) {
        /* resurrected: it lives on, as a new object (a shared heap's
         * track is the locked one, see hb_shared_init) */
        if (hb_is_container(o))
            h->collector->track(h, o);
        return 1;
    }
    o->flags |= HB_OF_DEAD;
    return 0;
}

/* shared: a compile-time constant, so the isolated heap's path is the
 * one it always was (no test of h->sh on it). */
static inline void dealloc_one(hb_heap *h, hb_object *o, int shared)
{
    const hb_type *t = hb_typeof(o);
    if (t->finalize && !(o->flags & HB_OF_FINALIZED) && !h->closing && finalize_dying(h, o))
        return;
    if (o->flags & HB_OF_WEAKREFD)
        hb_weakrefs_clear(h, o, NULL);
    t->clear(h, o, 1);
    if (shared)
        shared_free(h, o);
    else
        hb_object_free(h, o);
}

/* Called when a count reaches zero. Dropping a long chain must not recurse
 * once per link (a 10^6-node list would overflow the C stack: CPython's
 * "trashcan"), so deaths during a deallocation are queued on h->dead and
 * the outermost call drains the queue. The object leaves its gc list at
 * once, so no collection can see a dead object. */
void hb_object_dealloc(hb_heap *h, hb_object *o)
{
    o->flags |= HB_OF_DEAD;
    if (o->gc_prev)
        h->collector->untrack(h, o);
    o->gc_next = h->dead;
    h->dead = o;
    if (h->in_dealloc)
        return;
    h->in_dealloc = 1;
    while ((o = h->dead)) {
        h->dead = o->gc_next;
        o->gc_next = NULL;
        dealloc_one(h, o, 0);
    }
    h->in_dealloc = 0;
}

/* The same on a shared heap (shared.c calls it for its objects): the
 * thread's own queue (the heap's when it is alone and unattached:
 * destroy), and the collector's lists under the heap lock. */
void hb_object_dealloc_shared(hb_heap *h, hb_object *o)
{
    o->flags |= HB_OF_DEAD;
    hb_shared_untrack(h, o);
    hb_mutator *m = hb_mutator_self(h);
    hb_object **dead = m ? &m->dead : &h->dead;
    int *in_dealloc = m ? &m->in_dealloc : &h->in_dealloc;
    o->gc_next = *dead;
    *dead = o;
    if (*in_dealloc)
        return;
    *in_dealloc = 1;
    while ((o = *dead)) {
        *dead = o->gc_next;
        o->gc_next = NULL;
        dealloc_one(h, o, 1);
    }
    *in_dealloc = 0;
}

void hb_teardown_list(hb_heap *h, hb_object *head)
{
    /* hold every object, then clear them all, then let go: the references
     * among them vanish in clear, our own in the last pass frees them */
    hb_objstack all = {0};
    for (hb_object *o = head->gc_next; o != head; o = o->gc_next) {
        if (hb_objstack_push(h, &all, o)) {
            fprintf(stderr, "heapbench: out of memory tearing down a heap of %zu objects\n", all.n);
            abort();
        }
        hb_incref(o); /* (a shared heap's count may live in the shared word) */
        o->flags |= HB_OF_FINALIZED; /* teardown runs no finalizer */
    }
    for (size_t i = 0; i < all.n; i++) {
        hb_object *o = all.v[i];
        if (o->flags & HB_OF_WEAKREFD)
            hb_weakrefs_clear(h, o, NULL);
        hb_typeof(o)->clear(h, o, 0);
    }
    for (size_t i = 0; i < all.n; i++)
        hb_decref(h, all.v[i]);
    hb_objstack_free(h, &all);
}

/* ---- mark stack ---- */

int hb_objstack_push(hb_heap *h, hb_objstack *s, hb_object *o)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        hb_object **v = h->alloc->realloc(h->alloc_state, s->v, s->cap * sizeof *v, cap * sizeof *v);
        if (!v)
            return ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = o;
    return 0;
}

void hb_objstack_free(hb_heap *h, hb_objstack *s)
{
    h->alloc->free(h->alloc_state, s->v, s->cap * sizeof *s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* ---- the gc module ---- */

/* A collection on a shared heap stops the world first; if another thread
 * was already stopping it, we were parked through its collection, and
 * collect after it (gc.collect() asked for one). A backend that stops the
 * world itself (own_stw: boehm) is called directly, and tells explicit
 * collections from its own automatic ones itself (collect_explicit is
 * written only with the world stopped, which it never is here). */
static size_t shared_collect(hb_heap *h, int gen, int is_explicit)
{
    hb_mutator *m = hb_mutator_self(h);
    if (gen < 0 || (m && m->in_dealloc) || hb_world_stopped_by_me())
        return 0;
    if (h->collector->own_stw) /* only its registered threads may collect */
        return m ? h->collector->collect(h, gen) : 0;
    while (!hb_world_stop(h))
        ;
    h->collecting = 1; /* its event waits for hb_world_start */
    h->collect_explicit = is_explicit;
    size_t n = h->collector->collect(h, gen);
    h->collect_explicit = 0;
    hb_world_start(h);
    return n;
}

/* A collection of gen (-1: the oldest) that hb_collect asked for
 * (is_explicit 1), or that heap_full makes for the heap limit (0). */
static size_t collect_(hb_heap *h, int gen, int is_explicit)
{
    if (gen < 0 || gen >= h->collector->generations)
        gen = h->collector->generations - 1;
    if (h->sh)
        return shared_collect(h, gen, is_explicit);
    if (gen < 0 || h->collecting || h->in_dealloc)
        return 0;
    h->collect_explicit = is_explicit;
    size_t n = h->collector->collect(h, gen);
    h->collect_explicit = 0;
    return n;
}

size_t hb_collect(hb_heap *h, int gen) { return collect_(h, gen, 1); }

void hb_gc_disable(hb_heap *h) { h->enabled = 0; }
void hb_gc_enable(hb_heap *h) { h->enabled = 1; }
int hb_gc_isenabled(const hb_heap *h) { return h->enabled; }
int hb_gc_freeze(hb_heap *h) { return h->collector->freeze(h, 1); }
int hb_gc_unfreeze(hb_heap *h) { return h->collector->freeze(h, 0); }
size_t hb_gc_get_freeze_count(hb_heap *h) { return h->collector->freeze_count(h); }
int hb_gc_set_threshold(hb_heap *h, const long *t, int n) { return h->collector->set_threshold(h, t, n); }
int hb_gc_get_threshold(hb_heap *h, long *t, int n) { return h->collector->get_threshold(h, t, n); }

int hb_gc_get_stats(const hb_heap *h, int gen, hb_gen_stats *out)
{
    if (gen < 0 || gen >= HB_GENERATIONS)
        return EINVAL;
    *out = h->stats[gen];
    return 0;
}

hb_object *hb_gc_garbage(hb_heap *h) { return h->garbage; }

/* ---- verifying trace ---- */

static int heap_leaks(hb_heap *h, uint64_t *objects, uint64_t *bytes);

typedef struct trace {
    hb_heap *h;
    hb_objstack stack;
    uint8_t want; /* HB_OF_MARK to mark, 0 to unmark */
    uint64_t objects, bytes;
    int err;
} trace;

static void trace_visit(hb_object *o, void *arg)
{
    trace *t = arg;
    if ((o->flags & HB_OF_IMMORTAL) || (o->flags & HB_OF_MARK) == t->want)
        return;
    o->flags ^= HB_OF_MARK;
    if (t->want) {
        t->objects++;
        t->bytes += hb_object_bytes(o);
    }
    if (!t->err)
        t->err = hb_objstack_push(t->h, &t->stack, o);
}

static void trace_run(trace *t)
{
    hb_heap_roots(t->h, trace_visit, t);
    while (t->stack.n) {
        hb_object *o = t->stack.v[--t->stack.n];
        hb_typeof(o)->traverse(o, trace_visit, t);
    }
}

/* Marks what the roots reach, counts it, then unmarks by the same walk (the
 * mark bit must be clear again for marksweep). live - reachable = leaked. */
int hb_heap_leaks(hb_heap *h, uint64_t *objects, uint64_t *bytes)
{
    int stopped = 0, alone = 0;
    if (h->sh) {
        if (hb_mutator_self(h)) {
            while (!hb_world_stop(h))
                ;
            stopped = 1;
        } else if (!hb_world_stopped_by_me()) {
            hb_shared_quiesce(h, 1); /* merges every queue: counts are final */
            alone = 1;
        }
    }
    int rc = heap_leaks(h, objects, bytes);
    if (stopped)
        hb_world_start(h);
    if (alone)
        hb_shared_quiesce(h, 0);
    return rc;
}

static int heap_leaks(hb_heap *h, uint64_t *objects, uint64_t *bytes)
{
    trace t = {.h = h, .want = HB_OF_MARK};
    trace_run(&t);
    uint64_t n = t.objects, b = t.bytes;
    t.want = 0;
    trace_run(&t);
    hb_objstack_free(h, &t.stack);
    if (t.err)
        return t.err;
    *objects = h->live_objects - n;
    *bytes = h->live_bytes - b;
    return 0;
}
