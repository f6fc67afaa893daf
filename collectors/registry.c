/* registry.c -- the collector backends compiled into this binary: the one
 * list, in listing order. */
#include <string.h>

#include "collector.h"

extern const hb_collector hb_rc_collector;
extern const hb_collector hb_rcgen_collector;
extern const hb_collector hb_rcinc_collector;
extern const hb_collector hb_marksweep_collector;
extern const hb_collector hb_cpython_collector;
#ifdef HB_HAVE_BOEHM
extern const hb_collector hb_boehm_collector;
#endif

const hb_collector *const hb_collectors[] = {
    &hb_rc_collector,
    &hb_rcgen_collector,
    &hb_rcinc_collector,
    &hb_marksweep_collector,
#ifdef HB_HAVE_BOEHM
    &hb_boehm_collector,
#endif
    &hb_cpython_collector, /* external: a real interpreter (collector.h) */
};

const size_t hb_collector_count = sizeof hb_collectors / sizeof hb_collectors[0];

const hb_collector *hb_collector_find(const char *name)
{
    for (size_t i = 0; i < hb_collector_count; i++)
        if (!strcmp(hb_collectors[i]->name, name))
            return hb_collectors[i];
    return NULL;
}
