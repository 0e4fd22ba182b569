"""Core files as a heap source: gdb's gcore writes the core of a running target, and every view
on the core prints what the same view prints on the live process (the target does not change
between the two: tests/targets/growing.py waits on stdin). gcore leaves out the file mappings a
process never wrote (code, constants such as the names of static types): pyheap reads those from
the files, so the type names must be the same as live. A core is hostile input too: a truncated
one and one of another kind are refused with one line.

Containers are left out: a core of a process in another mount namespace names files the host
cannot open at those paths.
"""
import json
import os
import shutil
import subprocess
import tempfile

import common


def gcore(pid, prefix):
    p = subprocess.run(["gcore", "-o", prefix, str(pid)], capture_output=True, text=True,
                       timeout=300)
    path = "%s.%d" % (prefix, pid)
    if p.returncode != 0 or not os.path.exists(path):
        raise AssertionError("gcore failed: %s" % p.stderr[-2000:])
    return path


class CoreTest(common.InterpTestCase):

    def setUp(self):
        if not shutil.which("gcore"):
            self.skipTest("no gcore (gdb): make deps installs it")
        self.dir = tempfile.mkdtemp(prefix="pyheap-core-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_ok(self, *args):
        rc, out, err = common.run_pyheap(*args)
        self.assertEqual(rc, 0, "pyheap %s: %s" % (" ".join(map(str, args)), err))
        return out

    def test_core_views_equal_live_views(self):
        views = [[], ["--by", "rcs"], ["--kind", "__main__.Node", "--by", "via"],
                 ["--by", "id", "--rows", "15"]]

        def body(interp):
            with common.Target(interp, "growing.py") as t:
                self.assertTrue(t.command("grow 50 20").startswith("grown"))
                core = gcore(t.pid, os.path.join(self.dir, "core"))
                for args in views:
                    self.assertEqual(self.run_ok("attach", *args, core),
                                     self.run_ok("attach", *args, t.pid), "attach %s" % args)
                self.assertEqual(self.run_ok("path", "--kind", "__main__.Leak", core),
                                 self.run_ok("path", "--kind", "__main__.Leak", t.pid))
                info = json.loads(self.run_ok("info", "--json", core))
                self.assertEqual((info["source"], info["pid"], info["version_hex"]),
                                 ("core", t.pid, t.report["version"]))
                snap = os.path.join(self.dir, "from-core.pyheap")
                self.run_ok("snapshot", "-o", snap, core)
                self.assertEqual(self.run_ok("attach", snap), self.run_ok("attach", t.pid))
                self.assertEqual(t.quit(), 0)
                os.unlink(core)
        self.for_each_interp(body, include_containers=False)

    def test_bad_cores_are_refused(self):
        debian = common.interpreters(include_containers=False)[0]
        with common.Target(debian, "growing.py") as t:
            core = gcore(t.pid, os.path.join(self.dir, "core"))
            self.assertEqual(t.quit(), 0)
        with open(core, "rb") as f:
            head = f.read(4096)
        cut = os.path.join(self.dir, "cut")
        with open(cut, "wb") as f:
            f.write(head[:200])  # the ELF header, the program headers cut short
        rc, out, err = common.run_pyheap("attach", cut)
        self.assertEqual(rc, 11, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("not a readable core file", err)
        rc, out, err = common.run_pyheap("attach", "/usr/bin/python3.11")  # ELF, not a core
        self.assertEqual(rc, 11, err)
        self.assertIn("not an x86-64 core file", err)
