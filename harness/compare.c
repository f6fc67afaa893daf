/* compare.c -- `heapbench compare A.csv B.csv`: every cell both files have,
 * metric by metric: the medians, their ratio B/A, a 95% interval of the
 * ratio, and the Mann-Whitney p-value, Holm-corrected over every test in the
 * table (a table of 100 cells at 5% would otherwise show five differences
 * that are not there); the geometric mean of the ratios per metric.
 *
 * Nothing is dropped silently: cells only one file has, and cells whose rows
 * on one side are none of them ok, are listed after the table with why. A
 * metric a cell has no values for on either side (pauses of an allocator-only
 * workload) is left out for that cell: there is nothing to compare. */
#include "cellset.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_METRICS 16

typedef enum { FMT_TEXT, FMT_CSV, FMT_MARKDOWN } format;

typedef struct test {
    size_t cell; /* index into A's cells */
    const hb_metric_info *m;
    hb_metric_cmp r;
} test;

typedef struct cmpctx {
    hb_cellset a, b;
    const hb_metric_info *metric[MAX_METRICS];
    size_t nmetric;
    test *t;
    size_t nt;
    format fmt;
    int colour;
} cmpctx;

static int usage(void)
{
    fprintf(stderr, "usage: heapbench compare A.csv B.csv [--format text|csv|markdown] "
                    "[--metrics wall_s,ops_per_s,pause_p99_us,peak_rss_kb]\n");
    return 2;
}

/* +1: B is better with confidence (Holm p < 0.05 and the interval excludes
 * 1), -1: worse, 0: no difference shown. */
static int verdict(const test *t)
{
    if (!(t->r.p_holm < 0.05) || !isfinite(t->r.lo) || (t->r.lo <= 1 && t->r.hi >= 1))
        return 0;
    int up = t->r.lo > 1;
    return up == t->m->higher_is_better ? 1 : -1;
}

static const char *verdict_word(int v)
{
    return v > 0 ? "better" : v < 0 ? "worse" : "~";
}

static void fmt_p(char *buf, size_t len, double p)
{
    if (!isfinite(p))
        snprintf(buf, len, "-");
    else if (p < 0.001)
        snprintf(buf, len, "<0.001");
    else
        snprintf(buf, len, "%.3f", p);
}

static void fmt_ci(char *buf, size_t len, const hb_metric_cmp *r)
{
    if (!isfinite(r->lo) && !isinf(r->hi))
        snprintf(buf, len, "-");
    else if (isinf(r->hi))
        snprintf(buf, len, "(too few reps)");
    else
        snprintf(buf, len, "[%.3f, %.3f]", r->lo, r->hi);
}

static void fmt_num(char *buf, size_t len, double x)
{
    if (!isfinite(x))
        snprintf(buf, len, "-");
    else if (fabs(x) >= 1e7 || (fabs(x) < 1e-3 && x != 0))
        snprintf(buf, len, "%.4g", x);
    else if (fabs(x) >= 1000)
        snprintf(buf, len, "%.0f", x);
    else
        snprintf(buf, len, "%.4f", x);
    /* trailing zeros of %.4f say nothing */
    char *dot = strchr(buf, '.');
    if (dot && !strchr(buf, 'e')) {
        char *e = buf + strlen(buf) - 1;
        while (e > dot && *e == '0')
            *e-- = 0;
        if (e == dot)
            *e = 0;
    }
}

/* The reason a cell both files have was not compared: no ok row on a side. */
static void why_no_rows(const hb_cellset_cell *c, const hb_cellset *s, char *buf, size_t len)
{
    if (c->first_bad)
        snprintf(buf, len, "%zu row%s, none ok (%s:%zu: %s%s%s)", c->nrows, c->nrows == 1 ? "" : "s",
                 c->first_bad->path, c->first_bad->line, c->first_bad->field[s->c_status],
                 c->first_bad->field[s->c_error][0] ? ": " : "", c->first_bad->field[s->c_error]);
    else
        snprintf(buf, len, "%zu row%s, all skipped", c->nrows, c->nrows == 1 ? "" : "s");
}

