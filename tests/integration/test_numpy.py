"""numpy arrays (tests/targets/numpy_heap.py) against the target's own sys.getsizeof, per array.

Runs on every interpreter that can import numpy: Debian's 3.11 with python3-numpy 1.24 (`make
deps` installs it, so it is required) and sid's 3.14 and 3.15 with numpy 2.x (in the sid root).

What is exact and why:
  * Each array's individual size equals sys.getsizeof in the target (basic size, a dimension
    and a stride per axis, the data when the array owns it), found by its address (--by id).
    Instances of the Python subclass NH_Sub on 3.14+ also carry inline attribute storage that
    getsizeof does not count (see test_attach): there, at least getsizeof.
  * The instances held only by an object array are reachable: the default view (reachable
    objects only) counts all of them, and a shortest path ends in the array's item.
"""
import common


def sizes_by_address(pid, kind):
    ph = common.run_pyheap_json("attach", pid, "--all", "--kind", kind, "--by", "id",
                                "--rows", "all")
    return {int(r["address"], 16): r["size"] for r in ph["rows"]}


class NumpyTest(common.InterpTestCase):

    def check_arrays(self, interp):
        with common.Target(interp, "numpy_heap.py") as t:
            rep = t.report
            found = {}
            for kind in sorted({a["type"] for a in rep["arrays"]}):
                found.update(sizes_by_address(t.pid, kind))
            for a in rep["arrays"]:
                what = "%s ndim %d owndata %s (numpy %s)" % (a["type"], a["ndim"], a["owndata"],
                                                             rep["numpy"])
                self.assertIn(a["id"], found, "array not found: " + what)
                if a["type"] != "numpy.ndarray" and rep["minor"] >= 14:
                    self.assertGreaterEqual(found[a["id"]], a["size"], what)
                else:
                    self.assertEqual(found[a["id"]], a["size"], what)
            only = rep["only_in_array"]
            rows = {r["kind"]: r for r in common.run_pyheap_json("attach", t.pid, "--rows", "all")["rows"]}
            self.assertEqual(rows.get(only["class"], {}).get("count"), only["count"],
                             "objects held only by an object array, reachable")
            rc, out, err = common.run_pyheap("path", "--kind", only["class"], t.pid)
            self.assertEqual(rc, 0, err)
            self.assertRegex(out.splitlines()[0], r"\['ARRAYS'\]\[10\]\[\d+\]$")
            self.assertEqual(t.quit(), 0, "target's own check failed after pyheap")

    def test_arrays(self):
        ran = common.numpy_interpreters()
        print("numpy on: %s" % ", ".join(i.name for i in ran))
        self.assertTrue(ran)
        self.for_each_interp(self.check_arrays, interps=ran)
