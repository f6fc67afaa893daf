/* forms.h -- which collector workloads have a Python form
 * (workloads/python/NAME.py), the program the collector `cpython` runs
 * for them (harness/cpython.c). One list, in forms.c. */
#ifndef HB_PY_FORMS_H
#define HB_PY_FORMS_H

#include "../workload.h"

/* The workloads with a Python form, NULL-terminated, `heapbench list` order. */
extern const char *const hb_python_forms[];
/* 1 when wl has a Python form: workloads/python/<wl->name>.py, which takes
 * wl's parameters as KEY=VALUE arguments, plus threshold, threshold1 and
 * threshold2, and reports through hbgc.py. */
int hb_python_form(const hb_workload *wl);

#endif
