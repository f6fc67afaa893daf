#!/usr/bin/env bash
# `heapbench run` beyond the first slice: the series files, latency, the
# independent checks of its instruments, shards, interruption and --resume,
# interleaving, pinning, timeouts and crashes.
#   test_run.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
rows() { python3 -c "import csv,sys; print(len(list(csv.DictReader(open(sys.argv[1])))))" "$1"; }

# ---- latency, RSS series, peak live bytes
"$hb" run --allocators arena,system --workloads churn --threads 1,2 --param ops=3000000 --out lat.csv > /dev/null 2>&1 \
    && ok || bad "latency run"
python3 - <<'PY' && ok || bad "latency and series columns"
import csv
rows = list(csv.DictReader(open("lat.csv")))
assert len(rows) == 4
for r in rows:
    p = [int(r[c]) for c in ("lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns")]
    assert p == sorted(p) and p[0] > 0, p
    n = int(r["lat_samples"])
    # one op in about 256 is timed: (prefill + ops) per thread / 256, give or take
    expect = (10000 + 3000000) * int(r["threads"]) / 256
    assert 0.8 * expect < n < 1.2 * expect, (n, expect)
    assert int(r["peak_live_bytes"]) > 10000 * 16 * int(r["threads"]), r["peak_live_bytes"]
    assert r["gc_count"] == "" and r["mmu_1ms"] == "", "no collector: no pause figures"
    assert r["topology"] and "cores" in r["topology"], r["topology"]
series = list(csv.DictReader(open("lat.rss.csv")))
cells = {r["cell"] for r in rows}
assert {s["cell"] for s in series} == cells, "every cell has RSS samples"
for c in cells:
    s = [x for x in series if x["cell"] == c and x["rep"] == "0"]
    ms = [int(x["ms"]) for x in s]
    assert ms == sorted(ms) and len(s) >= 2, (c, ms)
    assert all(int(x["rss_bytes"]) > 0 and x["live_bytes"] != "" for x in s)
    assert s[0]["run_id"] == rows[0]["run_id"]
PY

"$hb" run --allocators arena --workloads churn --threads 1 --param ops=100000 --lat-every 0 --sample-ms 0 \
    --out off.csv > /dev/null 2>&1
python3 -c "
import csv; r = list(csv.DictReader(open('off.csv')))[0]
assert r['status'] == 'ok' and r['lat_p50_ns'] == '' and r['lat_samples'] == '' and r['peak_live_bytes'] == '', r
" && [ "$(wc -l < off.rss.csv)" = 1 ] && ok || bad "--lat-every 0 / --sample-ms 0 must leave latency and series empty"

# ---- trust: peak RSS against /usr/bin/time of the same cell (5%)
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o time.txt "$hb" run --allocators system --workloads churn --threads 1 --warmup 0 \
        --param ops=200000 --param live=200000 --out rss.csv > /dev/null 2>&1
    python3 - <<'PY' && ok || bad "peak_rss_kb against /usr/bin/time"
import csv
r = list(csv.DictReader(open("rss.csv")))[0]
mine, theirs = int(r["peak_rss_kb"]), int(open("time.txt").read().split()[-1])
print(f"peak RSS: heapbench {mine} kB, /usr/bin/time {theirs} kB")
assert mine > 40000, "200000 live blocks of ~264 B must show"
assert abs(mine - theirs) <= 0.05 * theirs, (mine, theirs)
PY
else
    bad "/usr/bin/time is not installed (scripts/setup.sh installs it)"
fi

# ---- trust: wall time against the runner's clock around the process
"$hb" run --allocators arena --workloads larson --threads 1,2 --param ops=1000000 --out wall.csv > /dev/null 2>&1
python3 - <<'PY' && ok || bad "wall_s against process_s"
import csv
for r in csv.DictReader(open("wall.csv")):
    w, p = float(r["wall_s"]), float(r["process_s"])
    print(f"{r['cell']}: wall {w:.4f} s, process {p:.4f} s")
    assert 0 < w <= p, (w, p)
    assert w >= 0.5 * p, "the timed run is most of the process's life"
