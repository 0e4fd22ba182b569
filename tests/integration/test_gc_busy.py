"""pyheap attach while the target's garbage collector is collecting (tests/targets/gc_busy.py).

The walker refuses to read the GC lists while the interpreter's GC state says a collection is in
progress (lib/walk/walk.c), and the source thaws the target, waits for the collection to end
(polling its flag) and tries again, until --retry-for runs out (lib/source/live.c), then gives up
with exit code 10 ("inconsistent", man/pyheap.1) and says so. The
target holds one collection open deterministically: CPython sets `collecting` before it calls the
gc.callbacks with phase "start" and clears it after the "stop" callbacks, and the target's
callback blocks on "start" until the test sends `release`. So every attempt sees a collection,
however many there are and however long they take, and no sleep is needed anywhere.

Synchronisation is on the lines the target prints (COLLECTING, pong, COLLECTED): the protocol
has at most one line outstanding, so a line is never left in the pipe reader's buffer where
select() cannot see it.
"""
import json
import select

import common

EXIT_INCONSISTENT = 10   # lib/error.h PH_ERR_INCONSISTENT, man/pyheap.1 EXIT STATUS
RETRY_FOR = "0.5"        # seconds of looking again (the default, 2, would only make this slower)
LINE_TIMEOUT = common.READY_TIMEOUT  # safety net only; the target answers at once


def send(t, text):
    t.proc.stdin.write(text + "\n")
    t.proc.stdin.flush()


def expect_line(t, want, why):
    """Wait (bounded) for the target's next line and check it is `want`."""
    r, _, _ = select.select([t.proc.stdout], [], [], LINE_TIMEOUT)
    if not r:
        raise AssertionError("target %s printed no %r line within %d s (%s)"
                             % (t.interp, want, LINE_TIMEOUT, why))
    line = t.proc.stdout.readline()
    if not line:
        raise AssertionError("target %s exited while we waited for %r (%s): %s"
                             % (t.interp, want, why, t.proc.stderr.read()[-2000:]))
    if line.strip() != want:
        raise AssertionError("target %s printed %r, expected %r (%s)"
                             % (t.interp, line.strip(), want, why))


class GcBusyTest(common.InterpTestCase):

    def test_refuses_while_collecting_then_walks(self):
        def body(interp):
            with common.Target(interp, "gc_busy.py") as t:
                send(t, "collect")
                expect_line(t, "COLLECTING", "the gc callback runs with collecting set")

                rc, out, err = common.run_pyheap("attach", t.pid, "--json", "--retry-for", RETRY_FOR)
                if rc == 0:
                    # Not a pyheap bug to hunt first: the premise of this test is that the
                    # interpreter keeps gcstate->collecting set while the "start" callbacks run.
                    self.fail("%s: pyheap walked (exit 0) while the target was blocked in its gc "
                              "'start' callback, so this CPython does not set the GC state's "
                              "`collecting` before invoking gc.callbacks (or pyheap reads the "
                              "wrong offset for it); the test's premise fails here" % interp)
                self.assertEqual(rc, EXIT_INCONSISTENT, "exit code while collecting: %s" % err)
                self.assertEqual(out, "", "nothing on stdout when the walk fails")
                lines = err.strip().splitlines()
                self.assertEqual(len(lines), 1, "one line on stderr: %r" % err)
                self.assertTrue(lines[0].startswith("pyheap: "), lines[0])
                self.assertRegex(lines[0], r"garbage collector was running at each of \d+ "
                                           r"attempts in 0\.\d s; ")
                self.assertNotIn("corrupt", lines[0])

                # Thawed: the main thread answers, and the collection is still held open (a
                # COLLECTED or anything else here instead of pong would say otherwise).
                send(t, "ping")
                expect_line(t, "pong", "the target was thawed after the failed attempts")

                send(t, "release")
                expect_line(t, "COLLECTED", "gc.collect() returned after release")

                rc, out, err = common.run_pyheap("attach", t.pid, "--json")
                self.assertEqual(rc, 0, "attach after the collection ended: %s" % err)
                ph = json.loads(out)
                self.assertEqual(ph["pid"], t.pid)
                self.assertTrue(ph["rows"], "a partition with rows")
                self.assertGreaterEqual(ph["walk"]["freezes"], 1)
                self.assertEqual(ph["walk"]["retries"], ph["walk"]["freezes"] - 1)

                send(t, "ping")
                expect_line(t, "pong", "the target was thawed after the walk")
                self.assertEqual(t.quit(), 0, "target exits cleanly: %s" % t.proc.stderr.read())
        self.for_each_interp(body)
