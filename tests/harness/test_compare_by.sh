#!/usr/bin/env bash
# `heapbench compare FILE --by DIM`: alternatives ranked within one file.
# A file made here with known factors (4 allocators x 2 workloads x 2 thread
# counts, 8 repetitions; arena 0.8x the time of system, freelist 1.3x,
# jemalloc the same as system), and a swept parameter (threshold=100,700,5000
# with known times): the ranks, the ratios, every p-value against an exact
# Mann-Whitney computed here, Holm's correction over the whole table, sorted
# rows, one number format, the three formats; bad input refused (exit 2,
# one line); the two-file compare untouched (test_compare.sh).
#   test_compare_by.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
cp "$here"/data/small.csv real.csv

python3 - real.csv known.csv <<'PY'
import csv, random, sys
hdr = next(csv.reader(open(sys.argv[1])))
rnd = random.Random(7)
factor = {"system": 1.0, "arena": 0.8, "freelist": 1.3, "jemalloc": 1.0}
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), hdr, lineterminator="\n")
w.writeheader()
def row(cell, wl, alloc, coll, t, params, rep, wall, rss):
    r = {k: "" for k in hdr}
    r.update(run_id="r1", cell=cell, workload=wl, size="small", params=params, allocator=alloc,
             collector=coll, heap="isolated", threads=str(t), rep=str(rep), status="ok", ops="100000",
             wall_s="%.9f" % wall, ops_per_s="%.1f" % (100000 / wall), peak_rss_kb=str(rss))
    w.writerow(r)
# interleaved as a real run writes them, and the workloads out of order
for rep in range(8):
    for wl, base in (("larson", 0.2), ("churn", 0.1)):
        for t in (2, 1):
            for a, f in factor.items():
                row("%s/%s/none/isolated/t%d/small" % (wl, a, t), wl, a, "none", t, "ops=100000", rep,
                    base * t * f * (1 + rnd.gauss(0, 0.01)), 5000 + rep)
# a sweep: rcgen's threshold, time falling as it grows; one cell at the default
for rep in range(8):
    for th, f in ((100, 1.5), (700, 1.0), (5000, 0.9)):
        name = "cycles/system/rcgen/isolated/t1/small" + ("" if th == 700 else "/threshold=%d" % th)
        row(name, "cycles", "system", "rcgen", 1, "ops=4000;threshold=%d" % th, rep,
            0.05 * f * (1 + rnd.gauss(0, 0.01)), 9000)
PY

"$hb" compare known.csv --by allocator --metrics wall_s,ops_per_s --format csv > by.csv 2> by.err
[ $? = 0 ] && [ ! -s by.err ] && ok || bad "compare --by allocator: $(cat by.err)"
python3 - known.csv by.csv <<'PY' && ok || bad "ranks, ratios, p-values or Holm of --by allocator"
import csv, math, sys
from functools import lru_cache
data = list(csv.DictReader(open(sys.argv[1])))
out = list(csv.DictReader(open(sys.argv[2])))
@lru_cache(None)
def f(m, n, u):  # orderings of m a's and n b's with U = u (b above a)
    if u < 0: return 0
    if m == 0 or n == 0: return 1 if u == 0 else 0
    return f(m, n - 1, u - m) + f(m - 1, n, u)
def mwu(a, b):  # exact two-sided p, no ties
    u = sum(y > x for x in a for y in b); m, n = len(a), len(b); tot = math.comb(m + n, m)
    le = sum(f(m, n, k) for k in range(u + 1)); ge = sum(f(m, n, k) for k in range(u, m * n + 1))
    return min(1.0, 2 * min(le, ge) / tot)
def vals(wl, a, t, col):
    return [float(r[col]) for r in data if r["cell"] == "%s/%s/none/isolated/t%d/small" % (wl, a, t)]
