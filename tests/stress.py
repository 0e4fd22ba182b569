"""make stress: attach again and again to targets that allocate hard, on every interpreter.

Usage: python3 tests/stress.py BINARY [attaches=K] [threads=N] [interps=SUBSTR,...] [retry_for=S]

For each interpreter present (tests/integration/common.py, no container variants) it starts
tests/targets/alloc_storm.py with N threads (default 4) allocating lists, dicts, instances,
strings and frames as fast as they can, then runs K attaches (default 1000) in each mode: the default
(`attach --json`, which copies the heap while the target is stopped), `--no-copy` (the walk
reads the stopped target) and `--no-freeze`. After every attach the target must answer a ping
with every worker still making progress; at the end it checks its own invariants and must exit 0.

An attach fails when pyheap exits non-zero or prints no table (JSON without rows). It prints,
per interpreter and mode: attaches, failures, the freeze retries the walks took (sum and maximum,
from the JSON walk stats), the half-linked GC-list nodes read through, lists cut (--no-freeze),
and the median wall time; then each distinct failure message (addresses masked) with its count.
Exit status 0 only if the frozen modes had no failure, --no-freeze printed a table every time
and every target kept its invariants. Not part of `make check`: figures, not assertions on time.
"""
import collections
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "integration"))
import common  # noqa: E402

MODES = (("default", []), ("no-copy", ["--no-copy"]), ("no-freeze", ["--no-freeze"]))
ATTACH_TIMEOUT = 120


def parse_args(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    opts = {"attaches": "1000", "threads": "4", "interps": "", "retry_for": ""}
    for a in argv[2:]:
        k, _, v = a.partition("=")
        if k not in opts or not v:
            sys.exit("stress: unknown argument %r\n%s" % (a, __doc__))
        opts[k] = v
    return os.path.abspath(argv[1]), opts


def masked(line):
    return re.sub(r"\b\d+\b", "N", re.sub(r"0x[0-9a-f]+", "0x...", line))


class Tally:
    def __init__(self):
        self.runs = self.failures = self.retries = self.max_retries = 0
        self.read_through = self.cut = self.partial_runs = 0
        self.times = []
        self.messages = collections.Counter()

    def add(self, rc, out, err, secs):
        self.runs += 1
        self.times.append(secs)
        walk = None
        if rc == 0:
            try:
                doc = json.loads(out)
                walk = doc["walk"] if doc.get("rows") else None
            except ValueError:
                walk = None
        if walk is None:
            self.failures += 1
            first = (err.strip().splitlines() or ["exit %d, no table" % rc])[0]
            self.messages["exit %d: %s" % (rc, masked(first))] += 1
            return
        r = int(walk.get("retries", max(0, walk.get("freezes", 1) - 1)))
        self.retries += r
        self.max_retries = max(self.max_retries, r)
        self.read_through += int(walk.get("gc_read_through", 0))
        cut = int(walk.get("gc_cut", 0))
        self.cut += cut
        self.partial_runs += bool(cut or walk.get("partial"))

    def median_ms(self):
        t = sorted(self.times)
        return 1000 * t[len(t) // 2] if t else 0.0


def attach(binary, pid, extra, retry_for):
    argv = [binary, "attach", "--json"] + extra + [str(pid)]
    if retry_for:
        argv[2:2] = ["--retry-for", retry_for]
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=ATTACH_TIMEOUT)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return -1, "", "timed out after %d s" % ATTACH_TIMEOUT, time.monotonic() - t0


def check_alive(t, last):
    """Every worker made progress since the last ping; returns the new counts or raises."""
    reply = t.command("ping")
    if not reply.startswith("PONG "):
        raise RuntimeError("target answered %r to ping" % reply)
    counts = [int(x) for x in reply.split()[1:]]
    if last and any(c <= p for c, p in zip(counts, last)):
        # Progress is slow on a loaded machine: ask again before calling a worker stuck.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            reply = t.command("ping")
            counts = [int(x) for x in reply.split()[1:]]
            if all(c > p for c, p in zip(counts, last)):
                break
        else:
            raise RuntimeError("a worker made no progress in 10 s: %s -> %s" % (last, counts))
    return counts


def stress_interp(binary, interp, opts):
    tallies = {name: Tally() for name, _ in MODES}
    k = int(opts["attaches"])
    with common.Target(interp, "alloc_storm.py", ["threads=" + opts["threads"]]) as t:
        last = check_alive(t, None)
        for i in range(k):
            for name, extra in MODES:
                rc, out, err, secs = attach(binary, t.pid, extra, opts["retry_for"])
                tallies[name].add(rc, out, err, secs)
                last = check_alive(t, last)
            if (i + 1) % 100 == 0:
                print("  %s: %d of %d rounds" % (interp, i + 1, k), flush=True)
        rc = t.quit()
        bye = t.proc.stdout.read().strip()
        target_err = t.proc.stderr.read().strip()
    return tallies, rc, bye, target_err


def report(interp, tallies, rc, bye, target_err):
    ok = rc == 0 and bye.endswith("ok")
    print("%s: target %s (exit %s)%s" % (interp, "kept its invariants" if ok else "FAILED", rc,
                                        "" if ok else ": " + target_err[-500:]))
    print("  %-10s %8s %8s %8s %6s %12s %6s %8s %9s" % (
        "mode", "attaches", "failures", "retries", "max", "read-through", "cut", "partial",
        "median ms"))
    for name, _ in MODES:
        s = tallies[name]
        print("  %-10s %8d %8d %8d %6d %12d %6d %8d %9.0f" % (
            name, s.runs, s.failures, s.retries, s.max_retries, s.read_through, s.cut,
            s.partial_runs, s.median_ms()))
    for name, _ in MODES:
        for msg, n in tallies[name].messages.most_common():
            print("  %s x%d: %s" % (name, n, msg))
    frozen_ok = all(tallies[m].failures == 0 for m in ("default", "no-copy"))
    return ok and frozen_ok and tallies["no-freeze"].failures == 0


def main():
    binary, opts = parse_args(sys.argv)
    wanted = [w for w in opts["interps"].split(",") if w]
    interps = [i for i in common.interpreters(include_containers=False)
               if not wanted or any(w in i.name for w in wanted)]
    print("stress: %s attaches per mode, %s threads, %d interpreters: %s"
          % (opts["attaches"], opts["threads"], len(interps), ", ".join(map(str, interps))),
          flush=True)
    good = True
    for interp in interps:
        t0 = time.monotonic()
        try:
            result = stress_interp(binary, interp, opts)
        except RuntimeError as e:
            print("%s: FAILED: %s" % (interp, e), flush=True)
            good = False
            continue
        good &= report(interp, *result)
        print("  (%.0f s)" % (time.monotonic() - t0), flush=True)
    print("stress: %s" % ("PASS" if good else "FAIL"))
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
