/* types.c -- the built-in types: int, str (+ interning), list, tuple, dict
 * with str keys, user-class nodes, weakref and weakref.finalize. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Drop a reference held by a dying or cleared object. A heap without
 * counts (marksweep) frees objects in any order during a sweep, so the
 * referent may already be gone: it must not even be looked at. */
/* A shared heap's tables (interning, weakrefs, the finalize registry) are
 * serialised by its lock; an isolated heap takes none. */
#define LOCK(h) do { if ((h)->sh) hb_heap_lock(h); } while (0)
#define UNLOCK(h) do { if ((h)->sh) hb_heap_unlock(h); } while (0)

static inline void drop(hb_heap *h, hb_object *v)
{
    if (h->collector->refcounts)
        hb_decref(h, v);
}

/* ---- int ---- */

static size_t int_sizeof(const hb_object *o) { return o->size; }
static void no_traverse(hb_object *o, hb_visit_fn visit, void *arg) { (void)o, (void)visit, (void)arg; }
static void no_clear(hb_heap *h, hb_object *o, int dying) { (void)h, (void)o, (void)dying; }

const hb_type hb_int_type = {"int", HB_K_INT, 0, sizeof(hb_int), int_sizeof, no_traverse, no_clear,
                             NULL, NULL, HB_TI_INT};

hb_object *hb_int_new(hb_heap *h, int64_t v)
{
    if (v >= HB_SMALLINT_MIN && v <= HB_SMALLINT_MAX)
        return &h->smallints[v - HB_SMALLINT_MIN].ob; /* immortal: no count to add */
    hb_int *i = (hb_int *)hb_object_alloc(h, &hb_int_type, sizeof(hb_int));
    if (!i)
        return NULL;
    i->value = v;
    hb_object_ready(h, &i->ob);
    return &i->ob;
}

int64_t hb_int_value(const hb_object *o) { return ((const hb_int *)o)->value; }

/* ---- str ---- */

const hb_type hb_str_type = {"str", HB_K_STR, 0, sizeof(hb_str), int_sizeof, no_traverse, no_clear,
                             NULL, NULL, HB_TI_STR};

