/* cellset.c -- a results file grouped by cell; one metric of a cell compared
 * between two files (cellset.h). */
#include "cellset.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const hb_metric_info metrics[] = {
    {"wall_s", "s", "wall time", 0},
    {"ops_per_s", "ops/s", "throughput", 1},
    {"pause_p99_us", "us", "pause p99", 0},
    {"peak_rss_kb", "kB", "peak RSS", 0},
    {"user_s", "s", "user CPU", 0},
    {"sys_s", "s", "system CPU", 0},
    {"final_rss_kb", "kB", "final RSS", 0},
    {"pause_max_us", "us", "pause max", 0},
    {"pause_max_auto_us", "us", "automatic pause max", 0},
    {"pause_total_ms", "ms", "pause total", 0},
    {"lat_p99_ns", "ns", "latency p99", 0},
    {"lat_p50_ns", "ns", "latency p50", 0},
    /* the counts regress gates exactly; statistically when they vary */
    {"allocs", "", "allocations", 0},
    {"frees", "", "frees", 0},
    {"gc_count", "", "collections", 0},
    {"peak_live_bytes", "B", "peak live bytes", 0},
    /* programs: their own figure (always a rate), and the kernel's counts */
    {"figure", "", "program's own figure", 1},
    {"maxrss_kb", "kB", "largest process's peak RSS", 0},
    {"minflt", "", "minor faults", 0},
    /* derived: user_s + sys_s, the CPU the cell's timed run took (regress's
     * duet gate: a neighbour on the same core lengthens wall time, not this) */
    {"cpu_s", "s", "CPU time (user + system)", 0},
};

void hb_metric_names(char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0] && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", metrics[i].name);
}

const hb_metric_info *hb_metric_find(const char *name)
{
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
        if (strcmp(metrics[i].name, name) == 0)
            return &metrics[i];
    return NULL;
}

static int cmp_by_cell(const void *a, const void *b, void *arg)
{
    const hb_cellset *s = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(s->doc.rows[x].field[s->c_cell], s->doc.rows[y].field[s->c_cell]);
    return c ? c : (x > y) - (x < y);
}

static int cmp_first_row(const void *a, const void *b)
{
    const hb_cellset_cell *x = a, *y = b;
    return (x->rows[0] > y->rows[0]) - (x->rows[0] < y->rows[0]);
}

void hb_cellset_free(hb_cellset *s)
{
    free(s->rows_mem_);
    free(s->cells);
    hb_csvdoc_free(&s->doc);
    memset(s, 0, sizeof *s);
}

int hb_cellset_load(const char *path, hb_cellset *s, char *why, size_t len)
{
    memset(s, 0, sizeof *s);
    int err = hb_csvdoc_read(path, &s->doc, why, len);
    if (err)
        return err;
    static const char *const need[] = {"cell", "status", "error"};
    for (size_t k = 0; k < 3; k++)
        if (hb_csvdoc_col(&s->doc, need[k]) < 0) {
            snprintf(why, len, "%s:1: not a results file (no column '%s')", path, need[k]);
            hb_csvdoc_free(&s->doc);
            return EINVAL;
        }
    s->c_cell = hb_csvdoc_col(&s->doc, "cell");
    s->c_status = hb_csvdoc_col(&s->doc, "status");
    s->c_error = hb_csvdoc_col(&s->doc, "error");
    size_t n = s->doc.nrows;
    if (n == 0)
        return 0;
    /* All cells' row lists live in one block, sorted by cell, and each cell
     * points at its stretch of it. */
    size_t *idx = s->rows_mem_ = malloc(n * sizeof *idx);
    s->cells = calloc(n, sizeof *s->cells);
    if (!idx || !s->cells) {
        hb_cellset_free(s);
        snprintf(why, len, "%s: out of memory", path);
        return ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, cmp_by_cell, s);
    for (size_t i = 0; i < n;) {
        hb_cellset_cell *c = &s->cells[s->ncells++];
        c->name = s->doc.rows[idx[i]].field[s->c_cell];
        c->rows = idx + i;
        size_t j = i;
        for (; j < n && strcmp(s->doc.rows[idx[j]].field[s->c_cell], c->name) == 0; j++) {
            const hb_csvrow *r = &s->doc.rows[idx[j]];
            const char *st = r->field[s->c_status];
            if (strcmp(st, "ok") == 0)
                c->nok++;
            else if (strcmp(st, "skipped") == 0)
                c->nskipped++;
            else if (!c->first_bad)
                c->first_bad = r;
        }
        c->nrows = j - i;
        i = j;
    }
    qsort(s->cells, s->ncells, sizeof *s->cells, cmp_first_row);
    return 0;
}

const hb_cellset_cell *hb_cellset_find(const hb_cellset *s, const char *name)
{
    for (size_t i = 0; i < s->ncells; i++)
        if (strcmp(s->cells[i].name, name) == 0)
            return &s->cells[i];
    return NULL;
}

