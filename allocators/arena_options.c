/* arena_options.c -- arena's init options ("cache=", "foreign=",
 * "purge=", "warm=", "help="), parsed without allocating: the same code is the drop-in
 * library's malloc. */
#include "arena_pools.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One "KEY=BYTES" of the options: 1 when `opt` starts with key. */
static int parse_bytes(const char *opt, const char *key, uint32_t *out, int *err)
{
    size_t k = strlen(key);
    if (strncmp(opt, key, k) != 0)
        return 0;
    opt += k;
    if (*opt < '0' || *opt > '9') {
        *err = EINVAL;
        return 1;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(opt, &end, 10);
    if (errno || (*end && *end != ',') || v > (1ul << 24))
        *err = EINVAL;
    *out = (uint32_t)v;
    return 1;
}

/* options: NULL, or comma-separated "cache=BYTES", the bound of each
 * class's lifo (default LIFO_BYTES; 0 turns the lifos off: obmalloc's
 * pools alone), and "foreign=BYTES", the bound of each class's foreign
 * cache (default FOREIGN_BYTES; 0 turns them off, see "Blocks of other
 * threads" at the top), "purge=MS", how long a free pool keeps its pages
 * (default PURGE_MS; arena_pools.c), and "warm=N", how many left heaps
 * keep their free memory for the next threads (default WARM_HEAPS;
 * arena_heaps.c, hb_arena_heap_leave), and "help=0", no thread takes back
 * an idle owner's remote list for it (arena_heaps.c, hb_arena_heap_help). */
int hb_arena_parse_options(const char *options, hb_arena_opts *out)
{
    out->cache_bytes = LIFO_BYTES;
    out->foreign_bytes = FOREIGN_BYTES;
    out->purge_ms = PURGE_MS;
    out->warm = WARM_HEAPS;
    out->help = 1;
    if (!options || !*options)
        return 0;
    for (const char *o = options;;) {
        int err = 0;
        if (!parse_bytes(o, "cache=", &out->cache_bytes, &err) &&
            !parse_bytes(o, "foreign=", &out->foreign_bytes, &err) &&
            !parse_bytes(o, "purge=", &out->purge_ms, &err) && !parse_bytes(o, "warm=", &out->warm, &err) &&
            !parse_bytes(o, "help=", &out->help, &err))
            return EINVAL;
        if (err || out->help > 1)
            return EINVAL;
        o = strchr(o, ',');
        if (!o)
            return 0;
        o++;
    }
}
