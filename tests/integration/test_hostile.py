"""pyheap against a heap corrupted on purpose (tests/targets/hostile_heap.py), on every interpreter.

The target damages objects it holds (sizes of 2**40, item and key tables at unmapped addresses,
a type pointer at plain bytes, a class whose basic size says 1 GiB, a tuple that runs past its
end) and never touches them again. pyheap runs under ASan/UBSan here (any report is exit 99):
  * it finishes with status 0, marks the damaged containers partial, counts the references that
    lead nowhere, and still counts the 101 intact HH_Good instances exactly; the drill-downs
    (a path, referrers by via) and --copy work on the same heap;
  * with a GC list that never returns to its head (`loop`), it stops with status 10 and one
    line naming the GC list, promptly (the subprocess timeout is the hang check);
  * either way the target is left running: it answers a ping afterwards.
"""
import json

import common

TIMEOUT = 120  # seconds: a walk of this heap takes well under one; more is a hang


def answers(t):
    return t.command("ping") == "pong"


class HostileHeapTest(common.InterpTestCase):

    def check_damaged(self, interp):
        with common.Target(interp, "hostile_heap.py") as t:
            rep = t.report
            rc, out, err = common.run_pyheap("attach", t.pid, "--json", "--all", "--rows", "all",
                                             timeout=TIMEOUT)
            self.assertEqual(rc, 0, err)
            ph = json.loads(out)
            rows = {r["kind"]: r for r in ph["rows"]}
            self.assertEqual(rows[rep["good"]]["count"], rep["good_count"])
            # list_size, list_items, dict_keys, set_mask at least (the tuple reads past its end
            # into mapped memory: its extra "items" are bad pointers, not a fault).
            self.assertGreaterEqual(ph["walk"]["partial"], 4)
            self.assertGreater(ph["walk"]["bad_pointers"], 0)
            rc, out, err = common.run_pyheap("attach", t.pid, timeout=TIMEOUT)
            self.assertEqual(rc, 0, err)
            self.assertRegex(out.splitlines()[-1],
                             r"^Partial: \d+ objects could not be decoded whole ")
            for args in (["path", "--kind", rep["good"]],
                         ["attach", "--kind", "str", "--referrers", "--by", "via"],
                         ["attach", "--all", "--copy"]):
                rc, out, err = common.run_pyheap(*(args + [t.pid]), timeout=TIMEOUT)
                self.assertEqual(rc, 0, "%s: %s" % (" ".join(args), err))
            self.assertTrue(answers(t), "target still running")

    def check_loop(self, interp):
        with common.Target(interp, "hostile_heap.py", ["loop"]) as t:
            rc, out, err = common.run_pyheap("attach", t.pid, timeout=TIMEOUT)
            self.assertEqual(rc, 10, err)
            lines = err.strip().splitlines()
            self.assertEqual(len(lines), 1, err)
            self.assertIn("GC list", lines[0])
            self.assertTrue(answers(t), "target still running")

    def test_damaged_objects(self):
        self.for_each_interp(self.check_damaged, include_containers=False)

    def test_gc_list_loop(self):
        self.for_each_interp(self.check_loop, include_containers=False)
