/* regress.c -- `heapbench regress --baseline REF --candidate NEW`: the CI
 * gate. Exit 1 only when some cell is worse; 0 otherwise; 2 on bad input.
 *
 * REF and NEW are both results files, or both build directories. Given
 * directories, both builds are run here, in one job, their repetitions
 * alternating (round r runs every cell once with each build, the order
 * flipped every round), so that both sides see the same machine, the same
 * hour and the same drift: numbers from another machine or day are never
 * compared (docs/regress.md).
 *
 * A cell is worse when, in this order:
 *  0. the candidate has no row of a cell the baseline has ok rows of
 *     (missing: a cell that vanished cannot be shown to be no worse);
 *  1. the candidate has rows that are not ok where the baseline had none;
 *  2. a deterministic count grew: allocs, frees, gc_count, peak_live_bytes
 *     (exactly: any increase; a count that varies between repetitions counts
 *     as grown only when every candidate value exceeds every baseline one),
 *     and with --instructions the instructions callgrind counts in the
 *     single-threaded cells, beyond --ir-tolerance;
 *  3. a timed metric (default wall_s) is larger with statistical confidence
 *     -- Holm-corrected one-sided Mann-Whitney p < 0.05 AND the 95% interval
 *     of the ratio excludes 1 -- AND by more than the threshold: the larger
 *     of --threshold (5%) and three times the baseline's coefficient of
 *     variation (robust: 1.4826 MAD / median; --cv sd for sd / mean), so
 *     that a noisy cell must move further to count.
 * Every flagged cell is printed with each reason. */
#include "regress.h"
#include "harness.h"


#include <dirent.h>
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
#include <fcntl.h>
#include <unistd.h>

static const char *const counts[] = {"allocs", "frees", "gc_count", "peak_live_bytes"};
#define NCOUNTS (sizeof counts / sizeof counts[0])

/* One cell's verdict, with every reason it was flagged. */
typedef struct verdict {
    const char *cell;
    const hb_cellset_cell *cb; /* candidate's */
    char why[2048];
    size_t at;
    int flagged;
} verdict;

