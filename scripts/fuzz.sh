#!/usr/bin/env bash
# fuzz.sh [SECONDS [TARGET...]]: builds the libFuzzer targets of tests/fuzz
# with clang (ASan+UBSan) into build-fuzz, and runs each for SECONDS (default
# 25), as many at once as there are cores. Each starts from its seed corpus
# (tests/fuzz/corpus/TARGET, only read) and what earlier runs found, kept in
# build-fuzz/fuzz-work/corpus/TARGET. A crash, leak, sanitizer report or
# timeout fails the script, and its reproducer's path is printed with the
# command that replays it. docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-25}
[ $# -gt 0 ] && shift
all=(csvread options compare regress merge json plot)
targets=("$@")
[ $# -gt 0 ] || targets=("${all[@]}")
dir=build-fuzz
command -v clang > /dev/null || { echo "fuzz: clang is not installed (scripts/setup.sh)" >&2; exit 1; }
CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHB_WERROR=ON -DHB_FUZZ=ON \
  > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j"$(nproc)" --target fuzz > "$dir.build.log" 2>&1 || { cat "$dir.build.log"; exit 1; }
# The corpora grown by earlier runs stay (rm -rf build-fuzz/fuzz-work to
# start from the seeds alone); the reproducers and logs are this run's.
work=$PWD/$dir/fuzz-work
rm -rf "$work/artifacts" "$work/tmp" "$work"/*.log "$work"/*.status
mkdir -p "$work/artifacts" "$work/tmp"
export UBSAN_OPTIONS=print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}

one() { # target: runs it, writes $work/T.log and $work/T.status
  local t=$1 dict=tests/fuzz/results.dict
  [ "$t" = options ] && dict=tests/fuzz/options.dict
  mkdir -p "$work/corpus/$t"
  local rc=0
  # -timeout: an input that takes 10 s is a hang; -max_len: the seeds' size
  # and more (a results file and its companions are kilobytes)
  HB_FUZZ_TMPDIR=$work/tmp "$dir/tests/fuzz/fuzz_$t" "$work/corpus/$t" "$PWD/tests/fuzz/corpus/$t" \
    -dict="$dict" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/$t-" -print_final_stats=1 > "$work/$t.log" 2>&1 || rc=$?
  echo $rc > "$work/$t.status"
}

jobs=$(nproc)
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/$t.c" ] || { echo "fuzz: no target '$t'; valid: ${all[*]}" >&2; exit 2; }
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  one "$t" &
done
wait

status=0
for t in "${targets[@]}"; do
  rc=$(cat "$work/$t.status")
  done_line=$(grep -a 'DONE ' "$work/$t.log" | tail -1 || true)
  execs=$(grep -ao 'stat::number_of_executed_units: [0-9]*' "$work/$t.log" | awk '{print $2}' | tail -1)
  cov=$(echo "$done_line" | grep -o 'cov: [0-9]* ft: [0-9]*' || true)
  if [ "$rc" = 0 ]; then
    printf 'fuzz: %-8s ok   %s s, %s executions, %s\n' "$t" "$secs" "${execs:-?}" "${cov:-no DONE line}"
  else
    status=1
    # what went wrong, where (the first frames of the first stack), and
    # libFuzzer's last words; the whole report is in the log
    echo "fuzz: $t FAILED (exit $rc); from its log ($work/$t.log):"
    { grep -a -m3 -E 'ERROR: |runtime error|check failed|fuzz target:|refused' "$work/$t.log" || true
      grep -a -m8 -E '^ +#[0-9]+ 0x' "$work/$t.log" | grep -av -E 'libFuzzer|fuzzer::|libc|_start' || true
      grep -a -E '^SUMMARY|Test unit written' "$work/$t.log" || true
    } | cut -c1-300 | sed 's/^/    /'
    for a in "$work/artifacts/$t-"*; do
      [ -e "$a" ] || continue
      echo "fuzz: $t reproducer: $a"
      echo "fuzz:   replay: $dir/tests/fuzz/fuzz_$t $a   (HB_FUZZ_VERBOSE=1 to see heapbench's output)"
    done
  fi
done
rm -rf "$work/tmp"
exit $status
