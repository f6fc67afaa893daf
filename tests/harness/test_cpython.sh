#!/usr/bin/env bash
# The collector cpython (harness/cpython.c): rows for every collector
# workload with a Python form and skipped rows for the others, pauses in the
# companion and their figures computed from it, gc.get_stats() columns,
# pymalloc as the default and a preloaded allocator under PYTHONMALLOC=malloc,
# a failing self-check and an inconsistent report making failed rows.
#   test_cpython.sh HEAPBENCH WORKDIR
# Exit 77 (skipped) without Debian's python3 3.11.
. "$(dirname "$0")/lib.sh" "$@"
src=$here/../../workloads/python
ver=$(/usr/bin/python3 -c 'import sys; print(sys.implementation.name, *sys.version_info[:2])' 2>/dev/null)
if [ "$ver" != "cpython 3 11" ]; then
    echo "skipped: /usr/bin/python3 is not CPython 3.11 ($ver)"
    exit 77
fi

# ---- listed
"$hb" list > list.txt
grep -qE '^collector +cpython ' list.txt && grep -qE '^allocator +pymalloc ' list.txt && ok \
    || bad "list shows collector cpython and allocator pymalloc"

# ---- every collector workload: ok where a form exists, skipped (said why) where not
# (allocator pymalloc named: the allocator-only workloads are skipped rows
# on it, at once; cpython's default allocator is checked further down)
wls=$(awk '$1 == "workload" { print $2 }' list.txt | paste -sd, -)
"$hb" run --workloads "$wls" --collectors cpython --allocators pymalloc --threads 1 --warmup 0 --out all.csv \
    > /dev/null 2> all.err
[ $? = 0 ] && ok || bad "cpython over every workload: $(tail -3 all.err)"
FORMS="$(cd "$src" && ls *.py | grep -v '^hbgc.py$' | sed 's/\.py$//' | paste -sd, -)" python3 - <<'PY' && ok || bad "cpython rows, pauses and figures"
import csv, math, os
forms = set(os.environ["FORMS"].split(","))
rows = [r for r in csv.DictReader(open("all.csv")) if r["collector"] != "none"]
seen = set()
for r in rows:
    w = r["workload"]
    assert r["collector"] == "cpython" and r["allocator"] == "pymalloc", r["cell"]
    if w not in forms:
        # (handoff needs two threads: that is said first)
        assert r["status"] == "skipped" and ("no Python form" in r["error"] or "threads" in r["error"]), \
            (r["cell"], r["status"], r["error"])
        continue
    seen.add(w)
    assert r["status"] == "ok", (r["cell"], r["error"])
    assert r["allocator_lib"] == "" and r["threads"] == "1", r["cell"]
    w_s, p_s = float(r["wall_s"]), float(r["process_s"])
    assert 0 < w_s < p_s, ("the form's own time is inside the process's", w_s, p_s)
    assert int(r["ops"]) > 0 and float(r["ops_per_s"]) > 0
    assert int(r["peak_rss_kb"]) > 1000 and r["leaked_objects"] == "0", r["cell"]
    gens = [int(r["gc%d_collections" % g]) for g in range(3)]
    assert sum(gens) == int(r["gc_count"]) >= 1, (r["cell"], gens, r["gc_count"])
    collected = sum(int(r["gc%d_collected" % g]) for g in range(3))
    assert collected == int(r["collected_objects"]), r["cell"]
    # the companion: one line per collection, and the row's figures are its
    ps = [p for p in csv.DictReader(open("all.pauses.csv")) if p["cell"] == r["cell"] and p["rep"] == r["rep"]]
    assert len(ps) == int(r["gc_count"]), (r["cell"], len(ps))
    d = sorted(float(p["duration_us"]) for p in ps)
    assert all(p["examined"] == "" and p["generation"] in "012" and p["freed"] != "" for p in ps), r["cell"]
    assert [sum(p["generation"] == str(g) for p in ps) for g in range(3)] == gens, r["cell"]
    assert 0 < float(ps[0]["start_ms"]) and float(ps[-1]["start_ms"]) < p_s * 1000, r["cell"]
    assert abs(d[-1] - float(r["pause_max_us"])) < 0.01, (r["cell"], d[-1], r["pause_max_us"])
    # explicit: the form's gc.collect() calls, its closing one last; pause_max_auto_us the others' largest
    assert all(p["explicit"] in ("0", "1") for p in ps) and ps[-1]["explicit"] == "1", r["cell"]
    auto = [float(p["duration_us"]) for p in ps if p["explicit"] == "0"]
    assert (abs(max(auto) - float(r["pause_max_auto_us"])) < 0.01 if auto else r["pause_max_auto_us"] == ""), \
        (r["cell"], r["pause_max_auto_us"])
    if w == "gc_cycles":  # a gc.collect() per ring, beside CPython's own collections
        assert 1 < sum(p["explicit"] == "1" for p in ps) < len(ps), r["cell"]
    p99 = d[max(0, math.ceil(0.99 * len(d)) - 1)]
    assert abs(p99 - float(r["pause_p99_us"])) < 0.01, (r["cell"], p99, r["pause_p99_us"])
    assert abs(sum(d) / 1000 - float(r["pause_total_ms"])) < 0.01, r["cell"]
    assert 0 <= float(r["mmu_1ms"]) <= float(r["mmu_10ms"]) <= 1, r["cell"]
    s = [x for x in csv.DictReader(open("all.rss.csv")) if x["cell"] == r["cell"]]
    assert len(s) >= 2 and max(int(x["rss_bytes"]) for x in s) // 1024 <= int(r["peak_rss_kb"]), r["cell"]
