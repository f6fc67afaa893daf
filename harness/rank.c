/* rank.c -- the alternatives of one dimension ranked within one results
 * file (rank.h). */
#include "rank.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The places of a cell name's parts (harness/cell.c, hb_cell_id). */
enum { P_WORKLOAD, P_ALLOC, P_COLL, P_HEAP, P_THREADS, P_SIZE, P_PARAMS, NPARTS };
static const char *const dims[] = {"workload", "allocator", "collector", "heap", "threads", "size"};

typedef struct alt {
    const char *name;
    const hb_cellset_cell *cell[8]; /* cells of one group and one value (a parameter at its default
                                       and set to it explicitly are one alternative) */
    size_t ncell;
} alt;

typedef struct grp {
    const char *name;
    alt *a;
    size_t n, cap;
} grp;

/* Strings and blocks the table owns. */
typedef struct mem {
    void **p;
    size_t n, cap;
} mem;

static void *keep(hb_rank_table *t, void *x)
{
    mem *m = t->mem_;
    if (!x)
        return NULL;
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        void **p = realloc(m->p, cap * sizeof *p);
        if (!p) {
            free(x);
            return NULL;
        }
        m->p = p;
        m->cap = cap;
    }
    return m->p[m->n++] = x;
}

/* Splits a cell name into its parts (in `buf`); the parameters part may be
 * empty. 0, or EINVAL when the name has fewer than six parts. */
static int split_cell(const char *name, char *buf, size_t len, char *part[NPARTS])
{
    snprintf(buf, len, "%s", name);
    char *s = buf;
    for (int k = 0; k < P_PARAMS; k++) {
        part[k] = s;
        char *slash = strchr(s, '/');
        if (!slash) {
            if (k != P_SIZE)
                return EINVAL;
            s = s + strlen(s);
            break;
        }
        *slash = 0;
        s = slash + 1;
    }
    part[P_PARAMS] = s;
    return 0;
}

/* The value of KEY in "k=v;k=v" into buf: 1, or 0 when absent. */
static int kv_get(const char *list, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key);
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, ";");
        if (l > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            snprintf(buf, len, "%.*s", (int)(l - kl - 1), p + kl + 1);
            return 1;
        }
        p += l + (p[l] == ';');
    }
    return 0;
}

/* The cell's parameters: the `params` column of its first row (every
 * parameter, defaults included), else the cell name's overrides. */
static const char *cell_params(const hb_cellset *s, const hb_cellset_cell *c, const char *over)
{
    int col = hb_csvdoc_col(&s->doc, "params");
    return col >= 0 ? s->doc.rows[c->rows[0]].field[col] : over;
}

/* Group name and alternative of cell c by `dim` (index into dims, or -1
 * for the parameter `key`): 1; 0 when the cell has no such parameter;
 * -1 when its name is not a cell name. */
static int place(const hb_cellset *s, const hb_cellset_cell *c, int dim, const char *key, char *gname,
                 size_t glen, char *aname, size_t alen)
{
    char buf[2048], *part[NPARTS];
    if (split_cell(c->name, buf, sizeof buf, part))
        return -1;
    if (dim < 0) {
        if (!kv_get(cell_params(s, c, part[P_PARAMS]), key, aname, alen))
            return 0;
        /* the overrides without KEY, then KEY=* */
        char over[1024] = "";
        size_t at = 0, kl = strlen(key);
        for (const char *p = part[P_PARAMS]; *p;) {
            size_t l = strcspn(p, ";");
            if (!(l > kl && !strncmp(p, key, kl) && p[kl] == '=') && at < sizeof over)
                at += (size_t)snprintf(over + at, sizeof over - at, "%s%.*s", at ? ";" : "", (int)l, p);
            p += l + (p[l] == ';');
        }
        int w = snprintf(gname, glen, "%s/%s/%s/%s/%s/%s/%s%s%s=*", part[0], part[1], part[2], part[3], part[4],
                         part[5], over, at ? ";" : "", key);
        return w >= 0 && (size_t)w < glen ? 1 : -1; /* a group name cut short could merge two groups */
    }
    snprintf(aname, alen, "%s", dim == P_THREADS && part[dim][0] == 't' ? part[dim] + 1 : part[dim]);
    const char *star = dim == P_THREADS ? "t*" : "*";
    size_t at = 0;
    for (int k = 0; k < NPARTS && at < glen; k++) {
        if (k == P_PARAMS && !part[k][0])
            break;
        at += (size_t)snprintf(gname + at, glen - at, "%s%s", k ? "/" : "", k == dim ? star : part[k]);
    }
    return 1;
}

static int cmp_name(const void *x, const void *y)
{
    return hb_natcmp(*(const char *const *)x, *(const char *const *)y);
}

