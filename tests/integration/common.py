"""Shared helpers for pyheap's integration tests.

Targets are real Python processes started from tests/targets/. Each target builds its heap, then
prints one line `READY <json>` on stdout (its own view of itself: pid, version, counts, sizes) and
waits for commands on stdin: `quit` makes it run its own consistency check and exit 0. Tests never
sleep to synchronise: they wait for READY (with a generous timeout only as a safety net).

Interpreters: Debian's /usr/bin/python3.11 is required; pyenv builds 3.8 to 3.13 run when present;
Debian sid's 3.13, 3.14 and 3.15 run in a debootstrap root (PYHEAP_SID_ROOT, default
/var/cache/pyheap/sid-root) under chroot, and also under unshare --mount --pid --fork + chroot (the
container case). PYHEAP_REQUIRE_SID=1 (set by .ci/run) turns a missing sid root into a failure.
"""
import glob
import json
import os
import select
import subprocess
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGETS = os.path.join(ROOT, "tests", "targets")
PYHEAP = os.path.join(ROOT, os.environ.get("PYHEAP", "build/san/pyheap"))
SID_ROOT = os.environ.get("PYHEAP_SID_ROOT", "/var/cache/pyheap/sid-root")
READY_TIMEOUT = 120  # safety net only; targets normally answer in well under a second


class Interp:
    """One interpreter to test against. `prefix` runs it (possibly through chroot/unshare)."""

    def __init__(self, name, prefix, required, kind, minor, root=None, container=False):
        self.name = name          # "debian-3.11", "pyenv-3.12.1", "sid-3.14", "sid-3.14-container"
        self.prefix = prefix      # argv before the python arguments
        self.required = required
        self.kind = kind          # "debian", "pyenv", "sid"
        self.minor = minor        # (3, 11)
        self.root = root          # the chroot, for sid
        self.container = container

    def __repr__(self):
        return self.name


def _pyenv_interps():
    out = []
    for path in sorted(glob.glob("/root/.pyenv/versions/3.*/bin/python3.*")):
        base = os.path.basename(path)
        if not base[len("python"):].replace(".", "").isdigit():
            continue  # python3.X-config, python3.Xm, -gdb.py
        ver = path.split("/")[4]
        minor = tuple(int(x) for x in ver.split(".")[:2])
        if minor < (3, 8):
            continue
        out.append(Interp("pyenv-" + ver, [path], False, "pyenv", minor))
    return out


def _sid_interps():
    out = []
    for minor in (13, 14, 15):
        exe = "/usr/bin/python3.%d" % minor
        if not os.path.exists(SID_ROOT + exe):
            continue
        out.append(Interp("sid-3.%d" % minor, ["chroot", SID_ROOT, exe], True, "sid", (3, minor),
                          root=SID_ROOT))
        out.append(Interp("sid-3.%d-container" % minor,
                          ["unshare", "--mount", "--pid", "--fork", "chroot", SID_ROOT, exe],
                          True, "sid", (3, minor), root=SID_ROOT, container=True))
    return out


def sid_required():
    return os.environ.get("PYHEAP_REQUIRE_SID") == "1"


def interpreters(include_containers=True):
    """Every interpreter present. Raises if a required one is missing."""
    found = []
    if not os.path.exists("/usr/bin/python3.11"):
        raise RuntimeError("Debian's /usr/bin/python3.11 is required for the tests")
    found.append(Interp("debian-3.11", ["/usr/bin/python3.11"], True, "debian", (3, 11)))
    found += _pyenv_interps()
    sid = _sid_interps()
    if not sid and sid_required():
        raise RuntimeError("PYHEAP_REQUIRE_SID=1 but no sid root at %s (make sid-root)" % SID_ROOT)
    found += [i for i in sid if include_containers or not i.container]
    return found


