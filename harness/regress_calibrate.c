/* regress_calibrate.c -- `heapbench regress --calibrate 0,5,10,20 [run
 * options]`: what this runner's gates can see. For each k the candidate
 * does k% more work (the same cells with --param ops=N scaled to
 * N x (1 + k/100), as scripts/regress-calibrate.sh did), the baseline and
 * the candidate both being this heapbench; each gate is run as regress runs
 * it and counts the cells it flags out of the cells it compares:
 *   duet         the default timed gate (regress_duet.c), paired;
 *   interleaved  the timed gate before it: whole rounds alternated,
 *                Mann-Whitney with the noise-scaled threshold;
 *   cycles       cachegrind's estimated cycles (regress_vg.c), every cell.
 * k = 0 counts false alarms; k > 0 the slowdowns seen. The candidate's
 * counts (allocations...) grow with its work by construction, so the count
 * gate is left out, and its cell names are read as the baseline's. Each
 * gate's full report is kept in WORK/kK-GATE.txt. Exit 0, or 2. */
#include "regress.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define bad hb_rg_bad
#define MAX_K 16

enum { G_DUET, G_INTERLEAVED, G_CYCLES, NGATES };
static const char *const gate_names[2][NGATES] = {{"duet", "interleaved", "cycles"},
                                                   {"rmit", "interleaved", "cycles"}};

typedef struct cal_row {
    int k;
    const char *const *gate_name; /* gate_names[0], or [1] with --gate rmit */
    int done[NGATES];
    size_t flagged[NGATES], compared[NGATES];
    double ratio[NGATES], secs[NGATES];
    int pairs; /* the paired gate's rounds of pairs */
    double ir; /* geomean instructions ratio of the cell processes (cachegrind); NaN: not run */
    long long cand_ops;
} cal_row;

void hb_rg_calib_name(const ropts *o, int cand, const char *in, char *out, size_t len)
{
    snprintf(out, len, "%s", in);
    if (!o->calibrate || !cand)
        return;
    char from[48], to[48];
    snprintf(from, sizeof from, "ops=%lld", o->cand_ops);
    snprintf(to, sizeof to, "ops=%lld", o->ops);
    size_t at = 0, fl = strlen(from);
    for (const char *p = in; *p && at + 1 < len;) {
        if (!strncmp(p, from, fl) && !(p[fl] >= '0' && p[fl] <= '9')) {
            at += (size_t)snprintf(out + at, len - at, "%s", to);
            p += fl;
        } else {
            out[at++] = *p++;
        }
    }
    out[at < len ? at : len - 1] = 0;
}

/* The candidate's results file with its cell names read as the baseline's. */
static int rewrite_names(const ropts *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return bad("cannot read %s: %s", path, strerror(errno));
    char tmp[PATH_MAX + 16], line[65536], out[65536 + 64];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *g = fopen(tmp, "w");
    if (!g) {
        fclose(f);
        return bad("cannot write %s: %s", tmp, strerror(errno));
    }
    while (fgets(line, sizeof line, f)) {
        hb_rg_calib_name(o, 1, line, out, sizeof out);
        fputs(out, g);
    }
    fclose(f);
    if (fclose(g) || rename(tmp, path))
        return bad("cannot write %s: %s", path, strerror(errno));
    return 0;
}

/* "0,5,10,20": percentages of more work, 0 to 1000, each once. */
static int parse_ks(const char *list, int *ks, int *n)
{
    char copy[256];
    if (strlen(list) >= sizeof copy)
        return EINVAL;
    snprintf(copy, sizeof copy, "%s", list);
    *n = 0;
    if (!copy[0] || copy[0] == ',' || copy[strlen(copy) - 1] == ',' || strstr(copy, ",,"))
        return EINVAL; /* an empty item: strtok would skip it */
    for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        errno = 0;
        long v = strtol(t, &end, 10);
        if (errno || end == t || *end || v < 0 || v > 1000 || *n == MAX_K)
            return EINVAL;
        for (int i = 0; i < *n; i++)
            if (ks[i] == v)
                return EINVAL;
        ks[(*n)++] = (int)v;
    }
    return *n ? 0 : EINVAL;
}