/* sort entries best first: by the alternative's median (r.med_b) */
static int cmp_higher;
static int cmp_entry(const void *x, const void *y)
{
    const hb_rank_entry *a = x, *b = y;
    double u = a->r.med_b, v = b->r.med_b;
    if (u != v)
        return (cmp_higher ? u > v : u < v) ? -1 : 1;
    return hb_natcmp(a->alt, b->alt);
}

/* The values of metric m over the cells of one alternative, concatenated. */
static int alt_values(const hb_cellset *s, const alt *a, const hb_metric_info *m, double **v, size_t *n,
                      char *why, size_t len)
{
    *v = NULL;
    *n = 0;
    for (size_t k = 0; k < a->ncell; k++) {
        double *x;
        size_t nx;
        int err = hb_cellset_values(s, a->cell[k], m->name, &x, &nx, why, len);
        if (err) {
            free(*v);
            return err;
        }
        if (!nx)
            continue;
        double *g = realloc(*v, (*n + nx) * sizeof *g);
        if (!g) {
            free(x);
            free(*v);
            return ENOMEM;
        }
        memcpy(g + *n, x, nx * sizeof *x);
        *v = g;
        *n += nx;
        free(x);
    }
    return 0;
}

/* One side's values of metric m with the keys that pair them: the run
 * (run_id) and the repetition (rep) of each ok row. *out is malloc'd (NULL
 * when *n is 0, also when the file has no run_id or rep column). */
typedef struct keyed {
    const char *run, *rep;
    double v;
} keyed;

static int alt_keyed(const hb_cellset *s, const alt *a, const hb_metric_info *m, keyed **out, size_t *n,
                     char *why, size_t len)
{
    *out = NULL;
    *n = 0;
    int crun = hb_csvdoc_col(&s->doc, "run_id"), crep = hb_csvdoc_col(&s->doc, "rep");
    if (crun < 0 || crep < 0)
        return 0;
    for (size_t k = 0; k < a->ncell; k++) {
        double *v;
        size_t *rows, nv;
        int err = hb_cellset_values_rows(s, a->cell[k], m->name, &v, &rows, &nv, why, len);
        keyed *g = err || !nv ? NULL : realloc(*out, (*n + nv) * sizeof *g);
        if (!err && nv && !g)
            err = ENOMEM;
        for (size_t i = 0; g && i < nv; i++) {
            const hb_csvrow *row = &s->doc.rows[rows[i]];
            g[(*n)++] = (keyed){.run = row->field[crun], .rep = row->field[crep], .v = v[i]};
        }
        if (g)
            *out = g;
        free(v);
        free(rows);
        if (err) {
            free(*out);
            *out = NULL;
            *n = 0;
            return err;
        }
    }
    return 0;
}

/* The reference's keyed values kr (alt_keyed) and alternative a's metric
 * m, paired by run and repetition (rank.h): *n pairs in vr and va
 * (malloc'd), or *n = 0 when they cannot be paired (no keys, a key twice
 * on one side, fewer than HB_RANK_MIN_PAIRS pairs). */
static int alt_pairs(const hb_cellset *s, const keyed *kr, size_t nr, const alt *a, const hb_metric_info *m,
                     double **vr, double **va, size_t *n, char *why, size_t len)
{
    *vr = *va = NULL;
    *n = 0;
    if (!nr)
        return 0;
    keyed *ka;
    size_t na;
    int err = alt_keyed(s, a, m, &ka, &na, why, len);
    if (err)
        return err;
    double *x = malloc((nr + 1) * sizeof *x), *y = malloc((nr + 1) * sizeof *y);
    size_t k = 0;
    int dup = 0;
    if (!x || !y)
        err = ENOMEM;
    for (size_t i = 0; i < nr && !err && !dup; i++) {
        size_t hits = 0, at = 0;
        for (size_t j = 0; j < na; j++)
            if (!strcmp(ka[j].run, kr[i].run) && !strcmp(ka[j].rep, kr[i].rep)) {
                hits++;
                at = j;
            }
        for (size_t j = 0; j < i && !dup; j++)
            dup = !strcmp(kr[j].run, kr[i].run) && !strcmp(kr[j].rep, kr[i].rep);
        if (hits > 1)
            dup = 1;
        else if (hits == 1) {
            x[k] = kr[i].v;
            y[k++] = ka[at].v;
        }
    }
    free(ka);
    if (err || dup || k < HB_RANK_MIN_PAIRS) {
        free(x);
        free(y);
        return err;
    }
    *vr = x;
    *va = y;
    *n = k;
    return 0;
}

