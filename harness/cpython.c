/* cpython.c -- cells of the collector `cpython` (collectors/cpython.c): the
 * real interpreter, Debian's python3 (3.11), running the Python form of a
 * collector workload (workloads/python/NAME.py, listed in
 * workloads/python/forms.h) as a program cell (program.c: fork and exec,
 * the RSS series of the process, wait4's rusage, the preload check, the
 * timeout), with what an in-process collector row has besides:
 *
 *  - wall time and ops: the form's own timing of run(p) and its final
 *    gc.collect() (time.monotonic_ns, CLOCK_MONOTONIC like ours), so the
 *    interpreter's start-up and exit are not the pattern's time (they are
 *    in process_s); ops as the C workload counts them;
 *  - pauses: one per collection, from gc.callbacks' start and stop, into
 *    NAME.pauses.csv; their percentiles and MMU by hb_pause_stats_compute
 *    over the same [run start, run end] as every other row; explicit when
 *    the form's gc.collect() ran it (hbgc.py wraps gc.collect to say so);
 *  - gc.get_stats() per generation, collected_objects (their sum), and
 *    leaked objects: gc.garbage after the final collection (what CPython
 *    found unreachable and could not free), with their shallow sizes.
 *
 * The allocator: `pymalloc` (CPython's own obmalloc; PYTHONMALLOC=pymalloc,
 * which is what an unset PYTHONMALLOC means in a release build, set so a
 * PYTHONMALLOC in the user's environment cannot change it), else
 * PYTHONMALLOC=malloc with the allocator's library preloaded (program.c),
 * `system` being glibc's malloc. The form reports sys.getallocatedblocks(),
 * which counts obmalloc's blocks only, and the check holds it to the
 * allocator: non-zero under pymalloc, zero otherwise.
 *
 * The form's own asserts are the pattern's self-check (hbgc.py: a failed
 * one exits 1 with "self-check failed: FILE line N"); a row is ok only when
 * the program exits 0 and its report is whole and consistent: as many pause
 * events as gc.get_stats() counted collections. */
#include "harness.h"
#include "../workloads/programs/program.h"
#include "../workloads/python/forms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HB_PYTHON_DIR
#define HB_PYTHON_DIR "workloads/python"
#endif

static int pymalloc_init(void **state, const char *options)
{
    (void)state, (void)options;
    return ENOTSUP; /* inside the interpreter: nothing here can call it */
}

const hb_allocator hb_pymalloc_allocator = {
    .name = "pymalloc",
    .doc = "CPython's own obmalloc, inside python3: the collector cpython's default (cpython only)",
    .init = pymalloc_init,
};

int hb_cpython_unrunnable(const hb_cell *c, char *why, size_t len)
{
    char scratch[8];
    if (!why)
        why = scratch, len = sizeof scratch;
    int cpython = c->collector && c->collector->external;
    if (cpython && !hb_python_form(c->workload)) {
        snprintf(why, len, "%s has no Python form (workloads/python/): collector cpython runs only %s",
                 c->workload->name, "the workloads that have one");
        return 1;
    }
    if (!cpython && c->alloc == &hb_pymalloc_allocator) {
        snprintf(why, len, "pymalloc is CPython's own allocator: only collector cpython runs on it");
        return 1;
    }
    return 0;
}

/* The cell being run: its report, filled by check (ctx->arg). */
typedef struct cpy_run {
    hb_cell_out *o;
    const hb_cell *c;
} cpy_run;

static int cpy_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    const cpy_run *run = ctx->arg;
    const hb_cell *c = run->c;
    const char *dir = getenv("HEAPBENCH_PYTHON_DIR"); /* the tests' altered copy */
    if (!dir || !*dir)
        dir = HB_PYTHON_DIR;
    /* Debian's python3 (what setup.sh installs), not another one earlier
     * on PATH (pyenv's, say), whose build may differ */
    const char *exe = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    int pymalloc = c->alloc == &hb_pymalloc_allocator;
    /* -B: no __pycache__ written into the source tree */
    int rc = hb_prog_env(cmd, "PYTHONMALLOC=%s", pymalloc ? "pymalloc" : "malloc") ||
             hb_prog_env(cmd, "HB_CPYTHON_REPORT=1") || hb_prog_env(cmd, "PYTHONHASHSEED=0") ||
             hb_prog_arg(cmd, "%s", exe) || hb_prog_arg(cmd, "-B") ||
             hb_prog_arg(cmd, "%s/%s.py", dir, c->workload->name);
    int i = 0;
    for (const hb_param_spec *s = c->workload->params; !rc && s->name; s++, i++)
        rc = hb_prog_arg(cmd, "%s=%lld", s->name, (long long)ctx->param[i]);
    if (!rc) /* the cell's: its random choices differ by repetition as ours do */
        rc = hb_prog_arg(cmd, "seed=%llu", (unsigned long long)c->seed);
    static const char *const th[3] = {"threshold", "threshold1", "threshold2"};
    /* 0: CPython's own (700, 10, 10); a workload's own `threshold`
     * (generational) is threshold0, as cell.c gives it to our heaps */
    for (int g = 0; !rc && g < 3; g++)
        if (c->gc.threshold[g] && hb_workload_param_index(c->workload, th[g]) < 0)
            rc = hb_prog_arg(cmd, "%s=%ld", th[g], c->gc.threshold[g]);
    if (rc)
        snprintf(err, errlen, "cpython: command too long");
    return rc ? E2BIG : 0;
}

