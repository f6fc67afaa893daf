#!/usr/bin/env bash
# The program set side by side on every allocator, and one given by path:
# system, arena, freelist, jemalloc, mimalloc, tcmalloc and LIB (by default
# Debian's tcmalloc named by its path, `tcmalloc_path=...`: the same library
# as `tcmalloc`, reached the user's way), REPS interleaved repetitions
# (default 5), size SIZE (default small: 0.05 to 0.3 s of CPU a program, so
# the table takes minutes; medium, 0.5 to 2 s, weighs start-up less),
# threads 1 and 2 for the multi-threaded ones. Then scripts/ratio-table.py
# prints, per program, the wall-time, CPU-time and peak-RSS ratio of each
# allocator to the best of jemalloc, mimalloc and tcmalloc, and the
# geometric means. Exits 1 when a row is not ok.
#   scripts/programs-table.sh [HEAPBENCH] [REPS] [SIZE] [more run options...]
# e.g. another set of workloads on the same table:
#   scripts/programs-table.sh build/heapbench 5 small --workloads churn,larson
set -uo pipefail
hb=${1:-build/heapbench}
reps=${2:-5}
size=${3:-small}
shift $(( $# < 3 ? $# : 3 ))
lib=${LIB:-tcmalloc_path=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4}
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$hb" ] || { echo "programs-table: no $hb (build first)" >&2; exit 2; }
out=${OUT:-$(mktemp -d)/programs.csv}
workloads=(--workloads programs)
for a in "$@"; do [ "$a" = --workloads ] && workloads=(); done
"$hb" run "${workloads[@]}" --allocators "system,arena,freelist,jemalloc,mimalloc,tcmalloc,$lib" \
    --threads 1,2 --size "$size" --reps "$reps" --interleave "$@" --out "$out" > /dev/null
status=$?
[ $status -le 1 ] || exit $status
echo "results: $out"
python3 "$here/ratio-table.py" "$out" --best jemalloc,mimalloc,tcmalloc --metrics wall_s,cpu_s,peak_rss_kb --spread
