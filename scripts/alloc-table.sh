#!/usr/bin/env bash
# alloc-table.sh -- arena and freelist against the best of jemalloc,
# mimalloc and tcmalloc: time and peak RSS, as ratios, with geometric means
# (the targets of issue 15: time <= 1.10x on every row, geomean <= 1.00;
# peak RSS geomean <= 1.00, no row over 1.5x).
#
#   scripts/alloc-table.sh                 run the workloads (5 interleaved
#                                          repetitions, size medium) and the
#                                          programs, then print the table
#   scripts/alloc-table.sh FILE.csv        print the table of an earlier run
#                                          (its programs file, FILE.programs.csv,
#                                          too when it is there)
#
# Environment: BUILD (default build), REPS (5), SIZE (medium), WORKLOADS
# (large,realloc_grow,class_edges,churn: one thread; empty to skip), THREAD_WORKLOADS
# (larson,mixed_remote: at THREADS, default 1,2; empty to skip),
# PROGRAMS=0 to skip the programs. A workload run at several thread counts
# has a row per count, named workload/Nt.
#
# Rows: every workload of the run, medians of its repetitions (wall_s,
# user_s + sys_s and peak_rss_kb, status ok only); then the programs: real jobs run with each
# allocator preloaded (LD_PRELOAD; glibc is the job without one), the same
# number of repetitions, interleaved, median elapsed time, CPU time and
# max RSS from /usr/bin/time. CPU time is printed beside wall time because
# on a shared machine wall time also counts waiting for a core.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REPS=${REPS:-5}
SIZE=${SIZE:-medium}
WORKLOADS=${WORKLOADS-large,realloc_grow,class_edges,churn}
THREAD_WORKLOADS=${THREAD_WORKLOADS-larson,mixed_remote}
THREADS=${THREADS:-1,2}
ALLOCS=system,arena,freelist,jemalloc,mimalloc,tcmalloc

die() { echo "alloc-table.sh: $*" >&2; exit 2; }

