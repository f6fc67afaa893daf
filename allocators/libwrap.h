/* libwrap.h -- what the backends that wrap a process-wide library share.
 *
 * Those libraries (mimalloc, tcmalloc) define malloc themselves, so linking
 * them would replace glibc for the whole process and make `system` a lie.
 * They are opened with RTLD_LOCAL instead, and only their own prefixed API is
 * called. */
#ifndef HB_LIBWRAP_H
#define HB_LIBWRAP_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

typedef struct hb_libsym {
    const char *name;
    void **slot; /* where the address goes */
} hb_libsym;

/* Open `path` and resolve every symbol; 0, or ENOENT with a message on stderr
 * naming the library and the missing symbol. Opened once per process. */
int hb_lib_open(const char *path, const hb_libsym *syms, size_t n);

/* Libraries that report only what they hold from the OS now: bytes given
 * back are counted as the decreases seen between successive stats() calls,
 * a lower bound that is exact when stats() runs after every release. */
typedef struct hb_release_tracker {
    pthread_mutex_t lock;
    uint64_t last_os;
    uint64_t released;
} hb_release_tracker;

#define HB_RELEASE_TRACKER_INIT { PTHREAD_MUTEX_INITIALIZER, 0, 0 }
uint64_t hb_release_observe(hb_release_tracker *t, uint64_t os_bytes_now);

#endif
