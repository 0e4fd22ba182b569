"""make bench: time pyheap on a series of heap sizes, against the physical limit of each.

Usage: python3 tests/bench.py BINARY [sizes=1,5,20] [repeat=3] [snapshot=5] [count=N] [python=PATH]

For each size (millions of objects) it starts tests/targets/bench_heap.py with PATH (default
/usr/bin/python3.11, Debian's stripped build: its layout comes from the separate debug file;
issue 16's heapy figures were taken on pyenv's 3.12) (about 4 objects per instance: count =
size / 4), waits for READY and prints
one row for `BINARY attach --json PID` (the default: the target is copied while stopped when the
copy fits in memory), medians of `repeat` runs:

  objects, wall s, user s, sys s (whole process, from wait4), target stopped ms (pyheap's
  frozen_ms), peak RSS bytes per object (/usr/bin/time, else wait4's rusage), ns per object
  (wall / objects), the physical limit measured in the same run (the time to copy the target's
  writable memory once with process_vm_readv in 64 MiB calls into memory faulted in beforehand,
  best of 3) and pyheap's wall as a multiple of it;

then, per size, the same walk with --no-copy (the longer stop, less memory), the drill-downs
(referrer kinds of every object: --by rcs, and of every instance: --kind Item --by rcs; paths
to three instances), each the median of `repeat` runs, and their
wall as a multiple of the plain attach's, the dominator tree (`top -n 0`: its build time and peak
memory as pyheap measures them, and the run's wall time and peak RSS beside plain attach's, per
object); and for the size given by snapshot= (0: none) the
snapshot figures (--save, then the file read back). heapy's figures from issue 16 (guppy3's
hpy().heap() plus its default partition, measured on this machine: about 1.35 us per object)
are printed as the reference. No assertions on timing; exits non-zero only if pyheap or a target
failed. count=N runs one size of N instances instead of the series (the old interface).
"""
import ctypes
import ctypes.util
import json
import mmap
import os
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "targets", "bench_heap.py")
PYTHON = "/usr/bin/python3.11"
READY_TIMEOUT = 900
OBJECTS_PER_INSTANCE = 4
# heapy's hpy().heap() + partition, seconds, from issue 16 (same machine, pyenv 3.12).
HEAPY = {1: 1.53, 5: 7.73, 20: 28.9}
HEAPY_US_PER_OBJECT = 1.35
# Memory a size needs, per object: the target (about 80 B), its copy (as much), pyheap's graph
# and views (64), headroom.
BYTES_PER_OBJECT_NEEDED = 280


def available_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 1 << 62


def start_target(python, args):
    with open(TARGET) as f:
        source = f.read()
    t0 = time.monotonic()
    proc = subprocess.Popen([python, "-c", source] + args, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, universal_newlines=True)
    deadline = t0 + READY_TIMEOUT
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            proc.kill()
            proc.wait()
            sys.exit("bench: the target gave no READY line within %d s" % READY_TIMEOUT)
        line = proc.stdout.readline()
        if not line:
            sys.exit("bench: the target exited before READY (status %s)" % proc.wait())
        if line.startswith("READY"):
            return proc, json.loads(line[len("READY"):]), time.monotonic() - t0


def stop_target(proc):
    try:
        proc.stdin.write("quit\n")
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    try:
        return proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def vm_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def find_key(doc, names):
    """The first value under one of `names`, searching nested dicts breadth-first."""
    todo = [doc]
    while todo:
        d = todo.pop(0)
        if isinstance(d, dict):
            for n in names:
                if n in d and isinstance(d[n], (int, float)) and not isinstance(d[n], bool):
                    return d[n]
            todo.extend(v for v in d.values() if isinstance(v, (dict, list)))
        elif isinstance(d, list):
            todo.extend(v for v in d if isinstance(v, (dict, list)))
    return None


def object_count(doc):
    """Objects pyheap saw (reachable and not: the walk's count)."""
    walk = doc.get("walk") if isinstance(doc, dict) else None
    if isinstance(walk, dict) and isinstance(walk.get("objects"), int):
        return walk["objects"]
    n = find_key(doc, ("total_count", "object_count"))
    return None if n is None else int(n)


