/* latency.c -- see latency.h. */
#include "latency.h"

#include <math.h>
#include <string.h>

unsigned hb_hist_index(uint64_t v)
{
    if (v < (1u << HB_HIST_SIG))
        return (unsigned)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - (HB_HIST_SIG - 1);
    unsigned sub = (unsigned)(v >> shift) - (1u << (HB_HIST_SIG - 1));
    return (1u << HB_HIST_SIG) + (unsigned)(msb - HB_HIST_SIG) * (1u << (HB_HIST_SIG - 1)) + sub;
}

void hb_hist_bounds(unsigned idx, uint64_t *lo, uint64_t *hi)
{
    if (idx < (1u << HB_HIST_SIG)) {
        *lo = *hi = idx;
        return;
    }
    unsigned k = idx - (1u << HB_HIST_SIG);
    int msb = (int)(k / (1u << (HB_HIST_SIG - 1))) + HB_HIST_SIG;
    uint64_t sub = k % (1u << (HB_HIST_SIG - 1)) + (1u << (HB_HIST_SIG - 1));
    int shift = msb - (HB_HIST_SIG - 1);
    *lo = sub << shift;
    *hi = ((sub + 1) << shift) - 1;
}

void hb_hist_add(hb_hist *h, uint64_t v)
{
    h->bucket[hb_hist_index(v)]++;
    h->count++;
    if (v > h->max)
        h->max = v;
}

void hb_hist_merge(hb_hist *into, const hb_hist *from)
{
    for (unsigned i = 0; i < HB_HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t hb_hist_percentile(const hb_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    /* ceil(p/100 * count); the epsilon keeps 99.9% of 1000 at rank 999 */
    uint64_t rank = (uint64_t)ceil(p * (double)h->count / 100.0 - 1e-9);
    if (rank < 1)
        rank = 1;
    if (rank >= h->count)
        return h->max;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HB_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            hb_hist_bounds(i, &lo, &hi);
            uint64_t mid = lo + (hi - lo) / 2;
            return mid > h->max ? h->max : mid;
        }
    }
    return h->max;
}

static uint32_t next_gap(hb_lat *l)
{
    /* uniform in [1, 2*every - 1]: mean `every`, never periodic */
    uint64_t x = (l->rng += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return l->every <= 1 ? 1 : 1 + (uint32_t)(x % (2u * l->every - 1));
}

static void lat_record(hb_lat *l, uint64_t ns)
{
    hb_hist_add(l->hist, ns);
    l->t0 = 0;
    l->countdown = next_gap(l);
}

void hb_lat_init(hb_lat *l, hb_hist *hist, uint32_t every, uint64_t seed)
{
    memset(l, 0, sizeof *l);
    l->hist = every ? hist : NULL;
    l->every = l->hist ? every : 0;
    l->rng = seed;
    l->countdown = l->hist ? next_gap(l) : UINT32_MAX;
}

void hb_lat_start(hb_lat *l)
{
    if (!l->hist) {
        l->countdown = UINT32_MAX; /* off: come back in 2^32 operations */
        return;
    }
    l->t0 = hb_clock_ns();
}

void hb_lat_stop(hb_lat *l)
{
    lat_record(l, hb_clock_ns() - l->t0);
}

