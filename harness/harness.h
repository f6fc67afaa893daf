/* harness.h -- the pieces of the heapbench command, internal to harness/. */
#ifndef HB_HARNESS_H
#define HB_HARNESS_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "../workloads/workload.h"
#include "../allocators/library.h"
#include "metrics.h"

#define HB_MAX_THREADS 1024
#define HB_MAX_LIST 64 /* names or thread counts in one option */

/* ---- options.c: `heapbench run` arguments, validated before anything runs */
/* How a cell measures, the same for every cell of a run. */
typedef struct hb_measure {
    unsigned lat_every; /* time one operation in about this many; 0 = off */
    unsigned sample_ms; /* RSS sampler period; 0 = off */
    int pin;            /* pin worker threads to distinct cores (hwloc) */
} hb_measure;

typedef struct hb_param_kv {
    char key[64];
    int64_t value;
} hb_param_kv;

/* One --param: its key and every value it takes, a dimension of the matrix
 * (a single value is a dimension of one). refcount's values are HB_RC_*. */
#define HB_MAX_SWEEP 64     /* values of one --param */
#define HB_MAX_COMBOS 4096  /* the product of every --param's count of values */
typedef struct hb_param_sweep {
    char key[64];
    int64_t value[HB_MAX_SWEEP];
    size_t n;
} hb_param_sweep;

/* Collector settings taken from --param (threshold, threshold1,
 * threshold2, grow_pct, garbage_ms, refcount, heap_kb, incremental_mark),
 * one cell's. */
typedef struct hb_gc_params {
    long threshold[3]; /* 0: the collector's default (CPython's 700, 10, 10) */
    int grow_pct;      /* marksweep: collect when the heap grows past this % of survivors; 0 default */
    int refcount;      /* shared heaps: HB_RC_ATOMIC (the default) or HB_RC_BIASED */
    int garbage_ms;    /* garbage held: a verifying trace every this many ms (collector.h's
                          garbage probe); 0 none */
    int incremental_mark; /* rcinc: its scavenges' mark spread over increments (collector.h) */
    /* A hard heap limit (collectors with max_heap_ok: marksweep, boehm), in
     * KiB; 0 none. From --param heap_kb, or from --heap-factors: then
     * heap_factor times min_heap_kb, the minimum the search found
     * (minheap.c), and the cell's name carries the factor, not the KiB. */
    int64_t heap_kb;
    double heap_factor;  /* 0: none */
    int64_t min_heap_kb; /* 0: not searched */
} hb_gc_params;

#define HB_MAX_LIBS 16 /* allocators given as libraries in one run */

typedef struct hb_run_opts {
    const hb_allocator *allocators[HB_MAX_LIST];
    /* Parallel to allocators (and gc_libs to gc_allocators): NULL for a
     * builtin backend, else the library given as NAME=PATH or a bare PATH,
     * whose cells run `system` with it preloaded (allocators[i] is then
     * `system`). Points into libs[], the run's resolved libraries. */
    const hb_alloc_lib *alloc_libs[HB_MAX_LIST];
    size_t n_allocators;
    hb_alloc_lib libs[HB_MAX_LIBS];
    size_t n_libs;
    const hb_collector *collectors[HB_MAX_LIST];
    size_t n_collectors;
    /* allocators for collector workloads; none given: the same as above */
    const hb_allocator *gc_allocators[HB_MAX_LIST];
    const hb_alloc_lib *gc_libs[HB_MAX_LIST];
    size_t n_gc_allocators;
    const hb_workload *workloads[HB_MAX_LIST];
    size_t n_workloads;
    int named_workloads; /* --workloads given: no default set */
    /* --program NAME='CMD ARGS', added to the workloads after parsing */
    const hb_workload *user_programs[HB_MAX_LIST];
    size_t n_user_programs;
    int threads[HB_MAX_LIST];
    size_t n_threads;
    int reps;
    /* --max-reps M: after `reps` rounds, more rounds, up to M repetitions,
     * for the rows (a cell's backends side by side) where a backend's
     * median is not yet known within --narrow percent (its 95% interval's
     * half-width, hb_stats_median_interval, over the median); 0: off */
    int max_reps;
    double narrow;  /* --narrow PCT: 5 by default */
    hb_size size;
    /* --param, one per key: the values of each are a dimension of the
     * matrix for the cells it applies to (hb_param_applies) */
    hb_param_sweep params[HB_MAX_PARAMS];
    size_t n_params;
    double timeout_s;
    char out[4096];
    int is_default; /* no arguments: the embedded default matrix */
    int warmup;     /* unrecorded runs per cell before its repetitions */
    int interleave; /* shuffle cells and repetitions */
    int resume;     /* skip cells and repetitions already in --out */
    int shard_k, shard_n; /* run the K-th of N slices of the cells; N 0: all */
    hb_measure measure;
    int heap_modes; /* HB_HEAP_ISOLATED and/or HB_HEAP_SHARED (--heap) */
    int verbose;    /* --verbose: the workloads' own output on the console, not in NAME.log */
    int steady;     /* --steady: repetitions out of the host's slow spells (steady.h) */
    /* --heap-factors F1,F2,...: for collectors with a heap limit, a
     * dimension of the matrix, each a multiple of the cell's minimum heap
     * found first by binary search (minheap.c) */
    double heap_factors[HB_MAX_LIST];
    size_t n_heap_factors;
    int minheap_only; /* `heapbench minheap`: the search alone, a table, no rows */
    int named_allocators; /* --allocators or --gc-allocators given: cpython runs on those,
                             not on its default, pymalloc */
} hb_run_opts;

