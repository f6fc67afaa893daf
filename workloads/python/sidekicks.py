"""sidekicks.py -- workloads/sidekicks.c in Python: the documents'
superheroes and sidekicks, made, read back through the cycle, dropped."""
import gc

import hbgc

HEROES = ["Captain America", "Superman", "Batman", "Wonder Woman"]
KICKS = ["Bucky", "Jimmy Olsen", "Robin", "Wonder Girl"]


def run(p):
    ops, team, collect_every = p["ops"], p["team"], p["collect_every"]
    for i in range(ops):
        superheroes = []
        for k in range(team):
            superheroes.append(HEROES[k % 4])
        sidekicks = []
        for k in range(team):
            sidekicks.append(KICKS[k % 4])
        superheroes.append(sidekicks)
        sidekicks.append(superheroes)
        del superheroes
        assert sidekicks[-1][0] == HEROES[0] and sidekicks[-1][-1] is sidekicks
        del sidekicks
        if collect_every and i % collect_every == collect_every - 1:
            gc.collect(0)
    return ops


hbgc.measure(run, hbgc.params({"ops": 80000, "team": 3, "collect_every": 0}))
