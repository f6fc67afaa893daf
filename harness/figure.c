/* figure.c -- the one parser of the numbers in results files and their
 * companions (csvio.h), so that compare, regress, merge, json, plot and
 * --resume agree on what a figure is.
 *
 * A figure is written in decimal by every writer here (printf's %llu, %lld,
 * %.Nf): an optional minus sign, digits, an optional fraction and an
 * optional exponent. strtod alone would also take "0x10", "inf", "nan",
 * leading blanks and a plus sign, and each subcommand used to take a
 * different subset; here they are all refused. Every column this version
 * writes is a time, a count, a size, a fraction or a flag (0 or 1), none
 * negative; the counts are whole numbers. A column this file does not know (a newer version's)
 * only needs to be a finite decimal number. */
#include "csvio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* non-negative reals; non-negative whole numbers; 0 or 1 */
enum { K_REAL = 1, K_COUNT = 2, K_FLAG = 3 };

static const struct {
    const char *name;
    int kind;
} known[] = {
    /* results: work, latency, pauses, memory, and the added columns */
    {"ops", K_COUNT}, {"allocs", K_COUNT}, {"frees", K_COUNT}, {"wall_s", K_REAL}, {"user_s", K_REAL},
    {"sys_s", K_REAL}, {"ops_per_s", K_REAL}, {"lat_p50_ns", K_COUNT}, {"lat_p90_ns", K_COUNT},
    {"lat_p99_ns", K_COUNT}, {"lat_p999_ns", K_COUNT}, {"lat_max_ns", K_COUNT}, {"gc_count", K_COUNT},
    {"pause_total_ms", K_REAL}, {"pause_p50_us", K_REAL}, {"pause_p90_us", K_REAL}, {"pause_p99_us", K_REAL},
    {"pause_p999_us", K_REAL}, {"pause_max_us", K_REAL}, {"mmu_1ms", K_REAL}, {"mmu_10ms", K_REAL},
    {"mmu_100ms", K_REAL}, {"peak_rss_kb", K_COUNT}, {"final_rss_kb", K_COUNT}, {"peak_live_bytes", K_COUNT},
    {"collected_objects", K_COUNT}, {"leaked_objects", K_COUNT}, {"leaked_bytes", K_COUNT},
    {"lat_samples", K_COUNT}, {"process_s", K_REAL}, {"gc_own_ms", K_REAL}, {"threads", K_COUNT},
    {"rep", K_COUNT}, {"maxrss_kb", K_COUNT}, {"minflt", K_COUNT}, {"majflt", K_COUNT}, {"nvcsw", K_COUNT},
    {"nivcsw", K_COUNT}, {"figure", K_REAL}, {"harness_cpu_s", K_REAL}, {"pause_max_auto_us", K_REAL},
    /* companions: NAME.rss.csv, NAME.pauses.csv */
    {"ms", K_COUNT}, {"rss_bytes", K_COUNT}, {"live_bytes", K_COUNT}, {"gc_live_bytes", K_COUNT},
    {"start_ms", K_REAL}, {"duration_us", K_REAL}, {"generation", K_COUNT}, {"examined", K_COUNT},
    {"freed", K_COUNT}, {"thread", K_COUNT}, {"ttsp_us", K_REAL}, {"explicit", K_FLAG},
};
#define NKNOWN (sizeof known / sizeof known[0])

static int kind_of(const char *column)
{
    for (size_t i = 0; i < NKNOWN; i++)
        if (strcmp(known[i].name, column) == 0)
            return known[i].kind;
    return 0;
}

/* Whether s is in the decimal grammar: -?D+(.D*)?([eE][+-]?D+)? or
 * -?.D+([eE][+-]?D+)?. */
static int decimal(const char *s)
{
    const char *p = s;
    int digits = 0;
    if (*p == '-')
        p++;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (!digits)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0;
}

static int parse(const char *text, const char *column, double *out, char *why, size_t len)
{
    int kind = kind_of(column);
    if (!decimal(text)) {
        snprintf(why, len, "'%s' is not a decimal number", text);
        return EINVAL;
    }
    errno = 0;
    double v = strtod(text, NULL);
    if (!isfinite(v) || errno == ERANGE) {
        snprintf(why, len, "'%s' is out of range", text);
        return EINVAL;
    }
    if (kind && v < 0) {
        snprintf(why, len, "'%s' is negative, and it is a time, a count or a size", text);
        return EINVAL;
    }
    if (kind == K_COUNT && v != floor(v)) {
        snprintf(why, len, "'%s' is not a whole number, and it is a count", text);
        return EINVAL;
    }
    if (kind == K_FLAG && v != 0 && v != 1) {
        snprintf(why, len, "'%s' is neither 0 nor 1, and it is a flag", text);
        return EINVAL;
    }
    *out = v == 0 ? 0 : v; /* no -0 */
    return 0;
}

int hb_figure(const hb_csvdoc *d, const hb_csvrow *r, int col, double *out, char *why, size_t len)
{
    const char *text = r->field[col];
    if (!*text)
        return ENOENT;
    char w[256];
    int err = parse(text, d->header[col], out, w, sizeof w);
    if (err)
        snprintf(why, len, "%s:%zu: %s: %s", r->path, r->line, d->header[col], w);
    return err;
}

int hb_csvdoc_check_figures(const hb_csvdoc *d, char *why, size_t len)
{
    for (size_t c = 0; c < d->ncols; c++) {
        if (!kind_of(d->header[c]))
            continue;
        for (size_t i = 0; i < d->nrows; i++) {
            double x;
            int err = hb_figure(d, &d->rows[i], (int)c, &x, why, len);
            if (err && err != ENOENT)
                return err;
        }
    }
    return 0;
}
