/* stats.c -- medians, the Mann-Whitney U test, Hodges-Lehmann intervals of a
 * ratio, Holm's correction, geometric means. Why these: see stats.h. */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The exact null distribution of U is kept for na + nb <= 50: its counts
 * are then at most C(50, 25) ~ 1.3e14, integers a double holds exactly, so
 * tail sums of a few arrangements out of 1e14 are not lost to rounding.
 * Beyond that the normal approximation is good to the third decimal. */
#define EXACT_MAX_N 50

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static int all_positive(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(x[i] > 0) || !isfinite(x[i]))
            return 0;
    return 1;
}

/* Median of a sorted array. */
static double sorted_median(const double *s, size_t n)
{
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* A sorted copy of x (malloc'd), or NULL when out of memory. */
static double *sorted_copy(const double *x, size_t n)
{
    double *s = malloc(n * sizeof *s);
    if (s) {
        memcpy(s, x, n * sizeof *s);
        qsort(s, n, sizeof *s, cmp_double);
    }
    return s;
}

int hb_stats_median(const double *x, size_t n, double *out)
{
    if (n == 0 || !all_finite(x, n))
        return EINVAL;
    double *s = sorted_copy(x, n);
    if (!s)
        return ENOMEM;
    *out = sorted_median(s, n);
    free(s);
    return 0;
}

/* k of the median's interval: the largest k with P(Bin(n, 1/2) <= k - 1)
 * <= alpha / 2, at least 1. The binomial's terms are summed as doubles
 * scaled by 2^-n term by term, which stays exact enough for any n. */
static size_t median_interval_k(size_t n, double conf)
{
    double tail = 0, term = pow(0.5, (double)n); /* P(Bin = 0) */
    size_t k = 1;
    for (size_t j = 0; j < n / 2; j++) {
        tail += term; /* P(Bin <= j) */
        if (tail > (1 - conf) / 2)
            break;
        k = j + 1;
        term *= (double)(n - j) / (double)(j + 1);
    }
    return k;
}

int hb_stats_median_interval(const double *x, size_t n, double conf, double *lo, double *hi, size_t *k)
{
    if (n == 0 || !all_finite(x, n) || !(conf > 0 && conf < 1))
        return EINVAL;
    double *s = sorted_copy(x, n);
    if (!s)
        return ENOMEM;
    size_t kk = median_interval_k(n, conf);
    *lo = s[kk - 1];
    *hi = s[n - kk];
    if (k)
        *k = kk;
    free(s);
    return 0;
}

int hb_stats_cv(const double *x, size_t n, double *out)
{
    if (n < 2 || !all_finite(x, n))
        return EINVAL;
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    if (!(mean > 0))
        return EINVAL;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    *out = sqrt(ss / (double)(n - 1)) / mean;
    return 0;
}

int hb_stats_robust_cv(const double *x, size_t n, double *out)
{
    if (n < 2 || !all_finite(x, n))
        return EINVAL;
    double *d = sorted_copy(x, n);
    if (!d)
        return ENOMEM;
    double med = sorted_median(d, n);
    if (!(med > 0)) {
        free(d);
        return EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        d[i] = fabs(x[i] - med);
    qsort(d, n, sizeof *d, cmp_double);
    *out = 1.482602218505602 * sorted_median(d, n) / med;
    free(d);
    return 0;
}

int hb_stats_geomean(const double *x, size_t n, double *out)
{
    if (n == 0 || !all_positive(x, n))
        return EINVAL;
    double acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += log(x[i]);
    *out = exp(acc / (double)n);
    return 0;
}

/* ---- the null distribution of U */

/* counts[u] = number of the C(m+n, m) orderings of m A's and n B's in which
 * exactly u pairs have the B above the A, u = 0..m*n. These are the
 * coefficients of the Gaussian binomial [m+n choose n](q), built as
 * prod_{i=1..n} (1 - q^(m+i)) / (1 - q^i): after step i the array holds
 * [m+i choose i], integer at every step, so nothing is rounded. */
static double *u_counts(size_t m, size_t n)
{
    size_t top = m * n;
    double *c = calloc(top + 1, sizeof *c);
    if (!c)
        return NULL;
    c[0] = 1;
    for (size_t i = 1; i <= n; i++) {
        size_t k = m + i;
        for (size_t u = top; u >= k; u--) /* times (1 - q^k) */
            c[u] -= c[u - k];
        for (size_t u = i; u <= top; u++) /* divided by (1 - q^i) */
            c[u] += c[u - i];
    }
    return c;
}

static double normal_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* z with normal_cdf(z) = p, 0 < p < 1, by bisection: called a few times a
 * table, so simplicity beats a rational approximation. */
static double normal_quantile(double p)
{
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; i++) {
        double mid = (lo + hi) / 2;
        if (normal_cdf(mid) < p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

/* The p-value of `alt` from the two one-sided tails. */
static double sided_p(double p_le, double p_ge, hb_alternative alt)
{
    return alt == HB_GREATER ? p_ge : alt == HB_LESS ? p_le : fmin(1.0, 2 * fmin(p_le, p_ge));
}

/* Exact: c[k] counts the arrangements whose statistic is k (0..top); the
 * tails at the observed statistic `stat`. */
static double exact_p(const double *c, size_t top, double stat, hb_alternative alt)
{
    size_t si = (size_t)llround(stat);
    double total = 0, le = 0, ge = 0;
    for (size_t k = 0; k <= top; k++) {
        total += c[k];
        if (k <= si)
            le += c[k];
        if (k >= si)
            ge += c[k];
    }
    return sided_p(le / total, ge / total, alt);
}

/* Normal approximation with continuity correction: x is the statistic
 * minus its mean under the null, var its variance (<= 0: every value tied,
 * no evidence either way). */
static double normal_p(double x, double var, hb_alternative alt)
{
    if (var <= 0)
        return 1;
    double sd = sqrt(var);
    return sided_p(normal_cdf((x + 0.5) / sd), 1 - normal_cdf((x - 0.5) / sd), alt);
}

/* A value to rank, and whether its rank counts in the sum (B's sample for
 * Mann-Whitney, a positive difference for the signed-rank test). */
typedef struct rank_item {
    double v;
    int marked;
} rank_item;

static int cmp_item(const void *a, const void *b)
{
    return cmp_double(&((const rank_item *)a)->v, &((const rank_item *)b)->v);
}

/* Sorts it[0..n) and returns the sum of the marked items' midranks (ties
 * share the mean of their ranks); *tie_term gets sum(t^3 - t) over groups
 * of t tied values, for the variance's tie correction. */
static double marked_rank_sum(rank_item *it, size_t n, double *tie_term)
{
    qsort(it, n, sizeof *it, cmp_item);
    double sum = 0;
    *tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && it[j].v == it[i].v)
            j++;
        double mid = (double)(i + 1 + j) / 2, t = (double)(j - i);
        for (size_t k = i; k < j; k++)
            if (it[k].marked)
                sum += mid;
        *tie_term += t * t * t - t;
        i = j;
    }
    return sum;
}

int hb_stats_mwu(const double *a, size_t na, const double *b, size_t nb, hb_alternative alt,
                 hb_mwu *out)
{
    if (na == 0 || nb == 0 || !all_finite(a, na) || !all_finite(b, nb))
        return EINVAL;
    size_t n = na + nb;
    rank_item *it = malloc(n * sizeof *it);
    if (!it)
        return ENOMEM;
    for (size_t i = 0; i < na; i++)
        it[i] = (rank_item){a[i], 0};
    for (size_t j = 0; j < nb; j++)
        it[na + j] = (rank_item){b[j], 1};
    /* Midranks; U_B = (rank sum of B) - nb(nb+1)/2 counts the pairs with
     * b > a, ties one half. */
    double tie_term, rank_b = marked_rank_sum(it, n, &tie_term);
    int ties = tie_term > 0;
    free(it);
    double u = rank_b - (double)nb * (double)(nb + 1) / 2, mn = (double)na * (double)nb;
    hb_mwu r = {.u = u};
    if (!ties && n <= EXACT_MAX_N) {
        double *c = u_counts(na, nb);
        if (!c)
            return ENOMEM;
        r.exact = 1;
        r.p = exact_p(c, na * nb, u, alt);
        free(c);
    } else {
        double var = mn / 12.0 * ((double)(n + 1) - tie_term / ((double)n * (double)(n - 1)));
        r.p = normal_p(u - mn / 2, var, alt);
    }
    *out = r;
    return 0;
}

double hb_stats_signed_rank_min_p(size_t n, hb_alternative alt)
{
    double p = ldexp(1.0, -(int)n);
    return alt == HB_TWO_SIDED ? fmin(1.0, 2 * p) : p;
}

double hb_stats_mwu_min_p(size_t na, size_t nb, hb_alternative alt)
{
    /* The most extreme ordering is 1 of C(na+nb, na); two-sided doubles it. */
    double ways = 1;
    for (size_t i = 1; i <= nb; i++)
        ways = ways * (double)(na + i) / (double)i;
    double p = 1 / ways;
    return alt == HB_TWO_SIDED ? fmin(1.0, 2 * p) : p;
}

/* Largest c with P(U <= c) <= tail under the null, or -1 when even U = 0 is
 * more likely than that. */
static int critical_u(size_t m, size_t n, double tail, long *c_out)
{
    if (m + n <= EXACT_MAX_N) {
        double *c = u_counts(m, n);
        if (!c)
            return ENOMEM;
        double total = 0, acc = 0;
        for (size_t k = 0; k <= m * n; k++)
            total += c[k];
        long crit = -1;
        for (size_t k = 0; k <= m * n; k++) {
            acc += c[k];
            if (acc / total > tail)
                break;
            crit = (long)k;
        }
        free(c);
        *c_out = crit;
        return 0;
    }
    double mn = (double)m * (double)n, sd = sqrt(mn * (double)(m + n + 1) / 12.0);
    double c = floor(mn / 2 + normal_quantile(tail) * sd - 0.5);
    *c_out = c < 0 ? -1 : (long)c;
    return 0;
}

int hb_stats_hl_ratio(const double *a, size_t na, const double *b, size_t nb, double conf,
                      double *est, double *lo, double *hi)
{
    if (na == 0 || nb == 0 || !(conf > 0 && conf < 1) || !all_positive(a, na) || !all_positive(b, nb))
        return EINVAL;
    size_t nd = na * nb;
    double *d = malloc(nd * sizeof *d);
    if (!d)
        return ENOMEM;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            d[i * nb + j] = log(b[j]) - log(a[i]);
    qsort(d, nd, sizeof *d, cmp_double);
    long c;
    int err = critical_u(na, nb, (1 - conf) / 2, &c);
    if (!err) {
        *est = exp(sorted_median(d, nd));
        if (c < 0) {
            *lo = 0;
            *hi = INFINITY;
        } else {
            /* The interval is [d_(c+1), d_(nd-c)] in 1-based order statistics. */
            *lo = exp(d[c]);
            *hi = exp(d[nd - 1 - (size_t)c]);
        }
    }
    free(d);
    return err;
}

/* ---- paired samples */

/* counts[s] = the subsets of {1..n} whose sum is s, s = 0..n(n+1)/2: the
 * null distribution of W+ (each rank's sign a fair coin). At n = 50 the
 * total is 2^50, integers a double holds exactly. */
static double *w_counts(size_t n)
{
    size_t top = n * (n + 1) / 2;
    double *c = calloc(top + 1, sizeof *c);
    if (!c)
        return NULL;
    c[0] = 1;
    for (size_t r = 1; r <= n; r++)
        for (size_t s = top; s >= r; s--)
            c[s] += c[s - r];
    return c;
}

int hb_stats_signed_rank(const double *d, size_t n, hb_alternative alt, hb_wsr *out)
{
    if (n == 0 || !all_finite(d, n))
        return EINVAL;
    rank_item *it = malloc(n * sizeof *it); /* |d|, marked when d > 0 */
    if (!it)
        return ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0)
            it[m++] = (rank_item){fabs(d[i]), d[i] > 0};
    double tie_term, w = marked_rank_sum(it, m, &tie_term);
    int ties = tie_term > 0;
    free(it);
    hb_wsr r = {.w = w, .n = m, .p = 1};
    if (m == 0) {
        *out = r; /* every difference zero: no evidence either way */
        return 0;
    }
    if (!ties && m <= EXACT_MAX_N) {
        double *c = w_counts(m);
        if (!c)
            return ENOMEM;
        r.exact = 1;
        r.p = exact_p(c, m * (m + 1) / 2, w, alt);
        free(c);
    } else {
        double mn = (double)m * (double)(m + 1) / 4;
        double var = (double)m * (double)(m + 1) * (double)(2 * m + 1) / 24 - tie_term / 48;
        r.p = normal_p(w - mn, var, alt);
    }
    *out = r;
    return 0;
}

/* Largest c with P(W+ <= c) <= tail under the null for n differences, or
 * -1 when even W+ = 0 is more likely than that. */
static int critical_w(size_t n, double tail, long *c_out)
{
    if (n <= EXACT_MAX_N) {
        double *c = w_counts(n);
        if (!c)
            return ENOMEM;
        size_t top = n * (n + 1) / 2;
        double total = 0, acc = 0;
        for (size_t k = 0; k <= top; k++)
            total += c[k];
        long crit = -1;
        for (size_t k = 0; k <= top; k++) {
            acc += c[k];
            if (acc / total > tail)
                break;
            crit = (long)k;
        }
        free(c);
        *c_out = crit;
        return 0;
    }
    double mn = (double)n * (double)(n + 1) / 4;
    double sd = sqrt((double)n * (double)(n + 1) * (double)(2 * n + 1) / 24);
    double c = floor(mn + normal_quantile(tail) * sd - 0.5);
    *c_out = c < 0 ? -1 : (long)c;
    return 0;
}

int hb_stats_paired_ratio(const double *a, const double *b, size_t n, double conf, double *est, double *lo,
                          double *hi)
{
    if (n == 0 || !(conf > 0 && conf < 1) || !all_positive(a, n) || !all_positive(b, n))
        return EINVAL;
    size_t nw = n * (n + 1) / 2, k = 0;
    double *w = malloc(nw * sizeof *w);
    if (!w)
        return ENOMEM;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            w[k++] = (log(b[i]) - log(a[i]) + log(b[j]) - log(a[j])) / 2;
    qsort(w, nw, sizeof *w, cmp_double);
    long c;
    int err = critical_w(n, (1 - conf) / 2, &c);
    if (!err) {
        *est = exp(sorted_median(w, nw));
        if (c < 0) {
            *lo = 0;
            *hi = INFINITY;
        } else { /* [W_(c+1), W_(nw-c)] in 1-based order statistics */
            *lo = exp(w[c]);
            *hi = exp(w[nw - 1 - (size_t)c]);
        }
    }
    free(w);
    return err;
}

typedef struct pidx {
    double p;
    size_t i;
} pidx;

static int cmp_pidx(const void *a, const void *b)
{
    const pidx *x = a, *y = b;
    int c = cmp_double(&x->p, &y->p);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

int hb_stats_holm(const double *p, size_t n, double *adj)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(p[i] >= 0 && p[i] <= 1))
            return EINVAL;
    pidx *s = malloc(n * sizeof *s);
    if (!s)
        return ENOMEM;
    for (size_t i = 0; i < n; i++)
        s[i] = (pidx){p[i], i};
    qsort(s, n, sizeof *s, cmp_pidx);
    /* The k-th smallest is multiplied by (n - k + 1); the running maximum
     * keeps the adjusted values in the order of the raw ones. */
    double run = 0;
    for (size_t k = 0; k < n; k++) {
        double v = fmin(1.0, (double)(n - k) * s[k].p);
        run = fmax(run, v);
        adj[s[k].i] = run;
    }
    free(s);
    return 0;
}