assert seen == forms, ("a form without rows, or rows of no form", forms ^ seen)
PY

# ---- beside rcgen, on named allocators: pymalloc only under cpython,
# preloaded jemalloc under PYTHONMALLOC=malloc, the same ops and schedule
PYTHONMALLOC=malloc "$hb" run --workloads binary_trees,selfref --collectors rcgen,cpython \
    --allocators system,jemalloc,pymalloc --threads 1 --warmup 0 --out side.csv > /dev/null 2> side.err
[ $? = 0 ] && ok || bad "rcgen and cpython side by side: $(tail -3 side.err)"
python3 - <<'PY' && ok || bad "allocators of cpython rows"
import csv
rows = {r["cell"]: r for r in csv.DictReader(open("side.csv"))}
for w in ("binary_trees", "selfref"):
    c = lambda a, g: rows["%s/%s/%s/isolated/t1/small" % (w, a, g)]
    sk = c("pymalloc", "rcgen")
    assert sk["status"] == "skipped" and "only collector cpython" in sk["error"], sk["error"]
    # PYTHONMALLOC=malloc in our environment does not reach a pymalloc cell
    assert c("pymalloc", "cpython")["status"] == "ok" and c("pymalloc", "cpython")["allocator_lib"] == ""
    je = c("jemalloc", "cpython")
    assert je["status"] == "ok" and "libjemalloc" in je["allocator_lib"] and je["allocator_lib_id"], je["error"]
    assert c("system", "cpython")["status"] == "ok" and c("system", "cpython")["allocator_lib"] == ""
    assert len({c(a, g)["ops"] for a in ("system", "jemalloc") for g in ("rcgen", "cpython")}) == 1, w
# binary_trees at CPython's thresholds: rcgen's schedule is CPython's (docs/collectors.md, fidelity)
bt = [rows["binary_trees/%s/isolated/t1/small" % k] for k in ("system/rcgen", "pymalloc/cpython")]
for col in ("gc0_collections", "gc1_collections", "gc2_collections"):
    assert bt[0][col] == bt[1][col], (col, bt[0][col], bt[1][col])
PY

