/* overrides.h -- a cell's parameters as the harness resolves them, for the
 * workload tests' drivers: every parameter at its preset for ctx->size,
 * then the overrides (a list ended by a NULL name), each one a parameter
 * the workload declares and inside its range. Include after cmocka.h. */
#ifndef HB_TEST_OVERRIDES_H
#define HB_TEST_OVERRIDES_H

#include "workloads/workload.h"

typedef struct override {
    const char *name;
    int64_t value;
} override;

static inline void resolve(const hb_workload *wl, hb_ctx *ctx, const override *ov)
{
    for (int i = 0; wl->params[i].name; i++)
        ctx->param[i] = wl->params[i].preset[ctx->size];
    for (; ov && ov->name; ov++) {
        int i = hb_workload_param_index(wl, ov->name);
        assert_true(i >= 0);
        assert_in_range(ov->value, wl->params[i].min, wl->params[i].max);
        ctx->param[i] = ov->value;
    }
}

#endif
