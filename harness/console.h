/* console.h -- what `heapbench run` says while it runs (runner.c's, and
 * only its): a progress line redrawn in place on a terminal, one line per
 * cell once its repetitions are done (issue 16: at most a line per cell,
 * then the summary), the reasons of the rows that are not ok, counted, and
 * the closing ranking of the backends. */
#ifndef HB_CONSOLE_H
#define HB_CONSOLE_H

#include <stdio.h>

#include "harness.h"

/* What the console says of a cell once its last repetition of this run is
 * done: one line (issue 16: the run prints at most a line per cell, then
 * its summary). */
typedef struct hb_tally {
    int left;              /* this run's repetitions still to come */
    int nok, nskip, nbad;
    double *fig, *rss;     /* reps slots each: ops/s (or wall s) and peak RSS kB of ok rows */
    int nfig, nrss, by_wall;
    char why[280];         /* the first row's status and error that is not ok */
} hb_tally;

/* Reasons of skipped and failed rows, counted, for the end of the run. */
#define HB_MAX_REASONS 24
typedef struct hb_reasons {
    char what[HB_MAX_REASONS][280];
    int n[HB_MAX_REASONS];
    size_t k;
    int other;
} hb_reasons;

/* r, one row of t's cell, counted (t->left goes down by one). */
void hb_tally_add(hb_tally *t, const hb_result *r);
/* The row --resume keeps for (cell, rep), counted in t as if run now: 1,
 * or 0 when the file has none. */
int hb_tally_resumed(hb_tally *t, const hb_csv *csv, const hb_cell *c, int rep);
/* A cell's line: "[done/total] ID  ok  FIGURE  peak RSS ..."; `base` is the
 * run's --reps, and a cell --max-reps took further says how many it had. */
void hb_cell_line(FILE *f, size_t done, size_t total, const char *id, const hb_tally *t, int base);
/* The progress line, redrawn in place (a terminal only). */
void hb_progress(size_t done, size_t total, double t0, const char *id, const hb_result *r);
/* A row that is not ok, counted under its status and error. */
void hb_count_reason(hb_reasons *rs, const hb_result *r);
/* The end of the run: the backends ranked over the whole file. */
void hb_run_summary(const char *csv, int paired);

#endif
