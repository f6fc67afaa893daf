# style.gp -- the look shared by every figure script in plots/: the
# terminal, and one colour per backend so that a backend has the same
# colour in every figure. Not a figure itself: each script loads it from
# its own directory, so copy it along with a script you take elsewhere.
#
# A script sets out (its output file: .svg or else PNG), W and H (pixels),
# names (its 4th argument, see NAMES below), then loads this from its own
# directory:
#   d = ""; r = ARG0; while (strstrt(r, "/")) { d = d . r[1:strstrt(r, "/")]; r = r[strstrt(r, "/")+1:] }
#   load d . "style.gp"
#
# Series names are "ALLOCATOR", "COLLECTOR" or "ALLOCATOR+COLLECTOR",
# optionally followed by a space and notes ("system+rcgen (415 pauses)").
#   colour(name, i)  the allocator's colour ("#rrggbb"), or for a bare
#                    collector name the collector's; an unknown allocator
#                    gets a spare colour of its own (see NAMES below), or
#                    without NAMES the i-th spare; a name with
#                    parameters (a sweep's series) the i-th of tab10
#   dash(name)       the collector's dash type: rc solid, rcgen long dashes,
#                    marksweep short dashes, boehm dash-dot, cpython dots, none solid
#   point(name)      the collector's point type
# So in a figure that mixes both, the colour says the allocator and the
# line's style the collector.
# TERM: the terminal without its size, for a script that needs another
# size once it knows its data (set terminal @TERM size W, H; set output out)
TERM = (strlen(out) > 4 && out[strlen(out)-3:] eq ".svg") ? \
       'svg dynamic enhanced font "sans,12" background "white"' : 'pngcairo enhanced font "sans,12"'
set terminal @TERM size W, H
set encoding utf8

sname(s) = strstrt(s, " ") ? s[1:strstrt(s, " ")-1] : s
salloc(s) = strstrt(sname(s), "+") ? sname(s)[1:strstrt(sname(s), "+")-1] : sname(s)
scoll(s) = strstrt(sname(s), "+") ? sname(s)[strstrt(sname(s), "+")+1:] : sname(s)
# a panel's series title: the allocator with the notes ("system threshold=100")
palloc(s) = salloc(s) . s[strlen(sname(s))+1:]

# allocators: the first seven of matplotlib's tab10, boehm pink in both
# lists (it is its own allocator); CPython's blue for the collector cpython,
# a dark gold (no tab10 hue, unlike system's blue) for its allocator pymalloc
acol(a) = a eq "system" ? "#1f77b4" : a eq "arena" ? "#ff7f0e" : a eq "freelist" ? "#2ca02c" : \
          a eq "jemalloc" ? "#d62728" : a eq "mimalloc" ? "#9467bd" : a eq "tcmalloc" ? "#8c564b" : \
          a eq "boehm" ? "#e377c2" : a eq "pymalloc" ? "#8b6508" : ""
# collectors, when they are the bars: hues no allocator uses
ccol(c) = c eq "rc" ? "#17becf" : c eq "rcgen" ? "#bcbd22" : c eq "marksweep" ? "#393b79" : \
          c eq "boehm" ? "#e377c2" : c eq "cpython" ? "#3776ab" : ""