static uint64_t str_hash(const char *s, size_t len)
{
    uint64_t x = 0xcbf29ce484222325ULL; /* FNV-1a: short keys, no setup */
    for (size_t i = 0; i < len; i++)
        x = (x ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return x;
}

static void str_fill(hb_str *s, const char *p, size_t len)
{
    memcpy(s->data, p, len);
    s->data[len] = 0;
    s->len = len;
    s->hash = str_hash(p, len);
}

hb_object *hb_str_new(hb_heap *h, const char *p, size_t len)
{
    hb_str *s = (hb_str *)hb_object_alloc(h, &hb_str_type, sizeof(hb_str) + len + 1);
    if (!s)
        return NULL;
    str_fill(s, p, len);
    hb_object_ready(h, &s->ob);
    return &s->ob;
}

const char *hb_str_data(const hb_object *o) { return ((const hb_str *)o)->data; }
size_t hb_str_len(const hb_object *o) { return ((const hb_str *)o)->len; }

int hb_str_eq(const hb_object *a, const hb_object *b)
{
    const hb_str *x = (const hb_str *)a, *y = (const hb_str *)b;
    return x == y || (x->hash == y->hash && x->len == y->len && !memcmp(x->data, y->data, x->len));
}

/* Interned strings are immortal (CPython 3.12) and allocated outside the
 * heap's counters, so they never show as live or leaked bytes. */
static hb_object *str_intern(hb_heap *h, const char *p);

hb_object *hb_str_intern(hb_heap *h, const char *p)
{
    LOCK(h);
    hb_object *o = str_intern(h, p);
    UNLOCK(h);
    return o;
}

static hb_object *str_intern(hb_heap *h, const char *p)
{
    size_t len = strlen(p);
    uint64_t hash = str_hash(p, len);
    if (2 * (h->ninterned + 1) > h->interned_cap) {
        size_t cap = h->interned_cap ? 2 * h->interned_cap : 64;
        hb_str **t = h->alloc->alloc(h->alloc_state, cap * sizeof *t);
        if (!t)
            return NULL;
        memset(t, 0, cap * sizeof *t);
        for (size_t i = 0; i < h->interned_cap; i++) {
            hb_str *s = h->interned[i];
            if (!s)
                continue;
            size_t j = s->hash & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = s;
        }
        h->alloc->free(h->alloc_state, h->interned, h->interned_cap * sizeof *t);
        h->interned = t;
        h->interned_cap = cap;
    }
    size_t j = hash & (h->interned_cap - 1);
    for (; h->interned[j]; j = (j + 1) & (h->interned_cap - 1)) {
        hb_str *s = h->interned[j];
        if (s->hash == hash && s->len == len && !memcmp(s->data, p, len))
            return &s->ob;
    }
    size_t size = sizeof(hb_str) + len + 1;
    hb_str *s = h->alloc->alloc(h->alloc_state, size);
    if (!s)
        return NULL;
    memset(&s->ob, 0, sizeof s->ob);
    s->ob.tindex = HB_TI_STR;
    s->ob.size = (uint32_t)size;
    s->ob.flags = HB_OF_NORC | HB_OF_IMMORTAL;
    s->ob.gen = HB_GEN_NONE;
    str_fill(s, p, len);
    h->interned[j] = s;
    h->ninterned++;
    return &s->ob;
}

/* ---- list ---- */

static size_t list_sizeof(const hb_object *o)
{
    return o->size + ((const hb_list *)o)->cap * sizeof(hb_object *);
}

static void list_traverse(hb_object *o, hb_visit_fn visit, void *arg)
{
    hb_list *l = (hb_list *)o;
    for (size_t i = 0; i < l->len; i++)
        if (l->items[i])
            visit(l->items[i], arg);
}

/* Items are dropped last-to-first after the list is emptied, so a
 * finalizer that looks at the list sees it consistent. */
static void list_clear(hb_heap *h, hb_object *o, int dying)
{
    hb_list *l = (hb_list *)o;
    size_t n = l->len;
    hb_object **items = l->items;
    size_t cap = l->cap;
    l->len = 0;
    if (dying) {
        l->items = NULL;
        l->cap = 0;
    }
    while (n)
        drop(h, items[--n]);
    if (dying)
        hb_mem_free(h, items, cap * sizeof *items);
}

const hb_type hb_list_type = {"list", HB_K_LIST, HB_TF_GC, sizeof(hb_list), list_sizeof,
                              list_traverse, list_clear, NULL, NULL, HB_TI_LIST};

hb_object *hb_list_new(hb_heap *h)
{
    hb_list *l = (hb_list *)hb_object_alloc(h, &hb_list_type, sizeof(hb_list));
    if (!l)
        return NULL;
    l->len = l->cap = 0;
    l->items = NULL;
    hb_object_ready(h, &l->ob);
    return &l->ob;
}

int hb_list_append_new(hb_heap *h, hb_object *o, hb_object *v)
{
    hb_list *l = (hb_list *)o;
    if (l->len == l->cap) {
        /* CPython's over-allocation: ~1/8 extra plus a small constant */
        size_t cap = l->cap + (l->cap >> 3) + (l->cap < 9 ? 3 : 6);
        hb_object **items = hb_mem_realloc(h, l->items, l->cap * sizeof *items, cap * sizeof *items);
        if (!items)
            return ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = v;
    return 0;
}

int hb_list_append(hb_heap *h, hb_object *o, hb_object *v)
{
    hb_incref(v);
    int rc = hb_list_append_new(h, o, v);
    if (rc)
        hb_decref(h, v);
    return rc;
}

size_t hb_list_len(const hb_object *o) { return ((const hb_list *)o)->len; }
hb_object *hb_list_get(const hb_object *o, size_t i) { return ((const hb_list *)o)->items[i]; }

void hb_list_set(hb_heap *h, hb_object *o, size_t i, hb_object *v)
{
    hb_list *l = (hb_list *)o;
    hb_object *old = l->items[i];
    hb_incref(v);
    l->items[i] = v;
    hb_decref(h, old);
}

void hb_list_clear(hb_heap *h, hb_object *o) { list_clear(h, o, 0); }

hb_object *hb_list_pop(hb_heap *h, hb_object *o)
{
    (void)h;
    hb_list *l = (hb_list *)o;
    return l->len ? l->items[--l->len] : NULL;
}

/* ---- tuple ---- */

static size_t tuple_sizeof(const hb_object *o) { return o->size; }

static void tuple_traverse(hb_object *o, hb_visit_fn visit, void *arg)
{
    hb_tuple *t = (hb_tuple *)o;
    for (size_t i = 0; i < t->len; i++)
        if (t->items[i])
            visit(t->items[i], arg);
}

static void tuple_clear(hb_heap *h, hb_object *o, int dying)
{
    (void)dying;
    hb_tuple *t = (hb_tuple *)o;
    for (size_t i = 0; i < t->len; i++) {
        hb_object *v = t->items[i];
        t->items[i] = NULL;
        drop(h, v);
    }
}

const hb_type hb_tuple_type = {"tuple", HB_K_TUPLE, HB_TF_GC, sizeof(hb_tuple), tuple_sizeof,
                               tuple_traverse, tuple_clear, NULL, NULL, HB_TI_TUPLE};

hb_object *hb_tuple_new(hb_heap *h, size_t n, hb_object *const *items)
{
    hb_tuple *t = (hb_tuple *)hb_object_alloc(h, &hb_tuple_type, sizeof(hb_tuple) + n * sizeof(hb_object *));
    if (!t)
        return NULL;
    t->len = n;
    for (size_t i = 0; i < n; i++) {
        hb_incref(items[i]);
        t->items[i] = items[i];
    }
    hb_object_ready(h, &t->ob);
    return &t->ob;
}

size_t hb_tuple_len(const hb_object *o) { return ((const hb_tuple *)o)->len; }
hb_object *hb_tuple_get(const hb_object *o, size_t i) { return ((const hb_tuple *)o)->items[i]; }

/* ---- dict: open addressing, linear probing, deletion by backward shift
 * (no tombstones, so lookups never degrade after churn) ---- */

static size_t dict_sizeof(const hb_object *o)
{
    return o->size + ((const hb_dict *)o)->cap * sizeof(hb_dict_entry);
}

static void dict_traverse(hb_object *o, hb_visit_fn visit, void *arg)
{
    hb_dict *d = (hb_dict *)o;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].key) {
            visit(d->slots[i].key, arg);
            if (d->slots[i].value)
                visit(d->slots[i].value, arg);
        }
}

