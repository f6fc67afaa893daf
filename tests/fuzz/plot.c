/* plot.c -- fuzz target: `heapbench plot FILE.csv --data-only`
 * (harness/plot.c): every figure's data reduced from a results file and its
 * companions into the private directory, without gnuplot (which is not ours
 * to fuzz, and would cost a process per figure).
 *
 * The input's parts (fuzz.h) are r.csv, r.pauses.csv and r.rss.csv. */
#include "fuzz.h"

#include "harness/cellset.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    hbf_quiet();
    hbf_dir();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hbf_part part[3];
    size_t n = hbf_split(data, size, part, 3);
    static const char *const names[] = {"r.csv", "r.pauses.csv", "r.rss.csv"};
    hbf_write_parts(part, n, names, 3);
    char in[4200], out[4200];
    hbf_path(in, sizeof in, "r.csv");
    hbf_path(out, sizeof out, "plots");
    char *argv[] = {in, "--out", out, "--data-only", NULL};
    hbf_err_check("plot", hb_plot_main(4, argv));
    hbf_clear();
    return 0;
}
