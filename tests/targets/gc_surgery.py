"""gc_surgery: a target whose GC lists a test edits from outside, to put them in the states a
thread leaves when it is stopped in the middle of linking an object (and in states no stopped
thread can leave: corruption).

Run as `python -c "<this source>"` (no reliance on __file__; Python 3.8 to 3.15, GIL builds).
The collector runs once, then its young threshold is set to THRESHOLD (so it never runs by
itself again, and the young list's head, a struct gc_generation {PyGC_Head head; int
threshold; int count}, is the node followed by that number). It reports the addresses of
PyGC_Head records, which sit just before each object (id(obj) - 16 in every GIL build):
  last   the header of a list created last, on the young list: following next links from it
         reaches the young list's head
  x      the header of X, a tuple of ints built at run time, which the collection untracked
         (_gc_next == 0), as an object is just before _PyObject_GC_TRACK links it
  chain  the headers of three lists created one after the other (so linked one after the
         other, unless something else was tracked in between: the test checks)
It reads nothing of its own memory: a ctypes accessor is itself a GC-tracked object, linked
after what it would read, and in the sid chroot there is no /proc/self/mem.

It prints `READY {json}` with these and `threshold`, then is idle: one thread, blocked in
os.read on stdin, so nothing in it links, unlinks or collects while a test has its lists
edited. Commands:
  ping -> pong
  quit -> exits 0 if X is still untracked and a full collection runs; else 1
End of stdin is quit. The test must put back every word it changed before it sends quit.
"""
import gc
import json
import os
import sys

GC_HEAD = 16
THRESHOLD = 123457

X = tuple([1, 2])
gc.collect()
gc.set_threshold(THRESHOLD)
if gc.is_tracked(X):
    raise SystemExit("a tuple of ints stays tracked in this version: the target needs another object")
CHAIN = [[], [], []]
LAST = []
report = {"pid": os.getpid(), "version": sys.hexversion, "threshold": THRESHOLD,
          "last": id(LAST) - GC_HEAD, "x": id(X) - GC_HEAD,
          "chain": [id(c) - GC_HEAD for c in CHAIN]}
os.write(1, ("READY " + json.dumps(report) + "\n").encode())

# From the READY write to the blocking read nothing is tracked or untracked (os.write returns
# an int; os.read blocks before it allocates), so a test may edit the lists once it has READY.
pending = b""
while True:
    chunk = os.read(0, 4096)
    if not chunk:
        break
    pending += chunk
    if b"quit" in pending:
        break
    while b"ping\n" in pending:
        pending = pending.replace(b"ping\n", b"", 1)
        os.write(1, b"pong\n")
ok = not gc.is_tracked(X) and X == (1, 2) and gc.collect() >= 0
sys.exit(0 if ok else 1)
