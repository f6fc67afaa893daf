/* main.c -- the heapbench command: list, run (and the internal __cell). */
#include "harness.h"
#include "cellset.h"
#include "csvio.h"
#include "../workloads/programs/program.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void list(void)
{
    for (size_t i = 0; i < hb_allocator_count; i++)
        printf("allocator  %-12s %s\n", hb_allocators[i]->name, hb_allocators[i]->doc);
    printf("allocator  %-12s %s\n", hb_pymalloc_allocator.name, hb_pymalloc_allocator.doc);
    for (size_t i = 0; i < hb_collector_count; i++)
        printf("collector  %-12s %s\n", hb_collectors[i]->name, hb_collectors[i]->doc);
    printf("collector  %-12s %s\n", "none", "what allocator-only workloads record: no collector");
    for (size_t i = 0; i < hb_workload_count; i++) {
        const hb_workload *w = hb_workloads[i];
        char params[512] = "";
        size_t at = 0;
        for (const hb_param_spec *s = w->params; s && s->name && at < sizeof params; s++)
            at += (size_t)snprintf(params + at, sizeof params - at, "%s%s=%lld", at ? " " : "",
                                   s->name, (long long)s->preset[HB_SIZE_SMALL]);
        /* collector workloads: the heap modes (--heap) they run in */
        int modes = w->heap_modes ? w->heap_modes : HB_HEAP_ISOLATED;
        const char *heaps = !w->needs_collector ? ""
                            : modes == HB_HEAP_SHARED ? " heaps: shared only"
                            : (modes & HB_HEAP_SHARED) ? " heaps: isolated,shared" : "";
        printf("workload   %-12s %s [%s]%s\n", w->name, w->doc, params, heaps);
    }
    /* programs: real programs run as children (--workloads programs) */
    for (size_t i = 0; i < hb_program_count; i++) {
        const hb_program *p = hb_programs[i];
        char params[512] = "", missing[128];
        size_t at = 0;
        for (const hb_param_spec *s = p->wl.params; s && s->name && at < sizeof params; s++)
            at += (size_t)snprintf(params + at, sizeof params - at, "%s%s=%lld", at ? " " : "", s->name,
                                   (long long)s->preset[HB_SIZE_SMALL]);
        int gone = hb_program_missing(p, missing, sizeof missing);
        printf("program    %-12s %s [%s]%s%s%s%s\n", p->wl.name, p->wl.doc, params,
               p->takes_threads ? " threads: yes" : "", p->figure_unit ? " figure: " : "",
               p->figure_unit ? p->figure_unit : "", gone ? " (not installed: scripts/setup.sh)" : "");
    }
}

static int usage(FILE *f)
{
    fprintf(f, "usage: heapbench list\n"
               "       heapbench run [--allocators A,B] [--collectors C,D] [--gc-allocators A,B]\n"
               "                     [--workloads W,X] [--threads 1,2] [--reps N] [--heap isolated,shared]\n"
               "                     [--size small|medium|large] [--param KEY=VALUE ...] [--timeout S]\n"
               "                     [--warmup N] [--interleave] [--pin] [--shard K/N] [--resume]\n"
               "                     [--lat-every N] [--sample-ms N] [--program NAME='CMD ARGS'] [--out FILE.csv]\n"
               "                     [--heap-factors F1,F2]\n"
               "       heapbench run            (no arguments: the default matrix)\n"
               "         an allocator in --allocators: a builtin name, NAME=PATH or PATH of a malloc library\n"
               "       heapbench minheap [run options]   (each cell's minimum heap, marksweep and boehm)\n"
               "       heapbench merge OUT.csv IN.csv [IN.csv ...] [--force]\n"
               "       heapbench json IN.csv OUT.json   (Google Benchmark's format)\n"
               "       heapbench compare A.csv B.csv [--format text|csv|markdown] [--metrics M,N]\n"
               "       heapbench compare FILE.csv --by allocator|collector|workload|threads|heap|size|PARAM\n"
               "                     [--ref NAME] [--format text|csv|markdown] [--metrics M,N]\n"
               "       heapbench compare FILE.csv --lbo   (lower-bound overhead per collector)\n"
               "       heapbench regress --baseline FILE.csv|BUILD_DIR --candidate FILE.csv|BUILD_DIR\n"
               "                     [--threshold PCT] [--metrics M,N] [--instructions] [--format text|csv|markdown]\n"
               "                     [run options]\n"
               "       heapbench plot FILE.csv [--ref ALLOCATOR] [--ref-collector COLLECTOR] [--out DIR] [--data-only]\n"
               "       heapbench report FILE.csv [--out PAGE.html] [--ref ALLOCATOR] [--ref-collector COLLECTOR]\n"
               "       heapbench --version\n"
               "heapbench CMD --help gives each option of CMD with its default.\n");
    return 2;
}

/* What a subcommand printed must have reached its reader: `run > /dev/full`
 * is a failure, not a success with its summary lost. */
static int flushed(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "heapbench: cannot write to standard output: %s\n", strerror(errno ? errno : EIO));
        return rc ? rc : 2;
    }
    return rc;
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv)
{
    return flushed(dispatch(argc, argv));
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: heapbench list|run|minheap|merge|json|compare|regress|plot|report [options]; heapbench --help "
                        "lists them\n");
        return 2;
    }
    if (strcmp(argv[1], "__cell") == 0)
        return hb_cell_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        hb_version(stdout);
        return 0;
    }
    /* CMD --help: the subcommand's options with their defaults, before any
     * parser can take --help for bad input */
    if (hb_wants_help(argc - 2, argv + 2) && hb_help(argv[1], stdout) == 0)
        return 0;
    if (strcmp(argv[1], "list") == 0) {
        if (argc != 2) {
            fprintf(stderr, "heapbench list: takes no arguments, not '%s'\n", argv[2]);
            return 2;
        }
        list();
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "merge") == 0)
        return hb_merge_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "json") == 0)
        return hb_json_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "compare") == 0)
        return hb_compare_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "regress") == 0)
        return hb_regress_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "plot") == 0)
        return hb_plot_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "report") == 0)
        return hb_report_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "minheap") == 0) {
        hb_run_opts o;
        /* minheap: run's matrix, each cell's minimum heap searched, no rows */
        int minheap = strcmp(argv[1], "minheap") == 0;
        int rc = hb_opts_parse(argc - 2, argv + 2, &o);
        if (rc)
            return rc;
        o.minheap_only = minheap;
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "heapbench: cannot find its own executable (/proc/self/exe)\n");
            return 2;
        }
        self[n] = 0;
        return hb_run(&o, self);
    }
    fprintf(stderr, "heapbench: unknown command '%s'; valid: list, run, minheap, merge, json, compare, regress, plot, report, help\n", argv[1]);
    return 2;
}
