#!/usr/bin/env python3
"""ratio-table.py FILE.csv... [--best A,B,C] [--metrics wall_s,cpu_s,peak_rss_kb] [--targets A,B] [--spread] [--paired]

Per cell of a results file (workload, threads, size, params; every
allocator side by side), the median of each metric on each allocator as a
ratio to the best of the reference allocators (by default jemalloc,
mimalloc and tcmalloc: the lowest median among them, per cell and metric;
every metric here is lower-is-better), then the geometric mean of each
allocator's ratios over the cells. Below 1 beats the best reference.
`cpu_s` is user_s + sys_s (on a busy machine it varies less than wall_s:
other tenants' load stretches wall time, not CPU time).

With --targets A,B, each of those allocators is also checked against
issue 15's targets, per metric: wall_s every cell <= 1.10 and geometric
mean <= 1.00; peak_rss_kb every cell <= 1.50 and geometric mean <= 1.00
(cpu_s, and `instructions` where a file has that column, as
scripts/alloc-instructions.sh writes it, are shown against the time
limits, for information). A line says
`met` or `MISSED` with the worst cell; the exit status does not change.

With --spread, each ratio is followed by its repetitions' spread: half
the width of their median's distribution-free 95% interval as a
percentage of the median, so `1.04 ±6%` next to a best of `±5%` says the
two are not told apart by these runs, where `1.30 ±2%` is a real gap. Up
to 8 repetitions the interval is their range (max - min); from 9 it
leaves out the extremes the binomial allows (the 2nd to the 8th of 9, the
4th to the 12th of 15), the rule `heapbench run --max-reps` stops by
(harness/stats.h, hb_stats_median_interval). On a shared machine the
spread is often larger than the gaps being chased.

With --paired, a ratio is instead the median of the repetitions' own
ratios: repetition r of the allocator over repetition r of the best
reference (the same run_id and rep; the reference is still the one with
the lowest median). `heapbench run --interleave` runs repetition r of the
cells that differ only in allocator one after another, seconds apart, so
a slow spell of a shared machine that stretches one stretches the other,
and cancels in their ratio; the ratio of medians takes its two medians
from different rounds, minutes apart. --spread is then the paired ratios'
own spread. (A reference other than the best can read below 1 here: the
median of ratios is not the ratio of medians.) Without --interleave a
cell's repetitions run together and the pairs are no closer in time than
any other two runs.

Rows of `heapbench run --steady` add a line: how many runs were thrown
away for a slow host, and the host readings of the rows kept.

Reusable for any results file (programs, or in-process workloads): it
reads only the documented columns. Rows that are not `ok` are counted and
listed, never averaged; a cell with no ok row on some allocator shows `-`
there. Exit status 1 when any row is not ok, 2 on bad input.
"""
import csv
import math
import statistics
import sys
from collections import defaultdict


