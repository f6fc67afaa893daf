/* report.c -- `heapbench report FILE.csv [--out PAGE.html]`: one
 * self-contained HTML page answering what the matrix asked.
 *
 * Self-contained: no network, no file beside it. The figures are `plot`'s
 * own (hb_plot_draw, the same gnuplot scripts, SVG only, into a temporary
 * directory removed afterwards), inlined as <svg> elements; gnuplot names
 * the same ids in every figure (gpPt0, gnuplot_canvas...), so each
 * figure's ids get a prefix of their own. The tables are compare --by's
 * (rank.c).
 *
 * The page, in order: what the file is (rows, cells, environment); the
 * rows that are not ok, counted by status and reason; the summary tables
 * (per cell, the allocators and the collectors ranked by their ratio to the
 * reference, with intervals, and each one's geometric mean; CPython beside
 * rcgen when the file has both); then the
 * figures: time and peak RSS per allocator across workloads, throughput,
 * pause CDFs and MMU per workload, sweeps, scaling and latency, and the
 * per-cell RSS traces folded away in <details>. A small script at the end
 * checks that every figure is there and has a size, and says so on the
 * page and in <html data-figures="OK/TOTAL">, which a test reads from the
 * DOM a headless browser dumps.
 *
 * The page is written to PAGE.html.tmp and renamed over PAGE.html only when
 * whole: a failure never leaves half a page or destroys the old one. */
