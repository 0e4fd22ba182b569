"""pyheap info and every bad-input path: one clear line on stderr, the documented exit code, and
the target still running afterwards. Synchronisation is on lines the programs print (READY,
"pyheap: frozen", strace's "attached"), never on sleeps.
"""
import json
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
            self.assertIn("belongs to uid 0 and pyheap runs as uid 65534", p.stderr)
            self.assertEqual(t.command("ping"), "pong")

    def test_permission_hint_matches_the_cause(self):
        """Root in a user namespace of its own cannot trace the host's processes: the hint says
        so, rather than telling root to run as root. And where this machine refuses even root
        with CAP_SYS_PTRACE (pid 1 of a sandbox), the hint does not tell root to become root."""
        with common.Target(self.debian(), "idle.py") as t:
            p = subprocess.run(["unshare", "--user", "--map-root-user", common.PYHEAP, "attach",
                                str(t.pid)], capture_output=True, text=True)
            self.assertEqual(p.returncode, EXIT["permission"], p.stderr)
            self.assertIn("user namespace of its own", p.stderr)
            self.assertNotIn("run it as root", p.stderr)
            self.assertEqual(t.command("ping"), "pong")
        rc, out, err = common.run_pyheap("attach", "1")
        if rc == EXIT["permission"] and os.geteuid() == 0:
            self.assertNotIn("run it as root", err)
            self.assertIn("CAP_SYS_PTRACE", err)

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
        """3.7 has _PyRuntime and is refused by its version; 2.7 and 3.6 have none, and are
        recognised as old CPythons (exit 6, naming the version), not as "not Python" (5)."""
        ran = []
        for minor, words in (("3.7", ["not supported", "3.7"]),
                             ("3.6", ["runs CPython 3.6", "3.8 or later"]),
                             ("2.7", ["runs CPython 2.7", "3.8 or later"])):
            old = sorted(glob.glob("/root/.pyenv/versions/%s.*/bin/python%s" % (minor, minor)))
            if not old:
                continue
            ran.append(minor)
            p = subprocess.Popen([old[0], "-c", "import sys; sys.stdout.write('READY\\n'); "
                                  "sys.stdout.flush(); sys.stdin.read()"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                wait_line(p.stdout, "READY")
                self.assert_fails(["attach", p.pid], EXIT["unsupported"], words)
            finally:
                p.kill()
                p.wait()
        if not ran:
            self.skipTest("no Python 3.7, 3.6 or 2.7 here")

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


class NewUserTest(common.InterpTestCase):
    """What a new user tripped over (issue: wrong messages, silent failures, long work without a
    word): each case failed before its fix."""

    def debian(self):
        return common.interpreters(include_containers=False)[0]

    def test_short_usage_and_suggestions(self):
        rc, out, err = common.run_pyheap()
        self.assertEqual(rc, EXIT["usage"])
        self.assertLessEqual(len(err.splitlines()), 3, err)
        self.assertIn("--help", err)
        rc, out, err = common.run_pyheap("18099")
        self.assertEqual(rc, EXIT["usage"])
        self.assertIn("pyheap attach 18099", err)
        rc, out, err = common.run_pyheap("attach", "--bogus", "1")
        self.assertIn("pyheap attach --help", err)
        rc, out, err = common.run_pyheap("path", "--rows", "3", "1")
        self.assertEqual(rc, EXIT["usage"])
        self.assertIn("not an option of 'path'", err)

    def test_selection_messages(self):
        with common.Target(self.debian(), "growing.py") as t:
            rc, out, err = common.run_pyheap("path", t.pid)
            self.assertEqual(rc, EXIT["usage"])
            self.assertIn("needs a selection", err)
            self.assertIn("--kind", err)
            # Each layout source says its own reason (not "no DWARF" for debug offsets on 3.11).
            rc, out, err = common.run_pyheap("attach", "--layout-from", "debug-offsets", t.pid)
            self.assertEqual(rc, 9, err)
            self.assertIn("debug-offsets: none before 3.13", err)
            self.assertNotIn("install its debug symbols", err)
            # A debug file named explicitly that is not used is a warning, whatever the command.
            for cmd in (["attach"], ["path", "--kind", "__main__.Node"], ["info"]):
                rc, out, err = common.run_pyheap(*cmd, "--debug-file", "/nonexistent", t.pid)
                self.assertEqual(rc, 0, err)
                self.assertIn("warning: --debug-file /nonexistent", err)
            # `--` ends the options; --count takes all.
            ph = json.loads(common.run_pyheap("path", "--kind", "__main__.Node", "--count", "all",
                                              "--json", "--", str(t.pid))[1])
            self.assertEqual(len(ph["paths"]), 200)
            rc, out, err = common.run_pyheap("attach", "--row", "500", t.pid)
            self.assertEqual(rc, EXIT["usage"])
            n = json.loads(common.run_pyheap("attach", "--json", t.pid)[1])["rows_total"]
            self.assertIn("has %d rows" % n, err)
            rc, out, err = common.run_pyheap("attach", "--kind", "__main__.Nod", t.pid)
            self.assertEqual(rc, 0)
            self.assertIn("Partition of a set of 0 objects", out)
            self.assertIn("no object is of kind '__main__.Nod'", err)
            self.assertIn("'__main__.Node'", err)
            # The "Not shown" line is about the selection, not the whole heap.
            self.assertEqual(t.command("orphan 40"), "orphaned")
            rc, out, err = common.run_pyheap("attach", "--kind", "__main__.Orphan", t.pid)
            self.assertIn("Not shown: 40 objects", out)
            rc, out, err = common.run_pyheap("attach", "--kind", "__main__.Node", t.pid)
            self.assertNotIn("Not shown", out)
            whole = json.loads(common.run_pyheap("attach", "--json", t.pid)[1])
            self.assertGreaterEqual(whole["unreachable"]["count"], 40)
            self.assertEqual(t.quit(), 0)

    def test_progress_on_a_terminal_only(self):
        """A walk that takes a while says so on a terminal, erases the line when done, and says
        nothing on a pipe or with --quiet."""
        # 1.6M objects: a walk of about a second under the sanitizers, well past the 0.3 s
        # after which the line shows (600k objects took 0.4 s once the walk got faster).
        with common.Target(self.debian(), "bench_heap.py", ["count=400000"]) as t:
            def on_pty(*extra):
                master, slave = os.openpty()
                try:
                    p = subprocess.run([common.PYHEAP, "attach", *extra, str(t.pid)],
                                       stdout=subprocess.PIPE, stderr=slave, timeout=600)
                    os.close(slave)
                    slave = -1
                    chunks = []
                    while True:
                        try:
                            b = os.read(master, 65536)
                        except OSError:
                            break
                        if not b:
                            break
                        chunks.append(b)
                finally:
                    os.close(master)
                    if slave >= 0:
                        os.close(slave)
                self.assertEqual(p.returncode, 0)
                return b"".join(chunks).decode()
            shown = on_pty()
            self.assertIn("pyheap: ", shown)
            self.assertIn("objects", shown)
            self.assertTrue(shown.endswith("\r"), repr(shown[-80:]))  # erased: ends on a blank line
            self.assertEqual(on_pty("--quiet"), "")
            rc, out, err = common.run_pyheap("attach", t.pid)
            self.assertEqual((rc, err), (0, ""))
            self.assertEqual(t.command("ping"), "pong")
