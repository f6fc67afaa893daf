/* object.h -- the object header, type descriptors and built-in types.
 *
 * Every object a workload creates starts with an hb_object header and is
 * described by an hb_type. The header is the collectors' only view of an
 * object: the gc links and gc_refs belong to the collector, the refcount to
 * the mutator, and the type's traverse() is how any collector finds the
 * references an object holds.
 *
 * Layout (32 bytes on LP64, as CPython 3.12's two gc links, refcount and
 * type; CPython steals gc_prev's bits for gc_refs during a collection, we
 * keep gc_refs apart so a collection never has to rebuild the prev links,
 * and pay for it with a one-byte type index instead of a type pointer).
 * Everything a collection's passes read of an object -- links, counts,
 * index, gen -- is in these 32 bytes: one cache line for three of the four
 * places a 16-byte aligned block can start in one. Collections of 10^6
 * objects are memory-bound, so the bytes per object are their time.
 *
 *   offset  field
 *    0      gc_next, gc_prev   doubly linked list of the collector (a
 *    8                         generation for rcgen, the all-objects list
 *                              for rc and marksweep); NULL when the object
 *                              is not tracked
 *   16      refcnt             strong references (unused under marksweep)
 *   20      gc_refs            scratch count of a cycle collection; beside
 *                              refcnt, which every pass compares it with
 *   24      size               bytes of this block, as passed to the
 *                              allocator, so frees are sized without a call
 *                              through the type; a node's field count is
 *                              derived from it (hb_node_nfields)
 *   28      tindex             its type: an index into hb_types
 *                              (hb_typeof), a byte where a pointer took 8.
 *                              User classes have indexes from
 *                              HB_TI_FIRST_CLASS up and are all nodes, so
 *                              the traversals' node test reads the index
 *                              alone, not the type (hb_kindof)
 *   29      flags              HB_OF_* bits below (all eight in use)
 *   30      gen                the collector's byte: rcgen's generation of
 *                              the object (HB_GEN_NONE for untracked
 *                              objects), see rcgen.c; marksweep's colour
 *   31      owner              shared heaps, biased counts: the owning
 *                              mutator's slot (shared.c), 0 once the
 *                              counts are merged; zero everywhere else
 *
 * The last four are bytes, each its own memory location (C11): owner's
 * atomic accesses and the plain ones of its neighbours do not race.
 *
 * Shared heaps (collector.h) reuse two fields. With atomic counts refcnt is
 * updated by atomic read-modify-writes. With biased counts (PEP 703) refcnt
 * is the owner thread's local count, plain loads and stores by the owner
 * only, and gc_refs is the shared count of every other thread: an atomic
 * word, value << 2 | HB_SH_QUEUED | HB_SH_MERGED. A collection on a shared
 * heap stops the world, folds the shared word into refcnt for the objects
 * it examines (so its gc_refs scratch is free again) and leaves them with
 * shared count 0: between collections the fields mean what this says.
 *
 * Reference counts. hb_incref/hb_decref are inline: one flag test and an
 * add; only a count reaching zero calls out (hb_object_dealloc). Objects
 * with HB_OF_NORC -- immortal objects (small ints, interned strings, as in
 * CPython 3.12) and every object of a heap without refcounts (marksweep) --
 * are never counted, so the same mutator code runs on every collector.
 *
 * None is NULL: every slot that can hold a reference may hold NULL.
 */
#ifndef HB_OBJECT_H
#define HB_OBJECT_H

#include <stddef.h>
#include <stdint.h>

typedef struct hb_object hb_object;
typedef struct hb_type hb_type;
typedef struct hb_heap hb_heap;

struct hb_object {
    hb_object *gc_next;
    hb_object *gc_prev;
    uint32_t refcnt;
    uint32_t gc_refs;
    uint32_t size;
    uint8_t tindex;   /* its type: hb_types[tindex], see hb_typeof */
    uint8_t flags;    /* HB_OF_* */
    uint8_t gen;      /* the collector's: rcgen keeps the generation here (HB_GEN_NONE
                         when not tracked), so a collection needs no pass to flag its set */
    uint8_t owner;    /* biased counts: the owning mutator's slot (shared.c) */
};

