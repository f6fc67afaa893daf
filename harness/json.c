/* json.c -- a results CSV as Google Benchmark's JSON, so that Google
 * Benchmark's own tools (compare.py, and the dashboards that read its format)
 * work on heapbench results.
 *
 * The shape is the one libbenchmark 1.7 writes (its JSONReporter): a
 * "context" object, then "benchmarks": for every cell its repetitions as
 * run_type "iteration" entries, then, when it has two or more, its "mean",
 * "median", "stddev" and "cv" aggregates, named CELL_mean etc. as Google
 * Benchmark names them, with "iterations" holding the number of repetitions
 * aggregated and cv a fraction with aggregate_unit "percentage".
 *
 * The mapping: name and run_name = the `cell` column; one operation of the
 * workload is one "iteration", so iterations = ops, real_time = wall_s / ops
 * and cpu_time = (user_s + sys_s) / ops, in ns; items_per_second = ops_per_s
 * (a program without a unit of work: one iteration per run, no items);
 * every other numeric measurement column (allocs, latency, pauses, memory)
 * becomes a user counter of the same name, present only where the CSV has a
 * value; an allocator given as a library puts its path and build-id in the
 * entry's "label". Rows whose status is not ok are left out: they have no numbers, and
 * an entry with zero times would be averaged into compare.py's results.
 *
 * The context holds only what is known: date, host and the build come from
 * the rows; num_cpus, mhz_per_cpu, cpu_scaling_enabled, caches and load_avg
 * describe the machine writing the JSON, so they are written only when every
 * row was measured on that machine (a merge of shards run elsewhere gets none
 * rather than this machine's). */
#include "csvio.h"
#include "outfile.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Columns that are not counters: the cell's identity, the environment, and
 * the columns the standard fields are made of. Any other column whose values
 * are all numbers (or empty) is a counter, so a measurement added to the CSV
 * appears in the JSON without a change here. */
static const char *const not_counters[] = {
    "run_id",   "cell",      "workload", "size",      "params",     "allocator", "collector",
    "heap",     "threads",   "rep",      "status",    "error",      "ops",       "wall_s",
    "user_s",   "sys_s",     "ops_per_s", "git_commit", "compiler", "cflags",   "build_type",
    "host",     "cpu_model", "kernel",   "topology",  "pinned",     "timestamp", "allocator_lib",
    "allocator_lib_id",
};

/* The columns a cell's family is made of: Google Benchmark's family is one
 * registered benchmark and its instances the argument and thread variants, so
 * here a family is everything of the cell but its thread count. */
static const char *const family_cols[] = {"workload", "allocator", "collector", "heap", "size", "params"};
#define NFAM (sizeof family_cols / sizeof family_cols[0])

enum { C_CELL, C_REP, C_STATUS, C_THREADS, C_OPS, C_WALL, C_USER, C_SYS, C_OPS_PER_S, NREQ };
static const char *const required[NREQ] = {"cell",  "rep",    "status", "threads",  "ops",
                                           "wall_s", "user_s", "sys_s",  "ops_per_s"};

typedef struct run {
    const hb_csvrow *row;
    long long rep, threads;
    unsigned long long ops;
    double real_ns, cpu_ns, items_per_s;
} run;

typedef struct group {
    size_t first;     /* index of the cell's first row in the file */
    size_t total;     /* rows of the cell, any status: Google Benchmark's "repetitions" */
    size_t ok_at, ok; /* its ok runs: runs[ok_at .. ok_at + ok) */
    size_t family, instance;
} group;

typedef struct jctx {
    const hb_csvdoc *d;
    int col[NREQ];
    int fam[NFAM]; /* -1 when the column is absent */
    int *counter;  /* column indices of the counters */
    size_t ncounter;
    FILE *f;
} jctx;

/* A figure of a row through the one parser (figure.c); 0 or an error. */
static int figure(const jctx *j, const hb_csvrow *r, int col, double *out)
{
    char why[256];
    return hb_figure(j->d, r, col, out, why, sizeof why);
}

