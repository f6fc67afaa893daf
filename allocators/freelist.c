/* freelist.c -- segregated free lists with per-thread caches.
 *
 * The tcmalloc / Hoard shape, in three layers:
 *
 *   thread cache   per class a LIFO list with a count, owned by one thread;
 *                  alloc pops, free pushes (any thread's free goes to the
 *                  *freeing* thread's cache: no owner check, no atomics).
 *   central class  per class, under one mutex: a bounded stack of full
 *                  batches (the transfer stack, O(1) to move a batch either
 *                  way) and, behind it, the spans of the class, each with its
 *                  own free list and a count of blocks that are out.
 *   span pool      64 KiB spans carved from 1 MiB segments (hb_os_map, tagged
 *                  FL_TAG in the region map); fully free spans come back here.
 *
 * Memory given back: a span whose blocks are all back on its own free list
 * (out == 0) leaves its class. The instance keeps such spans committed for
 * reuse and decommits (MADV_DONTNEED) those idle for HB_DECAY_MS (os.h),
 * which is what released_bytes counts. Blocks held in thread caches or in the transfer
 * stack pin their spans; both are bounded per class, so the pinned memory is
 * too. Segments themselves stay mapped until destroy: their header page is
 * read by free() of any block, and keeping it costs 4 KiB per MiB.
 *
 * Nothing here calls malloc or stdio: the same code is the malloc of the
 * LD_PRELOAD library, so all state comes from hb_os_map.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "allocator.h"
#include "large.h"
#include "os.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "freelist_layout.h"

/* initial-exec: no __tls_get_addr (which may allocate) in the preload library. */
static __thread fl_tls fl_self __attribute__((tls_model("initial-exec")));

static _Atomic uint64_t fl_next_id = 1;
static pthread_mutex_t fl_glock = PTHREAD_MUTEX_INITIALIZER;
static fl_heap *fl_heaps;
static pthread_once_t fl_fork_once = PTHREAD_ONCE_INIT;

/* ---- span pool (span_lock) ---- */

/* Page-aligned part of a span: what decommit can give back. */
static void span_pages(fl_span *s, char **lo, size_t *len)
{
    uintptr_t page = hb_os_page_size();
    uintptr_t a = ((uintptr_t)span_base(s) + page - 1) & ~(page - 1);
    uintptr_t e = ((uintptr_t)span_base(s) - ((uintptr_t)span_base(s) & (FL_SPAN - 1)) + FL_SPAN) &
                  ~(page - 1);
    *lo = (char *)a;
    *len = e > a ? e - a : 0;
}

static FL_NOINLINE fl_seg *seg_new(fl_heap *h)
{
    fl_seg *seg = hb_os_map(HB_REGION, HB_REGION);
    if (!seg)
        return NULL;
    if (hb_region_set(seg, FL_TAG) != 0) {
        hb_os_unmap(seg, HB_REGION);
        errno = ENOMEM;
        return NULL;
    }
    seg->next = h->segs;
    h->segs = seg;
    h->fresh_next = 0;
    h->seg_bytes += HB_REGION;
    return seg;
}

/* A span for class c, from the committed pool first, then the decommitted one
 * (pages fault back in as zeros), then fresh address space. */
static void spans_decay(fl_heap *h, uint64_t now);

