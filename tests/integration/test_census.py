"""Every object of the target's own census is in pyheap's object set, checked by address
(tests/targets/census_heap.py).

The census is what the target itself can see of its heap: gc.get_objects(), sys.modules and
gc.garbage closed under gc.get_referents, which reaches everything a C type's tp_traverse visits
(a compiled pattern's groupindex dict, a module's C state, a partial's arguments), plus what the
target knows is held where no tp_traverse shows it. pyheap's set is `attach --by id --all`: one
row per object with its address. A census object missing from it is a miss, unless the target,
asked again afterwards (`alive`), no longer has it (freed by the interpreter's own activity after
the census, such as an I/O buffer replaced): those are counted and printed, not failed on.

  * stdlib: every interpreter; a heap full of the stdlib's C objects (re, functools, itertools,
    collections, threading, io, datetime/zoneinfo, decimal, sqlite3, ssl, ctypes, mmap, weakref,
    contextvars, memoryview, json, pickle, asyncio) and the modules holding objects in their C
    state. Zero misses.
  * packages: Debian's python3.11 with the apt packages python3-flask, -requests, -sqlalchemy,
    -pandas, -numpy, -jinja2 (`make deps`), used as a service does. Zero misses.
Each prints its figure: census count, pyheap's count, misses (and census objects freed since).
Every census object's size must also be sys.getsizeof's, except where its __sizeof__ is Python
code (pandas' deep memory usage), C code outside the standard library (numpy's scalars), or a
C __sizeof__ pyheap does not reproduce (NOT_MODELLED, printed); 3.11+ instances keeping their
attributes outside the object may be larger (pyheap counts that storage). On the stdlib heap,
the C fields decoded from tables must show as named edges (NAMED_EDGES).

Objects out of reach of any out-of-process reader are not in the census by construction: the
census only holds what Python itself can reach through tp_traverse or the target's own accessors.
C static variables that hold objects outside any module state (3.8's posix `billion`, the
interpreter's own caches) are not visited by any tp_traverse, so neither the census nor pyheap
counts them; they are not misses.
"""
import json

import common


def pyheap_objects(pid, env=None):
    """{address: size} of pyheap's object set, and the JSON."""
    ph = common.run_pyheap_json("attach", pid, "--by", "id", "--rows", "all", "--all", env=env)
    return dict((int(r["address"], 16), r["size"]) for r in ph["rows"]), ph


def census_addresses(report):
    """{address: (type name, sys.getsizeof)} of the target's census."""
    types = {}
    for name, entries in report["census"]["types"].items():
        for e in entries.split():
            h, size = e.split(":")
            types[int(h, 16)] = (name, int(size))
    return types


# C __sizeof__ methods of the standard library whose terms pyheap does not model, and why. Their
# instances' sizes are not compared (all others are, exactly).
NOT_MODELLED = {
    "builtins.StgDict": "3.8-3.12 ctypes type dicts add their format string, shape and libffi "
                       "element arrays, C memory of layouts pyheap has no table for",
    "_ctypes.CType_Type": "3.13+ ctypes metatypes add the same (StgInfo) for their classes",
}


def size_mismatches(census, sizes, report):
    """{type: [(address, getsizeof, pyheap's size)]} where pyheap's size is not getsizeof's
    (not below it, for types whose instances keep attribute values outside the object), and
    {type: why} for the types not compared: a Python-level __sizeof__ (pandas' deep memory
    usage), a third-party C one (numpy scalars), or one in NOT_MODELLED."""
    inexact = set(report["census"]["inexact"])
    owners = report["census"]["sizeof"]
    bad, skipped = {}, {}
    for addr, (name, size) in census.items():
        owner, kind = owners.get(name, ["builtins.object", "c"])
        if kind != "c" or owner in NOT_MODELLED:
            skipped[name] = "%s (%s)" % (owner, NOT_MODELLED.get(owner, kind + " __sizeof__"))
            continue
        got = sizes.get(addr)
        if got is None or got == size or (name in inexact and got >= size):
            continue
        bad.setdefault(name, []).append((addr, size, got))
    return bad, skipped


def ask_alive(target, addrs):
    """Of addrs, those the target still has in its census, {addr: {type, via}}."""
    out = {}
    addrs = sorted(addrs)
    for k in range(0, len(addrs), 2000):
        line = target.command("alive " + " ".join("%x" % a for a in addrs[k:k + 2000]))
        if not line.startswith("ALIVE "):
            raise AssertionError("target answered %r" % line[:200])
        out.update((int(h, 16), v) for h, v in json.loads(line[len("ALIVE "):]).items())
    return out