static void add_why(verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_why(verdict *v, const char *fmt, ...)
{
    va_list ap;
    if (v->at >= sizeof v->why)
        return;
    if (v->at)
        v->at += (size_t)snprintf(v->why + v->at, sizeof v->why - v->at, "\n      ");
    va_start(ap, fmt);
    if (v->at < sizeof v->why)
        v->at += (size_t)vsnprintf(v->why + v->at, sizeof v->why - v->at, fmt, ap);
    va_end(ap);
    v->flagged = 1;
}

int hb_rg_bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("heapbench regress: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}
#define bad hb_rg_bad

/* ---- the gates */

static int all_equal(const double *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[0])
            return 0;
    return 1;
}

typedef struct ttest {
    size_t cell; /* index into verdicts */
    const hb_metric_info *m;
    hb_metric_cmp r;
    double cv;  /* the baseline's CV the threshold used (--cv) */
    double thr; /* fraction */
    int paired; /* 1: duet pairs (signed-rank); 0: independent repetitions (Mann-Whitney) */
    int duet;   /* paired: 1 side by side, 0 randomized interleaved pairs (the fallback) */
} ttest;

/* The paired gate's floor without --threshold: its interval already holds
 * the noise, so no CV factor widens it; 2% keeps a difference of code
 * layout between two builds of the same source (1-2% measured by others)
 * from failing a build, and leaves a 5% slowdown room to show. */
#define PAIRED_FLOOR_PCT 2.0

/* "N" or "N-M": the pairs of the paired cells run in duet (1) or not (0);
 * a budget gives the noisier cells more (regress_duet.c). */
static void pairs_range(const ropts *o, int duet, char *buf, size_t len)
{
    size_t lo = SIZE_MAX, hi = 0;
    for (size_t i = 0; i < o->npairs_of; i++)
        if (o->pairs_of[i].duet == duet) {
            lo = o->pairs_of[i].n < lo ? o->pairs_of[i].n : lo;
            hi = o->pairs_of[i].n > hi ? o->pairs_of[i].n : hi;
        }
    if (lo == SIZE_MAX || lo == hi)
        snprintf(buf, len, "%zu", hi);
    else
        snprintf(buf, len, "%zu-%zu", lo, hi);
}

/* A paired test of metric m over a cell's duet pairs, added to t[*nt]. */
static int add_ptest(const ropts *o, ttest *t, size_t *nt, size_t cell, const hb_metric_info *m,
                     const hb_rg_pairs *pr, size_t mi)
{
    double *a = malloc((pr->n + 1) * sizeof *a), *b = malloc((pr->n + 1) * sizeof *b);
    size_t n = 0;
    if (!a || !b) {
        free(a);
        free(b);
        return bad("out of memory");
    }
    for (size_t i = 0; i < pr->n; i++)
        if (isfinite(pr->v[0][mi][i]) && isfinite(pr->v[1][mi][i])) {
            a[n] = pr->v[0][mi][i];
            b[n++] = pr->v[1][mi][i];
        }
    int rc = 0;
    if (n) {
        ttest *y = &t[*nt];
        *y = (ttest){.cell = cell, .m = m, .paired = 1, .duet = pr->duet};
        if (hb_paired_cmp_compute(a, b, n, m->higher_is_better ? HB_LESS : HB_GREATER, &y->r))
            rc = bad("out of memory");
        y->thr = (o->floor_given ? o->floor_pct : PAIRED_FLOOR_PCT) / 100;
        *nt += !rc;
    }
    free(a);
    free(b);
    return rc;
}

/* One statistical test of metric m, baseline a against candidate b, added
 * to t[*nt] (Holm's correction comes once every test is in). */
static int add_ttest(const ropts *o, ttest *t, size_t *nt, size_t cell, const hb_metric_info *m,
                     const double *a, size_t na, const double *b, size_t nb)
{
    ttest *y = &t[*nt];
    *y = (ttest){.cell = cell, .m = m};
    if (hb_metric_cmp_compute(a, na, b, nb, m->higher_is_better ? HB_LESS : HB_GREATER, &y->r))
        return bad("out of memory");
    /* the baseline's CV; 0 when it has none (one value, a zero median) */
    double cv;
    if (na < 2 || (o->cv_sd ? hb_stats_cv(a, na, &cv) : hb_stats_robust_cv(a, na, &cv)) || !isfinite(cv))
        cv = 0;
    y->cv = cv;
    y->thr = fmax(o->floor_pct / 100, o->cv_factor * cv);
    (*nt)++;
    return 0;
}

/* The deterministic counts. A count that is the same in every repetition
 * of each side is compared exactly; one that varies, or is missing from
 * some repetitions (peak_live_bytes of an allocator workload comes from the
 * RSS sampler's timing, and is empty when a run was too short for two
 * samples), is no longer deterministic, and gets the timed metrics'
 * statistical test instead: a
 * rule like "every candidate value above every baseline one" would fire by
 * chance once in C(2n, n) comparisons -- 1 in 20 at 3 repetitions. */
static int gate_counts(const ropts *o, const hb_cellset_cell *ca, const hb_cellset_cell *cb, verdict *v,
                       size_t cell, ttest *t, size_t *nt)
{
    char why[1024];
    int rc = 0;
    for (size_t k = 0; k < NCOUNTS && !rc; k++) {
        double *a, *b;
        size_t na, nb;
        if (hb_cellset_values(&o->s[0].set, ca, counts[k], &a, &na, why, sizeof why))
            return bad("%s", why);
        if (hb_cellset_values(&o->s[1].set, cb, counts[k], &b, &nb, why, sizeof why)) {
            free(a);
            return bad("%s", why);
        }
        if (na && nb) {
            /* deterministic: in every ok row of both sides, and one value a side */
            if (na == ca->nok && nb == cb->nok && all_equal(a, na) && all_equal(b, nb)) {
                if (b[0] > a[0])
                    add_why(v, "%s %.0f -> %.0f (+%.0f, +%.3g%%): a deterministic count grew", counts[k],
                            a[0], b[0], b[0] - a[0], 100 * (b[0] - a[0]) / (a[0] > 0 ? a[0] : 1));
            } else {
                rc = add_ttest(o, t, nt, cell, hb_metric_find(counts[k]), a, na, b, nb);
            }
        }
        free(a);
        free(b);
    }
    return rc;
}

static int worse(const ttest *t)
{
    const hb_metric_cmp *r = &t->r;
    if (!(r->p_holm < 0.05) || !isfinite(r->lo) || !isfinite(r->ratio))
        return 0;
    if (t->m->higher_is_better)
        return r->hi < 1 && r->ratio < 1 / (1 + t->thr);
    return r->lo > 1 && r->ratio > 1 + t->thr;
}

int hb_rg_set_metrics(ropts *o, const char *list)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", list);
    o->nmetric = 0;
    for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const hb_metric_info *m = hb_metric_find(t);
        if (!m || o->nmetric == MAX_METRICS) {
            char names[512];
            hb_metric_names(names, sizeof names);
            return bad("bad --metrics '%s'; valid: %s", list, names);
        }
        o->metric[o->nmetric++] = m;
    }
    return o->nmetric ? 0 : bad("bad --metrics '%s'", list);
}

