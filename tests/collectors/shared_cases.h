/* shared_cases.h -- what the shared-heap tests have in common: the cases
 * they run (every collector named that is built, by 2, 4 and 8 threads,
 * with atomic and biased counts where there are counts to choose) and
 * their random numbers. */
#ifndef HB_TEST_SHARED_CASES_H
#define HB_TEST_SHARED_CASES_H

#include <stdint.h>
#include <string.h>

#include "collectors/collector.h"

/* splitmix64, reduced to 0..n-1 */
static inline uint64_t rnd(uint64_t *s, uint64_t n)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) % n;
}

/* "atomic" or "biased"; "-" for a backend without counts of its own */
static inline const char *shared_mode_name(const hb_collector *c, int mode)
{
    return c->own_stw ? "-" : mode ? "biased" : "atomic";
}

/* run(c, mode, threads) for each case of the collectors named (NULL-ended;
 * `only`, if not NULL, picks one); nonzero if any failed. boehm is left
 * out under TSan, which cannot follow the signals Boehm stops threads
 * with, and where it is not built; it has no counts, so one mode. */
static inline int shared_cases(const char *const *names, const char *only,
                               int (*run)(const hb_collector *c, int mode, int threads))
{
    static const int nthreads[] = {2, 4, 8};
    int bad = 0;
    for (; *names; names++) {
        const hb_collector *c = hb_collector_find(*names);
        if ((only && strcmp(only, *names)) || !c)
            continue;
#if HB_SANITIZER == 2
        if (c->own_stw)
            continue;
#endif
        for (int mode = 0; mode < (c->own_stw ? 1 : 2); mode++)
            for (int j = 0; j < 3; j++)
                bad |= run(c, mode, nthreads[j]);
    }
    return bad;
}

#endif
