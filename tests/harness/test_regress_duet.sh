#!/usr/bin/env bash
# `heapbench regress` with two build directories and its default timed gate,
# duet: this build against itself passes, each cell's pairs are paired rows
# of both sides, and a cell whose two sides cannot have their own cores with
# one to spare (2 x threads + 1) falls back to randomized interleaved pairs,
# said in the output. --calibrate
# prints its table; at 50% more work the estimated-cycles gate flags the
# cell and at 0% does not (cachegrind is deterministic; the timed gates'
# verdicts are not asserted: a shared machine decides them). Bad input:
# exit 2, one line. Small cells and few pairs: seconds, not minutes.
#   test_regress_duet.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
build=$(cd "$(dirname "$hb")" && pwd)
cores=$(nproc)

# ---- A/A: one cell a thread, one with a thread per core
threads=1; [ "$cores" -gt 1 ] && threads=1,$cores
# --threshold 50: a same-build cell's 8 pairs all come out one way 1 time in
# 256, which the signed-rank test rightly calls (twice in some 20 runs of
# this test under ctest -j2, at +9% and +24% in 3 ms cells); a paired ratio
# of 1.5 would still be a broken pairing, and is what this test looks for
"$hb" regress --baseline "$build" --candidate "$build" --allocators system --workloads churn \
    --threads $threads --param ops=20000 --pairs 8 --threshold 50 --work aa > aa.txt 2> aa.err
rc=$?
[ $rc = 0 ] && grep -q "^PASS: 0 regressions" aa.txt && ok || { bad "duet A/A exited $rc"; cat aa.err aa.txt; }
grep -q "^paired timed tests (cpu_s): flagged when the Holm-corrected one-sided Wilcoxon signed-rank" aa.txt \
    && ok || bad "duet: no paired rule: $(head -4 aa.txt)"
