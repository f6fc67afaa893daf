/* cellset.h -- a results file grouped by cell, and one metric of one cell
 * compared between two files: what `compare` and `regress` share.
 *
 * A cell's figures are the values of its `ok` rows; rows of any other status
 * are counted (and the first one's status and error kept, to be reported) but
 * contribute nothing, and an empty field is "not measured", never zero.
 * Functions return 0 or an errno value; EINVAL comes with one line in `why`
 * ("FILE:LINE: what"), which the caller prints after its own prefix. */
#ifndef HB_CELLSET_H
#define HB_CELLSET_H

#include <stddef.h>

#include "csvio.h"
#include "stats.h"

typedef struct hb_cellset_cell {
    const char *name;       /* the `cell` column: workload/allocator/collector/heap/tN/size[/params] */
    size_t *rows;           /* indices into doc.rows of every row of the cell, file order */
    size_t nrows;
    size_t nok;             /* rows with status ok */
    size_t nskipped;        /* status skipped: not a failure */
    const hb_csvrow *first_bad; /* first row neither ok nor skipped, or NULL */
} hb_cellset_cell;

typedef struct hb_cellset {
    hb_csvdoc doc;
    hb_cellset_cell *cells; /* in order of first appearance */
    size_t ncells;
    int c_cell, c_status, c_error;
    size_t *rows_mem_; /* owned: every cell's `rows` points into it */
} hb_cellset;

/* Reads `path` with hb_csvdoc_read and groups its rows; refuses a file
 * without the identity columns (cell, status, error). */
int hb_cellset_load(const char *path, hb_cellset *s, char *why, size_t len);
void hb_cellset_free(hb_cellset *s);
/* The cell named `name`, or NULL. */
const hb_cellset_cell *hb_cellset_find(const hb_cellset *s, const char *name);
/* The values of column `metric` in the ok rows of `c`, empty fields left
 * out; *v is malloc'd (free it; NULL when *n is 0). A column the file lacks
 * gives no values. EINVAL when a field is not a finite number. */
int hb_cellset_values(const hb_cellset *s, const hb_cellset_cell *c, const char *metric, double **v,
                      size_t *n, char *why, size_t len);
/* The same, and in *rows (malloc'd, NULL when *n is 0) the index in
 * doc.rows of each value's row: what pairs rows (rank.c, by run_id and
 * rep). rows may be NULL. */
int hb_cellset_values_rows(const hb_cellset *s, const hb_cellset_cell *c, const char *metric, double **v,
                           size_t **rows, size_t *n, char *why, size_t len);

/* The figure of column `metric` in row r, or of a derived metric (cpu_s:
 * user_s + sys_s): 0, ENOENT when not measured (or no such column), EINVAL
 * with `why` (hb_figure). */
int hb_cellset_figure(const hb_csvdoc *d, const hb_csvrow *r, const char *metric, double *out, char *why,
                      size_t len);

/* One metric of one cell, A against B. ratio = median(B) / median(A); the
 * interval and the estimate are Hodges-Lehmann's (stats.h); p is the
 * Mann-Whitney p-value for `alt` (Holm's correction is the caller's: it
 * spans a table). When a median is not positive the ratio, estimate and
 * interval are NaN and p still stands. */
typedef struct hb_metric_cmp {
    size_t na, nb;
    double med_a, med_b, ratio, est, lo, hi;
    double p, p_holm;
    int exact;
} hb_metric_cmp;

int hb_metric_cmp_compute(const double *a, size_t na, const double *b, size_t nb, hb_alternative alt,
                          hb_metric_cmp *out);
/* The same for n pairs (a_i, b_i) measured side by side (regress's duet):
 * na = nb = n, the medians of each side, but ratio = est = the paired
 * estimate (stats.h: hb_stats_paired_ratio), its interval, and p from
 * Wilcoxon's signed-rank test of log(b_i / a_i). A pair with a value that is
 * not positive leaves the ratio, estimate and interval NaN; p still stands
 * (on b_i - a_i then). */
int hb_paired_cmp_compute(const double *a, const double *b, size_t n, hb_alternative alt, hb_metric_cmp *out);

/* The metrics compare and regress know: the unit, and which way is better. */
typedef struct hb_metric_info {
    const char *name, *unit, *what;
    int higher_is_better;
} hb_metric_info;

const hb_metric_info *hb_metric_find(const char *name);
/* Every name hb_metric_find knows, ", " between them, into buf (cut at len). */
void hb_metric_names(char *buf, size_t len);

/* ---- the subcommands that read results files; argv after the subcommand's
 * name; they return the exit status */
int hb_compare_main(int argc, char **argv); /* compare.c */
int hb_regress_main(int argc, char **argv); /* regress.c */
int hb_plot_main(int argc, char **argv);    /* plot.c */
int hb_report_main(int argc, char **argv);  /* report.c */
/* The page of `csv` beside it (FILE.html), its path into page: 0, or 2
 * after one line on stderr. `figures`: NULL, or the directory where
 * hb_plot_draw already drew csv's figures with the default options (the
 * default run's), whose SVGs are then inlined as they are, `failed` of
 * them not drawn. */
int hb_report_write(const char *csv, const char *figures, size_t failed, char *page, size_t len);

#endif
