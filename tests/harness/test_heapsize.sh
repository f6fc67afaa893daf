#!/usr/bin/env bash
# Heap-size curves (issue 16, item 2): a hard heap limit (--param heap_kb)
# that a cell runs out of as an `oom` row, not a crash; `heapbench minheap`'s
# binary search, whose minimum passes while the largest limit it saw fail
# still fails; --heap-factors as a dimension of the matrix with its columns;
# the heap-size figures drawn; the LBO table's arithmetic on a hand-made
# file; bad input refused with one line.
#   test_heapsize.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
scripts=$here/../../plots
col() { # FILE COLUMN: the column's values, one per row
    python3 -c 'import csv,sys; [print(r[sys.argv[2]]) for r in csv.DictReader(open(sys.argv[1]))]' "$1" "$2"
}
small="--workloads binary_trees --param depth=10 --gc-allocators system --threads 1 --warmup 0"

# ---- the limit is enforced: 64 KiB is too small, 64 MiB is not
"$hb" run $small --collectors marksweep,boehm --param heap_kb=64,65536 --reps 1 --out lim.csv > out.txt 2> err.txt
rc=$?
[ $rc = 0 ] && ok || bad "a run with oom rows exits $rc, want 0 (oom is its answer): $(tail -3 err.txt)"
python3 - lim.csv <<'PY' && ok || bad "limit rows: $(cut -d, -f2,11,12 lim.csv)"
import csv, sys
rows = {r["cell"]: r for r in csv.DictReader(open(sys.argv[1]))}
for c in ("marksweep", "boehm"):
    a = "system" if c == "marksweep" else "boehm"
    lo = rows[f"binary_trees/{a}/{c}/isolated/t1/small/depth=10;heap_kb=64"]
    hi = rows[f"binary_trees/{a}/{c}/isolated/t1/small/depth=10;heap_kb=65536"]
    assert lo["status"] == "oom", lo["status"]
    assert "out of memory under the heap limit of 64 KiB" in lo["error"], lo["error"]
    assert lo["wall_s"] == "" and lo["heap_limit_kb"] == "64", (lo["wall_s"], lo["heap_limit_kb"])
    assert hi["status"] == "ok" and hi["heap_limit_kb"] == "65536", hi["status"]
PY
grep -q "oom: out of memory under the heap limit of 64 KiB" out.txt && ok || bad "the run's summary names no oom reason: $(cat out.txt)"

# ---- minheap: the minimum passes, the largest limit that failed fails
"$hb" minheap $small --collectors marksweep,rc > mh.txt 2> mh.err
[ $? = 0 ] && ok || bad "minheap exited $?: $(cat mh.err)"
line=$(grep "^binary_trees/system/marksweep/isolated/t1/small/depth=10 " mh.txt)
min=$(echo "$line" | awk '{print $2}')
fail=$(echo "$line" | sed -n 's/.*; \([0-9]*\) KiB does not fit;.*/\1/p')
[ -n "$min" ] && [ -n "$fail" ] && [ "$fail" -lt "$min" ] && ok || bad "minheap table: $(cat mh.txt)"
# within 1/64 (or 16 KiB) above the failing one
[ $((min - fail)) -le $(( min / 64 > 16 ? min / 64 : 16 )) ] && ok || bad "minheap precision: $min over $fail"
grep -q "rc/" mh.txt && bad "minheap searched rc, which takes no limit" || ok
"$hb" run $small --collectors marksweep --param heap_kb=$min,$fail --reps 1 --out mh.csv > /dev/null 2>&1
st=$(python3 -c 'import csv,sys; print(" ".join(r["heap_limit_kb"]+":"+r["status"] for r in csv.DictReader(open("mh.csv"))))')
[ "$st" = "$min:ok $fail:oom" ] && ok || bad "at the minimum and below it: $st (want $min:ok $fail:oom)"

# ---- heap factors: a dimension for marksweep, none for rc; the columns
"$hb" run $small --collectors marksweep,rc --heap-factors 1,2.5 --reps 2 --out hf.csv > hf.out 2> hf.err
[ $? = 0 ] && ok || bad "heap factors run: $(tail -3 hf.err)"
python3 - hf.csv "$min" <<'PY' && ok || bad "heap factor cells: $(cut -d, -f2,11 hf.csv)"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
m = int(sys.argv[2])
cells = sorted({r["cell"] for r in rows})
assert cells == ["binary_trees/system/marksweep/isolated/t1/small/depth=10;heap_factor=1",
                 "binary_trees/system/marksweep/isolated/t1/small/depth=10;heap_factor=2.5",
                 "binary_trees/system/rc/isolated/t1/small/depth=10"], cells
assert len(rows) == 6, len(rows)
for r in rows:
    if r["collector"] == "rc":
        assert r["heap_factor"] == r["min_heap_kb"] == r["heap_limit_kb"] == "", r
        continue
    f = float(r["heap_factor"])
    assert int(r["min_heap_kb"]) == m, (r["min_heap_kb"], m)  # the same search, the same seed
    assert int(r["heap_limit_kb"]) == math.ceil(f * m), (r["heap_limit_kb"], f, m)
    assert r["status"] in ("ok", "oom"), r["status"]
    assert f != 2.5 or r["status"] == "ok"
PY
grep -q "^minimum heap of binary_trees/system/marksweep/isolated/t1/small/depth=10: $min KiB" hf.err && ok \
    || bad "the run's search line: $(grep minimum hf.err)"

