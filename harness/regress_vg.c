/* regress_vg.c -- regress's deterministic counts from valgrind: the
 * instructions callgrind counts (--instructions), and the estimated cycles
 * cachegrind's cache simulation gives (--cycles), which see what
 * instructions cannot: a change that misses the caches more at the same
 * instructions (an allocator that scatters blocks, a header that grows past
 * a line).
 *
 * Estimated cycles are the formula instruction-count CI tools use (Itamar
 * Turner-Trauring's, as iai and iai-callgrind compute it):
 *   L1 hits + 5 x LL hits + 35 x RAM accesses, where
 *   L1 hits = Ir + Dr + Dw - (I1mr + D1mr + D1mw),
 *   LL hits = (I1mr + D1mr + D1mw) - (ILmr + DLmr + DLmw),
 *   RAM     = ILmr + DLmr + DLmw.
 * Cachegrind simulates this machine's own cache sizes (read at start), one
 * cache shared by the threads it runs one at a time: the figure is
 * repeatable, not a measurement of contention. */
#include "regress.h"
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define bad hb_rg_bad

void hb_rg_vg_free(ir_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->e[i].key);
    free(s->e);
    s->e = NULL;
    s->n = 0;
}

double hb_rg_est_cycles(const double ev[9])
{
    /* ev: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw, cachegrind's order */
    double l1m = ev[1] + ev[4] + ev[7], llm = ev[2] + ev[5] + ev[8];
    double l1_hits = ev[0] + ev[3] + ev[6] - l1m;
    return l1_hits + 5 * (l1m - llm) + 35 * llm;
}

/* cachegrind's `events:` line gives the order of `summary:`'s numbers;
 * those nine, in cachegrind's order, into ev. 0, or EINVAL when one is
 * missing (no cache simulation). */
static int take_events(const char *events, const char *summary, double ev[9])
{
    static const char *const want[9] = {"Ir", "I1mr", "ILmr", "Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw"};
    char names[64][16], copy[4096];
    double vals[64];
    int nn = 0, nv = 0;
    snprintf(copy, sizeof copy, "%s", events);
    for (char *save, *t = strtok_r(copy, " \t", &save); t && nn < 64; t = strtok_r(NULL, " \t", &save))
        snprintf(names[nn++], sizeof names[0], "%s", t);
    for (const char *p = summary; nv < 64;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p)
            break;
        vals[nv++] = x;
        p = end;
    }
    for (int k = 0; k < 9; k++) {
        int found = 0;
        for (int i = 0; i < nn && i < nv && !found; i++)
            if (!strcmp(names[i], want[k])) {
                ev[k] = vals[i];
                found = 1;
            }
        if (!found)
            return EINVAL;
    }
    return 0;
}

/* A model machine, the same on every runner: 32 KiB 8-way L1s and an 8 MiB
 * 16-way last level, 64-byte lines. Cachegrind would otherwise simulate the
 * host's own caches, as the host reports them: this VM reports a 480 MiB L3,
 * under which nothing but a first touch ever reaches RAM, and two runner
 * types would give two different figures for one build. */
const char *const hb_rg_cachegrind_args[] = {"--tool=cachegrind", "--cache-sim=yes", "--I1=32768,8,64",
                                             "--D1=32768,8,64", "--LL=8388608,16,64", NULL};

int hb_rg_vg_worse(const ir_entry *a, const ir_entry *b, int cycles, double tol_pct)
{
    double x = cycles ? a->cycles : a->ir, y = cycles ? b->cycles : b->ir;
    return isfinite(x) && isfinite(y) && y > x * (1 + tol_pct / 100);
}

int hb_rg_vg_read_file(const char *path, ir_entry *out)
{
    char line[4096], key[4096] = "", events[4096] = "", summary[4096] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return bad("cannot read %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "cmd:", 4)) {
            const char *c = strstr(line, " __cell ");
            snprintf(key, sizeof key, "%s", c ? c + 1 : "");
        } else if (!strncmp(line, "events:", 7)) {
            snprintf(events, sizeof events, "%s", line + 7);
        } else if (!strncmp(line, "summary:", 8)) {
            snprintf(summary, sizeof summary, "%s", line + 8);
        }
    }
    fclose(f);
    if (!summary[0])
        return bad("%s: no 'summary:' line (valgrind stopped early?)", path);
    ir_entry e = {.ir = strtod(summary, NULL), .cycles = NAN, .l1m = NAN, .llm = NAN};
    double ev[9];
    if (events[0] && strstr(events, "D1mr")) {
        if (take_events(events, summary, ev) != 0)
            return bad("%s: events '%s' lack cachegrind's cache counts", path, events);
        e.ir = ev[0];
        e.cycles = hb_rg_est_cycles(ev);
        e.l1m = ev[1] + ev[4] + ev[7];
        e.llm = ev[2] + ev[5] + ev[8];
    }
    if (!(e.key = strdup(key)))
        return bad("out of memory");
    *out = e;
    return 0;
}

