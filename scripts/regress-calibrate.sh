#!/usr/bin/env bash
# How small a slowdown `heapbench regress` detects (docs/regress.md).
# The candidate does k% more work: the same cells with --param ops scaled by
# 1 + k/100, so each cell's wall time grows by about k% while ops_per_s stays
# put; the gate measured is the timed one on wall_s. Baseline and candidate
# repetitions alternate, one `heapbench run` each, as regress itself does.
# The candidate's cell names and deterministic counts are then set to the
# baseline's (they differ by construction: more ops, more allocations) so
# that only the timed gate can fire. Prints, per k, the cells flagged.
#   scripts/regress-calibrate.sh HEAPBENCH WORKDIR [REPS] [OPS] [K...]
set -eu
hb=$1 work=$2 reps=${3:-8} ops=${4:-200000}
shift 4 2> /dev/null || shift $#
ks=${*:-0 5 10 20}
cells="--allocators system,arena,freelist,jemalloc,mimalloc,tcmalloc --workloads churn,larson --threads 1,2"
mkdir -p "$work"
for k in $ks; do
    cops=$(( ops * (100 + k) / 100 ))
    rm -f "$work"/k$k-*.csv "$work"/k$k-*.json "$work"/k$k-*.rss.csv
    for r in $(seq 1 "$reps"); do
        for side in b c; do # alternate, the order flipped every repetition
            s=$side; [ $((r % 2)) = 0 ] && { [ $side = b ] && s=c || s=b; }
            o=$ops; [ $s = c ] && o=$cops
            "$hb" run $cells --param ops=$o --reps 1 --warmup 0 --out "$work/k$k-$s.csv" > /dev/null
        done
    done
    python3 - "$work/k$k-b.csv" "$work/k$k-c.csv" "$ops" "$cops" <<'PY'
import csv, sys
b, c, ops, cops = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
base = {r["cell"]: r for r in csv.DictReader(open(b))}
rows = list(csv.reader(open(c)))
h = rows[0]
for r in rows[1:]:
    r[h.index("cell")] = r[h.index("cell")].replace("ops=" + cops, "ops=" + ops)
    src = base.get(r[h.index("cell")])
    if src and r[h.index("status")] == "ok":
        for col in ("allocs", "frees", "peak_live_bytes"):
            r[h.index(col)] = src[col]
csv.writer(open(c, "w", newline=""), lineterminator="\n").writerows(rows)
PY
    "$hb" regress --baseline "$work/k$k-b.csv" --candidate "$work/k$k-c.csv" > "$work/k$k.txt" || true
    echo "k=$k%: $(grep -c ' WORSE$' "$work/k$k.txt") of $(grep -c ' wall_s ' "$work/k$k.txt") cells flagged" \
         "(geometric mean of wall_s ratios $(python3 - "$work/k$k.txt" <<'PY'
import math, re, sys
r = [float(l.split()[3]) for l in open(sys.argv[1]) if re.search(r" wall_s +\d+/\d+ ", l)]
print("%.3f" % math.exp(sum(map(math.log, r)) / len(r)) if r else "-")
PY
))"
done
