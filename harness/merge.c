/* merge.c -- `heapbench merge OUT.csv IN.csv... [--force]`: joins results
 * files, typically the shards of one matrix run on many machines
 * (docs/scaling.md), with their companions and a fresh OUT.json.
 *
 * What it refuses, each with one line and exit 2, before writing anything:
 * an input that is malformed (the reader's file:line), inputs whose headers
 * differ (rows of two schemas would be misread) -- but a file of an older
 * version, every column of which this version still has, is read by column
 * name into this version's schema, its new columns left empty (unmeasured
 * then), inputs measured in different
 * environments unless --force (numbers from different machines, compilers or
 * commits are not comparable, and a merged file would compare them silently),
 * an OUT that is also an input, and an OUT that exists: merge makes a new
 * result set and never replaces one, so a typo cannot destroy results.
 *
 * OUT is never half-written: every output goes to a temporary file beside
 * its target, is flushed to disk, and only then renamed into place, OUT.csv
 * last, so its presence means the whole set is there. */
#include "csvio.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The environment group of the results contract, less `timestamp` (differs
 * by nature) and `pinned` (a property of the run's options, recorded per
 * row). A column added to that group must be added here; one the header
 * lacks is skipped, so older files still merge. */
static const char *const env_cols[] = {"git_commit", "compiler", "cflags", "build_type",
                                       "host",       "cpu_model", "kernel", "topology"};
#define NENV (sizeof env_cols / sizeof env_cols[0])

/* Companions: IN.csv's IN.pauses.csv and IN.rss.csv, keyed by cell and rep. */
static const char *const comp_suffix[] = {".pauses.csv", ".rss.csv"};
#define NCOMP (sizeof comp_suffix / sizeof comp_suffix[0])

typedef struct input {
    const char *path;
    hb_csvdoc doc;
    /* the fields of doc's rows ([0]) and of comp[k]'s ([1 + k]) in this
     * version's columns, when upgrade() moved them there (the docs' own
     * storage stays theirs) */
    char **upgraded[NCOMP + 1];
    char *comp_path[NCOMP];
    hb_csvdoc comp[NCOMP]; /* empty (no path) when the companion is absent */
} input;

typedef struct ref {
    size_t in, row;
} ref;

/* A (run_id, cell, rep) of one input, and whether any of its rows was kept;
 * run_id is "" when the companion has no such column (older files). */
typedef struct cellrep {
    const char *run, *cell, *rep;
    int kept;
} cellrep;

typedef struct mctx {
    input *in;
    size_t nin;
    int c_run, c_cell, c_rep;
    unsigned char **dropped; /* per input, per row */
} mctx;

typedef struct outfile {
    char *target, *tmp;
    FILE *f;
    int published;
} outfile;

