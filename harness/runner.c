/* runner.c -- the matrix: allocator x workload x threads x repetition, each
 * cell in a fresh process (exec'd, so its RSS is its own and a crash costs one
 * row), each producing exactly one CSV row whatever happens to it. */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Runs one cell in a child; fills r (status crashed/timeout when it dies). */
static void run_child(const char *self, const hb_cell *c, double timeout_s, hb_result *r)
{
    memset(r, 0, sizeof *r);
    r->peak_rss_kb = r->final_rss_kb = -1;
    int pfd[2];
    if (pipe(pfd) != 0) {
        r->status = HB_ST_CRASHED;
        snprintf(r->error, sizeof r->error, "pipe: %s", strerror(errno));
        return;
    }
    char fd_s[16], th_s[16], rep_s[16], seed_s[32], pv[HB_MAX_PARAMS][32];
    const char *argv[8 + HB_MAX_PARAMS + 1];
    int n = 0;
    snprintf(fd_s, sizeof fd_s, "%d", pfd[1]);
    snprintf(th_s, sizeof th_s, "%d", c->threads);
    snprintf(rep_s, sizeof rep_s, "%d", c->rep);
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)c->seed);
    argv[n++] = self;
    argv[n++] = "__cell";
    argv[n++] = fd_s;
    argv[n++] = c->alloc->name;
    argv[n++] = c->workload->name;
    argv[n++] = th_s;
    argv[n++] = hb_size_name(c->size);
    argv[n++] = rep_s;
    argv[n++] = seed_s;
    int i = 0;
    for (const hb_param_spec *s = c->workload->params; s && s->name && i < HB_MAX_PARAMS; s++, i++) {
        snprintf(pv[i], sizeof pv[i], "%lld", (long long)c->param[i]);
        argv[n++] = pv[i];
    }
    argv[n] = NULL;
    /* argv is [self, __cell, fd, ...]: main() passes what follows __cell. */
    double t0 = hb_now();
    pid_t pid = fork();
    if (pid < 0) {
        r->status = HB_ST_CRASHED;
        snprintf(r->error, sizeof r->error, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return;
    }
    if (pid == 0) {
        close(pfd[0]);
        execv(self, (char *const *)argv);
        fprintf(stderr, "heapbench: cannot exec %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    char buf[sizeof(hb_result)];
    size_t got = 0;
    int timed_out = 0;
    while (got < sizeof buf) {
        double left = timeout_s - (hb_now() - t0);
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int pr = poll(&p, 1, left > 3600 ? 3600000 : (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0)
            continue;
        ssize_t k = read(pfd[0], buf + got, sizeof buf - got);
        if (k <= 0)
            break; /* the child is gone without a full result */
        got += (size_t)k;
    }
    close(pfd[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    if (timed_out) {
        r->status = HB_ST_TIMEOUT;
        snprintf(r->error, sizeof r->error, "killed after the %.0f s timeout", timeout_s);
    } else if (got == sizeof buf) {
        memcpy(r, buf, sizeof *r);
    } else if (WIFSIGNALED(wstatus)) {
        r->status = HB_ST_CRASHED;
        snprintf(r->error, sizeof r->error, "killed by signal %d (%s)", WTERMSIG(wstatus),
                 strsignal(WTERMSIG(wstatus)));
    } else {
        r->status = HB_ST_CRASHED;
        snprintf(r->error, sizeof r->error, "exited with status %d before reporting",
                 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    }
}

int hb_run(const hb_run_opts *o, const char *self)
{
    hb_csv *csv;
    if (hb_csv_open(o->out, &csv))
        return 2;
    char run_id[64], stamp[32];
    hb_utc_stamp(stamp, sizeof stamp, 1);
    snprintf(run_id, sizeof run_id, "%s-%d", stamp, (int)getpid());
    size_t total = o->n_workloads * o->n_allocators * o->n_threads * (size_t)o->reps, done = 0;
    int failures = 0, tty = isatty(2);
    for (size_t w = 0; w < o->n_workloads; w++)
        for (size_t a = 0; a < o->n_allocators; a++)
            for (size_t t = 0; t < o->n_threads; t++)
                for (int rep = 0; rep < o->reps; rep++) {
                    hb_cell c = {.alloc = o->allocators[a], .workload = o->workloads[w],
                                 .threads = o->threads[t], .size = o->size, .rep = rep};
                    if (hb_cell_resolve(&c, o->params, o->n_params))
                        return 2; /* cannot happen: options.c checked ranges */
                    char id[512];
                    hb_cell_id(&c, id, sizeof id);
                    c.seed = fnv1a(id, 0xcbf29ce484222325ULL) ^ ((uint64_t)rep * 0x9e3779b97f4a7c15ULL);
                    hb_result r;
                    if (c.threads < c.workload->min_threads)
                        hb_cell_run(&c, &r); /* records the skip without a child */
                    else
                        run_child(self, &c, o->timeout_s, &r);
                    int werr = hb_csv_write_row(csv, run_id, &c, &r);
                    if (werr) {
                        fprintf(stderr, "heapbench run: writing a row to %s failed: %s; rows before it are intact\n",
                                o->out, strerror(werr));
                        hb_csv_close(csv);
                        return 2;
                    }
                    done++;
                    if (r.status != HB_ST_OK && r.status != HB_ST_SKIPPED)
                        failures++;
                    if (tty)
                        fprintf(stderr, "[%zu/%zu] %s rep %d: %s%s%s\n", done, total, id, rep,
                                r.status == HB_ST_OK ? "ok" : r.status == HB_ST_SKIPPED ? "skipped" : "FAILED",
                                r.error[0] ? " - " : "", r.error);
                }
    hb_csv_close(csv);
    printf("%zu rows (%d failed) appended to %s\n", done, failures, o->out);
    return failures ? 1 : 0;
}
