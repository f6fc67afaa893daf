#!/bin/sh
# jemalloc-prefix.sh PIC_ARCHIVE SYMS_FILE OUT_ARCHIVE AR OBJCOPY
# Debian's jemalloc with its public names renamed (see CMakeLists.txt).
set -e
pic=$1 syms=$2 out=$3 ar=$4 objcopy=$5
dir=$(dirname "$out")/je-objs
rm -rf "$dir" && mkdir -p "$dir"
(cd "$dir" && "$ar" x "$pic")
rm -f "$dir"/jemalloc_cpp*.o
for o in "$dir"/*.o; do "$objcopy" --redefine-syms="$syms" "$o"; done
rm -f "$out"
"$ar" rcs "$out" "$dir"/*.o
