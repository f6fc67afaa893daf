#!/usr/bin/env bash
# The heapbench command end to end: list, a small real matrix whose CSV is
# checked column by column, and bad input (exit 2, one line, nothing created
# or truncated).
#   test_cli.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"

# ---- list: every backend and workload, one line each
"$hb" list > list.txt || bad "list exited non-zero"
for name in system arena freelist jemalloc churn xthread larson scratch; do
    grep -qE "^(allocator|workload) +$name " list.txt && ok || bad "list lacks $name"
done

# ---- a real run: 2 allocators x 2 workloads x threads 1,2 x 2 reps
"$hb" run --allocators system,arena --workloads churn,larson --threads 1,2 --reps 2 \
    --param ops=20000 --out run.csv > run.out 2> run.err
rc=$?
[ $rc = 0 ] && ok || { bad "run exited $rc"; cat run.err; }
rows=$(($(wc -l < run.csv) - 1))
[ "$rows" = 16 ] && ok || bad "expected 16 rows, got $rows"
python3 - run.csv <<'PY' && ok || bad "run.csv content"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
need = ["run_id","cell","workload","size","params","allocator","collector","heap","threads","rep",
        "status","error","ops","allocs","frees","wall_s","user_s","sys_s","ops_per_s",
        "peak_rss_kb","final_rss_kb","git_commit","compiler","build_type","host","cpu_model",
        "kernel","pinned","timestamp","lat_p50_ns","gc_count","mmu_100ms","leaked_bytes"]
missing = [c for c in need if c not in rows[0]]
assert not missing, missing
for r in rows:
    assert r["status"] == "ok", r
    assert int(r["ops"]) > 0 and float(r["wall_s"]) > 0 and float(r["ops_per_s"]) > 0, r
    assert abs(float(r["ops_per_s"]) - int(r["ops"]) / float(r["wall_s"])) / float(r["ops_per_s"]) < 0.01
    assert int(r["peak_rss_kb"]) > 0 and int(r["final_rss_kb"]) > 0, r
    assert int(r["peak_rss_kb"]) >= int(r["final_rss_kb"]), r
    assert "ops=20000" in r["params"], r["params"]
    assert r["collector"] == "none" and r["heap"] == "isolated"
    assert r["gc_count"] == "" and r["mmu_1ms"] == "", "no collector: pause columns must be empty"
    assert r["leaked_bytes"] == "", "no collector: no leak figures"
    assert r["git_commit"] and r["host"] and r["kernel"] and r["timestamp"]
assert {r["allocator"] for r in rows} == {"system", "arena"}
assert {r["threads"] for r in rows} == {"1", "2"}
assert len({r["cell"] for r in rows}) == 8
PY

# appending: a second run adds rows under the same header
"$hb" run --allocators jemalloc --workloads churn --threads 1 --param ops=1000 --out run.csv > /dev/null 2>&1 \
    && [ $(($(wc -l < run.csv) - 1)) = 17 ] && [ "$(grep -c '^run_id,' run.csv)" = 1 ] && ok || bad "append"

# a workload that needs 2 threads is recorded as skipped at 1
"$hb" run --allocators system --workloads xthread --threads 1 --out skip.csv > /dev/null 2>&1
grep -q ',skipped,xthread needs at least 2 threads,' skip.csv && ok || bad "skipped row"

# ---- bad input: exit 2, one line naming the value, no file created or truncated
cp run.csv keep.csv
expect2 "unknown allocator" run --allocators nope --out new.csv
grep -q "nope" err.txt && grep -q "system" err.txt && ok || bad "unknown allocator message: $(cat err.txt)"
expect2 "unknown workload" run --workloads nope --out new.csv
grep -q "churn" err.txt && ok || bad "unknown workload lists choices"
expect2 "threads 0" run --threads 0 --out new.csv
expect2 "threads 1025" run --threads 1,1025 --out new.csv
expect2 "threads junk" run --threads two --out new.csv
expect2 "reps 0" run --reps 0 --out new.csv
expect2 "size" run --size huge --out new.csv
expect2 "param without =" run --param ops --out new.csv
expect2 "param not a number" run --param ops=lots --out new.csv
expect2 "param unknown key" run --workloads churn --param nosuch=3 --out new.csv
# the valid keys as --param takes them (bare), each with the workloads that
# declare it, not as workload.key, which it refuses
expect2 "param key given with its workload" run --workloads churn,larson --param churn.ops=3 --out new.csv
grep -q "bad --param key 'churn.ops'; valid: ops (churn,larson), live (churn), min_size (churn,larson)" err.txt \
    && ok || bad "unknown key's message: $(cat err.txt)"
expect2 "param unknown key, collector workload" run --workloads refcount --param nosuch=3 --out new.csv
grep -q "valid: ops (refcount), objects (refcount); the collectors': threshold,.*,incremental_mark$" err.txt \
    && ok || bad "unknown key's message with a collector workload: $(cat err.txt)"
expect2 "param out of range" run --workloads churn --param ops=-5 --out new.csv
expect2 "heap mode" run --heap both --out new.csv
expect2 "refcount mode" run --param refcount=lazy --out new.csv
expect2 "empty matrix" run --workloads refcount --heap shared --out new.csv
expect2 "empty matrix, shared only" run --workloads handoff --out new.csv
grep -q "handoff: shared heaps only" err.txt && ok || bad "an empty matrix does not say handoff needs --heap shared"
expect2 "unwritable out" run --out /nonexistent-dir/x.csv
expect2 "out is a directory" run --out .
expect2 "unknown option" run --frobnicate
expect2 "unknown command" frobnicate
[ ! -e new.csv ] && ok || bad "a bad run created new.csv"
expect2 "bad run into existing file" run --allocators nope --out run.csv
cmp -s run.csv keep.csv && ok || bad "a bad run changed an existing results file"
printf 'a,b,c\n1,2,3\n' > other.csv
expect2 "other schema" run --allocators system --workloads churn --param ops=100 --out other.csv
[ "$(cat other.csv)" = "$(printf 'a,b,c\n1,2,3')" ] && ok || bad "other-schema file was modified"

finish
