/* cpython.c -- the collector `cpython`: the real CPython (Debian's python3,
 * 3.11) running the Python form of a pattern, workloads/python/NAME.py.
 *
 * It is listed here, with the other collectors, so that --collectors,
 * `heapbench list` and the rows name it like any other; but its heap is the
 * interpreter's, in another process, so it has no in-process half: init
 * refuses (EOPNOTSUPP) and every other entry is empty. The harness runs its
 * cells as program cells (harness/cpython.c), and a reporter inside Python
 * (workloads/python/hbgc.py) hands back the collections' pauses from
 * gc.callbacks and gc.get_stats(), from which the harness computes every
 * figure with the same code as for the in-process collectors.
 *
 * Its allocator is CPython's own obmalloc (allocator `pymalloc`), or, with
 * PYTHONMALLOC=malloc, any allocator the harness can preload. */
#include <errno.h>

#include "collector.h"

static int cpython_init(hb_heap *h)
{
    (void)h;
    return EOPNOTSUPP; /* the heap is the interpreter's, in its own process */
}

const hb_collector hb_cpython_collector = {
    .name = "cpython",
    .doc = "the real CPython 3.11 (python3) running the pattern's Python form; pauses from gc.callbacks",
    .generations = 3,
    .refcounts = 1,
    .init = cpython_init,
    .external = 1,
    .params = "threshold,threshold1,threshold2",
};
