/* selfref.c -- `arr = []; arr.append(arr)` in bulk: self-referencing
 * containers.
 *
 * The documents' "worst case" of a cycle: a list that contains itself
 * (arr[0][0][0]... is arr, forever), and its class form,
 * `class Cycle: def __init__(self): self.ref = self`. Op i makes one of
 * them (lists and Cycle instances alternate), with `items` small ints
 * after the self-reference so the list owns an item array as CPython's
 * does, checks that arr[0][0][0] is arr, and rebinds the variable: the old
 * one becomes garbage whose only reference is its own. Every `clear_every`
 * op instead does what the documents call the right way -- `lst.clear()`
 * before letting go -- which breaks the cycle by hand, so plain reference
 * counting frees it at once.
 *
 * What to expect: the smallest possible cycles, one object each. rc keeps
 * every one not cleared by hand (the harness reports them as leaked);
 * rcgen finds them in generation 0, almost all in the collection right
 * after they were made, so its pauses stay short; marksweep's cost is
 * the allocation rate against its heap budget.
 *
 * Self-check: every self-reference verified before it is dropped; objects
 * made = ops (the ints are small, immortal); after the final collection
 * rc holds exactly the ones not cleared by hand, rcgen and marksweep none,
 * having found at least those in their collections.
 */
#include "cwl.h"

enum { P_OPS, P_ITEMS, P_CLEAR };

/* rcgen on glibc, one core: small ~0.07 s (rc ~0.16 s: its leak grows the heap), medium
 * ~0.7 s, large ~4 s. */
static const hb_param_spec selfref_params[] = {
    {"ops", {400000, 10000000, 50000000}, 1, INT64_C(1) << 40, "self-referencing objects per thread"},
    {"items", {3, 3, 3}, 0, 1 << 20, "small ints appended to each list after itself"},
    {"clear_every", {10, 10, 10}, 0, INT64_C(1) << 40,
     "every n-th list is cleared by hand before it is dropped (0: never)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

typedef struct sr_thread {
    cwl_thread c;
    uint64_t cleared; /* broken by hand */
    uint64_t bad, bad_op;
} sr_thread;

typedef struct selfref {
    cwl c;
    hb_type cycle;
    uint64_t ops, items, clear_every;
} selfref;

static int selfref_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(selfref), sizeof(sr_thread), w);
    if (err)
        return err;
    selfref *s = *w;
    hb_class_init(&s->cycle, "Cycle", NULL, NULL, 0);
    s->ops = (uint64_t)ctx->param[P_OPS];
    s->items = (uint64_t)ctx->param[P_ITEMS];
    s->clear_every = (uint64_t)ctx->param[P_CLEAR];
    return 0;
}

static int selfref_run(void *w, int tid, hb_counts *out)
{
    selfref *s = w;
    sr_thread *t = cwl_at(&s->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    int err = 0;

    hb_scope sc;
    hb_scope_enter(h, &sc);
    hb_object **arr = hb_var(h);
    for (uint64_t i = 0; i < s->ops && !err; i++) {
        int ok;
        hb_op_begin(&out->lat); /* one op: make it, check it, drop it */
        if (i & 1) { /* c = Cycle(); c.ref = c */
            hb_set_new(h, arr, hb_node_new(h, &s->cycle, 1));
            if (!*arr) {
                err = ENOMEM;
                hb_op_end(&out->lat);
                break;
            }
            hb_node_set(h, *arr, 0, *arr);
            ok = hb_node_get(hb_node_get(*arr, 0), 0) == *arr;
        } else { /* arr = []; arr.append(arr); arr.extend(range(items)) */
            hb_set_new(h, arr, hb_list_new(h));
            err = *arr ? hb_list_append(h, *arr, *arr) : ENOMEM;
            for (uint64_t k = 0; k < s->items && !err; k++)
                err = hb_list_append_new(h, *arr, hb_int_new(h, (int64_t)(k & 255)));
            if (err) {
                hb_op_end(&out->lat);
                break;
            }
            ok = hb_list_get(hb_list_get(hb_list_get(*arr, 0), 0), 0) == *arr &&
                 hb_list_len(*arr) == 1 + s->items;
            if (s->clear_every && (i / 2) % s->clear_every == s->clear_every - 1) {
                hb_list_clear(h, *arr); /* lst.clear(): the right way */
                t->cleared++;
            }
        }
        if (!ok && t->bad++ == 0)
            t->bad_op = i;
        hb_del(h, arr);
        hb_op_end(&out->lat);
        t->c.ops++;
    }
    hb_scope_leave(h, &sc);
    return cwl_end(&t->c, h, out, err);
}

static int selfref_check(void *w, char *err, size_t errlen)
{
    selfref *s = w;
    if (cwl_check_done(&s->c, err, errlen))
        return 1;
    uint64_t lists = (s->ops + 1) / 2;
    uint64_t want_cleared = s->clear_every ? lists / s->clear_every : 0;
    for (int tid = 0; tid < s->c.threads; tid++) {
        sr_thread *t = cwl_at(&s->c, tid);
        if (t->bad) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " objects did not contain themselves; first: %"
                     PRIu64, tid, t->bad, t->bad_op);
            return 1;
        }
        if (t->cleared != want_cleared) {
            snprintf(err, errlen, "thread %d cleared %" PRIu64 " lists, want %" PRIu64, tid,
                     t->cleared, want_cleared);
            return 1;
        }
        uint64_t cyclic = s->ops - t->cleared;
        if (cwl_check_counts(&t->c, tid, s->ops, t->c.finds_cycles ? 0 : cyclic, err, errlen))
            return 1;
        if (cwl_check_collected(&t->c, tid, cyclic, "the uncleared lists", err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_selfref = {
    .name = "selfref",
    .doc = "arr = []; arr.append(arr) and self.ref = self in bulk: self-referencing containers",
    .min_threads = 1,
    .needs_collector = 1,
    .params = selfref_params,
    .setup = selfref_setup,
    .run = selfref_run,
    .check = selfref_check,
    .teardown = cwl_teardown,
};