#include "lbo.h"
#include "plot.h"
#include "rank.h"
#include "tables.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct rctx {
    hb_cellset s;
    const char *file, *ref, *ref_coll;
    int paired; /* --paired: the rankings paired by run and repetition (rank.h) */
    FILE *f;
    char figdir[PATH_MAX];
    char **fig; /* figure names (file names without .svg), sorted */
    size_t nfig, nshown;
    size_t failed; /* figures gnuplot could not draw (said on stderr by plot) */
    /* figures already drawn by `plot` of the same file with the same
     * options (the default run's): their SVGs are inlined, none redrawn */
    const char *drawn_dir;
    size_t drawn_failed;
} rctx;

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("heapbench report: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

/* Text into HTML. */
static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static const char *field(const rctx *x, size_t row, const char *col)
{
    int c = hb_csvdoc_col(&x->s.doc, col);
    return c < 0 ? "" : x->s.doc.rows[row].field[c];
}

/* ---- figures */

static int cmp_str(const void *a, const void *b)
{
    return hb_natcmp(*(char *const *)a, *(char *const *)b);
}

static int gnuplot_present(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("gnuplot", "gnuplot", "--version", (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[PATH_MAX + 300];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int list_figures(rctx *x);

static int draw_figures(rctx *x, const char *scripts)
{
    if (x->drawn_dir) {
        snprintf(x->figdir, sizeof x->figdir, "%s", x->drawn_dir);
        x->failed = x->drawn_failed;
        return list_figures(x);
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(x->figdir, sizeof x->figdir, "%s/heapbench-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(x->figdir)) {
        int e = errno;
        x->figdir[0] = 0;
        return bad("cannot create a directory for the figures (%s): %s", tmp && *tmp ? tmp : "/tmp", strerror(e));
    }
    hb_plot_opts o = {.file = x->file, .out = x->figdir, .ref = x->ref, .ref_coll = x->ref_coll,
                      .scripts = scripts, .svg_only = 1, .quiet = 1};
    int rc = hb_plot_draw(&o, NULL, &x->failed);
    return rc ? rc : list_figures(x);
}

/* The SVGs of x->figdir, sorted, into x->fig. */
static int list_figures(rctx *x)
{
    DIR *d = opendir(x->figdir);
    if (!d)
        return bad("cannot read %s: %s", x->figdir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".svg"))
            continue;
        char **g = realloc(x->fig, (x->nfig + 1) * sizeof *g);
        if (!g || !(g[x->nfig] = strndup(e->d_name, l - 4))) {
            if (g)
                x->fig = g;
            closedir(d);
            return bad("out of memory");
        }
        x->fig = g;
        x->nfig++;
    }
    closedir(d);
    qsort(x->fig, x->nfig, sizeof *x->fig, cmp_str);
    return 0;
}

/* Inlines figure `name`: its <svg> element with every id made its own. */
static int put_svg(rctx *x, const char *name)
{
    char p[PATH_MAX + 600];
    snprintf(p, sizeof p, "%s/%s.svg", x->figdir, name);
    FILE *in = fopen(p, "r");
    if (!in)
        return bad("cannot read %s: %s", p, strerror(errno));
    fseek(in, 0, SEEK_END);
    long len = ftell(in);
    rewind(in);
    char *buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, in) != (size_t)len) {
        fclose(in);
        free(buf);
        return bad("cannot read %s", p);
    }
    fclose(in);
    buf[len] = 0;
    char *svg = strstr(buf, "<svg");
    if (!svg) {
        free(buf);
        return bad("%s: not an SVG (no <svg element)", p);
    }
    char pre[32];
    snprintf(pre, sizeof pre, "f%zu-", x->nshown);
    static const char *const at[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
    fprintf(x->f, "<figure id=\"fig-");
    esc(x->f, name);
    fprintf(x->f, "\">\n");
    for (char *s = svg; *s;) {
        size_t k = 0, best = (size_t)-1;
        char *next = NULL;
        for (k = 0; k < sizeof at / sizeof at[0]; k++) {
            char *q = strstr(s, at[k]);
            if (q && (!next || q < next))
                next = q, best = k;
        }
        if (!next) {
            fputs(s, x->f);
            break;
        }
        size_t l = strlen(at[best]);
        fwrite(s, 1, (size_t)(next - s) + l, x->f);
        fputs(pre, x->f);
        s = next + l;
    }
    fprintf(x->f, "<figcaption>");
    esc(x->f, name);
    fprintf(x->f, "</figcaption></figure>\n");
    free(buf);
    x->nshown++;
    return 0;
}

/* Every figure whose name starts with `prefix`, in a grid of `cols`. */
static int put_figs(rctx *x, const char *prefix, int cols)
{
    size_t n = 0, pl = strlen(prefix);
    for (size_t i = 0; i < x->nfig; i++)
        n += !strncmp(x->fig[i], prefix, pl);
    if (!n)
        return 0;
    fprintf(x->f, "<div class=\"grid c%d\">\n", n == 1 ? 1 : cols);
    int rc = 0;
    for (size_t i = 0; i < x->nfig && !rc; i++)
        if (!strncmp(x->fig[i], prefix, pl))
            rc = put_svg(x, x->fig[i]);
    fprintf(x->f, "</div>\n");
    return rc;
}

static size_t count_figs(const rctx *x, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < x->nfig; i++)
        n += !strncmp(x->fig[i], prefix, strlen(prefix));
    return n;
}

/* ---- tables */

/* Rows that are not ok, by status and reason. */
static void put_status(rctx *x)
{
    size_t n = x->s.doc.nrows, ok = 0;
    typedef struct { const char *status, *error, *cell; size_t n; } reason;
    reason *r = calloc(n + 1, sizeof *r);
    size_t nr = 0;
    for (size_t i = 0; i < n && r; i++) {
        const char *st = x->s.doc.rows[i].field[x->s.c_status], *er = x->s.doc.rows[i].field[x->s.c_error];
        if (!strcmp(st, "ok")) {
            ok++;
            continue;
        }
        size_t k = 0;
        while (k < nr && (strcmp(r[k].status, st) || strcmp(r[k].error, er)))
            k++;
        if (k == nr)
            r[nr++] = (reason){st, er, x->s.doc.rows[i].field[x->s.c_cell], 0};
        r[k].n++;
    }
    fprintf(x->f, "<p>%zu rows in %zu cells: <b>%zu ok</b>", n, x->s.ncells, ok);
    static const char *const kinds[] = {"failed", "crashed", "timeout", "skipped"};
    for (size_t k = 0; k < 4; k++) {
        size_t c = 0;
        for (size_t i = 0; i < nr; i++)
            c += strcmp(r[i].status, kinds[k]) ? 0 : r[i].n;
        fprintf(x->f, ", %s%zu %s%s", c && k < 3 ? "<b class=\"worse\">" : "", c, kinds[k], c && k < 3 ? "</b>" : "");
    }
    fprintf(x->f, ".</p>\n");
    if (nr) {
        fprintf(x->f, "<table><tr><th>status</th><th class=\"n\">rows</th><th>reason</th><th>first cell</th></tr>\n");
        for (size_t i = 0; i < nr; i++) {
            fprintf(x->f, "<tr><td>");
            esc(x->f, r[i].status);
            fprintf(x->f, "</td><td class=\"n\">%zu</td><td>", r[i].n);
            esc(x->f, r[i].error[0] ? r[i].error : "(no reason recorded)");
            fprintf(x->f, "</td><td><code>");
            esc(x->f, r[i].cell);
            fprintf(x->f, "</code></td></tr>\n");
        }
        fprintf(x->f, "</table>\n");
    }
    free(r);
}

/* One rank table by `dim`: per metric, a row per cell with its alternatives
 * best first, then each one's geometric mean. */
/* CPython beside rcgen: each cpython cell on pymalloc (CPython as shipped)
 * against the rcgen cell of the same workload, threads, size and
 * parameters on the --ref allocator, medians of the ok rows. Nothing when
 * the file has no such pair. */
static void put_cpython(rctx *x)
{
    static const char *const m[] = {"wall_s",       "ops_per_s",         "gc_count", "pause_p99_us",
                                    "pause_max_us", "pause_max_auto_us", "mmu_10ms", "peak_rss_kb"};
    const size_t nm = sizeof m / sizeof m[0];
    const char *ref = x->ref ? x->ref : "system"; /* plot's and rank's default */
    int head = 0;
    for (size_t i = 0; i < x->s.ncells; i++) {
        const hb_cellset_cell *cp = &x->s.cells[i];
        const char *at = strstr(cp->name, "/pymalloc/cpython/");
        if (!at || !cp->nok)
            continue;
        char twin[1024];
        snprintf(twin, sizeof twin, "%.*s/%s/rcgen/%s", (int)(at - cp->name), cp->name, ref,
                 at + strlen("/pymalloc/cpython/"));
        const hb_cellset_cell *rg = hb_cellset_find(&x->s, twin);
        if (!rg || !rg->nok)
            continue;
        if (!head) {
            fprintf(x->f, "<p>CPython (the collector <code>cpython</code>: python3 running the pattern's Python "
                          "form, on its own allocator pymalloc) beside rcgen on %s, the model of its collector: "
                          "medians of the ok rows.</p>\n<table><tr><th>cell</th><th>collector</th>", ref);
            for (size_t k = 0; k < nm; k++)
                fprintf(x->f, "<th class=\"n\">%s</th>", m[k]);
            fprintf(x->f, "</tr>\n");
            head = 1;
        }
        const hb_cellset_cell *two[2] = {rg, cp};
        for (int w = 0; w < 2; w++) {
            fprintf(x->f, "<tr><td>");
            esc(x->f, two[w]->name);
            fprintf(x->f, "</td><td>%s</td>", w ? "cpython" : "rcgen");
            for (size_t k = 0; k < nm; k++) {
                double *v = NULL, med;
                size_t n = 0;
                char why[256], num[32] = "";
                if (!hb_cellset_values(&x->s, two[w], m[k], &v, &n, why, sizeof why) && n &&
                    !hb_stats_median(v, n, &med))
                    hb_fmt_num(num, sizeof num, med);
                free(v);
                fprintf(x->f, "<td class=\"n\">%s</td>", num);
            }
            fprintf(x->f, "</tr>\n");
        }
    }
    if (head)
        fprintf(x->f, "</table>\n");
}

static int put_ranking(rctx *x, const char *dim, const char *ref, const char *const *metrics, size_t nm)
{
    const hb_metric_info *mi[8];
    size_t k = 0;
    for (size_t i = 0; i < nm && k < 8; i++)
        if ((mi[k] = hb_metric_find(metrics[i])))
            k++;
    hb_rank_table t;
    char why[1024];
    int err = hb_rank_compute(&x->s, dim, ref, mi, k, x->paired ? HB_RANK_PAIRED : 0, &t, why, sizeof why);
    if (err == EINVAL) { /* no such reference in this file: nothing to rank by it */
        fprintf(x->f, "<p class=\"note\">Not ranked by %s: ", dim);
        esc(x->f, why);
        fprintf(x->f, "</p>\n");
        return 0;
    }
    if (err)
        return bad("%s", why);
    if (!t.ng) {
        fprintf(x->f, "<p class=\"note\">No cell has two or more %ss to rank.</p>\n", dim);
        hb_rank_free(&t);
        return 0;
    }
    fprintf(x->f, "<p>Each %s against <b>", dim);
    esc(x->f, t.ref);
    if (hb_rank_all_paired(&t))
        fprintf(x->f, "</b> in the same cell, each repetition paired with the reference's of the same run and "
                      "repetition: the paired ratio (Hodges-Lehmann), its 95%% interval, best first; "
                      "<span class=\"better\">green</span> and <span class=\"worse\">red</span>: a difference "
                      "shown with Wilcoxon signed-rank p &lt; 0.05 after Holm's correction over the %zu tests of this "
                      "table.", t.ntests);
    else
        fprintf(x->f, "</b> in the same cell: the ratio of medians, its 95%% interval (Hodges-Lehmann), best first; "
                      "<span class=\"better\">green</span> and <span class=\"worse\">red</span>: a difference "
                      "shown with Mann-Whitney p &lt; 0.05 after Holm's correction over the %zu tests of this table.",
                t.ntests);
    if (x->paired && t.ntests && !hb_rank_all_paired(&t))
        fprintf(x->f, " Paired: %zu of the %zu tests; the rest unpaired (pairing needs the same run_id and rep on "
                      "both sides, at least %d of them, as <code>run --interleave</code> writes).", t.npaired, t.ntests,
                HB_RANK_MIN_PAIRS);
    if (t.ntests && hb_rank_min_p(&t) * (double)t.ntests >= 0.05)
        fprintf(x->f, " <b>With %zu and %zu repetitions no difference can be shown</b> at this many tests; run "
                      "more repetitions.", t.fewest_ref, t.fewest_alt);
    fprintf(x->f, "</p>\n");
    /* at a glance: each alternative's geometric mean over the cells, per
     * metric, in the order of the first metric's */
    const char **alts = NULL;
    size_t na = 0;
    if (!hb_rank_alternatives(&t, t.metric[0], &alts, &na) && na) {
        fprintf(x->f, "<table class=\"glance\"><tr><th>%s</th>", dim);
        for (size_t m = 0; m < t.nmetric; m++)
            fprintf(x->f, "<th>%s<br><small>geometric mean of the ratios to %s</small></th>", t.metric[m]->what,
                    t.ref);
        fprintf(x->f, "</tr>\n");
        for (size_t j = 0; j < na; j++) {
            fprintf(x->f, "<tr><td><b>");
            esc(x->f, alts[j]);
            fprintf(x->f, "</b></td>");
            for (size_t m = 0; m < t.nmetric; m++) {
                double gm;
                size_t n = hb_rank_geomean(&t, t.metric[m], alts[j], &gm);
                char r[24];
                hb_fmt_ratio(r, sizeof r, gm);
                fprintf(x->f, "<td class=\"n\">%s <small>(%zu cell%s)</small></td>", n ? r : "-", n,
                        n == 1 ? "" : "s");
            }
            fprintf(x->f, "</tr>\n");
        }
        fprintf(x->f, "</table>\n");
    }
    free(alts);
    for (size_t m = 0; m < t.nmetric; m++) {
        int any = 0;
        for (size_t i = 0; i < t.ng; i++)
            any |= t.g[i].m == t.metric[m];
        if (!any)
            continue;
        fprintf(x->f, "<h4>%s (%s; %s is better)</h4>\n<table class=\"rank\"><tr><th>cell</th>"
                      "<th>ranked, best first: ratio to %s [95%% interval]</th></tr>\n",
                t.metric[m]->what, t.metric[m]->unit, t.metric[m]->higher_is_better ? "higher" : "lower", t.ref);
        for (size_t i = 0; i < t.ng; i++) {
            const hb_rank_group *g = &t.g[i];
            if (g->m != t.metric[m])
                continue;
            fprintf(x->f, "<tr><td><code>");
            esc(x->f, g->name);
            fprintf(x->f, "</code></td><td>");
            for (size_t j = 0; j < g->n; j++) {
                const hb_rank_entry *e = &g->e[j];
                int v = e->is_ref ? 0 : hb_cmp_verdict(&e->r, g->m);
                char r[24], ci[48], med[32];
                hb_fmt_ratio(r, sizeof r, e->r.ratio);
                hb_fmt_num(med, sizeof med, e->r.med_b);
                if (e->is_ref)
                    snprintf(ci, sizeof ci, "reference");
                else
                    hb_fmt_ci(ci, sizeof ci, &e->r);
                fprintf(x->f, "%s<span class=\"alt %s\" title=\"median %s %s, n %zu\">%zu. <b>", j ? " " : "",
                        v > 0 ? "better" : v < 0 ? "worse" : "", med, g->m->unit, e->r.nb, e->rank);
                esc(x->f, e->alt);
                fprintf(x->f, "</b> %s <small>%s</small></span>", r, ci);
            }
            fprintf(x->f, "</td></tr>\n");
        }
        const char **alts;
        size_t na;
        if (!hb_rank_alternatives(&t, t.metric[m], &alts, &na)) {
            fprintf(x->f, "<tr class=\"geo\"><td>geometric mean over the cells</td><td>");
            for (size_t j = 0; j < na; j++) {
                double gm;
                size_t n = hb_rank_geomean(&t, t.metric[m], alts[j], &gm);
                char r[24];
                hb_fmt_ratio(r, sizeof r, gm);
                fprintf(x->f, "%s<span class=\"alt\">%zu. <b>", j ? " " : "", j + 1);
                esc(x->f, alts[j]);
                fprintf(x->f, "</b> %s <small>%zu cell%s</small></span>", r, n, n == 1 ? "" : "s");
            }
            fprintf(x->f, "</td></tr>\n");
            free(alts);
        }
        fprintf(x->f, "</table>\n");
    }
    if (t.nnote) {
        fprintf(x->f, "<p class=\"note\">Not ranked:</p><ul class=\"note\">\n");
        for (size_t i = 0; i < t.nnote; i++) {
            fprintf(x->f, "<li>");
            esc(x->f, t.note[i]);
            fprintf(x->f, "</li>\n");
        }
        fprintf(x->f, "</ul>\n");
    }
    hb_rank_free(&t);
    return 0;
}

/* The environment of the rows: one value, or how many. */
static void put_env(rctx *x)
{
    static const char *const cols[] = {"git_commit", "build_type", "compiler", "host", "cpu_model", "topology",
                                       "kernel", "run_id"};
    fprintf(x->f, "<table class=\"env\">\n");
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        if (hb_csvdoc_col(&x->s.doc, cols[k]) < 0 || !x->s.doc.nrows)
            continue;
        const char *v0 = field(x, 0, cols[k]);
        size_t differ = 0;
        for (size_t i = 1; i < x->s.doc.nrows; i++)
            differ += strcmp(v0, field(x, i, cols[k])) != 0;
        fprintf(x->f, "<tr><th>%s</th><td>", cols[k]);
        esc(x->f, v0);
        if (differ)
            fprintf(x->f, " <small>(and others in %zu rows)</small>", differ);
        fprintf(x->f, "</td></tr>\n");
    }
    fprintf(x->f, "</table>\n");
}