static void dict_clear(hb_heap *h, hb_object *o, int dying)
{
    hb_dict *d = (hb_dict *)o;
    hb_dict_entry *slots = d->slots;
    size_t cap = d->cap;
    d->slots = NULL;
    d->cap = d->len = 0;
    for (size_t i = 0; i < cap; i++)
        if (slots[i].key) {
            drop(h, slots[i].key);
            drop(h, slots[i].value);
        }
    hb_mem_free(h, slots, cap * sizeof *slots);
    (void)dying;
}

const hb_type hb_dict_type = {"dict", HB_K_DICT, HB_TF_GC, sizeof(hb_dict), dict_sizeof,
                              dict_traverse, dict_clear, NULL, NULL, HB_TI_DICT};

hb_object *hb_dict_new(hb_heap *h)
{
    hb_dict *d = (hb_dict *)hb_object_alloc(h, &hb_dict_type, sizeof(hb_dict));
    if (!d)
        return NULL;
    d->len = d->cap = 0;
    d->slots = NULL;
    hb_object_ready(h, &d->ob);
    return &d->ob;
}

static size_t dict_find(const hb_dict *d, const hb_object *key)
{
    size_t mask = d->cap - 1, i = ((const hb_str *)key)->hash & mask;
    while (d->slots[i].key && !hb_str_eq(d->slots[i].key, key))
        i = (i + 1) & mask;
    return i;
}

