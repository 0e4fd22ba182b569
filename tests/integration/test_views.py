"""pyheap attach --by size|rcs|via|module|id against what the target reports about itself.

The target is tests/targets/trade_service.py: 72 TradeMessage objects in 18 Batch objects
(__slots__, so sys.getsizeof is their whole size) in the deques of 6 subscribers, and 5
Payload objects (__slots__ too) each held by a dict {"payload": ..., "attempts": i} in a list.

What is exact and why:
  * bysize: a Batch's size is sys.getsizeof's (no dict, no values array), so `--kind app.Batch
    --by size` is one row, heapy's '%9d' of that size, with all 18; over the whole heap that
    row has at least 18 (other objects may share the size) and the Payload size at least 5.
  * byrcs: every Payload is referred to by one dict that is no instance's __dict__ ("dict (no
    owner)"); every Subscriber by a bound method (types.MethodType); a garbage cycle selected
    with --all has no reachable referrer: heapy's `<Nothing>`.
  * byvia: heapy prints each way in as Python's repr of the step: "['payload']" for the dict
    value, '.__self__' for the bound method's field; the deque holding a subscriber's batches is
    "['_queue']" where the subscriber has a dict object (3.8-3.10), '._queue' where it keeps
    its attributes without one (3.11+; see test_paths.py).
  * byvia of dict keys (tests/targets/key_reprs.py): heapy labels a dict value by
    reprlib.repr of its key, and the target reports those labels for keys that take every rule
    of reprlib and of str's repr (quotes, escapes, the cut at 30 characters) and every branch
    of pyheap's (its fast path for short plain text): pyheap's labels equal them exactly.
  * bymodule: module objects are rows by name (`app`), every other object is `~module`.
  * byid: heapy's IdFormat: `Set of N <kind> objects. Total size = S bytes.`, one row per
    object, largest first; instances rendered by address (the addresses are the target's own
    ids), modules and functions by name, bound methods as `<Class at 0xADDR>.name`, a module's
    dict by its owner's name, a mixed set as `kind: rendering` under the title "Brief".
"""
import re

import common


def rows(ph):
    return [(r["kind"], r["count"]) for r in ph["rows"]]


def attach(pid, *args):
    return common.run_pyheap_json("attach", pid, "--rows", "all", *args)


