#!/usr/bin/env bash
# Explicit and automatic collections (issue 17's "largest automatic pause"):
# NAME.pauses.csv's column `explicit` (1: hb_collect / gc.collect() asked
# for it, 0: the collector's own), the row's pause_max_auto_us (the largest
# automatic pause, empty when there was none) beside pause_max_us (every
# pause, unchanged), the JSON counter; files written before the columns
# (data/small.*) still read by compare, regress, merge (their new fields
# empty: unknown, not 0), plot and report; a flag that is not 0 or 1 refused.
#   test_pause_kinds.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
cp "$here"/data/small.csv "$here"/data/small.pauses.csv "$here"/data/small.rss.csv .

# ---- a run: every backend that collects by itself; rcgen with a threshold
# no run reaches, whose one collection is the closing gc.collect() (cwl.h)
"$hb" run --workloads cycles --param ops=4000 --collectors rcgen,rcinc,marksweep,boehm --allocators system \
    --threads 1 --reps 3 --warmup 0 --out new.csv > /dev/null 2> run.err \
    && "$hb" run --workloads server --param threshold=1000000 --collectors rcgen --allocators system --threads 1 \
        --reps 1 --warmup 0 --out new.csv > /dev/null 2>> run.err && ok || bad "run: $(tail -3 run.err)"
python3 - <<'PY' && ok || bad "explicit and pause_max_auto_us"
import collections, csv, json
head = open("new.pauses.csv").readline().strip()
assert head.endswith(",ttsp_us,explicit"), head
rows = list(csv.DictReader(open("new.csv")))
cols = list(rows[0])
assert cols[cols.index("gc2_uncollectable") + 1] == "pause_max_auto_us", cols[-4:]
pauses = collections.defaultdict(list)
for p in csv.DictReader(open("new.pauses.csv")):
    pauses[p["cell"], p["rep"]].append(p)
with_auto = 0
for r in rows:
    assert r["status"] == "ok", (r["cell"], r["error"])
    p = pauses[r["cell"], r["rep"]]
    assert len(p) == int(r["gc_count"]) >= 1, (r["cell"], len(p), r["gc_count"])
    assert all(x["explicit"] in ("0", "1") for x in p), r["cell"]
    assert p[-1]["explicit"] == "1", ("the closing gc.collect() is explicit", r["cell"])
    d = [float(x["duration_us"]) for x in p]
    auto = [float(x["duration_us"]) for x in p if x["explicit"] == "0"]
    assert float(r["pause_max_us"]) == max(d), ("pause_max_us is over every pause", r["cell"])
    if auto:
        with_auto += 1
        assert float(r["pause_max_auto_us"]) == max(auto), (r["cell"], r["pause_max_auto_us"], max(auto))
    else:
        assert r["pause_max_auto_us"] == "", ("no automatic pause: empty", r["cell"], r["pause_max_auto_us"])
assert with_auto >= 4 * 3, ("each backend collects by itself on cycles", with_auto)
only = [r for r in rows if r["workload"] == "server"]
assert len(only) == 1 and only[0]["gc_count"] == "1" and only[0]["pause_max_auto_us"] == "" \
    and only[0]["pause_max_us"] != "", only
# the JSON: a counter where the row has the figure, none where it is empty
bench = [b for b in json.load(open("new.json"))["benchmarks"] if b["run_type"] == "iteration"]
assert all(("pause_max_auto_us" in b) == (b["name"].startswith("cycles/")) for b in bench), \
    [(b["name"], b.get("pause_max_auto_us")) for b in bench]
PY

# ---- compare and regress: an older file (no pause_max_auto_us) against a new one
"$hb" compare small.csv new.csv --metrics pause_max_us,pause_max_auto_us > cmp.txt 2> cmp.err \
    && grep -q 'cycles/system/rcgen/isolated/t1/small/ops=4000 *3/3' cmp.txt && ok \
    || bad "compare an old file with a new one: $(cat cmp.err)"
"$hb" compare new.csv new.csv --metrics pause_max_auto_us > cmp2.txt 2> cmp.err \
    && grep -q '^pause_max_auto_us (automatic pause max, us' cmp2.txt && ok \
    || bad "compare by pause_max_auto_us: $(cat cmp.err)"
"$hb" regress --baseline small.csv --candidate new.csv --metrics pause_max_us,pause_max_auto_us > reg.txt 2> reg.err
[ $? -le 1 ] && grep -q '2 cells compared' reg.txt && ok || bad "regress from an old baseline: $(cat reg.err)"

# ---- merge: the old rows' new fields empty (unknown), the new ones kept
"$hb" merge all.csv small.csv new.csv --force > /dev/null 2> merge.err && python3 - <<'PY' && ok \
    || bad "merge of an old and a new set: $(cat merge.err)"
import csv
old = list(csv.DictReader(open("small.csv")))
out = list(csv.DictReader(open("all.csv")))
assert "pause_max_auto_us" not in old[0]
assert all(r["pause_max_auto_us"] == "" for r in out[:len(old)])
assert any(r["pause_max_auto_us"] != "" for r in out[len(old):])
p = list(csv.DictReader(open("all.pauses.csv")))
n_old = len(list(csv.DictReader(open("small.pauses.csv"))))
assert all(x["explicit"] == "" for x in p[:n_old]), "an old pause is neither explicit nor automatic: unknown"
assert all(x["explicit"] in ("0", "1") for x in p[n_old:]) and len(p) > n_old
PY

# ---- plot and report read the old set, and the merged one
if command -v gnuplot > /dev/null; then
    "$hb" plot small.csv --out fig-old > /dev/null 2> plot.err && ls fig-old/pause_cdf-* > /dev/null 2>&1 \
        && "$hb" plot all.csv --out fig-all > /dev/null 2>> plot.err && ls fig-all/pause_cdf-* > /dev/null 2>&1 \
        && ok || bad "plot an old and a merged set: $(tail -3 plot.err)"
fi
"$hb" report small.csv --out old.html > /dev/null 2> rep.err && "$hb" report all.csv --out all.html > /dev/null 2>> rep.err \
    && grep -q '<th>automatic pause max<br>' all.html && ok || bad "report an old and a merged set: $(tail -3 rep.err)"

# ---- a flag that is neither 0 nor 1: the companion is refused (merge reads it)
cp new.csv bad.csv && cp new.rss.csv bad.rss.csv
awk -F, -v OFS=, 'NR == 2 { $NF = 2 } { print }' new.pauses.csv > bad.pauses.csv
expect2 "explicit = 2" merge bad2.csv bad.csv \
    && { grep -q "explicit: '2' is neither 0 nor 1" err.txt || bad "explicit = 2: $(cat err.txt)"; }
finish
