#!/usr/bin/env bash
# `heapbench plot`: every kind of figure drawn from the committed results in
# data/small.csv (a real run: allocator workloads and a collector workload,
# with its pauses and RSS companions), each PNG and SVG checked for being a
# real image with content; figures without data skipped with a note; bad
# input refused with exit 2 and one line.
#   test_plot.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
scripts=$here/../../plots
command -v gnuplot > /dev/null || { echo "gnuplot is not installed (scripts/setup.sh installs it)"; exit 77; }

cp "$here"/data/small.csv "$here"/data/small.pauses.csv "$here"/data/small.rss.csv .
"$hb" plot small.csv --scripts "$scripts" > plot.out 2> plot.err
rc=$?
[ $rc = 0 ] && ok || { bad "plot exited $rc"; cat plot.err; }
[ ! -s plot.err ] && ok || bad "stderr: $(cat plot.err)"
# every kind of figure, in both formats: throughput of the allocators
# (allocator-only workloads), of the collectors (on the reference
# allocator), and of the allocators under each collector that has several
for kind in throughput-allocators. throughput-collectors. throughput-allocators-rcgen. \
            throughput-allocators-marksweep. scaling- latency- pause_cdf- mmu- rss-; do
    for ext in png svg; do
        ls plots/small/$kind*$ext > /dev/null 2>&1 && ok || bad "no $kind*$ext"
    done
done
grep -q "figures (PNG and SVG) in plots/small" plot.out && ok || bad "summary line: $(tail -1 plot.out)"

