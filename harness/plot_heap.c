/* plot_heap.c -- the time-space trade-off of `heapbench plot` (plot.h):
 * time and pause p99 against heap size, as GC research draws it (MMTk's
 * running-ng, DaCapo Chopin).
 *
 * A figure per workload (with its size, threads and heap mode) that has a
 * heap-size experiment: a row with a heap limit (heap_limit_kb: --param
 * heap_kb or --heap-factors). Each collector of the workload is a line;
 * each of its cells a point, at
 *   x = its heap limit, for a cell that ran under one (marksweep, boehm);
 *   x = its peak live bytes, for a cell without one: rc, rcgen and rcinc
 *       join through their own knob (the threshold's cells), with the
 *       memory they used on the axis where the others have the memory
 *       they were given;
 * and y = the median over its repetitions of wall time and of pause p99,
 * with bars from the lowest to the highest repetition. Cells that ran out
 * of heap (oom) are not points: the curve starts where the heap suffices. */
#include "plot.h"
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hpoint {
    double x, y[3], p[3]; /* y: wall s median, lo, hi; p: pause p99 us, the same ('?' when NaN) */
} hpoint;

static int by_x(const void *a, const void *b)
{
    double x = ((const hpoint *)a)->x, y = ((const hpoint *)b)->x;
    return (x > y) - (x < y);
}

static void group_of(const hb_plot_ctx *p, size_t r, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s/t%s/%s", hb_plot_field(p, r, p->c_workload), hb_plot_field(p, r, p->c_size),
             hb_plot_field(p, r, p->c_threads), hb_plot_field(p, r, p->c_heap));
}

static int is_ok_gc(const hb_plot_ctx *p, size_t r)
{
    const char *c = hb_plot_field(p, r, p->c_coll);
    return !strcmp(hb_plot_field(p, r, p->s.c_status), "ok") && *c && strcmp(c, "none");
}

/* median, lowest and highest of v[0..n), NaN when n is 0 */
static void spread(double *v, size_t n, double out[3])
{
    out[0] = out[1] = out[2] = NAN;
    if (!n || hb_stats_median(v, n, &out[0]))
        return;
    out[1] = INFINITY, out[2] = -INFINITY;
    for (size_t i = 0; i < n; i++)
        out[1] = fmin(out[1], v[i]), out[2] = fmax(out[2], v[i]);
}

static void put3(FILE *f, const double v[3])
{
    for (int k = 0; k < 3; k++)
        if (isnan(v[k]))
            fprintf(f, " ?");
        else
            fprintf(f, " %.6g", v[k]);
}

