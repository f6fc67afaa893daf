#!/usr/bin/env bash
# An allocator given as a library (--allocators NAME=PATH, or a bare PATH):
# in-process cells reach it (libhbcount.so counts the calls of the cell's
# process), rows carry its name, path and build-id or sha256, live-bytes
# columns are empty on it; a missing path, a file that is not a shared
# library and a library without malloc are refused before anything runs; a
# preload that does not take (libhbcount_versioned.so: malloc defined under
# a version the loader does not bind) and an LD_PRELOAD inherited under the
# name `system` give failed rows.
#   test_library.sh HEAPBENCH WORKDIR LIBDIR (where libhbcount*.so are)
. "$(dirname "$0")/../harness/lib.sh" "$1" "$2"
lib=$(cd "$3" && pwd)
count=$lib/libhbcount.so
small="--workloads churn --threads 1 --param ops=20000 --warmup 0"

# ---- in-process cells reach the library; the rows say which
# long enough (~10 samples of 10 ms) for system's peak_live_bytes
HB_COUNTLIB_OUT=$PWD/counts.txt "$hb" run --allocators cnt=$count,system --workloads churn --threads 1 \
    --param ops=2000000 --warmup 0 --out c.csv > /dev/null 2>&1 \
    && ok || bad "run on cnt=$count: exit $?"
id=$(readelf -n "$(readlink -f "$count")" | sed -n 's/.*Build ID: *//p')
python3 - "$(readlink -f "$count")" "$id" <<'PY' && ok || bad "rows of a library allocator"
import csv, sys
path, bid = sys.argv[1], sys.argv[2]
rows = {r["allocator"]: r for r in csv.DictReader(open("c.csv"))}
assert set(rows) == {"cnt", "system"}, rows.keys()
c, s = rows["cnt"], rows["system"]
assert c["status"] == "ok" and s["status"] == "ok", (c["error"], s["error"])
assert c["cell"].startswith("churn/cnt/"), c["cell"]
assert c["allocator_lib"] == path and c["allocator_lib_id"] == "build-id:" + bid, (c["allocator_lib"], c["allocator_lib_id"])
assert s["allocator_lib"] == "" and s["allocator_lib_id"] == ""
# the library keeps no live counter: empty, not 0; glibc's is read
assert c["peak_live_bytes"] == "", c["peak_live_bytes"]
assert int(s["peak_live_bytes"]) > 0
series = list(csv.DictReader(open("c.rss.csv")))
cs = [x for x in series if x["cell"] == c["cell"]]
ss = [x for x in series if x["cell"] == s["cell"]]
assert cs and ss
assert all(x["live_bytes"] == "" for x in cs), "live_bytes on the library"
assert all(x["live_bytes"] != "" for x in ss), "live_bytes on glibc"
# what the library counted: one process (the cnt cell; the runner and the
# system cell do not preload it), at least the workload's allocations
lines = open("counts.txt").read().split("\n")[:-1]
assert len(lines) == 1, lines
n = dict(kv.split("=") for kv in lines[0].split()[1:])
assert int(n["malloc"]) >= int(c["allocs"]) > 0, (n, c["allocs"])
assert int(n["free"]) >= int(c["frees"]) > 0, (n, c["frees"])
PY
# The JSON says which library, in the entry's label
grep -q "\"label\": \"$(readlink -f "$count") build-id:$id\"" c.json && ok || bad "c.json has no label with the library"

# ---- a bare PATH: named after its file; without a build-id, its sha256
"$hb" run --allocators "$lib/libhbcount_noid.so" $small --out n.csv > /dev/null 2>&1 && ok || bad "bare path run"
sum=$(sha256sum "$(readlink -f "$lib/libhbcount_noid.so")" | cut -d' ' -f1)
python3 - "$sum" <<'PY' && ok || bad "bare path row"
import csv, sys
r = list(csv.DictReader(open("n.csv")))[0]
assert r["allocator"] == "libhbcount_noid.so" and r["status"] == "ok", (r["allocator"], r["error"])
assert r["allocator_lib_id"] == "sha256:" + sys.argv[1], r["allocator_lib_id"]
PY

