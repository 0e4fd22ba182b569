"""long_chain: a singly linked list of N Link objects (default 100000) ending in one Tail, held
only through the module global HEAD, so the one path to the Tail is
Root...['HEAD'] followed by .next N-1 times and .tail once.

Run as `python -c "<this source>" [N]`; prints `READY {"links": N}`; `quit` on stdin exits 0.
"""
import json
import sys


class Link:
    __slots__ = ("next", "tail")

    def __init__(self):
        self.next = None
        self.tail = None


class Tail:
    pass


def build(n):
    head = node = Link()
    for _ in range(n - 1):
        node.next = Link()
        node = node.next
    node.tail = Tail()
    return head


N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
HEAD = build(N)
print("READY " + json.dumps({"links": N}), flush=True)
for line in sys.stdin:
    if line.strip() == "quit":
        break
sys.exit(0)
