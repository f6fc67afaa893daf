/* results.c -- results/NAME.csv, the contract of DESIGN.md and
 * results/README.md. Columns are only ever added, never renamed; a value that
 * was not measured is left empty, never faked. */
#include "harness.h"
#include "buildinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const columns[] = {
    /* identity */
    "run_id", "cell", "workload", "size", "params", "allocator", "collector", "heap", "threads",
    "rep", "status", "error",
    /* work */
    "ops", "allocs", "frees", "wall_s", "user_s", "sys_s", "ops_per_s",
    /* latency */
    "lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns",
    /* pauses */
    "gc_count", "pause_total_ms", "pause_p50_us", "pause_p90_us", "pause_p99_us",
    "pause_p999_us", "pause_max_us", "mmu_1ms", "mmu_10ms", "mmu_100ms",
    /* memory */
    "peak_rss_kb", "final_rss_kb", "peak_live_bytes", "collected_objects", "leaked_objects",
    "leaked_bytes",
    /* environment */
    "git_commit", "compiler", "build_type", "host", "cpu_model", "kernel", "pinned", "timestamp",
};
#define NCOLS (sizeof columns / sizeof columns[0])

struct hb_csv {
    int fd;
    hb_env env;
};

static const char *status_name(hb_status s)
{
    static const char *const names[] = {"ok", "failed", "crashed", "timeout", "skipped"};
    return names[s];
}

static void header_line(char *buf, size_t len)
{
    size_t at = 0;
    for (size_t i = 0; i < NCOLS; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? "," : "", columns[i]);
    snprintf(buf + at, len - at, "\n");
}

int hb_csv_check_writable(const char *path, char *why, size_t len)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(why, len, "not a regular file");
            return ENOTSUP;
        }
        if (access(path, W_OK) != 0) {
            snprintf(why, len, "%s", strerror(errno));
            return errno;
        }
        return 0;
    }
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, len, "directory %s does not exist", dir);
        return ENOENT;
    }
    if (access(dir, W_OK) != 0) {
        snprintf(why, len, "directory %s is not writable: %s", dir, strerror(errno));
        return EACCES;
    }
    return 0;
}

int hb_csv_open(const char *path, hb_csv **out)
{
    char header[2048];
    header_line(header, sizeof header);
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "heapbench: cannot open --out %s: %s\n", path, strerror(errno));
        return 2;
    }
    struct stat st;
    fstat(fd, &st);
    if (st.st_size == 0) {
        size_t n = strlen(header);
        if (write(fd, header, n) != (ssize_t)n) {
            fprintf(stderr, "heapbench: cannot write header to %s: %s\n", path, strerror(errno));
            close(fd);
            return 2;
        }
    } else {
        char have[2048] = {0};
        ssize_t n = pread(fd, have, sizeof have - 1, 0);
        char *nl = n > 0 ? strchr(have, '\n') : NULL;
        if (!nl || strncmp(have, header, (size_t)(nl - have + 1)) != 0 ||
            (size_t)(nl - have + 1) != strlen(header)) {
            fprintf(stderr,
                    "heapbench: %s exists with another header (not a heapbench results file of this "
                    "schema); choose another --out\n",
                    path);
            close(fd);
            return 2;
        }
    }
    hb_csv *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return 2;
    }
    f->fd = fd;
    hb_env_read(&f->env);
    *out = f;
    return 0;
}

/* Appends `v` as one CSV field, quoted when it needs to be. */
static size_t put_field(char *buf, size_t at, size_t len, const char *v, int first)
{
    if (!first && at < len)
        buf[at++] = ',';
    int quote = strpbrk(v, ",\"\n\r") != NULL;
    if (quote && at < len)
        buf[at++] = '"';
    for (; *v && at + 2 < len; v++) {
        if (*v == '"')
            buf[at++] = '"';
        buf[at++] = *v;
    }
    if (quote && at < len)
        buf[at++] = '"';
    return at;
}

int hb_csv_write_row(hb_csv *f, const char *run_id, const hb_cell *c, const hb_result *r)
{
    char v[NCOLS][512];
    memset(v, 0, sizeof v);
    int i = 0;
    int measured = r->status == HB_ST_OK;
    char id[512], params[512];
    hb_cell_id(c, id, sizeof id);
    hb_cell_params_string(c, 0, params, sizeof params);
#define SET(...) snprintf(v[i++], sizeof v[0], __VA_ARGS__)
#define SKIP() (i++)
    SET("%s", run_id);
    SET("%s", id);
    SET("%s", c->workload->name);
    SET("%s", hb_size_name(c->size));
    SET("%s", params);
    SET("%s", c->alloc->name);
    SET("%s", "none"); /* allocator-only workloads: no collector */
    SET("%s", "isolated");
    SET("%d", c->threads);
    SET("%d", c->rep);
    SET("%s", status_name(r->status));
    SET("%s", r->error);
    if (measured) {
        SET("%llu", (unsigned long long)r->counts.ops);
        SET("%llu", (unsigned long long)r->counts.allocs);
        SET("%llu", (unsigned long long)r->counts.frees);
        SET("%.9f", r->wall_s);
        SET("%.6f", r->user_s);
        SET("%.6f", r->sys_s);
        SET("%.1f", r->wall_s > 0 ? (double)r->counts.ops / r->wall_s : 0.0);
    } else {
        i += 7;
    }
    i += 5;  /* latency: measured from the harness issue on */
    i += 10; /* pauses: allocator-only workloads have no collector */
    if (measured && r->peak_rss_kb >= 0)
        SET("%lld", (long long)r->peak_rss_kb);
    else
        SKIP();
    if (measured && r->final_rss_kb >= 0)
        SET("%lld", (long long)r->final_rss_kb);
    else
        SKIP();
    i += 4; /* peak_live_bytes and the collector's counters */
    SET("%s", HB_GIT_COMMIT);
    SET("%s", HB_COMPILER);
    SET("%s", HB_BUILD_TYPE);
    SET("%s", f->env.host);
    SET("%s", f->env.cpu_model);
    SET("%s", f->env.kernel);
    SET("%s", "no");
    char stamp[64];
    hb_utc_stamp(stamp, sizeof stamp, 0);
    SET("%s", stamp);
#undef SET
#undef SKIP
    if ((size_t)i != NCOLS) {
        fprintf(stderr, "heapbench: internal error: row has %d of %zu columns\n", i, NCOLS);
        abort();
    }
    char line[NCOLS * 520];
    size_t at = 0;
    for (size_t k = 0; k < NCOLS; k++)
        at = put_field(line, at, sizeof line - 2, v[k], k == 0);
    line[at++] = '\n';
    /* One write with O_APPEND: a row is on disk whole or not at all. */
    ssize_t w = write(f->fd, line, at);
    if (w != (ssize_t)at) {
        int e = w < 0 ? errno : ENOSPC;
        if (w > 0) /* a short write: cut the partial row back off */
            if (ftruncate(f->fd, lseek(f->fd, 0, SEEK_END) - w) != 0)
                e = errno;
        return e;
    }
    return 0;
}

void hb_csv_close(hb_csv *f)
{
    if (!f)
        return;
    fsync(f->fd);
    close(f->fd);
    free(f);
}
