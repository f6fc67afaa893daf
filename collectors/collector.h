/* collector.h -- the collector contract and the mutator API.
 *
 * A collector backend exports one `const hb_collector` and is listed once,
 * in registry.c. A heap (hb_heap) is one instance of one backend over one
 * allocator instance: every object of the heap is allocated from that
 * allocator, and every call of the mutator API takes the heap first. There
 * is no global state.
 *
 * Thread safety. An isolated heap (cfg.shared 0, the harness's `isolated`
 * mode) belongs to one thread, and no object may be shared between heaps;
 * calls on different heaps may run at once.
 *
 * A shared heap (cfg.shared 1, `--heap shared`) is one heap for many
 * threads, whose objects any of them may hold. It is made once, by a thread
 * that need not use it. Every thread that uses it calls hb_mutator_attach
 * first and hb_mutator_detach last (a thread is attached to at most one
 * shared heap at a time); each attached thread has its own shadow stack,
 * found through a thread-local cache keyed by the heap's id, so hb_var,
 * scopes and every other call read the same as on an isolated heap.
 * Counts are atomic or biased (cfg.refcount_mode, object.h). Collections
 * stop the world: mutators poll a safepoint in every allocation and in
 * hb_safepoint, which loops that run long without allocating must call; a
 * collecting thread waits until every attached thread is parked there, or
 * detached, or between hb_mutator_block and hb_mutator_unblock (around
 * anything that may wait for another mutator: a lock, a condition, a
 * join), collects over every thread's roots, then releases them. Its pause
 * runs from the request to the last parked thread resuming (ttsp_ns of the
 * event: request to all stopped). A container several threads write must
 * be written with hb_node_store and read with hb_node_load (a striped lock
 * makes "read the field, then count the reference" atomic against a
 * writer's drop); a thread's own objects need nothing. Weakrefs, interning
 * and the finalize registry are serialised by the heap's lock. hb_heap_new,
 * hb_heap_leaks and hb_heap_destroy run with no thread attached, or (leaks)
 * from an attached one, which stops the world for it. A stop begins only
 * once the previous one has ended (every parked thread resumed), so each
 * event has start_ns = the request, 0 <= ttsp_ns <= duration_ns, and the
 * pauses of a shared heap never overlap. boehm's shared heap is the
 * exception to the safepoints: Boehm stops the world itself, with signals,
 * for the threads hb_mutator_attach registers with it (own_stw below);
 * its pauses come from Boehm's collection events.
 *
 * Variables. Workloads are written with the meaning of Python variables: a
 * variable holds a reference; assignment replaces what it held (the new
 * value gains a reference, the old one loses one); leaving a scope drops
 * every variable declared in it. Variables live on the heap's shadow stack,
 * so a tracing collector finds them; hb_var returns a stable slot pointer:
 *
 *     hb_scope s; hb_scope_enter(h, &s);
 *     hb_object **x = hb_var(h), **y = hb_var(h);
 *     hb_set_new(h, x, hb_list_new(h));   // x = []
 *     hb_set(h, y, *x);                   // y = x
 *     hb_del(h, y);                       // del y
 *     hb_scope_leave(h, &s);              // x goes out of scope
 *
 * Globals are variables of the outermost scope, which the heap opens itself
 * and closes in hb_heap_destroy.
 *
 * Collections. Every collection -- automatic or hb_collect -- is reported to
 * the heap's event hook (start, duration, generation, objects examined,
 * objects freed, and whether hb_collect asked for it), which the harness
 * records as a pause. Automatic collections happen only inside allocating
 * calls, never inside a refcount operation, and not while a finalizer or
 * callback of the collector runs; a collection heap.c makes for the heap
 * limit (max_heap) is one of them: the program did not ask for it.
 *
 * Errors: int functions return 0 or an errno value; constructors return
 * NULL with errno = ENOMEM (see object.h for reference ownership).
 */