def missing_interpreters():
    """The interpreters the tests know how to run but did not find, each with how to add it."""
    out = []
    for minor in ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13"):
        if not glob.glob("/root/.pyenv/versions/%s.*/bin/python%s" % (minor, minor)):
            out.append("pyenv %s (install it under /root/.pyenv/versions)" % minor)
    for minor in (13, 14, 15):
        if not os.path.exists(SID_ROOT + "/usr/bin/python3.%d" % minor):
            out.append("sid 3.%d (make sid-root)" % minor)
    return out


def _imports(interp, module):
    try:
        p = subprocess.run(list(interp.prefix) + ["-c", "import " + module], capture_output=True,
                           timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0


def numpy_interpreters():
    """The interpreters (no container variants) that can import numpy. Debian's 3.11 must
    (`make deps` installs python3-numpy), and so must sid's 3.14 and 3.15 when the sid root is
    required (sid-root.sh includes python3-numpy; sid builds it for 3.14 and later)."""
    found = []
    for interp in interpreters(include_containers=False):
        if _imports(interp, "numpy"):
            found.append(interp)
        elif interp.kind == "debian":
            raise RuntimeError("Debian's python3.11 cannot import numpy (make deps)")
        elif interp.kind == "sid" and interp.minor >= (3, 14) and sid_required():
            raise RuntimeError("%s cannot import numpy (make sid-root)" % interp.name)
    return found


def _child_pids(pid):
    kids = []
    for task in glob.glob("/proc/%d/task/*/children" % pid):
        try:
            with open(task) as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return kids


def _python_pid(pid):
    """The pid of the python process under a launcher (unshare forks; chroot execs)."""
    todo = [pid]
    seen = 0
    while todo and seen < 64:
        p = todo.pop(0)
        seen += 1
        try:
            exe = os.readlink("/proc/%d/exe" % p)
        except OSError:
            exe = ""
        if "python" in os.path.basename(exe):
            return p
        todo += _child_pids(p)
    raise RuntimeError("no python process under pid %d" % pid)


class Target:
    """A running target. Use as a context manager: it is always stopped at the end."""

    def __init__(self, interp, script, args=(), env=None):
        self.interp = interp
        path = os.path.join(TARGETS, script)
        with open(path) as f:
            source = f.read()
        # -c with the source: the script need not exist inside a chroot.
        argv = list(interp.prefix) + ["-c", source] + list(args)
        full_env = dict(os.environ)
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LD_PRELOAD"):
            full_env.pop(k, None)
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env, text=True)
        self.report = self._wait_ready()
        self.pid = _python_pid(self.proc.pid)

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise RuntimeError("target %s gave no READY line" % self.interp)
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                continue
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read()
                raise RuntimeError("target %s exited before READY: %s" % (self.interp, err[-2000:]))
            if line.startswith("READY"):
                rest = line[len("READY"):].strip()
                return json.loads(rest) if rest else {}

    def command(self, text):
        """Send one command line; return the target's one-line reply."""
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def quit(self):
        """Ask the target to check itself and exit; returns its exit code."""
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        try:
            return self.proc.wait(timeout=READY_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass


def run_pyheap(*args, env=None, timeout=600, binary=None):
    """Run pyheap; return (exit code, stdout, stderr)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run([binary or PYHEAP] + [str(a) for a in args], capture_output=True,
                       text=True, env=full_env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def run_pyheap_json(*args, env=None):
    rc, out, err = run_pyheap(*args, "--json", env=env)
    if rc != 0:
        raise AssertionError("pyheap %s failed (%d): %s" % (" ".join(map(str, args)), rc, err))
    return json.loads(out)


class InterpTestCase(unittest.TestCase):
    """Base class: `for_each_interp` runs a body per interpreter as a subTest and records which
    ran, so the runner can print them."""

    ran = {}

    def for_each_interp(self, body, include_containers=True, interps=None):
        """body(interp) as a subTest for each interpreter: every one present, or `interps`."""
        for interp in interps if interps is not None else interpreters(include_containers):
            with self.subTest(interp=interp.name):
                InterpTestCase.ran.setdefault(interp.name, 0)
                InterpTestCase.ran[interp.name] += 1
                body(interp)
