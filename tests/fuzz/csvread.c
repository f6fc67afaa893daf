/* csvread.c -- fuzz target: the results-file reader, hb_csvdoc_read
 * (harness/csvread.c), on the input as one file.
 *
 * Beyond what the sanitizers see, it checks the reader's contract
 * (harness/csvio.h) on every file it accepts: ncols header names, none empty,
 * none twice; every row with ncols NUL-terminated fields and a line number
 * past the last; hb_csvdoc_col finding each name where it is. And that what
 * is accepted survives a round trip: written back with RFC 4180 quoting and
 * read again, it gives the same fields. */
#include "fuzz.h"

#include "harness/csvio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    hbf_quiet();
    hbf_dir();
    return 0;
}

static void put_field(FILE *f, const char *v)
{
    /* quoted also: an empty field (a one-column row of "" is not an empty
     * line), and one that starts with a byte-order mark (the reader skips an
     * unquoted one at the start of the file) */
    if (!strpbrk(v, ",\"\n\r") && *v && strncmp(v, "\xef\xbb\xbf", 3) != 0) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', f);
        fputc(*v, f);
    }
    fputc('"', f);
}

static void put_row(FILE *f, char **field, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        if (c)
            fputc(',', f);
        put_field(f, field[c]);
    }
    fputc('\n', f);
}

static void check(const hb_csvdoc *d)
{
    HBF_CHECK(d->ncols >= 1 && d->header && d->path);
    for (size_t c = 0; c < d->ncols; c++) {
        HBF_CHECK(d->header[c][0] != 0);
        int at = hb_csvdoc_col(d, d->header[c]);
        HBF_CHECK(at == (int)c);
    }
    size_t last = 1;
    for (size_t r = 0; r < d->nrows; r++) {
        HBF_CHECK(d->rows[r].line > last);
        HBF_CHECK(d->rows[r].path == d->path);
        last = d->rows[r].line;
        for (size_t c = 0; c < d->ncols; c++)
            HBF_CHECK(strlen(d->rows[r].field[c]) < (size_t)-1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200], again[4200], why[1024];
    hbf_write("in.csv", data, size);
    hbf_path(path, sizeof path, "in.csv");
    hb_csvdoc d;
    if (hb_csvdoc_read(path, &d, why, sizeof why) != 0) {
        HBF_CHECK(why[0] != 0 && strchr(why, '\n') == NULL); /* one line to print */
        HBF_CHECK(d.mem_ == NULL && d.rows == NULL);
        hbf_clear();
        return 0;
    }
    check(&d);
    hbf_path(again, sizeof again, "again.csv");
    FILE *f = fopen(again, "w");
    HBF_CHECK(f != NULL);
    put_row(f, d.header, d.ncols);
    for (size_t r = 0; r < d.nrows; r++)
        put_row(f, d.rows[r].field, d.ncols);
    HBF_CHECK(fclose(f) == 0);
    hb_csvdoc e;
    int err = hb_csvdoc_read(again, &e, why, sizeof why);
    if (err)
        fprintf(hbf_log(), "csvread: the round trip is refused: %s\n", why);
    HBF_CHECK(err == 0);
    HBF_CHECK(e.ncols == d.ncols && e.nrows == d.nrows && !e.unterminated);
    for (size_t c = 0; c < d.ncols; c++)
        HBF_CHECK(strcmp(e.header[c], d.header[c]) == 0);
    for (size_t r = 0; r < d.nrows; r++)
        for (size_t c = 0; c < d.ncols; c++)
            HBF_CHECK(strcmp(e.rows[r].field[c], d.rows[r].field[c]) == 0);
    hb_csvdoc_free(&e);
    hb_csvdoc_free(&d);
    hbf_clear();
    return 0;
}
