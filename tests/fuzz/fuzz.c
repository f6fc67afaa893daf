/* fuzz.c -- the fuzz targets' shared pieces (fuzz.h). */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[4096];
static FILE *logf; /* stderr before hbf_quiet */

FILE *hbf_log(void)
{
    return logf ? logf : stderr;
}

static void die(const char *what, const char *path)
{
    fprintf(hbf_log(), "fuzz harness: %s %s: %s\n", what, path, strerror(errno));
    abort();
}

size_t hbf_split(const uint8_t *data, size_t size, hbf_part *parts, size_t max)
{
    const size_t sl = strlen(HBF_SEP);
    size_t n = 0, at = 0;
    for (size_t i = 0; n + 1 < max && i + sl <= size; i++) {
        if ((i > 0 && data[i - 1] != '\n') || memcmp(data + i, HBF_SEP, sl) != 0 ||
            (i + sl < size && data[i + sl] != '\n'))
            continue;
        parts[n++] = (hbf_part){data + at, i - at}; /* with its last newline */
        at = i + sl < size ? i + sl + 1 : size;
        i = at - 1;
    }
    parts[n++] = (hbf_part){data + at, size - at};
    return n;
}

static void remove_dir(const char *path, int keep_top)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[4096 + 256];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_dir(p, 0);
        else
            unlink(p);
    }
    closedir(d);
    if (!keep_top)
        rmdir(path);
}

static void cleanup(void)
{
    if (dir[0])
        remove_dir(dir, 0);
}

const char *hbf_dir(void)
{
    if (dir[0])
        return dir;
    const char *base = getenv("HB_FUZZ_TMPDIR");
    if (!base || !*base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(dir, sizeof dir, "%s/hb-fuzz-XXXXXX", base);
    if (!mkdtemp(dir))
        die("cannot make a directory like", dir);
    atexit(cleanup);
    return dir;
}

void hbf_path(char *buf, size_t len, const char *name)
{
    if ((size_t)snprintf(buf, len, "%s/%s", hbf_dir(), name) >= len) {
        errno = ENAMETOOLONG;
        die("path too long:", name);
    }
}

void hbf_write(const char *name, const uint8_t *p, size_t n)
{
    char path[4096 + 64];
    hbf_path(path, sizeof path, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("cannot create", path);
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("cannot write", path);
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0)
        die("cannot write", path);
}

void hbf_write_parts(const hbf_part *parts, size_t nparts, const char *const *names, size_t nnames)
{
    for (size_t i = 0; i < nparts && i < nnames; i++)
        if (names[i])
            hbf_write(names[i], parts[i].p, parts[i].n);
}

void hbf_clear(void)
{
    remove_dir(hbf_dir(), 1);
}

static int verbose;
static char *errbuf;
static size_t errlen;

void hbf_quiet(void)
{
    logf = stderr;
    const char *v = getenv("HB_FUZZ_VERBOSE");
    verbose = v && *v && strcmp(v, "0") != 0;
    /* the streams, not the descriptors: fd 2 stays the sanitizers' */
    if (!verbose && !(stdout = fopen("/dev/null", "w")))
        die("cannot open", "/dev/null");
    hbf_err_begin();
}

void hbf_err_begin(void)
{
    if (stderr != logf)
        fclose(stderr);
    free(errbuf);
    errbuf = NULL;
    errlen = 0;
    FILE *f = open_memstream(&errbuf, &errlen);
    if (!f)
        die("cannot open", "a memory stream");
    stderr = f;
}

void hbf_err_check(const char *what, int rc)
{
    fflush(stderr);
    size_t lines = 0;
    for (const char *p = errbuf, *nl; p && p < errbuf + errlen; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(errbuf + errlen - p));
        if (!nl)
            nl = errbuf + errlen; /* an unterminated last line counts */
        /* --force's warnings go before an error and are not it: lines
         * "heapbench CMD: warning: ..." (not a field that says so) */
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        int warning = !strncmp(p, "heapbench ", 10) && colon && (size_t)(nl - colon) >= 11 &&
                      !memcmp(colon, ": warning: ", 11);
        if (!warning)
            lines++;
    }
    if (verbose)
        fwrite(errbuf ? errbuf : "", 1, errlen, logf);
    if (rc == 2 && lines != 1) {
        fprintf(logf, "fuzz target: %s exited 2 with %zu lines on stderr, not one:\n%.*s\n", what, lines,
                (int)errlen, errbuf ? errbuf : "");
        abort();
    }
    hbf_err_begin();
}

void hbf_two_files(const uint8_t *data, size_t size, char *a, char *b, size_t len)
{
    hbf_part part[2];
    size_t n = hbf_split(data, size, part, 2);
    static const char *const names[] = {"a.csv", "b.csv"};
    hbf_write_parts(part, n, names, 2);
    hbf_path(a, len, "a.csv");
    hbf_path(b, len, n > 1 ? "b.csv" : "a.csv");
}
