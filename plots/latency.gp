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
# A backend's colour is its allocator's (plots/style.gp, loaded from this
# script's directory). When the series are ALLOCATOR+COLLECTOR, the figure
# has a panel per collector, with the same y axis, a line per allocator.
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "operation latency"
names = ARGC >= 4 ? ARG4 : ""  # every allocator of the results file (style.gp)
d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
W = 1150; H = 600
load d . "style.gp"
blocks = data; eval blocks_cmd; eval panels_cmd
set logscale y
set ytics ("1 ns" 1, "10 ns" 10, "100 ns" 100, "1 µs" 1e3, "10 µs" 1e4, "100 µs" 1e5, \
           "1 ms" 1e6, "10 ms" 1e7, "100 ms" 1e8, "1 s" 1e9, "10 s" 1e10)
set mytics 10
# whole decades (and a hair more: a tick exactly on the edge of a log axis
# can be lost to rounding), so that both ends carry a labelled tick; the
# same in every panel
stats data using 3 nooutput
set yrange [0.97 * 10.0**int(floor(log10(STATS_min))) : 1.03 * 10.0**int(ceil(log10(STATS_max) - 1e-9))]
set xrange [0.7:5.3]
set xlabel "percentile of the operations timed (nearest rank)"
set ylabel "latency of one operation (log scale)"
set grid ytics mytics lc rgb "#dddddd", lc rgb "#f0f0f0"
set key outside right top noenhanced samplen 3
if (NP <= 1) {
    set title title noenhanced
    plot for [i=1:NB] data index (i-1) using 1:3:xtic(2) with linespoints lw 2 ps 1 \
         lc rgb colour(S[i], i) dt dash(S[i]) pt point(S[i]) title columnheader(1)
} else {
    # a panel per collector, a line per allocator under it
    eval multiplot_cmd
    do for [p=1:NP] {
        eval members_cmd
        set title "under " . word(PL, p) noenhanced
        plot for [j in M] data index (int(j)-1) using 1:3:xtic(2) with linespoints lw 2 ps 1 \
             lc rgb colour(S[int(j)], int(j)) pt 7 title palloc(S[int(j)])
    }
    unset multiplot
}
