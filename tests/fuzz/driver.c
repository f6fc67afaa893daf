/* driver.c -- a fuzz target's main without libFuzzer (fuzz.h): runs every
 * file named, and every file in every folder named, once through
 * LLVMFuzzerTestOneInput, so the seed corpus and its regression inputs run
 * in the ordinary test suite (gcc; ASan with HB_SANITIZE=address); arguments
 * starting with '-' (libFuzzer's flags) are ignored. A crash
 * is the test's failure, as under libFuzzer; the exit status is 0 once every
 * input ran, 2 when an argument cannot be read. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* stderr as it was: the targets send the subcommands' stream to /dev/null */
static FILE *logf;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(logf, "driver: %s: %s\n", path, strerror(errno));
        return 2;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        fprintf(logf, "driver: cannot read %s\n", path);
        return 2;
    }
    /* a copy of exactly n bytes, so that ASan sees a read past the input */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return 2;
    }
    memcpy(exact, buf, n);
    free(buf);
    fprintf(logf, "driver: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    /* the arguments as given, before the harness moves into its directory */
    logf = stderr;
    char **abs = calloc((size_t)argc + 1, sizeof *abs);
    for (int i = 1; abs && i < argc; i++)
        abs[i] = realpath(argv[i], NULL);
    int nargs = argc; /* the target may add libFuzzer flags of its own */
    char **args = argv;
    LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0, runs = 0;
    for (int i = 1; i < nargs && rc == 0; i++) {
        if (args[i][0] == '-') /* a libFuzzer flag (-runs=0): nothing to do here */
            continue;
        const char *a = abs ? abs[i] : NULL;
        struct stat st;
        if (!a || stat(a, &st) != 0) {
            fprintf(logf, "driver: %s: %s\n", args[i], strerror(errno ? errno : ENOENT));
            rc = 2;
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            rc = run_file(a);
            runs++;
            continue;
        }
        DIR *d = opendir(a);
        struct dirent *e;
        char **names = NULL;
        size_t n = 0;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char **nn = realloc(names, (n + 1) * sizeof *names);
            size_t len = strlen(a) + strlen(e->d_name) + 2;
            char *p = malloc(len);
            if (!nn || !p) {
                free(p);
                rc = 2;
                break;
            }
            names = nn;
            snprintf(p, len, "%s/%s", a, e->d_name);
            names[n++] = p;
        }
        if (d)
            closedir(d);
        qsort(names, n, sizeof *names, cmp_str);
        for (size_t k = 0; k < n; k++) {
            if (rc == 0)
                rc = run_file(names[k]), runs++;
            free(names[k]);
        }
        free(names);
    }
    for (int i = 1; abs && i < nargs; i++)
        free(abs[i]);
    free(abs);
    if (rc == 0)
        fprintf(logf, "driver: %d inputs ran\n", runs);
    return rc;
}