static size_t alt_nok(const alt *a)
{
    size_t n = 0;
    for (size_t k = 0; k < a->ncell; k++)
        n += a->cell[k]->nok;
    return n;
}

/* Why alternative a of a group has no ok row. */
static void why_none(const hb_cellset *s, const alt *a, char *buf, size_t len)
{
    const hb_cellset_cell *c = a->cell[0];
    size_t rows = 0;
    for (size_t k = 0; k < a->ncell; k++)
        rows += a->cell[k]->nrows;
    if (c->first_bad)
        snprintf(buf, len, "%zu row%s, none ok (%s:%zu: %s%s%s)", rows, rows == 1 ? "" : "s", c->first_bad->path,
                 c->first_bad->line, c->first_bad->field[s->c_status], c->first_bad->field[s->c_error][0] ? ": " : "",
                 c->first_bad->field[s->c_error]);
    else
        snprintf(buf, len, "%zu row%s, all skipped", rows, rows == 1 ? "" : "s");
}

static int add_note(hb_rank_table *t, const char *fmt, const char *a, const char *b, const char *c)
{
    char line[2048];
    snprintf(line, sizeof line, fmt, a, b, c);
    char **n = realloc(t->note, (t->nnote + 1) * sizeof *n);
    if (!n)
        return ENOMEM;
    t->note = n;
    if (!(t->note[t->nnote] = keep(t, strdup(line))))
        return ENOMEM;
    t->nnote++;
    return 0;
}

/* Every parameter key of the file, for the message of an unknown --by. */
static void param_keys(const hb_cellset *s, char *buf, size_t len)
{
    char seen[1024] = ";";
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < s->ncells; i++) {
        char cb[2048], *part[NPARTS];
        if (split_cell(s->cells[i].name, cb, sizeof cb, part))
            continue;
        const char *p = cell_params(s, &s->cells[i], part[P_PARAMS]);
        while (*p) {
            size_t l = strcspn(p, ";"), kl = strcspn(p, "=");
            char key[80];
            if (kl < l && kl < 60) {
                snprintf(key, sizeof key, ";%.*s;", (int)kl, p);
                if (!strstr(seen, key) && strlen(seen) + kl + 2 < sizeof seen) {
                    strcat(seen, key + 1);
                    if (at < len)
                        at += (size_t)snprintf(buf + at, len - at, ", %.*s", (int)kl, p);
                }
            }
            p += l + (p[l] == ';');
        }
    }
}

static int build_groups(hb_rank_table *t, int dim, const char *key, grp **out, size_t *ngrp, char *why, size_t len)
{
    const hb_cellset *s = t->s;
    grp *g = calloc(s->ncells + 1, sizeof *g);
    size_t ng = 0;
    if (!g)
        return ENOMEM;
    for (size_t i = 0; i < s->ncells; i++) {
        char gname[2048], aname[256];
        int k = place(s, &s->cells[i], dim, key, gname, sizeof gname, aname, sizeof aname);
        if (k < 0) {
            snprintf(why, len, "%s:%zu: cell '%s' is not WORKLOAD/ALLOCATOR/COLLECTOR/HEAP/tN/SIZE",
                     s->doc.path, s->doc.rows[s->cells[i].rows[0]].line, s->cells[i].name);
            goto bad;
        }
        if (!k) {
            t->without++;
            continue;
        }
        grp *x = NULL;
        for (size_t j = 0; j < ng && !x; j++)
            if (!strcmp(g[j].name, gname))
                x = &g[j];
        if (!x) {
            x = &g[ng++];
            if (!(x->name = keep(t, strdup(gname))))
                goto oom;
        }
        alt *a = NULL;
        for (size_t j = 0; j < x->n && !a; j++)
            if (!strcmp(x->a[j].name, aname))
                a = &x->a[j];
        if (!a) {
            if (x->n == x->cap) {
                size_t cap = x->cap ? 2 * x->cap : 8;
                alt *na = realloc(x->a, cap * sizeof *na);
                if (!na)
                    goto oom;
                x->a = na;
                x->cap = cap;
            }
            a = &x->a[x->n++];
            *a = (alt){.name = keep(t, strdup(aname))};
            if (!a->name)
                goto oom;
        }
        if (a->ncell < sizeof a->cell / sizeof a->cell[0])
            a->cell[a->ncell++] = &s->cells[i];
    }
    *out = g;
    *ngrp = ng;
    return 0;
oom:
    snprintf(why, len, "out of memory");
bad:
    for (size_t j = 0; j < ng; j++)
        free(g[j].a);
    free(g);
    return why[0] == 'o' ? ENOMEM : EINVAL;
}

