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

# ---- 10: a value given twice in a list is refused (cells with one identity)
item=10; if want "$@"; then
    expect2 "workloads twice" run --workloads churn,churn --allocators system --threads 1 --out d10.csv
    expect2 "allocators twice" run --workloads churn --allocators system,system --threads 1 --out d10.csv
    expect2 "threads twice" run --workloads churn --allocators system --threads 1,1 --out d10.csv
    expect2 "threads twice, spelled differently" run --workloads churn --allocators system --threads 1,01 --out d10.csv
    expect2 "collectors twice" run --workloads cycles --collectors rc,rc --out d10.csv
    expect2 "gc-allocators twice" run --workloads cycles --gc-allocators arena,arena --out d10.csv
    expect2 "heap twice" run --workloads cycles --heap shared,shared --out d10.csv
    expect2 "refcount twice" run --workloads cycles --param refcount=atomic,atomic --out d10.csv
    grep -q "twice" err.txt && ok || bad "the message does not say twice: $(cat err.txt)"
    [ -e d10.csv ] && bad "d10.csv was created" || ok
fi

# ---- 11: a signal during merge or json leaves no temporary file
item=11; if want "$@"; then
    python3 - <<'PY'
import csv
rows = list(csv.reader(open("base.csv", newline="")))
h, r = rows[0], rows[1]
rep = h.index("rep")
with open("big.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(h)
    for i in range(120000):
        r[rep] = str(i)
        w.writerow(r)
PY
    # started through python so that SIGINT is not ignored, as it is for a
    # background job of a script
    dfl() { exec python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' "$hb" "$@"; }
    for sig in INT TERM; do
        for cmd in "merge big-m$sig.csv big.csv" "json big.csv big-j$sig.json"; do
            dfl $cmd > /dev/null 2>&1 &
            pid=$!
            for i in $(seq 3000); do ls ./*.tmp* > /dev/null 2>&1 && break; sleep 0.02; done # a busy machine is slow to read it
            ls ./*.tmp* > /dev/null 2>&1 || bad "$cmd: no temporary file seen (too fast?)"
            kill -$sig $pid; wait $pid; rc=$?
            [ $rc -gt 128 ] && ok || bad "$cmd: exit $rc after SIG$sig, want death by the signal"
            ls ./*.tmp* > /dev/null 2>&1 && bad "$cmd, SIG$sig: left $(ls ./*.tmp*)" || ok
            rm -f ./*.tmp*
        done
    done
    # plot: the figure gnuplot was drawing when the signal came
    if command -v gnuplot > /dev/null; then
        "$hb" run --workloads cycles --collectors rc,rcgen --allocators system,arena --threads 1 --reps 2 \
            --param ops=20000 --out p11.csv > /dev/null 2>&1
        for sig in INT TERM; do
            rm -rf p11-$sig
            dfl plot p11.csv --out p11-$sig > /dev/null 2>&1 &
            pid=$!
            for i in $(seq 3000); do ls -a p11-$sig 2> /dev/null | grep -q '\.tmp' && break; sleep 0.01; done
            kill -$sig $pid; wait $pid; rc=$?
            [ $rc -gt 128 ] && ok || bad "plot: exit $rc after SIG$sig (did it finish before the signal?)"
            ls -a p11-$sig | grep -q '\.tmp' && bad "plot, SIG$sig: left $(ls -a p11-$sig | grep tmp)" || ok
        done
    fi
fi

# ---- 13: the smaller ones
item=13; if want "$@"; then
    # a byte-order mark: read as the text after it, not "another schema"
    printf '\xef\xbb\xbf' > bom.csv; cat base.csv >> bom.csv
    "$hb" compare base.csv bom.csv > /dev/null 2> bom.err && ok || bad "compare of a file with a BOM: $(cat bom.err)"
    run_small bom.csv > /dev/null 2>&1 && ok || bad "appending to a file with a BOM was refused"
    # another schema names the column that differs
    sed '1s/,cell,/,cellname,/' base.csv > schema.csv
    expect2 "another schema" run --allocators system --workloads churn --threads 1 --param ops=2000 --out schema.csv
    grep -q "column 2 is 'cellname'" err.txt && ok || bad "the schema message: $(cat err.txt)"
    # stdout that cannot be written is a failure
    if [ -w /dev/full ]; then
        "$hb" list > /dev/full 2> full.err; rc=$?
        [ $rc = 2 ] && [ "$(wc -l < full.err)" = 1 ] && ok || bad "list > /dev/full: exit $rc, $(cat full.err)"
        "$hb" run --allocators system --workloads churn --threads 1 --reps 1 --param ops=2000 --out full.csv \
            > /dev/full 2> full.err; rc=$?
        [ $rc = 2 ] && ok || bad "run > /dev/full: exit $rc"
    fi
    # the interrupt message names the file to resume
    "$hb" run --allocators system --workloads churn --threads 1 --reps 1 --param ops=1000000000 --timeout 60 \
        --out int.csv > /dev/null 2> int.err &
    pid=$!
    for i in $(seq 100); do [ -s int.rss.csv ] && break; sleep 0.05; done
    sleep 0.3; kill -INT $pid; wait $pid; rc=$?
    [ $rc = 130 ] && grep -q -- "--resume --out int.csv" int.err && ok || bad "interrupt: exit $rc, $(cat int.err)"
    # regress: a cell the candidate lacks is reported, and fails the gate
    run_small two.csv --allocators system,arena
    grep -v ',arena,' two.csv > lacks.csv
    "$hb" regress --baseline two.csv --candidate lacks.csv > reg.out 2> reg.err; rc=$?
    [ $rc = 1 ] && grep -q "REGRESSION churn/arena" reg.out && grep -q "missing" reg.out && ok \
        || bad "regress with a missing cell: exit $rc, $(cat reg.out reg.err)"
    "$hb" regress --baseline lacks.csv --candidate two.csv > reg.out 2> reg.err; rc=$?
    [ $rc = 0 ] && grep -q "only in the candidate" reg.out && ok || bad "a cell only in the candidate: exit $rc"
    # --heap shared on allocator-only workloads: said, not run as isolated
    expect2 "--heap shared, allocator-only" run --allocators system --workloads churn --threads 1 --heap shared \
        --out shared.csv
    grep -q "allocator-only" err.txt && ok || bad "the message: $(cat err.txt)"
    [ -e shared.csv ] && bad "shared.csv was written" || ok
    # every run writes NAME.pauses.csv, with its header when nothing collected
    [ "$(head -1 base.pauses.csv 2> /dev/null | cut -d, -f1-3)" = "cell,rep,start_ms" ] && ok \
        || bad "no base.pauses.csv for a run without collections"
fi

finish