static fl_span *span_get(fl_heap *h, unsigned c)
{
    spans_decay(h, hb_os_now_ms());
    pthread_mutex_lock(&h->span_lock);
    fl_span *s = h->hot;
    if (s) {
        h->hot = s->next;
        if (h->hot)
            h->hot->prev = NULL;
        else
            h->hot_tail = NULL;
        h->nhot--;
    } else if ((s = h->cold) != NULL) {
        h->cold = s->next;
    } else {
        if (!h->segs || h->fresh_next == FL_SPANS) {
            if (!seg_new(h)) {
                pthread_mutex_unlock(&h->span_lock);
                return NULL;
            }
        }
        s = &h->segs->spans[h->fresh_next++];
    }
    if (s->decommitted) {
        char *lo;
        size_t len;
        span_pages(s, &lo, &len);
        h->decommitted_bytes -= len;
        s->decommitted = 0;
    }
    pthread_mutex_unlock(&h->span_lock);
    char *base = span_base(s);
    s->free = NULL;
    s->bump = base;
    s->end = (char *)seg_of(s) + (size_t)(s - seg_of(s)->spans + 1) * FL_SPAN;
    s->next = s->prev = NULL;
    s->out = 0;
    s->cls = (uint8_t)c;
    s->listed = 0;
    atomic_store_explicit(&seg_of(s)->cls[s - seg_of(s)->spans], (uint8_t)c, memory_order_relaxed);
    return s;
}

/* Decommit the hot spans idle for HB_DECAY_MS, from the tail of the hot
 * list, where the oldest are. Runs when a span comes or goes, so an
 * instance that keeps allocating gives back what it stopped using. */
static void spans_decay(fl_heap *h, uint64_t now)
{
    fl_span *old = NULL;
    pthread_mutex_lock(&h->span_lock);
    while (h->hot_tail && (uint32_t)now - h->hot_tail->free_ms >= HB_DECAY_MS) {
        fl_span *t = h->hot_tail;
        h->hot_tail = t->prev;
        if (h->hot_tail)
            h->hot_tail->next = NULL;
        else
            h->hot = NULL;
        h->nhot--;
        t->next = old;
        old = t;
    }
    pthread_mutex_unlock(&h->span_lock);
    /* Taken off, they are reachable by no one: madvise outside the lock. */
    while (old) {
        fl_span *t = old;
        old = t->next;
        char *lo;
        size_t len;
        span_pages(t, &lo, &len);
        int failed = len ? hb_os_decommit(lo, len) : 0;
        pthread_mutex_lock(&h->span_lock);
        if (!failed && len) {
            t->decommitted = 1;
            h->decommitted_bytes += len;
            h->released_bytes += len;
        }
        t->next = h->cold;
        h->cold = t;
        pthread_mutex_unlock(&h->span_lock);
    }
}

/* A fully free span back to the pool: kept committed at the head of the
 * hot list (span_get takes the warmest first) until spans_decay. */
static void span_put(fl_heap *h, fl_span *s)
{
    uint64_t now = hb_os_now_ms();
    pthread_mutex_lock(&h->span_lock);
    s->free_ms = (uint32_t)now;
    s->prev = NULL;
    s->next = h->hot;
    if (h->hot)
        h->hot->prev = s;
    else
        h->hot_tail = s;
    h->hot = s;
    h->nhot++;
    pthread_mutex_unlock(&h->span_lock);
    spans_decay(h, now);
}

/* ---- central class (its lock held) ---- */

static void span_unlist(fl_central *k, fl_span *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        k->nonempty = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->listed = 0;
}

/* Give blocks back to their spans; a span with nothing out leaves the class.
 * O(n): only when the transfer stack is full or a cache is flushed whole. */
static void central_spill(fl_heap *h, fl_central *k, void *list)
{
    while (list) {
        void *b = list;
        list = next_of(b);
        fl_span *s = span_of(b);
        set_next(b, s->free);
        s->free = b;
        if (!s->listed) {
            s->listed = 1;
            s->prev = NULL;
            s->next = k->nonempty;
            if (k->nonempty)
                k->nonempty->prev = s;
            k->nonempty = s;
        }
        if (--s->out == 0) {
            span_unlist(k, s);
            if (k->carve == s)
                k->carve = NULL;
            /* span_lock nests inside the class lock (see fl_heap). */
            span_put(h, s);
        }
    }
}

/* Up to `want` blocks from the spans of class c: their free lists first,
 * then carving. Returns the list and its length in *n (0: no memory). */
