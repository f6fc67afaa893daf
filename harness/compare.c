/* compare.c -- `heapbench compare A.csv B.csv`: every cell both files have,
 * metric by metric: the medians, their ratio B/A, a 95% interval of the
 * ratio, and the Mann-Whitney p-value, Holm-corrected over every test in the
 * table (a table of 100 cells at 5% would otherwise show five differences
 * that are not there); the geometric mean of the ratios per metric.
 *
 * Nothing is dropped silently: cells only one file has, and cells whose rows
 * on one side are none of them ok, are listed after the table with why. A
 * metric a cell has no values for on either side (pauses of an allocator-only
 * workload) is left out for that cell: there is nothing to compare.
 *
 * `heapbench compare FILE --by DIM [--ref NAME]` compares within one file
 * instead: the alternatives of one dimension ranked in each cell of the
 * others (rank.c). */
#include "cellset.h"
#include "lbo.h"
#include "rank.h"
#include "tables.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_METRICS 16

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
    hb_format fmt;
    int colour;
} cmpctx;

static int usage(void)
{
    fprintf(stderr, "usage: heapbench compare A.csv B.csv | FILE.csv --by allocator|collector|workload|threads|heap|"
                    "size|PARAM [--ref NAME] [--paired] [--format text|csv|markdown] "
                    "[--metrics wall_s,ops_per_s,pause_p99_us,peak_rss_kb]\n");
    return 2;
}

