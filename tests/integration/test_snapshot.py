"""Snapshot files and comparisons (issue: snapshot files, every view on them, diff/setref).

- Every view on a file prints the same bytes as on the live heap it was taken from: each command
  runs once on the live target with --save FILE (the table and the file come from one walk) and
  once on FILE, and the outputs must be equal byte for byte (text and JSON, the default table,
  --by rcs/via/size/id, --referrers, path). `snapshot -o FILE PID` on a target that does not
  change between commands gives the table `attach PID` gives, and so does a snapshot through a
  pipe (`snapshot -o - PID | attach -`).
- diff: tests/targets/growing.py makes N new Leak objects (K in a new list, the rest as keys of
  a dict that existed before) between two snapshots; `diff` shows exactly N new Leak objects,
  held by the new list (K) and the old dict (N - K), and few other new objects (the target's
  own command line and counters); `--kinds` shows the count growth N; `diff --interval` walks
  twice around a grow the test triggers after pyheap says its first walk is done.
- The file is written whole or not at all: SIGKILL while the snapshot is written (a test hook
  pauses there) leaves no FILE and no temporary file, and an existing FILE untouched.
"""
import json
import os
import signal
import subprocess
import tempfile

import common

EXIT_USAGE, EXIT_CORRUPT, EXIT_IO = 2, 11, 12


def run_ok(*args, **kw):
    rc, out, err = common.run_pyheap(*args, **kw)
    if rc != 0:
        raise AssertionError("pyheap %s exited %d: %s" % (" ".join(map(str, args)), rc, err))
    return out


