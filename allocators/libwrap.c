/* libwrap.c -- see libwrap.h. */
#include "libwrap.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

int hb_lib_open(const char *path, const hb_libsym *syms, size_t n)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "heapbench: cannot load %s: %s\n", path, dlerror());
        return ENOENT;
    }
    for (size_t i = 0; i < n; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            fprintf(stderr, "heapbench: %s has no symbol %s\n", path, syms[i].name);
            return ENOENT;
        }
        *syms[i].slot = f;
    }
    return 0;
}

uint64_t hb_release_observe(hb_release_tracker *t, uint64_t os_bytes_now)
{
    pthread_mutex_lock(&t->lock);
    if (os_bytes_now < t->last_os)
        t->released += t->last_os - os_bytes_now;
    t->last_os = os_bytes_now;
    uint64_t r = t->released;
    pthread_mutex_unlock(&t->lock);
    return r;
}
