/* minheap.c -- each cell's minimum heap, by binary search, for the
 * heap-size experiments of GC research (MMTk's running-ng, DaCapo Chopin):
 * `run --heap-factors 1,1.5,2` runs a collector that takes a hard limit
 * (collector.h, max_heap_ok: marksweep, boehm) at those multiples of the
 * smallest heap the cell runs in, and `heapbench minheap` prints that
 * smallest heap.
 *
 * The search runs the cell's repetition 0 (its seed: hb_cell_seed, the
 * same at every heap size) in a child, as a run does, with no warm-up:
 *   1. without a limit: it must pass; its peak live bytes are the first
 *      guess, and its time bounds every probe's (PROBE_SLOWER times it,
 *      at least PROBE_MIN_S, at most --timeout);
 *   2. at the guess, doubled until it passes (at most MAX_DOUBLINGS
 *      times: a collector's own heap, boehm's, needs more than the live
 *      bytes);
 *   3. bisection between the largest limit that failed and the smallest
 *      that passed, until they are within 1/PRECISION of the passing one
 *      (or 16 KiB). A probe fails when the cell runs out of heap (status
 *      oom) or runs past its time (a heap so tight it thrashes); any other
 *      status ends the search with it as the reason.
 * The minimum is the smallest limit that passed: the true one lies within
 * 1/64 (1.6%) below it. The cost is the run without a limit, then about
 * log2(PRECISION) = 6 probes, plus one per doubling: 7 to 9 runs of the
 * cell, each no longer than it (a tighter heap collects more often).
 * Determinism: marksweep's schedule depends on allocation alone, so its
 * minimum is exact for that seed; boehm scans the C stack conservatively,
 * so a probe near its minimum can go either way, and a repetition of
 * another seed may need a little more: a heap factor of 1 can give `oom`
 * rows, which are the answer, not an error. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION 64      /* bisection ends within 1/64 of the passing limit */
#define MAX_DOUBLINGS 10  /* the peak live bytes times 1024 at most */
#define PROBE_SLOWER 20   /* a probe may take 20x the run without a limit... */
#define PROBE_MIN_S 5.0   /* ...and at least this long */
#define FLOOR_KB 63       /* below --param heap_kb's least value (64) */

typedef enum { FITS, NO_FIT, BROKEN, STOPPED } probe_result;

typedef struct search {
    const char *self;
    hb_cell t; /* the cell, repetition 0, its limit varied */
    double timeout_s;
    int runs, timeouts;
    hb_cell_out out;
} search;

/* One run at `kb` KiB (0: no limit). */
static probe_result probe(search *s, int64_t kb, double timeout_s, char *why, size_t len)
{
    s->t.gc.heap_kb = kb;
    s->runs++;
    if (hb_run_child(s->self, &s->t, timeout_s, 1, -1, &s->out))
        return STOPPED;
    hb_buf_free(&s->out.rss);
    hb_buf_free(&s->out.pauses);
    hb_status st = s->out.r.status;
    if (st == HB_ST_OK)
        return FITS;
    if (kb && (st == HB_ST_OOM || st == HB_ST_TIMEOUT)) {
        s->timeouts += st == HB_ST_TIMEOUT;
        return NO_FIT;
    }
    if (kb)
        snprintf(why, len, "no minimum heap: at %lld KiB the cell was %s: %.150s", (long long)kb, hb_status_name(st),
                 s->out.r.error);
    else
        snprintf(why, len, "no minimum heap: without a limit the cell was %s: %.150s", hb_status_name(st), s->out.r.error);
    return BROKEN;
}

/* The search of one cell: *min_kb, or -1 with the reason in why; the
 * summary of a success in why too. 130: stopped. */
