/* plot.c -- `heapbench plot FILE.csv`: the figures of a results file, drawn
 * by gnuplot into plots/NAME/ as PNG (pngcairo) and SVG.
 *
 * The drawing is gnuplot's, one script per kind of figure in plots/ (NAME.gp);
 * this file only reduces the results to the small data files those scripts
 * read (plots/NAME/data/, each script's header says its shape), so that a
 * figure can be redrawn or restyled by hand without heapbench. Figures:
 *   throughput-allocators.png  allocator-only workloads, a bar per allocator,
 *                     ops/s relative to --ref (default system)
 *   throughput-collectors.png  collector workloads on the --ref allocator
 *                     (boehm on its own heap), a bar per collector, relative
 *                     to --ref-collector (default rcgen, CPython's design)
 *   throughput-allocators-COLL.png  the allocators under collector COLL,
 *                     relative to --ref+COLL
 *                     (bars: ratio of medians; whiskers: its 95% interval)
 *   pause_cdf-*.png   the distribution of pauses (NAME.pauses.csv)
 *   mmu-*.png         minimum mutator utilisation from 0.1 ms to 1 s
 *   rss-*.png         RSS and live bytes over time, one per cell (NAME.rss.csv)
 *   scaling-*.png     ops/s against threads
 *   latency-*.png     operation latency percentiles
 * Pause CDFs, MMU, scaling and latency have a panel per collector when a
 * group mixes collectors, a line per allocator in each; plots/style.gp gives a backend the same colour in every figure. A figure
 * with no data (an allocator-only run has no pauses) is skipped with a note
 * on stdout, never drawn empty. */
#include "cellset.h"
#include "metrics.h"
#include "outfile.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The MMU curve's windows: 0.1 ms to 1 s, ten to a decade, enough for a
 * smooth curve on a log axis. */
#define MMU_POINTS 41
#define MAX_SERIES 256

/* A companion, read whole before anything is written (hb_plot_main). */
typedef struct comp {
    hb_csvdoc d;
    int have;
    int c_cell, c_rep, c_run;
} comp;