int hb_rank_compute(const hb_cellset *s, const char *dim, const char *ref, const hb_metric_info *const *metrics,
                    size_t nmetric, unsigned flags, hb_rank_table *t, char *why, size_t len)
{
    memset(t, 0, sizeof *t);
    t->s = s;
    t->paired = (flags & HB_RANK_PAIRED) != 0;
    if (!(t->mem_ = calloc(1, sizeof(mem))))
        return ENOMEM;
    snprintf(t->dim, sizeof t->dim, "%s", dim);
    t->nmetric = nmetric < HB_RANK_MAX_METRICS ? nmetric : HB_RANK_MAX_METRICS;
    memcpy(t->metric, metrics, t->nmetric * sizeof *metrics);
    int d = -1;
    for (int k = 0; k < (int)(sizeof dims / sizeof dims[0]); k++)
        if (!strcmp(dim, dims[k]))
            d = k;
    grp *g = NULL;
    size_t ng = 0;
    why[0] = 0;
    int err = build_groups(t, d, dim, &g, &ng, why, len);
    if (err)
        return err;
    if (d < 0 && t->without == s->ncells) {
        char keys[600];
        param_keys(s, keys, sizeof keys);
        snprintf(why, len, "bad --by '%s'; valid: allocator, collector, workload, threads, heap, size, or a parameter "
                 "of %s%s%s", dim, s->doc.path, keys[0] ? " (" : "", keys[0] ? keys + 2 : "");
        if (keys[0])
            strncat(why, ")", len - strlen(why) - 1);
        err = EINVAL;
        goto out;
    }
    /* the reference: given, or a default the file has */
    const char *names[1024];
    size_t nn = 0;
    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < g[i].n; j++) {
            size_t k = 0;
            while (k < nn && strcmp(names[k], g[i].a[j].name))
                k++;
            if (k == nn && nn < sizeof names / sizeof names[0])
                names[nn++] = g[i].a[j].name;
        }
    qsort(names, nn, sizeof names[0], cmp_name);
    if (ref && d == P_THREADS && ref[0] == 't')
        ref++;
    const char *want = ref ? ref : d == P_ALLOC ? "system" : d == P_COLL ? "rcgen" : NULL;
    const char *chosen = NULL;
    for (size_t k = 0; k < nn && want; k++)
        if (!strcmp(names[k], want))
            chosen = names[k];
    if (!chosen && !ref && nn)
        chosen = names[0];
    if (!chosen) {
        char list[600] = "";
        size_t at = 0;
        for (size_t k = 0; k < nn && at < sizeof list; k++)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", k ? ", " : "", names[k]);
        snprintf(why, len, "--ref '%s': %s has no such %s; it has: %s", ref ? ref : "", s->doc.path, dim,
                 nn ? list : "none");
        err = EINVAL;
        goto out;
    }
    snprintf(t->ref, sizeof t->ref, "%s", chosen);
    qsort(g, ng, sizeof *g, cmp_name); /* name is the first member */
    t->g = calloc(ng * t->nmetric + 1, sizeof *t->g);
    if (!keep(t, t->g)) {
        err = ENOMEM;
        goto out;
    }
    char line[1024];
    for (size_t i = 0; i < ng && !err; i++) {
        alt *r = NULL;
        for (size_t j = 0; j < g[i].n; j++)
            if (!strcmp(g[i].a[j].name, t->ref))
                r = &g[i].a[j];
        if (g[i].n < 2) {
            t->single++;
            continue;
        }
        if (!r) {
            err = add_note(t, "%s: no cell with %s %s", g[i].name, dim, t->ref);
            continue;
        }
        if (!alt_nok(r)) {
            why_none(s, r, line, sizeof line);
            err = add_note(t, "%s: the reference %s: %s", g[i].name, t->ref, line);
            continue;
        }
        for (size_t j = 0; j < g[i].n && !err; j++)
            if (!alt_nok(&g[i].a[j])) {
                why_none(s, &g[i].a[j], line, sizeof line);
                err = add_note(t, "%s: %s%s", g[i].a[j].cell[0]->name, line, "");
            }
        for (size_t m = 0; m < t->nmetric && !err; m++) {
            double *vr, *v;
            size_t nr, nv;
            if ((err = alt_values(s, r, t->metric[m], &vr, &nr, why, len)))
                break;
            keyed *kr = NULL; /* the reference's keys, read once for every alternative */
            size_t nkr = 0;
            if (t->paired && (err = alt_keyed(s, r, t->metric[m], &kr, &nkr, why, len))) {
                free(vr);
                break;
            }
            hb_rank_entry *e = calloc(g[i].n, sizeof *e);
            size_t ne = 0;
            if (!keep(t, e)) {
                free(vr);
                free(kr);
                err = ENOMEM;
                break;
            }
            for (size_t j = 0; j < g[i].n && !err; j++) {
                alt *a = &g[i].a[j];
                if ((err = alt_values(s, a, t->metric[m], &v, &nv, why, len)))
                    break;
                if (nv && nr) {
                    hb_rank_entry *x = &e[ne++];
                    *x = (hb_rank_entry){.alt = a->name, .cell = a->cell[0]->name, .is_ref = a == r};
                    double *pr = NULL, *pa = NULL;
                    size_t np = 0;
                    if (t->paired && a != r)
                        err = alt_pairs(s, kr, nkr, a, t->metric[m], &pr, &pa, &np, why, len);
                    if (!err && np) {
                        err = hb_paired_cmp_compute(pr, pa, np, HB_TWO_SIDED, &x->r);
                        x->paired = 1;
                    } else if (!err) {
                        err = hb_metric_cmp_compute(vr, nr, v, nv, HB_TWO_SIDED, &x->r);
                    }
                    free(pr);
                    free(pa);
                    if (x->is_ref)
                        x->r.p = x->r.p_holm = NAN;
                } else if (nv && !nr && a != r) {
                    char mname[64];
                    snprintf(mname, sizeof mname, "%s", t->metric[m]->name);
                    err = add_note(t, "%s: %s has no %s values; not ranked by it", g[i].name, t->ref, mname);
                }
                free(v);
            }
            free(vr);
            free(kr);
            if (err || ne < 2)
                continue;
            cmp_higher = t->metric[m]->higher_is_better;
            qsort(e, ne, sizeof *e, cmp_entry);
            for (size_t k = 0; k < ne; k++)
                e[k].rank = k && e[k].r.med_b == e[k - 1].r.med_b ? e[k - 1].rank : k + 1;
            t->g[t->ng++] = (hb_rank_group){.name = g[i].name, .m = t->metric[m], .e = e, .n = ne};
        }
    }
    if (err)
        goto out;
    /* metric order as given, then group order (already by name) */
    for (size_t a = 1; a < t->ng; a++) { /* stable insertion by metric index */
        hb_rank_group x = t->g[a];
        size_t mi = 0, b = a;
        while (t->metric[mi] != x.m)
            mi++;
        while (b > 0) {
            size_t mj = 0;
            while (t->metric[mj] != t->g[b - 1].m)
                mj++;
            if (mj <= mi)
                break;
            t->g[b] = t->g[b - 1];
            b--;
        }
        t->g[b] = x;
    }
    /* Holm over every test of the table */
    size_t nt = 0;
    for (size_t i = 0; i < t->ng; i++)
        for (size_t k = 0; k < t->g[i].n; k++)
            nt += !t->g[i].e[k].is_ref;
    double *p = malloc((nt + 1) * sizeof *p);
    if (!p) {
        err = ENOMEM;
        goto out;
    }
    t->fewest_ref = t->fewest_alt = SIZE_MAX;
    size_t q = 0;
    for (size_t i = 0; i < t->ng; i++)
        for (size_t k = 0; k < t->g[i].n; k++)
            if (!t->g[i].e[k].is_ref) {
                const hb_metric_cmp *r = &t->g[i].e[k].r;
                p[q++] = r->p;
                t->npaired += (size_t)t->g[i].e[k].paired;
                t->fewest_ref = r->na < t->fewest_ref ? r->na : t->fewest_ref;
                t->fewest_alt = r->nb < t->fewest_alt ? r->nb : t->fewest_alt;
            }
    err = hb_stats_holm(p, nt, p);
    q = 0;
    for (size_t i = 0; i < t->ng && !err; i++)
        for (size_t k = 0; k < t->g[i].n; k++)
            if (!t->g[i].e[k].is_ref)
                t->g[i].e[k].r.p_holm = p[q++];
    t->ntests = nt;
    free(p);
