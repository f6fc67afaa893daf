/* test_library.c -- allocators/library.c's contract, in one process: the
 * builtins' libraries (what program cells preload), LD_PRELOAD's value, the
 * check in a running process, and the /proc check of another one.
 *   test_library HEAPBENCH_EXE LIBHBCOUNT_SO */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "allocators/library.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *self_exe, *countlib;

static void test_builtins(void **st)
{
    (void)st;
    hb_alloc_lib lib;
    assert_int_equal(hb_alloc_lib_resolve("system", self_exe, &lib), 0);
    assert_string_equal(lib.name, "system");
    assert_string_equal(lib.path, "");
    assert_string_equal(lib.id, "");
    assert_int_equal(lib.builtin, 1);
    /* our drop-in libraries, beside the executable */
    const char *ours[] = {"arena", "freelist"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(hb_alloc_lib_resolve(ours[i], self_exe, &lib), 0);
        char want[64];
        snprintf(want, sizeof want, "/libheapbench_%s.so", ours[i]);
        assert_non_null(strstr(lib.path, want));
        assert_int_equal(lib.path[0], '/');
        assert_int_equal(strncmp(lib.id, "build-id:", 9), 0);
        assert_int_equal(lib.builtin, 1);
    }
    /* Debian's: jemalloc always (a required package), the others when built */
    assert_int_equal(hb_alloc_lib_resolve("jemalloc", self_exe, &lib), 0);
    assert_non_null(strstr(lib.path, "libjemalloc.so"));
    assert_int_equal(strncmp(lib.id, "build-id:", 9), 0);
    assert_int_equal(strlen(lib.id), 9 + 40); /* a SHA-1 build-id */
    /* an instrument has no library form; an unknown name is refused */
    assert_int_equal(hb_alloc_lib_resolve("null", self_exe, &lib), 2);
    assert_int_equal(hb_alloc_lib_resolve("nosuch", self_exe, &lib), 2);
    /* without the executable's path, the drop-ins cannot be found */
    assert_int_equal(hb_alloc_lib_resolve("arena", NULL, &lib), 2);
}

static void test_specs(void **st)
{
    (void)st;
    assert_true(hb_alloc_lib_is_spec("x=/a/b.so"));
    assert_true(hb_alloc_lib_is_spec("/a/b"));
    assert_true(hb_alloc_lib_is_spec("libfoo.so"));
    assert_true(hb_alloc_lib_is_spec("libfoo.so.4"));
    assert_false(hb_alloc_lib_is_spec("jemalloc"));
    assert_false(hb_alloc_lib_is_spec("solaris"));
    hb_alloc_lib lib;
    assert_int_equal(hb_alloc_lib_resolve(countlib, NULL, &lib), 0);
    assert_string_equal(lib.name, "libhbcount.so");
    assert_int_equal(lib.builtin, 0);
    char real[4096];
    assert_non_null(realpath(countlib, real));
    assert_string_equal(lib.path, real);
    char spec[4200];
    snprintf(spec, sizeof spec, "cnt=%s", countlib);
    assert_int_equal(hb_alloc_lib_resolve(spec, NULL, &lib), 0);
    assert_string_equal(lib.name, "cnt");
    snprintf(spec, sizeof spec, "a/b=%s", countlib); /* '/' in NAME */
    assert_int_equal(hb_alloc_lib_resolve(spec, NULL, &lib), 2);
}