PY

# ---- shards: disjoint slices whose union is the matrix
args="--allocators system,arena,freelist --workloads churn,larson --threads 1,2 --param ops=10000"
"$hb" run $args --out full.csv > /dev/null 2>&1
for k in 1 2 3; do "$hb" run $args --shard $k/3 --out shard$k.csv > /dev/null 2>&1; done
python3 - <<'PY' && ok || bad "--shard slices"
import csv
cells = lambda f: [r["cell"] for r in csv.DictReader(open(f))]
full = cells("full.csv")
parts = [cells(f"shard{k}.csv") for k in (1, 2, 3)]
assert all(parts), "no shard is empty"
assert sorted(sum(parts, [])) == sorted(full), "union of shards is the matrix"
assert len(set(sum(parts, []))) == len(full), "shards are disjoint"
PY

# ---- interleave: the same rows, not in matrix order
"$hb" run $args --reps 6 --interleave --out inter.csv > inter.out 2>&1
python3 - <<'PY' && ok || bad "--interleave"
import csv
rows = [(r["cell"], r["rep"]) for r in csv.DictReader(open("inter.csv"))]
full = [r["cell"] for r in csv.DictReader(open("full.csv"))]
assert sorted(c for c, _ in rows) == sorted(full * 6)
grouped = [c for c, _ in rows] == [c for c in full for _ in range(6)]
assert not grouped, "rows came out in matrix order"
PY
# in rounds (every cell's repetition 0, then every cell's 1), and in a
# round the cells one comparison needs -- the same but for the allocator --
# one after another, so that their repetition r pairs (ratio-table --paired)
python3 - <<'PY' && ok || bad "--interleave: not in rounds of blocks"
import csv
rows = list(csv.DictReader(open("inter.csv")))
reps = [int(r["rep"]) for r in rows]
assert reps == sorted(reps), reps
block = lambda r: (r["rep"], r["workload"], r["threads"], r["params"])
seen, last = set(), None
for r in rows:
    if block(r) != last:
        assert block(r) not in seen, f"block {block(r)} split"
        seen.add(block(r))
        last = block(r)
assert len({r["allocator"] for r in rows}) > 1 and len(seen) < len(rows)
PY
# and its summary pairs them (compare --by allocator --paired: 6 pairs or more)
grep -q '^allocators in each cell, best first: ratio to system paired by repetition' inter.out \
    && grep -q '^  churn/\*/none/isolated/t1/small/ops=10000  ops_per_s: .*system 1.000 (reference)' inter.out \
    && ok || bad "--interleave's summary: $(grep -A2 '^allocators' inter.out)"

# ---- interrupt, then --resume: every row written survives, none twice
slow="--allocators system,arena --workloads churn --threads 1,2 --reps 3 --param ops=20000000 --warmup 0"
"$hb" run $slow --out cut.csv > /dev/null 2> cut.err &
pid=$!
# interrupt once the first row is on disk (not after a fixed sleep: a loaded
# machine may not have finished a cell by then)
for i in $(seq 600); do [ -f cut.csv ] && [ "$(wc -l < cut.csv)" -ge 2 ] && break; sleep 0.1; done
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] && ok || bad "SIGINT: exit $rc, want 130"
grep -q 'resume' cut.err && ok || bad "SIGINT message: $(cat cut.err)"
before=$(rows cut.csv)
[ "$before" -ge 1 ] && [ "$before" -lt 12 ] && ok || bad "interrupted run wrote $before rows"
# only this build's cells: other heapbench runs on the machine are not ours
[ -z "$(pgrep -f "^$hb __cell" || true)" ] && ok || bad "a cell process outlived the interrupted run"
"$hb" run $slow --out cut.csv --resume > resume.out 2>&1 && ok || bad "resume failed: $(cat resume.out)"
python3 - <<'PY' && ok || bad "resume completed the matrix"
import csv
rows = list(csv.DictReader(open("cut.csv")))
keys = [(r["cell"], r["rep"]) for r in rows]
assert len(rows) == 12 and len(set(keys)) == 12, (len(rows), len(set(keys)))
assert all(r["status"] == "ok" for r in rows)
PY
grep -q 'already there were kept' resume.out && ok || bad "resume did not say what it kept"