out:
    for (size_t j = 0; j < ng; j++)
        free(g[j].a);
    free(g);
    if (err == ENOMEM && !why[0])
        snprintf(why, len, "out of memory");
    if (err)
        hb_rank_free(t);
    return err;
}

void hb_rank_free(hb_rank_table *t)
{
    mem *m = t->mem_;
    for (size_t i = 0; m && i < m->n; i++)
        free(m->p[i]);
    if (m)
        free(m->p);
    free(m);
    free(t->note);
    memset(t, 0, sizeof *t);
}

size_t hb_rank_geomean(const hb_rank_table *t, const hb_metric_info *m, const char *alt, double *g)
{
    double acc = 0;
    size_t n = 0;
    for (size_t i = 0; i < t->ng; i++) {
        if (t->g[i].m != m)
            continue;
        for (size_t k = 0; k < t->g[i].n; k++) {
            const hb_rank_entry *e = &t->g[i].e[k];
            if (!strcmp(e->alt, alt) && isfinite(e->r.ratio) && e->r.ratio > 0)
                acc += log(e->r.ratio), n++;
        }
    }
    *g = n ? exp(acc / (double)n) : NAN;
    return n;
}

static const hb_rank_table *geo_t;
static const hb_metric_info *geo_m;
static int cmp_geo(const void *x, const void *y)
{
    const char *a = *(const char *const *)x, *b = *(const char *const *)y;
    double u, v;
    hb_rank_geomean(geo_t, geo_m, a, &u);
    hb_rank_geomean(geo_t, geo_m, b, &v);
    if (u != v && isfinite(u) && isfinite(v))
        return (geo_m->higher_is_better ? u > v : u < v) ? -1 : 1;
    return hb_natcmp(a, b);
}

