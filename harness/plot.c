/* plot.c -- `heapbench plot FILE.csv`: the figures of a results file, drawn
 * by gnuplot into plots/NAME/ as PNG (pngcairo) and SVG.
 *
 * The drawing is gnuplot's, one script per kind of figure in plots/ (NAME.gp);
 * this file only reduces the results to the small data files those scripts
 * read (plots/NAME/data/, each script's header says its shape), so that a
 * figure can be redrawn or restyled by hand without heapbench. Figures:
 *   throughput-allocators.png  allocator-only workloads, a bar per allocator,
 *                     ops/s relative to --ref (default system)
 *   throughput-collectors.png  collector workloads on the --ref allocator
 *                     (boehm on its own heap, cpython on pymalloc), a bar per collector, relative
 *                     to --ref-collector (default rcgen, CPython's design)
 *   throughput-allocators-COLL.png  the allocators under collector COLL,
 *                     relative to --ref+COLL
 *                     (bars: ratio of medians; whiskers: its 95% interval)
 *   pause_cdf-*.png   the distribution of pauses (NAME.pauses.csv)
 *   mmu-*.png         minimum mutator utilisation from 0.1 ms to 1 s
 *   rss-*.png         RSS and live bytes over time, one per cell (NAME.rss.csv)
 *   scaling-*.png     ops/s against threads
 *   latency-*.png     operation latency percentiles
 *   heapsize-*.png    wall time and pause p99 against heap size (plot_heap.c)
 * Pause CDFs, MMU, scaling and latency have a panel per collector when a
 * group mixes collectors, a line per allocator in each; plots/style.gp gives a backend the same colour in every figure. A figure
 * with no data (an allocator-only run has no pauses) is skipped with a note
 * on stdout, never drawn empty. */
#include "plot.h"
#include "outfile.h"

#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int hb_plot_bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("heapbench plot: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