# A real image: PNG signature, its size from IHDR, and more than a handful
# of distinct colours once decoded (an empty plot has axes and nothing else:
# a few greys); an SVG with drawn paths and text.
python3 - plots/small <<'PY' && ok || bad "image contents"
import glob, os, struct, sys, zlib
d = sys.argv[1]
pngs, svgs = sorted(glob.glob(d + "/*.png")), sorted(glob.glob(d + "/*.svg"))
assert pngs and len(pngs) == len(svgs), (len(pngs), len(svgs))
def colours(path):
    b = open(path, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", path + ": not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(b):
        n, kind = struct.unpack(">I4s", b[pos:pos + 8])
        body = b[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert w >= 400 and h >= 300, (path, w, h)
    bpp = {2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev, seen = bytearray(stride), set()
    for y in range(h):  # undo the PNG row filters
        f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            up, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: row[x] = (row[x] + a) & 255
            elif f == 2: row[x] = (row[x] + up) & 255
            elif f == 3: row[x] = (row[x] + (a + up) // 2) & 255
            elif f == 4:
                p = a + up - c
                pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        if y % 3 == 0:
            seen.update(bytes(row[i:i + 3]) for i in range(0, stride, bpp * 2))
        prev = row
    return len(seen)
for p in pngs:
    n = colours(p)
    # anti-aliased lines and text give dozens; a blank frame gives a few
    assert n > 20, "%s: only %d colours" % (p, n)
    assert os.path.getsize(p) > 8000, p
for s in svgs:
    t = open(s).read()
    assert t.lstrip().startswith("<?xml") and "<svg" in t and t.rstrip().endswith("</svg>"), s
    assert t.count("<path") >= 5 and "<text" in t, s
PY
# the data files beside them, and the scripts run by hand on them
ls plots/small/data/throughput-allocators.dat > /dev/null && ok || bad "no data file"
gnuplot -c "$scripts/throughput.gp" plots/small/data/throughput-allocators.dat byhand.png "by hand" 2> gp.err \
    && [ -s byhand.png ] && ok || bad "the script by hand: $(cat gp.err)"
# the pause CDF's staircase: per series, from the shortest pause to
# fraction 1, strictly rising in both, no more points than pauses (thinned:
# harness/plot_lines.c)
python3 - plots/small/data/pause_cdf-cycles_t1_small.dat small.pauses.csv <<'PY' && ok || bad "pause CDF data"
import csv, sys, re
blocks = [b for b in open(sys.argv[1]).read().split("\n\n\n") if b.strip()]
assert blocks
for b in blocks:
    lines = b.strip().split("\n")
    n = int(re.search(r"\((\d+) pauses\)", lines[0]).group(1))
    pts = [tuple(map(float, l.split())) for l in lines[1:]]
    assert 2 <= len(pts) <= n and pts[-1][1] == 1.0, (lines[0], len(pts), n)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        assert x1 > x0 and y1 > y0, (x0, x1, y0, y1)
PY
# a figure with a panel per collector, by hand from another directory
(cd plots && gnuplot -c "$scripts/pause_cdf.gp" small/data/pause_cdf-cycles_t1_small.dat ../byhand.svg) 2> gp.err \
    && grep -q "under marksweep" byhand.svg && ok || bad "panels by hand: $(cat gp.err)"

# ---- no companions: the pause figures are skipped with a note, not drawn empty
mkdir nocomp && cp small.csv nocomp/
"$hb" plot nocomp/small.csv --scripts "$scripts" --out nocomp/out > nc.out 2> nc.err
[ $? = 0 ] && ok || bad "plot without companions: $(cat nc.err)"
grep -q "skipped: pause CDFs and MMU curves: no pauses file" nc.out && ok || bad "no skip note: $(cat nc.out)"
grep -q "skipped: RSS timelines" nc.out && ok || bad "no RSS skip note"
ls nocomp/out/pause_cdf-* nocomp/out/mmu-* nocomp/out/rss-* > /dev/null 2>&1 && bad "empty figures drawn" || ok
# allocator-only rows: no collector throughput figure
head -1 small.csv > alloc.csv && grep ',none,isolated,' small.csv >> alloc.csv
"$hb" plot alloc.csv --scripts "$scripts" --out alloc > al.out 2>&1
grep -q "skipped: throughput-collectors" al.out && ok || bad "collector figure not skipped: $(cat al.out)"
# --ref another backend
"$hb" plot small.csv --scripts "$scripts" --out ref --ref arena > /dev/null 2>&1 && \
    grep -q '"churn t1 small"' ref/data/throughput-allocators.dat && ok || bad "--ref arena"
head -1 ref/data/throughput-allocators.dat | grep -q '^group "arena (reference)" lo hi "system" lo hi$' \
    && ok || bad "--ref arena: header $(head -1 ref/data/throughput-allocators.dat)"
head -1 ref/data/throughput-allocators-rcgen.dat | grep -q '^group "arena (reference)"' && ok || bad "--ref under rcgen"
# the collectors on the reference allocator, against --ref-collector
head -1 plots/small/data/throughput-collectors.dat | grep -q '^group "rcgen (reference)" lo hi "marksweep" lo hi$' \
    && ok || bad "collectors header: $(head -1 plots/small/data/throughput-collectors.dat)"
"$hb" plot small.csv --scripts "$scripts" --out refc --ref-collector marksweep > /dev/null 2>&1 && \
    head -1 refc/data/throughput-collectors.dat | grep -q '^group "marksweep (reference)"' && ok || bad "--ref-collector"
"$hb" plot small.csv --scripts "$scripts" --out refn --ref-collector nosuch > rn.out 2>&1
grep -q "skipped: throughput-collectors: no nosuch rows to normalise to (--ref-collector)" rn.out && ok \
    || bad "unknown --ref-collector: $(cat rn.out)"
# a collector with one allocator under it: nothing to compare, no figure
grep -v '/arena/marksweep/' small.csv > one.csv
"$hb" plot one.csv --scripts "$scripts" --out one > one.out 2>&1
grep -q "skipped: throughput-allocators-marksweep: system alone" one.out && ok || bad "one allocator: $(cat one.out)"
ls one/throughput-allocators-marksweep.* > /dev/null 2>&1 && bad "a figure of one bar" || ok

# ---- a sweep: rcgen's cells of cycles at threshold 100, 700 and 5000 (made
# from the real ones, throughput scaled 1, 2, 3, pauses copied): a figure of
# each metric against the threshold, and in the pause CDF and latency
# figures a series per setting, labelled with it, never merged
mkdir sweep && python3 - small.csv small.pauses.csv sweep/s.csv sweep/s.pauses.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]))); pauses = list(csv.DictReader(open(sys.argv[2])))
base = "cycles/system/rcgen/isolated/t1/small/ops=4000"
w = csv.DictWriter(open(sys.argv[3], "w", newline=""), rows[0].keys(), lineterminator="\n"); w.writeheader()
wp = csv.DictWriter(open(sys.argv[4], "w", newline=""), pauses[0].keys(), lineterminator="\n"); wp.writeheader()
for f, th in ((1, 100), (2, 700), (3, 5000)):
    cell = base + ";threshold=%d" % th
    for r in rows:
        if r["cell"] == base:
            r = dict(r, cell=cell, params=r["params"] + ";threshold=%d" % th,
                     ops_per_s="%.1f" % (f * float(r["ops_per_s"])))
            w.writerow(r)
    for q in pauses:
        if q["cell"] == base:
            wp.writerow(dict(q, cell=cell))
PY
"$hb" plot sweep/s.csv --scripts "$scripts" --out sweep/p > sweep.out 2>&1 && ok || bad "plot of a sweep: $(cat sweep.out)"
[ -s sweep/p/sweep-cycles-threshold.svg ] && [ -s sweep/p/sweep-cycles-threshold.png ] && ok \
    || bad "no sweep figure: $(cat sweep.out)"