class Run:
    """One pyheap process: status, wall, user, sys, peak RSS KiB, stdout, stderr."""

    def __init__(self, binary, args):
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
                tempfile.NamedTemporaryFile("w+", suffix=".time") as timefile:
            argv = [binary] + [str(a) for a in args]
            # Linux charges a child's ru_maxrss with its parent's memory from before exec (the
            # forked copy of this Python): the peak is read through /usr/bin/time when present,
            # whose child is forked from a small process.
            gnu_time = os.access("/usr/bin/time", os.X_OK)
            if gnu_time:
                argv = ["/usr/bin/time", "-f", "%M", "-o", timefile.name] + argv
            t0 = time.monotonic()
            child = subprocess.Popen(argv, stdout=out, stderr=err)
            _, wstatus, usage = os.wait4(child.pid, 0)
            self.wall = time.monotonic() - t0
            child.returncode = 0  # reaped here; keeps Popen from waiting again
            self.status = (os.WEXITSTATUS(wstatus) if os.WIFEXITED(wstatus)
                           else 128 + os.WTERMSIG(wstatus))
            self.user, self.sys = usage.ru_utime, usage.ru_stime
            self.peak_kib, self.peak_how = usage.ru_maxrss, "wait4 rusage"
            if gnu_time:
                timefile.seek(0)
                words = timefile.read().split()
                if words and words[-1].isdigit():
                    self.peak_kib, self.peak_how = int(words[-1]), "/usr/bin/time"
            if self.peak_how != "/usr/bin/time":
                own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                if self.peak_kib <= own:
                    self.peak_how += ", upper bound: not above this script's own %d KiB" % own
            out.seek(0)
            err.seek(0)
            self.out, self.err = out.read(), err.read()
        self.doc = None
        if self.status == 0 and "--json" in args:
            try:
                self.doc = json.loads(self.out)
            except ValueError:
                self.status = -1
                self.err += "\nbench: the output is not JSON; first bytes: %r" % self.out[:200]

    def check(self, what):
        if self.status != 0:
            sys.stderr.write(self.err)
            raise SystemExit("bench: pyheap %s failed with status %d" % (what, self.status))
        return self


# ---- the physical limit: copying the target's writable memory once ----

class IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


def writable_mappings(pid):
    """[(start, end)] of the target's readable+writable mappings with resident pages."""
    out, cur, rss = [], None, 0
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                if cur and rss:
                    out.append(cur)
                start, end = (int(x, 16) for x in head[0].split("-"))
                name = head[5] if len(head) > 5 else ""
                cur = (start, end) if head[1].startswith("rw") and name not in (
                    "[vvar]", "[vsyscall]") else None
                rss = 0
            elif head[0] == "Rss:":
                rss = int(head[1])
    if cur and rss:
        out.append(cur)
    return out