cells = [r for r in out if r["row"] == "cell"]
assert len(cells) == 2 * 2 * 2 * 4, len(cells)
tests = [r for r in cells if r["reference"] != r["allocator"]]
assert len(tests) == 24 and all(r["p"] for r in tests), len(tests)
for r in cells:
    wl, _, _, _, t, _ = r["cell"].split("/")
    t = int(t[1:])
    ref, alt = vals(wl, "system", t, r["metric"]), vals(wl, r["allocator"], t, r["metric"])
    med = sorted(alt)[3:5]
    assert abs(float(r["median"]) - sum(med) / 2) < 1e-6 * sum(med), r
    if r["allocator"] == "system":
        assert r["note"] == "reference" and float(r["ratio"]) == 1 and r["p"] == "", r
        continue
    assert abs(float(r["p"]) - mwu(ref, alt)) < 1e-9, (r, mwu(ref, alt))
    want = {"arena": 0.8, "freelist": 1.3, "jemalloc": 1.0}[r["allocator"]]
    if r["metric"] == "ops_per_s":
        want = 1 / want
    assert abs(float(r["ratio"]) / want - 1) < 0.03, r
    v = {"arena": "better", "freelist": "worse", "jemalloc": "~"}[r["allocator"]]
    assert r["verdict"] == v, r
    assert float(r["ci_lo"]) <= float(r["ratio"]) <= float(r["ci_hi"]), r
# Holm over the whole table (all 24 tests), computed here
ps = sorted((float(r["p"]), i) for i, r in enumerate(tests))
adj, run = [0.0] * len(ps), 0.0
for k, (p, i) in enumerate(ps):
    run = max(run, min(1.0, (len(ps) - k) * p))
    adj[i] = run
for r, a in zip(tests, adj):
    assert abs(float(r["p_holm"]) - a) < 1e-9, (r["cell"], r["allocator"], r["p_holm"], a)
# the fully separated cells: exact p 2/C(16,8), times 24 tests at the first step
assert abs(min(float(r["p_holm"]) for r in tests) - 24 * 2 / math.comb(16, 8)) < 1e-12
# ranks: arena first, freelist last, under either metric; rows sorted by
# metric (as given), cell (churn before larson, t1 before t2), then rank
for r in cells:
    want = {"arena": "1", "freelist": "4"}.get(r["allocator"])
    assert want is None or r["rank"] == want, r
keys = [(r["metric"] != "wall_s", r["cell"], int(r["rank"])) for r in cells]
assert keys == sorted(keys), "rows are not sorted"
assert [r["cell"] for r in cells][:4] == ["churn/*/none/isolated/t1/small"] * 4
g = {r["allocator"]: r for r in out if r["row"] == "geomean" and r["metric"] == "wall_s"}
assert abs(float(g["arena"]["ratio"]) / 0.8 - 1) < 0.02 and g["arena"]["rank"] == "1", g
assert g["freelist"]["rank"] == "4" and g["freelist"]["note"] == "over 4 cells"
PY

# text and markdown: the same table, one number format in every column
"$hb" compare known.csv --by allocator > by.txt && ok || bad "text"
grep -q "Holm-corrected over the 36 tests below" by.txt && ok || bad "Holm's family is not the whole table: $(head -2 by.txt)"
grep -Eq "^  churn/\*/none/isolated/t1/small +1  arena +8 +0\.0[0-9]{4} +0\.[78][0-9]{2}  \[0\.[0-9]{3}, 0\.[0-9]{3}\] +0\.00[0-9]  better$" \
    by.txt && ok || bad "text row: $(grep -m1 -A1 churn by.txt)"
# ops/s medians: 4 significant digits with a suffix (1.250M), never 1.25e+06 beside 1250000
grep -Eq "e[+-][0-9]" by.txt && bad "exponent notation in text: $(grep -E 'e[+-][0-9]' by.txt | head -2)" || ok
grep -A3 "^ops_per_s" by.txt | grep -Eq " [0-9]\.[0-9]{3}M " && ok || bad "ops/s not in the SI format: $(grep -A3 '^ops_per_s' by.txt)"
grep -q "geometric mean of the ratios to system: arena 0.8[0-9]* (4 cells), .*, freelist 1.[23][0-9]* (4 cells)$" by.txt \
    && ok || bad "geomean line: $(grep -m1 'geometric' by.txt)"
