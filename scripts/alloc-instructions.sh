#!/usr/bin/env bash
# alloc-instructions.sh -- issue 15's table counted in instructions:
# callgrind's count of every instruction a single-threaded cell executes
# (the workload's process, or every process of a program: the interpreter
# and what it starts), per allocator, as ratios to the best of jemalloc,
# mimalloc and tcmalloc, with geometric means. The same count on every run
# of the same build, where the wall times of scripts/alloc-table.sh vary
# by 10-50% on a shared machine: a row that table flags over 1.10 is a
# real gap only if its instructions (or its cache misses, which this does
# not count) say so too.
#
#   scripts/alloc-instructions.sh             count, then print
#   scripts/alloc-instructions.sh FILE.csv    print the table of an earlier count
#
# Each (allocator, workload) pair is one `heapbench run` under `valgrind
# --tool=callgrind --trace-children=yes` (JOBS at a time: a count does not
# depend on the load), one repetition, no warm-up, no RSS sampling and no
# latency clock (both run on time, and would make the count vary), with
# python's and perl's hash seeds fixed. The `run` process itself is not
# counted (it is the same for every allocator, and no part of the cell).
# The table is scripts/ratio-table.py's, on the results file with an
# `instructions` column added ($OUT/instructions.csv).
#
# Environment: BUILD (default build), PROGRAMS (perl,python,lua,sqlite,gs,z3:
# one thread, the drop-in libraries preloaded, at PROG_SIZE, default
# medium), PYTHON_N (100000: python's n; its medium n is 50000), WORKLOADS
# (churn,class_edges,large,realloc_grow: in-process, at WL_SIZE, default
# small), ALLOCS (system,arena,freelist,jemalloc,mimalloc,tcmalloc), JOBS
# (nproc), OUT (a directory; a temporary one by default).
#
# Threaded cells are left out: valgrind runs a process's threads one at a
# time, in an order of its own, so their count is not the program's.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ $# -eq 0 ]; then
    BUILD=${BUILD:-build}
    PROGRAMS=${PROGRAMS-perl,python,lua,sqlite,gs,z3}
    PROG_SIZE=${PROG_SIZE:-medium}
    PYTHON_N=${PYTHON_N:-100000}
    WORKLOADS=${WORKLOADS-churn,class_edges,large,realloc_grow}
    WL_SIZE=${WL_SIZE:-small}
    ALLOCS=${ALLOCS:-system,arena,freelist,jemalloc,mimalloc,tcmalloc}
    JOBS=${JOBS:-$(nproc)}
    [ -x "$BUILD/heapbench" ] || { echo "alloc-instructions.sh: no $BUILD/heapbench (scripts/build.sh $BUILD)" >&2; exit 2; }
    hb=$(cd "$BUILD" && pwd)/heapbench
    command -v valgrind > /dev/null || { echo "alloc-instructions.sh: valgrind is not installed (scripts/setup.sh)" >&2; exit 2; }
    # every name checked before anything is counted (a name heapbench does
    # not know would fail each of its counts, minutes in)
    known=$("$hb" list | awk '$1 == "allocator" || $1 == "workload" || $1 == "program" { print $2 }')
    for x in ${ALLOCS//,/ } ${WORKLOADS//,/ } ${PROGRAMS//,/ }; do
        grep -qx -- "$x" <<< "$known" || { echo "alloc-instructions.sh: unknown allocator or workload '$x' (heapbench list)" >&2; exit 2; }
    done
    out=${OUT:-$(mktemp -d)}
    mkdir -p "$out" || exit 2
    out=$(cd "$out" && pwd)
    [ ! -e "$out/instructions.csv" ] || { echo "alloc-instructions.sh: $out/instructions.csv exists; give a new OUT" >&2; exit 2; }
    # one line per pair: ALLOC WORKLOAD SIZE [--param n=N]
    pairs=$out/pairs.txt
    : > "$pairs"
    for a in ${ALLOCS//,/ }; do
        for w in ${WORKLOADS//,/ }; do echo "$a $w $WL_SIZE" >> "$pairs"; done
        for w in ${PROGRAMS//,/ }; do
            if [ "$w" = python ]; then echo "$a $w $PROG_SIZE --param n=$PYTHON_N" >> "$pairs"
            else echo "$a $w $PROG_SIZE" >> "$pairs"; fi
        done
    done
    n=$(wc -l < "$pairs")
    echo "# $n counts, $JOBS at a time, in $out" >&2
    export hb out
    # shellcheck disable=SC2016
    xargs -P "$JOBS" -L 1 bash -c '
        a=$0 w=$1 size=$2; shift 2
        d=$out/vg/$w.$a
        mkdir -p "$d"
        env HEAPBENCH_VG_CELL=- PYTHONHASHSEED=0 PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 \
            valgrind --tool=callgrind --trace-children=yes "--callgrind-out-file=$d/cg.%p.%q{HEAPBENCH_VG_CELL}" \
            "$hb" run --allocators "$a" --workloads "$w" --threads 1 --size "$size" "$@" \
            --reps 1 --warmup 0 --sample-ms 0 --lat-every 0 --out "$d/run.csv" > "$d/console.txt" 2>&1
        echo "#   $w on $a: exit $?" >&2
    ' < "$pairs"
    python3 - "$out" <<'PY' || exit 2
import csv, glob, os, sys
out = sys.argv[1]
rows, fields = [], None
for d in sorted(glob.glob(os.path.join(out, "vg", "*"))):
    try:
        got = list(csv.DictReader(open(os.path.join(d, "run.csv"))))
    except OSError:
        print(f"alloc-instructions.sh: {d}: no results (see {d}/console.txt)", file=sys.stderr)
        continue
    total, bad = 0, ""
    for f in glob.glob(os.path.join(d, "cg.*")):
        tag = os.path.basename(f).split(".", 2)[2]
        cmd, summary = "", None
        for line in open(f, errors="replace"):
            if line.startswith("cmd:"):
                cmd = line
            elif line.startswith("summary:"):
                summary = int(line.split()[1])
        # the run process: tag "-" and not a __cell; a cell's own process
        # is a __cell, a program's processes carry the cell's tag
        if tag == "-" and " __cell " not in cmd:
            continue
        if summary is None:
            bad = f"{f}: no summary (valgrind stopped early?)"
            break
        total += summary
    for r in got:
        r["instructions"] = str(total) if not bad and r["status"] == "ok" else ""
        if bad:
            r["status"], r["error"] = "failed", bad
    fields = fields or (list(got[0].keys()) if got else None)
    rows += got
if not rows:
    sys.exit("alloc-instructions.sh: no results")
with open(os.path.join(out, "instructions.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields)
    w.writeheader()
    w.writerows(rows)
PY
    echo "results: $out/instructions.csv" >&2
    set -- "$out/instructions.csv"
fi
python3 "$here/ratio-table.py" "$@" --best jemalloc,mimalloc,tcmalloc --metrics instructions --targets arena,freelist
