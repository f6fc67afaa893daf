#!/usr/bin/env bash
# `heapbench merge`: shard-like results of real runs joined with their
# companions and JSON; duplicates dropped; and every refusal (different
# header, different environment without --force, malformed CSV, OUT an input
# or existing or unwritable) exits 2 with one line on stderr, leaves OUT and
# its companions absent, no temporary file behind, and the inputs untouched.
#   test_merge.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
rows() { echo $(($(wc -l < "$1") - 1)); }

# ---- three shards, as three machines would write them
n=0
for a in system arena freelist; do
    n=$((n + 1))
    "$hb" run --allocators $a --workloads churn,larson --threads 1 --reps 2 --param ops=5000 \
        --out s$n.csv > s$n.out 2> s$n.err || { bad "run s$n exited $?"; cat s$n.err; }
done
[ "$(rows s1.csv)" = 4 ] && [ "$(rows s2.csv)" = 4 ] && [ "$(rows s3.csv)" = 4 ] && ok || bad "shard rows"
# Companions as the contract describes them, where the run wrote none: one
# RSS sample per cell and rep for shards 1 and 2; shard 3 keeps whatever the
# run wrote (with or without companions).
for s in s1 s2; do
    [ -e $s.rss.csv ] || python3 - $s.csv $s.rss.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
with open(sys.argv[2], "w") as f:
    f.write("cell,rep,ms,rss_bytes,live_bytes,run_id\n")
    for r in rows:
        f.write("%s,%s,10,%d,,%s\n" % (r["cell"], r["rep"], int(r["peak_rss_kb"]) * 1024, r["run_id"]))