static int usage(void)
{
    fprintf(stderr, "usage: heapbench merge OUT.csv IN.csv [IN.csv ...] [--force]\n");
    return 2;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* "dir/x.csv" with suffix ".rss.csv" -> "dir/x.rss.csv"; ".json" -> "dir/x.json" */
static char *sibling(const char *csv, const char *suffix)
{
    size_t stem = strlen(csv) - 4, n = stem + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%.*s%s", (int)stem, csv, suffix);
    return p;
}

static int cmp_ref(const void *a, const void *b, void *arg)
{
    const mctx *m = arg;
    const ref *x = a, *y = b;
    char **fx = m->in[x->in].doc.rows[x->row].field, **fy = m->in[y->in].doc.rows[y->row].field;
    int c = strcmp(fx[m->c_run], fy[m->c_run]);
    if (!c)
        c = strcmp(fx[m->c_cell], fy[m->c_cell]);
    if (!c)
        c = strcmp(fx[m->c_rep], fy[m->c_rep]);
    if (!c)
        c = (x->in > y->in) - (x->in < y->in);
    if (!c)
        c = (x->row > y->row) - (x->row < y->row);
    return c;
}

static int cmp_cellrep(const void *a, const void *b)
{
    const cellrep *x = a, *y = b;
    int c = strcmp(x->run, y->run);
    if (!c)
        c = strcmp(x->cell, y->cell);
    if (!c)
        c = strcmp(x->rep, y->rep);
    if (!c) /* kept first: the first match says whether any was kept */
        c = y->kept - x->kept;
    return c;
}

/* ---- checks */

static int check_out(const char *out, char **paths, size_t n)
{
    struct stat so;
    char why[PATH_MAX * 3];
    for (int k = -1; k < HB_NCOMP; k++) { /* OUT.csv and each of its companions */
        char path[PATH_MAX + 32];
        if (k < 0)
            snprintf(path, sizeof path, "%s", out);
        else if (hb_companion_path(out, hb_comp_suffix[k], path, sizeof path, why, sizeof why)) {
            fprintf(stderr, "heapbench merge: %s\n", why);
            return 2;
        }
        if (hb_out_not_input(path, (const char *const *)paths, n, 0, why, sizeof why)) {
            fprintf(stderr, "heapbench merge: %s\n", why);
            return 2;
        }
    }
    const char *extra[NCOMP + 2] = {out};
    char *owned[NCOMP + 1] = {0};
    for (size_t k = 0; k < NCOMP; k++)
        extra[k + 1] = owned[k] = sibling(out, comp_suffix[k]);
    extra[NCOMP + 1] = owned[NCOMP] = sibling(out, ".json");
    int rc = 0;
    for (size_t k = 0; k < NCOMP + 2 && !rc; k++) {
        if (!extra[k]) {
            fprintf(stderr, "heapbench merge: out of memory\n");
            rc = 2;
        } else if (lstat(extra[k], &so) == 0) {
            if (k == 0)
                fprintf(stderr, "heapbench merge: %s exists; merge never replaces a results file "
                                "(remove it or choose another name)\n", out);
            else
                fprintf(stderr, "heapbench merge: %s exists (it would be %s's companion); merge "
                                "never replaces results (remove it or choose another name)\n",
                        extra[k], out);
            rc = 2;
        }
    }
    if (!rc) {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", out);
        const char *dir = dirname(copy);
        struct stat sd;
        if (stat(dir, &sd) != 0 || !S_ISDIR(sd.st_mode)) {
            fprintf(stderr, "heapbench merge: cannot write %s: directory %s does not exist\n", out, dir);
            rc = 2;
        } else if (access(dir, W_OK) != 0) {
            fprintf(stderr, "heapbench merge: cannot write %s: directory %s: %s\n", out, dir,
                    strerror(errno));
            rc = 2;
        }
    }
    for (size_t k = 0; k < NCOMP + 1; k++)
        free(owned[k]);
    return rc;
}

/* An older version's results file: a header that is not this version's but
 * whose every column this version has (older versions only ever added
 * columns). Its rows are rebuilt in this version's columns, those it lacks
 * empty (left empty: unmeasured, as the contract says), and its header made
 * this version's. Returns 0 when in is this version's, upgraded or not an
 * older version's (same_header then says how it differs); ENOMEM. The
 * file is of `kind` (hb_results_columns); the new fields go to *store. */
static int upgrade(hb_csvdoc *d, int kind, char ***store)
{
    size_t n;
    const char *const *cols = hb_results_columns(kind, &n);
    int same = d->ncols == n;
    for (size_t c = 0; same && c < n; c++)
        same = !strcmp(d->header[c], cols[c]);
    if (same || d->ncols > n)
        return 0;
    int *from = malloc(n * sizeof *from);
    if (!from)
        return ENOMEM;
    size_t found = 0;
    for (size_t c = 0; c < n; c++)
        found += (from[c] = hb_csvdoc_col(d, cols[c])) >= 0;
    if (found != d->ncols) { /* a column this version does not have: not ours */
        free(from);
        return 0;
    }
    static char empty[] = "";
    char **up = *store = malloc((d->nrows * n + n + 1) * sizeof *up);
    if (!up) {
        free(from);
        return ENOMEM;
    }
    char **hdr = up + d->nrows * n;
    for (size_t r = 0; r < d->nrows; r++) {
        char **f = up + r * n;
        for (size_t c = 0; c < n; c++)
            f[c] = from[c] >= 0 ? d->rows[r].field[from[c]] : empty;
        d->rows[r].field = f;
    }
    for (size_t c = 0; c < n; c++)
        hdr[c] = (char *)cols[c];
    d->header = hdr;
    d->ncols = n;
    free(from);
    return 0;
}

/* Same columns, same order: the only way rows of two files mean the same. */
static int same_header(const hb_csvdoc *a, const hb_csvdoc *b, const char *what)
{
    if (a->ncols != b->ncols) {
        fprintf(stderr, "heapbench merge: %s: header differs from %s's (%zu columns, not %zu)%s\n",
                b->path, a->path, b->ncols, a->ncols, what);
        return 2;
    }
    for (size_t c = 0; c < a->ncols; c++)
        if (strcmp(a->header[c], b->header[c]) != 0) {
            fprintf(stderr, "heapbench merge: %s: header differs from %s's (column %zu is '%s', not "
                            "'%s')%s\n", b->path, a->path, c + 1, b->header[c], a->header[c], what);
            return 2;
        }
    return 0;
}

static int need_cols(const hb_csvdoc *d, const char *const *cols, size_t n, const char *kind)
{
    for (size_t k = 0; k < n; k++)
        if (hb_csvdoc_col(d, cols[k]) < 0) {
            fprintf(stderr, "heapbench merge: %s:1: not a %s (no column '%s')\n", d->path, kind, cols[k]);
            return 2;
        }
    return 0;
}

/* Every row's environment against the first row's. Refused unless --force;
 * with it, each input that differs gets one warning. Both name every column
 * that differs in brackets first ("differs from A in [host kernel]"), so a
 * script can accept exactly the differences it means to (docs/scaling.md). */
static int check_env(const mctx *m, int force)
{
    const hb_csvdoc *d0 = &m->in[0].doc;
    const hb_csvrow *base = NULL;
    for (size_t i = 0; i < m->nin && !base; i++)
        if (m->in[i].doc.nrows)
            base = &m->in[i].doc.rows[0];
    if (!base)
        return 0;
    for (size_t i = 0; i < m->nin; i++) {
        const hb_csvdoc *d = &m->in[i].doc;
        const hb_csvrow *diff[NENV] = {0};
        int any = 0;
        for (size_t k = 0; k < NENV; k++) {
            int c = hb_csvdoc_col(d0, env_cols[k]);
            for (size_t r = 0; c >= 0 && r < d->nrows && !diff[k]; r++)
                if (strcmp(d->rows[r].field[c], base->field[c]) != 0)
                    diff[k] = &d->rows[r], any = 1;
        }
        if (!any)
            continue;
        char names[256] = "", what[4096] = "";
        size_t a = 0, b = 0;
        for (size_t k = 0; k < NENV; k++) {
            if (!diff[k] || a >= sizeof names || b >= sizeof what)
                continue;
            int c = hb_csvdoc_col(d0, env_cols[k]);
            a += (size_t)snprintf(names + a, sizeof names - a, "%s%s", a ? " " : "", env_cols[k]);
            b += (size_t)snprintf(what + b, sizeof what - b, "%s%s '%s' (%s:%zu) not '%s' (%s:%zu)",
                                  b ? "; " : "", env_cols[k], diff[k]->field[c], d->path,
                                  diff[k]->line, base->field[c], base->path, base->line);
        }
        hb_msg_one_line(what, sizeof what); /* it quotes fields, which may hold line breaks */
        if (!force) {
            fprintf(stderr, "heapbench merge: %s differs from %s in [%s]: %s; results from different "
                            "environments are not comparable (--force merges them anyway)\n",
                    d->path, base->path, names, what);
            return 2;
        }
        fprintf(stderr, "heapbench merge: warning: --force: %s differs from %s in [%s]: %s\n", d->path,
                base->path, names, what);
    }
    return 0;
}

/* Marks every row whose (run_id, cell, rep) an earlier row already has. */
static int find_duplicates(mctx *m, size_t *ndup)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nin; i++)
        n += m->in[i].doc.nrows;
    ref *r = malloc((n ? n : 1) * sizeof *r);
    m->dropped = calloc(m->nin, sizeof *m->dropped);
    if (!r || !m->dropped) {
        free(r);
        return ENOMEM;
    }
    size_t at = 0;
    for (size_t i = 0; i < m->nin; i++) {
        m->dropped[i] = calloc(m->in[i].doc.nrows ? m->in[i].doc.nrows : 1, 1);
        if (!m->dropped[i]) {
            free(r);
            return ENOMEM;
        }
        for (size_t k = 0; k < m->in[i].doc.nrows; k++)
            r[at++] = (ref){i, k};
    }
    qsort_r(r, n, sizeof *r, cmp_ref, m);
    *ndup = 0;
    for (size_t k = 1; k < n; k++) {
        char **a = m->in[r[k - 1].in].doc.rows[r[k - 1].row].field;
        char **b = m->in[r[k].in].doc.rows[r[k].row].field;
        if (strcmp(a[m->c_run], b[m->c_run]) == 0 && strcmp(a[m->c_cell], b[m->c_cell]) == 0 &&
            strcmp(a[m->c_rep], b[m->c_rep]) == 0) {
            m->dropped[r[k].in][r[k].row] = 1; /* the earliest in input order stays */
            (*ndup)++;
        }
    }
    free(r);
    return 0;
}