static void *central_gather(fl_heap *h, fl_central *k, unsigned c, unsigned want, unsigned *n)
{
    void *head = NULL;
    unsigned got = 0;
    while (got < want && k->nonempty) {
        fl_span *s = k->nonempty;
        while (got < want && s->free) {
            void *b = s->free;
            s->free = next_of(b);
            set_next(b, head);
            head = b;
            got++;
            s->out++;
        }
        if (!s->free)
            span_unlist(k, s);
    }
    size_t size = cls_size(c);
    while (got < want) {
        if (!k->carve && !(k->carve = span_get(h, c)))
            break;
        fl_span *s = k->carve;
        size_t room = (size_t)(s->end - s->bump) / size;
        unsigned m = want - got < room ? want - got : (unsigned)room;
        /* Linked from the top down so that the cache hands out ascending
         * addresses. */
        for (unsigned i = m; i-- > 0;) {
            void *b = s->bump + (size_t)i * size;
            set_next(b, head);
            head = b;
        }
        s->bump += (size_t)m * size;
        s->out += m;
        got += m;
        if ((size_t)(s->end - s->bump) < size)
            k->carve = NULL;
    }
    *n = got;
    return head;
}

/* Blocks for a thread cache: a whole batch, O(1), from the transfer stack
 * when it has one; else `want` gathered from the spans. */
static void *central_fetch(fl_heap *h, unsigned c, unsigned want, unsigned batch, unsigned *n)
{
    fl_central *k = &h->cls[c];
    pthread_mutex_lock(&k->lock);
    void *list = k->batches;
    if (list) {
        k->batches = ((void **)list)[1];
        k->nbatches--;
        atomic_fetch_sub_explicit(&h->xfer_bytes, cls_batch_bytes(c), memory_order_relaxed);
        *n = batch;
    } else {
        list = central_gather(h, k, c, want, n);
    }
    pthread_mutex_unlock(&k->lock);
    return list;
}

/* n blocks from a cache; a full batch goes on the transfer stack if there is
 * room, anything else back to its spans. With one thread cache in the
 * instance the stacks together hold at most FL_XFER_ONE: they exist to
 * hand blocks from one thread's cache to another's, and in a program of
 * one thread each class's stack only parked what its frees gave back, up
 * to 256 KiB a class, away from the other classes (perl appending to
 * strings, which move up through the classes: 12% more peak RSS than
 * mimalloc, 4% with the bound, its time 1.06 -> 1.03; a bound for every
 * thread count cost mixed_remote and larson at 2 threads 16% and 8% of
 * their time, docs/arena-threads.md). */
static void central_release(fl_heap *h, unsigned c, void *list, unsigned n, unsigned batch)
{
    fl_central *k = &h->cls[c];
    pthread_mutex_lock(&k->lock);
    uint64_t bytes = cls_batch_bytes(c);
    if (n == batch && k->nbatches < k->max_batches &&
        (atomic_load_explicit(&h->ntc, memory_order_relaxed) > 1 ||
         atomic_load_explicit(&h->xfer_bytes, memory_order_relaxed) + bytes <= FL_XFER_ONE)) {
        ((void **)list)[1] = k->batches;
        k->batches = list;
        k->nbatches++;
        atomic_fetch_add_explicit(&h->xfer_bytes, bytes, memory_order_relaxed);
    } else {
        central_spill(h, k, list);
    }
    pthread_mutex_unlock(&k->lock);
}

/* ---- thread caches ---- */

static void tc_flush(fl_heap *h, fl_tcache *tc)
{
    for (unsigned c = 0; c < FL_NCLS; c++) {
        fl_bin *b = &tc->bins[c];
        uint32_t n = atomic_load_explicit(&b->count, memory_order_relaxed);
        if (b->head)
            central_release(h, c, b->head, n, b->batch);
        b->head = NULL;
        add_relaxed(&b->moved, -(uint64_t)n);
        atomic_store_explicit(&b->count, 0, memory_order_relaxed);
    }
}