int hb_cellset_figure(const hb_csvdoc *d, const hb_csvrow *r, const char *metric, double *out, char *why,
                      size_t len)
{
    int col = hb_csvdoc_col(d, metric);
    if (col >= 0)
        return hb_figure(d, r, col, out, why, len);
    if (strcmp(metric, "cpu_s") != 0)
        return ENOENT;
    int cu = hb_csvdoc_col(d, "user_s"), cs = hb_csvdoc_col(d, "sys_s");
    double u, sy;
    int err;
    if (cu < 0 || cs < 0)
        return ENOENT;
    if ((err = hb_figure(d, r, cu, &u, why, len)) || (err = hb_figure(d, r, cs, &sy, why, len)))
        return err;
    *out = u + sy;
    return 0;
}

int hb_cellset_values_rows(const hb_cellset *s, const hb_cellset_cell *c, const char *metric, double **v,
                           size_t **rows, size_t *n, char *why, size_t len)
{
    *v = NULL;
    if (rows)
        *rows = NULL;
    *n = 0;
    int col = hb_csvdoc_col(&s->doc, metric);
    if (col < 0 && strcmp(metric, "cpu_s") == 0 && hb_csvdoc_col(&s->doc, "user_s") >= 0)
        col = INT_MAX; /* derived: hb_cellset_figure */
    if (col < 0 || c->nok == 0)
        return 0;
    double *out = malloc(c->nok * sizeof *out);
    size_t *at = rows ? malloc(c->nok * sizeof *at) : NULL;
    if (!out || (rows && !at)) {
        free(out);
        free(at);
        snprintf(why, len, "%s: out of memory", s->doc.path);
        return ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < c->nrows; i++) {
        const hb_csvrow *r = &s->doc.rows[c->rows[i]];
        if (strcmp(r->field[s->c_status], "ok") != 0)
            continue;
        double x;
        int err = col == INT_MAX ? hb_cellset_figure(&s->doc, r, metric, &x, why, len)
                                 : hb_figure(&s->doc, r, col, &x, why, len);
        if (err == ENOENT)
            continue; /* not measured */
        if (err) {
            free(out);
            free(at);
            return err;
        }
        if (at)
            at[k] = c->rows[i];
        out[k++] = x;
    }
    if (k == 0) {
        free(out);
        free(at);
        out = NULL;
        at = NULL;
    }
    *v = out;
    if (rows)
        *rows = at;
    *n = k;
    return 0;
}

int hb_cellset_values(const hb_cellset *s, const hb_cellset_cell *c, const char *metric, double **v,
                      size_t *n, char *why, size_t len)
{
    return hb_cellset_values_rows(s, c, metric, v, NULL, n, why, len);
}

int hb_metric_cmp_compute(const double *a, size_t na, const double *b, size_t nb, hb_alternative alt,
                          hb_metric_cmp *out)
{
    hb_metric_cmp r = {.na = na, .nb = nb, .ratio = NAN, .est = NAN, .lo = NAN, .hi = NAN,
                       .p = NAN, .p_holm = NAN};
    int err = hb_stats_median(a, na, &r.med_a);
    if (!err)
        err = hb_stats_median(b, nb, &r.med_b);
    hb_mwu u;
    if (!err)
        err = hb_stats_mwu(a, na, b, nb, alt, &u);
    if (err)
        return err;
    r.p = u.p;
    r.exact = u.exact;
    if (r.med_a > 0 && r.med_b > 0) {
        r.ratio = r.med_b / r.med_a;
        /* EINVAL here means a zero among the values (a pause of 0 us): the
         * medians' ratio stands, the interval is left unknown. */
        err = hb_stats_hl_ratio(a, na, b, nb, 0.95, &r.est, &r.lo, &r.hi);
        if (err == ENOMEM)
            return err;
        if (err)
            r.est = r.lo = r.hi = NAN;
    }
    *out = r;
    return 0;
}

int hb_paired_cmp_compute(const double *a, const double *b, size_t n, hb_alternative alt, hb_metric_cmp *out)
{
    hb_metric_cmp r = {.na = n, .nb = n, .ratio = NAN, .est = NAN, .lo = NAN, .hi = NAN, .p = NAN, .p_holm = NAN};
    int err = hb_stats_median(a, n, &r.med_a);
    if (!err)
        err = hb_stats_median(b, n, &r.med_b);
    if (err)
        return err;
    double *d = malloc(n * sizeof *d);
    if (!d)
        return ENOMEM;
    int logs = 1;
    for (size_t i = 0; i < n; i++)
        logs &= a[i] > 0 && b[i] > 0;
    for (size_t i = 0; i < n; i++) /* a ratio when it can be one, else a difference */
        d[i] = logs ? log(b[i]) - log(a[i]) : b[i] - a[i];
    hb_wsr w;
    err = hb_stats_signed_rank(d, n, alt, &w);
    free(d);
    if (err)
        return err;
    r.p = w.p;
    r.exact = w.exact;
    if (logs) {
        err = hb_stats_paired_ratio(a, b, n, 0.95, &r.est, &r.lo, &r.hi);
        if (err)
            return err;
        r.ratio = r.est;
    }
    *out = r;
    return 0;
}