#ifndef HB_COLLECTOR_H
#define HB_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "../allocators/allocator.h"
#include "object.h"

#define HB_GENERATIONS 3

/* One collection, as the harness records it in NAME.pauses.csv. */
typedef struct hb_gc_event {
    uint64_t start_ns;    /* CLOCK_MONOTONIC */
    uint64_t duration_ns;
    int generation;       /* oldest generation collected; 0 for single-space collectors */
    uint64_t examined;    /* objects the collection looked at */
    uint64_t freed;       /* objects it found to be garbage (collected + uncollectable) */
    uint64_t ttsp_ns;     /* shared heaps: request to every mutator stopped (part of
                             duration_ns); 0 on isolated heaps */
    int is_explicit;      /* 1: asked for by hb_collect (gc.collect()); 0: automatic,
                             scheduled by the collector inside an allocating call.
                             Backends copy h->collect_explicit (boehm: its own) */
} hb_gc_event;

/* examined or freed when the backend cannot know it (boehm counts bytes,
 * not objects): to be left empty in the results, never printed as data. */
#define HB_GC_UNKNOWN UINT64_MAX

typedef void (*hb_gc_hook)(void *arg, const hb_gc_event *ev);

/* The garbage probe (garbage_every_ns): at `at_ns` a verifying trace took
 * `took_ns` and found `objects` objects of `bytes` bytes alive but
 * unreachable from the roots (rc = 0), or could not run (rc, an errno
 * value: no memory for its mark stack). */
typedef void (*hb_garbage_hook)(void *arg, uint64_t at_ns, uint64_t took_ns, uint64_t objects,
                                uint64_t bytes, int rc);

/* The heap ran out under its limit (max_heap): an allocation of `asked`
 * bytes does not fit, with `used` bytes in use after everything a full
 * collection could free was freed, or (asked 0) collections in a row left
 * too little room to go on (the collector's own rule: marksweep.c). The
 * hook may end the process (the harness reports the cell as `oom`); if it
 * returns, the allocation fails: NULL with errno = ENOMEM. */
typedef void (*hb_oom_hook)(void *arg, size_t asked, uint64_t used, uint64_t limit);

/* gc.get_stats()[gen]. */
typedef struct hb_gen_stats {
    uint64_t collections;
    uint64_t collected;
    uint64_t uncollectable;
} hb_gen_stats;

typedef struct hb_heap_config {
    const hb_allocator *alloc; /* required */
    void *alloc_state;         /* required: an initialised instance of alloc */
    size_t max_vars;           /* shadow-stack slots; 0 means 1 << 16 */
    long threshold[HB_GENERATIONS]; /* rcgen; 0 means CPython's 700, 10, 10 */
    double grow;               /* marksweep: next collection at grow x survivors; 0 means 2 */
    size_t min_heap;           /* marksweep: never collect below this many bytes; 0 means 1 MiB */
    hb_gc_hook hook;           /* may be NULL */
    void *hook_arg;
    /* Garbage held over time: every garbage_every_ns (0: never), at an
     * allocation, the heap runs hb_heap_leaks and reports it to
     * garbage_hook (with hook_arg). Isolated heaps of a backend with
     * refcounts only (marksweep's mark bit is its collection's, and a
     * shared heap would stop the world for it); the trace runs on the
     * mutator's thread, so its time is reported for the caller to take out
     * of the run's. */
    uint64_t garbage_every_ns;
    hb_garbage_hook garbage_hook;
    int shared;                /* 1: one heap for many threads (see above) */
    int refcount_mode;         /* shared heaps: HB_RC_ATOMIC or HB_RC_BIASED */
    /* A hard heap limit in bytes, 0 none; only for a backend with
     * max_heap_ok (hb_heap_new says ENOTSUP otherwise). What it bounds is
     * the backend's: marksweep's live_bytes (objects and the buffers they
     * own, garbage not yet swept included), boehm's own heap
     * (GC_set_max_heap_size). With isolated heaps it is each heap's. */
    size_t max_heap;
    hb_oom_hook oom_hook;      /* with hook_arg; may be NULL */
    /* rcinc: 0 marks what the roots reach in one pause at the start of
     * each scavenge, as CPython 3.14.0 does ("TO DO -- Make this
     * incremental"); 1 spreads that mark over the increments, a slice of
     * the increment's budget each (rcinc.c). */
    int incremental_mark;
} hb_heap_config;