/* Flush, fold the counters into the instance and recycle the struct. */
static void tc_destroy(fl_heap *h, fl_tcache *tc)
{
    tc_flush(h, tc);
    pthread_mutex_lock(&h->tc_lock);
    uint64_t live = 0;
    for (unsigned c = 0; c < FL_NCLS; c++) {
        live += atomic_load_explicit(&tc->bins[c].moved, memory_order_relaxed) * cls_size(c);
        atomic_store_explicit(&tc->bins[c].moved, 0, memory_order_relaxed);
    }
    h->retired_live += live;
    atomic_store_explicit(&h->ntc, atomic_load_explicit(&h->ntc, memory_order_relaxed) - 1, memory_order_relaxed);
    if (tc->prev)
        tc->prev->next = tc->next;
    else
        h->tc_live = tc->next;
    if (tc->next)
        tc->next->prev = tc->prev;
    tc->next = h->tc_free;
    tc->prev = NULL;
    h->tc_free = tc;
    pthread_mutex_unlock(&h->tc_lock);
    if (fl_self.tc == tc) {
        fl_self.id = 0;
        fl_self.tc = NULL;
    }
}

/* pthread key destructor: the thread is exiting. */
static void tc_exit(void *arg)
{
    fl_tcache *tc = arg;
    fl_self.exiting = 1;
    tc_destroy(tc->heap, tc);
}

#define FL_TC_CHUNK ((size_t)65536)

static FL_NOINLINE fl_tcache *tc_create(fl_heap *h)
{
    pthread_mutex_lock(&h->tc_lock);
    fl_tcache *tc = h->tc_free;
    if (tc) {
        h->tc_free = tc->next;
    } else {
        if (!h->tc_bump || (size_t)(h->tc_end - h->tc_bump) < sizeof(fl_tcache)) {
            char *chunk = hb_os_map(FL_TC_CHUNK, hb_os_page_size());
            if (!chunk) {
                pthread_mutex_unlock(&h->tc_lock);
                return NULL;
            }
            *(void **)chunk = h->tc_chunks;
            h->tc_chunks = chunk;
            h->tc_bump = chunk + 64;
            h->tc_end = chunk + FL_TC_CHUNK;
            add_relaxed(&h->meta_bytes, FL_TC_CHUNK);
        }
        tc = (fl_tcache *)h->tc_bump;
        h->tc_bump += (sizeof(fl_tcache) + 63) & ~(size_t)63;
    }
    for (unsigned c = 0; c < FL_NCLS; c++) {
        tc->bins[c].head = NULL;
        atomic_store_explicit(&tc->bins[c].count, 0, memory_order_relaxed);
        tc->bins[c].batch = cls_batch(c);
        tc->bins[c].limit = 2 * cls_batch(c);
        tc->bins[c].fetch = FL_FETCH0 < cls_batch(c) ? FL_FETCH0 : cls_batch(c);
        atomic_store_explicit(&tc->bins[c].moved, 0, memory_order_relaxed);
    }
    tc->heap = h;
    atomic_store_explicit(&h->ntc, atomic_load_explicit(&h->ntc, memory_order_relaxed) + 1, memory_order_relaxed);
    tc->prev = NULL;
    tc->next = h->tc_live;
    if (h->tc_live)
        h->tc_live->prev = tc;
    h->tc_live = tc;
    pthread_mutex_unlock(&h->tc_lock);
    /* pthread_setspecific may calloc its second-level table: through the
     * preload library that is us again, which `creating` sends to the
     * central lists instead of back here. */
    fl_self.creating = 1;
    int err = pthread_setspecific(h->key, tc);
    fl_self.creating = 0;
    if (err) {
        tc_destroy(h, tc);
        return NULL;
    }
    return tc;
}

/* The cache of this thread for h, creating it on first use; NULL when the
 * thread must use the central lists directly (exiting, or mid-creation). */
