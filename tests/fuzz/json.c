/* json.c -- fuzz target: `heapbench json IN.csv OUT.json`
 * (harness/json.c): the input as IN.csv, converted into a file of the
 * private directory with hb_json_from_csv, the function the subcommand and
 * `heapbench run` call. */
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
    char in[4200], out[4200];
    hbf_write("in.csv", data, size);
    hbf_path(in, sizeof in, "in.csv");
    hbf_path(out, sizeof out, "out.json");
    char *argv[] = {in, out, NULL};
    hbf_err_check("json", hb_json_main(2, argv));
    hbf_clear();
    return 0;
}
