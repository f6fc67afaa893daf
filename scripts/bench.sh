#!/usr/bin/env bash
# Installs what is missing, builds, and runs the default benchmark matrix
# (every backend and workload at size small, threads 1 and the core count,
# 3 repetitions) into results/default-DATE.csv. Extra arguments go to
# `heapbench run` instead of the default matrix.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/heapbench run "$@"
