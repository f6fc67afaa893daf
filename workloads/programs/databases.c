/* databases.c -- sqlite3 on a generated schema, and RocksDB's own tools
 * (rocksdb-tools): db_bench on a fresh database and cache_bench on its
 * block cache, both with the cell's thread count. */
#include "program.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sqlite3: a generated catalogue in memory */
static const hb_param_spec sqlite_params[] = {
    {"rows", {10000, 100000, 1000000}, 16, INT64_C(1) << 31, "rows inserted (each an INSERT statement)"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};
extern const hb_program hb_prog_sqlite;

/* What the generator puts in, for the check: the same seed gives the same
 * rows, so prepare and check each compute it. */
typedef struct sqlite_expect {
    uint64_t price_sum, name_len, cats_even, long_names;
    uint64_t cats; /* a bit per category present */
} sqlite_expect;

static void sqlite_rows(const hb_prog_ctx *ctx, FILE *f, sqlite_expect *e)
{
    uint64_t s = ctx->seed, rows = (uint64_t)ctx->param[0];
    memset(e, 0, sizeof *e);
    for (uint64_t id = 1; id <= rows; id++) {
        unsigned cat = (unsigned)hb_rand_below(&s, 64);
        unsigned price = (unsigned)hb_rand_below(&s, 100000);
        unsigned nlen = 4 + (unsigned)hb_rand_below(&s, 60);
        char name[72];
        for (unsigned k = 0; k < nlen; k++)
            name[k] = (char)('a' + hb_rand_below(&s, 26));
        name[nlen] = 0;
        e->price_sum += price;
        /* after the UPDATE below: even categories get "-sale" appended */
        e->name_len += nlen + (cat % 2 == 0 ? 5 : 0);
        e->cats_even += cat % 2 == 0;
        e->long_names += nlen >= 40;
        e->cats |= UINT64_C(1) << cat;
        if (f)
            fprintf(f, "INSERT INTO item VALUES(%" PRIu64 ",'%s',%u,%u,'%s%s');\n", id, name, cat, price,
                    nlen % 3 ? "note " : "", name);
    }
}

static int sqlite_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    FILE *f = hb_prog_create(ctx, "schema.sql", err, errlen);
    if (!f)
        return EIO;
    sqlite_expect e;
    fputs("CREATE TABLE cat(id INTEGER PRIMARY KEY, label TEXT NOT NULL);\n"
          "CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL, cat INTEGER NOT NULL REFERENCES cat(id),\n"
          "                  price INTEGER NOT NULL, note TEXT);\n"
          "WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < 63)\n"
          "  INSERT INTO cat SELECT x, 'category ' || x FROM c;\n"
          "BEGIN;\n", f);
    sqlite_rows(ctx, f, &e);
    fputs("COMMIT;\n"
          "CREATE INDEX item_cat ON item(cat, price);\n"
          "CREATE INDEX item_name ON item(name);\n"
          "UPDATE item SET name = name || '-sale' WHERE cat % 2 = 0;\n"
          "SELECT 'rows=' || count(*) FROM item;\n"
          "SELECT 'price_sum=' || sum(price) FROM item;\n"
          "SELECT 'name_len=' || sum(length(name)) FROM item;\n"
          "SELECT 'cats_even=' || count(*) FROM item JOIN cat ON item.cat = cat.id WHERE cat.id % 2 = 0;\n"
          "SELECT 'long_names=' || count(*) FROM item WHERE length(replace(name, '-sale', '')) >= 40;\n"
          "SELECT 'groups=' || count(*) FROM (SELECT cat, max(price), group_concat(substr(name, 1, 3)) FROM item\n"
          "                                    GROUP BY cat ORDER BY 2 DESC);\n", f);
    int rc = hb_prog_close(f, "schema.sql", err, errlen);
    if (rc)
        return rc;
    rc = hb_prog_arg(cmd, "sqlite3");
    rc = rc ? rc : hb_prog_arg(cmd, "-batch");
    rc = rc ? rc : hb_prog_arg(cmd, ":memory:");
    rc = rc ? rc : hb_prog_arg(cmd, ".read schema.sql");
    return rc;
}

