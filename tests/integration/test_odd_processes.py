"""Processes and command lines off the usual path, each once a wrong answer or a hang.

  * A process whose main thread called pthread_exit while other threads run on
    (tests/targets/leader_exit.py): the kernel shows its main thread as a zombie and its maps as
    empty. pyheap reads it through a live thread and reports the process id it was given; it
    used to say "no such process ... (it is a zombie)", exit 3.
"""
import json
import time

import common

ZOMBIE_TIMEOUT = 30  # safety net: the kernel makes the exited main thread a zombie at once


def stat_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


class OddProcessTest(common.InterpTestCase):

    def check_leader_exited(self, interp):
        with common.Target(interp, "leader_exit.py") as t:
            t.proc.stdin.write("exit-main\n")
            t.proc.stdin.flush()
            deadline = time.monotonic() + ZOMBIE_TIMEOUT
            while stat_state(t.pid) != "Z":  # a kernel state change, not a timing guess
                self.assertLess(time.monotonic(), deadline, "the main thread did not exit")
                time.sleep(0.01)
            rc, out, err = common.run_pyheap("attach", "--json", t.pid)
            self.assertEqual(rc, 0, err)
            ph = json.loads(out)
            self.assertEqual(ph["pid"], t.pid)
            self.assertTrue(ph["rows"])
            self.assertEqual(t.command("ping"), "pong")
            self.assertEqual(t.quit(), 0)

    def test_main_thread_exited(self):
        self.for_each_interp(self.check_leader_exited, include_containers=False)
