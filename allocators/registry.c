/* registry.c -- the one list of allocator backends in this binary. */
#include "allocator.h"

#include <string.h>

extern const hb_allocator hb_system_allocator;
extern const hb_allocator hb_arena_allocator;
extern const hb_allocator hb_freelist_allocator;
extern const hb_allocator hb_jemalloc_allocator;
#ifdef HB_HAVE_MIMALLOC
extern const hb_allocator hb_mimalloc_allocator;
#endif
#ifdef HB_HAVE_TCMALLOC
extern const hb_allocator hb_tcmalloc_allocator;
#endif
extern const hb_allocator hb_null_allocator;

const hb_allocator *const hb_allocators[] = {
    &hb_system_allocator,
    &hb_arena_allocator,
    &hb_freelist_allocator,
    &hb_jemalloc_allocator,
#ifdef HB_HAVE_MIMALLOC
    &hb_mimalloc_allocator,
#endif
#ifdef HB_HAVE_TCMALLOC
    &hb_tcmalloc_allocator,
#endif
    &hb_null_allocator, /* last: an instrument, left out of the default matrix */
};

const size_t hb_allocator_count = sizeof hb_allocators / sizeof hb_allocators[0];

const hb_allocator *hb_allocator_find(const char *name)
{
    for (size_t i = 0; i < hb_allocator_count; i++)
        if (strcmp(hb_allocators[i]->name, name) == 0)
            return hb_allocators[i];
    return NULL;
}