static int parse_args(ropts *o, int argc, char **argv)
{
    static const char *const passed[] = {"--allocators", "--collectors", "--workloads", "--threads",
                                         "--size",       "--param",      "--heap",      "--timeout",
                                         "--shard",      "--lat-every",  "--sample-ms",  "--program"};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--instructions")) {
            o->instructions = 1;
            continue;
        }
        if (!strcmp(a, "--cycles")) {
            o->cycles = 1;
            continue;
        }
        if (!strcmp(a, "--pin")) {
            o->pass[o->npass++] = a;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            return bad("unexpected argument '%s' (heapbench regress --help lists the options)", a);
        }
        if (i + 1 >= argc)
            return bad("%s needs a value", a);
        const char *val = argv[++i];
        int is_pass = 0;
        for (size_t k = 0; k < sizeof passed / sizeof passed[0]; k++)
            is_pass |= !strcmp(a, passed[k]);
        if (is_pass) {
            if (o->npass + 2 > MAX_PASS)
                return bad("too many run options");
            o->pass[o->npass++] = a;
            o->pass[o->npass++] = val;
            if (!strcmp(a, "--threads"))
                o->threads = val;
            if (!strcmp(a, "--param") && !strncmp(val, "ops=", 4))
                o->ops_at = o->npass - 1;
            if (!strcmp(a, "--shard") && (sscanf(val, "%d/%d", &o->shard_k, &o->shard_n) != 2 || o->shard_k < 1 ||
                                         o->shard_k > o->shard_n))
                return bad("bad --shard '%s'; valid: K/N with 1 <= K <= N, e.g. 2/8", val);
        } else if (!strcmp(a, "--baseline")) {
            o->s[0].spec = val;
        } else if (!strcmp(a, "--candidate")) {
            o->s[1].spec = val;
        } else if (!strcmp(a, "--threshold")) {
            if (hb_parse_num(val, 0, 1000, &o->floor_pct))
                return bad("bad --threshold '%s'; valid: a percentage from 0 to 1000", val);
            o->floor_given = 1;
        } else if (!strcmp(a, "--gate")) {
            if (strcmp(val, "duet") && strcmp(val, "interleaved") && strcmp(val, "rmit"))
                return bad("bad --gate '%s'; valid: duet, rmit, interleaved", val);
            o->gate = !strcmp(val, "duet") ? HB_GATE_DUET : !strcmp(val, "rmit") ? HB_GATE_RMIT : HB_GATE_INTERLEAVED;
            o->gate_given = 1;
        } else if (!strcmp(a, "--pairs")) {
            double r;
            if (hb_parse_num(val, 6, 10000, &r) || r != floor(r))
                return bad("bad --pairs '%s'; valid: 6 to 10000", val);
            o->pairs = (int)r;
        } else if (!strcmp(a, "--budget")) {
            if (hb_parse_num(val, 0, 86400, &o->budget_s))
                return bad("bad --budget '%s'; valid: seconds from 0 (none) to 86400", val);
            o->budget_given = 1;
        } else if (!strcmp(a, "--cycles-tolerance")) {
            if (hb_parse_num(val, 0, 100, &o->cy_tol_pct))
                return bad("bad --cycles-tolerance '%s'; valid: a percentage from 0 to 100", val);
        } else if (!strcmp(a, "--calibrate")) {
            o->calibrate = val; /* checked by regress_calibrate.c, which owns its form */
        } else if (!strcmp(a, "--cv-factor")) {
            if (hb_parse_num(val, 0, 100, &o->cv_factor))
                return bad("bad --cv-factor '%s'; valid: 0 to 100", val);
        } else if (!strcmp(a, "--cv")) {
            if (strcmp(val, "robust") && strcmp(val, "sd"))
                return bad("bad --cv '%s'; valid: robust, sd", val);
            o->cv_sd = !strcmp(val, "sd");
        } else if (!strcmp(a, "--ir-tolerance")) {
            if (hb_parse_num(val, 0, 100, &o->ir_tol_pct))
                return bad("bad --ir-tolerance '%s'; valid: a percentage from 0 to 100", val);
        } else if (!strcmp(a, "--program-tolerance")) {
            if (hb_parse_num(val, 0, 100, &o->prog_tol_pct))
                return bad("bad --program-tolerance '%s'; valid: a percentage from 0 to 100", val);
        } else if (!strcmp(a, "--metrics")) {
            if (hb_rg_set_metrics(o, val))
                return 2;
            o->metrics_given = 1;
        } else if (!strcmp(a, "--reps")) {
            double r;
            if (hb_parse_num(val, 2, 10000, &r) || r != floor(r))
                return bad("bad --reps '%s'; valid: 2 to 10000", val);
            o->reps = (int)r;
        } else if (!strcmp(a, "--format")) {
            if (hb_format_parse(val, &o->fmt))
                return bad("bad --format '%s'; valid: text, csv, markdown", val);
        } else if (!strcmp(a, "--warmup")) {
            o->warmup = val;
        } else if (!strcmp(a, "--work")) {
            if (strlen(val) >= sizeof o->work - 64)
                return bad("--work path too long");
            snprintf(o->work, sizeof o->work, "%s", val);
        } else {
            return bad("unknown option '%s' (heapbench regress --help lists them)", a);
        }
    }
    if (o->calibrate) {
        if (o->s[0].spec || o->s[1].spec)
            return bad("--calibrate runs this heapbench as both builds: no --baseline or --candidate");
        return 0;
    }
    if (!o->s[0].spec || !o->s[1].spec) {
        return bad("needs both --baseline FILE.csv|BUILD_DIR and --candidate FILE.csv|BUILD_DIR "
                   "(heapbench regress --help lists the options)");
    }
    return 0;
}

/* A results file, or a build directory holding an executable `heapbench`. */
static int classify(side *s)
{
    struct stat st;
    if (stat(s->spec, &st) != 0)
        return bad("--%s %s: %s", s->name, s->spec, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        s->is_dir = 1;
        snprintf(s->exe, sizeof s->exe, "%s/heapbench", s->spec);
        if (access(s->exe, X_OK) != 0)
            return bad("--%s %s: a directory without an executable heapbench (%s: %s)", s->name, s->spec,
                       s->exe, strerror(errno));
        if (s->exe[0] != '/') { /* runs from anywhere */
            char abs[PATH_MAX];
            if (!realpath(s->exe, abs))
                return bad("--%s %s: %s", s->name, s->exe, strerror(errno));
            snprintf(s->exe, sizeof s->exe, "%s", abs);
        }
        return hb_rg_is_heapbench(s);
    }
    snprintf(s->csv, sizeof s->csv, "%s", s->spec);
    return 0;
}

