/* boehm.c -- the real Boehm-Demers-Weiser collector (libgc, pkg-config
 * bdw-gc) behind the mutator API: the outside reference marksweep is
 * measured against.
 *
 * It brings its own heap. Objects and the buffers they own come from
 * GC_MALLOC (strs and ints from GC_MALLOC_ATOMIC, weakrefs typed so their
 * target is not traced); the hb_allocator the heap was given serves only
 * the heap's bookkeeping (variables, tables), which the harness records as
 * allocator `boehm`. Objects carry HB_OF_NORC: no counts, as marksweep.
 *
 * Invariant. An object is alive while Boehm can reach it from its roots:
 * our shadow stack and the heap struct (registered with GC_add_roots; they
 * live in the bookkeeping allocator's memory, which Boehm does not scan),
 * plus whatever Boehm finds conservatively on the C stack and in
 * registers -- so a dead object may be retained for a while (a stale word
 * on the stack), never a live one freed. Objects with a __del__, objects
 * with weakrefs and weakrefs themselves have a Boehm finalizer (no-order,
 * Java style, so cycles of them are finalized too), recorded in `fin` so
 * heap teardown can cancel them. The finalizer runs our side of a death
 * once: clear weakrefs to the object (callbacks of live weakrefs run),
 * then __del__ (PEP 442: once; it may resurrect), or, for a weakref,
 * unlink it from its target.
 *
 * States: MUTATING; COLLECTING (inside Boehm: events reported through
 * GC_set_on_collection_event); FINALIZING (our finalizers, run on demand
 * after a collection, never inside one, with h->collecting set, by one
 * thread at a time: fin_lock).
 *
 * Shared heaps (own_stw). Boehm stops the world itself: every thread that
 * attaches is registered with it (GC_register_my_thread, with the stack
 * base GC_get_stack_base finds; unregistered at detach), so its signals
 * stop that thread and its stack and registers are scanned; the thread's
 * shadow stack is added to Boehm's roots for as long as it is attached.
 * Our safepoints stay idle: allocation calls maybe_collect, hb_collect
 * calls collect, directly. A pause is one Boehm collection (explicit when
 * boehm_collect's GC_gcollect ran it: tls_explicit): start_ns its
 * GC_EVENT_START (the request, in the thread that allocates or asks),
 * ttsp_ns from there to GC_EVENT_POST_STOP_WORLD (every registered thread
 * suspended), duration_ns to GC_EVENT_END (the collecting thread resumes;
 * the others resumed at GC_EVENT_POST_START_WORLD, before it). The
 * heap's own tables (the finalizer list, counters) are under the heap
 * lock, which no Boehm callback takes: a thread Boehm suspends may hold
 * it. The library's threads support is what Debian builds (GC_THREADS);
 * threads are registered explicitly, so no pthread_create is redirected
 * (GC_NO_THREAD_REDIRECTS), and GC_allow_register_threads runs with the
 * first shared heap, which must be made by the thread that made the
 * first boehm heap (GC_INIT's thread, registered by it); it also starts
 * Boehm's parallel markers (GC_MARKERS sets how many).
 *
 * Limits. Boehm is one process-wide collector: one boehm heap at a time
 * (hb_heap_new says EBUSY for a second), used from the thread that made
 * it (isolated) or from attached threads (shared), and GC_INIT runs once,
 * on the first heap. A collection's examined
 * and freed objects are HB_GC_UNKNOWN (Boehm counts bytes); live_bytes is
 * Boehm's heap in use after the last collection, and live_objects only
 * ever falls for objects that had a finalizer, so hb_heap_leaks means
 * nothing here. gc.disable/enable map onto GC_disable/GC_enable.
 *
 * A hard limit (cfg.max_heap) is Boehm's own maximum heap size
 * (GC_set_max_heap_size): its heap, blocks and fragmentation included,
 * never grows past it; an allocation it cannot satisfy there, after the
 * collections it tries first, reaches our GC_oom_fn, which reports it
 * (hb_heap_oom) and, if the hook returns, gives NULL. Both are undone when
 * the heap goes (0: unbounded).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GC_THREADS             /* before gc.h: thread registration declared */
