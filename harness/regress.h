/* regress.h -- the pieces of `heapbench regress`, internal to it:
 *   regress.c            options, the gates, the report
 *   regress_run.c        the child processes, run's command line, the interleaved rounds
 *   regress_duet.c       the timed gate's measurement with two build
 *                        directories: duet pairs on their own cores, or
 *                        randomized interleaved pairs where cores are too few
 *   regress_vg.c         valgrind's deterministic counts: instructions
 *                        (callgrind) and estimated cycles (cachegrind)
 *   regress_calibrate.c  --calibrate: what this runner's gates can see
 * Functions return 0, or 2 after one line on stderr (hb_rg_bad), unless said. */
#ifndef HB_REGRESS_H
#define HB_REGRESS_H

#include <limits.h>
#include <stdio.h>

#include "cellset.h"
#include "tables.h"

#define MAX_PASS 128
#define MAX_METRICS 8

/* How the timed gate measures when two build directories are given. */
typedef enum {
    HB_GATE_DUET,        /* pairs run at the same time on disjoint cores (fallback: RMIT pairs) */
    HB_GATE_INTERLEAVED, /* whole rounds alternated, Mann-Whitney on the repetitions */
    HB_GATE_RMIT,        /* the duet gate's pairs, every one one side after the other (no duet) */
} hb_gate;

typedef struct side {
    const char *name; /* "baseline", "candidate" */
    const char *spec; /* as given */
    int is_dir;
    char exe[PATH_MAX];
    char csv[PATH_MAX + 64];
    hb_cellset set;
} side;

/* One cell's pairs (duet): values of every gated metric, NaN where a row
 * lacked it; pairs where either side was not ok are not kept. */
typedef struct hb_rg_pairs {
    char *name;  /* the baseline's cell name */
    int threads;
    int duet;    /* 1: run side by side on disjoint cores; 0: one after the other, random order */
    size_t n, cap;
    double *v[2][MAX_METRICS]; /* [side][metric][pair] */
} hb_rg_pairs;

/* Valgrind's counts of one cell process. */
typedef struct ir_entry {
    char *key; /* the cell's command line after the executable */
    double ir;
    double cycles; /* estimated cycles (cachegrind); NaN from callgrind */
    double l1m, llm; /* L1 and last-level misses (I + D), cachegrind */
} ir_entry;

typedef struct ir_set {
    ir_entry *e;
    size_t n;
} ir_set;

typedef struct ropts {
    side s[2];
    double floor_pct, cv_factor, ir_tol_pct, cy_tol_pct;
    double prog_tol_pct; /* both valgrind gates' tolerance for program cells (--program-tolerance) */
    int floor_given; /* --threshold given: the paired gate's floor too */
    int cv_sd; /* --cv sd: the classical CV; default robust (MAD / median) */
    const hb_metric_info *metric[MAX_METRICS];
    size_t nmetric;
    int metrics_given; /* --metrics: else wall_s (interleaved, files) or cpu_s (duet) */
    int instructions, cycles;
    hb_gate gate;
    int gate_given;
    int pairs;   /* duet: pairs a cell (the most, with a budget); 0: the default */
    double budget_s; /* duet: seconds the pairs may take; 0: none */
    int budget_given;
    double pairs_s;  /* duet: seconds the pairs took */
    hb_format fmt; /* --format */
    int reps;   /* 0: chosen from the number of cells */
    const char *warmup; /* NULL: heapbench run's default for the first round */
    const char *threads; /* as passed through, for --instructions */
    const char *pass[MAX_PASS]; /* run options passed through to both builds */
    int npass;
    char work[PATH_MAX];
    /* --calibrate: the candidate's --param ops value replaces the one at
     * pass[ops_at] (its "ops=N"); counts are not gated (more work, more
     * allocations), and its cell names are read as the baseline's */
    const char *calibrate;
    int ops_at;
    int shard_k, shard_n; /* the run options' --shard K/N; 0: none */
    long long ops, cand_ops;
    char cand_ops_arg[64];
    /* what a judgement found, for --calibrate */
    hb_rg_pairs *pairs_of; /* duet's pairs, one per cell */
    size_t npairs_of;
    size_t duet_cells, rmit_cells;
    int cores;
    FILE *out; /* the report; stdout */
} ropts;

/* What hb_rg_judge found. */
typedef struct hb_rg_tally {
    size_t flagged, compared;  /* cells */
    size_t timed_flagged;      /* cells flagged by the timed gate */
    double geo_ratio;          /* geometric mean of the first metric's ratios; NaN: none */
    size_t nir, ir_flagged, ncy, cy_flagged;
    double geo_cycles;         /* of the estimated cycles' ratios; NaN: none */
    double geo_cy_ir;          /* of the instructions' ratios in the same cachegrind runs */
} hb_rg_tally;

/* regress.c and regress_run.c */
int hb_rg_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs argv with stdout and stderr appended to `log`; the exit status, or -1
 * when it could not run or died of a signal. When `cpus` is not NULL the
 * child is bound to them first (an hwloc_const_cpuset_t). spawn_start
 * returns the pid (or -1), hb_rg_wait its status. */
