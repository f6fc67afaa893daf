# mmu.gp -- minimum mutator utilisation: for a window of width w, the
# least fraction of any window of that width that the program ran rather
# than paused (DESIGN.md; Cheng & Blelloch 2001), as the monotone bound
# (BMU: min over all windows at least w wide) so curves read left to right.
#
#   gnuplot -c plots/mmu.gp DATA OUT.png|OUT.svg [TITLE]
#
# DATA (heapbench plot writes plots/NAME/data/mmu-GROUP.dat from
# NAME.pauses.csv and the run's wall time): one block per series, separated
# by two blank lines; a block's first line is its title (quoted), then
#   window_ms  utilisation(0..1)
# A backend's colour is its allocator's (plots/style.gp, loaded from this
# script's directory). When the series are ALLOCATOR+COLLECTOR, the figure
# has a panel per collector, with the same axes, a line per allocator.
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "minimum mutator utilisation"
names = ARGC >= 4 ? ARG4 : ""  # every allocator of the results file (style.gp)
d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
W = 1150; H = 600
load d . "style.gp"
blocks = data; eval blocks_cmd; eval panels_cmd
set logscale x
set xrange [0.1:1000]
set xtics ("100 µs" 0.1, "1 ms" 1, "10 ms" 10, "100 ms" 100, "1 s" 1000)
set mxtics 10
set yrange [0:1.02]
set ytics 0.1
set xlabel "window width (log scale)"
set ylabel "minimum mutator utilisation (BMU)"
set grid xtics ytics mxtics lc rgb "#dddddd", lc rgb "#f0f0f0"
set key outside right top noenhanced samplen 3
if (NP <= 1) {
    set title title noenhanced
    plot for [i=1:NB] data index (i-1) using 1:2 with lines lw 2 \
         lc rgb colour(S[i], i) dt dash(S[i]) title columnheader(1)
} else {
    # a panel per collector, a line per allocator under it
    eval multiplot_cmd
    do for [p=1:NP] {
        eval members_cmd
        set title "under " . word(PL, p) noenhanced
        plot for [j in M] data index (int(j)-1) using 1:2 with lines lw 2 \
             lc rgb colour(S[int(j)], int(j)) title palloc(S[int(j)])
    }
    unset multiplot
}