static int run_tests(cmpctx *x)
{
    size_t cap = x->a.ncells * x->nmetric + 1;
    x->t = calloc(cap, sizeof *x->t);
    if (!x->t)
        return ENOMEM;
    char why[1024];
    for (size_t m = 0; m < x->nmetric; m++)
        for (size_t i = 0; i < x->a.ncells; i++) {
            const hb_cellset_cell *ca = &x->a.cells[i], *cb = hb_cellset_find(&x->b, ca->name);
            if (!cb)
                continue;
            double *va, *vb;
            size_t na, nb;
            int err = hb_cellset_values(&x->a, ca, x->metric[m]->name, &va, &na, why, sizeof why);
            if (!err && (err = hb_cellset_values(&x->b, cb, x->metric[m]->name, &vb, &nb, why, sizeof why)))
                free(va);
            if (err) {
                fprintf(stderr, "heapbench compare: %s\n", why);
                return err;
            }
            if (na && nb) {
                test *t = &x->t[x->nt];
                *t = (test){.cell = i, .m = x->metric[m]};
                if ((err = hb_metric_cmp_compute(va, na, vb, nb, HB_TWO_SIDED, &t->r))) {
                    free(va);
                    free(vb);
                    return err;
                }
                x->nt++;
            }
            free(va);
            free(vb);
        }
    double *p = malloc((x->nt + 1) * sizeof *p);
    if (!p)
        return ENOMEM;
    for (size_t k = 0; k < x->nt; k++)
        p[k] = x->t[k].r.p;
    int err = hb_stats_holm(p, x->nt, p);
    for (size_t k = 0; !err && k < x->nt; k++)
        x->t[k].r.p_holm = p[k];
    free(p);
    return err;
}

/* Geometric mean of the finite ratios of metric m, and how many. */
static size_t geomean(const cmpctx *x, const hb_metric_info *m, double *g)
{
    double acc = 0;
    size_t n = 0;
    for (size_t k = 0; k < x->nt; k++)
        if (x->t[k].m == m && x->t[k].r.ratio > 0 && isfinite(x->t[k].r.ratio))
            acc += log(x->t[k].r.ratio), n++;
    *g = n ? exp(acc / (double)n) : NAN;
    return n;
}

static void csv_field(const char *v)
{
    if (!strpbrk(v, ",\"\n\r")) {
        fputs(v, stdout);
        return;
    }
    putchar('"');
    for (; *v; v++) {
        if (*v == '"')
            putchar('"');
        putchar(*v);
    }
    putchar('"');
}

static void print_csv(const cmpctx *x)
{
    printf("row,metric,cell,n_a,n_b,median_a,median_b,ratio,ci_lo,ci_hi,p,p_holm,verdict,note\n");
    for (size_t k = 0; k < x->nt; k++) {
        const test *t = &x->t[k];
        printf("cell,%s,", t->m->name);
        csv_field(x->a.cells[t->cell].name);
        printf(",%zu,%zu,%.9g,%.9g,", t->r.na, t->r.nb, t->r.med_a, t->r.med_b);
        if (isfinite(t->r.ratio))
            printf("%.6g", t->r.ratio);
        putchar(',');
        if (isfinite(t->r.lo) && isfinite(t->r.hi))
            printf("%.6g,%.6g", t->r.lo, t->r.hi);
        else
            putchar(',');
        printf(",%.6g,%.6g,%s,\n", t->r.p, t->r.p_holm, verdict_word(verdict(t)));
    }
    for (size_t m = 0; m < x->nmetric; m++) {
        double g;
        size_t n = geomean(x, x->metric[m], &g);
        if (n)
            printf("geomean,%s,,%zu,%zu,,,%.6g,,,,,,over %zu cells\n", x->metric[m]->name, n, n, g, n);
    }
    char why[1024];
    for (size_t i = 0; i < x->a.ncells; i++) {
        const hb_cellset_cell *ca = &x->a.cells[i], *cb = hb_cellset_find(&x->b, ca->name);
        if (!cb) {
            printf("only_a,,");
            csv_field(ca->name);
            printf(",,,,,,,,,,,only in %s\n", x->a.doc.path);
        } else if (!ca->nok || !cb->nok) {
            why_no_rows(!ca->nok ? ca : cb, !ca->nok ? &x->a : &x->b, why, sizeof why);
            printf("not_compared,,");
            csv_field(ca->name);
            printf(",,,,,,,,,,,");
            char note[1200];
            snprintf(note, sizeof note, "%s: %s", !ca->nok ? "A" : "B", why);
            csv_field(note);
            putchar('\n');
        }
    }
    for (size_t i = 0; i < x->b.ncells; i++)
        if (!hb_cellset_find(&x->a, x->b.cells[i].name)) {
            printf("only_b,,");
            csv_field(x->b.cells[i].name);
            printf(",,,,,,,,,,,only in %s\n", x->b.doc.path);
        }
}

