/* plot.h -- what the figures of `heapbench plot` (plot.c: the bar charts
 * against a reference, the command; plot_lines.c: the line figures) and
 * `heapbench report` (report.c, which inlines them) share.
 *
 * The drawing is gnuplot's, one script per kind of figure in plots/; the C
 * side only reduces a results file to the small data files the scripts read.
 * Functions return 0, or 2 after one line on stderr ("heapbench plot: ..."). */
#ifndef HB_PLOT_H
#define HB_PLOT_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "cellset.h"

/* The MMU curve's windows: 0.1 ms to 1 s, ten to a decade, enough for a
 * smooth curve on a log axis. */
#define MMU_POINTS 41
#define MAX_SERIES 256

/* A companion, read whole before anything is written (hb_plot_draw). */
typedef struct hb_plot_comp {
    hb_csvdoc d;
    int have;
    int c_cell, c_rep, c_run;
} hb_plot_comp;

typedef struct hb_plot_ctx {
    hb_cellset s;
    const char *ref, *ref_coll;
    char out[PATH_MAX + 16], data[PATH_MAX + 32], scripts[PATH_MAX], stem[PATH_MAX];
    int c_workload, c_alloc, c_coll, c_heap, c_threads, c_size, c_params, c_rep, c_run, c_wall;
    const char *file; /* the results file: no output may be it or its companions */
    size_t drawn, skipped, failed;
    int data_only; /* --data-only: the data files, no gnuplot */
    hb_plot_comp pauses, rss; /* NAME.pauses.csv, NAME.rss.csv */
    /* every allocator name of the file, sorted, space-separated: the
     * scripts' 4th argument, from which style.gp gives each name it does not
     * know a colour of its own, the same in every figure */
    char names[8192];
    int svg_only; /* no PNG (the report inlines the SVG) */
    int quiet;    /* no line per figure, no note per skipped one (the report lists them) */
    /* workloads whose cells differ in their parameters (a sweep): their
     * series carry the cell's parameters, "system+rcgen threshold=100" */
    const char **mixed;
    char **mixed_keys; /* per mixed workload, the parameters that vary: ";k1;k2;" */
    size_t nmixed;
    /* figures being drawn, each by a process of its own (hb_plot_figure5) */
#define HB_PLOT_JOBS 8
    pid_t job[HB_PLOT_JOBS];                     /* 0: a free slot */
    char jobtmp[HB_PLOT_JOBS][2][PATH_MAX + 720]; /* each job's PNG and SVG temporary names */
    size_t next_job; /* the slot the next figure takes (in turn: the oldest job's) */
    int max_jobs;    /* 0 until the first figure: the online cores, at most HB_PLOT_JOBS */
} hb_plot_ctx;

/* What `heapbench report` asks of the figures: the same as `plot`. */
typedef struct hb_plot_opts {
    const char *file, *out, *ref, *ref_coll, *scripts;
    int svg_only, quiet, data_only;
} hb_plot_opts;

/* Draws every figure of o->file into o->out; *drawn and *failed when not
 * NULL. A figure gnuplot could not draw is said on stderr and counted in
 * *failed, and the others are still drawn. 0, or 2 after one line on
 * stderr (an error of our own). */
int hb_plot_draw(const hb_plot_opts *o, size_t *drawn, size_t *failed);

/* ---- shared by plot.c and plot_lines.c */
int hb_plot_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hb_plot_skip(hb_plot_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *hb_plot_field(const hb_plot_ctx *p, size_t row, int col);
/* A name safe for a file: letters, digits, '-', '.', others '_'; at most
 * HB_PLOT_SLUG_MAX characters, a longer name cut and ended with a hash of
 * the whole (plot.c). */
#define HB_PLOT_SLUG_MAX 160
void hb_plot_slug(const char *in, char *out, size_t len);
/* The series of a row: its allocator, with its collector when there is
 * one, and for a workload of a sweep the cell's parameters. */
void hb_plot_backend(const hb_plot_ctx *p, size_t row, char *buf, size_t len);
/* The group a row's cell belongs to in a figure: everything but the
 * backend (and, for scaling, the threads). */
void hb_plot_group(const hb_plot_ctx *p, size_t row, int with_threads, char *buf, size_t len);
/* The parameters of a row's cell as its name gives them (those set by
 * --param), "" when none. */
const char *hb_plot_overrides(const hb_plot_ctx *p, size_t row);
int hb_plot_is_gc_row(const hb_plot_ctx *p, size_t row);
/* Runs gnuplot on plots/SCRIPT for the SVG (and the PNG unless svg_only):
 * ARG1 the data, ARG2 the output, ARG3 the title, ARG4 the allocator names
 * (names above); figure4 and figure5 pass the script's own further
 * arguments (ARG5, ARG6) when not NULL. The data file must stay as it is
 * until hb_plot_wait: gnuplot may read it after the call returns. */
int hb_plot_figure(hb_plot_ctx *p, const char *script, const char *datafile, const char *name, const char *title);
int hb_plot_figure4(hb_plot_ctx *p, const char *script, const char *datafile, const char *name, const char *title,
                    const char *arg5);
int hb_plot_figure5(hb_plot_ctx *p, const char *script, const char *datafile, const char *name, const char *title,
                    const char *arg5, const char *arg6);
/* The figures above are drawn by processes of their own, a few at a time:
 * waits for those still running and counts them in drawn and failed. */
int hb_plot_wait(hb_plot_ctx *p);
FILE *hb_plot_open_data(const hb_plot_ctx *p, const char *name, char *path, size_t len);
int hb_plot_close_data(FILE *f, const char *path);
/* A figure of a document read and checked by hb_csvdoc_read (so it parses,
 * through the one parser, hb_figure), NAN when empty. */
double hb_plot_num(const hb_csvdoc *d, size_t row, int col);
/* Row r's value of `col` into *out when it has one: 1, else 0. */
size_t hb_plot_value(const hb_plot_ctx *p, size_t r, int col, double *out);
/* Values of `col` over the ok rows of the cells matching (group, backend). */
size_t hb_plot_gather(const hb_plot_ctx *p, int with_threads, const char *grp, const char *be, const char *threads,
                      int col, double *out, size_t cap);
int hb_plot_mkdirs(const char *path);
/* KEY's value in "k=v;k=v" into buf: 1, or 0 when absent. */
int hb_plot_kv(const char *list, const char *key, char *buf, size_t len);

/* distinct strings in first-seen order */
typedef struct hb_names {
    char *v[MAX_SERIES];
    size_t n;
} hb_names;

/* The index of x, added when new; -1 when full or out of memory. */
int hb_names_add(hb_names *s, const char *x);
void hb_names_free(hb_names *s);

/* ---- the line figures (plot_lines.c) */
/* Reads the companion STEM+suffix into c when it exists (c->have), with the
 * columns `need`; 0, or 2 after one line. */
int hb_plot_load_comp(hb_plot_ctx *p, const char *suffix, hb_plot_comp *c, const char *const *need, size_t nneed);
int hb_plot_scaling(hb_plot_ctx *p);
int hb_plot_latency(hb_plot_ctx *p);
int hb_plot_pauses(hb_plot_ctx *p);  /* pause CDFs and MMU curves */
int hb_plot_rss(hb_plot_ctx *p);
int hb_plot_sweeps(hb_plot_ctx *p);  /* a metric against a swept parameter */
/* ---- plot_heap.c: time and pause p99 against heap size */
int hb_plot_heapsize(hb_plot_ctx *p);

#endif
