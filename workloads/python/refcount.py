"""refcount.py -- workloads/refcount.c in Python: the documents'
`y = x; z = y; del z` and sys.getrefcount's counts, then the measured
loop over `objects` lists held by a pool, which allocates nothing."""
import sys

import hbgc


def documents():
    # sys.getrefcount counts its own argument: x alone gives 2
    x = [4, 3, 2, 1]
    assert sys.getrefcount(x) == 2
    y = x
    assert sys.getrefcount(x) == 3
    z = y
    assert sys.getrefcount(x) == 4
    z.append(0)
    assert x == y == z == [4, 3, 2, 1, 0]
    del z
    assert sys.getrefcount(y) == 3
    # a string built at run time: no reference from a code object's
    # constants (refcount.c says why the documents print 2, 3, 4, 3, 2)
    a = "".join(["Hello", " ", "World"])
    base = sys.getrefcount(a)
    b = a
    c = a
    assert sys.getrefcount(a) == base + 2
    c = 10
    b = 10
    assert sys.getrefcount(a) == base and b == c


def run(p):
    ops, objects = p["ops"], p["objects"]
    documents()
    pool = [[4, 3, 2, 1] for _ in range(objects)]
    count = sys.getrefcount
    for k in range(ops):
        x = pool[k % objects]
        y = x
        z = y
        # pool, x, y, z and getrefcount's argument (the C count of 4, plus one)
        assert count(x) == 5
        z[0] = k & 255
        assert x[0] == k & 255
        del z
        del y
        assert count(x) == 3
    del x
    return ops


hbgc.measure(run, hbgc.params({"ops": 2000000, "objects": 1000}))
