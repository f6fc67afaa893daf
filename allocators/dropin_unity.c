/* dropin_unity.c -- a drop-in library's one translation unit: the backend
 * (HB_DROPIN_SOURCE, e.g. "arena.c") and dropin.c together, so that
 * dropin.c's calls through the backend's hb_allocator table, a constant
 * defined in the same unit, become direct calls the compiler inlines:
 * malloc and free are the backend's fast paths with no call between. */
#include HB_DROPIN_SOURCE
#include "dropin.c"
