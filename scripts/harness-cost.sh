#!/usr/bin/env bash
# What the harness's own instruments cost, measured side by side: each round
# runs the same cells with latency sampling off, on (1 in 256, the default)
# and the RSS sampler off, alternating so drift of the machine hits all
# three alike; then prints median ops/s and the overhead of each instrument.
# The `null` allocator's row is the floor: the workload's own loop and the
# harness, with no allocator work and never-reused (cold) memory.
#   scripts/harness-cost.sh [HEAPBENCH] [ROUNDS]
set -uo pipefail
hb=${1:-build/heapbench}
rounds=${2:-5}
out=$(mktemp -d)
cells="--allocators arena,jemalloc,system --workloads churn,bleed --threads 1 --size small --warmup 0"
[ -x "$hb" ] || { echo "harness-cost: no $hb (build first)" >&2; exit 2; }
run() { # name, instrument options
    local name=$1; shift
    "$hb" run $cells "$@" --out "$out/$name.csv" > /dev/null
}
for r in $(seq "$rounds"); do
    # the order rotates each round: no variant always runs first or last
    case $((r % 3)) in
    0) run off --lat-every 0 --sample-ms 0; run lat --sample-ms 0; run rss --lat-every 0 ;;
    1) run lat --sample-ms 0; run rss --lat-every 0; run off --lat-every 0 --sample-ms 0 ;;
    2) run rss --lat-every 0; run off --lat-every 0 --sample-ms 0; run lat --sample-ms 0 ;;
    esac
done
# The floor, on its own: null prefaults a 2 GiB slab per cell, which would
# disturb the cells run after it.
"$hb" run --allocators null --workloads churn,bleed --threads 1 --size small --warmup 0 --reps 3 \
    --lat-every 0 --sample-ms 0 --out "$out/null.csv" > /dev/null
python3 - "$out" <<'PY'
import csv, statistics as st, sys, collections, os
d = sys.argv[1]
def med(name):
    g = collections.defaultdict(list)
    for r in csv.DictReader(open(os.path.join(d, name))):
        if r["status"] == "ok":
            g[(r["workload"], r["allocator"])].append(float(r["ops_per_s"]))
    return {k: st.median(v) for k, v in g.items()}
off, lat, rss, null = med("off.csv"), med("lat.csv"), med("rss.csv"), med("null.csv")
print(f"{'workload':8} {'allocator':9} {'ns/op':>7} {'latency sampling':>17} {'RSS sampler':>12}")
for k in sorted(off):
    cost = lambda m: (off[k] / m[k] - 1) * 100
    print(f"{k[0]:8} {k[1]:9} {1e9 / off[k]:7.1f} {cost(lat):+16.1f}% {cost(rss):+11.1f}%")
for k in sorted(null):
    print(f"{k[0]:8} {k[1]:9} {1e9 / null[k]:7.1f}   (the floor: workload loop, harness, cold memory)")
PY
rm -rf "$out"
