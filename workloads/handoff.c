/* handoff.c -- objects built by one thread and dropped by another: a work
 * queue between threads of one interpreter (queue.Queue, a thread pool's
 * futures), on a shared heap.
 *
 * Roles as xthread's (roles.h): producers build messages and deal them
 * round robin to their consumers, which verify and drop them. A message
 * is a small graph, msg = Msg(seq, [items ints]), and for cyclic_pct
 * percent of them msg.self = msg, a cycle only a collector frees:
 *
 *     q.put(Msg(seq, [seq + k for k in range(items)]))    # producer
 *     m = q.get(); check(m); del m                         # consumer
 *
 * The queue lives in the heap, as Python's would: one Ring node per
 * consumer, whose `ring` fields are its slots, in a list that thread 0
 * makes and every thread holds (so a tracer sees the messages in flight).
 * The producer stores a message into a free slot (hb_node_store), then
 * publishes its count; the consumer loads it (a new reference), clears the
 * slot and publishes its own. Counts of messages in flight are bounded by
 * the ring, whatever the threads' speeds; a full or empty ring spins with
 * safepoint polls, so a collection never waits for a waiting thread.
 *
 * The consumer's drop is the message's last reference, on a thread that
 * did not make it. With atomic counts the consumer frees it; with biased
 * counts (PEP 703) its decrement would take the shared count below zero,
 * so the message is queued to its owner, the producer, which merges and
 * frees it at its next allocation -- or the consumer merges it itself once
 * the producer has detached. Those are the paths this workload measures.
 *
 * Self-check: every consumer got exactly the messages it is owed, in
 * order, each intact (seq, items, the cycle where there is one); the seq
 * sums made and received agree; objects made are exactly the messages'
 * (3 + items each) and the rings'; on the heap, every object made was
 * freed once or is still there, and after the final collection nothing is
 * left on rcgen and marksweep and exactly the cyclic messages on rc.
 * Shared heaps only: on isolated heaps an object cannot cross threads.
 */
#include "cwl.h"
#include "roles.h"

#include <stdatomic.h>

enum { P_OPS, P_ITEMS, P_RING, P_CYCLIC };