static int is_ok(const jctx *j, const hb_csvrow *r)
{
    return strcmp(r->field[j->col[C_STATUS]], "ok") == 0;
}

static int cmp_cell(const void *a, const void *b, void *arg)
{
    const jctx *j = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(j->d->rows[x].field[j->col[C_CELL]], j->d->rows[y].field[j->col[C_CELL]]);
    return c ? c : (x > y) - (x < y);
}

static int cmp_family(const void *a, const void *b, void *arg)
{
    const jctx *j = arg;
    const group *x = *(group *const *)a, *y = *(group *const *)b;
    for (size_t k = 0; k < NFAM; k++) {
        if (j->fam[k] < 0)
            continue;
        int c = strcmp(j->d->rows[x->first].field[j->fam[k]], j->d->rows[y->first].field[j->fam[k]]);
        if (c)
            return c;
    }
    return (x->first > y->first) - (x->first < y->first);
}

static int cmp_first(const void *a, const void *b)
{
    const group *x = *(group *const *)a, *y = *(group *const *)b;
    return (x->first > y->first) - (x->first < y->first);
}

static int cmp_group(const void *a, const void *b)
{
    const group *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

static int cmp_rep(const void *a, const void *b)
{
    const run *x = a, *y = b;
    if (x->rep != y->rep)
        return (x->rep > y->rep) - (x->rep < y->rep);
    return (x->row > y->row) - (x->row < y->row);
}

static void put_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    put_esc(f, s);
    fputc('"', f);
}

static void kv_str(FILE *f, const char *ind, const char *k, const char *v, int last)
{
    fprintf(f, "%s\"%s\": ", ind, k);
    put_str(f, v);
    fputs(last ? "\n" : ",\n", f);
}

/* Google Benchmark prints doubles with max_digits10 significant digits in
 * scientific notation; the same here, so values survive the round trip. */
static void kv_num(FILE *f, const char *k, double v)
{
    fprintf(f, ",\n      \"%s\": %.16e", k, v);
}

/* ---- the context block */

/* The value of `col` when every row agrees on it, else NULL. */
static const char *common(const hb_csvdoc *d, const char *col)
{
    int c = hb_csvdoc_col(d, col);
    if (c < 0 || d->nrows == 0)
        return NULL;
    const char *v = d->rows[0].field[c];
    for (size_t i = 1; i < d->nrows; i++)
        if (strcmp(d->rows[i].field[c], v) != 0)
            return NULL;
    return *v ? v : NULL;
}

static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ENOENT;
    int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return EIO;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

/* As Google Benchmark's sysinfo: the cpufreq maximum, else /proc/cpuinfo's
 * "cpu MHz"; -1 when neither says. */
static long mhz_per_cpu(void)
{
    char line[256];
    if (read_line("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", line, sizeof line) == 0)
        return (atol(line) + 500) / 1000;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    long mhz = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "cpu MHz", 7) == 0 && strchr(line, ':')) {
            mhz = lround(atof(strchr(line, ':') + 1));
            break;
        }
    fclose(f);
    return mhz;
}

/* 1 when some CPU's governor may change its frequency, 0 when all run at
 * "performance", -1 when no governor is visible (then the key is left out:
 * Google Benchmark 1.7 would print false, which nobody measured). */
