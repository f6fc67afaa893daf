# throughput.gp -- each backend's throughput relative to a reference
# backend, one group of bars per workload and thread count, with the 95%
# interval of the ratio as error bars (Hodges-Lehmann, harness/stats.c).
#
#   gnuplot -c plots/throughput.gp DATA OUT.png|OUT.svg [TITLE [NAMES [YLABEL]]]
#
# Any ratio to a reference will do: heapbench plot also draws time and peak
# RSS relative to the reference allocator with it, saying so in YLABEL.
#
# DATA (heapbench plot writes plots/NAME/data/throughput-*.dat; any file of
# this shape will do): whitespace-separated, '?' for a missing value,
#   line 1: group  BACKEND lo hi  BACKEND lo hi ...
#   then:   "churn t1 small"  ratio lo hi  ratio lo hi ...
# A BACKEND may carry notes after a space, quoted: "system (reference)".
#
# How it reads: the y axis is logarithmic, so 2x faster and 2x slower are
# the same distance from 1; a bar grows from 1 (the reference) up when
# faster, down when slower; the reference's own slot shows only its error
# bar (the noise of the reference against itself). The y range follows the
# bars, not the error bars: an interval reaching beyond it is cut at the
# edge with a triangle and its bound written beside it, so a few noisy cells
# cannot flatten every bar of the figure.
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "throughput relative to the reference backend"
names = ARGC >= 4 ? ARG4 : ""  # every allocator of the results file (style.gp)
ylab = ARGC >= 5 ? ARG5 : "throughput relative to the reference (log scale; above 1 is faster)"
d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
W = 1150; H = 620
load d . "style.gp"

set datafile missing "?"
set datafile columnheaders
stats data using 2 nooutput
N = int((STATS_columns - 1) / 3)
G = int(STATS_records)
array B[N]
stats data every ::0::0 using (sum [k=1:N] (B[k] = columnhead(3*k-1), 0)) nooutput
array L[G]
stats data using (L[int($0)+1] = strcol(1), 0) nooutput
maxlen = 0
do for [g=1:G] { maxlen = strlen(L[g]) > maxlen ? strlen(L[g]) : maxlen }
# wider for many groups, so that slanted labels never touch
if (G > 12) { set terminal @TERM size 400 + 62 * G, H; set output out }
rmin = 1; rmax = 1
upd(v) = (v == v) ? (rmin = (v < rmin ? v : rmin), rmax = (v > rmax ? v : rmax), 0) : 0
stats data using (sum [k=1:N] upd(column(3*k-1))) nooutput
ymax = rmax * 1.4 > 1.25 ? rmax * 1.4 : 1.25
ymin = rmin / 1.4 < 0.8 ? rmin / 1.4 : 0.8

set title title noenhanced
set logscale y 2
set yrange [ymin:ymax]
set ytics ("1/16" 0.0625, "1/8" 0.125, "1/4" 0.25, "1/3" 0.3333, "1/2" 0.5, "2/3" 0.6667, "0.8" 0.8, "1" 1, \
           "1.25" 1.25, "1.5" 1.5, "2" 2, "3" 3, "4" 4, "6" 6, "8" 8, "12" 12, "16" 16, "32" 32)
set ylabel ylab
set xrange [-0.6:G-0.4]
set xtics ("" 0) scale 0 noenhanced rotate by 30 right
do for [g=1:G] { set xtics add (L[g] g-1) }
set grid noxtics ytics
set key outside right top vertical noenhanced samplen 1.5 spacing 1.2
# room for the slanted labels: about a fifth of a line per character, and the title
set bmargin 0.22 * maxlen + 1.5
# and on the left for the first label, which runs down and left from its
# group (the y tick labels and the y label need about 10 characters)
set lmargin (0.85 * strlen(L[1]) - 3 > 10 ? 0.85 * strlen(L[1]) - 3 : 10)
# the slots of a group: bar k of N centred on the group's position, no
# wider than a sixth of the space between groups
bw = 0.8 / N < 0.16 ? 0.8 / N : 0.16
x(k) = $0 + (k - (N + 1) / 2.0) * bw
c(k) = 3 * k - 1
# Intervals cut at the edge: triangles and their bounds, added to the plot
# only when some interval is cut. gnuplot 5.4.4 segfaults drawing `with
# labels` when every point is undefined and the file has a single group,
# which is the usual case of a one-workload run.
nhigh = 0; nlow = 0
cut(lo, hi) = (hi == hi && hi > ymax ? nhigh = nhigh + 1 : 0, lo == lo && lo < ymin ? nlow = nlow + 1 : 0, 0)
stats data using (sum [k=1:N] cut(column(3*k), column(3*k+1))) nooutput
CUT_HIGH = nhigh == 0 ? "" : ', for [k=1:N] data using (x(k)):(column(c(k)+2) > ymax ? ymax : NaN) with points pt 9 ps 0.9 lc rgb "#222222" notitle, for [k=1:N] data using (x(k)):(column(c(k)+2) > ymax ? ymax : NaN):(sprintf("%.3g", column(c(k)+2))) with labels rotate by 90 right offset 0.7, -0.8 font ",8" tc rgb "#222222" notitle'
CUT_LOW = nlow == 0 ? "" : ', for [k=1:N] data using (x(k)):(column(c(k)+1) < ymin ? ymin : NaN) with points pt 11 ps 0.9 lc rgb "#222222" notitle, for [k=1:N] data using (x(k)):(column(c(k)+1) < ymin ? ymin : NaN):(sprintf("%.2g", column(c(k)+1))) with labels rotate by 90 left offset 0.7, 0.8 font ",8" tc rgb "#222222" notitle'
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "#333333" lw 1 front
plot for [k=1:N] data using (x(k)):(column(c(k))):(x(k) - 0.45 * bw):(x(k) + 0.45 * bw):\
         (column(c(k)) < 1 ? column(c(k)) : 1):(column(c(k)) < 1 ? 1 : column(c(k))) \
         with boxxyerror fs solid 0.9 border lc rgb "#333333" fc rgb colour(B[k], k) title B[k], \
     for [k=1:N] data using (x(k)):(column(c(k)+1)):(0):(column(c(k)+2) - column(c(k)+1)) \
         with vectors nohead lw 1 lc rgb "#222222" notitle, \
     for [k=1:N] data using (x(k) - 0.15 * bw):(column(c(k)+1)):(0.3 * bw):(0) with vectors nohead lw 1 lc rgb "#222222" notitle, \
     for [k=1:N] data using (x(k) - 0.15 * bw):(column(c(k)+2)):(0.3 * bw):(0) with vectors nohead lw 1 lc rgb "#222222" notitle \
     @CUT_HIGH @CUT_LOW
