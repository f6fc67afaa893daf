/* library.c -- see library.h. An allocator given as a shared library:
 * resolved and checked from its file before a run (ELF header, dynamic
 * symbol table, build-id), never loaded into the runner; verified inside the
 * started process by where its malloc actually bound. */
#include "library.h"
#include "allocator.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* What a library must define to replace malloc without mixing heaps: a
 * block from glibc's posix_memalign given to the library's free (or the
 * reverse) corrupts one of them, so every entry point a program commonly
 * calls must be the library's. malloc_usable_size is optional (the issue's
 * "where it has one"): the `system` path calls it only for usable_size. */
static const char *const required[] = {"malloc", "free", "calloc", "realloc", "posix_memalign", "aligned_alloc"};
#define NREQUIRED (sizeof required / sizeof required[0])

/* Builtins' shared libraries, fixed at build time (CMakeLists.txt). */
#ifndef HB_JEMALLOC_SO
#define HB_JEMALLOC_SO ""
#endif
#ifndef HB_MIMALLOC_SO
#define HB_MIMALLOC_SO ""
#endif
#ifndef HB_TCMALLOC_SO
#define HB_TCMALLOC_SO ""
#endif

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#else
#define HOST_MACHINE EM_NONE /* not checked */
#endif

/* ---- sha256 (FIPS 180-4), for a library without a build-id note */

typedef struct sha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char buf[64];
    size_t nbuf;
} sha256;

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256 *s, const unsigned char *p)
{
    uint32_t w[64], a[8];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    memcpy(a, s->h, sizeof a);
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = a[7] + (ROR(a[4], 6) ^ ROR(a[4], 11) ^ ROR(a[4], 25)) + ((a[4] & a[5]) ^ (~a[4] & a[6])) +
                      K256[i] + w[i];
        uint32_t t2 = (ROR(a[0], 2) ^ ROR(a[0], 13) ^ ROR(a[0], 22)) + ((a[0] & a[1]) ^ (a[0] & a[2]) ^ (a[1] & a[2]));
        memmove(a + 1, a, 7 * sizeof a[0]);
        a[4] += t1;
        a[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        s->h[i] += a[i];
}

static void sha256_init(sha256 *s)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->bytes = 0;
    s->nbuf = 0;
}

static void sha256_add(sha256 *s, const unsigned char *p, size_t n)
{
    s->bytes += n;
    while (n) {
        size_t k = 64 - s->nbuf < n ? 64 - s->nbuf : n;
        memcpy(s->buf + s->nbuf, p, k);
        s->nbuf += k;
        p += k;
        n -= k;
        if (s->nbuf == 64) {
            sha256_block(s, s->buf);
            s->nbuf = 0;
        }
    }
}

static void sha256_hex(sha256 *s, char *out /* 65 bytes */)
{
    uint64_t bits = s->bytes * 8;
    unsigned char pad = 0x80, zero = 0, len[8];
    sha256_add(s, &pad, 1);
    while (s->nbuf != 56)
        sha256_add(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_add(s, len, 8);
    for (int i = 0; i < 8; i++)
        snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

/* ---- reading the ELF file */

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EINVAL;
        got += (size_t)k;
    }
    return 0;
}