#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(hb_object) == 32, "hb_object is 32 bytes on LP64 (see the layout above)");
#endif

/* Header flags: a byte, all of whose bits are taken; a ninth flag needs a
 * wider field, and the header has no byte to spare for it. */
enum {
    HB_OF_NORC = 1u << 0,        /* count not maintained: immortal, or marksweep */
    HB_OF_FINALIZED = 1u << 1,   /* its finalizer has run (PEP 442: at most once) */
    HB_OF_WEAKREFD = 1u << 2,    /* some weakref may point at it (look in the heap's map) */
    HB_OF_MARK = 1u << 3,        /* marksweep mark; verifying trace mark */
    HB_OF_SHARED = 1u << 4,      /* of a shared heap: counts go through shared.c */
    HB_OF_BIASED = 1u << 5,      /* ... with biased counts (else atomic) */
    HB_OF_IMMORTAL = 1u << 6,    /* never freed before the heap (implies NORC) */
    HB_OF_DEAD = 1u << 7,        /* count reached zero; queued for deallocation */
};

/* gen of an object no generation holds (every object until a collector
 * tracks it; immortals, non-containers). */
#define HB_GEN_NONE 0xFF

/* A reference visitor: called once per reference an object holds (never
 * with NULL). */
typedef void (*hb_visit_fn)(hb_object *ref, void *arg);

/* Type flags. */
enum {
    HB_TF_GC = 1u << 0,               /* a container: may hold references, tracked by rcgen */
    HB_TF_LEGACY_FINALIZER = 1u << 1, /* finalizer is a legacy tp_del: cycles holding it are
                                         uncollectable and go to the heap's garbage list */
};

typedef enum hb_kind {
    HB_K_INT, HB_K_STR, HB_K_LIST, HB_K_TUPLE, HB_K_DICT, HB_K_NODE, HB_K_WEAKREF
} hb_kind;

/* A type descriptor. Built-in types are the hb_*_type instances below; a
 * user class (the documents' Node with or without __del__) is an hb_type
 * filled by hb_class_init, whose instances are nodes with N fields. */
struct hb_type {
    const char *name;
    hb_kind kind;
    unsigned flags;   /* HB_TF_* */
    size_t basicsize; /* bytes of an instance without its variable part */
    /* Bytes the instance owns: its block plus buffers it points to. */
    size_t (*sizeof_)(const hb_object *o);
    /* Visit every reference the object holds. Must not allocate or change
     * any refcount. */
    void (*traverse)(hb_object *o, hb_visit_fn visit, void *arg);
    /* Drop every reference the object holds (tp_clear); the object stays a
     * valid, empty instance. Also frees owned buffers when `dying`. */
    void (*clear)(hb_heap *h, hb_object *o, int dying);
    /* __del__, or NULL. Runs at most once per object (PEP 442); it may
     * resurrect the object by storing a reference to it. */
    void (*finalize)(hb_heap *h, hb_object *self);
    void *udata; /* for user classes: what their finalizer wants */
    uint8_t index; /* its place in hb_types, what an instance's header holds */
};

/* Type indexes. 0 is no type: a header whose type was never set reads
 * hb_types[0], NULL, and faults at its first use. The built-in types have
 * the fixed indexes below; hb_class_init gives each user class one from
 * HB_TI_FIRST_CLASS up (the gap leaves room for one more built-in). */
enum {
    HB_TI_NONE = 0,
    HB_TI_INT, HB_TI_STR, HB_TI_LIST, HB_TI_TUPLE, HB_TI_DICT, HB_TI_WEAKREF,
    HB_TI_FIRST_CLASS = 8,
    HB_TI_COUNT = 256 /* a byte */
};

/* The process's types by index: the built-ins statically, user classes as
 * hb_class_init registers them. Read without a lock: a class is registered
 * before any instance exists, and an instance is how a reader finds its
 * index. */
