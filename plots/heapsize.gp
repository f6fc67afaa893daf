# heapsize.gp -- the time-space trade-off: wall time and pause p99 against
# heap size, a line per collector (and allocator), the median over
# repetitions with bars from the lowest to the highest repetition.
#
#   gnuplot -c plots/heapsize.gp DATA OUT.png|OUT.svg TITLE NAMES
#
# NAMES: every allocator of the results file (style.gp's colours), "" will do.
# DATA (heapbench plot writes plots/NAME/data/heapsize-GROUP.dat): one block
# per series ("ALLOCATOR+COLLECTOR"), separated by two blank lines; a
# block's first line is its title (quoted), then lines of
#   heap_mib  wall_med wall_lo wall_hi  p99_med p99_lo p99_hi   ('?': none)
# heap_mib is the cell's heap limit (marksweep, boehm under --heap-factors
# or --param heap_kb), or its peak live bytes for a cell without one (rc,
# rcgen, rcinc: their threshold's cells). The x axis is logarithmic when
# the sizes span a factor of 10 or more.
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "time against heap size"
names = ARGC >= 4 ? ARG4 : ""
d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
W = 1150; H = 460
load d . "style.gp"
set datafile missing "?"
blocks = data; eval blocks_cmd
set terminal @TERM size W, H
set output out
stats data using 1 nooutput
LOG = STATS_min > 0 && STATS_max / STATS_min >= 10
if (LOG) { set logscale x; set xrange [STATS_min / 1.2 : STATS_max * 1.2] } else { \
    set xrange [STATS_min - 0.05 * (STATS_max - STATS_min) - 0.01 : STATS_max + 0.05 * (STATS_max - STATS_min) + 0.01] }
set key off
set bars 0.5
set grid
set multiplot layout 1, 3 title title noenhanced
set xlabel "heap (MiB): the limit; peak live without one" noenhanced
set title "wall time (s)"
set yrange [0:*]
plot for [i=1:NB] data index (i-1) every ::1 using 1:2:3:4 \
     with yerrorlines lw 2 ps 1 lc rgb colour(S[i], i) dt dash(S[i]) pt point(S[i]) notitle
set title "pause p99 (ms)"
plot for [i=1:NB] data index (i-1) every ::1 using 1:($5/1000):($6/1000):($7/1000) \
     with yerrorlines lw 2 ps 1 lc rgb colour(S[i], i) dt dash(S[i]) pt point(S[i]) notitle
# the legend in the third slot
unset title; unset xlabel; unset ylabel; unset tics; unset border; unset grid; unset logscale x
set xrange [0:1]; set yrange [0:1]
set key center center vertical noenhanced samplen 3 spacing 1.3
plot for [i=1:NB] NaN with linespoints lw 2 lc rgb colour(S[i], i) dt dash(S[i]) pt point(S[i]) title S[i]
unset multiplot
