/* solver.c -- z3 on generated SMT-LIB problems: pigeonhole formulas
 * (unsat; clause learning over many small clauses), integer inequalities
 * with a planted solution (sat; the simplex's rationals), and linear
 * equations over 16-bit vectors with a planted solution (sat; bit-blasting
 * into large terms and clauses). The answers are known by construction, so
 * the check compares every one.
 *
 * Problems whose search length depends on luck are avoided (factoring by
 * bit-blasting was tried: 0.2 to 3 s for the same instance under different
 * allocators, because z3 hashes some tables by address and so searches in
 * another order): the time must be the allocator's, not the search's. */
#include "program.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const hb_param_spec z3_params[] = {
    {"problems", {3, 12, 48}, 1, 100000, "problems, in turn pigeonhole, inequalities, bit-vector equations"},
    {"holes", {6, 6, 7}, 2, 10, "pigeonhole: holes (one pigeon more)"},
    {"vars", {30, 60, 120}, 2, 10000, "inequalities: integer variables and constraints; a third of it bit-vector equations"},
    {NULL, {0, 0, 0}, 0, 0, NULL},
};
extern const hb_program hb_prog_z3;

static void pigeonhole(FILE *f, int holes)
{
    int pigeons = holes + 1;
    for (int i = 0; i < pigeons; i++)
        for (int j = 0; j < holes; j++)
            fprintf(f, "(declare-const p%d_%d Bool)\n", i, j);
    for (int i = 0; i < pigeons; i++) {
        fputs("(assert (or", f);
        for (int j = 0; j < holes; j++)
            fprintf(f, " p%d_%d", i, j);
        fputs("))\n", f);
    }
    for (int j = 0; j < holes; j++)
        for (int a = 0; a < pigeons; a++)
            for (int b = a + 1; b < pigeons; b++)
                fprintf(f, "(assert (not (and p%d_%d p%d_%d)))\n", a, j, b, j);
}

/* Linear equations over 16-bit vectors with constant coefficients and a
 * planted solution: sat, by bit-blasting (adders and shifters) and
 * propagation rather than a search whose length varies with hashing. */
static void bv_equations(FILE *f, uint64_t *s, int vars)
{
    int n = vars / 3 < 4 ? 4 : vars / 3;
    unsigned v[4000];
    for (int j = 0; j < n && j < 4000; j++) {
        v[j] = (unsigned)hb_rand_below(s, 65536);
        fprintf(f, "(declare-const b%d (_ BitVec 16))\n", j);
    }
    for (int j = 0; j < n && j < 4000; j++) {
        /* b_j + c * b_{j+1} = value: a chain, so every variable is fixed */
        unsigned c = 1 + 2 * (unsigned)hb_rand_below(s, 1000), k = (unsigned)(j + 1) % (unsigned)n;
        unsigned rhs = (v[j] + c * v[k]) & 0xffff;
        fprintf(f, "(assert (= (bvadd b%d (bvmul #x%04x b%u)) #x%04x))\n", j, c, k, rhs);
    }
}

static void inequalities(FILE *f, uint64_t *s, int vars)
{
    int v[10000];
    for (int j = 0; j < vars; j++) {
        v[j] = (int)hb_rand_below(s, 201) - 100; /* the planted solution */
        fprintf(f, "(declare-const x%d Int)\n(assert (<= -1000 x%d 1000))\n", j, j);
    }
    for (int i = 0; i < vars; i++) {
        long rhs = (long)hb_rand_below(s, 3); /* slack 0..2: tight, still sat */
        fputs("(assert (<= (+", f);
        for (int k = 0; k < 4; k++) {
            int j = (int)hb_rand_below(s, (uint64_t)vars), a = (int)hb_rand_below(s, 19) - 9;
            fprintf(f, " (* %d x%d)", a, j);
            rhs += (long)a * v[j];
        }
        fprintf(f, ") %ld))\n", rhs);
    }
}

static const char *answer(int k)
{
    return k % 3 == 0 ? "unsat" : "sat";
}

static int z3_prepare(const hb_prog_ctx *ctx, hb_prog_cmd *cmd, char *err, size_t errlen)
{
    FILE *f = hb_prog_create(ctx, "problems.smt2", err, errlen);
    if (!f)
        return EIO;
    uint64_t s = ctx->seed;
    for (int k = 0; k < (int)ctx->param[0]; k++) {
        fprintf(f, "(push 1)\n");
        if (k % 3 == 0)
            pigeonhole(f, (int)ctx->param[1]);
        else if (k % 3 == 1)
            inequalities(f, &s, (int)ctx->param[2]);
        else
            bv_equations(f, &s, (int)ctx->param[2]);
        fprintf(f, "(check-sat)\n(pop 1)\n");
    }
    int rc = hb_prog_close(f, "problems.smt2", err, errlen);
    rc = rc ? rc : hb_prog_arg(cmd, "z3");
    rc = rc ? rc : hb_prog_arg(cmd, "-smt2");
    rc = rc ? rc : hb_prog_arg(cmd, "problems.smt2");
    return rc;
}

static int z3_check(const hb_prog_ctx *ctx, const char *out, hb_prog_result *res, char *err, size_t errlen)
{
    const char *l = out;
    int n = (int)ctx->param[0];
    for (int k = 0; k < n; k++) {
        size_t len = strcspn(l, "\n");
        if (len != strlen(answer(k)) || strncmp(l, answer(k), len) != 0) {
            snprintf(err, errlen, "problem %d: z3 answered '%.*s', want %s", k + 1, (int)(len > 40 ? 40 : len), l,
                     answer(k));
            return 1;
        }
        l += len + (l[len] == '\n');
    }
    if (*l) {
        snprintf(err, errlen, "z3 printed more than %d answers: '%.40s'", n, l);
        return 1;
    }
    res->ops = (uint64_t)n;
    return 0;
}

const hb_program hb_prog_z3 = {
    .wl = {.name = "z3",
           .doc = "z3 on generated SMT-LIB: pigeonhole (unsat), planted integer inequalities, planted bit-vector equations",
           .min_threads = 1, .params = z3_params, .program = &hb_prog_z3},
    .needs = "z3",
    .prepare = z3_prepare,
    .check = z3_check,
};
