# pause_cdf.gp -- the distribution of collection pauses: for each series
# (one backend in one cell), the fraction of its pauses no longer than x.
#
#   gnuplot -c plots/pause_cdf.gp DATA OUT.png|OUT.svg [TITLE]
#
# DATA (heapbench plot writes plots/NAME/data/pause_cdf-WORKLOAD.dat from
# NAME.pauses.csv): one block per series, blocks separated by two blank
# lines; a block's first line is its title (quoted), then lines of
#   duration_us  fraction_of_pauses_at_most_that_long
# sorted by duration, every repetition's pauses together.
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "pause time distribution"
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
set logscale x
set xlabel "pause duration (us, log scale)"
set ylabel "fraction of pauses at most that long"
set yrange [0:1.02]
set grid xtics ytics mxtics lc rgb "#dddddd"
set key outside right top noenhanced
plot for [i=0:STATS_blocks-1] data index i using 1:2 with steps lw 2 title columnheader(1)