static int sqlite_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    sqlite_expect e;
    uint64_t rows = (uint64_t)ctx->param[0];
    sqlite_rows(ctx, NULL, &e);
    res->ops = rows;
    return hb_prog_expect(out, "rows", rows, err, errlen) || hb_prog_expect(out, "price_sum", e.price_sum, err, errlen) ||
           hb_prog_expect(out, "name_len", e.name_len, err, errlen) ||
           hb_prog_expect(out, "cats_even", e.cats_even, err, errlen) ||
           hb_prog_expect(out, "long_names", e.long_names, err, errlen) ||
           hb_prog_expect(out, "groups", (uint64_t)__builtin_popcountll(e.cats), err, errlen);
}

const hb_program hb_prog_sqlite = {
    .wl = {.name = "sqlite",
           .doc = "sqlite3 in memory: a generated two-table schema, one INSERT per row, indexes, UPDATE, joins",
           .min_threads = 1, .params = sqlite_params, .program = &hb_prog_sqlite},
    .needs = "sqlite3",
    .prepare = sqlite_prepare,
    .check = sqlite_check,
};

/* Reads "NAME : ... X ops/sec ... N operations" off db_bench's or a
 * similar report line. */
static const char *line_of(const char *out, const char *start)
{
    size_t k = strlen(start);
    for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (strncmp(l, start, k) == 0)
            return l;
    return NULL;
}

/* ---- db_bench: fill a fresh database in order, then read it at random */
static const hb_param_spec db_bench_params[] = {
    {"num", {10000, 200000, 2000000}, 100, INT64_C(1) << 32, "keys written by each thread, then read"},
    {"value_size", {100, 100, 100}, 1, 1 << 20, "bytes per value"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};
extern const hb_program hb_prog_db_bench;

static int db_bench_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    /* no WAL and no compression: the memtable, the block cache and the
     * flushes' buffers are what runs, not the disk or zlib */
    int rc = hb_prog_arg(cmd, "db_bench");
    rc = rc ? rc : hb_prog_arg(cmd, "--benchmarks=fillseq,readrandom");
    rc = rc ? rc : hb_prog_arg(cmd, "--num=%lld", (long long)ctx->param[0]);
    rc = rc ? rc : hb_prog_arg(cmd, "--value_size=%lld", (long long)ctx->param[1]);
    rc = rc ? rc : hb_prog_arg(cmd, "--threads=%d", ctx->threads);
    rc = rc ? rc : hb_prog_arg(cmd, "--db=%s/db", ctx->dir);
    rc = rc ? rc : hb_prog_arg(cmd, "--seed=%llu", (unsigned long long)(ctx->seed % 1000000007u) + 1);
    rc = rc ? rc : hb_prog_arg(cmd, "--compression_type=none");
    rc = rc ? rc : hb_prog_arg(cmd, "--disable_wal=1");
    rc = rc ? rc : hb_prog_arg(cmd, "--progress_reports=0");
    rc = rc ? rc : hb_prog_arg(cmd, "--stats_interval_seconds=0");
    if (rc)
        snprintf(err, errlen, "db_bench: command too long");
    return rc;
}

