#!/usr/bin/env bash
# Issue 13: what a hostile user found, one section per numbered item, each
# failing on the code before its fix.
#   test_hostile.sh HEAPBENCH WORKDIR [ITEM...]   (no ITEM: all of them)
. "$(dirname "$0")/lib.sh" "$@"
shift 2
want() { [ $# = 0 ] || [[ " $* " == *" $item "* ]]; }
sums() { sha256sum "$@" 2> /dev/null; } # the files named, for before/after
run_small() { # OUT.csv [run options...]: a quick real results file
    local out=$1; shift
    "$hb" run --allocators system --workloads churn --threads 1 --reps 2 --param ops=20000 --out "$out" "$@" \
        > /dev/null 2>&1
}
run_small base.csv || bad "setup: run exited $?"

# ---- 1: no output is ever an input, however it is spelled
item=1; if want "$@"; then
    cp base.csv mine.csv; cp base.rss.csv mine.rss.csv
    before=$(sums mine.csv mine.rss.csv)
    for o in mine.csv ./mine.csv "$PWD/mine.csv" mine.rss.csv mine.pauses.csv; do
        expect2 "json mine.csv $o" json mine.csv "$o"
        [ "$(sums mine.csv mine.rss.csv)" = "$before" ] && ok || bad "json over $o changed an input"
    done
    [ -e mine.pauses.csv ] && bad "json wrote mine.pauses.csv, a companion of its input" || ok
    ln -s mine.csv link.csv; ln mine.csv hard.csv
    expect2 "json through a symlink" json mine.csv link.csv
    expect2 "json through a hard link" json mine.csv hard.csv
    "$hb" json mine.csv mine.json > /dev/null 2>&1 && [ -s mine.json ] && ok || bad "json IN.csv IN.json refused"
    expect2 "merge over an input's companion" merge mine.rss.csv base.csv
    mkdir sub; expect2 "merge over an input spelled differently" merge sub/../mine.csv mine.csv base.csv
    [ "$(sums mine.csv mine.rss.csv)" = "$before" ] && ok || bad "merge changed an input"
fi

# ---- 2: an empty or unusable --out of plot is bad input (it wrote into /)
item=2; if want "$@" && command -v gnuplot > /dev/null; then
    expect2 "plot --out ''" plot base.csv --out ""
    before=$(sums base.csv)
    expect2 "plot --out a file" plot base.csv --out base.csv
    [ "$(sums base.csv)" = "$before" ] && ok || bad "plot --out base.csv changed it"
    mkdir ro && chmod 555 ro
    if [ "$(id -u)" != 0 ]; then expect2 "plot --out into a read-only directory" plot base.csv --out ro/x; fi
fi

# ---- 3: one workload group (gnuplot 5.4 segfaulted on throughput.gp); a
# failed figure stops no other and leaves no file
item=3; if want "$@" && command -v gnuplot > /dev/null; then
    "$hb" run --workloads churn --allocators system,arena --threads 1 --reps 2 --param ops=20000 \
        --out one.csv > /dev/null 2>&1
    "$hb" plot one.csv --out pl > pl.out 2> pl.err && ok || bad "plot of one group exited $?: $(cat pl.err)"
    [ -s pl/throughput-allocators.png ] && [ -s pl/throughput-allocators.svg ] && ok || bad "no throughput figure"
    [ -z "$(find pl -empty -type f ! -name gnuplot.log)" ] && ok || bad "empty files: $(find pl -empty -type f)"
    "$hb" run --workloads cycles --collectors rc,rcgen --allocators system --threads 1 --reps 2 \
        --param ops=20000 --out cyc.csv > /dev/null 2>&1
    "$hb" plot cyc.csv --out plc > plc.out 2> plc.err && [ -s plc/throughput-collectors.png ] && ok \
        || bad "plot of one collector group: $(cat plc.err)"
    # a script that fails: its figure is missing, every other one is there
    cp -r "$here/../../plots" scripts && echo 'exit status 3' > scripts/latency.gp
    "$hb" plot one.csv --out plf --scripts scripts > plf.out 2> plf.err
    rc=$?
    [ $rc = 2 ] && ok || bad "a failed figure: exit $rc, want 2"
    [ "$(grep -c 'latency' plf.err)" = 1 ] && ok || bad "the failure is not one line naming it: $(cat plf.err)"
    ls plf/latency-* > /dev/null 2>&1 && bad "the failed figure left $(ls plf/latency-*)" || ok
    [ -s plf/throughput-allocators.png ] && ls plf/rss-*.svg > /dev/null 2>&1 && ok \
        || bad "the figures after the failed one were not drawn: $(ls plf)"
    ls -a plf | grep -q tmp && bad "temporary figures left: $(ls -a plf)" || ok
fi

# ---- 4: --resume re-runs the cells that have no ok row, and exits 1 while
# one stands not ok (it treated crashed, failed and timed-out rows as done)
item=4; if want "$@"; then
    hang=(run --allocators system --workloads churn --threads 1 --reps 1 --param ops=1000000000 --timeout 1
          --out to.csv)
    "$hb" "${hang[@]}" > /dev/null 2>&1; rc=$?
    [ $rc = 1 ] && ok || bad "a timed-out cell: exit $rc, want 1"
    "$hb" "${hang[@]}" --resume > /dev/null 2>&1; rc=$?
    [ $rc = 1 ] && ok || bad "--resume over a timed-out row: exit $rc, want 1"
    [ "$(grep -c ',timeout,' to.csv)" = 2 ] && ok || bad "--resume did not run the timed-out cell again"
    # the same cell made to pass: the old row stays, a new ok row is added, exit 0
    sed -i 's/,timeout,[^,]*,/,failed,made up,/' to.csv
    run_small fx.csv; grep -v '^run_id' fx.csv | head -1 | sed 's/,ok,/,crashed,/' > bad.row
    cp fx.csv fx2.csv; head -1 fx.csv > fx.csv.new; cat bad.row >> fx.csv.new
    sed 's/,crashed,/,failed,/' bad.row >> fx.csv.new; mv fx.csv.new fx.csv; rm -f fx.rss.csv fx.pauses.csv
    run_small fx.csv --resume; rc=$?
    [ $rc = 0 ] && ok || bad "--resume that fixes every cell: exit $rc, want 0"
    [ "$(grep -c ',ok,' fx.csv)" = 2 ] && [ "$(grep -c ',crashed,' fx.csv)" = 1 ] && ok \
        || bad "--resume: the old rows must stay and each rep get an ok row: $(cut -d, -f2,10,11 fx.csv)"
fi

# ---- 5: every output path is checked before the first cell runs
item=5; if want "$@"; then
    long=$(printf 'x%.0s' $(seq 245))
    expect2 "a base name too long for its companions" run --allocators system --workloads churn --threads 1 \
        --param ops=20000 --out "$long.csv"
    [ -e "$long.csv" ] && bad "the results file was written before the check" || ok
    grep -q "companion" err.txt && ok || bad "the message does not name the companion: $(cat err.txt)"
    mkdir jd && touch jd/r.csv && mkdir jd/r.json
    expect2 "NAME.json a directory" run --allocators system --workloads churn --threads 1 --param ops=20000 \
        --out jd/r.csv
    [ -s jd/r.csv ] && bad "rows were appended before the JSON was found unwritable" || ok
fi

# ---- 6: a companion that ends mid-row is not appended to (the next row was glued onto it)
item=6; if want "$@"; then
    for c in rss pauses; do
        run_small g$c.csv --workloads cycles --collectors rcgen
        printf 'partial,0,1' >> g$c.$c.csv
        before=$(sums g$c.csv g$c.rss.csv g$c.pauses.csv g$c.json)
        expect2 "append to a $c companion that ends mid-row" run --allocators system --workloads cycles \
            --collectors rcgen --threads 1 --param ops=20000 --out g$c.csv
        grep -q "g$c.$c.csv" err.txt && ok || bad "the message does not name g$c.$c.csv: $(cat err.txt)"
        [ "$(sums g$c.csv g$c.rss.csv g$c.pauses.csv g$c.json)" = "$before" ] && ok || bad "a file changed"
    done
fi

# ---- 12: one writer per results file
item=12; if want "$@"; then
    "$hb" run --allocators system --workloads churn --threads 1 --reps 1 --param ops=1000000000 --timeout 5 \
        --out lock.csv > /dev/null 2>&1 &
    first=$!
    for i in $(seq 50); do [ -s lock.csv ] && break; sleep 0.1; done
    before=$(sums lock.csv lock.rss.csv lock.pauses.csv)
    expect2 "a second writer" run --allocators system --workloads churn --threads 1 --reps 1 --param ops=20000 \
        --out lock.csv --resume
    grep -q "another heapbench run" err.txt && ok || bad "the message does not say why: $(cat err.txt)"
    [ "$(sums lock.csv lock.rss.csv lock.pauses.csv)" = "$before" ] && ok || bad "the second writer wrote"
    kill -INT $first; wait $first
fi

# ---- 7: every threshold the parser accepts gives passing generational cells
item=7; if want "$@"; then
    for t in 1 2 3; do
        "$hb" run --workloads generational --collectors rcgen --allocators system --threads 1,2 \
            --heap isolated,shared --reps 1 --param threshold=$t --param ops=100000 --out gen$t.csv \
            > gen$t.out 2>&1 && ok || bad "threshold=$t: $(grep -o 'self-check[^,]*' gen$t.csv | head -1)"
    done
fi

# ---- 8: bytes that are not UTF-8 are refused, never copied into JSON
item=8; if want "$@"; then
    python3 - <<'PY'
import csv
rows = list(csv.reader(open("base.csv", newline="")))
data = open("base.csv", "rb").read()
cell = rows[1][rows[0].index("cell")].encode()
open("nonutf8.csv", "wb").write(data.replace(cell, cell + b"\xff\xfe"))
PY
    for cmd in "json nonutf8.csv nonutf8-out.json" "merge m8.csv nonutf8.csv" "compare nonutf8.csv base.csv" \
               "plot nonutf8.csv --out p8 --data-only" "regress --baseline base.csv --candidate nonutf8.csv"; do
        expect2 "$cmd" $cmd && grep -q 'nonutf8.csv:2:.*UTF-8' err.txt && ok || bad "$cmd: $(cat err.txt)"
    done
    [ -e nonutf8-out.json ] || [ -e m8.json ] && bad "a JSON was written" || ok
fi

# ---- 9: one parser for figures: decimal, finite, non-negative for times
# and counts, FILE:LINE: column: why, exit 2, in every subcommand
item=9; if want "$@"; then
    python3 - <<'PY'
import csv
rows = list(csv.reader(open("base.csv", newline="")))
h = rows[0]
def bad(name, col, value):
    r = [list(x) for x in rows]
    r[2][h.index(col)] = value
    csv.writer(open(name, "w", newline=""), lineterminator="\n").writerows(r)
bad("neg.csv", "wall_s", "-5")
bad("hex.csv", "allocs", "0x10")
bad("nan.csv", "ops_per_s", "nan")
bad("inf.csv", "peak_rss_kb", "inf")
bad("frac.csv", "allocs", "1.5")
bad("blank.csv", "wall_s", " 1")
PY
    for f in neg:wall_s hex:allocs nan:ops_per_s inf:peak_rss_kb frac:allocs blank:wall_s; do
        n=${f%%:*} col=${f#*:}
        for cmd in "compare base.csv $n.csv" "regress --baseline base.csv --candidate $n.csv" "merge m9$n.csv $n.csv" \
                   "json $n.csv $n-out.json" "plot $n.csv --out p9$n --data-only"; do
            expect2 "$cmd" $cmd && grep -q "^heapbench.*$n.csv:3: $col: " err.txt && ok || bad "$cmd: $(cat err.txt)"
        done
        [ -e "$n-out.json" ] && bad "json of $n.csv was written" || ok
    done
fi

finish