/* A section or segment of `size` bytes at `off`, bounded by the file. */
static void *read_range(int fd, uint64_t off, uint64_t size, uint64_t file_size)
{
    if (size == 0 || off > file_size || size > file_size - off || size > (64u << 20))
        return NULL;
    void *p = malloc((size_t)size);
    if (p && read_at(fd, p, (size_t)size, off) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

/* The GNU build-id note among the PT_NOTE segments, as "build-id:HEX";
 * "" when there is none. */
static void build_id(int fd, const Elf64_Ehdr *eh, uint64_t file_size, char *out, size_t len)
{
    out[0] = 0;
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0)
        return;
    for (unsigned i = 0; i < eh->e_phnum && !out[0]; i++) {
        Elf64_Phdr ph;
        if (read_at(fd, &ph, sizeof ph, eh->e_phoff + (uint64_t)i * sizeof ph) || ph.p_type != PT_NOTE)
            continue;
        unsigned char *n = read_range(fd, ph.p_offset, ph.p_filesz, file_size);
        if (!n)
            continue;
        /* notes are aligned to 4 bytes, or 8 in an 8-aligned segment */
        uint64_t al = ph.p_align == 8 ? 8 : 4, at = 0;
        while (at + sizeof(Elf64_Nhdr) <= ph.p_filesz) {
            Elf64_Nhdr nh;
            memcpy(&nh, n + at, sizeof nh);
            uint64_t name = at + sizeof nh, desc = name + ((nh.n_namesz + al - 1) & ~(al - 1));
            uint64_t next = desc + ((nh.n_descsz + al - 1) & ~(al - 1));
            if (desc + nh.n_descsz > ph.p_filesz || next <= at)
                break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(n + name, "GNU", 4) == 0 &&
                nh.n_descsz > 0 && 9 + 2 * (size_t)nh.n_descsz < len) {
                size_t k = (size_t)snprintf(out, len, "build-id:");
                for (uint32_t b = 0; b < nh.n_descsz; b++, k += 2)
                    snprintf(out + k, len - k, "%02x", n[desc + b]);
                break;
            }
            at = next;
        }
        free(n);
    }
}

static int file_sha256(int fd, char *out, size_t len)
{
    sha256 s;
    sha256_init(&s);
    unsigned char buf[1 << 16];
    uint64_t off = 0;
    for (;;) {
        ssize_t k = pread(fd, buf, sizeof buf, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        if (k == 0)
            break;
        sha256_add(&s, buf, (size_t)k);
        off += (uint64_t)k;
    }
    char hex[65];
    sha256_hex(&s, hex);
    snprintf(out, len, "sha256:%s", hex);
    return 0;
}

/* Which of `required` the dynamic symbol table defines (bit i: required[i];
 * bit NREQUIRED: malloc_usable_size). 0, or an errno value with why. */
static int exported(int fd, const Elf64_Ehdr *eh, uint64_t file_size, unsigned *have, char *why, size_t len)
{
    *have = 0;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0) {
        snprintf(why, len, "has no section headers to find its dynamic symbols in");
        return ENOEXEC;
    }
    Elf64_Shdr *sh = read_range(fd, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof *sh, file_size);
    if (!sh) {
        snprintf(why, len, "its section headers lie outside the file");
        return ENOEXEC;
    }
    int rc = 0, found = 0;
    for (unsigned i = 0; i < eh->e_shnum && !rc; i++) {
        if (sh[i].sh_type != SHT_DYNSYM)
            continue;
        found = 1;
        if (sh[i].sh_link >= eh->e_shnum || sh[i].sh_entsize != sizeof(Elf64_Sym)) {
            snprintf(why, len, "has a malformed dynamic symbol table");
            rc = ENOEXEC;
            break;
        }
        const Elf64_Shdr *ss = &sh[sh[i].sh_link];
        Elf64_Sym *syms = read_range(fd, sh[i].sh_offset, sh[i].sh_size, file_size);
        char *str = read_range(fd, ss->sh_offset, ss->sh_size, file_size);
        if (!syms || !str || str[ss->sh_size - 1] != 0) {
            snprintf(why, len, "has a dynamic symbol table outside the file");
            rc = ENOEXEC;
        }
        for (uint64_t k = 0; !rc && k < sh[i].sh_size / sizeof *syms; k++) {
            const Elf64_Sym *s = &syms[k];
            int bind = ELF64_ST_BIND(s->st_info), type = ELF64_ST_TYPE(s->st_info);
            /* defined, visible to the loader, code */
            if (s->st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK) ||
                (type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_name >= ss->sh_size ||
                ELF64_ST_VISIBILITY(s->st_other) != STV_DEFAULT)
                continue;
            const char *name = str + s->st_name;
            for (unsigned r = 0; r < NREQUIRED; r++)
                if (strcmp(name, required[r]) == 0)
                    *have |= 1u << r;
            if (strcmp(name, "malloc_usable_size") == 0)
                *have |= 1u << NREQUIRED;
        }
        free(syms);
        free(str);
    }
    free(sh);
    if (!rc && !found) {
        snprintf(why, len, "has no dynamic symbol table (a static object?)");
        rc = ENOEXEC;
    }
    return rc;
}

