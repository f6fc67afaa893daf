/* program.c -- program cells: a real program (workloads/programs/) run as a
 * child of the runner and measured from outside, as /usr/bin/time would,
 * plus what /proc shows of its process tree while it runs.
 *
 * One cell: a fresh working directory; the program's prepare writes its
 * inputs (untimed); then, timed from just before fork to the moment the
 * kernel says the program exited (a pidfd, so no polling delay is added to
 * the wall time), the command runs in a process group of its own with the
 * allocator's library preloaded, its cwd the working directory, stdout and
 * stderr into files there. While it runs, every `sample_ms` the runner walks
 * the tree (/proc/PID/task/TID/children from the program's process down),
 * sums the resident sets into the RSS series, and checks once per process
 * image that the preloaded library is mapped in it. wait4 gives the rusage
 * of the program and every descendant it waited for. On exit, on a timeout
 * and on Ctrl-C the whole group is killed, so nothing it started (a server,
 * say) outlives the cell. Then the exit status, the output check, and the
 * directory is removed.
 *
 * What the tree walk cannot see: a process that left the tree (orphaned and
 * reparented to init, or daemonised with setsid) is not summed; the group
 * kill still reaches it unless it left the group too. */
#include "harness.h"
#include "../allocators/library.h"
#include "../workloads/programs/program.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HB_PROGRAMS_DIR
#define HB_PROGRAMS_DIR "workloads/programs"
#endif

#define MAX_TREE 1024  /* processes summed in one sample */
#define MAX_SEEN 256   /* process images whose preload was checked */

int hb_program_missing(const hb_program *p, char *what, size_t len)
{
    const char *path = getenv("PATH");
    char need[512];
    snprintf(need, sizeof need, "%s", p->needs ? p->needs : "");
    for (char *save = NULL, *exe = strtok_r(need, " ", &save); exe; exe = strtok_r(NULL, " ", &save)) {
        int found = 0;
        const char *d = path ? path : "/usr/bin:/bin";
        while (!found && *d) {
            size_t n = strcspn(d, ":");
            char full[4200];
            snprintf(full, sizeof full, "%.*s/%s", (int)n, n ? d : ".", exe);
            found = access(full, X_OK) == 0;
            d += n + (d[n] == ':');
        }
        if (!found) {
            snprintf(what, len, "%s", exe);
            return 1;
        }
    }
    return 0;
}

/* A loopback port nobody listens on now; the program binds it a moment
 * later (a race with other programs on the machine, which is why it is
 * asked of the kernel rather than fixed). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

/* The processes of the tree under `root`, root first; their count. */
static size_t tree(pid_t root, pid_t *pids, size_t max)
{
    size_t n = 0;
    pids[n++] = root;
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", (int)pids[i]);
        DIR *d = opendir(path);
        if (!d)
            continue; /* gone since its parent listed it */
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9')
                continue;
            char cpath[300], kids[4096];
            snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)pids[i], e->d_name);
            if (read_small(cpath, kids, sizeof kids) <= 0)
                continue;
            for (char *s = kids, *end; *s;) {
                long v = strtol(s, &end, 10);
                if (end == s)
                    break;
                if (n < max)
                    pids[n++] = (pid_t)v;
                s = end;
            }
        }
        closedir(d);
    }
    return n;
}

static int64_t rss_of(pid_t pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    unsigned long long size, resident;
    if (read_small(path, buf, sizeof buf) <= 0 || sscanf(buf, "%llu %llu", &size, &resident) != 2)
        return 0; /* exited between the walk and the read */
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

/* The preload check of one process image, once the dynamic loader is done
 * with it (hb_alloc_lib_mapped_in says when): each image once, keyed by pid
 * and name, so an exec into another program is checked again. */
typedef struct seen {
    pid_t pid;
    char comm[20];
} seen;

typedef struct watch {
    const hb_alloc_lib *lib;
    seen done[MAX_SEEN];
    size_t ndone;
    seen suspect[MAX_SEEN]; /* said "not mapped" once: judged on a second look */
    size_t nsuspect;
    char failed[400]; /* why the preload did not take, when it did not */
} watch;

static int find_seen(const seen *v, size_t n, pid_t pid, const char *comm)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].pid == pid && strcmp(v[i].comm, comm) == 0)
            return 1;
    return 0;
}