static FL_NOINLINE fl_tcache *tc_lookup(fl_heap *h)
{
    if (fl_self.creating)
        return NULL;
    fl_tcache *tc = pthread_getspecific(h->key);
    if (!tc) {
        if (fl_self.exiting)
            return NULL;
        tc = tc_create(h);
        if (!tc)
            return NULL;
    }
    fl_self.id = h->id;
    fl_self.tc = tc;
    return tc;
}

/* ---- no cache: straight to the central lists, under the lock ---- */

static FL_NOINLINE void *direct_alloc(fl_heap *h, unsigned c)
{
    fl_central *k = &h->cls[c];
    unsigned n;
    pthread_mutex_lock(&k->lock);
    void *b;
    if (!k->nonempty && k->batches) {
        /* Break a batch rather than carve: the rest goes back to its spans. */
        b = k->batches;
        k->batches = ((void **)b)[1];
        k->nbatches--;
        atomic_fetch_sub_explicit(&h->xfer_bytes, cls_batch_bytes(c), memory_order_relaxed);
        central_spill(h, k, next_of(b));
    } else {
        b = central_gather(h, k, c, 1, &n);
    }
    pthread_mutex_unlock(&k->lock);
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_fetch_add_explicit(&h->direct_live, cls_size(c), memory_order_relaxed);
    return b;
}

static FL_NOINLINE void direct_free(fl_heap *h, void *p, unsigned c)
{
    fl_central *k = &h->cls[c];
    set_next(p, NULL);
    pthread_mutex_lock(&k->lock);
    central_spill(h, k, p);
    pthread_mutex_unlock(&k->lock);
    atomic_fetch_sub_explicit(&h->direct_live, cls_size(c), memory_order_relaxed);
}

/* ---- the fast path ---- */

/* Slow start, as tcmalloc's thread caches grow their lists: a new cache
 * gathers FL_FETCH0 blocks of a class from the spans, and twice as many at
 * each refill after, up to the batch. A thread that makes a few blocks of
 * many classes and exits (a thread per task) then walks and spills back a
 * few blocks a class, not a batch of 64 it never used: each of those is a
 * cache miss in the spans' lists, gathered and again spilled (larson with
 * a worker per 500 replacements, 2 threads: 1.87 times tcmalloc's time,
 * 60% of it in central_gather and central_spill). A thread that keeps
 * allocating reaches whole batches after four refills. */
static FL_NOINLINE void *bin_refill(fl_heap *h, fl_bin *b, unsigned c)
{
    unsigned n;
    void *list = central_fetch(h, c, b->fetch, b->batch, &n);
    if (b->fetch < b->batch)
        b->fetch = 2 * b->fetch < b->batch ? 2 * b->fetch : b->batch;
    if (!list) {
        errno = ENOMEM;
        return NULL;
    }
    b->head = next_of(list);
    atomic_store_explicit(&b->count, n - 1, memory_order_relaxed);
    add_relaxed(&b->moved, n);
    return list;
}

/* A full bin sends its bottom (oldest, coldest) batch to the central
 * lists; the walk to it touches the newer blocks, which are hot, once per
 * `batch` pushes at most. */
static FL_NOINLINE void bin_overflow(fl_heap *h, fl_bin *b, unsigned c)
{
    uint32_t keep = atomic_load_explicit(&b->count, memory_order_relaxed) - b->batch;
    void *cut = b->head;
    for (uint32_t i = 1; i < keep; i++)
        cut = next_of(cut);
    void *list = next_of(cut);
    set_next(cut, NULL);
    atomic_store_explicit(&b->count,
                          atomic_load_explicit(&b->count, memory_order_relaxed) - b->batch,
                          memory_order_relaxed);
    add_relaxed(&b->moved, -(uint64_t)b->batch);
    central_release(h, c, list, b->batch, b->batch);
}

static inline void *bin_pop(fl_heap *h, fl_tcache *tc, unsigned c)
{
    fl_bin *b = &tc->bins[c];
    void *p = b->head;
    if (FL_UNLIKELY(!p))
        return bin_refill(h, b, c);
    b->head = next_of(p);
    atomic_store_explicit(&b->count, atomic_load_explicit(&b->count, memory_order_relaxed) - 1,
                          memory_order_relaxed);
    return p;
}

