/* interpreters.c -- python3, lua5.4 and perl running the project's own
 * scripts (patterns.py, patterns.lua, hash.pl in this folder): interpreters
 * churning small objects. Each script prints key=value lines; the checks
 * here compute every value from N independently, so a wrong result, a
 * crash half-way or a truncated output fails the row. */
#include "program.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static uint64_t digits(uint64_t v)
{
    uint64_t d = 1;
    while (v >= 10)
        v /= 10, d++;
    return d;
}

static int script_cmd(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, const char *exe, const char *script, int64_t n)
{
    int rc = hb_prog_arg(cmd, "%s", exe);
    if (!rc)
        rc = hb_prog_arg(cmd, "%s/%s", ctx->src, script);
    if (!rc)
        rc = hb_prog_arg(cmd, "%lld", (long long)n);
    return rc;
}

/* ---- python3 */
static const hb_param_spec python_params[] = {
    {"n", {10000, 50000, 500000}, 1024, INT64_C(1) << 32,
     "iterations of each pattern (cycles made, records churned; a tenth to an eighth of it for the others)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};
extern const hb_program hb_prog_python;

static int python_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    /* every object from malloc: without it CPython's own pymalloc serves
     * objects up to 512 bytes and the preloaded allocator sees few calls */
    int rc = hb_prog_env(cmd, "PYTHONMALLOC=malloc");
    /* Debian's python3 (the package setup.sh installs), not another one
     * earlier on PATH (pyenv's, say), whose build may differ */
    const char *exe = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    if (!rc)
        rc = script_cmd(ctx, cmd, exe, "patterns.py", ctx->param[0]);
    if (rc)
        snprintf(err, errlen, "python: command too long");
    return rc;
}

static int python_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    uint64_t n = (uint64_t)ctx->param[0], churn = 0, growth = 0;
    for (uint64_t j = 0; j + 1024 < n; j++)
        churn += j % 200 + j % 8;
    for (uint64_t i = 0; i < n / 4; i++)
        growth += digits(i % 1000);
    uint64_t rounds = n / 10000 ? n / 10000 : 1;
    res->ops = n;
    return hb_prog_expect(out, "cycles", n * n, err, errlen) || hb_prog_expect(out, "churn", churn, err, errlen) ||
           hb_prog_expect(out, "selfref", 2 * (n / 8), err, errlen) ||
           hb_prog_expect(out, "materialise", rounds * 49995000u, err, errlen) ||
           hb_prog_expect(out, "growth", growth, err, errlen) || hb_prog_expect(out, "gc_left", 0, err, errlen);
}

const hb_program hb_prog_python = {
    .wl = {.name = "python",
           .doc = "python3 (PYTHONMALLOC=malloc): cycles, small-object churn, arr.append(arr), list vs generator",
           .min_threads = 1, .params = python_params, .program = &hb_prog_python},
    .needs = "python3",
    .prepare = python_prepare,
    .check = python_check,
};

/* ---- lua5.4 */
static const hb_param_spec lua_params[] = {
    {"n", {100000, 1000000, 10000000}, 1024, INT64_C(1) << 32, "tables churned and array slots grown"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};
extern const hb_program hb_prog_lua;

static int lua_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    int rc = script_cmd(ctx, cmd, "lua5.4", "patterns.lua", ctx->param[0]);
    if (rc)
        snprintf(err, errlen, "lua: command too long");
    return rc;
}

static int lua_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    uint64_t n = (uint64_t)ctx->param[0], window = 0, len = 0, m = n / 8;
    for (uint64_t j = 0; j + 1024 < n; j++)
        window += j % 200 + 3;
    for (uint64_t i = 1; i <= m; i++)
        len += digits(i);
    len += m ? m - 1 : 0; /* the commas */
    res->ops = n;
    return hb_prog_expect(out, "window", window, err, errlen) ||
           hb_prog_expect(out, "sum", n * (n + 1) / 2, err, errlen) || hb_prog_expect(out, "len", len, err, errlen) ||
           hb_prog_expect(out, "closures", n / 4, err, errlen);
}

const hb_program hb_prog_lua = {
    .wl = {.name = "lua",
           .doc = "lua5.4: a window of small tables, an array grown by one, string building, closures (realloc-shaped)",
           .min_threads = 1, .params = lua_params, .program = &hb_prog_lua},
    .needs = "lua5.4",
    .prepare = lua_prepare,
    .check = lua_check,
};

/* ---- perl */
static const hb_param_spec perl_params[] = {
    {"n", {50000, 1000000, 10000000}, 1, INT64_C(1) << 32, "appends, over 5003 keys"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};
extern const hb_program hb_prog_perl;

static int perl_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    int rc = script_cmd(ctx, cmd, "perl", "hash.pl", ctx->param[0]);
    if (rc)
        snprintf(err, errlen, "perl: command too long");
    return rc;
}

static int perl_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    uint64_t n = (uint64_t)ctx->param[0], len = 0;
    for (uint64_t i = 0; i < n; i++)
        len += digits(i) + 2; /* "v$i," */
    res->ops = n;
    return hb_prog_expect(out, "keys", n < 5003 ? n : 5003, err, errlen) ||
           hb_prog_expect(out, "len", len, err, errlen) || hb_prog_expect(out, "elems", n, err, errlen);
}

const hb_program hb_prog_perl = {
    .wl = {.name = "perl",
           .doc = "perl: a hash of strings grown by .= and a hash of arrays grown by push, then sorted",
           .min_threads = 1, .params = perl_params, .program = &hb_prog_perl},
    .needs = "perl",
    .prepare = perl_prepare,
    .check = perl_check,
};