/* The key of a program cell's processes: this, then their HB_VG_CELL_ENV. */
#define PROGRAM_KEY "__program "

int hb_rg_vg_is_program(const char *key)
{
    return strncmp(key, PROGRAM_KEY, sizeof PROGRAM_KEY - 1) == 0;
}

/* The counts of one more process of a program cell into the entry that
 * has its key: its processes (a shell, the servers it starts) are one
 * program. 1 when there was one. */
static int add_to_key(ir_set *s, const ir_entry *e)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->e[i].key, e->key)) {
            s->e[i].ir += e->ir;
            s->e[i].cycles += e->cycles;
            s->e[i].l1m += e->l1m;
            s->e[i].llm += e->llm;
            return 1;
        }
    return 0;
}

int hb_rg_vg_read(const char *dir, const char *prefix, ir_set *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return bad("cannot read %s: %s", dir, strerror(errno));
    struct dirent *de;
    int rc = 0;
    size_t plen = strlen(prefix);
    while (!rc && (de = readdir(d))) {
        if (strncmp(de->d_name, prefix, plen) != 0 || de->d_name[plen] != '.')
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        ir_entry e;
        if ((rc = hb_rg_vg_read_file(path, &e)))
            break;
        /* PREFIX.PID.TAG: TAG is "-" but in a program cell's processes
         * (HB_VG_CELL_ENV), which have no __cell line */
        const char *tag = de->d_name + plen + 1 + strspn(de->d_name + plen + 1, "0123456789");
        if (*tag == '.' && strcmp(tag + 1, "-") != 0) {
            char key[600];
            snprintf(key, sizeof key, PROGRAM_KEY "%s", tag + 1);
            free(e.key);
            if (!(e.key = strdup(key))) {
                rc = bad("out of memory");
                break;
            }
            if (add_to_key(out, &e)) {
                free(e.key);
                continue;
            }
        }
        if (!e.key[0]) { /* the `run` process itself */
            free(e.key);
            continue;
        }
        ir_entry *g = realloc(out->e, (out->n + 1) * sizeof *g);
        if (!g) {
            free(e.key);
            rc = bad("out of memory");
            break;
        }
        out->e = g;
        out->e[out->n++] = e;
    }
    closedir(d);
    return rc;
}

/* "__cell FD ALLOC WORKLOAD THREADS SIZE ..." -> "WORKLOAD/ALLOC/tTHREADS/SIZE": a
 * name to print; the key itself is what is matched. */
void hb_rg_vg_name(const char *key, char *buf, size_t len)
{
    char tok[6][128];
    if (hb_rg_vg_is_program(key) &&
        sscanf(key + sizeof PROGRAM_KEY - 1, "%127[^,],%127[^,],%127[^,],%127s", tok[0], tok[1], tok[2], tok[3]) == 4) {
        snprintf(buf, len, "%s/%s/t%s/%s (the program)", tok[0], tok[1], tok[2], tok[3]);
        return;
    }
    if (sscanf(key, "%127s %127s %127s %127s %127s %127s", tok[0], tok[1], tok[2], tok[3], tok[4],
               tok[5]) == 6)
        snprintf(buf, len, "%s/%s/t%s/%s (the cell process)", tok[3], tok[2], tok[4], tok[5]);
    else
        snprintf(buf, len, "%s", key);
}

/* "__cell FD ALLOC WORKLOAD THREADS SIZE REP SEED ...": in --calibrate the
 * candidate's seed (from its cell name, which holds its ops) and its ops
 * value differ by construction; the key as matched drops the seed and reads
 * the candidate's ops as the baseline's. */
void hb_rg_vg_key(const ropts *o, int cand, const char *key, char *buf, size_t len)
{
    if (!o->calibrate) {
        snprintf(buf, len, "%s", key);
        return;
    }
    char copy[4096], cops[32];
    snprintf(copy, sizeof copy, "%s", key);
    snprintf(cops, sizeof cops, "%lld", cand ? o->cand_ops : o->ops);
    size_t at = 0;
    int i = 0;
    buf[0] = 0;
    for (char *save, *t = strtok_r(copy, " ", &save); t && at < len; t = strtok_r(NULL, " ", &save), i++) {
        if (i == 7)
            continue; /* the seed */
        if (!strcmp(t, cops))
            at += (size_t)snprintf(buf + at, len - at, "%s%lld", at ? " " : "", o->ops);
        else
            at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? " " : "", t);
    }
}

