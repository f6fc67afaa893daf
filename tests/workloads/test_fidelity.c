/* test_fidelity.c -- rcgen's schedule against CPython's (issue 17, part 2).
 *
 * For each deterministic pattern that has a Python form
 * (workloads/python/NAME.py), at CPython's thresholds and at smaller ones,
 * runs the C workload on rcgen (one thread, glibc) and the Python program
 * under Debian's python3 (3.11) with the same parameters, and compares
 * gc.get_stats() per generation -- collections and objects collected --
 * with the heap's hb_gc_get_stats. Prints the table docs/collectors.md
 * shows. A difference beyond the pattern's tolerance fails; the tolerances
 * are 0 (exact) except where docs/collectors.md says why not.
 *
 * Exit 77 (skipped) when python3 is not CPython 3.11: the figures are
 * that version's.
 *
 * usage: test_fidelity [python3]   (default: /usr/bin/python3)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/workload.h"

#ifndef HB_PY_DIR
#define HB_PY_DIR "workloads/python"
#endif

typedef struct kv {
    const char *name;
    int64_t value;
} kv;

/* One comparison: the pattern, its parameters (workload's and thresholds),
 * and how far each figure may be off (0: exact). */
typedef struct fcase {
    const char *pattern;
    kv params[6];
    int64_t tol_collections, tol_collected;
} fcase;

static const fcase cases[] = {
    {"selfref", {{NULL, 0}}, 0, 0},
    {"selfref", {{"threshold", 100}, {"threshold1", 5}, {"threshold2", 5}, {NULL, 0}}, 0, 0},
    {"sidekicks", {{NULL, 0}}, 0, 0},
    {"sidekicks", {{"threshold", 100}, {"threshold1", 5}, {"threshold2", 5}, {NULL, 0}}, 0, 0},
    {"gc_cycles", {{NULL, 0}}, 0, 0},
    {"gc_cycles", {{"threshold", 100}, {"threshold1", 5}, {"threshold2", 5}, {NULL, 0}}, 0, 0},
    {"binary_trees", {{NULL, 0}}, 0, 0},
    {"binary_trees", {{"threshold", 100}, {"threshold1", 5}, {"threshold2", 5}, {NULL, 0}}, 0, 0},
};

typedef struct gstats {
    int64_t v[3][3]; /* [generation][collections, collected, uncollectable] */
} gstats;

static int is_threshold(const char *n)
{
    return !strcmp(n, "threshold") || !strcmp(n, "threshold1") || !strcmp(n, "threshold2");
}

/* HB_FIDELITY_TRACE=1: each collection's generation, one line each on
 * stderr ("c GEN"; hbgc.py prints "py GEN"), to find where two schedules
 * part. */
static void trace_event(void *arg, const hb_gc_event *ev)
{
    (void)arg;
    fprintf(stderr, "c %d %llu\n", ev->generation, (unsigned long long)ev->examined);
}

/* The C workload on rcgen; 0 or an error, with its message in why. */
static int run_c(const fcase *fc, gstats *out, char *why, size_t len)
{
    const hb_workload *wl = hb_workload_find(fc->pattern);
    const hb_allocator *a = hb_allocator_find("system");
    const hb_collector *c = hb_collector_find("rcgen");
    if (!wl || !a || !c) {
        snprintf(why, len, "%s, system or rcgen is not built in", fc->pattern);
        return EINVAL;
    }
    void *as;
    int rc = a->init(&as, NULL);
    if (rc) {
        snprintf(why, len, "system allocator: %s", strerror(rc));
        return rc;
    }
    hb_ctx ctx = {.alloc = a, .alloc_state = as, .collector = c, .threads = 1, .size = HB_SIZE_SMALL,
                  .seed = 1};
    hb_heap_config cfg = {.alloc = a, .alloc_state = as};
    if (getenv("HB_FIDELITY_TRACE"))
        cfg.hook = trace_event;
    for (int i = 0; wl->params[i].name; i++)
        ctx.param[i] = wl->params[i].preset[HB_SIZE_SMALL];
    for (const kv *p = fc->params; p->name; p++) {
        int i = hb_workload_param_index(wl, p->name);
        if (i >= 0)
            ctx.param[i] = p->value;
        else if (is_threshold(p->name))
            cfg.threshold[p->name[9] ? p->name[9] - '0' : 0] = p->value;
        else {
            snprintf(why, len, "%s has no parameter %s", fc->pattern, p->name);
            a->destroy(as);
            return EINVAL;
        }
    }
    void *w = NULL;
    if ((rc = wl->setup(&ctx, &w)) != 0) {
        snprintf(why, len, "%s setup: %s", fc->pattern, strerror(rc));
        a->destroy(as);
        return rc;
    }
    hb_counts counts = {0};
    hb_lat_init(&counts.lat, NULL, 0, 1);
    a->thread_attach(as);
    if ((rc = hb_heap_new(&counts.heap, c, &cfg)) == 0) {
        rc = wl->run(w, 0, &counts);
        for (int g = 0; g < 3; g++) {
            hb_gen_stats st;
            hb_gc_get_stats(counts.heap, g, &st);
            out->v[g][0] = (int64_t)st.collections;
            out->v[g][1] = (int64_t)st.collected;
            out->v[g][2] = (int64_t)st.uncollectable;
        }
        hb_heap_destroy(counts.heap);
    }
    a->thread_detach(as);
    if (rc)
        snprintf(why, len, "%s run: %s", fc->pattern, strerror(rc));
    else if (wl->check(w, why, len))
        rc = EINVAL;
    wl->teardown(w);
    a->destroy(as);
    return rc;
}