# ---- the figures: rcgen through its threshold joins marksweep's factors
"$hb" run $small --collectors rcgen --param threshold=100,5000 --reps 2 --out hf.csv > /dev/null 2>&1
if command -v gnuplot > /dev/null; then
    "$hb" plot hf.csv --scripts "$scripts" --out figs > plot.out 2> plot.err
    [ $? = 0 ] && ok || bad "plot: $(cat plot.err)"
    for ext in png svg; do
        f=figs/heapsize-binary_trees_small_t1_isolated.$ext
        [ -s "$f" ] && [ "$(stat -c %s "$f")" -gt 5000 ] && ok || bad "no heap-size figure $f"
    done
    d=figs/data/heapsize-binary_trees_small_t1_isolated.dat
    # three series, marksweep's two points at its limits, rcgen's at its peaks
    [ "$(grep -c '^"' "$d")" = 3 ] && ok || bad "heap-size series: $(cat "$d")"
    [ -s figs/sweep-binary_trees-heap_factor.png ] && ok || bad "no sweep figure against heap_factor"
else
    echo "gnuplot is not installed: figures not checked"
fi

# ---- LBO on a hand-made file: two benchmarks, three settings
cat > lbo.csv <<'C'
cell,status,error,workload,size,threads,heap,allocator,collector,wall_s,user_s,sys_s,pause_total_ms
w1/system/marksweep/isolated/t1/small/heap_factor=1,ok,,w1,small,1,isolated,system,marksweep,2.0,1.8,0.2,1000
w1/system/marksweep/isolated/t1/small/heap_factor=1,ok,,w1,small,1,isolated,system,marksweep,2.2,2.0,0.2,1100
w1/system/marksweep/isolated/t1/small/heap_factor=1,ok,,w1,small,1,isolated,system,marksweep,2.4,2.2,0.2,1300
w1/system/marksweep/isolated/t1/small/heap_factor=4,ok,,w1,small,1,isolated,system,marksweep,1.5,1.5,0.0,300
w1/system/rcgen/isolated/t1/small/threshold=700,ok,,w1,small,1,isolated,system,rcgen,1.6,1.5,0.1,100
w1/system/rcgen/isolated/t1/small/threshold=700,oom,x,w1,small,1,isolated,system,rcgen,,,,
w2/system/marksweep/isolated/t1/small/heap_factor=1,ok,,w2,small,1,isolated,system,marksweep,4.0,4.0,0.0,3000
w2/system/rcgen/isolated/t1/small/threshold=700,ok,,w2,small,1,isolated,system,rcgen,2.0,2.0,0.0,0
w2/system/none/isolated/t1/small,ok,,w2,small,1,isolated,system,none,0.5,0.5,0,
C
# w1: marksweep x1 cost 2.2, net median(1.0, 1.1, 1.1) = 1.1; x4: 1.5 and 1.2;
#     rcgen: 1.6 and 1.5 (its oom row counts nothing): base 1.1
#     -> LBO 2.2/1.1 = 2, 1.5/1.1 = 1.363636, 1.6/1.1 = 1.454545
# w2: marksweep 4.0 and 1.0, rcgen 2.0 and 2.0 (none: no collector): base 1.0
#     -> LBO 4, 2;  geomeans: marksweep x1 sqrt(2*4) = 2.828, rcgen sqrt(1.4545*2) = 1.706
"$hb" compare lbo.csv --lbo --format csv > lbo.out 2> lbo.err
[ $? = 0 ] && ok || bad "compare --lbo: $(cat lbo.err)"
python3 - lbo.out <<'PY' && ok || bad "LBO arithmetic: $(cat lbo.out)"
import csv, sys
got = {(r["benchmark"], r["setting"]): r for r in csv.DictReader(open(sys.argv[1]))}
want = {("w1/small/t1/isolated", "system+marksweep heap_factor=1"): (2.2, 1.1, 1.1, 2.0),
        ("w1/small/t1/isolated", "system+marksweep heap_factor=4"): (1.5, 1.2, 1.1, 1.5 / 1.1),
        ("w1/small/t1/isolated", "system+rcgen threshold=700"): (1.6, 1.5, 1.1, 1.6 / 1.1),
        ("w2/small/t1/isolated", "system+marksweep heap_factor=1"): (4.0, 1.0, 1.0, 4.0),
        ("w2/small/t1/isolated", "system+rcgen threshold=700"): (2.0, 2.0, 1.0, 2.0)}
assert set(got) == set(want), sorted(got)
for k, (cost, net, base, lbo) in want.items():
    r = got[k]
    for name, v in (("cost_s", cost), ("net_s", net), ("base_s", base), ("lbo", lbo)):
        assert abs(float(r[name]) - v) < 1e-5, (k, name, r[name], v)
PY
"$hb" compare lbo.csv --lbo > lbo.txt 2>&1
grep -Eq "^system\+marksweep heap_factor=1 +2\.000 +4\.000 +2\.828$" lbo.txt && ok || bad "LBO table: $(cat lbo.txt)"
grep -Eq "^system\+rcgen threshold=700 +1\.455 +2\.000 +1\.706$" lbo.txt && ok || bad "LBO table: $(cat lbo.txt)"

# ---- bad input: one line, exit 2
expect2 "heap factor below 1" run $small --collectors marksweep --heap-factors 0.5 --out x.csv
expect2 "heap factor not a number" run $small --collectors marksweep --heap-factors 1,two --out x.csv
expect2 "heap factor twice" run $small --collectors marksweep --heap-factors 1,1.0 --out x.csv
expect2 "heap factors and heap_kb" run $small --collectors marksweep --heap-factors 2 --param heap_kb=4096 --out x.csv
expect2 "heap factors, no collector that takes a limit" run $small --collectors rc,rcgen --heap-factors 2 --out x.csv
expect2 "heap_kb below 64" run $small --collectors marksweep --param heap_kb=8 --out x.csv
expect2 "--lbo with two files" compare lbo.csv lbo.csv --lbo
[ ! -e x.csv ] && ok || bad "bad input made x.csv"
finish
