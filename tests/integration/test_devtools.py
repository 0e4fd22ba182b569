"""The Chrome DevTools heap snapshot (`--format heapsnapshot`) loads in DevTools' own loader and
DevTools computes the same retained sizes as pyheap.

tests/devtools/load_heapsnapshot.mjs runs DevTools' heap snapshot worker (HeapSnapshotLoader,
JSHeapSnapshot, its Lengauer-Tarjan dominators) from the chrome-devtools-frontend package under
Node.js; tests/devtools/setup.sh installs both in PYHEAP_DEVTOOLS (default
/var/cache/pyheap/devtools). Without them the test is skipped, saying so, unless
PYHEAP_REQUIRE_DEVTOOLS=1 (set by .ci/run), which makes their absence a failure.

What must agree, on every interpreter, for tests/targets/owned_heap.py: the multiset of
(kind, own size, retained size) over every reachable object, DevTools' nodes against
`pyheap top -n all --json` (the file written by `pyheap snapshot --format heapsnapshot`, and
`top --format heapsnapshot` writes the same bytes); the root's retained size against the reachable heap; the count of
each kind in DevTools' Summary against pyheap's partition; and the cache's retained size
against the target's own figure.
"""
import collections
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import common

DEVTOOLS = os.environ.get("PYHEAP_DEVTOOLS", "/var/cache/pyheap/devtools")
LOADER = os.path.join(common.ROOT, "tests", "devtools", "load_heapsnapshot.mjs")


def devtools_present():
    return (shutil.which("node") is not None and
            os.path.isdir(os.path.join(DEVTOOLS, "node_modules", "chrome-devtools-frontend")) and
            os.path.isdir(os.path.join(DEVTOOLS, "node_modules", "typescript")))


class DevToolsTest(common.InterpTestCase):

    def setUp(self):
        if devtools_present():
            return
        if os.environ.get("PYHEAP_REQUIRE_DEVTOOLS") == "1":
            self.fail("PYHEAP_REQUIRE_DEVTOOLS=1 but no DevTools front end in %s "
                      "(sh tests/devtools/setup.sh)" % DEVTOOLS)
        self.skipTest("no DevTools front end in %s (sh tests/devtools/setup.sh)" % DEVTOOLS)

    def load(self, path):
        p = subprocess.run(["node", LOADER, DEVTOOLS, path], capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        return json.loads(p.stdout)

    def check(self, interp):
        with common.Target(interp, "owned_heap.py") as t, tempfile.TemporaryDirectory() as d:
            rep = t.report
            path = os.path.join(d, "heap.heapsnapshot")
            rc, out, err = common.run_pyheap("snapshot", t.pid, "--format", "heapsnapshot",
                                             "-o", path)
            self.assertEqual((rc, out), (0, ""), err)
            dt = self.load(path)
            top = common.run_pyheap_json("top", t.pid, "-n", "all")
            ours = collections.Counter((r["kind"], r["size"], r["retained"]) for r in top["rows"])
            theirs = collections.Counter(tuple(n[:3]) for n in dt["nodes"])
            self.assertEqual(len(dt["nodes"]), len(top["rows"]))
            self.assertEqual(theirs - ours, collections.Counter(), "DevTools has these, pyheap not")
            self.assertEqual(ours - theirs, collections.Counter(), "pyheap has these, DevTools not")
            self.assertEqual(dt["root_retained"], top["heap_size"])
            self.assertIn(("dict (no owner)", rep["cache"]["size"], rep["cache"]["retained"]),
                          theirs)
            part = common.run_pyheap_json("attach", t.pid, "--rows", "all")
            self.assertEqual({k: v[0] for k, v in dt["summary"].items()},
                             {r["kind"]: r["count"] for r in part["rows"]})
            # top --format heapsnapshot writes the same file.
            other = os.path.join(d, "top.heapsnapshot")
            rc, out, err = common.run_pyheap("top", t.pid, "--format", "heapsnapshot", "-o", other)
            self.assertEqual((rc, out), (0, ""), err)
            with open(path, "rb") as a, open(other, "rb") as b:
                self.assertEqual(a.read(), b.read())
            self.assertEqual(t.quit(), 0)

    def test_devtools_agrees(self):
        self.for_each_interp(self.check, include_containers=False)


if __name__ == "__main__":
    unittest.main()