# ---- pinning: distinct cores, and what happens with more threads than PUs
pus=$(nproc)
"$hb" run --allocators arena --workloads churn --threads 1,$((pus * 2)) --param ops=10000 --pin --out pin.csv > /dev/null 2>&1
python3 - "$pus" <<'PY' && ok || bad "--pin"
import csv, sys
pus = int(sys.argv[1])
rows = {int(r["threads"]): r for r in csv.DictReader(open("pin.csv"))}
assert rows[1]["pinned"] == "yes" and rows[1]["status"] == "ok", rows[1]
assert rows[2 * pus]["pinned"].startswith("shared"), rows[2 * pus]["pinned"]
PY

# ---- a cell that hangs, one that crashes, one that fails its check
"$hb" run --allocators system --workloads churn --threads 1 --param ops=1000000000 --timeout 1 --warmup 0 \
    --out to.csv > /dev/null 2>&1
[ $? = 1 ] && grep -q ',timeout,killed after the 1 s timeout,' to.csv && ok || bad "timeout row"
"$hb" run --allocators system --workloads churn --threads 1 --param ops=100000000 --warmup 0 --out crash.csv \
    > /dev/null 2>&1 &
pid=$!
for i in $(seq 100); do c=$(pgrep -f "^$hb __cell" | head -1); [ -n "$c" ] && break; sleep 0.1; done
sleep 0.3
kill -SEGV "$c"
wait $pid
[ $? = 1 ] && grep -q ',crashed,killed by signal 11 (Segmentation fault),' crash.csv && ok || bad "crash row: $(cat crash.csv)"
HEAPBENCH_NULL_SLAB_MB=1 "$hb" run --allocators null --workloads churn --threads 1 --param ops=100000 --out nomem.csv > /dev/null 2>&1
[ $? = 1 ] && grep -q ',failed,churn' nomem.csv && ok || bad "a failing cell: $(tail -1 nomem.csv)"
python3 -c "
import csv; r = list(csv.DictReader(open('nomem.csv')))[0]
assert r['ops'] == '' and r['wall_s'] == '' and r['peak_rss_kb'] == '', 'no figures for a failed cell'
" && ok || bad "a failed row must have no figures"

# ---- collectors: pauses, MMU, collected and leaked objects, the pauses file
"$hb" run --workloads cycles --collectors rc,rcgen,marksweep,boehm --allocators system,arena --threads 1 \
    --out gc.csv > /dev/null 2>&1 && ok || bad "collector run"
"$hb" run --workloads cycles --collectors rcgen --allocators arena --threads 1 --param threshold=100 \
    --out gc.csv > /dev/null 2>&1 && ok || bad "collector run with threshold"
python3 - <<'PY' && ok || bad "collector columns"
import csv, collections
rows = {r["cell"]: r for r in csv.DictReader(open("gc.csv"))}
pauses = collections.defaultdict(list)
for p in csv.DictReader(open("gc.pauses.csv")):
    pauses[p["cell"]].append(p)
