#!/usr/bin/env bash
# The README's promise on bad input, per subcommand, as a table: for each
# bad input, exit 2, exactly one line on stderr, and every file that was
# there before byte-identical afterwards, with no file added or removed.
#   test_badinput.sh HEAPBENCH WORKDIR
. "$(dirname "$0")/lib.sh" "$@"

# ---- fixtures: two real results sets, and damaged copies
"$hb" run --allocators system,arena --workloads churn --threads 1 --reps 2 --param ops=20000 --out good.csv \
    > /dev/null 2>&1 || bad "setup: run good.csv"
"$hb" run --allocators system --workloads cycles --collectors rcgen --threads 1 --reps 2 --param ops=20000 \
    --out gc.csv > /dev/null 2>&1 || bad "setup: run gc.csv"
: > empty.csv
printf 'a,b\n1,"2\n' > quote.csv                                      # a quote never closed
printf 'a,b\n1,2,3\n' > fields.csv                                   # a row with too many fields
head -c 300 good.csv > cut.csv                                       # cut in the middle of the header
sed '1s/,cell,/,name,/' good.csv > schema.csv                        # another schema
sed '3s/,ok,/,ok\xff,/' good.csv > latin.csv                         # not UTF-8
python3 - <<'PY'
import csv
rows = list(csv.reader(open("good.csv", newline="")))
h = rows[0]
def write(name, col, value):
    r = [list(x) for x in rows]
    r[2][h.index(col)] = value
    csv.writer(open(name, "w", newline=""), lineterminator="\n").writerows(r)
write("neg.csv", "wall_s", "-5")
write("hex.csv", "allocs", "0x10")
write("nan.csv", "ops_per_s", "nan")
PY
cp gc.csv comp.csv; cp gc.rss.csv comp.rss.csv; printf 'cell,rep\n"x,0\n' > comp.pauses.csv # a damaged companion of another header
cp gc.csv tail.csv; cp gc.rss.csv tail.rss.csv; cp gc.pauses.csv tail.pauses.csv
printf 'half,0,1.5' >> tail.pauses.csv                                # a companion that ends mid-row
mkdir -p dir.csv ro
long=$(printf 'y%.0s' $(seq 250))