/* Checks the file at `path` (already made absolute) and fills lib->id. */
static int check_file(const char *path, hb_alloc_lib *lib, char *why, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, len, "cannot open it: %s", strerror(errno));
        return errno;
    }
    struct stat st;
    Elf64_Ehdr eh;
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, len, "not a regular file");
        rc = EINVAL;
    } else if (read_at(fd, &eh, sizeof eh, 0) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        snprintf(why, len, "not an ELF file, so not a shared library");
        rc = ENOEXEC;
    } else if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
               (HOST_MACHINE != EM_NONE && eh.e_machine != HOST_MACHINE)) {
        snprintf(why, len, "an ELF file for another machine (class %d, machine %d)", eh.e_ident[EI_CLASS],
                 eh.e_machine);
        rc = ENOEXEC;
    } else if (eh.e_type != ET_DYN) {
        snprintf(why, len, "not a shared library (ELF type %d: %s)", eh.e_type,
                 eh.e_type == ET_EXEC ? "an executable" : eh.e_type == ET_REL ? "an object file" : "other");
        rc = ENOEXEC;
    }
    unsigned have = 0;
    if (!rc && (rc = exported(fd, &eh, (uint64_t)st.st_size, &have, why, len)) == 0) {
        for (unsigned r = 0; r < NREQUIRED && !rc; r++)
            if (!(have & (1u << r))) {
                snprintf(why, len, "does not export %s, so it cannot replace malloc%s", required[r],
                         r ? " whole (a block would cross heaps)" : "");
                rc = ENOEXEC;
            }
    }
    if (!rc) {
        build_id(fd, &eh, (uint64_t)st.st_size, lib->id, sizeof lib->id);
        if (!lib->id[0] && (rc = file_sha256(fd, lib->id, sizeof lib->id)) != 0)
            snprintf(why, len, "cannot read it: %s", strerror(rc));
    }
    close(fd);
    return rc;
}

/* ---- resolving a --allocators entry */

int hb_alloc_lib_is_spec(const char *spec)
{
    size_t n = strlen(spec);
    return strchr(spec, '=') || strchr(spec, '/') || (n > 3 && strcmp(spec + n - 3, ".so") == 0) ||
           strstr(spec, ".so.") != NULL;
}

/* A name that can stand in a cell id, a CSV field and a figure's legend:
 * '/' separates a cell id's parts, '+' a figure's allocator+collector, ','
 * the option's list. */
static int name_ok(const char *name)
{
    if (!*name || strlen(name) >= sizeof((hb_alloc_lib *)0)->name)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.'))
            return 0;
    return 1;
}

static int refuse(const char *spec, const char *why)
{
    fprintf(stderr, "heapbench: bad allocator library '%s': %s\n", spec, why);
    return 2;
}

static int resolve_path(const char *spec, const char *given, hb_alloc_lib *out)
{
    char why[400];
    if (!realpath(given, out->path)) {
        fprintf(stderr, "heapbench: bad allocator library '%s': %s: %s\n", spec, given, strerror(errno));
        return 2;
    }
    if (strlen(out->path) > HB_ALLOC_LIB_PATH_MAX) {
        fprintf(stderr, "heapbench: bad allocator library '%s': its path is longer than %d bytes, more than a "
                        "results row records\n", spec, HB_ALLOC_LIB_PATH_MAX);
        return 2;
    }
    if (check_file(out->path, out, why, sizeof why) != 0) {
        fprintf(stderr, "heapbench: bad allocator library '%s': %s: %s\n", spec, out->path, why);
        return 2;
    }
    return 0;
}

/* The path of libheapbench_WHAT.so beside the heapbench executable
 * `self_exe` (the drop-in libraries and the probe are built there) into
 * buf: 0, ENOENT without a path of heapbench's own, or ENAMETOOLONG. */
static int beside_self(const char *self_exe, const char *what, char *buf, size_t len)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", self_exe ? self_exe : "");
    if (!self_exe || !strchr(dir, '/'))
        return ENOENT;
    int n = snprintf(buf, len, "%s/libheapbench_%s.so", dirname(dir), what);
    return n < 0 || (size_t)n >= len ? ENAMETOOLONG : 0;
}