int hb_dict_set(hb_heap *h, hb_object *o, hb_object *key, hb_object *v)
{
    hb_dict *d = (hb_dict *)o;
    if (3 * (d->len + 1) > 2 * d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 8;
        hb_dict_entry *slots = hb_mem_alloc(h, cap * sizeof *slots);
        if (!slots)
            return ENOMEM;
        memset(slots, 0, cap * sizeof *slots);
        hb_dict_entry *old = d->slots;
        size_t oldcap = d->cap;
        d->slots = slots;
        d->cap = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].key)
                d->slots[dict_find(d, old[i].key)] = old[i];
        hb_mem_free(h, old, oldcap * sizeof *old);
    }
    size_t i = dict_find(d, key);
    hb_incref(v);
    if (d->slots[i].key) {
        hb_object *prev = d->slots[i].value;
        d->slots[i].value = v;
        hb_decref(h, prev);
        return 0;
    }
    hb_incref(key);
    d->slots[i].key = key;
    d->slots[i].value = v;
    d->len++;
    return 0;
}

hb_object *hb_dict_get(const hb_object *o, const hb_object *key)
{
    const hb_dict *d = (const hb_dict *)o;
    if (!d->cap)
        return NULL;
    size_t i = dict_find(d, key);
    return d->slots[i].key ? d->slots[i].value : NULL;
}

int hb_dict_del(hb_heap *h, hb_object *o, const hb_object *key)
{
    hb_dict *d = (hb_dict *)o;
    if (!d->cap)
        return ENOENT;
    size_t mask = d->cap - 1, i = dict_find(d, key);
    if (!d->slots[i].key)
        return ENOENT;
    hb_dict_entry gone = d->slots[i];
    /* backward shift: move later members of the probe run into the hole */
    for (size_t j = (i + 1) & mask; d->slots[j].key; j = (j + 1) & mask) {
        size_t home = ((hb_str *)d->slots[j].key)->hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            d->slots[i] = d->slots[j];
            i = j;
        }
    }
    d->slots[i].key = d->slots[i].value = NULL;
    d->len--;
    hb_decref(h, gone.key);
    hb_decref(h, gone.value);
    return 0;
}

size_t hb_dict_len(const hb_object *o) { return ((const hb_dict *)o)->len; }

/* ---- user classes: nodes ---- */

static size_t node_sizeof(const hb_object *o) { return o->size; }

static void node_traverse(hb_object *o, hb_visit_fn visit, void *arg)
{
    hb_node *n = (hb_node *)o;
    for (size_t i = 0, k = hb_node_nfields(o); i < k; i++)
        if (n->fields[i])
            visit(n->fields[i], arg);
}

static void node_clear(hb_heap *h, hb_object *o, int dying)
{
    (void)dying;
    hb_node *n = (hb_node *)o;
    for (size_t i = 0, k = hb_node_nfields(o); i < k; i++) {
        hb_object *v = n->fields[i];
        n->fields[i] = NULL;
        drop(h, v);
    }
}

/* ---- type indexes ---- */

const hb_type *hb_types[HB_TI_COUNT] = {
    [HB_TI_INT] = &hb_int_type,   [HB_TI_STR] = &hb_str_type,   [HB_TI_LIST] = &hb_list_type,
    [HB_TI_TUPLE] = &hb_tuple_type, [HB_TI_DICT] = &hb_dict_type, [HB_TI_WEAKREF] = &hb_weakref_type,
};

