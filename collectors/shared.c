/* shared.c -- one heap for many threads: mutators, reference counts that
 * are atomic or biased (PEP 703), and the stop-the-world protocol that
 * every collection of a shared heap runs under.
 *
 * Invariant (biased counts). An object's count is refcnt + shared, where
 * shared is the value of its shared word (gc_refs >> 2, signed):
 *   - owner != 0, not MERGED: refcnt is changed by the owning mutator only
 *     (plain stores), shared by everyone else (atomic); shared may go below
 *     zero only after the object was QUEUED to its owner, the queue then
 *     holding the reference whose decrement made it so;
 *   - MERGED: owner 0, refcnt 0, the whole count in the shared word,
 *     changed atomically by everyone; it dies when that reaches 0.
 * The owner merges when its local count reaches zero, or when it takes an
 * object off its queue; an object queued to a mutator that detached is
 * merged at once by the thread that queued it (the local count is frozen:
 * its owner is gone and slots are never reused). Whoever sets MERGED with
 * a nonzero count writes nothing of the object after that CAS (another
 * thread may free it at once): local count and owner are cleared before.
 * The collector keeps the same rules (stw_decref). Atomic counts: refcnt
 * alone, atomic read-modify-writes.
 *
 * Invariant (safepoints). While h->stop is set, exactly one thread (the
 * collector, tls_stw) runs mutator code; every other attached thread is
 * parked: in hb_safepoint_slow, or blocked (hb_mutator_block). The
 * collector therefore owns every object: its count operations are plain
 * (the inline increment and stw_decref, which keep the representation above valid), and
 * it merges every queue before collecting, so no object is QUEUED while
 * the world is stopped.
 *
 * States of the world: RUNNING -> STOPPING (h->stop set, the collector
 * waits for nparked == nattached - 1) -> STOPPED (collect) -> RESUMING
 * (epoch bumped, waiters woken; the collector waits until every thread
 * parked at a safepoint has woken, the last one's time ending the pause,
 * then reports the event) -> RUNNING. No stop begins while the world is
 * RESUMING: a thread that asks then waits for RUNNING (hb_world_stop), so
 * one stop's request, stopped and resume times (t_request, t_stopped,
 * last_resume) and its event are never mixed with the next one's, nor two
 * events reported at once. Mixing them was how pauses came out negative:
 * a thread woken first asked for the next stop, which overwrote t_request
 * while the collector still waited for the others to wake, and then read
 * end - t_request with the new request. For the same reason every thread
 * that parks for a stop (at a safepoint, in hb_world_stop, in
 * hb_mutator_detach) parks the same way (park_locked) and is counted among
 * those whose waking ends the pause. Hence, for every event: start_ns is
 * the request, 0 <= ttsp_ns <= duration_ns, and pauses never overlap
 * (tests/collectors/test_shared_pauses.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_SLOTS 255 /* slots 1..254; 255 owns what a detached collector adopted */
#define ORPHAN 255
#define STRIPES 64

struct hb_shared {
    uint32_t id;
    int biased;
    pthread_mutex_t lock; /* the heap lock (recursive) */
    pthread_mutex_t stw;  /* the world's state below */
    pthread_cond_t cv_parked, cv_resume;
    int nattached, nparked, stopping, resuming, waking;
    uint64_t epoch;
    uint64_t t_request, t_stopped, last_resume;
    hb_mutator *collector;
    hb_mutator *mut[MAX_SLOTS + 1];
    int nslots;
    hb_gc_event pending;
    int has_pending;
    pthread_mutex_t stripe[STRIPES];
    /* h->collector of a shared heap: the backend's, with track and untrack
     * under the heap lock, so heap.c calls them as on an isolated heap */
    hb_collector locked;
    const hb_collector *base;
};