class ViewsTest(common.InterpTestCase):

    def check_views(self, interp):
        with common.Target(interp, "trade_service.py") as t:
            self.check_bysize(t)
            self.check_byrcs(t)
            self.check_byvia(t, interp)
            self.check_bymodule(t)
            self.check_byid(t)
            self.assertEqual(t.quit(), 0)

    def check_bysize(self, t):
        rep = t.report
        nb = rep["counts"]["batches"]
        ph = attach(t.pid, "--kind", "app.Batch", "--by", "size")
        self.assertEqual(ph["header"], "Individual Size")
        self.assertEqual(rows(ph), [("%9d" % rep["batch_size"], nb)])
        whole = {r["kind"]: r["count"] for r in attach(t.pid, "--by", "size")["rows"]}
        self.assertGreaterEqual(whole.get("%9d" % rep["batch_size"], 0), nb)
        self.assertGreaterEqual(whole.get("%9d" % rep["payloads"]["size"], 0),
                                rep["payloads"]["count"])

    def check_byrcs(self, t):
        rep = t.report
        ph = attach(t.pid, "--kind", "app.Payload", "--by", "rcs")
        self.assertEqual(rows(ph), [(rep["payloads"]["referrer_kind"], rep["payloads"]["count"])])
        ph = attach(t.pid, "--kind", "app.Subscriber", "--by", "rcs")
        self.assertEqual(rows(ph), [("types.MethodType", rep["counts"]["subscribers"])])

    def check_byvia(self, t, interp):
        rep = t.report
        ph = attach(t.pid, "--kind", "app.Payload", "--by", "via")
        self.assertEqual(ph["header"], "Referred Via:")
        self.assertEqual(rows(ph), [(repr(rep["payloads"]["via"]), rep["payloads"]["count"])])
        self.assertEqual(rows(attach(t.pid, "--kind", "app.Subscriber", "--by", "via")),
                         [("'.__self__'", rep["counts"]["subscribers"])])
        queue_via = "'._queue'" if interp.minor >= (3, 11) else '"[\'_queue\']"'
        self.assertEqual(rows(attach(t.pid, "--kind", "collections.deque", "--module",
                                     "collections", "--by", "via")).count(
                                         (queue_via, rep["counts"]["subscribers"])), 1)
        rc, out, err = common.run_pyheap("attach", t.pid, "--kind", "app.Payload", "--by", "via")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.splitlines()[2].endswith(" \"['payload']\""), out)

    def check_bymodule(self, t):
        ph = attach(t.pid, "--kind", "module", "--by", "module")
        self.assertEqual(ph["header"], "Module")
        kinds = dict(rows(ph))
        self.assertEqual(kinds.get("app"), 1)
        self.assertNotIn("~module", kinds)
        self.assertEqual(rows(attach(t.pid, "--kind", "app.Payload", "--by", "module")),
                         [("~module", t.report["payloads"]["count"])])

    def check_byid(self, t):
        rep = t.report
        ph = attach(t.pid, "--kind", "app.Batch", "--by", "id")
        self.assertEqual((ph["relation"], ph["header"], ph["set_kind"]), ("id", "Address", "app.Batch"))
        self.assertEqual(sorted(r["address"] for r in ph["rows"]), rep["batch_ids"])
        self.assertEqual(sorted(r["kind"] for r in ph["rows"]), rep["batch_ids"])
        self.assertEqual({r["size"] for r in ph["rows"]}, {rep["batch_size"]})
        names = [r["kind"] for r in attach(t.pid, "--kind", "module", "--by", "id")["rows"]]
        self.assertIn("app", names)
        owners = attach(t.pid, "--kind", "dict of module", "--by", "id")
        self.assertEqual(owners["header"], "Owner Name")
        self.assertIn("app", [r["kind"] for r in owners["rows"]])
        funcs = [r["kind"] for r in attach(t.pid, "--kind", "function", "--by", "id")["rows"]]
        self.assertIn("app.on_data", funcs)
        meths = attach(t.pid, "--kind", "types.MethodType", "--by", "id")
        self.assertEqual(meths["header"], "Type/<Type at address> . method")
        want = sorted("<app.Subscriber at %s>.on_data" % a for a in rep["subscriber_ids"])
        self.assertEqual(sorted(r["kind"] for r in meths["rows"]
                                if r["kind"].startswith("<app.Subscriber")), want)
        mixed = attach(t.pid, "--module", "app", "--by", "id")
        self.assertEqual((mixed["header"], mixed["set_kind"]), ("Brief", "mixed"))
        sizes = [r["size"] for r in mixed["rows"]]
        self.assertEqual(sizes, sorted(sizes, reverse=True))
        self.assertIn("app.Batch: %s" % rep["batch_ids"][0], [r["kind"] for r in mixed["rows"]])
        self.check_byid_text(t)

    def check_byid_text(self, t):
        rep = t.report
        nb = rep["counts"]["batches"]
        rc, out, err = common.run_pyheap("attach", t.pid, "--kind", "app.Batch", "--by", "id",
                                         "--rows", "3")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        size = rep["batch_size"]
        self.assertEqual(lines[0], "Set of %d <app.Batch> objects. Total size = %d bytes."
                         % (nb, nb * size))
        self.assertEqual(lines[1], " Index     Size   %   Cumulative  %   Address")
        for i in range(3):
            pct = "%5.1f" % (100.0 / nb)
            cum = "%5.1f" % ((i + 1) * 100.0 / nb)
            self.assertRegex(lines[2 + i], r"^%6d %8d %s %9d %s 0x[0-9a-f]+$"
                             % (i, size, re.escape(pct), (i + 1) * size, re.escape(cum)))
        # Equal sizes: heapy orders instances by address.
        addrs = [int(l.split()[-1], 16) for l in lines[2:5]]
        self.assertEqual(addrs, sorted(int(a, 16) for a in rep["batch_ids"])[:3])
        self.assertEqual(lines[5], "<%d more rows. Use --rows all (or --rows %d) to view.>"
                         % (nb - 3, nb))

    def test_views(self):
        self.for_each_interp(self.check_views)

    def check_key_reprs(self, interp):
        with common.Target(interp, "key_reprs.py") as t:
            labels = t.report["labels"]
            self.assertEqual(t.report["count"], len(labels))
            ph = attach(t.pid, "--kind", "kr.KeyValue", "--by", "via")
            self.assertEqual(sorted(rows(ph)), sorted((repr(l), 1) for l in labels))
            self.assertEqual(t.quit(), 0)

    def test_key_reprs(self):
        self.for_each_interp(self.check_key_reprs, include_containers=False)

    def check_nothing(self, interp):
        with common.Target(interp, "path_steps.py", ["garbage", "slot"]) as t:
            kind = t.report["classes"]["garbage"]
            ph = attach(t.pid, "--all", "--kind", kind, "--by", "rcs")
            self.assertEqual(rows(ph), [("<Nothing>", 1)])
            ph = attach(t.pid, "--all", "--kind", kind, "--by", "via")
            self.assertEqual(rows(ph), [("<Nothing>", 1)])
            self.assertEqual(t.quit(), 0)

    def test_nothing(self):
        self.for_each_interp(self.check_nothing, include_containers=False)
