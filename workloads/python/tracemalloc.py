"""tracemalloc.py -- workloads/tracemalloc.c in Python, with the real
tracemalloc: 2 x `passes` passes of `ops` request-like graphs each,
alternately traced and untraced in ABBA order (T U U T T U ...), each pass
from the same seed and after a gc.collect(). The documents' pattern:
tracemalloc.start(); build; snapshot = tracemalloc.take_snapshot();
snapshot.statistics("lineno")[:10], printed on stderr with the tracing
cost (traced time / untraced time).

Self-check, on the traced passes: at the snapshot (the cache alive) the
line that makes a Record holds at least one block per distinct Record in
the cache and at most one per graph made; the rows line as many blocks per
Record; after the pass's collection (the cache gone) no block of this
file's graphs is left; traced and untraced passes made the same graphs."""
import gc
import random
import sys
import time

# this file's folder, first on sys.path, would make `import tracemalloc`
# import this file again: the standard library's first
_here = sys.path.pop(0)
import tracemalloc  # noqa: E402
sys.path.insert(0, _here)
import hbgc  # noqa: E402


class Record:
    __slots__ = ("name", "id", "rows", "back")


def graph(i, nrows):
    rec = Record()  # SITE_RECORD
    rec.name = "item-%d" % i
    rec.id = 1000 + i
    rec.rows = [(k, rec.id + k) for k in range(nrows)]  # SITE_ROWS
    rec.back = None
    return rec


def line_of(tag):
    with open(__file__) as f:
        return next(n for n, l in enumerate(f, 1) if l.rstrip().endswith("# " + tag))


def one_pass(p, traced, cost):
    ops, nrows, ncache, keep, cyclic = p["ops"], p["rows"], p["cache"], p["keep_pct"], p["cyclic_pct"]
    bits = random.Random(p["seed"]).getrandbits  # the same graphs every pass
    gc.collect()  # nothing older dies during the pass
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter_ns()
    cache = [None] * ncache
    made = 0
    for i in range(ops):
        r = bits(64)
        rec = graph(i, nrows)
        if (r & 0xffff) * 100 < cyclic * 0x10000:
            rec.back = rec
        if ((r >> 16) & 0xffff) * 100 < keep * 0x10000:
            cache[(r >> 32) % ncache] = rec
        del rec
        made += 1
    cost[traced] += time.perf_counter_ns() - t0
    snap = None
    if traced:
        snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, __file__)])
        alive = len({id(x) for x in cache if x is not None})
        by_line = {s.traceback[0].lineno: s.count for s in snap.statistics("lineno")}
        n_rec = by_line.get(line_of("SITE_RECORD"), 0)
        assert alive <= n_rec <= ops, ("Record blocks at the snapshot", alive, n_rec, ops)
        if nrows:
            assert by_line.get(line_of("SITE_ROWS"), 0) >= alive, "rows lists at the snapshot"
    del cache
    if traced:
        gc.collect()  # the pass's garbage
        left = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, __file__)])
        graphs_left = sum(s.count for s in left.statistics("lineno")
                          if s.traceback[0].lineno in (line_of("SITE_RECORD"), line_of("SITE_ROWS")))
        assert graphs_left == 0, ("graph blocks alive after the pass's collection", graphs_left)
        tracemalloc.stop()
    return made, snap


def run(p):
    cost = [0, 0]
    made = [0, 0]
    snap = None
    for k in range(2 * p["passes"]):
        traced = (k & 1) == ((k >> 1) & 1)  # T U U T T U U T ...
        n, s = one_pass(p, traced, cost)
        made[traced] += n
        snap = s or snap
    assert made[0] == made[1], ("traced and untraced passes made other graphs", made)
    out = ["[Top 10] the last traced pass, by line"]
    for i, st in enumerate(snap.statistics("lineno")[:10]):
        f = st.traceback[0]
        out.append("#%d: %s:%s: %.1f KiB (%d blocks)" % (i, f.filename.rsplit("/", 1)[-1], f.lineno,
                                                         st.size / 1024, st.count))
    out.append("tracing cost: traced %.3f s, untraced %.3f s, ratio %.2f"
               % (cost[1] / 1e9, cost[0] / 1e9, cost[1] / max(cost[0], 1)))
    sys.stderr.write("\n".join(out) + "\n")
    return sum(made)


hbgc.measure(run, hbgc.params({"ops": 8000, "passes": 4, "rows": 4, "cache": 500, "keep_pct": 20,
                               "cyclic_pct": 5}))
