/* outfile.c -- companions' names, outputs that are never inputs, and
 * temporary files removed on a signal (outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const hb_comp_suffix[HB_NCOMP] = {".rss.csv", ".pauses.csv", ".json", ".log"};

/* The longest suffix a writer puts after a companion's name: mkstemp's. */
#define TMP_SUFFIX ".tmpXXXXXX"

int hb_companion_path(const char *csv, const char *suffix, char *buf, size_t len, char *why, size_t wlen)
{
    size_t stem = strlen(csv);
    if (stem > 4 && strcmp(csv + stem - 4, ".csv") == 0)
        stem -= 4;
    int n = snprintf(buf, len, "%.*s%s", (int)stem, csv, suffix);
    const char *base = strrchr(buf, '/');
    base = base ? base + 1 : buf;
    /* the temporary file written beside it must fit too */
    if (n < 0 || (size_t)n >= len || strlen(base) + strlen(TMP_SUFFIX) > NAME_MAX) {
        snprintf(why, wlen, "the companion %.*s%s would be a name longer than the file system allows "
                            "(%d bytes per name); choose a shorter --out",
                 (int)stem, csv, suffix, NAME_MAX);
        return ENAMETOOLONG;
    }
    return 0;
}

/* Whether a and b name one file: by device and inode when both exist; when
 * neither does, by the identity of their directories and their last
 * components, so that an output not written yet is still caught as the
 * companion it would become. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    int ha = stat(a, &sa) == 0, hbb = stat(b, &sb) == 0;
    if (ha && hbb)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ha || hbb)
        return 0;
    const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');
    ba = ba ? ba + 1 : a;
    bb = bb ? bb + 1 : b;
    if (strcmp(ba, bb) != 0)
        return 0;
    char da[PATH_MAX], db[PATH_MAX];
    snprintf(da, sizeof da, "%.*s", ba == a ? 1 : (int)(ba - a), ba == a ? "." : a);
    snprintf(db, sizeof db, "%.*s", bb == b ? 1 : (int)(bb - b), bb == b ? "." : b);
    return stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int hb_out_not_input(const char *out, const char *const *ins, size_t nins, int json_ok, char *why, size_t len)
{
    for (size_t i = 0; i < nins; i++) {
        for (int k = -1; k < HB_NCOMP; k++) {
            char path[PATH_MAX + 32], w[256];
            if (k == HB_COMP_JSON && json_ok)
                continue;
            if (k < 0)
                snprintf(path, sizeof path, "%s", ins[i]);
            else if (hb_companion_path(ins[i], hb_comp_suffix[k], path, sizeof path, w, sizeof w))
                continue; /* no such file can exist */
            if (!same_file(out, path))
                continue;
            if (k < 0)
                snprintf(why, len, "%s is the input %s; an output never replaces an input", out, ins[i]);
            else
                snprintf(why, len, "%s is the file %s, a companion of the input %s; an output never replaces "
                              "an input", out, path, ins[i]);
            return EEXIST;
        }
    }
    return 0;
}

/* ---- temporary files and signals */

#define MAX_TMP 32
static char *volatile tmp_files[MAX_TMP];
static int handlers_set;

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_TMP; i++)
        if (tmp_files[i])
            unlink(tmp_files[i]); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Only where nobody else handles the signal: the runner has its own
 * handler (it stops after the current cell), which the JSON it then writes
 * must not replace. */
static void set_handlers(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    if (handlers_set)
        return;
    handlers_set = 1;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
            struct sigaction sa = {0};
            sa.sa_handler = on_signal;
            sigaction(sigs[i], &sa, NULL);
        }
    }
}

int hb_tmp_create(const char *target, char **tmp)
{
    size_t n = strlen(target) + sizeof TMP_SUFFIX;
    char *name = malloc(n);
    if (!name) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(name, n, "%s" TMP_SUFFIX, target);
    set_handlers();
    /* Signals held while the file is created and remembered: one arriving
     * between the two would leave it behind. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    int fd = mkstemp(name), slot = -1;
    int e = errno;
    if (fd >= 0) {
        for (int i = 0; i < MAX_TMP && slot < 0; i++)
            if (!tmp_files[i])
                slot = i;
        if (slot >= 0)
            tmp_files[slot] = name;
        else { /* more at once than any writer here makes */
            close(fd);
            unlink(name);
            fd = -1;
            e = EMFILE;
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        free(name);
        errno = e;
        return -1;
    }
    fchmod(fd, 0644); /* mkstemp's 0600 would hide results from other users */
    *tmp = name;
    return fd;
}

int hb_tmp_remember(char *path)
{
    set_handlers();
    for (int i = 0; i < MAX_TMP; i++)
        if (!tmp_files[i]) {
            tmp_files[i] = path;
            return 0;
        }
    return EMFILE;
}

void hb_tmp_forget(const char *tmp)
{
    for (int i = 0; i < MAX_TMP; i++)
        if (tmp_files[i] == tmp)
            tmp_files[i] = NULL;
}