by = lambda gc, alloc: rows[f"cycles/{alloc}/{gc}/isolated/t1/small"]
assert len(rows) == 8, sorted(rows)  # boehm once, whatever --allocators says
for alloc in ("system", "arena"):
    rc, gen, ms = by("rc", alloc), by("rcgen", alloc), by("marksweep", alloc)
    assert int(rc["leaked_objects"]) > 0 and int(rc["leaked_bytes"]) > 0, "rc leaks the cycles"
    assert rc["gc_count"] == "0" and rc["collected_objects"] == "0"
    for r in (gen, ms):
        assert r["leaked_objects"] == "0", (r["cell"], r["leaked_objects"])
        assert int(r["collected_objects"]) > 0 and int(r["gc_count"]) > 0
    assert int(gen["collected_objects"]) == int(rc["leaked_objects"]), "rcgen collects exactly what rc leaks"
    for r in (gen, ms):
        p = pauses[r["cell"]]
        assert len(p) == int(r["gc_count"]), (r["cell"], len(p), r["gc_count"])
        total = sum(float(x["duration_us"]) for x in p) / 1000
        assert abs(total - float(r["pause_total_ms"])) <= 0.001 * len(p) + 0.01, (total, r["pause_total_ms"])
        assert float(r["pause_max_us"]) == max(float(x["duration_us"]) for x in p)
        assert 0 <= float(r["mmu_10ms"]) <= 1 and float(r["mmu_1ms"]) <= float(r["mmu_10ms"]) + 1e-9
        freed = sum(int(x["freed"]) for x in p)
        assert freed == int(r["collected_objects"]), (freed, r["collected_objects"])
        # the harness's pause total against the collector's own running total
        assert abs(float(r["pause_total_ms"]) - float(r["gc_own_ms"])) <= 0.002, (r["pause_total_ms"], r["gc_own_ms"])
b = rows["cycles/boehm/boehm/isolated/t1/small"]
assert b["allocator"] == "boehm" and b["status"] == "ok"
assert b["leaked_objects"] == "" and b["collected_objects"] == "", "boehm cannot count: empty, not 0"
assert all(x["examined"] == "" for x in pauses[b["cell"]])
series = collections.defaultdict(list)
for x in csv.DictReader(open("gc.rss.csv")):
    series[x["cell"]].append(x)
for cell in (by("rcgen", "arena")["cell"], by("marksweep", "system")["cell"], by("rc", "arena")["cell"]):
    have = "".join("x" if x["gc_live_bytes"] != "" else "." for x in series[cell])
    # filled while the heap lives, one unbroken stretch; empty before and after
    assert have.strip(".") and "." not in have.strip("."), (cell, have)
    assert max(int(x["gc_live_bytes"] or 0) for x in series[cell]) > 0, cell
alloc_only = list(csv.DictReader(open("lat.rss.csv")))
assert all(x["gc_live_bytes"] == "" for x in alloc_only), "no collector: no collector live bytes"
low = rows["cycles/arena/rcgen/isolated/t1/small/threshold=100"]
assert int(low["gc_count"]) > int(by("rcgen", "arena")["gc_count"]), "threshold 100 collects more often"
PY

# ---- garbage held: --param garbage_ms samples unreachable bytes (refcounting collectors)
"$hb" run --workloads cycles --collectors rc,rcgen,rcinc,marksweep --allocators system --threads 1 \
    --param garbage_ms=5 --out garbage.csv > /dev/null 2>&1 && ok || bad "collector run with garbage_ms"
python3 - <<'PY' && ok || bad "garbage columns"
import csv
rows = {r["collector"]: r for r in csv.DictReader(open("garbage.csv"))}
for gc in ("rc", "rcgen", "rcinc"):
    r = rows[gc]
    assert r["status"] == "ok" and "garbage_ms=5" in r["params"], (gc, r["status"], r["params"])
    assert 0 <= int(r["garbage_mean_bytes"]) <= int(r["garbage_max_bytes"]), gc