/* 0, or 2 after printing one line naming the bad value and the choices. */
int hb_opts_parse(int argc, char **argv, hb_run_opts *o);
/* A whole string that is a number in [lo, hi] to *out: 0, or EINVAL and
 * *out untouched. */
int hb_parse_num(const char *s, double lo, double hi, double *out);
const char *hb_size_name(hb_size s);
int hb_size_parse(const char *s, hb_size *out);

/* ---- one cell and its result (cell.c runs it in the child) */
typedef struct hb_cell {
    const hb_allocator *alloc;
    const char *alloc_label;        /* what the row records: alloc->name, "boehm", or lib->name */
    /* NULL: the backend compiled into heapbench. Else the allocator is this
     * library, preloaded into the cell's process; alloc is `system`, which
     * then calls it, and the cell checks that it does before it runs. */
    const hb_alloc_lib *lib;
    const hb_collector *collector;  /* NULL: an allocator-only workload */
    hb_gc_params gc;
    int shared;                     /* one heap for all threads (--heap shared) */
    const hb_workload *workload;
    int threads;
    hb_size size;
    int rep;
    uint64_t seed;
    hb_measure m;
    int64_t param[HB_MAX_PARAMS]; /* resolved, in the workload's order */
    int overridden[HB_MAX_PARAMS];
} hb_cell;

/* HB_ST_OOM: the heap ran out under the limit the cell was given (heap_kb):
 * an outcome of the limit, reported by the collector, not a crash. */
typedef enum { HB_ST_OK, HB_ST_FAILED, HB_ST_CRASHED, HB_ST_TIMEOUT, HB_ST_SKIPPED, HB_ST_OOM } hb_status;
/* "ok", "failed", ... as the status column says it. */
const char *hb_status_name(hb_status s);

typedef struct hb_result {
    hb_status status;
    char error[256];
    hb_counts counts;
    double wall_s, user_s, sys_s;
    int64_t peak_rss_kb, final_rss_kb; /* -1: not measured */
    int64_t peak_live_bytes;           /* -1: not measured */
    uint64_t lat_count;                /* latency samples; 0: no latency figures */
    uint64_t lat_p50_ns, lat_p90_ns, lat_p99_ns, lat_p999_ns, lat_max_ns;
    int have_pauses;                   /* a collector ran: pause figures apply */
    hb_pause_stats pauses;
    int64_t collected_objects;         /* -1: not applicable */
    double gc_own_ms;                  /* the collector's own total of its pauses in the run */
    uint64_t gc_own_count;             /* and its own count of collections */
    int64_t leaked_objects, leaked_bytes; /* -1: not measured (no collector, boehm) */
    /* garbage held (--param garbage_ms): the bytes of unreachable objects
     * still alive, mean and max over the probes of the run; -1: not
     * measured. The probes' time is out of wall_s and the pause timeline. */
    int64_t garbage_mean_bytes, garbage_max_bytes;
    uint64_t garbage_probes;
    char pinned[64];                   /* "no", "yes", or why not fully */
    uint64_t t0_ns;                    /* the cell's start: series times count from it */
    double process_s;                  /* the cell process's life by the runner's clock; 0: none */
    /* rusage beyond time: the cell's process over the timed run, or a
     * program's whole tree (wait4); -1: not measured */
    int64_t maxrss_kb, minflt, majflt, nvcsw, nivcsw;
    int external;                      /* a program cell: no allocator counts, ops only if it has a unit */
    double figure;                     /* a program's own figure; < 0: none */
    double harness_cpu_s;              /* a program cell: the runner's own CPU while it ran; < 0: none */
    char figure_unit[24];
    /* gc.get_stats() per generation over the run (hb_gc_get_stats of the
     * heaps, summed over threads; cpython: the interpreter's own);
     * have_gen_stats 0: not measured (no collector, boehm) */
    int have_gen_stats;
    hb_gen_stats gen_stats[HB_GENERATIONS];
    /* run --steady (steady.h): the host probe's slowest reading around the
     * kept run (before and after it), and the runs thrown away before it
     * because the host read slow after them; -1: not probed */
    double host_slow;
    int retakes;
} hb_result;