"$hb" compare known.csv --by allocator --format markdown > by.md
grep -q '^| cell | rank | allocator | n | median | ratio to system | 95% CI | p (Holm) | |$' by.md \
    && grep -q '^| `churn/\*/none/isolated/t1/small` | 1 | arena | 8 | ' by.md && ok || bad "markdown: $(head -12 by.md)"
# peak RSS equal in every cell: no difference
grep -A12 '^### peak RSS' by.md | grep -Eq '[|] (better|worse) [|]' && bad "a difference in equal RSS" || ok
# the sweep's three cells have one allocator each
grep -q "^3 cells with a single allocator: nothing to rank" by.txt && ok || bad "single cells: $(tail -3 by.txt)"

# by a swept parameter: the default cell (no threshold in its name) joins its group
"$hb" compare known.csv --by threshold --ref 700 --metrics wall_s --format csv > th.csv
python3 - th.csv <<'PY' && ok || bad "--by threshold"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["row"] == "cell"]
assert {r["cell"] for r in rows} == {"cycles/system/rcgen/isolated/t1/small/threshold=*"}, rows
assert [r["threshold"] for r in rows] == ["5000", "700", "100"], [r["threshold"] for r in rows]
assert [r["verdict"] for r in rows] == ["better", "", "worse"], rows
assert abs(float(rows[2]["ratio"]) - 1.5) < 0.05
PY
"$hb" compare known.csv --by threshold --metrics wall_s > th.txt
grep -q "reference's median (threshold 100)" th.txt && ok || bad "default --ref of a parameter: $(head -2 th.txt)"
grep -q "cells without the parameter threshold: left out" th.txt && ok || bad "cells without it not counted"
"$hb" compare known.csv --by threads --ref t2 --metrics wall_s --format csv > t.csv
grep -q '^cell,wall_s,churn/arena/none/isolated/t\*/small,1,1,2,' t.csv && ok || bad "--by threads: $(sed -n 2p t.csv)"
"$hb" compare known.csv --by workload --metrics wall_s > wl.txt
grep -q "^larson/arena/none/isolated/t1/small: no cell with workload" wl.txt && bad "wrong note" || ok
grep -q "larson" wl.txt && grep -q "reference's median (workload churn)" wl.txt && ok || bad "--by workload: $(head -3 wl.txt)"

# a cell with no ok rows, and a group without the reference: named with why
python3 - known.csv holes.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), rows[0].keys(), lineterminator="\n")
w.writeheader()
for r in rows:
    if r["cell"] == "larson/system/none/isolated/t2/small":
        continue
    if r["cell"] == "churn/freelist/none/isolated/t2/small":
        r["status"], r["error"], r["wall_s"], r["ops_per_s"] = "crashed", "signal 11", "", ""
    w.writerow(r)
PY
"$hb" compare holes.csv --by allocator --metrics wall_s > holes.txt
grep -q "^  larson/\*/none/isolated/t2/small: no cell with allocator system$" holes.txt && ok || bad "no ref: $(tail -5 holes.txt)"
grep -q "^  churn/freelist/none/isolated/t2/small: 8 rows, none ok (holes.csv:[0-9]*: crashed: signal 11)$" holes.txt \
    && ok || bad "no ok rows: $(tail -5 holes.txt)"

# few repetitions: said so, as in the two-file compare
"$hb" compare real.csv --by allocator > real.txt && grep -q "note: with 3 and 3 repetitions no cell can show" real.txt \
    && ok || bad "reps note: $(head -3 real.txt)"

