/* results.c -- results/NAME.csv, the contract of DESIGN.md and
 * results/README.md. Columns are only ever added, never renamed; a value that
 * was not measured is left empty, never faked. */
#include "harness.h"
#include "buildinfo.h"
#include "csvio.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const columns[] = {
    /* identity */
    "run_id", "cell", "workload", "size", "params", "allocator", "collector", "heap", "threads",
    "rep", "status", "error",
    /* work */
    "ops", "allocs", "frees", "wall_s", "user_s", "sys_s", "ops_per_s",
    /* latency */
    "lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns",
    /* pauses */
    "gc_count", "pause_total_ms", "pause_p50_us", "pause_p90_us", "pause_p99_us",
    "pause_p999_us", "pause_max_us", "mmu_1ms", "mmu_10ms", "mmu_100ms",
    /* memory */
    "peak_rss_kb", "final_rss_kb", "peak_live_bytes", "collected_objects", "leaked_objects",
    "leaked_bytes",
    /* environment */
    "git_commit", "compiler", "build_type", "host", "cpu_model", "kernel", "pinned", "timestamp",
    /* added after the contract's columns */
    "lat_samples", "cflags", "topology", "process_s", "gc_own_ms",
    /* an allocator given as a library: the file preloaded, and which build */
    "allocator_lib", "allocator_lib_id",
    "garbage_mean_bytes", "garbage_max_bytes",
    /* rusage beyond time; a program's own figure (programs/program.h) */
    "maxrss_kb", "minflt", "majflt", "nvcsw", "nivcsw", "figure", "figure_unit", "harness_cpu_s",
    /* heap-size experiments (--heap-factors, --param heap_kb): the factor,
     * the minimum heap it multiplies, the limit the cell ran under */
    "heap_factor", "min_heap_kb", "heap_limit_kb",
    /* gc.get_stats() per generation over the run (collector.h's hb_gen_stats;
     * cpython: the interpreter's own) */
    "gc0_collections", "gc0_collected", "gc0_uncollectable", "gc1_collections", "gc1_collected",
    "gc1_uncollectable", "gc2_collections", "gc2_collected", "gc2_uncollectable",
    /* the largest automatic pause (NAME.pauses.csv's explicit 0): pause_max_us
     * without the collections hb_collect (gc.collect()) asked for */
    "pause_max_auto_us",
    /* run --steady (steady.h): the host probe's slowest reading around the
     * run, and the runs of this repetition thrown away for a slow host */
    "host_slow", "retakes",
};
#define NCOLS (sizeof columns / sizeof columns[0])

/* A companion file of per-cell series (NAME.rss.csv, NAME.pauses.csv). Its
 * first columns are the contract's; run_id and thread come after them. */
/* The companions' columns (docs/metrics.md): NAME.pauses.csv, NAME.rss.csv */
static const char *const pause_columns[] = {"cell",     "rep",   "start_ms", "duration_us", "generation",
                                            "examined", "freed", "run_id",   "thread",      "ttsp_us",
                                            "explicit"};
static const char *const rss_columns[] = {"cell", "rep", "ms", "rss_bytes", "live_bytes", "run_id", "gc_live_bytes"};

typedef struct series_file {
    const char *suffix;
    char header[256];
    int fd; /* -1 until the first block is written */
} series_file;

struct hb_csv {
    int fd;
    hb_env env;
    char path[4096];
    series_file rss, pauses;
    off_t mark[2]; /* series files' lengths before the last cell's block */
    hb_done_row *done; /* the ok and skipped rows present when opened, sorted by key */
    size_t ndone;
};

const char *const *hb_results_columns(int kind, size_t *n)
{
    if (kind == 1) {
        *n = sizeof pause_columns / sizeof pause_columns[0];
        return pause_columns;
    }
    if (kind == 2) {
        *n = sizeof rss_columns / sizeof rss_columns[0];
        return rss_columns;
    }
    *n = NCOLS;
    return columns;
}

const char *hb_status_name(hb_status s)
{
    static const char *const names[] = {"ok", "failed", "crashed", "timeout", "skipped", "oom"};
    return names[s];
}

/* The header line of the file of kind (hb_results_columns) into buf. */
static void header_line(int kind, char *buf, size_t len)
{
    size_t n, at = 0;
    const char *const *cols = hb_results_columns(kind, &n);
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? "," : "", cols[i]);
    snprintf(buf + at, len - at, "\n");
}