static void print_table(const cmpctx *x)
{
    int md = x->fmt == FMT_MARKDOWN;
    size_t w = 4;
    for (size_t k = 0; k < x->nt; k++) {
        size_t l = strlen(x->a.cells[x->t[k].cell].name);
        if (l > w)
            w = l;
    }
    if (md)
        printf("## `heapbench compare`: A = `%s`, B = `%s`\n\n", x->a.doc.path, x->b.doc.path);
    else
        printf("A = %s, B = %s\n", x->a.doc.path, x->b.doc.path);
    printf("%sratio = median(B) / median(A); 95%% CI of the ratio: Hodges-Lehmann; p: Mann-Whitney U, "
           "two-sided, Holm-corrected over the %zu tests below%s\n",
           md ? "" : "", x->nt, md ? ".\n" : "");
    /* The test cannot reach significance with too few repetitions: say so
     * rather than let "~" everywhere pass for "no difference". */
    size_t fewest_a = SIZE_MAX, fewest_b = SIZE_MAX;
    for (size_t k = 0; k < x->nt; k++) {
        if (x->t[k].r.na < fewest_a)
            fewest_a = x->t[k].r.na;
        if (x->t[k].r.nb < fewest_b)
            fewest_b = x->t[k].r.nb;
    }
    if (x->nt && hb_stats_mwu_min_p(fewest_a, fewest_b, HB_TWO_SIDED) * (double)x->nt >= 0.05) {
        size_t r = 2;
        while (hb_stats_mwu_min_p(r, r, HB_TWO_SIDED) * (double)x->nt * 4 >= 0.05 && r < 100)
            r++;
        printf("%snote: with %zu and %zu repetitions no cell can show a difference at 5%% after Holm's "
               "correction over %zu tests; use %zu or more repetitions a side%s\n",
               md ? "\n> " : "", fewest_a, fewest_b, x->nt, r, md ? "\n" : "");
    }
    const char *red = x->colour ? "\033[31m" : "", *green = x->colour ? "\033[32m" : "",
               *bold = x->colour ? "\033[1m" : "", *off = x->colour ? "\033[0m" : "";
    for (size_t m = 0; m < x->nmetric; m++) {
        const hb_metric_info *mi = x->metric[m];
        size_t count = 0;
        for (size_t k = 0; k < x->nt; k++)
            count += x->t[k].m == mi;
        if (!count)
            continue;
        if (md) {
            printf("\n### %s (`%s`, %s; %s is better)\n\n", mi->what, mi->name, mi->unit,
                   mi->higher_is_better ? "higher" : "lower");
            printf("| cell | n A/B | median A | median B | ratio B/A | 95%% CI | p (Holm) | |\n");
            printf("|---|---:|---:|---:|---:|---|---:|---|\n");
        } else {
            printf("\n%s%s%s (%s, %s; %s is better)\n", bold, mi->name, off, mi->what, mi->unit,
                   mi->higher_is_better ? "higher" : "lower");
            printf("  %-*s  %7s  %12s  %12s  %7s  %-18s  %8s\n", (int)w, "cell", "n A/B", "median A",
                   "median B", "ratio", "95% CI", "p(Holm)");
        }
        for (size_t k = 0; k < x->nt; k++) {
            const test *t = &x->t[k];
            if (t->m != mi)
                continue;
            char ma[32], mb[32], ci[40], p[16], n[24], ratio[24];
            fmt_num(ma, sizeof ma, t->r.med_a);
            fmt_num(mb, sizeof mb, t->r.med_b);
            fmt_ci(ci, sizeof ci, &t->r);
            fmt_p(p, sizeof p, t->r.p_holm);
            snprintf(n, sizeof n, "%zu/%zu", t->r.na, t->r.nb);
            if (isfinite(t->r.ratio))
                snprintf(ratio, sizeof ratio, "%.3f", t->r.ratio);
            else
                snprintf(ratio, sizeof ratio, "-");
            int v = verdict(t);
            const char *name = x->a.cells[t->cell].name;
            if (md)
                printf("| `%s` | %s | %s | %s | %s%s%s | %s | %s | %s |\n", name, n, ma, mb, v ? "**" : "",
                       ratio, v ? "**" : "", ci, p, verdict_word(v));
            else
                printf("  %-*s  %7s  %12s  %12s  %s%7s%s  %-18s  %8s  %s%s%s\n", (int)w, name, n, ma, mb,
                       v > 0 ? green : v < 0 ? red : "", ratio, v ? off : "", ci, p,
                       v > 0 ? green : v < 0 ? red : "", verdict_word(v), v ? off : "");
        }
        double g;
        size_t gn = geomean(x, mi, &g);
        if (gn && md)
            printf("\nGeometric mean of the ratios over %zu cells: **%.3f**\n", gn, g);
        else if (gn)
            printf("  geometric mean of the ratios over %zu cells: %s%.3f%s\n", gn, bold, g, off);
    }
    char why[1024];
    int header = 0;
    for (int side = 0; side < 2; side++) {
        const hb_cellset *s = side ? &x->b : &x->a, *o = side ? &x->a : &x->b;
        for (size_t i = 0; i < s->ncells; i++)
            if (!hb_cellset_find(o, s->cells[i].name)) {
                if (!header++)
                    printf(md ? "\n### Not compared\n\n" : "\nnot compared:\n");
                printf(md ? "- `%s`: only in `%s`\n" : "  %s: only in %s\n", s->cells[i].name, s->doc.path);
            }
    }
    for (size_t i = 0; i < x->a.ncells; i++) {
        const hb_cellset_cell *ca = &x->a.cells[i], *cb = hb_cellset_find(&x->b, ca->name);
        if (!cb || (ca->nok && cb->nok))
            continue;
        if (!header++)
            printf(md ? "\n### Not compared\n\n" : "\nnot compared:\n");
        why_no_rows(!ca->nok ? ca : cb, !ca->nok ? &x->a : &x->b, why, sizeof why);
        printf(md ? "- `%s`: %s: %s\n" : "  %s: %s: %s\n", ca->name, !ca->nok ? "A" : "B", why);
    }
}

