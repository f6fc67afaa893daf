/* plot_lines.c -- the line figures of `heapbench plot` (plot.h): thread
 * scaling, latency percentiles, pause CDFs and MMU curves, RSS over time,
 * and a metric against a swept parameter. */
#include "plot.h"
#include "metrics.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_int_str(const void *x, const void *y)
{
    return atoi(*(char *const *)x) - atoi(*(char *const *)y);
}

int hb_plot_scaling(hb_plot_ctx *p)
{
    int col = hb_csvdoc_col(&p->s.doc, "ops_per_s"), rc = 0;
    hb_names groups = {0};
    char g[512], b[256];
    for (size_t r = 0; r < p->s.doc.nrows; r++)
        if (col >= 0 && !strcmp(hb_plot_field(p, r, p->s.c_status), "ok")) {
            hb_plot_group(p, r, 0, g, sizeof g);
            hb_names_add(&groups, g);
        }
    size_t cap = p->s.doc.nrows + 1, any = 0;
    double *v = malloc(cap * sizeof *v);
    if (!v)
        return hb_plot_bad("out of memory");
    for (size_t i = 0; i < groups.n && !rc; i++) {
        hb_names bes = {0}, th = {0};
        for (size_t r = 0; r < p->s.doc.nrows; r++) {
            hb_plot_group(p, r, 0, g, sizeof g);
            if (strcmp(g, groups.v[i]) || strcmp(hb_plot_field(p, r, p->s.c_status), "ok"))
                continue;
            hb_plot_backend(p, r, b, sizeof b);
            hb_names_add(&bes, b);
            hb_names_add(&th, hb_plot_field(p, r, p->c_threads));
        }
        if (th.n < 2) {
            hb_names_free(&bes);
            hb_names_free(&th);
            continue;
        }
        qsort(th.v, th.n, sizeof th.v[0], cmp_int_str);
        char name[600], path[PATH_MAX + 700], title[600];
        hb_plot_slug(groups.v[i], g, sizeof g);
        snprintf(name, sizeof name, "scaling-%s", g);
        FILE *f = hb_plot_open_data(p, name, path, sizeof path);
        if (!f) {
            rc = 2;
        } else {
            for (size_t k = 0; k < bes.n; k++) {
                /* blocks separated by two blank lines, none after the last */
                fprintf(f, "%s\"%s\"\n", k ? "\n\n" : "", bes.v[k]);
                for (size_t t = 0; t < th.n; t++) {
                    size_t n = hb_plot_gather(p, 0, groups.v[i], bes.v[k], th.v[t], col, v, cap);
                    double med, lo = INFINITY, hi = -INFINITY;
                    if (!n || hb_stats_median(v, n, &med))
                        continue;
                    for (size_t j = 0; j < n; j++)
                        lo = fmin(lo, v[j]), hi = fmax(hi, v[j]);
                    fprintf(f, "%s %.6g %.6g %.6g\n", th.v[t], med, lo, hi);
                }
            }
            rc = hb_plot_close_data(f, path);
            snprintf(title, sizeof title, "thread scaling: %s (median, min-max over repetitions)", groups.v[i]);
            if (!rc)
                rc = hb_plot_figure(p, "scaling.gp", path, name, title);
            any++;
        }
        hb_names_free(&bes);
        hb_names_free(&th);
    }
    if (!rc && !any)
        hb_plot_skip(p, "scaling: no workload was run at two or more thread counts");
    free(v);
    hb_names_free(&groups);
    return rc;
}

