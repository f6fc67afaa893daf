/* library.h -- an allocator given as a shared library, reached by preload.
 *
 * The one place that resolves and verifies malloc libraries (DESIGN.md,
 * "Outside the process"). An in-process cell or a program cell whose
 * allocator is a library is started with the library in LD_PRELOAD; the
 * harness (harness/) spawns it, this file says which library, checks it
 * before any cell runs, and checks in the started process that the preload
 * took. No backend is ever selected by shadowing malloc in heapbench itself,
 * and a foreign malloc is never dlopen'ed into the runner: the checks before
 * a run read the file (ELF headers, dynamic symbol table), they do not load it.
 *
 * Errors: 0 on success, else an errno value (resolve: 2, after one line on
 * stderr, the command's "bad input" status). Nothing here allocates beyond
 * the caller's structs; everything is safe to call in a forked child before
 * exec except where said.
 */
#ifndef HB_LIBRARY_H
#define HB_LIBRARY_H

#include <stddef.h>
#include <sys/types.h>

#define HB_ALLOC_LIB_PATH_MAX 400

typedef struct hb_alloc_lib {
    /* What rows record in `allocator`: the NAME of NAME=PATH, the file's
     * name for a bare PATH (e.g. "libtcmalloc_minimal.so.4"), or the
     * builtin's name. */
    char name[64];
    /* Absolute path (symlinks resolved) of the library to preload, at most
     * HB_ALLOC_LIB_PATH_MAX bytes (results rows record it); "" when the
     * allocator needs none (`system`). */
    char path[4096];
    /* "build-id:HEX" from the library's NT_GNU_BUILD_ID note, else
     * "sha256:HEX" of the file; "" when path is "". */
    char id[96];
    /* 1: a builtin name (system, arena, ...). In-process cells then use the
     * backend compiled into heapbench and preload nothing; only program
     * cells preload `path`. 0: a user's library; every cell preloads it and
     * in-process cells run the `system` backend, which then calls it. */
    int builtin;
} hb_alloc_lib;

/* Whether one --allocators entry names a library rather than a builtin:
 * it contains '=' (NAME=PATH) or '/', or ends in ".so" or holds ".so.". */
int hb_alloc_lib_is_spec(const char *spec);

/* Resolve one --allocators entry for preloading.
 *  - A builtin name maps to the library that gives that allocator to a
 *    foreign program: system: none (path ""); arena, freelist: our drop-in
 *    libheapbench_NAME.so, found beside the heapbench executable
 *    `self_exe`; jemalloc, mimalloc, tcmalloc: Debian's shared libraries.
 *    null has none (ENOENT: it is an instrument, not a malloc).
 *  - NAME=PATH or a bare PATH is a user's library, checked: it exists, is an
 *    ELF shared object of this machine's class, and its dynamic symbol table
 *    defines malloc, free, calloc, realloc, posix_memalign and aligned_alloc
 *    (malloc_usable_size where it has one is not required). NAME is
 *    [A-Za-z0-9_.+-], at most 63 bytes, and not a builtin's name.
 * 0, or 2 after one line on stderr naming the entry and what is wrong. */
int hb_alloc_lib_resolve(const char *spec, const char *self_exe, hb_alloc_lib *out);

/* The value LD_PRELOAD must have to preload lib: its path, prepended to
 * `inherited` (the current LD_PRELOAD, or NULL) with ':' between. With no
 * path (system), a copy of `inherited` ("" when NULL). 0, or ENAMETOOLONG. */
int hb_alloc_lib_preload_value(const hb_alloc_lib *lib, const char *inherited, char *buf, size_t len);

/* In a forked child before exec: set LD_PRELOAD for lib (nothing when
 * lib->path is ""). 0 or an errno value. */
int hb_alloc_lib_apply_env(const hb_alloc_lib *lib);

/* In a process started with the library preloaded (an in-process cell):
 * whether the malloc and free this process calls -- the addresses its own
 * code resolved, not a dlsym lookup, which can find a definition that the
 * loader did not bind to (a versioned malloc, say) -- lie in lib->path.
 * For lib->path "" (system): whether they lie in libc. 0, or an errno value
 * (ESRCH: they come from elsewhere) with why in `why`. */
int hb_alloc_lib_verify(const hb_alloc_lib *lib, char *why, size_t len);

/* From outside (a program cell): whether process `pid` has lib->path
 * mapped, read from /proc/PID/maps. It is the check a foreign program
 * allows -- a program that clears LD_PRELOAD before exec'ing its real work
 * does not map the library. 0, ESRCH (not mapped) with why, EAGAIN when
 * the process's loader is not done yet (libc not mapped: just exec'd, or a
 * static program, where nothing can be preloaded; ask again later), or the
 * errno of reading /proc. One read of the maps, so a process that execs
 * meanwhile is never judged on half of each image. lib->path "" gives 0. */
int hb_alloc_lib_mapped_in(const hb_alloc_lib *lib, pid_t pid, char *why, size_t len);

/* The inside check of a program cell (allocators/probe.c): the probe
 * library, libheapbench_probe.so beside the heapbench executable
 * `self_exe`, found into buf. 0, or an errno value (ENOENT: not built). */
int hb_alloc_lib_probe_find(const char *self_exe, char *buf, size_t len);

/* Read what the probe wrote into `file` (one line per process image that
 * loaded it: pid, comm, the files serving malloc and free) and judge it:
 * ESRCH with why when some image calls a malloc or free not in lib->path;
 * else 0, with *root_ok 1 when process `root` wrote a line (so the cell's
 * own process was checked, however short it ran). No file: 0, *root_ok 0.
 * Images that cleared LD_PRELOAD do not load the probe either: for them
 * the outside check (hb_alloc_lib_mapped_in) remains. */
int hb_alloc_lib_probe_judge(const hb_alloc_lib *lib, const char *file, pid_t root, int *root_ok, char *why,
                             size_t len);

#endif
