/* probe.c -- libheapbench_probe.so: the inside half of a program cell's
 * preload check (library.h, hb_alloc_lib_probe_judge).
 *
 * A program cell under a library preloads this object beside the library,
 * with HEAPBENCH_PROBE naming a file in the cell's directory. Every process
 * image that loads it -- the program, and each child or exec'd image that
 * kept LD_PRELOAD -- appends one line from its constructor, before main:
 *
 *     PID <tab> COMM <tab> FILE SERVING malloc <tab> FILE SERVING free
 *
 * The files are what dladdr says of the addresses this object's own calls
 * are bound to (read through its GOT, as the program's are; see file_of
 * for executables without PIE), so the line is
 * written however short the image runs: the sampler's look at /proc/PID/maps
 * can miss a program that exits within a few milliseconds on a loaded
 * machine, this cannot. It defines no allocation function and calls none:
 * loading it changes nothing the benchmark measures beyond one small write. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The file whose code `fn` (an address bound through our GOT) runs. In an
 * executable built without PIE that calls `name`, every object's GOT holds
 * the executable's PLT stub (the function's canonical address): dladdr
 * then names the executable, with an undefined symbol. The stub jumps to
 * the first definition after the executable in the global scope; this
 * object comes first in LD_PRELOAD and defines none, so RTLD_NEXT from
 * here finds the same one. */
static const char *file_of(void *fn, const char *name)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!fn || !dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) || !info.dli_fname || !info.dli_fname[0])
        return "?";
    if (sym && sym->st_shndx == SHN_UNDEF) {
        void *d = dlsym(RTLD_NEXT, name);
        if (!d || !dladdr(d, &info) || !info.dli_fname || !info.dli_fname[0])
            return "?";
    }
    return info.dli_fname;
}

__attribute__((constructor)) static void hb_probe(void)
{
    const char *to = getenv("HEAPBENCH_PROBE");
    if (!to || !*to)
        return;
    void *(*volatile m)(size_t) = malloc;
    void (*volatile f)(void *) = free;
    char comm[64] = "?";
    int c = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
    if (c >= 0) {
        ssize_t n = read(c, comm, sizeof comm - 1);
        close(c);
        comm[n > 0 ? n : 0] = 0;
        comm[strcspn(comm, "\n\t")] = 0;
    }
    char line[3 * 4096];
    int n = snprintf(line, sizeof line, "%d\t%s\t%s\t%s\n", (int)getpid(), comm, file_of((void *)m, "malloc"),
                     file_of((void *)f, "free"));
    if (n <= 0 || (size_t)n >= sizeof line)
        return;
    int fd = open(to, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    /* one write of one line: O_APPEND keeps concurrent images' lines whole */
    if (write(fd, line, (size_t)n) < 0) {
        /* nothing to do: a missing line is judged by the sampler alone */
    }
    close(fd);
}
