/* options.c -- fuzz target: `heapbench run`'s option parser, hb_opts_parse
 * (harness/options.c), on the input split into arguments at its NUL bytes
 * (as /proc/PID/cmdline holds them); the last argument need not end in one.
 * The parser checks --out without creating it, but makes results/ for the
 * default output: it runs in the private directory, the working directory
 * put back after it (libFuzzer's paths are relative to it).
 *
 * What it accepts must be a matrix that can run: each list within its
 * bounds and non-empty, reps and thread counts in range, a named output. */
#include "fuzz.h"

#include "harness/harness.h"
#include "workloads/programs/program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define MAX_ARGS 256

/* A crash inside the parser happens in the private directory, where
 * libFuzzer would write its reproducer (and the directory is removed): so
 * unless told otherwise, it writes them where it was started. libFuzzer
 * reads its flags after this call. */
/* The argument vector made below, reachable for the life of the process
 * (the driver keeps argv in a local; LSan counted it as leaked).
 * Volatile: the store is never optimised away. */
static char **volatile keep;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int given = 0;
    for (int i = 1; i < *argc; i++)
        given |= !strncmp((*argv)[i], "-artifact_prefix=", 17) || !strncmp((*argv)[i], "-exact_artifact_path=", 21);
    static char cwd[4096], flag[4200];
    char **v = malloc(((size_t)*argc + 2) * sizeof *v);
    if (!given && v && getcwd(cwd, sizeof cwd)) {
        snprintf(flag, sizeof flag, "-artifact_prefix=%s/", cwd);
        memcpy(v, *argv, (size_t)*argc * sizeof *v);
        v[(*argc)++] = flag;
        v[*argc] = NULL;
        *argv = v; /* for the life of the process */
        keep = v;  /* reachable from here too: the driver's argv is a local, and LSan counted v as leaked */
    } else {
        free(v);
    }
    hbf_quiet();
    hbf_dir();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy with a NUL after the last argument */
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (size_t at = 0; at < size && argc < MAX_ARGS;) {
        argv[argc++] = buf + at;
        at += strlen(buf + at) + 1;
    }
    argv[argc] = NULL;
    static hb_run_opts o; /* 40 kB: not on the stack */
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (here < 0 || chdir(hbf_dir()) != 0) {
        fprintf(hbf_log(), "options: cannot enter %s\n", hbf_dir());
        abort();
    }
    hb_program_forget_users(); /* each command line on its own, as in its own process */
    int rc = hb_opts_parse(argc, argv, &o);
    if (fchdir(here) != 0) {
        fprintf(hbf_log(), "options: cannot go back to the working directory\n");
        abort();
    }
    close(here);
    hbf_err_check("run's options", rc);
    if (rc == 0) {
        HBF_CHECK(o.n_allocators >= 1 && o.n_allocators <= HB_MAX_LIST);
        HBF_CHECK(o.n_gc_allocators >= 1 && o.n_gc_allocators <= HB_MAX_LIST);
        HBF_CHECK(o.n_collectors >= 1 && o.n_collectors <= HB_MAX_LIST);
        HBF_CHECK(o.n_workloads >= 1 && o.n_workloads <= HB_MAX_LIST);
        HBF_CHECK(o.n_threads >= 1 && o.n_threads <= HB_MAX_LIST);
        for (size_t i = 0; i < o.n_threads; i++)
            HBF_CHECK(o.threads[i] >= 1 && o.threads[i] <= HB_MAX_THREADS);
        for (size_t i = 0; i < o.n_allocators; i++)
            HBF_CHECK(o.allocators[i] != NULL);
        for (size_t i = 0; i < o.n_gc_allocators; i++)
            HBF_CHECK(o.gc_allocators[i] != NULL);
        for (size_t i = 0; i < o.n_collectors; i++)
            HBF_CHECK(o.collectors[i] != NULL);
        for (size_t i = 0; i < o.n_workloads; i++)
            HBF_CHECK(o.workloads[i] != NULL);
        HBF_CHECK(o.reps >= 1 && o.reps <= 10000);
        HBF_CHECK(o.n_params <= HB_MAX_PARAMS);
        size_t combos = 1;
        for (size_t i = 0; i < o.n_params; i++) {
            HBF_CHECK(o.params[i].n >= 1 && o.params[i].n <= HB_MAX_SWEEP);
            combos *= o.params[i].n;
            HBF_CHECK(combos <= HB_MAX_COMBOS);
        }
        HBF_CHECK(o.out[0] != 0 && memchr(o.out, 0, sizeof o.out) != NULL);
        HBF_CHECK(o.heap_modes != 0);
        HBF_CHECK(o.shard_n == 0 || (o.shard_k >= 1 && o.shard_k <= o.shard_n));
    }
    free(buf);
    hbf_clear();
    return 0;
}
