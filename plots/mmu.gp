# mmu.gp -- minimum mutator utilisation: for a window of width w, the
# least fraction of any window of that width that the program ran rather
# than paused (DESIGN.md; Cheng & Blelloch 2001), as the monotone bound
# (BMU: min over all windows at least w wide) so curves read left to right.
#
#   gnuplot -c plots/mmu.gp DATA OUT.png|OUT.svg [TITLE]
#
# DATA (heapbench plot writes plots/NAME/data/mmu-WORKLOAD.dat from
# NAME.pauses.csv and the run's wall time): one block per series, separated
# by two blank lines; a block's first line is its title (quoted), then
#   window_ms  utilisation(0..1)
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "minimum mutator utilisation"
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
set xrange [0.1:1000]
set yrange [0:1.02]
set xlabel "window (ms, log scale)"
set ylabel "minimum mutator utilisation (BMU)"
set format x "%g"
set grid xtics ytics mxtics lc rgb "#dddddd"
set key outside right top noenhanced
plot for [i=0:STATS_blocks-1] data index i using 1:2 with lines lw 2 title columnheader(1)
