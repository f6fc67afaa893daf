/* regress_duet.c -- the timed gate's measurement with two build
 * directories: duet pairs (Bulej et al., "Duet benchmarking: improving
 * measurement accuracy in the cloud", ICPE 2020).
 *
 * Round 1 runs every cell once with each build, in turn, as the interleaved
 * gate does: it learns the cells (one row each, in matrix order), warms the
 * page cache, and gives the status and count gates their first rows. Then
 * every cell that ran ok on both sides is run in many short pairs, one
 * `DIR/heapbench run --shard I/N --reps 1` a side (shard I of N is the I-th
 * cell of the matrix, so both builds run the same cell):
 *
 *  - duet, when the machine has cores for both sides and one to spare
 *    (2 x the cell's threads + 1): both builds start at the same moment,
 *    each bound with hwloc to its own cores, so that a neighbour's burst,
 *    the host's frequency or
 *    a noisy hour hits both alike; which side gets which cores, and which
 *    starts first, is drawn at random for every pair;
 *  - otherwise (every cell on 2 cores) the fallback: randomized
 *    multiple interleaved trials (Abedi & Brecht, "Conducting repeatable
 *    experiments in highly variable cloud computing environments", ICPE
 *    2017): the two builds run one right after the other, in an order drawn
 *    at random for every pair, and the adjacent pair is the unit.
 *
 * Every round visits the cells in a fresh random order, so the pairs of a
 * cell are spread over the whole job. The statistic is the paired one
 * (regress.c, cellset.c): the ratio candidate / baseline of each pair,
 * whose median the host's drift moves far less than it moves either side. */
#include "regress.h"

#include <errno.h>
#include <hwloc.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "outfile.h"

#define bad hb_rg_bad

/* How many pairs without --pairs: as many rounds as fit in the budget
 * (--budget, seconds), at most MAX_PAIRS. A budget, not a count, because
 * the cost of a pair is the machine's load: measured on a shared 2-core VM
 * with 24 cells of about 12 ms (churn and larson at ops=250000), 100
 * rounds took 3 minutes at load 2.5-5 and 10 at load 9-16. Stopping on the
 * clock is blind to the values measured, so the tests stay what they are
 * at a fixed count (docs/regress.md). 540 s of pairs, with round 1 and
 * the judgement, keep a 24-cell job under 10 minutes. */
#define DEFAULT_BUDGET_S 540.0
#define MAX_PAIRS 1000
/* The fewest rounds, whatever the budget: the fewest --pairs accepts. */
#define MIN_PAIRS 6

int hb_rg_default_pairs(void)
{
    return MAX_PAIRS;
}

double hb_rg_default_budget(void)
{
    return DEFAULT_BUDGET_S;
}

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

const hb_rg_pairs *hb_rg_pairs_find(const ropts *o, const char *name)
{
    for (size_t i = 0; i < o->npairs_of; i++)
        if (!strcmp(o->pairs_of[i].name, name))
            return &o->pairs_of[i];
    return NULL;
}

void hb_rg_pairs_free(ropts *o)
{
    for (size_t i = 0; i < o->npairs_of; i++) {
        free(o->pairs_of[i].name);
        for (int k = 0; k < 2; k++)
            for (size_t m = 0; m < MAX_METRICS; m++)
                free(o->pairs_of[i].v[k][m]);
    }
    free(o->pairs_of);
    o->pairs_of = NULL;
    o->npairs_of = 0;
}

static int pairs_push(ropts *o, hb_rg_pairs *p, const double *va, const double *vb);

