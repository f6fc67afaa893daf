"""gc_cycles.py -- workloads/gc_cycles.c in Python: pyperformance's
bm_gc_collect, rings of links+1 nodes made, dropped and gc.collect()ed."""
import gc

import hbgc


class Node:
    __slots__ = ("next", "prev")

    def link_next(self, next):
        self.next = next
        self.next.prev = self


def run(p):
    loops, cycles, links = p["loops"], p["cycles"], p["links"]
    for _ in range(loops):
        gc.collect()
        all_cycles = []
        for c in range(cycles):
            node = Node()
            all_cycles.append(node)
            cur = node
            for i in range(links):
                next = Node()
                cur.link_next(next)
                cur = next
            cur.link_next(node)
        del node, cur, next
        del all_cycles
        found = gc.collect()
        assert found >= cycles * (links + 1)
    return loops


hbgc.measure(run, hbgc.params({"loops": 300, "cycles": 100, "links": 20}))
