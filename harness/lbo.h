/* lbo.h -- lower-bound overhead (LBO) of each collector setting, after Cai,
 * Blackburn, Bond and Maas, "Distilling the real cost of production garbage
 * collectors" (ISPASS 2022).
 *
 * A benchmark is a workload at one size, thread count and heap mode (and
 * its own parameters, if set); a setting is an allocator+collector with its
 * collector knobs (heap_factor, heap_kb, threshold, grow_pct, ...). For each
 * setting s of a benchmark, over its ok rows:
 *   cost(s) = median of the wall time (wall_s)
 *   net(s)  = median of the wall time minus the GC time (pause_total_ms),
 *             the cost with the collector's own pauses taken out
 * Wall time only: GC time is measured in wall time, and subtracting it from
 * CPU time (user_s + sys_s) is meaningless on a loaded machine, where a
 * pause during which the process was descheduled counts in full (measured:
 * a CPU "base" of 0.9 ms, under a 0.1 s run, at a load of 9 on 2 cores).
 * The ideal collector costs nothing, and no real mutator runs faster than
 * the fastest net cost seen, so
 *   base    = min over every setting of the benchmark of net(s)
 * is a lower bound of the mutator's cost alone, and
 *   LBO(s)  = cost(s) / base >= 1
 * bounds the collector's overhead from below: cost(s) - base is at least
 * what the collector costs (refcounting's work hides in the mutator's time,
 * where no pause shows it: it is in cost, never in the base unless it is
 * the cheapest). Functions return 0 or an errno value (EINVAL with one line
 * in why). */
#ifndef HB_LBO_H
#define HB_LBO_H

#include <stddef.h>
#include <stdio.h>

#include "cellset.h"
#include "tables.h"

typedef struct hb_lbo_cell {
    size_t bench, setting;  /* indices into the names below */
    double cost, net;       /* seconds: medians over the ok rows */
    size_t n;               /* ok rows with the figures */
} hb_lbo_cell;

typedef struct hb_lbo {
    char **bench, **setting; /* in natural order (numbers by value: heap_factor=1.25 before 1.5) */
    size_t nbench, nsetting;
    double *base;           /* per benchmark: min net, NaN when it has no cell */
    size_t *base_of;        /* per benchmark: the setting that gave it */
    hb_lbo_cell *c;
    size_t nc;
} hb_lbo;

int hb_lbo_compute(const hb_cellset *s, hb_lbo *out, char *why, size_t len);
/* LBO of (bench, setting), NaN when the setting did not run it. */
double hb_lbo_value(const hb_lbo *t, size_t bench, size_t setting);
/* The geometric mean of a setting's LBO over the benchmarks it ran; NaN
 * when none. */
double hb_lbo_geomean(const hb_lbo *t, size_t setting);
/* A table: a row per setting, a column per benchmark and the geomean;
 * csv: one line per (benchmark, setting) with cost, net, base and LBO. */
void hb_lbo_print(const hb_lbo *t, hb_format fmt, FILE *f);
void hb_lbo_free(hb_lbo *t);

#endif