int hb_rg_pairs_from_files(ropts *o)
{
    const hb_cellset *A = &o->s[0].set, *B = &o->s[1].set;
    int ra = hb_csvdoc_col(&A->doc, "run_id"), rb = hb_csvdoc_col(&B->doc, "run_id");
    int ta = hb_csvdoc_col(&A->doc, "threads");
    char why[1024];
    if (ra < 0 || rb < 0)
        return 0;
    for (size_t i = 0; i < A->ncells; i++) {
        const hb_cellset_cell *ca = &A->cells[i], *cb = hb_cellset_find(B, ca->name);
        if (!cb)
            continue;
        hb_rg_pairs *p = NULL;
        for (size_t j = 0; j < ca->nrows; j++) {
            const hb_csvrow *x = &A->doc.rows[ca->rows[j]];
            const char *id = x->field[ra];
            int duet = !strncmp(id, "duet-pair-", 10);
            if (!duet && strncmp(id, "rmit-pair-", 10))
                continue;
            const hb_csvrow *y = NULL;
            for (size_t k = 0; k < cb->nrows && !y; k++)
                if (!strcmp(B->doc.rows[cb->rows[k]].field[rb], id))
                    y = &B->doc.rows[cb->rows[k]];
            if (!p) { /* the cell's first pair: it is a paired cell */
                hb_rg_pairs *g = realloc(o->pairs_of, (o->npairs_of + 1) * sizeof *g);
                if (!g)
                    return bad("out of memory");
                o->pairs_of = g;
                p = &o->pairs_of[o->npairs_of++];
                *p = (hb_rg_pairs){.name = strdup(ca->name), .duet = duet,
                                   .threads = ta >= 0 ? atoi(x->field[ta]) : 1};
                if (!p->name)
                    return bad("out of memory");
                o->duet_cells += duet;
                o->rmit_cells += !duet;
            }
            if (!y || strcmp(x->field[A->c_status], "ok") || strcmp(y->field[B->c_status], "ok"))
                continue;
            double va[MAX_METRICS], vb[MAX_METRICS];
            for (size_t m = 0; m < o->nmetric; m++) {
                if (hb_cellset_figure(&A->doc, x, o->metric[m]->name, &va[m], why, sizeof why))
                    va[m] = NAN;
                if (hb_cellset_figure(&B->doc, y, o->metric[m]->name, &vb[m], why, sizeof why))
                    vb[m] = NAN;
            }
            if (pairs_push(o, p, va, vb))
                return 2;
            if ((int)p->n > o->pairs)
                o->pairs = (int)p->n;
        }
    }
    return 0;
}

static int pairs_push(ropts *o, hb_rg_pairs *p, const double *va, const double *vb)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        for (int k = 0; k < 2; k++)
            for (size_t m = 0; m < o->nmetric; m++) {
                double *g = realloc(p->v[k][m], cap * sizeof *g);
                if (!g)
                    return bad("out of memory");
                p->v[k][m] = g;
            }
        p->cap = cap;
    }
    for (size_t m = 0; m < o->nmetric; m++) {
        p->v[0][m][p->n] = va[m];
        p->v[1][m][p->n] = vb[m];
    }
    p->n++;
    return 0;
}

/* Removes a pair run's results file and its companions: `run` appends. */
static void pair_clean(const char *csv)
{
    char path[PATH_MAX + 64], why[256];
    unlink(csv);
    for (int k = 0; k < HB_NCOMP; k++)
        if (!hb_companion_path(csv, hb_comp_suffix[k], path, sizeof path, why, sizeof why))
            unlink(path);
}

/* Appends the data lines of `from` (its header left out) to `to`, each
 * one's run_id (the first column) replaced by `tag`: "duet-pair-R" or
 * "rmit-pair-R", which is how a results file says which rows of the two
 * sides were measured as a pair (hb_rg_pairs_from_files). */
static int append_rows(const char *from, const char *to, const char *tag)
{
    FILE *in = fopen(from, "r"), *out = in ? fopen(to, "a") : NULL;
    if (!in || !out) {
        int e = errno;
        if (in)
            fclose(in);
        return bad("cannot append %s to %s: %s", from, to, strerror(e));
    }
    char line[65536];
    int first = 1;
    while (fgets(line, sizeof line, in)) {
        if (first) { /* the header */
            first = 0;
            continue;
        }
        const char *rest = strchr(line, ',');
        if (rest)
            fprintf(out, "%s%s", tag, rest);
    }
    fclose(in);
    return fclose(out) ? bad("cannot write %s: %s", to, strerror(errno)) : 0;
}

/* The one row of a pair run: its metrics (NaN when empty) and whether it is
 * ok; 0, or 2 when the file is not one row of the cell. */