python3 - sweep/p/data/sweep-cycles-threshold.dat <<'PY' && ok || bad "sweep data: $(cat sweep/p/data/sweep-cycles-threshold.dat)"
import sys
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
assert lines[0] == ['"system+rcgen"'], lines[0]
xs = [float(l[0]) for l in lines[1:]]
assert xs == [100, 700, 5000], xs
ops = [float(l[1]) for l in lines[1:]]  # the first metric: ops_per_s, scaled 1, 2, 3
assert abs(ops[1] / ops[0] - 2) < 1e-3 and abs(ops[2] / ops[0] - 3) < 1e-3, ops
PY
[ "$(cat sweep/p/data/pause_cdf-*.dat | grep -c '^"system+rcgen threshold=[0-9]* (')" = 3 ] && ok \
    || bad "pause CDF series of a sweep: $(grep '^"' sweep/p/data/pause_cdf-*.dat)"
[ "$(grep -c '^"system+rcgen threshold=' sweep/p/data/latency-*.dat)" = 3 ] && ok || bad "latency series merged"

# ---- long names: two cells whose names run past what a file name can hold
# (many parameters) and differ only at their ends: every figure drawn, each
# file name under 255 bytes, the two cells' files apart
mkdir long && python3 - small.csv small.pauses.csv long/l.csv long/l.pauses.csv small.rss.csv long/l.rss.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]))); pauses = list(csv.DictReader(open(sys.argv[2])))
rss = list(csv.DictReader(open(sys.argv[5])))
wr = csv.DictWriter(open(sys.argv[6], "w", newline=""), rss[0].keys(), lineterminator="\n"); wr.writeheader()
base = "cycles/system/rcgen/isolated/t1/small/ops=4000"
w = csv.DictWriter(open(sys.argv[3], "w", newline=""), rows[0].keys(), lineterminator="\n"); w.writeheader()
wp = csv.DictWriter(open(sys.argv[4], "w", newline=""), pauses[0].keys(), lineterminator="\n"); wp.writeheader()
pad = ";".join("p%02d=%s" % (i, "x" * 20) for i in range(14))
for th in (100, 700):
    cell = base + ";" + pad + ";threshold=%d" % th
    for r in rows:
        if r["cell"] == base:
            w.writerow(dict(r, cell=cell, params=r["params"] + ";" + pad + ";threshold=%d" % th))
    for q in pauses:
        if q["cell"] == base:
            wp.writerow(dict(q, cell=cell))
    for q in rss:
        if q["cell"] == base:
            wr.writerow(dict(q, cell=cell))
PY
"$hb" plot long/l.csv --scripts "$scripts" --out long/p > long.out 2>&1 && ok || bad "plot of long names: $(cat long.out)"
long_names=$(find long/p -printf '%f\n' | awk 'length($0) > 255')
[ -z "$long_names" ] && ok || bad "file names of 256 bytes or more: $long_names"
[ "$(ls long/p/data | grep -c '^pause_cdf-')" -ge 1 ] && [ "$(ls long/p/data | grep -c '^rss-')" -ge 2 ] && ok \
    || bad "long names: figures missing or merged: $(ls long/p/data)"

# ---- refusals: exit 2, one line
expect2 "no file" plot
expect2 "missing file" plot nosuch.csv --scripts "$scripts"
expect2 "not .csv" plot small.txt --scripts "$scripts"
expect2 "unknown option" plot small.csv --frobnicate
expect2 "no scripts" plot small.csv --scripts /nonexistent
printf 'a,b\n1\n' > broken.csv
expect2 "malformed" plot broken.csv --scripts "$scripts"
grep -q "broken.csv:2" err.txt && ok || bad "malformed: no file:line: $(cat err.txt)"

# Allocator names the scripts do not know (allocators given as libraries)
# get colours of their own: the same results under two unknown names, each
# with collectors, are drawn in two spare colours, not in their collector's.
mkdir -p unk && for f in small small.pauses small.rss; do
    sed -e 's/\barena\b/mylib/g; s/\bsystem\b/yourlib/g' "$here/data/$f.csv" > unk/$f.csv
done
(cd unk && "$hb" plot small.csv --ref yourlib --scripts "$scripts" > plot.out 2> plot.err) && ok \
    || bad "plot of unknown allocators: $(cat unk/plot.err)"
python3 - unk/plots/small <<'PY' && ok || bad "unknown allocators' colours"
import glob, re, sys
svgs = glob.glob(sys.argv[1] + "/pause_cdf-*.svg")
assert svgs
for s in svgs:
    strokes = set(re.findall(r"stroke='rgb\(([0-9, ]*)\)'", open(s).read()))
    norm = {tuple(int(x) for x in c.split(",")) for c in strokes}
    # style.gp's spares 1 and 2, by the names' rank (mylib, yourlib)
    assert (127, 127, 127) in norm and (0, 0, 0) in norm, (s, norm)
    assert (188, 189, 34) not in norm and (57, 59, 121) not in norm, (s, "a collector's colour on an allocator")
PY
# and many: twelve unknown names, twelve colours, none a known backend's
cat > colours.gp <<'GP'
names = ARGC >= 4 ? ARG4 : ""
out = "colours.png"; W = 200; H = 100
d = ""; r = ARG1; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
load d . "style.gp"
do for [k=1:words(names)] { print colour(word(names, k) . "+rcgen", k % 3) }
GP
gnuplot -c colours.gp "$scripts/style.gp" x x "system u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12" 2> colours.txt
python3 - <<'PY' && ok || bad "twelve unknown names' colours: $(cat colours.txt)"
c = open("colours.txt").read().split()
assert len(c) == 13 and c[0] == "#1f77b4", c
known = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79"}
assert len(set(c[1:])) == 12 and not set(c[1:]) & known, c
PY

finish