/* ---- latency percentiles */
int hb_plot_latency(hb_plot_ctx *p)
{
    static const char *const cols[] = {"lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns"};
    static const char *const label[] = {"p50", "p90", "p99", "p99.9", "max"};
    int c[5], rc = 0;
    for (int k = 0; k < 5; k++)
        if ((c[k] = hb_csvdoc_col(&p->s.doc, cols[k])) < 0) {
            hb_plot_skip(p, "latency: the file has no %s column", cols[k]);
            return 0;
        }
    hb_names groups = {0};
    char g[512], b[256];
    for (size_t r = 0; r < p->s.doc.nrows; r++)
        if (!strcmp(hb_plot_field(p, r, p->s.c_status), "ok") && *hb_plot_field(p, r, c[0])) {
            hb_plot_group(p, r, 1, g, sizeof g);
            hb_names_add(&groups, g);
        }
    size_t cap = p->s.doc.nrows + 1;
    double *v = malloc(cap * sizeof *v);
    if (!v)
        return hb_plot_bad("out of memory");
    for (size_t i = 0; i < groups.n && !rc; i++) {
        hb_names bes = {0};
        for (size_t r = 0; r < p->s.doc.nrows; r++) {
            hb_plot_group(p, r, 1, g, sizeof g);
            if (!strcmp(g, groups.v[i]) && !strcmp(hb_plot_field(p, r, p->s.c_status), "ok") && *hb_plot_field(p, r, c[0])) {
                hb_plot_backend(p, r, b, sizeof b);
                hb_names_add(&bes, b);
            }
        }
        char name[600], path[PATH_MAX + 700], title[600];
        hb_plot_slug(groups.v[i], g, sizeof g);
        snprintf(name, sizeof name, "latency-%s", g);
        FILE *f = hb_plot_open_data(p, name, path, sizeof path);
        if (!f) {
            rc = 2;
            hb_names_free(&bes);
            break;
        }
        for (size_t k = 0; k < bes.n; k++) {
            fprintf(f, "%s\"%s\"\n", k ? "\n\n" : "", bes.v[k]);
            for (int q = 0; q < 5; q++) {
                size_t n = hb_plot_gather(p, 1, groups.v[i], bes.v[k], NULL, c[q], v, cap);
                double med;
                /* a latency of 0 ns cannot sit on a log axis: below the clock's resolution */
                if (n && !hb_stats_median(v, n, &med))
                    fprintf(f, "%d %s %.6g\n", q + 1, label[q], med > 0 ? med : 1);
            }
        }
        rc = hb_plot_close_data(f, path);
        snprintf(title, sizeof title, "operation latency: %s (median over repetitions)", groups.v[i]);
        if (!rc)
            rc = hb_plot_figure(p, "latency.gp", path, name, title);
        hb_names_free(&bes);
    }
    if (!rc && !groups.n)
        hb_plot_skip(p, "latency: no ok row has latency figures");
    free(v);
    hb_names_free(&groups);
    return rc;
}

/* ---- companions: pauses and RSS samples */

int hb_plot_load_comp(hb_plot_ctx *p, const char *suffix, hb_plot_comp *c, const char *const *need, size_t nneed)
{
    char path[PATH_MAX + 32], why[1024];
    snprintf(path, sizeof path, "%s%s", p->stem, suffix);
    memset(c, 0, sizeof *c);
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (hb_csvdoc_read(path, &c->d, why, sizeof why))
        return hb_plot_bad("%s", why);
    for (size_t k = 0; k < nneed; k++)
        if (hb_csvdoc_col(&c->d, need[k]) < 0) {
            hb_csvdoc_free(&c->d);
            return hb_plot_bad("%s:1: no column '%s'", path, need[k]);
        }
    c->have = 1;
    c->c_cell = hb_csvdoc_col(&c->d, "cell");
    c->c_rep = hb_csvdoc_col(&c->d, "rep");
    c->c_run = hb_csvdoc_col(&c->d, "run_id");
    return 0;
}

/* Whether pause rows x and y are of one repetition: rep and run_id alike,
 * compared whole (a joined key, cut to a buffer, once lost its separator). */
static int same_rep(const hb_plot_comp *c, size_t x, size_t y)
{
    char **a = c->d.rows[x].field, **b = c->d.rows[y].field;
    return !strcmp(a[c->c_rep], b[c->c_rep]) && (c->c_run < 0 || !strcmp(a[c->c_run], b[c->c_run]));
}