static int resolve_builtin(const char *spec, const char *self_exe, hb_alloc_lib *out)
{
    snprintf(out->name, sizeof out->name, "%s", spec);
    out->builtin = 1;
    const char *so = NULL;
    char local[PATH_MAX + 64];
    if (strcmp(spec, "system") == 0)
        return 0; /* glibc: nothing to preload */
    if (strcmp(spec, "arena") == 0 || strcmp(spec, "freelist") == 0) {
        int e = beside_self(self_exe, spec, local, sizeof local);
        if (e == ENOENT)
            return refuse(spec, "cannot find the drop-in library without heapbench's own path");
        if (e)
            return refuse(spec, "the path of the drop-in library is too long");
        so = local;
    } else if (strcmp(spec, "jemalloc") == 0) {
        so = HB_JEMALLOC_SO;
    } else if (strcmp(spec, "mimalloc") == 0) {
        so = HB_MIMALLOC_SO;
    } else if (strcmp(spec, "tcmalloc") == 0) {
        so = HB_TCMALLOC_SO;
    } else if (hb_allocator_find(spec)) {
        return refuse(spec, "this backend has no shared-library form to preload (it is an instrument)");
    } else {
        return refuse(spec, "not a builtin allocator, nor NAME=PATH, nor a path to a .so");
    }
    if (!*so)
        return refuse(spec, "no shared library of it was found when heapbench was built");
    return resolve_path(spec, so, out);
}

int hb_alloc_lib_resolve(const char *spec, const char *self_exe, hb_alloc_lib *out)
{
    memset(out, 0, sizeof *out);
    if (!hb_alloc_lib_is_spec(spec))
        return resolve_builtin(spec, self_exe, out);
    const char *eq = strchr(spec, '='), *path = eq ? eq + 1 : spec;
    if (!*path)
        return refuse(spec, "NAME=PATH needs a PATH");
    if (eq) {
        if ((size_t)(eq - spec) >= sizeof out->name)
            return refuse(spec, "NAME is longer than 63 bytes");
        memcpy(out->name, spec, (size_t)(eq - spec));
        out->name[eq - spec] = 0;
    } else {
        const char *base = strrchr(path, '/');
        snprintf(out->name, sizeof out->name, "%s", base ? base + 1 : path);
    }
    if (!name_ok(out->name)) {
        char why[256];
        snprintf(why, sizeof why, "the name '%s' must be 1 to 63 of A-Z a-z 0-9 _ - .%s", out->name,
                 eq ? "" : " (give one as NAME=PATH)");
        return refuse(spec, why);
    }
    if (hb_allocator_find(out->name) || strcmp(out->name, "boehm") == 0) {
        char why[256];
        snprintf(why, sizeof why, "'%s' is a builtin's name; rows would not tell them apart: choose another NAME",
                 out->name);
        return refuse(spec, why);
    }
    return resolve_path(spec, path, out);
}

/* ---- the environment of a started process */

int hb_alloc_lib_preload_value(const hb_alloc_lib *lib, const char *inherited, char *buf, size_t len)
{
    if (!inherited)
        inherited = "";
    int n;
    if (!lib->path[0])
        n = snprintf(buf, len, "%s", inherited);
    else
        /* first: the loader binds malloc to the first preloaded definition */
        n = snprintf(buf, len, "%s%s%s", lib->path, *inherited ? ":" : "", inherited);
    return n < 0 || (size_t)n >= len ? ENAMETOOLONG : 0;
}

int hb_alloc_lib_apply_env(const hb_alloc_lib *lib)
{
    if (!lib->path[0])
        return 0;
    char v[2 * PATH_MAX + 8];
    int rc = hb_alloc_lib_preload_value(lib, getenv("LD_PRELOAD"), v, sizeof v);
    if (rc)
        return rc;
    return setenv("LD_PRELOAD", v, 1) ? errno : 0;
}

