/* lbo.c -- lower-bound overhead per collector setting (lbo.h). */
#include "lbo.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The collector's knobs among a cell's parameters: they make a setting;
 * every other parameter is the workload's and makes a benchmark. */
static int gc_knob(const char *kv, size_t l)
{
    static const char *const knobs[] = {"threshold=", "threshold1=", "threshold2=", "grow_pct=",
                                        "heap_factor=", "heap_kb=", "garbage_ms=", "refcount=",
                                        "incremental_mark="};
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
        size_t k = strlen(knobs[i]);
        if (l > k && !strncmp(kv, knobs[i], k))
            return 1;
    }
    return 0;
}

/* The cell name's parameters (its seventh part), split into the
 * benchmark's and the setting's. */
static void split_params(const char *cell, char *bench, size_t blen, char *set, size_t slen)
{
    const char *q = cell;
    for (int k = 0; k < 6 && q; k++)
        if ((q = strchr(q, '/')))
            q++;
    size_t ba = 0, sa = 0;
    bench[0] = set[0] = 0;
    for (; q && *q;) {
        size_t l = strcspn(q, ";");
        if (gc_knob(q, l)) {
            if (sa < slen)
                sa += (size_t)snprintf(set + sa, slen - sa, " %.*s", (int)l, q);
        } else if (ba < blen) {
            ba += (size_t)snprintf(bench + ba, blen - ba, "/%.*s", (int)l, q);
        }
        q += l + (q[l] == ';');
    }
}

static int add_name(char ***v, size_t *n, const char *x, size_t *at)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i], x)) {
            *at = i;
            return 0;
        }
    char **nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv)
        return ENOMEM;
    *v = nv;
    if (!(nv[*n] = strdup(x)))
        return ENOMEM;
    *at = (*n)++;
    return 0;
}

static int col(const hb_cellset *s, const char *name, char *why, size_t len)
{
    int c = hb_csvdoc_col(&s->doc, name);
    if (c < 0)
        snprintf(why, len, "%s:1: no column '%s': not a results file with times and pauses", s->doc.path, name);
    return c;
}

/* Natural order with decimals: a run of digits (and one point) compares
 * by value, so heap_factor=1.25 sorts before heap_factor=1.5 and
 * threshold=700 before threshold=5000. */
static int numcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            char *ea, *eb;
            double x = strtod(a, &ea), y = strtod(b, &eb);
            if (x != y)
                return x < y ? -1 : 1;
            a = ea, b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++, b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