/* One file: an existing regular file we may write, or a name in a writable
 * directory; `dir_too` also wants the directory writable when the file
 * exists (a file replaced by rename). */
static int check_one(const char *path, int dir_too, char *why, size_t len)
{
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(why, len, "%s: not a regular file", path);
            return ENOTSUP;
        }
        if (access(path, W_OK) != 0) {
            int e = errno;
            snprintf(why, len, "%s: %s", path, strerror(e));
            return e;
        }
        if (!dir_too)
            return 0;
    }
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, len, "directory %s does not exist", dir);
        return ENOENT;
    }
    if (access(dir, W_OK) != 0) {
        int e = errno;
        snprintf(why, len, "directory %s is not writable%s: %s", dir, exists ? " (NAME.json is replaced in it)" : "",
                 strerror(e));
        return EACCES;
    }
    return 0;
}

int hb_csv_check_writable(const char *path, char *why, size_t len)
{
    if (strlen(path) < 5 || strcmp(path + strlen(path) - 4, ".csv") != 0) {
        snprintf(why, len, "the name does not end in .csv (its companions' names are made from it)");
        return EINVAL;
    }
    int err = check_one(path, 0, why, len);
    /* every companion, so that nothing is found unwritable after the
     * matrix has run */
    for (int k = 0; k < HB_NCOMP && !err; k++) {
        char comp[4200];
        err = hb_companion_path(path, hb_comp_suffix[k], comp, sizeof comp, why, len);
        if (!err)
            err = check_one(comp, k == HB_COMP_JSON, why, len);
    }
    return err;
}

static int cmp_done(const void *a, const void *b)
{
    return strcmp(((const hb_done_row *)a)->key, ((const hb_done_row *)b)->key);
}

/* a number field of a row read back: -1 when empty */
static double field_num(const hb_csvdoc *d, size_t row, int col)
{
    const char *v = col >= 0 ? d->rows[row].field[col] : "";
    return v[0] ? strtod(v, NULL) : -1;
}

/* Checks an existing results file whole before anything is appended to it,
 * and remembers which (cell, rep) it has, for --resume. */
static int load_existing(hb_csv *f, const char *path)
{
    hb_csvdoc d;
    char why[512];
    if (hb_csvdoc_read(path, &d, why, sizeof why) != 0) {
        fprintf(stderr, "heapbench: will not append to %s: %s\n", path, why);
        return 2;
    }
    int same = d.ncols == NCOLS;
    for (size_t i = 0; same && i < NCOLS; i++)
        same = strcmp(d.header[i], columns[i]) == 0;
    if (!same) {
        size_t at = 0; /* the first column that differs */
        while (at < d.ncols && at < NCOLS && strcmp(d.header[at], columns[at]) == 0)
            at++;
        if (at < d.ncols && at < NCOLS)
            fprintf(stderr, "heapbench: %s has another schema (column %zu is '%s', this version's is '%s'); "
                            "choose another --out\n", path, at + 1, d.header[at], columns[at]);
        else
            fprintf(stderr, "heapbench: %s has another schema (%zu columns, not this version's %zu); "
                            "choose another --out\n", path, d.ncols, NCOLS);
        hb_csvdoc_free(&d);
        return 2;
    }
    if (d.unterminated) {
        fprintf(stderr, "heapbench: %s ends in the middle of a row; it was not written by heapbench "
                        "whole, will not append\n", path);
        hb_csvdoc_free(&d);
        return 2;
    }
    /* Done: a (cell, rep) with an ok row, or a skipped one (a cell that
     * cannot run here, which running again would skip again). A failed,
     * crashed or timed-out row stays in the file as the record of that
     * attempt, and --resume runs the cell again (docs/harness.md). */
    int ccell = hb_csvdoc_col(&d, "cell"), crep = hb_csvdoc_col(&d, "rep"), cst = hb_csvdoc_col(&d, "status");
    int cwall = hb_csvdoc_col(&d, "wall_s"), cops = hb_csvdoc_col(&d, "ops");
    int cpeak = hb_csvdoc_col(&d, "peak_rss_kb"), cmax = hb_csvdoc_col(&d, "maxrss_kb");
    f->done = calloc(d.nrows + 1, sizeof *f->done);
    for (size_t i = 0; f->done && i < d.nrows; i++) {
        const char *cell = d.rows[i].field[ccell], *rep = d.rows[i].field[crep], *st = d.rows[i].field[cst];
        int ok = strcmp(st, "ok") == 0;
        if (!ok && strcmp(st, "skipped") != 0)
            continue;
        hb_done_row *r = &f->done[f->ndone];
        size_t n = strlen(cell) + strlen(rep) + 2;
        if ((r->key = malloc(n)) == NULL)
            break;
        snprintf(r->key, n, "%s\x1f%s", cell, rep);
        r->ok = ok;
        r->wall_s = field_num(&d, i, cwall);
        double ops = field_num(&d, i, cops);
        r->ops = ops > 0 ? (uint64_t)ops : 0;
        r->peak_rss_kb = (int64_t)field_num(&d, i, cpeak);
        r->maxrss_kb = (int64_t)field_num(&d, i, cmax);
        f->ndone++;
    }
    hb_csvdoc_free(&d);
    if (!f->done)
        return 2;
    qsort(f->done, f->ndone, sizeof *f->done, cmp_done);
    return 0;
}

