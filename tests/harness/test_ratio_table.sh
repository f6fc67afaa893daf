#!/usr/bin/env bash
# scripts/ratio-table.py --targets (issue 15's table, alloc-table.sh): a
# synthetic results file where arena meets the targets and freelist misses
# them, by known ratios: the verdicts, the geometric means, the worst cell.
#   test_ratio_table.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
rt=$here/../../scripts/ratio-table.py
python3 - <<'PY'
import csv
cols = ["run_id", "cell", "workload", "size", "params", "allocator", "collector", "heap", "threads",
        "rep", "status", "error", "wall_s", "user_s", "sys_s", "peak_rss_kb"]
# per workload: the best reference (tcmalloc) 1.0 s and 100 MB; arena 0.9x
# time and 1.0x RSS everywhere; freelist 1.2x time on b (geomean
# sqrt(0.9*1.2)=1.039) and 1.6x RSS on a
t = {"a": {"jemalloc": 2.0, "mimalloc": 1.5, "tcmalloc": 1.0, "arena": 0.9, "freelist": 0.9},
     "b": {"jemalloc": 2.0, "mimalloc": 1.5, "tcmalloc": 1.0, "arena": 0.9, "freelist": 1.2}}
m = {"a": {"freelist": 160000}, "b": {}}
with open("syn.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(cols)
    for wl in "ab":
        for a, v in t[wl].items():
            for rep in range(3):
                # arena's repetitions on a spread by +-10% around the same median
                x = v * (0.9, 1.0, 1.1)[rep] if (wl, a) == ("a", "arena") else v
                w.writerow(["r", f"{wl}/{a}", wl, "medium", "", a, "none", "isolated", 1, rep, "ok", "",
                            x, x * 0.9, x * 0.1, m[wl].get(a, 100000)])
PY
python3 "$rt" syn.csv --targets arena,freelist > out.txt 2> err.txt
[ $? = 0 ] && [ ! -s err.txt ] && ok || bad "exit status or stderr: $(cat err.txt)"
grep -q "target arena: geomean 0.90 (<= 1.00), worst 0.90 in a t1 medium (<= 1.10): met$" out.txt \
    && ok || bad "arena wall_s: $(grep 'target arena' out.txt | head -1)"
grep -q "target freelist: geomean 1.04 (<= 1.00), worst 1.20 in b t1 medium (<= 1.10): MISSED$" out.txt \
    && ok || bad "freelist wall_s: $(grep 'target freelist' out.txt | head -1)"
grep -q "target freelist: geomean 1.26 (<= 1.00), worst 1.60 in a t1 medium (<= 1.50): MISSED$" out.txt \
    && ok || bad "freelist peak_rss_kb: $(grep 'target freelist' out.txt | tail -1)"
grep -q "target arena: geomean 1.00 (<= 1.00), worst 1.00 in a t1 medium (<= 1.50): met$" out.txt \
    && ok || bad "arena peak_rss_kb: $(grep 'target arena' out.txt | tail -1)"
# --spread: each ratio with half its repetitions' range over the median
python3 "$rt" syn.csv --spread --metrics wall_s > spread.txt || bad "--spread exit status"
grep -Eq "^a t1 medium +1 +.* 0\.90 +±10% +0\.90 +±0% " spread.txt && ok || bad "--spread row a: $(grep '^a t1' spread.txt)"
grep -q "target" spread.txt && bad "verdicts without --targets" || ok
# from 9 repetitions the spread is the median's 95% interval, which leaves
# the extremes out: 9 runs at 0.5, 0.98, 0.99, 1.0 x3, 1.01, 1.02, 3.0 of
# the reference read ±2% (the 2nd to the 8th), not their range's ±125%
python3 - <<'PY'
import csv
rows = list(csv.reader(open("syn.csv")))
with open("nine.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(rows[0])
    for rep, x in enumerate((0.5, 0.98, 0.99, 1.0, 1.0, 1.0, 1.01, 1.02, 3.0)):
        for a, v in (("tcmalloc", 1.0), ("arena", x)):
            w.writerow(["r", f"n/{a}", "n", "medium", "", a, "none", "isolated", 1, rep, "ok", "", v, v, 0, 1000])
PY
python3 "$rt" nine.csv --spread --metrics wall_s --best tcmalloc > nine.txt || bad "--spread nine exit status"
grep -Eq "^n t1 medium +1 +.* 1\.00 +±2% " nine.txt && ok || bad "--spread from 9 runs: $(grep '^n t1' nine.txt)"
# a geometric mean just over the limit is not printed as the limit: 1.003
python3 - <<'PY'
import csv
rows = list(csv.DictReader(open("syn.csv")))
for r in rows:
    if r["allocator"] == "arena":
        r["peak_rss_kb"] = "100600" if r["workload"] == "a" else "100000"
with open("near.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    w.writerows(rows)
PY
python3 "$rt" near.csv --targets arena --metrics peak_rss_kb > near.txt
grep -q "target arena: geomean 1.003 (<= 1.00), worst 1.01 in a t1 medium (<= 1.50): MISSED$" near.txt \
    && ok || bad "near the limit: $(grep 'target arena' near.txt)"
# --paired: each repetition over the best reference's same repetition. The
# reference drifts (1, 1, 2 s) and arena's first repetition is slow: the
# ratio of medians says 1.50, the median of the pairs (1.5, 1.05, 1.05) 1.05
python3 - <<'PY'
import csv
cols = ["run_id", "cell", "workload", "size", "params", "allocator", "collector", "heap", "threads",
        "rep", "status", "error", "wall_s", "user_s", "sys_s", "peak_rss_kb"]
t = {"tcmalloc": (1.0, 1.0, 2.0), "mimalloc": (3.0, 3.0, 3.0), "arena": (1.5, 1.05, 2.1)}
with open("pairs.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(cols)
    for a, xs in t.items():
        for rep, x in enumerate(xs):
            w.writerow(["r", f"p/{a}", "p", "medium", "", a, "none", "isolated", 1, rep, "ok", "",
                        x, x, 0, 1000])
PY
python3 "$rt" pairs.csv --metrics wall_s > unpaired.txt && python3 "$rt" pairs.csv --metrics wall_s --paired --spread > paired.txt \
    || bad "--paired exit status"
grep -Eq "^p t1 medium +1 +1\.50 " unpaired.txt && ok || bad "ratio of medians: $(grep '^p t1' unpaired.txt)"
grep -Eq "^p t1 medium +1 +1\.05 +±21% +3\.00 +±25% +1\.00 +±0%$" paired.txt && ok || bad "--paired: $(grep '^p t1' paired.txt)"
grep -q "ratio = median of each repetition's ratio" paired.txt && ok || bad "--paired header: $(head -1 paired.txt)"
# without --targets: no verdict lines
python3 "$rt" syn.csv > plain.txt && ! grep -q target plain.txt && ok || bad "verdicts without --targets"
# rows of run --steady: a line with the runs thrown away and the host's readings
python3 - <<'PY'
import csv
rows = list(csv.DictReader(open("syn.csv")))
with open("steady.csv", "w", newline="") as f:
    w = csv.DictWriter(f, list(rows[0]) + ["host_slow", "retakes"])
    w.writeheader()
    for i, r in enumerate(rows):  # 30 rows: retakes 1 on every tenth, host_slow 1.00 .. 1.29
        w.writerow(dict(r, host_slow=f"{1 + i / 100:.2f}", retakes=1 if i % 10 == 0 else 0))
PY
python3 "$rt" steady.csv > steady.txt
grep -qx "host (run --steady, 30 of 30 rows): 3 runs thrown away for a slow host; host_slow median 1.15, max 1.29" \
    steady.txt && ok || bad "host line: $(grep host steady.txt)"
! grep -q "^host" plain.txt && ok || bad "a host line without --steady's columns"
finish