static int db_bench_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    unsigned long long num = (unsigned long long)ctx->param[0], ops = num * (unsigned long long)ctx->threads;
    const char *fill = line_of(out, "fillseq "), *read = line_of(out, "readrandom ");
    unsigned long long n1 = 0, n2 = 0, found = 0, of = 0;
    double rate = 0;
    if (!fill || !read) {
        snprintf(err, errlen, "no %s line in db_bench's report", fill ? "readrandom" : "fillseq");
        return 1;
    }
    const char *p = strstr(fill, "seconds ");
    if (!p || sscanf(p, "seconds %llu operations", &n1) != 1 || n1 != ops) {
        snprintf(err, errlen, "fillseq: %llu operations, want %llu", n1, ops);
        return 1;
    }
    p = strstr(read, "ops/sec");
    const char *q = strstr(read, "seconds ");
    const char *f = strstr(read, "(");
    if (!p || !q || !f || sscanf(strstr(read, ":") + 1, "%*f micros/op %lf ops/sec", &rate) != 1 ||
        sscanf(q, "seconds %llu operations", &n2) != 1 || sscanf(f, "(%llu of %llu found)", &found, &of) != 2) {
        snprintf(err, errlen, "cannot read db_bench's readrandom line");
        return 1;
    }
    /* every thread wrote every key in order, so every random read finds it */
    if (n2 != ops || found != of || of != num) {
        snprintf(err, errlen, "readrandom: %llu operations (want %llu), %llu of %llu found (want all of %llu)", n2,
                 ops, found, of, num);
        return 1;
    }
    res->ops = 2 * ops;
    res->figure = rate;
    return 0;
}

const hb_program hb_prog_db_bench = {
    .wl = {.name = "db_bench",
           .doc = "rocksdb db_bench: fillseq then readrandom on a fresh database, N threads (memtable, block cache)",
           .min_threads = 1, .params = db_bench_params, .program = &hb_prog_db_bench},
    .needs = "db_bench",
    .takes_threads = 1,
    .figure_unit = "reads/s",
    .prepare = db_bench_prepare,
    .check = db_bench_check,
};

/* ---- cache_bench: RocksDB's LRU block cache under concurrent use */
static const hb_param_spec cache_bench_params[] = {
    {"ops", {25000, 500000, 5000000}, 100, INT64_C(1) << 36, "cache operations per thread"},
    {"value_bytes", {1024, 1024, 1024}, 8, 1 << 24, "bytes per cached value"},
    {"cache_mb", {8, 32, 128}, 1, 1 << 16, "cache capacity, MiB"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};
extern const hb_program hb_prog_cache_bench;

static int cache_bench_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    int rc = hb_prog_arg(cmd, "cache_bench");
    rc = rc ? rc : hb_prog_arg(cmd, "-threads=%d", ctx->threads);
    rc = rc ? rc : hb_prog_arg(cmd, "-ops_per_thread=%lld", (long long)ctx->param[0]);
    rc = rc ? rc : hb_prog_arg(cmd, "-value_bytes=%lld", (long long)ctx->param[1]);
    rc = rc ? rc : hb_prog_arg(cmd, "-cache_size=%lld", (long long)ctx->param[2] << 20);
    if (rc)
        snprintf(err, errlen, "cache_bench: command too long");
    return rc;
}

static int cache_bench_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    unsigned long long ops = (unsigned long long)ctx->param[0] * (unsigned long long)ctx->threads, count = 0;
    unsigned threads = 0;
    double rate = 0;
    const char *t = line_of(out, "Number of threads"), *c = line_of(out, "Count: "),
               *r = line_of(out, "Complete in ");
    if (!t || !c || !r || sscanf(strchr(t, ':') + 1, "%u", &threads) != 1 || sscanf(c, "Count: %llu", &count) != 1 ||
        !strstr(r, "ops/sec = ") || sscanf(strstr(r, "ops/sec = ") + 10, "%lf", &rate) != 1) {
        snprintf(err, errlen, "cannot read cache_bench's report (threads, Count:, Complete in)");
        return 1;
    }
    if (threads != (unsigned)ctx->threads || count != ops) {
        snprintf(err, errlen, "cache_bench: %u threads and %llu operations, want %d and %llu", threads, count,
                 ctx->threads, ops);
        return 1;
    }
    res->ops = ops;
    res->figure = rate;
    return 0;
}

const hb_program hb_prog_cache_bench = {
    .wl = {.name = "cache_bench",
           .doc = "rocksdb cache_bench: an LRU cache of 1 KiB values hit by N threads; evictions free other threads' blocks",
           .min_threads = 1, .params = cache_bench_params, .program = &hb_prog_cache_bench},
    .needs = "cache_bench",
    .takes_threads = 1,
    .figure_unit = "ops/s",
    .prepare = cache_bench_prepare,
    .check = cache_bench_check,
};