uint8_t hb_type_bits_of(const hb_type *t)
{
    int plain = t->kind == HB_K_NODE && !t->finalize && !(t->flags & HB_TF_LEGACY_FINALIZER);
    return (uint8_t)((t->flags & HB_TF_GC ? HB_TB_GC : 0) | (t->finalize ? HB_TB_FINALIZE : 0) |
                     (t->flags & HB_TF_LEGACY_FINALIZER ? HB_TB_LEGACY : 0) |
                     (plain ? HB_TB_PLAIN : 0));
}

/* The built-ins' hb_type_bits_of, written out (test_type_index checks that
 * they agree). */
uint8_t hb_type_bits[HB_TI_COUNT] = {
    [HB_TI_LIST] = HB_TB_GC, [HB_TI_TUPLE] = HB_TB_GC, [HB_TI_DICT] = HB_TB_GC,
    [HB_TI_WEAKREF] = HB_TB_GC,
};

/* hb_types' user-class part is written under this lock only: concurrent
 * hb_class_init calls (per-thread setups) must not take the same slot. */
static pthread_mutex_t classes_lock = PTHREAD_MUTEX_INITIALIZER;

/* cls's index: the one it was given before (the struct is known by its
 * address: workloads and tests initialise the same static class again for
 * every heap), else the first free one. */
static uint8_t class_index(const hb_type *cls)
{
    pthread_mutex_lock(&classes_lock);
    size_t free_at = 0;
    for (size_t i = HB_TI_FIRST_CLASS; i < HB_TI_COUNT; i++) {
        if (hb_types[i] == cls) {
            pthread_mutex_unlock(&classes_lock);
            return (uint8_t)i;
        }
        if (!hb_types[i] && !free_at)
            free_at = i;
    }
    if (!free_at) {
        fprintf(stderr,
                "heapbench: hb_class_init: more than %d user classes in one process (the type "
                "index is a byte, see object.h)\n",
                HB_TI_COUNT - HB_TI_FIRST_CLASS);
        abort();
    }
    hb_types[free_at] = cls;
    pthread_mutex_unlock(&classes_lock);
    return (uint8_t)free_at;
}

void hb_classes_release(const void *mem, size_t bytes)
{
    uintptr_t lo = (uintptr_t)mem, hi = lo + bytes;
    pthread_mutex_lock(&classes_lock);
    for (size_t i = HB_TI_FIRST_CLASS; i < HB_TI_COUNT; i++)
        if ((uintptr_t)hb_types[i] >= lo && (uintptr_t)hb_types[i] < hi)
            hb_types[i] = NULL, hb_type_bits[i] = 0;
    pthread_mutex_unlock(&classes_lock);
}

void hb_class_init(hb_type *cls, const char *name, void (*del)(hb_heap *h, hb_object *self),
                   void *udata, int legacy)
{
    uint8_t index = class_index(cls);
    memset(cls, 0, sizeof *cls);
    cls->name = name;
    cls->kind = HB_K_NODE;
    cls->flags = HB_TF_GC | (legacy && del ? HB_TF_LEGACY_FINALIZER : 0);
    cls->basicsize = sizeof(hb_node);
    cls->sizeof_ = node_sizeof;
    cls->traverse = node_traverse;
    cls->clear = node_clear;
    cls->finalize = del;
    cls->udata = udata;
    cls->index = index;
    hb_type_bits[index] = hb_type_bits_of(cls);
}

static __attribute__((noinline)) void no_class(const hb_type *cls)
{
    fprintf(stderr, "heapbench: hb_node_new: class %p has no type index (not hb_class_init'ed)\n",
            (const void *)cls);
    abort();
}

hb_object *hb_node_new(hb_heap *h, const hb_type *cls, size_t nfields)
{
    if (__builtin_expect(cls->index < HB_TI_FIRST_CLASS, 0))
        no_class(cls);
    hb_node *n = (hb_node *)hb_object_alloc(h, cls, sizeof(hb_node) + nfields * sizeof(hb_object *));
    if (!n)
        return NULL;
    memset(n->fields, 0, nfields * sizeof(hb_object *));
    hb_object_ready(h, &n->ob);
    return &n->ob;
}