static inline void bin_push(fl_heap *h, fl_tcache *tc, void *p, unsigned c)
{
    fl_bin *b = &tc->bins[c];
    set_next(p, b->head);
    b->head = p;
    uint32_t n = atomic_load_explicit(&b->count, memory_order_relaxed) + 1;
    atomic_store_explicit(&b->count, n, memory_order_relaxed);
    /* One compare, taken once per `batch` pushes at most: a branch on
     * n > batch (where a cut pointer was kept) went either way at random
     * under mixed sizes, half of larson's frees mispredicted. */
    if (FL_UNLIKELY(n >= b->limit))
        bin_overflow(h, b, c);
}

/* The first call of a thread on this instance (or after switching between
 * instances): kept out of line so the fast path saves no registers. */
static FL_NOINLINE void *alloc_slow(fl_heap *h, unsigned c)
{
    fl_tcache *tc = tc_lookup(h);
    return tc ? bin_pop(h, tc, c) : direct_alloc(h, c);
}

static FL_NOINLINE void free_slow(fl_heap *h, void *p, unsigned c)
{
    fl_tcache *tc = tc_lookup(h);
    if (tc)
        bin_push(h, tc, p, c);
    else
        direct_free(h, p, c);
}

static inline void *cls_alloc(fl_heap *h, unsigned c)
{
    if (FL_UNLIKELY(fl_self.id != h->id))
        return alloc_slow(h, c);
    return bin_pop(h, fl_self.tc, c);
}

static inline void cls_free(fl_heap *h, void *p, unsigned c)
{
    if (FL_UNLIKELY(fl_self.id != h->id))
        free_slow(h, p, c);
    else
        bin_push(h, fl_self.tc, p, c);
}

/* ---- the vtable ---- */

static void *fl_alloc(void *state, size_t size)
{
    fl_heap *h = state;
    if (FL_LIKELY(size <= FL_MAX))
        return cls_alloc(h, fl_cls_table[(size + 15) >> 4]);
    return hb_large_alloc(&h->large, 16, size);
}

static void *fl_alloc_zeroed(void *state, size_t size)
{
    fl_heap *h = state;
    if (size > FL_MAX)
        return hb_large_alloc_zeroed(&h->large, size);
    void *p = fl_alloc(state, size);
    if (p)
        memset(p, 0, size);
    return p;
}

/* free() without a size, or once sized_max is 0: the region map decides. */
static FL_NOINLINE void free_unsized(fl_heap *h, void *p)
{
    if (hb_region_tag_made(p) != FL_TAG) {
        if (p && !HB_DROPIN_FOREIGN(p))
            hb_large_free(&h->large, p);
    } else
        cls_free(h, p, block_cls(p));
}

/* The class always comes from the span, not from `size`: alloc_aligned may
 * have rounded the block up to a larger class. */
static void fl_free(void *state, void *p, size_t size)
{
    fl_heap *h = state;
    if (FL_LIKELY(size - 1 < atomic_load_explicit(&h->sized_max, memory_order_relaxed))) {
        cls_free(h, p, block_cls(p));
        return;
    }
    free_unsized(h, p);
}

static void *fl_alloc_aligned(void *state, size_t align, size_t size)
{
    fl_heap *h = state;
    if (align <= 16)
        return fl_alloc(state, size);
    /* A class whose size is a multiple of `align` keeps it: spans start on
     * 64 KiB boundaries (span 0 on 4 KiB), blocks at multiples of the size. */
    if (align <= FL_HDR && size <= FL_MAX) {
        for (unsigned c = cls_of(size < align ? align : size); c < FL_NCLS; c++)
            if ((cls_size(c) & (align - 1)) == 0)
                return cls_alloc(h, c);
    }
    if (size <= FL_MAX)
        atomic_store_explicit(&h->sized_max, 0, memory_order_relaxed);
    return hb_large_alloc(&h->large, align, size);
}