static int prepare_work(ropts *o)
{
    if (!o->work[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(o->work, sizeof o->work, "%s/heapbench-regress-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(o->work))
            return bad("cannot create a work directory %s: %s", o->work, strerror(errno));
    } else if (mkdir(o->work, 0755) != 0 && errno != EEXIST) {
        return bad("cannot create --work %s: %s", o->work, strerror(errno));
    }
    return hb_rg_side_files(o);
}

int hb_rg_side_files(ropts *o)
{
    for (int k = 0; k < 2; k++) {
        snprintf(o->s[k].csv, sizeof o->s[k].csv, "%.*s/%s.csv", PATH_MAX - 64, o->work, o->s[k].name);
        struct stat st;
        if (stat(o->s[k].csv, &st) == 0)
            return bad("%s exists; regress measures afresh (remove it or choose another --work)",
                       o->s[k].csv);
    }
    return 0;
}

static void fmt_val(char *buf, size_t len, double x, const char *unit)
{
    char num[32];
    hb_fmt_num(num, sizeof num, x);
    snprintf(buf, len, "%s%s%s", num, unit[0] ? " " : "", unit);
}

static int cmp_ttest(const void *x, const void *y, void *arg)
{
    const verdict *v = arg;
    return hb_natcmp(v[((const ttest *)x)->cell].cell, v[((const ttest *)y)->cell].cell);
}

/* ---- the report: text for a person, csv for a program, markdown for a CI
 * step summary; the same facts in each */

/* a reason as one line: its parts joined by "; " */
static void one_line(const char *why, char *buf, size_t len)
{
    size_t k = 0;
    for (const char *p = why; *p && k + 3 < len; p++) {
        if (*p == '\n') {
            buf[k++] = ';';
            buf[k++] = ' ';
            while (p[1] == ' ')
                p++;
        } else {
            buf[k++] = *p;
        }
    }
    buf[k] = 0;
}

/* Why a cell of either side was not compared, or NULL. */
static const char *not_compared(const hb_cellset_cell *ca, const hb_cellset_cell *cb)
{
    return !cb && !ca->nok ? "only in the baseline, no ok row there"
           : !cb ? NULL /* a regression: missing, said with the others */
           : !ca->nok ? "no ok row in the baseline"
           : !cb->nok && !cb->first_bad ? "no ok row in the candidate" : NULL;
}

static void report(const ropts *o, const ttest *t, size_t nt, const verdict *v, size_t nv, size_t compared,
                   size_t nir, size_t ir_flagged, size_t ncy, size_t cy_flagged)
{
    const hb_cellset *A = &o->s[0].set, *B = &o->s[1].set;
    FILE *f = o->out;
    int md = o->fmt == HB_FMT_MARKDOWN, csv = o->fmt == HB_FMT_CSV;
    size_t flagged = 0;
    for (size_t i = 0; i < nv; i++)
        flagged += v[i].flagged != 0;
    char line[2400], ci[40], p[16], ratio[24];
    if (csv) {
        fprintf(f, "row,metric,cell,n_a,n_b,median_a,median_b,ratio,ci_lo,ci_hi,p,p_holm,threshold,verdict,note\n");
        for (size_t k = 0; k < nt; k++) {
            const ttest *y = &t[k];
            fprintf(f, "test,%s,", y->m->name);
            hb_csv_field(f, v[y->cell].cell);
            fprintf(f, ",%zu,%zu,%.9g,%.9g,", y->r.na, y->r.nb, y->r.med_a, y->r.med_b);
            if (isfinite(y->r.ratio))
                fprintf(f, "%.6g", y->r.ratio);
            if (isfinite(y->r.lo) && isfinite(y->r.hi))
                fprintf(f, ",%.6g,%.6g", y->r.lo, y->r.hi);
            else
                fprintf(f, ",,");
            fprintf(f, ",%.9g,%.9g,%.6g,%s,%s\n", y->r.p, y->r.p_holm, y->thr, worse(y) ? "worse" : "ok",
                    !y->paired ? "" : y->duet ? "paired: duet" : "paired: interleaved");
        }
    } else {
        fprintf(f, md ? "## `heapbench regress`: %s\n\nbaseline `%s`, candidate `%s`: %zu cells compared. "
                  : "%sbaseline %s, candidate %s: %zu cells compared\n",
               md ? (flagged ? "FAIL" : "PASS") : "", o->s[0].csv, o->s[1].csv, compared);
        size_t fa = SIZE_MAX, fb = SIZE_MAX, np = SIZE_MAX, nunp = 0, npaired = 0;
        for (size_t k = 0; k < nt; k++) {
            if (t[k].paired) {
                np = t[k].r.na < np ? t[k].r.na : np;
                npaired++;
            } else {
                fa = t[k].r.na < fa ? t[k].r.na : fa, fb = t[k].r.nb < fb ? t[k].r.nb : fb;
                nunp++;
            }
        }
        if (npaired)
            fprintf(f, "%saired timed tests (%s): flagged when the Holm-corrected one-sided Wilcoxon signed-rank "
                       "p < 0.05 over the %zu tests, the 95%% CI of the paired ratio (Hodges-Lehmann, log of "
                       "candidate / baseline per pair) excludes 1, and the ratio is beyond %.3g%%%s\n",
                    md ? "\nP" : "p", o->metric[0]->name, nt, o->floor_given ? o->floor_pct : PAIRED_FLOOR_PCT,
                    md ? "." : "");
        char howmany[2][48];
        pairs_range(o, 1, howmany[1], sizeof howmany[1]);
        pairs_range(o, 0, howmany[0], sizeof howmany[0]);
        if (o->duet_cells)
            fprintf(f, "%sduet: %zu cells run side by side, each build bound to its own cores with hwloc, %s pairs "
                       "a cell%s\n", md ? "\n" : "", o->duet_cells, howmany[1], md ? "." : "");
        if (o->rmit_cells && o->gate == HB_GATE_RMIT)
            fprintf(f, "%srmit (--gate rmit): %zu cells run as randomized multiple interleaved trials (Abedi & "
                       "Brecht, ICPE 2017), each pair the two builds one after the other in random order, %s "
                       "pairs a cell%s\n", md ? "\n" : "", o->rmit_cells, howmany[0], md ? "." : "");
        else if (o->rmit_cells)
            fprintf(f, "%sfallback: %zu cells cannot have their own cores a side with one to spare: run as "
                       "randomized multiple interleaved trials (Abedi & Brecht, ICPE 2017), each pair the two "
                       "builds one after the other in random order, %s pairs a cell%s\n", md ? "\n" : "",
                    o->rmit_cells, howmany[0], md ? "." : "");

        if (nunp)
            fprintf(f, "%slagged when Holm-corrected one-sided Mann-Whitney p < 0.05 over the %zu tests, the 95%% CI of "
                   "the ratio excludes 1, and the ratio is beyond max(%.3g%%, %.3g x baseline %s)%s\n",
                   md ? "F" : "f", nt, o->floor_pct, o->cv_factor,
                   o->cv_sd ? "CV (sd / mean)" : "robust CV (1.4826 MAD / median)", md ? "." : "");
        if (nunp && hb_stats_mwu_min_p(fa, fb, HB_GREATER) * (double)nt >= 0.05)
            fprintf(f, "%snote: with %zu and %zu repetitions no cell can reach p < 0.05 after Holm's correction over "
                   "%zu tests: the timed gate cannot fire (use %d or more repetitions a side)\n",
                   md ? "\n> " : "", fa, fb, nt, hb_rg_reps_for(nt));
        if (npaired && hb_stats_signed_rank_min_p(np, HB_GREATER) * (double)nt >= 0.05)
            fprintf(f, "%snote: with %zu pairs no cell can reach p < 0.05 after Holm's correction over %zu tests: "
                       "the timed gate cannot fire (use more --pairs)\n", md ? "\n> " : "", np, nt);
        size_t w = 4;
        for (size_t k = 0; k < nt; k++)
            w = strlen(v[t[k].cell].cell) > w ? strlen(v[t[k].cell].cell) : w;
        /* a table per metric: the timed ones, then any count that varied */
        const hb_metric_info *shown[MAX_METRICS + NCOUNTS];
        size_t nshown = 0;
        for (size_t m = 0; m < o->nmetric; m++)
            shown[nshown++] = o->metric[m];
        for (size_t k = 0; k < NCOUNTS; k++) {
            const hb_metric_info *c = hb_metric_find(counts[k]);
            for (size_t j = 0; j < nt; j++)
                if (t[j].m == c) {
                    shown[nshown++] = c;
                    break;
                }
        }
        for (size_t m = 0; m < nshown; m++) {
            if (md)
                fprintf(f, "\n### %s (`%s`)\n\n| cell | n | ratio | 95%% CI | p (Holm) | threshold | |\n"
                       "|---|---:|---:|---|---:|---:|---|\n", shown[m]->what, shown[m]->name);
            else
                fprintf(f, "\n  %-*s  %-10s  %5s  %7s  %-16s  %8s  %9s\n", (int)w, "cell", "metric", "n", "ratio",
                       "95% CI", "p(Holm)", "threshold");
            for (size_t k = 0; k < nt; k++) {
                const ttest *y = &t[k];
                if (y->m != shown[m])
                    continue;
                char n[24];
                hb_fmt_ci(ci, sizeof ci, &y->r);
                hb_fmt_p(p, sizeof p, y->r.p_holm);
                hb_fmt_ratio(ratio, sizeof ratio, y->r.ratio);
                snprintf(n, sizeof n, "%zu/%zu", y->r.na, y->r.nb);
                int bad_ = worse(y);
                const char *mode = !y->paired ? "" : y->duet ? " (duet)" : " (interleaved pairs)";
                if (y->paired)
                    snprintf(n, sizeof n, "%zu", y->r.na);
                if (md)
                    fprintf(f, "| `%s`%s | %s | %s%s%s | %s | %s | %.1f%% | %s |\n", v[y->cell].cell, mode, n,
                            bad_ ? "**" : "", ratio, bad_ ? "**" : "", ci, p, 100 * y->thr,
                            bad_ ? "**WORSE**" : "ok");
                else
                    fprintf(f, "  %-*s  %-10s  %5s  %7s  %-16s  %8s  %8.1f%%  %s%s\n", (int)w, v[y->cell].cell,
                           y->m->name, n, ratio, ci, p, 100 * y->thr, bad_ ? "WORSE" : "ok", mode);
            }
        }
        if (o->instructions)
            fprintf(f, "\n%sinstructions (callgrind, single-threaded cells): %zu cells matched, %zu above the %.3g%% "
                   "tolerance (programs %.3g%%)\n", md ? "" : "", nir, ir_flagged, o->ir_tol_pct, o->prog_tol_pct);
        if (o->cycles)
            fprintf(f, "\nestimated cycles (cachegrind: L1 hits + 5 x LL hits + 35 x RAM accesses): %zu cells "
                       "matched, %zu above the %.3g%% tolerance (programs %.3g%%)\n", ncy, cy_flagged, o->cy_tol_pct,
                    o->prog_tol_pct);
    }
    int header = 0;
    for (int side = 0; side < 2; side++) {
        const hb_cellset *s = side ? B : A;
        for (size_t i = 0; i < s->ncells; i++) {
            const char *what = side ? (hb_cellset_find(A, s->cells[i].name) ? NULL : "only in the candidate")
                                    : not_compared(&s->cells[i], hb_cellset_find(B, s->cells[i].name));
            if (!what)
                continue;
            if (csv) {
                fprintf(f, "not_compared,,");
                hb_csv_field(f, s->cells[i].name);
                fprintf(f, ",,,,,,,,,,,,%s\n", what);
            } else if (md) {
                fprintf(f, "%s- `%s`: %s\n", header++ ? "" : "\n### Not compared\n\n", s->cells[i].name, what);
            } else {
                fprintf(f, "%s  %s: %s\n", header++ ? "" : "\nnot compared:\n", s->cells[i].name, what);
            }
        }
    }
    size_t shown_ = 0;
    for (size_t i = 0; i < nv; i++) {
        if (!v[i].flagged)
            continue;
        if (csv) {
            one_line(v[i].why, line, sizeof line);
            fprintf(f, "regression,,");
            hb_csv_field(f, v[i].cell ? v[i].cell : "");
            fprintf(f, ",,,,,,,,,,,,");
            hb_csv_field(f, line);
            fputc('\n', f);
        } else if (md) {
            one_line(v[i].why, line, sizeof line);
            fprintf(f, "%s- **`%s`**: %s\n", shown_++ ? "" : "\n### Regressions\n\n", v[i].cell ? v[i].cell : "", line);
        } else {
            if (!shown_++)
                fprintf(f, "\n");
            if (v[i].cell)
                fprintf(f, "REGRESSION %s\n      %s\n", v[i].cell, v[i].why);
            else
                fprintf(f, "REGRESSION %s\n", v[i].why);
        }
    }
    char tail[200];
    int at = snprintf(tail, sizeof tail, "%zu regression%s (%zu cells compared", flagged, flagged == 1 ? "" : "s",
                      compared);
    if (o->instructions)
        at += snprintf(tail + at, sizeof tail - (size_t)at, ", %zu instruction counts", nir);
    if (o->cycles)
        at += snprintf(tail + at, sizeof tail - (size_t)at, ", %zu cycle estimates", ncy);
    snprintf(tail + at, sizeof tail - (size_t)at, ")");
    if (csv)
        fprintf(f, "summary,,,,,,,,,,,,,%s,%s\n", flagged ? "FAIL" : "PASS", tail);
    else
        fprintf(f, md ? "\n**%s: %s**\n" : "\n%s: %s\n", flagged ? "FAIL" : "PASS", tail);
    if (o->s[0].is_dir && !csv)
        fprintf(f, md ? "\nresults kept in `%s`\n" : "results kept in %s\n", o->work);
}

int hb_regress_main(int argc, char **argv)
{
    ropts o = {.floor_pct = 5, .cv_factor = 3, .ir_tol_pct = 0.1, .cy_tol_pct = 0.5, .prog_tol_pct = 1, .ops_at = -1,
               .out = stdout};
    o.s[0].name = "baseline";
    o.s[1].name = "candidate";
    if (hb_rg_set_metrics(&o, "wall_s"))
        return 2;
    int rc = parse_args(&o, argc, argv);
    if (rc)
        return rc;
    if (o.calibrate)
        return hb_rg_calibrate(&o);
    if ((rc = classify(&o.s[0])) || (rc = classify(&o.s[1])))
        return rc;
    if (o.s[0].is_dir != o.s[1].is_dir)
        return bad("--baseline and --candidate must both be results files or both build directories: "
                   "numbers measured at another time are not compared with fresh ones");
    if (!o.s[0].is_dir && (o.npass || o.instructions || o.cycles || o.reps || o.warmup || o.gate_given ||
                           o.pairs || o.budget_given))
        return bad("run options, --reps, --pairs, --budget, --gate, --warmup, --instructions and --cycles need "
                   "build directories, not results files");
    if (o.gate != HB_GATE_INTERLEAVED && o.reps)
        return bad("--reps is the interleaved gate's (--gate interleaved); the duet gate takes --pairs");
    if (o.gate == HB_GATE_INTERLEAVED && (o.pairs || o.budget_given))
        return bad("--pairs and --budget are the duet gate's; the interleaved gate takes --reps");
    /* The duet gate's default metric is CPU time: on a shared machine a
     * neighbour scheduled on one side's core lengthens that side's wall
     * time by 2-3x, which no pairing can undo (docs/regress.md). */
    if (o.s[0].is_dir && o.gate != HB_GATE_INTERLEAVED && !o.metrics_given && hb_rg_set_metrics(&o, "cpu_s"))
        return 2;
    ir_set ir[2] = {{0}}, cy[2] = {{0}};
    if (o.s[0].is_dir) {
        if ((rc = prepare_work(&o)))
            return rc;
        rc = o.gate != HB_GATE_INTERLEAVED ? hb_rg_duet(&o) : hb_rg_run_builds(&o);
        if (!rc && o.instructions)
            rc = hb_rg_vg_count(&o, HB_VG_CALLGRIND, "callgrind", 0, ir);
        if (!rc && o.cycles)
            rc = hb_rg_vg_count(&o, HB_VG_CACHEGRIND, "cachegrind", 0, cy);
    }
    hb_rg_tally tally;
    if (!rc)
        rc = hb_rg_judge(&o, ir, cy, &tally);
    for (int k = 0; k < 2; k++) {
        hb_rg_vg_free(&ir[k]);
        hb_rg_vg_free(&cy[k]);
    }
    hb_rg_pairs_free(&o);
    return rc;
}

/* One valgrind count compared: flagged above `tol_pct`, with why. */
static void vg_gate(const ropts *o, ir_set vg[2], int cycles, double tol_pct, verdict *v, size_t *nv,
                    size_t *matched, size_t *flagged, double *geo, double *geo_ir)
{
    double lsum = 0, isum = 0;
    for (size_t i = 0; i < vg[0].n; i++) {
        char ka[4096], kb[4096];
        hb_rg_vg_key(o, 0, vg[0].e[i].key, ka, sizeof ka);
        for (size_t j = 0; j < vg[1].n; j++) {
            hb_rg_vg_key(o, 1, vg[1].e[j].key, kb, sizeof kb);
            if (strcmp(ka, kb) != 0)
                continue;
            (*matched)++;
            const ir_entry *ea = &vg[0].e[i], *eb = &vg[1].e[j];
            double a = cycles ? ea->cycles : ea->ir, b = cycles ? eb->cycles : eb->ir;
            /* a program's own count varies more than a cell's (docs/regress.md) */
            double tol = hb_rg_vg_is_program(ea->key) ? o->prog_tol_pct : tol_pct;
            if (a > 0 && b > 0)
                lsum += log(b / a);
            if (ea->ir > 0 && eb->ir > 0)
                isum += log(eb->ir / ea->ir);
            if (hb_rg_vg_worse(ea, eb, cycles, tol)) {
                char name[600];
                hb_rg_vg_name(ea->key, name, sizeof name);
                verdict *x = &v[(*nv)++];
                *x = (verdict){.cell = NULL};
                if (cycles)
                    snprintf(x->why, sizeof x->why,
                             "%s\n      estimated cycles %.0f -> %.0f (+%.3f%%, tolerance %.3g%%): instructions "
                             "%+.3f%%, L1 misses %.0f -> %.0f (%+.1f%%), LL misses %.0f -> %.0f (%+.1f%%)", name, a, b,
                             100 * (b / a - 1), tol, 100 * (eb->ir / ea->ir - 1), ea->l1m, eb->l1m,
                             ea->l1m > 0 ? 100 * (eb->l1m / ea->l1m - 1) : 0.0, ea->llm, eb->llm,
                             ea->llm > 0 ? 100 * (eb->llm / ea->llm - 1) : 0.0);
                else
                    snprintf(x->why, sizeof x->why, "%s\n      instructions %.0f -> %.0f (+%.3f%%, tolerance %.3g%%)",
                             name, a, b, 100 * (b / a - 1), tol);
                x->flagged = 1;
                (*flagged)++;
            }
            break;
        }
    }
    *geo = *matched ? exp(lsum / (double)*matched) : NAN;
    *geo_ir = *matched ? exp(isum / (double)*matched) : NAN;
}

int hb_rg_judge(ropts *o, ir_set ir[2], ir_set cy[2], hb_rg_tally *tally)
{
    int rc = 0;
    *tally = (hb_rg_tally){.geo_ratio = NAN, .geo_cycles = NAN, .geo_cy_ir = NAN};
    char why[1024];
    for (int k = 0; k < 2; k++)
        if (hb_cellset_load(o->s[k].csv, &o->s[k].set, why, sizeof why)) {
            if (k)
                hb_cellset_free(&o->s[0].set);
            return bad("%s", why);
        }
    hb_cellset *A = &o->s[0].set, *B = &o->s[1].set;
    if (!o->npairs_of && o->nmetric) {
        /* a duet job's files, judged again: its default metric, its pairs */
        int ri = hb_csvdoc_col(&A->doc, "run_id");
        for (size_t i = 0; ri >= 0 && !o->metrics_given && !o->s[0].is_dir && i < A->doc.nrows; i++)
            if (!strncmp(A->doc.rows[i].field[ri], "duet-pair-", 10) ||
                !strncmp(A->doc.rows[i].field[ri], "rmit-pair-", 10)) {
                rc = hb_rg_set_metrics(o, "cpu_s");
                break;
            }
        if (rc || (rc = hb_rg_pairs_from_files(o))) {
            hb_cellset_free(A);
            hb_cellset_free(B);
            return rc;
        }
    }
    verdict *v = calloc(A->ncells + ir[0].n + cy[0].n + 1, sizeof *v);
    ttest *t = calloc(A->ncells * (o->nmetric + NCOUNTS) + 1, sizeof *t);
    size_t nv = 0, nt = 0, compared = 0;
    if (!v || !t) {
        rc = bad("out of memory");
        goto out;
    }
    /* 1 and 2: status and the deterministic counts; the timed tests gathered */
    for (size_t i = 0; i < A->ncells; i++) {
        const hb_cellset_cell *ca = &A->cells[i], *cb = hb_cellset_find(B, ca->name);
        if (!ca->nok)
            continue;
        if (!cb) { /* the gate cannot pass a cell it cannot see (docs/regress.md) */
            v[nv] = (verdict){.cell = ca->name};
            add_why(&v[nv++], "missing: the candidate has no row of this cell; the baseline has %zu ok row%s",
                    ca->nok, ca->nok == 1 ? "" : "s");
            continue;
        }
        verdict *x = &v[nv];
        *x = (verdict){.cell = ca->name, .cb = cb};
        if (cb->first_bad && !ca->first_bad)
            add_why(x, "status: %zu of %zu candidate rows not ok where every baseline row was (%s:%zu: %s%s%s)",
                    cb->nrows - cb->nok - cb->nskipped, cb->nrows, cb->first_bad->path, cb->first_bad->line,
                    cb->first_bad->field[B->c_status], cb->first_bad->field[B->c_error][0] ? ": " : "",
                    cb->first_bad->field[B->c_error]);
        if (!cb->nok) {
            nv++;
            continue;
        }
        compared++;
        /* --calibrate: more work is more allocations, by construction */
        if (!o->calibrate && (rc = gate_counts(o, ca, cb, x, nv, t, &nt)))
            goto out;
        const hb_rg_pairs *pr = hb_rg_pairs_find(o, ca->name);
        for (size_t m = 0; m < o->nmetric; m++) {
            if (pr) { /* duet: the pairs, not the round-1 rows */
                if ((rc = add_ptest(o, t, &nt, nv, o->metric[m], pr, m)))
                    goto out;
                continue;
            }
            double *a = NULL, *b = NULL;
            size_t na, nb;
            if (hb_cellset_values(A, ca, o->metric[m]->name, &a, &na, why, sizeof why) ||
                hb_cellset_values(B, cb, o->metric[m]->name, &b, &nb, why, sizeof why)) {
                free(a); /* the baseline's, when only the candidate's values were bad */
                rc = bad("%s", why);
                goto out;
            }
            if (na && nb && (rc = add_ttest(o, t, &nt, nv, o->metric[m], a, na, b, nb))) {
                free(a);
                free(b);
                goto out;
            }
            free(a);
            free(b);
        }
        nv++;
    }
    /* instructions and estimated cycles: matched on the cell's command line */
    size_t nir = 0, ir_flagged = 0, ncy = 0, cy_flagged = 0;
    double geo_ir;
    vg_gate(o, ir, 0, o->ir_tol_pct, v, &nv, &nir, &ir_flagged, &geo_ir, &geo_ir);
    vg_gate(o, cy, 1, o->cy_tol_pct, v, &nv, &ncy, &cy_flagged, &tally->geo_cycles, &tally->geo_cy_ir);
    {
        double *p = malloc((nt + 1) * sizeof *p);
        if (!p) {
            rc = bad("out of memory");
            goto out;
        }
        for (size_t k = 0; k < nt; k++)
            p[k] = t[k].r.p;
        hb_stats_holm(p, nt, p);
        for (size_t k = 0; k < nt; k++)
            t[k].r.p_holm = p[k];
        free(p);
    }
    /* the timed tests that fail the gate, with why */
    for (size_t k = 0; k < nt; k++) {
        ttest *y = &t[k];
        if (!worse(y))
            continue;
        char ma[48], mb[48];
        fmt_val(ma, sizeof ma, y->r.med_a, y->m->unit);
        fmt_val(mb, sizeof mb, y->r.med_b, y->m->unit);
        if (y->paired) {
            add_why(&v[y->cell],
                    "%s %+.1f%% (paired ratio over %zu %s pairs; medians %s -> %s); 95%% CI [%.3f, %.3f] excludes 1; "
                    "one-sided signed-rank p %.2g, Holm %.2g < 0.05; threshold %.1f%%",
                    y->m->name, 100 * (y->r.ratio - 1), y->r.na, y->duet ? "duet" : "interleaved", ma, mb, y->r.lo,
                    y->r.hi, y->r.p, y->r.p_holm, 100 * y->thr);
            tally->timed_flagged++;
            continue;
        }
        tally->timed_flagged++;
        add_why(&v[y->cell],
                "%s %+.1f%% (median %s -> %s); 95%% CI of the ratio [%.3f, %.3f] excludes 1; one-sided "
                "p %.2g, Holm %.2g < 0.05; threshold %.1f%% = max(%.3g%%, %.3g x baseline %sCV %.2f%%)",
                y->m->name, 100 * (y->r.ratio - 1), ma, mb, y->r.lo, y->r.hi, y->r.p, y->r.p_holm,
                100 * y->thr, o->floor_pct, o->cv_factor, o->cv_sd ? "" : "robust ", 100 * y->cv);
    }
    size_t flagged = 0;
    for (size_t i = 0; i < nv; i++)
        flagged += v[i].flagged != 0;
    qsort_r(t, nt, sizeof *t, cmp_ttest, v); /* rows by cell name, numbers by value */
    report(o, t, nt, v, nv, compared, nir, ir_flagged, ncy, cy_flagged);
    {
        double lsum = 0;
        size_t nr = 0;
        for (size_t k = 0; k < nt; k++)
            if (t[k].m == o->metric[0] && isfinite(t[k].r.ratio) && t[k].r.ratio > 0)
                lsum += log(t[k].r.ratio), nr++;
        tally->geo_ratio = nr ? exp(lsum / (double)nr) : NAN;
    }
    tally->flagged = flagged;
    tally->compared = compared;
    tally->nir = nir;
    tally->ir_flagged = ir_flagged;
    tally->ncy = ncy;
    tally->cy_flagged = cy_flagged;
    rc = flagged ? 1 : 0;
out:
    free(v);
    free(t);
    hb_cellset_free(&o->s[0].set);
    hb_cellset_free(&o->s[1].set);
    return rc;
}