/* Everything a cell reports: the result and its time series. */
typedef struct hb_cell_out {
    hb_result r;
    hb_buf rss;    /* hb_rss_sample */
    hb_buf pauses; /* hb_pause */
} hb_cell_out;

/* An empty report: no figure measured (-1 where -1 means that), no series. */
void hb_cell_out_init(hb_cell_out *o, const hb_cell *c);
/* Whether the cell's collector cannot run it: boehm (one heap per process)
 * with several threads, or --heap shared on a collector without shared-heap
 * support. Such a cell is a skipped row saying why. */
int hb_cell_unrunnable(const hb_cell *c);
/* Child side: run the cell, fill o (buffers initialised by the callee).
 * Never exits on a workload failure. */
void hb_cell_run(const hb_cell *c, hb_cell_out *o);
/* The `__cell` subcommand: argv describes a cell, the result goes to a fd. */
int hb_cell_main(int argc, char **argv);
/* The collector settings among --param's keys (threshold...); 0, or 2 after
 * one line on stderr when a value is out of range. */
int hb_gc_params_take(const char *key, int64_t value, hb_gc_params *gc, int *taken);
/* Whether --param KEY is a setting of a cell of workload wl, collector gc
 * (NULL: none), on a shared heap or not: the workload declares it, or it
 * is a collector's (refcount: a shared heap's only). A key that does not
 * apply leaves the cell as it is, so it does not multiply it either. */
int hb_param_applies(const char *key, const hb_workload *wl, const hb_collector *gc, int shared);
/* Resolve a cell's parameters from the preset and the overrides; 0 or 2. */
int hb_cell_resolve(hb_cell *c, const hb_param_kv *kv, size_t n);
void hb_cell_params_string(const hb_cell *c, int only_overridden, char *buf, size_t len);
void hb_cell_id(const hb_cell *c, char *buf, size_t len);

/* ---- program.c: program cells (workloads/programs/), run by the runner
 * itself as a child in its own process group, measured from outside */
struct hb_program;
/* Runs one program cell; fills o. Returns 1 when *stop cut it short (o is
 * then meaningless and the row not written). What the program wrote on
 * stderr is appended to log_fd (-1: dropped), for NAME.log. */
int hb_program_cell(const hb_cell *c, double timeout_s, const volatile sig_atomic_t *stop, int log_fd,
                    hb_cell_out *o);
/* The same for program p, which need not be c's workload's (cpython's
 * forms); `arg` reaches p's prepare and check as ctx->arg. */
int hb_program_run(const hb_cell *c, const struct hb_program *p, void *arg, double timeout_s,
                   const volatile sig_atomic_t *stop, int log_fd, hb_cell_out *o);
/* Set (to "-") in the environment of regress's valgrind runs, whose
 * out-files end in its value: a program cell's child sets it to the cell,
 * "WORKLOAD,ALLOC,THREADS,SIZE", which the program's processes inherit
 * (regress_vg.c matches their counts to the cell by it). */
#define HB_VG_CELL_ENV "HEAPBENCH_VG_CELL"
/* The library that gives builtin allocator `a` to a program (none for
 * `system`: a library with path ""), resolved once per run; NULL when it has
 * none (null). */
const hb_alloc_lib *hb_program_lib(const char *self, const hb_allocator *a);
/* 1, with the first missing executable's name in `what`, when a program
 * needs one that is not on PATH. */
int hb_program_missing(const struct hb_program *p, char *what, size_t len);

/* ---- cpython.c: the collector cpython, the real interpreter running a
 * workload's Python form (workloads/python/) as a program cell */
/* Allocator `pymalloc`: CPython's own obmalloc, inside the interpreter.
 * Not in the allocator registry: nothing in heapbench can call it; only
 * cpython cells run on it (its init fails with ENOTSUP). */
extern const hb_allocator hb_pymalloc_allocator;
/* 1, with why in `why` (may be NULL), when a cell cannot run because of
 * cpython or pymalloc: cpython on a workload with no Python form, pymalloc
 * under any other collector or none. Such a cell is a skipped row. */
int hb_cpython_unrunnable(const hb_cell *c, char *why, size_t len);
/* Runs one cpython cell (hb_program_run with the Python form); as
 * hb_program_cell. */
int hb_cpython_cell(const hb_cell *c, double timeout_s, const volatile sig_atomic_t *stop, int log_fd,
                    hb_cell_out *o);