/* ---- companions */

static int read_companions(mctx *m)
{
    static const char *const keys[] = {"cell", "rep"};
    const hb_csvdoc *first[NCOMP] = {0};
    char why[1024];
    for (size_t i = 0; i < m->nin; i++)
        for (size_t k = 0; k < NCOMP; k++) {
            input *in = &m->in[i];
            if (!(in->comp_path[k] = sibling(in->path, comp_suffix[k]))) {
                fprintf(stderr, "heapbench merge: out of memory\n");
                return 2;
            }
            struct stat st;
            if (stat(in->comp_path[k], &st) != 0)
                continue; /* a run without pauses or samples has none */
            if (hb_csvdoc_read(in->comp_path[k], &in->comp[k], why, sizeof why)) {
                fprintf(stderr, "heapbench merge: %s\n", why);
                return 2;
            }
            if (need_cols(&in->comp[k], keys, 2, "companion results file"))
                return 2;
            if (upgrade(&in->comp[k], (int)k + 1, &in->upgraded[1 + k])) {
                fprintf(stderr, "heapbench merge: out of memory\n");
                return 2;
            }
            if (!first[k])
                first[k] = &in->comp[k];
            else if (same_header(first[k], &in->comp[k], ""))
                return 2;
        }
    return 0;
}