# rc never frees the cycles: it holds the most, and more than it ends with half-way through
assert int(rows["rc"]["garbage_mean_bytes"]) > int(rows["rcgen"]["garbage_mean_bytes"])
assert int(rows["rc"]["garbage_max_bytes"]) <= int(rows["rc"]["leaked_bytes"])
assert rows["marksweep"]["garbage_mean_bytes"] == "", "no probe under marksweep: empty, not 0"
plain = list(csv.DictReader(open("gc.csv")))
assert all(r["garbage_mean_bytes"] == "" and r["garbage_max_bytes"] == "" for r in plain), "off by default"
PY

# ---- the console (issue 16, item 4): one line per finished cell on stderr,
# the workloads' own output in NAME.log (tracemalloc prints its snapshot),
# and at the end the backends ranked per cell and the rows not ok by reason
"$hb" run --workloads tracemalloc,churn --collectors rcgen,boehm --allocators system,arena --threads 1,2 \
    --param ops=20000 --reps 2 --warmup 0 --out con.csv > con.out 2> con.err
cells=$(tail -n +2 con.csv | cut -d, -f2 | sort -u | wc -l)
[ "$(wc -l < con.err)" = "$cells" ] && ! grep -q 'tracemalloc.c:' con.err && ok \
    || bad "console: $(wc -l < con.err) lines for $cells cells: $(head -3 con.err)"
grep -q '^\[1/'"$cells"'\] .*  ok  .* ops/s  peak RSS [0-9.]* MiB$' con.err && ok || bad "cell line: $(head -1 con.err)"
grep -q 'skipped: boehm has one heap per process' con.err && ok || bad "a skipped cell's line says why"
blocks=$(grep -c '^== ' con.log)
grep -q '^== tracemalloc/system/rcgen/isolated/t1/small/ops=20000 rep 0 (run .*): ok ==$' con.log && grep -q 'tracemalloc.c:' con.log \
    && ok || bad "NAME.log: $(head -3 con.log)"
grep -q '^allocators in each cell, best first: ratio of medians to system' con.out \
    && grep -q '^  churn/\*/none/isolated/t1/small/ops=20000  ops_per_s: .*system 1.000 (reference)' con.out \
    && ok || bad "summary: $(cat con.out)"
grep -q '^     2  skipped: boehm has one heap per process' con.out && ok || bad "reasons: $(cat con.out)"
# appended to, like the results; --verbose leaves the workloads' output on the console
"$hb" run --workloads tracemalloc --collectors rcgen --allocators system --threads 1 --reps 1 --warmup 0 \
    --verbose --out con.csv > /dev/null 2> verbose.err
grep -q 'tracemalloc.c:' verbose.err && [ "$(grep -c '^== ' con.log)" = "$blocks" ] && ok \
    || bad "--verbose: $(grep -c '^== ' con.log) log blocks, $(head -2 verbose.err)"
# NAME.log is a companion: it must be writable before anything runs, and no
# output of another command may be an input's log
mkdir -p logdir.log
expect2 "unwritable NAME.log" run --workloads churn --allocators system --threads 1 --out logdir.csv
grep -q 'logdir.log' err.txt && [ ! -e logdir.csv ] && ok || bad "log check: $(cat err.txt)"
expect2 "an input's log as output" json con.csv con.log
[ "$(grep -c '^== ' con.log)" = "$blocks" ] && [ "$blocks" -ge 4 ] && ok || bad "con.log was touched"

# ---- a full disk: exit 2, one line, every row already written intact
mkdir -p disk
if mount -t tmpfs -o size=24k tmpfs disk 2> /dev/null; then
    "$hb" run --allocators system,arena,freelist,jemalloc --workloads churn,larson --threads 1,2 --reps 3 \
        --param ops=20000 --warmup 0 --out disk/r.csv > /dev/null 2> disk.err
    rc=$?
    # one line of error, beside the console's lines of the cells finished before it
    [ $rc = 2 ] && [ "$(grep -vc '^\[[0-9]*/[0-9]*\] ' disk.err)" = 1 ] && grep -q 'No space left' disk.err && ok \
        || bad "full disk: exit $rc, $(cat disk.err)"
    python3 - <<'PY' && ok || bad "rows written before the disk filled are intact"