static int find(const char *self, const hb_cell *c, double timeout_s, int64_t *min_kb, char *why, size_t len)
{
    search s = {.self = self, .t = *c, .timeout_s = timeout_s};
    s.t.rep = 0;
    s.t.gc.heap_factor = 0;
    s.t.gc.min_heap_kb = 0;
    s.t.gc.heap_kb = 0;
    s.t.seed = hb_cell_seed(&s.t);
    double t0 = hb_now();
    *min_kb = -1;
    probe_result pr = probe(&s, 0, timeout_s, why, len);
    if (pr == STOPPED)
        return 130;
    if (pr != FITS)
        return 0;
    double ptime = s.out.r.process_s * PROBE_SLOWER;
    ptime = ptime < PROBE_MIN_S ? PROBE_MIN_S : ptime > timeout_s ? timeout_s : ptime;
    int64_t peak_kb = s.out.r.peak_live_bytes >= 0 ? s.out.r.peak_live_bytes >> 10 : s.out.r.peak_rss_kb;
    int64_t lo = FLOOR_KB, hi = peak_kb > 64 ? peak_kb : 64;
    for (int d = 0;; d++) {
        pr = probe(&s, hi, ptime, why, len);
        if (pr == STOPPED)
            return 130;
        if (pr == BROKEN)
            return 0;
        if (pr == FITS)
            break;
        if (d == MAX_DOUBLINGS) {
            snprintf(why, len, "no minimum heap: the cell ran out of heap even at %lld KiB, %dx its peak live bytes "
                               "without a limit", (long long)hi, 1 << MAX_DOUBLINGS);
            return 0;
        }
        lo = hi;
        hi *= 2;
    }
    while (hi - lo > (hi / PRECISION > 16 ? hi / PRECISION : 16)) {
        int64_t mid = lo + (hi - lo) / 2;
        pr = probe(&s, mid, ptime, why, len);
        if (pr == STOPPED)
            return 130;
        if (pr == BROKEN)
            return 0;
        if (pr == FITS)
            hi = mid;
        else
            lo = mid;
    }
    *min_kb = hi;
    char lower[64] = "nothing smaller tried";
    if (lo > FLOOR_KB)
        snprintf(lower, sizeof lower, "%lld KiB does not fit", (long long)lo);
    snprintf(why, len, "%lld KiB peak live without a limit; %s; %d runs%s, %.1f s", (long long)peak_kb, lower, s.runs,
             s.timeouts ? " (some cut at their time: thrashing)" : "", hb_now() - t0);
    return 0;
}

/* The cell without its heap settings: what one search serves. */
static void base_id(const hb_cell *c, char *buf, size_t len)
{
    hb_cell b = *c;
    b.gc.heap_factor = 0;
    b.gc.heap_kb = 0;
    hb_cell_id(&b, buf, len);
}

int hb_minheap_fill(const char *self, hb_cell *cells, size_t ncells, int all, double timeout_s,
                    char (*why)[HB_MINHEAP_WHY])
{
    for (size_t i = 0; i < ncells; i++) {
        hb_cell *c = &cells[i];
        if (!c->collector || !c->collector->max_heap_ok || !(all || c->gc.heap_factor > 0) ||
            c->threads < c->workload->min_threads || hb_cell_unrunnable(c))
            continue; /* no limit to search, or a skipped row */
        char id[512], other[512];
        base_id(c, id, sizeof id);
        size_t j = 0;
        for (; j < i; j++) {
            if (!cells[j].gc.min_heap_kb)
                continue;
            base_id(&cells[j], other, sizeof other);
            if (!strcmp(id, other))
                break;
        }
        if (j < i) { /* searched already: another factor of the same cell */
            c->gc.min_heap_kb = cells[j].gc.min_heap_kb;
            snprintf(why[i], HB_MINHEAP_WHY, "%s", why[j]);
        } else {
            int64_t min;
            if (find(self, c, timeout_s, &min, why[i], HB_MINHEAP_WHY))
                return 130;
            c->gc.min_heap_kb = min;
            if (min > 0)
                fprintf(stderr, "minimum heap of %s: %lld KiB (%s)\n", id, (long long)min, why[i]);
            else
                fprintf(stderr, "minimum heap of %s: %s\n", id, why[i]);
        }
        if (c->gc.min_heap_kb > 0 && c->gc.heap_factor > 0)
            c->gc.heap_kb = (int64_t)ceil(c->gc.heap_factor * (double)c->gc.min_heap_kb);
    }
    return 0;
}

int hb_minheap_print(const hb_cell *cells, size_t ncells, char (*why)[HB_MINHEAP_WHY], FILE *f)
{
    size_t n = 0;
    int broken = 0;
    for (size_t i = 0; i < ncells; i++)
        n += cells[i].gc.min_heap_kb != 0;
    if (!n) {
        fprintf(stderr, "heapbench minheap: no cell has a collector that takes a heap limit (marksweep, boehm)\n");
        return 2;
    }
    fprintf(f, "\nminimum heap per cell (binary search to within 1/%d; the true minimum is at most that much "
               "below)\n", PRECISION);
    fprintf(f, "%-64s %12s  %s\n", "cell", "min_heap_kb", "search");
    for (size_t i = 0; i < ncells; i++) {
        if (!cells[i].gc.min_heap_kb)
            continue;
        char id[512];
        base_id(&cells[i], id, sizeof id);
        if (cells[i].gc.min_heap_kb > 0)
            fprintf(f, "%-64s %12lld  %s\n", id, (long long)cells[i].gc.min_heap_kb, why[i]);
        else
            fprintf(f, "%-64s %12s  %s\n", id, "-", why[i]), broken = 1;
    }
    return broken;
}
