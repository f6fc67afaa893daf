/* registry.c -- the one place that lists the workloads, in `heapbench list`
 * order: allocator patterns first, collector patterns after. */
#include "workload.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern const hb_workload hb_wl_churn;
extern const hb_workload hb_wl_xthread;
extern const hb_workload hb_wl_larson;
extern const hb_workload hb_wl_scratch;
extern const hb_workload hb_wl_bleed;
extern const hb_workload hb_wl_mixed_remote;
extern const hb_workload hb_wl_large;
extern const hb_workload hb_wl_realloc_grow;
extern const hb_workload hb_wl_resize;
extern const hb_workload hb_wl_class_edges;
extern const hb_workload hb_wl_refcount;
extern const hb_workload hb_wl_identity;
extern const hb_workload hb_wl_cycles;
extern const hb_workload hb_wl_selfref;
extern const hb_workload hb_wl_binary_trees;
extern const hb_workload hb_wl_generational;
extern const hb_workload hb_wl_generators;
extern const hb_workload hb_wl_server;
extern const hb_workload hb_wl_gc_traversal;
extern const hb_workload hb_wl_gc_cycles;
extern const hb_workload hb_wl_finalizers;
extern const hb_workload hb_wl_sidekicks;
extern const hb_workload hb_wl_tracemalloc;
extern const hb_workload hb_wl_shared_graph;
extern const hb_workload hb_wl_handoff;

const hb_workload *const hb_workloads[] = {
    &hb_wl_churn,
    &hb_wl_xthread,
    &hb_wl_larson,
    &hb_wl_scratch,
    &hb_wl_bleed,
    &hb_wl_mixed_remote,
    &hb_wl_large,
    &hb_wl_realloc_grow,
    &hb_wl_resize,
    &hb_wl_class_edges,
    &hb_wl_refcount,
    &hb_wl_identity,
    &hb_wl_cycles,
    &hb_wl_selfref,
    &hb_wl_binary_trees,
    &hb_wl_generational,
    &hb_wl_generators,
    &hb_wl_server,
    &hb_wl_gc_traversal,
    &hb_wl_gc_cycles,
    &hb_wl_finalizers,
    &hb_wl_sidekicks,
    &hb_wl_tracemalloc,
    &hb_wl_shared_graph,
    &hb_wl_handoff,
};

const size_t hb_workload_count = sizeof(hb_workloads) / sizeof(hb_workloads[0]);

const hb_workload *hb_workload_find(const char *name)
{
    for (size_t i = 0; i < hb_workload_count; i++)
        if (strcmp(hb_workloads[i]->name, name) == 0)
            return hb_workloads[i];
    return NULL;
}

int hb_workload_param_index(const hb_workload *w, const char *name)
{
    for (int i = 0; w->params[i].name; i++)
        if (strcmp(w->params[i].name, name) == 0)
            return i;
    return -1;
}

int hb_check_thread_done(char *err, size_t errlen, int tid, int done, int e)
{
    if (done && !e)
        return 0;
    snprintf(err, errlen, "thread %d did not finish (error %d)", tid, e);
    return 1;
}

int hb_check_tag_sums(char *err, size_t errlen, int tid, uint64_t read, uint64_t written)
{
    if (read == written)
        return 0;
    snprintf(err, errlen, "thread %d: tag checksum %016" PRIx64 " read, %016" PRIx64 " written", tid, read,
             written);
    return 1;
}
