# lib.sh -- what the harness's test scripts share. Each script starts with
#   . "$(dirname "$0")/lib.sh" "$@"
# which takes HEAPBENCH and WORKDIR from its arguments and works in a fresh
# WORKDIR, and ends with `finish`.
set -u
# absolute paths, before the cd below: the binary, and this folder (`here`)
hb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0 passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# Bad input: heapbench must exit 2 with exactly one line on stderr (after
# dropping lines matching $HB_ERR_IGNORE, a regex, when set). Sets rc.
expect2() { # description, args...
    local what=$1; shift
    "$hb" "$@" > out.txt 2> err.txt
    rc=$?
    local lines
    if [ -n "${HB_ERR_IGNORE:-}" ]; then
        lines=$(grep -Evc "$HB_ERR_IGNORE" err.txt)
    else
        lines=$(wc -l < err.txt)
    fi
    if [ $rc != 2 ]; then
        bad "$what: exit $rc, want 2 ($(cat err.txt))"
        return 1
    fi
    if [ "$lines" != 1 ]; then
        bad "$what: stderr is not one line: $(cat err.txt)"
        return 1
    fi
    ok
}

finish() {
    echo "$passes passed, $fails failed"
    [ $fails = 0 ]
}
