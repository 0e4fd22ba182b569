"""Layout sources on live targets: DWARF, the built-in tables and _Py_DebugOffsets must agree.

For every interpreter present, an idle target is inspected with `pyheap info --layout --json`
three ways: the default chain (DWARF is available for every interpreter here: pyenv's embedded
.debug_info, Debian's python3.11-dbg, sid's -dbg packages under the chroot), --layout-from=table
and, on 3.13+, --layout-from=debug-offsets. Every field a restricted source gives must equal the
DWARF value, and each field must name the source it came from.

Debian's 3.11 is also resolved through each way of finding its debug file: the build-id path,
no debug file at all (PYHEAP_DEBUG_DIRS=/nonexistent: the table), and a real debuginfod server
serving a copy of the debug file.
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import common

MIN_DEBUG_OFFSET_FIELDS = 45


def info_layout(pid, *extra, env=None):
    return common.run_pyheap_json("info", "--layout", *extra, pid, env=env)


def sources_of(report):
    return {f["source"] for f in report["layout"].values()}


class LayoutSources(common.InterpTestCase):

    def assert_subset_equal(self, what, part, full, interp):
        for name, field in part.items():
            self.assertIn(name, full, "%s: %s gives %s, DWARF does not" % (interp, what, name))
            self.assertEqual(field["value"], full[name]["value"],
                             "%s: %s %s = %d, DWARF %d" % (interp, what, name, field["value"],
                                                           full[name]["value"]))

    def check_interp(self, interp):
        with common.Target(interp, "idle.py") as t:
            dwarf = info_layout(t.pid)
            self.assertEqual(dwarf["version_hex"], t.report["version"], interp)
            self.assertEqual(sources_of(dwarf), {"dwarf"}, "%s: %s" % (interp, dwarf["layout_sources"]))
            self.assertNotEqual(dwarf["debug_file"], "", interp)
            if interp.container:
                self.assertTrue(any("under target root" in l for l in dwarf["layout_sources"]),
                                dwarf["layout_sources"])

            table = info_layout(t.pid, "--layout-from=table")
            self.assertEqual(sources_of(table), {"table"}, interp)
            self.assertEqual(table["debug_file"], "")
            self.assertEqual(set(table["layout"]), set(dwarf["layout"]),
                             "%s: the table and DWARF know different fields" % interp)
            self.assert_subset_equal("table", table["layout"], dwarf["layout"], interp)

            if interp.minor >= (3, 13):
                dbg = info_layout(t.pid, "--layout-from=debug-offsets")
                self.assertEqual(sources_of(dbg), {"debug-offsets"}, interp)
                self.assertGreaterEqual(len(dbg["layout"]), MIN_DEBUG_OFFSET_FIELDS, interp)
                self.assert_subset_equal("debug-offsets", dbg["layout"], dwarf["layout"], interp)
                self.assertTrue(any("agree with DWARF" in l for l in dwarf["layout_sources"]),
                                dwarf["layout_sources"])
            self.assertEqual(t.quit(), 0)

    def test_sources_agree(self):
        self.for_each_interp(self.check_interp)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Debuginfod:
    """A debuginfod server over a directory holding one debug file; stopped on exit."""

    READY_TRIES = 300  # x 0.1 s: indexing one file takes about a second

    def __init__(self, debug_file):
        self.dir = tempfile.mkdtemp(prefix="pyheap-debuginfod-")
        os.mkdir(os.path.join(self.dir, "files"))
        shutil.copy(debug_file, os.path.join(self.dir, "files"))
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = subprocess.Popen(
            ["debuginfod", "-F", os.path.join(self.dir, "files"), "-p", str(self.port),
             "-d", os.path.join(self.dir, "db.sqlite")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self._wait_indexed()
        except Exception:
            self.stop()
            raise

    def _wait_indexed(self):
        """Poll /metrics until the server has indexed the debug file (bounded retries)."""
        for _ in range(self.READY_TRIES):
            if self.proc.poll() is not None:
                raise RuntimeError("debuginfod exited with %d" % self.proc.returncode)
            try:
                with urllib.request.urlopen(self.url + "/metrics", timeout=2) as r:
                    text = r.read().decode()
                m = re.search(r'^found_debuginfo_total\{source="files"\} (\d+)', text, re.M)
                if m and int(m.group(1)) >= 1:
                    return
            except OSError:
                pass
            # debuginfod's indexing is a third-party server's internal state with no event to
            # wait on: bounded polling of its own metrics is the only signal there is.
            time.sleep(0.1)
        raise RuntimeError("debuginfod at %s did not index %s in time" % (self.url, self.dir))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def debian_interp():
    return next(i for i in common.interpreters(include_containers=False) if i.kind == "debian")


class DebianDebugFile(common.InterpTestCase):
    """Debian's python3.11 through each way of finding (or not finding) its debug file."""

    def setUp(self):
        self.interp = debian_interp()
        common.InterpTestCase.ran.setdefault(self.interp.name, 0)
        common.InterpTestCase.ran[self.interp.name] += 1

    def test_build_id_then_table(self):
        with common.Target(self.interp, "idle.py") as t:
            dwarf = info_layout(t.pid)
            self.assertTrue(dwarf["debug_file"].startswith("/usr/lib/debug/.build-id/"),
                            dwarf["debug_file"])
            self.assertTrue(any("(build-id under host)" in l for l in dwarf["layout_sources"]),
                            dwarf["layout_sources"])
            self.assertEqual(sources_of(dwarf), {"dwarf"})

            env = {"PYHEAP_DEBUG_DIRS": "/nonexistent", "DEBUGINFOD_URLS": ""}
            table = info_layout(t.pid, env=env)
            self.assertEqual(table["debug_file"], "")
            self.assertEqual(sources_of(table), {"table"}, table["layout_sources"])
            self.assertTrue(any("DEBUGINFOD_URLS unset" in l for l in table["layout_sources"]),
                            table["layout_sources"])
            self.assertEqual(table["layout"], {k: {"value": v["value"], "source": "table"}
                                               for k, v in dwarf["layout"].items()})
            self.assertEqual(t.quit(), 0)

    def test_debuginfod(self):
        if not shutil.which("debuginfod"):
            self.skipTest("debuginfod is not installed (apt-get install debuginfod)")
        # Loaded when a server is asked, not linked: linked, it and its HTTP and TLS libraries
        # cost every run 3 ms and 6 MiB (issue 16).
        needed = subprocess.run(["readelf", "-d", common.PYHEAP], capture_output=True,
                                text=True, check=True).stdout
        self.assertIn("libdw.so", needed)
        self.assertNotIn("libdebuginfod", needed)
        with common.Target(self.interp, "idle.py") as t:
            reference = info_layout(t.pid)
            with Debuginfod(reference["debug_file"]) as server, \
                    tempfile.TemporaryDirectory(prefix="pyheap-dcache-") as cache:
                env = {"DEBUGINFOD_URLS": server.url, "DEBUGINFOD_CACHE_PATH": cache,
                       "PYHEAP_DEBUG_DIRS": "/nonexistent"}
                got = info_layout(t.pid, env=env)
                self.assertTrue(any("(debuginfod)" in l for l in got["layout_sources"]),
                                got["layout_sources"])
                self.assertTrue(got["debug_file"].startswith(cache), got["debug_file"])
                self.assertEqual(got["layout"], reference["layout"])
                # --no-debuginfod turns it off even with DEBUGINFOD_URLS set
                off = info_layout(t.pid, "--no-debuginfod", env=env)
                self.assertEqual(sources_of(off), {"table"}, off["layout_sources"])
            self.assertEqual(t.quit(), 0)


if __name__ == "__main__":
    unittest.main()
