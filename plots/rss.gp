# rss.gp -- resident memory of one cell over its run, with the live bytes
# the allocator (or collector) reports beside it: the gap between the two
# lines is what the allocator holds that the program does not.
#
#   gnuplot -c plots/rss.gp DATA OUT.png|OUT.svg [TITLE]
#
# DATA (heapbench plot writes plots/NAME/data/rss-CELL.dat from
# NAME.rss.csv, first repetition): whitespace-separated, '?' when unknown,
#   line 1: ms rss_mib live_mib
#   then one line per sample
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "RSS over time"
if (out[strlen(out)-2:] eq "svg") {
    set terminal svg size 1150,560 dynamic enhanced font "sans,11" background "white"
} else {
    set terminal pngcairo size 1150,560 enhanced font "sans,11"
}
set output out
set title title noenhanced
set datafile missing "?"
set xlabel "time since the cell started (ms)"
set ylabel "MiB"
set yrange [0:*]
set grid lc rgb "#dddddd"
set key left top
plot data using 1:2 with lines lw 2 title "RSS (resident)", \
     data using 1:3 with lines lw 2 dt 2 title "live bytes (allocator's count)"