/* 2 threads on glibc, rcgen, biased: small ~0.1 s, medium ~1 s, large ~5 s. */
static const hb_param_spec handoff_params[] = {
    {"ops", {100000, 1000000, 5000000}, 1, INT64_C(1) << 40, "messages made per producer"},
    {"items", {4, 4, 4}, 0, 1 << 16, "ints in a message's payload list"},
    {"ring", {256, 256, 256}, 1, 1 << 16, "messages in flight per consumer (bounds memory)"},
    {"cyclic_pct", {5, 5, 5}, 0, 100, "percent of messages that hold themselves (msg.self = msg)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

#define SEQ_BASE 1000 /* seqs and items are stored from here: never small ints, always made */

enum { M_SEQ, M_ITEMS, M_SELF, M_FIELDS };

/* One consumer's queue counts; its slots are the fields of its Ring node.
 * Each side's fields on their own line, the other side's count cached. */
typedef struct hq {
    alignas(64) _Atomic uint64_t tail; /* messages stored by the producer */
    uint64_t wcount, head_seen;
    alignas(64) _Atomic uint64_t head; /* messages taken by the consumer */
    uint64_t rcount, tail_seen;
} hq;

typedef struct ho_thread {
    cwl_thread c;
    uint64_t made, cyclic, sum_made;       /* producer */
    uint64_t got, owed, sum_got, bad, bad_seq; /* consumer */
} ho_thread;

typedef struct handoff {
    cwl c;
    hb_type msg, ring;
    hb_roles roles;
    uint64_t ops, items, cap, cyclic;
    hq *q;             /* one per consumer */
    hb_object *rings;  /* thread 0's list of Ring nodes, handed over at cwl_meet */
    _Atomic int stop;  /* a thread failed: nobody waits for it */
} handoff;

static int ho_setup(const hb_ctx *ctx, void **w)
{
    if (ctx->threads < 2)
        return EINVAL;
    int err = cwl_setup(ctx, sizeof(handoff), sizeof(ho_thread), w);
    if (err)
        return err;
    handoff *x = *w;
    hb_class_init(&x->msg, "Msg", NULL, NULL, 0);
    hb_class_init(&x->ring, "Ring", NULL, NULL, 0);
    x->roles = hb_roles_of(ctx->threads);
    x->ops = (uint64_t)ctx->param[P_OPS];
    x->items = (uint64_t)ctx->param[P_ITEMS];
    x->cap = (uint64_t)ctx->param[P_RING];
    x->cyclic = (uint64_t)ctx->param[P_CYCLIC];
    size_t qb = (size_t)x->roles.consumers * sizeof(hq);
    x->q = ctx->alloc->alloc_aligned(ctx->alloc_state, 64, qb);
    if (!x->q) {
        cwl_teardown(x);
        return ENOMEM;
    }
    memset(x->q, 0, qb);
    atomic_init(&x->stop, 0);
    return 0;
}

static void ho_teardown(void *w)
{
    handoff *x = w;
    x->c.a->free(x->c.as, x->q, (size_t)x->roles.consumers * sizeof(hq));
    cwl_teardown(w);
}

/* The seq of producer p's message i, distinct over producers. */
static int64_t seq_of(const handoff *x, int p, uint64_t i)
{
    return (int64_t)(i * (uint64_t)x->roles.producers + (uint64_t)p);
}

static int is_cyclic(const handoff *x, uint64_t i) { return i % 100 < x->cyclic; }

/* *m = Msg(seq, [seq + k ...]), self-referencing when cyclic; *m holds
 * it while its parts are allocated. */
static int build(hb_heap *h, handoff *x, hb_object **m, int64_t seq, int cyclic)
{
    if (cwl_node_new(h, m, &x->msg, M_FIELDS, SEQ_BASE + seq)) /* M_SEQ is field 0 */
        return ENOMEM;
    hb_node_set_new(h, *m, M_ITEMS, hb_list_new(h));
    hb_object *items = hb_node_get(*m, M_ITEMS);
    if (!items)
        return ENOMEM;
    for (uint64_t k = 0; k < x->items; k++) {
        hb_object *it = hb_int_new(h, SEQ_BASE + seq + (int64_t)k);
        int err = it ? hb_list_append_new(h, items, it) : ENOMEM;
        if (err)
            return err;
    }
    if (cyclic)
        hb_node_set(h, *m, M_SELF, *m);
    return 0;
}

static int intact(const handoff *x, hb_object *m, int64_t seq, int cyclic)
{
    hb_object *items = hb_node_get(m, M_ITEMS);
    if (hb_int_value(hb_node_get(m, M_SEQ)) != SEQ_BASE + seq || !items ||
        hb_list_len(items) != x->items || hb_node_get(m, M_SELF) != (cyclic ? m : NULL))
        return 0;
    for (uint64_t k = 0; k < x->items; k++)
        if (hb_int_value(hb_list_get(items, k)) != SEQ_BASE + seq + (int64_t)k)
            return 0;
    return 1;
}

/* Wait until the other side's count (*other, last seen *seen) moves: while
 * *seen + room == mine (a producer: the ring is full, room = ring; a
 * consumer: it is empty, room = 0). Polls the safepoint, so a collection
 * does not wait for a waiting thread; ECANCELED if another thread failed. */
static int wait_for(handoff *x, hb_heap *h, _Atomic uint64_t *other, uint64_t *seen, uint64_t mine,
                    uint64_t room)
{
    for (unsigned spins = 0; *seen + room == mine;) {
        *seen = atomic_load_explicit(other, memory_order_acquire);
        if (*seen + room != mine)
            break;
        if (atomic_load_explicit(&x->stop, memory_order_relaxed))
            return ECANCELED;
        hb_safepoint(h);
        hb_relax(&spins);
    }
    return 0;
}

static int produce(handoff *x, ho_thread *t, int p, hb_heap *h, hb_object *rings, hb_object **m,
                   hb_lat *lat)
{
    uint64_t k = hb_fan_out(x->roles, p);
    for (uint64_t i = 0; i < x->ops; i++) {
        int c = p + (int)(i % k) * x->roles.producers;
        hq *q = &x->q[c];
        int err = wait_for(x, h, &q->head, &q->head_seen, q->wcount, x->cap);
        if (err)
            return err;
        hb_op_begin(lat); /* a producer's op: make a message and put it in the queue */
        int64_t seq = seq_of(x, p, i);
        int cyc = is_cyclic(x, i);
        if ((err = build(h, x, m, seq, cyc)) != 0) {
            hb_op_end(lat);
            return err;
        }
        hb_node_store(h, hb_list_get(rings, (size_t)c), q->wcount % x->cap, *m);
        hb_del(h, m);
        hb_op_end(lat);
        atomic_store_explicit(&q->tail, ++q->wcount, memory_order_release);
        t->made++;
        t->cyclic += (uint64_t)cyc;
        t->sum_made += (uint64_t)seq;
        t->c.ops++;
    }
    return 0;
}

static int consume(handoff *x, ho_thread *t, int c, hb_heap *h, hb_object *rings, hb_object **m,
                   hb_lat *lat)
{
    int p = c % x->roles.producers;
    uint64_t k = hb_fan_out(x->roles, p), i = (uint64_t)(c / x->roles.producers);
    hq *q = &x->q[c];
    hb_object *ring = hb_list_get(rings, (size_t)c);
    t->owed = hb_owed(x->roles, x->ops, c);
    for (uint64_t n = 0; n < t->owed; n++, i += k) {
        int err = wait_for(x, h, &q->tail, &q->tail_seen, q->rcount, 0);
        if (err)
            return err;
        hb_op_begin(lat); /* a consumer's op: take a message, check it, drop it */
        size_t slot = q->rcount % x->cap;
        hb_set_new(h, m, hb_node_load(h, ring, slot));
        hb_node_store(h, ring, slot, NULL);
        int64_t seq = seq_of(x, p, i);
        if ((!*m || !intact(x, *m, seq, is_cyclic(x, i))) && t->bad++ == 0)
            t->bad_seq = (uint64_t)seq;
        t->sum_got += *m ? (uint64_t)(hb_int_value(hb_node_get(*m, M_SEQ)) - SEQ_BASE) : 0;
        hb_del(h, m); /* the last reference, unless it is a cycle */
        hb_op_end(lat);
        atomic_store_explicit(&q->head, ++q->rcount, memory_order_release);
        t->got++;
    }
    return 0;
}

static int ho_run(void *w, int tid, hb_counts *out)
{
    handoff *x = w;
    ho_thread *t = cwl_at(&x->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    if (!t->c.shared) /* cannot happen: heap_modes says shared only */
        return cwl_end(&t->c, h, out, ENOTSUP);
    int err = 0, me, producer = hb_role(x->roles, tid, &me);

    hb_scope s;
    hb_scope_enter(h, &s);
    hb_object **rings = hb_var(h), **m = hb_var(h);
    if (tid == 0) {
        hb_set_new(h, rings, hb_list_new(h));
        err = *rings ? 0 : ENOMEM;
        for (int c = 0; c < x->roles.consumers && !err; c++) {
            hb_object *r = hb_node_new(h, &x->ring, (size_t)x->cap);
            err = r ? hb_list_append_new(h, *rings, r) : ENOMEM;
        }
        x->rings = err ? NULL : *rings;
    }
    cwl_meet(&x->c, h); /* the queues are made */
    if (!x->rings && !err)
        err = ECANCELED;
    if (!err) {
        hb_set(h, rings, x->rings);
        err = producer ? produce(x, t, me, h, *rings, m, &out->lat)
                       : consume(x, t, me, h, *rings, m, &out->lat);
    }
    if (err)
        atomic_store_explicit(&x->stop, 1, memory_order_relaxed);
    hb_scope_leave(h, &s);
    return cwl_end(&t->c, h, out, err);
}

static int ho_check(void *w, char *err, size_t errlen)
{
    handoff *x = w;
    if (cwl_check_done(&x->c, err, errlen))
        return 1;
    uint64_t sum_made = 0, sum_got = 0, per = 3 + x->items;
    for (int tid = 0; tid < x->c.threads; tid++) {
        ho_thread *t = cwl_at(&x->c, tid);
        int me, producer = hb_role(x->roles, tid, &me);
        if (t->bad) {
            snprintf(err, errlen, "consumer thread %d: %" PRIu64 " messages not as made; first: seq %"
                     PRIu64, tid, t->bad, t->bad_seq);
            return 1;
        }
        if (producer ? t->made != x->ops : t->got != t->owed || t->owed != hb_owed(x->roles, x->ops, me)) {
            snprintf(err, errlen, "thread %d (%s %d) made %" PRIu64 " and got %" PRIu64
                     " messages, owed %" PRIu64, tid, producer ? "producer" : "consumer", me, t->made,
                     t->got, producer ? x->ops : t->owed);
            return 1;
        }
        sum_made += t->sum_made;
        sum_got += t->sum_got;
        /* thread 0 made the rings' list and rings */
        uint64_t allocs = t->made * per + (tid == 0 ? 1 + (uint64_t)x->roles.consumers : 0);
        if (cwl_check_counts(&t->c, tid, allocs, t->c.finds_cycles ? 0 : t->cyclic * per, err,
                             errlen) ||
            cwl_check_collected(&t->c, tid, t->cyclic, "the cyclic messages", err, errlen))
            return 1;
    }
    if (sum_made != sum_got) {
        snprintf(err, errlen, "seq sums: %" PRIu64 " made, %" PRIu64 " received", sum_made, sum_got);
        return 1;
    }
    return 0;
}

const hb_workload hb_wl_handoff = {
    .name = "handoff",
    .doc = "free threading (PEP 703): objects built by one thread, dropped by another via a queue",
    .min_threads = 2,
    .needs_collector = 1,
    .params = handoff_params,
    .heap_modes = HB_HEAP_SHARED,
    .setup = ho_setup,
    .run = ho_run,
    .check = ho_check,
    .teardown = ho_teardown,
};