#define GC_NO_THREAD_REDIRECTS /* threads register themselves (hb_mutator_attach) */
#include <gc/gc.h>
#include <gc/gc_typed.h>

#include "internal.h"

typedef struct boehm_state {
    hb_object **fin; /* objects with our finalizer registered; o->gc_refs is the index */
    size_t nfin, fincap;
    int gc_disabled;  /* GC_disable() in force for this heap (atomic exchanges) */
    uint64_t t0, t_stopped; /* this collection's GC_EVENT_START, POST_STOP_WORLD */
    pthread_mutex_t fin_lock; /* finalizers run by one thread at a time */
    size_t finalized;   /* finalizers run, under fin_lock */
} boehm_state;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static GC_descr weakref_descr;
/* Boehm's collection event callback has no argument: the one heap. */
static hb_heap *current;
static int threads_allowed; /* GC_allow_register_threads done (one process) */
/* this thread registered itself with Boehm / added its shadow stack */
static __thread int tls_registered, tls_roots;
static __thread int tls_finalizing; /* running finalizers: no nested run */
/* this thread is in boehm_collect's GC_gcollect: the collection Boehm runs
 * on it is explicit. Per thread, not per heap: on a shared heap another
 * thread's allocation may collect automatically meanwhile, and Boehm
 * reports a collection on the thread that runs it. */
static __thread int tls_explicit;

static void on_gc_event(GC_EventType e)
{
    hb_heap *h = current;
    if (!h)
        return;
    boehm_state *s = h->gc;
    /* no locking getters here: the allocation lock is held */
    uint64_t used = (uint64_t)(GC_get_heap_size() - GC_get_free_bytes());
    if (e == GC_EVENT_START) {
        s->t0 = hb_now_ns();
        s->t_stopped = 0;
    } else if (e == GC_EVENT_POST_STOP_WORLD) {
        if (!s->t_stopped) /* the first stop of this collection */
            s->t_stopped = hb_now_ns();
    } else if (e == GC_EVENT_END) {
        /* the world runs again: a plain store may race a mutator's
         * account_ under the heap lock (a figure, never an index), and
         * taking that lock here could wait for a thread Boehm suspended
         * in the middle of it */
        __atomic_store_n(&h->live_bytes, used, __ATOMIC_RELAXED); /* read by hb_heap_live_bytes */
        if (used > h->peak_live_bytes)
            h->peak_live_bytes = used;
        h->stats[0].collections++;
        uint64_t t = hb_now_ns();
        /* ttsp: shared heaps only (an isolated heap has no one to stop) */
        uint64_t ttsp = h->sh && s->t_stopped ? s->t_stopped - s->t0 : 0;
        hb_gc_event ev = {.start_ns = s->t0, .duration_ns = t - s->t0, .examined = HB_GC_UNKNOWN,
                          .freed = HB_GC_UNKNOWN, .ttsp_ns = ttsp, .is_explicit = tls_explicit};
        /* hb_heap_event adds `freed` to collected_objects: count bytes
         * nowhere, objects unknown */
        h->collections++;
        if (h->cfg.hook)
            h->cfg.hook(h->cfg.hook_arg, &ev);
    }
}

/* Boehm's out-of-memory function: the heap's limit is reached. */
static void *GC_CALLBACK on_oom(size_t bytes)
{
    hb_heap *h = current;
    if (h)
        hb_heap_oom(h, bytes, (uint64_t)(GC_get_heap_size() - GC_get_free_bytes())); /* non-locking getters */
    return NULL;
}

static GC_oom_func saved_oom; /* Boehm's own, restored when a limited heap goes */

