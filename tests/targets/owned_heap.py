"""owned_heap: a heap whose ownership (dominator) structure is known, for retained sizes.

Run as `python -c "<this source>" [count=N]` (no __file__; Python 3.8 to 3.15). A module `own`
is built with types.ModuleType and put in sys.modules, holding:

    own.cache     dict: "k00000".."kNNNNN" (fresh str keys) -> Blob, N entries (default 2000)
    Blob          class with __slots__ = ("payload",): sys.getsizeof is its whole size
    blob.payload  bytes of a distinct length (BASE + 7 * i), held by that blob only
    own.shared    one Blob (payload of SHARED_LEN bytes), also held by own.left and own.right
    own.left      list [shared]
    own.right     list [shared]

Nothing else refers to the cache, its keys, its blobs or their payloads, so the cache dominates
all of them: its retained size is its own size plus every key, blob and payload. The shared blob
is held from two places, so neither list retains it: each list retains its own size only, and
the blob is dominated by the module's dict. The retained size of the kind own.Blob is every
blob's own size plus its payload (no blob dominates another).

Prints `READY <json>`: pid, version, count, cache {address, size, retained, path}, blobs
(the three largest: address, size, retained, path), shared {address, retained, path},
left/right {address, size, retained}, blob_kind {count, size, retained}, payload_total (bytes
of every payload's own size), owner_dict_path. Serves stdin: `ping` -> `pong`, `quit` checks
nothing changed and exits 0 (1 with the reason on stderr); end of stdin exits 0.
"""
import gc
import json
import os
import sys
import types

COUNT = 2000
BASE = 200
SHARED_LEN = 5000
for _a in sys.argv[1:]:
    if _a.startswith("count="):
        COUNT = int(_a[len("count="):])

own = types.ModuleType("own")
sys.modules["own"] = own
exec(compile('''
class Blob(object):
    __slots__ = ("payload",)

    def __init__(self, payload):
        self.payload = payload
''', "own.py", "exec"), own.__dict__)


def build():
    cache = {}
    for i in range(COUNT):
        cache["k%05d" % i] = own.Blob(b"x" * (BASE + 7 * i))
    own.cache = cache
    own.shared = own.Blob(b"s" * SHARED_LEN)
    own.left = [own.shared]
    own.right = [own.shared]


def blob_retained(b):
    return sys.getsizeof(b) + sys.getsizeof(b.payload)


def report():
    cache = own.cache
    mod = "Root.i0_modules['own'].__dict__"
    retained = sys.getsizeof(cache) + sum(sys.getsizeof(k) + blob_retained(v)
                                          for k, v in cache.items())
    largest = sorted(cache.items(), key=lambda kv: -blob_retained(kv[1]))[:3]
    blobs = list(cache.values()) + [own.shared]
    return json.dumps({
        "pid": os.getpid(), "version": list(sys.version_info), "count": COUNT,
        "cache": {"address": hex(id(cache)), "size": sys.getsizeof(cache), "retained": retained,
                  "path": mod + "['cache']"},
        "blobs": [{"address": hex(id(b)), "size": sys.getsizeof(b), "retained": blob_retained(b),
                   "path": mod + "['cache'][%r]" % k} for k, b in largest],
        "shared": {"address": hex(id(own.shared)), "retained": blob_retained(own.shared),
                   "path": mod + "['shared']"},
        "left": {"address": hex(id(own.left)), "size": sys.getsizeof(own.left),
                 "retained": sys.getsizeof(own.left)},
        "right": {"address": hex(id(own.right)), "size": sys.getsizeof(own.right),
                  "retained": sys.getsizeof(own.right)},
        "blob_kind": {"count": len(blobs), "size": sum(sys.getsizeof(b) for b in blobs),
                      "retained": sum(blob_retained(b) for b in blobs)},
        "payload_total": sum(sys.getsizeof(b.payload) for b in blobs),
        "owner_dict_path": mod,
    }, sort_keys=True)


def check(before):
    return None if report() == before else "the heap changed while pyheap looked"


build()
gc.collect()
_before = report()
sys.stdout.write("READY " + _before + "\n")
sys.stdout.flush()
while True:
    _line = sys.stdin.readline()
    if not _line:
        sys.exit(0)
    if _line.strip() == "quit":
        _bad = check(_before)
        if _bad:
            sys.stderr.write("owned_heap: %s\n" % _bad)
        sys.exit(1 if _bad else 0)
    sys.stdout.write("pong\n" if _line.strip() == "ping" else "ERR unknown command\n")
    sys.stdout.flush()
