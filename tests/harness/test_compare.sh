#!/usr/bin/env bash
# `heapbench compare`: a real results file against itself (no differences,
# ratios 1), and files with known differences (synth.py: one cell 30% slower,
# cells only in one file, a cell with no ok rows): the verdicts, Holm's
# correction, the geometric mean, the three formats, colour only on a
# terminal; bad input refused with exit 2 and one line.
#   test_compare.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
cp "$here"/data/small.csv real.csv

# ---- a real file against itself
"$hb" compare real.csv real.csv > self.txt 2> self.err
[ $? = 0 ] && [ ! -s self.err ] && ok || bad "self compare: $(cat self.err)"
grep -q "geometric mean of the ratios over [0-9]* cells: 1.000" self.txt && ok || bad "self geomean"
grep -Eq ' (better|worse)$' self.txt && bad "a difference found in a file against itself" || ok
grep -q "^wall_s" self.txt && grep -q "^ops_per_s" self.txt && grep -q "^pause_p99_us" self.txt \
    && grep -q "^peak_rss_kb" self.txt && ok || bad "a metric section is missing: $(grep -v '^ ' self.txt)"
# 3 repetitions cannot reach significance after Holm: said so
grep -q "note: with 3 and 3 repetitions no cell can show a difference" self.txt && ok || bad "no reps note"
"$hb" compare real.csv real.csv --format csv > self.csv
python3 - self.csv <<'PY' && ok || bad "csv format"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cells = [r for r in rows if r["row"] == "cell"]
assert cells and all(float(r["ratio"]) == 1.0 for r in cells), "ratio 1"
assert all(r["verdict"] == "~" for r in cells)
p = [r for r in cells if r["metric"] == "pause_p99_us"]
assert p and all("/none/" not in r["cell"] for r in p), "pause rows for allocator-only cells"
assert {r["metric"] for r in rows if r["row"] == "geomean"} == {"wall_s", "ops_per_s", "pause_p99_us", "peak_rss_kb"}
PY
"$hb" compare real.csv real.csv --format markdown > self.md
grep -q '^| cell | n A/B | median A' self.md && grep -q '^### wall time' self.md && ok || bad "markdown"
grep -q $'\033' self.txt && bad "colour escapes when not a terminal" || ok
if command -v script > /dev/null; then
    script -qec "$hb compare real.csv real.csv" /dev/null > tty.txt 2>&1
    grep -q $'\033\[1m' tty.txt && ok || bad "no colour on a terminal"
    NO_COLOR=1 script -qec "$hb compare real.csv real.csv" /dev/null > nocolor.txt 2>&1
    grep -q $'\033' nocolor.txt && bad "colour despite NO_COLOR" || ok
fi

# ---- known differences: 8 repetitions a side, churn/arena/t1 30% slower in B
python3 "$here"/synth.py real.csv a.csv 8 1
python3 "$here"/synth.py real.csv b.csv 8 2 churn/arena/none/isolated/t1=1.3 crash:cycles/arena/rcgen/isolated/t2
# a cell only in A, one only in B, one with no ok rows in B
python3 - a.csv b.csv <<'PY'
import csv, sys
def edit(path, fn):
    rows = list(csv.reader(open(path)))
    hdr = rows[0]
    rows = [rows[0]] + [fn(hdr, r) for r in rows[1:]]
    csv.writer(open(path, "w", newline=""), lineterminator="\n").writerows([r for r in rows if r])
edit(sys.argv[1], lambda h, r: [c.replace("xthread/arena/", "xthread/onlya/") for c in r])
def b(h, r):
    r = [c.replace("xthread/system/", "xthread/onlyb/") for c in r]
    if "/system/marksweep/isolated/t1/" in r[h.index("cell")]:
        r[h.index("status")], r[h.index("error")] = "timeout", "over 600 s"
    return r
edit(sys.argv[2], b)
PY
"$hb" compare a.csv b.csv > ab.txt 2> ab.err
[ $? = 0 ] && ok || bad "compare a b: $(cat ab.err)"
grep -E "^  churn/arena/none/isolated/t1/small/ops=4000 .* 1\.[23][0-9]* .* worse" ab.txt | grep -q . && ok \
    || bad "the slower cell is not 'worse': $(grep churn/arena ab.txt)"
[ "$(grep -c ' worse' ab.txt)" = 2 ] && ok || bad "want 2 worse (wall_s and ops_per_s): $(grep -c ' worse' ab.txt)"
grep -q ' better$' ab.txt && bad "a better cell where none is" || ok
grep -q "xthread/onlya/none/isolated/t2/small/ops=4000: only in a.csv" ab.txt && ok || bad "only in A not listed"
grep -q "xthread/onlyb/none/isolated/t2/small/ops=4000: only in b.csv" ab.txt && ok || bad "only in B not listed"
grep -q "cycles/system/marksweep/isolated/t1/small/ops=4000: B: 8 rows, none ok (b.csv:[0-9]*: timeout: over 600 s)" \
    ab.txt && ok || bad "no-ok cell not listed: $(grep -A5 'not compared' ab.txt)"
"$hb" compare a.csv b.csv --format csv > ab.csv
python3 - ab.csv <<'PY' && ok || bad "csv of a b"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cells = [r for r in rows if r["row"] == "cell" and r["metric"] == "wall_s"]
w = [r for r in cells if r["verdict"] == "worse"]
assert len(w) == 1 and "churn/arena/none/isolated/t1" in w[0]["cell"], w
assert float(w[0]["ci_lo"]) > 1.2 and float(w[0]["p_holm"]) < 0.05
# Holm: adjusted p never below the raw one
assert all(float(r["p_holm"]) >= float(r["p"]) - 1e-12 for r in rows if r["row"] == "cell")
g = [r for r in rows if r["row"] == "geomean" and r["metric"] == "wall_s"][0]
ratios = [float(r["ratio"]) for r in cells]
assert abs(float(g["ratio"]) - math.exp(sum(map(math.log, ratios)) / len(ratios))) < 1e-4
kinds = {r["row"] for r in rows}
assert {"only_a", "only_b", "not_compared"} <= kinds, kinds
PY
"$hb" compare a.csv b.csv --metrics wall_s > m.txt && ! grep -q '^ops_per_s' m.txt && ok || bad "--metrics"

# ---- refusals: exit 2, one line
expect2 "one file" compare a.csv
expect2 "three files" compare a.csv b.csv a.csv
expect2 "missing file" compare a.csv nosuch.csv
expect2 "bad format" compare a.csv b.csv --format html
expect2 "bad metric" compare a.csv b.csv --metrics speed
expect2 "unknown option" compare a.csv b.csv --frobnicate
{ head -3 a.csv; printf '"open\n'; } > broken.csv
expect2 "malformed" compare a.csv broken.csv
grep -q "broken.csv:4" err.txt && ok || bad "malformed: no file:line: $(cat err.txt)"
python3 - a.csv nonum.csv <<'PY'
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
r[2][r[0].index("wall_s")] = "fast"
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(r)
PY
expect2 "not a number" compare a.csv nonum.csv
grep -q "nonum.csv:3: wall_s: 'fast' is not a decimal number" err.txt && ok || bad "not a number: $(cat err.txt)"
printf 'x,y\n1,2\n' > other.csv
expect2 "not a results file" compare a.csv other.csv

finish
