/* forms.c -- the collector workloads that exist as Python programs too
 * (forms.h). A form is added here when its .py is: same name, the C
 * workload's parameters with its `small` presets as defaults, the same
 * checks as asserts, run(p) returning the C workload's ops, and
 * hbgc.measure around it. tests/harness/test_cpython.sh checks that this
 * list and the folder's files agree. */
#include "forms.h"

#include <string.h>

const char *const hb_python_forms[] = {
    "refcount", "identity",  "cycles",    "selfref",    "binary_trees", "generational",
    "generators", "gc_cycles", "finalizers", "sidekicks",    "tracemalloc",  NULL,
};

int hb_python_form(const hb_workload *wl)
{
    for (size_t i = 0; hb_python_forms[i]; i++)
        if (!strcmp(hb_python_forms[i], wl->name))
            return wl->needs_collector && !wl->program;
    return 0;
}
