/* fuzz.h -- what the fuzz targets of tests/fuzz share (docs/fuzzing.md).
 *
 * Each target is one .c defining LLVMFuzzerTestOneInput, which drives the
 * real reading code of one subcommand (never a copy of it). Built with clang
 * and HB_FUZZ=ON it links libFuzzer; built otherwise it links driver.c, a
 * main that runs the files and folders it is given once each, so that the
 * seed corpus and every regression input in it run in the ordinary ctest
 * suite too (gcc, and the ASan build).
 *
 * One fuzz input can stand for several files: its parts are separated by
 * HBF_SEP on a line of its own (a line no results file has), and each target
 * says which file each part becomes. A part that is absent is a file that
 * does not exist; an empty part is an empty file.
 *
 * Files go to a private directory made once per process (hbf_dir), emptied
 * between inputs, and removed at exit. What a subcommand prints goes to
 * /dev/null (stdout) and to memory (stderr, checked by hbf_err_check)
 * through its own stdio streams, so that the sanitizers' and libFuzzer's
 * reports (written to file descriptor 2) still reach the log;
 * HB_FUZZ_VERBOSE=1 shows the subcommand's output, to read what a
 * reproducer does. */
#ifndef HB_FUZZ_H
#define HB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HBF_SEP "--8<--"
#define HBF_MAX_PARTS 8

typedef struct hbf_part {
    const uint8_t *p;
    size_t n;
} hbf_part;

/* Splits data at each line that is exactly HBF_SEP; a part keeps the newline
 * that ends its last line, so only the last part can end without one. The
 * last of `max` parts takes the rest as it is. The number of parts, from 1. */
size_t hbf_split(const uint8_t *data, size_t size, hbf_part *parts, size_t max);

/* The private directory, made on the first call (under $HB_FUZZ_TMPDIR, else
 * /dev/shm, where merge's fsync costs nothing, else $TMPDIR or /tmp). The
 * working directory stays: libFuzzer reads its inputs and writes its
 * reproducers relative to it. */
const char *hbf_dir(void);
/* "DIR/name" into buf; aborts when it does not fit. */
void hbf_path(char *buf, size_t len, const char *name);
/* Writes DIR/name with n bytes; a failure is the harness's, not the input's:
 * it aborts, with why on stderr. */
void hbf_write(const char *name, const uint8_t *p, size_t n);
/* Writes each present part to names[i] (a NULL name: that part is not
 * used). */
void hbf_write_parts(const hbf_part *parts, size_t nparts, const char *const *names, size_t nnames);
/* compare's and regress's input: A, then B after a line HBF_SEP (without
 * one, the input is both A and B). Writes a.csv and b.csv and gives back
 * the paths of A and B. */
void hbf_two_files(const uint8_t *data, size_t size, char *a, char *b, size_t len);
/* Removes everything inside the directory (files and folders the last input
 * made), keeping the directory. */
void hbf_clear(void);
/* Sends the subcommands' stdout stream to /dev/null, unless HB_FUZZ_VERBOSE
 * is set, and their stderr stream to memory (hbf_err_begin). */
void hbf_quiet(void);
/* Starts collecting what the code under test writes to its stderr stream. */
void hbf_err_begin(void);
/* The README's promise for bad input: a subcommand that returned 2 wrote one
 * line to stderr (warnings aside). Aborts, with the lines, when it did not;
 * with HB_FUZZ_VERBOSE the lines are passed on. Then collects afresh. */
void hbf_err_check(const char *what, int rc);

/* The harness's own messages: stderr as it was before hbf_quiet. */
FILE *hbf_log(void);
/* A broken contract: the harness aborts, which libFuzzer reports as a crash
 * with its reproducer. */
#define HBF_CHECK(c)                                                                               \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(hbf_log(), "fuzz target: check failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Every target's entry points (libFuzzer's names). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
