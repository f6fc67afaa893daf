/* program.h -- the program contract: a real program, from Debian's
 * packages, run as a child and measured from outside (DESIGN.md, "Outside
 * the process").
 *
 * A program is declared once, in one .c file of this folder, and listed
 * once, in registry.c: its name and doc line, the executables it needs, its
 * parameters with small/medium/large presets, how it writes its inputs and
 * its command line (prepare), how its output is checked and its own figure
 * read (check). The harness (harness/program.c) does everything else the
 * same way for every program: a fresh working directory, the allocator's
 * library preloaded, fork and exec in a process group of its own, RSS of
 * the process tree sampled from /proc, wait4's rusage of the tree, the
 * timeout (the whole group killed), the exit status and the check.
 *
 * Life of a program cell, in the runner's process:
 *   prepare(ctx, cmd, err)   untimed: writes the inputs into ctx->dir (never
 *                            downloaded: generated here, or the project's own
 *                            scripts in ctx->src) and fills cmd
 *   the timed run            the command, with cwd ctx->dir, stdout into
 *                            ctx->dir/stdout.txt, stderr into stderr.txt
 *   check(ctx, out, res, err) untimed, only after exit status 0: out is the
 *                            whole stdout (NUL-terminated). 0 when the output
 *                            is right, with res filled; non-zero with err
 *                            saying what was wrong (the row is `failed`).
 *
 * A check must be able to fail: it compares the output with what the inputs
 * imply (counts, sums, sat/unsat answers), not just that something printed.
 *
 * Errors: prepare returns 0 or an errno value with `err` set.
 */
#ifndef HB_PROGRAM_H
#define HB_PROGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../workload.h"

#define HB_PROG_MAX_ARGS 48
#define HB_PROG_MAX_ENV 8

/* What a program's prepare and check are told about the cell. */
typedef struct hb_prog_ctx {
    const char *dir; /* the cell's own fresh working directory */
    const char *src; /* the project's programs folder (its scripts) */
    int threads;     /* the cell's thread count (1 unless takes_threads) */
    hb_size size;
    uint64_t seed;   /* per cell and repetition, for generated inputs */
    int port;        /* a free loopback TCP port, for programs that serve */
    int64_t param[HB_MAX_PARAMS]; /* resolved, in the declaration's order */
    void *arg;       /* the harness's own, for programs it declares itself (cpython's
                        forms: the cell's report, filled by check); NULL otherwise */
} hb_prog_ctx;

/* The command: argv[0] is looked up on PATH; env entries ("KEY=VALUE") are
 * added to the inherited environment. Strings live in `store`
 * (hb_prog_arg/hb_prog_env copy them there). */
typedef struct hb_prog_cmd {
    char *argv[HB_PROG_MAX_ARGS + 1];
    char *env[HB_PROG_MAX_ENV + 1];
    int argc, envc;
    size_t used;
    char store[16384];
} hb_prog_cmd;

/* What the check read off the output. */
typedef struct hb_prog_result {
    uint64_t ops;  /* the program's units of work (requests, rows, ...); 0: none */
    double figure; /* the program's own figure, in the declaration's unit; < 0: none */
    double wall_s; /* the program's own timing of its work; < 0: none (wall_s is then
                      the harness's, fork to exit) */
} hb_prog_result;

typedef struct hb_program {
    /* Its identity in the matrix: name, doc, params (presets), and
     * wl.program pointing back here. setup/run/check are NULL. */
    hb_workload wl;
    /* Executables that must be on PATH, space-separated. */
    const char *needs;
    /* 1: told the cell's thread count and run once per --threads value;
     * 0: runs as it runs, once, recorded with threads 1. */
    int takes_threads;
    /* The unit of its own figure ("requests/s"), a rate, higher is better;
     * NULL when it reports none. */
    const char *figure_unit;
    int (*prepare)(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen);
    int (*check)(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen);
    /* --program NAME='CMD ARGS': the user's command line, run by /bin/sh -c;
     * NULL for the bundled programs. */
    const char *shell;
} hb_program;

extern const hb_program *const hb_programs[];
extern const size_t hb_program_count;
/* A bundled or user program of that name, or NULL. */
const hb_program *hb_program_find(const char *name);
/* --program NAME='CMD ARGS': declares a user's program (kept for the life of
 * the process). 0, or 2 with why (bad or taken name, empty command, too
 * many), which quotes the spec as given: the caller prints it on one line. */
int hb_program_add_user(const char *spec, const hb_program **out, char *why, size_t len);
/* Forgets every user program, for a process that parses more than one
 * command line (the options' fuzz target): nothing may point at them. */
void hb_program_forget_users(void);

/* ---- helpers for declarations (programs.c) */
/* Appends an argument or an environment entry, printf-style. 0 or E2BIG. */
int hb_prog_arg(hb_prog_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int hb_prog_env(hb_prog_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens ctx->dir/NAME for writing; NULL with err set. */
FILE *hb_prog_create(const hb_prog_ctx *ctx, const char *name, char *err, size_t errlen);
/* Closes f, reporting a failed write in err; 0 or an errno value. */
int hb_prog_close(FILE *f, const char *name, char *err, size_t errlen);
/* The value of `name` after "KEY=" or "KEY " on a line of out starting with
 * key; 0 when found. For checks of "key=value" style outputs. */
int hb_prog_find_u64(const char *out, const char *key, uint64_t *v);
/* The check of one "key=value" line: 0 when out has it with value want;
 * 1 with err saying what was found instead. */
int hb_prog_expect(const char *out, const char *key, uint64_t want, char *err, size_t errlen);
/* The cell's value of p's parameter `name` (declared by p: -1 otherwise). */
int64_t hb_prog_param(const hb_prog_ctx *ctx, const hb_program *p, const char *name);

#endif
