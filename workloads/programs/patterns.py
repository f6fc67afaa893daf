# patterns.py N -- the documents' patterns (shared/seeds/) in real CPython,
# run by heapbench's `python` program with PYTHONMALLOC=malloc, so every
# object, small or large, comes from the preloaded malloc. Each pattern
# prints one key=value line whose value the harness computes from N on its
# own (workloads/programs/python.c); the check fails on any other value.
import gc
import sys

n = int(sys.argv[1])


class Node:
    def __init__(self, val):
        self.val = val
        self.next = None


def cycles(n):
    # x.next = y; y.next = x: garbage only the cycle collector reclaims
    made = 0
    for i in range(n):
        x = Node(i)
        y = Node(i + 1)
        x.next = y
        y.next = x
        made += x.val + y.val
    return made  # sum of 2i+1 = n*n


def churn(n):
    # small objects of mixed sizes through a window of 1024 live records:
    # dicts, strings, tuples and lists made and dropped by reference counts
    window = [None] * 1024
    total = 0
    for i in range(n):
        k = i % 1024
        old = window[k]
        if old is not None:
            total += len(old["s"]) + len(old["l"])
        window[k] = {"i": i, "s": "x" * (i % 200), "t": (i, i + 1), "l": [i] * (i % 8)}
    return total


def selfref(n):
    # arr.append(arr): a container that holds itself
    count = 0
    for i in range(n // 8):
        arr = [i]
        arr.append(arr)
        count += len(arr)
    return count  # 2 * (n // 8)


def materialise(n):
    # range(10000) as a list against a generator: same sum, other memory
    total = 0
    for _ in range(max(1, n // 10000)):
        a = sum(list(range(10000)))
        b = sum(x for x in range(10000))
        total += a if a == b else -1
    return total


def growth(n):
    # a list and a str built by appending: realloc growth of one block
    parts = []
    for i in range(n // 4):
        parts.append(str(i % 1000))
    return len("".join(parts))


print(f"cycles={cycles(n)}")
print(f"churn={churn(n)}")
print(f"selfref={selfref(n)}")
print(f"materialise={materialise(n)}")
print(f"growth={growth(n)}")
print(f"gc_left={gc.collect() >= 0 and len(gc.garbage)}")
