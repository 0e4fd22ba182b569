"""Seed corpora for `make fuzz`: real snapshots of small heaps, written by the pyheap being
fuzzed, and a real core file.

Usage: python3 tests/fuzz/seeds.py PYHEAP OUTDIR. Starts tests/targets/growing.py (and a second,
tiny heap) with Debian's python3.11, waits for READY, and writes `pyheap snapshot` of each to
OUTDIR/snapshot; then gdb's gcore of the tiny one, cut to its headers and notes plus a little
memory (a whole core is megabytes: the fuzzer should explore the format, not the data), to
OUTDIR/core.
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


def snapshot(pyheap, source, out, core_dir=None):
    p = subprocess.Popen(["/usr/bin/python3.11", "-c", source], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        if not p.stdout.readline().startswith("READY"):
            sys.exit("seeds: the target did not start")
        subprocess.run([pyheap, "snapshot", "-o", out, str(p.pid)], check=True)
        if core_dir:
            prefix = os.path.join(core_dir, "whole")
            subprocess.run(["gcore", "-o", prefix, str(p.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            whole = "%s.%d" % (prefix, p.pid)
            with open(whole, "rb") as f:
                data = f.read()
            os.unlink(whole)
            with open(os.path.join(core_dir, "small.core"), "wb") as f:
                f.write(cut_core(data))
    finally:
        p.kill()
        p.wait()


def cut_core(data):
    """The ELF header, program headers and notes of a core, its segments' file data dropped
    past 64 KiB in all (the reader clips segments to the file, as for a truncated core)."""
    import struct
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    keep = phoff + phnum * 56
    out = bytearray(data[:keep])
    notes = []
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * 56)
        if p_type == 4:  # PT_NOTE: moved right after the headers
            notes.append((i, data[p_offset:p_offset + p_filesz]))
    for i, blob in notes:
        struct.pack_into("<Q", out, phoff + i * 56 + 8, len(out))
        out += blob
    return bytes(out + data[keep:keep + 65536])


def main():
    pyheap, outdir = sys.argv[1], sys.argv[2]
    snaps, cores = os.path.join(outdir, "snapshot"), os.path.join(outdir, "core")
    os.makedirs(snaps, exist_ok=True)
    os.makedirs(cores, exist_ok=True)
    with open(os.path.join(TARGETS, "growing.py")) as f:
        snapshot(pyheap, f.read(), os.path.join(snaps, "growing.pyheap"))
    snapshot(pyheap, TINY, os.path.join(snaps, "tiny.pyheap"), cores)


if __name__ == "__main__":
    main()
