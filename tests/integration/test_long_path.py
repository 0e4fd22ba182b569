"""A path through a linked list of 100000 nodes (tests/targets/long_chain.py) prints as one short
line: the run of .next written once with its count; --full-paths prints every step (the issue:
a 1M-hop path printed as one 5 MB line). JSON's "path" follows the same rule and "steps" always
lists every step.
"""
import json

import common


class LongPathTest(common.InterpTestCase):

    def check(self, interp):
        with common.Target(interp, "long_chain.py") as t:
            n = t.report["links"]
            rc, out, err = common.run_pyheap("path", "--kind", "__main__.Tail", t.pid)
            self.assertEqual(rc, 0, err)
            line = out.splitlines()[0]
            self.assertLess(len(line), 200, line[:300])
            self.assertRegex(line, r"^ 0: Root\.\S+\['HEAD'\]<\.next x %d>\.tail$" % (n - 1))
            rc, out, err = common.run_pyheap("path", "--full-paths", "--kind", "__main__.Tail",
                                             t.pid)
            self.assertEqual(rc, 0, err)
            line = out.splitlines()[0]
            self.assertTrue(line.endswith("['HEAD']" + ".next" * (n - 1) + ".tail"), line[:200])
            ph = common.run_pyheap_json("path", "--kind", "__main__.Tail", t.pid)
            self.assertIn("<.next x %d>" % (n - 1), ph["paths"][0]["path"])
            self.assertEqual(ph["paths"][0]["length"], len(ph["paths"][0]["steps"]))
            self.assertEqual(ph["paths"][0]["steps"].count(".next"), n - 1)
            self.assertEqual(t.quit(), 0)

    def test_long_path_is_brief(self):
        self.for_each_interp(self.check, include_containers=False,
                             interps=common.interpreters(include_containers=False)[:2])
