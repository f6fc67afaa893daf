#!/usr/bin/env bash
# Real programs on the drop-in libraries: python3 (PYTHONMALLOC=malloc, so
# every object goes through malloc) runs its own test modules with the
# library preloaded; every test case that fails must also fail on glibc.
#
#   dropin_python.sh glibc BASEDIR     the baseline run, once (a ctest fixture)
#   dropin_python.sh LIB.so BASEDIR    one library, compared with the baseline
# Exit 77 (skipped) where python3's test package is absent.
set -u
lib=$1
base=$2
work=$base/$(basename "$lib")
modules="test_gc test_list test_dict test_set test_threading test_weakref"
mkdir -p "$work"

py=$(command -v python3 || true)
if [ -z "$py" ] || ! "$py" -c 'import importlib.util as u, sys; sys.exit(not all(u.find_spec("test." + m) for m in "libregrtest test_gc test_weakref test_threading".split()))' 2>/dev/null; then
    echo "SKIP: python3 or its test package (test.libregrtest) is not installed"
    exit 77
fi
# The interpreter itself, not a launcher script (pyenv shims are bash).
py=$("$py" -c 'import sys; print(sys.executable)')

# Failed test cases, one per line, from regrtest's verbose output.
failed_cases() {
    grep -aE '\.\.\. (FAIL|ERROR)$' "$1" | sed -E 's/ \.\.\. (FAIL|ERROR)$//' | sort -u
}

run() { # name, extra env...
    local name=$1; shift
    ( cd "$work" && env "$@" PYTHONMALLOC=malloc timeout 1200 "$py" -m test -v $modules ) \
        > "$work/$name.log" 2>&1
    echo $? > "$work/$name.rc"
    failed_cases "$work/$name.log" > "$work/$name.failed"
}

baseline=$base/glibc
if [ "$lib" = glibc ]; then
    run glibc
    echo "glibc: python3 exited $(cat "$work/glibc.rc"); failed test cases:"
    cat "$work/glibc.failed"
    exit 0
fi
if [ ! -f "$baseline/glibc.failed" ]; then
    echo "FAIL: no glibc baseline in $baseline (run the dropin.python.glibc test first)"
    exit 1
fi
name=$(basename "$lib")
# The library must really be python's malloc: it names itself when asked.
# (Not during the test run: subprocess tests there expect an empty stderr.)
announce=$(LD_PRELOAD="$lib" HEAPBENCH_VERBOSE=1 PYTHONMALLOC=malloc "$py" -c 'pass' 2>&1)
if [ "$announce" != "heapbench: malloc is $name" ]; then
    echo "FAIL: python3 with $name preloaded said '$announce', not 'heapbench: malloc is $name'"
    exit 1
fi
run preload LD_PRELOAD="$lib"
if grep -aqE 'Fatal Python error|Segmentation fault|core dumped|Aborted' "$work/preload.log"; then
    echo "FAIL: python3 crashed on $name:"
    grep -aE -m5 -B2 'Fatal Python error|Segmentation fault|core dumped|Aborted' "$work/preload.log"
    exit 1
fi
ran=$(grep -aE '^Ran [0-9]+ tests' "$work/preload.log" | awk '{s+=$2} END {print s+0}')
new=$(comm -23 "$work/preload.failed" "$baseline/glibc.failed")
echo "$name: python3 ran $ran test cases; failed on glibc: $(wc -l < "$baseline/glibc.failed"), on $name: $(wc -l < "$work/preload.failed")"
if [ "$ran" -lt 500 ]; then
    echo "FAIL: only $ran test cases ran; see $work/preload.log"
    exit 1
fi
if [ -n "$new" ]; then
    echo "FAIL: test cases failing on $name but not on glibc:"
    echo "$new"
    exit 1
fi
glibc_rc=$(cat "$baseline/glibc.rc") preload_rc=$(cat "$work/preload.rc")
if [ "$preload_rc" != 0 ] && [ "$glibc_rc" = 0 ]; then
    echo "FAIL: regrtest exited $preload_rc on $name but 0 on glibc; see $work/preload.log"
    exit 1
fi
echo "ok: no failure on $name that glibc does not also have"
