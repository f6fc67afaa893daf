#!/usr/bin/env bash
# `heapbench run --param` sweeps (issue 16, item 1): a list, a linear and a
# geometric range, several keys at once, each a dimension of the matrix for
# the cells it applies to (a collector's key multiplies collector cells
# only, refcount shared cells only); the swept values in the cell names, so
# that resume, compare --by KEY and plot tell the rows apart; bad forms
# refused with one line (exit 2) before any file is made.
#   test_sweep.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
cells() { tail -n +2 "$1" | cut -d, -f2 | sort -u; }

# a collector key and a workload key together, on a collector workload and
# an allocator-only one: 3 x 3 rcgen cells, and churn's ops list only
"$hb" run --workloads cycles,churn --collectors rcgen --allocators system --gc-allocators system --threads 1 \
    --param threshold=100,700,5000 --param ops=2000..8000*2 --reps 1 --warmup 0 --out sw.csv > out.txt 2> err.txt
[ $? = 0 ] && ok || bad "sweep run failed: $(tail -3 err.txt)"
cells sw.csv > cells.txt
cat > want.txt <<'W'
churn/system/none/isolated/t1/small/ops=2000
churn/system/none/isolated/t1/small/ops=4000
churn/system/none/isolated/t1/small/ops=8000
cycles/system/rcgen/isolated/t1/small/ops=2000;threshold=100
cycles/system/rcgen/isolated/t1/small/ops=2000;threshold=5000
cycles/system/rcgen/isolated/t1/small/ops=2000;threshold=700
cycles/system/rcgen/isolated/t1/small/ops=4000;threshold=100
cycles/system/rcgen/isolated/t1/small/ops=4000;threshold=5000
cycles/system/rcgen/isolated/t1/small/ops=4000;threshold=700
cycles/system/rcgen/isolated/t1/small/ops=8000;threshold=100
cycles/system/rcgen/isolated/t1/small/ops=8000;threshold=5000
cycles/system/rcgen/isolated/t1/small/ops=8000;threshold=700
W
diff want.txt cells.txt > /dev/null && ok || bad "sweep cells: $(diff want.txt cells.txt)"
[ "$(tail -n +2 sw.csv | wc -l)" = 12 ] && ok || bad "sweep: $(tail -n +2 sw.csv | wc -l) rows, want 12"
# the collector really ran at each threshold: fewer collections as it grows
python3 - sw.csv <<'PY' && ok || bad "gc_count does not fall as the threshold grows"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["workload"] == "cycles" and "ops=8000;" in r["cell"]]
g = {int(r["cell"].split("threshold=")[1]): int(r["gc_count"]) for r in rows}
sys.exit(0 if g[100] > g[700] > g[5000] else 1)
PY

# --resume tells the swept cells apart: nothing left to run
"$hb" run --workloads cycles,churn --collectors rcgen --allocators system --gc-allocators system --threads 1 \
    --param threshold=100,700,5000 --param ops=2000..8000*2 --reps 1 --warmup 0 --resume --out sw.csv > out.txt 2> err.txt
grep -q "^0 rows .*12 already there were kept" out.txt && ok || bad "resume of a sweep: $(cat out.txt err.txt)"

# compare --by the swept key ranks its values in each cell of the others
"$hb" compare sw.csv --by threshold --metrics gc_count > cmp.txt 2>&1
grep -q "cycles/system/rcgen/isolated/t1/small/ops=8000;threshold=\*" cmp.txt && ok || bad "compare --by threshold: $(head cmp.txt)"

# linear ranges, and refcount words as a dimension of shared cells only
"$hb" run --workloads cycles --collectors rc --allocators system --gc-allocators system --threads 2 \
    --heap isolated,shared --param refcount=atomic,biased --param ops=1000..3000+1000 --reps 1 --warmup 0 \
    --out rc.csv > out.txt 2> err.txt
cells rc.csv > cells.txt
cat > want.txt <<'W'
cycles/system/rc/isolated/t2/small/ops=1000
cycles/system/rc/isolated/t2/small/ops=2000
cycles/system/rc/isolated/t2/small/ops=3000
cycles/system/rc/shared/t2/small/ops=1000;refcount=atomic
cycles/system/rc/shared/t2/small/ops=1000;refcount=biased
cycles/system/rc/shared/t2/small/ops=2000;refcount=atomic
cycles/system/rc/shared/t2/small/ops=2000;refcount=biased
cycles/system/rc/shared/t2/small/ops=3000;refcount=atomic
cycles/system/rc/shared/t2/small/ops=3000;refcount=biased
W
diff want.txt cells.txt > /dev/null && ok || bad "linear and refcount cells: $(diff want.txt cells.txt)"

# a collector's key sweeps only the collectors that honour it: rc and
# marksweep have no threshold, so they run once, rcgen twice
"$hb" run --workloads cycles --collectors rc,rcgen,marksweep --allocators system --gc-allocators system \
    --threads 1 --param threshold=100,700 --param ops=1000 --reps 1 --warmup 0 --out th.csv > out.txt 2> err.txt
cells th.csv > cells.txt
cat > want.txt <<'W'
cycles/system/marksweep/isolated/t1/small/ops=1000
cycles/system/rc/isolated/t1/small/ops=1000
cycles/system/rcgen/isolated/t1/small/ops=1000;threshold=100
cycles/system/rcgen/isolated/t1/small/ops=1000;threshold=700
W
diff want.txt cells.txt > /dev/null && ok || bad "threshold swept over rc: $(diff want.txt cells.txt)"
expect2 "a collector key none of the collectors takes" run --workloads cycles --collectors rc,marksweep \
    --param threshold=100,700 --out no.csv
grep -q "none of the collectors (rc,marksweep) takes it; rcgen,rcinc,cpython do" err.txt && ok \
    || bad "threshold on rc: $(cat err.txt)"

# bad forms: one line, exit 2, no file
for a in 'threshold=1..10*1' 'threshold=5..1+1' 'threshold=1..5' 'threshold=1..5+' 'threshold=0..9*2' \
         'threshold=1,,2' 'threshold=1,1' 'threshold=100..300+100,200' 'ops=1..100000+1' 'threshold=x' \
         'threshold=0,100' 'refcount=atomic,atomic' 'refcount=1'; do
    expect2 "--param $a" run --workloads cycles --collectors rcgen --param "$a" --out no.csv
done
expect2 "--param twice" run --workloads cycles --param threshold=1 --param threshold=2 --out no.csv
grep -q "give each KEY once" err.txt && ok || bad "twice: $(cat err.txt)"
expect2 "a key no workload takes" run --workloads churn --param threshold=100,200 --out no.csv
expect2 "too many combinations" run --workloads mixed_remote --param ops=1000..64000+1000 \
    --param live=1000..64000+1000 --param ring=1024,2048 --out no.csv
[ ! -e no.csv ] && ok || bad "a refused run made its file"
finish