def physical_limit(pid, tries=3):
    """(seconds, bytes): the best of `tries` copies of the target's writable memory with
    process_vm_readv, 64 MiB a call, into a buffer faulted in before the clock starts."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.process_vm_readv.restype = ctypes.c_ssize_t
    libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(IoVec), ctypes.c_ulong,
                                      ctypes.POINTER(IoVec), ctypes.c_ulong, ctypes.c_ulong]
    maps = writable_mappings(pid)
    total = sum(e - s for s, e in maps)
    buf = mmap.mmap(-1, max(total, 4096))
    for off in range(0, len(buf), 4096):  # fault our side in first: we time the copy
        buf[off] = 1
    cbuf = ctypes.c_char.from_buffer(buf)
    base = ctypes.addressof(cbuf)
    chunk = 64 << 20
    best = None
    for _ in range(tries):
        t0 = time.monotonic()
        off = 0
        for start, end in maps:
            a = start
            while a < end:
                n = min(chunk, end - a)
                local, remote = IoVec(base + off, n), IoVec(a, n)
                libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
                a += n
                off += n
        t = time.monotonic() - t0
        best = t if best is None else min(best, t)
    del cbuf
    buf.close()
    return best, total


# ---- one size ----

def median_run(binary, args, repeat):
    runs = [Run(binary, args).check(" ".join(map(str, args))) for _ in range(repeat)]
    runs.sort(key=lambda r: r.wall)
    return runs[len(runs) // 2], runs


def bench_size(binary, python, count, repeat, snapshot):
    proc, ready, build_s = start_target(python, ["count=%d" % count])
    pid = ready["pid"]
    row = {"count": count}
    try:
        rss = vm_rss_kib(pid)
        print("\nbench: %d instances: target pid %d, Python %s, about %d objects built in %.0f s, "
              "target RSS %s MiB" % (count, pid, ".".join(map(str, ready["version"][:3])),
                                     ready["objects_built"], build_s,
                                     "%.0f" % (rss / 1024.0) if rss else "?"), flush=True)
        limit_s, limit_bytes = physical_limit(pid)
        plain, runs = median_run(binary, ["attach", "--json", pid], repeat)
        objects = object_count(plain.doc) or ready["objects_built"]
        nocopy = Run(binary, ["attach", "--json", "--no-copy", pid]).check("attach --no-copy")
        drill = []
        for extra in (["attach", "--json", "--by", "rcs", pid],
                      ["attach", "--json", "--kind", ready["class"], "--by", "rcs", pid],
                      ["path", "--json", "--kind", ready["class"], "--count", "3", pid]):
            # Medians like the plain attach's: the goal is a ratio of the two, and one run at
            # 1M objects is within this VM's stalls (a 50 ms stall is 0.35x there).
            r, _ = median_run(binary, extra, repeat)
            drill.append((" ".join(extra[:1] + extra[2:-1]), r))
        # The dominator tree on top of the same walk (top -n 0 builds it and prints nothing
        # but its figures).
        dom = Run(binary, ["top", "--json", "-n", "0", pid]).check("top -n 0")
        snap = None
        if snapshot:
            snap_dir = tempfile.mkdtemp(prefix="pyheap-bench-")
            path = os.path.join(snap_dir, "bench.pyheap")
            s = Run(binary, ["attach", "--json", "--save", path, pid]).check("attach --save")
            size = os.path.getsize(path)
            r = Run(binary, ["attach", path]).check("attach FILE")
            os.unlink(path)
            os.rmdir(snap_dir)
            snap = (s, r, size)
    finally:
        status = stop_target(proc)
    if status != 0:
        raise SystemExit("bench: the target exited with status %s" % status)
    row.update(objects=objects, plain=plain, runs=runs, nocopy=nocopy, drill=drill, dom=dom, snap=snap,
               limit_s=limit_s, limit_bytes=limit_bytes)
    return row


def frozen_ms(run):
    v = find_key(run.doc, ("frozen_ms",))
    return float("nan") if v is None else v


def beside_copy(run, objects):
    """Peak RSS per object less the copy of the target: issue 16's bound is copy + 64 B/object."""
    return (run.peak_kib * 1024.0 - (find_key(run.doc, ("copied_bytes",)) or 0)) / objects


def print_size(row):
    p, n, objects = row["plain"], row["nocopy"], row["objects"]
    copied = find_key(p.doc, ("copied_bytes",))
    print("size %.1fM: attach (default) median of %d: wall_s %.3f user_s %.3f sys_s %.3f "
          "stopped_ms %.1f copied_mib %s peak_rss_b_per_object %.1f (%.1f beside the copy) "
          "ns_per_object %.0f" % (
              objects / 1e6, len(row["runs"]), p.wall, p.user, p.sys, frozen_ms(p),
              "%.0f" % (copied / 1048576.0) if copied else "none (not copied)",
              p.peak_kib * 1024.0 / objects, beside_copy(p, objects), p.wall * 1e9 / objects))
    print("size %.1fM: attach walls %s" % (objects / 1e6, " ".join("%.3f" % r.wall
                                                                  for r in row["runs"])))
    print("size %.1fM: physical limit: copy %.0f MiB of writable memory once in %.3f s; "
          "pyheap's wall is %.1fx that" % (objects / 1e6, row["limit_bytes"] / 1048576.0,
                                           row["limit_s"], p.wall / row["limit_s"]))
    print("size %.1fM: attach --no-copy: wall_s %.3f user_s %.3f sys_s %.3f stopped_ms %.1f "
          "peak_rss_b_per_object %.1f" % (objects / 1e6, n.wall, n.user, n.sys, frozen_ms(n),
                                           n.peak_kib * 1024.0 / objects))
    for what, d in row["drill"]:
        print("size %.1fM: drilldown %-40s wall_s %.3f (%.2fx attach) peak_rss_mib %.1f" % (
            objects / 1e6, what, d.wall, d.wall / p.wall, d.peak_kib / 1024.0))
    d = row["dom"]
    tree = d.doc.get("dominator_tree", {}) if isinstance(d.doc, dict) else {}
    print("size %.1fM: dominators: build_ms %.1f engine_peak_bytes_per_object %.1f (peak_bytes %d);"
          " top -n 0 wall_s %.3f (+%.3f over attach) peak_rss_mib %.1f (+%.1f bytes/object)" % (
              objects / 1e6, tree.get("build_ms", 0), tree.get("peak_bytes", 0) / float(objects),
              tree.get("peak_bytes", 0), d.wall, d.wall - p.wall, d.peak_kib / 1024.0,
              (d.peak_kib - p.peak_kib) * 1024.0 / objects))
    if row["snap"]:
        s, r, size = row["snap"]
        walk_s = (find_key(s.doc, ("walk_ms",)) or 0) / 1000.0
        print("size %.1fM: snapshot: bytes_per_object %.1f file_mib %.1f write_s %.3f "
              "(%.0f%% of the walk's %.3f s) read_and_table_s %.3f (%.3f s per million objects) "
              "read_peak_rss_mib %.1f" % (
                  objects / 1e6, size / objects, size / 1048576.0, s.wall - p.wall,
                  100.0 * (s.wall - p.wall) / walk_s if walk_s else 0, walk_s, r.wall,
                  r.wall / (objects / 1e6), r.peak_kib / 1024.0))