typedef struct pctx {
    hb_cellset s;
    const char *ref, *ref_coll;
    char out[PATH_MAX + 16], data[PATH_MAX + 32], scripts[PATH_MAX], stem[PATH_MAX];
    int c_workload, c_alloc, c_coll, c_heap, c_threads, c_size, c_params, c_rep, c_run, c_wall;
    const char *file; /* the results file: no output may be it or its companions */
    size_t drawn, skipped, failed;
    int data_only; /* --data-only: the data files, no gnuplot */
    comp pauses, rss; /* NAME.pauses.csv, NAME.rss.csv */
    /* every allocator name of the file, sorted, space-separated: the
     * scripts' 4th argument, from which style.gp gives each name it does not
     * know a colour of its own, the same in every figure */
    char names[8192];
} pctx;

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("heapbench plot: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

static void skip(pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(pctx *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("skipped: ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    p->skipped++;
}

static const char *F(const pctx *p, size_t row, int col)
{
    return col < 0 ? "" : p->s.doc.rows[row].field[col];
}

/* A name safe for a file: letters, digits, '-', '.', others '_'. */
static void slug(const char *in, char *out, size_t len)
{
    size_t k = 0;
    for (; *in && k + 1 < len; in++)
        out[k++] = (char)((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') || (*in >= '0' && *in <= '9') ||
                                  *in == '-' || *in == '.'
                              ? *in
                              : '_');
    out[k] = 0;
}

/* The backend of a row: its allocator, with its collector when there is one. */
static void backend(const pctx *p, size_t row, char *buf, size_t len)
{
    const char *c = F(p, row, p->c_coll);
    if (!*c || !strcmp(c, "none"))
        snprintf(buf, len, "%s", F(p, row, p->c_alloc));
    else
        snprintf(buf, len, "%s+%s", F(p, row, p->c_alloc), c);
}

/* The group a row's cell belongs to in a figure: everything but the backend
 * (and, for scaling, the threads). */
static void group(const pctx *p, size_t row, int with_threads, char *buf, size_t len)
{
    const char *heap = F(p, row, p->c_heap);
    snprintf(buf, len, "%s%s%s%s%s %s", F(p, row, p->c_workload), with_threads ? " t" : "",
             with_threads ? F(p, row, p->c_threads) : "", strcmp(heap, "isolated") && *heap ? " " : "",
             strcmp(heap, "isolated") && *heap ? heap : "", F(p, row, p->c_size));
    /* parameters only matter when a file mixes several settings of one workload */
    (void)p->c_params;
}

static int is_collector_row(const pctx *p, size_t row)
{
    const char *c = F(p, row, p->c_coll);
    return *c && strcmp(c, "none") != 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* p->names: the file's allocator names, each once, sorted (names with a
 * space, which no allocator has, would split; they are left out). */
static void allocator_names(pctx *p)
{
    size_t n = p->s.doc.nrows, k = 0, at = 0;
    const char **v = malloc((n + 1) * sizeof *v);
    p->names[0] = 0;
    if (!v)
        return; /* the scripts then fall back to a spare colour per series */
    for (size_t i = 0; i < n; i++)
        if (*F(p, i, p->c_alloc) && !strchr(F(p, i, p->c_alloc), ' '))
            v[k++] = F(p, i, p->c_alloc);
    qsort(v, k, sizeof *v, cmp_name);
    for (size_t i = 0; i < k; i++)
        if ((i == 0 || strcmp(v[i], v[i - 1]) != 0) && at + strlen(v[i]) + 2 < sizeof p->names)
            at += (size_t)snprintf(p->names + at, sizeof p->names - at, "%s%s", at ? " " : "", v[i]);
    free(v);
}

/* Runs gnuplot on one script for the PNG and the SVG. Each is drawn under a
 * temporary name (a hidden file with the same extension, which is how the
 * scripts choose the terminal) and renamed only when gnuplot succeeded and
 * wrote something, so a failed figure leaves no empty or partial file. A
 * failure is said on stderr and counted; the other figures are still drawn
 * (0 then too); only a failure of the process itself returns 2. */
static int draw(pctx *p, const char *script, const char *datafile, const char *name, const char *title)
{
    if (p->data_only) { /* what gnuplot would have drawn, for drawing by hand */
        printf("%s (%s)\n", datafile, script);
        p->drawn++;
        return 0;
    }
    char sp[PATH_MAX + 64], log[PATH_MAX + 64];
    snprintf(sp, sizeof sp, "%s/%s", p->scripts, script);
    snprintf(log, sizeof log, "%s/gnuplot.log", p->data);
    char outf[2][PATH_MAX + 700], tmpf[2][PATH_MAX + 720];
    for (int k = 0; k < 2; k++) {
        const char *ext = k ? "svg" : "png";
        snprintf(outf[k], sizeof outf[k], "%s/%s.%s", p->out, name, ext);
        snprintf(tmpf[k], sizeof tmpf[k], "%s/.%s.tmp%d.%s", p->out, name, (int)getpid(), ext);
        char why[PATH_MAX * 3];
        const char *in = p->file;
        if (hb_out_not_input(outf[k], &in, 1, 0, why, sizeof why))
            return bad("%s", why);
        /* a Ctrl-C kills gnuplot and us: the handler removes the half-drawn
         * figure (outfile.c) */
        if (hb_tmp_remember(tmpf[k]))
            return bad("too many temporary files");
        pid_t pid = fork();
        if (pid < 0) {
            hb_tmp_forget(tmpf[k]);
            return bad("fork: %s", strerror(errno));
        }
        if (pid == 0) {
            FILE *l = freopen(log, "a", stderr);
            (void)l;
            execlp("gnuplot", "gnuplot", "-c", sp, datafile, tmpf[k], title, p->names, (char *)NULL);
            fprintf(stderr, "cannot run gnuplot: %s\n", strerror(errno));
            _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
            if (errno != EINTR) {
                unlink(tmpf[k]);
                hb_tmp_forget(tmpf[k]);
                return bad("waitpid: %s", strerror(errno));
            }
        struct stat sb;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || stat(tmpf[k], &sb) != 0 || sb.st_size == 0) {
            unlink(tmpf[k]);
            hb_tmp_forget(tmpf[k]);
            if (k)
                unlink(outf[0]); /* a figure is its PNG and its SVG, or neither */
            if (WIFSIGNALED(st))
                fprintf(stderr, "heapbench plot: %s not drawn: gnuplot %s was killed by signal %d (%s) on %s\n",
                        name, script, WTERMSIG(st), strsignal(WTERMSIG(st)), datafile);
            else
                fprintf(stderr, "heapbench plot: %s not drawn: gnuplot %s failed on %s (exit %d; its messages "
                                "are in %s)\n", name, script, datafile, WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
            p->failed++;
            return 0;
        }
        if (rename(tmpf[k], outf[k]) != 0) {
            int e = errno;
            unlink(tmpf[k]);
            hb_tmp_forget(tmpf[k]);
            return bad("cannot rename %s to %s: %s", tmpf[k], outf[k], strerror(e));
        }
        hb_tmp_forget(tmpf[k]);
    }
    printf("%s/%s.png, .svg\n", p->out, name);
    p->drawn++;
    return 0;
}

static FILE *open_data(const pctx *p, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s.dat", p->data, name);
    char why[PATH_MAX * 3];
    const char *in = p->file;
    if (hb_out_not_input(path, &in, 1, 0, why, len)) {
        bad("%s", why);
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        bad("cannot write %s: %s", path, strerror(errno));
    return f;
}

static int close_data(FILE *f, const char *path)
{
    if (fclose(f) != 0)
        return bad("writing %s failed: %s", path, strerror(errno));
    return 0;
}

/* ---- distinct strings in first-seen order */
typedef struct names {
    char *v[MAX_SERIES];
    size_t n;
} names;

static int names_add(names *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x))
            return (int)i;
    if (s->n == MAX_SERIES || !(s->v[s->n] = strdup(x)))
        return -1;
    return (int)s->n++;
}

static void names_free(names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

/* A figure of a document read and checked by hb_csvdoc_read (so it parses,
 * through the one parser), NAN when empty. */
static double num(const hb_csvdoc *d, size_t row, int col)
{
    double v;
    char why[256];
    return col >= 0 && hb_figure(d, &d->rows[row], col, &v, why, sizeof why) == 0 ? v : NAN;
}

/* Row r's value of `col` into *out when it has one: 1, else 0. */
static size_t take_value(const pctx *p, size_t r, int col, double *out)
{
    double v = num(&p->s.doc, r, col);
    if (!isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Values of `col` over the ok rows of the cells matching (group, backend). */
static size_t gather(const pctx *p, int with_threads, const char *grp, const char *be, const char *threads,
                     int col, double *out, size_t cap)
{
    size_t n = 0;
    char g[512], b[256];
    for (size_t r = 0; r < p->s.doc.nrows && n < cap; r++) {
        if (strcmp(F(p, r, p->s.c_status), "ok") != 0 || !*F(p, r, col))
            continue;
        group(p, r, with_threads, g, sizeof g);
        backend(p, r, b, sizeof b);
        if (strcmp(g, grp) || strcmp(b, be) || (threads && strcmp(F(p, r, p->c_threads), threads)))
            continue;
        n += take_value(p, r, col, &out[n]);
    }
    return n;
}

/* ---- throughput normalised to a reference
 *
 * Three kinds of figure, each with one bar per allocator or per collector in
 * a group, never one per pair, so that a group stays readable:
 *   TP_ALLOCATORS  allocator-only workloads, a bar per allocator, against
 *                  --ref (throughput-allocators)
 *   TP_COLLECTORS  collector workloads on the --ref allocator (a collector
 *                  that brings its own heap, boehm, on its own), a bar per
 *                  collector, against --ref-collector (throughput-collectors)
 *   TP_UNDER       collector workloads under one collector, a bar per
 *                  allocator, against --ref with that collector
 *                  (throughput-allocators-COLLECTOR) */
enum { TP_ALLOCATORS, TP_COLLECTORS, TP_UNDER };

/* The bar a row belongs to in such a figure (an allocator's or a
 * collector's name), or NULL when the row has no place in it. */
static const char *tp_key(const pctx *p, size_t r, int mode, const char *coll)
{
    const char *a = F(p, r, p->c_alloc), *c = F(p, r, p->c_coll);
    if (mode == TP_ALLOCATORS)
        return is_collector_row(p, r) ? NULL : a;
    if (mode == TP_COLLECTORS)
        return is_collector_row(p, r) && (!strcmp(a, p->ref) || !strcmp(a, c)) ? c : NULL;
    return is_collector_row(p, r) && !strcmp(c, coll) ? a : NULL;
}

/* ops/s of the ok rows of one bar in one group */
static size_t tp_gather(const pctx *p, int col, int mode, const char *coll, const char *grp, const char *key,
                        double *out, size_t cap)
{
    size_t n = 0;
    char g[512];
    for (size_t r = 0; r < p->s.doc.nrows && n < cap; r++) {
        const char *k = tp_key(p, r, mode, coll);
        if (!k || strcmp(k, key) || strcmp(F(p, r, p->s.c_status), "ok") || !*F(p, r, col))
            continue;
        group(p, r, 1, g, sizeof g);
        if (strcmp(g, grp))
            continue;
        n += take_value(p, r, col, &out[n]);
    }
    return n;
}

static int fig_throughput(pctx *p, int mode, const char *coll)
{
    int col = hb_csvdoc_col(&p->s.doc, "ops_per_s");
    const char *ref = mode == TP_COLLECTORS ? p->ref_coll : p->ref;
    char name[300], cs[256], g[512];
    if (mode == TP_UNDER) {
        slug(coll, cs, sizeof cs);
        snprintf(name, sizeof name, "throughput-allocators-%s", cs);
    } else {
        snprintf(name, sizeof name, "throughput-%s", mode == TP_COLLECTORS ? "collectors" : "allocators");
    }
    names groups = {0}, keys = {0};
    int rc = 0;
    for (size_t r = 0; r < p->s.doc.nrows && col >= 0 && !rc; r++) {
        const char *k = tp_key(p, r, mode, coll);
        if (!k || strcmp(F(p, r, p->s.c_status), "ok") || !*F(p, r, col))
            continue;
        group(p, r, 1, g, sizeof g);
        if (names_add(&groups, g) < 0 || names_add(&keys, k) < 0)
            rc = bad("out of memory, or more than %d groups or bars", MAX_SERIES);
    }
    size_t cap = p->s.doc.nrows + 1, lines = 0;
    double *a = malloc(cap * sizeof *a), *v = malloc(cap * sizeof *v);
    char path[PATH_MAX + 700];
    FILE *f = NULL;
    int ri = -1, any_ci = 0;
    if (rc)
        goto out;
    if (!a || !v) {
        rc = bad("out of memory");
        goto out;
    }
    if (!groups.n) {
        skip(p, "%s: no ok rows with ops_per_s for %s", name,
             mode == TP_ALLOCATORS ? "allocator-only workloads" : "collector workloads");
        goto out;
    }
    if (keys.n < 2) {
        skip(p, "%s: %s alone, nothing to compare", name, keys.v[0]);
        goto out;
    }
    for (size_t k = 0; k < keys.n; k++)
        if (!strcmp(keys.v[k], ref))
            ri = (int)k;
    if (ri < 0) {
        skip(p, "%s: no %s rows to normalise to (%s)", name, ref, mode == TP_COLLECTORS ? "--ref-collector" : "--ref");
        goto out;
    }
    /* the reference's bar first, the others in the file's order */
    char *refname = keys.v[ri];
    memmove(keys.v + 1, keys.v, (size_t)ri * sizeof keys.v[0]);
    keys.v[0] = refname;
    if (!(f = open_data(p, name, path, sizeof path))) {
        rc = 2;
        goto out;
    }
    fprintf(f, "group \"%s (reference)\" lo hi", keys.v[0]);
    for (size_t k = 1; k < keys.n; k++)
        fprintf(f, " \"%s\" lo hi", keys.v[k]);
    fputc('\n', f);
    for (size_t i = 0; i < groups.n; i++) {
        size_t na = tp_gather(p, col, mode, coll, groups.v[i], ref, a, cap);
        if (!na) {
            skip(p, "%s: group '%s' has no %s rows to normalise to", name, groups.v[i], ref);
            continue;
        }
        fprintf(f, "\"%s\"", groups.v[i]);
        for (size_t k = 0; k < keys.n; k++) {
            size_t nb = tp_gather(p, col, mode, coll, groups.v[i], keys.v[k], v, cap);
            hb_metric_cmp c;
            if (!nb || hb_metric_cmp_compute(a, na, v, nb, HB_TWO_SIDED, &c) || !isfinite(c.ratio)) {
                fprintf(f, " ? ? ?");
                continue;
            }
            /* too few repetitions for an interval: the bar without error bars */
            any_ci |= isfinite(c.lo) && isfinite(c.hi) && k > 0;
            double lo = isfinite(c.lo) && isfinite(c.hi) ? c.lo : c.ratio;
            double hi = isfinite(c.lo) && isfinite(c.hi) ? c.hi : c.ratio;
            fprintf(f, " %.6g %.6g %.6g", c.ratio, lo, hi);
        }
        fputc('\n', f);
        lines++;
    }
    if ((rc = close_data(f, path)))
        goto out;
    if (!lines) {
        skip(p, "%s: no group has %s rows to normalise to", name, ref);
        goto out;
    }
    char title[700];
    if (mode == TP_ALLOCATORS)
        snprintf(title, sizeof title, "allocators, allocator-only workloads: throughput relative to %s", ref);
    else if (mode == TP_COLLECTORS)
        snprintf(title, sizeof title, "collectors on the %s allocator: throughput relative to %s", p->ref, ref);
    else
        snprintf(title, sizeof title, "allocators under the %s collector: throughput relative to %s+%s", coll, ref,
                 coll);
    size_t tl = strlen(title);
    snprintf(title + tl, sizeof title - tl, "\nbars: ratio of medians; %s",
             any_ci ? "whiskers: its 95% confidence interval" : "no intervals (too few repetitions)");
    rc = draw(p, "throughput.gp", path, name, title);
out:
    free(a);
    free(v);
    names_free(&groups);
    names_free(&keys);
    return rc;
}

/* One figure per collector comparing the allocators under it. */
static int fig_throughput_under(pctx *p)
{
    names colls = {0};
    int rc = 0;
    for (size_t r = 0; r < p->s.doc.nrows && !rc; r++)
        if (is_collector_row(p, r) && names_add(&colls, F(p, r, p->c_coll)) < 0)
            rc = bad("out of memory, or more than %d collectors", MAX_SERIES);
    for (size_t k = 0; k < colls.n && !rc; k++)
        rc = fig_throughput(p, TP_UNDER, colls.v[k]);
    names_free(&colls);
    return rc;
}

/* ---- thread scaling */
static int cmp_int_str(const void *x, const void *y)
{
    return atoi(*(char *const *)x) - atoi(*(char *const *)y);
}

static int fig_scaling(pctx *p)
{
    int col = hb_csvdoc_col(&p->s.doc, "ops_per_s"), rc = 0;
    names groups = {0};
    char g[512], b[256];
    for (size_t r = 0; r < p->s.doc.nrows; r++)
        if (col >= 0 && !strcmp(F(p, r, p->s.c_status), "ok")) {
            group(p, r, 0, g, sizeof g);
            names_add(&groups, g);
        }
    size_t cap = p->s.doc.nrows + 1, any = 0;
    double *v = malloc(cap * sizeof *v);
    if (!v)
        return bad("out of memory");
    for (size_t i = 0; i < groups.n && !rc; i++) {
        names bes = {0}, th = {0};
        for (size_t r = 0; r < p->s.doc.nrows; r++) {
            group(p, r, 0, g, sizeof g);
            if (strcmp(g, groups.v[i]) || strcmp(F(p, r, p->s.c_status), "ok"))
                continue;
            backend(p, r, b, sizeof b);
            names_add(&bes, b);
            names_add(&th, F(p, r, p->c_threads));
        }
        if (th.n < 2) {
            names_free(&bes);
            names_free(&th);
            continue;
        }
        qsort(th.v, th.n, sizeof th.v[0], cmp_int_str);
        char name[600], path[PATH_MAX + 700], title[600];
        slug(groups.v[i], g, sizeof g);
        snprintf(name, sizeof name, "scaling-%s", g);
        FILE *f = open_data(p, name, path, sizeof path);
        if (!f) {
            rc = 2;
        } else {
            for (size_t k = 0; k < bes.n; k++) {
                /* blocks separated by two blank lines, none after the last */
                fprintf(f, "%s\"%s\"\n", k ? "\n\n" : "", bes.v[k]);
                for (size_t t = 0; t < th.n; t++) {
                    size_t n = gather(p, 0, groups.v[i], bes.v[k], th.v[t], col, v, cap);
                    double med, lo = INFINITY, hi = -INFINITY;
                    if (!n || hb_stats_median(v, n, &med))
                        continue;
                    for (size_t j = 0; j < n; j++)
                        lo = fmin(lo, v[j]), hi = fmax(hi, v[j]);
                    fprintf(f, "%s %.6g %.6g %.6g\n", th.v[t], med, lo, hi);
                }
            }
            rc = close_data(f, path);
            snprintf(title, sizeof title, "thread scaling: %s (median, min-max over repetitions)", groups.v[i]);
            if (!rc)
                rc = draw(p, "scaling.gp", path, name, title);
            any++;
        }
        names_free(&bes);
        names_free(&th);
    }
    if (!rc && !any)
        skip(p, "scaling: no workload was run at two or more thread counts");
    free(v);
    names_free(&groups);
    return rc;
}

/* ---- latency percentiles */
static int fig_latency(pctx *p)
{
    static const char *const cols[] = {"lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns"};
    static const char *const label[] = {"p50", "p90", "p99", "p99.9", "max"};
    int c[5], rc = 0;
    for (int k = 0; k < 5; k++)
        if ((c[k] = hb_csvdoc_col(&p->s.doc, cols[k])) < 0) {
            skip(p, "latency: the file has no %s column", cols[k]);
            return 0;
        }
    names groups = {0};
    char g[512], b[256];
    for (size_t r = 0; r < p->s.doc.nrows; r++)
        if (!strcmp(F(p, r, p->s.c_status), "ok") && *F(p, r, c[0])) {
            group(p, r, 1, g, sizeof g);
            names_add(&groups, g);
        }
    size_t cap = p->s.doc.nrows + 1;
    double *v = malloc(cap * sizeof *v);
    if (!v)
        return bad("out of memory");
    for (size_t i = 0; i < groups.n && !rc; i++) {
        names bes = {0};
        for (size_t r = 0; r < p->s.doc.nrows; r++) {
            group(p, r, 1, g, sizeof g);
            if (!strcmp(g, groups.v[i]) && !strcmp(F(p, r, p->s.c_status), "ok") && *F(p, r, c[0])) {
                backend(p, r, b, sizeof b);
                names_add(&bes, b);
            }
        }
        char name[600], path[PATH_MAX + 700], title[600];
        slug(groups.v[i], g, sizeof g);
        snprintf(name, sizeof name, "latency-%s", g);
        FILE *f = open_data(p, name, path, sizeof path);
        if (!f) {
            rc = 2;
            break;
        }
        for (size_t k = 0; k < bes.n; k++) {
            fprintf(f, "%s\"%s\"\n", k ? "\n\n" : "", bes.v[k]);
            for (int q = 0; q < 5; q++) {
                size_t n = gather(p, 1, groups.v[i], bes.v[k], NULL, c[q], v, cap);
                double med;
                /* a latency of 0 ns cannot sit on a log axis: below the clock's resolution */
                if (n && !hb_stats_median(v, n, &med))
                    fprintf(f, "%d %s %.6g\n", q + 1, label[q], med > 0 ? med : 1);
            }
        }
        rc = close_data(f, path);
        snprintf(title, sizeof title, "operation latency: %s (median over repetitions)", groups.v[i]);
        if (!rc)
            rc = draw(p, "latency.gp", path, name, title);
        names_free(&bes);
    }
    if (!rc && !groups.n)
        skip(p, "latency: no ok row has latency figures");
    free(v);
    names_free(&groups);
    return rc;
}

/* ---- companions: pauses and RSS samples */

static int load_comp(pctx *p, const char *suffix, comp *c, const char *const *need, size_t nneed)
{
    char path[PATH_MAX + 32], why[1024];
    snprintf(path, sizeof path, "%s%s", p->stem, suffix);
    memset(c, 0, sizeof *c);
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (hb_csvdoc_read(path, &c->d, why, sizeof why))
        return bad("%s", why);
    for (size_t k = 0; k < nneed; k++)
        if (hb_csvdoc_col(&c->d, need[k]) < 0) {
            hb_csvdoc_free(&c->d);
            return bad("%s:1: no column '%s'", path, need[k]);
        }
    c->have = 1;
    c->c_cell = hb_csvdoc_col(&c->d, "cell");
    c->c_rep = hb_csvdoc_col(&c->d, "rep");
    c->c_run = hb_csvdoc_col(&c->d, "run_id");
    return 0;
}

/* Whether pause rows x and y are of one repetition: rep and run_id alike,
 * compared whole (a joined key, cut to a buffer, once lost its separator). */
static int same_rep(const comp *c, size_t x, size_t y)
{
    char **a = c->d.rows[x].field, **b = c->d.rows[y].field;
    return !strcmp(a[c->c_rep], b[c->c_rep]) && (c->c_run < 0 || !strcmp(a[c->c_run], b[c->c_run]));
}

/* The main file's row of (run_id, cell, rep), or SIZE_MAX. */
static size_t main_row(const pctx *p, const char *run, const char *cell, const char *rep)
{
    for (size_t r = 0; r < p->s.doc.nrows; r++)
        if (!strcmp(F(p, r, p->s.c_cell), cell) && !strcmp(F(p, r, p->c_rep), rep) &&
            (!run || p->c_run < 0 || !strcmp(F(p, r, p->c_run), run)))
            return r;
    return SIZE_MAX;
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
static int fig_pauses(pctx *p)
{
    comp c = p->pauses;
    int rc = 0;
    if (!c.have || !c.d.nrows) {
        skip(p, "pause CDFs and MMU curves: %s", c.have ? "the pauses file has no pauses" : "no pauses file beside the results");
        return 0;
    }
    int c_start = hb_csvdoc_col(&c.d, "start_ms"), c_dur = hb_csvdoc_col(&c.d, "duration_us"),
        c_thr = hb_csvdoc_col(&c.d, "thread");
    names groups = {0};
    char g[512], b[256];
    for (size_t k = 0; k < c.d.nrows; k++) {
        size_t r = main_row(p, c.c_run >= 0 ? c.d.rows[k].field[c.c_run] : NULL, c.d.rows[k].field[c.c_cell],
                            c.d.rows[k].field[c.c_rep]);
        if (r != SIZE_MAX) {
            group(p, r, 1, g, sizeof g);
            names_add(&groups, g);
        }
    }
    double *dur = malloc((c.d.nrows + 1) * sizeof *dur);
    hb_pause *ev = malloc((c.d.nrows + 1) * sizeof *ev);
    size_t *rep_row = malloc((c.d.nrows + 1) * sizeof *rep_row); /* a cell's repetitions: their first pause row */
    if (!dur || !ev || !rep_row)
        rc = bad("out of memory");
    for (size_t i = 0; i < groups.n && !rc; i++) {
        /* the cells of this group with pauses, in file order */
        names cells = {0};
        for (size_t k = 0; k < c.d.nrows; k++) {
            size_t r = main_row(p, c.c_run >= 0 ? c.d.rows[k].field[c.c_run] : NULL, c.d.rows[k].field[c.c_cell],
                                c.d.rows[k].field[c.c_rep]);
            if (r == SIZE_MAX)
                continue;
            group(p, r, 1, g, sizeof g);
            if (!strcmp(g, groups.v[i]))
                names_add(&cells, c.d.rows[k].field[c.c_cell]);
        }
        char sg[512], name[2][600], path[2][PATH_MAX + 700], title[2][600];
        slug(groups.v[i], sg, sizeof sg);
        snprintf(name[0], sizeof name[0], "pause_cdf-%s", sg);
        snprintf(name[1], sizeof name[1], "mmu-%s", sg);
        FILE *f[2] = {open_data(p, name[0], path[0], sizeof path[0]), open_data(p, name[1], path[1], sizeof path[1])};
        if (!f[0] || !f[1]) {
            rc = 2;
            if (f[0])
                fclose(f[0]);
            if (f[1])
                fclose(f[1]);
            names_free(&cells);
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
                if (!strcmp(c.d.rows[k].field[c.c_cell], cells.v[j])) {
                    size_t r = main_row(p, c.c_run >= 0 ? c.d.rows[k].field[c.c_run] : NULL, cells.v[j],
                                        c.d.rows[k].field[c.c_rep]);
                    if (r == SIZE_MAX)
                        continue;
                    dur[n++] = num(&c.d, k, c_dur);
                    size_t q = 0;
                    while (q < nreps && !same_rep(&c, rep_row[q], k))
                        q++;
                    if (q == nreps)
                        rep_row[nreps++] = k;
                    if (r0 == SIZE_MAX)
                        r0 = r;
                }
            backend(p, r0, b, sizeof b);
            qsort(dur, n, sizeof *dur, cmp_dbl);
            fprintf(f[0], "%s\"%s (%zu pauses)\"\n", j ? "\n\n" : "", b, n);
            for (size_t k = 0; k < n; k++)
                fprintf(f[0], "%.6g %.6g\n", dur[k] > 0 ? dur[k] : 0.001, (double)(k + 1) / (double)n);
            /* MMU: per repetition and thread, the worst over both */
            double mmu[MMU_POINTS];
            for (int w = 0; w < MMU_POINTS; w++)
                mmu[w] = INFINITY;
            for (size_t q = 0; q < nreps; q++) {
                size_t ne = 0;
                double end_ms = 0;
                for (size_t k = 0; k < c.d.nrows; k++) {
                    const hb_csvrow *row = &c.d.rows[k];
                    if (strcmp(row->field[c.c_cell], cells.v[j]) || !same_rep(&c, rep_row[q], k))
                        continue;
                    double s = num(&c.d, k, c_start), d = num(&c.d, k, c_dur);
                    ev[ne] = (hb_pause){.start_ns = (uint64_t)(s * 1e6), .duration_ns = (uint64_t)(d * 1e3),
                                        .thread = c_thr >= 0 && *row->field[c_thr] ? (int)num(&c.d, k, c_thr) : 0};
                    end_ms = fmax(end_ms, s + d / 1e3);
                    ne++;
                }
                char **first = c.d.rows[rep_row[q]].field;
                size_t mr = main_row(p, c.c_run >= 0 && *first[c.c_run] ? first[c.c_run] : NULL, cells.v[j],
                                     first[c.c_rep]);
                if (mr != SIZE_MAX && p->c_wall >= 0 && *F(p, mr, p->c_wall))
                    end_ms = fmax(end_ms, num(&p->s.doc, mr, p->c_wall) * 1e3);
                qsort(ev, ne, sizeof *ev, by_start);
                uint64_t t1 = (uint64_t)(end_ms * 1e6);
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
        rc = close_data(f[0], path[0]);
        int rc2 = close_data(f[1], path[1]);
        rc = rc ? rc : rc2;
        snprintf(title[0], sizeof title[0], "pause durations: %s (all repetitions)", groups.v[i]);
        snprintf(title[1], sizeof title[1], "minimum mutator utilisation: %s (worst repetition and thread)",
                 groups.v[i]);
        if (!rc)
            rc = draw(p, "pause_cdf.gp", path[0], name[0], title[0]);
        if (!rc)
            rc = draw(p, "mmu.gp", path[1], name[1], title[1]);
        names_free(&cells);
    }
    if (!rc && !groups.n)
        skip(p, "pause CDFs and MMU curves: no pause belongs to a row of the results file");
    free(dur);
    free(ev);
    free(rep_row);
    names_free(&groups);
    return rc;
}

/* RSS and live bytes over time, one figure per cell, its first repetition. */
static int fig_rss(pctx *p)
{
    comp c = p->rss;
    int rc = 0;
    if (!c.have || !c.d.nrows) {
        skip(p, "RSS timelines: %s", c.have ? "the RSS file has no samples" : "no RSS file beside the results");
        return 0;
    }
    int c_ms = hb_csvdoc_col(&c.d, "ms"), c_rss = hb_csvdoc_col(&c.d, "rss_bytes"),
        c_live = hb_csvdoc_col(&c.d, "live_bytes");
    names cells = {0};
    for (size_t k = 0; k < c.d.nrows; k++)
        names_add(&cells, c.d.rows[k].field[c.c_cell]);
    for (size_t j = 0; j < cells.n && !rc; j++) {
        char sg[512], name[600], path[PATH_MAX + 700], title[600], run0[128] = "", rep0[32] = "";
        slug(cells.v[j], sg, sizeof sg);
        snprintf(name, sizeof name, "rss-%s", sg);
        FILE *f = open_data(p, name, path, sizeof path);
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
            double live = *fl[c_live] ? num(&c.d, k, c_live) : -1;
            fprintf(f, "%s %.6g ", fl[c_ms], num(&c.d, k, c_rss) / 1048576.0);
            if (live >= 0)
                fprintf(f, "%.6g\n", live / 1048576.0);
            else
                fprintf(f, "?\n");
        }
        rc = close_data(f, path);
        snprintf(title, sizeof title, "%s (repetition %s)", cells.v[j], rep0);
        if (!rc)
            rc = draw(p, "rss.gp", path, name, title);
    }
    names_free(&cells);
    return rc;
}

static void plot_free(pctx *p)
{
    hb_csvdoc_free(&p->pauses.d);
    hb_csvdoc_free(&p->rss.d);
    hb_cellset_free(&p->s);
}

static int mkdirs(const char *path)
{
    char tmp[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *s = tmp + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return errno;
            *s = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return errno;
    return 0;
}

int hb_plot_main(int argc, char **argv)
{
    pctx p = {.ref = "system", .ref_coll = "rcgen"};
    const char *file = NULL, *out = NULL, *scripts = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--ref") || !strcmp(a, "--ref-collector") || !strcmp(a, "--out") || !strcmp(a, "--scripts")) {
            if (i + 1 >= argc)
                return bad("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--ref"))
                p.ref = v;
            else if (!strcmp(a, "--ref-collector"))
                p.ref_coll = v;
            else if (!strcmp(a, "--out"))
                out = v;
            else
                scripts = v;
        } else if (!strcmp(a, "--data-only")) {
            p.data_only = 1;
        } else if (!strncmp(a, "--", 2)) {
            return bad("unknown option '%s'; valid: --ref ALLOCATOR, --ref-collector COLLECTOR, --out DIR, "
                       "--scripts DIR, --data-only", a);
        } else if (!file) {
            file = a;
        } else {
            return bad("usage: heapbench plot FILE.csv [--ref ALLOCATOR] [--ref-collector COLLECTOR] [--out DIR] "
                   "[--scripts DIR] [--data-only]");
        }
    }
    if (!file)
        return bad("usage: heapbench plot FILE.csv [--ref ALLOCATOR] [--ref-collector COLLECTOR] [--out DIR] "
                   "[--scripts DIR] [--data-only]");
    size_t fl = strlen(file);
    if (fl < 5 || strcmp(file + fl - 4, ".csv"))
        return bad("'%s' does not end in .csv (its companions' names are made from it)", file);
    snprintf(p.stem, sizeof p.stem, "%.*s", (int)(fl - 4), file);
    /* The scripts: --scripts, $HEAPBENCH_PLOTS, plots/ of the source tree
     * this binary was built from, or plots/ where the command runs. */
    if (!scripts)
        scripts = getenv("HEAPBENCH_PLOTS");
#ifdef HB_PLOTS_DIR
    if (!scripts && access(HB_PLOTS_DIR "/throughput.gp", R_OK) == 0)
        scripts = HB_PLOTS_DIR;
#endif
    if (!scripts)
        scripts = "plots";
    snprintf(p.scripts, sizeof p.scripts, "%s", scripts);
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/throughput.gp", p.scripts);
    if (!p.data_only && access(probe, R_OK) != 0)
        return bad("cannot find the gnuplot scripts (%s: %s); run from the source tree or pass --scripts "
                   "DIR or set HEAPBENCH_PLOTS", probe, strerror(errno));
    char why[1024];
    if (hb_cellset_load(file, &p.s, why, sizeof why))
        return bad("%s", why);
    static const char *const need[] = {"workload", "allocator", "threads", "rep"};
    for (size_t k = 0; k < 4; k++)
        if (hb_csvdoc_col(&p.s.doc, need[k]) < 0) {
            hb_cellset_free(&p.s);
            return bad("%s:1: not a results file (no column '%s')", file, need[k]);
        }
    p.c_workload = hb_csvdoc_col(&p.s.doc, "workload");
    p.c_alloc = hb_csvdoc_col(&p.s.doc, "allocator");
    p.c_coll = hb_csvdoc_col(&p.s.doc, "collector");
    p.c_heap = hb_csvdoc_col(&p.s.doc, "heap");
    p.c_threads = hb_csvdoc_col(&p.s.doc, "threads");
    p.c_size = hb_csvdoc_col(&p.s.doc, "size");
    p.c_params = hb_csvdoc_col(&p.s.doc, "params");
    p.c_rep = hb_csvdoc_col(&p.s.doc, "rep");
    p.c_run = hb_csvdoc_col(&p.s.doc, "run_id");
    p.c_wall = hb_csvdoc_col(&p.s.doc, "wall_s");
    /* the companions now: a damaged one is refused before any file is
     * written, not after half the figures */
    static const char *const need_pauses[] = {"cell", "rep", "start_ms", "duration_us"};
    static const char *const need_rss[] = {"cell", "rep", "ms", "rss_bytes", "live_bytes"};
    if (load_comp(&p, ".pauses.csv", &p.pauses, need_pauses, 4) || load_comp(&p, ".rss.csv", &p.rss, need_rss, 5)) {
        plot_free(&p);
        return 2;
    }
    p.file = file;
    if (out && (!*out || strlen(out) >= PATH_MAX)) {
        plot_free(&p);
        return bad("--out '%s' is not a directory name", out);
    }
    allocator_names(&p);
    if (out) {
        snprintf(p.out, sizeof p.out, "%s", out);
    } else {
        const char *base = strrchr(p.stem, '/');
        snprintf(p.out, sizeof p.out, "plots/%s", base ? base + 1 : p.stem);
    }
    snprintf(p.data, sizeof p.data, "%s/data", p.out);
    int err = mkdirs(p.data), rc = 0;
    if (err) {
        plot_free(&p);
        return bad("cannot create %s: %s", p.data, strerror(err));
    }
    struct stat so;
    err = stat(p.out, &so) != 0 ? errno : !S_ISDIR(so.st_mode) ? ENOTDIR
          : access(p.out, W_OK) != 0 || access(p.data, W_OK) != 0 ? errno : 0;
    if (err) {
        plot_free(&p);
        return bad("cannot write figures into %s: %s", p.out, strerror(err));
    }
    char log[PATH_MAX + 64];
    snprintf(log, sizeof log, "%s/gnuplot.log", p.data);
    unlink(log);
    /* a figure gnuplot could not draw is said and counted (draw), and the
     * others are still drawn; an error of our own stops here */
    if (!rc)
        rc = fig_throughput(&p, TP_ALLOCATORS, NULL);
    if (!rc)
        rc = fig_throughput(&p, TP_COLLECTORS, NULL);
    if (!rc)
        rc = fig_throughput_under(&p);
    if (!rc)
        rc = fig_scaling(&p);
    if (!rc)
        rc = fig_latency(&p);
    if (!rc)
        rc = fig_pauses(&p);
    if (!rc)
        rc = fig_rss(&p);
    if (!rc && p.data_only)
        printf("the data of %zu figures in %s (--data-only: none drawn); %zu skipped\n", p.drawn, p.data,
               p.skipped);
    else if (!rc)
        printf("%zu figures (PNG and SVG) in %s; %zu skipped; %zu failed; their data and gnuplot's log in %s\n",
               p.drawn, p.out, p.skipped, p.failed, p.data);
    plot_free(&p);
    return rc ? rc : p.failed ? 2 : 0;
}