int hb_rg_spawn(char *const *argv, const char *log);
int hb_rg_spawn_start(char *const *argv, const char *log, const void *topo, const void *cpus);
int hb_rg_wait(int pid);
void hb_rg_last_line(const char *log, char *buf, size_t len);
/* The argv of `EXE run` with the passed options (the candidate's ops in
 * --calibrate) less those `drop` names, then `extra`, NULL-terminated, into
 * argv (MAX_PASS + 32); its length. */
#define HB_RG_DROP_PIN 1   /* --pin: duet binds each side itself */
#define HB_RG_DROP_SHARD 2 /* --shard K/N: a pair names its one cell by a shard of its own */
int hb_rg_run_argv(const ropts *o, const side *s, int drop, const char *const *extra, const char **argv);
/* One `heapbench run` of every cell, one repetition, appended to `out`. */
int hb_rg_run_round(ropts *o, side *s, int round, const char *out, const char *log);
/* The interleaved gate's rounds (every cell, ABBA...). */
int hb_rg_run_builds(ropts *o);
/* Smallest repetitions a side with which a cell that is slower in every
 * repetition clears Holm's correction over k tests with room to spare. */
int hb_rg_reps_for(size_t k);
/* 0 when s->exe answers --version as heapbench does; else 2, one line. */
int hb_rg_is_heapbench(const side *s);
/* Loads both sides' results, applies every gate, reports to o->out; 0 pass,
 * 1 regression, 2 bad input. */
int hb_rg_judge(ropts *o, ir_set ir[2], ir_set cy[2], hb_rg_tally *t);
/* baseline.csv and candidate.csv named in o->work, refused when present. */
int hb_rg_side_files(ropts *o);

/* regress_duet.c */
/* Round 1 (both builds, every cell, in turn), then rounds of pairs of every
 * cell that round 1 ran ok (o->pairs of them; without --pairs, or with
 * --budget, as many as fit in the budget), after which o->pairs holds the
 * rounds run: side by side on their own cores when the
 * machine has 2 x threads + 1 cores, else one after the other in random
 * order. Every row is appended to the sides' CSVs; the pairs kept in
 * o->pairs_of. */
int hb_rg_duet(ropts *o);
const hb_rg_pairs *hb_rg_pairs_find(const ropts *o, const char *name);
/* The pairs two results files hold (rows whose run_id is "duet-pair-R" or
 * "rmit-pair-R" on both sides, matched by it), from the loaded sides, into
 * o->pairs_of: a duet job judged again from the files it kept gives the
 * same verdict. */
int hb_rg_pairs_from_files(ropts *o);
void hb_rg_pairs_free(ropts *o);
/* Without --pairs: pairs for hb_rg_default_budget() seconds, at most
 * hb_rg_default_pairs() a cell. */
int hb_rg_default_pairs(void);
double hb_rg_default_budget(void);

/* regress_vg.c */
typedef enum { HB_VG_CALLGRIND, HB_VG_CACHEGRIND } hb_vg_tool;
/* Runs both builds once under valgrind's `tool`, reading each cell
 * process's counts into vg[0] (baseline) and vg[1]; `only_t1`: the
 * single-threaded cells only. When `reuse_baseline`, vg[0] is kept as it is. */
int hb_rg_vg_count(ropts *o, hb_vg_tool tool, const char *tag, int reuse_baseline, ir_set vg[2]);
/* Reads every valgrind out file named PREFIX.* in `dir` that a cell process
 * wrote. */
int hb_rg_vg_read(const char *dir, const char *prefix, ir_set *out);
/* One out file (callgrind's or cachegrind's) into *out; its key is empty
 * when the process was not a cell. */
int hb_rg_vg_read_file(const char *path, ir_entry *out);
/* cachegrind's options as regress runs it: the tool, the cache simulation
 * and the model machine's caches; NULL-terminated. */
extern const char *const hb_rg_cachegrind_args[];
/* Whether b's count (instructions, or estimated cycles when `cycles`)
 * exceeds a's by more than tol_pct. */
int hb_rg_vg_worse(const ir_entry *a, const ir_entry *b, int cycles, double tol_pct);
/* Iai's estimated cycles from cachegrind's nine events (Ir I1mr ILmr Dr
 * D1mr DLmr Dw D1mw DLmw): L1 hits + 5 x LL hits + 35 x RAM accesses. */
double hb_rg_est_cycles(const double ev[9]);
void hb_rg_vg_free(ir_set *s);
/* The key of an entry as matched: in --calibrate, the candidate's ops and
 * seed are the baseline's. */
void hb_rg_vg_key(const ropts *o, int cand, const char *key, char *buf, size_t len);
void hb_rg_vg_name(const char *key, char *buf, size_t len);
/* Whether an entry's key is a program cell's (its processes' counts added
 * up), which --program-tolerance applies to. */
int hb_rg_vg_is_program(const char *key);

/* --metrics' list into o->metric (0 or 2) */
int hb_rg_set_metrics(ropts *o, const char *list);

/* regress_calibrate.c */
int hb_rg_calibrate(ropts *o);
/* A cell name as the baseline spells it: in --calibrate, the candidate's
 * (cand 1) "ops=CAND" read as "ops=OPS"; otherwise `in` as it is. */
void hb_rg_calib_name(const ropts *o, int cand, const char *in, char *out, size_t len);

#endif