static size_t fl_usable_size(void *state, const void *p)
{
    (void)state;
    if (hb_region_tag_made(p) == FL_TAG)
        return cls_size(block_cls(p));
    return hb_large_usable(p);
}

static void *fl_realloc(void *state, void *p, size_t old_size, size_t new_size)
{
    if (!p)
        return fl_alloc(state, new_size);
    fl_heap *h = state;
    size_t usable = fl_usable_size(state, p);
    /* In place when it fits the block's class. A large block stays large
     * while new_size > FL_MAX: in place or by mremap (large.c). One
     * shrinking into the classes moves, so that a size <= FL_MAX keeps
     * meaning small (see sized_max). */
    if (hb_region_tag_made(p) == FL_TAG) {
        if (new_size <= usable)
            return p;
    } else if (new_size > FL_MAX) {
        void *q = hb_large_realloc(&h->large, p, new_size);
        if (q)
            return q;
    }
    void *q = fl_alloc(state, new_size);
    if (!q)
        return NULL;
    size_t keep = old_size ? old_size : usable;
    memcpy(q, p, keep < new_size ? keep : new_size);
    fl_free(state, p, old_size);
    return q;
}

static int fl_thread_attach(void *state)
{
    fl_heap *h = state;
    return tc_lookup(h) ? 0 : ENOMEM;
}

static void fl_thread_detach(void *state)
{
    fl_heap *h = state;
    fl_tcache *tc = pthread_getspecific(h->key);
    if (!tc)
        return;
    pthread_setspecific(h->key, NULL);
    tc_destroy(h, tc);
}

static int fl_stats(void *state, hb_alloc_stats *out)
{
    fl_heap *h = state;
    uint64_t live = 0;
    pthread_mutex_lock(&h->tc_lock);
    live = h->retired_live;
    for (fl_tcache *tc = h->tc_live; tc; tc = tc->next)
        for (unsigned c = 0; c < FL_NCLS; c++)
            live += (atomic_load_explicit(&tc->bins[c].moved, memory_order_relaxed) -
                     atomic_load_explicit(&tc->bins[c].count, memory_order_relaxed)) *
                    cls_size(c);
    pthread_mutex_unlock(&h->tc_lock);
    live += atomic_load_explicit(&h->direct_live, memory_order_relaxed);
    hb_large_counts big;
    hb_large_count(&h->large, &big);
    live += big.live_bytes;

    pthread_mutex_lock(&h->span_lock);
    uint64_t os = h->seg_bytes - h->decommitted_bytes;
    uint64_t released = h->released_bytes;
    pthread_mutex_unlock(&h->span_lock);
    os += atomic_load_explicit(&h->meta_bytes, memory_order_relaxed);
    os += big.os_bytes;
    released += big.released_bytes;

    out->have = HB_STAT_LIVE | HB_STAT_OS | HB_STAT_RELEASED;
    out->live_bytes = live;
    out->os_bytes = os;
    out->released_bytes = released;
    return 0;
}

/* ---- fork: every lock of every instance is taken, in the nesting order ---- */

static void fork_prepare(void)
{
    pthread_mutex_lock(&fl_glock);
    for (fl_heap *h = fl_heaps; h; h = h->gnext) {
        for (unsigned c = 0; c < FL_NCLS; c++)
            pthread_mutex_lock(&h->cls[c].lock);
        pthread_mutex_lock(&h->span_lock);
        pthread_mutex_lock(&h->tc_lock);
        hb_large_lock(&h->large);
    }
}

static void fork_release(void)
{
    for (fl_heap *h = fl_heaps; h; h = h->gnext) {
        hb_large_unlock(&h->large);
        pthread_mutex_unlock(&h->tc_lock);
        pthread_mutex_unlock(&h->span_lock);
        for (unsigned c = FL_NCLS; c-- > 0;)
            pthread_mutex_unlock(&h->cls[c].lock);
    }
    pthread_mutex_unlock(&fl_glock);
}