# the report puts each cpython cell beside rcgen's; the pause figures have a cpython panel
"$hb" report side.csv --out side.html > /dev/null 2> rep.err && grep -q 'beside rcgen on system' side.html \
    && grep -q '<td>selfref/system/rcgen/isolated/t1/small</td><td>rcgen</td>' side.html \
    && grep -q '<td>selfref/pymalloc/cpython/isolated/t1/small</td><td>cpython</td>' side.html \
    && grep -q '<th class="n">pause_max_us</th><th class="n">pause_max_auto_us</th>' side.html \
    && ok || bad "report: cpython beside rcgen: $(tail -2 rep.err)"
if command -v gnuplot > /dev/null; then
    "$hb" plot side.csv --out fig > /dev/null 2>&1 && grep -qi 'cpython' fig/data/*pause_cdf-selfref* \
        && [ -s fig/pause_cdf-selfref_t1_small.png ] && [ -s fig/mmu-selfref_t1_small.png ] \
        && ok || bad "plot: the pause CDF and MMU of cpython: $(ls fig/data | head -5)"
fi

# ---- --param threshold reaches the interpreter; keys of our collectors do not multiply its cells
"$hb" run --workloads selfref --collectors cpython,marksweep --gc-allocators system --threads 1 --param threshold=100,700 \
    --param grow_pct=150,200 --warmup 0 --out th.csv > /dev/null 2>&1 && python3 - <<'PY' && ok || bad "thresholds under cpython"
import csv
rows = list(csv.DictReader(open("th.csv")))
ms = [r for r in rows if r["collector"] == "marksweep"]
assert sorted(r["params"].split(";")[-1] for r in ms) == ["grow_pct=150", "grow_pct=200"], [r["cell"] for r in ms]
rows = [r for r in rows if r["collector"] == "cpython"]
assert len(rows) == 2, [r["cell"] for r in rows]
g0 = {r["params"].split(";")[-1]: int(r["gc0_collections"]) for r in rows}
assert g0["threshold=100"] > 3 * g0["threshold=700"], g0
PY

# ---- a Python form whose self-check fails: a failed row, said where, no
# pauses; no allocator named: cpython runs on pymalloc alone
mkdir -p wrong && cp "$src"/*.py wrong/ && sed -i 's/len(arr) == 1 + items/len(arr) == 2 + items/' wrong/selfref.py
grep -q '2 + items' wrong/selfref.py && ok || bad "could not alter selfref.py"
HEAPBENCH_PYTHON_DIR=$PWD/wrong "$hb" run --workloads selfref,sidekicks --collectors cpython --warmup 0 \
    --out wrong.csv > /dev/null 2>&1
[ $? = 1 ] && grep -q '^[^,]*,selfref/pymalloc/cpython/isolated/t1/small,.*,failed,"\?selfref exited with status 1: self-check failed: selfref.py line [0-9]*' wrong.csv \
    && grep -q ',sidekicks/pymalloc/cpython/.*,ok,' wrong.csv && ok || bad "a failing self-check: $(cut -c1-300 wrong.csv)"
! grep -q 'selfref/' wrong.pauses.csv && ok || bad "a failed row has no pauses"

# ---- a report that lost an event: failed, not figures from a partial record
mkdir -p lossy && cp "$src"/*.py lossy/ && sed -i 's/for i in range(0, len(events), 6)/for i in range(6, len(events), 6)/' lossy/hbgc.py
HEAPBENCH_PYTHON_DIR=$PWD/lossy "$hb" run --workloads sidekicks --collectors cpython --warmup 0 \
    --out lossy.csv > /dev/null 2>&1
[ $? = 1 ] && grep -q 'output check: 205 pause events recorded but gc.get_stats() counted 206 collections' lossy.csv \
    && ok || bad "a lost pause event: $(tail -1 lossy.csv | cut -c1-300)"

# ---- bad input: a library may not take pymalloc's name
expect2 "a library named pymalloc" run --allocators pymalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
    --workloads selfref --out x.csv
finish