static int sub_work(ropts *o, const char *base, int k, const char *gate)
{
    int w = snprintf(o->work, sizeof o->work, "%s/k%d-%s", base, k, gate);
    if (w < 0 || (size_t)w >= sizeof o->work - 64)
        return bad("--work path too long");
    if (mkdir(o->work, 0755) != 0)
        return bad("cannot create %s: %s", o->work, strerror(errno));
    return hb_rg_side_files(o);
}

/* Judges the sides' files into BASE/kK-GATE.txt; the tally in row. */
static int judge_into(ropts *o, const char *base, cal_row *row, int g, ir_set cy[2], double t0)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/k%d-%s.txt", base, row->k, row->gate_name[g]);
    if (!(o->out = fopen(path, "w")))
        return bad("cannot write %s: %s", path, strerror(errno));
    ir_set none[2] = {{0}};
    hb_rg_tally t;
    int rc = hb_rg_judge(o, none, g == G_CYCLES ? cy : none, &t);
    fclose(o->out);
    o->out = stdout;
    if (rc == 2)
        return 2;
    row->done[g] = 1;
    row->flagged[g] = g == G_CYCLES ? t.cy_flagged : t.flagged;
    row->compared[g] = g == G_CYCLES ? t.ncy : t.compared;
    row->ratio[g] = g == G_CYCLES ? t.geo_cycles : t.geo_ratio;
    if (g == G_CYCLES)
        row->ir = t.geo_cy_ir;
    row->secs[g] = hb_now() - t0;
    return 0;
}

static void fmt_secs(char *buf, size_t len, double s)
{
    if (s >= 60)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%.0fs", s);
}

static void print_row(FILE *f, const cal_row *r, int g)
{
    char secs[32], ratio[32];
    if (!r->done[g]) {
        fprintf(f, "  %4d%%  %-12s  %7s  %8s  %13s  %8s  %5s\n", r->k, r->gate_name[g], "-", "-", "-", "-", "-");
        return;
    }
    fmt_secs(secs, sizeof secs, r->secs[g]);
    hb_fmt_ratio(ratio, sizeof ratio, r->ratio[g]);
    char np[16] = "-";
    if (g == G_DUET)
        snprintf(np, sizeof np, "%d", r->pairs);
    fprintf(f, "  %4d%%  %-12s  %7zu  %8zu  %13s  %8s  %5s\n", r->k, r->gate_name[g], r->flagged[g], r->compared[g],
            ratio, secs, np);
}

