/* options.c -- `heapbench run` arguments. Everything is validated here,
 * before a child runs or a file is touched: a bad value is one line naming it
 * and the valid choices, and exit status 2. */
#include "harness.h"
#include "csvio.h"
#include "../workloads/programs/program.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const size_names[] = {"small", "medium", "large"};

const char *hb_size_name(hb_size s)
{
    return size_names[s];
}

int hb_size_parse(const char *s, hb_size *out)
{
    for (int i = 0; i < HB_SIZE_COUNT; i++)
        if (strcmp(s, size_names[i]) == 0) {
            *out = (hb_size)i;
            return 0;
        }
    return EINVAL;
}

/* Every message of this file: one line on stderr, "heapbench run: " first.
 * It quotes what was typed, which may hold a line break ('--out\n'): that is
 * escaped (hb_msg_one_line), so bad input stays one line. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char msg[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hb_msg_one_line(msg, sizeof msg);
    fprintf(stderr, "heapbench run: %s\n", msg);
}

/* --workloads given more than once: at most this many times (the message
 * that says so spells the number with HB_STR). */
#define MAX_WL_OPTS 16
#define HB_STR_(x) #x
#define HB_STR(x) HB_STR_(x)

static int bad(const char *what, const char *value, const char *choices)
{
    say("bad %s '%s'; valid: %s", what, value, choices);
    return 2;
}

static void allocator_choices(char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < hb_allocator_count && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? "," : "", hb_allocators[i]->name);
    if (at < len) /* CPython's own, for the collector cpython only (cpython.c) */
        snprintf(buf + at, len - at, ",%s", hb_pymalloc_allocator.name);
}

static void workload_choices(const hb_run_opts *o, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < hb_workload_count && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? "," : "", hb_workloads[i]->name);
    for (size_t i = 0; i < hb_program_count && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, ",%s", hb_programs[i]->wl.name);
    for (size_t i = 0; i < o->n_user_programs && at < len; i++) /* --program's */
        at += (size_t)snprintf(buf + at, len - at, ",%s", o->user_programs[i]->name);
    if (at < len)
        snprintf(buf + at, len - at, ",programs (all programs)");
}

/* Adds a workload once (a name given twice, or a program also named by
 * `programs`, is one column of the matrix). */
static int add_workload(hb_run_opts *o, const hb_workload *w)
{
    for (size_t i = 0; i < o->n_workloads; i++)
        if (o->workloads[i] == w)
            return 0;
    if (o->n_workloads == HB_MAX_LIST)
        return bad("--workloads list", w->name, "at most 64 workloads and programs");
    o->workloads[o->n_workloads++] = w;
    return 0;
}

/* A program named on the command line must be runnable here: one line and
 * exit 2 before anything runs, rather than a matrix of failed rows. */
static int program_installed(const hb_program *p)
{
    char what[128];
    if (!hb_program_missing(p, what, sizeof what))
        return 0;
    say("program %s needs %s, which is not on PATH (scripts/setup.sh installs it)", p->wl.name, what);
    return 2;
}

/* Splits a comma list into `items`; empty items are an error (EINVAL), and
 * so is an item given twice (EEXIST, *n its index): a repeated name or count
 * would make cells with the same identity, counted as extra repetitions by
 * compare and dropped by merge. */
static int split(const char *list, char items[][128], size_t max, size_t *n)
{
    *n = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= 128 || *n == max)
            return EINVAL;
        memcpy(items[*n], p, len);
        items[*n][len] = 0;
        for (size_t k = 0; k < *n; k++)
            if (!strcmp(items[k], items[*n]))
                return EEXIST;
        (*n)++;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

static int twice(const char *opt, const char *value)
{
    say("%s gives '%s' twice; give each value once", opt, value);
    return 2;
}

static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return EINVAL;
    *out = v;
    return 0;
}

int hb_parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return EINVAL;
    *out = v;
    return 0;
}

/* One library entry of --allocators or --gc-allocators: resolved and
 * checked now (allocators/library.c), before any cell runs; the same NAME
 * in both options must name the same file. */