enum { HB_RC_ATOMIC = 0, HB_RC_BIASED = 1 };

typedef struct hb_shared hb_shared; /* shared.c */

typedef struct hb_collector hb_collector;

/* Shadow-stack scope marker. */
typedef struct hb_scope {
    size_t base;
} hb_scope;

/* The heap: state shared by every backend, plus the backend's own (`gc`).
 * Fields are read-only for users; use the functions below. */
struct hb_heap {
    const hb_collector *collector;
    void *gc; /* backend state */
    const hb_allocator *alloc;
    void *alloc_state;
    /* where objects and the buffers they own (list items, dict slots) come
     * from: the allocator above, unless the backend brings its own heap
     * (boehm); the heap's bookkeeping (variables, tables, mark stacks)
     * always comes from `alloc` */
    const hb_allocator *obj_alloc;
    void *obj_alloc_state;
    hb_heap_config cfg;

    /* shadow stack of variables */
    hb_object **vars;
    size_t nvars, max_vars;
    hb_scope globals;

    /* immortal objects */
    struct hb_int *smallints; /* HB_SMALLINT_MIN..MAX */
    struct hb_str **interned;  /* open addressing, NULL = empty */
    size_t ninterned, interned_cap;

    /* weakrefs: target -> first weakref, open addressing */
    struct hb_wrslot *wrmap;
    size_t nwr, wrcap;
    hb_object *finalizers; /* weakref.finalize objects alive, chained */

    hb_object *garbage; /* gc.garbage: a list, created on first use */

    /* deallocation without recursion: objects whose count reached zero
     * while another deallocation ran, chained through gc_next */
    hb_object *dead;
    int in_dealloc;
    int collecting; /* a collection, finalizer or callback of it is running */
    int enabled;    /* gc.isenabled() */
    /* hb_collect is running the backend's collect: its collections are
     * explicit (hb_gc_event.is_explicit). Set by heap.c only, on an
     * isolated heap or with the world stopped, so one thread reads it. */
    int collect_explicit;
    int closing;    /* hb_heap_destroy: no finalizer or callback runs any more */

    /* counters (objects and bytes of this heap, immortals excluded) */
    uint64_t allocs, frees, live_objects, live_bytes, peak_live_bytes;
    uint64_t collections, collected_objects; /* all generations */
    uint64_t gc_ns_total;                    /* summed duration of every collection */
    hb_gen_stats stats[HB_GENERATIONS];

    /* the garbage probe: allocations to the next clock reading, and when
     * the next trace is due (see garbage_every_ns) */
    uint32_t probe_countdown;
    uint64_t probe_next_ns;

    /* the limit heap.c enforces (cfg.max_heap of a backend whose heap
     * heap.c counts; 0: none, or the backend enforces it itself: boehm) */
    uint64_t limit;

    /* shared heaps: mutators, safepoints, the heap lock (NULL: isolated) */
    hb_shared *sh;
    int stop; /* a stop of the world is requested: park at the next safepoint */
};

struct hb_collector {
    const char *name; /* unique, lower case */
    const char *doc;
    int generations;  /* what hb_collect(h, gen) accepts: 0..generations-1 */
    int refcounts;    /* 1 if objects are freed when their count reaches zero */

