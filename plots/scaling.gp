# scaling.gp -- throughput against thread count, one line per backend, for
# one workload: the median over repetitions, error bars from the slowest to
# the fastest repetition.
#
#   gnuplot -c plots/scaling.gp DATA OUT.png|OUT.svg [TITLE]
#
# DATA (heapbench plot writes plots/NAME/data/scaling-WORKLOAD.dat): one block
# per backend, separated by two blank lines; a block's first line is its
# title (quoted), then
#   threads  median_ops_per_s  min_ops_per_s  max_ops_per_s
# A backend's colour is its allocator's, its line style its collector's
# (plots/style.gp, loaded from this script's directory).
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "thread scaling"
d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
W = 1150; H = 600
load d . "style.gp"
blocks = data; eval blocks_cmd
mixed = sum [i=1:NB] (strstrt(S[i], "+") > 0)
stats data using 1 nooutput
set title title noenhanced
set xlabel "threads"
set ylabel "throughput (million operations/s)"
set xtics 1
set xrange [STATS_min - 0.3 : STATS_max + 0.3]
set yrange [0:*]
set key outside right top noenhanced samplen 3
if (mixed) { set key title "colour: allocator; line: collector" }
set bars 0.5
plot for [i=1:NB] data index (i-1) using 1:($2/1e6):($3/1e6):($4/1e6) with yerrorlines lw 2 ps 1 \
     lc rgb colour(S[i], i) dt dash(S[i]) pt point(S[i]) title columnheader(1)
