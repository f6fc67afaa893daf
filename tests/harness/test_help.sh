#!/usr/bin/env bash
# `heapbench CMD --help` for every subcommand: exit 0, nothing on stderr, and
# every option its parser knows (each "--name" literal of its source file)
# described with its default; `heapbench --version`: the commit and the
# build type the binary was built with.
#   test_help.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"
src=$here/../../harness

for pair in list:main.c run:options.c merge:merge.c json:json.c compare:compare.c regress:regress.c plot:plot.c report:report.c; do
    cmd=${pair%%:*} file=${pair#*:}
    "$hb" "$cmd" --help > help-$cmd.txt 2> help-$cmd.err; rc=$?
    [ $rc = 0 ] && [ ! -s help-$cmd.err ] && grep -q "usage: heapbench $cmd" help-$cmd.txt && ok \
        || bad "$cmd --help: exit $rc, $(cat help-$cmd.err)"
    [ "$cmd" = list ] && continue # main.c's literals are other subcommands'
    python3 - "$src/$file" help-$cmd.txt "$cmd" <<'PY' && ok || bad "$cmd --help lacks options or their defaults"
import re, sys
src, helpf, cmd = sys.argv[1:]
text = open(src).read()
# the options the parser compares arguments with, compare's table of them
# (opts[]), and regress's list of run
# options it passes through (not the arguments it gives its own children)
opts = set(re.findall(r'str(?:n?cmp)\([^;]*?"(--[a-z][a-z-]*)"', text))
for block in re.findall(r'(?:passed|opts)\[\] = \{([^}]*)\}', text):
    opts |= set(re.findall(r'"(--[a-z][a-z-]*)"', block))
opts -= {"--help"}
lines = open(helpf).read().split("\n")
# an option's paragraph: its line and the deeper-indented lines after it
missing = []
for o in sorted(opts):
    found = False
    for i, l in enumerate(lines):
        if re.search(r'(^|[\s,])' + re.escape(o) + r'([\s,:=]|$)', l):
            para = [l]
            for m in lines[i + 1:]:
                if m.startswith(" " * 10):
                    para.append(m)
                else:
                    break
            if "default" in " ".join(para):
                found = True
                break
    if not found:
        missing.append(o)
if missing:
    print(cmd, "--help: no default given for", missing)
    sys.exit(1)
if cmd in ("run", "regress", "compare", "plot", "report") and not opts:
    sys.exit("no options found in " + src)
PY
done
"$hb" nosuch --help > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok || bad "an unknown subcommand with --help: exit $rc"

# --version: the commit and the build type, as the rows record them
"$hb" --version > version.txt 2> version.err && ok || bad "--version exited $?"
"$hb" run --allocators system --workloads churn --threads 1 --param ops=2000 --out v.csv > /dev/null 2>&1
python3 - <<'PY' && ok || bad "--version does not give the commit and build type of the rows: $(cat version.txt)"
import csv
r = list(csv.DictReader(open("v.csv")))[0]
v = open("version.txt").read()
assert r["git_commit"] and r["git_commit"] in v, (r["git_commit"], v)
assert "build type " + r["build_type"] in v, (r["build_type"], v)
PY
finish
