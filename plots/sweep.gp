# sweep.gp -- metrics against a swept parameter (--param KEY=A,B,C): a
# panel per metric, one line per backend, the median over repetitions with
# error bars from the lowest to the highest repetition.
#
#   gnuplot -c plots/sweep.gp DATA OUT.png|OUT.svg TITLE NAMES METRICS [XLABEL]
#
# NAMES: every allocator of the results file (style.gp's colours), "" will do.
# METRICS: the columns' metrics, space-separated, in order, among ops_per_s,
# pause_p99_us, pause_max_us, mmu_10ms, peak_rss_kb, wall_s.
# DATA (heapbench plot writes plots/NAME/data/sweep-WORKLOAD-KEY.dat): one
# block per backend, separated by two blank lines; a block's first line is
# its title (quoted), then lines of
#   value  median_1 lo_1 hi_1  median_2 lo_2 hi_2 ...   ('?': not measured)
# The x axis is logarithmic when the values span a factor of 10 or more.
data = ARG1
out = ARG2
title = ARGC >= 3 ? ARG3 : "metrics against a parameter"
names = ARGC >= 4 ? ARG4 : ""
metrics = ARGC >= 5 ? ARG5 : "ops_per_s"
xlab = ARGC >= 6 ? ARG6 : "parameter"
d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
W = 1150; H = 600
load d . "style.gp"
set datafile missing "?"
blocks = data; eval blocks_cmd
NM = words(metrics)
# a slot for the legend after the panels
PC = NM + 1 < 3 ? NM + 1 : 3
PR = int((NM + 1 + PC - 1) / PC)
set terminal @TERM size W, 60 + 330 * PR
set output out
stats data using 1 nooutput
if (STATS_min > 0 && STATS_max / STATS_min >= 10) { set logscale x }
set xrange [STATS_min / (STATS_max / STATS_min >= 10 ? 1.3 : 1) - (STATS_max / STATS_min >= 10 ? 0 : 0.05 * (STATS_max - STATS_min)) : \
            STATS_max * (STATS_max / STATS_min >= 10 ? 1.3 : 1) + (STATS_max / STATS_min >= 10 ? 0 : 0.05 * (STATS_max - STATS_min))]
what(m) = m eq "ops_per_s" ? "throughput (million ops/s)" : m eq "pause_p99_us" ? "pause p99 (µs)" : \
          m eq "pause_max_us" ? "pause max (µs)" : m eq "mmu_10ms" ? "MMU at 10 ms" : \
          m eq "peak_rss_kb" ? "peak RSS (MiB)" : m eq "wall_s" ? "wall time (s)" : m
scale(m) = m eq "ops_per_s" ? 1e-6 : m eq "peak_rss_kb" ? 1.0 / 1024 : 1
set key off
set bars 0.5
set multiplot layout PR, PC title title noenhanced
do for [m=1:NM] {
    M = word(metrics, m)
    k = 2 + 3 * (m - 1)
    sc = scale(M)
    set title what(M) noenhanced
    set xlabel xlab noenhanced
    if (M eq "mmu_10ms") { set yrange [0:1.05] } else { set yrange [0:*] }
    plot for [i=1:NB] data index (i-1) every ::1 using 1:(column(k)*sc):(column(k+1)*sc):(column(k+2)*sc) \
         with yerrorlines lw 2 ps 1 lc rgb colour(S[i], i) dt dash(S[i]) pt point(S[i]) notitle
}
# the legend in the next free slot
unset title; unset xlabel; unset ylabel; unset tics; unset border; unset grid; unset logscale x
set xrange [0:1]; set yrange [0:1]
set key center center vertical noenhanced samplen 3 spacing 1.3
plot for [i=1:NB] NaN with linespoints lw 2 lc rgb colour(S[i], i) dt dash(S[i]) pt point(S[i]) title S[i]
unset multiplot