PY
done
crows() { # companion rows of the shards given
    local t=0 f
    for f in "$@"; do [ -e "$f" ] && t=$((t + $(rows "$f"))); done
    echo $t
}
mkdir keep && cp s*.csv keep/
unchanged() { # the inputs, byte for byte
    for f in keep/*; do cmp -s "$f" "$(basename "$f")" || { bad "$1: $(basename "$f") changed"; return; }; done
    ok
}
notmp() { ls ./*tmp* > /dev/null 2>&1 && bad "$1: temporary files left: $(ls ./*tmp*)" || ok; }

"$hb" merge all.csv s1.csv s2.csv s3.csv > merge.out 2> merge.err
rc=$?
[ $rc = 0 ] && ok || { bad "merge exited $rc"; cat merge.err; }
[ "$(rows all.csv)" = 12 ] && ok || bad "all.csv has $(rows all.csv) rows, want 12"
[ "$(head -1 all.csv)" = "$(head -1 s1.csv)" ] && ok || bad "all.csv header"
[ "$(grep -c '^run_id,' all.csv)" = 1 ] && ok || bad "more than one header"
[ ! -s merge.err ] && ok || bad "stderr on a clean merge: $(cat merge.err)"
python3 - all.csv s1.csv s2.csv s3.csv <<'PY' && ok || bad "all.csv content"
import csv, sys
out = list(csv.reader(open(sys.argv[1])))
ins = [row for f in sys.argv[2:] for row in list(csv.reader(open(f)))[1:]]
assert out[1:] == ins, "rows are the inputs' rows, unchanged, in input order"
PY
want=$(crows s1.rss.csv s2.rss.csv s3.rss.csv)
[ "$(rows all.rss.csv)" = "$want" ] && [ "$(head -1 all.rss.csv)" = "$(head -1 s1.rss.csv)" ] && ok \
    || bad "all.rss.csv: $(rows all.rss.csv) rows, want $want"
if [ -e s1.pauses.csv ] || [ -e s2.pauses.csv ] || [ -e s3.pauses.csv ]; then
    want=$(crows s1.pauses.csv s2.pauses.csv s3.pauses.csv)
    [ "$(rows all.pauses.csv)" = "$want" ] && ok || bad "all.pauses.csv: $(rows all.pauses.csv) rows, want $want"
else
    [ ! -e all.pauses.csv ] && ok || bad "all.pauses.csv without any input pauses"
fi
python3 - all.json <<'PY' && ok || bad "all.json"
import json, sys
d = json.load(open(sys.argv[1]))
names = {b["run_name"] for b in d["benchmarks"]}
assert len(names) == 6, names
assert sum(b["run_type"] == "iteration" for b in d["benchmarks"]) == 12
assert sum(b["run_type"] == "aggregate" for b in d["benchmarks"]) == 24
PY
unchanged "clean merge"
notmp "clean merge"

# RFC 4180 on the way in and out: CRLF line ends, a field with a comma, a
# newline and doubled quotes comes out as the same value
python3 - s2.csv tricky.csv <<'PY'
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
r[1][r[0].index("error")] = 'line one, then\nline "two"'
csv.writer(open(sys.argv[2], "w", newline="")).writerows(r)  # \r\n, minimal quoting
PY
grep -q $'\r$' tricky.csv && ok || bad "tricky.csv has no CRLF"
"$hb" merge tricky-merged.csv s1.csv tricky.csv > /dev/null 2> err.txt && ok || bad "tricky: $(cat err.txt)"
python3 - tricky-merged.csv s1.csv tricky.csv <<'PY' && ok || bad "tricky-merged.csv content"
import csv, sys
rd = lambda f: list(csv.reader(open(f, newline="")))
out = rd(sys.argv[1])
assert out == rd(sys.argv[2]) + rd(sys.argv[3])[1:], "rows differ"
assert 'line one, then\nline "two"' in [c for row in out for c in row]
PY

# ---- duplicates: the same shard twice keeps one copy of each row
"$hb" merge dup.csv s1.csv s2.csv s1.csv > /dev/null 2> dup.err
rc=$?
[ $rc = 0 ] && ok || bad "duplicate merge exited $rc: $(cat dup.err)"
[ "$(rows dup.csv)" = 8 ] && ok || bad "dup.csv has $(rows dup.csv) rows, want 8"
grep -q "dropped 4 duplicate rows" dup.err && ok || bad "duplicate count: $(cat dup.err)"
want=$(crows s1.rss.csv s2.rss.csv)
[ "$(rows dup.rss.csv)" = "$want" ] && ok || bad "dup.rss.csv has $(rows dup.rss.csv) rows, want $want"

# ---- refusals
expect2_clean() { # description, args...: exit 2, one line, nothing written
    local what=$1
    expect2 "$@" || return
    [ ! -e out.csv ] && [ ! -e out.json ] && [ ! -e out.rss.csv ] && [ ! -e out.pauses.csv ] \
        || { bad "$what: left output behind"; rm -f out.csv out.json out.rss.csv out.pauses.csv; return; }
    ok
    unchanged "$what"
    notmp "$what"
}
has() { grep -q -- "$1" err.txt && ok || bad "message lacks '$1': $(cat err.txt)"; }

# a different header (a renamed column)
sed '1s/,params,/,parameters,/' s2.csv > hdr.csv
expect2_clean "different header" merge out.csv s1.csv hdr.csv
has "hdr.csv"; has "parameters"

# a different environment: another host
python3 - s2.csv env.csv <<'PY'
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
h = r[0].index("host")
for row in r[1:]:
    row[h] = "elsewhere"
csv.writer(open(sys.argv[2], "w"), lineterminator="\n").writerows(r)
PY
cp env.csv keep/
expect2_clean "different host" merge out.csv s1.csv env.csv
has "env.csv differs from s1.csv in \[host\]"; has "host 'elsewhere' (env.csv:2)"; has "--force"
sed 's/^\(.*\),GNU /\1,Clang /' s2.csv > cc.csv
grep -q ',Clang ' cc.csv && cp cc.csv keep/ && expect2_clean "different compiler" merge out.csv cc.csv s1.csv \
    && has "in \[compiler\]"
"$hb" merge forced.csv s1.csv env.csv --force > /dev/null 2> force.err
rc=$?
[ $rc = 0 ] && [ "$(rows forced.csv)" = 8 ] && ok || bad "--force: exit $rc, $(rows forced.csv) rows"
grep -q "warning: --force: env.csv differs from s1.csv in \[host\]: host 'elsewhere'" force.err \
    && [ "$(wc -l < force.err)" = 1 ] && ok || bad "--force does not warn once: $(cat force.err)"
# several columns differ: all are named
python3 - s2.csv env2.csv <<'PY'
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
for c, v in (("host", "elsewhere"), ("kernel", "Plan 9")):
    r[-1][r[0].index(c)] = v
csv.writer(open(sys.argv[2], "w"), lineterminator="\n").writerows(r)
PY
cp env2.csv keep/
expect2_clean "different host and kernel" merge out.csv s1.csv env2.csv
has "in \[host kernel\]"; has "kernel 'Plan 9' (env2.csv:5)"
# a timestamp or pinned difference is not an environment difference
python3 - s2.csv pin.csv <<'PY'
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
for c in ("pinned", "timestamp"):
    for row in r[1:]:
        row[r[0].index(c)] = "x" + row[r[0].index(c)]
csv.writer(open(sys.argv[2], "w"), lineterminator="\n").writerows(r)
PY
"$hb" merge pin-merged.csv s1.csv pin.csv > /dev/null 2>&1 && ok || bad "pinned/timestamp refused"

# malformed inputs: file:line and what
{ cat s2.csv; printf '"unterminated,field\n'; } > quote.csv
cp quote.csv keep/
expect2_clean "unterminated quote" merge out.csv s1.csv quote.csv
has "quote.csv:6:"; has "unterminated"
{ cat s2.csv; printf 'a,b,c\n'; } > short.csv
cp short.csv keep/
expect2_clean "short row" merge out.csv s1.csv short.csv
has "short.csv:6: row has 3 fields"
{ cat s2.csv; printf 'x,y"z\n'; } > stray.csv
expect2_clean "quote in an unquoted field" merge out.csv s1.csv stray.csv
has "stray.csv:6:"
: > empty.csv
cp empty.csv keep/
expect2_clean "empty file" merge out.csv s1.csv empty.csv
has "empty.csv"; has "empty"
tail -n +2 s2.csv > nohead.csv
cp nohead.csv keep/
expect2_clean "missing header" merge out.csv s1.csv nohead.csv
has "nohead.csv:1:"
expect2_clean "missing input" merge out.csv s1.csv nosuch.csv
has "nosuch.csv"
cp s3.csv c.csv
cp c.csv keep/
{ head -1 s1.rss.csv; printf '"open\n'; } > c.rss.csv
cp c.rss.csv keep/
expect2_clean "malformed companion" merge out.csv s1.csv c.csv
has "c.rss.csv:2:"
printf 'cell,rep,msec\n' > c.rss.csv
cp c.rss.csv keep/
expect2_clean "companion of another schema" merge out.csv s1.csv c.csv
has "c.rss.csv"

# ---- a results set of an older version (data/small.csv: 52 columns, its
# pauses without ttsp_us, its RSS without gc_live_bytes) merges with this
# version's: read by column name, this version's header, its new columns
# empty in the old rows, the companions likewise
cp "$here"/data/small.csv old.csv && cp "$here"/data/small.pauses.csv old.pauses.csv && cp "$here"/data/small.rss.csv old.rss.csv
"$hb" merge old2.csv s1.csv old.csv --force > /dev/null 2> err.txt && python3 - s1.csv old.csv old2.csv <<'PY' && ok || bad "an older version's file: $(cat err.txt)"
import csv, sys
new, old, out = (list(csv.DictReader(open(f))) for f in sys.argv[1:])
assert list(out[0].keys()) == list(new[0].keys()), "not this version's header"
assert len(out) == len(new) + len(old), (len(out), len(new), len(old))
assert "gc_own_ms" not in old[0] and all(r["gc_own_ms"] == "" for r in out[len(new):])
assert [(r["cell"], r["wall_s"]) for r in out[len(new):]] == [(r["cell"], r["wall_s"]) for r in old]
p = list(csv.DictReader(open("old2.pauses.csv")))
assert "ttsp_us" in p[0] and len(p) == len(list(csv.DictReader(open("old.pauses.csv")))), len(p)
PY

# an ok row without its numbers: the JSON cannot be made, nothing is written
python3 - s2.csv nowall.csv <<'PY'
import csv, sys
r = list(csv.reader(open(sys.argv[1])))
r[3][r[0].index("wall_s")] = ""
csv.writer(open(sys.argv[2], "w"), lineterminator="\n").writerows(r)
PY
expect2_clean "ok row without wall_s" merge out.csv s1.csv nowall.csv
has "nowall.csv:4:"

# OUT: an input, existing, unwritable, misnamed
expect2_clean "OUT is an input" merge s1.csv s1.csv s2.csv
has "never replaces an input"
expect2_clean "OUT is an input by another name" merge ./s2.csv s1.csv s2.csv
has "never replaces an input"
: > exists.csv
expect2_clean "OUT exists" merge exists.csv s1.csv
has "exists"
[ ! -s exists.csv ] && ok || bad "an existing OUT was written"
: > out.json
"$hb" merge out.csv s1.csv > /dev/null 2> err.txt
[ $? = 2 ] && [ ! -e out.csv ] && [ ! -s out.json ] && ok || bad "an existing OUT.json was not refused"
rm -f out.json
expect2_clean "OUT in a missing directory" merge /nonexistent-dir/out.csv s1.csv
has "/nonexistent-dir"
expect2_clean "OUT in /proc" merge /proc/out.csv s1.csv
if [ "$(id -u)" != 0 ]; then
    mkdir ro && chmod 555 ro
    expect2 "OUT in a read-only directory" merge ro/out.csv s1.csv
    [ -z "$(ls ro)" ] && ok || bad "files left in ro/"
fi
expect2_clean "OUT not .csv" merge out.txt s1.csv
expect2_clean "unknown option" merge out.csv s1.csv --frobnicate
expect2_clean "no inputs" merge out.csv

finish
