/* stats.h -- the statistics behind `heapbench compare` and `regress`.
 *
 * Benchmark times are few (a handful of repetitions a cell), skewed (a run
 * can only be slowed down, never sped up, by a noisy neighbour) and sometimes
 * bimodal, so everything here is rank-based and assumes no distribution:
 * medians, the Mann-Whitney U test, and the Hodges-Lehmann interval that
 * inverts it. A ratio B/A is handled as a shift of log(B) against log(A), so
 * its interval is multiplicative and symmetric in which side is called A.
 *
 * Functions return 0 or an errno value (EINVAL: too few values, a value that
 * is not finite or, for ratios, not positive; ENOMEM); results go through
 * pointers and are left untouched on failure. No function keeps state. */
#ifndef HB_STATS_H
#define HB_STATS_H

#include <stddef.h>

/* Median of n >= 1 values; `x` is not modified. */
int hb_stats_median(const double *x, size_t n, double *out);
/* The median's distribution-free interval: the order statistics x_(k) and
 * x_(n+1-k) (1-based) with k the largest such that P(Bin(n, 1/2) < k) <=
 * (1 - conf) / 2, so the interval covers the true median with probability
 * at least conf; k = 1 (the range) when even that falls short (n <= 5 at
 * 95%: the range covers 94% there). n >= 1; `x` is not modified. The k
 * used goes to *k when k is not NULL. */
int hb_stats_median_interval(const double *x, size_t n, double conf, double *lo, double *hi, size_t *k);
/* Coefficient of variation: sample standard deviation / mean, n >= 2, mean > 0. */
int hb_stats_cv(const double *x, size_t n, double *out);
/* Robust coefficient of variation: 1.4826 * MAD / median (the normalised
 * median absolute deviation, which estimates the standard deviation of a
 * normal sample, over the median), n >= 2, median > 0. One repetition slowed
 * threefold by a neighbour moves it little; it moves hb_stats_cv a lot. */
int hb_stats_robust_cv(const double *x, size_t n, double *out);
/* exp(mean(log x)) of n >= 1 positive values. */
int hb_stats_geomean(const double *x, size_t n, double *out);

/* Which way the test looks. GREATER: B tends to be larger than A. */
typedef enum { HB_TWO_SIDED, HB_GREATER, HB_LESS } hb_alternative;

typedef struct hb_mwu {
    double u;  /* pairs (a, b) with b > a, ties counting one half */
    double p;
    int exact; /* 1: the exact null distribution (no ties, na + nb <= 50); 0: normal approximation */
} hb_mwu;

/* Mann-Whitney U test of A against B, na, nb >= 1. Exact without ties for
 * small samples; otherwise the normal approximation with the tie correction
 * of the variance and a continuity correction. All values tied: p = 1. */
int hb_stats_mwu(const double *a, size_t na, const double *b, size_t nb, hb_alternative alt,
                 hb_mwu *out);
/* The smallest p the test can give for these sample sizes (no ties): what a
 * Holm correction over k tests must be able to beat (below 0.05 / k). */
double hb_stats_mwu_min_p(size_t na, size_t nb, hb_alternative alt);

/* Hodges-Lehmann estimate of the ratio B/A (exp of the median of the na*nb
 * differences log b - log a) and its two-sided `conf` interval (the order
 * statistics of those differences that the U test's critical value picks).
 * When the samples are too small for any interval at that confidence (e.g.
 * 2 against 2 at 95%), *lo = 0 and *hi = +inf: nothing is excluded. */
int hb_stats_hl_ratio(const double *a, size_t na, const double *b, size_t nb, double conf,
                      double *est, double *lo, double *hi);

/* ---- paired samples: n pairs (a_i, b_i) measured side by side (regress's
 * duet and interleaved pairs), the statistic on d_i = log(b_i / a_i) */

typedef struct hb_wsr {
    double w;  /* W+: the sum of the ranks of |d_i| over the positive d_i (midranks) */
    double p;
    size_t n;  /* the nonzero differences ranked (zeros are dropped, Wilcoxon's rule) */
    int exact; /* 1: the exact null distribution (no ties, n <= 50); 0: normal approximation */
} hb_wsr;

/* Wilcoxon's signed-rank test of n >= 1 differences d against a shift of 0.
 * GREATER: the d tend to be positive. Exact without ties for n <= 50;
 * otherwise normal with the tie correction of the variance and a continuity
 * correction. Every difference zero: p = 1. */
int hb_stats_signed_rank(const double *d, size_t n, hb_alternative alt, hb_wsr *out);
/* The smallest p the test can give for n differences (all of one sign, no
 * ties): 1 / 2^n, doubled two-sided. As hb_stats_mwu_min_p, for Holm. */
double hb_stats_signed_rank_min_p(size_t n, hb_alternative alt);
/* Paired ratio B/A: exp of the Hodges-Lehmann one-sample estimate of the
 * d_i = log(b_i / a_i) (the median of the n(n+1)/2 Walsh averages) and its
 * two-sided `conf` interval, the Walsh averages that the signed-rank test's
 * critical value picks. Too few pairs for any interval: *lo = 0, *hi = +inf. */
int hb_stats_paired_ratio(const double *a, const double *b, size_t n, double conf, double *est, double *lo,
                          double *hi);

/* Holm's step-down adjustment of n p-values: adj[i] is p[i]'s adjusted value
 * (compare it with the family's alpha). adj may be p. */
int hb_stats_holm(const double *p, size_t n, double *adj);

#endif
