# pause_cdf.gp -- the distribution of collection pauses: for each series
# (one backend in one cell), the fraction of its pauses no longer than x.
#
#   gnuplot -c plots/pause_cdf.gp DATA OUT.png|OUT.svg [TITLE]
#
# DATA (heapbench plot writes plots/NAME/data/pause_cdf-GROUP.dat from
# NAME.pauses.csv): one block per series, blocks separated by two blank
# lines; a block's first line is its title (quoted), then lines of
#   duration_us  fraction_of_pauses_at_most_that_long
# sorted by duration, every repetition's pauses together; thinned to the
# points where the staircase moves by 0.5% in duration or 0.002 in fraction.
# A backend's colour is its allocator's (plots/style.gp, loaded from this
# script's directory). When the series are ALLOCATOR+COLLECTOR, the figure
# has a panel per collector, with the same axes, a line per allocator.
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "pause time distribution"
names = ARGC >= 4 ? ARG4 : ""  # every allocator of the results file (style.gp)
d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
W = 1150; H = 600
load d . "style.gp"
blocks = data; eval blocks_cmd; eval panels_cmd
set logscale x
set xtics ("1 ns" 0.001, "10 ns" 0.01, "100 ns" 0.1, "1 µs" 1, "10 µs" 10, "100 µs" 100, "1 ms" 1e3, \
           "10 ms" 1e4, "100 ms" 1e5, "1 s" 1e6, "10 s" 1e7)
set mxtics 10
# whole decades (and a hair more: a tick exactly on the edge of a log axis
# can be lost to rounding), so that both ends carry a labelled tick; the
# same in every panel
stats data using 1 nooutput
set xrange [0.97 * 10.0**int(floor(log10(STATS_min))) : 1.03 * 10.0**int(ceil(log10(STATS_max) - 1e-9))]
set xlabel "pause duration (log scale)"
set ylabel "fraction of pauses at most that long"
set yrange [0:1.02]
set ytics 0.1
set grid xtics ytics mxtics lc rgb "#dddddd", lc rgb "#f0f0f0"
set key outside right top noenhanced samplen 3
if (NP <= 1) {
    set title title noenhanced
    plot for [i=1:NB] data index (i-1) using 1:2 with steps lw 2 \
         lc rgb colour(S[i], i) dt dash(S[i]) title columnheader(1)
} else {
    # a panel per collector, a line per allocator under it
    eval multiplot_cmd
    do for [p=1:NP] {
        eval members_cmd
        set title "under " . word(PL, p) noenhanced
        plot for [j in M] data index (int(j)-1) using 1:2 with steps lw 2 \
             lc rgb colour(S[int(j)], int(j)) title palloc(S[int(j)])
    }
    unset multiplot
}