hb_object *hb_node_get(const hb_object *o, size_t i) { return ((const hb_node *)o)->fields[i]; }

void hb_node_set(hb_heap *h, hb_object *o, size_t i, hb_object *v)
{
    hb_incref(v);
    hb_node_set_new(h, o, i, v);
}

void hb_node_set_new(hb_heap *h, hb_object *o, size_t i, hb_object *v)
{
    hb_node *n = (hb_node *)o;
    hb_object *old = n->fields[i];
    n->fields[i] = v;
    hb_decref(h, old);
}

/* ---- weakrefs ----
 * Targets do not point at their weakrefs (the header has no room and most
 * objects never have one): the heap maps target -> first weakref, and a
 * target with HB_OF_WEAKREFD set is looked up there when it dies. */

typedef struct hb_wrslot {
    hb_object *key;
    hb_object *first;
} hb_wrslot;

static size_t wr_hash(const hb_object *p, size_t mask)
{
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;
    return (size_t)(x >> 32) & mask;
}

static hb_wrslot *wrmap_find(hb_heap *h, const hb_object *key)
{
    if (!h->wrcap)
        return NULL;
    size_t mask = h->wrcap - 1;
    for (size_t i = wr_hash(key, mask); h->wrmap[i].key; i = (i + 1) & mask)
        if (h->wrmap[i].key == key)
            return &h->wrmap[i];
    return NULL;
}

static int wrmap_grow(hb_heap *h)
{
    size_t cap = h->wrcap ? 2 * h->wrcap : 64;
    hb_wrslot *m = h->alloc->alloc(h->alloc_state, cap * sizeof *m);
    if (!m)
        return ENOMEM;
    memset(m, 0, cap * sizeof *m);
    for (size_t i = 0; i < h->wrcap; i++)
        if (h->wrmap[i].key) {
            size_t j = wr_hash(h->wrmap[i].key, cap - 1);
            while (m[j].key)
                j = (j + 1) & (cap - 1);
            m[j] = h->wrmap[i];
        }
    h->alloc->free(h->alloc_state, h->wrmap, h->wrcap * sizeof *m);
    h->wrmap = m;
    h->wrcap = cap;
    return 0;
}

static void wrmap_remove(hb_heap *h, hb_wrslot *s)
{
    size_t mask = h->wrcap - 1, i = (size_t)(s - h->wrmap);
    for (size_t j = (i + 1) & mask; h->wrmap[j].key; j = (j + 1) & mask) {
        size_t home = wr_hash(h->wrmap[j].key, mask);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            h->wrmap[i] = h->wrmap[j];
            i = j;
        }
    }
    h->wrmap[i].key = h->wrmap[i].first = NULL;
    h->nwr--;
}

/* Unlink a weakref from its target's chain. */
static void wr_unlink_(hb_heap *h, hb_weakref *w);
static void wr_unlink(hb_heap *h, hb_weakref *w)
{
    LOCK(h);
    wr_unlink_(h, w);
    UNLOCK(h);
}

static void wr_unlink_(hb_heap *h, hb_weakref *w)
{
    if (!w->target || (w->target->flags & HB_OF_IMMORTAL)) {
        w->target = NULL;
        return;
    }
    if (w->wr_next)
        ((hb_weakref *)w->wr_next)->wr_prev = w->wr_prev;
    if (w->wr_prev) {
        ((hb_weakref *)w->wr_prev)->wr_next = w->wr_next;
    } else {
        hb_wrslot *s = wrmap_find(h, w->target);
        if (w->wr_next)
            s->first = w->wr_next;
        else {
            wrmap_remove(h, s);
            w->target->flags &= (uint8_t)~HB_OF_WEAKREFD;
        }
    }
    w->target = w->wr_next = w->wr_prev = NULL;
}