static void test_preload_value(void **st)
{
    (void)st;
    hb_alloc_lib lib = {.path = "/l/libx.so"};
    char buf[64];
    assert_int_equal(hb_alloc_lib_preload_value(&lib, NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "/l/libx.so");
    assert_int_equal(hb_alloc_lib_preload_value(&lib, "/y.so", buf, sizeof buf), 0);
    assert_string_equal(buf, "/l/libx.so:/y.so"); /* first: its malloc binds */
    hb_alloc_lib none = {0};
    assert_int_equal(hb_alloc_lib_preload_value(&none, "/y.so", buf, sizeof buf), 0);
    assert_string_equal(buf, "/y.so");
    assert_int_equal(hb_alloc_lib_preload_value(&lib, "/y.so", buf, 12), ENAMETOOLONG);
}

static void test_verify_here(void **st)
{
    (void)st;
    char why[512] = "";
#ifndef HB_SANITIZER
    hb_alloc_lib glibc = {0};
    assert_int_equal(hb_alloc_lib_verify(&glibc, why, sizeof why), 0);
#endif
    /* this process did not preload libhbcount.so */
    hb_alloc_lib lib;
    assert_int_equal(hb_alloc_lib_resolve(countlib, NULL, &lib), 0);
    assert_int_equal(hb_alloc_lib_verify(&lib, why, sizeof why), ESRCH);
    assert_non_null(strstr(why, "preload did not take"));
}

/* A child started with the library preloaded maps it; this process does
 * not. */
static void test_mapped_in(void **st)
{
    (void)st;
    hb_alloc_lib lib;
    char why[512];
    assert_int_equal(hb_alloc_lib_resolve(countlib, NULL, &lib), 0);
    assert_int_equal(hb_alloc_lib_mapped_in(&lib, getpid(), why, sizeof why), ESRCH);
    int ready[2], hold[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        dup2(hold[0], 0);
        if (hb_alloc_lib_apply_env(&lib) != 0)
            _exit(1);
        char fd[16];
        snprintf(fd, sizeof fd, "%d", ready[1]);
        /* the shell, started with the library preloaded, says it is up,
         * then waits for its stdin to close (no exec after the report: a
         * process in the middle of exec has not mapped its preloads yet) */
        execl("/bin/sh", "sh", "-c", "echo up >&$0; read x", fd, (char *)NULL);
        _exit(127);
    }
    close(ready[1]);
    close(hold[0]);
    char b[8];
    assert_true(read(ready[0], b, sizeof b) > 0);
    close(ready[0]);
    int rc = hb_alloc_lib_mapped_in(&lib, pid, why, sizeof why);
    close(hold[1]);
    int ws;
    waitpid(pid, &ws, 0);
    assert_int_equal(rc, 0);
    assert_true(WIFEXITED(ws));
    hb_alloc_lib none = {0};
    assert_int_equal(hb_alloc_lib_mapped_in(&none, getpid(), why, sizeof why), 0);
}

/* Run `prog` (with up to two arguments) with LD_PRELOAD=preload and the
 * probe writing to `file`; its pid. */
static pid_t probed(const char *preload, const char *file, const char *prog, const char *a1, const char *a2)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("LD_PRELOAD", preload, 1);
        setenv("HEAPBENCH_PROBE", file, 1);
        execl(prog, prog, a1, a2, (char *)NULL);
        _exit(127);
    }
    int ws;
    waitpid(pid, &ws, 0);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    return pid;
}

/* The probe, in real short-lived processes: /bin/true (PIE, about a
 * millisecond: what the sampler can miss) and python3 (built without PIE:
 * the canonical PLT stub case) name the preloaded library; a process where
 * the library is not preloaded is caught. */
static void test_probe(void **st)
{
    (void)st;
    char probe[4096], file[] = "/tmp/hb-probe-XXXXXX", why[512], pre[8400];
    assert_int_equal(hb_alloc_lib_probe_find(self_exe, probe, sizeof probe), 0);
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    close(fd);
    hb_alloc_lib lib;
    assert_int_equal(hb_alloc_lib_resolve(countlib, NULL, &lib), 0);
    snprintf(pre, sizeof pre, "%s:%s", probe, lib.path);
    const char *progs[][3] = {{"/bin/true", NULL, NULL}, {"/usr/bin/python3", "-c", "pass"}};
    for (size_t i = 0; i < 2; i++) {
        if (access(progs[i][0], X_OK) != 0)
            continue;
        assert_int_equal(truncate(file, 0), 0);
        pid_t pid = probed(pre, file, progs[i][0], progs[i][1], progs[i][2]);
        int root_ok = 0;
        assert_int_equal(hb_alloc_lib_probe_judge(&lib, file, pid, &root_ok, why, sizeof why), 0);
        assert_int_equal(root_ok, 1);
        /* the probe alone: glibc serves malloc, and that is the verdict */
        assert_int_equal(truncate(file, 0), 0);
        probed(probe, file, progs[i][0], progs[i][1], progs[i][2]);
        assert_int_equal(hb_alloc_lib_probe_judge(&lib, file, pid, &root_ok, why, sizeof why), ESRCH);
        assert_non_null(strstr(why, "libc.so"));
    }
    /* no file: nothing loaded the probe, nothing judged */
    unlink(file);
    int root_ok = 1;
    assert_int_equal(hb_alloc_lib_probe_judge(&lib, file, 1, &root_ok, why, sizeof why), 0);
    assert_int_equal(root_ok, 0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_library HEAPBENCH_EXE LIBHBCOUNT_SO\n");
        return 2;
    }
    self_exe = argv[1];
    countlib = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins),   cmocka_unit_test(test_specs),     cmocka_unit_test(test_preload_value),
        cmocka_unit_test(test_verify_here), cmocka_unit_test(test_mapped_in),  cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
