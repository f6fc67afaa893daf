"""generators.py -- workloads/generators.c in Python: the documents'
generate_numbers(n) summed as a stream, against the list
[i for i in range(n)] materialised first; mode 2 runs both, stream first."""
import hbgc


def generate_numbers(number):
    for item in range(number):
        yield item


def stream(n):
    total = 0
    for x in generate_numbers(n):
        total += x
    return total


def materialise(n):
    lst = [i for i in range(n)]
    total = 0
    for x in lst:
        total += x
    del lst
    return total


def run(p):
    n, mode = p["n"], p["mode"]
    want = n * (n - 1) // 2
    ops = 0
    if mode in (0, 2):
        assert stream(n) == want
        ops += n
    if mode in (1, 2):
        assert materialise(n) == want
        ops += n
    return ops


hbgc.measure(run, hbgc.params({"n": 200000, "mode": 2}))
