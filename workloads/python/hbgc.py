"""hbgc.py -- what the Python forms of heapbench's patterns share.

Each workloads/python/NAME.py is the C workload NAME written as the
documents write it, with the same parameters (KEY=VALUE arguments, the C
workload's `small` values by default) and the same collector thresholds
(threshold, threshold1, threshold2; CPython's 700, 10, 10 by default). It
prints one line:

    stats C0 K0 U0 C1 K1 U1 C2 K2 U2

gc.get_stats() over the run -- collections, collected, uncollectable of
each generation -- as the C heap's hb_gc_get_stats reports them for the
same run. The C heap starts empty, so the interpreter's own objects are
first frozen out of the schedule (gc.freeze), and a full collection then
leaves the counts at 0 and no long-lived objects, as in a fresh heap; the
run ends with gc.collect(), as every C collector workload does (cwl.h).
tests/workloads/test_fidelity.c runs both and compares.

Under heapbench's collector `cpython` (harness/cpython.c sets
HB_CPYTHON_REPORT=1), the same run also reports what a row needs, after the
stats line, untimed:

    run T0 T1                       time.monotonic_ns() around run(p) and
                                    the final gc.collect() (CLOCK_MONOTONIC,
                                    the harness's clock)
    ops N                           run(p)'s units of work, the C workload's
    garbage N BYTES                 len(gc.garbage) after the final
                                    collection, and their sys.getsizeof sum
    pymalloc_blocks N               sys.getallocatedblocks(): 0 unless
                                    CPython's own obmalloc serves objects
    pause START STOP GEN COLLECTED UNCOLLECTABLE EXPLICIT
                                    one line per collection, from
                                    gc.callbacks (start and stop phases);
                                    EXPLICIT 1 when a gc.collect() call
                                    of the form ran it, 0 when CPython
                                    collected by itself (an allocation)

The callback keeps its figures in an array.array of ints, which is no
container, so recording makes no object the collector counts; CPython
itself makes one argument tuple per callback call (invoke_gc_callback),
which does (docs/collectors.md, "The collector cpython"). To tell the
form's own collections from CPython's, gc.collect is replaced, for the
run, by a function that raises a flag (another array.array) around the
real one: a call of it makes no container either.
"""
import array
import gc
import os
import sys
import time

THRESHOLDS = {"threshold": 700, "threshold1": 10, "threshold2": 10}
# every form's too: the seed of its random choices (the cell's, from heapbench)
COMMON = {"seed": 1}


def params(defaults):
    """The pattern's parameters: its defaults, then KEY=VALUE arguments."""
    p = dict(defaults)
    p.update(THRESHOLDS)
    p.update(COMMON)
    for arg in sys.argv[1:]:
        key, eq, value = arg.partition("=")
        if not eq or key not in p:
            sys.stderr.write("%s: bad argument '%s'; valid: %s=N\n"
                             % (sys.argv[0], arg, "=N, ".join(sorted(p))))
            sys.exit(2)
        try:
            p[key] = int(value)
        except ValueError:
            sys.stderr.write("%s: '%s' is not an integer\n" % (sys.argv[0], arg))
            sys.exit(2)
    return p


def measure(run, p, check=None):
    """Run run(p) from a fresh-heap start and print gc.get_stats() over it.
    run returns its units of work (the C workload's ops); check, when
    given, is called after the final collection (untimed) with p and the
    objects collected over the run. A failed assert in either is the
    self-check failing: one line on stderr, exit status 1."""
    trace = None
    if os.environ.get("HB_FIDELITY_TRACE"):  # test_fidelity.c's trace
        # (looked up before the start: a missing key raises, and the
        # exception's objects are containers the C heap never makes)
        def trace(phase, info):
            if phase == "start":
                sys.stderr.write("py %d\n" % info["generation"])
    report = os.environ.get("HB_CPYTHON_REPORT") == "1"
    real_collect = gc.collect
    if report:  # made before the freeze, so none of it is in the schedule
        events = array.array("q")
        asked = array.array("q", [0])  # 1 while a gc.collect() call runs

        def record(phase, info, ev=events, now=time.monotonic_ns, asked=asked):
            # start: its time; stop: the stop time, the counts, explicit
            if phase == "start":
                ev.append(now())
            else:
                ev.append(now())
                ev.append(info["generation"])
                ev.append(info["collected"])
                ev.append(info["uncollectable"])
                ev.append(asked[0])
        trace = record

        def collect(generation=2, real=real_collect, asked=asked):
            asked[0] = 1
            try:
                return real(generation)
            finally:
                asked[0] = 0
    gc.collect()
    before = [(d["collections"], d["collected"], d["uncollectable"])
              for d in gc.get_stats()]
    gc.freeze()  # the interpreter's objects (and `before`) out of the schedule
    gc.set_threshold(p["threshold"], p["threshold1"], p["threshold2"])
    gc.collect()  # counts 0, no long-lived objects: a fresh heap
    if trace:
        gc.callbacks.append(trace)
    if report:
        gc.collect = collect  # the forms' gc.collect() calls, and ours below
    t0 = time.monotonic_ns()
    try:
        ops = run(p)
        gc.collect()  # the workload's final collection (cwl.h)
        t1 = time.monotonic_ns()
        gc.collect = real_collect
        if trace:
            gc.callbacks.remove(trace)
        after = gc.get_stats()
        if check:
            check(p, sum(after[g]["collected"] - before[g][1] for g in range(3)))
    except AssertionError as e:  # the pattern's self-check: one line saying where
        where = e.__traceback__
        while where.tb_next:
            where = where.tb_next
        sys.stderr.write("self-check failed: %s line %d%s\n"
                         % (os.path.basename(where.tb_frame.f_code.co_filename),
                            where.tb_lineno, ": %s" % e if str(e) else ""))
        sys.exit(1)
    out = []
    for g in range(3):
        out += [after[g]["collections"] - before[g][0],
                after[g]["collected"] - before[g][1],
                after[g]["uncollectable"] - before[g][2]]
    out[6] -= 1  # the start's full collection, which the C heap has not
    print("stats", *out)
    if report:
        lines = ["run %d %d" % (t0, t1), "ops %d" % ops,
                 "garbage %d %d" % (len(gc.garbage), sum(map(sys.getsizeof, gc.garbage))),
                 "pymalloc_blocks %d" % sys.getallocatedblocks()]
        for i in range(0, len(events), 6):
            lines.append("pause %d %d %d %d %d %d" % tuple(events[i:i + 6]))
        sys.stdout.write("\n".join(lines) + "\n")
