"""generational.py -- workloads/generational.c in Python: one small
container per op, a 3-tuple of small ints or, for cyclic_pct percent, a
list holding itself (a young cycle); with probability survive_ppm per
million it goes into a random slot of a `live`-slot table. `threshold` is
gc.set_threshold's threshold0, as the C workload's is the heap's.

The draws use the C workload's bit fields of one 64-bit number per op,
from random.Random(seed): the same distribution, not the same numbers."""
import random

import hbgc


def run(p):
    ops, survive, live, cyclic = p["ops"], p["survive_ppm"], p["live"], p["cyclic_pct"]
    bits = random.Random(p["seed"]).getrandbits
    table = [None] * live
    cycles = 0
    for i in range(ops):
        r = bits(64)
        if (r & 0xffff) * 100 < cyclic * 0x10000:
            x = []
            x.append(x)
            cycles += 1
        else:
            x = ((i) & 255, (i + 1) & 255, (i + 2) & 255)
            assert x[2] == (i + 2) & 255
        if ((r >> 16) & 0xfffff) * 1000000 < survive * 0x100000:
            table[(r >> 36) % live] = x
        del x
    p["cycles"] = cycles
    return ops


def check(p, collected):
    # every young cycle was found: by a collection, or by the final one
    assert collected >= p["cycles"], (collected, p["cycles"])


hbgc.measure(run, hbgc.params({"ops": 400000, "survive_ppm": 10000, "live": 10000, "cyclic_pct": 10,
                               "threshold": 700}), check)