import csv
rows = list(csv.DictReader(open("disk/r.csv")))
assert rows and all(r["status"] == "ok" for r in rows), len(rows)
series = list(csv.DictReader(open("disk/r.rss.csv")))
keys = {(r["run_id"], r["cell"], r["rep"]) for r in rows}
assert all((s["run_id"], s["cell"], s["rep"]) in keys for s in series), "series rows without their row"
PY
    umount disk
else
    echo "note: cannot mount a tmpfs here; the full-disk case is not checked"
fi

# ---- bad input: exit 2, one line, nothing touched
# shared heaps: refcount=atomic,biased makes both kinds of counts a
# dimension of the matrix for shared cells; isolated cells run once
"$hb" run --workloads shared_graph --collectors rc --allocators system --heap isolated,shared --threads 1 \
    --param refcount=atomic,biased --param ops=2000 --reps 1 --warmup 0 --out rcm.csv > /dev/null \
    && [ "$(cut -d, -f2 rcm.csv | tail -n +2 | tr '\n' ' ')" = "shared_graph/system/rc/isolated/t1/small/ops=2000 shared_graph/system/rc/shared/t1/small/ops=2000;refcount=atomic shared_graph/system/rc/shared/t1/small/ops=2000;refcount=biased " ] \
    && ok || bad "refcount=atomic,biased: $(cut -d, -f2 rcm.csv)"
expect2 "refcount list with junk" run --param refcount=atomic,lazy --out new.csv

# ---- the seed: the backends a run compares get the same inputs (the same
# draws: the same frees by reference counting alone), each repetition others
"$hb" run --workloads generational --collectors rc,rcgen --gc-allocators system,freelist --threads 1 \
    --param threshold=500 --reps 2 --warmup 0 --out seed.csv > /dev/null 2>&1 && ok || bad "seed run"
python3 - <<'PY' && ok || bad "one input per cell and repetition, whatever the backend"
import csv
rows = list(csv.DictReader(open("seed.csv")))
assert len(rows) == 8 and all(r["status"] == "ok" for r in rows)
rc = {(r["allocator"], r["rep"]): r["frees"] for r in rows if r["collector"] == "rc"}
assert rc[("system", "0")] == rc[("freelist", "0")] and rc[("system", "1")] == rc[("freelist", "1")], rc
assert rc[("system", "0")] != rc[("system", "1")], rc
gen = {(r["allocator"], r["collector"], r["rep"]): r["collected_objects"] for r in rows}
assert gen[("system", "rcgen", "1")] == gen[("freelist", "rcgen", "1")], gen
PY

# ---- --steady: each row says how slow the host read around it and how
# many runs of it were thrown away; without it both are empty
"$hb" run --steady --workloads churn --allocators system,arena --threads 1 --reps 2 --warmup 0 --interleave \
    --out steady.csv > /dev/null 2>&1 && ok || bad "steady run"
"$hb" run --workloads churn --allocators system --threads 1 --reps 1 --warmup 0 --out plain.csv > /dev/null 2>&1 \
    && ok || bad "plain run"
python3 - <<'PY' && ok || bad "host_slow and retakes"
import csv
rows = list(csv.DictReader(open("steady.csv")))
assert len(rows) == 4 and all(r["status"] == "ok" for r in rows), rows
for r in rows:
    assert 1.0 <= float(r["host_slow"]) < 100 and 0 <= int(r["retakes"]) <= 3, (r["host_slow"], r["retakes"])
plain = list(csv.DictReader(open("plain.csv")))
assert plain[0]["host_slow"] == "" and plain[0]["retakes"] == "", plain[0]
PY

