#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the full suite on
# an optimised -Werror build, then the tests labelled `sanitize` again under
# ASan+UBSan, and those labelled `threads` under TSan; then every fuzz target
# for a bounded time (scripts/fuzz.sh; HB_FUZZ_SECONDS each, default 25, two
# at a time on two cores: the step takes under 5 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The test scripts start python3 thousands of times. Behind a version
# manager's shim (pyenv's costs 0.3 s a start, against 0.03 s for the
# interpreter itself) that is minutes of the budget: put the directory of
# the interpreter `python3` resolves to first on PATH, so the same python3
# starts directly.
if pydir=$(python3 -c 'import os, sys; print(os.path.dirname(os.path.realpath(sys.executable)))' 2> /dev/null) \
    && [ -x "$pydir/python3" ]; then
  export PATH="$pydir:$PATH"
fi
start=$(date +%s)
status=0
# Every build here is -Werror (HB_WERROR, off for users' builds); the test
# scripts.build also builds Release at -O2 and -O3 with it.
step() { # name, build dir, ctest args, cmake args...
  local name=$1 dir=$2 label=$3; shift 3
  echo "=== $name"
  scripts/build.sh "$dir" -DHB_WERROR=ON "$@"
  (cd "$dir" && ctest --output-on-failure -j"$(nproc)" $label) || status=1
}
step "full suite" build ""
step "ASan+UBSan" build-asan "-L sanitize" -DHB_SANITIZE=address
step "TSan" build-tsan "-L threads" -DHB_SANITIZE=thread
echo "=== fuzz (libFuzzer, ASan+UBSan)"
fuzz_start=$(date +%s)
scripts/fuzz.sh "${HB_FUZZ_SECONDS:-25}" || status=1
echo "=== fuzz: $(( $(date +%s) - fuzz_start )) s"
echo "=== all tests: $([ $status = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
exit $status