static int cpu_scaling(long ncpu)
{
    int seen = 0;
    for (long i = 0; i < ncpu; i++) {
        char path[128], gov[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld/cpufreq/scaling_governor", i);
        if (read_line(path, gov, sizeof gov) != 0)
            continue;
        if (strcmp(gov, "performance") != 0)
            return 1;
        seen = 1;
    }
    return seen ? 0 : -1;
}

static void caches(FILE *f)
{
    fputs("    \"caches\": [", f);
    int n = 0;
    for (int i = 0; i < 16; i++) {
        char dir[96], path[160], type[64], level[16], size[32], map[512];
        snprintf(dir, sizeof dir, "/sys/devices/system/cpu/cpu0/cache/index%d", i);
        snprintf(path, sizeof path, "%s/type", dir);
        if (read_line(path, type, sizeof type) != 0)
            break;
        snprintf(path, sizeof path, "%s/level", dir);
        if (read_line(path, level, sizeof level) != 0)
            continue;
        snprintf(path, sizeof path, "%s/size", dir);
        if (read_line(path, size, sizeof size) != 0)
            continue;
        long long bytes = atoll(size);
        char unit = size[strspn(size, "0123456789")];
        bytes *= unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : unit == 'G' ? 1024LL << 20 : 1;
        int sharing = 0;
        snprintf(path, sizeof path, "%s/shared_cpu_map", dir);
        if (read_line(path, map, sizeof map) == 0)
            for (const char *p = map; *p; p++)
                if (*p != ',') {
                    int v = *p >= 'a' ? *p - 'a' + 10 : *p >= 'A' ? *p - 'A' + 10 : *p - '0';
                    sharing += __builtin_popcount((unsigned)v & 15u);
                }
        fprintf(f, "%s\n      {\n        \"type\": ", n++ ? "," : "");
        put_str(f, type);
        fprintf(f, ",\n        \"level\": %d,\n        \"size\": %lld,\n        \"num_sharing\": %d\n      }",
                atoi(level), bytes, sharing);
    }
    fputs(n ? "\n    ],\n" : "],\n", f);
}

static void context(const hb_csvdoc *d, FILE *f)
{
    fputs("{\n  \"context\": {\n", f);
    /* date: when the measurements began, the earliest row's timestamp */
    int ts = hb_csvdoc_col(d, "timestamp");
    const char *date = NULL;
    for (size_t i = 0; ts >= 0 && i < d->nrows; i++) {
        const char *v = d->rows[i].field[ts];
        if (*v && (!date || strcmp(v, date) < 0))
            date = v;
    }
    if (date)
        kv_str(f, "    ", "date", date, 0);
    const char *host = common(d, "host");
    if (host)
        kv_str(f, "    ", "host_name", host, 0);
    kv_str(f, "    ", "executable", "heapbench", 0);
    char here[256] = "";
    int local = host && gethostname(here, sizeof here - 1) == 0 && strcmp(here, host) == 0;
    if (local) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        long mhz = mhz_per_cpu();
        int scaling = cpu_scaling(ncpu);
        if (ncpu > 0)
            fprintf(f, "    \"num_cpus\": %ld,\n", ncpu);
        if (mhz > 0)
            fprintf(f, "    \"mhz_per_cpu\": %ld,\n", mhz);
        if (scaling >= 0)
            fprintf(f, "    \"cpu_scaling_enabled\": %s,\n", scaling ? "true" : "false");
        caches(f);
        double load[3];
        if (getloadavg(load, 3) == 3)
            fprintf(f, "    \"load_avg\": [%g,%g,%g],\n", load[0], load[1], load[2]);
    }
    /* Google Benchmark's own build type is release or debug; ours is the
     * CMake build type (plus a sanitizer), kept in full below. */
    const char *bt = common(d, "build_type");
    kv_str(f, "    ", "library_build_type", bt && strncmp(bt, "Debug", 5) == 0 ? "debug" : "release",
           0);
    /* What Google Benchmark calls custom context (AddCustomContext): strings,
     * each written only when all rows agree. */
    static const char *const extra[] = {"build_type", "compiler",  "cflags",
                                         "git_commit", "cpu_model", "kernel", "topology"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        const char *v = common(d, extra[i]);
        if (v)
            kv_str(f, "    ", extra[i], v, 0);
    }
    kv_str(f, "    ", "heapbench_iteration", "one operation of the workload (iterations = ops)", 1);
    fputs("  },\n  \"benchmarks\": [", f);
}

/* ---- the entries */