static int add_library(hb_run_opts *o, const char *spec, const hb_alloc_lib **out)
{
    hb_alloc_lib lib;
    /* refused here, where the message is escaped: allocators/library.c
     * quotes the spec as it is, and a line break in it would make two */
    for (const unsigned char *p = (const unsigned char *)spec; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            say("bad allocator library '%s': a control character in it", spec);
            return 2;
        }
    if (hb_alloc_lib_resolve(spec, NULL, &lib))
        return 2; /* it said why */
    if (!strcmp(lib.name, hb_pymalloc_allocator.name)) {
        say("allocator name '%s' is CPython's own allocator's; choose another NAME", lib.name);
        return 2;
    }
    if (hb_collector_find(lib.name) || !strcmp(lib.name, "none")) {
        /* figures colour a bare collector name as that collector */
        say("allocator name '%s' is a collector's; choose another NAME", lib.name);
        return 2;
    }
    for (size_t k = 0; k < o->n_libs; k++) {
        if (strcmp(o->libs[k].name, lib.name) != 0)
            continue;
        if (strcmp(o->libs[k].path, lib.path) != 0) {
            say("allocator name '%s' given for two libraries (%s and %s)", lib.name, o->libs[k].path,
                lib.path);
            return 2;
        }
        *out = &o->libs[k];
        return 0;
    }
    if (o->n_libs == HB_MAX_LIBS)
        return bad("--allocators", spec, "at most 16 libraries in one run");
    o->libs[o->n_libs] = lib;
    *out = &o->libs[o->n_libs++];
    return 0;
}

/* A list of builtin names, NAME=PATH and bare PATHs (a path can be longer
 * than split's items, so the list is cut here). */
static int set_allocators(hb_run_opts *o, const hb_allocator **out, const hb_alloc_lib **libs, size_t *count,
                          const char *opt, const char *arg)
{
    char choices[1024], what[64], item[4200];
    allocator_choices(choices, sizeof choices);
    strcat(choices, ", NAME=PATH or PATH of a malloc library");
    snprintf(what, sizeof what, "%s list", opt);
    size_t n = 0;
    for (const char *p = arg;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item || n == HB_MAX_LIST)
            return bad(what, arg, choices);
        memcpy(item, p, len);
        item[len] = 0;
        libs[n] = NULL;
        if (hb_alloc_lib_is_spec(item)) {
            int rc = add_library(o, item, &libs[n]);
            if (rc)
                return rc;
            out[n] = hb_allocator_find("system"); /* which then calls the preloaded library */
        } else if (!strcmp(item, hb_pymalloc_allocator.name)) {
            out[n] = &hb_pymalloc_allocator;
        } else if ((out[n] = hb_allocator_find(item)) == NULL) {
            return bad("allocator", item, choices);
        }
        for (size_t k = 0; k < n; k++) {
            if (libs[n] && libs[k] == libs[n])
                return bad(what, arg, "each library once");
            if (!libs[n] && !libs[k] && out[k] == out[n])
                return twice(opt, item);
        }
        n++;
        p += len;
        if (!*p)
            break;
    }
    *count = n;
    o->named_allocators = 1;
    return 0;
}

