# latency.gp -- operation latency percentiles (p50, p90, p99, p99.9, max)
# of each backend in one workload and thread count, medians over the
# repetitions, on a log scale.
#
#   gnuplot -c plots/latency.gp DATA OUT.png|OUT.svg [TITLE]
#
# DATA (heapbench plot writes plots/NAME/data/latency-GROUP.dat from the
# lat_* columns): one block per backend, separated by two blank lines; a
# block's first line is its title (quoted), then
#   position  percentile_label  latency_ns
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "operation latency"
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
set logscale y
set xrange [0.5:5.5]
set xlabel "percentile"
set ylabel "latency (ns, log scale)"
set grid ytics mytics lc rgb "#dddddd"
set key outside right top noenhanced
plot for [i=0:STATS_blocks-1] data index i using 1:3:xtic(2) with linespoints lw 2 pt 7 title columnheader(1)
