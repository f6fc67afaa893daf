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
#                                         programs (the drop-in libraries
#                                         preloaded) at PROG_SIZE, REPS
#                                         interleaved repetitions each
#   scripts/alloc-table.sh FILE.csv...    print the table of earlier runs
#
# The table is printed twice: each ratio as the ratio of medians, then
# wall and CPU time as the median of paired ratios (ratio-table.py
# --paired: each repetition against the best reference's same repetition,
# run seconds apart by --interleave), which a machine's slow spells
# disturb less.
#
# Environment: BUILD (default build), REPS (5), WORKLOADS
# (large,realloc_grow,class_edges,churn: one thread; empty to skip),
# THREAD_WORKLOADS (larson,mixed_remote,resize: at THREADS, default 1,2; empty to
# skip; a row per count, named workload/Nt), PROGRAMS (perl,python,lua,sqlite,
# gs,z3,redis: one thread; empty to skip), THREAD_PROGRAMS (db_bench,
# cache_bench: at THREADS; empty to skip), PROG_SIZE (medium: 0.4-0.8 s a
# run; at small, 15-60 ms, a run's noise is 10% of it), PYTHON_N (500000:
# python's n, run on its own: at medium's 50000 a run is 70 ms, mostly the
# interpreter's start), OUT (prefix of the results files; a temporary
# directory by default), STEADY (--steady: each repetition out of the
# host's slow spells, docs/harness.md; empty: off), MAX_REPS (11: rows
# whose medians are not known within NARROW percent, default 5, get more
# interleaved rounds up to this many repetitions, run --max-reps; 0: off).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
REPS=${REPS:-5}
WORKLOADS=${WORKLOADS-large,realloc_grow,class_edges,churn}
THREAD_WORKLOADS=${THREAD_WORKLOADS-larson,mixed_remote,resize}
THREADS=${THREADS:-1,2}
PROGRAMS=${PROGRAMS-perl,python,lua,sqlite,gs,z3,redis}
THREAD_PROGRAMS=${THREAD_PROGRAMS-db_bench,cache_bench}
PROG_SIZE=${PROG_SIZE:-medium}
PYTHON_N=${PYTHON_N:-500000}
# A thread per task: larson's chain with a worker per 500 replacements
# (2000 workers a chain), where threads come and go faster than memory
# ages; "" leaves it out.
TASK_PARAMS=${TASK_PARAMS-chunks=500 rounds=1 ops=1000000}
ALLOCS=system,arena,freelist,jemalloc,mimalloc,tcmalloc
# repetitions out of the host's slow spells (docs/harness.md); STEADY= off
STEADY=${STEADY---steady}
# more rounds for the rows still wide after REPS (docs/harness.md)
MAX_REPS=${MAX_REPS:-11}
NARROW=${NARROW:-5}
[ "$MAX_REPS" -gt "$REPS" ] 2>/dev/null && more="--max-reps $MAX_REPS --narrow $NARROW" || more=

if [ $# -eq 0 ]; then
    hb=$BUILD/heapbench
    [ -x "$hb" ] || { echo "alloc-table.sh: no $hb (scripts/build.sh $BUILD)" >&2; exit 2; }
    out=${OUT:-$(mktemp -d)/alloc-table}
    set -- "$out.csv"
    run() { # csv, run options...
        local csv=$1; shift
        echo "# $hb run --allocators $ALLOCS $* --reps $REPS $more --interleave $STEADY --out $csv" >&2
        "$hb" run --allocators "$ALLOCS" "$@" --reps "$REPS" $more --interleave $STEADY --out "$csv" > /dev/null
        [ $? -le 1 ] || exit 2
    }
    [ -z "$WORKLOADS" ] || run "$out.csv" --workloads "$WORKLOADS" --threads 1 --size medium
    [ -z "$THREAD_WORKLOADS" ] || run "$out.csv" --workloads "$THREAD_WORKLOADS" --threads "$THREADS" --size medium
    if [ -n "$TASK_PARAMS" ]; then
        task=()
        for p in $TASK_PARAMS; do task+=(--param "$p"); done
        run "$out.csv" --workloads larson --threads "$THREADS" --size medium "${task[@]}"
    fi
    # python on its own run, at its own n (the other programs' n differs)
    others=$(echo ",$PROGRAMS," | sed 's/,python,/,/g; s/^,//; s/,$//')
    [ -z "$others" ] || run "$out.programs.csv" --workloads "$others" --threads 1 --size "$PROG_SIZE"
    [ "$others" = "$PROGRAMS" ] || run "$out.programs.csv" --workloads python --threads 1 --size "$PROG_SIZE" \
        --param n="$PYTHON_N"
    [ -z "$THREAD_PROGRAMS" ] || run "$out.programs.csv" --workloads "$THREAD_PROGRAMS" --threads "$THREADS" \
        --size "$PROG_SIZE"
    [ -z "$PROGRAMS$THREAD_PROGRAMS" ] || set -- "$@" "$out.programs.csv"
    echo "results: $*" >&2
fi
python3 "$here/ratio-table.py" "$@" --best jemalloc,mimalloc,tcmalloc \
    --metrics wall_s,cpu_s,peak_rss_kb --targets arena,freelist --spread
status=$?
echo
echo "paired: the median of each repetition's ratio to the best reference's same repetition"
python3 "$here/ratio-table.py" "$@" --best jemalloc,mimalloc,tcmalloc \
    --metrics wall_s,cpu_s --targets arena,freelist --spread --paired | tail -n +2 | sed "/^host (run --steady/d"
exit $status
