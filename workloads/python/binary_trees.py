"""binary_trees.py -- workloads/binary_trees.c in Python: GCBench's
stretch tree, long-lived tree and short-lived trees, built bottom-up."""
import hbgc


class TreeNode:
    __slots__ = ("left", "right")


def new_node(left, right):
    # TreeNode(left, right) with an __init__ would make an argument tuple
    # per node (type_call), a container of CPython's own that the C model
    # does not make; TreeNode() passes the empty tuple, which is shared
    n = TreeNode()
    n.left = left
    n.right = right
    return n


def bottom_up(d):
    if d == 0:
        return new_node(None, None)
    left = bottom_up(d - 1)
    right = bottom_up(d - 1)
    return new_node(left, right)


def item_check(n):
    return 1 + item_check(n.left) + item_check(n.right) if n.left else 1


def run(p):
    depth, min_depth = p["depth"], p["min_depth"]
    tree = bottom_up(depth + 1)
    assert item_check(tree) == (2 << (depth + 1)) - 1
    del tree
    ops = 1  # as the C workload counts: the stretch tree, then each short-lived one
    long_lived = bottom_up(depth)
    for d in range(min_depth, depth + 1, 2):
        for i in range(1 << (depth - d + min_depth)):
            tree = bottom_up(d)
            assert item_check(tree) == (2 << d) - 1
            del tree
            ops += 1
    assert item_check(long_lived) == (2 << depth) - 1
    return ops


hbgc.measure(run, hbgc.params({"depth": 13, "min_depth": 4}))
