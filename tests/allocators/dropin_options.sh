#!/bin/sh
# dropin_options.sh LIB NAME DROPIN_CHECK -- HEAPBENCH_OPTIONS reaches the
# drop-in library's backend: options it takes (arena's) run the checking
# program as usual; options it does not take end the process at the first
# malloc with one line naming the variable and exit status 2.
set -u
lib=$1 name=$2 check=$3
fail() { echo "dropin_options: $*" >&2; exit 1; }
if [ "$name" = arena ]; then
    LD_PRELOAD="$lib" HEAPBENCH_OPTIONS=cache=0,foreign=0,purge=5,warm=1 "$check" arena ||
        fail "arena with its options: the checking program failed"
fi
err=$(LD_PRELOAD="$lib" HEAPBENCH_OPTIONS=no_such_option=1 "$check" "$name" 2>&1 >/dev/null)
rc=$?
[ "$rc" -eq 2 ] || fail "an unknown option: exit $rc, want 2"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "an unknown option: want one line, got: $err"
case $err in
*HEAPBENCH_OPTIONS*"libheapbench_$name.so"*) ;;
*) fail "an unknown option: the message does not name the variable and the library: $err" ;;
esac
echo "dropin_options: $name ok"
