#!/usr/bin/env bash
# docs/ci.md's workflow, as GitHub would run it: every job in a debian:12
# container; the gate step's shell lines taken out of the page and run the
# way GitHub runs a `run:` block (`bash -e`, no pipefail, `${{ matrix.shard }}`
# substituted, the workflow's env), against a baseline build and a
# candidate build with one cell 30% slower (stand-ins whose `run` writes
# known rows; regress itself is the real one): the step must fail, with the
# regression in its log and a markdown table in the step summary; with two
# equal builds it must pass.
#   test_ci_doc.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
python3 -c 'import yaml' 2> /dev/null || { echo "python3's yaml module is not installed (python3-yaml)"; exit 77; }
doc=$here/../../docs/ci.md

# ---- the workflow: parsed, every job in debian:12, the gate step's lines
python3 - "$doc" step.sh <<'PY' && ok || bad "the workflow in docs/ci.md"
import re, sys, yaml
text = open(sys.argv[1]).read()
blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
assert len(blocks) == 1, "want one yaml block, got %d" % len(blocks)
wf = yaml.safe_load(blocks[0])
for name, job in wf["jobs"].items():
    assert job.get("container") == "debian:12", "job %s does not run in debian:12" % name
    for st in job["steps"]:
        assert "sudo" not in st.get("run", ""), "job %s: sudo in a container that has none" % name
steps = [s for s in wf["jobs"]["regress"]["steps"] if s.get("name", "").startswith("regress (exit 1")]
assert len(steps) == 1 and "shell" not in steps[0], "the gate step (GitHub's default shell: bash -e)"
run = steps[0]["run"].replace("${{ matrix.shard }}", "1")
assert "${{" not in run, "an expression left: " + run
assert "pipefail" not in run and "regress" in run
open(sys.argv[2], "w").write(run)
env = wf["env"]
assert "--workloads" in env["MATRIX"] and int(env["SHARDS"]) >= 1
PY
[ -s step.sh ] || { finish; exit 1; }

# Two stand-in builds: each one's `heapbench run ... --out FILE` appends one
# repetition of the churn cells of data/small.csv with known times (synth.py:
# 1% noise; the candidate's churn/system t1 cell 1.3 times slower), every
# other subcommand is the real binary -- so the gate's verdict is known and
# does not hang on this machine's noise (a real slower build, timing every
# operation, was missed under a load of 28 on 2 cores: its baseline's CV put
# the threshold at 160%).
mkdir -p fail/build-baseline fail/build-candidate pass/build-baseline pass/build-candidate
python3 - "$here"/data/small.csv churn.csv <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["cell"].startswith("churn/") and r["status"] == "ok"]
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), rows[0].keys(), lineterminator="\n")
w.writeheader(); w.writerows(rows)
PY
standin() { # DIR FACTOR
    cat > "$1/heapbench" <<END
#!/bin/sh
# a stand-in build (test_ci_doc.sh): run appends one repetition of known rows
if [ "\$1" = run ]; then
    out=; prev=
    for a in "\$@"; do [ "\$prev" = --out ] && out=\$a; prev=\$a; done
    [ -n "\$out" ] || { echo "stand-in: no --out" >&2; exit 2; }
    shard=1/1; prev=
    for a in "\$@"; do [ "\$prev" = --shard ] && shard=\$a; prev=\$a; done
    python3 "$here/synth.py" "$PWD/churn.csv" "\$out.one" 1 \$\$ churn/system/none/isolated/t1=$2 || exit 2
    python3 "$PWD/shard.py" "\$out.one" "\$shard" || exit 2
    if [ -s "\$out" ]; then tail -n +2 "\$out.one" >> "\$out"; else cat "\$out.one" > "\$out"; fi
    rm -f "\$out.one"
    exit 0
fi
exec "$hb" "\$@"
END
    chmod +x "$1/heapbench"
}
# a stand-in's rows: the slice --shard I/M names (rows are the cells in
# matrix order), the CPU time that of the wall time (the duet gate's cpu_s)
cat > shard.py <<'PY'
import csv, sys
path, (i, m) = sys.argv[1], map(int, sys.argv[2].split("/"))
rows = list(csv.DictReader(open(path)))
w = csv.DictWriter(open(path, "w", newline=""), rows[0].keys(), lineterminator="\n")
w.writeheader()
for k, r in enumerate(rows):
    if k % m == i - 1:
        r["user_s"], r["sys_s"] = r["wall_s"], "0"
        w.writerow(r)
PY
standin fail/build-baseline 1; standin fail/build-candidate 1.3
standin pass/build-baseline 1; standin pass/build-candidate 1

# The workflow's env, with a small matrix (the step reads $MATRIX, $SHARDS)
step() { # DIR: runs the step there as GitHub would; sets rc
    (cd "$1" && : > summary.md && GITHUB_STEP_SUMMARY=$PWD/summary.md SHARDS=1 \
        MATRIX="--workloads churn --threads 1,2 --pairs 12" \
        bash -e ../step.sh > step.out 2> step.err)
    rc=$?
}
step fail
[ $rc = 1 ] && ok || bad "the gate step did not fail on a regression: exit $rc; $(tail -5 fail/step.out fail/step.err)"
grep -q "^REGRESSION churn/system/none/isolated/t1/small/ops=4000$" fail/step.out && grep -q "^FAIL: 1 regression" \
    fail/step.out && ok || bad "the step's log: $(tail -8 fail/step.out)"
grep -q '^## `heapbench regress`: FAIL$' fail/summary.md && grep -q '| \*\*WORSE\*\* |' fail/summary.md && ok \
    || bad "the step summary: $(head -5 fail/summary.md)"
step pass
[ $rc = 0 ] && grep -q "^PASS: 0 regressions" pass/step.out && grep -q '^## `heapbench regress`: PASS$' pass/summary.md \
    && ok || bad "the same build twice did not pass: exit $rc; $(tail -8 pass/step.out pass/step.err)"

# and the form the page used to have would not have failed: `regress | tee`
# under bash -e takes tee's status
sed 's/^\( *--work regress-1\) > regress-1.txt || status=\$?$/\1 | tee regress-1.txt/' step.sh > old.sh
grep -q '| tee regress-1.txt' old.sh || bad "could not make the old form of the step"
(cd fail && rm -rf regress-1 && GITHUB_STEP_SUMMARY=/dev/null SHARDS=1 \
    MATRIX="--workloads churn --threads 1,2 --pairs 12" \
    bash -e ../old.sh > old.out 2>&1)
[ $? = 0 ] && grep -q "^REGRESSION" fail/old.out && ok || bad "the old step's status: $? (want 0: the bug this page fixed)"

finish
