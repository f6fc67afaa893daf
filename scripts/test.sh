#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the full suite on
# an optimised -Werror build, then the tests labelled `sanitize` again under
# ASan+UBSan, and those labelled `threads` under TSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
start=$(date +%s)
status=0
step() { # name, build dir, ctest args, cmake args...
  local name=$1 dir=$2 label=$3; shift 3
  echo "=== $name"
  scripts/build.sh "$dir" "$@"
  (cd "$dir" && ctest --output-on-failure -j"$(nproc)" $label) || status=1
}
step "full suite" build ""
step "ASan+UBSan" build-asan "-L sanitize" -DHB_SANITIZE=address
step "TSan" build-tsan "-L threads" -DHB_SANITIZE=thread
echo "=== all tests: $([ $status = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
exit $status
