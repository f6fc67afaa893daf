/* merge.c -- fuzz target: `heapbench merge OUT.csv IN.csv...`
 * (harness/merge.c), which reads results files and their companions and
 * writes the merged set and its JSON into the private directory.
 *
 * The input's parts (fuzz.h) are, in order: a.csv, a.pauses.csv, a.rss.csv,
 * b.csv, b.pauses.csv, b.rss.csv. With four or more parts both a.csv and
 * b.csv are merged (--force, so that differing environments still reach
 * the rest), else a.csv alone. */
#include "fuzz.h"

#include "harness/csvio.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    hbf_quiet();
    hbf_dir();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hbf_part part[6];
    size_t n = hbf_split(data, size, part, 6);
    static const char *const names[] = {"a.csv", "a.pauses.csv", "a.rss.csv",
                                        "b.csv", "b.pauses.csv", "b.rss.csv"};
    hbf_write_parts(part, n, names, 6);
    char out[4200], a[4200], b[4200];
    hbf_path(out, sizeof out, "out.csv");
    hbf_path(a, sizeof a, "a.csv");
    hbf_path(b, sizeof b, "b.csv");
    char *argv[] = {out, a, n >= 4 ? b : "--force", "--force", NULL};
    hbf_err_check("merge", hb_merge_main(n >= 4 ? 4 : 3, argv));
    hbf_clear();
    return 0;
}
