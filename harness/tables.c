/* tables.c -- output formats and number formats of the tables (tables.h). */
#include "tables.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int hb_format_parse(const char *s, hb_format *out)
{
    if (!strcmp(s, "text"))
        *out = HB_FMT_TEXT;
    else if (!strcmp(s, "csv"))
        *out = HB_FMT_CSV;
    else if (!strcmp(s, "markdown"))
        *out = HB_FMT_MARKDOWN;
    else
        return EINVAL;
    return 0;
}

/* 4 significant digits of v, 1 <= |v| < 10^4 or |v| < 1, in fixed notation. */
static void sig4(char *buf, size_t len, double v, const char *suffix)
{
    double a = fabs(v);
    int dec;
    if (a == 0)
        dec = 0;
    else if (a >= 1000)
        dec = 0;
    else if (a >= 100)
        dec = 1;
    else if (a >= 10)
        dec = 2;
    else if (a >= 1)
        dec = 3;
    else /* below 1: as many decimals as give 4 significant digits */
        dec = 3 - (int)floor(log10(a));
    if (dec > 15)
        dec = 15;
    snprintf(buf, len, "%.*f%s", dec, v, suffix);
    /* rounding may carry into a fifth digit (9999.5 -> 10000): accepted,
     * still fixed notation */
}

void hb_fmt_num(char *buf, size_t len, double x)
{
    static const char *const si[] = {"k", "M", "G", "T"};
    if (!isfinite(x)) {
        snprintf(buf, len, "-");
        return;
    }
    if (fabs(x) < 1e4) {
        sig4(buf, len, x, "");
        return;
    }
    int k = 0;
    double v = x / 1e3;
    /* 9999.6 k rounds to 10000 k: move to the next suffix first */
    while (k < 3 && fabs(v) >= 999.95) {
        v /= 1e3;
        k++;
    }
    sig4(buf, len, v, si[k]);
}

void hb_fmt_ratio(char *buf, size_t len, double x)
{
    if (!isfinite(x))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.3f", x);
}

void hb_fmt_p(char *buf, size_t len, double p)
{
    if (!isfinite(p))
        snprintf(buf, len, "-");
    else if (p < 0.001)
        snprintf(buf, len, "<0.001");
    else
        snprintf(buf, len, "%.3f", p);
}

void hb_fmt_ci(char *buf, size_t len, const hb_metric_cmp *r)
{
    if (isinf(r->hi))
        snprintf(buf, len, "(too few reps)");
    else if (!isfinite(r->lo) || !isfinite(r->hi))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "[%.3f, %.3f]", r->lo, r->hi);
}

void hb_csv_field(FILE *f, const char *v)
{
    if (!strpbrk(v, ",\"\n\r")) {
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

int hb_cmp_verdict(const hb_metric_cmp *r, const hb_metric_info *m)
{
    if (!(r->p_holm < 0.05) || !isfinite(r->lo) || !isfinite(r->hi) || (r->lo <= 1 && r->hi >= 1))
        return 0;
    int up = r->lo > 1;
    return up == m->higher_is_better ? 1 : -1;
}

const char *hb_verdict_word(int v)
{
    return v > 0 ? "better" : v < 0 ? "worse" : "~";
}

int hb_natcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            char *ea, *eb;
            unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
            if (x != y)
                return x < y ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++, b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}