static int verdict(const test *t)
{
    return hb_cmp_verdict(&t->r, t->m);
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

static int cmp_test(const void *u, const void *v, void *arg)
{
    const cmpctx *x = arg;
    const test *a = u, *b = v;
    if (a->m != b->m) {
        size_t i = 0, j = 0;
        while (x->metric[i] != a->m)
            i++;
        while (x->metric[j] != b->m)
            j++;
        return i < j ? -1 : 1;
    }
    return hb_natcmp(x->a.cells[a->cell].name, x->a.cells[b->cell].name);
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
    /* rows sorted: by metric as given, then by cell name, numbers by value */
    qsort_r(x->t, x->nt, sizeof *x->t, cmp_test, x);
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

static void print_csv(const cmpctx *x)
{
    printf("row,metric,cell,n_a,n_b,median_a,median_b,ratio,ci_lo,ci_hi,p,p_holm,verdict,note\n");
    for (size_t k = 0; k < x->nt; k++) {
        const test *t = &x->t[k];
        printf("cell,%s,", t->m->name);
        hb_csv_field(stdout, x->a.cells[t->cell].name);
        printf(",%zu,%zu,%.9g,%.9g,", t->r.na, t->r.nb, t->r.med_a, t->r.med_b);
        if (isfinite(t->r.ratio))
            printf("%.6g", t->r.ratio);
        putchar(',');
        if (isfinite(t->r.lo) && isfinite(t->r.hi))
            printf("%.6g,%.6g", t->r.lo, t->r.hi);
        else
            putchar(',');
        printf(",%.6g,%.6g,%s,\n", t->r.p, t->r.p_holm, hb_verdict_word(verdict(t)));
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
            hb_csv_field(stdout, ca->name);
            printf(",,,,,,,,,,,only in %s\n", x->a.doc.path);
        } else if (!ca->nok || !cb->nok) {
            why_no_rows(!ca->nok ? ca : cb, !ca->nok ? &x->a : &x->b, why, sizeof why);
            printf("not_compared,,");
            hb_csv_field(stdout, ca->name);
            printf(",,,,,,,,,,,");
            char note[1200];
            snprintf(note, sizeof note, "%s: %s", !ca->nok ? "A" : "B", why);
            hb_csv_field(stdout, note);
            putchar('\n');
        }
    }
    for (size_t i = 0; i < x->b.ncells; i++)
        if (!hb_cellset_find(&x->a, x->b.cells[i].name)) {
            printf("only_b,,");
            hb_csv_field(stdout, x->b.cells[i].name);
            printf(",,,,,,,,,,,only in %s\n", x->b.doc.path);
        }
}

static void print_table(const cmpctx *x)
{
    int md = x->fmt == HB_FMT_MARKDOWN;
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
            hb_fmt_num(ma, sizeof ma, t->r.med_a);
            hb_fmt_num(mb, sizeof mb, t->r.med_b);
            hb_fmt_ci(ci, sizeof ci, &t->r);
            hb_fmt_p(p, sizeof p, t->r.p_holm);
            snprintf(n, sizeof n, "%zu/%zu", t->r.na, t->r.nb);
            if (isfinite(t->r.ratio))
                snprintf(ratio, sizeof ratio, "%.3f", t->r.ratio);
            else
                snprintf(ratio, sizeof ratio, "-");
            int v = verdict(t);
            const char *name = x->a.cells[t->cell].name;
            if (md)
                printf("| `%s` | %s | %s | %s | %s%s%s | %s | %s | %s |\n", name, n, ma, mb, v ? "**" : "",
                       ratio, v ? "**" : "", ci, p, hb_verdict_word(v));
            else
                printf("  %-*s  %7s  %12s  %12s  %s%7s%s  %-18s  %8s  %s%s%s\n", (int)w, name, n, ma, mb,
                       v > 0 ? green : v < 0 ? red : "", ratio, v ? off : "", ci, p,
                       v > 0 ? green : v < 0 ? red : "", hb_verdict_word(v), v ? off : "");
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
    char names[512]; /* the valid ones, for the error */
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
    hb_metric_names(names, sizeof names);
    fprintf(stderr, "heapbench compare: bad --metrics '%s'; valid: %s\n", list, names);
    return 2;
}

/* compare FILE --lbo: the lower-bound overhead of each collector setting
 * (lbo.h) */
static int compare_lbo(const char *path, hb_format fmt)
{
    hb_cellset s;
    hb_lbo t;
    char why[1024];
    if (hb_cellset_load(path, &s, why, sizeof why)) {
        fprintf(stderr, "heapbench compare: %s\n", why);
        return 2;
    }
    int rc = 0;
    if (hb_lbo_compute(&s, &t, why, sizeof why)) {
        fprintf(stderr, "heapbench compare: %s\n", why);
        rc = 2;
    } else {
        hb_lbo_print(&t, fmt, stdout);
        hb_lbo_free(&t);
    }
    hb_cellset_free(&s);
    return rc;
}

/* compare FILE --by DIM: the alternatives ranked within one file */
static int compare_by(cmpctx *x, const char *path, const char *by, const char *ref, unsigned flags)
{
    char why[1024];
    if (hb_cellset_load(path, &x->a, why, sizeof why)) {
        fprintf(stderr, "heapbench compare: %s\n", why);
        return 2;
    }
    hb_rank_table t;
    int err = hb_rank_compute(&x->a, by, ref, x->metric, x->nmetric, flags, &t, why, sizeof why);
    if (err) {
        fprintf(stderr, "heapbench compare: %s\n", why);
        hb_cellset_free(&x->a);
        return 2;
    }
    hb_rank_print(&t, x->fmt, x->colour);
    hb_rank_free(&t);
    hb_cellset_free(&x->a);
    return 0;
}

int hb_compare_main(int argc, char **argv)
{
    cmpctx x = {.fmt = HB_FMT_TEXT};
    const char *path[2] = {0}, *by = NULL, *ref = NULL;
    int np = 0, rc = 0, lbo = 0, paired = 0;
    if (set_metrics(&x, "wall_s,ops_per_s,pause_p99_us,peak_rss_kb"))
        return 2;
    static const char *const opts[] = {"--format", "--metrics", "--by", "--ref"};
    for (int i = 0; i < argc; i++) {
        const char *val = NULL;
        int o = -1;
        for (int k = 0; k < 4; k++) {
            size_t l = strlen(opts[k]);
            if (!strncmp(argv[i], opts[k], l) && (argv[i][l] == 0 || argv[i][l] == '='))
                o = k;
        }
        if (o >= 0) {
            val = strchr(argv[i], '=');
            if (val)
                val++;
            else if (i + 1 < argc)
                val = argv[++i];
            if (!val || !*val) {
                fprintf(stderr, "heapbench compare: %s needs a value\n", opts[o]);
                return 2;
            }
        }
        if (o == 0) {
            if (hb_format_parse(val, &x.fmt)) {
                fprintf(stderr, "heapbench compare: bad --format '%s'; valid: text, csv, markdown\n", val);
                return 2;
            }
        } else if (o == 1) {
            if (set_metrics(&x, val))
                return 2;
        } else if (o == 2) {
            by = val;
        } else if (o == 3) {
            ref = val;
        } else if (!strcmp(argv[i], "--lbo")) {
            lbo = 1;
        } else if (!strcmp(argv[i], "--paired")) {
            paired = 1;
        } else if (!strncmp(argv[i], "--", 2)) {
            fprintf(stderr, "heapbench compare: unknown option '%s'; valid: --format, --metrics, --by, --ref, "
                    "--paired, --lbo\n", argv[i]);
            return 2;
        } else if (np < 2) {
            path[np++] = argv[i];
        } else {
            return usage();
        }
    }
    /* Colour only for a person at a terminal; NO_COLOR (no-color.org) wins. */
    x.colour = x.fmt == HB_FMT_TEXT && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    if (paired && !by) {
        fprintf(stderr, "heapbench compare: --paired needs --by (the alternatives of one file, paired by run and "
                        "repetition)\n");
        return 2;
    }
    if (ref && !by) {
        fprintf(stderr, "heapbench compare: --ref needs --by (one file, its alternatives against NAME)\n");
        return 2;
    }
    if (lbo) {
        if (np != 1 || by || ref) {
            fprintf(stderr, "heapbench compare: --lbo reads one file, without --by or --ref; %d given\n", np);
            return 2;
        }
        return compare_lbo(path[0], x.fmt);
    }
    if (by && np != 1) {
        fprintf(stderr, "heapbench compare: --by compares within one file; %d given\n", np);
        return 2;
    }
    if (by)
        rc = compare_by(&x, path[0], by, ref, paired ? HB_RANK_PAIRED : 0);
    else if (np != 2)
        return usage();
    char why[1024];
    if (!by && (hb_cellset_load(path[0], &x.a, why, sizeof why) ||
                hb_cellset_load(path[1], &x.b, why, sizeof why))) {
        fprintf(stderr, "heapbench compare: %s\n", why);
        hb_cellset_free(&x.a);
        return 2;
    }
    int err = by ? 0 : run_tests(&x);
    if (err) {
        if (err == ENOMEM)
            fprintf(stderr, "heapbench compare: out of memory\n");
        rc = 2;
    } else if (by) {
        /* printed above */
    } else if (x.fmt == HB_FMT_CSV) {
        print_csv(&x);
    } else {
        print_table(&x);
    }
    if (!rc && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "heapbench compare: writing the table failed: %s\n", strerror(errno));
        rc = 2;
    }
    free(x.t);
    if (!by) {
        hb_cellset_free(&x.a);
        hb_cellset_free(&x.b);
    }
    return rc;
}