    int (*init)(hb_heap *h);     /* set up h->gc; h's common fields are ready */
    /* Optional: the block of a new object of type t (NULL with errno set
     * on failure); NULL here means h->obj_alloc->alloc. */
    void *(*object_block)(hb_heap *h, const hb_type *t, size_t size);
    void (*destroy)(hb_heap *h); /* free every object still alive, then h->gc */
    /* A new object enters the heap (after its fields are set). */
    void (*track)(hb_heap *h, hb_object *o);
    /* An object is being freed (refcount zero): forget it. */
    void (*untrack)(hb_heap *h, hb_object *o);
    /* Called by allocating calls after each new object: collect if due. */
    void (*maybe_collect)(hb_heap *h);
    /* gc.collect(gen): number of unreachable objects found (collected plus
     * uncollectable); 0 for collectors that never find cycles (rc). Called
     * by hb_collect (h->collect_explicit 1) and by heap.c for the heap
     * limit (0): its events say which. */
    size_t (*collect)(hb_heap *h, int gen);
    /* gc.freeze()/gc.unfreeze()/gc.get_freeze_count(); EOPNOTSUPP if the
     * backend has no permanent generation. */
    int (*freeze)(hb_heap *h, int freeze);
    size_t (*freeze_count)(hb_heap *h);
    /* gc.set_threshold/get_threshold (EOPNOTSUPP where meaningless). */
    int (*set_threshold)(hb_heap *h, const long *t, int n);
    int (*get_threshold)(hb_heap *h, long *t, int n);
    /* Shared heaps: would maybe_collect collect now? Called with the heap
     * lock held, so the thread that sees it true stops the world and calls
     * maybe_collect; NULL: never (rc). */
    int (*due)(hb_heap *h);
    int shared_ok; /* 1 if the backend supports shared heaps */
    /* Shared heaps of a backend that stops the world itself (boehm, with
     * its own thread registration and signals): own_stw 1, and its
     * collections never go through hb_world_stop -- allocation calls
     * maybe_collect and hb_collect calls collect directly, from an
     * attached thread (hb_collect from another returns 0: the backend
     * knows only the threads attach registered with it), and the backend
     * reports its own pauses. attach runs at the end of hb_mutator_attach
     * on the attaching thread (nonzero: the attach fails with it), detach
     * at the start of hb_mutator_detach, after the thread's variables are
     * dropped; either may be NULL. */
    int own_stw;
    /* Objects come from the backend's own heap, not the cell's allocator
     * (boehm): it runs once per matrix whatever --allocators lists, and
     * the heap can neither count its objects' deaths nor be walked by
     * hb_heap_leaks. */
    int own_heap;
    int (*attach)(hb_heap *h);
    void (*detach)(hb_heap *h);
    /* Honours cfg.max_heap (marksweep, boehm). For a backend whose heap
     * heap.c counts (not own_heap), heap.c enforces it at every object and
     * buffer allocation: one that would cross it first calls reclaim, then
     * (object allocations only, where a collection may run) a full
     * collection, then reports hb_heap_oom. */
    int max_heap_ok;
    /* Optional: free what is already known to be garbage without starting
     * a collection (marksweep: the rest of a pending lazy sweep). Safe in
     * any allocating call, as it frees nothing reachable. */
    void (*reclaim)(hb_heap *h);
    /* Not an in-process backend: a real runtime run as a program (cpython,
     * the interpreter running workloads/python/NAME.py; harness/cpython.c).
     * hb_heap_new refuses it (its init returns EOPNOTSUPP); the harness
     * runs its cells as program cells, and code that makes heaps of every
     * listed collector skips it. */
    int external;
    /* The collector keys of `heapbench run --param` it honours, separated
     * by commas (threshold, threshold1, threshold2, grow_pct, garbage_ms,
     * heap_kb; refcount is every shared heap's). A key it does not list
     * leaves its cells alone: swept, it does not multiply them into cells
     * that differ only in a name. */
    const char *params;
};

/* registry.c */
extern const hb_collector *const hb_collectors[];
extern const size_t hb_collector_count;
const hb_collector *hb_collector_find(const char *name);

/* Live object bytes now, readable from any thread while the heap's own
 * threads run (the harness samples it every 10 ms): the heap writes it with
 * relaxed atomic stores. */