static int set_metrics(cmpctx *x, const char *list)
{
    x->nmetric = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        char name[64];
        if (len == 0 || len >= sizeof name || x->nmetric == MAX_METRICS)
            goto bad;
        memcpy(name, p, len);
        name[len] = 0;
        if (!(x->metric[x->nmetric++] = hb_metric_find(name)))
            goto bad;
        if (!p[len])
            return 0;
        p += len + 1;
    }
bad:
    fprintf(stderr, "heapbench compare: bad --metrics '%s'; valid: wall_s, ops_per_s, pause_p99_us, "
                    "peak_rss_kb, user_s, sys_s, final_rss_kb, pause_max_us, pause_total_ms, lat_p50_ns, "
                    "lat_p99_ns\n", list);
    return 2;
}

int hb_compare_main(int argc, char **argv)
{
    cmpctx x = {.fmt = FMT_TEXT};
    const char *path[2] = {0};
    int np = 0, rc = 0;
    if (set_metrics(&x, "wall_s,ops_per_s,pause_p99_us,peak_rss_kb"))
        return 2;
    for (int i = 0; i < argc; i++) {
        const char *val = NULL;
        if (!strcmp(argv[i], "--format") || !strcmp(argv[i], "--metrics")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "heapbench compare: %s needs a value\n", argv[i]);
                return 2;
            }
            val = argv[i + 1];
        } else if (!strncmp(argv[i], "--format=", 9) || !strncmp(argv[i], "--metrics=", 10)) {
            val = strchr(argv[i], '=') + 1;
        }
        if (!strncmp(argv[i], "--format", 8) && val) {
            if (!strcmp(val, "text"))
                x.fmt = FMT_TEXT;
            else if (!strcmp(val, "csv"))
                x.fmt = FMT_CSV;
            else if (!strcmp(val, "markdown"))
                x.fmt = FMT_MARKDOWN;
            else {
                fprintf(stderr, "heapbench compare: bad --format '%s'; valid: text, csv, markdown\n", val);
                return 2;
            }
            i += !strchr(argv[i], '=');
        } else if (!strncmp(argv[i], "--metrics", 9) && val) {
            if (set_metrics(&x, val))
                return 2;
            i += !strchr(argv[i], '=');
        } else if (!strncmp(argv[i], "--", 2)) {
            fprintf(stderr, "heapbench compare: unknown option '%s'; valid: --format, --metrics\n", argv[i]);
            return 2;
        } else if (np < 2) {
            path[np++] = argv[i];
        } else {
            return usage();
        }
    }
    if (np != 2)
        return usage();
    char why[1024];
    if (hb_cellset_load(path[0], &x.a, why, sizeof why) ||
        hb_cellset_load(path[1], &x.b, why, sizeof why)) {
        fprintf(stderr, "heapbench compare: %s\n", why);
        hb_cellset_free(&x.a);
        return 2;
    }
    /* Colour only for a person at a terminal; NO_COLOR (no-color.org) wins. */
    x.colour = x.fmt == FMT_TEXT && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    int err = run_tests(&x);
    if (err) {
        if (err == ENOMEM)
            fprintf(stderr, "heapbench compare: out of memory\n");
        rc = 2;
    } else if (x.fmt == FMT_CSV) {
        print_csv(&x);
    } else {
        print_table(&x);
    }
    if (!rc && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "heapbench compare: writing the table failed: %s\n", strerror(errno));
        rc = 2;
    }
    free(x.t);
    hb_cellset_free(&x.a);
    hb_cellset_free(&x.b);
    return rc;
}