int hb_rank_alternatives(const hb_rank_table *t, const hb_metric_info *m, const char ***alts, size_t *n)
{
    size_t cap = 0;
    for (size_t i = 0; i < t->ng; i++)
        cap += t->g[i].m == m ? t->g[i].n : 0;
    const char **v = malloc((cap + 1) * sizeof *v);
    if (!v)
        return ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < t->ng; i++)
        for (size_t j = 0; t->g[i].m == m && j < t->g[i].n; j++) {
            size_t q = 0;
            while (q < k && strcmp(v[q], t->g[i].e[j].alt))
                q++;
            if (q == k)
                v[k++] = t->g[i].e[j].alt;
        }
    geo_t = t;
    geo_m = m;
    qsort(v, k, sizeof *v, cmp_geo);
    *alts = v;
    *n = k;
    return 0;
}

/* ---- printing */

static void print_csv(const hb_rank_table *t)
{
    printf("row,metric,cell,rank,%s,reference,n,n_ref,median,median_ref,ratio,ci_lo,ci_hi,p,p_holm,verdict,note\n",
           t->dim);
    for (size_t i = 0; i < t->ng; i++) {
        const hb_rank_group *g = &t->g[i];
        for (size_t k = 0; k < g->n; k++) {
            const hb_rank_entry *e = &g->e[k];
            printf("cell,%s,", g->m->name);
            hb_csv_field(stdout, g->name);
            printf(",%zu,", e->rank);
            hb_csv_field(stdout, e->alt);
            putchar(',');
            hb_csv_field(stdout, t->ref);
            printf(",%zu,%zu,%.9g,%.9g,", e->r.nb, e->r.na, e->r.med_b, e->r.med_a);
            if (isfinite(e->r.ratio))
                printf("%.6g", e->r.ratio);
            putchar(',');
            if (isfinite(e->r.lo) && isfinite(e->r.hi))
                printf("%.6g,%.6g", e->r.lo, e->r.hi);
            else
                putchar(',');
            putchar(',');
            if (!e->is_ref)
                printf("%.9g,%.9g,%s", e->r.p, e->r.p_holm, hb_verdict_word(hb_cmp_verdict(&e->r, g->m)));
            else
                printf(",,");
            printf(",%s\n", e->is_ref ? "reference" : e->paired ? "paired" : "");
        }
    }
    for (size_t m = 0; m < t->nmetric; m++) {
        const char **alts;
        size_t na;
        if (hb_rank_alternatives(t, t->metric[m], &alts, &na))
            continue;
        for (size_t k = 0; k < na; k++) {
            double gm;
            size_t n = hb_rank_geomean(t, t->metric[m], alts[k], &gm);
            printf("geomean,%s,,%zu,", t->metric[m]->name, k + 1);
            hb_csv_field(stdout, alts[k]);
            putchar(',');
            hb_csv_field(stdout, t->ref);
            printf(",,,,,%.6g,,,,,,over %zu cells\n", gm, n);
        }
        free(alts);
    }
    for (size_t i = 0; i < t->nnote; i++) {
        printf("not_ranked,,,,,,,,,,,,,,,,");
        hb_csv_field(stdout, t->note[i]);
        putchar('\n');
    }
}

int hb_rank_all_paired(const hb_rank_table *t)
{
    return t->ntests && t->npaired == t->ntests;
}

int hb_rank_marked_paired(const hb_rank_table *t, const hb_rank_entry *e)
{
    return e->paired && !hb_rank_all_paired(t);
}

/* The note when the table has too few repetitions for any test to pass
 * Holm's correction: "~" everywhere must not pass for "no difference". */
static double min_p(const hb_rank_table *t, size_t na, size_t nb)
{
    if (hb_rank_all_paired(t)) /* na = nb: the pairs */
        return hb_stats_signed_rank_min_p(na < nb ? na : nb, HB_TWO_SIDED);
    return hb_stats_mwu_min_p(na, nb, HB_TWO_SIDED);
}

