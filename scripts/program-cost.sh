#!/usr/bin/env bash
# What a program cell costs the program it measures (fork, exec, preload,
# the /proc sampling every 10 ms, the preload check): the same command timed
# by heapbench (wall_s) and by plain /usr/bin/time (its elapsed time),
# alternating run by run, the order flipped every round so drift hits both
# alike; medians of ROUNDS (default 7). Programs: the interpreters running
# the project's scripts, whose command lines are fixed (perl, lua, python),
# at N iterations chosen for about 0.6 to 1.7 s of CPU a run, so /usr/bin/time's 10 ms
# resolution is about 1%; allocators: system (no preload) and jemalloc
# (preloaded by both). Prints medians and ratios heapbench / time of: wall
# time (heapbench's wall_s against time's %e); the program's CPU time
# (heapbench's user_s + sys_s of the tree against time's %U + %S); the CPU
# time of the whole `heapbench run` command -- runner, sampling, preload
# checks, CSV and JSON included -- against the program's alone under time
# (the harness's own cost in CPU, which a loaded machine does not blur as
# it blurs wall time); and peak RSS by both (heapbench's tree sum or
# ru_maxrss, time's %M); and the runner's own CPU while the program ran
# (harness_cpu_s: sampling and preload checks) as a share of one core.
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
  "perl 2000000 perl $src/hash.pl 2000000"
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
                (cd "$out" && /usr/bin/time -f "%e %M %U %S" -o t.txt "${pre[@]}" "$@" > /dev/null) &&
                    echo "$name $alloc $(cat "$out/t.txt")" >> "$out/time.txt"
            }
            byhb() {
                /usr/bin/time -f "%U %S" -o "$out/w.txt" "$hb" run --workloads "$name" --allocators $alloc \
                    --param n=$n --warmup 0 --out "$out/hb.csv" > /dev/null 2>&1 &&
                    echo "$name $alloc $(tail -n 1 "$out/w.txt")" >> "$out/whole.txt"
            }
            if [ $((r % 2)) = 0 ]; then bytime "$@"; byhb; else byhb; bytime "$@"; fi
        done
    done
done
python3 - "$out" <<'PY'
import csv, statistics as st, sys, collections, os
d = sys.argv[1]
hb, tm, whole = collections.defaultdict(list), collections.defaultdict(list), collections.defaultdict(list)
for r in csv.DictReader(open(os.path.join(d, "hb.csv"))):
    assert r["status"] == "ok", (r["cell"], r["error"])
    hb[(r["workload"], r["allocator"])].append(
        (float(r["wall_s"]), float(r["user_s"]) + float(r["sys_s"]), int(r["peak_rss_kb"]),
         float(r["harness_cpu_s"]) / float(r["wall_s"]) * 100))
for l in open(os.path.join(d, "time.txt")):
    name, alloc, e, m, u, s = l.split()
    tm[(name, alloc)].append((float(e), float(u) + float(s), int(m)))
for l in open(os.path.join(d, "whole.txt")):
    name, alloc, u, s = l.split()
    whole[(name, alloc)].append(float(u) + float(s))
med = lambda v, i: st.median(x[i] for x in v)
print(f"{'program':8} {'allocator':9} {'wall hb':>8} {'time':>7} {'ratio':>6}  {'cpu hb':>7} {'time':>7} {'ratio':>6}"
      f"  {'whole run cpu':>13} {'ratio':>6}  {'RSS kB hb':>9} {'time %M':>8}  {'watching':>8}")
for k in sorted(hb):
    a, b = med(hb[k], 0), med(tm[k], 0)
    ca, cb, w = med(hb[k], 1), med(tm[k], 1), st.median(whole[k])
    print(f"{k[0]:8} {k[1]:9} {a:8.3f} {b:7.3f} {a / b:6.3f}  {ca:7.3f} {cb:7.3f} {ca / cb:6.3f}"
          f"  {w:13.3f} {w / cb:6.3f}  {med(hb[k], 2):9.0f} {med(tm[k], 2):8.0f}  {med(hb[k], 3):7.2f}%"
          f"   ({len(hb[k])} and {len(tm[k])} runs)")
print("watching: the runner's own CPU while the program ran (harness_cpu_s), in % of one core over wall_s")
PY
rm -rf "$out"