static void put_row(FILE *f, char **field, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        const char *v = field[c];
        if (c)
            fputc(',', f);
        if (!strpbrk(v, ",\"\n\r")) {
            fputs(v, f);
            continue;
        }
        fputc('"', f);
        for (; *v; v++) {
            if (*v == '"')
                fputc('"', f);
            fputc(*v, f);
        }
        fputc('"', f);
    }
    fputc('\n', f);
}

/* Writes input i's rows of companion k, less those whose rows in i were all
 * dropped as duplicates: matched on (run_id, cell, rep), or on (cell, rep)
 * within input i for companions written without a run_id column. */
static int write_companion(const mctx *m, size_t i, size_t k, FILE *f)
{
    const hb_csvdoc *d = &m->in[i].doc, *c = &m->in[i].comp[k];
    cellrep *cr = malloc((d->nrows ? d->nrows : 1) * sizeof *cr);
    if (!cr)
        return ENOMEM;
    int cc = hb_csvdoc_col(c, "cell"), crep = hb_csvdoc_col(c, "rep"), crun = hb_csvdoc_col(c, "run_id");
    for (size_t r = 0; r < d->nrows; r++)
        cr[r] = (cellrep){crun >= 0 ? d->rows[r].field[m->c_run] : "", d->rows[r].field[m->c_cell],
                          d->rows[r].field[m->c_rep], !m->dropped[i][r]};
    qsort(cr, d->nrows, sizeof *cr, cmp_cellrep);
    for (size_t r = 0; r < c->nrows; r++) {
        cellrep key = {crun >= 0 ? c->rows[r].field[crun] : "", c->rows[r].field[cc],
                       c->rows[r].field[crep], 1};
        const cellrep *hit = bsearch(&key, cr, d->nrows, sizeof *cr, cmp_cellrep);
        if (!hit) { /* no kept row: is there a dropped one? */
            key.kept = 0;
            hit = bsearch(&key, cr, d->nrows, sizeof *cr, cmp_cellrep);
            if (hit)
                continue;
        }
        put_row(f, c->rows[r].field, c->ncols);
    }
    free(cr);
    return 0;
}