static void add_seen(seen *v, size_t *n, pid_t pid, const char *comm)
{
    if (*n == MAX_SEEN)
        return;
    v[*n].pid = pid;
    snprintf(v[*n].comm, sizeof v[0].comm, "%s", comm);
    (*n)++;
}

/* "Not mapped" is believed only when two looks, a sample apart, say so of
 * the same process image: /proc/PID/maps is read in page-sized chunks, so
 * a process that execs or exits in the middle of one read shows the first
 * lines of one image (libc) and the rest of another (no preload yet, or
 * nothing) -- seen with a shell's fork exec'ing redis-cli. A program that
 * really runs without the library says so every time. */
static void check_preload(watch *w, pid_t pid)
{
    if (!w->lib->path[0] || w->failed[0] || w->ndone == MAX_SEEN)
        return;
    char path[64], comm[20];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    if (read_small(path, comm, sizeof comm) <= 0)
        return;
    comm[strcspn(comm, "\n")] = 0;
    if (find_seen(w->done, w->ndone, pid, comm))
        return;
    char why[200];
    int rc = hb_alloc_lib_mapped_in(w->lib, pid, why, sizeof why);
    /* EAGAIN: the loader is not done (statically linked programs never
     * are: nothing can be preloaded there, and they are never judged);
     * another error: the process is gone */
    if (rc && rc != ESRCH)
        return;
    if (rc == ESRCH && !find_seen(w->suspect, w->nsuspect, pid, comm)) {
        add_seen(w->suspect, &w->nsuspect, pid, comm);
        return;
    }
    if (rc == ESRCH)
        snprintf(w->failed, sizeof w->failed, "the preload of %.63s did not take in process %d (%.16s): %.150s",
                 w->lib->name, (int)pid, comm, why);
    add_seen(w->done, &w->ndone, pid, comm);
}

/* One look at the tree: its summed RSS into the series (0, or ENOMEM when
 * the series cannot grow) and the preload check of images not seen yet. */
static int sample(pid_t root, uint64_t ms, hb_cell_out *o, watch *w, int record, int64_t *peak)
{
    pid_t pids[MAX_TREE];
    size_t n = tree(root, pids, MAX_TREE);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += rss_of(pids[i]);
        check_preload(w, pids[i]);
    }
    if (sum > *peak)
        *peak = sum;
    if (record && sum > 0) {
        hb_rss_sample s = {.ms = ms, .rss_bytes = (uint64_t)sum, .live_bytes = -1, .gc_live_bytes = -1};
        return hb_buf_push(&o->rss, &s);
    }
    return 0;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* The last line of a file (stderr), for a failed row's error column. */