static uint32_t next_heap_id = 1;
static __thread hb_mutator *tls_mut; /* the thread's mutator (one shared heap at a time) */
__thread uint8_t hb_tls_slot;        /* tls_mut->slot, for the inline increment */
__thread uint8_t hb_tls_stw;         /* this thread runs alone: the world is stopped */
#define tls_stw hb_tls_stw

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

int hb_world_stopped_by_me(void) { return tls_stw; }

hb_mutator *hb_mutator_self(hb_heap *h)
{
    hb_mutator *m = tls_mut;
    return m && m->heap_id == h->sh->id ? m : NULL;
}

void hb_heap_lock(hb_heap *h) { pthread_mutex_lock(&h->sh->lock); }
void hb_heap_unlock(hb_heap *h) { pthread_mutex_unlock(&h->sh->lock); }

static void locked_track(hb_heap *h, hb_object *o)
{
    pthread_mutex_lock(&h->sh->lock);
    h->sh->base->track(h, o);
    pthread_mutex_unlock(&h->sh->lock);
}

static void locked_untrack(hb_heap *h, hb_object *o)
{
    pthread_mutex_lock(&h->sh->lock);
    h->sh->base->untrack(h, o);
    pthread_mutex_unlock(&h->sh->lock);
}

void hb_shared_untrack(hb_heap *h, hb_object *o)
{
    pthread_mutex_lock(&h->sh->lock);
    if (o->gc_prev)
        h->sh->base->untrack(h, o);
    pthread_mutex_unlock(&h->sh->lock);
}

int hb_shared_init(hb_heap *h)
{
    if (!h->collector->shared_ok)
        return ENOTSUP;
    hb_shared *sh = h->alloc->alloc(h->alloc_state, sizeof *sh);
    if (!sh)
        return ENOMEM;
    memset(sh, 0, sizeof *sh);
    sh->id = __atomic_fetch_add(&next_heap_id, 1, __ATOMIC_RELAXED);
    sh->biased = h->cfg.refcount_mode == HB_RC_BIASED;
    pthread_mutexattr_t ra;
    pthread_mutexattr_init(&ra);
    pthread_mutexattr_settype(&ra, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&sh->lock, &ra);
    pthread_mutexattr_destroy(&ra);
    pthread_mutex_init(&sh->stw, NULL);
    pthread_cond_init(&sh->cv_parked, NULL);
    pthread_cond_init(&sh->cv_resume, NULL);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&sh->stripe[i], NULL);
    sh->base = h->collector;
    sh->locked = *h->collector;
    if (sh->locked.track)
        sh->locked.track = locked_track;
    if (sh->locked.untrack)
        sh->locked.untrack = locked_untrack;
    h->collector = &sh->locked;
    h->sh = sh;
    return 0;
}

static void mutator_free(hb_heap *h, hb_mutator *m)
{
    hb_objstack_free(h, &m->queue);
    pthread_mutex_destroy(m->qlock);
    h->alloc->free(h->alloc_state, m->qlock, sizeof(pthread_mutex_t));
    h->alloc->free(h->alloc_state, m->vars, m->max_vars * sizeof *m->vars);
    h->alloc->free(h->alloc_state, m, sizeof *m);
}

void hb_shared_fini(hb_heap *h)
{
    hb_shared *sh = h->sh;
    if (!sh)
        return;
    for (int i = 1; i <= sh->nslots; i++)
        if (sh->mut[i])
            mutator_free(h, sh->mut[i]);
    pthread_mutex_destroy(&sh->lock);
    pthread_mutex_destroy(&sh->stw);
    pthread_cond_destroy(&sh->cv_parked);
    pthread_cond_destroy(&sh->cv_resume);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&sh->stripe[i]);
    h->collector = sh->base;
    h->alloc->free(h->alloc_state, sh, sizeof *sh);
    h->sh = NULL;
}

/* ---- biased counts ---- */

static inline int32_t sh_value(uint32_t w) { return (int32_t)w >> HB_SH_SHIFT; }
static inline uint8_t my_slot(void) { return hb_tls_slot; }

