"""pyheap path: shortest paths from the roots, written as heapy writes them (`.sp`).

The seed's second story (tests/targets/trade_service.py): TradeMessage objects pile up in
deques of batches owned by the subscribers whose bound methods a hub keeps in `_unreads`. pyheap
must print the path through the hub, the bound method's __self__, the _queue deque and the
batch's `messages` list, and byrcs of the messages must show `list`.

What is exact and why:
  * The first path printed is the nearest message in the search's order: the search goes from
    the roots breadth first and, among objects at the same distance, in the order containers
    hold them, so it is the first message of the first batch of the first subscriber of the
    first key: `[('DataSource', 'A')][0].__self__..._queue[0].messages[0]`.
  * How an instance attribute reads depends on where Python keeps it. On 3.8-3.10 every
    instance of a plain class has a dict object, reached from the instance as `.__dict__`, and
    the attribute is that dict's value `['attr']`: `.__dict__['_unreads']`. On 3.11+ an instance
    whose __dict__ was never asked for keeps its attributes in a values array (3.11, 3.12) or
    inline (3.13+) and no dict object exists; pyheap reads the attribute straight from the
    instance: `._unreads`. Once something asks for __dict__ (vars(), heapy itself) the dict
    exists on every version and the path goes through it again. The target's `materialise`
    argument does that, and then the path is the issue's, word for word, on every version.
    __slots__ attributes are `.name` everywhere (the batch's `.messages`).
  * tests/targets/path_steps.py builds one structure per kind of step, each ending at an object
    of its own class, so each has exactly one shortest path, known in advance.
  * The target says where each message is (`where ADDR`), computed from its own structure, and
    the path pyheap printed for an address must be the target's.
"""
import json
import re

import common

HUB_MANAGED = ("Root.i0_modules['app'].__dict__['_hub']._unreads[('DataSource', 'A')][0]"
               ".__self__._queue[0].messages[0]")
HUB_DICTS = ("Root.i0_modules['app'].__dict__['_hub'].__dict__['_unreads'][('DataSource', 'A')][0]"
             ".__self__.__dict__['_queue'][0].messages[0]")

# One line per path, heapy's '%2d: %s'.
PATH_LINE = re.compile(r"^ ?\d+: Root\.\S")


def managed(interp, materialised=False):
    """True where pyheap reads instance attributes without a dict object (see the docstring)."""
    return interp.minor >= (3, 11) and not materialised