/* ---- runner.c: the matrix, one child per cell */
int hb_run(const hb_run_opts *o, const char *self_exe);
/* Runs one in-process cell in a child (`quiet`: its output to /dev/null,
 * else to out_fd when >= 0); fills o (status crashed or timeout when it
 * dies). 1 when a stop signal cut it short (o is then meaningless). */
int hb_run_child(const char *self, const hb_cell *c, double timeout_s, int quiet, int out_fd, hb_cell_out *o);
/* The seed of a cell's repetition (c->rep): from its name without a heap
 * limit, so every heap size of a cell runs the same work. */
uint64_t hb_cell_seed(const hb_cell *c);

/* ---- minheap.c: each cell's minimum heap, by binary search */
/* Finds the minimum heap of every cell of cells[] that has a heap factor
 * (gc.heap_factor > 0), or of every cell whose collector takes a limit
 * when `all`; sets gc.min_heap_kb and gc.heap_kb = ceil(factor x min).
 * Cells of one base (the same cell but for the factor) share one search.
 * A cell whose search failed gets min_heap_kb -1 and its reason in
 * why[cell] (an array of ncells strings of HB_MINHEAP_WHY bytes). Prints a
 * line per search on stderr. 0, or 130 when stopped by a signal. */
#define HB_MINHEAP_WHY 256
int hb_minheap_fill(const char *self, hb_cell *cells, size_t ncells, int all, double timeout_s, char (*why)[HB_MINHEAP_WHY]);
/* `heapbench minheap`: the table of the cells' minimum heaps. */
int hb_minheap_print(const hb_cell *cells, size_t ncells, char (*why)[HB_MINHEAP_WHY], FILE *f);

/* ---- results.c: the CSV contract */
typedef struct hb_csv hb_csv;
/* Open for appending, holding an advisory lock (flock) on it until
 * hb_csv_close; creates the file with its header if it does not exist or is
 * empty, refuses one whose header differs or that ends mid-row, and opens
 * both series companions the same way. 0, or 2 with one line. */
int hb_csv_open(const char *path, hb_csv **out);
/* Appends one complete row with a single write(2). 0 or an errno value. */
int hb_csv_write_row(hb_csv *f, const char *run_id, const hb_cell *c, const hb_result *r);
/* Appends the cell's RSS samples to NAME.rss.csv and its pauses to
 * NAME.pauses.csv (each file created with its header on first use), each
 * cell's block with one write(2). 0 or an errno value. */
int hb_csv_write_series(hb_csv *f, const char *run_id, const hb_cell *c, const hb_cell_out *o);
/* Cuts the series files back to before the last hb_csv_write_series, when
 * the cell's row could not be written: no series without its row. */
void hb_csv_undo_series(hb_csv *f);
/* An ok or skipped row for (cell, rep) that the file held when it was
 * opened: what --resume need not run again, with the figures the console's
 * line and --max-reps take from it; NULL when there is none. */
typedef struct hb_done_row {
    char *key;             /* "cell\x1frep" */
    int ok;                /* 1: ok; 0: skipped */
    double wall_s;         /* -1: empty */
    uint64_t ops;
    int64_t peak_rss_kb, maxrss_kb; /* -1: empty */
} hb_done_row;
const hb_done_row *hb_csv_done_row(const hb_csv *f, const char *cell, int rep);
void hb_csv_close(hb_csv *f);
/* Checks that `path` (NAME.csv) and each of its companions (NAME.rss.csv,
 * NAME.pauses.csv, NAME.json, NAME.log) can be created or appended to, without
 * creating any: their names fit, their directory is writable. */
int hb_csv_check_writable(const char *path, char *why, size_t len);

/* ---- help.c: --help and --version */
/* Prints CMD's usage with every option and its default; -1 for an unknown CMD. */
int hb_help(const char *cmd, FILE *f);
/* Whether argv holds --help or -h. */
int hb_wants_help(int argc, char **argv);
/* "heapbench COMMIT (build type TYPE, COMPILER)". */
void hb_version(FILE *f);

/* ---- sysinfo.c: the machine and the process */
typedef struct hb_env {
    char host[256];
    char cpu_model[256];
    char kernel[256];
    int cores; /* physical cores (hwloc) */
    int pus;   /* hardware threads (hwloc) */
    char topology[256]; /* packages, cores, PUs, cache sizes (hwloc) */
} hb_env;
void hb_env_read(hb_env *e);
double hb_now(void); /* monotonic seconds */
/* kB from /proc/self/status ("VmHWM", "VmRSS"), -1 when unreadable. */
int64_t hb_proc_status_kb(const char *field);
void hb_utc_stamp(char *buf, size_t len, int compact);

#endif