static const char css[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1240px;padding:0 24px 48px;color:#222}"
    "h1{font-size:26px;margin:24px 0 4px}h2{margin-top:36px;border-bottom:1px solid #ccc;padding-bottom:4px}"
    "h4{margin:18px 0 6px}code{font-size:13px}table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}"
    ".n{text-align:right}.env th{width:110px}.rank td:first-child{white-space:nowrap}"
    ".alt{display:inline-block;margin:1px 8px 1px 0;padding:0 4px;border-radius:3px}"
    ".alt small{color:#666}.better{color:#0a6b1f}.alt.better{background:#e3f4e6}.worse{color:#a31515}"
    ".alt.worse{background:#fbe5e5}.geo td{background:#fafafa;font-style:italic}.note{color:#555}"
    ".grid{display:grid;gap:12px;margin:8px 0}.grid.c1{grid-template-columns:1fr}"
    ".grid.c2{grid-template-columns:1fr 1fr}.grid.c3{grid-template-columns:1fr 1fr 1fr}"
    "figure{margin:0;border:1px solid #e4e4e4;padding:4px;max-width:1000px}"
    "figure svg{width:100%;height:auto;display:block}"
    "figcaption{font-size:12px;color:#777;text-align:center}nav a{margin-right:12px}"
    "details{margin:8px 0}summary{cursor:pointer;font-weight:600}#check{color:#555;margin-top:32px}";

/* Marks the page with how many of its figures are there and sized: those
 * folded in <details> are opened for the measurement and closed again. */
static const char script[] =
    "(function(){var f=document.querySelectorAll('figure'),ok=0,bad=[];"
    "f.forEach(function(e){var d=e.closest('details'),was=d&&d.open;if(d)d.open=true;"
    "var s=e.querySelector('svg'),r=s&&s.getBoundingClientRect();"
    "if(s&&r.width>50&&r.height>50&&s.querySelector('path,text'))ok++;else bad.push(e.id);if(d)d.open=was;});"
    "document.documentElement.setAttribute('data-figures',ok+'/'+f.length);"
    "var c=document.getElementById('check');c.textContent=(ok==f.length?'All ':'Only ')+ok+' of '+f.length+"
    "' figures rendered'+(bad.length?': missing '+bad.join(', '):'.');})();";

/* The lower-bound overhead of each collector setting (lbo.h), of wall
 * time: a row per setting, a column per benchmark, the geometric mean. */
static int put_lbo(rctx *x)
{
    hb_lbo t;
    char why[1024], b[32];
    int err = hb_lbo_compute(&x->s, &t, why, sizeof why);
    if (err == EINVAL) { /* no collector rows with times */
        fprintf(x->f, "<p class=\"note\">No lower-bound overhead: ");
        esc(x->f, why);
        fprintf(x->f, "</p>\n");
        return 0;
    }
    if (err)
        return bad("%s", why);
    fprintf(x->f, "<p>Lower-bound overhead (LBO, Cai et al. 2022) of wall time: each collector setting's median "
                  "time over the <i>base</i> of its workload, the least median time with the GC pauses "
                  "(pause_total_ms) taken out over every setting. No mutator runs faster than the base, so LBO "
                  "bounds what the collector costs from below; 1.000: no overhead shown. "
                  "<code>heapbench compare FILE --lbo</code> prints it.</p>\n<table>\n<tr><th>setting</th>");
    for (size_t k = 0; k < t.nbench; k++) {
        fprintf(x->f, "<th>");
        esc(x->f, t.bench[k]);
        hb_fmt_num(b, sizeof b, t.base[k]);
        fprintf(x->f, "<br><small>base %s s</small></th>", b);
    }
    fprintf(x->f, "<th>geomean</th></tr>\n");
    for (size_t s = 0; s < t.nsetting; s++) {
        fprintf(x->f, "<tr><td><code>");
        esc(x->f, t.setting[s]);
        fprintf(x->f, "</code></td>");
        for (size_t k = 0; k <= t.nbench; k++) {
            hb_fmt_ratio(b, sizeof b, k < t.nbench ? hb_lbo_value(&t, k, s) : hb_lbo_geomean(&t, s));
            fprintf(x->f, "<td class=\"n\">%s</td>", b);
        }
        fprintf(x->f, "</tr>\n");
    }
    fprintf(x->f, "</table>\n");
    hb_lbo_free(&t);
    return 0;
}

static int write_page(rctx *x, int have_gnuplot)
{
    FILE *f = x->f;
    const char *base = strrchr(x->file, '/') ? strrchr(x->file, '/') + 1 : x->file;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\" data-figures=\"pending\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<title>heapbench report: ");
    esc(f, base);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>heapbench report: <code>", css);
    esc(f, base);
    fprintf(f, "</code></h1>\n");
    static const char *const sec[][2] = {{"rows", "Rows"}, {"allocators", "Allocators ranked"},
                                         {"collectors", "Collectors ranked"}, {"fig-alloc", "Allocator figures"},
                                         {"fig-pauses", "Pauses and MMU"}, {"fig-sweeps", "Sweeps"},
                                         {"heap", "Heap sizes"},
                                         {"fig-more", "Scaling and latency"}, {"fig-rss", "RSS over time"}};
    fprintf(f, "<nav>");
    for (size_t k = 0; k < sizeof sec / sizeof sec[0]; k++)
        fprintf(f, "<a href=\"#%s\">%s</a>", sec[k][0], sec[k][1]);
    fprintf(f, "</nav>\n");
    put_env(x);
    fprintf(f, "<h2 id=\"rows\">Rows</h2>\n");
    put_status(x);
    static const char *const am[] = {"wall_s", "peak_rss_kb", "ops_per_s"};
    /* pause_max_auto_us beside pause_max_us: the largest pause the collector
     * chose to take, without the explicit gc.collect() every one pays */
    static const char *const cm[] = {"wall_s", "pause_p99_us", "pause_max_us", "pause_max_auto_us", "peak_rss_kb"};
    fprintf(f, "<h2 id=\"allocators\">Allocators ranked</h2>\n");
    int rc = put_ranking(x, "allocator", x->ref, am, 3);
    fprintf(f, "<h2 id=\"collectors\">Collectors ranked</h2>\n");
    if (!rc)
        rc = put_ranking(x, "collector", x->ref_coll, cm, sizeof cm / sizeof cm[0]);
    if (rc)
        return rc;
    put_cpython(x);
    if (!have_gnuplot) {
        fprintf(f, "<h2 id=\"fig-alloc\">Figures</h2>\n<p class=\"note\">No figures: gnuplot is not installed "
                   "(scripts/setup.sh installs it).</p>\n");
    } else {
        fprintf(f, "<h2 id=\"fig-alloc\">Allocator figures</h2>\n<p>Time and peak RSS of each allocator relative "
                   "to the reference across the allocator workloads (bars: ratio of medians; whiskers: its 95%% "
                   "interval), then throughput, also under each collector and of the collectors.</p>\n");
        if ((rc = put_figs(x, "time-allocators", 1)) || (rc = put_figs(x, "peak_rss-allocators", 1)) ||
            (rc = put_figs(x, "throughput-", 1)))
            return rc;
        fprintf(f, "<h2 id=\"fig-pauses\">Pauses and MMU</h2>\n");
        if (!count_figs(x, "pause_cdf-"))
            fprintf(f, "<p class=\"note\">No pauses in this file (allocator workloads only, or no pauses file "
                       "beside it).</p>\n");
        for (size_t i = 0; i < x->nfig && !rc; i++) {
            if (strncmp(x->fig[i], "pause_cdf-", 10))
                continue;
            char mmu[600];
            snprintf(mmu, sizeof mmu, "mmu-%s", x->fig[i] + 10);
            fprintf(f, "<div class=\"grid c1\">\n");
            rc = put_svg(x, x->fig[i]);
            for (size_t j = 0; j < x->nfig && !rc; j++)
                if (!strcmp(x->fig[j], mmu))
                    rc = put_svg(x, mmu);
            fprintf(f, "</div>\n");
        }
        fprintf(f, "<h2 id=\"fig-sweeps\">Sweeps</h2>\n");
        if (!count_figs(x, "sweep-"))
            fprintf(f, "<p class=\"note\">No sweep: no workload was run at two or more values of a "
                       "<code>--param</code>.</p>\n");
        if (!rc)
            rc = put_figs(x, "sweep-", 1);
        fprintf(f, "<h2 id=\"heap\">Heap sizes</h2>\n");
        if (!rc)
            rc = put_lbo(x);
        if (!count_figs(x, "heapsize-"))
            fprintf(f, "<p class=\"note\">No heap-size curve: no collector ran under a heap limit "
                       "(<code>--heap-factors</code> or <code>--param heap_kb</code>).</p>\n");
        else
            fprintf(f, "<p>The time-space trade-off: wall time and pause p99 against heap size, the limit "
                       "for marksweep and boehm (multiples of each cell's minimum heap), the peak live bytes for "
                       "a collector without one (rc, rcgen: a point per threshold).</p>\n");
        if (!rc)
            rc = put_figs(x, "heapsize-", 1);
        fprintf(f, "<h2 id=\"fig-more\">Scaling and latency</h2>\n");
        if (!rc)
            rc = put_figs(x, "scaling-", 1);
        if (!rc)
            rc = put_figs(x, "latency-", 1);
        size_t nrss = count_figs(x, "rss-");
        fprintf(f, "<h2 id=\"fig-rss\">RSS over time</h2>\n");
        if (nrss) {
            fprintf(f, "<details><summary>RSS and live bytes over time, one figure per cell (its first "
                       "repetition): %zu cells</summary>\n", nrss);
            if (!rc)
                rc = put_figs(x, "rss-", 2);
            fprintf(f, "</details>\n");
        } else {
            fprintf(f, "<p class=\"note\">No RSS series beside this file.</p>\n");
        }
        if (rc)
            return rc;
    }
    if (x->failed)
        fprintf(f, "<p class=\"worse\"><b>%zu figure%s could not be drawn</b> (gnuplot failed; heapbench report "
                   "said which on stderr).</p>\n", x->failed, x->failed == 1 ? "" : "s");
    fprintf(f, "<p id=\"check\">%zu figures.</p>\n<script>%s</script>\n</body>\n</html>\n", x->nshown, script);
    return 0;
}

