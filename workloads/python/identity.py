"""identity.py -- workloads/identity.c in Python: `a is b` for small ints
(-5..256 cached, 257 not) and interned strings, the documents' lines,
then the measured loop: a = v; b = v made separately, c = a + b, and two
strings "key<j>", interned for intern_pct percent of the ops."""
import sys

import hbgc


def small(v):
    return -5 <= v <= 256


def documents():
    a = int("1")
    b = int("1")
    assert a is b  # the small-int cache
    # 257 written twice in one code object is one constant: made at run
    # time, as the documents' interactive lines make it
    c = int("257")
    d = int("257")
    assert c is not d and c == d
    m = sys.intern("abc")
    n = sys.intern("abc")
    assert m is n
    x = "long string example"
    y = "long string example"
    assert x is y  # one constant of this code object
    p = "".join(["long ", "string ", "example"])
    q = "".join(["long ", "string ", "example"])
    assert p is not q and p == q


def run(p):
    ops, keys, intern_pct = p["ops"], p["keys"], p["intern_pct"]
    int_min = -p["int_below"]
    span = p["int_max"] + p["int_below"] + 1
    documents()
    intern = sys.intern
    interned_texts = [intern("key%d" % j) for j in range(keys)]
    zero = int("0")
    for k in range(ops):
        v = int_min + k % span
        a = v + zero  # a new int object unless v is cached
        b = v + zero
        c = a + b
        j = k % keys
        if k % 100 < intern_pct:
            s = intern(interned_texts[j])
            t = intern(interned_texts[j])
            assert s is t
        else:
            s = "key%d" % j
            t = "key%d" % j
            assert s is not t and s == t
        assert (a is b) == small(v) and c == 2 * v
    return ops


hbgc.measure(run, hbgc.params({"ops": 200000, "int_below": 100, "int_max": 600, "keys": 1000,
                               "intern_pct": 50}))