class PathTest(common.InterpTestCase):

    def check_trade_service(self, interp):
        with common.Target(interp, "trade_service.py") as t:
            rep = t.report
            n = rep["counts"]["messages"]
            rc, out, err = common.run_pyheap("path", t.pid, "--kind", "app.TradeMessage",
                                             "--count", "1")
            self.assertEqual(rc, 0, err)
            expected = HUB_MANAGED if managed(interp) else HUB_DICTS
            self.assertEqual(out.splitlines(), [" 0: " + expected,
                                                "<... %d more paths ...>" % (n - 1)])
            for step in ("['_hub']", "_unreads", "[('DataSource', 'A')]", ".__self__",
                         "_queue", ".messages["):
                self.assertIn(step, out)
            self.check_paths_json(t, n, interp)
            self.check_message_rcs(t, n)
            self.assertEqual(t.quit(), 0, "the pile changed while pyheap looked")

    def check_paths_json(self, t, n, interp):
        ph = common.run_pyheap_json("path", t.pid, "--kind", "app.TradeMessage", "--count", "5")
        self.assertEqual(ph["schema"], "pyheap.paths/1")
        self.assertEqual(ph["pid"], t.pid)
        self.assertEqual((ph["selection_count"], ph["paths_total"], ph["more"], ph["unreachable"]),
                         (n, n, n - 5, 0))
        self.assertEqual([p["index"] for p in ph["paths"]], [0, 1, 2, 3, 4])
        for p in ph["paths"]:
            self.assertEqual(p["target_kind"], "app.TradeMessage")
            self.assertEqual(p["root"], "i0_modules")
            self.assertEqual(p["path"], "Root." + p["root"] + "".join(p["steps"]))
            self.assertEqual(p["length"], len(p["steps"]))
            reply = t.command("where %s" % p["target_address"])
            self.assertTrue(reply.startswith("PATHS "), reply)
            managed_path, dict_path = json.loads(reply[len("PATHS "):])
            self.assertEqual(p["path"], managed_path if managed(interp) else dict_path)
        # Equally near messages come in their containers' order: messages[0] .. [3], then the
        # next batch.
        self.assertEqual([p["path"][-12:] for p in ph["paths"][:4]],
                         [".messages[%d]" % k for k in range(4)])
        self.assertTrue(ph["paths"][4]["path"].endswith("._queue[1].messages[0]")
                        or ph["paths"][4]["path"].endswith("['_queue'][1].messages[0]"))

    def check_message_rcs(self, t, n):
        rcs = common.run_pyheap_json("attach", t.pid, "--kind", "app.TradeMessage", "--by", "rcs")
        self.assertEqual([(r["kind"], r["count"]) for r in rcs["rows"]],
                         [(t.report["referrer_kind"], n)])
        self.assertEqual(rcs["header"], "Referrers by Kind (class / dict of class)")

    def test_trade_service(self):
        self.for_each_interp(self.check_trade_service)

    def check_materialised(self, interp):
        with common.Target(interp, "trade_service.py", ["materialise"]) as t:
            rc, out, err = common.run_pyheap("path", t.pid, "--kind", "app.TradeMessage")
            self.assertEqual(rc, 0, err)
            self.assertEqual(out.splitlines()[0], " 0: " + HUB_DICTS)
            self.assertEqual(t.quit(), 0)

    def test_trade_service_materialised(self):
        self.for_each_interp(self.check_materialised, include_containers=False)

    def expected_steps(self, interp, tid):
        """What pyheap must print for each case of path_steps.py (see its docstring)."""
        mod = "Root.i0_modules['pst'].__dict__"
        return {
            "slot": mod + "['slotted'].item",  # __slots__: an attribute on every version
            "attr": mod + ("['owner'].item" if managed(interp) else "['owner'].__dict__['item']"),
            "attrdict": mod + "['dictowner'].__dict__['item']",  # vars() made the dict
            "dictkey": mod + "['registry'].keys()[0]",
            "tuplekey": mod + "['table'][('DataSource', 'B')]",
            "cell": mod + "['getter'].__closure__[0].cell_contents",
            "setmember": "list(" + mod + "['bag'])[0]",
            # The main thread's innermost Python frame, blocked in input(): thread id as
            # threading.get_ident() gives it, frame 0.
            "local": "Root.i0_t%d_f0.f_locals['mine']" % tid,
            # A suspended generator's value stack: saved at the yield on every version; up to
            # 3.10 it lives in the generator's frame object.
            "genstack": mod + ("['gen']->f_valuestack[0]" if interp.minor >= (3, 11)
                               else "['gen'].gi_frame->f_valuestack[0]"),
            # The value stack of the main thread's second frame, in a call to a Python function.
            # Only 3.12+ tell a saved stack pointer from a stale one (a running frame's stacktop
            # is -1; 3.11 and <= 3.10 keep the last saved value, which can name popped objects),
            # so before 3.12 pyheap does not read it and the instance is reachable from nothing.
            "stack": ("Root.i0_t%d_f1->f_valuestack[0]" % tid if interp.minor >= (3, 12)
                      else None),
            # asyncio's C Future and Task, decoded from lib/walk/known.c's tables: a field with
            # a Python getter by its attribute name, one without by its C name.
            "future": mod + "['fut']._result",
            "taskcb": mod + "['task']->task_callback0",
            "lru": mod + "['cached']->cache[7]",
        }

    def check_steps(self, interp):
        with common.Target(interp, "path_steps.py") as t:
            rep = t.report
            for case, expected in sorted(self.expected_steps(interp, rep["thread_ident"]).items()):
                with self.subTest(case=case):
                    rc, out, err = common.run_pyheap("path", t.pid, "--kind", rep["classes"][case])
                    self.assertEqual(rc, 0, err)
                    self.assertEqual(out.splitlines(),
                                     [" 0: " + expected] if expected
                                     else ["<No paths: the selection is empty.>"])
            self.check_unreachable(t)
            self.check_local_views(t, interp)
            self.assertEqual(t.quit(), 0)

    def check_unreachable(self, t):
        """A garbage cycle is selected only with --all, and then has no path."""
        kind = t.report["classes"]["garbage"]
        rc, out, err = common.run_pyheap("path", t.pid, "--kind", kind)
        self.assertEqual((rc, out.splitlines()), (0, ["<No paths: the selection is empty.>"]), err)
        rc, out, err = common.run_pyheap("path", t.pid, "--kind", kind, "--all")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(),
                         ["<1 object of the selection is not reachable from the roots: no path.>"])
        ph = common.run_pyheap_json("path", t.pid, "--kind", kind, "--all")
        self.assertEqual((ph["selection_count"], ph["paths"], ph["unreachable"]), (1, [], 1))

    def check_local_views(self, t, interp):
        """A frame's local is referred to by the frame: heapy's via and referrer kind."""
        kind = t.report["classes"]["local"]
        via = common.run_pyheap_json("attach", t.pid, "--kind", kind, "--by", "via")
        self.assertEqual([r["kind"] for r in via["rows"]], ['".f_locals[\'mine\']"'])
        rcs = common.run_pyheap_json("attach", t.pid, "--kind", kind, "--by", "rcs")
        self.assertEqual([r["kind"] for r in rcs["rows"]], ["types.FrameType"])

    def test_step_kinds(self):
        self.for_each_interp(self.check_steps)


class PathTextTest(common.InterpTestCase):
    """The text is heapy's: '%2d: ' + path, then '<... N more paths ...>'."""

    def test_numbering(self):
        interp = common.interpreters(include_containers=False)[0]
        with common.Target(interp, "trade_service.py") as t:
            n = t.report["counts"]["messages"]
            rc, out, err = common.run_pyheap("path", t.pid, "--kind", "app.TradeMessage",
                                             "--count", "12")
            self.assertEqual(rc, 0, err)
            lines = out.splitlines()
            self.assertEqual(len(lines), 13)
            for i, line in enumerate(lines[:12]):
                self.assertTrue(line.startswith("%2d: Root." % i), line)
                self.assertRegex(line, PATH_LINE)
            self.assertEqual(lines[12], "<... %d more paths ...>" % (n - 12))
            rc, out, err = common.run_pyheap("path", t.pid, "--kind", "app.TradeMessage",
                                             "--count", str(n))
            self.assertEqual((rc, len(out.splitlines())), (0, n), err)
            t.quit()