static void entry_head(FILE *f, int *first, const char *name, const char *suffix, const group *g,
                       const char *run_type)
{
    fprintf(f, "%s\n    {\n      \"name\": ", *first ? "" : ",");
    *first = 0;
    fputc('"', f);
    put_esc(f, name);
    put_esc(f, suffix);
    fputc('"', f);
    fprintf(f, ",\n      \"family_index\": %zu,\n      \"per_family_instance_index\": %zu,\n"
               "      \"run_name\": ",
            g->family, g->instance);
    put_str(f, name);
    fprintf(f, ",\n      \"run_type\": \"%s\",\n      \"repetitions\": %zu", run_type, g->total);
}

static void iteration(const jctx *j, const group *g, const run *r, int *first)
{
    FILE *f = j->f;
    entry_head(f, first, r->row->field[j->col[C_CELL]], "", g, "iteration");
    fprintf(f, ",\n      \"repetition_index\": %lld,\n      \"threads\": %lld,\n"
               "      \"iterations\": %llu",
            r->rep, r->threads, r->ops);
    kv_num(f, "real_time", r->real_ns);
    kv_num(f, "cpu_time", r->cpu_ns);
    fputs(",\n      \"time_unit\": \"ns\"", f);
    if (!isnan(r->items_per_s))
        kv_num(f, "items_per_second", r->items_per_s);
    /* An allocator given as a library: which file and build, as the run's
     * label (Google Benchmark's free-text field of an entry). */
    int cl = hb_csvdoc_col(j->d, "allocator_lib"), ci = hb_csvdoc_col(j->d, "allocator_lib_id");
    if (cl >= 0 && r->row->field[cl][0]) {
        fputs(",\n      \"label\": \"", f);
        put_esc(f, r->row->field[cl]);
        if (ci >= 0 && r->row->field[ci][0]) {
            put_esc(f, " ");
            put_esc(f, r->row->field[ci]);
        }
        fputc('"', f);
    }
    for (size_t k = 0; k < j->ncounter; k++) {
        double x;
        if (figure(j, r->row, j->counter[k], &x) == 0)
            kv_num(f, j->d->header[j->counter[k]], x);
    }
    fputs("\n    }", f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { A_MEAN, A_MEDIAN, A_STDDEV, A_CV, NAGG };
static const char *const agg_name[NAGG] = {"mean", "median", "stddev", "cv"};

/* Google Benchmark's statistics: the sample standard deviation (n - 1), the
 * median of an even count the mean of the middle two, cv = stddev / mean.
 * `ok` is cleared when cv is undefined (mean 0 with a spread). */
static void stats(double *v, size_t n, double out[NAGG], int *cv_ok)
{
    double sum = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    qsort(v, n, sizeof *v, cmp_double);
    out[A_MEAN] = mean;
    out[A_MEDIAN] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    out[A_STDDEV] = sqrt(ss / (double)(n - 1));
    *cv_ok = 1;
    if (out[A_STDDEV] == 0)
        out[A_CV] = 0; /* no spread, whatever the mean */
    else if (mean != 0)
        out[A_CV] = out[A_STDDEV] / mean;
    else
        *cv_ok = 0;
}

static int aggregates(const jctx *j, const group *g, const run *runs, int *first)
{
    size_t n = g->ok;
    size_t nm = 3 + j->ncounter;
    double *v = malloc(n * sizeof *v), (*res)[NAGG] = calloc(nm, sizeof *res);
    int *have = calloc(nm, sizeof *have), *cv_ok = calloc(nm, sizeof *cv_ok);
    if (!v || !res || !have || !cv_ok) {
        free(v), free(res), free(have), free(cv_ok);
        return ENOMEM;
    }
    for (size_t m = 0; m < nm; m++) {
        have[m] = 1;
        for (size_t i = 0; i < n && have[m]; i++) {
            const run *r = &runs[i];
            if (m == 0)
                v[i] = r->real_ns;
            else if (m == 1)
                v[i] = r->cpu_ns;
            else if (m == 2)
                have[m] = !isnan(v[i] = r->items_per_s);
            else /* a counter is aggregated only when every repetition has it */
                have[m] = figure(j, r->row, j->counter[m - 3], &v[i]) == 0;
        }
        if (have[m])
            stats(v, n, res[m], &cv_ok[m]);
    }
    FILE *f = j->f;
    for (int a = 0; a < NAGG; a++) {
        char suffix[16];
        snprintf(suffix, sizeof suffix, "_%s", agg_name[a]);
        entry_head(f, first, runs[0].row->field[j->col[C_CELL]], suffix, g, "aggregate");
        fprintf(f, ",\n      \"threads\": %lld,\n      \"aggregate_name\": \"%s\",\n"
                   "      \"aggregate_unit\": \"%s\",\n      \"iterations\": %zu",
                runs[0].threads, agg_name[a], a == A_CV ? "percentage" : "time", n);
        kv_num(f, "real_time", res[0][a]);
        kv_num(f, "cpu_time", res[1][a]);
        fputs(",\n      \"time_unit\": \"ns\"", f);
        if (have[2])
            kv_num(f, "items_per_second", res[2][a]);
        for (size_t m = 3; m < nm; m++)
            if (have[m] && (a != A_CV || cv_ok[m]))
                kv_num(f, j->d->header[j->counter[m - 3]], res[m][a]);
        fputs("\n    }", f);
    }
    free(v), free(res), free(have), free(cv_ok);
    return 0;
}

/* An ok row must carry the figures its entry is made of. */
static int load_run(const jctx *j, const hb_csvrow *row, run *r, char *why, size_t len)
{
    const char *bad = NULL;
    double rep, threads, ops = 0, wall, user, sys, ips = 0;
    r->row = row;
    /* the counts become integers of the JSON: past 2^62 (the figure parser
     * lets 1e300 through as a whole number) the cast would be undefined
     * (UBSan, found by fuzz_json) */
    if (figure(j, row, j->col[C_REP], &rep) || rep >= 0x1p62)
        bad = "rep";
    else if (figure(j, row, j->col[C_THREADS], &threads) || threads < 1 || threads >= 0x1p62)
        bad = "threads";
    else if ((row->field[j->col[C_OPS]][0] || row->field[j->col[C_OPS_PER_S]][0]) &&
             (figure(j, row, j->col[C_OPS], &ops) || ops < 1 || ops >= 0x1p62))
        bad = "ops"; /* both empty: a program without a unit of work, ops 0 */
    else if (figure(j, row, j->col[C_WALL], &wall) || wall <= 0)
        bad = "wall_s";
    else if (figure(j, row, j->col[C_USER], &user))
        bad = "user_s";
    else if (figure(j, row, j->col[C_SYS], &sys))
        bad = "sys_s";
    else if (ops && figure(j, row, j->col[C_OPS_PER_S], &ips))
        bad = "ops_per_s";
    if (bad) {
        int c = hb_csvdoc_col(j->d, bad);
        snprintf(why, len, "%s:%zu: %s: status is ok but it is '%s', not a valid figure", row->path,
                 row->line, bad, row->field[c]);
        return EINVAL;
    }
    if (!ops) {
        ops = 1;
        ips = NAN; /* no items: items_per_second left out */
    }
    r->rep = (long long)rep;
    r->threads = (long long)threads;
    r->ops = (unsigned long long)ops;
    r->real_ns = wall / (double)ops * 1e9;
    r->cpu_ns = (user + sys) / (double)ops * 1e9;
    r->items_per_s = ips;
    return 0;
}

static int find_counters(jctx *j, char *why, size_t len)
{
    const hb_csvdoc *d = j->d;
    j->counter = malloc((d->ncols ? d->ncols : 1) * sizeof *j->counter);
    if (!j->counter)
        return snprintf(why, len, "out of memory"), ENOMEM;
    for (size_t c = 0; c < d->ncols; c++) {
        int skip = 0;
        for (size_t k = 0; k < sizeof not_counters / sizeof not_counters[0] && !skip; k++)
            skip = strcmp(d->header[c], not_counters[k]) == 0;
        for (size_t i = 0; i < d->nrows && !skip; i++) {
            double x;
            int e = is_ok(j, &d->rows[i]) ? figure(j, &d->rows[i], (int)c, &x) : 0;
            skip = e != 0 && e != ENOENT;
        }
        if (!skip)
            j->counter[j->ncounter++] = (int)c;
    }
    return 0;
}

/* Groups the rows by cell, in the order cells first appear, and numbers the
 * families. */
static int make_groups(jctx *j, run *runs, group **out, size_t *ngroups, char *why, size_t len)
{
    const hb_csvdoc *d = j->d;
    size_t n = d->nrows, ng = 0, nruns = 0;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    group *g = calloc(n ? n : 1, sizeof *g);
    group **by = calloc(n ? n : 1, sizeof *by);
    int err = 0;
    if (!idx || !g || !by) {
        err = ENOMEM;
        snprintf(why, len, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, cmp_cell, j);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(d->rows[idx[i]].field[j->col[C_CELL]],
                             d->rows[idx[i - 1]].field[j->col[C_CELL]]) != 0)
            g[ng++] = (group){.first = idx[i]};
        g[ng - 1].total++;
    }
    qsort(g, ng, sizeof *g, cmp_group);
    /* each group's ok runs, ordered by rep as Google Benchmark orders them */
    for (size_t k = 0; k < ng; k++) {
        g[k].ok_at = nruns;
        const char *cell = d->rows[g[k].first].field[j->col[C_CELL]];
        size_t lo = 0, hi = n; /* the cell's rows are a run in the sorted idx */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (strcmp(d->rows[idx[mid]].field[j->col[C_CELL]], cell) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < n && strcmp(d->rows[idx[i]].field[j->col[C_CELL]], cell) == 0; i++) {
            const hb_csvrow *row = &d->rows[idx[i]];
            if (!is_ok(j, row))
                continue;
            if ((err = load_run(j, row, &runs[nruns], why, len)))
                goto out;
            nruns++;
        }
        g[k].ok = nruns - g[k].ok_at;
        qsort(runs + g[k].ok_at, g[k].ok, sizeof *runs, cmp_rep);
    }
    /* families: cells equal in every family column, numbered in order of
     * first appearance; instances numbered the same way within each */
    for (size_t k = 0; k < ng; k++)
        by[k] = &g[k];
    qsort_r(by, ng, sizeof *by, cmp_family, j);
    size_t nfam = 0;
    for (size_t k = 0; k < ng; k++) {
        /* a new family unless equal to the previous in every family column */
        int newfam = 1;
        if (k > 0) {
            newfam = 0;
            for (size_t c = 0; c < NFAM && !newfam; c++)
                newfam = j->fam[c] >= 0 && strcmp(d->rows[by[k]->first].field[j->fam[c]],
                                                  d->rows[by[k - 1]->first].field[j->fam[c]]) != 0;
        }
        by[k]->instance = newfam ? 0 : by[k - 1]->instance + 1;
        by[k]->family = newfam ? nfam++ : by[k - 1]->family;
    }
    /* renumber families by their first appearance */
    group **lead = by; /* reuse: the instance-0 groups, one per family */
    size_t nl = 0;
    for (size_t k = 0; k < ng; k++)
        if (g[k].instance == 0)
            lead[nl++] = &g[k];
    qsort(lead, nl, sizeof *lead, cmp_first);
    size_t *renum = malloc((nfam ? nfam : 1) * sizeof *renum);
    if (!renum) {
        err = ENOMEM;
        snprintf(why, len, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < nl; k++)
        renum[lead[k]->family] = k;
    for (size_t k = 0; k < ng; k++)
        g[k].family = renum[g[k].family];
    free(renum);
    *out = g;
    *ngroups = ng;
    g = NULL;
out:
    free(idx);
    free(g);
    free(by);
    return err;
}

int hb_json_write(const hb_csvdoc *d, FILE *f, char *why, size_t len)
{
    jctx j = {.d = d, .f = f};
    for (int k = 0; k < NREQ; k++)
        if ((j.col[k] = hb_csvdoc_col(d, required[k])) < 0) {
            snprintf(why, len, "%s:1: no column '%s' (not a heapbench results file?)", d->path,
                     required[k]);
            return EINVAL;
        }
    for (size_t k = 0; k < NFAM; k++)
        j.fam[k] = hb_csvdoc_col(d, family_cols[k]);
    int err = find_counters(&j, why, len);
    run *runs = calloc(d->nrows ? d->nrows : 1, sizeof *runs);
    group *g = NULL;
    size_t ng = 0;
    if (!err && !runs) {
        err = ENOMEM;
        snprintf(why, len, "out of memory");
    }
    if (!err)
        err = make_groups(&j, runs, &g, &ng, why, len);
    if (!err) {
        context(d, f);
        int first = 1;
        for (size_t k = 0; k < ng && !err; k++) {
            for (size_t i = 0; i < g[k].ok; i++)
                iteration(&j, &g[k], &runs[g[k].ok_at + i], &first);
            /* Google Benchmark aggregates only repeated benchmarks */
            if (g[k].ok >= 2)
                err = aggregates(&j, &g[k], &runs[g[k].ok_at], &first);
        }
        fputs(first ? "]\n}\n" : "\n  ]\n}\n", f);
        if (err)
            snprintf(why, len, "out of memory");
        else if (fflush(f) != 0 || ferror(f)) {
            err = errno ? errno : EIO;
            snprintf(why, len, "write: %s", strerror(err));
        }
    }
    free(g);
    free(runs);
    free(j.counter);
    return err;
}

int hb_json_from_csv(const char *csv_path, const char *json_path)
{
    char why[1024];
    hb_csvdoc d;
    int err = hb_csvdoc_read(csv_path, &d, why, sizeof why);
    if (err) {
        fprintf(stderr, "heapbench: json: %s\n", why);
        return err;
    }
    /* Written beside the target and renamed over it: a reader sees the old
     * JSON or the new one, never a prefix; a signal removes it. */
    char *tmp = NULL;
    FILE *f = NULL;
    int fd = hb_tmp_create(json_path, &tmp);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        err = errno;
        fprintf(stderr, "heapbench: json: cannot create a file beside %s: %s\n", json_path,
                strerror(err));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
            hb_tmp_forget(tmp);
        }
        free(tmp);
        hb_csvdoc_free(&d);
        return err;
    }
    err = hb_json_write(&d, f, why, sizeof why);
    if (!err && fsync(fileno(f)) != 0) {
        err = errno;
        snprintf(why, sizeof why, "%s: %s", json_path, strerror(err));
    }
    if (fclose(f) != 0 && !err) {
        err = errno;
        snprintf(why, sizeof why, "%s: %s", json_path, strerror(err));
    }
    if (!err && rename(tmp, json_path) != 0) {
        err = errno;
        snprintf(why, sizeof why, "%s: %s", json_path, strerror(err));
    }
    if (err) {
        unlink(tmp);
        fprintf(stderr, "heapbench: json: %s\n", why);
    }
    hb_tmp_forget(tmp);
    free(tmp);
    hb_csvdoc_free(&d);
    return err;
}

int hb_json_main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: heapbench json IN.csv OUT.json\n");
        return 2;
    }
    /* OUT may be IN's own NAME.json (what `run` writes), never IN or the
     * companions it is read with. */
    char why[1024];
    const char *in = argv[0];
    if (hb_out_not_input(argv[1], &in, 1, 1, why, sizeof why)) {
        fprintf(stderr, "heapbench json: %s\n", why);
        return 2;
    }
    return hb_json_from_csv(argv[0], argv[1]) ? 2 : 0;
}
