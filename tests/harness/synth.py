#!/usr/bin/env python3
# Results files with known differences, for test_compare.sh and
# test_regress.sh: the rows of a real results file (its schema, its
# identity columns) with wall_s, ops_per_s and counts replaced by values
# drawn around known medians, so that the tests know the answer.
#   synth.py REAL.csv OUT.csv REPS SEED [CELL_SUBSTRING=FACTOR ...] [allocs:CELL=DELTA] [crash:CELL]
import csv, random, sys
src, out, reps, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
slow, allocs, crash = {}, {}, set()
for a in sys.argv[5:]:
    if a.startswith("allocs:"):
        k, v = a[7:].split("=")
        allocs[k] = int(v)
    elif a.startswith("crash:"):
        crash.add(a[6:])
    else:
        k, v = a.split("=")
        slow[k] = float(v)
rows = list(csv.DictReader(open(src)))
hdr = list(rows[0].keys())
rnd = random.Random(seed)
cells = []
for r in rows:
    if r["status"] == "ok" and r["cell"] not in [c["cell"] for c in cells]:
        cells.append(r)
w = csv.DictWriter(open(out, "w", newline=""), hdr, lineterminator="\n")
w.writeheader()
for i, base in enumerate(cells):
    for rep in range(reps):
        r = dict(base)
        r["rep"] = str(rep)
        f = 1.0
        for k, v in slow.items():
            if k in r["cell"]:
                f = v
        wall = (0.1 + 0.01 * i) * f * (1 + rnd.gauss(0, 0.01))
        r["wall_s"] = "%.9f" % wall
        r["ops_per_s"] = "%.1f" % (int(r["ops"]) / wall)
        for k, v in allocs.items():
            if k in r["cell"]:
                r["allocs"] = str(int(r["allocs"]) + v)
        if any(k in r["cell"] for k in crash) and rep == 1:
            for c in ("ops", "allocs", "frees", "wall_s", "user_s", "sys_s", "ops_per_s", "peak_rss_kb",
                      "final_rss_kb", "peak_live_bytes"):
                r[c] = ""
            r["status"], r["error"] = "crashed", "signal 11 (Segmentation fault)"
        w.writerow(r)
