/* console.c -- what `heapbench run` says while it runs (console.h). */
#include "console.h"

#include <string.h>

#include "cellset.h"
#include "rank.h"
#include "stats.h"

void hb_progress(size_t done, size_t total, double t0, const char *id, const hb_result *r)
{
    double el = hb_now() - t0, left = done ? el / (double)done * (double)(total - done) : 0;
    fprintf(stderr, "\r\033[K[%zu/%zu] %02d:%02d elapsed, ~%02d:%02d left; %s: %s", done, total,
            (int)el / 60, (int)el % 60, (int)left / 60, (int)left % 60, id,
            r->status == HB_ST_OK ? "ok" : r->status == HB_ST_SKIPPED ? "skipped" : r->error);
}

void hb_count_reason(hb_reasons *rs, const hb_result *r)
{
    char what[280];
    snprintf(what, sizeof what, "%s: %s", hb_status_name(r->status), r->error[0] ? r->error : "(no error given)");
    for (size_t i = 0; i < rs->k; i++)
        if (!strcmp(rs->what[i], what)) {
            rs->n[i]++;
            return;
        }
    if (rs->k == HB_MAX_REASONS) {
        rs->other++;
        return;
    }
    snprintf(rs->what[rs->k], sizeof rs->what[0], "%s", what);
    rs->n[rs->k++] = 1;
}

void hb_tally_add(hb_tally *t, const hb_result *r)
{
    t->left--;
    if (r->status == HB_ST_SKIPPED)
        t->nskip++;
    else if (r->status != HB_ST_OK)
        t->nbad++;
    if (r->status != HB_ST_OK && !t->why[0])
        snprintf(t->why, sizeof t->why, "%s: %s", hb_status_name(r->status), r->error);
    if (r->status != HB_ST_OK)
        return;
    t->nok++;
    if (r->counts.ops && r->wall_s > 0 && !t->by_wall)
        t->fig[t->nfig++] = (double)r->counts.ops / r->wall_s;
    else if (r->wall_s > 0) { /* no operations counted (a program without a unit): its time */
        if (!t->by_wall)
            t->nfig = 0;
        t->by_wall = 1;
        t->fig[t->nfig++] = r->wall_s;
    }
    int64_t rss = r->peak_rss_kb >= 0 ? r->peak_rss_kb : r->maxrss_kb;
    if (rss >= 0)
        t->rss[t->nrss++] = (double)rss;
}

/* `base`: the run's --reps; a cell that --max-reps took further says how far */
void hb_cell_line(FILE *f, size_t done, size_t total, const char *id, const hb_tally *t, int base)
{
    char fig[32] = "-", rss[32] = "-", st[320];
    int reps = t->nok + t->nskip + t->nbad;
    double m;
    if (t->nfig && hb_stats_median(t->fig, (size_t)t->nfig, &m) == 0)
        hb_fmt_num(fig, sizeof fig, m);
    if (t->nrss && hb_stats_median(t->rss, (size_t)t->nrss, &m) == 0)
        snprintf(rss, sizeof rss, "%.1f MiB", m / 1024);
    if (t->nok == reps && reps > base)
        snprintf(st, sizeof st, "ok, %d reps", reps);
    else if (t->nok == reps)
        snprintf(st, sizeof st, "ok");
    else if (t->nskip == reps)
        snprintf(st, sizeof st, "%s", t->why);
    else
        snprintf(st, sizeof st, "ok %d/%d; %s", t->nok, reps, t->why);
    if (t->nok)
        fprintf(f, "[%zu/%zu] %s  %s  %s %s  peak RSS %s\n", done, total, id, st, fig,
                t->by_wall ? "s wall" : "ops/s", rss);
    else
        fprintf(f, "[%zu/%zu] %s  %s\n", done, total, id, st);
}

/* A row --resume keeps, counted in its cell's tally as if run now: 1, or 0
 * when the file has none for (cell, rep). */
int hb_tally_resumed(hb_tally *t, const hb_csv *csv, const hb_cell *c, int rep)
{
    char id[512];
    hb_cell_id(c, id, sizeof id);
    const hb_done_row *d = hb_csv_done_row(csv, id, rep);
    if (!d)
        return 0;
    hb_result r = {.status = d->ok ? HB_ST_OK : HB_ST_SKIPPED, .wall_s = d->wall_s, .peak_rss_kb = d->peak_rss_kb,
                   .maxrss_kb = d->maxrss_kb};
    r.counts.ops = d->ops;
    t->left++; /* tally_add counts it off */
    hb_tally_add(t, &r);
    return 1;
}

/* The end of the run: per workload, the backends ranked by their ratio to
 * the reference, with intervals (rank.c, what compare --by prints), over
 * the whole --out file; with --interleave, paired by repetition (what
 * compare --by --paired prints): the rounds put each repetition of a block's
 * cells seconds apart. */
void hb_run_summary(const char *csv, int paired)
{
    hb_cellset s;
    char why[512];
    if (hb_cellset_load(csv, &s, why, sizeof why)) {
        fprintf(stderr, "heapbench run: no summary: %s\n", why);
        return;
    }
    const hb_metric_info *m[] = {hb_metric_find("ops_per_s"), hb_metric_find("wall_s")};
    static const char *const dims[] = {"allocator", "collector"};
    for (size_t d = 0; d < 2; d++) {
        hb_rank_table t;
        if (hb_rank_compute(&s, dims[d], NULL, m, 2, paired ? HB_RANK_PAIRED : 0, &t, why, sizeof why))
            continue; /* e.g. no collector in the file */
        size_t ranked = 0;
        for (size_t i = 0; i < t.ng; i++)
            ranked += t.g[i].n >= 2;
        if (ranked) {
            if (hb_rank_all_paired(&t))
                printf("\n%ss in each cell, best first: ratio to %s paired by repetition (ops_per_s, or wall_s "
                       "without operations), 95%% interval\n", dims[d], t.ref);
            else
                printf("\n%ss in each cell, best first: ratio of medians to %s (ops_per_s, or wall_s without "
                       "operations), 95%% interval%s\n", dims[d], t.ref,
                       t.npaired ? "; those marked paired: ratio paired by repetition" : "");
            hb_rank_print_brief(&t, stdout);
        }
        hb_rank_free(&t);
    }
    hb_cellset_free(&s);
}

