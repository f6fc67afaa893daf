/* tables.h -- what the tables of compare, regress and report share: the
 * output formats, and one way to write each kind of number.
 *
 * One format per kind of number, everywhere a person reads a table, so that
 * a column never mixes `0.16` with `0.3209` or `8869762` with `1.876e+07`:
 *   a measured value (median)  4 significant digits; from 10^4 up with an SI
 *                              suffix (k, M, G, T): 0.1600, 6384, 8.870M
 *   a ratio                    3 decimals: 1.234
 *   an interval of a ratio     [0.951, 1.020]
 *   a p-value                  3 decimals, or <0.001
 * CSV output is for programs and keeps full precision (%.9g, ratios %.6g). */
#ifndef HB_TABLES_H
#define HB_TABLES_H

#include <stddef.h>
#include <stdio.h>

#include "cellset.h"

typedef enum { HB_FMT_TEXT, HB_FMT_CSV, HB_FMT_MARKDOWN } hb_format;

/* "text", "csv", "markdown": 0; anything else EINVAL. */
int hb_format_parse(const char *s, hb_format *out);

/* "-" for a value that is not finite (nothing measured). */
void hb_fmt_num(char *buf, size_t len, double x);
void hb_fmt_ratio(char *buf, size_t len, double x);
void hb_fmt_p(char *buf, size_t len, double p);
/* The 95% interval of r's ratio; "(too few reps)" when the samples are too
 * small for any (stats.h: lo 0, hi +inf); "-" when there is none. */
void hb_fmt_ci(char *buf, size_t len, const hb_metric_cmp *r);

/* One CSV field, quoted when it holds a comma, a quote or a line break. */
void hb_csv_field(FILE *f, const char *v);

/* +1: B is better than A with confidence (Holm p < 0.05 and the interval of
 * the ratio excludes 1), -1: worse, 0: no difference shown. */
int hb_cmp_verdict(const hb_metric_cmp *r, const hb_metric_info *m);
const char *hb_verdict_word(int v);

/* Natural order, the order of every table's rows: digit runs compare by
 * value (t2 before t16, threshold=700 before threshold=5000). */
int hb_natcmp(const char *a, const char *b);

#endif
