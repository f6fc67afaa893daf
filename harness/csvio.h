/* csvio.h -- reading results files back: a strict RFC 4180 reader, and what
 * is built on it (the Google Benchmark JSON of json.c, `heapbench merge`).
 *
 * Everything that reads a results file goes through hb_csvdoc_read, so that a
 * file is either understood whole or refused with the file, the line and what
 * is wrong -- never half-read. Functions return 0 or an errno value (EINVAL
 * for malformed input); on failure they write one line to `why`, which the
 * caller prints after its own prefix. */
#ifndef HB_CSVIO_H
#define HB_CSVIO_H

#include <stdio.h>
#include <stddef.h>

/* One record. `field` has the document's `ncols` entries, each a
 * NUL-terminated string with quoting undone (an empty field is ""). `path`
 * and `line` say where it came from, so that a row copied into another
 * document (merge) can still be blamed on its own file and line. */
typedef struct hb_csvrow {
    char **field;
    const char *path;
    size_t line; /* physical line the record starts on, from 1 */
} hb_csvrow;

typedef struct hb_csvdoc {
    char *path;
    char **header; /* ncols column names, from line 1 */
    size_t ncols;
    hb_csvrow *rows;
    size_t nrows;
    /* The last record had no line terminator. RFC 4180 allows it, but our
     * writers end every row with one: a caller that appends (--resume) must
     * know the file ends mid-line. */
    int unterminated;
    void *mem_; /* owned storage */
} hb_csvdoc;

/* Reads and checks the whole file. Refused (EINVAL, `why` = "FILE:LINE: what"):
 * an empty file, a header with an empty or repeated column name, a quote
 * inside an unquoted field, text after a closing quote, a quoted field never
 * closed, a bare carriage return, a NUL byte, bytes that are not UTF-8, a
 * row whose field count is not the header's, a figure hb_figure refuses
 * (figure.c). A leading UTF-8 byte-order mark
 * is skipped. A header with no rows is a valid, empty document. On failure
 * `d` holds nothing to free. */
int hb_csvdoc_read(const char *path, hb_csvdoc *d, char *why, size_t len);
void hb_csvdoc_free(hb_csvdoc *d);
/* Escapes, in place, the line breaks and control characters of a message
 * that quotes a file's text (as C writes them: \n, \t, \x01), cut to `len`
 * with its NUL: bad input is reported on one line. hb_csvdoc_read's `why`
 * is already so. */
void hb_msg_one_line(char *why, size_t len);
/* Index of the column named `name`, or -1. */
int hb_csvdoc_col(const hb_csvdoc *d, const char *name);

/* ---- figure.c: the numbers in a document, one parser for every reader */

/* The figure in column `col` of `r`: decimal (no hex, inf or nan, no blank
 * or plus sign), finite, and for every column this version knows (times,
 * counts, sizes, fractions) non-negative, a whole number where it is a
 * count. 0; ENOENT when the field is empty (not measured); EINVAL with
 * `why` = "FILE:LINE: column: why". */
int hb_figure(const hb_csvdoc *d, const hb_csvrow *r, int col, double *out, char *why, size_t len);

/* Every known figure column of every row through hb_figure; hb_csvdoc_read
 * calls it, so a document read is a document whose figures are sound. */
int hb_csvdoc_check_figures(const hb_csvdoc *d, char *why, size_t len);

/* ---- json.c: Google Benchmark's JSON (the schema version 1.7 writes) */

/* Writes the JSON of the results rows `d` holds to `out`: a context block, one
 * "iteration" entry per row whose status is ok, and mean/median/stddev/cv
 * aggregates for each cell with two or more of them. 0, or EINVAL with `why`
 * naming the file and line of a row that claims ok without its numbers, or the
 * errno of a failed write. */
int hb_json_write(const hb_csvdoc *d, FILE *out, char *why, size_t len);
/* Reads csv_path and replaces json_path (through a temporary file in the same
 * directory, so a reader never sees half a file). 0, or an errno value after
 * printing one line to stderr. `heapbench run` calls it for NAME.json. */
int hb_json_from_csv(const char *csv_path, const char *json_path);

/* ---- the subcommands; argv after the subcommand's name; exit status */
int hb_json_main(int argc, char **argv);  /* heapbench json IN.csv OUT.json */
int hb_merge_main(int argc, char **argv); /* heapbench merge OUT.csv IN.csv... [--force] */
/* This version's columns, in order (results.c), of the results file (kind
 * 0), of its NAME.pauses.csv (1) and of its NAME.rss.csv (2); *n their count. */
const char *const *hb_results_columns(int kind, size_t *n);

#endif
