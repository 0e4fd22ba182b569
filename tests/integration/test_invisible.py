"""Every character a terminal does not show as itself is escaped, end to end
(tests/targets/invisible_names.py, lib/escape.c): the class name with U+200B, U+2028, U+E000,
U+E0001 and U+00AD appears as Python's repr would write it, and a dict key with a lone surrogate
as \\udcff (it used to become U+FFFD, and the others passed through raw, invisible).
"""
import common

KIND = "__main__.Inv\\u200bis\\u2028ible\\ue000\\U000e0001X\\xad"
RAW = ("\u200b", "\u2028", "\ue000", "\U000e0001", "\u00ad", "\ufffd")


class InvisibleTest(common.InterpTestCase):

    def check(self, interp):
        with common.Target(interp, "invisible_names.py") as t:
            rc, out, err = common.run_pyheap("attach", "--rows", "all", t.pid)
            self.assertEqual(rc, 0, err)
            raw = ["U+%04X" % ord(c) for c in RAW if c in out]
            self.assertEqual(raw, [], "printed raw")
            rows = [line for line in out.splitlines() if line.endswith(" " + KIND)]
            self.assertEqual(len(rows), 1, out[-3000:])
            self.assertEqual(rows[0].split()[1], str(t.report["count"]))
            rc, out, err = common.run_pyheap("path", "--kind", "__main__.SurrogateHeld", t.pid)
            self.assertEqual(rc, 0, err)
            self.assertIn("['k\\udcffey']", out)
            self.assertEqual(t.quit(), 0)

    def test_invisible_characters_are_escaped(self):
        self.for_each_interp(self.check, include_containers=False)