static void boehm_once(void)
{
    GC_INIT(); /* registers this thread: see the shared heaps above */
    GC_set_finalize_on_demand(1); /* our finalizers run when we say, not inside GC_MALLOC */
    GC_set_on_collection_event(on_gc_event);
    GC_word bm[GC_BITMAP_SIZE(hb_weakref)] = {0};
    GC_set_bit(bm, GC_WORD_OFFSET(hb_weakref, arg));
    GC_set_bit(bm, GC_WORD_OFFSET(hb_weakref, ctx));
    GC_set_bit(bm, GC_WORD_OFFSET(hb_weakref, fin_next));
    GC_set_bit(bm, GC_WORD_OFFSET(hb_weakref, fin_prev));
    /* not traced: target (weak), wr_next/wr_prev (each weakref keeps
     * itself registered through its own finalizer) */
    weakref_descr = GC_make_descriptor(bm, GC_WORD_LEN(hb_weakref));
}

/* ---- object memory ---- */

static void *gc_alloc(void *st, size_t n)
{
    (void)st;
    return GC_MALLOC(n);
}
static void gc_free(void *st, void *p, size_t n)
{
    (void)st, (void)n;
    GC_FREE(p);
}
static void *gc_realloc(void *st, void *p, size_t old, size_t n)
{
    (void)st, (void)old;
    return GC_REALLOC(p, n);
}
static const hb_allocator gc_memory = {.name = "boehm", .alloc = gc_alloc, .free = gc_free,
                                       .realloc = gc_realloc};

static void *boehm_object_block(hb_heap *h, const hb_type *t, size_t size)
{
    /* gc.disable(): hb_object_alloc stops calling maybe_collect, so the
     * disabled state is noticed here, on every allocation's way in */
    boehm_state *s = h->gc;
    if (!h->enabled && !__atomic_load_n(&s->gc_disabled, __ATOMIC_RELAXED) &&
        !__atomic_exchange_n(&s->gc_disabled, 1, __ATOMIC_ACQ_REL))
        GC_disable();
    if (t->kind == HB_K_INT || t->kind == HB_K_STR)
        return GC_MALLOC_ATOMIC(size); /* no references: never scanned */
    if (t->kind == HB_K_WEAKREF)
        return GC_MALLOC_EXPLICITLY_TYPED(size, weakref_descr);
    return GC_MALLOC(size);
}

/* ---- finalizers ---- */

static void boehm_finalizer(void *obj, void *cd);

static void fin_forget(boehm_state *s, hb_object *o)
{
    size_t i = o->gc_refs;
    hb_object *last = s->fin[--s->nfin];
    s->fin[i] = last;
    last->gc_refs = (uint32_t)i;
    o->gen = HB_GEN_NONE;
}

/* Register our finalizer on o once (o->gen says whether it is). */
static void fin_register(hb_heap *h, hb_object *o)
{
    boehm_state *s = h->gc;
    if (o->gen != HB_GEN_NONE || (o->flags & HB_OF_IMMORTAL))
        return;
    if (s->nfin == s->fincap) {
        size_t cap = s->fincap ? 2 * s->fincap : 256;
        hb_object **v = h->alloc->realloc(h->alloc_state, s->fin, s->fincap * sizeof *v, cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "heapbench: boehm: out of memory registering finalizer %zu\n", s->nfin);
            abort();
        }
        s->fin = v;
        s->fincap = cap;
    }
    o->gc_refs = (uint32_t)s->nfin;
    o->gen = 1;
    s->fin[s->nfin++] = o;
    GC_register_finalizer_no_order(o, boehm_finalizer, h, NULL, NULL);
}

/* The heap lock around the finalizer list and counters, on a shared heap
 * (track, which registers, runs under it already: see hb_shared_init). */
static void lock(hb_heap *h)
{
    if (h->sh)
        hb_heap_lock(h);
}
static void unlock(hb_heap *h)
{
    if (h->sh)
        hb_heap_unlock(h);
}

