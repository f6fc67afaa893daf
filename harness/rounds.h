/* rounds.h -- `run --max-reps M`: more repetitions where the medians are
 * not yet known well enough to compare.
 *
 * Five repetitions are the suite's default and the fewest with a 95%
 * interval, but on a shared machine a cell whose five runs spread by 30%
 * has a median that a single unlucky run moves by 10%: enough to flag a
 * backend over a 1.10 limit it is within. After its `--reps` rounds the
 * runner asks, row by row, whether each backend's median is known within
 * --narrow percent -- the half-width of the median's distribution-free 95%
 * interval (hb_stats_median_interval) over the median -- and runs another
 * round of the rows where one is not, every backend of the row together
 * (interleaved, so they stay comparable pair by pair), until each is
 * narrow or has M repetitions. A quiet row costs nothing more; a noisy one
 * gets the repetitions that pin its median down. The rule is the same for
 * every backend. */
#ifndef HB_ROUNDS_H
#define HB_ROUNDS_H

#include <stddef.h>

/* The interval's half-width over the median, as a percentage, of n values
 * (ops/s or seconds: the same either way up to the interval's asymmetry);
 * 0 for n < 2 (nothing to say), +inf when the median is not positive. */
double hb_rounds_width(const double *fig, size_t n);

/* One decision between rounds. Cells are numbered 0..ncells-1; group[c]
 * is cell c's row (cells that differ only in backend share it); fig[c]
 * its nfig[c] figures so far (ok repetitions); nrun[c] the repetitions it
 * has had, ok or not. A row is wide when one of its cells with figures
 * and fewer than max_reps repetitions is wider than `narrow` percent.
 * Marks more[c] = 1 for each cell of a wide row that has figures and
 * fewer than max_reps repetitions (a cell that was skipped or only failed
 * gets no more), 0 otherwise; returns how many it marked. */
size_t hb_rounds_next(size_t ncells, const size_t *group, const double *const *fig, const int *nfig,
                      const int *nrun, int max_reps, double narrow, unsigned char *more);

#endif