def median_interval(xs):
    """The median's 95% interval: the k-th smallest and k-th largest, k the
    largest with P(Bin(n, 1/2) < k) <= 0.025, at least 1 (the range)."""
    s, n = sorted(xs), len(xs)
    k, tail = 1, 0.0
    for j in range(n // 2):
        tail += math.comb(n, j) / 2 ** n
        if tail > 0.025:
            break
        k = j + 1
    return s[k - 1], s[n - k]


def main(argv):
    args = list(argv)
    best = ["jemalloc", "mimalloc", "tcmalloc"]
    metrics = ["wall_s", "cpu_s", "peak_rss_kb"]
    targets = []
    files = []
    spread = False
    paired = False
    while args:
        a = args.pop(0)
        if a == "--best" and args:
            best = args.pop(0).split(",")
        elif a == "--metrics" and args:
            metrics = args.pop(0).split(",")
        elif a == "--targets" and args:
            targets = args.pop(0).split(",")
        elif a == "--spread":
            spread = True
        elif a == "--paired":
            paired = True
        elif a.startswith("--"):
            print(f"ratio-table: unknown option {a}", file=sys.stderr)
            return 2
        else:
            files.append(a)
    if not files:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    rows = []
    for f in files:
        try:
            rows += list(csv.DictReader(open(f)))
        except OSError as e:
            print(f"ratio-table: {f}: {e.strerror}", file=sys.stderr)
            return 2
    for r in rows:
        r["cpu_s"] = str(float(r["user_s"]) + float(r["sys_s"])) if r.get("user_s") and r.get("sys_s") else ""
    if not rows or any(m not in rows[0] for m in metrics + ["workload", "allocator", "status"]):
        print("ratio-table: not a results file with those columns", file=sys.stderr)
        return 2
    # a cell of the table: everything but the allocator
    key = lambda r: (r["workload"], int(r["threads"]), r["size"], r["params"], r["collector"], r["heap"])
    allocs, cells, bad = [], [], []
    vals = defaultdict(list)  # (cell, allocator, metric) -> values
    byrep = defaultdict(dict)  # (cell, allocator, metric) -> {(run_id, rep): value}
    for r in rows:
        k = key(r)
        if r["allocator"] not in allocs:
            allocs.append(r["allocator"])
        if k not in cells:
            cells.append(k)
        if r["status"] != "ok":
            bad.append(r)
            continue
        for m in metrics:
            if r[m] != "":
                vals[(k, r["allocator"], m)].append(float(r[m]))
                byrep[(k, r["allocator"], m)][(r.get("run_id", ""), r.get("rep", ""))] = float(r[m])
    # a fixed order: the builtins as `heapbench list` has them, then the
    # others (libraries by path) by name; cells by workload and threads
    builtin = ["system", "arena", "freelist", "jemalloc", "mimalloc", "tcmalloc"]
    allocs.sort(key=lambda a: (builtin.index(a) if a in builtin else len(builtin), a))
    cells.sort()
    med = {k: statistics.median(v) for k, v in vals.items()}
    refs = [a for a in best if a in allocs]
    if not refs:
        print(f"ratio-table: none of the reference allocators {','.join(best)} is in the file", file=sys.stderr)
        return 2
    reps = max((len(v) for v in vals.values()), default=0)
    print(f"{len(rows)} rows, {len(rows) - len(bad)} ok; up to {reps} repetitions a cell; "
          + (f"ratio = median of each repetition's ratio to the same repetition of the best (lowest median) of "
             f"{','.join(refs)} (lower is better)" if paired else
             f"ratio = median / best median of {','.join(refs)} (lower is better)"))
    logs = defaultdict(list)  # (allocator, metric) -> log ratios
    worst = {}  # (allocator, metric) -> (ratio, cell label)
    limits = {"wall_s": (1.10, 1.00), "cpu_s": (1.10, 1.00), "instructions": (1.10, 1.00), "peak_rss_kb": (1.50, 1.00)}
    # a row's label: workload, threads, size, and the parameters whose values
    # differ between the cells of its workload (larson's chain of short
    # workers beside plain larson); a parameter all its cells share is left out
    pmap = lambda c: dict(kv.split("=", 1) for kv in c[3].split(";") if "=" in kv)
    params_of = defaultdict(list)  # workload -> its cells' parameters
    for c in cells:
        params_of[c[0]].append(pmap(c))
    varied = {wl: {k for k in set().union(*ps) if len({p.get(k) for p in ps}) > 1}
              for wl, ps in params_of.items()}
    def label_of(c):
        shown = " ".join(f"{k}={v}" for k, v in pmap(c).items() if k in varied[c[0]])
        return f"{c[0]} t{c[1]}" + ("" if c[2] == "small" else f" {c[2]}") + (f" ({shown})" if shown else "")
    w = max(len(label_of(c)) for c in cells) + 2
    for m in metrics:
        print(f"\n{m}: median of the best reference, then each allocator's ratio to it")
        print(f"{'cell':{w}} {'best':>12}  " + " ".join(f"{a[:12]:>12}" for a in allocs))
        for c in cells:
            ref = [med[(c, a, m)] for a in refs if (c, a, m) in med]
            label = label_of(c)
            if not ref or min(ref) <= 0:
                print(f"{label:{w}} {'-':>12}")
                continue
            b = min(ref)
            bref = next(a for a in refs if med.get((c, a, m)) == b)
            cols = []
            for a in allocs:
                v = med.get((c, a, m))
                # the values the spread is taken over, and their median
                xs, mid = vals.get((c, a, m), []), v
                if v is not None and paired:
                    # each repetition over the reference's same repetition
                    mine, theirs = byrep[(c, a, m)], byrep[(c, bref, m)]
                    xs = [mine[k] / theirs[k] for k in mine if k in theirs and theirs[k] > 0]
                    mid = statistics.median(xs) if xs else None
                    v = mid * b if xs else None
                if v is None:
                    cols.append(f"{'-':>12}")
                    continue
                if spread:
                    lo, hi = median_interval(xs)
                    pct = (hi - lo) / 2 / mid * 100 if v > 0 else 0.0
                    sp = f"±{pct:.0f}%" if pct < 99.5 else ">±99%"
                    cols.append(f"{v / b:6.2f} {sp:>5}")
                else:
                    cols.append(f"{v / b:12.2f}")
                if v > 0:
                    logs[(a, m)].append(math.log(v / b))
                    if (a, m) not in worst or v / b > worst[(a, m)][0]:
                        worst[(a, m)] = (v / b, label)
            print(f"{label:{w}} {b:12.4g}  " + " ".join(cols))
        gm = []
        for a in allocs:
            l = logs[(a, m)]
            gm.append(f"{math.exp(sum(l) / len(l)):12.2f}" if l else f"{'-':>12}")
        print(f"{'geometric mean':{w}} {'':>12}  " + " ".join(gm))
        for a in targets:
            l = logs[(a, m)]
            if not l or m not in limits:
                continue
            cap, gcap = limits[m]
            g = math.exp(sum(l) / len(l))
            wr, wc = worst[(a, m)]
            ok = g <= gcap and wr <= cap
            # two decimals, or three where two would round a miss onto the limit
            fmt = lambda x, lim: f"{x:.2f}" if (round(x, 2) <= lim) == (x <= lim) else f"{x:.3f}"
            print(f"  target {a}: geomean {fmt(g, gcap)} (<= {gcap:.2f}), worst {fmt(wr, cap)} in {wc} (<= {cap:.2f}): "
                  f"{'met' if ok else 'MISSED'}" + (" (information)" if m in ("cpu_s", "instructions") else ""))
    # run --steady's rows say how slow the host read around each kept run
    # and how many runs were thrown away (docs/harness.md)
    slow = [float(r["host_slow"]) for r in rows if r.get("host_slow")]
    if slow:
        slow.sort()
        retaken = sum(int(r["retakes"]) for r in rows if r.get("retakes"))
        print(f"\nhost (run --steady, {len(slow)} of {len(rows)} rows): {retaken} runs thrown away for a slow host; "
              f"host_slow median {statistics.median(slow):.2f}, max {slow[-1]:.2f}")
    if bad:
        print(f"\n{len(bad)} rows not ok:")
        for r in bad[:20]:
            print(f"  {r['cell']} rep {r['rep']}: {r['status']}: {r['error']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