void hb_shared_object_init(hb_heap *h, hb_object *o)
{
    o->flags |= HB_OF_SHARED | (h->sh->biased ? HB_OF_BIASED : 0);
    hb_mutator *m = hb_mutator_self(h);
    o->owner = h->sh->biased ? (m ? m->slot : ORPHAN) : 0;
}

static void dealloc(hb_heap *h, hb_object *o) { hb_object_dealloc_shared(h, o); }

/* PEP 703's _Py_ExplicitMergeRefcount: fold the local count into the
 * shared word, which becomes the only count (MERGED). The caller is the
 * only writer of the local count (its owner; or anyone once the owner
 * detached or the world is stopped) and o is QUEUED, or revived by the
 * caller, so nobody else merges it meanwhile.
 *
 * Local count and owner are cleared BEFORE the CAS publishes MERGED: from
 * that moment another thread may take the merged count to zero and free
 * o, so the CAS must be our last access, and its release orders our
 * stores before that thread's free (stores after it were a write to freed
 * memory, the race TSan found). Meanwhile (owner 0, local 0, QUEUED)
 * others count in the shared word, as they would anyway, and a decrement
 * cannot queue o again nor free it: the QUEUED bit keeps the word nonzero
 * and unequal to MERGED. */
static int32_t merge(hb_object *o, int32_t extra)
{
    int32_t local = (int32_t)LOAD(&o->refcnt);
    STORE(&o->owner, 0);
    STORE(&o->refcnt, 0);
    uint32_t w = __atomic_load_n(&o->gc_refs, __ATOMIC_ACQUIRE), nw;
    int32_t total;
    do {
        /* a MERGED word (the local count reached zero while queued) holds
         * the whole count already; then local was 0 */
        total = ((w & HB_SH_MERGED) ? 0 : local) + sh_value(w) + extra;
        nw = ((uint32_t)total << HB_SH_SHIFT) | HB_SH_MERGED;
    } while (!__atomic_compare_exchange_n(&o->gc_refs, &w, nw, 1, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    return total;
}

static void queue_to_owner(hb_heap *h, hb_object *o)
{
    uint8_t own = LOAD(&o->owner);
    hb_mutator *m = own && own != ORPHAN ? __atomic_load_n(&h->sh->mut[own], __ATOMIC_ACQUIRE) : NULL;
    if (m) {
        pthread_mutex_lock(m->qlock);
        if (!m->detached) {
            if (hb_objstack_push(h, &m->queue, o)) {
                fprintf(stderr, "heapbench: out of memory queueing an object to its owner\n");
                abort();
            }
            STORE(&m->qpending, 1);
            pthread_mutex_unlock(m->qlock);
            return;
        }
        pthread_mutex_unlock(m->qlock);
    }
    if (merge(o, -1) == 0) /* the owner is gone: merge here */
        dealloc(h, o);
}

/* The owner's local count reached zero (_Py_MergeZeroLocalRefcount). */
static void merge_zero_local(hb_heap *h, hb_object *o)
{
    uint32_t w = __atomic_load_n(&o->gc_refs, __ATOMIC_ACQUIRE), nw;
    if (w == 0) {
        dealloc(h, o);
        return;
    }
    STORE(&o->owner, 0);
    do
        nw = w | HB_SH_MERGED;
    while (!__atomic_compare_exchange_n(&o->gc_refs, &w, nw, 1, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE));
    if (nw == HB_SH_MERGED)
        dealloc(h, o);
}

/* World stopped: the collector's counts are plain, and keep the invariant
 * (a MERGED object's local count stays 0); its increments are inline
 * (object.h), to the local count of any owned object. */
static void stw_decref(hb_heap *h, hb_object *o)
{
    if (o->owner && o->refcnt) {
        STORE(&o->refcnt, o->refcnt - 1);
        if (o->refcnt)
            return;
        if (o->gc_refs) {
            /* the local count reached zero and other threads hold the
             * rest: merge, as its owner would (merge_zero_local); left
             * owned with a zero local count, the others' last decrement
             * would take the shared word to 0 and free nothing */
            STORE(&o->owner, 0);
            STORE(&o->gc_refs, o->gc_refs | HB_SH_MERGED);
            return;
        }
    } else {
        STORE(&o->gc_refs, o->gc_refs - (1u << HB_SH_SHIFT));
        if (o->refcnt || sh_value(o->gc_refs))
            return;
    }
    dealloc(h, o);
}

void hb_decref_shared(hb_heap *h, hb_object *o)
{
    if (!(o->flags & HB_OF_BIASED)) {
        if (__atomic_sub_fetch(&o->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
            dealloc(h, o);
        return;
    }
    if (tls_stw) {
        stw_decref(h, o);
        return;
    }
    uint8_t own = LOAD(&o->owner);
    if (own && own == my_slot()) {
        uint32_t r = o->refcnt - 1;
        STORE(&o->refcnt, r);
        if (r == 0)
            merge_zero_local(h, o);
        return;
    }
    /* _Py_DecRefShared: a decrement that would take the shared count below
     * zero is not applied; the object is queued to its owner instead, the
     * queue holding that reference until the owner merges */
    uint32_t w = LOAD(&o->gc_refs), nw;
    int q;
    do {
        q = w == 0;
        nw = q ? HB_SH_QUEUED : w - (1u << HB_SH_SHIFT);
    } while (!__atomic_compare_exchange_n(&o->gc_refs, &w, nw, 1, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    if (q)
        queue_to_owner(h, o);
    else if (nw == HB_SH_MERGED)
        dealloc(h, o);
}

uint32_t hb_refcnt_shared(const hb_object *o)
{
    if (!(o->flags & HB_OF_BIASED))
        return LOAD(&o->refcnt);
    uint32_t w = LOAD(&o->gc_refs);
    int32_t local = (w & HB_SH_MERGED) ? 0 : (int32_t)LOAD(&o->refcnt);
    return (uint32_t)(local + sh_value(w)); /* a queued object's count includes the queue's */
}

/* Take the mutator's queue and merge each object (the owner, or anyone
 * while the world is stopped or after the owner detached). */
static void drain(hb_heap *h, hb_mutator *m)
{
    if (!LOAD(&m->qpending))
        return;
    pthread_mutex_lock(m->qlock);
    hb_objstack q = m->queue;
    m->queue = (hb_objstack){0};
    STORE(&m->qpending, 0);
    pthread_mutex_unlock(m->qlock);
    for (size_t i = 0; i < q.n; i++)
        if (merge(q.v[i], -1) == 0)
            dealloc(h, q.v[i]);
    hb_objstack_free(h, &q);
}

static void drain_all(hb_heap *h)
{
    for (int i = 1; i <= h->sh->nslots; i++)
        if (h->sh->mut[i])
            drain(h, h->sh->mut[i]);
}

void hb_shared_fold(hb_heap *h, hb_object *o)
{
    uint32_t w = o->gc_refs;
    if (w & HB_SH_MERGED) {
        o->refcnt = (uint32_t)sh_value(w);
        hb_mutator *m = hb_mutator_self(h);
        o->owner = m ? m->slot : ORPHAN; /* the collector adopts it */
    } else {
        o->refcnt += (uint32_t)sh_value(w);
    }
    o->gc_refs = 0;
}

void hb_shared_revive(hb_heap *h, hb_object *o)
{
    if (!(o->flags & HB_OF_BIASED)) {
        STORE(&o->refcnt, 1);
        return;
    }
    hb_mutator *m = hb_mutator_self(h);
    STORE(&o->gc_refs, 0);
    STORE(&o->owner, m ? m->slot : ORPHAN);
    STORE(&o->refcnt, 1);
}

int hb_shared_release(hb_heap *h, hb_object *o)
{
    (void)h;
    if (!(o->flags & HB_OF_BIASED))
        return __atomic_sub_fetch(&o->refcnt, 1, __ATOMIC_ACQ_REL) == 0;
    /* revived as ours (or the orphan's, when we are not attached): only we
     * write refcnt; others may have counted in the shared word */
    uint32_t r = LOAD(&o->refcnt) - 1;
    STORE(&o->refcnt, r);
    if (r)
        return 0;
    if (__atomic_load_n(&o->gc_refs, __ATOMIC_ACQUIRE) == 0)
        return 1;
    return merge(o, 0) == 0;
}

/* ---- mutators ---- */

/* Park until the current stop ends (stw held). */
static void park_locked(hb_shared *sh, hb_mutator *m)
{
    while (sh->stopping) {
        uint64_t e = sh->epoch;
        m->parked = 1;
        m->waking = 1;
        sh->nparked++;
        pthread_cond_broadcast(&sh->cv_parked);
        while (sh->epoch == e)
            pthread_cond_wait(&sh->cv_resume, &sh->stw);
        sh->nparked--;
        m->parked = 0;
        m->waking = 0;
        uint64_t t = hb_now_ns();
        if (t > sh->last_resume)
            sh->last_resume = t;
        if (--sh->waking == 0)
            pthread_cond_broadcast(&sh->cv_parked);
    }
}

int hb_mutator_attach(hb_heap *h)
{
    hb_shared *sh = h->sh;
    if (!sh)
        return 0;
    if (tls_mut)
        return EBUSY;
    hb_mutator *m = h->alloc->alloc(h->alloc_state, sizeof *m);
    if (!m)
        return ENOMEM;
    memset(m, 0, sizeof *m);
    m->h = h;
    m->heap_id = sh->id;
    m->max_vars = h->max_vars;
    m->vars = h->alloc->alloc(h->alloc_state, m->max_vars * sizeof *m->vars);
    m->qlock = h->alloc->alloc(h->alloc_state, sizeof(pthread_mutex_t));
    if (!m->vars || !m->qlock) {
        h->alloc->free(h->alloc_state, m->vars, m->max_vars * sizeof *m->vars);
        h->alloc->free(h->alloc_state, m->qlock, sizeof(pthread_mutex_t));
        h->alloc->free(h->alloc_state, m, sizeof *m);
        return ENOMEM;
    }
    pthread_mutex_init(m->qlock, NULL);
    pthread_mutex_lock(&sh->stw);
    while (sh->stopping) /* a new thread must not run in a stopped world */
        pthread_cond_wait(&sh->cv_resume, &sh->stw);
    if (sh->nslots + 1 >= MAX_SLOTS) {
        pthread_mutex_unlock(&sh->stw);
        mutator_free(h, m);
        return EAGAIN;
    }
    m->slot = (uint8_t)++sh->nslots;
    __atomic_store_n(&sh->mut[m->slot], m, __ATOMIC_RELEASE);
    sh->nattached++;
    pthread_mutex_unlock(&sh->stw);
    tls_mut = m;
    hb_tls_slot = m->slot;
    int rc = h->collector->attach ? h->collector->attach(h) : 0;
    if (rc)
        hb_mutator_detach(h); /* the backend's detach copes with its failed attach */
    return rc;
}

void hb_mutator_detach(hb_heap *h)
{
    hb_shared *sh = h->sh;
    if (!sh)
        return;
    hb_mutator *m = hb_mutator_self(h);
    if (!m)
        return;
    hb_scope all = {0};
    hb_scope_leave(h, &all); /* its variables die with it */
    if (h->collector->detach)
        h->collector->detach(h);
    drain(h, m);
    pthread_mutex_lock(m->qlock);
    m->detached = 1; /* from now on enqueuers merge themselves */
    hb_objstack q = m->queue;
    m->queue = (hb_objstack){0};
    pthread_mutex_unlock(m->qlock);
    for (size_t i = 0; i < q.n; i++)
        if (merge(q.v[i], -1) == 0)
            dealloc(h, q.v[i]);
    hb_objstack_free(h, &q);
    pthread_mutex_lock(&sh->stw);
    park_locked(sh, m); /* a collector waits for us: park until it is done */
    sh->nattached--;
    pthread_cond_broadcast(&sh->cv_parked);
    pthread_mutex_unlock(&sh->stw);
    tls_mut = NULL;
    hb_tls_slot = 0;
}

void hb_mutator_block(hb_heap *h)
{
    hb_shared *sh = h->sh;
    hb_mutator *m;
    if (!sh || !(m = hb_mutator_self(h)) || tls_stw)
        return;
    pthread_mutex_lock(&sh->stw);
    m->parked = 1;
    sh->nparked++;
    pthread_cond_broadcast(&sh->cv_parked);
    pthread_mutex_unlock(&sh->stw);
}

void hb_mutator_unblock(hb_heap *h)
{
    hb_shared *sh = h->sh;
    hb_mutator *m;
    if (!sh || !(m = hb_mutator_self(h)) || tls_stw)
        return;
    pthread_mutex_lock(&sh->stw);
    while (sh->stopping)
        pthread_cond_wait(&sh->cv_resume, &sh->stw);
    sh->nparked--;
    m->parked = 0;
    pthread_mutex_unlock(&sh->stw);
}

/* ---- the world ---- */

void hb_safepoint_slow(hb_heap *h)
{
    hb_shared *sh = h->sh;
    hb_mutator *m;
    if (!sh || tls_stw || !(m = hb_mutator_self(h)))
        return;
    pthread_mutex_lock(&sh->stw);
    park_locked(sh, m);
    pthread_mutex_unlock(&sh->stw);
}

int hb_world_stop(hb_heap *h)
{
    hb_shared *sh = h->sh;
    hb_mutator *m = hb_mutator_self(h);
    pthread_mutex_lock(&sh->stw);
    /* RESUMING: wait for RUNNING (the broadcast that ends RESUMING wakes
     * us, so a stop begun by another thread meanwhile finds us below) */
    while (sh->resuming && !sh->stopping)
        pthread_cond_wait(&sh->cv_resume, &sh->stw);
    if (sh->stopping) {
        /* another thread's stop: parked through it (attached), or waiting
         * for its end (not attached: nobody waits for us); the caller asks
         * again if it still wants a collection */
        if (m)
            park_locked(sh, m);
        else
            while (sh->stopping)
                pthread_cond_wait(&sh->cv_resume, &sh->stw);
        pthread_mutex_unlock(&sh->stw);
        return 0;
    }
    sh->stopping = 1;
    sh->t_request = hb_now_ns();
    sh->collector = m;
    __atomic_store_n(&h->stop, 1, __ATOMIC_RELAXED);
    int others = sh->nattached - (m ? 1 : 0);
    while (sh->nparked < others)
        pthread_cond_wait(&sh->cv_parked, &sh->stw);
    sh->t_stopped = hb_now_ns();
    pthread_mutex_unlock(&sh->stw);
    tls_stw = 1;
    drain_all(h);
    return 1;
}

void hb_world_start(hb_heap *h)
{
    hb_shared *sh = h->sh;
    tls_stw = 0;
    pthread_mutex_lock(&sh->stw);
    int n = 0;
    for (int i = 1; i <= sh->nslots; i++)
        if (sh->mut[i] && sh->mut[i]->waking)
            n++;
    sh->waking = n;
    sh->last_resume = hb_now_ns();
    sh->stopping = 0;
    sh->resuming = 1;
    __atomic_store_n(&h->stop, 0, __ATOMIC_RELAXED);
    sh->epoch++;
    pthread_cond_broadcast(&sh->cv_resume);
    while (sh->waking > 0)
        pthread_cond_wait(&sh->cv_parked, &sh->stw);
    hb_gc_event ev = sh->pending;
    int has = sh->has_pending;
    sh->has_pending = 0;
    uint64_t t_request = sh->t_request, t_stopped = sh->t_stopped, end = sh->last_resume;
    pthread_mutex_unlock(&sh->stw);
    if (has) {
        /* the pause: request to the last thread resuming; reported while
         * still RESUMING, so no other stop's event runs at the same time
         * (the heap's counters, the hook) */
        ev.start_ns = t_request;
        ev.duration_ns = end - t_request;
        ev.ttsp_ns = t_stopped - t_request;
        hb_heap_event(h, &ev);
    }
    pthread_mutex_lock(&sh->stw);
    sh->resuming = 0; /* RUNNING: the next stop may begin */
    pthread_cond_broadcast(&sh->cv_resume);
    pthread_mutex_unlock(&sh->stw);
}

void hb_shared_event(hb_heap *h, const hb_gc_event *ev)
{
    h->sh->pending = *ev;
    h->sh->has_pending = 1;
}

void hb_shared_quiesce(hb_heap *h, int on)
{
    tls_stw = (uint8_t)on;
    if (on)
        drain_all(h);
}

void hb_shared_alloc_poll(hb_heap *h)
{
    hb_safepoint(h);
    if (tls_stw)
        return;
    hb_mutator *m = hb_mutator_self(h);
    if (!m) {
        fprintf(stderr, "heapbench: a thread allocates on a shared heap without hb_mutator_attach\n");
        abort();
    }
    drain(h, m);
    if (!h->enabled || m->in_dealloc)
        return;
    if (h->collector->own_stw) { /* it stops the world itself (boehm) */
        h->collector->maybe_collect(h);
        return;
    }
    if (!h->collector->due)
        return;
    hb_heap_lock(h);
    int due = h->collector->due(h);
    hb_heap_unlock(h);
    if (due && hb_world_stop(h)) {
        if (h->enabled && h->collector->due(h)) {
            h->collecting = 1;
            h->collector->maybe_collect(h);
            h->collecting = 0;
        }
        hb_world_start(h);
    }
}

/* ---- globals and shared containers ---- */

hb_object **hb_global(hb_heap *h)
{
    if (!h->sh)
        return hb_var(h);
    hb_heap_lock(h);
    if (h->nvars == h->max_vars) {
        fprintf(stderr, "heapbench: %zu globals: the heap's variables are full\n", h->max_vars);
        abort();
    }
    hb_object **v = &h->vars[h->nvars++];
    *v = NULL;
    hb_heap_unlock(h);
    return v;
}

static pthread_mutex_t *stripe(hb_heap *h, const hb_object *n)
{
    uintptr_t x = (uintptr_t)n * 0x9e3779b97f4a7c15ULL;
    return &h->sh->stripe[(x >> 40) % STRIPES];
}

hb_object *hb_node_load(hb_heap *h, hb_object *n, size_t i)
{
    if (!h->sh) {
        hb_object *v = hb_node_get(n, i);
        hb_incref(v);
        return v;
    }
    pthread_mutex_t *l = stripe(h, n);
    pthread_mutex_lock(l);
    hb_object *v = ((hb_node *)n)->fields[i];
    hb_incref(v); /* the field's own reference keeps v alive until we hold ours */
    pthread_mutex_unlock(l);
    return v;
}

void hb_node_store(hb_heap *h, hb_object *n, size_t i, hb_object *v)
{
    if (!h->sh) {
        hb_node_set(h, n, i, v);
        return;
    }
    hb_incref(v);
    pthread_mutex_t *l = stripe(h, n);
    pthread_mutex_lock(l);
    hb_object *old = ((hb_node *)n)->fields[i];
    ((hb_node *)n)->fields[i] = v;
    pthread_mutex_unlock(l);
    hb_decref(h, old); /* outside: it may free, run a finalizer, allocate */
}

int hb_shared_nslots(hb_heap *h) { return h->sh->nslots; }
hb_mutator *hb_shared_mutator(hb_heap *h, int slot) { return h->sh->mut[slot]; }