void hb_plot_skip(hb_plot_ctx *p, const char *fmt, ...)
{
    p->skipped++;
    if (p->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("skipped: ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

const char *hb_plot_field(const hb_plot_ctx *p, size_t row, int col)
{
    return col < 0 ? "" : p->s.doc.rows[row].field[col];
}

/* A name safe for a file: letters, digits, '-', '.', others '_'. A name
 * is at most HB_PLOT_SLUG_MAX characters, so that a figure's file name
 * (a prefix, the slug, a suffix) stays under the 255 bytes a directory entry
 * can hold: a longer one (a cell with many swept parameters) keeps its
 * first characters and ends in a hash of the whole name, which keeps
 * names that differ only in their tails apart. */
void hb_plot_slug(const char *in, char *out, size_t len)
{
    size_t n = strlen(in), keep = n;
    char tail[20] = "";
    if (n > HB_PLOT_SLUG_MAX) {
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        for (const char *q = in; *q; q++)
            h = (h ^ (unsigned char)*q) * 1099511628211ull;
        snprintf(tail, sizeof tail, "-%016llx", (unsigned long long)h);
        keep = HB_PLOT_SLUG_MAX - strlen(tail);
    }
    size_t k = 0;
    for (size_t i = 0; i < keep && k + 1 < len; i++) {
        char c = in[i];
        out[k++] = (char)((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                                  c == '.'
                              ? c
                              : '_');
    }
    for (const char *t = tail; *t && k + 1 < len; t++)
        out[k++] = *t;
    out[k] = 0;
}

const char *hb_plot_overrides(const hb_plot_ctx *p, size_t row)
{
    /* the cell name's seventh part (harness/cell.c, hb_cell_id) */
    const char *c = hb_plot_field(p, row, p->s.c_cell);
    for (int k = 0; k < 6 && c; k++)
        if ((c = strchr(c, '/')))
            c++;
    return c ? c : "";
}

int hb_plot_kv(const char *list, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key);
    for (const char *q = list; *q;) {
        size_t l = strcspn(q, ";");
        if (l > kl && !strncmp(q, key, kl) && q[kl] == '=') {
            snprintf(buf, len, "%.*s", (int)(l - kl - 1), q + kl + 1);
            return 1;
        }
        q += l + (q[l] == ';');
    }
    return 0;
}

/* The parameters of this row's cell that vary among its workload's cells
 * ("threshold=100"), "" when none do, into buf. */
static const char *varying(const hb_plot_ctx *p, size_t row, char *buf, size_t len)
{
    const char *w = hb_plot_field(p, row, p->c_workload);
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < p->nmixed; i++) {
        if (strcmp(p->mixed[i], w))
            continue;
        for (const char *q = hb_plot_overrides(p, row); *q && at < len;) {
            size_t l = strcspn(q, ";"), kl = strcspn(q, "=");
            char key[130];
            snprintf(key, sizeof key, ";%.*s;", (int)(kl < 120 ? kl : 120), q);
            if (kl < l && strstr(p->mixed_keys[i], key))
                at += (size_t)snprintf(buf + at, len - at, "%s%.*s", at ? ";" : "", (int)l, q);
            q += l + (q[l] == ';');
        }
    }
    return buf;
}

void hb_plot_backend(const hb_plot_ctx *p, size_t row, char *buf, size_t len)
{
    char vb[512];
    const char *c = hb_plot_field(p, row, p->c_coll), *over = varying(p, row, vb, sizeof vb);
    if (!*c || !strcmp(c, "none"))
        snprintf(buf, len, "%s%s%s", hb_plot_field(p, row, p->c_alloc), *over ? " " : "", over);
    else
        snprintf(buf, len, "%s+%s%s%s", hb_plot_field(p, row, p->c_alloc), c, *over ? " " : "", over);
}

/* with_threads & 2: the bars of a throughput figure, whose series are
 * backends only, so a sweep's settings are groups of their own. */
void hb_plot_group(const hb_plot_ctx *p, size_t row, int with_threads, char *buf, size_t len)
{
    const char *heap = hb_plot_field(p, row, p->c_heap);
    char vb[512];
    const char *over = (with_threads & 2) ? varying(p, row, vb, sizeof vb) : "";
    snprintf(buf, len, "%s%s%s%s%s %s%s%s", hb_plot_field(p, row, p->c_workload), with_threads ? " t" : "",
             with_threads ? hb_plot_field(p, row, p->c_threads) : "", strcmp(heap, "isolated") && *heap ? " " : "",
             strcmp(heap, "isolated") && *heap ? heap : "", hb_plot_field(p, row, p->c_size), *over ? " " : "", over);
}

/* The workloads whose cells differ in their parameters (strings of the
 * document, not copied). */
static int find_mixed(hb_plot_ctx *p)
{
    size_t n = p->s.doc.nrows, nw = 0;
    const char **w = malloc((n + 1) * sizeof *w), **o = malloc((n + 1) * sizeof *o);
    p->mixed = malloc((n + 1) * sizeof *p->mixed);
    if (!w || !o || !p->mixed) {
        free(w);
        free(o);
        return hb_plot_bad("out of memory");
    }
    for (size_t r = 0; r < n; r++) {
        const char *wl = hb_plot_field(p, r, p->c_workload), *ov = hb_plot_overrides(p, r);
        size_t i = 0;
        while (i < nw && strcmp(w[i], wl))
            i++;
        if (i == nw) {
            w[nw] = wl;
            o[nw++] = ov;
        } else if (strcmp(o[i], ov)) {
            size_t k = 0;
            while (k < p->nmixed && strcmp(p->mixed[k], wl))
                k++;
            if (k == p->nmixed)
                p->mixed[p->nmixed++] = wl;
        }
    }
    free(w);
    free(o);
    /* per mixed workload, the keys whose value is not the same in all of
     * its cells (absent counting as a value): ";k1;k2;" */
    p->mixed_keys = calloc(p->nmixed + 1, sizeof *p->mixed_keys);
    if (!p->mixed_keys)
        return hb_plot_bad("out of memory");
    for (size_t i = 0; i < p->nmixed; i++) {
        char keys[1024] = ";", *out = p->mixed_keys[i] = calloc(1, sizeof keys);
        if (!out)
            return hb_plot_bad("out of memory");
        out[0] = ';';
        for (size_t r = 0; r < n; r++) {
            if (strcmp(hb_plot_field(p, r, p->c_workload), p->mixed[i]))
                continue;
            for (const char *q = hb_plot_overrides(p, r); *q;) {
                size_t l = strcspn(q, ";"), kl = strcspn(q, "=");
                char key[130];
                snprintf(key, sizeof key, ";%.*s;", (int)(kl < 120 ? kl : 120), q);
                if (kl < l && !strstr(keys, key) && strlen(keys) + kl + 2 < sizeof keys)
                    strcat(keys, key + 1);
                q += l + (q[l] == ';');
            }
        }
        for (char *k = keys + 1; *k;) {
            char *e = strchr(k, ';');
            *e = 0;
            const char *v0 = NULL;
            char v[64], first[64] = "";
            int differs = 0;
            for (size_t r = 0; r < n && !differs; r++) {
                if (strcmp(hb_plot_field(p, r, p->c_workload), p->mixed[i]))
                    continue;
                if (!hb_plot_kv(hb_plot_overrides(p, r), k, v, sizeof v))
                    v[0] = 0;
                if (!v0)
                    v0 = strcpy(first, v);
                else
                    differs = strcmp(first, v) != 0;
            }
            if (differs && strlen(out) + strlen(k) + 2 < sizeof keys)
                strcat(strcat(out, k), ";");
            k = e + 1;
        }
    }
    return 0;
}

int hb_plot_is_gc_row(const hb_plot_ctx *p, size_t row)
{
    const char *c = hb_plot_field(p, row, p->c_coll);
    return *c && strcmp(c, "none") != 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* p->names: the file's allocator names, each once, sorted (names with a
 * space, which no allocator has, would split; they are left out). */
static void allocator_names(hb_plot_ctx *p)
{
    size_t n = p->s.doc.nrows, k = 0, at = 0;
    const char **v = malloc((n + 1) * sizeof *v);
    p->names[0] = 0;
    if (!v)
        return; /* the scripts then fall back to a spare colour per series */
    for (size_t i = 0; i < n; i++)
        if (*hb_plot_field(p, i, p->c_alloc) && !strchr(hb_plot_field(p, i, p->c_alloc), ' '))
            v[k++] = hb_plot_field(p, i, p->c_alloc);
    qsort(v, k, sizeof *v, cmp_name);
    for (size_t i = 0; i < k; i++)
        if ((i == 0 || strcmp(v[i], v[i - 1]) != 0) && at + strlen(v[i]) + 2 < sizeof p->names)
            at += (size_t)snprintf(p->names + at, sizeof p->names - at, "%s%s", at ? " " : "", v[i]);
    free(v);
}

int hb_plot_figure(hb_plot_ctx *p, const char *script, const char *datafile, const char *name, const char *title)
{
    return hb_plot_figure5(p, script, datafile, name, title, NULL, NULL);
}

int hb_plot_figure4(hb_plot_ctx *p, const char *script, const char *datafile, const char *name, const char *title,
                    const char *arg5)
{
    return hb_plot_figure5(p, script, datafile, name, title, arg5, NULL);
}

/* The temporary name of figure `name`'s PNG (k 0) or SVG (k 1) while the
 * job of process `pid` draws it: hidden, with the extension that chooses
 * the scripts' terminal. */
static void tmp_name(const hb_plot_ctx *p, const char *name, pid_t pid, int k, char *buf, size_t len)
{
    snprintf(buf, len, "%s/.%s.tmp%d.%s", p->out, name, (int)pid, k ? "svg" : "png");
}

/* In a figure's job: runs gnuplot on one script for the PNG and the SVG
 * (the SVG alone when svg_only). Each is drawn under its temporary name and
 * renamed only when gnuplot succeeded and wrote something, so a failed
 * figure leaves no empty or partial file. 0 drawn; 1 gnuplot failed (said
 * on stderr; the other figures are still drawn); 2 an error of our own. */

static int draw_one(hb_plot_ctx *p, const char *script, const char *datafile, const char *name, const char *title,
                    const char *arg5, const char *arg6)
{
    char sp[PATH_MAX + 64], log[PATH_MAX + 64];
    snprintf(sp, sizeof sp, "%s/%s", p->scripts, script);
    snprintf(log, sizeof log, "%s/gnuplot.log", p->data);
    char outf[2][PATH_MAX + 700], tmpf[2][PATH_MAX + 720];
    for (int k = p->svg_only; k < 2; k++) {
        const char *ext = k ? "svg" : "png";
        snprintf(outf[k], sizeof outf[k], "%s/%s.%s", p->out, name, ext);
        tmp_name(p, name, getpid(), k, tmpf[k], sizeof tmpf[k]);
        char why[PATH_MAX * 3];
        const char *in = p->file;
        if (hb_out_not_input(outf[k], &in, 1, 0, why, sizeof why))
            return hb_plot_bad("%s", why);
        /* a Ctrl-C kills gnuplot and us: the handler removes the half-drawn
         * figure (outfile.c) */
        if (hb_tmp_remember(tmpf[k]))
            return hb_plot_bad("too many temporary files");
        pid_t pid = fork();
        if (pid < 0) {
            hb_tmp_forget(tmpf[k]);
            return hb_plot_bad("fork: %s", strerror(errno));
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with the job that waits for it */
            FILE *l = freopen(log, "a", stderr);
            (void)l;
            execlp("gnuplot", "gnuplot", "-c", sp, datafile, tmpf[k], title, p->names, arg5, arg6, (char *)NULL);
            fprintf(stderr, "cannot run gnuplot: %s\n", strerror(errno));
            _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
            if (errno != EINTR) {
                unlink(tmpf[k]);
                hb_tmp_forget(tmpf[k]);
                return hb_plot_bad("waitpid: %s", strerror(errno));
            }
        struct stat sb;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || stat(tmpf[k], &sb) != 0 || sb.st_size == 0) {
            unlink(tmpf[k]);
            hb_tmp_forget(tmpf[k]);
            if (k && !p->svg_only)
                unlink(outf[0]); /* a figure is its PNG and its SVG, or neither */
            if (WIFSIGNALED(st))
                fprintf(stderr, "heapbench plot: %s not drawn: gnuplot %s was killed by signal %d (%s) on %s\n",
                        name, script, WTERMSIG(st), strsignal(WTERMSIG(st)), datafile);
            else
                fprintf(stderr, "heapbench plot: %s not drawn: gnuplot %s failed on %s (exit %d; its messages "
                                "are in %s)\n", name, script, datafile, WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
            return 1;
        }
        if (rename(tmpf[k], outf[k]) != 0) {
            int e = errno;
            unlink(tmpf[k]);
            hb_tmp_forget(tmpf[k]);
            return hb_plot_bad("cannot rename %s to %s: %s", tmpf[k], outf[k], strerror(e));
        }
        hb_tmp_forget(tmpf[k]);
    }
    if (!p->quiet)
        printf("%s/%s.png, .svg\n", p->out, name);
    return 0;
}

/* Waits for figure job i and counts what it did; its slot is free again. */
static int reap(hb_plot_ctx *p, size_t i)
{
    int st;
    while (waitpid(p->job[i], &st, 0) < 0)
        if (errno != EINTR)
            return hb_plot_bad("waitpid: %s", strerror(errno));
    p->job[i] = 0;
    /* whatever the job left half-drawn (killed), and no longer ours to
     * remove on a signal */
    for (int k = 0; k < 2; k++) {
        if (!WIFEXITED(st))
            unlink(p->jobtmp[i][k]);
        hb_tmp_forget(p->jobtmp[i][k]);
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
    if (code == 0)
        p->drawn++;
    else if (code == 1)
        p->failed++;
    else if (!WIFEXITED(st))
        return hb_plot_bad("a figure's process was killed by signal %d", WTERMSIG(st));
    return code == 2 ? 2 : 0; /* an error of our own, said by the job */
}

int hb_plot_wait(hb_plot_ctx *p)
{
    int rc = 0;
    for (size_t i = 0; i < HB_PLOT_JOBS; i++)
        if (p->job[i]) {
            int r = reap(p, i);
            rc = rc ? rc : r;
        }
    return rc;
}

/* A figure is drawn by a process of its own (draw_one, exiting 0 drawn,
 * 1 gnuplot failed, 2 an error of ours), up to one per online core at a
 * time: gnuplot's PNG terminal takes a sixth of a second per figure, and a
 * default run has hundreds. hb_plot_wait collects the last ones. */
int hb_plot_figure5(hb_plot_ctx *p, const char *script, const char *datafile, const char *name, const char *title,
                    const char *arg5, const char *arg6)
{
    if (p->data_only) { /* what gnuplot would have drawn, for drawing by hand */
        printf("%s (%s)\n", datafile, script);
        p->drawn++;
        return 0;
    }
    if (!p->max_jobs) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        p->max_jobs = n < 1 ? 1 : n > HB_PLOT_JOBS ? HB_PLOT_JOBS : (int)n;
    }
    /* the slots are taken in turn, so the one to wait for is the oldest */
    size_t j = p->next_job;
    p->next_job = (j + 1) % (size_t)p->max_jobs;
    if (p->job[j]) {
        int rc = reap(p, j);
        if (rc)
            return rc;
    }
    fflush(stdout);
    fflush(stderr);
    /* The job's temporary files are remembered here too, so a signal to
     * this process removes them; signals held until they are. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* and it dies with this process */
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (getppid() == 1)
            _exit(2);
        int rc = draw_one(p, script, datafile, name, title, arg5, arg6);
        fflush(stdout);
        _exit(rc);
    }
    int e = errno;
    if (pid > 0) {
        p->job[j] = pid;
        for (int k = 0; k < 2; k++) {
            tmp_name(p, name, pid, k, p->jobtmp[j][k], sizeof p->jobtmp[j][k]);
            hb_tmp_remember(p->jobtmp[j][k]);
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return pid < 0 ? hb_plot_bad("fork: %s", strerror(e)) : 0;
}

FILE *hb_plot_open_data(const hb_plot_ctx *p, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s.dat", p->data, name);
    char why[PATH_MAX * 3];
    const char *in = p->file;
    if (hb_out_not_input(path, &in, 1, 0, why, sizeof why)) {
        hb_plot_bad("%s", why);
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        hb_plot_bad("cannot write %s: %s", path, strerror(errno));
    return f;
}

int hb_plot_close_data(FILE *f, const char *path)
{
    if (fclose(f) != 0)
        return hb_plot_bad("writing %s failed: %s", path, strerror(errno));
    return 0;
}

int hb_names_add(hb_names *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x))
            return (int)i;
    if (s->n == MAX_SERIES || !(s->v[s->n] = strdup(x)))
        return -1;
    return (int)s->n++;
}

void hb_names_free(hb_names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

double hb_plot_num(const hb_csvdoc *d, size_t row, int col)
{
    double v;
    char why[256];
    return col >= 0 && hb_figure(d, &d->rows[row], col, &v, why, sizeof why) == 0 ? v : NAN;
}

size_t hb_plot_value(const hb_plot_ctx *p, size_t r, int col, double *out)
{
    double v = hb_plot_num(&p->s.doc, r, col);
    if (!isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Values of `col` over the ok rows of the cells matching (group, backend). */
size_t hb_plot_gather(const hb_plot_ctx *p, int with_threads, const char *grp, const char *be, const char *threads,
                     int col, double *out, size_t cap)
{
    size_t n = 0;
    char g[512], b[256];
    for (size_t r = 0; r < p->s.doc.nrows && n < cap; r++) {
        if (strcmp(hb_plot_field(p, r, p->s.c_status), "ok") != 0 || !*hb_plot_field(p, r, col))
            continue;
        hb_plot_group(p, r, with_threads, g, sizeof g);
        hb_plot_backend(p, r, b, sizeof b);
        if (strcmp(g, grp) || strcmp(b, be) || (threads && strcmp(hb_plot_field(p, r, p->c_threads), threads)))
            continue;
        n += hb_plot_value(p, r, col, &out[n]);
    }
    return n;
}

/* ---- throughput normalised to a reference
 *
 * Three kinds of figure, each with one bar per allocator or per collector in
 * a group, never one per pair, so that a group stays readable:
 *   TP_ALLOCATORS  allocator-only workloads, a bar per allocator, against
 *                  --ref (throughput-allocators)
 *   TP_COLLECTORS  collector workloads on the --ref allocator (a collector
 *                  that brings its own heap, boehm, on its own; cpython on
 *                  pymalloc, its own obmalloc), a bar per
 *                  collector, against --ref-collector (throughput-collectors)
 *   TP_UNDER       collector workloads under one collector, a bar per
 *                  allocator, against --ref with that collector
 *                  (throughput-allocators-COLLECTOR) */

enum { TP_ALLOCATORS, TP_COLLECTORS, TP_UNDER };

/* The bar a row belongs to in such a figure (an allocator's or a
 * collector's name), or NULL when the row has no place in it. */
static const char *tp_key(const hb_plot_ctx *p, size_t r, int mode, const char *coll)
{
    const char *a = hb_plot_field(p, r, p->c_alloc), *c = hb_plot_field(p, r, p->c_coll);
    if (mode == TP_ALLOCATORS)
        return hb_plot_is_gc_row(p, r) ? NULL : a;
    if (mode == TP_COLLECTORS) {
        /* cpython as shipped, on its own obmalloc (pymalloc), beside our
         * collectors on --ref: its rows on other allocators are in
         * throughput-allocators-cpython */
        if (!strcmp(c, "cpython"))
            return hb_plot_is_gc_row(p, r) && !strcmp(a, "pymalloc") ? c : NULL;
        return hb_plot_is_gc_row(p, r) && (!strcmp(a, p->ref) || !strcmp(a, c)) ? c : NULL;
    }
    return hb_plot_is_gc_row(p, r) && !strcmp(c, coll) ? a : NULL;
}

/* ops/s of the ok rows of one bar in one group */
static size_t tp_gather(const hb_plot_ctx *p, int col, int mode, const char *coll, const char *grp, const char *key,
                        double *out, size_t cap)
{
    size_t n = 0;
    char g[512];
    for (size_t r = 0; r < p->s.doc.nrows && n < cap; r++) {
        const char *k = tp_key(p, r, mode, coll);
        if (!k || strcmp(k, key) || strcmp(hb_plot_field(p, r, p->s.c_status), "ok") || !*hb_plot_field(p, r, col))
            continue;
        hb_plot_group(p, r, 3, g, sizeof g);
        if (strcmp(g, grp))
            continue;
        n += hb_plot_value(p, r, col, &out[n]);
    }
    return n;
}

/* The bar charts: one metric relative to a reference. Throughput in each
 * mode; for the allocators also the two summary charts allocator users know
 * (mimalloc-bench's): time and peak RSS relative to the reference. */
typedef struct tp_metric {
    const char *col, *prefix, *what, *ylabel;
} tp_metric;
static const tp_metric tp_ops = {"ops_per_s", "throughput", "throughput",
                                 "throughput relative to the reference (log scale; above 1 is faster)"};
static const tp_metric tp_time = {"wall_s", "time", "time",
                                  "time relative to the reference (log scale; below 1 is faster)"};
static const tp_metric tp_rss = {"peak_rss_kb", "peak_rss", "peak RSS",
                                 "peak RSS relative to the reference (log scale; below 1 is smaller)"};

static int fig_bars(hb_plot_ctx *p, const tp_metric *tm, int mode, const char *coll)
{
    int col = hb_csvdoc_col(&p->s.doc, tm->col);
    const char *ref = mode == TP_COLLECTORS ? p->ref_coll : p->ref;
    char name[300], cs[256], g[512];
    if (mode == TP_UNDER) {
        hb_plot_slug(coll, cs, sizeof cs);
        snprintf(name, sizeof name, "%s-allocators-%s", tm->prefix, cs);
    } else {
        snprintf(name, sizeof name, "%s-%s", tm->prefix, mode == TP_COLLECTORS ? "collectors" : "allocators");
    }
    hb_names groups = {0}, keys = {0};
    int rc = 0;
    for (size_t r = 0; r < p->s.doc.nrows && col >= 0 && !rc; r++) {
        const char *k = tp_key(p, r, mode, coll);
        if (!k || strcmp(hb_plot_field(p, r, p->s.c_status), "ok") || !*hb_plot_field(p, r, col))
            continue;
        hb_plot_group(p, r, 3, g, sizeof g);
        if (hb_names_add(&groups, g) < 0 || hb_names_add(&keys, k) < 0)
            rc = hb_plot_bad("out of memory, or more than %d groups or bars", MAX_SERIES);
    }
    size_t cap = p->s.doc.nrows + 1, lines = 0;
    double *a = malloc(cap * sizeof *a), *v = malloc(cap * sizeof *v);
    char path[PATH_MAX + 700];
    FILE *f = NULL;
    int ri = -1, any_ci = 0;
    if (rc)
        goto out;
    if (!a || !v) {
        rc = hb_plot_bad("out of memory");
        goto out;
    }
    if (!groups.n) {
        hb_plot_skip(p, "%s: no ok rows with %s for %s", name, tm->col,
             mode == TP_ALLOCATORS ? "allocator-only workloads" : "collector workloads");
        goto out;
    }
    if (keys.n < 2) {
        hb_plot_skip(p, "%s: %s alone, nothing to compare", name, keys.v[0]);
        goto out;
    }
    for (size_t k = 0; k < keys.n; k++)
        if (!strcmp(keys.v[k], ref))
            ri = (int)k;
    if (ri < 0) {
        hb_plot_skip(p, "%s: no %s rows to normalise to (%s)", name, ref, mode == TP_COLLECTORS ? "--ref-collector" : "--ref");
        goto out;
    }
    /* the reference's bar first, the others in the file's order */
    char *refname = keys.v[ri];
    memmove(keys.v + 1, keys.v, (size_t)ri * sizeof keys.v[0]);
    keys.v[0] = refname;
    if (!(f = hb_plot_open_data(p, name, path, sizeof path))) {
        rc = 2;
        goto out;
    }
    fprintf(f, "group \"%s (reference)\" lo hi", keys.v[0]);
    for (size_t k = 1; k < keys.n; k++)
        fprintf(f, " \"%s\" lo hi", keys.v[k]);
    fputc('\n', f);
    for (size_t i = 0; i < groups.n; i++) {
        size_t na = tp_gather(p, col, mode, coll, groups.v[i], ref, a, cap);
        if (!na) {
            hb_plot_skip(p, "%s: group '%s' has no %s rows to normalise to", name, groups.v[i], ref);
            continue;
        }
        fprintf(f, "\"%s\"", groups.v[i]);
        for (size_t k = 0; k < keys.n; k++) {
            size_t nb = tp_gather(p, col, mode, coll, groups.v[i], keys.v[k], v, cap);
            hb_metric_cmp c;
            if (!nb || hb_metric_cmp_compute(a, na, v, nb, HB_TWO_SIDED, &c) || !isfinite(c.ratio)) {
                fprintf(f, " ? ? ?");
                continue;
            }
            /* too few repetitions for an interval: the bar without error bars */
            any_ci |= isfinite(c.lo) && isfinite(c.hi) && k > 0;
            double lo = isfinite(c.lo) && isfinite(c.hi) ? c.lo : c.ratio;
            double hi = isfinite(c.lo) && isfinite(c.hi) ? c.hi : c.ratio;
            fprintf(f, " %.6g %.6g %.6g", c.ratio, lo, hi);
        }
        fputc('\n', f);
        lines++;
    }
    if ((rc = hb_plot_close_data(f, path)))
        goto out;
    if (!lines) {
        hb_plot_skip(p, "%s: no group has %s rows to normalise to", name, ref);
        goto out;
    }
    char title[700];
    if (mode == TP_ALLOCATORS)
        snprintf(title, sizeof title, "allocators, allocator-only workloads: %s relative to %s", tm->what, ref);
    else if (mode == TP_COLLECTORS)
        snprintf(title, sizeof title, "collectors on the %s allocator: %s relative to %s", p->ref, tm->what, ref);
    else
        snprintf(title, sizeof title, "allocators under the %s collector: %s relative to %s+%s", coll, tm->what,
                 ref, coll);
    size_t tl = strlen(title);
    snprintf(title + tl, sizeof title - tl, "\nbars: ratio of medians; %s",
             any_ci ? "whiskers: its 95% confidence interval" : "no intervals (too few repetitions)");
    rc = hb_plot_figure4(p, "throughput.gp", path, name, title, tm->ylabel);
out:
    free(a);
    free(v);
    hb_names_free(&groups);
    hb_names_free(&keys);
    return rc;
}

/* One figure per collector comparing the allocators under it. */
static int fig_throughput_under(hb_plot_ctx *p)
{
    hb_names colls = {0};
    int rc = 0;
    for (size_t r = 0; r < p->s.doc.nrows && !rc; r++)
        if (hb_plot_is_gc_row(p, r) && hb_names_add(&colls, hb_plot_field(p, r, p->c_coll)) < 0)
            rc = hb_plot_bad("out of memory, or more than %d collectors", MAX_SERIES);
    for (size_t k = 0; k < colls.n && !rc; k++)
        rc = fig_bars(p, &tp_ops, TP_UNDER, colls.v[k]);
    hb_names_free(&colls);
    return rc;
}

/* ---- thread scaling */
int hb_plot_mkdirs(const char *path)
{
    char tmp[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *s = tmp + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return errno;
            *s = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return errno;
    return 0;
}

static void plot_free(hb_plot_ctx *p)
{
    hb_csvdoc_free(&p->pauses.d);
    hb_csvdoc_free(&p->rss.d);
    hb_cellset_free(&p->s);
}

int hb_plot_draw(const hb_plot_opts *o, size_t *drawn, size_t *failed)
{
    hb_plot_ctx p = {.ref = o->ref ? o->ref : "system", .ref_coll = o->ref_coll ? o->ref_coll : "rcgen",
                     .svg_only = o->svg_only, .quiet = o->quiet, .data_only = o->data_only};
    const char *out = o->out;
    const char *file = o->file, *scripts = o->scripts;
    size_t fl = strlen(file);
    if (fl < 5 || strcmp(file + fl - 4, ".csv"))
        return hb_plot_bad("'%s' does not end in .csv (its companions' names are made from it)", file);
    snprintf(p.stem, sizeof p.stem, "%.*s", (int)(fl - 4), file);
    /* The scripts: --scripts, $HEAPBENCH_PLOTS, plots/ of the source tree
     * this binary was built from, or plots/ where the command runs. */
    if (!scripts)
        scripts = getenv("HEAPBENCH_PLOTS");
#ifdef HB_PLOTS_DIR
    if (!scripts && access(HB_PLOTS_DIR "/throughput.gp", R_OK) == 0)
        scripts = HB_PLOTS_DIR;
#endif
    if (!scripts)
        scripts = "plots";
    snprintf(p.scripts, sizeof p.scripts, "%s", scripts);
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/throughput.gp", p.scripts);
    if (!p.data_only && access(probe, R_OK) != 0)
        return hb_plot_bad("cannot find the gnuplot scripts (%s: %s); run from the source tree or pass --scripts "
                           "DIR or set HEAPBENCH_PLOTS", probe, strerror(errno));
    char why[1024];
    if (hb_cellset_load(file, &p.s, why, sizeof why))
        return hb_plot_bad("%s", why);
    static const char *const need[] = {"workload", "allocator", "threads", "rep"};
    for (size_t k = 0; k < 4; k++)
        if (hb_csvdoc_col(&p.s.doc, need[k]) < 0) {
            hb_cellset_free(&p.s);
            return hb_plot_bad("%s:1: not a results file (no column '%s')", file, need[k]);
        }
    p.c_workload = hb_csvdoc_col(&p.s.doc, "workload");
    p.c_alloc = hb_csvdoc_col(&p.s.doc, "allocator");
    p.c_coll = hb_csvdoc_col(&p.s.doc, "collector");
    p.c_heap = hb_csvdoc_col(&p.s.doc, "heap");
    p.c_threads = hb_csvdoc_col(&p.s.doc, "threads");
    p.c_size = hb_csvdoc_col(&p.s.doc, "size");
    p.c_params = hb_csvdoc_col(&p.s.doc, "params");
    p.c_rep = hb_csvdoc_col(&p.s.doc, "rep");
    p.c_run = hb_csvdoc_col(&p.s.doc, "run_id");
    p.c_wall = hb_csvdoc_col(&p.s.doc, "wall_s");
    /* the companions now: a damaged one is refused before any file is
     * written, not after half the figures */
    static const char *const need_pauses[] = {"cell", "rep", "start_ms", "duration_us"};
    static const char *const need_rss[] = {"cell", "rep", "ms", "rss_bytes", "live_bytes"};
    if (hb_plot_load_comp(&p, ".pauses.csv", &p.pauses, need_pauses, 4) ||
        hb_plot_load_comp(&p, ".rss.csv", &p.rss, need_rss, 5)) {
        plot_free(&p);
        return 2;
    }
    p.file = file;
    if (out && (!*out || strlen(out) >= PATH_MAX)) {
        plot_free(&p);
        return hb_plot_bad("--out '%s' is not a directory name", out);
    }
    allocator_names(&p);
    if (out) {
        snprintf(p.out, sizeof p.out, "%s", out);
    } else {
        const char *base = strrchr(p.stem, '/');
        snprintf(p.out, sizeof p.out, "plots/%s", base ? base + 1 : p.stem);
    }
    snprintf(p.data, sizeof p.data, "%s/data", p.out);
    int err = hb_plot_mkdirs(p.data), rc = 0;
    if (err) {
        plot_free(&p);
        return hb_plot_bad("cannot create %s: %s", p.data, strerror(err));
    }
    struct stat so;
    err = stat(p.out, &so) != 0 ? errno : !S_ISDIR(so.st_mode) ? ENOTDIR
          : access(p.out, W_OK) != 0 || access(p.data, W_OK) != 0 ? errno : 0;
    if (err) {
        plot_free(&p);
        return hb_plot_bad("cannot write figures into %s: %s", p.out, strerror(err));
    }
    char log[PATH_MAX + 64];
    snprintf(log, sizeof log, "%s/gnuplot.log", p.data);
    unlink(log);
    /* a figure gnuplot could not draw is said and counted (figure5), and
     * the others are still drawn; an error of our own stops here */
    rc = find_mixed(&p);
    if (!rc)
        rc = fig_bars(&p, &tp_ops, TP_ALLOCATORS, NULL);
    if (!rc)
        rc = fig_bars(&p, &tp_time, TP_ALLOCATORS, NULL);
    if (!rc)
        rc = fig_bars(&p, &tp_rss, TP_ALLOCATORS, NULL);
    if (!rc)
        rc = fig_bars(&p, &tp_ops, TP_COLLECTORS, NULL);
    if (!rc)
        rc = fig_throughput_under(&p);
    if (!rc)
        rc = hb_plot_scaling(&p);
    if (!rc)
        rc = hb_plot_latency(&p);
    if (!rc)
        rc = hb_plot_pauses(&p);
    if (!rc)
        rc = hb_plot_sweeps(&p);
    if (!rc)
        rc = hb_plot_heapsize(&p);
    if (!rc)
        rc = hb_plot_rss(&p);
    int wrc = hb_plot_wait(&p); /* the figures still being drawn, even after an error */
    rc = rc ? rc : wrc;
    if (!rc && p.data_only)
        printf("the data of %zu figures in %s (--data-only: none drawn); %zu skipped\n", p.drawn, p.data,
               p.skipped);
    else if (!rc && !p.quiet)
        printf("%zu figures (%s) in %s; %zu skipped; %zu failed; their data and gnuplot's log in %s\n",
               p.drawn, p.svg_only ? "SVG" : "PNG and SVG", p.out, p.skipped, p.failed, p.data);
    if (drawn)
        *drawn = p.drawn;
    if (failed)
        *failed = p.failed;
    for (size_t i = 0; p.mixed_keys && i < p.nmixed; i++)
        free(p.mixed_keys[i]);
    free(p.mixed_keys);
    free(p.mixed);
    plot_free(&p);
    return rc;
}

int hb_plot_main(int argc, char **argv)
{
    hb_plot_opts o = {0};
    static const char usage[] = "usage: heapbench plot FILE.csv [--ref ALLOCATOR] [--ref-collector COLLECTOR] "
                                "[--out DIR] [--scripts DIR] [--data-only]";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--ref") || !strcmp(a, "--ref-collector") || !strcmp(a, "--out") || !strcmp(a, "--scripts")) {
            if (i + 1 >= argc)
                return hb_plot_bad("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--ref"))
                o.ref = v;
            else if (!strcmp(a, "--ref-collector"))
                o.ref_coll = v;
            else if (!strcmp(a, "--out"))
                o.out = v;
            else
                o.scripts = v;
        } else if (!strcmp(a, "--data-only")) {
            o.data_only = 1;
        } else if (!strncmp(a, "--", 2)) {
            return hb_plot_bad("unknown option '%s'; valid: --ref ALLOCATOR, --ref-collector COLLECTOR, --out DIR, "
                               "--scripts DIR, --data-only", a);
        } else if (!o.file) {
            o.file = a;
        } else {
            return hb_plot_bad("%s", usage);
        }
    }
    if (!o.file)
        return hb_plot_bad("%s", usage);
    size_t failed = 0;
    int rc = hb_plot_draw(&o, NULL, &failed);
    return rc ? rc : failed ? 2 : 0;
}
