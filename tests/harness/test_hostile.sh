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

finish
