#!/usr/bin/env bash
# The build's warning policy (issue 16): HB_WERROR is off in a user's plain
# configure and on in CI (scripts/test.sh), and the Release build is
# warning-free with -Werror at -O3 and at -O2 (gcc 12 warns at -O3 where it
# inlines more).
#   test_build.sh SOURCE_DIR WORKDIR
set -u
src=$(cd "$1" && pwd) work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
jobs=$(nproc); [ "$jobs" -gt 2 ] && jobs=2

cmake -S "$src" -B plain > plain.log 2>&1 || bad "plain configure: $(tail -3 plain.log)"
grep -q '^HB_WERROR:BOOL=OFF' plain/CMakeCache.txt && ok || bad "HB_WERROR is not off by default"
grep -rqs -- -Werror plain/CMakeFiles/*/flags.make && bad "a plain configure compiles with -Werror" || ok
grep -q -- '-DHB_WERROR=ON' "$src/scripts/test.sh" && ok || bad "scripts/test.sh (CI) does not turn HB_WERROR on"

for level in 3 2; do
    dir=release-O$level
    cmake -S "$src" -B $dir -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O$level -DNDEBUG" -DHB_WERROR=ON \
        > $dir.configure.log 2>&1 || bad "configure $dir: $(tail -3 $dir.configure.log)"
    grep -rqs -- -Werror $dir/CMakeFiles/*/flags.make && ok || bad "$dir: HB_WERROR=ON gives no -Werror"
    if cmake --build $dir -j$jobs --target heapbench > $dir.log 2>&1; then ok
    else bad "Release -O$level with -Werror: $(grep -E 'error|warning' $dir.log | head -5)"; fi
done
echo "$passes passed, $fails failed"
[ $fails = 0 ]
