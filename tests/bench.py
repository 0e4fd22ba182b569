"""make bench: time pyheap on a heap of about 4 million objects (1 million instances).

Usage: python3 tests/bench.py BINARY [count=N]
Starts tests/targets/bench_heap.py with /usr/bin/python3.11, waits for READY, runs
`BINARY attach --json PID` and reports its wall time, its peak RSS (/usr/bin/time, else wait4's
rusage), RSS per object (the object count read from pyheap's JSON, else the target's own
estimate), and pyheap's "frozen_ms" (how long the target was stopped) when the JSON has it;
then the same with --copy (wall time, peak RSS, frozen_ms, MiB copied), the dominator tree
(`top -n 0`: its build time and peak memory as pyheap measures them, and the run's wall time
and peak RSS beside plain attach's, per object) and two drill-downs. No
assertions on timing; exits non-zero only if pyheap or the target failed. count=N (default
1000000) is passed to the target.
"""
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "targets", "bench_heap.py")
PYTHON = "/usr/bin/python3.11"
READY_TIMEOUT = 300


def start_target(args):
    with open(TARGET) as f:
        source = f.read()
    t0 = time.monotonic()
    proc = subprocess.Popen([PYTHON, "-c", source] + args, stdin=subprocess.PIPE,
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
        return proc.wait(timeout=60)
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
    """Objects pyheap saw, read defensively: the JSON format is pyheap's, not ours."""
    n = find_key(doc, ("total_count", "object_count"))
    if n is None and isinstance(doc, dict):
        for holder in (doc, doc.get("total"), doc.get("summary"), doc.get("heap")):
            if isinstance(holder, dict):
                for key in ("count", "objects"):
                    if isinstance(holder.get(key), int) and not isinstance(holder[key], bool):
                        return holder[key]
        rows = doc.get("rows") or doc.get("kinds")
        if isinstance(rows, list):
            counts = [r.get("count") for r in rows if isinstance(r, dict)]
            if counts and all(isinstance(c, int) for c in counts):
                return sum(counts)
    return None if n is None else int(n)


def run_pyheap(binary, pid, extra=()):
    """(status, wall seconds, peak RSS KiB, how the peak was measured, stdout, stderr).

    Linux charges a child's ru_maxrss with its parent's memory from before exec (the forked or
    vforked copy of this Python), so the peak is read through /usr/bin/time when present: its
    child is forked from a small process. Otherwise wait4's rusage is used, and a peak not above
    this script's own is flagged as an upper bound."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("w+", suffix=".time") as timefile:
        argv = [binary] + list(extra or ["attach", "--json"]) + [str(pid)]
        gnu_time = os.access("/usr/bin/time", os.X_OK)
        if gnu_time:
            argv = ["/usr/bin/time", "-f", "%M", "-o", timefile.name] + argv
        t0 = time.monotonic()
        child = subprocess.Popen(argv, stdout=out, stderr=err)
        _, wstatus, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - t0
        if os.WIFEXITED(wstatus):
            status = os.WEXITSTATUS(wstatus)
        else:
            status = 128 + os.WTERMSIG(wstatus)
        child.returncode = status  # reaped here; keeps Popen from waiting again
        peak, how = usage.ru_maxrss, "wait4 rusage"
        if gnu_time:
            timefile.seek(0)
            lines = timefile.read().split()
            if lines and lines[-1].isdigit():
                peak, how = int(lines[-1]), "/usr/bin/time"
        if how != "/usr/bin/time":
            own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            if peak <= own:
                how += ", upper bound: not above this script's own %d KiB" % own
        out.seek(0)
        err.seek(0)
        return status, wall, peak, how, out.read(), err.read()


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: bench.py BINARY [count=N]")
    binary = os.path.abspath(sys.argv[1])
    if not os.access(binary, os.X_OK):
        sys.exit("bench: %s is not an executable (make build/pyheap first)" % binary)
    proc, ready, build_s = start_target(sys.argv[2:])
    try:
        target_rss = vm_rss_kib(ready["pid"])
        print("bench: target pid %d, Python %s, %d instances, about %d objects built in %.1f s,"
              " target RSS %s MiB" % (ready["pid"], ".".join(map(str, ready["version"][:3])),
                                     ready["count"], ready["objects_built"], build_s,
                                     "%.0f" % (target_rss / 1024.0) if target_rss else "?"),
              flush=True)
        status, wall, peak_kib, peak_how, out, err = run_pyheap(binary, ready["pid"])
        # The same walk from a copy taken while frozen (--copy): a shorter stop, more memory.
        c_status, c_wall, c_peak, _, c_out, c_err = run_pyheap(
            binary, ready["pid"], ["attach", "--json", "--copy"])
        # The dominator tree on top of the same walk (top -n 0 builds it and prints nothing
        # else): its own time and peak memory from the JSON, and the whole run's.
        dom = run_pyheap(binary, ready["pid"], ["top", "--json", "-n", "0"])
        # Snapshot files: the same walk written to a file (--save), then the file read back.
        snap_dir = tempfile.mkdtemp(prefix="pyheap-bench-")
        snap = os.path.join(snap_dir, "bench.pyheap")
        s_status, s_wall, s_peak, _, _, s_err = run_pyheap(
            binary, ready["pid"], ["attach", "--json", "--save", snap])
        snap_bytes = os.path.getsize(snap) if s_status == 0 else 0
        r_status, r_wall, r_peak, _, _, r_err = run_pyheap(binary, snap, ["attach"])
        os.unlink(snap) if s_status == 0 else None
        os.rmdir(snap_dir)
        # The drill-downs of one walk: referrer kinds of every instance, and paths to three.
        drill = []
        for extra in (["attach", "--json", "--kind", ready["class"], "--by", "rcs"],
                      ["path", "--json", "--kind", ready["class"], "--count", "3"]):
            d_status, d_wall, d_peak, _, _, d_err = run_pyheap(binary, ready["pid"], extra)
            drill.append((" ".join(extra[:1] + extra[2:]), d_status, d_wall, d_peak, d_err))
    finally:
        target_status = stop_target(proc)
    if status != 0:
        sys.stderr.write(err)
        print("bench: pyheap attach --json failed with status %d" % status, file=sys.stderr)
        return 1
    try:
        doc = json.loads(out)
    except ValueError as e:
        print("bench: pyheap's output is not JSON (%s); first bytes: %r" % (e, out[:200]),
              file=sys.stderr)
        return 1
    objects = object_count(doc)
    source = "pyheap"
    if not objects:
        objects, source = ready["objects_built"], "target estimate"
    frozen = find_key(doc, ("frozen_ms",))
    print("wall_s %.3f" % wall)
    print("peak_rss_mib %.1f (%s)" % (peak_kib / 1024.0, peak_how))
    print("objects %d (%s)" % (objects, source))
    print("rss_bytes_per_object %.1f" % (peak_kib * 1024.0 / objects))
    if frozen is not None:
        print("frozen_ms %s" % frozen)
    if c_status != 0:
        sys.stderr.write(c_err)
        print("bench: pyheap attach --json --copy failed with status %d" % c_status, file=sys.stderr)
        return 1
    c_doc = json.loads(c_out)
    print("copy: wall_s %.3f peak_rss_mib %.1f frozen_ms %s copied_mib %.1f" % (
        c_wall, c_peak / 1024.0, find_key(c_doc, ("frozen_ms",)),
        (find_key(c_doc, ("copied_bytes",)) or 0) / 1048576.0))
    d_status, d_wall, d_peak, _, d_out, d_err = dom
    if d_status != 0:
        sys.stderr.write(d_err)
        print("bench: pyheap top --json -n 0 failed with status %d" % d_status, file=sys.stderr)
        return 1
    tree = json.loads(d_out).get("dominator_tree", {})
    print("dominators: build_ms %.1f engine_peak_bytes_per_object %.1f (peak_bytes %d);"
          " top -n 0 wall_s %.3f (+%.3f over attach) peak_rss_mib %.1f (+%.1f bytes/object)" % (
              tree.get("build_ms", 0), tree.get("peak_bytes", 0) / float(objects),
              tree.get("peak_bytes", 0), d_wall, d_wall - wall, d_peak / 1024.0,
              (d_peak - peak_kib) * 1024.0 / objects))
    if s_status != 0 or r_status != 0:
        sys.stderr.write(s_err + r_err)
        print("bench: snapshot write (%d) or read (%d) failed" % (s_status, r_status), file=sys.stderr)
        return 1
    walk_s = (find_key(doc, ("walk_ms",)) or 0) / 1000.0
    print("snapshot: bytes_per_object %.1f file_mib %.1f write_s %.3f (%.0f%% of the walk's %.3f s)"
          " read_and_table_s %.3f (%.3f s per million objects) read_peak_rss_mib %.1f" % (
              snap_bytes / objects, snap_bytes / 1048576.0, s_wall - wall,
              100.0 * (s_wall - wall) / walk_s if walk_s else 0, walk_s, r_wall,
              r_wall / (objects / 1e6), r_peak / 1024.0))
    for what, d_status, d_wall, d_peak, d_err in drill:
        if d_status != 0:
            sys.stderr.write(d_err)
            print("bench: pyheap %s failed with status %d" % (what, d_status), file=sys.stderr)
            return 1
        print("drilldown %-45s wall_s %.3f peak_rss_mib %.1f" % (what, d_wall, d_peak / 1024.0))
    if target_status != 0:
        print("bench: the target exited with status %s" % target_status, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
