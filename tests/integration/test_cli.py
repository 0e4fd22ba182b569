"""pyheap info and every bad-input path: one clear line on stderr, the documented exit code, and
the target still running afterwards. Synchronisation is on lines the programs print (READY,
"pyheap: frozen", strace's "attached"), never on sleeps.
"""
import glob
import os
import select
import signal
import subprocess

import common

EXIT = {"usage": 2, "no-process": 3, "permission": 4, "not-python": 5, "unsupported": 6,
        "already-traced": 7, "target-exited": 8, "corrupt-file": 11, "io": 12, "interrupted": 13}


def thread_states(pid):
    states = []
    for stat in glob.glob("/proc/%d/task/*/stat" % pid):
        try:
            with open(stat) as f:
                states.append(f.read().rsplit(")", 1)[1].split()[0])
        except OSError:
            pass
    return states


def wait_line(stream, text, timeout=120):
    """Read lines from a pipe until one contains text; return all read."""
    seen = []
    while True:
        r, _, _ = select.select([stream], [], [], timeout)
        if not r:
            raise AssertionError("no %r line; got %r" % (text, seen))
        line = stream.readline()
        if not line:
            raise AssertionError("stream closed before %r; got %r" % (text, seen))
        seen.append(line)
        if text in line:
            return seen


def start_pyheap(args, env, stdin=subprocess.DEVNULL):
    full = dict(os.environ)
    full.update(env)
    return subprocess.Popen([common.PYHEAP] + [str(a) for a in args], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full)


class InfoTest(common.InterpTestCase):

    def test_info_matches_target(self):
        def body(interp):
            with common.Target(interp, "idle.py") as t:
                info = common.run_pyheap_json("info", t.pid)
                self.assertEqual(info["version_hex"], t.report["version"])
                self.assertEqual(info["threads"], t.report["threads"])
                self.assertEqual(info["pid"], t.pid)
                self.assertEqual(info["nspid"], t.report["pid"], "pid as the target sees itself")
                self.assertTrue(info["layout_sources"])
                rc, out, err = common.run_pyheap("info", t.pid)
                self.assertEqual(rc, 0, err)
                self.assertIn("interpreter 0", out)
                self.assertEqual(t.command("ping"), "pong")
                self.assertEqual(t.quit(), 0)
        self.for_each_interp(body)


