/* regress.c -- fuzz target: `heapbench regress --baseline A.csv --candidate
 * B.csv` (harness/regress.c over harness/cellset.c): the gate on two results
 * files, with the default robust CV and with --cv sd and every metric.
 *
 * The input is A, then B after a line HBF_SEP (fuzz.h); without one, the
 * input is both. Only results files are given: a build directory would make
 * regress run builds. */
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
    char a[4200], b[4200];
    hbf_two_files(data, size, a, b, sizeof a);
    char *plain[] = {"--baseline", a, "--candidate", b, NULL};
    hbf_err_check("regress", hb_regress_main(4, plain));
    char *all[] = {"--baseline", a, "--candidate", b, "--cv", "sd", "--threshold", "0",
                   "--metrics", "wall_s,ops_per_s,pause_p99_us,peak_rss_kb,user_s,sys_s,lat_p99_ns,lat_p50_ns",
                   NULL};
    hbf_err_check("regress --cv sd", hb_regress_main(10, all));
    hbf_clear();
    return 0;
}
