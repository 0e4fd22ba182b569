"""bench_heap: a large heap for `make bench`: about a million small objects of one class.

Run as `python -c "<this source>" [count=N] [materialise]` (no __file__; Python 3.8+). Builds N
(default 1000000) instances of Item with 2 attributes (a distinct int and a distinct str), indexed
in a dict by a distinct str key: about 4 objects per instance (4 million in all) plus, with
`materialise` or on 3.8-3.10, one dict per instance. Prints `READY <json>` with the counts, then
serves stdin: `ping` -> `pong`, `quit` (or end of file) exits 0.
"""
import gc
import json
import os
import sys

COUNT = 1000000
MATERIALISE = "materialise" in sys.argv[1:]
for a in sys.argv[1:]:
    if a.startswith("count="):
        COUNT = int(a[len("count="):])


class Item(object):
    def __init__(self, ident, name):
        self.ident = ident
        self.name = name


def build():
    index = {}
    base = 10 ** 12
    for i in range(COUNT):
        index["k%07d" % i] = Item(base + i, "item-%07d" % i)
    return index


INDEX = build()
if MATERIALISE:
    for _item in INDEX.values():
        _item.__dict__
    del _item


def _report():
    first = next(iter(INDEX.values()))
    dicts = any(type(r) is dict for r in gc.get_referents(first))
    built = len(INDEX) * 4 + 1 + (len(INDEX) if dicts or MATERIALISE else 0)
    return json.dumps({
        "pid": os.getpid(), "version": list(sys.version_info), "class": "__main__.Item",
        "count": len(INDEX), "materialise": MATERIALISE, "instance_dicts": dicts or MATERIALISE,
        "objects_built": built, "instance_size": sys.getsizeof(first),
        "gc_tracked": len(gc.get_objects()),
    }, sort_keys=True)


sys.stdout.write("READY " + _report() + "\n")
sys.stdout.flush()
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "quit":
        break
    sys.stdout.write("pong\n" if cmd == "ping" else "ERR unknown command: %r\n" % cmd)
    sys.stdout.flush()
sys.exit(0)