def print_table(rows):
    print("\nsummary (pyheap attach PID, whole process, medians; -copy: peak RSS per object less "
          "the copy; heapy: issue 16's figures)")
    print("%8s %8s %7s %7s %7s %10s %9s %8s %8s %8s %8s %8s %9s" % (
        "objects", "wall_s", "user_s", "sys_s", "stop_ms", "rss_B/obj", "-copy", "ns/obj",
        "limit_s", "x_limit", "heapy_s", "x_heapy", "nocopy"))
    for row in rows:
        p, objects = row["plain"], row["objects"]
        heapy = HEAPY.get(round(objects / 1e6)) or objects * HEAPY_US_PER_OBJECT / 1e6
        print("%7.1fM %8.3f %7.3f %7.3f %7.1f %10.1f %9.1f %8.0f %8.3f %8.1f %8.2f %8.1f %7.0fms" % (
            objects / 1e6, p.wall, p.user, p.sys, frozen_ms(p), p.peak_kib * 1024.0 / objects,
            beside_copy(p, objects), p.wall * 1e9 / objects, row["limit_s"],
            p.wall / row["limit_s"], heapy, heapy / p.wall, frozen_ms(row["nocopy"])))
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        ratio = (b["plain"].wall / b["objects"]) / (a["plain"].wall / a["objects"])
        print("linearity: ns per object at %.1fM is %.2fx that at %.1fM" % (
            b["objects"] / 1e6, ratio, a["objects"] / 1e6))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: bench.py BINARY [sizes=1,5,20] [repeat=3] [snapshot=5] [count=N] "
                 "[python=PATH]")
    binary = os.path.abspath(sys.argv[1])
    if not os.access(binary, os.X_OK):
        sys.exit("bench: %s is not an executable (make build/pyheap first)" % binary)
    opts = dict(a.split("=", 1) for a in sys.argv[2:] if "=" in a)
    if "count" in opts:
        counts = [int(opts["count"])]
    else:
        counts = [int(float(s) * 1e6) // OBJECTS_PER_INSTANCE
                  for s in opts.get("sizes", "1,5,20").split(",")]
    repeat = int(opts.get("repeat", "3"))
    python = opts.get("python", PYTHON)
    snapshot = float(opts.get("snapshot", "5"))
    snap_count = int(snapshot * 1e6) // OBJECTS_PER_INSTANCE
    if snap_count not in counts and counts:
        snap_count = counts[len(counts) // 2]
    print("bench: load average %s at the start; %d cores" % (
        " ".join("%.2f" % x for x in os.getloadavg()), os.cpu_count() or 0), flush=True)
    rows = []
    for count in counts:
        need = count * OBJECTS_PER_INSTANCE * BYTES_PER_OBJECT_NEEDED
        if need > available_bytes():
            print("\nbench: skipping %d instances: about %.1f GiB would be needed (target, copy "
                  "and graph), %.1f GiB available" % (count, need / 2**30,
                                                     available_bytes() / 2**30))
            continue
        row = bench_size(binary, python, count, repeat, snapshot and count == snap_count)
        print_size(row)
        sys.stdout.flush()
        rows.append(row)
    if rows:
        print_table(rows)
    print("bench: load average %s at the end" % " ".join("%.2f" % x for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