double hb_rank_min_p(const hb_rank_table *t)
{
    return min_p(t, t->fewest_ref, t->fewest_alt);
}

static void reps_note(const hb_rank_table *t, int md)
{
    if (!t->ntests || hb_rank_min_p(t) * (double)t->ntests < 0.05)
        return;
    size_t r = 2;
    while (min_p(t, r, r) * (double)t->ntests * 4 >= 0.05 && r < 100)
        r++;
    printf("%snote: with %zu and %zu repetitions no cell can show a difference at 5%% after Holm's correction over "
           "%zu tests; use %zu or more repetitions\n",
           md ? "\n> " : "", t->fewest_ref, t->fewest_alt, t->ntests, r);
}

void hb_rank_print(const hb_rank_table *t, hb_format fmt, int colour)
{
    if (fmt == HB_FMT_CSV) {
        print_csv(t);
        return;
    }
    int md = fmt == HB_FMT_MARKDOWN;
    const char *red = colour ? "\033[31m" : "", *green = colour ? "\033[32m" : "", *bold = colour ? "\033[1m" : "",
               *off = colour ? "\033[0m" : "";
    size_t w = 4, aw = strlen(t->dim);
    for (size_t i = 0; i < t->ng; i++) {
        w = strlen(t->g[i].name) > w ? strlen(t->g[i].name) : w;
        for (size_t k = 0; k < t->g[i].n; k++)
            aw = strlen(t->g[i].e[k].alt) > aw ? strlen(t->g[i].e[k].alt) : aw;
    }
    if (md)
        printf("## `heapbench compare %s --by %s --ref %s`\n\n", t->s->doc.path, t->dim, t->ref);
    else
        printf("%s by %s, reference %s\n", t->s->doc.path, t->dim, t->ref);
    if (hb_rank_all_paired(t))
        printf("ratio to the reference (%s %s) in the same cell, paired by run and repetition: Hodges-Lehmann "
               "estimate of the pairs' log ratios and its 95%% CI; p: Wilcoxon signed-rank, two-sided, Holm-corrected "
               "over the %zu tests below; rank 1 is the best median%s\n",
               t->dim, t->ref, t->ntests, md ? "." : "");
    else
        printf("ratio = median / the reference's median (%s %s) in the same cell; 95%% CI of the ratio: "
               "Hodges-Lehmann; p: Mann-Whitney U, two-sided, Holm-corrected over the %zu tests below; rank 1 is the "
               "best median%s\n",
               t->dim, t->ref, t->ntests, md ? "." : "");
    if (t->paired && t->ntests && !hb_rank_all_paired(t))
        printf("%spaired: %zu of the %zu tests%s; the rest unpaired (each side's rows need the same run_id and rep, "
               "at least %d of them, as one `heapbench run --interleave` writes)%s\n",
               md ? "\n> " : "", t->npaired, t->ntests,
               t->npaired ? " (marked paired: signed-rank, their ratio the pairs' estimate)" : "", HB_RANK_MIN_PAIRS,
               md ? "." : "");
    reps_note(t, md);
    for (size_t m = 0; m < t->nmetric; m++) {
        const hb_metric_info *mi = t->metric[m];
        int any = 0;
        for (size_t i = 0; i < t->ng && !any; i++)
            any = t->g[i].m == mi;
        if (!any)
            continue;
        if (md) {
            printf("\n### %s (`%s`, %s; %s is better)\n\n", mi->what, mi->name, mi->unit,
                   mi->higher_is_better ? "higher" : "lower");
            printf("| cell | rank | %s | n | median | ratio to %s | 95%% CI | p (Holm) | |\n", t->dim, t->ref);
            printf("|---|---:|---|---:|---:|---:|---|---:|---|\n");
        } else {
            printf("\n%s%s%s (%s, %s; %s is better)\n", bold, mi->name, off, mi->what, mi->unit,
                   mi->higher_is_better ? "higher" : "lower");
            printf("  %-*s  %4s  %-*s  %4s  %9s  %7s  %-16s  %7s\n", (int)w, "cell", "rank", (int)aw, t->dim, "n",
                   "median", "ratio", "95% CI", "p(Holm)");
        }
        for (size_t i = 0; i < t->ng; i++) {
            const hb_rank_group *g = &t->g[i];
            if (g->m != mi)
                continue;
            for (size_t k = 0; k < g->n; k++) {
                const hb_rank_entry *e = &g->e[k];
                char med[32], ratio[24], ci[40], p[16];
                hb_fmt_num(med, sizeof med, e->r.med_b);
                hb_fmt_ratio(ratio, sizeof ratio, e->r.ratio);
                if (e->is_ref) {
                    snprintf(ci, sizeof ci, "reference");
                    snprintf(p, sizeof p, "-");
                } else {
                    hb_fmt_ci(ci, sizeof ci, &e->r);
                    hb_fmt_p(p, sizeof p, e->r.p_holm);
                }
                int v = e->is_ref ? 0 : hb_cmp_verdict(&e->r, mi);
                const char *word = e->is_ref ? "" : hb_verdict_word(v);
                char mixed[48];
                if (hb_rank_marked_paired(t, e)) { /* which rows are paired */
                    snprintf(mixed, sizeof mixed, "%s%spaired", word, *word ? " " : "");
                    word = mixed;
                }
                if (md)
                    printf("| %s%s%s | %zu | %s%s%s | %zu | %s | %s%s%s | %s | %s | %s |\n", k ? "" : "`",
                           k ? "" : g->name, k ? "" : "`", e->rank, e->is_ref ? "**" : "", e->alt,
                           e->is_ref ? "**" : "", e->r.nb, med, v ? "**" : "", ratio, v ? "**" : "", ci, p, word);
                else if (e->is_ref) /* no p, no verdict: nothing after the interval's place */
                    printf("  %-*s  %4zu  %-*s  %4zu  %9s  %7s  %s\n", (int)w, k ? "" : g->name, e->rank, (int)aw,
                           e->alt, e->r.nb, med, ratio, ci);
                else
                    printf("  %-*s  %4zu  %-*s  %4zu  %9s  %s%7s%s  %-16s  %7s  %s%s%s\n", (int)w, k ? "" : g->name,
                           e->rank, (int)aw, e->alt, e->r.nb, med, v > 0 ? green : v < 0 ? red : "", ratio,
                           v ? off : "", ci, p, v > 0 ? green : v < 0 ? red : "", word, v ? off : "");
            }
        }
        /* the overall answer: each alternative's geometric mean over the cells */
        const char **alts;
        size_t na;
        if (hb_rank_alternatives(t, mi, &alts, &na))
            continue;
        printf(md ? "\nGeometric mean of the ratios to %s over the cells: " : "  geometric mean of the ratios to %s: ",
               t->ref);
        for (size_t k = 0; k < na; k++) {
            double gm;
            size_t n = hb_rank_geomean(t, mi, alts[k], &gm);
            char r[24];
            hb_fmt_ratio(r, sizeof r, gm);
            printf("%s%s %s%s%s (%zu cell%s)", k ? ", " : "", alts[k], md ? "**" : "", r, md ? "**" : "", n,
                   n == 1 ? "" : "s");
        }
        putchar('\n');
        free(alts);
    }
    if (t->nnote)
        printf(md ? "\n### Not ranked\n\n" : "\nnot ranked:\n");
    for (size_t i = 0; i < t->nnote; i++)
        printf(md ? "- %s\n" : "  %s\n", t->note[i]);
    if (t->single)
        printf("%s%zu cell%s with a single %s: nothing to rank\n", md ? "\n" : "\n", t->single,
               t->single == 1 ? "" : "s", t->dim);
    if (t->without)
        printf("%s%zu cell%s without the parameter %s: left out\n", md ? "\n" : "", t->without,
               t->without == 1 ? "" : "s", t->dim);
}