/* ---- output */

static int out_open(outfile *o, const char *target)
{
    o->target = strdup(target);
    if (!o->target)
        return ENOMEM;
    int fd = hb_tmp_create(target, &o->tmp);
    if (fd < 0)
        return errno;
    if (!(o->f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        return e;
    }
    return 0;
}

static int out_finish(outfile *o)
{
    int err = 0;
    if (fflush(o->f) != 0 || ferror(o->f))
        err = errno ? errno : EIO;
    if (!err && fsync(fileno(o->f)) != 0)
        err = errno;
    if (fclose(o->f) != 0 && !err)
        err = errno;
    o->f = NULL;
    return err;
}

/* link(2) fails when the target exists, so a file that appeared since the
 * check is not replaced; rename where the filesystem has no hard links. */
static int out_publish(outfile *o)
{
    if (link(o->tmp, o->target) == 0) {
        unlink(o->tmp);
    } else if (errno == EEXIST) {
        return EEXIST;
    } else if (rename(o->tmp, o->target) != 0) {
        return errno;
    }
    hb_tmp_forget(o->tmp);
    o->published = 1;
    return 0;
}

/* Closes o; unless `keep`, removes what it wrote, published or not. */
static void out_discard(outfile *o, int keep)
{
    if (o->f)
        fclose(o->f);
    if (!keep && o->tmp && !o->published)
        unlink(o->tmp);
    if (o->tmp)
        hb_tmp_forget(o->tmp);
    if (!keep && o->published)
        unlink(o->target); /* it did not exist before: merge checked */
    free(o->tmp);
    free(o->target);
    memset(o, 0, sizeof *o);
}

static int write_all(mctx *m, const char *out, size_t *nrows)
{
    /* outs: [0] OUT.csv, [1..NCOMP] companions, [NCOMP + 1] OUT.json */
    outfile o[NCOMP + 2];
    memset(o, 0, sizeof o);
    char why[1024] = "";
    const char *failed = out;
    int err = 0;
    hb_csvrow *rows = NULL;
    size_t n = 0, total = 0;
    for (size_t i = 0; i < m->nin; i++)
        total += m->in[i].doc.nrows;
    if (!(rows = malloc((total ? total : 1) * sizeof *rows))) {
        err = ENOMEM;
        goto out;
    }
    if ((err = out_open(&o[0], out)))
        goto out;
    put_row(o[0].f, m->in[0].doc.header, m->in[0].doc.ncols);
    for (size_t i = 0; i < m->nin; i++)
        for (size_t r = 0; r < m->in[i].doc.nrows; r++)
            if (!m->dropped[i][r]) {
                rows[n] = m->in[i].doc.rows[r];
                put_row(o[0].f, rows[n].field, m->in[0].doc.ncols);
                n++;
            }
    for (size_t k = 0; k < NCOMP; k++) {
        const hb_csvdoc *head = NULL;
        for (size_t i = 0; i < m->nin && !head; i++)
            if (m->in[i].comp[k].path)
                head = &m->in[i].comp[k];
        if (!head)
            continue;
        char *target = sibling(out, comp_suffix[k]);
        failed = target ? target : out;
        err = target ? out_open(&o[1 + k], target) : ENOMEM;
        free(target);
        if (err)
            goto out;
        put_row(o[1 + k].f, head->header, head->ncols);
        for (size_t i = 0; i < m->nin && !err; i++)
            if (m->in[i].comp[k].path)
                err = write_companion(m, i, k, o[1 + k].f);
        if (err)
            goto out;
    }
    /* The JSON is made from the merged rows themselves, each still carrying
     * its own file and line for any complaint. */
    hb_csvdoc merged = m->in[0].doc;
    merged.rows = rows;
    merged.nrows = n;
    char *json = sibling(out, ".json");
    failed = out;
    err = json ? out_open(&o[NCOMP + 1], json) : ENOMEM;
    free(json);
    if (err)
        goto out;
    if ((err = hb_json_write(&merged, o[NCOMP + 1].f, why, sizeof why)))
        goto out;
    for (size_t k = 0; k < NCOMP + 2 && !err; k++)
        if (o[k].f && (err = out_finish(&o[k])))
            failed = o[k].target;
    /* publish the companions and the JSON first, OUT.csv last */
    for (size_t k = NCOMP + 2; k-- > 0 && !err;)
        if (o[k].tmp && (err = out_publish(&o[k])))
            failed = o[k].target;
    if (!err) {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", out);
        int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) { /* the renames themselves, on disk */
            fsync(dfd);
            close(dfd);
        }
    }
out:
    if (err) {
        if (why[0])
            fprintf(stderr, "heapbench merge: %s\n", why);
        else
            fprintf(stderr, "heapbench merge: cannot write %s: %s\n", failed, strerror(err));
    }
    for (size_t k = 0; k < NCOMP + 2; k++)
        out_discard(&o[k], !err);
    free(rows);
    *nrows = n;
    return err ? 2 : 0;
}