/* ---- checks in and of a started process */

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int hb_alloc_lib_verify(const hb_alloc_lib *lib, char *why, size_t len)
{
    /* The addresses this object's code calls, read through its GOT (volatile:
     * the compiler must take them as the program does); dlsym(RTLD_DEFAULT)
     * would search by name without the version the program's reference
     * carries and could name a definition the loader did not bind. */
    void *(*volatile m)(size_t) = malloc;
    void (*volatile f)(void *) = free;
    void *(*volatile c)(size_t, size_t) = calloc;
    void *(*volatile r)(void *, size_t) = realloc;
    const struct {
        const char *name;
        void *addr;
    } fn[] = {{"malloc", (void *)m}, {"free", (void *)f}, {"calloc", (void *)c}, {"realloc", (void *)r}};
    for (size_t i = 0; i < sizeof fn / sizeof fn[0]; i++) {
        Dl_info info;
        if (!dladdr(fn[i].addr, &info) || !info.dli_fname || !info.dli_fname[0]) {
            snprintf(why, len, "cannot tell which object defines the %s this process calls", fn[i].name);
            return EIO;
        }
        if (!lib->path[0]) {
            const char *base = strrchr(info.dli_fname, '/');
            base = base ? base + 1 : info.dli_fname;
            if (strncmp(base, "libc.so", 7) != 0) {
                snprintf(why, len, "%s is served by %s, not glibc (an inherited LD_PRELOAD? give it as "
                         "--allocators NAME=PATH)", fn[i].name, info.dli_fname);
                return ESRCH;
            }
        } else if (strcmp(info.dli_fname, lib->path) != 0 && !same_file(info.dli_fname, lib->path)) {
            snprintf(why, len, "preload did not take: %s is served by %s, not %s", fn[i].name, info.dli_fname,
                     lib->path);
            return ESRCH;
        }
    }
    return 0;
}

int hb_alloc_lib_mapped_in(const hb_alloc_lib *lib, pid_t pid, char *why, size_t len)
{
    if (!lib->path[0])
        return 0;
    struct stat st;
    if (stat(lib->path, &st) != 0) {
        snprintf(why, len, "%s: %s", lib->path, strerror(errno));
        return errno;
    }
    char maps[64];
    snprintf(maps, sizeof maps, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(maps, "r");
    if (!f) {
        int e = errno;
        snprintf(why, len, "%s: %s", maps, strerror(e));
        return e;
    }
    char line[PATH_MAX + 256];
    int found = 0, libc = 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned maj, min;
        unsigned long long ino;
        /* start-end perms offset major:minor inode path */
        if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) != 3)
            continue;
        found = ino == (unsigned long long)st.st_ino && maj == major(st.st_dev) && min == minor(st.st_dev);
        libc |= strstr(line, "/libc.so.6\n") != NULL;
    }
    fclose(f);
    if (!found && !libc) {
        /* The loader maps preloads before a program's own dependencies:
         * with libc not mapped yet the preload may still come. */
        snprintf(why, len, "process %d has not mapped libc yet", (int)pid);
        return EAGAIN;
    }
    if (!found) {
        snprintf(why, len, "preload did not take: process %d does not map %s", (int)pid, lib->path);
        return ESRCH;
    }
    return 0;
}

int hb_alloc_lib_probe_find(const char *self_exe, char *buf, size_t len)
{
    int e = beside_self(self_exe, "probe", buf, len);
    return e ? e : access(buf, R_OK) == 0 ? 0 : errno;
}

int hb_alloc_lib_probe_judge(const hb_alloc_lib *lib, const char *file, pid_t root, int *root_ok, char *why,
                             size_t len)
{
    *root_ok = 0;
    FILE *f = fopen(file, "r");
    if (!f)
        return errno == ENOENT ? 0 : errno; /* no image loaded the probe */
    char line[3 * PATH_MAX + 128];
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *save = NULL, *pid = strtok_r(line, "\t", &save), *comm = strtok_r(NULL, "\t", &save);
        char *m = strtok_r(NULL, "\t", &save), *fr = strtok_r(NULL, "\t", &save);
        if (!pid || !comm || !m || !fr)
            continue; /* not a whole line: the image died in its write */
        const char *bad = NULL, *what = NULL;
        if (strcmp(m, lib->path) != 0 && !same_file(m, lib->path))
            bad = m, what = "malloc";
        else if (strcmp(fr, lib->path) != 0 && !same_file(fr, lib->path))
            bad = fr, what = "free";
        if (bad) {
            snprintf(why, len, "process %s (%.16s) calls the %s of %s", pid, comm, what, bad);
            rc = ESRCH;
        } else if (atol(pid) == (long)root) {
            *root_ok = 1;
        }
    }
    fclose(f);
    return rc;
}