int hb_rg_vg_count(ropts *o, hb_vg_tool tool, const char *tag, int reuse_baseline, ir_set vg[2])
{
    int cg = tool == HB_VG_CACHEGRIND;
    if (hb_rg_spawn((char *const[]){"valgrind", "--version", NULL}, "/dev/null") != 0)
        return bad("%s needs valgrind (%s), which is not installed", cg ? "--cycles" : "--instructions", tag);
    if (!cg && o->threads) { /* only single-threaded cells are counted: is there one? */
        char copy[512];
        snprintf(copy, sizeof copy, ",%s,", o->threads);
        if (!strstr(copy, ",1,")) {
            fprintf(stderr, "heapbench regress: --instructions: --threads %s has no single-threaded "
                            "cells; no instructions counted\n", o->threads);
            return 0;
        }
    }
    for (int k = reuse_baseline ? 1 : 0; k < 2; k++) {
        side *s = &o->s[k];
        char dir[PATH_MAX + 32], file[PATH_MAX + 128], csv[PATH_MAX + 32], log[PATH_MAX + 32];
        snprintf(dir, sizeof dir, "%s/%s-%s", o->work, tag, s->name);
        snprintf(csv, sizeof csv, "%s/%s-%s.csv", o->work, tag, s->name);
        snprintf(log, sizeof log, "%s/%s.log", o->work, tag);
        if (mkdir(dir, 0755) != 0)
            return bad("cannot create %s: %s", dir, strerror(errno));
        /* HB_VG_CELL_ENV: "-" here, so in `run` and its cell processes;
         * a program cell's processes set their cell's name */
        char abs[PATH_MAX]; /* absolute: a program cell runs in a directory of its own */
        if (!realpath(dir, abs))
            return bad("cannot resolve %s: %s", dir, strerror(errno));
        snprintf(file, sizeof file, "--%s-out-file=%s/%s.out.%%p.%%q{" HB_VG_CELL_ENV "}", tag, abs, tag);
        fprintf(stderr, "heapbench regress: %s (%s): %s\n",
                cg ? "estimating cycles" : "counting instructions", tag, s->name);
        /* No RSS sampler and no latency clock: both run on time, and their
         * instructions would vary from run to run. Instructions: the
         * single-threaded cells only (threads interleave as valgrind
         * schedules them); cycles: every cell, whose serialised threads vary
         * by less than the tolerance (docs/regress.md). */
        const char *argv[MAX_PASS + 64], *extra[24];
        int n = 0, e = 0;
        /* Programs count the same instructions run after run only with
         * their hash seeds fixed (python's and perl's are random). */
        argv[n++] = "env";
        argv[n++] = HB_VG_CELL_ENV "=-";
        argv[n++] = "PYTHONHASHSEED=0";
        argv[n++] = "PERL_HASH_SEED=0";
        argv[n++] = "PERL_PERTURB_KEYS=0";
        argv[n++] = "valgrind";
        if (cg)
            for (int i = 0; hb_rg_cachegrind_args[i]; i++)
                argv[n++] = hb_rg_cachegrind_args[i];
        else
            argv[n++] = "--tool=callgrind";
        argv[n++] = "--trace-children=yes";
        argv[n++] = file;
        const char *run[MAX_PASS + 32];
        int nr = hb_rg_run_argv(o, s, 0, NULL, run);
        for (int i = 0; i < nr; i++) {
            if (!cg && !strcmp(run[i], "--threads")) {
                i++;
                continue;
            }
            argv[n++] = run[i];
        }
        if (!cg) {
            extra[e++] = "--threads";
            extra[e++] = "1";
        }
        const char *tail[] = {"--reps", "1", "--warmup", "0", "--sample-ms", "0", "--lat-every", "0", "--out", csv};
        for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
            extra[e++] = tail[i];
        for (int i = 0; i < e; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        int rc = hb_rg_spawn((char *const *)argv, log);
        if (rc != 0 && rc != 1) {
            char line[1024];
            hb_rg_last_line(log, line, sizeof line);
            return bad("%s run of the %s build exited %d: %s (log: %s)", tag, s->name, rc, line, log);
        }
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s.out", tag);
        hb_rg_vg_free(&vg[k]);
        if (hb_rg_vg_read(dir, prefix, &vg[k]))
            return 2;
    }
    return 0;
}