# ---- --paired: rows matched by run_id and rep. The machine drifts from
# one repetition to the next (every allocator's time times 1, 1.6, 0.7...)
# and arena is 1.05 times system within each: unpaired, the drift swamps
# it; paired, the ratio is 1.050 with a tight interval and a significant p.
python3 - real.csv drift.csv <<'PY'
import csv, sys
hdr = next(csv.reader(open(sys.argv[1])))
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), hdr, lineterminator="\n")
w.writeheader()
drift = [1.0, 1.6, 0.7, 1.3, 0.9, 1.45, 0.8, 1.15, 1.05, 0.75, 1.25, 0.95]
for run in ("r1", "r2"):  # two runs: rep 0..5 in each, keys are (run_id, rep)
    for rep in range(6):
        d = drift[rep + (6 if run == "r2" else 0)]
        for a, f in (("system", 1.0), ("arena", 1.05)):
            r = {k: "" for k in hdr}
            r.update(run_id=run, cell="churn/%s/none/isolated/t1/small" % a, workload="churn", size="small",
                     params="ops=100000", allocator=a, collector="none", heap="isolated", threads="1", rep=str(rep),
                     status="ok", ops="100000", wall_s="%.9f" % (0.1 * d * f))
            w.writerow(r)
PY
"$hb" compare drift.csv --by allocator --metrics wall_s > unpaired.txt && \
    "$hb" compare drift.csv --by allocator --metrics wall_s --paired > paired.txt && \
    "$hb" compare drift.csv --by allocator --metrics wall_s --paired --format csv > paired.csv && ok \
    || bad "--paired exit status"
grep -Eq "^ +[0-9] +arena +12 +[0-9.]+ +1\.050  \[0\.[0-9]+, 1\.[0-9]+\] +0\.[0-9]+  ~$" unpaired.txt && ok \
    || bad "unpaired: the drift hides 5%: $(grep arena unpaired.txt)"
grep -Eq "^ +[0-9] +arena +12 +[0-9.]+ +1\.050  \[1\.050, 1\.050\] +0\.00[0-9]  worse$" paired.txt && ok \
    || bad "paired: $(grep arena paired.txt)"
grep -q "paired by run and repetition: Hodges-Lehmann estimate of the pairs' log ratios" paired.txt && \
    ! grep -q "Mann-Whitney" paired.txt && ok || bad "paired header: $(head -2 paired.txt)"
grep -q "^cell,wall_s,churn/\*/none/isolated/t1/small,[0-9],arena,system,12,12,.*,worse,paired$" paired.csv && ok \
    || bad "paired csv: $(grep arena paired.csv)"
# a repetition twice on one side cannot be paired: compared unpaired, and said
sed 's/^r2,\(churn\/arena[^,]*\),\(.*\),\([0-9]\),ok,/r1,\1,\2,\3,ok,/' drift.csv > dup.csv
"$hb" compare dup.csv --by allocator --metrics wall_s --paired > dup.txt && \
    grep -q "paired: 0 of the 1 tests; the rest unpaired" dup.txt && grep -q "Mann-Whitney" dup.txt && ok \
    || bad "a key twice: $(head -3 dup.txt)"
# 5 pairs have no 95% signed-rank interval: compared unpaired, and said
{ head -1 drift.csv; grep '^r1,' drift.csv | grep -v ',5,ok,'; } > five.csv
"$hb" compare five.csv --by allocator --metrics wall_s --paired > five.txt && \
    grep -q "paired: 0 of the 1 tests; the rest unpaired (each side's rows need the same run_id and rep, at least 6" \
    five.txt && grep -Eq "^ +[0-9] +arena +5 " five.txt && ok || bad "5 pairs: $(head -3 five.txt)"
expect2 "--paired without --by" compare drift.csv drift.csv --paired

# ---- refusals: exit 2, one line
expect2 "unknown dimension" compare known.csv --by colour
grep -q "valid: allocator, collector, workload, threads, heap, size, or a parameter of known.csv (ops, threshold)" \
    err.txt && ok || bad "the valid dimensions: $(cat err.txt)"
expect2 "unknown reference" compare known.csv --by allocator --ref tcmalloc
grep -q "has no such allocator; it has: arena, freelist, jemalloc, system" err.txt && ok || bad "ref: $(cat err.txt)"
expect2 "--ref without --by" compare known.csv known.csv --ref system
expect2 "--by with two files" compare known.csv known.csv --by allocator
expect2 "--by without a value" compare known.csv --by
expect2 "bad format" compare known.csv --by allocator --format html
expect2 "missing file" compare nosuch.csv --by allocator

finish
