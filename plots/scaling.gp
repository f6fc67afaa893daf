# scaling.gp -- throughput against thread count, one line per backend, for
# one workload: the median over repetitions, error bars from the fastest to
# the slowest repetition.
#
#   gnuplot -c plots/scaling.gp DATA OUT.png|OUT.svg [TITLE]
#
# DATA (heapbench plot writes plots/NAME/data/scaling-WORKLOAD.dat): one block
# per backend, separated by two blank lines; a block's first line is its
# title (quoted), then
#   threads  median_ops_per_s  min_ops_per_s  max_ops_per_s
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "thread scaling"
if (out[strlen(out)-2:] eq "svg") {
    set terminal svg size 1150,560 dynamic enhanced font "sans,11" background "white"
} else {
    set terminal pngcairo size 1150,560 enhanced font "sans,11"
}
set output out
# twelve distinguishable colours: gnuplot's default cycles after eight
array C[12] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", \
               "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8"]
do for [i=1:12] { set linetype i lc rgb C[i] }
set linetype cycle 12
set title title noenhanced
stats data using 1 nooutput
set xlabel "threads"
set ylabel "throughput (million ops/s)"
set xtics 1
set xrange [STATS_min - 0.5 : STATS_max + 0.5]
set yrange [0:*]
set grid lc rgb "#dddddd"
set key outside right top noenhanced
plot for [i=0:STATS_blocks-1] data index i using 1:($2/1e6):($3/1e6):($4/1e6) with yerrorlines lw 2 pt 7 \
     title columnheader(1)
