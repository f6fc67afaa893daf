/* roles.h -- producers and consumers: who feeds whom, and how a thread
 * waits for another (xthread, handoff).
 *
 * With T threads there are P = T/2 producers and C = T - P consumers (C is
 * P or P + 1). Even tids below 2P are producers p = tid/2; odd tids are
 * consumers c = tid/2; with T odd the last tid is consumer P. Interleaving
 * the roles puts a producer next to each consumer when threads are pinned
 * in tid order. Consumer c is fed by producer c % P, so every consumer has
 * one producer and every producer at least one consumer (producer 0 has
 * two when T is odd); producer p deals item i to consumer
 * p + (i % k) * P, k = hb_fan_out(r, p): round robin.
 */
#ifndef HB_ROLES_H
#define HB_ROLES_H

#include <sched.h>
#include <stdint.h>

typedef struct hb_roles {
    int producers, consumers;
} hb_roles;

static inline hb_roles hb_roles_of(int threads)
{
    return (hb_roles){threads / 2, threads - threads / 2};
}

/* 1 if thread tid produces; *index is its producer or consumer number. */
static inline int hb_role(hb_roles r, int tid, int *index)
{
    *index = tid / 2;
    return tid < 2 * r.producers && tid % 2 == 0;
}

/* Consumers fed by producer p: p, p + P, p + 2P, ... below C. */
static inline uint64_t hb_fan_out(hb_roles r, int p)
{
    return (uint64_t)((r.consumers - 1 - p) / r.producers + 1);
}

/* Items consumer c receives when every producer makes `items`: its
 * producer's items j, j + k, j + 2k, ... (j = c / P, its place among the
 * k consumers of that producer). */
static inline uint64_t hb_owed(hb_roles r, uint64_t items, int c)
{
    uint64_t k = hb_fan_out(r, c % r.producers), j = (uint64_t)(c / r.producers);
    return items / k + (j < items % k);
}

/* One round of waiting for another thread: a pause, and every 64th time
 * the core (cells may run more threads than cores). */
static inline void hb_relax(unsigned *spins)
{
    if (++*spins % 64 == 0) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
