"""nanotime: the seed scenario, 100000 small objects each holding one int.

Run as `python -c "<this source>" [slots] [materialise] [count=N]` (no __file__; Python 3.8+).
  slots        NanoTime gets __slots__ = ('nanoseconds',): no __dict__ at all.
  materialise  obj.__dict__ is touched on every instance (on 3.11+ this creates the dict objects
               that heapy would create; on 3.8-3.10 they exist anyway).
  count=N      number of instances (default 100000).
Prints `READY <json>`, then serves stdin: `ping` -> `pong`, `quit` -> checks the instances are
still there (and, unless materialised, still without dicts where that can be seen) and exits 0;
end of stdin exits 0.

READY json: pid, version, class ("__main__.NanoTime"), count, slots, materialise,
instance_size (sys.getsizeof of one instance), dict_size (sys.getsizeof of one instance's dict
when a dict object exists: materialised, or always on 3.8-3.10; else null), dicts (number of
instances with a dict object: count or 0), value_size (getsizeof of one nanoseconds int; every
value is a distinct int object), eager_dicts (3.8-3.10 behaviour seen), and expected heapy rows:
rows {"__main__.NanoTime": [count, size], "dict of __main__.NanoTime": [count, size]}.
"""
import gc
import json
import os
import sys

args = sys.argv[1:]
SLOTS = "slots" in args
MATERIALISE = "materialise" in args
COUNT = 100000
for a in args:
    if a.startswith("count="):
        COUNT = int(a[len("count="):])

if SLOTS:
    class NanoTime(object):
        __slots__ = ("nanoseconds",)

        def __init__(self, ns):
            self.nanoseconds = ns
else:
    class NanoTime(object):
        def __init__(self, ns):
            self.nanoseconds = ns


def _dict_of(o):
    """The instance's dict object if one exists, without creating it: gc.get_referents does
    not materialise a managed dict (3.11+); values are ints, so a dict referent is __dict__."""
    for r in gc.get_referents(o):
        if type(r) is dict:
            return r
    return None


BASE = 1700000000000000000
TIMES = [NanoTime(BASE + i * 1000) for i in range(COUNT)]
EAGER = (not SLOTS) and _dict_of(TIMES[0]) is not None  # 3.8-3.10: dicts exist from the start
if MATERIALISE and not SLOTS:
    for _t in TIMES:
        _t.__dict__
    del _t


def _report():
    first = TIMES[0]
    d = None if SLOTS else _dict_of(first)
    if d is None and MATERIALISE and not SLOTS:
        d = first.__dict__  # exists; 3.13.0's tp_traverse does not show materialised dicts
    dicts = 0 if d is None else len(TIMES)
    inst = sys.getsizeof(first)
    rows = {"__main__.NanoTime": [len(TIMES), inst * len(TIMES)]}
    if d is not None:
        rows["dict of __main__.NanoTime"] = [dicts, sys.getsizeof(d) * dicts]
    return json.dumps({
        "pid": os.getpid(), "version": list(sys.version_info), "class": "__main__.NanoTime",
        "count": len(TIMES), "slots": SLOTS, "materialise": MATERIALISE,
        "instance_size": inst, "dict_size": None if d is None else sys.getsizeof(d),
        "dicts": dicts, "value_size": sys.getsizeof(first.nanoseconds),
        "eager_dicts": EAGER, "rows": rows,
    }, sort_keys=True)


def check():
    if len(TIMES) != COUNT or any(type(t) is not NanoTime for t in TIMES):
        return "instances changed"
    if any(t.nanoseconds != BASE + i * 1000 for i, t in enumerate(TIMES)):
        return "values changed"
    if not (SLOTS or MATERIALISE or EAGER):
        if any(_dict_of(t) is not None for t in TIMES):
            return "a dict was materialised"
    return None


def serve():
    while True:
        line = sys.stdin.readline()
        if not line:
            return 0
        cmd = line.strip()
        if cmd == "quit":
            bad = check()
            if bad:
                sys.stderr.write("nanotime: check failed: %s\n" % bad)
                return 1
            return 0
        sys.stdout.write("pong\n" if cmd == "ping" else "ERR unknown command: %r\n" % cmd)
        sys.stdout.flush()


sys.stdout.write("READY " + _report() + "\n")
sys.stdout.flush()
sys.exit(serve())