const hb_done_row *hb_csv_done_row(const hb_csv *f, const char *cell, int rep)
{
    char key[600];
    snprintf(key, sizeof key, "%s\x1f%d", cell, rep);
    hb_done_row k = {.key = key};
    return f->ndone ? bsearch(&k, f->done, f->ndone, sizeof *f->done, cmp_done) : NULL;
}

/* A file ends with its line terminator, or in the middle of a row that the
 * next append would be glued onto. */
static int ends_whole(int fd, off_t size)
{
    char last = '\n';
    return size == 0 || (pread(fd, &last, 1, size - 1) == 1 && last == '\n');
}

/* Appends `block` whole or not at all: a short write is cut back off. */
static int append_block(int fd, const char *block, size_t n)
{
    ssize_t w = write(fd, block, n);
    if (w == (ssize_t)n)
        return 0;
    int e = w < 0 ? errno : ENOSPC;
    if (w > 0 && ftruncate(fd, lseek(fd, 0, SEEK_END) - w) != 0)
        e = errno;
    return e;
}

/* Opens a companion for appending, created with its header when absent or
 * empty; one that exists must have the header and end with a whole row.
 * 0, or 2 after one line naming the companion. */
static int series_open(hb_csv *f, series_file *sf)
{
    char path[4200], why[512];
    if (hb_companion_path(f->path, sf->suffix, path, sizeof path, why, sizeof why)) {
        fprintf(stderr, "heapbench: %s\n", why);
        return 2;
    }
    sf->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (sf->fd < 0) {
        fprintf(stderr, "heapbench: cannot open %s: %s\n", path, strerror(errno));
        return 2;
    }
    struct stat st;
    fstat(sf->fd, &st);
    if (st.st_size == 0) {
        int e = append_block(sf->fd, sf->header, strlen(sf->header));
        if (e)
            fprintf(stderr, "heapbench: cannot write the header of %s: %s\n", path, strerror(e));
        return e ? 2 : 0;
    }
    char have[256] = {0};
    if (pread(sf->fd, have, strlen(sf->header), 0) < 0 || strcmp(have, sf->header) != 0) {
        fprintf(stderr, "heapbench: %s exists with another header (not this version's companion); "
                        "choose another --out\n", path);
        return 2;
    }
    if (!ends_whole(sf->fd, st.st_size)) {
        fprintf(stderr, "heapbench: %s ends in the middle of a row; it was not written by heapbench whole, "
                        "will not append\n", path);
        return 2;
    }
    return 0;
}

