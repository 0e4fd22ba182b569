"""make demo: start the leaky example service, attach pyheap to it, print what pyheap prints.

Usage: python3 tests/demo.py BINARY
Starts tests/targets/demo_service.py with /usr/bin/python3, waits for its READY line, runs
`BINARY attach PID` (or `BINARY info PID` if this build has no attach command yet: exit status 2,
usage), prints pyheap's output, stops the service. Exits with pyheap's status (0 when it worked).
"""
import json
import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE = os.path.join(HERE, "targets", "demo_service.py")
PYTHON = "/usr/bin/python3"
READY_TIMEOUT = 60
USAGE_STATUS = 2  # PH_ERR_USAGE in lib/error.h


def start_service():
    with open(SERVICE) as f:
        source = f.read()
    proc = subprocess.Popen([PYTHON, "-c", source], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            universal_newlines=True)
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            proc.kill()
            proc.wait()
            sys.exit("demo: the service gave no READY line within %d s" % READY_TIMEOUT)
        line = proc.stdout.readline()
        if not line:
            sys.exit("demo: the service exited before READY (status %s)" % proc.wait())
        if line.startswith("READY"):
            return proc, json.loads(line[len("READY"):])


def stop_service(proc):
    try:
        proc.stdin.write("quit\n")
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run(argv):
    print("$ " + " ".join(argv), flush=True)
    return subprocess.call(argv)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: demo.py BINARY")
    binary = os.path.abspath(sys.argv[1])
    if not os.access(binary, os.X_OK):
        sys.exit("demo: %s is not an executable (make build/pyheap first)" % binary)
    proc, ready = start_service()
    try:
        pid = str(ready["pid"])
        print("demo: service pid %s (Python %s), %d sessions cached and growing"
              % (pid, ".".join(map(str, ready["version"][:3])), ready["sessions"]), flush=True)
        status = run([binary, "attach", pid])
        if status == 0:
            print("\ndemo: who holds the Session objects? (their referrers, by kind)", flush=True)
            status = run([binary, "attach", pid, "--kind", "__main__.Session", "--referrers",
                          "--rows", "5"])
        if status == 0:
            print("\ndemo: and the shortest path from a root to one of them:", flush=True)
            status = run([binary, "path", pid, "--kind", "__main__.Session"])
    finally:
        stop_service(proc)
    if status != 0:
        print("demo: pyheap failed with status %d" % status, file=sys.stderr)
    return 1 if status != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