void hb_rank_print_brief(const hb_rank_table *t, FILE *f)
{
    for (size_t i = 0; i < t->ng; i++) {
        const hb_rank_group *g = &t->g[i];
        /* the first of the metrics that this group has: a later metric's
         * group of the same name is left out */
        int earlier = 0;
        for (size_t j = 0; j < i && !earlier; j++) /* groups come metric by metric */
            earlier = !strcmp(t->g[j].name, g->name);
        if (earlier || g->n < 2)
            continue;
        fprintf(f, "  %s  %s:", g->name, g->m->name);
        for (size_t k = 0; k < g->n; k++) {
            const hb_rank_entry *e = &g->e[k];
            char ratio[24], ci[40];
            hb_fmt_ratio(ratio, sizeof ratio, e->r.ratio);
            if (e->is_ref)
                snprintf(ci, sizeof ci, "(reference)");
            else
                hb_fmt_ci(ci, sizeof ci, &e->r);
            fprintf(f, "%s %s %s %s%s", k ? "," : "", e->alt, ratio, ci, hb_rank_marked_paired(t, e) ? " paired" : "");
        }
        fputc('\n', f);
    }
    if (t->nnote)
        fprintf(f, "  %zu cell%s not ranked (heapbench compare %s --by %s says why)\n", t->nnote,
                t->nnote == 1 ? "" : "s", t->s->doc.path, t->dim);
}
