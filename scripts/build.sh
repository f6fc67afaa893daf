#!/usr/bin/env bash
# build.sh DIR [CMAKE ARGS...]: configure and build heapbench into DIR.
# Prints one line; the compiler's output goes to DIR.build.log (and
# cmake's to DIR.configure.log), shown only when a step fails.
set -euo pipefail
dir=$1; shift
cd "$(dirname "$0")/.."
echo "build: $dir (log: $dir.build.log)"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > "$dir.configure.log" 2>&1 \
  || { cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j"$(nproc)" > "$dir.build.log" 2>&1 \
  || { grep -E "error|warning|Error" "$dir.build.log" | head -n 40 || true; echo "build: FAILED, see $dir.build.log" >&2; exit 1; }