extern const hb_type *hb_types[HB_TI_COUNT];

static inline const hb_type *hb_typeof(const hb_object *o) { return hb_types[o->tindex]; }

/* What a collection asks of every object's type, by index, a byte each:
 * the collector's per-object tests read this table, not the type (two
 * dependent loads). Kept with hb_types. */
enum {
    HB_TB_LEGACY = 1u << 0,   /* HB_TF_LEGACY_FINALIZER */
    HB_TB_PLAIN = 1u << 1,    /* a node class with no finalizer, legacy or not */
    HB_TB_FINALIZE = 1u << 2, /* finalize != NULL */
    HB_TB_GC = 1u << 3,       /* HB_TF_GC */
};
extern uint8_t hb_type_bits[HB_TI_COUNT];
uint8_t hb_type_bits_of(const hb_type *t); /* what hb_type_bits holds for t */

/* A container (HB_TF_GC): may hold references; the collectors track it. */
static inline int hb_is_container(const hb_object *o)
{
    return (hb_type_bits[o->tindex] & HB_TB_GC) != 0;
}

/* The object's kind. Every user class is a node (hb_class_init), so a node
 * is told by its index alone: the hot traversals' test does not load the
 * type. */
static inline hb_kind hb_kindof(const hb_object *o)
{
    return o->tindex >= HB_TI_FIRST_CLASS ? HB_K_NODE : hb_types[o->tindex]->kind;
}

/* ---- reference counts (inline hot path) ---- */

void hb_object_dealloc(hb_heap *h, hb_object *o);
/* shared.c: the counts of a shared heap's objects (atomic or biased). */
void hb_decref_shared(hb_heap *h, hb_object *o);
uint32_t hb_refcnt_shared(const hb_object *o);
extern __thread uint8_t hb_tls_slot; /* the thread's slot on its shared heap, 0: none */
extern __thread uint8_t hb_tls_stw;  /* 1: the thread runs alone, the world stopped */

/* An increment never calls out: a call in the middle of a caller (hb_set,
 * hb_list_set) would cost every caller a stack frame, isolated or not.
 * Biased: the owner (or the collector, alone) adds to its local count,
 * anyone else to the shared word. */
static inline void hb_incref_shared(hb_object *o)
{
    if (!(o->flags & HB_OF_BIASED)) {
        __atomic_fetch_add(&o->refcnt, 1, __ATOMIC_RELAXED);
        return;
    }
    uint8_t own = __atomic_load_n(&o->owner, __ATOMIC_RELAXED);
    if (own && (own == hb_tls_slot || hb_tls_stw))
        __atomic_store_n(&o->refcnt, o->refcnt + 1, __ATOMIC_RELAXED);
    else
        __atomic_fetch_add(&o->gc_refs, 4u /* 1 << HB_SH_SHIFT */, __ATOMIC_RELAXED);
}

/* One flag test on the isolated heap's path, as before shared heaps: a
 * counted object of an isolated heap has neither NORC nor SHARED. */
static inline void hb_incref(hb_object *o)
{
    if (o) {
        if (__builtin_expect(!(o->flags & (HB_OF_NORC | HB_OF_SHARED)), 1))
            o->refcnt++;
        else if (!(o->flags & HB_OF_NORC))
            hb_incref_shared(o);
    }
}

static inline void hb_decref(hb_heap *h, hb_object *o)
{
    if (o) {
        if (__builtin_expect(!(o->flags & (HB_OF_NORC | HB_OF_SHARED)), 1)) {
            if (--o->refcnt == 0)
                hb_object_dealloc(h, o);
        } else if (!(o->flags & HB_OF_NORC)) {
            hb_decref_shared(h, o);
        }
    }
}

/* The object's reference count; sys.getrefcount(o) is this plus one (the
 * argument's own reference). UINT32_MAX for uncounted objects. On a shared
 * heap with biased counts, the sum of both counts (a snapshot). */
