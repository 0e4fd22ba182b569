"""Seed corpus for `make fuzz`: real snapshots of small heaps, written by the pyheap being fuzzed.

Usage: python3 tests/fuzz/seeds.py PYHEAP OUTDIR. Starts tests/targets/growing.py (and a second,
tiny heap) with Debian's python3.11, waits for READY, and writes `pyheap snapshot` of each to
OUTDIR. Small heaps keep the fuzzer's inputs short, so it explores the format, not the data.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(os.path.dirname(HERE), "targets")
TINY = """
import sys
class A: pass
x = [A(), {'k': (1, 'two')}, {3, 4.5}]
print("READY", flush=True)
sys.stdin.readline()
"""


def snapshot(pyheap, source, out):
    p = subprocess.Popen(["/usr/bin/python3.11", "-c", source], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        if not p.stdout.readline().startswith("READY"):
            sys.exit("seeds: the target did not start")
        subprocess.run([pyheap, "snapshot", "-o", out, str(p.pid)], check=True)
    finally:
        p.kill()
        p.wait()


def main():
    pyheap, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(TARGETS, "growing.py")) as f:
        snapshot(pyheap, f.read(), os.path.join(outdir, "growing.pyheap"))
    snapshot(pyheap, TINY, os.path.join(outdir, "tiny.pyheap"))


if __name__ == "__main__":
    main()