static void boehm_finalizer(void *obj, void *cd)
{
    hb_heap *h = cd;
    hb_object *o = obj;
    boehm_state *s = h->gc;
    lock(h);
    fin_forget(s, o);
    s->finalized++;
    if (!h->closing) {
        h->live_objects--;
        h->frees++;
    }
    unlock(h);
    if (h->closing)
        return;
    if (hb_kindof(o) == HB_K_WEAKREF) {
        hb_typeof(o)->clear(h, o, 1); /* unlink from the target's chain */
        return;
    }
    if (o->flags & HB_OF_WEAKREFD)
        hb_weakrefs_clear(h, o, NULL);
    if (hb_object_finalize(h, o)) {
        /* it may have resurrected itself; if so it lives on, finalized */
        lock(h);
        h->live_objects++;
        h->frees--;
        unlock(h);
    }
}

/* Run the finalizers Boehm's collections queued; the number run. One
 * thread at a time: another finds fin_lock taken and leaves them to it
 * (`wait` 0: allocation), or waits for it (1: hb_collect promises they
 * ran); a finalizer's own allocations and collections run none. */
static size_t run_finalizers(hb_heap *h, int wait)
{
    boehm_state *s = h->gc;
    if (tls_finalizing || (wait ? pthread_mutex_lock(&s->fin_lock) : pthread_mutex_trylock(&s->fin_lock)))
        return 0;
    tls_finalizing = 1;
    int was = h->collecting;
    h->collecting = 1;
    size_t n0 = s->finalized;
    while (GC_should_invoke_finalizers())
        GC_invoke_finalizers();
    size_t n = s->finalized - n0;
    h->collecting = was;
    tls_finalizing = 0;
    pthread_mutex_unlock(&s->fin_lock);
    return n;
}

/* ---- the contract ---- */

static int boehm_init(hb_heap *h)
{
    if (current)
        return EBUSY;
    pthread_once(&once, boehm_once);
    if (h->sh && !threads_allowed) {
        if (!GC_thread_is_registered()) {
            fprintf(stderr, "heapbench: boehm: a shared heap must be made by the thread that made the "
                            "process's first boehm heap\n");
            return ENOTSUP;
        }
        GC_allow_register_threads();
        threads_allowed = 1;
    }
    boehm_state *s = h->alloc->alloc(h->alloc_state, sizeof *s);
    if (!s)
        return ENOMEM;
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->fin_lock, NULL);
    h->gc = s;
    h->obj_alloc = &gc_memory;
    h->obj_alloc_state = NULL;
    GC_add_roots(h->vars, h->vars + h->max_vars);
    GC_add_roots(h, h + 1); /* finalize registry, gc.garbage */
    if (h->cfg.max_heap) {
        /* no other thread uses Boehm yet: the unsynchronised setter is safe */
        GC_set_max_heap_size((GC_word)h->cfg.max_heap);
        saved_oom = GC_get_oom_fn();
        GC_set_oom_fn(on_oom);
    }
    current = h;
    return 0;
}

static void boehm_destroy(hb_heap *h)
{
    boehm_state *s = h->gc;
    /* finalizers a collection already queued run now, doing nothing but
     * forget their object (h->closing); then cancel every other one: after
     * this no Boehm finalizer may see h */
    while (GC_should_invoke_finalizers())
        GC_invoke_finalizers();
    for (size_t i = 0; i < s->nfin; i++)
        GC_register_finalizer_no_order(s->fin[i], NULL, NULL, NULL, NULL);
    if (s->gc_disabled)
        GC_enable();
    GC_remove_roots(h->vars, h->vars + h->max_vars);
    GC_remove_roots(h, h + 1);
    if (h->cfg.max_heap) {
        GC_set_max_heap_size(0);
        GC_set_oom_fn(saved_oom);
    }
    pthread_mutex_destroy(&s->fin_lock);
    h->alloc->free(h->alloc_state, s->fin, s->fincap * sizeof *s->fin);
    h->alloc->free(h->alloc_state, s, sizeof *s);
    h->obj_alloc = h->alloc;
    h->obj_alloc_state = h->alloc_state;
    current = NULL;
    /* the objects are Boehm's: its next collection reclaims them */
}