static int set_workloads(hb_run_opts *o, const char *arg)
{
    char items[HB_MAX_LIST][128], choices[1024];
    size_t n;
    workload_choices(o, choices, sizeof choices);
    int e = split(arg, items, HB_MAX_LIST, &n);
    if (e)
        return e == EEXIST ? twice("--workloads", items[n]) : bad("--workloads list", arg, choices);
    o->n_workloads = 0;
    o->named_workloads = 1;
    for (size_t i = 0; i < n; i++) {
        const hb_workload *w = hb_workload_find(items[i]);
        const hb_program *p = w ? NULL : hb_program_find(items[i]);
        int rc = 0;
        if (!strcmp(items[i], "programs")) {
            for (size_t k = 0; k < hb_program_count && !rc; k++)
                if (!(rc = program_installed(hb_programs[k])))
                    rc = add_workload(o, &hb_programs[k]->wl);
        } else if (p) {
            if (!(rc = program_installed(p)))
                rc = add_workload(o, &p->wl);
        } else if (w) {
            rc = add_workload(o, w);
        } else {
            return bad("workload", items[i], choices);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static void collector_choices(char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < hb_collector_count && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? "," : "", hb_collectors[i]->name);
}

static int set_collectors(hb_run_opts *o, const char *arg)
{
    char items[HB_MAX_LIST][128], choices[1024];
    size_t n;
    collector_choices(choices, sizeof choices);
    int e = split(arg, items, HB_MAX_LIST, &n);
    if (e)
        return e == EEXIST ? twice("--collectors", items[n]) : bad("--collectors list", arg, choices);
    for (size_t i = 0; i < n; i++) {
        const hb_collector *c = hb_collector_find(items[i]);
        if (!c)
            return bad("collector", items[i], choices);
        o->collectors[i] = c;
    }
    o->n_collectors = n;
    return 0;
}

/* Keys of --param that set the collector rather than a workload. */
static const struct {
    const char *key;
    int64_t min, max;
} gc_keys[] = {
    {"threshold", 1, 1000000000}, /* rcgen's threshold0 (CPython's 700) */
    {"threshold1", 1, 1000000000},
    {"threshold2", 1, 1000000000},
    {"grow_pct", 101, 100000}, /* marksweep: next collection at this % of survivors */
    {"garbage_ms", 1, 3600000}, /* garbage held: a verifying trace every N ms (refcounting collectors) */
    {"refcount", HB_RC_ATOMIC, HB_RC_BIASED}, /* shared heaps' counts; words on the command line */
    /* a hard heap limit in KiB (collectors with max_heap_ok); 64 KiB is
     * below any workload's heap, 2^32 KiB (4 TiB) above any machine's */
    {"heap_kb", 64, (int64_t)1 << 32},
    /* rcinc: its scavenge's mark done a slice per increment (1), not in
     * one pause at the start as 3.14.0 does (0, the default) */
    {"incremental_mark", 0, 1},
};
enum { GC_KEY_REFCOUNT = 5, GC_KEY_HEAP_KB = 6, GC_KEY_INCREMENTAL_MARK = 7 };

int hb_gc_params_take(const char *key, int64_t value, hb_gc_params *gc, int *taken)
{
    *taken = 0;
    for (size_t i = 0; i < sizeof gc_keys / sizeof gc_keys[0]; i++) {
        if (strcmp(key, gc_keys[i].key) != 0)
            continue;
        *taken = 1;
        if (value < gc_keys[i].min || value > gc_keys[i].max) {
            say("bad --param value '%s=%lld'; valid: %s from %lld to %lld", key, (long long)value, key,
                (long long)gc_keys[i].min, (long long)gc_keys[i].max);
            return 2;
        }
        if (i < 3)
            gc->threshold[i] = (long)value;
        else if (i == 3)
            gc->grow_pct = (int)value;
        else if (i == 4)
            gc->garbage_ms = (int)value;
        else if (i == GC_KEY_HEAP_KB)
            gc->heap_kb = value;
        else if (i == GC_KEY_INCREMENTAL_MARK)
            gc->incremental_mark = (int)value;
        else
            gc->refcount = (int)value;
    }
    return 0;
}

int hb_param_applies(const char *key, const hb_workload *wl, const hb_collector *gc, int shared)
{
    if (wl && hb_workload_param_index(wl, key) >= 0)
        return 1;
    if (!gc)
        return 0;
    if (!strcmp(key, gc_keys[GC_KEY_REFCOUNT].key))
        return shared && !gc->external;
    if (shared && !strcmp(key, "garbage_ms")) /* not sampled in shared heaps (collector.h) */
        return 0;
    /* the collector's own list (collector.h, params) */
    size_t kl = strlen(key);
    for (const char *p = gc->params ? gc->params : ""; *p;) {
        size_t n = strcspn(p, ",");
        if (n == kl && !strncmp(p, key, kl))
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

static int set_threads(hb_run_opts *o, const char *arg)
{
    char items[HB_MAX_LIST][128];
    size_t n;
    int e = split(arg, items, HB_MAX_LIST, &n);
    if (e)
        return e == EEXIST ? twice("--threads", items[n])
                           : bad("--threads list", arg, "comma-separated counts from 1 to 1024");
    for (size_t i = 0; i < n; i++) {
        long long v;
        if (parse_int(items[i], 1, HB_MAX_THREADS, &v))
            return bad("thread count", items[i], "1 to 1024");
        o->threads[i] = (int)v;
        for (size_t k = 0; k < i; k++) /* 1 and 01 */
            if (o->threads[k] == o->threads[i])
                return twice("--threads", items[i]);
    }
    o->n_threads = n;
    return 0;
}

static const char param_forms[] =
    "KEY=VALUE, a list KEY=V1,V2,... or a range KEY=FROM..TO+STEP (linear) or KEY=FROM..TO*FACTOR "
    "(geometric), with integers";

/* A value or a range of --param's list, appended to sw. 0, EINVAL, or
 * EEXIST (a value given twice, *dup it). */
static int add_values(hb_param_sweep *sw, const char *item, int64_t *dup)
{
    char *end;
    errno = 0;
    long long from = strtoll(item, &end, 10), to, step;
    if (errno || end == item)
        return EINVAL;
    long long lo = from, hi = from, by = 1;
    char how = 0;
    if (end[0] == '.' && end[1] == '.') {
        const char *p = end + 2;
        to = strtoll(p, &end, 10);
        if (errno || end == p || (*end != '+' && *end != '*'))
            return EINVAL;
        how = *end;
        p = end + 1;
        step = strtoll(p, &end, 10);
        if (errno || end == p || *end || to < from || step < (how == '*' ? 2 : 1) ||
            (how == '*' && from < 1)) /* a geometric range from 0 or below never grows */
            return EINVAL;
        hi = to;
        by = step;
    } else if (*end) {
        return EINVAL;
    }
    for (long long v = lo;;) {
        for (size_t k = 0; k < sw->n; k++)
            if (sw->value[k] == v) {
                *dup = v;
                return EEXIST;
            }
        if (sw->n == HB_MAX_SWEEP)
            return E2BIG;
        sw->value[sw->n++] = v;
        /* the next value, stopping at `hi` without overflowing */
        if (how == '*' ? v > hi / by : v > hi - by)
            break;
        v = how == '*' ? v * by : v + by;
    }
    return 0;
}

static int add_param(hb_run_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof o->params[0].key || !eq[1])
        return bad("--param", arg, param_forms);
    if (o->n_params == HB_MAX_PARAMS)
        return bad("--param", arg, "at most 16 parameters");
    hb_param_sweep *sw = &o->params[o->n_params];
    memset(sw, 0, sizeof *sw);
    memcpy(sw->key, arg, (size_t)(eq - arg));
    sw->key[eq - arg] = 0;
    for (size_t i = 0; i < o->n_params; i++)
        if (strcmp(o->params[i].key, sw->key) == 0) {
            /* two values of one key would be one dimension said twice: the
             * list form says it once */
            say("--param gives '%s' twice; give each KEY once, its values as a list (%s=A,B,C)", sw->key,
                sw->key);
            return 2;
        }
    /* the one parameter with words for values: how shared heaps count */
    int words = !strcmp(sw->key, "refcount");
    const char *p = eq + 1;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[128];
        if (len == 0 || len >= sizeof item)
            return bad("--param", arg, words ? "refcount=atomic, refcount=biased or refcount=atomic,biased"
                                             : param_forms);
        memcpy(item, p, len);
        item[len] = 0;
        int64_t dup = 0;
        int e;
        if (words) {
            int64_t v = !strcmp(item, "atomic") ? HB_RC_ATOMIC : !strcmp(item, "biased") ? HB_RC_BIASED : -1;
            if (v < 0)
                return bad("--param", arg, "refcount=atomic, refcount=biased or refcount=atomic,biased");
            e = 0;
            for (size_t k = 0; k < sw->n; k++)
                if (sw->value[k] == v)
                    e = EEXIST;
            if (!e)
                sw->value[sw->n++] = v;
            if (e)
                return twice("--param refcount", item);
        } else if ((e = add_values(sw, item, &dup)) != 0) {
            if (e == EEXIST) {
                char v[32], opt[80];
                snprintf(v, sizeof v, "%lld", (long long)dup);
                snprintf(opt, sizeof opt, "--param %s", sw->key);
                return twice(opt, v);
            }
            return bad("--param", arg, e == E2BIG ? "at most 64 values for one KEY" : param_forms);
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    o->n_params++;
    /* each factor is at most 64 and the product is checked as it grows, so
     * it cannot overflow */
    for (size_t i = 0, c = 1; i < o->n_params; i++)
        if ((c *= o->params[i].n) > HB_MAX_COMBOS)
            return bad("--param", arg, "at most 4096 combinations of the values of every --param");
    return 0;
}

/* The keys the selected workloads take, for a message: each key once, as
 * --param takes it (bare: it sets every workload that declares it), with
 * those workloads after it, "n (python,lua), rows (sqlite)", then the
 * collectors' keys when any_gc (a collector workload is selected); cut
 * where the buffer fills (writing past its end would be undefined: UBSan,
 * fuzzing). */
static void param_keys(const hb_run_opts *o, int any_gc, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t w = 0; w < o->n_workloads && at < len; w++)
        for (const hb_param_spec *s = o->workloads[w]->params; s && s->name && at < len; s++) {
            int seen = 0;
            for (size_t e = 0; e < w && !seen; e++)
                seen = hb_workload_param_index(o->workloads[e], s->name) >= 0;
            if (seen)
                continue;
            at += (size_t)snprintf(buf + at, len - at, "%s%s (", at ? ", " : "", s->name);
            for (size_t e = w, first = 1; e < o->n_workloads && at < len; e++)
                if (hb_workload_param_index(o->workloads[e], s->name) >= 0) {
                    at += (size_t)snprintf(buf + at, len - at, "%s%s", first ? "" : ",", o->workloads[e]->name);
                    first = 0;
                }
            if (at < len)
                at += (size_t)snprintf(buf + at, len - at, ")");
        }
    for (size_t i = 0; any_gc && i < sizeof gc_keys / sizeof gc_keys[0] && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? "," : at ? "; the collectors': " : "the collectors': ",
                               gc_keys[i].key);
}

/* Every --param must be declared by at least one selected workload (or be
 * a collector's, with a collector workload selected), and each of its
 * values in range for each workload that declares it. */
static int check_params(hb_run_opts *o)
{
    int any_gc = 0;
    for (size_t w = 0; w < o->n_workloads; w++)
        any_gc |= o->workloads[w]->needs_collector;
    for (size_t k = 0; k < o->n_params; k++) {
        const hb_param_sweep *sw = &o->params[k];
        int known = 0;
        for (size_t w = 0; w < o->n_workloads; w++) {
            const hb_workload *wl = o->workloads[w];
            for (const hb_param_spec *s = wl->params; s && s->name; s++) {
                if (strcmp(s->name, sw->key) != 0)
                    continue;
                known = 1;
                for (size_t v = 0; v < sw->n; v++)
                    if (sw->value[v] < s->min || sw->value[v] > s->max) {
                        char range[128], val[128];
                        snprintf(range, sizeof range, "%s.%s from %lld to %lld", wl->name, s->name,
                                 (long long)s->min, (long long)s->max);
                        snprintf(val, sizeof val, "%s=%lld", sw->key, (long long)sw->value[v]);
                        return bad("--param value", val, range);
                    }
            }
        }
        if (any_gc) {
            int taken = 0;
            for (size_t v = 0; v < sw->n; v++) {
                hb_gc_params scratch = {0};
                int rc = hb_gc_params_take(sw->key, sw->value[v], &scratch, &taken);
                if (rc)
                    return rc;
            }
            /* a collector's key that no selected collector honours would
             * be taken and change nothing: said, as an unknown key is */
            if (taken && !known && strcmp(sw->key, gc_keys[GC_KEY_REFCOUNT].key) != 0) {
                char who[512] = "", chosen[512] = "";
                size_t wat = 0, cat = 0;
                int any = 0;
                for (size_t i = 0; i < hb_collector_count; i++)
                    if (hb_param_applies(sw->key, NULL, hb_collectors[i], 0) && wat < sizeof who)
                        wat += (size_t)snprintf(who + wat, sizeof who - wat, "%s%s", wat ? "," : "",
                                                hb_collectors[i]->name);
                for (size_t c = 0; c < o->n_collectors; c++) {
                    any |= hb_param_applies(sw->key, NULL, o->collectors[c], 0);
                    if (cat < sizeof chosen)
                        cat += (size_t)snprintf(chosen + cat, sizeof chosen - cat, "%s%s", cat ? "," : "",
                                                o->collectors[c]->name);
                }
                if (!any) {
                    say("--param %s: none of the collectors (%s) takes it; %s do", sw->key, chosen, who);
                    return 2;
                }
            }
            known |= taken;
        }
        if (!known) {
            char keys[1024];
            param_keys(o, any_gc, keys, sizeof keys);
            return bad("--param key", sw->key, keys[0] ? keys : "(the workloads take none)");
        }
    }
    return 0;
}

/* --heap-factors F1,F2,...: multiples of the minimum heap, each from 1 to
 * 100, none twice. */
static int set_heap_factors(hb_run_opts *o, const char *arg)
{
    char items[HB_MAX_LIST][128];
    size_t n;
    int e = split(arg, items, HB_MAX_LIST, &n);
    if (e)
        return e == EEXIST ? twice("--heap-factors", items[n])
                           : bad("--heap-factors", arg, "comma-separated multiples of the minimum heap, from 1 to 100");
    for (size_t i = 0; i < n; i++) {
        char *end;
        errno = 0;
        double f = strtod(items[i], &end);
        if (errno || end == items[i] || *end || !(f >= 1 && f <= 100))
            return bad("heap factor", items[i], "a number from 1 to 100 (a multiple of the minimum heap)");
        for (size_t k = 0; k < i; k++) /* 1.5 and 1.50 */
            if (o->heap_factors[k] == f)
                return twice("--heap-factors", items[i]);
        o->heap_factors[i] = f;
    }
    o->n_heap_factors = n;
    return 0;
}

static int usage_error(const char *opt)
{
    say("unknown option '%s'; valid: --allocators A,NAME=PATH --collectors C,D --gc-allocators A,B --workloads W,X "
        "--threads 1,2 --reps N --max-reps M --narrow PCT --size small|medium|large --param KEY=V1,V2|KEY=A..B+S|KEY=A..B*F --timeout S "
        "--heap isolated,shared --warmup N --interleave --steady --pin --shard K/N --resume --lat-every N --sample-ms N "
        "--program NAME='CMD ARGS' --verbose --heap-factors F1,F2 --out FILE.csv",
        opt);
    return 2;
}

static int set_heap(hb_run_opts *o, const char *arg)
{
    char items[HB_MAX_LIST][128];
    size_t n;
    int e = split(arg, items, HB_MAX_LIST, &n);
    if (e)
        return e == EEXIST ? twice("--heap", items[n]) : bad("--heap", arg, "isolated, shared or isolated,shared");
    o->heap_modes = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(items[i], "isolated"))
            o->heap_modes |= HB_HEAP_ISOLATED;
        else if (!strcmp(items[i], "shared"))
            o->heap_modes |= HB_HEAP_SHARED;
        else
            return bad("--heap", items[i], "isolated, shared");
    }
    return 0;
}

static int set_shard(hb_run_opts *o, const char *arg)
{
    int k, n, used = 0;
    if (sscanf(arg, "%d/%d%n", &k, &n, &used) != 2 || arg[used] || n < 1 || k < 1 || k > n ||
        n > 100000)
        return bad("--shard", arg, "K/N with 1 <= K <= N, e.g. 2/8");
    o->shard_k = k;
    o->shard_n = n;
    return 0;
}

/* The physical cores, for the default thread list: read only when that list
 * is needed, and once, since loading hwloc's topology takes milliseconds and
 * the machine does not change while the process runs (the options' fuzz
 * target parses hundreds of command lines a second). */
static int core_count(void)
{
    static int cores;
    if (!cores) {
        hb_env env;
        hb_env_read(&env);
        cores = env.cores > 0 ? env.cores : 1;
    }
    return cores;
}

int hb_opts_parse(int argc, char **argv, hb_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->reps = 1;
    o->size = HB_SIZE_SMALL;
    o->timeout_s = 600;
    o->is_default = argc == 0;
    o->warmup = 1;
    o->narrow = -1; /* 5 unless given: see below */
    /* One operation in 256 timed. Measured on arena churn (~24 ns an
     * operation), one in 64 cost 4.3% of throughput, one in 128 2.4% and one
     * in 256 0.3%, against the 3% the harness allows itself; a small cell
     * still gets ten thousand samples. scripts/harness-cost.sh prints it. */
    o->measure.lat_every = 256;
    o->measure.sample_ms = 10;
    o->heap_modes = HB_HEAP_ISOLATED;

    int rc = 0;
    /* --workloads are read after every --program, which may come later */
    const char *wl_vals[MAX_WL_OPTS];
    int n_wl_vals = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        char *arg = argv[i], *val = NULL;
        /* flags take no value */
        if (!strcmp(arg, "--interleave")) {
            o->interleave = 1;
            continue;
        }
        if (!strcmp(arg, "--pin")) {
            o->measure.pin = 1;
            continue;
        }
        if (!strcmp(arg, "--resume")) {
            o->resume = 1;
            continue;
        }
        if (!strcmp(arg, "--verbose")) {
            o->verbose = 1;
            continue;
        }
        if (!strcmp(arg, "--steady")) {
            o->steady = 1;
            continue;
        }
        char name[64];
        char *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof name) {
            memcpy(name, arg, (size_t)(eq - arg));
            name[eq - arg] = 0;
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", arg);
            if (i + 1 < argc)
                val = argv[i + 1], i++;
        }
        int takes_value = !strcmp(name, "--allocators") || !strcmp(name, "--workloads") ||
                          !strcmp(name, "--gc-allocators") ||
                          !strcmp(name, "--collectors") ||
                          !strcmp(name, "--threads") || !strcmp(name, "--reps") ||
                          !strcmp(name, "--max-reps") || !strcmp(name, "--narrow") ||
                          !strcmp(name, "--size") || !strcmp(name, "--param") ||
                          !strcmp(name, "--out") || !strcmp(name, "--timeout") ||
                          !strcmp(name, "--warmup") || !strcmp(name, "--shard") ||
                          !strcmp(name, "--lat-every") || !strcmp(name, "--sample-ms") ||
                          !strcmp(name, "--heap") || !strcmp(name, "--program") ||
                          !strcmp(name, "--heap-factors");
        if (!takes_value)
            return usage_error(arg);
        if (!val) {
            say("%s needs a value", name);
            return 2;
        }
        long long v;
        if (!strcmp(name, "--allocators"))
            rc = set_allocators(o, o->allocators, o->alloc_libs, &o->n_allocators, name, val);
        else if (!strcmp(name, "--gc-allocators"))
            rc = set_allocators(o, o->gc_allocators, o->gc_libs, &o->n_gc_allocators, name, val);
        else if (!strcmp(name, "--workloads"))
            rc = n_wl_vals < MAX_WL_OPTS ? (wl_vals[n_wl_vals++] = val, 0)
                                         : bad("--workloads", val, "at most " HB_STR(MAX_WL_OPTS) " --workloads options");
        else if (!strcmp(name, "--collectors"))
            rc = set_collectors(o, val);
        else if (!strcmp(name, "--threads"))
            rc = set_threads(o, val);
        else if (!strcmp(name, "--reps"))
            rc = parse_int(val, 1, 10000, &v) ? bad("--reps", val, "1 to 10000") : (o->reps = (int)v, 0);
        else if (!strcmp(name, "--max-reps"))
            rc = parse_int(val, 1, 10000, &v) ? bad("--max-reps", val, "1 to 10000") : (o->max_reps = (int)v, 0);
        else if (!strcmp(name, "--narrow"))
            rc = hb_parse_num(val, 0.1, 100, &o->narrow) ? bad("--narrow", val, "a percentage from 0.1 to 100") : 0;
        else if (!strcmp(name, "--timeout"))
            rc = parse_int(val, 1, 86400, &v) ? bad("--timeout", val, "1 to 86400 seconds")
                                              : (o->timeout_s = (double)v, 0);
        else if (!strcmp(name, "--warmup"))
            rc = parse_int(val, 0, 100, &v) ? bad("--warmup", val, "0 to 100") : (o->warmup = (int)v, 0);
        else if (!strcmp(name, "--lat-every"))
            rc = parse_int(val, 0, 1 << 20, &v) ? bad("--lat-every", val, "0 (off) to 1048576")
                                                : (o->measure.lat_every = (unsigned)v, 0);
        else if (!strcmp(name, "--sample-ms"))
            rc = parse_int(val, 0, 60000, &v) ? bad("--sample-ms", val, "0 (off) to 60000")
                                              : (o->measure.sample_ms = (unsigned)v, 0);
        else if (!strcmp(name, "--shard"))
            rc = set_shard(o, val);
        else if (!strcmp(name, "--heap"))
            rc = set_heap(o, val);
        else if (!strcmp(name, "--size"))
            rc = hb_size_parse(val, &o->size) ? bad("--size", val, "small,medium,large") : 0;
        else if (!strcmp(name, "--param"))
            rc = add_param(o, val);
        else if (!strcmp(name, "--heap-factors"))
            rc = set_heap_factors(o, val);
        else if (!strcmp(name, "--program")) {
            const hb_program *p;
            if (o->n_user_programs == HB_MAX_LIST)
                return bad("--program", val, "at most 64 of them");
            char why[8192];
            if (!(rc = hb_program_add_user(val, &p, why, sizeof why)))
                o->user_programs[o->n_user_programs++] = &p->wl;
            else
                say("%s", why);
        }
        else if (!strcmp(name, "--out")) {
            if (!*val || strlen(val) >= sizeof o->out)
                return bad("--out", val, "a file path");
            snprintf(o->out, sizeof o->out, "%s", val);
        }
    }
    for (int i = 0; i < n_wl_vals && !rc; i++)
        rc = set_workloads(o, wl_vals[i]);
    if (rc)
        return rc;

    /* Defaults: every backend and workload; threads 1 and the core count. */
    if (o->n_allocators == 0) {
        /* `null` is the harness's own yardstick, never a contender */
        for (size_t i = 0; i < hb_allocator_count && i < HB_MAX_LIST; i++)
            if (strcmp(hb_allocators[i]->name, "null") != 0)
                o->allocators[o->n_allocators++] = hb_allocators[i];
    }
    if (o->is_default && o->n_gc_allocators == 0) {
        /* The default matrix must finish in 3 minutes on 2 cores: collector
         * workloads run on glibc and on arena (CPython's own pairing), not on
         * every allocator; allocator workloads still run on every one. */
        o->gc_allocators[o->n_gc_allocators++] = hb_allocator_find("system");
        o->gc_allocators[o->n_gc_allocators++] = hb_allocator_find("arena");
    }
    if (o->n_gc_allocators == 0) {
        memcpy(o->gc_allocators, o->allocators, o->n_allocators * sizeof o->allocators[0]);
        memcpy(o->gc_libs, o->alloc_libs, o->n_allocators * sizeof o->alloc_libs[0]);
        o->n_gc_allocators = o->n_allocators;
    }
    if (o->n_collectors == 0) {
        /* external ones (cpython) only when named: they need python3 and
         * run only the workloads that have a Python form */
        for (size_t i = 0; i < hb_collector_count && i < HB_MAX_LIST; i++)
            if (!hb_collectors[i]->external)
                o->collectors[o->n_collectors++] = hb_collectors[i];
    }
    if (!o->named_workloads) {
        /* every workload, in-process and program (the default matrix runs
         * the bundled programs too); one not installed is a skipped row */
        for (size_t i = 0; i < hb_workload_count && i < HB_MAX_LIST; i++)
            o->workloads[o->n_workloads++] = hb_workloads[i];
        for (size_t i = 0; i < hb_program_count && !rc; i++)
            rc = add_workload(o, &hb_programs[i]->wl);
    }
    for (size_t i = 0; i < o->n_user_programs && !rc; i++)
        rc = add_workload(o, o->user_programs[i]);
    if (rc)
        return rc;
    if (o->n_threads == 0) {
        o->threads[o->n_threads++] = 1;
        int cores = core_count();
        if (cores > 1)
            o->threads[o->n_threads++] = cores > HB_MAX_THREADS ? HB_MAX_THREADS : cores;
    }
    if (o->is_default) {
        o->reps = 5; /* enough for the summary's intervals (4 is the fewest with a 95% one) */
        /* and no unrecorded run first: each repetition is a process of its
         * own anyway, the summary takes medians, and a sixth run of every
         * cell would not fit the 3 minutes */
        o->warmup = 0;
    }
    if (o->max_reps && o->max_reps < o->reps) {
        say("--max-reps %d is below --reps %d: it is the most repetitions a cell may get", o->max_reps, o->reps);
        return 2;
    }
    if (o->narrow > 0 && !o->max_reps) {
        say("--narrow says when --max-reps stops adding rounds; give --max-reps too");
        return 2;
    }
    if (o->narrow < 0)
        o->narrow = 5;
    if (o->resume && !o->out[0]) {
        say("--resume needs the --out file to finish");
        return 2;
    }
    if ((rc = check_params(o)))
        return rc;
    int limited = 0;
    for (size_t k = 0; k < o->n_collectors; k++)
        limited |= o->collectors[k]->max_heap_ok;
    if (o->n_heap_factors && !limited) {
        say("--heap-factors: none of the collectors takes a heap limit; marksweep and boehm do");
        return 2;
    }
    for (size_t k = 0; k < o->n_params && o->n_heap_factors; k++)
        if (!strcmp(o->params[k].key, gc_keys[GC_KEY_HEAP_KB].key)) {
            say("--heap-factors sets each cell's heap_kb from its minimum heap; give it or --param heap_kb, "
                "not both");
            return 2;
        }

    if (!o->out[0]) {
        char stamp[32];
        hb_utc_stamp(stamp, sizeof stamp, 1);
        snprintf(o->out, sizeof o->out, "results/%s-%s.csv", o->is_default ? "default" : "run", stamp);
        mkdir("results", 0755); /* the default place; an --out is never created for */
    }
    char why[512];
    if (hb_csv_check_writable(o->out, why, sizeof why)) {
        say("cannot write --out '%s': %s", o->out, why);
        return 2;
    }
    return 0;
}