static void last_line(const char *path, char *buf, size_t len)
{
    buf[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char tail[512];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof tail - 1 ? end - (off_t)sizeof tail + 1 : 0;
    ssize_t n = pread(fd, tail, sizeof tail - 1, from);
    close(fd);
    if (n <= 0)
        return;
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
        n--;
    tail[n] = 0;
    char *l = strrchr(tail, '\n');
    snprintf(buf, len, "%.*s", (int)(len - 1), l ? l + 1 : tail);
}

/* The whole of stdout, NUL-terminated, malloc'd (the runner's heap, never
 * the program's). NULL when unreadable. */
static char *slurp(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *buf = fstat(fd, &st) == 0 ? malloc((size_t)st.st_size + 1) : NULL;
    ssize_t n = buf ? pread(fd, buf, (size_t)st.st_size, 0) : -1;
    close(fd);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* A row's status and error; a long path or message is cut to fit. */
static void __attribute__((format(printf, 3, 4))) failf(hb_result *r, hb_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->status = st;
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

/* Forks and execs the command; -1 with r filled on failure. `ready`
 * receives the errno of a failed exec through a close-on-exec pipe. */
/* The probe library (allocators/probe.c), found beside the running
 * heapbench executable at the first program cell under a library. */
static char probe_so[4096];

/* In the child: the probe first in LD_PRELOAD (it defines no malloc, so
 * the order does not change who serves it), writing to `probe_file`. */
static int apply_probe(const char *probe_file)
{
    const char *cur = getenv("LD_PRELOAD");
    char v[3 * 4096];
    int n = snprintf(v, sizeof v, "%s%s%s", probe_so, cur && *cur ? ":" : "", cur ? cur : "");
    if (n < 0 || (size_t)n >= sizeof v)
        return ENAMETOOLONG;
    return setenv("LD_PRELOAD", v, 1) || setenv("HEAPBENCH_PROBE", probe_file, 1) ? errno : 0;
}

/* This cell's HB_VG_CELL_ENV (harness.h): "WORKLOAD,ALLOC,THREADS,SIZE",
 * each character outside [A-Za-z0-9._=+-] made '_' so that it is a file
 * name's and splits on ','. */
static void vg_cell_tag(const hb_cell *c, char *buf, size_t len)
{
    char threads[16];
    snprintf(threads, sizeof threads, "%d", c->threads);
    const char *field[4] = {c->workload->name, c->alloc_label, threads, hb_size_name(c->size)};
    size_t at = 0;
    for (int f = 0; f < 4 && at + 1 < len; f++) {
        if (f)
            buf[at++] = ',';
        for (const char *q = field[f]; *q && at + 1 < len; q++) {
            int keep = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
                       strchr("._=+-", *q) != NULL;
            buf[at++] = keep ? *q : '_';
        }
    }
    buf[at] = 0;
}

static pid_t spawn(const hb_prog_cmd *cmd, const hb_alloc_lib *lib, const char *dir, const char *probe_file,
                   const char *vg_tag, hb_result *r)
{
    char out[4200], err[4200];
    snprintf(out, sizeof out, "%s/stdout.txt", dir);
    snprintf(err, sizeof err, "%s/stderr.txt", dir);
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int fi = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int ep[2] = {-1, -1};
    if (fo < 0 || fe < 0 || fi < 0 || pipe2(ep, O_CLOEXEC) != 0) {
        failf(r, HB_ST_FAILED, "cannot open the program's files in %s: %s", dir, strerror(errno));
        if (fo >= 0) close(fo);
        if (fe >= 0) close(fe);
        if (fi >= 0) close(fi);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        int e = chdir(dir) == 0 && dup2(fi, 0) >= 0 && dup2(fo, 1) >= 0 && dup2(fe, 2) >= 0 ? 0 : errno;
        for (int i = 0; !e && i < cmd->envc; i++)
            if (putenv(cmd->env[i]) != 0)
                e = errno;
        /* under regress's valgrind: the program's processes name their
         * out-files after this cell */
        if (!e && getenv(HB_VG_CELL_ENV) && setenv(HB_VG_CELL_ENV, vg_tag, 1) != 0)
            e = errno;
        if (!e)
            e = hb_alloc_lib_apply_env(lib);
        if (!e && lib->path[0])
            e = apply_probe(probe_file);
        if (!e) {
            execvp(cmd->argv[0], cmd->argv);
            e = errno;
        }
        if (write(ep[1], &e, sizeof e) < 0)
            _exit(126);
        _exit(127);
    }
    int fork_errno = errno;
    close(fo);
    close(fe);
    close(fi);
    close(ep[1]);
    if (pid < 0) {
        close(ep[0]);
        failf(r, HB_ST_FAILED, "fork: %s", strerror(fork_errno));
        return -1;
    }
    setpgid(pid, pid); /* both sides: whichever runs first */
    int e = 0;
    ssize_t k;
    while ((k = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR)
        ;
    close(ep[0]);
    if (k == (ssize_t)sizeof e) {
        waitpid(pid, NULL, 0);
        failf(r, HB_ST_FAILED, "cannot run %s: %s", cmd->argv[0], strerror(e));
        return -1;
    }
    return pid;
}

const hb_alloc_lib *hb_program_lib(const char *self, const hb_allocator *a)
{
    /* resolved once per run and allocator: the cells point here */
    static hb_alloc_lib libs[HB_MAX_LIST];
    static const hb_allocator *of[HB_MAX_LIST];
    static size_t n;
    for (size_t i = 0; i < n; i++)
        if (of[i] == a)
            return libs[i].name[0] ? &libs[i] : NULL;
    if (n == HB_MAX_LIST)
        return NULL;
    of[n] = a;
    /* null is an instrument with no shared-library form: its program cells
     * are skipped rows, not a line on stderr */
    if (a == &hb_pymalloc_allocator) {
        /* CPython's own: nothing to preload (cpython.c sets PYTHONMALLOC) */
        memset(&libs[n], 0, sizeof libs[n]);
        snprintf(libs[n].name, sizeof libs[n].name, "%s", a->name);
        libs[n].builtin = 1;
    } else if (strcmp(a->name, "null") == 0 || hb_alloc_lib_resolve(a->name, self, &libs[n]) != 0)
        memset(&libs[n], 0, sizeof libs[n]);
    n++;
    return libs[n - 1].name[0] ? &libs[n - 1] : NULL;
}

int hb_program_cell(const hb_cell *c, double timeout_s, const volatile sig_atomic_t *stop, int log_fd,
                    hb_cell_out *o)
{
    return hb_program_run(c, c->workload->program, NULL, timeout_s, stop, log_fd, o);
}

/* The program's stderr, to the run's log (its last 64 KiB: a program that
 * writes megabytes of diagnostics does not fill the disk twice). */
static void copy_stderr(const char *path, int log_fd)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t end = lseek(fd, 0, SEEK_END), from = end > (1 << 16) ? end - (1 << 16) : 0;
    char buf[1 << 14];
    ssize_t got, w = 0;
    if (from > 0) {
        char note[80];
        int n = snprintf(note, sizeof note, "[the first %lld bytes left out]\n", (long long)from);
        w = write(log_fd, note, (size_t)n);
    }
    lseek(fd, from, SEEK_SET);
    while (w >= 0 && (got = read(fd, buf, sizeof buf)) > 0)
        w = write(log_fd, buf, (size_t)got);
    close(fd);
}

int hb_program_run(const hb_cell *c, const hb_program *p, void *arg, double timeout_s,
                   const volatile sig_atomic_t *stop, int log_fd, hb_cell_out *o)
{
    hb_cell_out_init(o, c);
    hb_result *r = &o->r;
    r->external = 1;
    char what[128];
    if (hb_program_missing(p, what, sizeof what)) {
        r->status = HB_ST_SKIPPED;
        snprintf(r->error, sizeof r->error, "%s is not installed (scripts/setup.sh installs it)", what);
        return 0;
    }
    if (!c->lib) { /* hb_program_lib found none */
        r->status = HB_ST_SKIPPED;
        snprintf(r->error, sizeof r->error, "allocator %s has no library to preload into a program",
                 c->alloc->name);
        return 0;
    }
    const hb_alloc_lib lib = *c->lib;
    if (lib.path[0] && !probe_so[0]) {
        char self[4096];
        ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
        self[k > 0 ? k : 0] = 0;
        if (hb_alloc_lib_probe_find(self, probe_so, sizeof probe_so) != 0)
            probe_so[0] = 0;
    }
    if (lib.path[0] && !probe_so[0]) {
        r->status = HB_ST_FAILED;
        snprintf(r->error, sizeof r->error, "libheapbench_probe.so is not beside heapbench: the preload of %s "
                 "cannot be checked (rebuild)", lib.name);
        return 0;
    }
    /* $TMPDIR if set, else memory (tmpfs): a program's files (db_bench's
     * tables, flushed and synced) then cost no disk write, whose time
     * varies with the disk, not with the allocator */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/heapbench-%s-XXXXXX", tmp, p->wl.name);
    if (!mkdtemp(dir)) {
        failf(r, HB_ST_FAILED, "cannot make a working directory %s: %s", dir, strerror(errno));
        return 0;
    }
    /* the project's scripts: the source tree's, unless pointed elsewhere
     * (an installed copy; the tests' altered one) */
    const char *src = getenv("HEAPBENCH_PROGRAMS_DIR");
    hb_prog_ctx ctx = {.dir = dir, .src = src && *src ? src : HB_PROGRAMS_DIR, .threads = c->threads, .size = c->size,
                       .seed = c->seed, .port = free_port(), .arg = arg};
    memcpy(ctx.param, c->param, sizeof ctx.param);
    static hb_prog_cmd cmd; /* 16 kB: not on the stack */
    memset(&cmd, 0, sizeof cmd);
    char perr[200] = "";
    int rc = 0, cut = 0;
    if (p->shell)
        rc = hb_prog_arg(&cmd, "sh") || hb_prog_arg(&cmd, "-c") || hb_prog_arg(&cmd, "%s", p->shell) ? E2BIG : 0;
    else if (ctx.port < 0)
        failf(r, HB_ST_FAILED, "no free loopback port: %s", strerror(errno));
    else
        rc = p->prepare(&ctx, &cmd, perr, sizeof perr);
    if (rc)
        failf(r, HB_ST_FAILED, "%s: preparing the inputs failed: %s", p->wl.name, perr[0] ? perr : strerror(rc));
    if (r->status != HB_ST_OK) /* HB_ST_OK is 0: nothing has failed yet */
        goto out;

    watch w = {.lib = &lib};
    struct rusage self0, self1; /* the runner's own: what watching costs */
    getrusage(RUSAGE_SELF, &self0);
    double t0 = hb_now(), t1 = 0;
    r->t0_ns = (uint64_t)(t0 * 1e9);
    char probe_file[8400], cwd[4096];
    snprintf(probe_file, sizeof probe_file, "%s%s%s/heapbench.probe", dir[0] == '/' ? "" : getcwd(cwd, sizeof cwd) ? cwd : ".",
             dir[0] == '/' ? "" : "/", dir);
    char vg_tag[512];
    vg_cell_tag(c, vg_tag, sizeof vg_tag);
    pid_t pid = spawn(&cmd, &lib, dir, probe_file, vg_tag, r);
    if (pid < 0)
        goto out;
    /* readable when the process has exited: the end of the timed run */
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int timed_out = 0, record = c->m.sample_ms > 0;
    /* Sampling off: the tree is still looked at every 10 ms for the preload
     * check (and the peak), just not recorded. Under a library, every
     * millisecond until the program's own process has been checked (its
     * loader done: a few ms), so even a program of 10 ms is checked. */
    double period = (record ? c->m.sample_ms : 10) / 1000.0, next = t0 + 0.001;
    int eager = lib.path[0] != 0;
    int64_t peak = 0;
    int lost = 0; /* samples the series could not hold */
    for (;;) {
        double now = hb_now();
        if (*stop)
            break;
        if (now - t0 >= timeout_s) {
            timed_out = 1;
            break;
        }
        if (now >= next) {
            lost |= sample(pid, (uint64_t)((now - t0) * 1000), o, &w, record, &peak) != 0;
            eager = eager && w.ndone == 0 && now - t0 < 0.1;
            next += eager ? 0.001 : period;
            if (next < now)
                next = now + (eager ? 0.001 : period);
            if (w.failed[0])
                break;
        }
        double wait_s = next - hb_now();
        if (wait_s > timeout_s - (hb_now() - t0))
            wait_s = timeout_s - (hb_now() - t0);
        int ms = wait_s > 0 ? (int)(wait_s * 1000) + 1 : 0;
        if (pfd >= 0) {
            struct pollfd pf = {.fd = pfd, .events = POLLIN};
            if (poll(&pf, 1, ms) > 0) {
                t1 = hb_now();
                break;
            }
        } else {
            /* no pidfd (an old kernel): look every millisecond */
            siginfo_t si = {0};
            if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
                t1 = hb_now();
                break;
            }
            usleep(1000);
        }
    }
    if (!t1) /* stopped, timed out, or the preload did not take */
        kill(-pid, SIGKILL);
    int st = 0;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    r->process_s = hb_now() - t0;
    getrusage(RUSAGE_SELF, &self1);
    /* whatever it left in its group (a server it started) goes with it */
    kill(-pid, SIGKILL);
    if (pfd >= 0)
        close(pfd);
    if (*stop) {
        cut = 1;
        goto out;
    }
    if (timed_out) {
        r->status = HB_ST_TIMEOUT;
        snprintf(r->error, sizeof r->error, "killed after the %.0f s timeout, with its process group", timeout_s);
        goto out;
    }
    if (w.failed[0]) {
        failf(r, HB_ST_FAILED, "%s", w.failed);
        goto out;
    }
    if (lost) {
        failf(r, HB_ST_FAILED, "cannot hold the RSS series: out of memory");
        goto out;
    }
    /* The probe's lines: every image that kept the preload says from inside
     * who serves its malloc, however short it ran. */
    int root_ok = 0;
    char pwhy[300];
    if (lib.path[0] && hb_alloc_lib_probe_judge(&lib, probe_file, pid, &root_ok, pwhy, sizeof pwhy) == ESRCH) {
        failf(r, HB_ST_FAILED, "the preload of %s did not take: %s", lib.name, pwhy);
        goto out;
    }
    if (lib.path[0] && w.ndone == 0 && !root_ok && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        /* never silently glibc under the library's name */
        failf(r, HB_ST_FAILED, "%s exited after %.1f ms, before the preload of %s could be checked in it",
              p->wl.name, (t1 - t0) * 1e3, lib.name);
        goto out;
    }
    char errpath[4200], outpath[4200], last[160];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", dir);
    snprintf(outpath, sizeof outpath, "%s/stdout.txt", dir);
    if (WIFSIGNALED(st)) {
        r->status = HB_ST_CRASHED;
        last_line(errpath, last, sizeof last);
        failf(r, HB_ST_CRASHED, "%s killed by signal %d (%s)%s%s", p->wl.name, WTERMSIG(st),
              strsignal(WTERMSIG(st)), last[0] ? ": " : "", last);
        goto out;
    }
    if (WEXITSTATUS(st) != 0) {
        r->status = HB_ST_FAILED;
        last_line(errpath, last, sizeof last);
        failf(r, HB_ST_FAILED, "%s exited with status %d%s%s", p->wl.name, WEXITSTATUS(st),
              last[0] ? ": " : "", last);
        goto out;
    }
    hb_prog_result res = {.figure = -1, .wall_s = -1};
    if (p->check) {
        char *text = slurp(outpath);
        char cerr[200] = "";
        if (!text)
            failf(r, HB_ST_FAILED, "cannot read the program's output %s: %s", outpath, strerror(errno));
        else if (p->check(&ctx, text, &res, cerr, sizeof cerr) != 0)
            failf(r, HB_ST_FAILED, "output check: %s", cerr[0] ? cerr : "(no detail)");
        free(text);
        if (r->status != HB_ST_OK)
            goto out;
    }
    r->status = HB_ST_OK;
    r->wall_s = res.wall_s >= 0 ? res.wall_s : t1 - t0;
    r->user_s = tv_s(ru.ru_utime);
    r->sys_s = tv_s(ru.ru_stime);
    r->counts.ops = res.ops;
    r->figure = res.figure;
    if (p->figure_unit)
        snprintf(r->figure_unit, sizeof r->figure_unit, "%s", p->figure_unit);
    r->harness_cpu_s = tv_s(self1.ru_utime) - tv_s(self0.ru_utime) + tv_s(self1.ru_stime) - tv_s(self0.ru_stime);
    r->maxrss_kb = ru.ru_maxrss;
    r->minflt = ru.ru_minflt;
    r->majflt = ru.ru_majflt;
    r->nvcsw = ru.ru_nvcsw;
    r->nivcsw = ru.ru_nivcsw;
    /* Two lower bounds of the tree's true peak: the largest sampled sum,
     * and the kernel's high-water mark of its largest process (exact for a
     * one-process program, whose peak a 10 ms sampler can miss). */
    r->peak_rss_kb = peak / 1024 > ru.ru_maxrss ? peak / 1024 : ru.ru_maxrss;
out:
    if (log_fd >= 0) {
        snprintf(errpath, sizeof errpath, "%s/stderr.txt", dir);
        copy_stderr(errpath, log_fd);
    }
    /* a debug aid: HEAPBENCH_KEEP_DIRS=1 leaves the inputs and outputs */
    if (getenv("HEAPBENCH_KEEP_DIRS") && !strcmp(getenv("HEAPBENCH_KEEP_DIRS"), "1"))
        fprintf(stderr, "heapbench: kept %s\n", dir);
    else
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (cut) {
        hb_buf_free(&o->rss);
        return 1;
    }
    if (r->status != HB_ST_OK) { /* no series without figures */
        hb_buf_free(&o->rss);
        hb_buf_free(&o->pauses);
        r->have_pauses = r->have_gen_stats = 0;
    }
    return 0;
}
