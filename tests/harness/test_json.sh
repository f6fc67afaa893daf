#!/usr/bin/env bash
# NAME.json in Google Benchmark's format: two real matrices converted with
# `heapbench json`, their structure checked entry by entry against the CSV
# they came from, then Google Benchmark's own compare.py run on the pair.
# Exit 77 (skipped) when compare.py or a python3 with scipy is missing, after
# the structural checks, which need neither.
#   test_json.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"

# ---- two real runs; a.csv also gets a row that is not ok (skipped)
for f in a b; do
    "$hb" run --allocators system,arena --workloads churn --threads 1,2 --reps 3 \
        --param ops=20000 --out $f.csv > $f.out 2> $f.err || { bad "run $f exited $?"; cat $f.err; }
done
"$hb" run --allocators system --workloads xthread --threads 1 --out a.csv > /dev/null 2>&1
grep -q ',skipped,' a.csv && ok || bad "a.csv has no skipped row"

for f in a b; do
    "$hb" json $f.csv $f.json 2> json-$f.err && ok || { bad "json $f exited $?"; cat json-$f.err; }
done
ls ./*.tmp* > /dev/null 2>&1 && bad "temporary files left behind: $(ls ./*.tmp*)" || ok

# ---- the structure, against the CSV
python3 - a.csv a.json <<'PY' && ok || bad "a.json structure"
import csv, json, socket, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
doc = json.load(open(sys.argv[2]))
assert set(doc) == {"context", "benchmarks"}, set(doc)
ctx = doc["context"]
for k in ("date", "host_name", "executable", "library_build_type"):
    assert k in ctx, ("context lacks", k)
assert ctx["host_name"] == rows[0]["host"]
assert ctx["date"] == min(r["timestamp"] for r in rows)
assert ctx["library_build_type"] in ("release", "debug")
if ctx["host_name"] == socket.gethostname():  # facts of this machine
    assert isinstance(ctx["num_cpus"], int) and ctx["num_cpus"] >= 1
    assert isinstance(ctx["caches"], list)
    for c in ctx["caches"]:
        assert set(c) == {"type", "level", "size", "num_sharing"}, c
        assert c["size"] > 0 and c["level"] >= 1
    assert len(ctx["load_avg"]) == 3

B = doc["benchmarks"]
common = {"name", "family_index", "per_family_instance_index", "run_name", "run_type",
          "repetitions", "threads", "iterations", "real_time", "cpu_time", "time_unit"}
okrows = [r for r in rows if r["status"] == "ok"]
cells = list(dict.fromkeys(r["cell"] for r in okrows))
assert all(r["status"] != "ok" for r in rows if "xthread" in r["cell"])
assert not any("xthread" in b["name"] for b in B), "a row that is not ok has an entry"
rel = lambda x, y: abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1e-300)
at = 0
for cell in cells:
    mine = sorted((r for r in okrows if r["cell"] == cell), key=lambda r: int(r["rep"]))
    n = len(mine)
    its = B[at:at + n]
    for r, b in zip(mine, its):
        assert common <= set(b) and "repetition_index" in b, b
        assert b["run_type"] == "iteration" and b["name"] == cell and b["run_name"] == cell, b
        assert b["repetitions"] == sum(1 for x in rows if x["cell"] == cell)
        assert b["repetition_index"] == int(r["rep"]) and b["threads"] == int(r["threads"])
        ops = int(r["ops"])
        assert b["iterations"] == ops and b["time_unit"] == "ns"
        assert rel(b["real_time"], float(r["wall_s"]) / ops * 1e9), (b, r)
        assert rel(b["cpu_time"], (float(r["user_s"]) + float(r["sys_s"])) / ops * 1e9), (b, r)
        assert rel(b["items_per_second"], float(r["ops_per_s"]))
        assert b["peak_rss_kb"] == float(r["peak_rss_kb"]) and b["allocs"] == float(r["allocs"])
        assert "lat_p50_ns" not in b or r["lat_p50_ns"] != "", "a counter for an empty value"
        assert "run_id" not in b and "host" not in b
    at += n
    aggs = B[at:at + 4]
    at += 4
    rt = [b["real_time"] for b in its]
    want = {"mean": statistics.mean(rt), "median": statistics.median(rt),
            "stddev": statistics.stdev(rt), "cv": statistics.stdev(rt) / statistics.mean(rt)}
    assert [a["aggregate_name"] for a in aggs] == ["mean", "median", "stddev", "cv"], aggs
    for a in aggs:
        assert common <= set(a) and "repetition_index" not in a, a
        assert a["run_type"] == "aggregate" and a["run_name"] == cell
        assert a["name"] == cell + "_" + a["aggregate_name"]
        assert a["aggregate_unit"] == ("percentage" if a["aggregate_name"] == "cv" else "time")
        assert a["iterations"] == n and a["threads"] == its[0]["threads"]
        assert rel(a["real_time"], want[a["aggregate_name"]]), (a, want)
        ips = [b["items_per_second"] for b in its]
        if a["aggregate_name"] == "mean":
            assert rel(a["items_per_second"], statistics.mean(ips))
            assert rel(a["peak_rss_kb"], statistics.mean(b["peak_rss_kb"] for b in its))
assert at == len(B), (at, len(B))
# families: the same cell but for its thread count
fam = {}
for b in B:
    key = b["run_name"].replace("/t1/", "/t*/").replace("/t2/", "/t*/")
    fam.setdefault(key, set()).add((b["family_index"], b["per_family_instance_index"]))
