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
# A backend's colour is its allocator's (plots/style.gp, loaded from this
# script's directory). When the series are ALLOCATOR+COLLECTOR, the figure
# has a panel per collector, with the same axes, a line per allocator.
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "thread scaling"
names = ARGC >= 4 ? ARG4 : ""  # every allocator of the results file (style.gp)
d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
W = 1150; H = 600
load d . "style.gp"
blocks = data; eval blocks_cmd; eval panels_cmd
stats data using 1 nooutput
set xtics 1
set xrange [STATS_min - 0.3 : STATS_max + 0.3]
stats data using ($4/1e6) nooutput
set yrange [0 : STATS_max * 1.05]
set xlabel "threads"
set ylabel "throughput (million operations/s)"
set key outside right top noenhanced samplen 3
set bars 0.5
# each series nudged sideways a little, so error bars at one thread count
# do not hide one another
nudge(i) = (i - (NB + 1) / 2.0) * (NB > 3 ? 0.25 / NB : 0.08)
if (NP <= 1) {
    set title title noenhanced
    plot for [i=1:NB] data index (i-1) using ($1 + nudge(i)):($2/1e6):($3/1e6):($4/1e6) with yerrorlines lw 2 ps 1 \
         lc rgb colour(S[i], i) dt dash(S[i]) pt point(S[i]) title columnheader(1)
} else {
    # a panel per collector, a line per allocator under it
    eval multiplot_cmd
    do for [p=1:NP] {
        eval members_cmd
        set title "under " . word(PL, p) noenhanced
        plot for [j in M] data index (int(j)-1) using ($1 + nudge(int(j))):($2/1e6):($3/1e6):($4/1e6) with yerrorlines lw 2 ps 1 \
             lc rgb colour(S[int(j)], int(j)) pt 7 title palloc(S[int(j)])
    }
    unset multiplot
}