/* Once per process: the class table and the fork handlers. */
static void global_init(void)
{
    cls_table_fill();
    pthread_atfork(fork_prepare, fork_release, fork_release);
}

static int fl_init(void **state, const char *options)
{
    if (options && *options) /* it has none */
        return EINVAL;
    pthread_once(&fl_fork_once, global_init);
    if (hb_region_map_make() != 0) /* free's hb_region_tag_made */
        return ENOMEM;
    size_t page = hb_os_page_size();
    size_t size = (sizeof(fl_heap) + page - 1) & ~(page - 1);
    fl_heap *h = hb_os_map(size, page);
    if (!h)
        return ENOMEM;
    /* The mapping is zeroed: only what is not zero is set. */
    h->map_size = size;
    h->id = atomic_fetch_add_explicit(&fl_next_id, 1, memory_order_relaxed);
    atomic_store_explicit(&h->meta_bytes, size, memory_order_relaxed);
    atomic_store_explicit(&h->sized_max, FL_MAX, memory_order_relaxed);
    int err = pthread_key_create(&h->key, tc_exit);
    if (err) {
        hb_os_unmap(h, size);
        return err;
    }
    pthread_mutex_init(&h->tc_lock, NULL);
    pthread_mutex_init(&h->span_lock, NULL);
    if ((err = hb_large_init(&h->large)) != 0) {
        pthread_key_delete(h->key);
        hb_os_unmap(h, size);
        return err;
    }
    for (unsigned c = 0; c < FL_NCLS; c++) {
        pthread_mutex_init(&h->cls[c].lock, NULL);
        h->cls[c].max_batches = cls_max_batches(c);
    }
    pthread_mutex_lock(&fl_glock);
    h->gnext = fl_heaps;
    if (fl_heaps)
        fl_heaps->gprev = h;
    fl_heaps = h;
    pthread_mutex_unlock(&fl_glock);
    *state = h;
    return 0;
}

static void fl_destroy(void *state)
{
    fl_heap *h = state;
    pthread_mutex_lock(&fl_glock);
    if (h->gprev)
        h->gprev->gnext = h->gnext;
    else
        fl_heaps = h->gnext;
    if (h->gnext)
        h->gnext->gprev = h->gprev;
    pthread_mutex_unlock(&fl_glock);
    /* Other threads' caches die with the chunks below; their key
     * destructors no longer run once the key is deleted. */
    pthread_key_delete(h->key);
    if (fl_self.id == h->id) {
        fl_self.id = 0;
        fl_self.tc = NULL;
    }
    hb_large_destroy(&h->large);
    while (h->segs) {
        fl_seg *seg = h->segs;
        h->segs = seg->next;
        hb_region_set(seg, 0);
        hb_os_unmap(seg, HB_REGION);
    }
    while (h->tc_chunks) {
        void *chunk = h->tc_chunks;
        h->tc_chunks = *(void **)chunk;
        hb_os_unmap(chunk, FL_TC_CHUNK);
    }
    for (unsigned c = 0; c < FL_NCLS; c++)
        pthread_mutex_destroy(&h->cls[c].lock);
    pthread_mutex_destroy(&h->tc_lock);
    pthread_mutex_destroy(&h->span_lock);
    hb_os_unmap(h, h->map_size);
}

const hb_allocator hb_freelist_allocator = {
    .name = "freelist",
    .doc = "segregated size-class free lists with per-thread caches moving batches to central lists (tcmalloc shape)",
    .init = fl_init,
    .alloc = fl_alloc,
    .alloc_aligned = fl_alloc_aligned,
    .alloc_zeroed = fl_alloc_zeroed,
    .free = fl_free,
    .realloc = fl_realloc,
    .usable_size = fl_usable_size,
    .thread_attach = fl_thread_attach,
    .thread_detach = fl_thread_detach,
    .stats = fl_stats,
    .destroy = fl_destroy,
};