# ---- --max-reps: rounds beyond --reps while a row's medians are wider
# than --narrow; every backend of the row together, each (cell, rep) once
mr="--workloads churn --allocators system,arena --threads 1 --param ops=200000 --reps 3 --max-reps 6 --warmup 0 --interleave"
"$hb" run $mr --narrow 0.1 --out wide.csv > wide.out 2> wide.err && ok || bad "max-reps run: $(cat wide.err)"
"$hb" run $mr --narrow 100 --out narrow.csv > narrow.out 2>&1 && ok || bad "max-reps narrow run"
python3 - <<'PY' && ok || bad "max-reps rows"
import csv, collections
def reps(f):
    rows = list(csv.DictReader(open(f)))
    assert all(r["status"] == "ok" for r in rows)
    c = collections.Counter((r["cell"], int(r["rep"])) for r in rows)
    assert max(c.values()) == 1, "a (cell, rep) twice"
    return {cell: sorted(r for (k, r) in c if k == cell) for cell, _ in c}
# 0.1%: three runs of churn never agree that closely, so both cells run 6
assert all(v == list(range(6)) for v in reps("wide.csv").values()), reps("wide.csv")
assert all(v == list(range(3)) for v in reps("narrow.csv").values()), reps("narrow.csv")
PY
grep -q "ok, 6 reps" wide.err && [ "$(grep -c '^\[' wide.err)" = 2 ] && ok || bad "max-reps cell lines: $(cat wide.err)"
grep -q "6 repetitions more for rows not within 0.1% (--max-reps 6)" wide.out && ok || bad "max-reps summary"
grep -q "0 repetitions more" narrow.out && ok || bad "max-reps narrow summary"
# --resume of a cut run: the rows kept count, the missing ones are run
python3 - <<'PY'
import csv
rows = list(csv.DictReader(open("wide.csv")))
keep = [r for r in rows if int(r["rep"]) < 4 and not (r["rep"] == "1" and "arena" in r["cell"])]
w = csv.DictWriter(open("part.csv", "w", newline=""), fieldnames=list(rows[0].keys()), lineterminator="\n")
w.writeheader()
w.writerows(keep)
PY
"$hb" run $mr --narrow 0.1 --resume --out part.csv > part.out 2>&1 && ok || bad "max-reps resume: $(cat part.out)"
python3 - <<'PY' && ok || bad "max-reps resume rows"
import csv, collections
rows = list(csv.DictReader(open("part.csv")))
c = collections.Counter((r["cell"], int(r["rep"])) for r in rows)
assert max(c.values()) == 1 and len(c) == 12, c
assert {r for _, r in c} == set(range(6))
PY
grep -q "5 rows (0 failed) appended to part.csv; 7 already there were kept; 4 repetitions more" part.out && ok ||
    bad "max-reps resume summary: $(tail -1 part.out)"
expect2 "max-reps below reps" run --workloads churn --reps 5 --max-reps 3 --out new.csv
expect2 "narrow without max-reps" run --workloads churn --narrow 3 --out new.csv
expect2 "narrow junk" run --workloads churn --max-reps 9 --narrow 5% --out new.csv
expect2 "max-reps zero" run --workloads churn --max-reps 0 --out new.csv

cp cut.csv keep.csv
expect2 "shard 0/2" run --shard 0/2 --out new.csv
expect2 "shard 3/2" run --shard 3/2 --out new.csv
expect2 "shard junk" run --shard two --out new.csv
expect2 "resume without out" run --resume
expect2 "lat-every negative" run --lat-every -1 --out new.csv
printf 'a,b\n1,2\n' > other.csv
expect2 "resume on another schema" run --allocators system --workloads churn --resume --out other.csv
[ "$(cat other.csv)" = "$(printf 'a,b\n1,2')" ] && ok || bad "other-schema file modified"
printf '%s' "$(head -c 300 keep.csv)" > torn.csv
expect2 "resume on a torn file" run --allocators system --workloads churn --resume --out torn.csv
[ ! -e new.csv ] && ok || bad "a bad run created new.csv"
cmp -s cut.csv keep.csv && ok || bad "results file changed"

finish
