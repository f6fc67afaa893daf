/* regress_run.c -- regress runs the builds: the child processes (bound to
 * cores for duet), `DIR/heapbench run`'s command line with the passed
 * options, the interleaved gate's alternated rounds, and the check that a
 * build directory's heapbench is one. */
#include "regress.h"

#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define bad hb_rg_bad

/* ---- running the builds */

int hb_rg_spawn_start(char *const *argv, const char *log, const void *topo, const void *cpus)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return -1;
    }
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        /* bound before exec: `run` and its cell process inherit the set */
        if (cpus && hwloc_set_cpubind((hwloc_topology_t)topo, (hwloc_const_cpuset_t)cpus,
                                      HWLOC_CPUBIND_PROCESS) != 0) {
            fprintf(stderr, "cannot bind %s to its cores: %s\n", argv[0], strerror(errno));
            _exit(127);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    return (int)pid;
}

int hb_rg_wait(int pid)
{
    int st;
    if (pid < 0)
        return -1;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int hb_rg_spawn(char *const *argv, const char *log)
{
    return hb_rg_wait(hb_rg_spawn_start(argv, log, NULL, NULL));
}

/* The last non-empty line of `log`, for a one-line error. */
void hb_rg_last_line(const char *log, char *buf, size_t len)
{
    FILE *f = fopen(log, "r");
    char line[1024];
    buf[0] = 0;
    while (f && fgets(line, sizeof line, f))
        if (line[0] != '\n') {
            line[strcspn(line, "\n")] = 0;
            snprintf(buf, len, "%s", line);
        }
    if (f)
        fclose(f);
}

int hb_rg_run_argv(const ropts *o, const side *s, int drop, const char *const *extra, const char **argv)
{
    int n = 0;
    argv[n++] = s->exe;
    argv[n++] = "run";
    for (int i = 0; i < o->npass; i++) {
        if ((drop & HB_RG_DROP_PIN) && !strcmp(o->pass[i], "--pin"))
            continue;
        if ((drop & HB_RG_DROP_SHARD) && !strcmp(o->pass[i], "--shard")) {
            i++;
            continue;
        }
        /* --calibrate: the candidate does more work */
        argv[n++] = s == &o->s[1] && o->calibrate && i == o->ops_at ? o->cand_ops_arg : o->pass[i];
    }
    for (int i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return n;
}

/* One `heapbench run` of every cell, one repetition, appended to `out`.
 * 0, or 2 after one line naming the build and its own message. */
int hb_rg_run_round(ropts *o, side *s, int round, const char *out, const char *log)
{
    const char *argv[MAX_PASS + 32];
    /* The first round warms up as `run` does by default; later rounds run
     * the cells that just ran, so a warm-up would only cost time. */
    const char *extra[] = {"--reps", "1", "--out", out, NULL, NULL, NULL};
    if (o->warmup || round > 0) {
        extra[4] = "--warmup";
        extra[5] = o->warmup ? o->warmup : "0";
    }
    hb_rg_run_argv(o, s, 0, extra, argv);
    int rc = hb_rg_spawn((char *const *)argv, log);
    if (rc == 0 || rc == 1) /* 1: some cells failed; their rows say how */
        return 0;
    char line[1024];
    hb_rg_last_line(log, line, sizeof line);
    return bad("the %s build's run (%s) exited %d%s%s (log: %s)", s->name, s->exe, rc, line[0] ? ": " : "",
               line, log);
}

/* Smallest repetitions a side with which a cell that is slower in every
 * repetition clears Holm's correction over k tests with room to spare (its
 * p at most half of 0.05 / k): fewer and the gate could never fire. */
int hb_rg_reps_for(size_t k)
{
    int r = 5;
    while (r < 50 && hb_stats_mwu_min_p((size_t)r, (size_t)r, HB_GREATER) * (double)k > 0.025)
        r++;
    return r;
}

int hb_rg_run_builds(ropts *o)
{
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/run.log", o->work);
    int rounds = o->reps ? o->reps : 1;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {
            side *s = &o->s[(r + k) % 2]; /* ABAB..., flipped each round: BA AB BA */
            if (r == 0 && !o->reps)
                fprintf(stderr, "heapbench regress: round 1: %s (the number of rounds is chosen after it)\n",
                        s->name);
            else
                fprintf(stderr, "heapbench regress: round %d of %d: %s\n", r + 1, rounds, s->name);
            if (hb_rg_run_round(o, s, r, s->csv, log))
                return 2;
        }
        if (r == 0 && !o->reps) {
            char why[1024];
            hb_cellset tmp;
            if (hb_cellset_load(o->s[0].csv, &tmp, why, sizeof why))
                return bad("%s", why);
            rounds = hb_rg_reps_for(tmp.ncells * o->nmetric);
            fprintf(stderr, "heapbench regress: %zu cells: %d repetitions a side (--reps to choose)\n",
                    tmp.ncells, rounds);
            hb_cellset_free(&tmp);
        }
    }
    return 0;
}

/* Whether s->exe answers --version as heapbench does ("heapbench COMMIT
 * ..."): a build directory's stray script would otherwise fail later, in
 * the middle of a job, with a message about a missing results file. */
int hb_rg_is_heapbench(const side *s)
{
    int fd[2];
    if (pipe(fd) != 0)
        return bad("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(fd[1], 1);
        if (null >= 0)
            dup2(null, 2), dup2(null, 0);
        close(fd[0]);
        execl(s->exe, s->exe, "--version", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char buf[16] = "";
    size_t got = 0;
    ssize_t n;
    while (pid > 0 && got < sizeof buf - 1 && (n = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    close(fd[0]);
    int st = 0;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (pid < 0 || strncmp(buf, "heapbench ", 10) != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return bad("--%s %s: %s is not a heapbench binary (its --version does not say 'heapbench ...')", s->name,
                   s->spec, s->exe);
    return 0;
}