static int pair_row(const ropts *o, const char *csv, const char *want, int cand, double *v, int *ok)
{
    hb_csvdoc d;
    char why[1024], name[1024];
    if (hb_csvdoc_read(csv, &d, why, sizeof why))
        return bad("%s", why);
    int cc = hb_csvdoc_col(&d, "cell"), cs = hb_csvdoc_col(&d, "status");
    if (d.nrows != 1 || cc < 0 || cs < 0) {
        hb_csvdoc_free(&d);
        return bad("%s: %zu rows where one cell's row was expected", csv, d.nrows);
    }
    const hb_csvrow *r = &d.rows[0];
    hb_rg_calib_name(o, cand, r->field[cc], name, sizeof name);
    if (strcmp(name, want) != 0) {
        hb_csvdoc_free(&d);
        return bad("%s: cell %s where %s was expected (the matrix changed under the run?)", csv, name, want);
    }
    *ok = !strcmp(r->field[cs], "ok");
    for (size_t m = 0; m < o->nmetric; m++)
        if (hb_cellset_figure(&d, r, o->metric[m]->name, &v[m], why, sizeof why) != 0)
            v[m] = NAN; /* not measured, or refused: the pair is left out of this metric */
    hb_csvdoc_free(&d);
    return 0;
}

typedef struct duet_ctx {
    hwloc_topology_t topo;
    int cores;
    char log[PATH_MAX + 16];
    char pair_csv[2][PATH_MAX + 64];
    size_t ncells_all;
    uint64_t rng;
} duet_ctx;

/* The cores [first, first + n) as one set; NULL when out of memory. */
static hwloc_bitmap_t core_set(duet_ctx *x, int first, int n)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    for (int i = first; set && i < first + n; i++) {
        hwloc_obj_t c = hwloc_get_obj_by_type(x->topo, HWLOC_OBJ_CORE, (unsigned)i);
        if (c)
            hwloc_bitmap_or(set, set, c->cpuset);
    }
    return set;
}

/* One pair of cell `idx` (0-based, matrix order). */
static int run_pair(ropts *o, duet_ctx *x, hb_rg_pairs *p, size_t idx, int round)
{
    /* Shard I/M of the matrix is its cell I-1 when M is at least the number
     * of cells. The run options' own --shard K/N made round 1 the cells
     * K-1, K-1+N, ...: the idx-th of them is cell K-1+idx*N, and
     * M = N x (cells of the slice + 1) exceeds every index of the matrix. */
    char shard[48];
    size_t n = o->shard_n ? (size_t)o->shard_n : 1, k = o->shard_n ? (size_t)o->shard_k - 1 : 0;
    snprintf(shard, sizeof shard, "%zu/%zu", k + idx * n + 1, n * (x->ncells_all + 1));
    const char *argv[2][MAX_PASS + 32];
    for (int k = 0; k < 2; k++) {
        pair_clean(x->pair_csv[k]);
        const char *extra[] = {"--shard", shard, "--reps", "1", "--warmup", "0", "--out", x->pair_csv[k], NULL};
        hb_rg_run_argv(o, &o->s[k], HB_RG_DROP_SHARD | (p->duet ? HB_RG_DROP_PIN : 0), extra, argv[k]);
    }
    int first = (int)(rng_next(&x->rng) & 1), rc[2] = {0, 0};
    if (p->duet) {
        int swap = (int)(rng_next(&x->rng) & 1);
        hwloc_bitmap_t set[2] = {core_set(x, 0, p->threads), core_set(x, p->threads, p->threads)};
        int pid[2] = {-1, -1};
        if (set[0] && set[1]) {
            pid[first] = hb_rg_spawn_start((char *const *)argv[first], x->log, x->topo, set[first ^ swap]);
            pid[!first] = hb_rg_spawn_start((char *const *)argv[!first], x->log, x->topo, set[!first ^ swap]);
        }
        rc[0] = hb_rg_wait(pid[0]);
        rc[1] = hb_rg_wait(pid[1]);
        hwloc_bitmap_free(set[0]);
        hwloc_bitmap_free(set[1]);
    } else {
        rc[first] = hb_rg_spawn((char *const *)argv[first], x->log);
        rc[!first] = hb_rg_spawn((char *const *)argv[!first], x->log);
    }
    double va[MAX_METRICS], vb[MAX_METRICS];
    int ok[2];
    for (int k = 0; k < 2; k++) {
        if (rc[k] != 0 && rc[k] != 1) {
            char line[1024];
            hb_rg_last_line(x->log, line, sizeof line);
            return bad("the %s build's run of cell %s (%s) exited %d%s%s (log: %s)", o->s[k].name, p->name,
                       o->s[k].exe, rc[k], line[0] ? ": " : "", line, x->log);
        }
        char tag[32];
        snprintf(tag, sizeof tag, "%s-pair-%d", p->duet ? "duet" : "rmit", round);
        if (pair_row(o, x->pair_csv[k], p->name, k, k ? vb : va, &ok[k]) ||
            append_rows(x->pair_csv[k], o->s[k].csv, tag))
            return 2;
    }
    return ok[0] && ok[1] ? pairs_push(o, p, va, vb) : 0;
}

