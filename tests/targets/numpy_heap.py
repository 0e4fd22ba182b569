"""numpy_heap: numpy arrays whose sizes and contents are known, for pyheap's ndarray decoder.

Run as `python -c "<this source>"` (no __file__) with an interpreter that has numpy (Debian's
python3-numpy: 1.24 for 3.11 on Debian 12, 2.x for 3.14/3.15 in sid). Prints `READY <json>`,
then serves stdin: `ping` -> `pong`; `quit` (or end of file) checks that the arrays are
unchanged and exits 0 (1 with the reasons on stderr).

The arrays cover what ndarray.__sizeof__ distinguishes: owning its data or not (views,
transposes, arrays over a bytes buffer), 0 to 3 dimensions, empty, item sizes 1 to 16, and a
subclass. Object arrays hold NH_OnlyInArray instances and strs that nothing else refers to: the
gc does not see an ndarray's items (no tp_traverse), pyheap must.

READY json: pid, numpy (version), minor (Python 3.X), arrays: [{id, size (sys.getsizeof),
type ("numpy.ndarray" or "__main__.NH_Sub"), owndata, ndim}], only_in_array: {class, count}.
"""
import json
import os
import sys

import numpy as np


class NH_OnlyInArray(object):
    def __init__(self, i):
        self.i = i


class NH_Sub(np.ndarray):
    pass


ONLY_N = 37
BUFFER = bytes(range(64))


def build():
    grid = np.arange(12.0).reshape(3, 4).copy()  # reshape alone gives a view
    objs = np.empty(ONLY_N + 5, dtype=object)  # items only here, never in a list
    for i in range(ONLY_N):
        objs[i] = NH_OnlyInArray(i)
    for i in range(ONLY_N, ONLY_N + 5):
        objs[i] = "nh-only-%d" % i
    arrays = [
        grid, grid[1:], grid.T, grid[:, ::2],
        np.zeros(0), np.array(2.5), np.arange(10, dtype=np.int8),
        np.zeros((2, 3, 4), dtype=np.complex128), np.ones(1000, dtype=np.int32),
        np.frombuffer(BUFFER, dtype=np.uint8), objs, objs.reshape(6, 7),
        NH_Sub((6,)), np.zeros((2, 2), dtype=np.int16).view(NH_Sub),
    ]
    return arrays


ARRAYS = build()


def _report():
    rows = []
    for a in ARRAYS:
        t = type(a)
        rows.append({"id": id(a), "size": sys.getsizeof(a), "owndata": bool(a.flags.owndata),
                     "ndim": a.ndim, "type": "%s.%s" % (t.__module__, t.__qualname__)})
    return json.dumps({
        "pid": os.getpid(), "numpy": np.__version__, "minor": sys.version_info[1],
        "arrays": rows,
        "only_in_array": {"class": "__main__.NH_OnlyInArray", "count": ONLY_N},
    }, sort_keys=True)


def check():
    bad = []
    objs = ARRAYS[10]
    if sum(isinstance(x, NH_OnlyInArray) for x in objs) != ONLY_N:
        bad.append("object array changed")
    if any(sys.getsizeof(a) != r["size"] for a, r in zip(ARRAYS, json.loads(REPORT)["arrays"])):
        bad.append("an array's size changed")
    return bad


REPORT = _report()
sys.stdout.write("READY " + REPORT + "\n")
sys.stdout.flush()
for line in sys.stdin:
    if line.strip() == "quit":
        break
    sys.stdout.write("pong\n" if line.strip() == "ping" else "ERR unknown command\n")
    sys.stdout.flush()
problems = check()
if problems:
    sys.stderr.write("numpy_heap: %s\n" % "; ".join(problems))
    sys.exit(1)