if [ $# -gt 1 ]; then
    die "usage: scripts/alloc-table.sh [FILE.csv]"
fi
if [ $# -eq 1 ]; then
    csv=$1
    [ -r "$csv" ] || die "cannot read $csv"
else
    [ -x "$BUILD/heapbench" ] || die "$BUILD/heapbench not built (scripts/build.sh $BUILD)"
    out=${OUT:-/tmp/alloc-table-$$}
    csv=$out.csv
    if [ -n "$WORKLOADS" ]; then
        echo "# $BUILD/heapbench run --allocators $ALLOCS --workloads $WORKLOADS --threads 1 --reps $REPS --interleave --size $SIZE --out $csv" >&2
        "$BUILD/heapbench" run --allocators "$ALLOCS" --workloads "$WORKLOADS" --threads 1 \
            --reps "$REPS" --interleave --size "$SIZE" --out "$csv" >&2 || true
    fi
    if [ -n "$THREAD_WORKLOADS" ]; then
        # Rows appended to the same file: the threaded workloads at each count.
        echo "# $BUILD/heapbench run --allocators $ALLOCS --workloads $THREAD_WORKLOADS --threads $THREADS --reps $REPS --interleave --size $SIZE --out $csv" >&2
        "$BUILD/heapbench" run --allocators "$ALLOCS" --workloads "$THREAD_WORKLOADS" --threads "$THREADS" \
            --reps "$REPS" --interleave --size "$SIZE" --out "$csv" >&2 || true
    fi

    if [ "${PROGRAMS:-1}" != 0 ]; then
        # Programs: name | command. Each prints nothing we check beyond its
        # exit status; the figure is its time and max RSS.
        progs=(
            "perl-hash-append|perl -e 'my %h; for my \$i (1..200000) { \$h{\$i} .= \"x\" x 600 }'"
            "python-dict-strings|python3 -c 'd = {i: \"y\" * (i % 3000) for i in range(100000)}; del d; l = [bytearray(70000) for _ in range(300)]'"
        )
        libdir=/usr/lib/x86_64-linux-gnu
        build_abs=$(cd "$BUILD" && pwd)
        declare -A lib=(
            [system]=""
            [arena]="$build_abs/libheapbench_arena.so"
            [freelist]="$build_abs/libheapbench_freelist.so"
            [jemalloc]="$libdir/libjemalloc.so.2"
            [mimalloc]="$libdir/libmimalloc.so.2"
            [tcmalloc]="$libdir/libtcmalloc_minimal.so.4"
        )
        pcsv=$out.programs.csv
        echo "program,allocator,rep,status,wall_s,user_s,sys_s,peak_rss_kb" > "$pcsv"
        for rep in $(seq 1 "$REPS"); do
            # interleaved: every program and allocator once per repetition,
            # in a shuffled order
            for job in $(for p in "${progs[@]}"; do for a in ${ALLOCS//,/ }; do
                             echo "${p%%|*}:$a"; done; done | shuf); do
                name=${job%%:*} a=${job#*:}
                for p in "${progs[@]}"; do [ "${p%%|*}" = "$name" ] && cmd=${p#*|}; done
                [ -n "${lib[$a]}" ] && [ ! -r "${lib[$a]}" ] && continue
                tf=$(mktemp)
                if env ${lib[$a]:+LD_PRELOAD=${lib[$a]}} /usr/bin/time -f "%e %U %S %M" -o "$tf" \
                       sh -c "$cmd" > /dev/null 2>&1; then
                    read -r e u s m < "$tf"
                    echo "$name,$a,$rep,ok,$e,$u,$s,$m" >> "$pcsv"
                else
                    echo "$name,$a,$rep,failed,,,," >> "$pcsv"
                fi
                rm -f "$tf"
            done
        done
    fi
fi

python3 - "$csv" <<'EOF'
import csv, math, os, statistics, sys

path = sys.argv[1]
ours = ["arena", "freelist"]
refs = ["jemalloc", "mimalloc", "tcmalloc"]
rows = {}  # (kind, name) -> alloc -> {"t": [...], "c": [...], "m": [...]}

def add(kind, name, alloc, t, c, m):
    d = rows.setdefault((kind, name), {}).setdefault(alloc, {"t": [], "c": [], "m": []})
    d["t"].append(float(t))
    d["c"].append(float(c))
    d["m"].append(float(m))

with open(path) as f:
    wrows = [r for r in csv.DictReader(f)]
counts = {}  # workload -> thread counts it ran at
for r in wrows:
    counts.setdefault(r["workload"], set()).add(r["threads"])
for r in wrows:
    if r["status"] == "ok" and r["wall_s"] and r["peak_rss_kb"]:
        name = r["workload"]
        if counts[name] != {"1"}:
            name += "/" + r["threads"] + "t"
        add("workload", name, r["allocator"], r["wall_s"],
            float(r["user_s"]) + float(r["sys_s"]), r["peak_rss_kb"])
progs = os.path.splitext(path)[0] + ".programs.csv"
if os.path.exists(progs):
    with open(progs) as f:
        for r in csv.DictReader(f):
            if r["status"] == "ok":
                add("program", r["program"], r["allocator"], r["wall_s"],
                    float(r["user_s"]) + float(r["sys_s"]), r["peak_rss_kb"])

def med(d, a, k):
    return statistics.median(d[a][k]) if a in d and d[a][k] else None

reps = max((len(v["t"]) for d in rows.values() for v in d.values()), default=0)
print(f"# {path}: medians of up to {reps} repetitions; ratio = ours / best of {', '.join(refs)}")
hdr = f"{'':8} {'row':22} {'metric':6} {'system':>9} " + " ".join(f"{a:>9}" for a in refs) + \
      f" {'best':>9} " + " ".join(f"{a + '/best':>14}" for a in ours)
print(hdr)
logs = {(a, k): [] for a in ours for k in "tcm"}
worst = {(a, k): 0.0 for a in ours for k in "tcm"}
for (kind, name), d in sorted(rows.items(), key=lambda x: (x[0][0] != "workload", x[0][1])):
    for k, label, unit in (("t", "time", 1.0), ("c", "cpu", 1.0), ("m", "rss_MB", 1 / 1024)):
        vals = {a: med(d, a, k) for a in ["system"] + refs + ours}
        have = [vals[a] for a in refs if vals[a] is not None]
        if not have:
            continue
        best = min(have)
        cells = []
        for a in ours:
            if vals[a] is None or best <= 0:
                cells.append(f"{'-':>14}")
                continue
            r = vals[a] / best
            logs[(a, k)].append(math.log(r))
            worst[(a, k)] = max(worst[(a, k)], r)
            flag = "!" if (k in "tc" and r > 1.10) or (k == "m" and r > 1.5) else " "
            cells.append(f"{r:13.3f}{flag}")
        fmt = lambda v: f"{v * unit:9.3f}" if v is not None else f"{'-':>9}"
        print(f"{kind:8} {name:22} {label:6} {fmt(vals['system'])} " +
              " ".join(fmt(vals[a]) for a in refs) + f" {fmt(best)} " + " ".join(cells))
print()
for k, label, limit in (("t", "time", "geomean <= 1.00, every row <= 1.10"),
                        ("c", "cpu", "(user+sys; informative: wall time is the target)"),
                        ("m", "peak RSS", "geomean <= 1.00, every row <= 1.50")):
    parts = []
    for a in ours:
        l = logs[(a, k)]
        g = math.exp(sum(l) / len(l)) if l else float("nan")
        parts.append(f"{a} geomean {g:.3f} (worst {worst[(a, k)]:.3f}, {len(l)} rows)")
        if k != "c":
            parts[-1] += " ok" if l and g <= 1.0 and worst[(a, k)] <= (1.10 if k == "t" else 1.5) else " MISSED"
    print(f"{label:9} target {limit}: " + "; ".join(parts))
EOF
