"""finalizers.py -- workloads/finalizers.c in Python: __del__ in cycles (the
documents' SomeObject pair), weakref.finalize on an object no cycle holds
and on one that holds itself, resurrection; each finalizer runs exactly
once. Op i makes kind i % 4 and drops it.

The C workload's kind 4, a pair whose finalizer is a legacy tp_del
(uncollectable before 3.4), cannot be written in Python: CPython 3.11
gives Python classes __del__ only, which PEP 442 collects. Every
legacy_every-th op therefore makes a __del__ pair here too, and the check
holds it to what CPython does: run once, nothing uncollectable."""
import gc
import weakref

import hbgc

LAZARUS_BATCH = 1000


class SomeObject:
    __slots__ = ("id", "ref")

    def __del__(self):
        runs[self.id] += 1


class Plain:
    __slots__ = ("id", "ref", "__weakref__")


class Lazarus:
    __slots__ = ("id", "ref")

    def __del__(self):
        runs[self.id] += 1
        resurrected.append(self)  # back to life; its second death runs nothing


def ran(i):
    runs[i] += 1


runs = bytearray()
resurrected = []


def run(p):
    global runs
    ops, legacy_every = p["ops"], p["legacy_every"]
    runs = bytearray(2 * ops)  # at most two objects per op
    made = 0
    for i in range(ops):
        kind = 0 if legacy_every and i % legacy_every == legacy_every - 1 else i % 4
        if kind == 0:  # foo.ref = bar; bar.ref = foo; del foo, bar
            foo = SomeObject()
            foo.id = made
            bar = SomeObject()
            bar.id = made + 1
            foo.ref = bar
            bar.ref = foo
            made += 2
            del foo, bar
        elif kind in (1, 2):
            foo = Plain()
            foo.id = made
            foo.ref = foo if kind == 2 else None
            weakref.finalize(foo, ran, made)
            made += 1
            del foo
        else:
            foo = Lazarus()
            foo.id = made
            foo.ref = foo
            made += 1
            del foo
        if len(resurrected) >= LAZARUS_BATCH:
            resurrected.clear()
    gc.collect()  # what is pending runs while the list still exists
    resurrected.clear()
    p["made"] = made
    return ops


def check(p, collected):
    bad = [i for i in range(p["made"]) if runs[i] != 1]
    assert not bad, "%d objects whose finalizer ran other than once; first: %d ran %d times" % (
        len(bad), bad[0], runs[bad[0]])
    assert not gc.garbage, "%d uncollectable" % len(gc.garbage)


hbgc.measure(run, hbgc.params({"ops": 100000, "legacy_every": 100}), check)
