"""bench_gc.py -- bench_gc's patterns in CPython, printed in bench_gc's
row format so the ratio to rcgen is read off one run.

  cycles  N objects in 2-node cycles (x.next = y; y.next = x), then one
          gc.collect() timed
  full    gc.collect() over N live objects (a list of N - 1 nodes) with
          nothing to free, after a settling collect
  gen0    generation-0 pauses at threshold 700 under bench_gc's two
          churns (2-node cycles made and dropped; a rolling window of 1000
          live nodes, 1 new node in 16 made a self-cycle), timed by
          gc.callbacks start/stop

usage: python3 bench_gc.py [objects]      (default 1000000)
"""
import gc
import sys
import time


class Node:
    __slots__ = ("next",)  # one reference field, like bench_gc's Node

    def __init__(self):
        self.next = None


def cycles(n):
    gc.disable()
    gc.collect()
    x = y = None
    for _ in range(n // 2):
        x = Node()
        y = Node()
        x.next = y
        y.next = x
    del x, y
    t0 = time.perf_counter_ns()
    got = gc.collect()
    dt = time.perf_counter_ns() - t0
    gc.enable()
    print("%-9s %-8s cycles: %d objects collected in %.3f ms = %.1f ns/object"
          % ("python3", "cpython", got, dt / 1e6, dt / max(got, 1)))


def full(n):
    gc.disable()
    lst = [Node() for _ in range(n - 1)]
    gc.collect()
    t0 = time.perf_counter_ns()
    got = gc.collect()
    dt = time.perf_counter_ns() - t0
    print("%-9s %-8s full:   %d live objects, %d freed, %.3f ms = %.1f ns/object"
          % ("python3", "cpython", n, got, dt / 1e6, dt / n))
    del lst
    gc.enable()
    gc.collect()


def gen0(churn):
    """Generation-0 pauses under bench_gc.c's churns (see bench_gen0):
    "cycles" makes and drops 2-node cycles, "window" replaces a window of
    1000 live nodes at random, 1 new node in 16 a self-cycle."""
    pauses = []
    freed = []
    start = [0]

    def cb(phase, info):
        if info["generation"] != 0:
            return
        if phase == "start":
            start[0] = time.perf_counter_ns()
        else:
            pauses.append(time.perf_counter_ns() - start[0])
            freed.append(info["collected"])

    gc.collect()
    gc.set_threshold(700, 10, 10)
    gc.callbacks.append(cb)
    if churn == "cycles":
        for _ in range(4000000 // 2):  # as bench_gc.c's churn_nodes
            x = Node()
            y = Node()
            x.next = y
            y.next = x
        del x, y
    else:
        win = [None] * 1000
        s = 1
        mask = (1 << 64) - 1
        for _ in range(10000000):  # as bench_gc.c's churn_nodes
            v = Node()
            s = (s * 6364136223846793005 + 1442695040888963407) & mask
            if (s >> 60) == 0:
                v.next = v
            win[(s >> 33) % 1000] = v
        del v, win
    gc.callbacks.remove(cb)
    gc.collect()
    n = len(pauses)
    if not n:
        print("python3   cpython  gen0 %s: no generation-0 collection ran" % churn)
        return
    pauses.sort()
    # nearest rank, as bench_gc: p of n is element ceil(p * n) - 1
    print("%-9s %-8s gen0 %s: %d pauses, p50 %.1f us, p99 %.1f us, max %.1f us; %.0f freed per pause"
          % ("python3", "cpython", churn, n, pauses[n // 2] / 1e3, pauses[(n * 99 - 1) // 100] / 1e3,
             pauses[-1] / 1e3, sum(freed) / n))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    print("python3   %s" % sys.version.split()[0])
    cycles(n)
    full(n)
    gen0("cycles")
    gen0("window")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
