#!/usr/bin/env bash
# Program cells (harness/program.c, workloads/programs/): rows and their
# columns, the output check failing a row, a timeout killing the whole
# process tree, --program, a library given by path reaching a program, a
# preload that does not take, and refusals.
#   test_programs.sh HEAPBENCH WORKDIR COUNTLIB_DIR
. "$(dirname "$0")/lib.sh" "$@"
libdir=$3
src=$here/../../workloads/programs

# ---- rows: a bundled program on two allocators, its columns
"$hb" run --workloads perl,python --allocators system,arena --param n=150000 --warmup 0 --out p.csv \
    > /dev/null 2> err.txt && ok || bad "perl/python run: $(cat err.txt)"
python3 - <<'PY' && ok || bad "program rows and columns"
import csv
rows = list(csv.DictReader(open("p.csv")))
assert len(rows) == 4, len(rows)
for r in rows:
    assert r["status"] == "ok", (r["cell"], r["error"])
    assert r["collector"] == "none" and r["threads"] == "1", r["cell"]
    assert r["ops"] == "150000" and float(r["ops_per_s"]) > 0, (r["ops"], r["ops_per_s"])
    assert r["allocs"] == "" and r["frees"] == "", "a foreign program's calls are not counted"
    w, cpu, p = float(r["wall_s"]), float(r["user_s"]) + float(r["sys_s"]), float(r["process_s"])
    # the kernel splits CPU time between user and sys by ticks: only the sum is sure to show
    assert 0 < w <= p and cpu > 0, (w, cpu, p)
    peak, hwm = int(r["peak_rss_kb"]), int(r["maxrss_kb"])
    assert peak >= hwm > 1000, (peak, hwm)
    assert int(r["minflt"]) > 100 and r["majflt"] != "" and r["nvcsw"] != "" and r["nivcsw"] != ""
    assert r["final_rss_kb"] == "" and r["peak_live_bytes"] == "", "not measurable from outside"
    lib = r["allocator_lib"]
    if r["allocator"] == "arena":
        assert lib.endswith("/libheapbench_arena.so") and r["allocator_lib_id"], (lib, r["allocator_lib_id"])
    else:
        assert lib == "", lib
# n=150000: 0.1 s or more a run, so the 10 ms sampler has looked at least
# twice even on a loaded machine (at n=20000, 30 ms, it once got no look)
series = list(csv.DictReader(open("p.rss.csv")))
for r in rows:
    s = [int(x["rss_bytes"]) for x in series if x["cell"] == r["cell"] and x["rep"] == r["rep"]]
    assert len(s) >= 2 and max(s) // 1024 <= int(r["peak_rss_kb"]), (r["cell"], len(s))
PY
# read by compare and regress like any rows
"$hb" compare p.csv p.csv --metrics wall_s,peak_rss_kb,minflt > cmp.txt 2>&1 \
    && grep -q 'perl/arena/none/isolated/t1/small/n=150000' cmp.txt && ok || bad "compare on program rows: $(head -3 cmp.txt)"
"$hb" regress --baseline p.csv --candidate p.csv > reg.txt 2>&1 && grep -q '^PASS' reg.txt && ok \
    || bad "regress on program rows: $(tail -3 reg.txt)"
grep -qE '^program +perl ' < <("$hb" list) && grep -qE '^program +redis .*figure: requests/s' < <("$hb" list) \
    && ok || bad "list shows programs with their kind"

