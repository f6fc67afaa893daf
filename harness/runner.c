/* runner.c -- the matrix: allocator x workload x threads x repetition, each
 * cell in a fresh process (exec'd, so its RSS is its own and a crash costs one
 * row), each producing exactly one CSV row whatever happens to it.
 *
 * Order: cells in matrix order with their repetitions together, or with
 * --interleave in rounds, so slow drifts of the machine (thermal, other
 * tenants) spread over every cell instead of biasing the ones that ran
 * last: round r runs repetition r of every cell, its blocks in random
 * order, and a block -- the cells that differ only in allocator,
 * collector or the collector's settings, which share a seed
 * (hb_cell_seed) -- runs together, its cells in random order. The
 * backends a block compares run seconds apart, so their repetition r can
 * be compared as a pair (scripts/ratio-table.py --paired). Each cell gets
 * one unrecorded warm-up run first (--warmup N).
 *
 * Stopping: SIGINT or SIGTERM kills the running child, keeps every row
 * already written (each is one write(2)), writes nothing for the cell that
 * was cut, and exits 130; `--resume` later runs only what is missing. */
#include "harness.h"
#include "csvio.h"
#include "console.h"
#include "outfile.h"
#include "plot.h"
#include "rounds.h"
#include "steady.h"
#include "tables.h"
#include "../workloads/programs/program.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Reads the child's report (see send_out in cell.c); 0 when complete. */
static int parse_out(const char *buf, size_t len, hb_cell_out *o)
{
    size_t at = 0;
    uint64_t n;
    if (len < sizeof o->r)
        return -1;
    memcpy(&o->r, buf, sizeof o->r);
    at += sizeof o->r;
    for (int series = 0; series < 2; series++) {
        hb_buf *b = series == 0 ? &o->rss : &o->pauses;
        if (len - at < sizeof n)
            return -1;
        memcpy(&n, buf + at, sizeof n);
        at += sizeof n;
        if (n > (len - at) / b->rec)
            return -1;
        for (uint64_t i = 0; i < n; i++, at += b->rec)
            if (hb_buf_push(b, buf + at))
                return -1;
    }
    return at == len ? 0 : -1;
}

/* Runs one cell in a child; fills o (status crashed/timeout when it dies).
 * Returns 1 when a stop signal cut it short (o is then meaningless). */
