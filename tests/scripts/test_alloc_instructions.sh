#!/usr/bin/env bash
# scripts/alloc-instructions.sh: callgrind's counts of single-threaded
# cells, as a results file with an `instructions` column and
# ratio-table.py's table. Checks that a cell's count is its own process's
# (churn: glibc runs more instructions per malloc and free than mimalloc,
# where the `run` process alone would give both the same), that a program
# cell counts the program's processes (lua: hundreds of millions, where
# the run process is about 11 M), that a count repeats, that FILE.csv
# reprints the table, that an unknown name stops it before anything runs,
# and that an existing result is never overwritten.
# 77 without valgrind.
#   test_alloc_instructions.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/../harness/lib.sh" "$@"
command -v valgrind > /dev/null || { echo "SKIP: no valgrind (scripts/setup.sh installs it)"; exit 77; }
ai=$here/../../scripts/alloc-instructions.sh
export BUILD=${hb%/*} JOBS=2

OUT=$PWD/a WORKLOADS=churn PROGRAMS=lua PROG_SIZE=small ALLOCS=system,mimalloc "$ai" > out.txt 2> err.txt
[ $? = 0 ] && ok || bad "exit status: $(tail -3 err.txt)"
grep -Eq "^churn t1 +[0-9.e+]+ +1\.[0-9]+ +1\.00$" out.txt && ok || bad "churn row: $(grep '^churn' out.txt)"
python3 - a/instructions.csv > counts.txt <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    print(r["workload"], r["allocator"], r["status"], r["instructions"])
PY
[ "$(wc -l < counts.txt)" = 4 ] && ok || bad "want 4 rows: $(cat counts.txt)"
grep -c " ok [0-9][0-9]*$" counts.txt | grep -qx 4 && ok || bad "rows not ok or without a count: $(cat counts.txt)"
count() { awk -v w="$1" -v a="$2" '$1 == w && $2 == a { print $4 }' "${3:-counts.txt}"; }
sys=$(count churn system) mim=$(count churn mimalloc) lua=$(count lua mimalloc)
awk -v s="$sys" -v m="$mim" 'BEGIN { exit !(m > 1e7 && s > 1.2 * m) }' && ok \
    || bad "churn: glibc $sys, mimalloc $mim instructions (want glibc > 1.2x mimalloc)"
awk -v l="$lua" 'BEGIN { exit !(l > 1e8) }' && ok || bad "lua's processes not counted: $lua instructions"

# the same count again, to 0.5%
OUT=$PWD/b WORKLOADS=churn PROGRAMS= WL_SIZE=small ALLOCS=mimalloc "$ai" > out-b.txt 2> err-b.txt \
    || bad "second count: $(tail -3 err-b.txt)"
again=$(python3 -c 'import csv,sys; print(next(csv.DictReader(open(sys.argv[1])))["instructions"])' b/instructions.csv)
awk -v a="$mim" -v b="$again" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d < 0.005 * a) }' && ok \
    || bad "churn on mimalloc counted $mim, then $again"

# FILE.csv: the table again, nothing counted
"$ai" a/instructions.csv > reprint.txt 2> err-r.txt && ok || bad "FILE.csv: $(cat err-r.txt)"
diff <(grep -v '^#' out.txt) reprint.txt > /dev/null && ok || bad "FILE.csv prints another table: $(diff out.txt reprint.txt)"

# a name heapbench does not know: one line, exit 2, before anything runs
OUT=$PWD/c WORKLOADS=churn PROGRAMS= ALLOCS=mimalloc,nosuch "$ai" > out-u.txt 2> err-u.txt
[ $? = 2 ] && [ "$(wc -l < err-u.txt)" = 1 ] && grep -q "nosuch" err-u.txt && ok || bad "unknown name: $(cat err-u.txt)"
[ ! -e c ] && ok || bad "an unknown name still made $PWD/c"

# an existing result stays as it is
cp a/instructions.csv kept.csv
OUT=$PWD/a WORKLOADS=churn PROGRAMS= ALLOCS=mimalloc "$ai" > out-c.txt 2> err-c.txt
[ $? = 2 ] && ok || bad "an existing OUT: exit $?, want 2"
[ "$(wc -l < err-c.txt)" = 1 ] && grep -q "exists" err-c.txt && ok || bad "an existing OUT: $(cat err-c.txt)"
cmp -s kept.csv a/instructions.csv && ok || bad "an existing instructions.csv was changed"
finish
