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

finish