static void boehm_track(hb_heap *h, hb_object *o)
{
    if (hb_kindof(o) == HB_K_WEAKREF) {
        hb_weakref *w = (hb_weakref *)o;
        fin_register(h, o);
        if (w->target)
            fin_register(h, w->target);
    } else if (hb_typeof(o)->finalize) {
        fin_register(h, o);
    }
}

static void boehm_untrack(hb_heap *h, hb_object *o) { (void)h, (void)o; }

/* Before each allocation while enabled: undo a GC_disable of gc.disable,
 * and run the finalizers Boehm's last collection queued. */
static void boehm_maybe_collect(hb_heap *h)
{
    boehm_state *s = h->gc;
    if (__atomic_load_n(&s->gc_disabled, __ATOMIC_RELAXED) &&
        __atomic_exchange_n(&s->gc_disabled, 0, __ATOMIC_ACQ_REL))
        GC_enable();
    if (GC_should_invoke_finalizers())
        run_finalizers(h, 0);
}

static size_t boehm_collect(hb_heap *h, int gen)
{
    (void)gen;
    boehm_state *s = h->gc;
    int disabled = __atomic_load_n(&s->gc_disabled, __ATOMIC_ACQUIRE);
    if (disabled) /* gc.collect() works while disabled, as in CPython */
        GC_enable();
    tls_explicit = 1;
    GC_gcollect();
    tls_explicit = 0;
    if (disabled)
        GC_disable();
    /* what is known: objects whose finalizer ran (weakref'd, __del__) */
    size_t n = run_finalizers(h, 1);
    __atomic_fetch_add(&h->stats[0].collected, n, __ATOMIC_RELAXED);
    return n;
}

/* Shared heaps: the attaching thread is registered with Boehm (unless it
 * is already: GC_INIT's thread), and its shadow stack becomes a root. */
static int boehm_attach(hb_heap *h)
{
    struct GC_stack_base sb;
    if (GC_get_stack_base(&sb) != GC_SUCCESS) {
        fprintf(stderr, "heapbench: boehm: cannot find this thread's stack base to register it\n");
        return ENOTSUP;
    }
    tls_registered = GC_register_my_thread(&sb) == GC_SUCCESS;
    hb_mutator *m = hb_mutator_self(h);
    GC_add_roots(m->vars, m->vars + m->max_vars);
    tls_roots = 1;
    return 0;
}

static void boehm_detach(hb_heap *h)
{
    if (tls_roots) {
        hb_mutator *m = hb_mutator_self(h);
        GC_remove_roots(m->vars, m->vars + m->max_vars);
        tls_roots = 0;
    }
    if (tls_registered) {
        GC_unregister_my_thread(); /* it touches no object after this */
        tls_registered = 0;
    }
}

static int boehm_freeze(hb_heap *h, int freeze)
{
    (void)h, (void)freeze;
    return EOPNOTSUPP;
}

static size_t boehm_freeze_count(hb_heap *h)
{
    (void)h;
    return 0;
}

static int boehm_set_threshold(hb_heap *h, const long *t, int n)
{
    (void)h, (void)t, (void)n;
    return EOPNOTSUPP;
}

static int boehm_get_threshold(hb_heap *h, long *t, int n)
{
    (void)h, (void)t, (void)n;
    return EOPNOTSUPP;
}

const hb_collector hb_boehm_collector = {
    .name = "boehm",
    .own_heap = 1,
    .doc = "the Boehm-Demers-Weiser conservative collector (libgc), its own heap",
    .generations = 1,
    .refcounts = 0,
    .init = boehm_init,
    .object_block = boehm_object_block,
    .destroy = boehm_destroy,
    .track = boehm_track,
    .untrack = boehm_untrack,
    .maybe_collect = boehm_maybe_collect,
    .collect = boehm_collect,
    .freeze = boehm_freeze,
    .freeze_count = boehm_freeze_count,
    .set_threshold = boehm_set_threshold,
    .get_threshold = boehm_get_threshold,
    .shared_ok = 1,
    .own_stw = 1,
    .attach = boehm_attach,
    .detach = boehm_detach,
    .max_heap_ok = 1,
    .params = "heap_kb",
};