int hb_rg_duet(ropts *o)
{
    duet_ctx x = {.rng = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid()};
    snprintf(x.log, sizeof x.log, "%s/run.log", o->work);
    for (int k = 0; k < 2; k++)
        snprintf(x.pair_csv[k], sizeof x.pair_csv[k], "%.*s/pair-%s.csv", PATH_MAX - 64, o->work, o->s[k].name);
    /* --pairs alone: exactly that many; else rounds until the budget */
    int most = o->pairs ? o->pairs : MAX_PAIRS;
    double budget = o->budget_given ? o->budget_s : o->pairs ? 0 : DEFAULT_BUDGET_S;
    for (int k = 0; k < 2; k++) {
        if (budget > 0)
            fprintf(stderr, "heapbench regress: round 1: %s (every cell once; then pairs for %.0f s, at most %d "
                            "a cell)\n", o->s[k].name, budget, most);
        else
            fprintf(stderr, "heapbench regress: round 1: %s (every cell once; then %d pairs a cell)\n",
                    o->s[k].name, most);
        if (hb_rg_run_round(o, &o->s[k], 0, o->s[k].csv, x.log))
            return 2;
    }
    /* the cells, from round 1's rows: one a cell, in matrix order */
    hb_csvdoc d[2];
    char why[1024];
    if (hb_csvdoc_read(o->s[0].csv, &d[0], why, sizeof why))
        return bad("%s", why);
    if (hb_csvdoc_read(o->s[1].csv, &d[1], why, sizeof why)) {
        hb_csvdoc_free(&d[0]);
        return bad("%s", why);
    }
    int rc = 0;
    if (hwloc_topology_init(&x.topo) || hwloc_topology_load(x.topo)) {
        rc = bad("cannot read the machine's topology with hwloc");
        goto out;
    }
    x.cores = hwloc_get_nbobjs_by_type(x.topo, HWLOC_OBJ_CORE);
    o->cores = x.cores;
    x.ncells_all = d[0].nrows;
    o->pairs_of = calloc(d[0].nrows + 1, sizeof *o->pairs_of);
    size_t *order = calloc(d[0].nrows + 1, sizeof *order);
    if (!o->pairs_of || !order) {
        free(order);
        rc = bad("out of memory");
        goto out;
    }
    int cc[2], cs[2], ct = hb_csvdoc_col(&d[0], "threads");
    for (int k = 0; k < 2; k++) {
        cc[k] = hb_csvdoc_col(&d[k], "cell");
        cs[k] = hb_csvdoc_col(&d[k], "status");
    }
    for (size_t i = 0; i < d[0].nrows && ct >= 0; i++) {
        const char *na = d[0].rows[i].field[cc[0]];
        char nb[1024];
        if (i >= d[1].nrows) {
            fprintf(stderr, "heapbench regress: %s: no cell at its place in the candidate's matrix: not paired\n",
                    na);
            continue;
        }
        hb_rg_calib_name(o, 1, d[1].rows[i].field[cc[1]], nb, sizeof nb);
        if (strcmp(na, nb) != 0) {
            fprintf(stderr, "heapbench regress: %s: the candidate's matrix has %s at its place: not paired\n",
                    na, nb);
            continue;
        }
        if (strcmp(d[0].rows[i].field[cs[0]], "ok") || strcmp(d[1].rows[i].field[cs[1]], "ok"))
            continue; /* failed or skipped in round 1: the status gate reads it */
        hb_rg_pairs *p = &o->pairs_of[o->npairs_of];
        p->name = strdup(na);
        p->threads = atoi(d[0].rows[i].field[ct]);
        if (!p->name) {
            rc = bad("out of memory");
            break;
        }
        if (p->threads < 1)
            p->threads = 1;
        /* Duet needs a core to spare beyond the two sides': with every core
         * taken by a side, each neighbour (and the harness itself) preempts
         * one side and not the other, which no pairing undoes. Measured on a
         * shared 2-core VM, 8 single-threaded cells, A/A, 40 pairs: the MAD of
         * a pair's log CPU-time ratio was 0.14-0.32 in duet on both cores
         * against 0.11-0.23 as interleaved pairs (docs/regress.md). */
        p->duet = o->gate == HB_GATE_DUET && 2 * p->threads + 1 <= x.cores; /* --gate rmit: never */
        o->duet_cells += p->duet;
        o->rmit_cells += !p->duet;
        order[o->npairs_of++] = i;
    }
    if (!rc && o->rmit_cells && o->gate == HB_GATE_DUET)
        fprintf(stderr, "heapbench regress: %zu of %zu cells cannot have their own cores a side with one to "
                        "spare (%d cores; duet needs 2 x threads + 1): randomized interleaved pairs for them "
                        "(Abedi & Brecht), duet for the others\n",
                o->rmit_cells, o->npairs_of, x.cores);
    size_t m = o->npairs_of;
    size_t *perm = calloc(m + 1, sizeof *perm);
    if (!perm && !rc)
        rc = bad("out of memory");
    /* Every round runs every cell. Giving the noisier cells more of the
     * budget (rounds of only the cells whose n / scale^2 is below the
     * median's, the scale read from the magnitudes of the log ratios, so
     * that the signed-rank test stays exact) was tried in simulation on
     * 24 A/A cells measured here, resampled with a 3.6-4.9% shift: it
     * flagged slightly fewer cells than equal pairs (the cells' spreads
     * differ by less than 2x), so it is not done. */
    double t0 = hb_now(), last = 0; /* the pairs' start, the last round's length */
    int r = 0;
    for (; !rc && r < most; r++) {
        double now = hb_now();
        if (budget > 0 && r >= MIN_PAIRS && now - t0 + last > budget)
            break; /* the next round would end past the budget */
        if (r == 0 || (r + 1) % 10 == 0)
            fprintf(stderr, "heapbench regress: pairs: round %d (%.0f s so far; %zu duet, %zu interleaved)\n",
                    r + 1, now - t0, o->duet_cells, o->rmit_cells);
        for (size_t i = 0; i < m; i++)
            perm[i] = i;
        for (size_t i = m; i > 1; i--) { /* Fisher-Yates: a fresh order each round */
            size_t j = (size_t)(rng_next(&x.rng) % i), t = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = t;
        }
        for (size_t i = 0; !rc && i < m; i++)
            rc = run_pair(o, &x, &o->pairs_of[perm[i]], order[perm[i]], r + 1);
        last = hb_now() - now;
    }
    o->pairs = r; /* the rounds run */
    o->pairs_s = hb_now() - t0;
    if (!rc)
        fprintf(stderr, "heapbench regress: pairs: %d rounds in %.0f s%s\n", r, o->pairs_s,
                r < most ? " (the budget's end)" : "");
    for (int k = 0; k < 2; k++)
        pair_clean(x.pair_csv[k]);
    free(perm);
    free(order);
out:
    if (x.topo)
        hwloc_topology_destroy(x.topo);
    hb_csvdoc_free(&d[0]);
    hb_csvdoc_free(&d[1]);
    return rc;
}