static void fin_unlink_(hb_heap *h, hb_weakref *w);
static void fin_unlink(hb_heap *h, hb_weakref *w)
{
    LOCK(h);
    fin_unlink_(h, w);
    UNLOCK(h);
}

static void fin_unlink_(hb_heap *h, hb_weakref *w)
{
    if (w->fin_next)
        ((hb_weakref *)w->fin_next)->fin_prev = w->fin_prev;
    if (w->fin_prev)
        ((hb_weakref *)w->fin_prev)->fin_next = w->fin_next;
    else
        h->finalizers = w->fin_next;
    w->fin_next = w->fin_prev = NULL;
    w->fin_alive = 0;
}

static void weakref_traverse(hb_object *o, hb_visit_fn visit, void *arg)
{
    hb_weakref *w = (hb_weakref *)o;
    if (w->arg)
        visit(w->arg, arg);
}

static void weakref_clear(hb_heap *h, hb_object *o, int dying)
{
    hb_weakref *w = (hb_weakref *)o;
    if (dying)
        wr_unlink(h, w);
    hb_object *a = w->arg;
    w->arg = NULL;
    w->cb = NULL;
    drop(h, a);
}

const hb_type hb_weakref_type = {"weakref", HB_K_WEAKREF, HB_TF_GC, sizeof(hb_weakref),
                                 node_sizeof, weakref_traverse, weakref_clear, NULL, NULL,
                                 HB_TI_WEAKREF};

hb_object *hb_weakref_new(hb_heap *h, hb_object *target, hb_weakref_cb cb, hb_object *arg, void *ctx)
{
    hb_weakref *w = (hb_weakref *)hb_object_alloc(h, &hb_weakref_type, sizeof(hb_weakref));
    if (!w)
        return NULL;
    LOCK(h);
    if (h->nwr + 1 > h->wrcap / 2 && wrmap_grow(h)) {
        UNLOCK(h);
        hb_object_discard(h, &w->ob);
        errno = ENOMEM;
        return NULL;
    }
    memset((char *)w + sizeof(hb_object), 0, sizeof *w - sizeof(hb_object));
    w->cb = cb;
    hb_incref(arg);
    w->arg = arg;
    w->ctx = ctx;
    if (target && !(target->flags & HB_OF_IMMORTAL)) {
        w->target = target;
        hb_wrslot *s = wrmap_find(h, target);
        if (s) {
            w->wr_next = s->first;
            ((hb_weakref *)s->first)->wr_prev = &w->ob;
            s->first = &w->ob;
        } else {
            size_t mask = h->wrcap - 1, i = wr_hash(target, mask);
            while (h->wrmap[i].key)
                i = (i + 1) & mask;
            h->wrmap[i].key = target;
            h->wrmap[i].first = &w->ob;
            h->nwr++;
            target->flags |= HB_OF_WEAKREFD;
        }
    } else {
        w->target = target; /* immortal targets never die: nothing to link */
    }
    UNLOCK(h);
    hb_object_ready(h, &w->ob);
    return &w->ob;
}

hb_object *hb_weakref_get(const hb_object *o)
{
    hb_object *t = ((const hb_weakref *)o)->target;
    /* a target whose count reached zero is dead even if not yet cleared */
    return t && !(t->flags & HB_OF_DEAD) ? t : NULL;
}

hb_object *hb_finalize_new(hb_heap *h, hb_object *target, hb_weakref_cb fn, hb_object *arg, void *ctx)
{
    hb_object *o = hb_weakref_new(h, target, fn, arg, ctx);
    if (!o)
        return NULL;
    hb_weakref *w = (hb_weakref *)o;
    w->is_finalize = w->fin_alive = 1;
    /* the heap's registry takes over the caller's new reference */
    LOCK(h);
    w->fin_next = h->finalizers;
    if (h->finalizers)
        ((hb_weakref *)h->finalizers)->fin_prev = o;
    h->finalizers = o;
    UNLOCK(h);
    return o;
}

int hb_finalize_alive(const hb_object *o) { return ((const hb_weakref *)o)->fin_alive; }