/* The main file's row of (run_id, cell, rep), or SIZE_MAX. */
static size_t main_row(const hb_plot_ctx *p, const char *run, const char *cell, const char *rep)
{
    for (size_t r = 0; r < p->s.doc.nrows; r++)
        if (!strcmp(hb_plot_field(p, r, p->s.c_cell), cell) && !strcmp(hb_plot_field(p, r, p->c_rep), rep) &&
            (!run || p->c_run < 0 || !strcmp(hb_plot_field(p, r, p->c_run), run)))
            return r;
    return SIZE_MAX;
}

/* A time of the pauses file in nanoseconds. The figure parser lets any
 * finite non-negative value through (1e300 ms) and an empty one is NaN: a
 * cast of those to an integer is undefined (UBSan, found by fuzz_plot), so
 * NaN is 0 and anything past 2^62 ns (146 years) is 2^62, where sums of two
 * still fit. */
static uint64_t ns_of(double v, double scale)
{
    double ns = v * scale;
    if (!(ns >= 0))
        return 0;
    return ns >= 0x1p62 ? (uint64_t)1 << 62 : (uint64_t)ns;
}

static int by_start(const void *x, const void *y)
{
    const hb_pause *a = x, *b = y;
    if (a->thread != b->thread)
        return a->thread < b->thread ? -1 : 1;
    return a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
}