class BadInputTest(common.InterpTestCase):

    def debian(self):
        return common.interpreters(include_containers=False)[0]

    def assert_fails(self, args, code, words, env=None):
        rc, out, err = common.run_pyheap(*args, env=env)
        self.assertEqual(rc, code, "exit code of pyheap %s: %s" % (args, err))
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, "one line on stderr: %r" % err)
        self.assertTrue(lines[0].startswith("pyheap: "), lines[0])
        for w in words:
            self.assertIn(w, lines[0])
        self.assertEqual(out, "")

    def test_usage(self):
        self.assert_fails(["attach"], EXIT["usage"], ["process id"])
        # A PID is a number; anything else names a file (a snapshot).
        self.assert_fails(["attach", "12x"], EXIT["io"], ["12x", "no such file", "not a process id"])
        self.assert_fails(["attach", "1", "--by", "colour"], EXIT["usage"], ["--by"])
        self.assert_fails(["frobnicate", "1"], EXIT["usage"], ["unknown command"])
        self.assert_fails(["info", "1", "--rows", "3"], EXIT["usage"], ["not an option"])

    def test_no_such_process(self):
        pid = 4194000
        while os.path.exists("/proc/%d" % pid):
            pid -= 1
        self.assert_fails(["attach", pid], EXIT["no-process"], ["no such process", str(pid)])

    def test_not_python(self):
        sleeper = subprocess.Popen(["sleep", "1000"])
        try:
            self.assert_fails(["attach", sleeper.pid], EXIT["not-python"], ["not running CPython"])
            self.assertIsNone(sleeper.poll(), "sleep still runs")
        finally:
            sleeper.kill()
            sleeper.wait()

    def test_permission_denied(self):
        with common.Target(self.debian(), "idle.py") as t:
            p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                common.PYHEAP, "attach", str(t.pid)],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, EXIT["permission"], p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn("CAP_SYS_PTRACE", p.stderr)
            self.assertEqual(t.command("ping"), "pong")

    def test_already_traced(self):
        with common.Target(self.debian(), "idle.py") as t:
            tracer = subprocess.Popen(["strace", "-p", str(t.pid), "-o", "/dev/null"],
                                      stderr=subprocess.PIPE, text=True)
            try:
                wait_line(tracer.stderr, "attached")
                self.assert_fails(["attach", t.pid], EXIT["already-traced"],
                                  ["already traced", str(tracer.pid)])
            finally:
                tracer.terminate()
                tracer.wait()
            self.assertEqual(t.command("ping"), "pong")

    def test_unsupported_version(self):
        old = sorted(glob.glob("/root/.pyenv/versions/3.7.*/bin/python3.7"))
        if not old:
            self.skipTest("no Python 3.7 here")
        p = subprocess.Popen([old[0], "-c", "import sys; print('READY', flush=True); sys.stdin.read()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            wait_line(p.stdout, "READY")
            self.assert_fails(["attach", p.pid], EXIT["unsupported"], ["not supported"])
        finally:
            p.kill()
            p.wait()

    def test_target_exits_mid_walk(self):
        t = common.Target(self.debian(), "idle.py")
        with t:
            ph = start_pyheap(["attach", t.pid], {"PYHEAP_TEST_PAUSE_FROZEN": "stdin"},
                              stdin=subprocess.PIPE)
            wait_line(ph.stderr, "pyheap: frozen")
            # SIGKILL while frozen. Not reaped yet: a traced child's death reaches its tracer
            # (pyheap) first, so the parent can only wait for it once pyheap lets go.
            os.kill(t.proc.pid, signal.SIGKILL)
            ph.stdin.write("go\n")
            ph.stdin.close()
            err = ph.stderr.read()
            ph.wait(timeout=120)
            self.assertEqual(ph.returncode, EXIT["target-exited"], err)
            self.assertIn("exited", err)
            t.proc.wait(timeout=120)

    def check_signal_thaws(self, sig):
        with common.Target(self.debian(), "idle.py") as t:
            ph = start_pyheap(["attach", t.pid], {"PYHEAP_TEST_PAUSE_FROZEN": "1"})
            wait_line(ph.stderr, "pyheap: frozen")
            states = thread_states(t.pid)
            self.assertTrue(states and all(s == "t" for s in states), states)
            ph.send_signal(sig)
            out, err = ph.communicate(timeout=120)
            self.assertEqual(ph.returncode, EXIT["interrupted"], err)
            self.assertEqual(t.command("ping"), "pong", "target runs after pyheap got %s" % sig)
            self.assertNotIn("t", thread_states(t.pid))
            self.assertEqual(t.quit(), 0)

    def test_signals_thaw_the_target(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with self.subTest(signal=sig.name):
                self.check_signal_thaws(sig)


class EscapeTest(common.InterpTestCase):

    def test_control_sequences_are_escaped(self):
        def body(interp):
            with common.Target(interp, "evil_names.py") as t:
                rc, out, err = common.run_pyheap("attach", t.pid, "--rows", "all")
                self.assertEqual(rc, 0, err)
                for bad in ("\x1b", "\x07", "\u202e"):
                    self.assertNotIn(bad, out)
                self.assertIn("mod\\x1b]0;owned\\x07.Evil\\x1b[31mRED\\x07\\u202e", out)
                ph = common.run_pyheap_json("attach", t.pid, "--rows", "all")
                kinds = [r["kind"] for r in ph["rows"]]
                row = [r for r in ph["rows"] if r["kind"].startswith("mod\\x1b")]
                self.assertEqual(len(row), 1, kinds[:20])
                self.assertEqual(row[0]["count"], t.report["count"])
                t.quit()
        for interp in common.interpreters(include_containers=False)[:1]:
            with self.subTest(interp=interp.name):
                body(interp)