void hb_finalizers_visit(hb_heap *h, hb_visit_fn visit, void *arg)
{
    for (hb_object *o = h->finalizers; o; o = ((hb_weakref *)o)->fin_next)
        visit(o, arg);
}

void hb_finalizers_forget(hb_heap *h)
{
    while (h->finalizers) {
        hb_object *o = h->finalizers;
        fin_unlink(h, (hb_weakref *)o);
        hb_decref(h, o); /* the registry's reference */
    }
}

void hb_weakrefs_detach(hb_heap *h, hb_object *o, int (*callback_ok)(hb_object *wr),
                        hb_objstack *fire)
{
    hb_wrslot *s;
    LOCK(h);
    while ((o->flags & HB_OF_WEAKREFD) && (s = wrmap_find(h, o))) {
        hb_weakref *w = (hb_weakref *)s->first;
        wr_unlink(h, w);
        int alive = h->collector->refcounts ? hb_refcnt(&w->ob) > 0 && !(w->ob.flags & HB_OF_DEAD)
                                            : 1;
        if (!w->cb || !alive || h->closing || (callback_ok && !callback_ok(&w->ob)))
            continue;
        if (hb_objstack_push(h, fire, &w->ob)) {
            /* no room to remember it: run none rather than half, and say so */
            fprintf(stderr, "heapbench: out of memory queueing a weakref callback\n");
            abort();
        }
        hb_incref(&w->ob);
    }
    o->flags &= (uint8_t)~HB_OF_WEAKREFD;
    UNLOCK(h);
}

void hb_weakref_fire(hb_heap *h, hb_object *o)
{
    hb_weakref *w = (hb_weakref *)o;
    hb_weakref_cb cb = w->cb;
    w->cb = NULL; /* a callback runs once */
    if (cb)
        cb(h, o, w->arg, w->ctx);
    if (w->is_finalize && w->fin_alive) {
        fin_unlink(h, w);
        hb_decref(h, o); /* the registry's reference */
    }
    hb_decref(h, o); /* detach's */
}

void hb_weakrefs_clear(hb_heap *h, hb_object *o, int (*callback_ok)(hb_object *wr))
{
    hb_objstack fire = {0};
    hb_weakrefs_detach(h, o, callback_ok, &fire);
    for (size_t i = 0; i < fire.n; i++)
        hb_weakref_fire(h, fire.v[i]);
    hb_objstack_free(h, &fire);
}

/* ---- per-heap immortal objects ---- */

int hb_types_init(hb_heap *h)
{
    size_t n = HB_SMALLINT_MAX - HB_SMALLINT_MIN + 1;
    h->smallints = h->alloc->alloc(h->alloc_state, n * sizeof(hb_int));
    if (!h->smallints)
        return ENOMEM;
    memset(h->smallints, 0, n * sizeof(hb_int));
    for (size_t i = 0; i < n; i++) {
        h->smallints[i].ob.tindex = HB_TI_INT;
        h->smallints[i].ob.size = sizeof(hb_int);
        h->smallints[i].ob.flags = HB_OF_NORC | HB_OF_IMMORTAL;
        h->smallints[i].ob.gen = HB_GEN_NONE;
        h->smallints[i].value = (int64_t)i + HB_SMALLINT_MIN;
    }
    return 0;
}

void hb_types_fini(hb_heap *h)
{
    size_t n = HB_SMALLINT_MAX - HB_SMALLINT_MIN + 1;
    h->alloc->free(h->alloc_state, h->smallints, n * sizeof(hb_int));
    for (size_t i = 0; i < h->interned_cap; i++)
        if (h->interned[i])
            h->alloc->free(h->alloc_state, h->interned[i], h->interned[i]->ob.size);
    h->alloc->free(h->alloc_state, h->interned, h->interned_cap * sizeof(hb_str *));
    h->alloc->free(h->alloc_state, h->wrmap, h->wrcap * sizeof(hb_wrslot));
}