# duet needs 2 x threads + 1 cores (a core to spare beyond the two sides');
# the cells that cannot have them fall back, said in the output
nfall=0
for t in ${threads//,/ }; do
    if [ $((2 * t + 1)) -le "$cores" ]; then mode=duet; else mode="interleaved pairs"; nfall=$((nfall + 1)); fi
    grep -Eq "churn/system/none/isolated/t$t/small/ops=20000 +cpu_s +8 .* (ok|WORSE) \($mode\)$" aa.txt \
        && ok || bad "t$t cell's row, want ($mode): $(grep t$t/ aa.txt)"
done
grep -Eq "^fallback: $nfall cells cannot have their own cores a side with one to spare: run as randomized multiple interleaved trials \(Abedi & Brecht, ICPE 2017\)" \
    aa.txt && ok || bad "fallback not said: $(cat aa.txt)"
# every pair: one row a side, after round 1's; both builds ran each cell
python3 - aa/baseline.csv aa/candidate.csv "$threads" <<'PY' && ok || bad "pairs' rows"
import csv, sys
ncells = len(sys.argv[3].split(","))
for path in sys.argv[1:3]:
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == ncells * (1 + 8), (path, len(rows))
    for c in {r["cell"] for r in rows}:
        assert sum(r["cell"] == c for r in rows) == 9, c
PY
[ ! -e aa/pair-baseline.csv ] && ok || bad "a pair's scratch file left behind"
# the files it kept, judged again: the same pairs, the same table and verdict
"$hb" regress --baseline aa/baseline.csv --candidate aa/candidate.csv --threshold 50 > again.txt 2> again.err
diff <(grep -v '^baseline\|^results kept' aa.txt) <(grep -v '^baseline\|^results kept' again.txt) > again.diff \
    && ok || bad "the kept files judged again differ: $(cat again.diff again.err)"
"$hb" regress --baseline "$build" --candidate "$build" --allocators system --workloads churn \
    --threads 1 --param ops=20000 --pairs 6 --format csv --work aacsv > aa.csv 2> /dev/null
# the row's form, not its verdict: a same-build cell's 6 pairs all come out
# one way 1 time in 64 (p = 1/64 < 0.05 with one test)
grep -Eq '^test,cpu_s,churn/system/none/isolated/t1/small/ops=20000,6,6,.*,(ok|worse),paired: ' aa.csv \
    && ok || bad "csv: the pair's mode: $(grep ^test aa.csv)"

# --gate rmit: the pairs without duet, every cell one side after the other
"$hb" regress --baseline "$build" --candidate "$build" --allocators system --workloads churn \
    --threads 1 --param ops=20000 --pairs 6 --gate rmit --work rmit > rmit.txt 2> /dev/null
grep -q "^rmit (--gate rmit): 1 cells run as randomized multiple interleaved trials" rmit.txt \
    && grep -Eq "t1/small/ops=20000 +cpu_s +6 .* (ok|WORSE) \(interleaved pairs\)$" rmit.txt \
    && ok || bad "--gate rmit: $(cat rmit.txt)"

# --budget: rounds of pairs until the budget is spent (10000 pairs of even the
# smallest cell take far longer than 2 s), at least 6
"$hb" regress --baseline "$build" --candidate "$build" --allocators system --workloads churn \
    --threads 1 --param ops=20000 --pairs 10000 --budget 2 --work budget > budget.txt 2> budget.err
rc=$?
grep -Eq "^heapbench regress: pairs: [0-9]+ rounds in [0-9]+ s \(the budget's end\)$" budget.err \
    && ok || bad "--budget: no end said (exit $rc): $(tail -3 budget.err)"
n=$(grep -Eo "t1/small/ops=20000 +cpu_s +[0-9]+ " budget.txt | awk '{print $3}')
[ -n "$n" ] && [ "$n" -ge 6 ] && [ "$n" -lt 10000 ] && ok || bad "--budget: $n pairs: $(cat budget.txt)"

# ---- --calibrate: the table; cycles deterministic when valgrind is there
"$hb" regress --calibrate 0,50 --allocators system --workloads churn --threads 1 --param ops=20000 \
    --pairs 6 --reps 2 --work cal > cal.txt 2> cal.err
rc=$?
[ $rc = 0 ] && ok || { bad "--calibrate exited $rc"; cat cal.err; }
grep -q "^calibration: the candidate does k% more operations (--param ops=20000 x (1 + k/100))" cal.txt \
    && ok || bad "--calibrate: no header: $(head -2 cal.txt)"
grep -Eq "^ +k +gate +flagged +compared +geomean ratio +time +pairs$" cal.txt && ok || bad "--calibrate: columns"
for k in 0 50; do
    for g in duet interleaved; do
        grep -Eq "^ +$k% +$g +[01] +1 +[0-9.]+ +[0-9ms]+ +(6|-)$" cal.txt && ok || bad "--calibrate: no $k% $g row: $(cat cal.txt)"
        [ -s cal/k$k-$g.txt ] && ok || bad "--calibrate: no report cal/k$k-$g.txt"
    done
done
grep -Eq "^ +50% +operations \+50\.0% +CPU time [+-][0-9.]+% +instructions " cal.txt \
    && ok || bad "--calibrate: what k came to: $(grep operations cal.txt)"
if command -v valgrind > /dev/null; then
    grep -Eq "^ +0% +cycles +0 +1 +1\.00[0-9] " cal.txt && ok || bad "--calibrate: cycles at 0%: $(grep cycles cal.txt)"
    grep -Eq "^ +50% +cycles +1 +1 +1\.[1-6][0-9]* " cal.txt && ok || bad "--calibrate: cycles at 50%: $(grep cycles cal.txt)"
fi

# ---- refusals: exit 2, one line
HB_ERR_IGNORE='^usage|: round [0-9]'
expect2 "one build directory missing" regress --baseline "$build" --candidate nosuch-dir
mkdir -p fake && printf '#!/bin/sh\necho hello\n' > fake/heapbench && chmod +x fake/heapbench
expect2 "not a heapbench binary" regress --baseline "$build" --candidate fake
grep -q "is not a heapbench binary" err.txt && ok || bad "not heapbench: $(cat err.txt)"
expect2 "--calibrate garbage" regress --calibrate 0,five --param ops=1000
grep -q "bad --calibrate '0,five'" err.txt && ok || bad "calibrate garbage: $(cat err.txt)"
expect2 "--calibrate empty item" regress --calibrate 0,,5 --param ops=1000
expect2 "--calibrate twice the same k" regress --calibrate 5,5 --param ops=1000
expect2 "--calibrate without ops" regress --calibrate 0,5 --workloads churn
expect2 "--calibrate with a list of ops" regress --calibrate 0,5 --param ops=1000,2000
expect2 "--calibrate with builds" regress --calibrate 0,5 --param ops=1000 --baseline "$build" --candidate "$build"
expect2 "bad --pairs" regress --baseline "$build" --candidate "$build" --pairs many
expect2 "--pairs with interleaved" regress --baseline "$build" --candidate "$build" --gate interleaved --pairs 10
expect2 "--budget with interleaved" regress --baseline "$build" --candidate "$build" --gate interleaved --budget 60
expect2 "bad --budget" regress --baseline "$build" --candidate "$build" --budget -1
expect2 "--budget with files" regress --baseline aa/baseline.csv --candidate aa/candidate.csv --budget 60
expect2 "--reps with duet" regress --baseline "$build" --candidate "$build" --reps 5
expect2 "bad --gate" regress --baseline "$build" --candidate "$build" --gate solo
expect2 "--calibrate with the interleaved gate" regress --calibrate 0,5 --param ops=1000 --gate interleaved
expect2 "--gate with files" regress --baseline aa/baseline.csv --candidate aa/candidate.csv --gate duet

finish