/* Sorts names[] and renumbers the cells' indices (`which`: 0 bench, 1 setting). */
static int sort_names(hb_lbo *t, char **names, size_t n, int which)
{
    size_t *order = malloc((n + 1) * sizeof *order), *rank = malloc((n + 1) * sizeof *rank);
    char **copy = malloc((n + 1) * sizeof *copy);
    if (!order || !rank || !copy) {
        free(order), free(rank), free(copy);
        return ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 1; i < n; i++) /* insertion sort: a few dozen names */
        for (size_t j = i; j > 0 && numcmp(names[order[j - 1]], names[order[j]]) > 0; j--) {
            size_t x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    for (size_t i = 0; i < n; i++) {
        rank[order[i]] = i;
        copy[i] = names[order[i]];
    }
    memcpy(names, copy, n * sizeof *names);
    for (size_t i = 0; i < t->nc; i++) {
        size_t *k = which ? &t->c[i].setting : &t->c[i].bench;
        *k = rank[*k];
    }
    free(order), free(rank), free(copy);
    return 0;
}

int hb_lbo_compute(const hb_cellset *s, hb_lbo *t, char *why, size_t len)
{
    memset(t, 0, sizeof *t);
    int cw = col(s, "wall_s", why, len), cg = col(s, "pause_total_ms", why, len), cwl = col(s, "workload", why, len),
        csz = col(s, "size", why, len), cth = col(s, "threads", why, len), cal = col(s, "allocator", why, len),
        cco = col(s, "collector", why, len), chp = hb_csvdoc_col(&s->doc, "heap");
    if (cw < 0 || cg < 0 || cwl < 0 || csz < 0 || cth < 0 || cal < 0 || cco < 0)
        return EINVAL;
    t->c = calloc(s->ncells + 1, sizeof *t->c);
    double *v = malloc((s->doc.nrows + 1) * sizeof *v), *w = malloc((s->doc.nrows + 1) * sizeof *w);
    int err = t->c && v && w ? 0 : ENOMEM;
    for (size_t i = 0; i < s->ncells && !err; i++) {
        const hb_cellset_cell *c = &s->cells[i];
        if (!c->nok)
            continue;
        size_t n = 0;
        char **f0 = NULL;
        for (size_t k = 0; k < c->nrows && !err; k++) {
            char **f = s->doc.rows[c->rows[k]].field;
            if (strcmp(f[s->c_status], "ok") || !*f[cco] || !strcmp(f[cco], "none"))
                continue;
            char *e1;
            double cost = strtod(f[cw], &e1);
            double gc = *f[cg] ? strtod(f[cg], NULL) / 1e3 : 0; /* an empty pause total: no pauses */
            if (!*f[cw] || *e1)
                continue; /* not measured: no figure, never zero */
            if (!(cost >= 0) || !(gc >= 0) || !isfinite(cost) || !isfinite(gc)) {
                snprintf(why, len, "%s: a time that is not a finite non-negative number in cell %s", s->doc.path,
                         c->name);
                err = EINVAL;
                break;
            }
            v[n] = cost;
            w[n] = cost - gc;
            n++;
            f0 = f;
        }
        if (err || !n)
            continue;
        char bp[256], sp[256], bench[600], set[600];
        split_params(c->name, bp, sizeof bp, sp, sizeof sp);
        snprintf(bench, sizeof bench, "%s/%s/t%s%s%s%s", f0[cwl], f0[csz], f0[cth], chp >= 0 ? "/" : "",
                 chp >= 0 ? f0[chp] : "", bp);
        snprintf(set, sizeof set, "%s+%s%s", f0[cal], f0[cco], sp);
        hb_lbo_cell *x = &t->c[t->nc];
        if ((err = add_name(&t->bench, &t->nbench, bench, &x->bench)) ||
            (err = add_name(&t->setting, &t->nsetting, set, &x->setting)))
            break;
        x->n = n;
        if (hb_stats_median(v, n, &x->cost) || hb_stats_median(w, n, &x->net))
            continue;
        t->nc++;
    }
    free(v);
    free(w);
    if (!err)
        err = sort_names(t, t->bench, t->nbench, 0);
    if (!err)
        err = sort_names(t, t->setting, t->nsetting, 1);
    if (!err) {
        t->base = malloc((t->nbench + 1) * sizeof *t->base);
        t->base_of = calloc(t->nbench + 1, sizeof *t->base_of);
        err = t->base && t->base_of ? 0 : ENOMEM;
    }
    for (size_t b = 0; !err && b < t->nbench; b++) {
        t->base[b] = NAN;
        for (size_t i = 0; i < t->nc; i++)
            if (t->c[i].bench == b && !(t->c[i].net >= t->base[b])) {
                t->base[b] = t->c[i].net;
                t->base_of[b] = t->c[i].setting;
            }
    }
    if (!err && !t->nc) {
        snprintf(why, len, "%s: no ok row of a collector workload with its times", s->doc.path);
        err = EINVAL;
    }
    if (err) {
        if (err == ENOMEM)
            snprintf(why, len, "out of memory");
        hb_lbo_free(t);
    }
    return err;
}

double hb_lbo_value(const hb_lbo *t, size_t bench, size_t setting)
{
    for (size_t i = 0; i < t->nc; i++)
        if (t->c[i].bench == bench && t->c[i].setting == setting)
            return t->base[bench] > 0 ? t->c[i].cost / t->base[bench] : NAN;
    return NAN;
}

double hb_lbo_geomean(const hb_lbo *t, size_t setting)
{
    double sum = 0;
    size_t n = 0;
    for (size_t b = 0; b < t->nbench; b++) {
        double x = hb_lbo_value(t, b, setting);
        if (x > 0 && isfinite(x))
            sum += log(x), n++;
    }
    return n ? exp(sum / (double)n) : NAN;
}

void hb_lbo_print(const hb_lbo *t, hb_format fmt, FILE *f)
{
    const char *what = "wall time (wall_s)";
    char a[32], b[32];
    if (fmt == HB_FMT_CSV) {
        fprintf(f, "benchmark,setting,cost_s,net_s,base_s,lbo\n");
        for (size_t i = 0; i < t->nc; i++) {
            const hb_lbo_cell *x = &t->c[i];
            hb_csv_field(f, t->bench[x->bench]);
            fputc(',', f);
            hb_csv_field(f, t->setting[x->setting]);
            fprintf(f, ",%.9g,%.9g,%.9g,%.6g\n", x->cost, x->net, t->base[x->bench],
                    hb_lbo_value(t, x->bench, x->setting));
        }
        return;
    }
    int md = fmt == HB_FMT_MARKDOWN;
    fprintf(f, "%slower-bound overhead (Cai et al. 2022) of %s: each setting's time over the least time with GC "
               "pauses taken out of any setting (the base); 1.000 = no overhead shown%s\n\n", md ? "**" : "", what,
            md ? "**" : "");
    /* the bases first: what the ratios divide by */
    for (size_t k = 0; k < t->nbench; k++) {
        hb_fmt_num(a, sizeof a, t->base[k]);
        fprintf(f, "%sbase of %s: %s s (%s)\n", md ? "- " : "  ", t->bench[k], a, t->setting[t->base_of[k]]);
    }
    fputc('\n', f);
    size_t wset = strlen("setting");
    for (size_t s = 0; s < t->nsetting; s++)
        wset = strlen(t->setting[s]) > wset ? strlen(t->setting[s]) : wset;
    if (md) {
        fprintf(f, "| setting |");
        for (size_t k = 0; k < t->nbench; k++)
            fprintf(f, " %s |", t->bench[k]);
        fprintf(f, " geomean |\n|---|");
        for (size_t k = 0; k <= t->nbench; k++)
            fprintf(f, "---:|");
        fputc('\n', f);
    } else {
        fprintf(f, "%-*s", (int)wset, "setting");
        for (size_t k = 0; k < t->nbench; k++)
            fprintf(f, "  %*s", (int)(strlen(t->bench[k]) > 8 ? strlen(t->bench[k]) : 8), t->bench[k]);
        fprintf(f, "  %8s\n", "geomean");
    }
    for (size_t s = 0; s < t->nsetting; s++) {
        if (md)
            fprintf(f, "| %s |", t->setting[s]);
        else
            fprintf(f, "%-*s", (int)wset, t->setting[s]);
        for (size_t k = 0; k < t->nbench; k++) {
            hb_fmt_ratio(b, sizeof b, hb_lbo_value(t, k, s));
            if (md)
                fprintf(f, " %s |", b);
            else
                fprintf(f, "  %*s", (int)(strlen(t->bench[k]) > 8 ? strlen(t->bench[k]) : 8), b);
        }
        hb_fmt_ratio(b, sizeof b, hb_lbo_geomean(t, s));
        fprintf(f, md ? " %s |\n" : "  %8s\n", b);
    }
}

void hb_lbo_free(hb_lbo *t)
{
    for (size_t i = 0; i < t->nbench; i++)
        free(t->bench[i]);
    for (size_t i = 0; i < t->nsetting; i++)
        free(t->setting[i]);
    free(t->bench);
    free(t->setting);
    free(t->base);
    free(t->base_of);
    free(t->c);
    memset(t, 0, sizeof *t);
}