static int cmp_dbl(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Pause CDFs and MMU curves: one figure of each per workload group, a
 * series per cell that paused. */
int hb_plot_pauses(hb_plot_ctx *p)
{
    hb_plot_comp c = p->pauses;
    int rc = 0;
    if (!c.have || !c.d.nrows) {
        hb_plot_skip(p, "pause CDFs and MMU curves: %s", c.have ? "the pauses file has no pauses" : "no pauses file beside the results");
        return 0;
    }
    int c_start = hb_csvdoc_col(&c.d, "start_ms"), c_dur = hb_csvdoc_col(&c.d, "duration_us"),
        c_thr = hb_csvdoc_col(&c.d, "thread");
    hb_names groups = {0};
    char g[512], b[256];
    /* Once per pause row: its results row (the pauses of one repetition are
     * consecutive, so the previous row's answer is tried first) and the
     * index of its group in `groups` (once per results row); SIZE_MAX for
     * a pause of no row. The loops below then compare integers, not
     * strings: a default run has 10^5 pauses and 10^3 rows. */
    size_t *pr = malloc((c.d.nrows + 1) * sizeof *pr);
    size_t *gi = malloc((p->s.doc.nrows + 1) * sizeof *gi);
    if (!pr || !gi) {
        free(pr);
        free(gi);
        return hb_plot_bad("out of memory");
    }
    for (size_t r = 0; r < p->s.doc.nrows; r++)
        gi[r] = SIZE_MAX - 1; /* not looked at yet */
    for (size_t k = 0; k < c.d.nrows; k++) {
        char **fl = c.d.rows[k].field, **prev = k ? c.d.rows[k - 1].field : NULL;
        if (prev && !strcmp(fl[c.c_cell], prev[c.c_cell]) && !strcmp(fl[c.c_rep], prev[c.c_rep]) &&
            (c.c_run < 0 || !strcmp(fl[c.c_run], prev[c.c_run]))) {
            pr[k] = pr[k - 1];
            continue;
        }
        pr[k] = main_row(p, c.c_run >= 0 ? fl[c.c_run] : NULL, fl[c.c_cell], fl[c.c_rep]);
        size_t r = pr[k];
        if (r != SIZE_MAX && gi[r] == SIZE_MAX - 1) {
            hb_plot_group(p, r, 1, g, sizeof g);
            int at = hb_names_add(&groups, g); /* its index; -1: too many groups */
            gi[r] = at < 0 ? SIZE_MAX : (size_t)at;
        }
    }
#define GROUP_OF(k) (pr[k] == SIZE_MAX ? SIZE_MAX : gi[pr[k]])
    double *dur = malloc((c.d.nrows + 1) * sizeof *dur);
    hb_pause *ev = malloc((c.d.nrows + 1) * sizeof *ev);
    size_t *rep_row = malloc((c.d.nrows + 1) * sizeof *rep_row); /* a cell's repetitions: their first pause row */
    if (!dur || !ev || !rep_row)
        rc = hb_plot_bad("out of memory");
    for (size_t i = 0; i < groups.n && !rc; i++) {
        /* the cells of this group with pauses, in file order */
        hb_names cells = {0};
        for (size_t k = 0; k < c.d.nrows; k++)
            if (GROUP_OF(k) == i)
                hb_names_add(&cells, c.d.rows[k].field[c.c_cell]);
        char sg[512], name[2][600], path[2][PATH_MAX + 700], title[2][600];
        hb_plot_slug(groups.v[i], sg, sizeof sg);
        snprintf(name[0], sizeof name[0], "pause_cdf-%s", sg);
        snprintf(name[1], sizeof name[1], "mmu-%s", sg);
        FILE *f[2] = {hb_plot_open_data(p, name[0], path[0], sizeof path[0]), hb_plot_open_data(p, name[1], path[1], sizeof path[1])};
        if (!f[0] || !f[1]) {
            rc = 2;
            if (f[0])
                fclose(f[0]);
            if (f[1])
                fclose(f[1]);
            hb_names_free(&cells);
            break;
        }
        for (size_t j = 0; j < cells.n; j++) {
            /* every repetition's pauses together for the CDF */
            size_t n = 0, nreps = 0;
            /* only pauses of a repetition the results file has: a pause
             * row whose run_id or rep matches no row (a hand-edited or
             * mismatched companion) belongs to no backend to label it with */
            size_t r0 = SIZE_MAX;
            for (size_t k = 0; k < c.d.nrows; k++)
                if (GROUP_OF(k) == i && !strcmp(c.d.rows[k].field[c.c_cell], cells.v[j])) {
                    size_t r = pr[k];
                    dur[n++] = hb_plot_num(&c.d, k, c_dur);
                    size_t q = 0;
                    while (q < nreps && !same_rep(&c, rep_row[q], k))
                        q++;
                    if (q == nreps)
                        rep_row[nreps++] = k;
                    if (r0 == SIZE_MAX)
                        r0 = r;
                }
            hb_plot_backend(p, r0, b, sizeof b);
            qsort(dur, n, sizeof *dur, cmp_dbl);
            fprintf(f[0], "%s\"%s (%zu pauses)\"\n", j ? "\n\n" : "", b, n);
            /* The staircase, thinned: a point where the next pause is
             * 0.5% longer than the last point drawn or the fraction has
             * risen by 0.002 since, and the last. At most a few thousand
             * points a series whatever the count (a run of 50,000 pauses
             * drew a 1 MB SVG), none moved by more than 0.5% in x or 0.002
             * in y. */
            double lx = -1, ly = -1;
            for (size_t k = 0; k < n; k++) {
                double x = dur[k] > 0 ? dur[k] : 0.001, y = (double)(k + 1) / (double)n;
                double nx = k + 1 < n ? (dur[k + 1] > 0 ? dur[k + 1] : 0.001) : 0;
                if (k + 1 < n && (nx == x || (nx <= lx * 1.005 && y - ly < 0.002)))
                    continue;
                fprintf(f[0], "%.6g %.6g\n", x, y);
                lx = x, ly = y;
            }
            /* MMU: per repetition and thread, the worst over both */
            double mmu[MMU_POINTS];
            for (int w = 0; w < MMU_POINTS; w++)
                mmu[w] = INFINITY;
            for (size_t q = 0; q < nreps; q++) {
                size_t ne = 0;
                double end_ms = 0;
                for (size_t k = 0; k < c.d.nrows; k++) {
                    const hb_csvrow *row = &c.d.rows[k];
                    if (GROUP_OF(k) != i || strcmp(row->field[c.c_cell], cells.v[j]) || !same_rep(&c, rep_row[q], k))
                        continue;
                    double s = hb_plot_num(&c.d, k, c_start), d = hb_plot_num(&c.d, k, c_dur);
                    double th = c_thr >= 0 && *row->field[c_thr] ? hb_plot_num(&c.d, k, c_thr) : 0;
                    ev[ne] = (hb_pause){.start_ns = ns_of(s, 1e6), .duration_ns = ns_of(d, 1e3),
                                        .thread = th >= 0 && th <= INT_MAX ? (int)th : 0};
                    end_ms = fmax(end_ms, s + d / 1e3);
                    ne++;
                }
                char **first = c.d.rows[rep_row[q]].field;
                size_t mr = main_row(p, c.c_run >= 0 && *first[c.c_run] ? first[c.c_run] : NULL, cells.v[j],
                                     first[c.c_rep]);
                if (mr != SIZE_MAX && p->c_wall >= 0 && *hb_plot_field(p, mr, p->c_wall))
                    end_ms = fmax(end_ms, hb_plot_num(&p->s.doc, mr, p->c_wall) * 1e3);
                qsort(ev, ne, sizeof *ev, by_start);
                uint64_t t1 = ns_of(end_ms, 1e6);
                for (size_t a = 0; a < ne;) {
                    size_t e = a;
                    while (e < ne && ev[e].thread == ev[a].thread)
                        e++;
                    for (int w = 0; w < MMU_POINTS; w++) {
                        double wms = 0.1 * pow(10, w / 10.0);
                        double m = hb_mmu(ev + a, e - a, 0, t1, (uint64_t)(wms * 1e6));
                        if (m >= 0)
                            mmu[w] = fmin(mmu[w], m);
                    }
                    a = e;
                }
            }
            /* the monotone bound: no window narrower than w is better than
             * a wider one's utilisation */
            double run = INFINITY;
            for (int w = MMU_POINTS - 1; w >= 0; w--)
                if (isfinite(mmu[w]))
                    mmu[w] = run = fmin(run, mmu[w]);
            fprintf(f[1], "%s\"%s\"\n", j ? "\n\n" : "", b);
            for (int w = 0; w < MMU_POINTS; w++)
                if (isfinite(mmu[w]))
                    fprintf(f[1], "%.6g %.6g\n", 0.1 * pow(10, w / 10.0), mmu[w] < 0 ? 0 : mmu[w]);
        }
        rc = hb_plot_close_data(f[0], path[0]);
        int rc2 = hb_plot_close_data(f[1], path[1]);
        rc = rc ? rc : rc2;
        snprintf(title[0], sizeof title[0], "pause durations: %s (all repetitions)", groups.v[i]);
        snprintf(title[1], sizeof title[1], "minimum mutator utilisation: %s (worst repetition and thread)",
                 groups.v[i]);
        if (!rc)
            rc = hb_plot_figure(p, "pause_cdf.gp", path[0], name[0], title[0]);
        if (!rc)
            rc = hb_plot_figure(p, "mmu.gp", path[1], name[1], title[1]);
        hb_names_free(&cells);
    }
    if (!rc && !groups.n)
        hb_plot_skip(p, "pause CDFs and MMU curves: no pause belongs to a row of the results file");
    free(dur);
    free(ev);
    free(rep_row);
    free(pr);
    free(gi);
#undef GROUP_OF
    hb_names_free(&groups);
    return rc;
}

/* RSS and live bytes over time, one figure per cell, its first repetition. */
int hb_plot_rss(hb_plot_ctx *p)
{
    hb_plot_comp c = p->rss;
    int rc = 0;
    if (!c.have || !c.d.nrows) {
        hb_plot_skip(p, "RSS timelines: %s", c.have ? "the RSS file has no samples" : "no RSS file beside the results");
        return 0;
    }
    int c_ms = hb_csvdoc_col(&c.d, "ms"), c_rss = hb_csvdoc_col(&c.d, "rss_bytes"),
        c_live = hb_csvdoc_col(&c.d, "live_bytes");
    hb_names cells = {0};
    for (size_t k = 0; k < c.d.nrows; k++)
        hb_names_add(&cells, c.d.rows[k].field[c.c_cell]);
    for (size_t j = 0; j < cells.n && !rc; j++) {
        char sg[512], name[600], path[PATH_MAX + 700], title[600], run0[128] = "", rep0[32] = "";
        hb_plot_slug(cells.v[j], sg, sizeof sg);
        snprintf(name, sizeof name, "rss-%s", sg);
        FILE *f = hb_plot_open_data(p, name, path, sizeof path);
        if (!f) {
            rc = 2;
            break;
        }
        fprintf(f, "ms rss_mib live_mib\n");
        for (size_t k = 0; k < c.d.nrows; k++) {
            char **fl = c.d.rows[k].field;
            if (strcmp(fl[c.c_cell], cells.v[j]))
                continue;
            if (!rep0[0]) { /* the first repetition in the file */
                snprintf(rep0, sizeof rep0, "%s", fl[c.c_rep]);
                snprintf(run0, sizeof run0, "%s", c.c_run >= 0 ? fl[c.c_run] : "");
            }
            if (strcmp(fl[c.c_rep], rep0) || (c.c_run >= 0 && strcmp(fl[c.c_run], run0)))
                continue;
            double live = *fl[c_live] ? hb_plot_num(&c.d, k, c_live) : -1;
            fprintf(f, "%s %.6g ", fl[c_ms], hb_plot_num(&c.d, k, c_rss) / 1048576.0);
            if (live >= 0)
                fprintf(f, "%.6g\n", live / 1048576.0);
            else
                fprintf(f, "?\n");
        }
        rc = hb_plot_close_data(f, path);
        snprintf(title, sizeof title, "%s (repetition %s)", cells.v[j], rep0);
        if (!rc)
            rc = hb_plot_figure(p, "rss.gp", path, name, title);
    }
    hb_names_free(&cells);
    return rc;
}


/* ---- a metric against a swept parameter
 *
 * A workload whose cells differ in a parameter given with --param (the
 * cells' names carry it) is a sweep when that parameter takes two or more
 * numeric values: a figure per (workload, parameter), a panel per metric
 * the rows have, a line per backend (and thread count, heap, size and other
 * parameters when those vary too). */
static const char *const sweep_metrics[] = {"ops_per_s", "pause_p99_us", "pause_max_us", "mmu_10ms", "peak_rss_kb"};
#define NSWEEP (sizeof sweep_metrics / sizeof sweep_metrics[0])

/* The value of `key` in row r: its params column (every parameter), else
 * its cell name's. 1 when it is there and a number. */
static int sweep_x(const hb_plot_ctx *p, size_t r, const char *key, double *x)
{
    char v[64];
    if (!hb_plot_kv(hb_plot_field(p, r, p->c_params), key, v, sizeof v) && !hb_plot_kv(hb_plot_overrides(p, r), key, v, sizeof v))
        return 0;
    char *end;
    *x = strtod(v, &end);
    return end != v && !*end && isfinite(*x);
}

/* The series of row r in the sweep of `key`: the backend, and whatever
 * else of the cell varies within the workload (`vary`: 1 threads, 2 heap,
 * 4 size, 8 other parameters). */
static void sweep_series(const hb_plot_ctx *p, size_t r, const char *key, int vary, char *buf, size_t len)
{
    const char *c = hb_plot_field(p, r, p->c_coll);
    size_t at = (size_t)snprintf(buf, len, "%s%s%s", hb_plot_field(p, r, p->c_alloc), *c && strcmp(c, "none") ? "+" : "",
                                 *c && strcmp(c, "none") ? c : "");
    if ((vary & 1) && at < len)
        at += (size_t)snprintf(buf + at, len - at, " t%s", hb_plot_field(p, r, p->c_threads));
    if ((vary & 2) && at < len)
        at += (size_t)snprintf(buf + at, len - at, " %s", hb_plot_field(p, r, p->c_heap));
    if ((vary & 4) && at < len)
        at += (size_t)snprintf(buf + at, len - at, " %s", hb_plot_field(p, r, p->c_size));
    size_t kl = strlen(key);
    for (const char *q = hb_plot_overrides(p, r); (vary & 8) && *q && at < len;) {
        size_t l = strcspn(q, ";");
        if (!(l > kl && !strncmp(q, key, kl) && q[kl] == '='))
            at += (size_t)snprintf(buf + at, len - at, " %.*s", (int)l, q);
        q += l + (q[l] == ';');
    }
}

static int cmp_num(const void *x, const void *y)
{
    double a = strtod(*(char *const *)x, NULL), b = strtod(*(char *const *)y, NULL);
    return (a > b) - (a < b);
}

static int sweep_one(hb_plot_ctx *p, const char *wl, const char *key)
{
    size_t n = p->s.doc.nrows;
    int vary = 0, rc = 0;
    const char *first[3] = {NULL, NULL, NULL};
    char firstover[512] = "", sv[512];
    int have_over = 0;
    hb_names xs = {0}, series = {0};
    /* what varies besides the key */
    for (size_t r = 0; r < n; r++) {
        double x;
        if (strcmp(hb_plot_field(p, r, p->c_workload), wl) || strcmp(hb_plot_field(p, r, p->s.c_status), "ok") ||
            !sweep_x(p, r, key, &x))
            continue;
        int cols[3] = {p->c_threads, p->c_heap, p->c_size};
        for (int k = 0; k < 3; k++) {
            if (!first[k])
                first[k] = hb_plot_field(p, r, cols[k]);
            else if (strcmp(first[k], hb_plot_field(p, r, cols[k])))
                vary |= 1 << k;
        }
        /* the other parameters: the overrides with the key taken out */
        sweep_series(p, r, key, 8, sv, sizeof sv);
        const char *o = strchr(sv, ' ') ? strchr(sv, ' ') : "";
        if (!have_over++)
            snprintf(firstover, sizeof firstover, "%s", o);
        else if (strcmp(firstover, o))
            vary |= 8;
        char xv[64];
        snprintf(xv, sizeof xv, "%.17g", x);
        if (hb_names_add(&xs, xv) < 0)
            rc = hb_plot_bad("out of memory, or more than %d values of %s", MAX_SERIES, key);
    }
    if (rc || xs.n < 2)
        goto out;
    qsort(xs.v, xs.n, sizeof xs.v[0], cmp_num);
    for (size_t r = 0; r < n && !rc; r++) {
        double x;
        if (strcmp(hb_plot_field(p, r, p->c_workload), wl) || strcmp(hb_plot_field(p, r, p->s.c_status), "ok") ||
            !sweep_x(p, r, key, &x))
            continue;
        sweep_series(p, r, key, vary, sv, sizeof sv);
        if (hb_names_add(&series, sv) < 0)
            rc = hb_plot_bad("out of memory, or more than %d series", MAX_SERIES);
    }
    /* the metrics these rows have */
    int col[NSWEEP];
    char mlist[256] = "";
    size_t nm = 0, at = 0;
    for (size_t m = 0; m < NSWEEP && !rc; m++) {
        int c = hb_csvdoc_col(&p->s.doc, sweep_metrics[m]);
        double v;
        size_t r = 0;
        for (; c >= 0 && r < n; r++)
            if (!strcmp(hb_plot_field(p, r, p->c_workload), wl) && !strcmp(hb_plot_field(p, r, p->s.c_status), "ok") &&
                hb_plot_value(p, r, c, &v))
                break;
        if (c >= 0 && r < n) {
            col[nm++] = c;
            at += (size_t)snprintf(mlist + at, sizeof mlist - at, "%s%s", at ? " " : "", sweep_metrics[m]);
        }
    }
    if (rc || !nm)
        goto out;
    char sw[256], sk[128], name[600], path[PATH_MAX + 700], title[600], xlab[200];
    hb_plot_slug(wl, sw, sizeof sw);
    hb_plot_slug(key, sk, sizeof sk);
    snprintf(name, sizeof name, "sweep-%s-%s", sw, sk);
    FILE *f = hb_plot_open_data(p, name, path, sizeof path);
    double *v = malloc((n + 1) * sizeof *v);
    if (!f || !v) {
        if (f)
            fclose(f);
        free(v);
        rc = f ? hb_plot_bad("out of memory") : 2;
        goto out;
    }
    for (size_t s = 0; s < series.n; s++) {
        fprintf(f, "%s\"%s\"\n", s ? "\n\n" : "", series.v[s]);
        for (size_t i = 0; i < xs.n; i++) {
            int any = 0;
            char line[1024];
            size_t la = (size_t)snprintf(line, sizeof line, "%s", xs.v[i]);
            for (size_t m = 0; m < nm; m++) {
                size_t k = 0;
                for (size_t r = 0; r < n; r++) {
                    double x;
                    if (strcmp(hb_plot_field(p, r, p->c_workload), wl) ||
                        strcmp(hb_plot_field(p, r, p->s.c_status), "ok") || !sweep_x(p, r, key, &x) ||
                        x != strtod(xs.v[i], NULL))
                        continue;
                    sweep_series(p, r, key, vary, sv, sizeof sv);
                    if (!strcmp(sv, series.v[s]))
                        k += hb_plot_value(p, r, col[m], &v[k]);
                }
                double med, lo = INFINITY, hi = -INFINITY;
                if (k && !hb_stats_median(v, k, &med)) {
                    for (size_t j = 0; j < k; j++)
                        lo = fmin(lo, v[j]), hi = fmax(hi, v[j]);
                    la += (size_t)snprintf(line + la, sizeof line - la, " %.6g %.6g %.6g", med, lo, hi);
                    any = 1;
                } else {
                    la += (size_t)snprintf(line + la, sizeof line - la, " ? ? ?");
                }
            }
            if (any)
                fprintf(f, "%s\n", line);
        }
    }
    free(v);
    if ((rc = hb_plot_close_data(f, path)))
        goto out;
    snprintf(title, sizeof title, "%s: metrics against %s (median; bars: lowest to highest repetition)", wl, key);
    snprintf(xlab, sizeof xlab, "%s", key);
    /* sweep.gp takes the metrics and the x label */
    rc = hb_plot_figure5(p, "sweep.gp", path, name, title, mlist, xlab);
out:
    hb_names_free(&xs);
    hb_names_free(&series);
    return rc;
}

int hb_plot_sweeps(hb_plot_ctx *p)
{
    int rc = 0;
    size_t drawn = p->drawn;
    for (size_t w = 0; w < p->nmixed && !rc; w++) {
        /* the keys set by --param in some cell of the workload */
        hb_names keys = {0};
        for (size_t r = 0; r < p->s.doc.nrows && !rc; r++) {
            if (strcmp(hb_plot_field(p, r, p->c_workload), p->mixed[w]))
                continue;
            for (const char *q = hb_plot_overrides(p, r); *q;) {
                size_t l = strcspn(q, ";"), kl = strcspn(q, "=");
                char key[128];
                if (kl < l && kl < sizeof key) {
                    snprintf(key, sizeof key, "%.*s", (int)kl, q);
                    if (hb_names_add(&keys, key) < 0)
                        rc = hb_plot_bad("out of memory, or more than %d parameters", MAX_SERIES);
                }
                q += l + (q[l] == ';');
            }
        }
        for (size_t k = 0; k < keys.n && !rc; k++)
            rc = sweep_one(p, p->mixed[w], keys.v[k]);
        hb_names_free(&keys);
    }
    if (!rc && p->drawn == drawn)
        hb_plot_skip(p, "sweeps: no workload was run at two or more numeric values of a --param");
    return rc;
}
