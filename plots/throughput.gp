# throughput.gp -- each backend's throughput normalised to a reference
# backend, one group of bars per workload and thread count, with the 95%
# interval of the ratio as error bars (Hodges-Lehmann, harness/stats.c).
#
#   gnuplot -c plots/throughput.gp DATA OUT.png|OUT.svg [TITLE]
#
# DATA (heapbench plot writes it as plots/NAME/data/throughput.dat; any file
# of this shape will do): whitespace-separated, '?' for a missing value,
#   line 1: group  BACKEND lo hi  BACKEND lo hi ...
#   then:   "churn t1"  ratio lo hi  ratio lo hi ...
# A ratio above 1 is faster than the reference (its bar is at 1 by definition).
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "throughput relative to the reference backend"
if (out[strlen(out)-2:] eq "svg") {
    set terminal svg size 1100,600 dynamic enhanced font "sans,11" background "white"
} else {
    set terminal pngcairo size 1100,600 enhanced font "sans,11"
}
set output out
# twelve distinguishable colours: gnuplot's default cycles after eight
array C[12] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", \
               "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8"]
do for [i=1:12] { set linetype i lc rgb C[i] }
set linetype cycle 12
set title title
set datafile missing "?"
set key outside right top vertical title "backend" noenhanced
set style data histogram
set style histogram errorbars gap 1 lw 1.2
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "throughput / reference (ops/s ratio; higher is faster)"
set xlabel "workload, threads"
set yrange [0:*]
set offsets 0, 0, 0.15, 0
set grid ytics lc rgb "#dddddd"
# labels slanted: with many workloads side by side, level labels run into
# each other
set xtics noenhanced rotate by -30 left
set bmargin 7
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#555555" front
plot for [i=2:*:3] data using i:i+1:i+2:xtic(1) title columnheader(i)
