"""GC lists in the states a stopped thread leaves them in, and in states none can (corruption).

The target (tests/targets/gc_surgery.py) is idle: one thread blocked reading stdin, so nothing in
it links, unlinks or collects while the test edits its lists through /proc/PID/mem, runs pyheap,
and puts every word back before the target goes on.

  * half-linked: the young list's last node links to X (an untracked dict), X's prev link names
    that node, X's own next link is still 0 and the head's prev link still names the old last
    node: the state _PyObject_GC_TRACK leaves after its first two stores (lib/walk/gclist.c). A
    frozen walk reads through it at the first attempt (--retry-for 0): exit 0, one node read
    through, X on the list. Before, this was exit 10 "GC list ... does not close".
  * broken twice: in three consecutive nodes a0 -> a1 -> a2, a0's next and a2's prev are 0. No
    stopped thread leaves that: the frozen walk looks again until --retry-for runs out, sees
    the same break every time and says the heap looks corrupt (exit 10, one line naming both
    breaks). --no-freeze cuts the list there and prints the table with a Partial line.
"""
import json
import struct

import common

EXIT_INCONSISTENT = 10
MASK = ~3 & 0xFFFFFFFFFFFFFFFF


class Mem:
    """Words of the target's memory, read and written through /proc/PID/mem; every write is
    undone by restore()."""

    def __init__(self, pid):
        self.f = open("/proc/%d/mem" % pid, "r+b", buffering=0)
        self.saved = []

    def read(self, addr, fmt="<Q"):
        self.f.seek(addr)
        return struct.unpack(fmt, self.f.read(struct.calcsize(fmt)))[0]

    def write(self, addr, value):
        self.saved.append((addr, self.read(addr)))
        self.f.seek(addr)
        self.f.write(struct.pack("<Q", value))

    def restore(self):
        for addr, value in reversed(self.saved):
            self.f.seek(addr)
            self.f.write(struct.pack("<Q", value))
        self.saved = []
        self.f.close()


def young_head(mem, rep):
    """The young list's head: the node after the target's last list whose int after the
    PyGC_Head is the target's unusual threshold (struct gc_generation)."""
    node = rep["last"]
    for _ in range(10000):
        node = mem.read(node) & MASK
        if mem.read(node + 16, "<i") == rep["threshold"]:
            return node
    raise AssertionError("no GC generation head within 10000 nodes of the last list")


class GcListTest(common.InterpTestCase):

    def check_half_linked(self, interp):
        with common.Target(interp, "gc_surgery.py") as t:
            rep = t.report
            mem = Mem(t.pid)
            try:
                head, x = young_head(mem, rep), rep["x"]
                last = mem.read(head + 8) & MASK
                self.assertEqual(mem.read(last) & MASK, head, "the young list's last node")
                self.assertEqual(mem.read(x), 0, "X is untracked")
                mem.write(last, x | (mem.read(last) & 3))          # last->next = X
                mem.write(x + 8, last | (mem.read(x + 8) & 3))     # X->prev = last
                rc, out, err = common.run_pyheap("attach", "--json", "--retry-for", "0", t.pid)
            finally:
                mem.restore()
            self.assertEqual(rc, 0, err)
            ph = json.loads(out)
            self.assertEqual(ph["walk"]["gc_read_through"], 1)
            self.assertEqual(ph["walk"]["retries"], 0)
            self.assertEqual(t.quit(), 0, "the target's lists are whole again")

    def check_broken_twice(self, interp):
        with common.Target(interp, "gc_surgery.py") as t:
            a0, a1, a2 = t.report["chain"]
            mem = Mem(t.pid)
            try:
                self.assertEqual(mem.read(a0) & MASK, a1, "a0 -> a1")
                self.assertEqual(mem.read(a1) & MASK, a2, "a1 -> a2")
                self.assertEqual(mem.read(a2 + 8) & MASK, a1, "a2 <- a1")
                mem.write(a0, 0)
                mem.write(a2 + 8, 0)
                rc, out, err = common.run_pyheap("attach", "--retry-for", "0.3", t.pid)
                rc_nf, out_nf, err_nf = common.run_pyheap("attach", "--no-freeze", t.pid)
            finally:
                mem.restore()
            self.assertEqual(rc, EXIT_INCONSISTENT, err)
            self.assertEqual(out, "")
            lines = err.strip().splitlines()
            self.assertEqual(len(lines), 1, err)
            self.assertIn("the heap looks corrupt", lines[0])
            self.assertIn("walking forward, 0x%x links to 0" % a0, lines[0])
            self.assertIn("walking back, 0x%x links to 0" % a2, lines[0])
            self.assertEqual(rc_nf, 0, err_nf)
            self.assertRegex(out_nf, r"\nPartial: read while the target ran, 1 GC list was cut "
                                     r"where it changed: \d+ objects were found only through "
                                     r"references")
            self.assertEqual(t.quit(), 0, "the target's lists are whole again")

    def test_half_linked_node_is_read_through(self):
        self.for_each_interp(self.check_half_linked, include_containers=False)

    def test_broken_list_frozen_and_running(self):
        self.for_each_interp(self.check_broken_twice, include_containers=False)