static inline uint32_t hb_refcnt(const hb_object *o)
{
    if (o->flags & HB_OF_NORC)
        return UINT32_MAX;
    return (o->flags & HB_OF_SHARED) ? hb_refcnt_shared(o) : o->refcnt;
}

/* Biased counts: the flag bits of the shared word (gc_refs), as PEP 703's
 * ob_ref_shared. */
#define HB_SH_QUEUED 1u /* queued to its owner to merge: the queue holds a reference */
#define HB_SH_MERGED 2u /* one count, in the shared word; refcnt and owner are 0 */
#define HB_SH_SHIFT 2

/* Bytes attributed to an object (its block and owned buffers). */
static inline size_t hb_object_bytes(const hb_object *o)
{
    const hb_type *t = hb_typeof(o);
    return t->sizeof_ ? t->sizeof_(o) : o->size;
}

/* ---- built-in types ----
 * Constructors return a NEW reference (or NULL with errno = ENOMEM) which the
 * caller owns: store it (hb_set_new, a container's *_new setter) or drop it
 * (hb_decref) before the next allocating call -- under marksweep an object
 * that is in no root and no reachable container may be freed by any
 * allocation. Getters return BORROWED references. Setters taking `v` add
 * their own reference to v; setters named *_new steal the caller's. */

extern const hb_type hb_int_type, hb_str_type, hb_list_type, hb_tuple_type, hb_dict_type,
    hb_weakref_type;

typedef struct hb_int { hb_object ob; int64_t value; } hb_int;
typedef struct hb_str { hb_object ob; uint64_t hash; size_t len; char data[]; } hb_str;
typedef struct hb_list { hb_object ob; size_t len, cap; hb_object **items; } hb_list;
typedef struct hb_tuple { hb_object ob; size_t len; hb_object *items[]; } hb_tuple;
typedef struct hb_dict_entry { hb_object *key; hb_object *value; } hb_dict_entry;
typedef struct hb_dict { hb_object ob; size_t len, cap; hb_dict_entry *slots; } hb_dict;
/* A node's block is exactly its header and fields (hb_node_new): the field
 * count is not stored but derived from the header's size (hb_node_nfields),
 * so a node with one field is 40 bytes, a 48-byte chunk for glibc and the
 * arena (it was 56 bytes, with a 40-byte header and a count: 64). */
typedef struct hb_node { hb_object ob; hb_object *fields[]; } hb_node;
typedef void (*hb_weakref_cb)(hb_heap *h, hb_object *wr, hb_object *arg, void *ctx);
typedef struct hb_weakref {
    hb_object ob;
    hb_object *target;           /* not counted; NULL once the target died */
    hb_object *wr_next, *wr_prev; /* other weakrefs to the same target */
    hb_weakref_cb cb;
    hb_object *arg;              /* held strongly */
    void *ctx;
    hb_object *fin_next, *fin_prev; /* the heap's chain of live weakref.finalize */
    int is_finalize, fin_alive;
} hb_weakref;

/* ints: -5..256 are preallocated per heap and immortal (`1 is 1`); any
 * other value is a fresh object (`257 is 257` is false for separately
 * created values). */
#define HB_SMALLINT_MIN (-5)
#define HB_SMALLINT_MAX 256
hb_object *hb_int_new(hb_heap *h, int64_t v);
int64_t hb_int_value(const hb_object *o);

/* strs: hb_str_new makes a fresh string; hb_str_intern returns the heap's one
 * immortal instance for that text (sys.intern; identifier-like literals). */
hb_object *hb_str_new(hb_heap *h, const char *s, size_t len);
hb_object *hb_str_intern(hb_heap *h, const char *s);
const char *hb_str_data(const hb_object *o);
size_t hb_str_len(const hb_object *o);
int hb_str_eq(const hb_object *a, const hb_object *b);