/* One figure: the group's series, their cells as points. */
static int heap_figure(hb_plot_ctx *p, const char *grp, int c_lim, int c_peak, int c_p99, double *v, double *w)
{
    size_t n = p->s.doc.nrows;
    hb_names series = {0}, cells = {0};
    char g[512], b[256];
    int rc = 0;
    for (size_t r = 0; r < n; r++) {
        group_of(p, r, g, sizeof g);
        if (strcmp(g, grp) || !is_ok_gc(p, r))
            continue;
        snprintf(b, sizeof b, "%s+%s", hb_plot_field(p, r, p->c_alloc), hb_plot_field(p, r, p->c_coll));
        if (hb_names_add(&series, b) < 0 || hb_names_add(&cells, hb_plot_field(p, r, p->s.c_cell)) < 0) {
            rc = hb_plot_bad("out of memory, or more than %d series or cells in %s", MAX_SERIES, grp);
            goto out;
        }
    }
    hpoint *pt = malloc((cells.n + 1) * sizeof *pt);
    char sg[512], name[600], path[PATH_MAX + 700], title[700];
    hb_plot_slug(grp, sg, sizeof sg);
    snprintf(name, sizeof name, "heapsize-%s", sg);
    FILE *f = pt ? hb_plot_open_data(p, name, path, sizeof path) : NULL;
    if (!f) {
        free(pt);
        rc = pt ? 2 : hb_plot_bad("out of memory");
        goto out;
    }
    size_t most = 0;
    for (size_t s = 0; s < series.n; s++) {
        size_t np = 0;
        for (size_t c = 0; c < cells.n; c++) {
            size_t nx = 0, ny = 0, np99 = 0, limited = 0;
            double *x = v, *y = w, *q = w + n;
            for (size_t r = 0; r < n; r++) {
                if (strcmp(hb_plot_field(p, r, p->s.c_cell), cells.v[c]) || !is_ok_gc(p, r))
                    continue;
                snprintf(b, sizeof b, "%s+%s", hb_plot_field(p, r, p->c_alloc), hb_plot_field(p, r, p->c_coll));
                if (strcmp(b, series.v[s]))
                    continue;
                double lim;
                if (c_lim >= 0 && hb_plot_value(p, r, c_lim, &lim)) {
                    x[nx++] = lim / 1024; /* KiB -> MiB */
                    limited = 1;
                } else if (!limited && c_peak >= 0 && hb_plot_value(p, r, c_peak, &x[nx])) {
                    x[nx++] /= 1048576.0; /* bytes -> MiB */
                }
                ny += hb_plot_value(p, r, p->c_wall, &y[ny]);
                if (c_p99 >= 0)
                    np99 += hb_plot_value(p, r, c_p99, &q[np99]);
            }
            double xm[3];
            spread(x, nx, xm);
            if (!nx || !ny || isnan(xm[0]))
                continue;
            pt[np].x = xm[0];
            spread(y, ny, pt[np].y);
            spread(q, np99, pt[np].p);
            np++;
        }
        qsort(pt, np, sizeof *pt, by_x);
        fprintf(f, "%s\"%s\"\n", s ? "\n\n" : "", series.v[s]);
        for (size_t k = 0; k < np; k++) {
            fprintf(f, "%.6g", pt[k].x);
            put3(f, pt[k].y);
            put3(f, pt[k].p);
            fputc('\n', f);
        }
        most = np > most ? np : most;
    }
    free(pt);
    if ((rc = hb_plot_close_data(f, path)))
        goto out;
    if (most < 2) { /* one heap size per collector: no curve to draw */
        hb_plot_skip(p, "heap sizes: %s has one heap size per collector", grp);
        goto out;
    }
    snprintf(title, sizeof title, "time-space trade-off: %s (median; bars: lowest to highest repetition)", grp);
    rc = hb_plot_figure(p, "heapsize.gp", path, name, title);
out:
    hb_names_free(&series);
    hb_names_free(&cells);
    return rc;
}

int hb_plot_heapsize(hb_plot_ctx *p)
{
    int c_lim = hb_csvdoc_col(&p->s.doc, "heap_limit_kb"), c_peak = hb_csvdoc_col(&p->s.doc, "peak_live_bytes"),
        c_p99 = hb_csvdoc_col(&p->s.doc, "pause_p99_us"), rc = 0;
    size_t n = p->s.doc.nrows;
    hb_names groups = {0};
    char g[512];
    double d;
    /* the groups with a heap-size experiment: a cell that ran under a limit */
    for (size_t r = 0; c_lim >= 0 && p->c_wall >= 0 && r < n; r++)
        if (is_ok_gc(p, r) && hb_plot_value(p, r, c_lim, &d)) {
            group_of(p, r, g, sizeof g);
            if (hb_names_add(&groups, g) < 0) {
                hb_names_free(&groups);
                return hb_plot_bad("out of memory, or more than %d heap-size groups", MAX_SERIES);
            }
        }
    if (!groups.n) {
        hb_plot_skip(p, "heap sizes: no cell ran under a heap limit (--heap-factors or --param heap_kb)");
        return 0;
    }
    double *v = malloc((n + 1) * sizeof *v), *w = malloc((2 * n + 1) * sizeof *w);
    if (!v || !w)
        rc = hb_plot_bad("out of memory");
    for (size_t i = 0; i < groups.n && !rc; i++)
        rc = heap_figure(p, groups.v[i], c_lim, c_peak, c_p99, v, w);
    free(v);
    free(w);
    hb_names_free(&groups);
    return rc;
}
