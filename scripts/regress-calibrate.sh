#!/usr/bin/env bash
# How small a slowdown `heapbench regress` detects: now the command itself,
# `heapbench regress --calibrate` (docs/regress.md), which this script runs
# with its old arguments and cells (churn and larson on six allocators at 1
# and 2 threads). Per k it prints the cells each gate flagged: the duet gate
# (the default), the interleaved gate (what this script used to measure,
# with REPS repetitions a side) and cachegrind's estimated cycles.
#   scripts/regress-calibrate.sh HEAPBENCH WORKDIR [REPS] [OPS] [K...]
set -eu
hb=$1 work=$2 reps=${3:-8} ops=${4:-200000}
shift 4 2> /dev/null || shift $#
ks=${*:-0 5 10 20}
exec "$hb" regress --calibrate "$(echo $ks | tr ' ' ,)" --reps "$reps" --param ops="$ops" --work "$work" \
    --allocators system,arena,freelist,jemalloc,mimalloc,tcmalloc --workloads churn,larson --threads 1,2