int hb_merge_main(int argc, char **argv)
{
    static const char *const keys[] = {"run_id", "cell", "rep"};
    int force = 0;
    char **paths = calloc((size_t)argc + 1, sizeof *paths);
    size_t np = 0;
    if (!paths)
        return 2;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0)
            force = 1;
        else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "heapbench merge: unknown option '%s'; valid: --force\n", argv[i]);
            free(paths);
            return 2;
        } else
            paths[np++] = argv[i];
    }
    if (np < 2) {
        free(paths);
        return usage();
    }
    for (size_t i = 0; i < np; i++)
        if (!ends_with(paths[i], ".csv") || strlen(paths[i]) == 4) {
            fprintf(stderr, "heapbench merge: '%s' does not end in .csv (the companions' names are "
                            "made from it)\n", paths[i]);
            free(paths);
            return 2;
        }
    const char *out = paths[0];
    mctx m = {.nin = np - 1};
    int rc = check_out(out, paths + 1, np - 1);
    if (!rc && !(m.in = calloc(m.nin, sizeof *m.in)))
        rc = 2;
    char why[1024];
    for (size_t i = 0; !rc && i < m.nin; i++) {
        m.in[i].path = paths[1 + i];
        if (hb_csvdoc_read(m.in[i].path, &m.in[i].doc, why, sizeof why)) {
            fprintf(stderr, "heapbench merge: %s\n", why);
            rc = 2;
        } else if (need_cols(&m.in[i].doc, keys, 3, "results file")) {
            rc = 2;
        } else if (upgrade(&m.in[i].doc, 0, &m.in[i].upgraded[0])) {
            fprintf(stderr, "heapbench merge: out of memory\n");
            rc = 2;
        } else if (i > 0) {
            rc = same_header(&m.in[0].doc, &m.in[i].doc, ": not the same results schema");
        }
    }
    if (!rc) {
        m.c_run = hb_csvdoc_col(&m.in[0].doc, "run_id");
        m.c_cell = hb_csvdoc_col(&m.in[0].doc, "cell");
        m.c_rep = hb_csvdoc_col(&m.in[0].doc, "rep");
        rc = check_env(&m, force);
    }
    if (!rc)
        rc = read_companions(&m);
    size_t ndup = 0, nrows = 0;
    if (!rc && find_duplicates(&m, &ndup)) {
        fprintf(stderr, "heapbench merge: out of memory\n");
        rc = 2;
    }
    if (!rc)
        rc = write_all(&m, out, &nrows);
    if (!rc) {
        if (ndup)
            fprintf(stderr, "heapbench merge: dropped %zu duplicate row%s (same run_id, cell and rep as "
                            "an earlier row)\n", ndup, ndup == 1 ? "" : "s");
        printf("%zu rows from %zu file%s merged into %s\n", nrows, m.nin, m.nin == 1 ? "" : "s", out);
    }
    for (size_t i = 0; m.in && i < m.nin; i++) {
        hb_csvdoc_free(&m.in[i].doc);
        for (size_t k = 0; k < NCOMP + 1; k++)
            free(m.in[i].upgraded[k]);
        for (size_t k = 0; k < NCOMP; k++) {
            hb_csvdoc_free(&m.in[i].comp[k]);
            free(m.in[i].comp_path[k]);
        }
        if (m.dropped)
            free(m.dropped[i]);
    }
    free(m.dropped);
    free(m.in);
    free(paths);
    return rc;
}
