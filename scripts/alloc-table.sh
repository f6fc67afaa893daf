#!/usr/bin/env bash
# alloc-table.sh -- issue 15's table: arena and freelist against the best of
# jemalloc, mimalloc and tcmalloc, wall time, CPU time and peak RSS as
# ratios with geometric means, and whether the targets hold (wall time
# <= 1.10x on every row and geomean <= 1.00; peak RSS <= 1.5x and geomean
# <= 1.00), each ratio with its repetitions' spread (± half their range, as
# a percentage of their median). The printing is scripts/ratio-table.py's
# (--targets --spread), the same code as scripts/programs-table.sh's table,
# so workloads and programs are one table.
#
#   scripts/alloc-table.sh                run, then print: the size workloads
#                                         and churn at size medium, then the
#                                         single-threaded programs (the
#                                         drop-in libraries preloaded) at
#                                         PROG_SIZE, REPS interleaved
#                                         repetitions each
#   scripts/alloc-table.sh FILE.csv...    print the table of earlier runs
#
# Environment: BUILD (default build), REPS (5), WORKLOADS
# (large,realloc_grow,class_edges,churn: one thread; empty to skip),
# THREAD_WORKLOADS (larson,mixed_remote: at THREADS, default 1,2; empty to
# skip; a row per count, named workload/Nt), PROGRAMS (perl,python,lua,sqlite,
# gs,z3; empty to skip), PROG_SIZE (medium: 0.05-0.6 s a run; at small,
# 15-60 ms, a run's noise is 10% of it), OUT (prefix of the results files; a
# temporary directory by default).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
REPS=${REPS:-5}
WORKLOADS=${WORKLOADS-large,realloc_grow,class_edges,churn}
THREAD_WORKLOADS=${THREAD_WORKLOADS-larson,mixed_remote}
THREADS=${THREADS:-1,2}
PROGRAMS=${PROGRAMS-perl,python,lua,sqlite,gs,z3}
PROG_SIZE=${PROG_SIZE:-medium}
ALLOCS=system,arena,freelist,jemalloc,mimalloc,tcmalloc

if [ $# -eq 0 ]; then
    hb=$BUILD/heapbench
    [ -x "$hb" ] || { echo "alloc-table.sh: no $hb (scripts/build.sh $BUILD)" >&2; exit 2; }
    out=${OUT:-$(mktemp -d)/alloc-table}
    set -- "$out.csv"
    run() { # csv, run options...
        local csv=$1; shift
        echo "# $hb run --allocators $ALLOCS $* --reps $REPS --interleave --out $csv" >&2
        "$hb" run --allocators "$ALLOCS" "$@" --reps "$REPS" --interleave --out "$csv" > /dev/null
        [ $? -le 1 ] || exit 2
    }
    [ -z "$WORKLOADS" ] || run "$out.csv" --workloads "$WORKLOADS" --threads 1 --size medium
    [ -z "$THREAD_WORKLOADS" ] || run "$out.csv" --workloads "$THREAD_WORKLOADS" --threads "$THREADS" --size medium
    if [ -n "$PROGRAMS" ]; then
        run "$out.programs.csv" --workloads "$PROGRAMS" --threads 1 --size "$PROG_SIZE"
        set -- "$@" "$out.programs.csv"
    fi
    echo "results: $*" >&2
fi
python3 "$here/ratio-table.py" "$@" --best jemalloc,mimalloc,tcmalloc \
    --metrics wall_s,cpu_s,peak_rss_kb --targets arena,freelist --spread
