"""selfref.py -- workloads/selfref.c in Python: arr = []; arr.append(arr)
and self.ref = self in bulk, every clear_every-th list cleared by hand."""
import hbgc


class Cycle:
    __slots__ = ("ref",)


def run(p):
    ops, items, clear_every = p["ops"], p["items"], p["clear_every"]
    for i in range(ops):
        if i & 1:
            arr = Cycle()
            arr.ref = arr
            assert arr.ref.ref is arr
        else:
            arr = []
            arr.append(arr)
            for k in range(items):
                arr.append(k & 255)
            assert arr[0][0][0] is arr and len(arr) == 1 + items
            if clear_every and (i // 2) % clear_every == clear_every - 1:
                arr.clear()
        del arr
    return ops


hbgc.measure(run, hbgc.params({"ops": 400000, "items": 3, "clear_every": 10}))
