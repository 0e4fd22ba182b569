"""The documentation says what the binary does: man/pyheap.1 and README.md list the same commands
and options as `pyheap --help` and `pyheap CMD --help` (which come from the tables in cmd/cli.c),
each option under the commands it applies to, no option that does not exist, and every exit status
of lib/error.c with its number and name. The README's quick start is exactly `make demo` and
`make check`. No interpreter is needed: only the binary and the files.
"""
import os
import re
import subprocess
import unittest

import common

MAN = os.path.join(common.ROOT, "man", "pyheap.1")
README = os.path.join(common.ROOT, "README.md")
ERROR_H = os.path.join(common.ROOT, "lib", "error.h")
ERROR_C = os.path.join(common.ROOT, "lib", "error.c")

# Options of other programs that the documentation shows in examples; not pyheap's.
OTHER_TOOLS = {"--cap-add"}

OPTION = re.compile(r"--[a-z][a-z0-9-]*")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def help_text(*args):
    if not os.access(common.PYHEAP, os.X_OK):
        raise AssertionError("%s is not built (make build/san/pyheap)" % common.PYHEAP)
    p = subprocess.run([common.PYHEAP] + list(args) + ["--help"], capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        raise AssertionError("pyheap %s --help exited %d: %s" % (" ".join(args), p.returncode,
                                                                 p.stderr))
    return p.stdout


def help_section(text, title):
    """Lines of one `title:` block of --help output, up to the next blank line."""
    lines = text.splitlines()
    start = lines.index(title + ":") + 1
    out = []
    for line in lines[start:]:
        if not line.strip():
            break
        out.append(line)
    return out


def help_options(text):
    return {m.group(1) for m in (re.match(r"\s+(?:-[a-z], )?(--[a-z][a-z0-9-]*)", l)
                                 for l in help_section(text, "options")) if m}


def man_plain(line):
    """A man source line as a reader sees its words: no font escapes, real hyphens and quotes."""
    line = re.sub(r"\\f(\(..|\[[^]]*\]|.)", "", line)
    for esc, ch in ((r"\-", "-"), (r"\(aq", "'"), (r"\(dq", '"'), (r"\(ga", "`"), (r"\(bu", ""),
                    (r"\&", ""), (r"\e", "\\")):
        line = line.replace(esc, ch)
    return line


def man_sections(source, macro):
    """{title: [lines]} for each `.SH` (or `.SS`) in source, in order."""
    out = {}
    title = None
    for line in source.splitlines():
        if line.startswith(macro + " ") or line == macro:
            title = man_plain(line[len(macro):].strip().strip('"'))
            out[title] = []
        elif title is not None:
            out[title].append(line)
    return out


def tp_tags(lines):
    """The tag line of every `.TP` paragraph, as plain text."""
    return [man_plain(lines[i + 1]) for i, l in enumerate(lines[:-1]) if l.startswith(".TP")]


def md_section(text, heading):
    """The body of one `## heading` of the README, up to the next `## `."""
    m = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(heading), text, re.M | re.S)
    if not m:
        raise AssertionError("README.md has no '## %s' section" % heading)
    return m.group(1)


def status_table():
    """{number: (name, description)} from lib/error.h's enum and lib/error.c's table."""
    values = {name: int(v) for name, v in re.findall(r"(PH_\w+)\s*=\s*(\d+)", read(ERROR_H))}
    count = len(values)
    table = {}
    for name, short, describe in re.findall(r'\[(PH_\w+)\]\s*=\s*\{"([^"]*)",\s*"([^"]*)"\}',
                                            read(ERROR_C)):
        table[values[name]] = (short, describe)
    assert sorted(table) == list(range(count)), "lib/error.c names every status: %s" % table
    return table


class DocsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.main_help = help_text()
        cls.commands = [l.split()[0] for l in help_section(cls.main_help, "commands")]
        cls.global_options = help_options(cls.main_help)
        cls.command_help = {c: help_text(c) for c in cls.commands}
        cls.command_options = {c: help_options(t) for c, t in cls.command_help.items()}
        cls.all_help_tokens = set(OPTION.findall(cls.main_help))
        for t in cls.command_help.values():
            cls.all_help_tokens |= set(OPTION.findall(t))
        cls.every_option = set(cls.global_options)
        for opts in cls.command_options.values():
            cls.every_option |= opts
        cls.man_source = read(MAN)
        cls.man = man_sections(cls.man_source, ".SH")
        cls.man_text = "\n".join(man_plain(l) for l in cls.man_source.splitlines()
                                 if not l.startswith('.\\"'))
        cls.readme = read(README)

    def test_help_is_parsed(self):
        self.assertEqual(self.commands, ["info", "attach", "path", "snapshot", "diff", "top",
                                         "suspects", "dominators", "flame"])
        self.assertIn("--help", self.global_options)
        self.assertIn("--version", self.global_options)
        for c, opts in self.command_options.items():
            self.assertIn("--help", opts, c)
            self.assertLessEqual(opts, self.global_options, c)

    # ---- man page ----

    def test_man_has_every_section(self):
        for title in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "OUTPUT", "SIZES",
                      "EXIT STATUS", "ENVIRONMENT", "EXAMPLES", "PERMISSIONS", "SEE ALSO"):
            self.assertIn(title, self.man, "man/pyheap.1 has a %s section" % title)

    def test_man_commands(self):
        listed = [t.split()[0] for t in tp_tags(self.man["COMMANDS"])]
        self.assertEqual(listed, self.commands, "COMMANDS lists the commands of --help, in order")
        synopsis = " ".join(man_plain(l) for l in self.man["SYNOPSIS"])
        for c in self.commands:
            self.assertIn("pyheap %s" % c, synopsis, "SYNOPSIS shows pyheap %s" % c)

    def test_man_mentions_every_option(self):
        # In the source an option is written \-\-name (or --name); man_text has real hyphens.
        for opt in sorted(self.every_option):
            self.assertRegex(self.man_text, re.escape(opt) + r"(?![a-z0-9-])",
                             "man/pyheap.1 mentions %s" % opt)

    def test_man_options_by_command(self):
        """Each OPTIONS subsection names the commands its options apply to; together they give
        exactly the options of each `pyheap CMD --help` and of `pyheap --help`."""
        subsections = man_sections("\n".join(self.man["OPTIONS"]), ".SS")
        self.assertTrue(subsections, "OPTIONS is divided into subsections by command")
        per_command = {c: set() for c in self.commands}
        documented = []
        for heading, lines in subsections.items():
            cmds = [w for w in re.findall(r"[a-z]+", heading) if w in self.commands]
            opts = [o for tag in tp_tags(lines) for o in OPTION.findall(tag)]
            documented += opts
            for c in cmds:
                per_command[c] |= set(opts)
        self.assertEqual(len(documented), len(set(documented)),
                         "each option is described once: %s" % sorted(documented))
        self.assertEqual(set(documented), self.global_options, "OPTIONS against pyheap --help")
        for c in self.commands:
            self.assertEqual(per_command[c], self.command_options[c],
                             "man OPTIONS for %s against pyheap %s --help" % (c, c))

    def test_man_options_exist(self):
        for opt in sorted(set(OPTION.findall(self.man_text)) - OTHER_TOOLS):
            self.assertIn(opt, self.all_help_tokens, "man/pyheap.1 mentions %s, which --help "
                          "does not know" % opt)

    def test_man_exit_status(self):
        listed = {}
        for tag in tp_tags(self.man["EXIT STATUS"]):
            m = re.match(r"^(\d+) \(([a-z-]+)\)$", tag.strip())
            self.assertTrue(m, "EXIT STATUS tag '%s' reads 'N (name)'" % tag)
            listed[int(m.group(1))] = m.group(2)
        expected = {n: name for n, (name, _) in status_table().items()}
        self.assertEqual(listed, expected, "EXIT STATUS against lib/error.c")

    def test_help_exit_status(self):
        lines = help_section(self.main_help, "exit status")
        listed = {int(l.split(None, 1)[0]): l.split(None, 1)[1] for l in lines}
        expected = {n: describe for n, (_, describe) in status_table().items()}
        self.assertEqual(listed, expected, "pyheap --help's exit status against lib/error.c")

    def test_man_environment(self):
        env = " ".join(tp_tags(self.man["ENVIRONMENT"]))
        for var in re.findall(r"^  ([A-Z][A-Z0-9_]+)\s", self.main_help, re.M):
            self.assertIn(var, env, "man ENVIRONMENT lists %s (in --help)" % var)
        for var in ("DEBUGINFOD_CACHE_PATH",):
            self.assertIn(var, env)

    # ---- README ----

    def test_readme_mentions_every_command_and_option(self):
        for c in self.commands:
            self.assertIn("pyheap %s" % c, self.readme, "README.md shows pyheap %s" % c)
        for opt in sorted(self.every_option):
            self.assertRegex(self.readme, re.escape(opt) + r"(?![a-z0-9-])",
                             "README.md mentions %s" % opt)

    def test_readme_options_exist(self):
        for opt in sorted(set(OPTION.findall(self.readme)) - OTHER_TOOLS):
            self.assertIn(opt, self.all_help_tokens, "README.md mentions %s, which --help does "
                          "not know" % opt)

    def test_readme_options_table(self):
        """The README's option table: every option once, with the commands it applies to."""
        rows = re.findall(r"^\| `(--[a-z][a-z0-9-]*)[^|]*\| ([^|]+) \|", self.readme, re.M)
        names = [r[0] for r in rows]
        self.assertEqual(len(names), len(set(names)), "each option is in the table once")
        self.assertEqual(set(names), self.global_options, "README option table against --help")
        for opt, cmds in rows:
            words = re.findall(r"[a-z]+", cmds)
            applies = set(self.commands) if words[:1] == ["all"] else \
                {w for w in words if w in self.commands}
            help_applies = {c for c in self.commands if opt in self.command_options[c]}
            self.assertEqual(applies, help_applies, "README: commands of %s" % opt)

    def test_readme_exit_status(self):
        rows = re.findall(r"^\| (\d+) \| ([a-z-]+) \|", md_section(self.readme, "Exit status"),
                          re.M)
        listed = {int(n): name for n, name in rows}
        expected = {n: name for n, (name, _) in status_table().items()}
        self.assertEqual(listed, expected, "README exit status table against lib/error.c")

    def test_readme_quick_start(self):
        body = md_section(self.readme, "Quick start")
        blocks = re.findall(r"^```[a-z]*\n(.*?)^```", body, re.M | re.S)
        commands = [l.strip() for b in blocks for l in b.splitlines()
                    if l.strip() and not l.strip().startswith("#")]
        self.assertEqual(commands, ["make demo", "make check"],
                         "the quick start is exactly `make demo` and `make check`")
        # Before `make install`, `man pyheap` finds nothing: the README says how to read it.
        self.assertIn("man -l man/pyheap.1", body)

    def test_readme_environment(self):
        env = md_section(self.readme, "Environment")
        for var in re.findall(r"^  ([A-Z][A-Z0-9_]+)\s", self.main_help, re.M):
            self.assertIn("`%s`" % var, env, "README Environment lists %s (in --help)" % var)


if __name__ == "__main__":
    unittest.main()


class DepsLockTest(unittest.TestCase):
    """tests/deps.sh waits for another apt's lock (unattended-upgrades on a fresh host) instead
    of failing: with a lock held it says it waits and gives up only after its timeout; with the
    lock free it goes on at once."""

    def test_waits_for_a_held_lock(self):
        import fcntl
        import tempfile
        script = os.path.join(common.ROOT, "tests", "deps.sh")
        with tempfile.NamedTemporaryFile() as lock:
            env = dict(os.environ, DEPS_LOCKS=lock.name, DEPS_LOCK_TIMEOUT="2")
            free = subprocess.run(["sh", script, "--wait-for-locks"], env=env, capture_output=True,
                                  text=True, timeout=60)
            self.assertEqual((free.returncode, free.stdout), (0, ""))
            fcntl.lockf(lock, fcntl.LOCK_EX)  # as dpkg holds its lock
            held = subprocess.run(["sh", script, "--wait-for-locks"], env=env,
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(held.returncode, 1)
            self.assertIn("waiting", held.stdout)
            self.assertIn("still locked", held.stderr)