static inline uint64_t hb_heap_live_bytes(const hb_heap *h)
{
    return __atomic_load_n(&h->live_bytes, __ATOMIC_RELAXED);
}

/* ---- heap lifecycle ---- */
int hb_heap_new(hb_heap **out, const hb_collector *c, const hb_heap_config *cfg);
/* Drops the globals, runs nothing else of the mutator, frees every object. */
void hb_heap_destroy(hb_heap *h);

/* ---- variables ---- */
void hb_scope_enter(hb_heap *h, hb_scope *s);
void hb_scope_leave(hb_heap *h, hb_scope *s);
/* A new variable (None) in the current scope; aborts with a message if the
 * shadow stack is full (a stack overflow, as in Python). */
hb_object **hb_var(hb_heap *h);
/* var = v (v borrowed). */
static inline void hb_set(hb_heap *h, hb_object **var, hb_object *v)
{
    hb_object *old = *var;
    hb_incref(v);
    *var = v;
    hb_decref(h, old);
}
/* var = v, stealing the caller's new reference. */
static inline void hb_set_new(hb_heap *h, hb_object **var, hb_object *v)
{
    hb_object *old = *var;
    *var = v;
    hb_decref(h, old);
}
/* del var */
static inline void hb_del(hb_heap *h, hb_object **var)
{
    hb_set_new(h, var, NULL);
}

/* All roots, in one place: the shadow stacks (globals, and every attached
 * thread's locals on a shared heap), the weakref.finalize registry and
 * gc.garbage. */
void hb_heap_roots(hb_heap *h, hb_visit_fn visit, void *arg);

/* ---- shared heaps (shared.c); on an isolated heap attach/detach/block
 * are no-ops returning 0 ---- */
/* 0, EBUSY (attached elsewhere), EAGAIN (254 attaches), or the backend's
 * attach error (boehm: ENOTSUP, no stack base to register) */
int hb_mutator_attach(hb_heap *h);
void hb_mutator_detach(hb_heap *h); /* leaves the thread's scopes; merges its queue */
void hb_mutator_block(hb_heap *h);  /* about to wait for another thread: counts as stopped */
void hb_mutator_unblock(hb_heap *h);
void hb_safepoint_slow(hb_heap *h);
/* Park here if a collection asked the world to stop: one relaxed load. */
static inline void hb_safepoint(hb_heap *h)
{
    if (__builtin_expect(__atomic_load_n(&h->stop, __ATOMIC_RELAXED), 0))
        hb_safepoint_slow(h);
}
/* A new variable among the globals (any thread; the heap's outermost
 * scope, dropped by hb_heap_destroy). */
hb_object **hb_global(hb_heap *h);
/* n.i as a NEW reference, and n.i = v (v borrowed): safe while other
 * threads store into the same node (plain get/set on isolated heaps). */
hb_object *hb_node_load(hb_heap *h, hb_object *n, size_t i);
void hb_node_store(hb_heap *h, hb_object *n, size_t i, hb_object *v);
/* 1 for a shared heap. */
static inline int hb_heap_is_shared(const hb_heap *h) { return h->sh != NULL; }

/* ---- the gc module ---- */
size_t hb_collect(hb_heap *h, int gen); /* gen -1: the oldest */
void hb_gc_disable(hb_heap *h);
void hb_gc_enable(hb_heap *h);
int hb_gc_isenabled(const hb_heap *h);
int hb_gc_freeze(hb_heap *h);
int hb_gc_unfreeze(hb_heap *h);
size_t hb_gc_get_freeze_count(hb_heap *h);
int hb_gc_set_threshold(hb_heap *h, const long *t, int n);
int hb_gc_get_threshold(hb_heap *h, long *t, int n);
int hb_gc_get_stats(const hb_heap *h, int gen, hb_gen_stats *out);
/* gc.garbage: a list (borrowed), or NULL if nothing was ever uncollectable. */
hb_object *hb_gc_garbage(hb_heap *h);

