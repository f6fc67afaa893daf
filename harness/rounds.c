/* rounds.c -- which rows get another round under --max-reps (rounds.h). */
#include "rounds.h"

#include <math.h>
#include <stdlib.h>

#include "stats.h"

double hb_rounds_width(const double *fig, size_t n)
{
    double lo, hi, m;
    if (n < 2)
        return 0;
    if (hb_stats_median(fig, n, &m) || hb_stats_median_interval(fig, n, 0.95, &lo, &hi, NULL))
        return INFINITY;
    return m > 0 ? (hi - lo) / 2 / m * 100 : INFINITY;
}

static int open_cell(size_t c, const int *nfig, const int *nrun, int max_reps)
{
    return nfig[c] > 0 && nrun[c] < max_reps;
}

size_t hb_rounds_next(size_t ncells, const size_t *group, const double *const *fig, const int *nfig,
                      const int *nrun, int max_reps, double narrow, unsigned char *more)
{
    size_t ngroups = 0, marked = 0;
    for (size_t c = 0; c < ncells; c++)
        if (group[c] + 1 > ngroups)
            ngroups = group[c] + 1;
    unsigned char *wide = calloc(ngroups + 1, 1);
    if (!wide)
        return 0; /* no memory for the decision: no more rounds */
    for (size_t c = 0; c < ncells; c++)
        if (open_cell(c, nfig, nrun, max_reps) && hb_rounds_width(fig[c], (size_t)nfig[c]) > narrow)
            wide[group[c]] = 1;
    for (size_t c = 0; c < ncells; c++) {
        more[c] = wide[group[c]] && open_cell(c, nfig, nrun, max_reps);
        marked += more[c];
    }
    free(wide);
    return marked;
}