int hb_rg_calibrate(ropts *o)
{
    int ks[MAX_K], nk;
    if (parse_ks(o->calibrate, ks, &nk))
        return bad("bad --calibrate '%s'; valid: percentages of more work for the candidate, 0 to 1000, "
                   "comma-separated, e.g. 0,5,10,20", o->calibrate);
    if (o->ops_at < 0)
        return bad("--calibrate needs --param ops=N (one value): the candidate runs N x (1 + k/100) operations");
    {
        const char *v = o->pass[o->ops_at] + 4;
        char *end;
        errno = 0;
        o->ops = strtoll(v, &end, 10);
        if (errno || end == v || *end || o->ops < 1)
            return bad("--calibrate needs one value of --param ops, not '%s'", o->pass[o->ops_at]);
    }
    if (o->instructions || o->cycles || (o->gate_given && o->gate == HB_GATE_INTERLEAVED) ||
        o->fmt != HB_FMT_TEXT)
        return bad("--calibrate runs every gate itself and prints its own table: no --instructions, --cycles, "
                   "--gate interleaved or --format (--gate rmit: its paired gate without duet)");
    hb_gate paired = o->gate_given ? o->gate : HB_GATE_DUET;
    const char *const *gate_name = gate_names[paired == HB_GATE_RMIT];
    for (int i = 0; i < o->npass; i++)
        if (!strcmp(o->pass[i], "--shard"))
            return bad("--shard: --calibrate needs every cell of the matrix it is given");
    /* both builds are this heapbench */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return bad("cannot find this heapbench (/proc/self/exe): %s", strerror(errno));
    self[n] = 0;
    for (int k = 0; k < 2; k++) {
        snprintf(o->s[k].exe, sizeof o->s[k].exe, "%s", self);
        o->s[k].spec = self;
        o->s[k].is_dir = 1;
    }
    char base[PATH_MAX];
    if (!o->work[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/heapbench-calibrate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(base))
            return bad("cannot create a work directory %s: %s", base, strerror(errno));
    } else {
        if (strlen(o->work) >= sizeof base - 128)
            return bad("--work path too long");
        snprintf(base, sizeof base, "%s", o->work);
        if (mkdir(base, 0755) != 0 && errno != EEXIST)
            return bad("cannot create --work %s: %s", base, strerror(errno));
    }
    int have_vg = hb_rg_spawn((char *const[]){"valgrind", "--version", NULL}, "/dev/null") == 0;
    if (!have_vg)
        fprintf(stderr, "heapbench regress: --calibrate: valgrind is not installed: no cycles gate\n");
    cal_row rows[MAX_K] = {{0}};
    ir_set cy[2] = {{0}};
    int reps = o->reps, pairs = o->pairs, rc = 0;
    size_t duet_cells = 0, rmit_cells = 0;
    double job0 = hb_now();
    for (int i = 0; i < nk && !rc; i++) {
        cal_row *row = &rows[i];
        row->k = ks[i];
        row->gate_name = gate_name;
        row->ir = NAN;
        o->cand_ops = row->cand_ops = o->ops * (100 + ks[i]) / 100;
        snprintf(o->cand_ops_arg, sizeof o->cand_ops_arg, "ops=%lld", o->cand_ops);
        fprintf(stderr, "heapbench regress: --calibrate: k = %d%%: the candidate runs ops=%lld (baseline %lld)\n",
                ks[i], o->cand_ops, o->ops);
        /* the duet gate, the default */
        double t0 = hb_now();
        o->gate = paired;
        o->pairs = pairs;
        o->reps = 0;
        o->duet_cells = o->rmit_cells = 0;
        if (!o->metrics_given && (rc = hb_rg_set_metrics(o, "cpu_s")))
            break;
        if ((rc = sub_work(o, base, ks[i], gate_name[G_DUET])) || (rc = hb_rg_duet(o)) ||
            (rc = rewrite_names(o, o->s[1].csv)) || (rc = judge_into(o, base, row, G_DUET, cy, t0)))
            break;
        hb_rg_pairs_free(o);
        row->pairs = o->pairs;
        duet_cells = o->duet_cells;
        rmit_cells = o->rmit_cells;
        o->duet_cells = o->rmit_cells = 0;
        /* the interleaved gate, as regress ran it before duet */
        t0 = hb_now();
        o->gate = HB_GATE_INTERLEAVED;
        o->reps = reps;
        o->pairs = 0;
        if (!o->metrics_given && (rc = hb_rg_set_metrics(o, "wall_s")))
            break;
        if ((rc = sub_work(o, base, ks[i], "interleaved")) || (rc = hb_rg_run_builds(o)) ||
            (rc = rewrite_names(o, o->s[1].csv)) || (rc = judge_into(o, base, row, G_INTERLEAVED, cy, t0)))
            break;
        /* estimated cycles: the baseline is counted once, being deterministic */
        if (have_vg) {
            t0 = hb_now();
            char first_base[PATH_MAX + 64];
            snprintf(first_base, sizeof first_base, "%s/k%d-cycles/cachegrind-baseline.csv", base, ks[0]);
            if ((rc = sub_work(o, base, ks[i], "cycles")))
                break;
            o->cycles = 1;
            if ((rc = hb_rg_vg_count(o, HB_VG_CACHEGRIND, "cachegrind", i > 0, cy)))
                break;
            snprintf(o->s[0].csv, sizeof o->s[0].csv, "%s", first_base);
            snprintf(o->s[1].csv, sizeof o->s[1].csv, "%s/cachegrind-candidate.csv", o->work);
            size_t nm = o->nmetric;
            o->nmetric = 0; /* one repetition a side under valgrind: no timed test */
            if ((rc = rewrite_names(o, o->s[1].csv)) == 0)
                rc = judge_into(o, base, row, G_CYCLES, cy, t0);
            o->nmetric = nm;
            o->cycles = 0;
            if (rc)
                break;
        }
        char line[64];
        fmt_secs(line, sizeof line, hb_now() - job0);
        fprintf(stderr, "heapbench regress: --calibrate: k = %d%%: %s %zu/%zu, interleaved %zu/%zu, cycles %zu/%zu "
                        "flagged (%s so far)\n", ks[i], gate_name[G_DUET], row->flagged[0], row->compared[0], row->flagged[1],
                row->compared[1], row->flagged[2], row->compared[2], line);
    }
    hb_rg_pairs_free(o);
    hb_rg_vg_free(&cy[0]);
    hb_rg_vg_free(&cy[1]);
    if (rc)
        return rc;
    printf("calibration: the candidate does k%% more operations (--param ops=%lld x (1 + k/100)); the baseline "
           "and the candidate are both this heapbench\n", o->ops);
    char many[96];
    if (pairs && !o->budget_given)
        snprintf(many, sizeof many, "%d pairs a cell", pairs);
    else
        snprintf(many, sizeof many, "pairs for %.0f s, at most %d a cell: column pairs",
                 o->budget_given ? o->budget_s : hb_rg_default_budget(), pairs ? pairs : hb_rg_default_pairs());
    printf("gates: %s = the paired timed gate%s, on %s (%s; %zu cells duet, %zu as randomized "
           "interleaved pairs); interleaved = the gate before it, alternated rounds, "
           "Mann-Whitney, on %s; cycles = cachegrind's estimated cycles, %.3g%% tolerance\n",
           gate_name[G_DUET], paired == HB_GATE_DUET ? " (the default)" : " without duet (--gate rmit)",
           o->metrics_given ? o->metric[0]->name : "cpu_s", many, duet_cells,
           rmit_cells, o->metrics_given ? o->metric[0]->name : "wall_s", o->cy_tol_pct);
    printf("\n  %5s  %-12s  %7s  %8s  %13s  %8s  %5s\n", "k", "gate", "flagged", "compared", "geomean ratio", "time",
           "pairs");
    for (int i = 0; i < nk; i++)
        for (int g = 0; g < NGATES; g++)
            print_row(stdout, &rows[i], g);
    /* What k% more operations came to: the timed phase's CPU time grows
     * less than its operations, because part of it does not grow with them
     * (the first touch of the live set's pages, cold caches); the whole
     * process's instructions less still (start, setup). */
    printf("\nwhat k came to: operations; CPU time of the cells' timed phase (the paired gate's geomean ratio); "
           "instructions of the whole cell processes (cachegrind's geomean ratio, start and setup included)\n");
    for (int i = 0; i < nk; i++) {
        char cpu[32] = "-", ir[32] = "-";
        if (rows[i].done[G_DUET] && isfinite(rows[i].ratio[G_DUET]))
            snprintf(cpu, sizeof cpu, "%+.1f%%", 100 * (rows[i].ratio[G_DUET] - 1));
        if (isfinite(rows[i].ir))
            snprintf(ir, sizeof ir, "%+.1f%%", 100 * (rows[i].ir - 1));
        printf("  %4d%%  operations %+.1f%%  CPU time %s  instructions %s\n", rows[i].k,
               100.0 * (double)(rows[i].cand_ops - o->ops) / (double)o->ops, cpu, ir);
    }
    char total[32];
    fmt_secs(total, sizeof total, hb_now() - job0);
    printf("\ncalibration took %s; every gate's report is in %s/kK-GATE.txt\n", total, base);
    return 0;
}