/* Verifying trace: objects and bytes alive in the heap but unreachable from
 * the roots (what pure refcounting leaked). Allocates nothing from the
 * objects' allocator except its mark stack. */
int hb_heap_leaks(hb_heap *h, uint64_t *objects, uint64_t *bytes);

/* ---- for backends (heap.c) ---- */
uint64_t hb_now_ns(void);
/* The heap ran out under its limit: cfg.oom_hook with (asked, used,
 * limit), if any. Returns if the hook does. */
void hb_heap_oom(hb_heap *h, size_t asked, uint64_t used);
void hb_heap_event(hb_heap *h, const hb_gc_event *ev);
/* Free an object's memory (no finalizer, no references dropped). On a
 * shared heap only by a thread that runs alone (the world stopped, or
 * destroy); hb_object_discard frees from any thread of any heap. */
void hb_object_free(hb_heap *h, hb_object *o);
void hb_object_discard(hb_heap *h, hb_object *o);
/* Clear the weakrefs to o; run callbacks of those weakrefs for which
 * `callback_ok(wr)` (NULL: all) says so. */
void hb_weakrefs_clear(hb_heap *h, hb_object *o, int (*callback_ok)(hb_object *wr));
/* Two-phase form (collections): unlink every weakref to o, pushing (with a
 * reference) those whose callback must run on `fire`; then hb_weakref_fire
 * each once all targets are cleared, so no callback sees a half-cleared
 * set. */
typedef struct hb_objstack hb_objstack;
void hb_weakrefs_detach(hb_heap *h, hb_object *o, int (*callback_ok)(hb_object *wr),
                        hb_objstack *fire);
void hb_weakref_fire(hb_heap *h, hb_object *wr);
/* Run o's finalizer if it has one that has not run; 1 if it ran. */
int hb_object_finalize(hb_heap *h, hb_object *o);
/* Grow-able array of object pointers used as a mark stack. */
struct hb_objstack {
    hb_object **v;
    size_t n, cap;
};
int hb_objstack_push(hb_heap *h, hb_objstack *s, hb_object *o);
void hb_objstack_free(hb_heap *h, hb_objstack *s);

/* Doubly linked gc lists with a sentinel head (an hb_object never freed). */
static inline void hb_gclist_init(hb_object *head)
{
    head->gc_next = head->gc_prev = head;
}
static inline int hb_gclist_empty(const hb_object *head)
{
    return head->gc_next == head;
}
static inline void hb_gclist_append(hb_object *head, hb_object *o)
{
    hb_object *last = head->gc_prev;
    o->gc_prev = last;
    o->gc_next = head;
    last->gc_next = o;
    head->gc_prev = o;
}
static inline void hb_gclist_remove(hb_object *o)
{
    o->gc_prev->gc_next = o->gc_next;
    o->gc_next->gc_prev = o->gc_prev;
    o->gc_next = o->gc_prev = NULL;
}
static inline void hb_gclist_move(hb_object *o, hb_object *to)
{
    o->gc_prev->gc_next = o->gc_next;
    o->gc_next->gc_prev = o->gc_prev;
    hb_gclist_append(to, o);
}
/* Append every object of `from` to `to`; `from` becomes empty. */
static inline void hb_gclist_merge(hb_object *from, hb_object *to)
{
    if (hb_gclist_empty(from))
        return;
    hb_object *first = from->gc_next, *last = from->gc_prev, *tail = to->gc_prev;
    tail->gc_next = first;
    first->gc_prev = tail;
    last->gc_next = to;
    to->gc_prev = last;
    hb_gclist_init(from);
}
/* The number of objects on a list (a walk: for gc.get_freeze_count, not hot). */
static inline size_t hb_gclist_length(const hb_object *head)
{
    size_t n = 0;
    for (const hb_object *o = head->gc_next; o != head; o = o->gc_next)
        n++;
    return n;
}

#endif
