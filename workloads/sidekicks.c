/* sidekicks.c -- the documents' superheroes and sidekicks: two lists that
 * reference each other, one variable deleted, the other still working.
 *
 *     superheroes = ["Captain America", "Superman", "Batman"]
 *     sidekicks = ["Bucky", "Jimmy Olsen", "Robin"]
 *     superheroes.append(sidekicks)
 *     sidekicks.append(superheroes)
 *     del superheroes
 *     sidekicks[-1][0]          # still "Captain America": the cycle holds it
 *     del sidekicks             # now garbage that refcounting cannot free
 *
 * Op i does exactly that with fresh strings (`team` names per list, 3 as
 * in the documents), reads the deleted list back through the other, and
 * drops both. Every `collect_every` ops it calls gc.collect() the way the
 * documents suggest ("manually call the garbage collector at intervals");
 * 0 leaves it to the automatic schedule.
 *
 * What to expect: per op 2 lists and 2*team strings become cyclic garbage
 * (the strings hang off the cycle). rc keeps all of it; rcgen finds it in
 * generation 0 (only the 2 lists are tracked containers, the strings die
 * by refcount when the lists are cleared); marksweep sweeps lists and
 * strings alike. collect_every trades many short explicit pauses against
 * fewer automatic ones.
 *
 * Self-check: every read through the surviving variable returned the
 * deleted list's first name; objects made = ops*(2 + 2*team); rc keeps
 * exactly those, rcgen and marksweep none.
 */
#include "cwl.h"

enum { P_OPS, P_TEAM, P_COLLECT };

/* rcgen on glibc, one core: small ~0.1 s, medium ~1 s, large ~5 s. */
static const hb_param_spec sk_params[] = {
    {"ops", {80000, 2000000, 10000000}, 1, INT64_C(1) << 40, "teams made and dropped per thread"},
    {"team", {3, 3, 3}, 1, 1 << 16, "names per list"},
    {"collect_every", {0, 0, 0}, 0, INT64_C(1) << 40, "gc.collect() every n ops (0: automatic only)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};

static const char *const heroes[] = {"Captain America", "Superman", "Batman", "Wonder Woman"};
static const char *const kicks[] = {"Bucky", "Jimmy Olsen", "Robin", "Wonder Girl"};

typedef struct sk_thread {
    cwl_thread c;
    uint64_t seen, bad;
} sk_thread;

typedef struct sidekicks {
    cwl c;
    uint64_t ops, team, collect_every;
} sidekicks;

static int sk_setup(const hb_ctx *ctx, void **w)
{
    int err = cwl_setup(ctx, sizeof(sidekicks), sizeof(sk_thread), w);
    if (err)
        return err;
    sidekicks *s = *w;
    s->ops = (uint64_t)ctx->param[P_OPS];
    s->team = (uint64_t)ctx->param[P_TEAM];
    s->collect_every = (uint64_t)ctx->param[P_COLLECT];
    return 0;
}

static int fill(hb_heap *h, hb_object *list, const char *const *names, uint64_t n)
{
    for (uint64_t k = 0; k < n; k++) {
        const char *p = names[k % 4];
        hb_object *s = hb_str_new(h, p, strlen(p));
        int err = s ? hb_list_append_new(h, list, s) : ENOMEM;
        if (err)
            return err;
    }
    return 0;
}

static int sk_run(void *w, int tid, hb_counts *out)
{
    sidekicks *s = w;
    sk_thread *t = cwl_at(&s->c, tid);
    hb_heap *h = out->heap;
    cwl_begin(&t->c, h);
    int err = 0;

    hb_scope sc;
    hb_scope_enter(h, &sc);
    hb_object **sup = hb_var(h), **side = hb_var(h);
    for (uint64_t i = 0; i < s->ops && !err; i++) {
        hb_op_begin(&out->lat); /* one op: the documents' example, start to finish */
        hb_set_new(h, sup, hb_list_new(h));
        err = *sup ? fill(h, *sup, heroes, s->team) : ENOMEM;
        if (!err) {
            hb_set_new(h, side, hb_list_new(h));
            err = *side ? fill(h, *side, kicks, s->team) : ENOMEM;
        }
        if (!err)
            err = hb_list_append(h, *sup, *side);
        if (!err)
            err = hb_list_append(h, *side, *sup);
        if (!err) {
            hb_del(h, sup);
            hb_object *back = hb_list_get(*side, hb_list_len(*side) - 1); /* sidekicks[-1] */
            if (strcmp(hb_str_data(hb_list_get(back, 0)), heroes[0]) ||
                hb_list_get(back, hb_list_len(back) - 1) != *side)
                t->bad++;
            t->seen++;
        }
        hb_del(h, sup);
        hb_del(h, side);
        if (s->collect_every && i % s->collect_every == s->collect_every - 1)
            hb_collect(h, 0);
        hb_op_end(&out->lat);
        t->c.ops++;
    }
    hb_scope_leave(h, &sc);
    return cwl_end(&t->c, h, out, err);
}

static int sk_check(void *w, char *err, size_t errlen)
{
    sidekicks *s = w;
    if (cwl_check_done(&s->c, err, errlen))
        return 1;
    uint64_t made = s->ops * (2 + 2 * s->team);
    for (int tid = 0; tid < s->c.threads; tid++) {
        sk_thread *t = cwl_at(&s->c, tid);
        if (t->bad || t->seen != s->ops) {
            snprintf(err, errlen, "thread %d: %" PRIu64 " of %" PRIu64 " reads of sidekicks[-1][0] "
                     "did not find \"%s\" (%" PRIu64 " made)", tid, t->bad, t->seen, heroes[0], s->ops);
            return 1;
        }
        if (cwl_check_counts(&t->c, tid, made, t->c.finds_cycles ? 0 : made, err, errlen))
            return 1;
    }
    return 0;
}

const hb_workload hb_wl_sidekicks = {
    .name = "sidekicks",
    .doc = "superheroes and sidekicks: two lists referencing each other, one deleted",
    .min_threads = 1,
    .needs_collector = 1,
    .params = sk_params,
    .setup = sk_setup,
    .run = sk_run,
    .check = sk_check,
    .teardown = cwl_teardown,
};
