"""Processes and command lines off the usual path, each once a wrong answer or a hang.

  * A process whose main thread called pthread_exit while other threads run on
    (tests/targets/leader_exit.py): the kernel shows its main thread as a zombie and its maps as
    empty. pyheap reads it through a live thread and reports the process id it was given; it
    used to say "no such process ... (it is a zombie)", exit 3.
  * --debug-file naming a FIFO: reported as not a regular file in the layout sources, and the
    other sources are used; pyheap used to block in open() for ever.
  * --copy with --no-freeze: refused (exit 2, one line); it used to be accepted silently.
  * A process id is digits only: " 12", "12 ", "+12", "0x0c" are file names, not pid 12 (the
    parser was made strict in lib/source/source.c; this is its test).
"""
import json
import os
import subprocess
import tempfile
import time

import common

ZOMBIE_TIMEOUT = 30  # safety net: the kernel makes the joined main thread a zombie at once
HANG_TIMEOUT = 120   # safety net: these commands take well under a second; more is a hang
EXIT_USAGE, EXIT_IO = 2, 12


def debian(interp):
    return interp.name == "debian-3.11"


def stat_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


class OddProcessTest(common.InterpTestCase):

    def check_leader_exited(self, interp):
        with common.Target(interp, "leader_exit.py") as t:
            self.assertEqual(t.command("exit-main"), "main-exited")
            # The tid is cleared a moment before the kernel marks the thread a zombie: look
            # again (no sleep: microseconds) until it does.
            deadline = time.monotonic() + ZOMBIE_TIMEOUT
            while stat_state(t.pid) != "Z":
                self.assertLess(time.monotonic(), deadline, "the main thread did not exit")
            rc, out, err = common.run_pyheap("attach", "--json", t.pid)
            self.assertEqual(rc, 0, err)
            ph = json.loads(out)
            self.assertEqual(ph["pid"], t.pid)
            self.assertTrue(ph["rows"])
            self.assertEqual(t.command("ping"), "pong")
            self.assertEqual(t.quit(), 0)

    def test_main_thread_exited(self):
        self.for_each_interp(self.check_leader_exited, include_containers=False)

    def check_debug_file_fifo(self, interp):
        with common.Target(interp, "idle.py") as t, tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "debug.fifo")
            os.mkfifo(fifo)
            for args in (["info"], ["attach", "--rows", "1"]):
                try:
                    rc, out, err = common.run_pyheap(*(args + ["--debug-file", fifo, t.pid]),
                                                     timeout=HANG_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.fail("pyheap %s --debug-file FIFO hung" % args[0])
                self.assertEqual(rc, 0, err)
            rc, out, err = common.run_pyheap("info", "--debug-file", fifo, t.pid)
            self.assertIn("--debug-file %s: not a regular file" % fifo, out)
            self.assertEqual(t.command("ping"), "pong")

    def test_debug_file_fifo(self):
        self.for_each_interp(self.check_debug_file_fifo,
                             interps=[i for i in common.interpreters(False) if debian(i)])


class OddCommandLineTest(common.InterpTestCase):

    def test_copy_with_no_freeze_is_refused(self):
        for cmd in ("attach", "path"):
            rc, out, err = common.run_pyheap(cmd, "--copy", "--no-freeze", os.getpid())
            self.assertEqual(rc, EXIT_USAGE, err)
            self.assertEqual(out, "")
            lines = err.strip().splitlines()
            self.assertEqual(len(lines), 1, err)
            self.assertIn("--copy", lines[0])
            self.assertIn("--no-freeze", lines[0])

    def test_pid_is_digits_only(self):
        for spec in (" 12", "12 ", "+12", "0x0c", "1e1", "12\n"):
            rc, out, err = common.run_pyheap("attach", spec)
            self.assertEqual(rc, EXIT_IO, "%r: %s" % (spec, err))
            self.assertIn("not a process id", err, repr(spec))
            self.assertNotIn("process 12", err, repr(spec))
