/* spans.c -- a set of free address spans, by address and by size (see
 * spans.h). */
#include "spans.h"

#include <string.h>

#define HASH_MASK (HB_SPANS_HASH - 1)

_Static_assert(HB_SPANS_MAX < 65535, "indexes + 1 fit in 16 bits");
_Static_assert(HB_SPANS_HASH >= 2 * HB_SPANS_MAX, "the address tables stay half empty");
_Static_assert((HB_SPANS_HASH & HASH_MASK) == 0 && HB_SPANS_BINS % 64 == 0, "sizes");

/* Bins by size in 4 KiB units s: one per s below 8, then eight to each
 * power of two; a bin's spans differ by under an eighth. (With larger
 * pages the units only sort; spans stay whole pages.) */
static unsigned bin_of(size_t size)
{
    size_t s = size >> 12;
    if (s < 8)
        return (unsigned)s;
    unsigned l = 63 - (unsigned)__builtin_clzll((unsigned long long)s);
    return 8 * (l - 2) + (unsigned)((s >> (l - 3)) & 7);
}

_Static_assert(8 * (63 - 12 - 2) + 7 < HB_SPANS_BINS, "every size has a bin");

void hb_spans_init(hb_spans *S)
{
    memset(S, 0, sizeof *S);
}

/* ---- the address tables: linear probing, deletion by backward shift ---- */

static unsigned hash(const char *a)
{
    return (unsigned)(((uint64_t)(uintptr_t)a >> 12) * 0x9E3779B97F4A7C15ULL >> (64 - 11)) & HASH_MASK;
}

_Static_assert(HB_SPANS_HASH == 1 << 11, "hash() makes 11 bits");

static char *key_of(const hb_spans *S, int end, unsigned i)
{
    return end ? S->base[i] + S->size[i] : S->base[i];
}

/* The span (index + 1) starting at `key`, or with `end` ending there; 0. */
static unsigned find(const hb_spans *S, int end, const char *key)
{
    const uint16_t *t = end ? S->by_end : S->by_base;
    for (unsigned h = hash(key);; h = (h + 1) & HASH_MASK) {
        unsigned v = t[h];
        if (!v || key_of(S, end, v - 1) == key)
            return v;
    }
}

static void hash_add(hb_spans *S, int end, unsigned i)
{
    uint16_t *t = end ? S->by_end : S->by_base;
    unsigned h = hash(key_of(S, end, i));
    while (t[h])
        h = (h + 1) & HASH_MASK;
    t[h] = (uint16_t)(i + 1);
}

/* Span i's entry goes (its key as it was added); the entries after it in
 * its run move back over the hole unless their own hash lies past it, so
 * every lookup still meets its entry before an empty slot. */
static void hash_del(hb_spans *S, int end, unsigned i)
{
    uint16_t *t = end ? S->by_end : S->by_base;
    unsigned h = hash(key_of(S, end, i));
    while (t[h] != i + 1)
        h = (h + 1) & HASH_MASK;
    for (unsigned j = h;;) {
        t[h] = 0;
        for (;;) {
            j = (j + 1) & HASH_MASK;
            if (!t[j])
                return;
            unsigned k = hash(key_of(S, end, t[j] - 1u));
            /* stays when its home k is cyclically in (h, j] */
            if (h <= j ? (h < k && k <= j) : (h < k || k <= j))
                continue;
            break;
        }
        t[h] = t[j];
        h = j;
    }
}

/* ---- the bins: a list each, the last put first ---- */

static void bin_add(hb_spans *S, unsigned i)
{
    unsigned b = bin_of(S->size[i]);
    S->bin[i] = (uint16_t)b;
    S->prev[i] = 0;
    S->next[i] = S->head[b];
    if (S->head[b])
        S->prev[S->head[b] - 1] = (uint16_t)(i + 1);
    S->head[b] = (uint16_t)(i + 1);
    S->nonempty[b / 64] |= 1ULL << (b % 64);
}

static void bin_del(hb_spans *S, unsigned i)
{
    unsigned b = S->bin[i];
    if (S->prev[i])
        S->next[S->prev[i] - 1] = S->next[i];
    else
        S->head[b] = S->next[i];
    if (S->next[i])
        S->prev[S->next[i] - 1] = S->prev[i];
    if (!S->head[b])
        S->nonempty[b / 64] &= ~(1ULL << (b % 64));
}

