/* help.c -- `heapbench CMD --help` and `heapbench --version`: every option of
 * every subcommand with its default, in one place, so that the texts are
 * kept together (test_help.sh checks each parser's options against them).
 * The defaults are the parsers' own: options.c (run), compare.c,
 * regress.c, merge.c, json.c, plot.c, report.c. */
#include "harness.h"
#include "buildinfo.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *cmd, *text;
} helps[] = {
    {"list", "usage: heapbench list\n"
             "  Every allocator, collector and workload, one line each, with each workload's\n"
             "  parameters at size small. No options.\n"},
    {"run",
     "usage: heapbench run [options]      (no options: the default matrix)\n"
     "  --allocators A,B       allocators for allocator-only workloads; NAME=PATH or a\n"
     "                         PATH is a malloc library preloaded (default: every built-in\n"
     "                         one but null)\n"
     "  --collectors C,D       collectors for collector workloads (default: every one but\n"
     "                         cpython, the real python3, which runs only when named)\n"
     "  --gc-allocators A,B    allocators under the collectors (default: --allocators;\n"
     "                         in the default matrix system,arena; cpython: pymalloc)\n"
     "  --workloads W,X        workloads, `programs` for every bundled program (default:\n"
     "                         every one)\n"
     "  --threads 1,2          thread counts, 1 to 1024 (default: 1 and the core count)\n"
     "  --reps N               recorded repetitions per cell, 1 to 10000 (default: 1;\n"
     "                         default matrix: 5)\n"
     "  --max-reps M           after --reps rounds, more rounds of the rows (a cell's\n"
     "                         backends together) where a backend's median is not yet\n"
     "                         known within --narrow, until it is or M repetitions\n"
     "                         (default: off)\n"
     "  --narrow PCT           --max-reps's aim: the median's 95% interval within PCT\n"
     "                         percent of it, 0.1 to 100 (default: 5)\n"
     "  --size S               small, medium or large: the workloads' presets (default: small)\n"
     "  --param KEY=VALUES     a workload or collector parameter, once per KEY; VALUES is a\n"
     "                         value, a list V1,V2, a range FROM..TO+STEP or FROM..TO*FACTOR:\n"
     "                         each value a cell (a sweep); refcount=atomic,biased for shared\n"
     "                         heaps; garbage_ms=N samples garbage held every N ms (rc, rcgen,\n"
     "                         rcinc) (default: the presets; refcount=atomic; no samples);\n"
     "                         heap_kb=N a hard heap limit in KiB (marksweep, boehm;\n"
     "                         default: none); incremental_mark=1 spreads rcinc's mark over\n"
     "                         its increments and counts young objects exactly (default 0:\n"
     "                         3.14.0's, one pause)\n"
     "  --heap-factors F1,F2   run marksweep and boehm at these multiples (1 to 100) of each\n"
     "                         cell's minimum heap, found first by binary search (default:\n"
     "                         none, no limit)\n"
     "  --heap isolated,shared heap modes of collector workloads (default: isolated)\n"
     "  --program NAME='CMD'   a command of yours as a program workload NAME, run by /bin/sh\n"
     "                         -c, repeatable (default: none; the bundled programs: list)\n"
     "  --timeout S            seconds before a cell is killed as timeout, 1 to 86400\n"
     "                         (default: 600)\n"
     "  --warmup N             unrecorded runs per cell first, 0 to 100 (default: 1;\n"
     "                         default matrix: 0)\n"
     "  --interleave           in rounds, one repetition of every cell each, in random\n"
     "                         order; the cells one comparison needs (differing only in\n"
     "                         allocator, collector or its settings) run together, and\n"
     "                         the closing summary pairs their repetitions (default:\n"
     "                         off, matrix order)\n"
     "  --steady               probe the host's cores before and after each repetition\n"
     "                         with a fixed piece of work: wait while they run slow (up\n"
     "                         to 30 s), and run a repetition again (up to 3 times) when\n"
     "                         they read slow after it; columns host_slow and retakes\n"
     "                         (default: off)\n"
     "  --pin                  one core per thread, with hwloc (default: off)\n"
     "  --shard K/N            run the K-th of N slices of the cells (default: all)\n"
     "  --resume               run only the (cell, rep) without an ok row in --out (default: off)\n"
     "  --lat-every N          time one operation in about N, 0 off (default: 256)\n"
     "  --sample-ms N          RSS sampling period in ms, 0 off (default: 10)\n"
     "  --verbose              the workloads' own output on the console (default: off, into\n"
     "                         FILE.log)\n"
     "  --out FILE.csv         results file, appended to, with FILE.rss.csv, FILE.pauses.csv,\n"
     "                         FILE.json and FILE.log (default: results/run-DATE.csv; default matrix:\n"
     "                         results/default-DATE.csv)\n"
     "  Exit: 0 every cell ok, 1 some cell not ok, 2 bad usage or input, 130 interrupted.\n"},
    {"minheap", "usage: heapbench minheap [run options]\n"
                "  run's matrix, but for each cell of a collector that takes a heap limit\n"
                "  (marksweep, boehm) its minimum heap, by binary search to within 1/64, printed\n"
                "  as a table; no rows are written. About 8 runs of the cell each.\n"
                "  Exit: 0 every search found one, 1 some did not, 2 bad usage, 130 interrupted.\n"},
    {"merge", "usage: heapbench merge OUT.csv IN.csv [IN.csv ...] [--force]\n"
              "  Joins results files with their companions into a new OUT.csv (never an existing\n"
              "  file, never an input) and OUT.json.\n"
              "  --force                merge inputs measured in different environments (default: off,\n"
              "                         refused)\n"},
    {"json", "usage: heapbench json IN.csv OUT.json\n"
             "  IN.csv as Google Benchmark's JSON, written through a temporary file. OUT may be\n"
             "  IN's own NAME.json, never IN or its other companions. No options.\n"},
    {"compare", "usage: heapbench compare A.csv B.csv [options]    (each cell of A against B's)\n"
                "       heapbench compare FILE.csv --by DIM [options]  (within one file)\n"
                "  --by DIM               rank the alternatives of DIM in each cell of the others:\n"
                "                         allocator, collector, workload, threads, heap, size or a\n"
                "                         parameter of the file (default: none, two files compared)\n"
                "  --ref NAME             with --by, the alternative the others are compared with\n"
                "                         (default: system for allocator, rcgen for collector, else\n"
                "                         the smallest value)\n"
                "  --paired               with --by, each repetition against the reference's of the\n"
                "                         same run and rep (as run --interleave measures them):\n"
                "                         paired ratio, signed-rank p (default: off, unpaired)\n"
                "  --format F             text, csv or markdown (default: text, coloured on a terminal)\n"
                "  --metrics M,N          metrics compared (default: wall_s,ops_per_s,pause_p99_us,\n"
                "                         peak_rss_kb)\n"
                "  --lbo                  with one file: the lower-bound overhead of each collector\n"
                "                         setting (Cai et al. 2022), per workload (default: off)\n"},
    {"regress",
     "usage: heapbench regress --baseline FILE.csv|BUILD_DIR --candidate FILE.csv|BUILD_DIR [options]\n"
     "  --baseline, --candidate  two results files, or two build directories run here\n"
     "                         (no default: both required)\n"
     "  --gate duet|rmit|interleaved  with build directories, how the timed gate measures:\n"
     "                         duet pairs on their own cores (randomized interleaved pairs\n"
     "                         where cores are too few: duet needs 2 x threads + 1), rmit:\n"
     "                         randomized interleaved pairs for every cell, or alternated\n"
     "                         rounds (default: duet)\n"
     "  --pairs N              duet: pairs a cell, 6 to 10000 (default: as many as fit in\n"
     "                         --budget, at most 1000)\n"
     "  --budget S             duet: seconds the pairs may take, 0 (none) to 86400 (default:\n"
     "                         540, or none when --pairs is given)\n"
     "  --threshold PCT        smallest worsening that counts, 0 to 1000 (default: 5)\n"
     "  --cv-factor X          times the baseline's CV that a worsening must also pass, 0 to\n"
     "                         100 (default: 3)\n"
     "  --cv robust|sd         the CV: 1.4826 MAD / median, or sd / mean (default: robust)\n"
     "  --metrics M,N          timed metrics gated (default: cpu_s, user + system CPU, for\n"
     "                         duet; wall_s otherwise)\n"
     "  --instructions         also gate callgrind's instruction counts (default: off)\n"
     "  --cycles               also gate cachegrind's estimated cycles, every cell (default:\n"
     "                         off)\n"
     "  --cycles-tolerance PCT estimated-cycles growth tolerated, 0 to 100 (default: 0.5)\n"
     "  --calibrate K,K...     no builds given: this heapbench against itself doing K% more\n"
     "                         work (needs --param ops=N); prints, per K and gate, the cells\n"
     "                         flagged of those compared (e.g. 0,5,10,20; default: off)\n"
     "  --format F             text, csv or markdown, the verdict and exit status the same\n"
     "                         (default: text)\n"
     "  --ir-tolerance PCT     instruction growth tolerated, 0 to 100 (default: 0.1)\n"
     "  --program-tolerance PCT  --instructions' and --cycles' tolerance for program\n"
     "                         cells, whose own counts vary more (default: 1)\n"
     "  --reps N               interleaved rounds, 2 to 10000 (default: chosen\n"
     "                         from the number of cells, at least 5)\n"
     "  --warmup N             as run's, for the first round (default: run's, 1)\n"
     "  --work DIR             where the runs' files are kept (default:\n"
     "                         $TMPDIR/heapbench-regress-XXXXXX)\n"
     "  --allocators --collectors --workloads --threads --size --param --heap --timeout\n"
     "                         --shard --lat-every --sample-ms --pin --program: run's options,\n"
     "                         passed to both builds (defaults: run's)\n"
     "  Exit: 0 no cell worse, 1 some cell worse or missing, 2 bad usage or input.\n"},
    {"plot", "usage: heapbench plot FILE.csv [options]\n"
             "  --ref ALLOCATOR        reference of the throughput figures (default: system)\n"
             "  --ref-collector C      reference of the collectors' figure (default: rcgen)\n"
             "  --out DIR              where figures go (default: plots/NAME)\n"
             "  --scripts DIR          the gnuplot scripts (default: $HEAPBENCH_PLOTS, else the\n"
             "                         source tree's plots/, else ./plots)\n"
             "  --data-only            write the figures' data files, run no gnuplot (default: off)\n"},
    {"report", "usage: heapbench report FILE.csv [options]\n"
               "  One self-contained HTML page: the tables, then plot's figures inline as SVG.\n"
               "  --out PAGE.html        the page (default: FILE.html beside FILE.csv)\n"
               "  --ref ALLOCATOR        reference of the allocators' tables and figures (default:\n"
               "                         system)\n"
               "  --ref-collector C      reference of the collectors' (default: rcgen)\n"
               "  --paired               rankings paired by run and repetition, as compare --by\n"
               "                         --paired (for a run --interleave; default: off, unpaired)\n"
               "  --scripts DIR          the gnuplot scripts (default: as plot's)\n"},
};

int hb_help(const char *cmd, FILE *f)
{
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        if (!strcmp(helps[i].cmd, cmd)) {
            fputs(helps[i].text, f);
            return 0;
        }
    return -1;
}

int hb_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

void hb_version(FILE *f)
{
    fprintf(f, "heapbench %s (build type %s, %s)\n", HB_GIT_COMMIT, HB_BUILD_TYPE, HB_COMPILER);
}
