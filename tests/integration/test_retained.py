"""Retained sizes (issue 17): attach --retained, top, suspects, dominators, collapsed stacks and
the flame graph, against targets that know their own ownership structure.

tests/targets/owned_heap.py builds a cache dict holding N blobs of known sizes (each blob
holding its own bytes payload) and one blob held from two lists; it reports what each of them
must retain (sys.getsizeof sums over what it alone holds). Every figure is compared exactly:
pyheap's sizes are sys.getsizeof's for these types on every version, and nothing outside the
cache refers to its keys, blobs or payloads. tests/targets/trade_service.py with a large pile
(30,000 messages) must give the hub's `_unreads` as the first suspect, accumulating
app.TradeMessage objects held through the subscribers' deques.
"""
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET

import common

PILE = ["batches=50", "per_batch=100"]


def managed(interp):
    return interp.minor >= (3, 11)


class RetainedTest(common.InterpTestCase):

    def json_of(self, *args):
        return common.run_pyheap_json(*args)

    def check_attach(self, t, rep):
        doc = self.json_of("attach", t.pid, "--retained", "--rows", "all")
        rows = {r["kind"]: r for r in doc["rows"]}
        blob = rows["own.Blob"]
        want = rep["blob_kind"]
        self.assertEqual((blob["count"], blob["size"], blob["retained"]),
                         (want["count"], want["size"], want["retained"]))
        self.assertGreater(doc["heap_size"], rep["cache"]["retained"])
        self.assertAlmostEqual(blob["retained_percent"], 100.0 * want["retained"] / doc["heap_size"],
                               places=2)
        # Rows stay in heapy's order unless --sort retained.
        sizes = [r["size"] for r in doc["rows"]]
        self.assertEqual(sizes, sorted(sizes, reverse=True))
        by_ret = self.json_of("attach", t.pid, "--sort", "retained", "--rows", "all")
        ret = [r["retained"] for r in by_ret["rows"]]
        self.assertEqual(ret, sorted(ret, reverse=True))
        # The text table: heapy's columns, then Retained and its share, then the kind.
        rc, out, err = common.run_pyheap("attach", t.pid, "--retained", "--kind", "own.Blob")
        self.assertEqual(rc, 0, err)
        self.assertIn("  Retained   % Kind (class / dict of class)", out)
        self.assertRegex(out, r"\n     0 +%d +100 +%d +100 +%d +100 +%d +\d+ own\.Blob\n" % (
            want["count"], want["size"], want["size"], want["retained"]))

    def check_top(self, t, rep):
        top = self.json_of("top", t.pid, "--kind", "own.Blob", "-n", "3")
        self.assertEqual(top["schema"], "pyheap.top/1")
        got = [(r["address"], r["size"], r["retained"], r["path"], r["kind"]) for r in top["rows"]]
        want = [(b["address"], b["size"], b["retained"], b["path"], "own.Blob")
                for b in rep["blobs"]]
        self.assertEqual(got, want)
        # The cache, the shared blob and the two lists, picked out by size and address.
        for name in ("cache", "left", "right"):
            size = rep[name]["size"]
            doc = self.json_of("top", t.pid, "--min-size", size, "--max-size", size, "-n", "all")
            row = [r for r in doc["rows"] if r["address"] == rep[name]["address"]]
            self.assertEqual(len(row), 1, name)
            self.assertEqual(row[0]["retained"], rep[name]["retained"], name)
            if name == "cache":
                self.assertEqual(row[0]["path"], rep["cache"]["path"])
                self.assertEqual(row[0]["kind"], "dict (no owner)")
        doc = self.json_of("top", t.pid, "--kind", "own.Blob", "-n", "all")
        shared = [r for r in doc["rows"] if r["address"] == rep["shared"]["address"]]
        self.assertEqual([(r["retained"], r["path"]) for r in shared],
                         [(rep["shared"]["retained"], rep["shared"]["path"])])
        self.assertEqual(len(doc["rows"]), rep["blob_kind"]["count"])

    def check_suspects(self, t, rep):
        doc = self.json_of("suspects", t.pid)
        self.assertEqual(doc["schema"], "pyheap.suspects/1")
        cache = [s for s in doc["suspects"] if s["address"] == rep["cache"]["address"]]
        self.assertEqual(len(cache), 1, doc["suspects"])
        s = cache[0]
        self.assertEqual((s["group"], s["kind"], s["retained"], s["path"]),
                         (False, "dict (no owner)", rep["cache"]["retained"], rep["cache"]["path"]))
        self.assertEqual(s["unit"]["kind"], "own.Blob")
        self.assertEqual(s["unit"]["count"], rep["count"])
        self.assertEqual(s["holder"], {"kind": "dict (no owner)", "count": 1})
        rc, out, err = common.run_pyheap("suspects", t.pid)
        self.assertEqual(rc, 0, err)
        self.assertIn("One dict (no owner) reached as %s retains %s bytes" % (
            rep["cache"]["path"], format(rep["cache"]["retained"], ",")), out)
        self.assertIn("in %s own.Blob held by 1 dict (no owner)." % format(rep["count"], ","), out)

    def check_dominators(self, t, rep):
        doc = self.json_of("dominators", t.pid, "--kind", "own.Blob")
        self.assertEqual(doc["schema"], "pyheap.dominators/1")
        self.assertEqual(doc["retained"], rep["blob_kind"]["retained"])
        self.assertEqual(doc["chain"][-1]["path"], rep["owner_dict_path"])
        self.assertEqual(doc["held_by"], [
            {"kind": "dict (no owner)", "objects": rep["count"], "holders": 1},
            {"kind": "dict of module", "objects": 1, "holders": 1}])
        # One object: its whole dominator path, down to itself. The largest payload's size is
        # its blob's retained size less the blob's own.
        big = rep["blobs"][0]["retained"] - rep["blobs"][0]["size"]
        one = self.json_of("dominators", t.pid, "--kind", "bytes", "--min-size", big,
                           "--max-size", big)
        self.assertEqual(one["selection_count"], 1)
        self.assertEqual([c["kind"] for c in one["chain"][-3:]],
                         ["dict (no owner)", "own.Blob", "bytes"])
        self.assertEqual([c["path"] for c in one["chain"][-3:-1]],
                         [rep["cache"]["path"], rep["blobs"][0]["path"]])
        self.assertEqual(one["chain"][-2]["retained"], rep["blobs"][0]["retained"])

    def check_pictures(self, t, rep):
        heap = self.json_of("top", t.pid, "-n", "0")["heap_size"]
        rc, out, err = common.run_pyheap("top", t.pid, "--format", "collapsed")
        self.assertEqual(rc, 0, err)
        total = payloads = 0
        for line in out.splitlines():
            stack, n = line.rsplit(" ", 1)
            total += int(n)
            if stack.endswith(";own.Blob;bytes"):
                payloads += int(n)
        self.assertEqual(total, heap)
        self.assertEqual(payloads, rep["payload_total"])
        with tempfile.TemporaryDirectory() as d:
            svg = os.path.join(d, "heap.svg")
            rc, out, err = common.run_pyheap("flame", t.pid, "-o", svg)
            self.assertEqual((rc, out), (0, ""), err)
            root = ET.parse(svg).getroot()
            titles = [e.text for e in root.iter("{http://www.w3.org/2000/svg}title")]
            self.assertTrue(any(x.startswith("all: %d bytes" % heap) for x in titles), titles[:3])
            self.assertTrue(any(x.startswith("own.Blob: ") for x in titles))

    def check_file(self, t):
        """A snapshot file gives every view the same figures as the live heap."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "heap.pyheap")
            rc, _, err = common.run_pyheap("snapshot", t.pid, "-o", path)
            self.assertEqual(rc, 0, err)
            for args in (["suspects"], ["top", "-n", "5"], ["dominators", "--kind", "own.Blob"],
                         ["attach", "--retained", "--rows", "all"]):
                live = self.json_of(*(args + [t.pid]))
                saved = self.json_of(*(args + [path]))
                for doc in (live, saved):
                    doc.pop("walk", None)
                    doc.pop("dominator_tree", None)
                    doc.pop("time", None)  # when the heap was read: the file keeps its own
                self.assertEqual(saved, live, args)
            rc, out, err = common.run_pyheap("snapshot", t.pid, "--format", "collapsed")
            self.assertEqual(rc, 0, err)
            rc, out2, err = common.run_pyheap("top", path, "--format", "collapsed")
            self.assertEqual((rc, out2), (0, out), err)

    def check_owned(self, interp):
        with common.Target(interp, "owned_heap.py") as t:
            rep = t.report
            self.check_attach(t, rep)
            self.check_top(t, rep)
            self.check_suspects(t, rep)
            self.check_dominators(t, rep)
            self.check_pictures(t, rep)
            self.check_file(t)
            self.assertEqual(t.quit(), 0, "the heap changed while pyheap looked")

    def test_owned_heap(self):
        self.for_each_interp(self.check_owned, include_containers=False)

    def check_trade_suspects(self, interp):
        with common.Target(interp, "trade_service.py", PILE) as t:
            n = t.report["counts"]["messages"]
            doc = self.json_of("suspects", t.pid)
            first = doc["suspects"][0]
            hub = "Root.i0_modules['app'].__dict__['_hub']"
            self.assertEqual(first["path"], hub + ("._unreads" if managed(interp)
                                                    else ".__dict__['_unreads']"))
            self.assertEqual(first["unit"]["kind"], "app.TradeMessage")
            self.assertEqual(first["unit"]["count"], n)
            self.assertEqual(first["holder"]["kind"], "list")
            chain = [c["kind"] for c in first["chain"]]
            self.assertIn("collections.deque", chain)
            self.assertEqual(chain[-1], "app.TradeMessage")
            rc, out, err = common.run_pyheap("suspects", t.pid)
            self.assertEqual(rc, 0, err)
            self.assertIn("Suspect 1: One dict (no owner) reached as %s retains" % first["path"], out)
            self.assertIn("in %s app.TradeMessage held by" % format(n, ","), out)
            self.assertEqual(t.quit(), 0)

    def test_trade_service_suspects(self):
        self.for_each_interp(self.check_trade_suspects, include_containers=False)

    def test_usage_errors(self):
        rc, _, err = common.run_pyheap("top", "--format", "svg", "1")
        self.assertEqual(rc, 2, err)
        rc, _, err = common.run_pyheap("suspects", "--threshold", "120", "1")
        self.assertEqual(rc, 2, err)
        rc, _, err = common.run_pyheap("attach", "--sort", "count", "1")
        self.assertEqual(rc, 2, err)
        rc, _, err = common.run_pyheap("path", "-o", "x", "--kind", "x", "1")
        self.assertEqual(rc, 2, err)
        self.assertRegex(err, r"^pyheap: '-o' is not an option of 'path'")
        rc, _, err = common.run_pyheap("snapshot", "--format", "text", "1")
        self.assertEqual(rc, 2, err)

    def test_retained_by_id_and_bad_output(self):
        interp = common.interpreters(include_containers=False)[0]
        with common.Target(interp, "owned_heap.py", ["count=10"]) as t:
            rc, _, err = common.run_pyheap("attach", t.pid, "--retained", "--by", "id")
            self.assertEqual(rc, 2, err)
            rc, _, err = common.run_pyheap("flame", t.pid, "-o", "/nonexistent/dir/x.svg")
            self.assertEqual(rc, 12, err)
            self.assertEqual(len(err.splitlines()), 1, err)
            self.assertEqual(t.quit(), 0)