/* The first bin at or after b holding a span; HB_SPANS_BINS when none. */
static unsigned bin_next(const hb_spans *S, unsigned b)
{
    for (unsigned w = b / 64; w < HB_SPANS_BINS / 64; w++) {
        uint64_t m = S->nonempty[w];
        if (w == b / 64)
            m &= ~0ULL << (b % 64);
        if (m)
            return w * 64 + (unsigned)__builtin_ctzll(m);
    }
    return HB_SPANS_BINS;
}

/* Bin b's smallest span of at least `need` bytes (index + 1; 0 none); of
 * equal sizes the first in the list, the last put. */
static unsigned bin_best(const hb_spans *S, unsigned b, size_t need)
{
    unsigned best = 0;
    size_t best_size = SIZE_MAX;
    for (unsigned v = S->head[b]; v; v = S->next[v - 1]) {
        size_t s = S->size[v - 1];
        if (s >= need && s < best_size) {
            best = v;
            best_size = s;
            if (s == need)
                break;
        }
    }
    return best;
}

/* ---- the set ---- */

void hb_spans_remove(hb_spans *S, unsigned i)
{
    hash_del(S, 0, i);
    hash_del(S, 1, i);
    bin_del(S, i);
    S->bytes -= S->size[i];
    S->size[i] = 0;
    S->n--;
    S->unused[S->nunused++] = (uint16_t)i;
}

int hb_spans_put(hb_spans *S, char **base, size_t *size, uint64_t now)
{
    char *lo = *base, *hi = *base + *size;
    unsigned v = find(S, 1, lo);
    if (v) {
        lo = S->base[v - 1];
        hb_spans_remove(S, v - 1);
    }
    v = find(S, 0, hi);
    if (v) {
        hi += S->size[v - 1];
        hb_spans_remove(S, v - 1);
    }
    *base = lo;
    *size = (size_t)(hi - lo);
    if (S->n == HB_SPANS_MAX)
        return -1;
    unsigned i = S->nunused ? S->unused[--S->nunused] : S->fresh++;
    S->n++;
    S->base[i] = lo;
    S->size[i] = (size_t)(hi - lo);
    S->idle_ms[i] = now;
    S->bytes += S->size[i];
    hash_add(S, 0, i);
    hash_add(S, 1, i);
    bin_add(S, i);
    return 0;
}

/* Span i's head of up to `want` bytes; the rest stays, re-filed by its
 * new start and size. */
static char *split(hb_spans *S, unsigned i, size_t want, size_t *got)
{
    char *base = S->base[i];
    if (S->size[i] <= want) {
        *got = S->size[i];
        hb_spans_remove(S, i);
        return base;
    }
    hash_del(S, 0, i);
    S->base[i] += want;
    S->size[i] -= want;
    S->bytes -= want;
    hash_add(S, 0, i);
    if (bin_of(S->size[i]) != S->bin[i]) {
        bin_del(S, i);
        bin_add(S, i);
    }
    *got = want;
    return base;
}

char *hb_spans_take(hb_spans *S, size_t need, size_t want, size_t *got)
{
    unsigned b = bin_of(need);
    unsigned v = bin_best(S, b, need);
    if (!v) {
        /* every span of a later bin fits */
        unsigned c = bin_next(S, b + 1);
        if (c == HB_SPANS_BINS)
            return NULL;
        v = bin_best(S, c, need);
    }
    return split(S, v - 1, want, got);
}

char *hb_spans_take_at(hb_spans *S, char *at, size_t need, size_t want, size_t *got)
{
    unsigned v = find(S, 0, at);
    if (!v || S->size[v - 1] < need)
        return NULL;
    return split(S, v - 1, want, got);
}

char *hb_spans_take_largest(hb_spans *S, size_t *size)
{
    for (unsigned w = HB_SPANS_BINS / 64; w-- > 0;) {
        if (!S->nonempty[w])
            continue;
        unsigned b = w * 64 + 63 - (unsigned)__builtin_clzll(S->nonempty[w]);
        unsigned best = S->head[b];
        for (unsigned v = best; v; v = S->next[v - 1])
            if (S->size[v - 1] > S->size[best - 1])
                best = v;
        char *base = S->base[best - 1];
        *size = S->size[best - 1];
        hb_spans_remove(S, best - 1);
        return base;
    }
    return NULL;
}
