"""alloc_storm: N threads that allocate and free as fast as they can, for `make stress`.

Run as `python -c "<this source>" [threads=N]` (no reliance on __file__; Python 3.8 to 3.15).
Each worker loops over a round of work that touches every kind of GC-tracked allocation the
walker meets in a busy service: lists and dicts built and dropped, instances of a class with a
__dict__ and one with __slots__, strings joined, generators, and recursion (frames, which are
heap objects up to 3.10 and interpreter frames after). The garbage collector runs often, from
every thread, with cycles to collect. So at any moment some thread is in the middle of linking
an object into the young generation or unlinking one, and a collection may be running.

Each worker also keeps an invariant it checks every round: a ring of 64 Node instances whose
`value`s sum to a known total, rotated and rebuilt piece by piece; a torn or lost update (a
freeze that broke the program) would change the sum. `ping` checks every worker is still making
progress.

Protocol (stdin/stdout, one line each):
  -> READY {"pid": PID, "version": sys.hexversion, "threads": N}   once every worker runs
  <- ping   -> PONG <rounds of worker 0> ... <rounds of worker N-1>
  <- quit   -> workers stop and are joined; BYE ok|FAILED, exit 0 if every check held, else 1
End of stdin is quit.
"""
import gc
import json
import os
import sys
import threading

ARGS = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
N = int(ARGS.get("threads", "4"))
RING = 64


class Node:
    def __init__(self, value, nxt=None):
        self.value = value
        self.next = nxt


class Slotted:
    __slots__ = ("a", "b", "c")

    def __init__(self, a, b, c):
        self.a, self.b, self.c = a, b, c


def recurse(n, acc):
    if n == 0:
        return acc
    return recurse(n - 1, acc + [n])


def gen(n):
    for i in range(n):
        yield {"i": i, "s": str(i)}


class Worker:
    def __init__(self, k):
        self.k = k
        self.rounds = 0
        self.ok = True
        self.error = ""
        self.ring = [Node(i) for i in range(RING)]
        self.total = sum(range(RING))

    def one_round(self):
        r = self.rounds
        junk = [[i, str(i), (i, r)] for i in range(200)]
        d = {str(i): Node(i, junk[i]) for i in range(100)}
        s = [Slotted(i, d, junk) for i in range(50)]
        text = "-".join(str(x) for x in range(100))
        frames = recurse(30, [])
        items = list(gen(50))
        a, b = Node(1), Node(2)
        a.next, b.next = b, a  # a cycle for the collector
        # Rebuild one ring slot with the same value: the sum must stay.
        slot = r % RING
        self.ring[slot] = Node(self.ring[slot].value, self.ring[(slot + 1) % RING])
        self.ring.append(self.ring.pop(0))
        if sum(n.value for n in self.ring) != self.total or len(d) != 100 or len(s) != 50:
            self.ok = False
            self.error = "ring or dicts lost an update in round %d" % r
        if len(frames) != 30 or len(items) != 50 or len(text) != 289:
            self.ok = False
            self.error = "frames or strings wrong in round %d" % r
        if r % 50 == 0:
            gc.collect(0)
        self.rounds = r + 1

    def run(self, started, stop):
        self.one_round()
        started.wait()
        while not stop.is_set():
            try:
                self.one_round()
            except Exception as e:  # report, never die silently
                self.ok = False
                self.error = repr(e)
                return


def main():
    workers = [Worker(k) for k in range(N)]
    started = threading.Barrier(N + 1)
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(started, stop), daemon=True) for w in workers]
    for t in threads:
        t.start()
    started.wait()
    print("READY " + json.dumps({"pid": os.getpid(), "version": sys.hexversion, "threads": N}),
          flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "ping":
            print("PONG " + " ".join(str(w.rounds) for w in workers), flush=True)
        elif cmd == "quit":
            break
        else:
            print("ERROR unknown command " + cmd, flush=True)
    stop.set()
    for t in threads:
        t.join(60)
    bad = [w for w in workers if not w.ok or w.rounds == 0]
    for w in bad:
        print("worker %d: %s" % (w.k, w.error or "no rounds"), file=sys.stderr, flush=True)
    print("BYE " + ("FAILED" if bad else "ok"), flush=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