int hb_csv_open(const char *path, hb_csv **out)
{
    char header[2048];
    header_line(0, header, sizeof header);
    hb_csv *f = calloc(1, sizeof *f);
    if (!f)
        return 2;
    f->fd = -1;
    snprintf(f->path, sizeof f->path, "%s", path);
    f->rss = (series_file){.suffix = ".rss.csv", .fd = -1};
    f->pauses = (series_file){.suffix = ".pauses.csv", .fd = -1};
    header_line(2, f->rss.header, sizeof f->rss.header);
    header_line(1, f->pauses.header, sizeof f->pauses.header);
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "heapbench: cannot open --out %s: %s\n", path, strerror(errno));
        hb_csv_close(f);
        return 2;
    }
    f->fd = fd;
    /* One writer per results file for the whole run: two runs resuming one
     * file would both run its missing cells. The lock goes with the fd. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            fprintf(stderr, "heapbench: %s is being written by another heapbench run (it holds the file's "
                            "lock); wait for it to finish or choose another --out\n", path);
        else
            fprintf(stderr, "heapbench: cannot lock %s: %s\n", path, strerror(errno));
        hb_csv_close(f);
        return 2;
    }
    struct stat st;
    fstat(fd, &st);
    if (st.st_size > 0 && load_existing(f, path) != 0) {
        hb_csv_close(f);
        return 2;
    }
    if (st.st_size == 0) {
        size_t n = strlen(header);
        if (write(fd, header, n) != (ssize_t)n) {
            fprintf(stderr, "heapbench: cannot write header to %s: %s\n", path, strerror(errno));
            hb_csv_close(f);
            return 2;
        }
    }
    /* The companions now, not at the first cell that has samples: every
     * run writes both (a header alone when nothing was sampled or nothing
     * collected), and one that cannot be appended to is found before any
     * cell runs. */
    if (series_open(f, &f->rss) || series_open(f, &f->pauses)) {
        hb_csv_close(f);
        return 2;
    }
    hb_env_read(&f->env);
    *out = f;
    return 0;
}

void hb_csv_undo_series(hb_csv *f)
{
    series_file *sf[2] = {&f->rss, &f->pauses};
    for (int i = 0; i < 2; i++)
        if (sf[i]->fd >= 0 && f->mark[i] >= 0)
            if (ftruncate(sf[i]->fd, f->mark[i]) != 0)
                fprintf(stderr, "heapbench: cannot cut back %s%s: %s\n", f->path, sf[i]->suffix, strerror(errno));
}

int hb_csv_write_series(hb_csv *f, const char *run_id, const hb_cell *c, const hb_cell_out *o)
{
    char id[512];
    hb_cell_id(c, id, sizeof id);
    f->mark[0] = f->rss.fd >= 0 ? lseek(f->rss.fd, 0, SEEK_END) : -1;
    f->mark[1] = f->pauses.fd >= 0 ? lseek(f->pauses.fd, 0, SEEK_END) : -1;
    for (int which = 0; which < 2; which++) {
        const hb_buf *b = which == 0 ? &o->rss : &o->pauses;
        series_file *sf = which == 0 ? &f->rss : &f->pauses;
        if (b->len == 0)
            continue;
        int rc;
        /* a line: the cell and run ids, and numbers that take under 200 bytes */
        size_t cap = b->len * (strlen(id) + strlen(run_id) + 200) + 1, at = 0;
        char *block = malloc(cap);
        if (!block)
            return ENOMEM;
        for (size_t i = 0; i < b->len; i++) {
            if (which == 0) {
                const hb_rss_sample *s = (const hb_rss_sample *)b->data + i;
                char live[32] = "", gclive[32] = "";
                if (s->live_bytes >= 0)
                    snprintf(live, sizeof live, "%lld", (long long)s->live_bytes);
                if (s->gc_live_bytes >= 0)
                    snprintf(gclive, sizeof gclive, "%lld", (long long)s->gc_live_bytes);
                at += (size_t)snprintf(block + at, cap - at, "%s,%d,%llu,%llu,%s,%s,%s\n", id, c->rep,
                                       (unsigned long long)s->ms, (unsigned long long)s->rss_bytes, live, run_id,
                                       gclive);
            } else {
                const hb_pause *p = (const hb_pause *)b->data + i;
                char ex[24] = "", fr[24] = ""; /* empty where the collector cannot count */
                if (p->examined != HB_GC_UNKNOWN)
                    snprintf(ex, sizeof ex, "%llu", (unsigned long long)p->examined);
                if (p->freed != HB_GC_UNKNOWN)
                    snprintf(fr, sizeof fr, "%llu", (unsigned long long)p->freed);
                at += (size_t)snprintf(block + at, cap - at, "%s,%d,%.3f,%.3f,%d,%s,%s,%s,%d,%.3f,%d\n", id,
                                       c->rep, (double)(p->start_ns - o->r.t0_ns) / 1e6,
                                       (double)p->duration_ns / 1e3, p->generation, ex, fr, run_id, p->thread,
                                       (double)p->ttsp_ns / 1e3, p->is_explicit ? 1 : 0);
            }
        }
        rc = append_block(sf->fd, block, at);
        free(block);
        if (rc)
            return rc;
    }
    return 0;
}