#define USAGE "usage: heapbench report FILE.csv [--out PAGE.html] [--ref ALLOCATOR] [--ref-collector COLLECTOR] " \
              "[--scripts DIR] [--paired]"

/* The page of x->file into `out` (NULL: FILE.html beside it); its path
 * into page. */
static int report(rctx *x, const char *out, const char *scripts, char *page, size_t len)
{
    size_t fl = strlen(x->file);
    if (fl < 5 || strcmp(x->file + fl - 4, ".csv"))
        return bad("'%s' does not end in .csv (its companions' names are made from it)", x->file);
    char tmp[PATH_MAX + 8];
    if (out)
        snprintf(page, len, "%s", out);
    else
        snprintf(page, len, "%.*s.html", (int)(fl - 4), x->file);
    size_t pl = strlen(page);
    if (pl < 6 || (strcmp(page + pl - 5, ".html") && strcmp(page + pl - 4, ".htm")))
        return bad("--out '%s' does not end in .html", page);
    char why[1024];
    if (hb_cellset_load(x->file, &x->s, why, sizeof why))
        return bad("%s", why);
    int rc = 0, have = gnuplot_present();
    snprintf(tmp, sizeof tmp, "%s.tmp", page);
    if (!(x->f = fopen(tmp, "w")))
        rc = bad("cannot write %s: %s", tmp, strerror(errno));
    if (!rc && have)
        rc = draw_figures(x, scripts);
    else if (!rc)
        fprintf(stderr, "heapbench report: gnuplot is not installed: a page without figures\n");
    if (!rc)
        rc = write_page(x, have);
    if (x->f) {
        if (fclose(x->f) != 0 && !rc)
            rc = bad("writing %s failed: %s", tmp, strerror(errno));
        if (!rc && rename(tmp, page) != 0)
            rc = bad("cannot rename %s to %s: %s", tmp, page, strerror(errno));
        if (rc)
            unlink(tmp);
    }
    if (!rc && x->failed)
        rc = bad("%zu figure%s could not be drawn: %s lacks %s", x->failed, x->failed == 1 ? "" : "s", page,
                 x->failed == 1 ? "it" : "them");
    if (x->figdir[0] && !x->drawn_dir)
        rm_tree(x->figdir);
    for (size_t i = 0; i < x->nfig; i++)
        free(x->fig[i]);
    free(x->fig);
    hb_cellset_free(&x->s);
    return rc;
}

