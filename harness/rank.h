/* rank.h -- comparisons within one results file: the alternatives of one
 * dimension of the matrix (the allocators, the collectors, the thread
 * counts, the values of a swept parameter...) ranked in each cell of the
 * others, each against a reference. What `heapbench compare FILE --by DIM`
 * prints and what `heapbench report` summarises.
 *
 * A cell's name is workload/allocator/collector/heap/tTHREADS/size[/k=v;...]
 * (harness/cell.c). Taking the dimension out of it gives the group: the
 * cells of a group differ only in that dimension, e.g. by allocator,
 * churn/ * /none/isolated/t1/small holds churn under every allocator. In each
 * group and for each metric, every alternative's median is compared with the
 * reference's: the ratio of medians, its 95% Hodges-Lehmann interval, the
 * two-sided Mann-Whitney p-value, Holm-corrected over every test of the
 * table (all groups, alternatives and metrics at once), and a rank (1: the
 * best median; equal medians share a rank).
 *
 * Paired (HB_RANK_PAIRED: `compare --by DIM --paired`, and the summary of
 * `run --interleave`): an alternative's rows are matched with the
 * reference's by run (run_id) and repetition (rep), which `run
 * --interleave` measures in the same round, seconds apart, so that drift
 * of the machine falls on both. Then the ratio is the Hodges-Lehmann
 * estimate of the pairs' log ratios, its interval theirs, and p Wilcoxon's
 * signed-rank test (hb_paired_cmp_compute); medians and n are the pairs'.
 * An alternative with fewer than HB_RANK_MIN_PAIRS (6) matched pairs, or
 * a repetition twice on one side, is compared unpaired; the table counts
 * both kinds.
 *
 * Nothing is dropped silently: a group without the reference, or the
 * reference without ok rows, an alternative with no ok rows, are notes with
 * why; groups with one alternative only are counted. */
#ifndef HB_RANK_H
#define HB_RANK_H

#include <stddef.h>
#include <stdio.h>

#include "cellset.h"
#include "tables.h"

#define HB_RANK_MAX_METRICS 16

typedef struct hb_rank_entry {
    const char *alt;     /* the alternative: the dimension's value in this cell */
    const char *cell;    /* its cell's name */
    size_t rank;         /* 1: the best median */
    int is_ref;
    int paired;          /* compared pair by pair with the reference (HB_RANK_PAIRED) */
    hb_metric_cmp r;     /* A = the reference, B = this alternative; the reference's own p is NaN */
} hb_rank_entry;

/* One group and one metric: its alternatives, best first. */
typedef struct hb_rank_group {
    const char *name;    /* the cell with the dimension as '*' (threads: t*; a parameter: KEY=*) */
    const hb_metric_info *m;
    hb_rank_entry *e;
    size_t n;
} hb_rank_group;

typedef struct hb_rank_table {
    const hb_cellset *s;
    char dim[64];        /* allocator, collector, workload, heap, threads, size, or a parameter */
    char ref[128];       /* the reference alternative */
    const hb_metric_info *metric[HB_RANK_MAX_METRICS];
    size_t nmetric;
    hb_rank_group *g;    /* by metric (in the order given), then by group name, numbers by value */
    size_t ng;
    size_t ntests;       /* the tests Holm's correction spans */
    size_t fewest_ref, fewest_alt; /* repetitions: the smallest n on each side of a test */
    char **note;         /* "GROUP: why it is not ranked" */
    size_t nnote;
    size_t single;       /* groups with only one alternative: nothing to rank */
    size_t without;      /* by a parameter: cells that do not have it */
    int paired;          /* HB_RANK_PAIRED asked */
    size_t npaired;      /* of the ntests, those compared paired */
    void *mem_;
} hb_rank_table;

/* Builds the table of `s` by `dim` against `ref` (NULL: system for
 * allocators, rcgen for collectors when the file has them, otherwise the
 * smallest value in natural order: 1 thread, the lowest setting). 0; EINVAL
 * with one line in `why` for an unknown dimension or a reference the file
 * does not have; ENOMEM. */
#define HB_RANK_PAIRED 1u /* flags: pair each alternative's rows with the reference's (above) */
/* Fewer pairs are compared unpaired: with 5 the signed-rank test has no
 * 95% interval (its smallest two-sided p is 2/2^5 = 0.0625), where
 * Mann-Whitney on 5 against 5 has one. */
#define HB_RANK_MIN_PAIRS 6
int hb_rank_compute(const hb_cellset *s, const char *dim, const char *ref, const hb_metric_info *const *metrics,
                    size_t nmetric, unsigned flags, hb_rank_table *t, char *why, size_t len);
void hb_rank_free(hb_rank_table *t);

/* 1 when the table has tests and every one was paired: the statistics its
 * header names are then the paired ones. */
int hb_rank_all_paired(const hb_rank_table *t);
/* 1 when entry e is to be marked paired: it was, in a table paired in part. */
int hb_rank_marked_paired(const hb_rank_table *t, const hb_rank_entry *e);

/* The smallest two-sided p a test of the table can reach with the fewest
 * repetitions it has (Mann-Whitney's; the signed-rank test's, 2 / 2^n, when
 * every test is paired): times ntests at 0.05 or more, nothing can show. */
double hb_rank_min_p(const hb_rank_table *t);

/* Geometric mean over its groups of alternative `alt`'s ratios to the
 * reference for metric m, and how many groups (0: none, *g NaN). */
size_t hb_rank_geomean(const hb_rank_table *t, const hb_metric_info *m, const char *alt, double *g);
/* The distinct alternatives of metric m's groups, best geometric mean
 * first: *alts is malloc'd (free it; the strings belong to the table). */
int hb_rank_alternatives(const hb_rank_table *t, const hb_metric_info *m, const char ***alts, size_t *n);

/* The table in one line per group, for the end of `heapbench run`: the
 * group, its metric (of those given, the first it has), and its
 * alternatives best first, each with its ratio to the reference and the
 * interval; then how many groups are not ranked. */
void hb_rank_print_brief(const hb_rank_table *t, FILE *f);
/* Prints the table in `fmt` to stdout; `colour` for a terminal (text only). */
void hb_rank_print(const hb_rank_table *t, hb_format fmt, int colour);

#endif