# ---- a program whose output is wrong: failed, with what the check saw
mkdir -p wrong && cp "$src"/* wrong/ && sed -i 's/^print "len=\$len\\n";/print "len=", $len + 1, "\\n";/' wrong/hash.pl
grep -q 'len + 1' wrong/hash.pl && ok || bad "could not alter hash.pl"
HEAPBENCH_PROGRAMS_DIR=$PWD/wrong "$hb" run --workloads perl --allocators system --param n=1000 --warmup 0 \
    --out wrong.csv > /dev/null 2>&1
[ $? = 1 ] && grep -q ',failed,"output check: len=4891, want 4890"' wrong.csv && ok \
    || bad "a wrong output must give a failed row: $(tail -n 1 wrong.csv)"

# ---- a timeout kills the whole tree, grandchildren included
tag=$((RANDOM % 900 + 100)).25
"$hb" run --program "tree=sh -c 'sleep $tag & sleep $tag; wait' & sleep $tag; wait" --workloads tree \
    --allocators system,arena --timeout 1 --warmup 0 --out tree.csv > /dev/null 2>&1
[ $? = 1 ] && [ "$(grep -c ',timeout,"killed after the 1 s timeout, with its process group"' tree.csv)" = 2 ] && ok \
    || bad "timeout rows: $(cat tree.csv)"
sleep 0.2
if pgrep -f "sleep $tag" > /dev/null; then
    bad "processes left after the timeout: $(pgrep -af "sleep $tag")"
    pkill -f "sleep $tag"
else
    ok
fi

# ---- --program: a user's command is a workload; its exit status counts
"$hb" run --program 'mine=perl -e "my @a; push @a, [1..50] for 1..20000; print scalar(@a), qq(\n)"' \
    --program 'broken=echo going wrong >&2; exit 3' --workloads mine,broken --allocators system,jemalloc \
    --warmup 0 --out user.csv > /dev/null 2>&1
[ $? = 1 ] && ok || bad "a failing user program makes the run exit 1"
python3 - <<'PY' && ok || bad "--program rows"
import csv
rows = {(r["workload"], r["allocator"]): r for r in csv.DictReader(open("user.csv"))}
assert len(rows) == 4, rows.keys()
for a in ("system", "jemalloc"):
    m, b = rows[("mine", a)], rows[("broken", a)]
    assert m["status"] == "ok" and float(m["wall_s"]) > 0 and m["ops"] == "" and m["ops_per_s"] == "", m
    assert b["status"] == "failed" and b["error"] == "broken exited with status 3: going wrong", b["error"]
assert rows[("mine", "jemalloc")]["allocator_lib"].endswith("libjemalloc.so.2")
PY
grep -q '"name": "mine/system/none/isolated/t1/small"' user.json && ok || bad "user program rows in the JSON"
# the order of the options does not matter: --workloads may name a
# --program that comes after it
"$hb" run --workloads later --program 'later=true' --allocators system --warmup 0 --reps 1 --out later.csv \
    > /dev/null 2>&1 && [ "$(grep -c ',later,' later.csv)" = 1 ] && ok || bad "--workloads before --program"
# and a misspelt name is told the --program names among the valid ones
"$hb" run --workloads latr --program 'later=true' --out later2.csv 2> later.err
[ $? = 2 ] && grep -q "bad workload 'latr'; valid: .*,later," later.err && ok || bad "valid names: $(cat later.err)"
expect2 "a --program without a command" run --program 'nocmd=' --out x.csv
expect2 "a --program with a taken name" run --program 'churn=true' --out x.csv
expect2 "a --program with a bad name" run --program 'a b=true' --out x.csv

# ---- a library given by path reaches the program (it counts the calls)
count=$libdir/libhbcount.so
if [ -e "$count" ]; then
    rm -f counts.txt
    HB_COUNTLIB_OUT=$PWD/counts.txt "$hb" run --workloads perl --allocators "counted=$count" --param n=20000 \
        --warmup 0 --out lib.csv > /dev/null 2>&1 && ok || bad "perl on a library by path: $(tail -n 1 lib.csv)"
    python3 - <<'PY' && ok || bad "the program called the library's malloc"
import csv, re
r = list(csv.DictReader(open("lib.csv")))[0]
assert r["status"] == "ok" and r["allocator"] == "counted" and r["allocator_lib"].endswith("libhbcount.so"), r
lines = open("counts.txt").read().split("\n")
mallocs = [int(m.group(1)) for m in (re.search(r"malloc=(\d+)", l) for l in lines) if m]
print("malloc calls per process:", mallocs)
assert mallocs and max(mallocs) > 20000, "perl makes a block per append at least"
PY
    # a program that clears LD_PRELOAD before it execs the real work: caught
    "$hb" run --program 'evade=env -u LD_PRELOAD perl -e "select(undef,undef,undef,0.3); print 1"' \
        --workloads evade --allocators "counted=$count" --warmup 0 --out evade.csv > /dev/null 2>&1
    [ $? = 1 ] && grep -q ',failed,the preload of counted did not take in process [0-9]* (perl)' evade.csv && ok \
        || bad "a preload that does not take: $(tail -n 1 evade.csv)"
    # a program of a millisecond: the probe checks it from inside, so the row
    # does not depend on the sampler seeing it before it exits
    "$hb" run --program 'quick=/bin/true' --workloads quick --allocators "counted=$count" --reps 10 \
        --warmup 0 --out quick.csv > /dev/null 2>&1 \
        && [ "$(grep -c ',ok,' quick.csv)" = 10 ] && ok || bad "a 1 ms program under a library: $(grep -v ',ok,' quick.csv | tail -n 1)"
else
    bad "no $count (the test library is built with the tests)"
fi

# ---- what a program says on stderr goes to NAME.log under a line naming
# the cell, not to the console and not lost
"$hb" run --program 'talk=sh -c "echo to-the-log-$$ >&2; echo out"' --workloads talk --allocators system \
    --reps 2 --warmup 0 --out talk.csv > talk.out 2> talk.err
[ $? = 0 ] && [ "$(grep -c "^to-the-log-" talk.log)" = 2 ] && [ "$(grep -c '^== talk/system/none/isolated/t1/small rep [01] (run .*): ok ==$' talk.log)" = 2 ] \
    && ! grep -q to-the-log talk.out talk.err && ok || bad "a program's stderr in NAME.log: $(cat talk.log talk.err)"

# ---- shards, --resume and --interleave over program cells
args="--workloads perl,lua --allocators system,arena --param n=30000 --warmup 0"
"$hb" run $args --shard 1/2 --out s1.csv > /dev/null 2>&1
"$hb" run $args --shard 2/2 --interleave --out s2.csv > /dev/null 2>&1
"$hb" run $args --reps 1 --out r.csv > /dev/null 2>&1
"$hb" run $args --reps 2 --resume --interleave --out r.csv > /dev/null 2>&1
python3 - <<'PY' && ok || bad "--shard, --resume on programs"
import csv, collections
cells = lambda f: [r["cell"] for r in csv.DictReader(open(f))]
a, b = set(cells("s1.csv")), set(cells("s2.csv"))
assert a and b and not (a & b) and len(a | b) == 4, (a, b)
reps = collections.Counter((r["cell"], r["rep"]) for r in csv.DictReader(open("r.csv")))
assert len(reps) == 8 and set(reps.values()) == {1}, reps
assert all(r["status"] == "ok" for r in csv.DictReader(open("r.csv")))
PY

# ---- refusals before anything runs
PATH=/nonexistent "$hb" run --workloads lua --out none.csv > out.txt 2> err.txt
[ $? = 2 ] && grep -q 'program lua needs lua5.4, which is not on PATH' err.txt && [ ! -e none.csv ] && ok \
    || bad "a named program that is not installed: $(cat err.txt)"
expect2 "a program parameter out of range" run --workloads z3 --param holes=99 --out x.csv
finish