int hb_run_child(const char *self, const hb_cell *c, double timeout_s, int quiet, int out_fd, hb_cell_out *o)
{
    hb_cell_out_init(o, c);
    hb_result *r = &o->r;
    int pfd[2];
    if (pipe(pfd) != 0) {
        r->status = HB_ST_CRASHED;
        snprintf(r->error, sizeof r->error, "pipe: %s", strerror(errno));
        return 0;
    }
    char fd_s[16], th_s[16], rep_s[16], seed_s[32], lat_s[16], smp_s[16], pin_s[4], gc_s[128];
    char pv[HB_MAX_PARAMS][32];
    const char *argv[16 + HB_MAX_PARAMS + 1];
    int n = 0;
    snprintf(fd_s, sizeof fd_s, "%d", pfd[1]);
    snprintf(th_s, sizeof th_s, "%d", c->threads);
    snprintf(rep_s, sizeof rep_s, "%d", c->rep);
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)c->seed);
    snprintf(lat_s, sizeof lat_s, "%u", c->m.lat_every);
    snprintf(smp_s, sizeof smp_s, "%u", c->m.sample_ms);
    snprintf(pin_s, sizeof pin_s, "%d", c->m.pin);
    argv[n++] = self;
    argv[n++] = "__cell";
    argv[n++] = fd_s;
    argv[n++] = c->alloc->name;
    argv[n++] = c->workload->name;
    argv[n++] = th_s;
    argv[n++] = hb_size_name(c->size);
    argv[n++] = rep_s;
    argv[n++] = seed_s;
    argv[n++] = lat_s;
    argv[n++] = smp_s;
    argv[n++] = pin_s;
    snprintf(gc_s, sizeof gc_s, "%ld,%ld,%ld,%d,%d,%d,%d,%lld,%d", c->gc.threshold[0], c->gc.threshold[1],
             c->gc.threshold[2], c->gc.grow_pct, c->gc.refcount, c->shared, c->gc.garbage_ms,
             (long long)c->gc.heap_kb, c->gc.incremental_mark);
    argv[n++] = c->collector ? c->collector->name : "none";
    argv[n++] = c->alloc_label ? c->alloc_label : c->alloc->name;
    argv[n++] = gc_s;
    argv[n++] = c->lib ? c->lib->path : "-"; /* the library the cell checks it runs on */
    int i = 0;
    for (const hb_param_spec *s = c->workload->params; s && s->name && i < HB_MAX_PARAMS; s++, i++) {
        snprintf(pv[i], sizeof pv[i], "%lld", (long long)c->param[i]);
        argv[n++] = pv[i];
    }
    argv[n] = NULL;
    double t0 = hb_now();
    pid_t pid = fork();
    if (pid < 0) {
        r->status = HB_ST_CRASHED;
        snprintf(r->error, sizeof r->error, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return 0;
    }
    if (pid == 0) {
        /* Its own process group: a Ctrl-C reaches the runner, which decides. */
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        close(pfd[0]);
        if (quiet) { /* a warm-up: not recorded, so its reports are not shown either */
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0)
                dup2(devnull, 1), dup2(devnull, 2);
        } else if (out_fd >= 0) { /* the workload's own reports: for NAME.log, not the console */
            dup2(out_fd, 1);
            dup2(out_fd, 2);
        }
        /* An allocator given as a library: the cell's process starts with it
         * preloaded, so the `system` backend's malloc is the library's. */
        int erc = c->lib ? hb_alloc_lib_apply_env(c->lib) : 0;
        if (erc) {
            fprintf(stderr, "heapbench: cannot set LD_PRELOAD for %s: %s\n", c->lib->path, strerror(erc));
            _exit(127);
        }
        execv(self, (char *const *)argv);
        fprintf(stderr, "heapbench: cannot exec %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    size_t cap = 1 << 16, got = 0;
    char *buf = malloc(cap);
    int timed_out = 0, broken = !buf;
    while (!broken) {
        if (stop_signal)
            break;
        double left = timeout_s - (hb_now() - t0);
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int pr = poll(&p, 1, left > 1 ? 1000 : (int)(left * 1000) + 1);
        if (pr <= 0)
            continue; /* EINTR or a second gone: look at the signal and the clock */
        if (got == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                broken = 1;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t k = read(pfd[0], buf + got, cap - got);
        if (k <= 0)
            break; /* EOF: the child is done, or gone */
        got += (size_t)k;
    }
    close(pfd[0]);
    if (timed_out || stop_signal || broken)
        kill(pid, SIGKILL);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    double lived = hb_now() - t0;
    int cut = stop_signal != 0;
    if (cut) {
    } else if (timed_out) {
        r->status = HB_ST_TIMEOUT;
        snprintf(r->error, sizeof r->error, "killed after the %.0f s timeout", timeout_s);
    } else if (!broken && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 && parse_out(buf, got, o) == 0) {
        /* a complete report */
    } else {
        hb_buf_free(&o->rss);
        hb_buf_free(&o->pauses);
        hb_cell_out_init(o, c); /* nothing of a dead child's report is kept */
        r->status = HB_ST_CRASHED;
        if (WIFSIGNALED(wstatus))
            snprintf(r->error, sizeof r->error, "killed by signal %d (%s)", WTERMSIG(wstatus),
                     strsignal(WTERMSIG(wstatus)));
        else
            snprintf(r->error, sizeof r->error, "exited with status %d before reporting",
                     WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    }
    free(buf);
    /* The runner's own clock around the whole process: the independent check
     * of the wall time the cell reports (wall_s <= process_s). */
    r->process_s = lived;
    return cut;
}

/* A cell's seed: its workload, heap mode, threads, size, parameters and
 * repetition -- not its allocator or collector -- so a cell runs alike in
 * every run, and the backends a run compares get the same inputs: the same
 * random draws, the same generated program input (z3 hashes by address but
 * its search still depends on the problem: one instance drawn per allocator
 * made one allocator 1.5x slower by luck). The collector's settings
 * (thresholds, a heap limit or factor, refcount=) are left out too, so a
 * sweep over them and a cell's minimum heap search run on the same inputs
 * as the cell. row_key is that identity without the repetition: a row of
 * backends side by side. */
static void row_key(const hb_cell *c, char *id, size_t len)
{
    hb_cell base = *c;
    char over[256];
    base.collector = NULL; /* only the workload's own parameters */
    base.shared = 0;
    hb_cell_params_string(&base, 1, over, sizeof over);
    snprintf(id, len, "%s/%s/t%d/%s/%s", c->workload->name, c->shared ? "shared" : "isolated", c->threads,
             hb_size_name(c->size), over);
}

uint64_t hb_cell_seed(const hb_cell *c)
{
    char id[512];
    row_key(c, id, sizeof id);
    return fnv1a(id, 0xcbf29ce484222325ULL) ^ ((uint64_t)c->rep * 0x9e3779b97f4a7c15ULL);
}

/* The rows of --max-reps (rounds.h): group[c] numbers cell c's row, the
 * cells with the same row_key (hb_cell_seed's blocks). 0, or ENOMEM. */
typedef struct keyed {
    char key[512];
    size_t cell;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    return strcmp(((const keyed *)a)->key, ((const keyed *)b)->key);
}

static int cell_rows(const hb_cell *cells, size_t ncells, size_t *group)
{
    keyed *k = calloc(ncells + 1, sizeof *k);
    if (!k)
        return ENOMEM;
    for (size_t c = 0; c < ncells; c++) {
        row_key(&cells[c], k[c].key, sizeof k[c].key);
        k[c].cell = c;
    }
    qsort(k, ncells, sizeof *k, cmp_keyed);
    size_t g = 0;
    for (size_t i = 0; i < ncells; i++) {
        if (i && strcmp(k[i].key, k[i - 1].key) != 0)
            g++;
        group[k[i].cell] = g;
    }
    free(k);
    return 0;
}

typedef struct job {
    size_t cell; /* index into the cell list */
    int rep;
    uint64_t block, draw; /* --interleave: the block's place in its round, the cell's in its block */
} job;

/* --interleave's order: by round (repetition), by block, then at random. */
static int job_order(const void *pa, const void *pb)
{
    const job *a = pa, *b = pb;
    if (a->rep != b->rep)
        return a->rep < b->rep ? -1 : 1;
    if (a->block != b->block)
        return a->block < b->block ? -1 : 1;
    return a->draw < b->draw ? -1 : a->draw > b->draw;
}

/* splitmix64's finaliser: a block's seed to a place that differs per run */
static uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* --interleave's order for jobs[0..n): by round, then block, then at
 * random (a draw from the run's own sequence, *draw) */
static void shuffle(const hb_cell *cells, job *jobs, size_t n, uint64_t run, uint64_t *draw)
{
    for (size_t i = 0; i < n; i++) {
        hb_cell c = cells[jobs[i].cell];
        c.rep = jobs[i].rep;
        jobs[i].block = mix64(hb_cell_seed(&c) ^ run);
        *draw = *draw * 6364136223846793005ULL + 1442695040888963407ULL;
        jobs[i].draw = *draw;
    }
    qsort(jobs, n, sizeof *jobs, job_order);
}

/* --max-reps's state (rounds.h): each cell's row, figures and repetitions
 * so far, and whether its console line was said. */
typedef struct rounds {
    size_t *group;
    const double **fig;
    int *nfig, *nrun;
    unsigned char *more, *said;
} rounds;

static void rounds_free(rounds *rd)
{
    free(rd->group);
    free(rd->fig);
    free(rd->nfig);
    free(rd->nrun);
    free(rd->more);
    free(rd->said);
}

static int rounds_init(rounds *rd, const hb_cell *cells, size_t ncells, int reps, int adapt)
{
    if (!adapt)
        return 0;
    rd->group = calloc(ncells + 1, sizeof *rd->group);
    rd->fig = calloc(ncells + 1, sizeof *rd->fig);
    rd->nfig = calloc(ncells + 1, sizeof *rd->nfig);
    rd->nrun = calloc(ncells + 1, sizeof *rd->nrun);
    rd->more = calloc(ncells + 1, 1);
    rd->said = calloc(ncells + 1, 1);
    if (!rd->group || !rd->fig || !rd->nfig || !rd->nrun || !rd->more || !rd->said ||
        cell_rows(cells, ncells, rd->group)) {
        rounds_free(rd);
        return ENOMEM;
    }
    for (size_t c = 0; c < ncells; c++)
        rd->nrun[c] = reps;
    return 0;
}

static void say_cell(const hb_tally *t, const hb_cell *c, rounds *rd, size_t i, size_t done, size_t total, int base)
{
    char id[512];
    hb_cell_id(c, id, sizeof id);
    if (isatty(2))
        fputs("\r\033[K", stderr);
    hb_cell_line(stderr, done, total, id, t, base);
    rd->said[i] = 1;
}

/* Between rounds: the cells of the rows not yet narrow get a repetition
 * more, appended to jobs[njobs..] (*added of them), or taken from the file
 * under --resume; the cells no round will take further say their line.
 * 1 when rows were taken from the file and nothing added: decide again. */
static int next_round(rounds *rd, const hb_cell *cells, size_t ncells, hb_tally *tl, int maxr, const hb_run_opts *o,
                      const hb_csv *csv, job *jobs, size_t njobs, size_t *added, size_t *resumed,
                      size_t *cells_done, size_t cells_total)
{
    for (size_t c = 0; c < ncells; c++) {
        rd->fig[c] = tl[c].fig;
        rd->nfig[c] = tl[c].nfig;
    }
    hb_rounds_next(ncells, rd->group, rd->fig, rd->nfig, rd->nrun, maxr, o->narrow, rd->more);
    int taken = 0;
    for (size_t c = 0; c < ncells; c++) {
        if (!rd->more[c]) {
            if (!rd->said[c] && tl[c].left == 0 && tl[c].nok + tl[c].nskip + tl[c].nbad > 0)
                say_cell(&tl[c], &cells[c], rd, c, ++*cells_done, cells_total, o->reps);
            continue;
        }
        int rep = rd->nrun[c]++;
        if (o->resume && hb_tally_resumed(&tl[c], csv, &cells[c], rep)) {
            ++*resumed;
            taken = 1;
            continue;
        }
        tl[c].left++;
        jobs[njobs + (*added)++] = (job){.cell = c, .rep = rep};
    }
    return taken && !*added;
}

/* The default matrix ends with its figures, when gnuplot is there, into
 * `dir` ("" when none were drawn; the report inlines these). A plot that
 * fails is said on stderr; the results stand either way. */
static void plot_default(const char *csv, char *dir, size_t dlen, size_t *nfailed)
{
    dir[0] = 0;
    if (system("command -v gnuplot > /dev/null 2>&1") != 0) {
        fprintf(stderr, "heapbench run: gnuplot is not installed: no figures (scripts/setup.sh installs it)\n");
        return;
    }
    fflush(stdout);
    /* quiet: one line for the figures, not one per figure (the report is
     * their index) */
    const char *stem = strrchr(csv, '/');
    snprintf(dir, dlen, "plots/%.*s", (int)strlen(stem ? stem + 1 : csv) - 4, stem ? stem + 1 : csv);
    /* SVG only: a PNG takes gnuplot five times as long, and the report
     * (which inlines these) is where they are read; `heapbench plot` draws
     * both */
    hb_plot_opts po = {.file = csv, .out = dir, .quiet = 1, .svg_only = 1};
    size_t drawn = 0, failed = 0;
    if (hb_plot_draw(&po, &drawn, &failed) != 0) {
        fprintf(stderr, "heapbench run: the figures of %s could not be drawn\n", csv);
        dir[0] = 0; /* the report draws its own */
    } else if (failed) {
        fprintf(stderr, "heapbench run: the figures of %s could not all be drawn\n", csv);
    } else
        printf("%zu figures (SVG) in %s\n", drawn, dir);
    *nfailed = failed;
}

int hb_run(const hb_run_opts *o, const char *self)
{
    /* The cells of the matrix, in matrix order, this shard's only.
     * Allocator-only workloads: allocator x threads, collector none.
     * Collector workloads: collector x allocator x threads, except boehm,
     * which brings its own heap and so runs once whatever --allocators says
     * (recorded as allocator `boehm`; the workload's own state, outside the
     * collected heap, comes from `system`). */
    size_t most = o->n_allocators > o->n_gc_allocators ? o->n_allocators : o->n_gc_allocators;
    size_t combos = 1; /* every --param's values: options.c bounds the product */
    for (size_t k = 0; k < o->n_params; k++)
        combos *= o->params[k].n;
    size_t nfactors = o->n_heap_factors ? o->n_heap_factors : 1; /* a dimension for collectors with a limit */
    size_t ncells_all = o->n_workloads * (o->n_collectors + 1) * most * o->n_threads * 2 * combos * nfactors, ncells = 0;
    hb_cell *cells = calloc(ncells_all ? ncells_all : 1, sizeof *cells);
    if (!cells)
        return 2;
    size_t index = 0;
    char omitted[512] = ""; /* workloads that run on none of the heap modes asked for */
    for (size_t w = 0; w < o->n_workloads; w++) {
        const hb_workload *wl = o->workloads[w];
        size_t ngc = wl->needs_collector ? o->n_collectors : 1;
        for (size_t g = 0; g < ngc; g++) {
            const hb_collector *gc = wl->needs_collector ? o->collectors[g] : NULL;
            int own_heap = gc && gc->own_heap;
            const hb_allocator *const *allocs = gc ? o->gc_allocators : o->allocators;
            const hb_alloc_lib *const *libs = gc ? o->gc_libs : o->alloc_libs;
            size_t nalloc = own_heap ? 1 : gc ? o->n_gc_allocators : o->n_allocators;
            /* cpython, no allocator named: its own, pymalloc, only */
            static const hb_allocator *const pymalloc_only[1] = {&hb_pymalloc_allocator};
            static const hb_alloc_lib *const no_lib[1] = {NULL};
            if (gc && gc->external && !o->named_allocators) {
                allocs = pymalloc_only;
                libs = no_lib;
                nalloc = 1;
            }
            /* heap modes: what the run asks and the workload can do (a
             * workload that declares none runs isolated); allocator-only
             * workloads have no collected heap */
            /* (an allocator-only workload has no collected heap to share:
             * --heap shared alone leaves it out, said, rather than running it
             * as if isolated had been asked) */
            int wl_modes = wl->heap_modes && gc ? wl->heap_modes : HB_HEAP_ISOLATED;
            int modes = o->heap_modes & wl_modes;
            if (!modes && g == 0 && strlen(omitted) + strlen(wl->name) + 60 < sizeof omitted)
                sprintf(omitted + strlen(omitted), "%s%s: %s", omitted[0] ? "; " : "", wl->name,
                        !gc ? "allocator-only, no collected heap to share"
                        : wl_modes == HB_HEAP_SHARED ? "shared heaps only" : "isolated heaps only");
            for (int shared = 0; shared < 2; shared++) {
                if (!(modes & (shared ? HB_HEAP_SHARED : HB_HEAP_ISOLATED)))
                    continue;
                /* The --param keys that are settings of these cells: each
                 * one's values a dimension (the sweep); the others leave
                 * the cells alone, so they do not multiply them into cells
                 * of the same identity. */
                size_t dims[HB_MAX_PARAMS], ndims = 0, ncombo = 1;
                for (size_t k = 0; k < o->n_params; k++)
                    if (hb_param_applies(o->params[k].key, wl, gc, shared)) {
                        dims[ndims++] = k;
                        ncombo *= o->params[k].n;
                    }
            /* a program that is not told a thread count runs once, as it
             * runs, recorded with threads 1 */
            int one_thread = (wl->program && !wl->program->takes_threads) || (gc && gc->external);
            size_t nthreads = one_thread ? 1 : o->n_threads; /* cpython: the forms run on one */
            /* --heap-factors: the last dimension, for collectors that take a limit */
            size_t nf = o->n_heap_factors && gc && gc->max_heap_ok ? o->n_heap_factors : 1;
            for (size_t a = 0; a < nalloc; a++)
                for (size_t t = 0; t < nthreads; t++)
                    for (size_t combo = 0; combo < ncombo * nf; combo++, index++) {
                    if (o->shard_n && (int)(index % (size_t)o->shard_n) != o->shard_k - 1)
                        continue;
                    hb_cell *c = &cells[ncells++];
                    const hb_alloc_lib *lib = own_heap ? NULL : libs[a];
                    if ((wl->program || (gc && gc->external)) && !lib) /* a builtin: the library it preloads */
                        lib = hb_program_lib(self, allocs[a]);
                    *c = (hb_cell){.alloc = own_heap ? hb_allocator_find("system") : allocs[a], .lib = lib,
                                   .alloc_label = own_heap ? gc->name : lib ? lib->name : NULL, .collector = gc,
                                   .gc = {.refcount = HB_RC_ATOMIC},
                                   .shared = shared, .workload = wl, .threads = one_thread ? 1 : o->threads[t], .size = o->size,
                                   .m = o->measure};
                    if (o->n_heap_factors && gc && gc->max_heap_ok)
                        c->gc.heap_factor = o->heap_factors[combo % nf];
                    /* this combination's values: the last key varies fastest */
                    hb_param_kv kv[HB_MAX_PARAMS];
                    size_t rest = combo / nf;
                    for (size_t d = ndims; d-- > 0;) {
                        const hb_param_sweep *sw = &o->params[dims[d]];
                        snprintf(kv[d].key, sizeof kv[d].key, "%s", sw->key);
                        kv[d].value = sw->value[rest % sw->n];
                        rest /= sw->n;
                    }
                    int taken, bad = 0;
                    for (size_t d = 0; d < ndims && gc && !bad; d++)
                        bad = hb_gc_params_take(kv[d].key, kv[d].value, &c->gc, &taken);
                    if (bad || hb_cell_resolve(c, kv, ndims)) {
                        free(cells);
                        return 2; /* cannot happen: options.c checked ranges */
                    }
                }
            }
        }
    }
    if (ncells == 0 && !o->shard_n) {
        /* e.g. --heap shared with workloads that run on isolated heaps only */
        fprintf(stderr, "heapbench run: the matrix is empty: no selected workload runs on the selected "
                        "heap modes (--heap) with these collectors%s%s%s\n", omitted[0] ? " (" : "", omitted,
                omitted[0] ? ")" : "");
        free(cells);
        return 2;
    }
    if (omitted[0] && !o->is_default) /* said, not silently dropped */
        fprintf(stderr, "heapbench run: --heap leaves no cells for %s\n", omitted);
    /* Heap factors multiply each cell's minimum heap: found first, by
     * binary search (minheap.c); `heapbench minheap` stops there. */
    char (*mwhy)[HB_MINHEAP_WHY] = NULL;
    if (o->n_heap_factors || o->minheap_only) {
        sigaction(SIGINT, &(struct sigaction){.sa_handler = on_stop}, NULL);
        sigaction(SIGTERM, &(struct sigaction){.sa_handler = on_stop}, NULL);
        mwhy = calloc(ncells + 1, sizeof *mwhy);
        int src = mwhy ? hb_minheap_fill(self, cells, ncells, o->minheap_only, o->timeout_s, mwhy) : 2;
        if (src == 130)
            fprintf(stderr, "heapbench run: stopped by signal %d during the minimum heap's search; no row "
                            "written\n", (int)stop_signal);
        if (src || o->minheap_only) {
            if (!src)
                src = hb_minheap_print(cells, ncells, mwhy, stdout);
            free(mwhy);
            free(cells);
            return src;
        }
    }
    hb_host *host = NULL; /* --steady's probe */
    hb_csv *csv;
    if ((o->steady && !(host = hb_host_open())) || hb_csv_open(o->out, &csv)) {
        hb_host_close(host);
        free(mwhy);
        free(cells);
        return 2;
    }
    /* The jobs: every repetition of every cell, minus those already in the
     * file when resuming, which count in their cells' tallies (the console's
     * lines, --max-reps) as if run now. --max-reps: rounds beyond --reps for
     * the rows not yet narrow (rounds.h). */
    int adapt = o->max_reps > o->reps, maxr = adapt ? o->max_reps : o->reps;
    job *jobs = calloc(ncells * (size_t)maxr + 1, sizeof *jobs);
    hb_tally *tl = calloc(ncells + 1, sizeof *tl);
    double *slots = calloc(2 * ncells * (size_t)maxr + 1, sizeof *slots);
    if (!jobs || !tl || !slots) {
        fprintf(stderr, "heapbench run: out of memory\n");
        return 2;
    }
    for (size_t c = 0; c < ncells; c++) {
        tl[c].fig = slots + 2 * c * (size_t)maxr;
        tl[c].rss = tl[c].fig + maxr;
    }
    size_t njobs = 0, resumed = 0, extra = 0;
    for (size_t c = 0; c < ncells; c++)
        for (int rep = 0; rep < o->reps; rep++) {
            if (o->resume && hb_tally_resumed(&tl[c], csv, &cells[c], rep)) {
                resumed++;
                continue;
            }
            jobs[njobs++] = (job){.cell = c, .rep = rep};
        }
    char run_id[64], stamp[32];
    hb_utc_stamp(stamp, sizeof stamp, 1);
    snprintf(run_id, sizeof run_id, "%s-%d", stamp, (int)getpid());
    uint64_t draw = fnv1a(run_id, 0xcbf29ce484222325ULL), run = mix64(draw);
    if (o->interleave)
        shuffle(cells, jobs, njobs, run, &draw);
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int failures = 0, tty = isatty(2), werr = 0, retaken = 0;
    /* The workloads' own output (tracemalloc's lines, a program's notes):
     * each cell's goes to a scratch file, and when there is some, to
     * NAME.log after a line naming the cell; --verbose leaves it on the
     * console. */
    int chatter = -1, logfd = -1;
    if (!o->verbose) {
        char logpath[4200], why[512];
        FILE *scratch = NULL;
        if (hb_companion_path(o->out, hb_comp_suffix[HB_COMP_LOG], logpath, sizeof logpath, why, sizeof why) ||
            (logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
            !(scratch = tmpfile())) {
            fprintf(stderr, "heapbench run: cannot write %s: %s\n", logpath, why[0] ? why : strerror(errno));
            if (logfd >= 0)
                close(logfd);
            hb_csv_close(csv);
            hb_host_close(host);
            free(jobs);
            free(tl);
            free(slots);
            free(cells);
            return 2;
        }
        chatter = dup(fileno(scratch));
        fclose(scratch);
        if (chatter >= 0)
            fcntl(chatter, F_SETFD, FD_CLOEXEC);
    }
    unsigned char *warmed = calloc(ncells + 1, 1);
    hb_reasons *rs = calloc(1, sizeof *rs);
    rounds rd = {0};
    if (!warmed || !rs || rounds_init(&rd, cells, ncells, o->reps, adapt)) {
        fprintf(stderr, "heapbench run: out of memory\n");
        return 2;
    }
    size_t cells_total = 0, cells_done = 0;
    for (size_t k = 0; k < njobs; k++)
        tl[jobs[k].cell].left++;
    /* a line for each cell with a repetition to run, and under --max-reps
     * for those resumed whole too (a round may still take them further) */
    for (size_t c = 0; c < ncells; c++)
        cells_total += tl[c].left > 0 || (adapt && tl[c].nok + tl[c].nskip + tl[c].nbad > 0);
    double t_start = hb_now();
    size_t done = 0;
    for (size_t k = 0; !stop_signal; k++) {
        if (k == njobs) { /* --max-reps: another round for the rows not yet narrow */
            size_t added = 0;
            while (adapt && !added &&
                   next_round(&rd, cells, ncells, tl, maxr, o, csv, jobs, njobs, &added, &resumed, &cells_done,
                              cells_total))
                ;
            if (!added)
                break;
            if (o->interleave)
                shuffle(cells, jobs + njobs, added, run, &draw);
            njobs += added;
            extra += added;
        }
        hb_cell c = cells[jobs[k].cell];
        c.rep = jobs[k].rep;
        char id[512];
        hb_cell_id(&c, id, sizeof id);
        c.seed = hb_cell_seed(&c);
        hb_cell_out out;
        int runnable = c.threads >= c.workload->min_threads && !hb_cell_unrunnable(&c);
        if (runnable && c.gc.heap_factor > 0 && c.gc.min_heap_kb < 0) {
            /* no minimum heap to multiply: a failed row saying why */
            hb_cell_out_init(&out, &c);
            out.r.status = HB_ST_FAILED;
            snprintf(out.r.error, sizeof out.r.error, "%s", mwhy[jobs[k].cell]);
            runnable = -1;
        }
        if (runnable > 0 && !warmed[jobs[k].cell]) {
            for (int wu = 0; wu < o->warmup && !stop_signal; wu++) {
                hb_cell_out scratch;
                if (c.collector && c.collector->external) /* not recorded */
                    hb_cpython_cell(&c, o->timeout_s, &stop_signal, -1, &scratch);
                else if (c.workload->program)
                    hb_program_cell(&c, o->timeout_s, &stop_signal, -1, &scratch);
                else
                    hb_run_child(self, &c, o->timeout_s, 1, -1, &scratch);
                hb_buf_free(&scratch.rss);
                hb_buf_free(&scratch.pauses);
            }
            warmed[jobs[k].cell] = 1;
            if (stop_signal)
                break;
        }
        int cut = 0;
        if (runnable < 0) {
        } else if (!runnable)
            hb_cell_run(&c, &out); /* records the skip without a child */
        else
            for (int retakes = 0;; retakes++) {
                /* --steady: run out of the host's slow spells, and again
                 * when one began during the run (steady.h) */
                double before = host ? hb_steady_settle(host, &stop_signal) : -1;
                if ((cut = stop_signal != 0))
                    break;
                int fd = o->verbose ? 2 : chatter;
                cut = c.collector && c.collector->external ? hb_cpython_cell(&c, o->timeout_s, &stop_signal, fd, &out)
                      : c.workload->program ? hb_program_cell(&c, o->timeout_s, &stop_signal, fd, &out)
                                            : hb_run_child(self, &c, o->timeout_s, 0, chatter, &out);
                if (cut || !host)
                    break;
                double after = hb_host_probe(host);
                out.r.host_slow = after > before ? after : before;
                out.r.retakes = retakes;
                if (!hb_steady_retake(out.r.host_slow, retakes))
                    break;
                retaken++;
                hb_buf_free(&out.rss); /* thrown away: its output stays in the log */
                hb_buf_free(&out.pauses);
            }
        if (cut)
            break; /* cut by a stop signal: no row */
        if (chatter >= 0) { /* what it said, if anything, to NAME.log */
            off_t said = lseek(chatter, 0, SEEK_END);
            if (said > 0) {
                char head[700], buf[1 << 14];
                int n = snprintf(head, sizeof head, "== %s rep %d (run %s): %s ==\n", id, c.rep, run_id,
                                 hb_status_name(out.r.status));
                ssize_t w = write(logfd, head, (size_t)n), got;
                lseek(chatter, 0, SEEK_SET);
                while (w >= 0 && (got = read(chatter, buf, sizeof buf)) > 0)
                    w = write(logfd, buf, (size_t)got);
                if (ftruncate(chatter, 0) != 0 || w < 0)
                    fprintf(stderr, "%sheapbench run: writing to the log of %s failed: %s\n", tty ? "\n" : "",
                            o->out, strerror(errno));
            }
            lseek(chatter, 0, SEEK_SET);
        }
        /* Series first, the row last: a row in the main file means its
         * series are complete, which is what --resume relies on. */
        werr = hb_csv_write_series(csv, run_id, &c, &out);
        if (!werr)
            werr = hb_csv_write_row(csv, run_id, &c, &out.r);
        if (werr)
            hb_csv_undo_series(csv);
        hb_buf_free(&out.rss);
        hb_buf_free(&out.pauses);
        if (werr) {
            fprintf(stderr, "%sheapbench run: writing to %s failed: %s; every row before it is intact\n",
                    tty ? "\n" : "", o->out, strerror(werr));
            break;
        }
        done++;
        /* out of heap under the limit asked for is the run's answer, not a failure */
        if (out.r.status != HB_ST_OK && out.r.status != HB_ST_SKIPPED && out.r.status != HB_ST_OOM)
            failures++;
        if (out.r.status != HB_ST_OK)
            hb_count_reason(rs, &out.r);
        hb_tally *t = &tl[jobs[k].cell];
        hb_tally_add(t, &out.r);
        if (t->left == 0 && !adapt) { /* above the progress line, which is then drawn again */
            if (tty)
                fputs("\r\033[K", stderr);
            hb_cell_line(stderr, ++cells_done, cells_total, id, t, o->reps);
        }
        if (tty)
            hb_progress(done, njobs, t_start, id, &out.r);
    }
    if (tty && done)
        fputs("\r\033[K", stderr);
    rounds_free(&rd);
    hb_csv_close(csv);
    if (chatter >= 0)
        close(chatter);
    if (logfd >= 0)
        close(logfd);
    hb_host_close(host);
    free(mwhy);
    free(warmed);
    free(tl);
    free(slots);
    free(jobs);
    free(cells);
    if (werr) {
        free(rs);
        return 2;
    }
    if (stop_signal) {
        free(rs);
        fprintf(stderr, "heapbench run: stopped by signal %d after %zu of %zu rows; every row written is "
                        "intact; run the same command with --resume --out %s to finish\n",
                (int)stop_signal, done, njobs, o->out);
        return 130;
    }
    /* NAME.json: Google Benchmark's format, rebuilt from the whole file so
     * it covers every run appended to it. */
    char json[4200];
    size_t n = strlen(o->out);
    if (n > 4 && strcmp(o->out + n - 4, ".csv") == 0)
        n -= 4;
    snprintf(json, sizeof json, "%.*s.json", (int)n, o->out);
    if (hb_json_from_csv(o->out, json) != 0) {
        free(rs);
        return 2; /* it said why; the rows are intact */
    }
    fflush(stderr);
    hb_run_summary(o->out, o->interleave);
    if (rs->k)
        printf("\nrows not ok, by reason:\n");
    for (size_t i = 0; i < rs->k; i++)
        printf("  %4d  %s\n", rs->n[i], rs->what[i]);
    if (rs->other)
        printf("  %4d  other reasons (the error column of %s)\n", rs->other, o->out);
    free(rs);
    printf("\n%zu rows (%d failed%s) appended to %s", done, failures, "", o->out);
    if (resumed)
        printf("; %zu already there were kept", resumed);
    if (adapt)
        printf("; %zu repetition%s more for rows not within %g%% (--max-reps %d)", extra, extra == 1 ? "" : "s",
               o->narrow, o->max_reps);
    if (o->steady)
        printf("; %d run%s thrown away for a slow host (--steady)", retaken, retaken == 1 ? "" : "s");
    printf("\n");
    if (o->is_default) {
        char figs[4200];
        size_t nfailed = 0;
        plot_default(o->out, figs, sizeof figs, &nfailed);
        /* and the one page that answers the matrix, with the same figures:
         * its path last, to open */
        char page[4200];
        fflush(stdout);
        if (hb_report_write(o->out, figs[0] ? figs : NULL, nfailed, page, sizeof page) == 0)
            printf("report: %s\n", page);
        else
            fprintf(stderr, "heapbench run: the report of %s could not be written\n", o->out);
    }
    return failures ? 1 : 0;
}
