#!/usr/bin/env bash
# Installs what heapbench needs from Debian 12's packages, only what is
# missing (as root; uses sudo when not root and sudo exists).
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git
  libjemalloc-dev libhwloc-dev hwloc libcmocka-dev   # required
  libmimalloc-dev libgoogle-perftools-dev libgc-dev  # further backends
  gnuplot-nox                                        # figures
  python3 libpython3.11-testsuite                    # python3 on the drop-in libraries; the collector cpython
  valgrind                                           # instruction counts
  libbenchmark-tools python3-scipy                   # Google Benchmark's compare.py on our JSON
  time                                               # /usr/bin/time, the independent RSS check
  chromium                                           # test_report: the report opened in a real browser
  python3-yaml                                       # test_ci_doc: the workflow in docs/ci.md, parsed
  clang libclang-rt-14-dev                           # libFuzzer (tests/fuzz, scripts/fuzz.sh)
  perl lua5.4 sqlite3 rocksdb-tools z3 ghostscript   # program workloads (workloads/programs/)
  redis-server redis-tools                           # the `redis` program: server and benchmark
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
echo "setup: done"