spare(i) = word("#7f7f7f #000000 #aec7e8 #ffbb78 #98df8a #ff9896 #c5b0d5 #c49c94", (int(i) - 1) % 8 + 1)
# Names this file does not know (an allocator given as a library, NAME=PATH)
# take spare colours by their rank among the unknown names of NAMES: every
# allocator name of the results file, sorted, which heapbench plot passes as
# the script's 4th argument (a script sets `names` from it before loading
# this file: inside `load`, ARG1..ARG9 are not the script's). So one name has one colour in every figure of a
# file and no two share one; past the eight spares, hues a golden angle
# apart. A script run by hand without it gives an unknown name the spare of
# its series' index.
NAMES = exists("names") ? names : ""
npos(a) = sum [k=1:words(NAMES)] (word(NAMES, k) eq a ? k : 0)
urank(a) = sum [k=1:npos(a)] (acol(word(NAMES, k)) eq "" ? 1 : 0)
ucolour(u) = u <= 8 ? spare(u) : sprintf("#%06x", hsv2rgb((u * 0.618034) - floor(u * 0.618034), 0.55, 0.8))
ucol(a, i) = npos(a) > 0 ? ucolour(urank(a)) : spare(i)
# An "ALLOCATOR+COLLECTOR" series is coloured by its allocator only (an
# unknown allocator must not take its collector's colour); a bare name is an
# allocator's or a collector's.
# A sweep's series carry the cell's parameters ("system+rcgen threshold=100"):
# one backend at several settings, so the colour tells the settings apart.
tab10(i) = word("#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf", (int(i) - 1) % 10 + 1)
colour(s, i) = strstrt(s, "=") ? tab10(i) : acol(salloc(s)) ne "" ? acol(salloc(s)) : \
               (!strstrt(sname(s), "+") && ccol(sname(s)) ne "") ? ccol(sname(s)) : ucol(salloc(s), i)

cname(s) = strstrt(sname(s), "+") ? scoll(s) : ""
dash(s) = cname(s) eq "rcgen" ? 2 : cname(s) eq "marksweep" ? 3 : cname(s) eq "boehm" ? 4 : cname(s) eq "cpython" ? 5 : 1
point(s) = cname(s) eq "rcgen" ? 5 : cname(s) eq "marksweep" ? 9 : cname(s) eq "boehm" ? 13 : cname(s) eq "cpython" ? 11 : 7
set dashtype 2 (10, 5)
set dashtype 3 (3, 3)
set dashtype 4 (10, 4, 2, 4)
set dashtype 5 (2, 6)

# The series of a file of blocks (two blank lines between blocks, each
# block's first line its quoted title): NB, and their titles in S[1..NB]
# (an empty block at the end not counted).
# Use: blocks = data; eval blocks_cmd
blocks_cmd = 'stats blocks using 1 nooutput; NB = STATS_blocks; array S[NB]; ' . \
             'do for [i=1:NB] { S[i] = ""; stats blocks index (i-1) every ::0::0 using (S[i] = strcol(1), 0) nooutput }; ' . \
             'while (NB > 1 && S[NB] eq "") { NB = NB - 1 }'

# Small multiples for a figure that mixes collectors: one panel per
# collector, in the order they first appear, its allocators as the series.
# After blocks_cmd: eval panels_cmd gives NP panels (0 when no series names
# a collector), named word(PL, p), in PR rows of PC, and with more than one
# panel makes the figure 420 pixels high a row (W wide). eval
# multiplot_cmd then starts the panels, each with its key under it (beside
# it, it took half the panel's width); inside a loop over p, eval
# members_cmd gives M, the indices into S of that panel's series
# (for [j in M]).
panels_cmd = 'PL = ""; do for [i=1:NB] { if (cname(S[i]) ne "" && !strstrt(PL . " ", " " . cname(S[i]) . " ")) ' . \
             '{ PL = PL . " " . cname(S[i]) } }; NP = words(PL); ' . \
             'PR = NP <= 2 ? 1 : 2; PC = int((NP + PR - 1) / PR); ' . \
             'if (NP > 1) { set terminal @TERM size W, 70 + 420 * PR; set output out }'
multiplot_cmd = 'set key outside below center horizontal noenhanced samplen 2; ' . \
                'set multiplot layout PR, PC title title noenhanced'
members_cmd = 'M = ""; do for [i=1:NB] { if (cname(S[i]) eq word(PL, p)) { M = M . " " . i } }'

set output out
set grid lc rgb "#dddddd"
set border lc rgb "#444444"