/* lists: growable; append/set add a reference to the item. */
hb_object *hb_list_new(hb_heap *h);
int hb_list_append(hb_heap *h, hb_object *list, hb_object *v);
int hb_list_append_new(hb_heap *h, hb_object *list, hb_object *v);
size_t hb_list_len(const hb_object *list);
hb_object *hb_list_get(const hb_object *list, size_t i);
void hb_list_set(hb_heap *h, hb_object *list, size_t i, hb_object *v);
void hb_list_clear(hb_heap *h, hb_object *list);
/* Removes the last item; returns it as a NEW reference (NULL if empty). */
hb_object *hb_list_pop(hb_heap *h, hb_object *list);

/* tuples: immutable once built; items[] are borrowed, the tuple adds its own
 * references. Items must be reachable (held by variables) while the tuple
 * is allocated. */
hb_object *hb_tuple_new(hb_heap *h, size_t n, hb_object *const *items);
size_t hb_tuple_len(const hb_object *t);
hb_object *hb_tuple_get(const hb_object *t, size_t i);

/* dicts with str keys (compared by value). */
hb_object *hb_dict_new(hb_heap *h);
int hb_dict_set(hb_heap *h, hb_object *d, hb_object *key, hb_object *v);
hb_object *hb_dict_get(const hb_object *d, const hb_object *key);
int hb_dict_del(hb_heap *h, hb_object *d, const hb_object *key); /* 0, or ENOENT */
size_t hb_dict_len(const hb_object *d);

/* User classes: instances are nodes with `nfields` reference fields, all
 * None at creation. `del` is the class's __del__ (NULL for none); `legacy`
 * marks it as a legacy finalizer (tp_del). hb_class_init gives the struct a
 * type index the first time it sees it and the same one again when the same
 * struct is initialised again; thread-safe. A process has room for
 * HB_TI_COUNT - HB_TI_FIRST_CLASS classes at once: one more is a
 * programming error, reported on stderr, and aborts. */
void hb_class_init(hb_type *cls, const char *name, void (*del)(hb_heap *h, hb_object *self),
                   void *udata, int legacy);
/* Gives back the indexes of every class whose struct lies in [mem, mem +
 * bytes), when that memory is about to be freed and no instance of them
 * is left (a workload's teardown, after its heaps are destroyed: cwl.h).
 * Classes kept in per-cell state would otherwise use up the indexes of a
 * process that runs many cells (the test suites). Thread-safe. */
void hb_classes_release(const void *mem, size_t bytes);
hb_object *hb_node_new(hb_heap *h, const hb_type *cls, size_t nfields);
hb_object *hb_node_get(const hb_object *n, size_t i);
void hb_node_set(hb_heap *h, hb_object *n, size_t i, hb_object *v);
void hb_node_set_new(hb_heap *h, hb_object *n, size_t i, hb_object *v);

static inline size_t hb_node_nfields(const hb_object *n)
{
    return (n->size - offsetof(hb_node, fields)) / sizeof(hb_object *);
}
/* Past a node's last field: its block's end (size is the block's exact
 * size). The hot loops run to this pointer, which costs no division. */
static inline hb_object **hb_node_end(hb_object *n)
{
    return (hb_object **)((char *)n + n->size);
}

/* Weak references. A weakref does not keep its target alive; when the
 * target dies the weakref is cleared and, if the weakref itself is still
 * alive (reachable), its callback runs once with (wr, arg, ctx). `arg` is
 * held strongly by the weakref (it may be NULL). */
hb_object *hb_weakref_new(hb_heap *h, hb_object *target, hb_weakref_cb cb, hb_object *arg,
                          void *ctx);
/* The target (borrowed) or NULL once it died: weakref.ref's call. */
hb_object *hb_weakref_get(const hb_object *wr);
/* weakref.finalize(target, fn, arg): the heap keeps the finalizer alive
 * until it has run or the heap ends, so `fn` runs exactly once when the
 * target dies. Returns a BORROWED reference to the finalizer object. */
hb_object *hb_finalize_new(hb_heap *h, hb_object *target, hb_weakref_cb fn, hb_object *arg,
                           void *ctx);
/* finalize.alive: not yet run. */
int hb_finalize_alive(const hb_object *fin);

#endif