class SnapshotTest(common.InterpTestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pyheap-snap-")

    def tearDown(self):
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_file_views_equal_live_views(self):
        views = [[], ["--json"], ["--by", "rcs"], ["--by", "via", "--json"], ["--by", "size"],
                 ["--by", "id", "--rows", "20"], ["--kind", "__main__.Node", "--referrers"],
                 ["--kind", "__main__.Node", "--by", "id", "--json"]]

        def body(interp):
            with common.Target(interp, "growing.py") as t:
                for k, args in enumerate(views):
                    f = self.path("v%d.pyheap" % k)
                    live = run_ok("attach", *args, "--save", f, t.pid)
                    self.assertEqual(run_ok("attach", *args, f), live, "attach %s" % args)
                for args in (["--kind", "__main__.Node", "--count", "3"],
                             ["--kind", "str", "--min-size", "60", "--json"]):
                    f = self.path("p.pyheap")
                    live = run_ok("path", *args, "--save", f, t.pid)
                    self.assertEqual(run_ok("path", *args, f), live, "path %s" % args)
                info = json.loads(run_ok("info", "--json", f))
                self.assertEqual(info["pid"], t.pid)
                self.assertEqual(info["version_hex"], t.report["version"])
                self.assertEqual(info["source"], "snapshot")
                self.assertEqual(t.quit(), 0)
        self.for_each_interp(body)

    def test_snapshot_command_and_pipe(self):
        def body(interp):
            with common.Target(interp, "growing.py") as t:
                f = self.path("a.pyheap")
                self.assertEqual(run_ok("snapshot", "-o", f, t.pid), "")
                live = run_ok("attach", t.pid)
                self.assertEqual(run_ok("attach", f), live)
                snap = subprocess.Popen([common.PYHEAP, "snapshot", "-o", "-", str(t.pid)],
                                        stdout=subprocess.PIPE)
                rc, out, err = 0, None, None
                try:
                    p = subprocess.run([common.PYHEAP, "attach", "-"], stdin=snap.stdout,
                                       capture_output=True, text=True, timeout=300)
                finally:
                    snap.stdout.close()
                    rc = snap.wait(timeout=300)
                self.assertEqual(rc, 0)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stdout, live)
                self.assertEqual(t.command("ping"), "pong")
                self.assertEqual(t.quit(), 0)
        self.for_each_interp(body)

    def test_diff_shows_exactly_what_grew(self):
        n, k = 300, 120

        def body(interp):
            with common.Target(interp, "growing.py") as t:
                a, b = self.path("a.pyheap"), self.path("b.pyheap")
                run_ok("snapshot", "-o", a, t.pid)
                made = json.loads(t.command("grow %d %d" % (n, k))[len("grown "):])
                run_ok("snapshot", "-o", b, t.pid)
                leaks = json.loads(run_ok("diff", "--kind", "__main__.Leak", "--json", a, b))
                self.assertEqual(leaks["total_count"], made["leak"])
                rcs = json.loads(run_ok("diff", "--kind", "__main__.Leak", "--by", "rcs",
                                        "--json", a, b))
                self.assertEqual({r["kind"]: r["count"] for r in rcs["rows"]},
                                 {"list": k, "dict (no owner)": n - k})
                new = json.loads(run_ok("diff", "--json", "--rows", "all", a, b))
                by_kind = {r["kind"]: r["count"] for r in new["rows"]}
                self.assertEqual(by_kind["__main__.Leak"], n)
                self.assertGreaterEqual(by_kind.get("list", 0), made["lists"])
                # Besides the Leaks and the list, only the target's own command line, its
                # words and its counter are new.
                self.assertLessEqual(new["total_count"], n + made["lists"] + 12, by_kind)
                kinds = json.loads(run_ok("diff", "--kinds", "--json", "--rows", "all", a, b))
                change = {r["kind"]: r for r in kinds["rows"]}
                self.assertEqual(change["__main__.Leak"]["count_change"], n)
                self.assertEqual(change["__main__.Node"]["count_change"], 0)
                self.assertEqual(kinds["rows"][0]["kind"], "__main__.Leak")  # grew the most
                # What the new objects retain: a Leak holds nothing of its own.
                ret = json.loads(run_ok("diff", "--kind", "__main__.Leak", "--retained", "--json",
                                        a, b))
                self.assertEqual(ret["rows"][0]["retained"], ret["rows"][0]["size"])
                # The live process as NEW, and a diff of a heap with itself.
                self.assertEqual(json.loads(run_ok("diff", "--kind", "__main__.Leak", "--json",
                                                   a, t.pid))["total_count"], n)
                self.assertEqual(json.loads(run_ok("diff", "--json", b, b))["total_count"], 0)
                # --since on attach and path is diff's set.
                self.assertEqual(json.loads(run_ok("attach", "--since", a, "--kind",
                                                   "__main__.Leak", "--json", b))["total_count"], n)
                paths = json.loads(run_ok("path", "--since", a, "--kind", "__main__.Leak",
                                          "--json", b))
                self.assertEqual(paths["paths_total"], n)
                self.assertEqual(t.quit(), 0)
        self.for_each_interp(body)

    def test_diff_interval(self):
        def body(interp):
            with common.Target(interp, "growing.py") as t:
                p = subprocess.Popen([common.PYHEAP, "diff", "--interval", "2", "--kind",
                                      "__main__.Leak", "--json", str(t.pid)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                try:
                    line = p.stderr.readline()
                    self.assertIn("walking again in 2 s", line)
                    # pyheap waits 2 s by design; the grow happens inside that wait.
                    self.assertTrue(t.command("grow 50 10").startswith("grown"))
                    out, err = p.communicate(timeout=300)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                self.assertEqual(p.returncode, 0, err)
                self.assertEqual(json.loads(out)["total_count"], 50)
                self.assertEqual(t.quit(), 0)
        self.for_each_interp(body, include_containers=False)


class SnapshotFileTest(common.InterpTestCase):
    """Bad files, and files written whole or not at all: one interpreter is enough."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pyheap-snapf-")

    def tearDown(self):
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def debian(self):
        return common.interpreters(include_containers=False)[0]

    def assert_refused(self, path, code, words):
        rc, out, err = common.run_pyheap("attach", path)
        self.assertEqual(rc, code, err)
        self.assertEqual(out, "")
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        for w in words:
            self.assertIn(w, lines[0])

    def test_corrupt_files_are_refused(self):
        with common.Target(self.debian(), "growing.py") as t:
            good = os.path.join(self.dir, "good.pyheap")
            run_ok("snapshot", "-o", good, t.pid)
            self.assertEqual(t.quit(), 0)
        with open(good, "rb") as f:
            data = f.read()

        def variant(name, blob):
            p = os.path.join(self.dir, name)
            with open(p, "wb") as f:
                f.write(blob)
            return p
        self.assert_refused(variant("text", b"Partition of a set of 3 objects.\n"), EXIT_CORRUPT,
                            ["not a pyheap snapshot"])
        self.assert_refused(variant("empty", b""), EXIT_CORRUPT, ["ends early"])
        self.assert_refused(variant("half", data[:len(data) // 2]), EXIT_CORRUPT,
                            ["ends early", "section"])
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x40
        self.assert_refused(variant("flipped", bytes(flipped)), EXIT_CORRUPT, ["checksum", "byte"])
        newer = bytearray(data)
        newer[8] = 2  # major version 2
        self.assert_refused(variant("newer", bytes(newer)), EXIT_CORRUPT, ["format 2.0"])
        self.assert_refused(self.dir, EXIT_IO, ["directory"])

    def test_sigkill_while_writing_leaves_no_file(self):
        with common.Target(self.debian(), "growing.py") as t:
            target = os.path.join(self.dir, "heap.pyheap")
            for existing in (None, b"an older file\n"):
                if existing is not None:
                    with open(target, "wb") as f:
                        f.write(existing)
                env = dict(os.environ, PYHEAP_TEST_PAUSE_WRITTEN="1")
                p = subprocess.Popen([common.PYHEAP, "snapshot", "-o", target, str(t.pid)],
                                     stderr=subprocess.PIPE, text=True, env=env)
                self.assertEqual(p.stderr.readline().strip(), "pyheap: written")
                p.send_signal(signal.SIGKILL)
                p.wait()
                p.stderr.close()
                if existing is None:
                    self.assertEqual(os.listdir(self.dir), [])
                else:
                    self.assertEqual(os.listdir(self.dir), ["heap.pyheap"])
                    with open(target, "rb") as f:
                        self.assertEqual(f.read(), existing)
            run_ok("snapshot", "-o", target, t.pid)  # and once finished, it replaces the file
            self.assertEqual(os.listdir(self.dir), ["heap.pyheap"])
            self.assertIn("Partition of a set of", run_ok("attach", target))
            self.assertEqual(t.quit(), 0)

    def test_refuses_a_terminal_and_reports_write_errors(self):
        with common.Target(self.debian(), "growing.py") as t:
            master, slave = os.openpty()
            try:
                p = subprocess.run([common.PYHEAP, "snapshot", str(t.pid)], stdout=slave,
                                   stderr=subprocess.PIPE, text=True, timeout=300)
            finally:
                os.close(master)
                os.close(slave)
            self.assertEqual(p.returncode, EXIT_USAGE)
            self.assertIn("-o FILE", p.stderr)
            for args in (["snapshot", t.pid], ["attach", "--json", t.pid], ["info", t.pid],
                         ["path", "--kind", "__main__.Node", t.pid]):
                with open("/dev/full", "w") as full:
                    p = subprocess.run([common.PYHEAP] + [str(a) for a in args], stdout=full,
                                       stderr=subprocess.PIPE, text=True, timeout=300)
                self.assertEqual(p.returncode, EXIT_IO, "%s: %s" % (args, p.stderr))
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertEqual(t.command("ping"), "pong")
            self.assertEqual(t.quit(), 0)