int hb_report_main(int argc, char **argv)
{
    rctx x = {.ref = NULL, .ref_coll = NULL};
    const char *out = NULL, *scripts = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out") || !strcmp(a, "--ref") || !strcmp(a, "--ref-collector") || !strcmp(a, "--scripts")) {
            if (i + 1 >= argc)
                return bad("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--out"))
                out = v;
            else if (!strcmp(a, "--ref"))
                x.ref = v;
            else if (!strcmp(a, "--ref-collector"))
                x.ref_coll = v;
            else
                scripts = v;
        } else if (!strcmp(a, "--paired")) {
            x.paired = 1;
        } else if (!strncmp(a, "--", 2)) {
            return bad("unknown option '%s'; valid: --out, --ref, --ref-collector, --scripts, --paired", a);
        } else if (!x.file) {
            x.file = a;
        } else {
            return bad("one results file, not '%s' too; " USAGE, a);
        }
    }
    if (!x.file)
        return bad("needs a results file; " USAGE);
    char page[PATH_MAX];
    int rc = report(&x, out, scripts, page, sizeof page);
    if (!rc && (printf("%s\n", page) < 0 || fflush(stdout) != 0))
        rc = bad("cannot write to standard output: %s", strerror(errno));
    return rc;
}

int hb_report_write(const char *csv, const char *figures, size_t failed, char *page, size_t len)
{
    rctx x = {.file = csv, .drawn_dir = figures, .drawn_failed = failed};
    return report(&x, NULL, NULL, page, len);
}
