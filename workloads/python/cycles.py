"""cycles.py -- workloads/cycles.c in Python: the documents' Node pairs
(x.next = y; y.next = x), rings, doubly linked lists and graphs, built,
walked, kept in a survivors' table with probability survive_pct/100, and
dropped. Values are small ints (i & 127), cached, as in the C workload.

Random choices come from random.Random(seed), not the C workload's
generator: the same distribution, not the same draws, so this form's
collection schedule is not the C one's to the object (docs/collectors.md)."""
import random

import hbgc


class Node:
    __slots__ = ("val", "next", "prev")


def node(val):
    # Node() then stores: no argument tuple per node (binary_trees.py)
    n = Node()
    n.val = val & 127
    n.next = None
    return n


def chain(k, ring):
    head = cur = node(0)
    for i in range(1, k):
        n = node(i)
        cur.next = n
        if not ring:
            n.prev = cur
        cur = n
    if ring:
        cur.next = head
    return head


def verify_chain(head, k, ring):
    n = head
    for i in range(k):
        assert n is not None and n.val == i & 127
        nxt = n.next
        if not ring and nxt is not None:
            assert nxt.prev is n
        n = nxt
    assert n is head if ring else n is None


def graph_class(degree):
    # a node holds its graph (the parent) and `degree` edges, as the C
    # node's 2 + degree fields
    return type("GNode", (), {"__slots__": ("val", "parent") + tuple("e%d" % e for e in range(degree))})


def run(p):
    ops, shape, k, degree = p["ops"], p["shape"], p["k"], p["degree"]
    survive, nkeep = p["survive_pct"], p["keep"]
    rng = random.Random(p["seed"])
    rnd = rng.random
    GNode = graph_class(degree)
    edges = ["e%d" % e for e in range(degree)]
    keep = [None] * nkeep
    want = 0
    for op in range(ops):
        s = shape or op % 4 + 1
        if s == 1:  # x = Node(1); y = Node(2); x.next = y; y.next = x
            x = node(1)
            y = node(2)
            x.next = y
            y.next = x
            assert x.next.next is x and y.val == 2
            want += 2
        elif s == 4:
            x = []
            for i in range(k):
                y = GNode()
                y.val = i & 127
                y.parent = x
                x.append(y)
            for n in x:
                for e in edges:
                    setattr(n, e, x[int(rnd() * k)])
            assert len(x) == k and all(x[i].parent is x and x[i].val == i & 127 for i in range(k))
            want += k + 1
        else:
            x = chain(k, s == 2)
            y = None
            verify_chain(x, k, s == 2)
            want += k
        if rnd() * 100 < survive:
            keep[int(rnd() * nkeep)] = x
        del x, y
    p["want_collected"] = want  # every node: for check, after the final collection
    return ops


def check(p, collected):
    assert collected >= p["want_collected"], (collected, p["want_collected"])


hbgc.measure(run, hbgc.params({"ops": 50000, "shape": 0, "k": 8, "degree": 2, "survive_pct": 10,
                               "keep": 1000}), check)