/* The line of `out` starting with "KEY ", or NULL. */
static const char *line_of(const char *out, const char *key)
{
    size_t k = strlen(key);
    for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (!strncmp(l, key, k) && l[k] == ' ')
            return l + k + 1;
    return NULL;
}

/* n unsigned numbers after "KEY " on one line; 0 when all are there. */
static int numbers(const char *out, const char *key, uint64_t *v, int n)
{
    const char *s = line_of(out, key);
    for (int i = 0; s && i < n; i++) {
        char *end;
        errno = 0;
        v[i] = strtoull(s, &end, 10);
        if (errno || end == s || (*end != ' ' && *end != '\n' && *end))
            return EINVAL;
        s = end;
    }
    return s ? 0 : ENOENT;
}

static int cpy_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    const cpy_run *run = ctx->arg;
    hb_cell_out *o = run->o;
    hb_result *r = &o->r;
    uint64_t st[9], t[2], ops, garbage[2], blocks;
    const struct {
        const char *key;
        uint64_t *v;
        int n;
    } line[] = {{"stats", st, 9}, {"run", t, 2}, {"ops", &ops, 1}, {"garbage", garbage, 2},
                {"pymalloc_blocks", &blocks, 1}};
    for (size_t k = 0; k < sizeof line / sizeof line[0]; k++)
        if (numbers(out, line[k].key, line[k].v, line[k].n)) {
            snprintf(err, errlen, "no whole '%s' line in the Python form's report", line[k].key);
            return 1;
        }
    int pymalloc = run->c->alloc == &hb_pymalloc_allocator;
    if (pymalloc != (blocks > 0)) {
        snprintf(err, errlen, "sys.getallocatedblocks() = %" PRIu64 " under PYTHONMALLOC=%s: %s", blocks,
                 pymalloc ? "pymalloc" : "malloc",
                 pymalloc ? "obmalloc serves no object" : "obmalloc still serves objects");
        return 1;
    }
    if (t[1] < t[0] || t[0] < r->t0_ns || ops == 0) {
        snprintf(err, errlen, "run %" PRIu64 " %" PRIu64 ", ops %" PRIu64 ": not a run inside the cell's", t[0],
                 t[1], ops);
        return 1;
    }
    /* the pauses, in order of their start */
    uint64_t n = 0;
    for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, "pause ", 6) != 0)
            continue;
        unsigned long long a, b, g, col, unc, ex;
        if (sscanf(l + 6, "%llu %llu %llu %llu %llu %llu", &a, &b, &g, &col, &unc, &ex) != 6 || b < a || g > 2 ||
            ex > 1 || a < t[0] || b > t[1]) {
            snprintf(err, errlen, "pause line %" PRIu64 " is not a collection inside the run", n + 1);
            return 1;
        }
        hb_pause p = {.start_ns = a, .duration_ns = b - a, .generation = (int32_t)g, .examined = HB_GC_UNKNOWN,
                      .freed = col + unc, .is_explicit = (int32_t)ex};
        if (hb_buf_push(&o->pauses, &p)) {
            snprintf(err, errlen, "cannot hold the pauses: out of memory");
            return 1;
        }
        n++;
    }
    uint64_t collections = st[0] + st[3] + st[6];
    if (n != collections) {
        /* the same rule as for our collectors (cell.c): a lost event would
         * make every pause figure wrong */
        snprintf(err, errlen, "%" PRIu64 " pause events recorded but gc.get_stats() counted %" PRIu64
                 " collections", n, collections);
        return 1;
    }
    r->have_gen_stats = 1;
    for (int g = 0; g < 3; g++)
        r->gen_stats[g] = (hb_gen_stats){st[3 * g], st[3 * g + 1], st[3 * g + 2]};
    r->collected_objects = (int64_t)(st[1] + st[4] + st[7]);
    r->leaked_objects = (int64_t)garbage[0];
    r->leaked_bytes = (int64_t)garbage[1];
    r->have_pauses = 1;
    hb_pause_stats_compute(o->pauses.data, o->pauses.len, t[0], t[1], &r->pauses);
    r->gc_own_ms = r->pauses.total_ms;
    r->gc_own_count = n;
    res->ops = ops;
    res->wall_s = (double)(t[1] - t[0]) / 1e9;
    return 0;
}

int hb_cpython_cell(const hb_cell *c, double timeout_s, const volatile sig_atomic_t *stop, int log_fd,
                    hb_cell_out *o)
{
    /* the form as a program: the workload's name and parameters, python3 */
    hb_program p = {.wl = *c->workload, .needs = "python3", .prepare = cpy_prepare, .check = cpy_check};
    p.wl.program = &p;
    cpy_run run = {.o = o, .c = c};
    return hb_program_run(c, &p, &run, timeout_s, stop, log_fd, o);
}
