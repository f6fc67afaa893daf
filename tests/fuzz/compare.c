/* compare.c -- fuzz target: `heapbench compare A.csv B.csv`
 * (harness/compare.c over harness/cellset.c), in each of its three output
 * formats.
 *
 * The input is A, then B after a line HBF_SEP (fuzz.h); without one, the
 * input is both A and B, so that every cell is found on both sides. */
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
    static const char *const formats[] = {"text", "csv", "markdown"};
    for (int k = 0; k < 3; k++) {
        /* every metric compare knows in the last run: more columns read */
        char *argv[] = {a, b, "--format", (char *)formats[k], "--metrics",
                        k < 2 ? "wall_s,ops_per_s,pause_p99_us,peak_rss_kb"
                              : "wall_s,ops_per_s,pause_p99_us,peak_rss_kb,user_s,sys_s,final_rss_kb,"
                                "pause_max_us,pause_total_ms,lat_p99_ns,lat_p50_ns,allocs,frees,gc_count,"
                                "peak_live_bytes",
                        NULL};
        hbf_err_check("compare", hb_compare_main(6, argv));
    }
    hbf_clear();
    return 0;
}
