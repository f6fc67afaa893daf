/* dropin_unity.c -- a drop-in library's one translation unit: the backend
 * (HB_DROPIN_SOURCE, e.g. "arena.c") and dropin.c together, so that
 * dropin.c's calls through the backend's hb_allocator table, a constant
 * defined in the same unit, become direct jumps to the backend's
 * functions, where separately compiled they were loads of a function
 * pointer and indirect calls. */
static int is_boot(const void *p);
#define HB_DROPIN_FOREIGN(p) is_boot(p)
#include HB_DROPIN_SOURCE
#include "dropin.c"