/* The Python form under `py`; 0, or an error with its message in why. */
static int run_py(const char *py, const fcase *fc, gstats *out, char *why, size_t len)
{
    char cmd[1024];
    int at = snprintf(cmd, sizeof cmd, "'%s' '%s/%s.py'", py, HB_PY_DIR, fc->pattern);
    for (const kv *p = fc->params; p->name && at < (int)sizeof cmd; p++)
        at += snprintf(cmd + at, sizeof cmd - (size_t)at, " %s=%lld", p->name, (long long)p->value);
    FILE *f = popen(cmd, "r");
    if (!f) {
        snprintf(why, len, "cannot run %.300s: %s", cmd, strerror(errno));
        return errno;
    }
    char line[512] = "";
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "stats ", 6))
            n = sscanf(line + 6, "%ld %ld %ld %ld %ld %ld %ld %ld %ld", &out->v[0][0], &out->v[0][1],
                       &out->v[0][2], &out->v[1][0], &out->v[1][1], &out->v[1][2], &out->v[2][0],
                       &out->v[2][1], &out->v[2][2]);
    int st = pclose(f);
    if (st != 0 || n != 9) {
        snprintf(why, len, "%.300s: exit status %d, %s", cmd, st, n == 9 ? "" : "no stats line");
        return EINVAL;
    }
    return 0;
}

static void params_string(const fcase *fc, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (const kv *p = fc->params; p->name && at < len; p++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s=%lld", at ? " " : "", p->name,
                               (long long)p->value);
    if (!at)
        snprintf(buf, len, "defaults");
}

int main(int argc, char **argv)
{
    const char *py = argc > 1 ? argv[1] : "/usr/bin/python3";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import sys; print(sys.implementation.name, *sys.version_info[:2])' 2>/dev/null", py);
    FILE *f = popen(cmd, "r");
    char ver[64] = "";
    if (!f || !fgets(ver, sizeof ver, f) || strncmp(ver, "cpython 3 11", 12) != 0) {
        printf("skipped: %s is not CPython 3.11 (%s)\n", py, ver[0] ? ver : "not found");
        if (f)
            pclose(f);
        return 77;
    }
    pclose(f);
    int bad = 0;
    printf("| pattern | parameters | gen | collections rcgen / CPython | collected rcgen / CPython |\n");
    printf("|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fcase *fc = &cases[i];
        gstats c = {0}, p = {0};
        char why[512], ps[256];
        params_string(fc, ps, sizeof ps);
        if (run_c(fc, &c, why, sizeof why) || run_py(py, fc, &p, why, sizeof why)) {
            fprintf(stderr, "test_fidelity: %s (%s): %s\n", fc->pattern, ps, why);
            bad = 1;
            continue;
        }
        for (int g = 0; g < 3; g++) {
            int64_t dc = llabs(c.v[g][0] - p.v[g][0]), dk = llabs(c.v[g][1] - p.v[g][1]);
            int off = dc > fc->tol_collections || dk > fc->tol_collected ||
                      c.v[g][2] != p.v[g][2];
            printf("| %s | %s | %d | %lld / %lld | %lld / %lld |%s\n", fc->pattern, ps, g,
                   (long long)c.v[g][0], (long long)p.v[g][0], (long long)c.v[g][1],
                   (long long)p.v[g][1], off ? " **differs**" : "");
            bad |= off;
        }
    }
    if (bad)
        fprintf(stderr, "test_fidelity: rcgen's schedule differs from CPython's beyond the tolerances\n");
    return bad;
}
