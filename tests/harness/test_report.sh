#!/usr/bin/env bash
# `heapbench report`: one self-contained HTML page from the committed results
# (data/small.csv and its companions) and from a sweep made from them,
# opened in a real browser (Debian's chromium, headless): every figure there
# and sized, no script error, a screenshot written. The page's own check is
# shown able to fail (a figure emptied). Nothing fetched from the network;
# summary tables before figures; RSS traces folded; without gnuplot a page
# of tables; bad input refused with exit 2 and one line, an old page kept.
#   test_report.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
scripts=$here/../../plots
command -v gnuplot > /dev/null || { echo "gnuplot is not installed (scripts/setup.sh installs it)"; exit 77; }
command -v chromium > /dev/null || { echo "chromium is not installed (scripts/setup.sh installs it)"; exit 77; }
cp "$here"/data/small.csv "$here"/data/small.pauses.csv "$here"/data/small.rss.csv .

# Headless chromium, no network and nothing of the user's: a fresh profile
# each time. browse OUTPUT ARGS... (the page last)
browse() {
    local out=$1; shift
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d -p "$PWD")" --enable-logging=stderr --v=0 "$@" > "$out" 2> "$out.log"
}

"$hb" report small.csv --scripts "$scripts" > report.out 2> report.err
[ $? = 0 ] && [ "$(cat report.out)" = small.html ] && [ ! -s report.err ] && ok \
    || bad "report: $(cat report.out report.err)"