# Edges the stdlib target's heap must have, named from the C field they come from (the generated
# tables of lib/walk/cstruct_tables.c, module states, and the C __sizeof__ decoders): (label,
# first minor version it exists in). Without the tables these would be `.??` or missing.
NAMED_EDGES = [
    ("->groupindex", 8), ("->indexgroup", 8),          # re.Pattern
    ("->source", 8),                                   # itertools.chain
    ("->traps", 8), ("->flags", 8),                    # decimal.Context
    ("->tzinfo", 8),                                   # datetime.datetime (hastzinfo)
    ("->mbuf", 8), ("->master.obj", 8),                # memoryview, its managed buffer
    ("->decoder", 8),                                  # _io.TextIOWrapper
    ("->statement_cache", 8),                          # sqlite3.Connection
    ("->b_objects", 8),                                # ctypes data
    ("->memo", 8),                                     # pickle's memo entries
    ("->m_state.unsupported_operation", 8),            # _io's module state
    ("->m_state.billion", 9),                          # posix's module state
    ("->buf.items", 13),                               # queue.SimpleQueue's ring buffer
]


def via_labels(pid):
    """The text of every `via` row of the whole heap (all objects)."""
    ph = common.run_pyheap_json("attach", pid, "--all", "--by", "via", "--rows", "all")
    return "\n".join(r["kind"] for r in ph["rows"])


class CensusTest(common.InterpTestCase):

    def check_census(self, interp, mode, skew=False):
        with common.Target(interp, "census_heap.py", args=[mode]) as t:
            census = census_addresses(t.report)
            found, ph = pyheap_objects(t.pid, env={"PYHEAP_TEST_SKEW_LAYOUT": "1"} if skew else None)
            # The walk starts with the tables' layout while DWARF is read (lib/source/live.c);
            # the tables agree with DWARF on every build here (test_layout), so it is never
            # walked twice, unless the test spoils the provisional layout: then the second walk,
            # from the same copy, must give the census exactly.
            self.assertTrue(ph["walk"]["provisional_layout"], interp)
            self.assertEqual(ph["walk"]["layout_rewalks"], 1 if skew else 0, interp)
            missing = set(census) - set(found)
            # An object freed since the census can have its address taken by a new one (the
            # `alive` command's own line, a str, took a freed cell's): alive means same type too.
            alive = {a: v for a, v in (ask_alive(t, missing) if missing else {}).items()
                     if v["type"] == census[a][0]}
            freed = sorted(set(census[a][0] for a in missing if a not in alive))
            print("census %s %s: census %d, pyheap %d, misses %d (freed since the census: %d%s)"
                  % (mode, interp.name, len(census), ph["total_count"], len(alive),
                     len(missing) - len(alive), ", " + ", ".join(freed) if freed else ""))
            if alive:
                by_type = {}
                for addr, info in alive.items():
                    by_type.setdefault((info["type"], " <- ".join(info["via"])), []).append(addr)
                lines = ["%5d %s <- %s (e.g. 0x%x: %s in %s)"
                         % (len(v), k[0], k[1], v[0], alive[v[0]]["repr"], alive[v[0]]["parent"])
                         for k, v in sorted(by_type.items(), key=lambda kv: -len(kv[1]))]
                self.fail("%d census objects not in pyheap's set, by type and referrers:\n%s"
                          % (len(alive), "\n".join(lines[:60])))
            bad, skipped = size_mismatches(census, found, t.report)
            by_owner = {}
            for name, why in skipped.items():
                by_owner.setdefault(why, []).append(name)
            for why, names in sorted(by_owner.items()):
                print("  sizes not compared (__sizeof__ of %s): %d types (%s)"
                      % (why, len(names), ", ".join(sorted(names)[:4]) + (", ..." if len(names) > 4 else "")))
            if bad:
                lines = ["%5d %s (e.g. 0x%x: sys.getsizeof %d, pyheap %d)" % ((len(v), k) + v[0])
                         for k, v in sorted(bad.items(), key=lambda kv: -len(kv[1]))]
                self.fail("sizes differ from sys.getsizeof, by type:\n" + "\n".join(lines[:60]))
            if mode == "stdlib":
                labels = via_labels(t.pid)
                absent = [label for label, minor in NAMED_EDGES
                          if interp.minor >= (3, minor) and "'%s'" % label not in labels]
                self.assertEqual(absent, [], "no edge has these names")
            self.assertEqual(t.quit(), 0)

    def test_stdlib(self):
        self.for_each_interp(lambda i: self.check_census(i, "stdlib"), include_containers=False)

    def test_provisional_layout_walked_again(self):
        self.for_each_interp(lambda i: self.check_census(i, "stdlib", skew=True),
                             include_containers=False)

    def test_packages(self):
        debian = [i for i in common.interpreters(include_containers=False) if i.kind == "debian"]
        for module in ("flask", "requests", "sqlalchemy", "pandas", "numpy", "jinja2"):
            if not common._imports(debian[0], module):
                raise RuntimeError("Debian's python3.11 cannot import %s (make deps)" % module)
        self.for_each_interp(lambda i: self.check_census(i, "packages"), interps=debian)
