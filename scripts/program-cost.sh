#!/usr/bin/env bash
# What a program cell costs the program it measures (fork, exec, preload,
# the /proc sampling every 10 ms, the preload check): the same command timed
# by heapbench (wall_s) and by plain /usr/bin/time (its elapsed time),
# alternating run by run, the order flipped every round so drift hits both
# alike; medians of ROUNDS (default 7). Programs: the interpreters running
# the project's scripts, whose command lines are fixed (perl, lua, python),
# at N iterations chosen for about 1 s of CPU a run, so /usr/bin/time's 10 ms
# resolution is about 1%; allocators: system (no preload) and jemalloc
# (preloaded by both). Prints each median, the ratio heapbench / time, and
# peak RSS by both (heapbench's tree sum or ru_maxrss, time's %M).
#   scripts/program-cost.sh [HEAPBENCH] [ROUNDS]
set -uo pipefail
hb=${1:-build/heapbench}
rounds=${2:-7}
[ -x "$hb" ] || { echo "program-cost: no $hb (build first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "program-cost: no /usr/bin/time (scripts/setup.sh installs it)" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../workloads/programs" && pwd)
je=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
out=$(mktemp -d)
# name, heapbench n, the command as the program cell runs it
progs=(
  "perl 700000 perl $src/hash.pl 700000"
  "lua 1500000 lua5.4 $src/patterns.lua 1500000"
  "python 800000 env PYTHONMALLOC=malloc /usr/bin/python3 $src/patterns.py 800000"
)
for r in $(seq "$rounds"); do
    for p in "${progs[@]}"; do
        set -- $p
        name=$1 n=$2
        shift 2
        for alloc in system jemalloc; do
            pre=()
            [ $alloc = jemalloc ] && pre=(env LD_PRELOAD=$je)
            bytime() {
                (cd "$out" && /usr/bin/time -f "%e %M" -o t.txt "${pre[@]}" "$@" > /dev/null) &&
                    echo "$name $alloc $(cat "$out/t.txt")" >> "$out/time.txt"
            }
            byhb() {
                "$hb" run --workloads "$name" --allocators $alloc --param n=$n --warmup 0 \
                    --out "$out/hb.csv" > /dev/null 2>&1
            }
            if [ $((r % 2)) = 0 ]; then bytime "$@"; byhb; else byhb; bytime "$@"; fi
        done
    done
done
python3 - "$out" <<'PY'
import csv, statistics as st, sys, collections, os
d = sys.argv[1]
hb, tm = collections.defaultdict(list), collections.defaultdict(list)
for r in csv.DictReader(open(os.path.join(d, "hb.csv"))):
    assert r["status"] == "ok", (r["cell"], r["error"])
    hb[(r["workload"], r["allocator"])].append((float(r["wall_s"]), int(r["peak_rss_kb"])))
for l in open(os.path.join(d, "time.txt")):
    name, alloc, e, m = l.split()
    tm[(name, alloc)].append((float(e), int(m)))
print(f"{'program':8} {'allocator':9} {'heapbench s':>11} {'time s':>8} {'ratio':>7} {'RSS kB hb':>10} {'time %M':>8}")
for k in sorted(hb):
    a, b = st.median(x[0] for x in hb[k]), st.median(x[0] for x in tm[k])
    ra, rb = st.median(x[1] for x in hb[k]), st.median(x[1] for x in tm[k])
    print(f"{k[0]:8} {k[1]:9} {a:11.3f} {b:8.3f} {a / b:7.3f} {ra:10.0f} {rb:8.0f}   ({len(hb[k])} and {len(tm[k])} runs)")
PY
rm -rf "$out"