# ---- collector workloads on a library: the `system` path under preload
"$hb" run --allocators cnt=$count --collectors rc --workloads cycles --threads 1 --param ops=2000 --warmup 0 \
    --out g.csv > /dev/null 2>&1 && ok || bad "collector workload on a library"
python3 -c "
import csv; r = list(csv.DictReader(open('g.csv')))[0]
assert r['allocator'] == 'cnt' and r['collector'] == 'rc' and r['status'] == 'ok', r['error']
assert int(r['peak_live_bytes']) > 0  # the heap's own count, not the allocator's
" && ok || bad "collector row on a library"

# ---- refused before anything runs: one line, exit 2, no file
echo "not a library" > fake.so
expect2 "missing path" run --allocators x=/nonexistent/libnone.so $small --out r.csv
grep -q "No such file" err.txt && ok || bad "missing path: $(cat err.txt)"
expect2 "not ELF" run --allocators x=$PWD/fake.so $small --out r.csv
grep -q "not an ELF file" err.txt && ok || bad "not ELF: $(cat err.txt)"
expect2 "no malloc" run --allocators x=$lib/libhbcount_nomalloc.so $small --out r.csv
grep -q "does not export malloc" err.txt && ok || bad "no malloc: $(cat err.txt)"
expect2 "a builtin's name" run --allocators arena=$count $small --out r.csv
expect2 "one name, two files" run --allocators a=$count,a=$lib/libhbcount_noid.so $small --out r.csv
expect2 "bare path not a library" run --allocators "$PWD/fake.so" $small --out r.csv
[ ! -e r.csv ] && ok || bad "a refused run created its --out"

# ---- a preload that does not take is caught, for real: the versioned
# library is loaded (its destructor reports) but malloc binds to glibc
rm -f counts.txt
HB_COUNTLIB_OUT=$PWD/counts.txt "$hb" run --allocators v=$lib/libhbcount_versioned.so $small --out v.csv \
    > /dev/null 2> v.err
rc=$?
[ $rc = 1 ] && ok || bad "a preload that did not take: exit $rc, want 1"
python3 - <<'PY' && ok || bad "failed row for a preload that did not take"
import csv
r = list(csv.DictReader(open("v.csv")))[0]
assert r["status"] == "failed", r["status"]
assert "preload did not take" in r["error"] and "libc.so" in r["error"], r["error"]
assert r["ops"] == "" and r["wall_s"] == ""
lines = open("counts.txt").read().split("\n")[:-1]
assert len(lines) == 1 and " malloc=0 " in lines[0], lines  # loaded, never called
PY

# ---- an LD_PRELOAD inherited from the shell is not glibc under `system`'s name
LD_PRELOAD=$count "$hb" run --allocators system $small --out s.csv > /dev/null 2>&1
python3 -c "
import csv; r = list(csv.DictReader(open('s.csv')))[0]
assert r['status'] == 'failed' and 'not glibc' in r['error'], (r['status'], r['error'])
" && ok || bad "inherited LD_PRELOAD under system"

# ---- files of the schema before allocator_lib are still read and merged
old=$here/../harness/data/small.csv
"$hb" compare "$old" "$old" > /dev/null 2>&1; rc=$?
[ $rc -le 1 ] && ok || bad "compare of a file without allocator_lib: exit $rc"
cp "$old" old1.csv && cp "$old" old2.csv
"$hb" merge m.csv old1.csv old2.csv > /dev/null 2> merge.err && ok || bad "merge of old files: $(cat merge.err)"
"$hb" json old1.csv old1.json > /dev/null 2>&1 && ok || bad "json of an old file"
finish