# ---- the table: subcommand and arguments (eval'd, so quotes work), then
# after ' # ' what it is
cases=$(cat <<'T'
                                                              # no subcommand
nosuch                                                        # an unknown subcommand
list extra                                                    # list takes no arguments
run --allocators nope --out new.csv                           # an unknown allocator
run --workloads nope --out new.csv                            # an unknown workload
run --collectors nope --workloads cycles --out new.csv        # an unknown collector
run --threads 0 --out new.csv                                 # zero threads
run --threads 1025 --out new.csv                              # too many threads
run --threads 1,1 --out new.csv                               # a thread count twice
run --workloads churn,churn --out new.csv                     # a workload twice
run --reps 0 --out new.csv                                    # zero repetitions
run --size huge --out new.csv                                 # an unknown size
run --param ops --out new.csv                                 # a --param without =
run --workloads churn --param ops=-5 --out new.csv            # a --param out of range
run --workloads churn --param nosuch=1 --out new.csv          # an unknown --param
run --heap both --out new.csv                                 # an unknown heap mode
run --shard 3/2 --out new.csv                                 # a shard past the count
run --timeout 0 --out new.csv                                 # a zero timeout
run --bogus --out new.csv                                     # an unknown option
run --resume                                                  # --resume without --out
run --out ''                                                  # an empty --out
run --out new.txt                                             # an --out not ending in .csv
run --out nodir/new.csv                                       # an --out in a missing directory
run --out dir.csv                                             # an --out that is a directory
run --out "$long.csv"                                         # a name too long for its companions
run --workloads churn --threads 1 --param ops=2000 --out schema.csv   # appending to another schema
run --workloads churn --threads 1 --param ops=2000 --out cut.csv      # appending to a damaged file
run --workloads churn --threads 1 --param ops=2000 --out latin.csv    # appending to a file not UTF-8
run --workloads cycles --threads 1 --param ops=2000 --out comp.csv    # a companion of another header
run --workloads cycles --threads 1 --param ops=2000 --out tail.csv    # a companion that ends mid-row
run --workloads churn --allocators system --heap shared --out new.csv # --heap shared, allocator-only
compare good.csv                                              # one file
compare good.csv missing.csv                                  # a missing file
compare good.csv empty.csv                                    # an empty file
compare good.csv quote.csv                                    # a quote never closed
compare good.csv fields.csv                                   # a row with too many fields
compare good.csv latin.csv                                    # not UTF-8
compare good.csv neg.csv                                      # a negative time
compare good.csv hex.csv                                      # a hexadecimal count
compare good.csv nan.csv                                      # nan
compare good.csv good.csv --format xml                        # an unknown format
compare good.csv good.csv --metrics nosuch                    # an unknown metric
compare good.csv good.csv --bogus                             # an unknown option
regress --baseline good.csv                                   # no candidate
regress --baseline good.csv --candidate missing.csv           # a missing candidate
regress --baseline good.csv --candidate .                     # a file against a directory
regress --baseline good.csv --candidate neg.csv               # a negative time
regress --baseline good.csv --candidate quote.csv             # a quote never closed
regress --baseline good.csv --candidate good.csv --threshold x   # a threshold not a number
regress --baseline good.csv --candidate good.csv --bogus      # an unknown option
merge out.csv                                                 # no input
merge good.csv gc.csv                                         # an OUT that exists
merge ./good.csv good.csv                                     # OUT is an input
merge good.rss.csv gc.csv                                     # OUT is an input's companion
merge out.csv good.txt                                        # an input not ending in .csv
merge out.csv missing.csv                                     # a missing input
merge out.csv quote.csv                                       # a damaged input
merge out.csv latin.csv                                       # an input not UTF-8
merge out.csv hex.csv                                         # a hexadecimal count
merge out.csv good.csv schema.csv                             # two schemas
merge out.csv comp.csv                                        # a damaged companion
merge out.csv good.csv --bogus                                # an unknown option
merge nodir/out.csv good.csv                                  # OUT in a missing directory
json good.csv                                                 # no output
json good.csv good.csv                                        # OUT is the input
json good.csv ./good.csv                                      # OUT is the input, spelled differently
json good.csv good.rss.csv                                    # OUT is the input's companion
json good.csv good.pauses.csv                                 # OUT would be the input's companion
json missing.csv out.json                                     # a missing input
json empty.csv out.json                                       # an empty input
json latin.csv out.json                                       # an input not UTF-8
json neg.csv out.json                                         # a negative time
json good.csv nodir/out.json                                  # OUT in a missing directory
plot                                                          # no file
plot good.txt                                                 # not ending in .csv
plot missing.csv --out p                                      # a missing file
plot good.csv --out ''                                        # an empty --out
plot good.csv --out good.csv                                  # an --out that is a file
plot good.csv --ref                                           # --ref without a value
plot good.csv --bogus                                         # an unknown option
plot quote.csv --out p                                        # a damaged file
plot nan.csv --out p --data-only                              # nan
plot tail.csv --out p --data-only                             # a companion that ends mid-row
T
)

# a case that is wrongly accepted must not run a whole default matrix
real=$hb
printf '#!/bin/sh\nexec timeout 60 "%s" "$@"\n' "$real" > ../badinput-hb && chmod +x ../badinput-hb
hb=$(cd .. && pwd)/badinput-hb
snapshot() { find . -type f ! -name 'out.txt' ! -name 'err.txt' -print0 | sort -z | xargs -0 sha256sum; }
while IFS= read -r line; do
    what=${line#*# }
    args=${line%%#*}
    eval "set -- $args"
    before=$(snapshot)
    expect2 "heapbench $args($what)" "$@"
    after=$(snapshot)
    if [ "$before" = "$after" ]; then
        ok
    else
        bad "heapbench $args($what): files changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -4)"
        rm -rf p out.json out.csv new.csv # leave the next case a clean slate
    fi
done <<< "$cases"

finish