[ -s small.html ] && ok || bad "no page"
# as many figures as plot draws from the same file (SVG only)
"$hb" plot small.csv --scripts "$scripts" --out p > /dev/null
nfig=$(ls p/*.svg | wc -l)
[ "$(grep -c '<figure id=' small.html)" = "$nfig" ] && [ "$(grep -c '<svg' small.html)" = "$nfig" ] && ok \
    || bad "figures: $(grep -c '<figure' small.html) in the page, $nfig from plot"
# self-contained: nothing to fetch (the SVG namespace names are not fetched)
grep -Eo '(src|href)="[^"#][^"]*"|<link|@import|url\((http|//)' small.html | grep -v 'w3.org' | grep -q . \
    && bad "the page refers outside itself: $(grep -Eo '(src|href)="[^"#][^"]*"|<link|@import' small.html | head -3)" || ok
# ids made unique per figure (gnuplot names the same ids in every figure)
[ -z "$(grep -o "id=['\"][^'\"]*['\"]" small.html | sort | uniq -d)" ] && ok \
    || bad "repeated ids: $(grep -o "id=['\"][^'\"]*['\"]" small.html | sort | uniq -d | head -3)"
# order: the summary tables, then the figures; the RSS traces in <details>
python3 - small.html <<'PY' && ok || bad "the page's order"
import re, sys
h = open(sys.argv[1]).read()
first_fig = h.index("<figure")
for s in ('id="rows"', 'id="allocators"', 'id="collectors"', "geometric mean over the cells"):
    assert h.index(s) < first_fig, s
assert h.index('id="fig-time-allocators"') < h.index('id="fig-peak_rss-allocators"') < h.index('id="fig-pause_cdf-')
d = h.index("<details>"); e = h.index("</details>")
rss = [m.start() for m in re.finditer('<figure id="fig-rss-', h)]
assert rss and all(d < i < e for i in rss), "RSS traces outside <details>"
assert "6 skipped" in h and "xthread needs at least 2 threads" in h, "skipped rows and their reason"
PY

# the browser: every figure loaded and sized, no script error, a screenshot
browse dom.html --dump-dom "file://$PWD/small.html"
grep -q "data-figures=\"$nfig/$nfig\"" dom.html && ok \
    || bad "the browser's count: $(grep -o 'data-figures="[^"]*"' dom.html) of $nfig; $(grep -o 'id="check">[^<]*' dom.html)"
grep -q "All $nfig of $nfig figures rendered" dom.html && ok || bad "the page's line: $(grep -o 'id="check">[^<]*' dom.html)"
grep -Ei 'Uncaught|CONSOLE.*(error|exception)' dom.html.log && bad "script errors" || ok
browse shot.out --screenshot="$PWD/report.png" --window-size=1300,2400 --hide-scrollbars "file://$PWD/small.html"
python3 - report.png <<'PY' && ok || bad "screenshot: $(cat shot.out.log | tail -2)"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n" and len(b) > 50000, len(b)
assert struct.unpack(">II", b[16:24]) == (1300, 2400)
PY

# the check can fail: one figure emptied is reported missing
python3 - small.html broken.html <<'PY'
import re, sys
h = open(sys.argv[1]).read()
i = h.index("<svg", h.index('<figure id="fig-time-allocators"')); j = h.index("</svg>", i) + 6
open(sys.argv[2], "w").write(h[:i] + "<svg></svg>" + h[j:])
PY
browse dom2.html --dump-dom "file://$PWD/broken.html"
grep -q "data-figures=\"$((nfig - 1))/$nfig\"" dom2.html && grep -q "missing fig-time-allocators" dom2.html && ok \
    || bad "an emptied figure not caught: $(grep -o 'id="check">[^<]*' dom2.html)"

# ... and a script error would be seen
sed 's|<script>|<script>nosuchfn();</script><script>|' small.html > scripterr.html
browse dom4.html --dump-dom "file://$PWD/scripterr.html"
grep -q 'Uncaught ReferenceError: nosuchfn' dom4.html.log && ok || bad "a script error not seen in chromium's log"

# ---- a sweep: its figure and its legend in the page
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
            w.writerow(dict(r, cell=cell, params=r["params"] + ";threshold=%d" % th,
                            ops_per_s="%.1f" % (f * float(r["ops_per_s"]))))
    for q in pauses:
        if q["cell"] == base:
            wp.writerow(dict(q, cell=cell))
PY
"$hb" report sweep/s.csv --out sweep/page.html --scripts "$scripts" > /dev/null 2> sweep.err && ok || bad "sweep report: $(cat sweep.err)"
grep -q '<figure id="fig-sweep-cycles-threshold">' sweep/page.html && grep -q 'threshold=700 (117 pauses)' sweep/page.html \
    && ok || bad "no sweep figure or legend in the page"
browse dom3.html --dump-dom "file://$PWD/sweep/page.html"
n=$(grep -c '<figure id=' sweep/page.html)
grep -q "data-figures=\"$n/$n\"" dom3.html && ok || bad "sweep page in the browser: $(grep -o 'id="check">[^<]*' dom3.html)"

# ---- without gnuplot: the tables, and a line saying why there are no figures
PATH=/nonexistent "$hb" report small.csv --out nofig.html > nofig.out 2> nofig.err
[ $? = 0 ] && grep -q "gnuplot is not installed" nofig.err && grep -q "No figures: gnuplot is not installed" nofig.html \
    && grep -q 'id="allocators"' nofig.html && ok || bad "without gnuplot: $(cat nofig.err)"

# ---- --paired: the rankings paired by run and repetition, and the page
# says so (small.csv's rows twice over: 6 repetitions a cell, the fewest
# that are paired)
python3 - small.csv six.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), rows[0].keys(), lineterminator="\n")
w.writeheader()
w.writerows(rows)
for r in rows:
    r["rep"] = str(int(r["rep"]) + 3)
    w.writerow(r)
PY
PATH=/nonexistent "$hb" report six.csv --paired --out paired.html > /dev/null 2>&1
grep -q "each repetition paired with the reference's of the same run and repetition" paired.html \
    && grep -q "Wilcoxon signed-rank" paired.html && ! grep -q "Wilcoxon" nofig.html && ok \
    || bad "report --paired: $(grep -o 'in the same cell[^.]*' paired.html | head -2)"

# ---- refusals: exit 2, one line; an existing page is kept
echo old > keep.html
expect2 "missing file" report nosuch.csv --out keep.html
{ head -3 small.csv; printf '"open\n'; } > broken.csv
expect2 "malformed" report broken.csv --out keep.html --scripts "$scripts"
[ "$(cat keep.html)" = old ] && [ ! -e keep.html.tmp ] && ok || bad "the old page was touched"
expect2 "not .html" report small.csv --out page.txt
expect2 "not .csv" report small.json
expect2 "unknown option" report small.csv --frobnicate
expect2 "two files" report small.csv small.csv
expect2 "no such directory" report small.csv --out nodir/page.html --scripts "$scripts"

finish