/* Appends `v` as one CSV field, quoted when it needs to be. */
static size_t put_field(char *buf, size_t at, size_t len, const char *v, int first)
{
    if (!first && at < len)
        buf[at++] = ',';
    int quote = strpbrk(v, ",\"\n\r") != NULL;
    if (quote && at < len)
        buf[at++] = '"';
    for (; *v && at + 2 < len; v++) {
        if (*v == '"')
            buf[at++] = '"';
        buf[at++] = *v;
    }
    if (quote && at < len)
        buf[at++] = '"';
    return at;
}

int hb_csv_write_row(hb_csv *f, const char *run_id, const hb_cell *c, const hb_result *r)
{
    char v[NCOLS][512];
    memset(v, 0, sizeof v);
    int i = 0;
    int measured = r->status == HB_ST_OK;
    char id[512], params[512];
    hb_cell_id(c, id, sizeof id);
    hb_cell_params_string(c, 0, params, sizeof params);
#define SET(...) snprintf(v[i++], sizeof v[0], __VA_ARGS__)
#define SKIP() (i++)
    SET("%s", run_id);
    SET("%s", id);
    SET("%s", c->workload->name);
    SET("%s", hb_size_name(c->size));
    SET("%s", params);
    SET("%s", c->alloc_label ? c->alloc_label : c->alloc->name);
    SET("%s", c->collector ? c->collector->name : "none");
    SET("%s", c->shared ? "shared" : "isolated");
    SET("%d", c->threads);
    SET("%d", c->rep);
    SET("%s", hb_status_name(r->status));
    SET("%s", r->error);
    if (measured && r->external) {
        /* a program: its own unit of work if it declares one; the
         * allocator calls of a foreign program are not counted */
        if (r->counts.ops)
            SET("%llu", (unsigned long long)r->counts.ops);
        else
            SKIP();
        i += 2;
        SET("%.9f", r->wall_s);
        SET("%.6f", r->user_s);
        SET("%.6f", r->sys_s);
        if (r->counts.ops && r->wall_s > 0)
            SET("%.1f", (double)r->counts.ops / r->wall_s);
        else
            SKIP();
    } else if (measured) {
        SET("%llu", (unsigned long long)r->counts.ops);
        SET("%llu", (unsigned long long)r->counts.allocs);
        SET("%llu", (unsigned long long)r->counts.frees);
        SET("%.9f", r->wall_s);
        SET("%.6f", r->user_s);
        SET("%.6f", r->sys_s);
        SET("%.1f", r->wall_s > 0 ? (double)r->counts.ops / r->wall_s : 0.0);
    } else {
        i += 7;
    }
    if (measured && r->lat_count) {
        SET("%llu", (unsigned long long)r->lat_p50_ns);
        SET("%llu", (unsigned long long)r->lat_p90_ns);
        SET("%llu", (unsigned long long)r->lat_p99_ns);
        SET("%llu", (unsigned long long)r->lat_p999_ns);
        SET("%llu", (unsigned long long)r->lat_max_ns);
    } else {
        i += 5; /* sampling off */
    }
    if (measured && r->have_pauses) {
        const hb_pause_stats *p = &r->pauses;
        SET("%llu", (unsigned long long)p->count);
        SET("%.3f", p->total_ms);
        if (p->count) {
            SET("%.3f", p->p50_us);
            SET("%.3f", p->p90_us);
            SET("%.3f", p->p99_us);
            SET("%.3f", p->p999_us);
            SET("%.3f", p->max_us);
        } else {
            i += 5; /* no pause: no distribution */
        }
        for (int k = 0; k < 3; k++) {
            if (p->mmu[k] >= 0)
                SET("%.4f", p->mmu[k]);
            else
                SKIP(); /* the run was shorter than the window */
        }
    } else {
        i += 10; /* no collector: allocator-only workloads */
    }
    if (measured && r->peak_rss_kb >= 0)
        SET("%lld", (long long)r->peak_rss_kb);
    else
        SKIP();
    if (measured && r->final_rss_kb >= 0)
        SET("%lld", (long long)r->final_rss_kb);
    else
        SKIP();
    if (measured && r->peak_live_bytes >= 0)
        SET("%lld", (long long)r->peak_live_bytes);
    else
        SKIP();
    if (measured && r->collected_objects >= 0)
        SET("%lld", (long long)r->collected_objects);
    else
        SKIP();
    if (measured && r->leaked_objects >= 0) {
        SET("%lld", (long long)r->leaked_objects);
        SET("%lld", (long long)r->leaked_bytes);
    } else {
        i += 2; /* no collector, or one (boehm) that cannot enumerate its heap */
    }
    SET("%s", HB_GIT_COMMIT);
    SET("%s", HB_COMPILER);
    SET("%s", HB_BUILD_TYPE);
    SET("%s", f->env.host);
    SET("%s", f->env.cpu_model);
    SET("%s", f->env.kernel);
    SET("%s", r->pinned[0] ? r->pinned : "no");
    char stamp[64];
    hb_utc_stamp(stamp, sizeof stamp, 0);
    SET("%s", stamp);
    if (measured && r->lat_count)
        SET("%llu", (unsigned long long)r->lat_count);
    else
        SKIP();
    SET("%s", HB_CFLAGS);
    SET("%s", f->env.topology);
    if (r->process_s > 0)
        SET("%.6f", r->process_s);
    else
        SKIP(); /* no process: a skipped cell */
    if (measured && r->have_pauses)
        SET("%.3f", r->gc_own_ms);
    else
        SKIP();
    /* said on every row, whatever its status; library.c bounds the path */
    SET("%.*s", HB_ALLOC_LIB_PATH_MAX, c->lib ? c->lib->path : "");
    SET("%s", c->lib ? c->lib->id : "");
    if (measured && r->garbage_mean_bytes >= 0) {
        SET("%lld", (long long)r->garbage_mean_bytes);
        SET("%lld", (long long)r->garbage_max_bytes);
    } else {
        SKIP();
        SKIP();
    }
    const int64_t rus[5] = {r->maxrss_kb, r->minflt, r->majflt, r->nvcsw, r->nivcsw};
    for (int k = 0; k < 5; k++) {
        if (measured && rus[k] >= 0)
            SET("%lld", (long long)rus[k]);
        else
            SKIP();
    }
    if (measured && r->figure >= 0) {
        SET("%.6g", r->figure);
        SET("%s", r->figure_unit);
    } else {
        i += 2; /* no program, or one that reports no figure */
    }
    if (measured && r->harness_cpu_s >= 0)
        SET("%.6f", r->harness_cpu_s);
    else
        SKIP();
    /* what the cell is, said whatever its status (an oom row names its limit) */
    if (c->gc.heap_factor > 0)
        SET("%g", c->gc.heap_factor);
    else
        SKIP();
    if (c->gc.min_heap_kb > 0)
        SET("%lld", (long long)c->gc.min_heap_kb);
    else
        SKIP();
    if (c->gc.heap_kb > 0)
        SET("%lld", (long long)c->gc.heap_kb);
    else
        SKIP();
    for (int g = 0; g < HB_GENERATIONS; g++) {
        if (measured && r->have_gen_stats) {
            SET("%llu", (unsigned long long)r->gen_stats[g].collections);
            SET("%llu", (unsigned long long)r->gen_stats[g].collected);
            SET("%llu", (unsigned long long)r->gen_stats[g].uncollectable);
        } else {
            i += 3; /* no collector, or one that keeps no such figures (boehm) */
        }
    }
    if (measured && r->have_pauses && r->pauses.count && r->pauses.max_auto_us >= 0)
        SET("%.3f", r->pauses.max_auto_us);
    else
        SKIP(); /* no automatic pause: every collection was asked for, or none ran */
    if (r->host_slow >= 0) { /* said whatever the status: the host, not the cell */
        SET("%.3f", r->host_slow);
        SET("%d", r->retakes);
    } else {
        i += 2; /* not run --steady */
    }
#undef SET
#undef SKIP
    if ((size_t)i != NCOLS) {
        fprintf(stderr, "heapbench: internal error: row has %d of %zu columns\n", i, NCOLS);
        abort();
    }
    char line[NCOLS * 520];
    size_t at = 0;
    for (size_t k = 0; k < NCOLS; k++)
        at = put_field(line, at, sizeof line - 2, v[k], k == 0);
    line[at++] = '\n';
    /* One write with O_APPEND: a row is on disk whole or not at all. */
    return append_block(f->fd, line, at);
}

void hb_csv_close(hb_csv *f)
{
    if (!f)
        return;
    int fds[3] = {f->fd, f->rss.fd, f->pauses.fd};
    for (int i = 0; i < 3; i++)
        if (fds[i] > 0) {
            fsync(fds[i]);
            close(fds[i]);
        }
    for (size_t i = 0; i < f->ndone; i++)
        free(f->done[i].key);
    free(f->done);
    free(f);
}