assert len({f for s in fam.values() for f, _ in s}) == len(fam), fam
assert all({i for _, i in s} == {0, 1} for s in fam.values()), fam
PY

# ---- bad input: exit 2, one line naming the file, no JSON written
python3 - a.csv nowall.csv <<'PY'
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
r[2][r[0].index("wall_s")] = ""
csv.writer(open(sys.argv[2], "w"), lineterminator="\n").writerows(r)
PY
expect2 "ok row without wall_s" json nowall.csv x.json
grep -q "nowall.csv:3:.*wall_s" err.txt && ok || bad "message: $(cat err.txt)"
printf 'run_id,cell\n"open,x\n' > unterminated.csv
expect2 "unterminated quote" json unterminated.csv x.json
grep -q "unterminated.csv:2:" err.txt && ok || bad "message: $(cat err.txt)"
printf 'a,b\n1,2\n' > other.csv
expect2 "not a results file" json other.csv x.json
expect2 "missing input" json nosuch.csv x.json
expect2 "json usage" json a.csv
[ ! -e x.json ] && ok || bad "a refused conversion wrote x.json"
ls ./*.tmp* > /dev/null 2>&1 && bad "temporary files left behind" || ok

# ---- Google Benchmark's compare.py on the pair
cmp_py=/usr/share/benchmark/compare.py
py=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import scipy' > /dev/null 2>&1; then py=$p; break; fi
done
if [ ! -f $cmp_py ] || [ -z "$py" ]; then
    echo "$passes passed, $fails failed; compare.py or python3-scipy missing: skipped"
    [ $fails = 0 ] && exit 77 || exit 1
fi
"$py" $cmp_py --no-color benchmarks a.json b.json > compare.txt 2> compare.err
rc=$?
[ $rc = 0 ] && ok || { bad "compare.py exited $rc"; cat compare.err; }
python3 - a.csv compare.txt <<'PY' && ok || { bad "compare.py output"; cat compare.txt; }
import csv, sys
cells = {r["cell"] for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"}
lines = open(sys.argv[2]).read().splitlines()
assert lines[1].split()[:3] == ["Benchmark", "Time", "CPU"], lines[:3]
seen = {}
for l in lines:
    t = l.split()
    # name, time change, cpu change, time old, time new, cpu old, cpu new
    if len(t) == 7 and not t[0].endswith("_pvalue"):
        float(t[1]); float(t[2]); [float(x) for x in t[3:]]
        seen.setdefault(t[0], 0)
        seen[t[0]] += 1
for c in cells:
    assert seen.get(c) == 3, (c, seen.get(c))  # one line per repetition
    for a in ("mean", "median", "stddev", "cv"):
        assert seen.get(c + "_" + a) == 1, (c, a)
assert "OVERALL_GEOMEAN" in seen
PY

finish
