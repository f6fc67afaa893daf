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
 * after a collection, never inside one, with h->collecting set).
 *
 * Limits. Boehm is one process-wide collector: one boehm heap at a time
 * (hb_heap_new says EBUSY for a second), used from the thread that made
 * it, and GC_INIT runs once, on the first heap. A collection's examined
 * and freed objects are HB_GC_UNKNOWN (Boehm counts bytes); live_bytes is
 * Boehm's heap in use after the last collection, and live_objects only
 * ever falls for objects that had a finalizer, so hb_heap_leaks means
 * nothing here. gc.disable/enable map onto GC_disable/GC_enable.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gc/gc.h>
#include <gc/gc_typed.h>

#include "internal.h"

typedef struct boehm_state {
    hb_object **fin; /* objects with our finalizer registered; o->gc_refs is the index */
    size_t nfin, fincap;
    int gc_disabled;  /* GC_disable() in force for this heap */
    uint64_t t0, used0;
    size_t finalized; /* finalizers run since the last hb_collect */
} boehm_state;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static GC_descr weakref_descr;
/* Boehm's collection event callback has no argument: the one heap. */
static hb_heap *current;

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
        s->used0 = used;
    } else if (e == GC_EVENT_END) {
        __atomic_store_n(&h->live_bytes, used, __ATOMIC_RELAXED); /* read by hb_heap_live_bytes */
        if (used > h->peak_live_bytes)
            h->peak_live_bytes = used;
        h->stats[0].collections++;
        hb_gc_event ev = {s->t0, hb_now_ns() - s->t0, 0, HB_GC_UNKNOWN, HB_GC_UNKNOWN, 0};
        /* hb_heap_event adds `freed` to collected_objects: count bytes
         * nowhere, objects unknown */
        h->collections++;
        if (h->cfg.hook)
            h->cfg.hook(h->cfg.hook_arg, &ev);
    }
}

static void boehm_once(void)
{
    GC_INIT();
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
    if (!h->enabled && !s->gc_disabled) {
        GC_disable();
        s->gc_disabled = 1;
    }
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

static void boehm_finalizer(void *obj, void *cd)
{
    hb_heap *h = cd;
    hb_object *o = obj;
    boehm_state *s = h->gc;
    fin_forget(s, o);
    s->finalized++;
    if (h->closing)
        return;
    h->live_objects--;
    h->frees++;
    if (o->type->kind == HB_K_WEAKREF) {
        o->type->clear(h, o, 1); /* unlink from the target's chain */
        return;
    }
    if (o->flags & HB_OF_WEAKREFD)
        hb_weakrefs_clear(h, o, NULL);
    if (hb_object_finalize(h, o)) {
        /* it may have resurrected itself; if so it lives on, finalized */
        h->live_objects++;
        h->frees--;
    }
}

static void run_finalizers(hb_heap *h)
{
    int was = h->collecting;
    h->collecting = 1;
    while (GC_should_invoke_finalizers())
        GC_invoke_finalizers();
    h->collecting = was;
}

/* ---- the contract ---- */

static int boehm_init(hb_heap *h)
{
    if (current)
        return EBUSY;
    pthread_once(&once, boehm_once);
    boehm_state *s = h->alloc->alloc(h->alloc_state, sizeof *s);
    if (!s)
        return ENOMEM;
    memset(s, 0, sizeof *s);
    h->gc = s;
    h->obj_alloc = &gc_memory;
    h->obj_alloc_state = NULL;
    GC_add_roots(h->vars, h->vars + h->max_vars);
    GC_add_roots(h, h + 1); /* finalize registry, gc.garbage */
    current = h;
    return 0;
}

static void boehm_destroy(hb_heap *h)
{
    boehm_state *s = h->gc;
    /* cancel every finalizer: after this no Boehm finalizer may see h */
    for (size_t i = 0; i < s->nfin; i++)
        GC_register_finalizer_no_order(s->fin[i], NULL, NULL, NULL, NULL);
    if (s->gc_disabled)
        GC_enable();
    GC_remove_roots(h->vars, h->vars + h->max_vars);
    GC_remove_roots(h, h + 1);
    h->alloc->free(h->alloc_state, s->fin, s->fincap * sizeof *s->fin);
    h->alloc->free(h->alloc_state, s, sizeof *s);
    h->obj_alloc = h->alloc;
    h->obj_alloc_state = h->alloc_state;
    current = NULL;
    /* the objects are Boehm's: its next collection reclaims them */
}

static void boehm_track(hb_heap *h, hb_object *o)
{
    if (o->type->kind == HB_K_WEAKREF) {
        hb_weakref *w = (hb_weakref *)o;
        fin_register(h, o);
        if (w->target)
            fin_register(h, w->target);
    } else if (o->type->finalize) {
        fin_register(h, o);
    }
}

static void boehm_untrack(hb_heap *h, hb_object *o) { (void)h, (void)o; }

/* Before each allocation while enabled: undo a GC_disable of gc.disable,
 * and run the finalizers Boehm's last collection queued. */
static void boehm_maybe_collect(hb_heap *h)
{
    boehm_state *s = h->gc;
    if (s->gc_disabled) {
        GC_enable();
        s->gc_disabled = 0;
    }
    if (GC_should_invoke_finalizers())
        run_finalizers(h);
}

static size_t boehm_collect(hb_heap *h, int gen)
{
    (void)gen;
    boehm_state *s = h->gc;
    s->finalized = 0;
    h->collecting = 1;
    if (s->gc_disabled) /* gc.collect() works while disabled, as in CPython */
        GC_enable();
    GC_gcollect();
    if (s->gc_disabled)
        GC_disable();
    h->collecting = 0;
    run_finalizers(h);
    /* what is known: objects whose finalizer ran (weakref'd, __del__) */
    h->stats[0].collected += s->finalized;
    return s->finalized;
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
};
