"""growing: a target whose heap grows by a known set on command (the snapshot/diff tests).

Run as `python -c "<this source>"` (Python 3.8 to 3.15). It builds a base heap (some nodes in a
list, a dict of strings), prints `READY {"pid": PID, "version": sys.hexversion}` and serves stdin:
  grow N K -> makes N new Leak instances (slots only: no per-instance dict, so each is exactly
              one object), K of them in a new list appended to HELD, the other N - K as keys of
              REGISTRY (a dict that existed before), and replies `grown {"leak": N, "lists": 1,
              "leak_total": <instances alive>}`
  orphan N -> turns the collector off and makes N Orphan instances, each referring only to
              itself: garbage nothing reachable refers to, left uncollected (`--all` shows them)
  ping     -> pong
  quit     -> checks every Leak it made is still alive and exits 0 (1 if not)
Nothing else runs: between commands the heap does not change, so two walks of it are equal.
"""
import gc
import json
import os
import sys


class Node:
    def __init__(self, i):
        self.i = i
        self.name = "node-%d" % i


class Leak:
    __slots__ = ("tag",)

    def __init__(self):
        self.tag = None


class Orphan:
    __slots__ = ("me",)


NODES = [Node(i) for i in range(200)]
WORDS = {"w%d" % i: "value-%d" % i for i in range(100)}
HELD = []
REGISTRY = {}
MADE = 0


def grow(n, k):
    global MADE
    batch = [Leak() for _ in range(n)]
    HELD.append(batch[:k])
    for leak in batch[k:]:
        REGISTRY[leak] = None
    MADE += n
    return {"leak": n, "lists": 1, "leak_total": MADE}


gc.collect()
print("READY " + json.dumps({"pid": os.getpid(), "version": sys.hexversion}), flush=True)
for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    if words[0] == "grow":
        print("grown " + json.dumps(grow(int(words[1]), int(words[2]))), flush=True)
    elif words[0] == "orphan":
        gc.disable()
        for _ in range(int(words[1])):
            o = Orphan()
            o.me = o
        del o
        print("orphaned", flush=True)
    elif words[0] == "ping":
        print("pong", flush=True)
    elif words[0] == "quit":
        alive = sum(len(b) for b in HELD) + len(REGISTRY)
        sys.exit(0 if alive == MADE else 1)
sys.exit(0)
