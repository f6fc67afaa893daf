/* redis.c -- a server under load on loopback: redis-server driven by
 * redis-benchmark (redis.sh in this folder starts, drives and stops it). */
#include "program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const hb_param_spec redis_params[] = {
    {"requests", {1000, 20000, 200000}, 100, 1 << 30, "requests of each of the 6 commands"},
    {"clients", {8, 50, 50}, 1, 10000, "parallel connections"},
    {"value_bytes", {64, 64, 256}, 1, 1 << 20, "bytes of each SET/GET value"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};
extern const hb_program hb_prog_redis;

static const char *const tests[] = {"SET", "GET", "LPUSH", "LPOP", "SADD", "HSET"};

static int redis_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    int rc = hb_prog_arg(cmd, "sh");
    rc = rc ? rc : hb_prog_arg(cmd, "%s/redis.sh", ctx->src);
    rc = rc ? rc : hb_prog_arg(cmd, "%d", ctx->port);
    for (int i = 0; i < 3 && !rc; i++)
        rc = hb_prog_arg(cmd, "%lld", (long long)ctx->param[i]);
    if (rc)
        snprintf(err, errlen, "redis: command too long");
    return rc;
}

/* redis-benchmark --csv: a header, then "TEST","RPS",... per command. */
static int redis_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    double n = (double)ctx->param[0], seconds = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "\"%s\",\"", tests[i]);
        const char *l = strstr(out, key);
        double rps = l ? strtod(l + strlen(key), NULL) : 0;
        if (!(rps > 0)) {
            snprintf(err, errlen, "redis-benchmark reported no rate for %s", tests[i]);
            return 1;
        }
        seconds += n / rps;
    }
    uint64_t keys = 0;
    if (hb_prog_find_u64(out, "dbsize", &keys) || keys < 2 || keys > 100000 + 8) {
        snprintf(err, errlen, "the server holds %llu keys after the run, want 2 to 100008",
                 (unsigned long long)keys);
        return 1;
    }
    res->ops = (uint64_t)(6 * n);
    res->figure = 6 * n / seconds; /* requests over the benchmark's own time for them */
    return 0;
}

const hb_program hb_prog_redis = {
    .wl = {.name = "redis",
           .doc = "redis-server on loopback under redis-benchmark: SET GET LPUSH LPOP SADD HSET, bounded requests",
           .min_threads = 1, .params = redis_params, .program = &hb_prog_redis},
    .needs = "sh redis-server redis-benchmark redis-cli",
    .figure_unit = "requests/s",
    .prepare = redis_prepare,
    .check = redis_check,
};
