/* The estimated-cycles gate (regress --cycles, harness/regress_vg.c) on a
 * program that doubles its cache misses at equal instructions
 * (tests/harness/stride.c, STEP 1 against STEP 16), run under cachegrind
 * with regress's own options: the instruction gate cannot see the change,
 * the cycles gate flags it, and the same program counted twice is not
 * flagged by either. Skipped (77) without valgrind.
 *   test_cycles STRIDE WORKDIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/regress.h"

static const char *stride, *work;

/* cachegrind on `stride STEP`, its counts into e */
static void count(const char *step, const char *tag, ir_entry *e)
{
    char out[4096], file[4200], log[4200];
    snprintf(out, sizeof out, "%s/cachegrind.out.%s", work, tag);
    snprintf(file, sizeof file, "--cachegrind-out-file=%s", out);
    snprintf(log, sizeof log, "%s/%s.log", work, tag);
    const char *argv[16];
    int n = 0;
    argv[n++] = "valgrind";
    for (int i = 0; hb_rg_cachegrind_args[i]; i++)
        argv[n++] = hb_rg_cachegrind_args[i];
    argv[n++] = file;
    argv[n++] = stride;
    argv[n++] = step;
    argv[n] = NULL;
    assert_int_equal(hb_rg_spawn((char *const *)argv, log), 0);
    assert_int_equal(hb_rg_vg_read_file(out, e), 0);
}

static void test_misses_at_equal_instructions(void **state)
{
    (void)state;
    ir_entry seq, seq2, strided;
    count("1", "seq", &seq);
    count("1", "seq2", &seq2);
    count("16", "strided", &strided);
    /* equal instructions: within 0.1%, the instruction gate's tolerance */
    assert_true(fabs(strided.ir / seq.ir - 1) < 0.001);
    assert_false(hb_rg_vg_worse(&seq, &strided, 0, 0.1));
    /* at least twice the misses, and the estimate flagged */
    assert_true(strided.l1m >= 2 * seq.l1m);
    assert_true(hb_rg_vg_worse(&seq, &strided, 1, 0.5));
    /* the same program twice: neither gate fires */
    assert_false(hb_rg_vg_worse(&seq, &seq2, 0, 0.1));
    assert_false(hb_rg_vg_worse(&seq, &seq2, 1, 0.5));
    printf("instructions %.0f -> %.0f, L1 misses %.0f -> %.0f, estimated cycles %.0f -> %.0f (%+.1f%%)\n", seq.ir,
           strided.ir, seq.l1m, strided.l1m, seq.cycles, strided.cycles, 100 * (strided.cycles / seq.cycles - 1));
    free(seq.key);
    free(seq2.key);
    free(strided.key);
}

static void test_formula(void **state)
{
    (void)state;
    /* Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw: L1 hits 1000 + 300 + 100 - 60,
     * LL hits 60 - 12, RAM 12 */
    const double ev[9] = {1000, 10, 2, 300, 40, 8, 100, 10, 2};
    assert_float_equal(hb_rg_est_cycles(ev), 1340 + 5 * 48 + 35 * 12, 1e-9);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_cycles STRIDE WORKDIR\n");
        return 2;
    }
    stride = argv[1];
    work = argv[2];
    if (system("valgrind --version > /dev/null 2>&1") != 0) {
        printf("valgrind is not installed: skipped\n");
        return 77;
    }
    if (mkdir(work, 0755) != 0 && errno != EEXIST)
        return 2;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_formula),
                                       cmocka_unit_test(test_misses_at_equal_instructions)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
