/* test_arena_threads.c -- the arena backend (allocators/arena.c) with more
 * than one thread: remote frees reclaimed by the owner or kept in the
 * freeing thread's foreign cache, the last-freed stacks emptied when a
 * heap is left, heaps of exited threads adopted or taken over by a
 * successor, left heaps swept by the others or trimmed below the warm
 * ones, an idle owner taking its blocks back, and the blocks of an owner
 * that does not take them back kept by the thread freeing them, or taken
 * back into its pools for it and given back to the OS (the help). */
#include "arena_test.h"

#include <stdlib.h>

typedef struct job {
    void *s;
    void **v;
    size_t n, size;
} job;

static void *free_all(void *arg)
{
    job *j = arg;
    for (size_t i = 0; i < j->n; i++)
        A->free(j->s, j->v[i], j->size);
    return NULL;
}

static void test_remote_frees_reclaimed(void **state)
{
    void *s = *state;
    static void *v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = A->alloc(s, 64);
    assert_int_equal(stats_of(s).live_bytes, 64000);
    job j = {s, v, 1000, 64};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_all, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* Counted at the owner, which has not drained them yet. */
    assert_int_equal(stats_of(s).live_bytes, 64000);
    /* The owner's next slow path (a class with no pool) drains them all. */
    void *p = A->alloc(s, 128);
    assert_int_equal(stats_of(s).live_bytes, 128);
    /* And the blocks are reused, not leaked: 1000 more 64 B blocks fit in
     * the pools already there. */
    uint64_t os = stats_of(s).os_bytes;
    for (int i = 0; i < 1000; i++)
        v[i] = A->alloc(s, 64);
    assert_int_equal(stats_of(s).os_bytes, os);
    for (int i = 0; i < 1000; i++)
        A->free(s, v[i], 64);
    A->free(s, p, 128);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

typedef struct fjob {
    void *s;
    void **v;
    size_t n;
    void *got[32];
    void **got_more; /* and nmore after them, when given */
    size_t nmore;
    uint64_t live_freed, live_reused;
    int heapless; /* free first, with no heap of its own yet */
    int err;
} fjob;

static uint64_t live_now(void *s)
{
    hb_alloc_stats st;
    return A->stats(s, &st) == 0 ? st.live_bytes : UINT64_MAX;
}

/* A thread with a heap (or, heapless, none yet) frees another heap's
 * blocks, then allocates. */
static void *free_then_reuse(void *arg)
{
    fjob *j = arg;
    void *own = j->heapless ? NULL : A->alloc(j->s, 64);
    if (!own && !j->heapless) {
        j->err = 1;
        return NULL;
    }
    for (size_t i = 0; i < j->n; i++)
        A->free(j->s, j->v[i], 64);
    j->live_freed = live_now(j->s);
    for (int i = 0; i < 32; i++)
        j->got[i] = A->alloc(j->s, 64);
    for (size_t i = 0; i < j->nmore; i++)
        j->got_more[i] = A->alloc(j->s, 64);
    j->live_reused = live_now(j->s);
    for (int i = 0; i < 32; i++)
        A->free(j->s, j->got[i], 64);
    for (size_t i = 0; i < j->nmore; i++)
        A->free(j->s, j->got_more[i], 64);
    if (own)
        A->free(j->s, own, 64);
    return NULL; /* no thread_detach: the key destructor empties its caches */
}

/* Blocks of another (living) heap stay in the freeing thread's foreign
 * cache, at most 64 of a class, and its next allocations reuse them, the
 * last freed first, without touching their owner; when the thread exits
 * they go back to the owner, which takes them at its next slow path.
 * heapless: the thread frees before it has allocated, so its first free
 * attaches its heap (free_other); without, xthread's consumers, which only
 * free, pushed every block on its owner's list, 3 times as slow. */
static void foreign_cache(void *s, int heapless)
{
    enum { N = 1000 };
    static void *v[N];
    uint64_t own = heapless ? 0 : 64;
    for (int i = 0; i < N; i++)
        v[i] = A->alloc(s, 64);
    fjob j = {.s = s, .v = v, .n = N, .heapless = heapless};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_then_reuse, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(j.err, 0);
    /* The blocks pushed back are counted at their owner until it drains
     * them; those in the cache are not counted: at most 64 of them. */
    assert_true(j.live_freed <= (uint64_t)N * 64 + own);
    assert_true(j.live_freed >= (uint64_t)(N - 64) * 64 + own);
    for (int i = 0; i < 32; i++)
        assert_ptr_equal(j.got[i], v[N - 1 - i]);
    /* The 32 came from the cache: counted live again, exactly. */
    assert_int_equal(j.live_reused - j.live_freed, 32 * 64);
    /* Thread gone: every block of the owner is on its remote list. */
    assert_int_equal(stats_of(s).live_bytes, (uint64_t)N * 64);
    void *p = A->alloc(s, 128); /* a slow path: the owner drains */
    assert_int_equal(stats_of(s).live_bytes, 128);
    uint64_t os = stats_of(s).os_bytes;
    for (int i = 0; i < N; i++)
        v[i] = A->alloc(s, 64);
    assert_int_equal(stats_of(s).os_bytes, os); /* reused, not leaked */
    for (int i = 0; i < N; i++)
        A->free(s, v[i], 64);
    A->free(s, p, 128);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

static void test_foreign_cache(void **state)
{
    foreign_cache(*state, 0);
}

static void test_foreign_cache_first_free(void **state)
{
    foreign_cache(*state, 1);
}

static int ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

/* A thread that attaches and allocates n blocks of 64 B, then frees them. */
typedef struct tjob {
    void *s;
    void **got;
    size_t n;
} tjob;

static void *take_alloc_free(void *arg)
{
    tjob *j = arg;
    for (size_t i = 0; i < j->n; i++)
        j->got[i] = A->alloc(j->s, 64);
    for (size_t i = 0; i < j->n; i++)
        A->free(j->s, j->got[i], 64);
    return NULL;
}

/* A heap whose thread has stopped taking back what others free to it (it
 * waits in a join, as larson's main thread after its warm-up), where no
 * thread takes its list back for it ("help=0": the kept lists are the
 * fallback when none can, test_idle_owner_helped): once 1 MiB
 * of its blocks waits on its remote list, a thread freeing more of them
 * keeps them, past its foreign cache, and allocates from them instead of
 * its own pools. When that thread exits its kept lists stay with its heap,
 * for the next thread to attach (warm=5, the default), or go back to the
 * owner when the heap is left cold (warm=0). */
static void idle_heap_blocks_kept(const char *opts, int cold)
{
    void *s;
    assert_int_equal(A->init(&s, opts), 0);
    enum { N = 32768, R = 2000 }; /* 2 MiB of 64 B blocks */
    static void *v[N], *sorted[N], *got[R];
    for (int i = 0; i < N; i++)
        v[i] = A->alloc(s, 64);
    memcpy(sorted, v, sizeof v);
    qsort(sorted, N, sizeof *sorted, ptr_cmp);
    fjob j = {.s = s, .v = v, .n = N, .got_more = got, .nmore = R};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_then_reuse, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(j.err, 0);
    /* Counted live: the freeing thread's own block and the owner's on its
     * remote list, 1 MiB and at most one spill more; not the cached and
     * kept ones. */
    assert_true(j.live_freed >= MIB + 64);
    assert_true(j.live_freed <= MIB + 4096 + 64);
    /* Its next allocations, 32 from the foreign cache and the rest from
     * the kept lists, were all the owner's blocks. */
    for (int i = 0; i < 32; i++)
        assert_non_null(bsearch(&j.got[i], sorted, N, sizeof *sorted, ptr_cmp));
    for (int i = 0; i < R; i++)
        assert_non_null(bsearch(&got[i], sorted, N, sizeof *sorted, ptr_cmp));
    assert_int_equal(j.live_reused - j.live_freed, (uint64_t)(32 + R) * 64);
    uint64_t held = (uint64_t)N * 64 - stats_of(s).live_bytes;
    if (cold) {
        assert_int_equal(held, 0); /* all back on the owner's remote list */
    } else {
        /* Kept with the left heap; the next thread takes it and reuses them. */
        assert_true(held >= 512 * 1024);
        uint64_t os = stats_of(s).os_bytes;
        tjob k = {s, got, R};
        assert_int_equal(pthread_create(&t, NULL, take_alloc_free, &k), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        for (int i = 0; i < R; i++)
            assert_non_null(bsearch(&got[i], sorted, N, sizeof *sorted, ptr_cmp));
        assert_int_equal(stats_of(s).os_bytes, os);
    }
    A->destroy(s);
}

static void test_idle_heap_blocks_kept(void **state)
{
    (void)state;
    idle_heap_blocks_kept("warm=5,help=0", 0);
    idle_heap_blocks_kept("warm=0,help=0", 1);
}

/* A thread frees every block of an owner that waits (in a join), then
 * lets purge=20 pass and makes and frees blocks of another class, whose
 * pools' comings and goings run the sweep. */
typedef struct hjob {
    void *s;
    void **v;
    size_t n;
    hb_alloc_stats freed, later;
} hjob;

static void *free_wait_churn(void *arg)
{
    hjob *j = arg;
    void *own = A->alloc(j->s, 64);
    for (size_t i = 0; i < j->n; i++)
        A->free(j->s, j->v[i], 64);
    j->freed = stats_of(j->s);
    A->free(j->s, own, 64);
    static void *w[2048];
    for (int round = 0; round < 8; round++) {
        sleep_ms(15);
        for (int i = 0; i < 2048; i++)
            w[i] = A->alloc(j->s, 496);
        for (int i = 0; i < 2048; i++)
            A->free(j->s, w[i], 496);
    }
    j->later = stats_of(j->s);
    return NULL;
}

/* An owner that takes nothing back (it waits in a join while another
 * thread frees its 4 MiB of blocks) is helped: the freeing thread takes
 * its remote list back into its pools for it, every MiB, and the sweep
 * gives the pools' pages back once idle for purge_ms. Without the help
 * all 4 MiB stayed resident on the remote list. */
static void test_idle_owner_helped(void **state)
{
    (void)state;
    void *s;
    assert_int_equal(A->init(&s, "purge=20"), 0);
    enum { N = 65536 }; /* 4 MiB of 64 B blocks */
    static void *v[N];
    for (int i = 0; i < N; i++) {
        assert_non_null(v[i] = A->alloc(s, 64));
        memset(v[i], 0x5a, 64);
    }
    hb_alloc_stats before = stats_of(s);
    hjob j = {.s = s, .v = v, .n = N};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_wait_churn, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* Taken back: at most 1 MiB still counted (on the remote list since
     * the last help) and the thread's own block. */
    assert_true(j.freed.live_bytes <= MIB + 64);
    /* And given back: at least 2 MiB of the 4 purged or unmapped. */
    assert_true(j.later.released_bytes - before.released_bytes >= 2 * MIB);
    /* The owner, back, makes its blocks again: in what it kept and what it
     * maps anew, no more than the blocks take. */
    for (int i = 0; i < N; i++)
        assert_non_null(v[i] = A->alloc(s, 64));
    assert_true(stats_of(s).os_bytes <= j.later.os_bytes + (uint64_t)N * 64 + MIB);
    for (int i = 0; i < N; i++)
        A->free(s, v[i], 64);
    A->destroy(s);
}

static void *alloc_and_exit(void *arg)
{
    job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        size_t size = i == 0 ? 100000 : 16 + (i * 37) % 497;
        j->v[i] = A->alloc(j->s, size);
        if (j->v[i])
            memset(j->v[i], (int)(i & 0xff), 16);
    }
    return NULL; /* no thread_detach: the key destructor abandons the heap */
}

static void *attach_detach(void *arg)
{
    void *s = arg;
    if (A->thread_attach(s) != 0)
        return arg;
    A->thread_detach(s);
    return NULL;
}

static void test_exited_thread_blocks(void **state)
{
    void *s = *state;
    static void *v[2000];
    job j = {s, v, 2000, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, alloc_and_exit, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    uint64_t live = stats_of(s).live_bytes;
    assert_true(live > 100000);
    /* The blocks outlive their thread and can be freed from here. */
    for (size_t i = 0; i < 2000; i++) {
        assert_non_null(v[i]);
        unsigned char *b = v[i];
        for (int k = 0; k < 16; k++)
            assert_int_equal(b[k], i & 0xff);
        A->free(s, v[i], 0);
    }
    /* This thread had no heap: its first free took the dead one, and the
     * rest were freed into it. */
    assert_int_equal(stats_of(s).live_bytes, 0);
    /* A thread that attaches and leaves meanwhile changes nothing. */
    assert_int_equal(pthread_create(&t, NULL, attach_detach, s), 0);
    void *ret;
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_null(ret);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

/* A thread whose first act is to free a dead heap's block takes that heap
 * (free_other, hb_arena_heap_own), not the heap left last: thread a makes 1 MiB and
 * exits, thread b (attached before a started) then uses 2 MiB, frees it
 * and exits (its heap is left last, and warm), then thread c frees a's
 * blocks but two (which keep a's arenas) and makes as many. c's blocks
 * are in a's arenas. Taking the heap left last at c's thread_attach (the
 * old way) had c build in b's heap instead. */
#define FF_N 4096
#define FF_SIZE 256
typedef struct ffjob {
    void *s;
    void **v;
    size_t n;
    int err;
    _Atomic int attached, go;
} ffjob;

static void *ff_make(void *arg)
{
    ffjob *j = arg;
    for (size_t i = 0; i < j->n; i++)
        if (!(j->v[i] = A->alloc(j->s, FF_SIZE)))
            j->err = 1;
    return NULL; /* the key destructor abandons the heap */
}

/* Attaches (one block), waits for go, then makes n blocks, frees them all
 * and its first. */
static void *ff_make_free(void *arg)
{
    ffjob *j = arg;
    void *first = A->alloc(j->s, FF_SIZE);
    atomic_store(&j->attached, 1);
    while (!atomic_load(&j->go))
        sched_yield();
    ff_make(arg);
    for (size_t i = 0; i < j->n; i++)
        A->free(j->s, j->v[i], FF_SIZE);
    A->free(j->s, first, FF_SIZE);
    j->err |= !first;
    return NULL;
}

/* Frees all of v but the first and last, then makes as many. */
static void *ff_replace(void *arg)
{
    ffjob *j = arg;
    if (A->thread_attach(j->s) != 0) {
        j->err = 1;
        return NULL;
    }
    for (size_t i = 1; i + 1 < j->n; i++)
        A->free(j->s, j->v[i], FF_SIZE);
    for (size_t i = 1; i + 1 < j->n; i++)
        if (!(j->v[i] = A->alloc(j->s, FF_SIZE)))
            j->err = 1;
    return NULL;
}

/* Whether p lies in one of the arenas that hold v's n blocks. */
static int in_arenas_of(const void *p, void *const *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (ARENA_OF(p) == ARENA_OF(v[k]))
            return 1;
    return 0;
}

static void test_first_free_takes_heap(void **state)
{
    void *s = *state;
    static void *a[FF_N], *b[2 * FF_N], *c[FF_N];
    ffjob ja = {.s = s, .v = a, .n = FF_N}, jb = {.s = s, .v = b, .n = 2 * FF_N}, jc = {.s = s, .v = c, .n = FF_N};
    pthread_t t, tb;
    assert_int_equal(pthread_create(&tb, NULL, ff_make_free, &jb), 0);
    while (!atomic_load(&jb.attached))
        sched_yield();
    assert_int_equal(pthread_create(&t, NULL, ff_make, &ja), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    atomic_store(&jb.go, 1);
    assert_int_equal(pthread_join(tb, NULL), 0);
    memcpy(c, a, sizeof a);
    assert_int_equal(pthread_create(&t, NULL, ff_replace, &jc), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(ja.err + jb.err + jc.err, 0);
    size_t in_a = 0;
    for (size_t i = 1; i + 1 < FF_N; i++)
        in_a += in_arenas_of(c[i], a, FF_N);
    assert_true(in_a >= FF_N * 9 / 10);
    for (size_t i = 0; i < FF_N; i++)
        A->free(s, c[i], FF_SIZE);
    assert_int_equal(stats_of(s).live_bytes, 0);
}

/* A dead heap that a thread with a heap of its own adopted and emptied
 * gives back its memory when it is let go (hb_arena_heap_drop_adopted),
 * not purge_ms later: here purge_ms is a minute. This thread holds 4 MiB
 * (so it adopts a's heap rather than swap to it), a makes 4 MiB and exits,
 * and this thread frees a's blocks: a's 4 MiB go back at the last. */
static void test_emptied_heap_trimmed(void **state)
{
    (void)state;
    void *s;
    assert_int_equal(A->init(&s, "purge=60000"), 0);
    static void *a[4 * FF_N], *own[4 * FF_N];
    ffjob ja = {.s = s, .v = a, .n = 4 * FF_N}, jo = {.s = s, .v = own, .n = 4 * FF_N};
    ff_make(&jo);
    uint64_t mine = stats_of(s).os_bytes;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ff_make, &ja), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(ja.err + jo.err, 0);
    uint64_t theirs = stats_of(s).os_bytes - mine;
    assert_true(theirs >= 4 * FF_N * FF_SIZE);
    for (size_t i = 0; i < 4 * FF_N; i++)
        A->free(s, a[i], FF_SIZE);
    hb_alloc_stats st = stats_of(s);
    assert_int_equal(st.live_bytes, 4 * FF_N * FF_SIZE);
    assert_true(st.os_bytes <= mine + theirs / 8);
    for (size_t i = 0; i < 4 * FF_N; i++)
        A->free(s, own[i], FF_SIZE);
    A->destroy(s);
}

/* Larson's successor (hb_arena_heap_swap): thread B attaches while A is alive, A
 * makes a working set and exits, then B replaces A's blocks one by one.
 * B takes A's dead heap as its own at the first free and reuses its
 * memory: halfway through, not a byte more is mapped. Adopting A's heap
 * beside B's empty one instead (the old way) had B map a new arena for the
 * copy it built while the adopted heap emptied. */
#define SUCC_N 8192
#define SUCC_SIZE 256
typedef struct successor {
    void *s;
    void **v;
    _Atomic int attached, go;
    uint64_t os_before, os_half;
    int err;
} successor;

static void *succ_first(void *arg)
{
    successor *c = arg;
    for (int i = 0; i < SUCC_N; i++)
        if (!(c->v[i] = A->alloc(c->s, SUCC_SIZE)))
            c->err = 1;
    return NULL; /* the key destructor abandons the heap */
}

static void *succ_second(void *arg)
{
    successor *c = arg;
    if (A->thread_attach(c->s) != 0) {
        c->err = 1;
        return NULL;
    }
    atomic_store(&c->attached, 1);
    while (!atomic_load(&c->go))
        sched_yield();
    for (int i = 0; i < SUCC_N; i++) {
        if (i == SUCC_N / 2)
            c->os_half = stats_of(c->s).os_bytes;
        A->free(c->s, c->v[i], SUCC_SIZE);
        if (!(c->v[i] = A->alloc(c->s, SUCC_SIZE)))
            c->err = 1;
    }
    for (int i = 0; i < SUCC_N; i++)
        A->free(c->s, c->v[i], SUCC_SIZE);
    A->thread_detach(c->s);
    return NULL;
}

static void test_successor_takes_heap(void **state)
{
    static void *v[SUCC_N];
    successor c = {.s = *state, .v = v};
    pthread_t a, b;
    assert_int_equal(pthread_create(&b, NULL, succ_second, &c), 0);
    while (!atomic_load(&c.attached))
        sched_yield();
    assert_int_equal(pthread_create(&a, NULL, succ_first, &c), 0);
    assert_int_equal(pthread_join(a, NULL), 0);
    c.os_before = stats_of(c.s).os_bytes;
    assert_true(c.os_before >= (uint64_t)SUCC_N * SUCC_SIZE);
    atomic_store(&c.go, 1);
    assert_int_equal(pthread_join(b, NULL), 0);
    assert_int_equal(c.err, 0);
    assert_int_equal(c.os_half, c.os_before);
    assert_int_equal(stats_of(c.s).live_bytes, 0);
}

/* Another thread with a heap of its own, attached before the test's thread
 * leaves its heap (a thread that attaches later would take that heap), that
 * on request grows: allocates from a class it has not used yet, so its heap
 * takes a new pool, the moment hb_arena_abandoned_sweep runs. */
typedef struct bystander {
    void *s;
    pthread_t t;
    _Atomic int cmd, done; /* cmd: 1 grow, 2 leave; done counts grows */
    int next_class, err;
} bystander;

static void *bystander_main(void *arg)
{
    bystander *b = arg;
    if (A->thread_attach(b->s) != 0)
        b->err = 1;
    for (;;) {
        int c = atomic_load(&b->cmd);
        if (c == 2)
            break;
        if (c == 1) {
            void *p = A->alloc(b->s, 16 * (size_t)++b->next_class);
            if (!p)
                b->err = 1;
            A->free(b->s, p, 0);
            atomic_store(&b->cmd, 0);
            atomic_fetch_add(&b->done, 1);
        }
        sched_yield();
    }
    A->thread_detach(b->s);
    return NULL;
}

static void bystander_start(bystander *b, void *s)
{
    memset(b, 0, sizeof *b);
    b->s = s;
    assert_int_equal(pthread_create(&b->t, NULL, bystander_main, b), 0);
    /* its first growth maps its own arena, before anything is measured */
    atomic_store(&b->cmd, 1);
    while (atomic_load(&b->done) < 1)
        sched_yield();
}

static void bystander_grow(bystander *b)
{
    int before = atomic_load(&b->done);
    atomic_store(&b->cmd, 1);
    while (atomic_load(&b->done) == before)
        sched_yield();
}

static void bystander_stop(bystander *b)
{
    atomic_store(&b->cmd, 2);
    assert_int_equal(pthread_join(b->t, NULL), 0);
    assert_int_equal(b->err, 0);
}

/* Last freed, first reused: a free goes on its class's stack (bounded)
 * and the next allocation of that class takes it back, hot in the cache;
 * a full stack sends its older half to the pools; detaching empties the
 * stacks, so the heap's arenas can go back whole. */
static void test_lifo(void **state)
{
    void *s = *state;
    enum { N = 2000, F = 200 };
    static void *v[N];
    for (int i = 0; i < N; i++)
        v[i] = A->alloc(s, 64);
    /* Freed in order: the stack (64 blocks of 64 B) spills its older half
     * when full, so its top 32 are always the last 32 freed. */
    for (int i = 0; i < F; i++)
        A->free(s, v[i], 64);
    assert_int_equal(stats_of(s).live_bytes, (uint64_t)(N - F) * 64);
    for (int i = F - 1; i >= F - 32; i--)
        assert_ptr_equal(A->alloc(s, 64), v[i]);
    for (int i = F - 32; i < F; i++)
        A->free(s, v[i], 64);
    for (int i = F; i < N; i++)
        A->free(s, v[i], 64);
    hb_alloc_stats st = stats_of(s);
    assert_int_equal(st.live_bytes, 0);
    assert_true(st.os_bytes >= MIB);
    /* The stacks still pin a pool; detaching returns their blocks, so the
     * arena is wholly free, and another heap's sweep gives it back once it
     * has been idle (HB_DECAY_MS): the pools' counts were made true. */
    bystander b;
    bystander_start(&b, s);
    hb_alloc_stats before = stats_of(s);
    uint64_t os = before.os_bytes; /* the bystander's arena too */
    A->thread_detach(s);
    st = stats_of(s);
    assert_int_equal(st.live_bytes, 0);
    /* nothing unmapped; a pool idle for purge_ms by now has its pages
     * purged, counted released */
    assert_int_equal(st.os_bytes + (st.released_bytes - before.released_bytes), os);
    sleep_ms(HB_DECAY_MS + 100);
    bystander_grow(&b);
    assert_int_equal(stats_of(s).os_bytes, os - MIB);
    bystander_stop(&b);
}

/* A heap left by its thread keeps the memory that became free in it
 * lately, for the next thread to take the heap (a thread per task reuses
 * it instead of refaulting it); a heap no thread takes gives it back as a
 * living one would, by the other heaps' sweeps: its free pools' pages
 * after purge_ms, its wholly free arenas after HB_DECAY_MS. */
static void test_abandoned_heap_swept(void **state)
{
    (void)state;
    void *s;
    /* purge=200: long enough that no descheduling between the frees and
     * the detach makes a pool idle for it */
    assert_int_equal(A->init(&s, "purge=200"), 0);
    enum { N = 3000 };
    static void *v[N];
    bystander b;
    bystander_start(&b, s);
    for (int i = 0; i < N; i++)
        assert_non_null(v[i] = A->alloc(s, 256)); /* 63 a pool: 48 pools */
    /* Every block but the first pool's: the other pools are free and dirty,
     * their arena is not wholly free. */
    for (int i = 60; i < N; i++)
        A->free(s, v[i], 256);
    hb_alloc_stats mine = stats_of(s);
    A->thread_detach(s);
    hb_alloc_stats left = stats_of(s);
    /* Nothing was idle long enough: all kept for a successor. */
    assert_int_equal(left.os_bytes, mine.os_bytes);
    assert_int_equal(left.released_bytes, mine.released_bytes);
    sleep_ms(250);
    bystander_grow(&b);
    hb_alloc_stats swept = stats_of(s);
    /* The free pools' pages went back, all but each one's header page. */
    uint64_t gone = swept.released_bytes - left.released_bytes;
    assert_true(gone >= 40 * (POOL_BYTES - 4096));
    assert_int_equal(swept.os_bytes + gone, left.os_bytes);
    for (int i = 0; i < 60; i++)
        A->free(s, v[i], 256);
    bystander_stop(&b);
    A->destroy(s);
}

/* Threads that each fill and empty a heap of their own, all alive at
 * once, then leave one after the other. */
enum { WARM_T = 7, WARM_N = 3000 };
typedef struct warm_job {
    void *s;
    pthread_barrier_t *all_in;
    _Atomic int *turn;
    int id, err;
} warm_job;

static void *warm_thread(void *arg)
{
    warm_job *j = arg;
    static _Thread_local void *v[WARM_N];
    for (int i = 0; i < WARM_N; i++)
        if (!(v[i] = A->alloc(j->s, 256))) /* 48 pools: one arena */
            j->err = 1;
    for (int i = 0; i < WARM_N; i++)
        A->free(j->s, v[i], 256);
    pthread_barrier_wait(j->all_in); /* every heap in use at once */
    while (atomic_load(j->turn) != j->id)
        sched_yield();
    return NULL; /* the key destructor leaves the heap */
}

/* The os bytes of an instance whose WARM_T threads have each left a heap
 * holding a wholly free arena. */
static uint64_t warm_left_os(const char *options)
{
    void *s;
    assert_int_equal(A->init(&s, options), 0);
    pthread_barrier_t all_in;
    pthread_barrier_init(&all_in, NULL, WARM_T);
    _Atomic int turn = -1;
    warm_job j[WARM_T];
    pthread_t t[WARM_T];
    for (int i = 0; i < WARM_T; i++) {
        j[i] = (warm_job){.s = s, .all_in = &all_in, .turn = &turn, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, warm_thread, &j[i]), 0);
    }
    for (int i = 0; i < WARM_T; i++) {
        atomic_store(&turn, i);
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(j[i].err, 0);
    }
    pthread_barrier_destroy(&all_in);
    hb_alloc_stats st = stats_of(s);
    assert_int_equal(st.live_bytes, 0);
    A->destroy(s);
    return st.os_bytes;
}

/* Only the top warm=N heaps of the abandoned stack keep their memory for
 * the next threads; a heap pushed below them gives its free memory back
 * at once (its wholly free arena unmapped), where it used to wait for
 * purge_ms and HB_DECAY_MS, and was often taken again before. purge and
 * the arena decay are far longer than the test: what goes back is the
 * trim's. */
static void test_warm_heaps(void **state)
{
    (void)state;
    assert_int_equal(warm_left_os("purge=100000,warm=100"), WARM_T * MIB);
    assert_int_equal(warm_left_os("purge=100000,warm=2"), 2 * MIB);
    assert_int_equal(warm_left_os("purge=100000"), 5 * MIB); /* WARM_HEAPS */
}

/* A thread frees the owner's blocks and stays alive. */
typedef struct idle_job {
    void *s;
    void **own, **theirs;
    size_t nown, ntheirs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int freed, finish, err;
} idle_job;

static void *alloc_free_wait(void *arg)
{
    idle_job *j = arg;
    for (size_t i = 0; i < j->ntheirs; i++)
        if (!(j->theirs[i] = A->alloc(j->s, 64)))
            j->err = 1;
    for (size_t i = 0; i < j->nown; i++)
        A->free(j->s, j->own[i], 8192);
    pthread_mutex_lock(&j->mu);
    j->freed = 1;
    pthread_cond_broadcast(&j->cv);
    while (!j->finish)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* A thread that has stopped allocating (done with its share, waiting for
 * the others, as mixed_remote's first thread to finish) still gets its
 * memory back: while it frees other threads' blocks, each spill of its
 * foreign cache also drains its own remote list and purges its idle pools.
 * Before, its blocks freed by others stayed on its remote list, counted
 * live, their pools' pages held, until its next allocation slow path. */
static void test_idle_owner_takes_back(void **state)
{
    (void)state;
    void *s;
    assert_int_equal(A->init(&s, "purge=20"), 0);
    /* 120 blocks of 8 KiB for the other thread to free: under the 1 MiB
     * past which it would keep them (test_idle_heap_blocks_kept). */
    enum { N = 121, SZ = 8192, M = 400 };
    static void *own[N], *theirs[M];
    for (int i = 0; i < N; i++) {
        assert_non_null(own[i] = A->alloc(s, SZ));
        memset(own[i], 0xab, SZ);
    }
    idle_job j = {.s = s, .own = own + 1, .theirs = theirs, .nown = N - 1, .ntheirs = M};
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, alloc_free_wait, &j), 0);
    pthread_mutex_lock(&j.mu);
    while (!j.freed)
        pthread_cond_wait(&j.cv, &j.mu);
    pthread_mutex_unlock(&j.mu);
    assert_int_equal(j.err, 0);
    hb_alloc_stats before = stats_of(s);
    /* This thread only frees from now on: half the other's blocks, a pause
     * longer than purge=20, the other half. */
    for (int i = 0; i < M / 2; i++)
        A->free(s, theirs[i], 64);
    sleep_ms(60);
    for (int i = M / 2; i < M; i++)
        A->free(s, theirs[i], 64);
    hb_alloc_stats after = stats_of(s);
    /* 120 blocks of 8 KiB, 15 medium pools: all but the one of own[0] (and
     * those on the other thread's foreign cache) purged. */
    uint64_t gone = after.released_bytes - before.released_bytes;
    assert_true(gone >= 12 * 65536);
    assert_true(after.os_bytes + gone <= before.os_bytes);
    pthread_mutex_lock(&j.mu);
    j.finish = 1;
    pthread_cond_broadcast(&j.cv);
    pthread_mutex_unlock(&j.mu);
    assert_int_equal(pthread_join(t, NULL), 0);
    A->free(s, own[0], SZ);
    A->destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_remote_frees_reclaimed), TF(test_foreign_cache), TF(test_foreign_cache_first_free),
        T(test_idle_heap_blocks_kept), T(test_lifo),
        T(test_exited_thread_blocks), T(test_abandoned_heap_swept), T(test_idle_owner_takes_back),
        T(test_successor_takes_heap), T(test_warm_heaps), T(test_idle_owner_helped), T(test_first_free_takes_heap),
        T(test_emptied_heap_trimmed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
