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
# Where live_mib is '?' throughout, the figure says the allocator does not
# count them.
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "RSS over time"
names = ARGC >= 4 ? ARG4 : ""  # every allocator of the results file (style.gp)
d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
W = 1150; H = 560
load d . "style.gp"
set title title noenhanced
set datafile missing "?"
set xlabel "time since the cell started (ms)"
set ylabel "memory (MiB)"
set yrange [0:*]
set offsets 0, 0, graph 0.05, 0
# under the plot: never over the curves
set key outside below center horizontal samplen 3 spacing 1.2
# samples with a live count (an allocator without its own count, such as
# mimalloc, has none: then only RSS, and the key says why)
nlive = 0
stats data using (nlive = nlive + valid(3), $2) nooutput
rss = "RSS (resident set, kernel's count)"
if (nlive > 0) {
    plot data using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc rgb "#1f77b4" title rss, \
         data using 1:3 with linespoints lw 2 pt 5 ps 0.6 dt 2 lc rgb "#d62728" title "live bytes (the allocator's own count)"
} else {
    plot data using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc rgb "#1f77b4" title rss, \
         NaN with lines lw 2 dt 2 lc rgb "#d62728" title "live bytes: not counted by this allocator"
}
