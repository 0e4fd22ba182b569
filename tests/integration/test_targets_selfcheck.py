"""The test targets themselves, on every interpreter, before pyheap is compared against them.

Each target is started, its READY report is checked for shape and plausibility (per-class counts
equal what the target built, sizes consistent with each other, dict states as the version
implies), it answers a command, and `quit` (its own consistency check) exits 0. No pyheap here.
"""
import unittest

import common

KNOWN_CLASSES = {
    "__main__.KH_DictMat": 101, "__main__.KH_DictLazy": 202, "__main__.KH_Slots": 303,
    "__main__.KH_IntSub": 404, "__main__.KH_StrSub": 505, "__main__.KH_ListSub": 606,
    "__main__.KH_DictSub": 707, "__main__.KH_TupleSub": 808, "__main__.KH_Cycle": 909,
    "__main__.KH_Frozen": 111, "__main__.KH_Garbage": 222, "__main__.KH_Traced": 1100,
}
# Classes whose instances set attributes but whose __dict__ is never touched.
LAZY = ("__main__.KH_DictLazy", "__main__.KH_Cycle", "__main__.KH_Frozen",
        "__main__.KH_Garbage", "__main__.KH_Traced")
# Builtin subclasses: a __dict__ is possible, but no attribute is ever set.
NO_ATTRS = ("__main__.KH_IntSub", "__main__.KH_StrSub", "__main__.KH_ListSub",
            "__main__.KH_DictSub", "__main__.KH_TupleSub")
BUILT_TYPES = {
    "closure": "function", "cell": "types.CellType", "generator": "types.GeneratorType",
    "coroutine_created": "types.CoroutineType", "coroutine_suspended": "types.CoroutineType",
    "task": "_asyncio.Task",
    "decimal": "decimal.Decimal", "dict_nonstr": "dict", "dict_str": "dict", "list": "list",
    "tuple": "tuple", "set": "set", "frozenset": "frozenset", "str_ascii": "str",
    "str_latin1": "str", "str_ucs2": "str", "str_ucs4": "str", "str_utf8": "str",
    "int_big": "int", "float": "float", "bytes": "bytes", "bytearray": "bytearray",
    "buffered": "_io.BufferedReader", "struct": "_struct.Struct", "array": "array.array",
}
# 3.8's _struct.Struct is a static type whose tp_name has no module: Python calls it
# builtins.Struct there.
BUILT_TYPES_38 = {"struct": "builtins.Struct"}


def version_of(report):
    return tuple(report["version"][:3])


class TargetsSelfCheck(common.InterpTestCase):

    def check_version(self, interp, report):
        self.assertEqual(tuple(report["version"][:2]), interp.minor)
        self.assertIsInstance(report["pid"], int)
        self.assertGreater(report["pid"], 0)

    def run_target(self, interp, script, args, body):
        with common.Target(interp, script, args) as t:
            body(t.report)
            self.assertEqual(t.command("ping"), "pong")
            rc = t.quit()
            err = "" if rc == 0 else t.proc.stderr.read()
            self.assertEqual(rc, 0, "%s %s quit: %s" % (script, " ".join(args), err[-2000:]))

    # ---- numpy_heap -------------------------------------------------------------------------

    def check_numpy_heap(self, interp, r):
        self.assertEqual(r["minor"], interp.minor[1])
        arrays = r["arrays"]
        self.assertEqual(len(arrays), 14)
        self.assertEqual(len(set(a["id"] for a in arrays)), 14)
        # grid's slice, transpose and strided view; the array over a bytes buffer; the
        # reshaped object array; the second subclass instance: views. The rest own their data.
        views = [1, 2, 3, 9, 11, 13]
        self.assertEqual([i for i, a in enumerate(arrays) if not a["owndata"]], views)
        self.assertEqual([a["ndim"] for a in arrays], [2, 2, 2, 2, 1, 0, 1, 3, 1, 1, 1, 2, 1, 2])
        # An owning array is at least its data: 1000 int32 items.
        self.assertGreater(arrays[8]["size"], 4000)
        self.assertEqual(r["only_in_array"]["count"], 37)

    def test_numpy_heap(self):
        self.for_each_interp(
            lambda i: self.run_target(i, "numpy_heap.py", [], lambda r: self.check_numpy_heap(i, r)),
            interps=common.numpy_interpreters())

    # ---- known_heap -------------------------------------------------------------------------

    def check_known_heap(self, interp, r):
        self.check_version(interp, r)
        ver = version_of(r)
        eager = interp.minor < (3, 11)
        self.assertFalse(r["gc_enabled"])
        self.assertEqual(r["probe"]["eager_dicts"], eager)
        if not r["probe"]["materialised_dict_is_referent"]:
            # Only 3.13.0 is known to hide materialised dicts from gc.get_referents.
            self.assertEqual(ver, (3, 13, 0), "probe blind on %s" % (ver,))
        verifiable = eager or r["probe"]["materialised_dict_is_referent"]

        # Per class: exact counts, one size per instance, dict states.
        self.assertEqual(sorted(r["classes"]), sorted(KNOWN_CLASSES))
        for name, n in KNOWN_CLASSES.items():
            c = r["classes"][name]
            self.assertEqual(c["count"], n, name)
            self.assertEqual(c["expected"], n, name)
            t = r["types"][name]
            self.assertEqual((t["count"], t["size"]), (c["count"], c["size"]), name)
            self.assertEqual(t["module"], "__main__")
            self.assertTrue(t["heap"])
        mat = r["classes"]["__main__.KH_DictMat"]
        self.assertEqual(mat["dict_state"], "materialised")
        self.assertEqual(mat["dict_count"], 101)
        self.assertEqual(r["classes"]["__main__.KH_Slots"]["dict_state"], "absent")
        self.assertEqual(r["classes"]["__main__.KH_Slots"]["instance_size"], 48)
        for name in ("__main__.KH_DictMat", "__main__.KH_DictLazy", "__main__.KH_Slots",
                     "__main__.KH_Cycle", "__main__.KH_Frozen", "__main__.KH_Garbage",
                     "__main__.KH_Traced"):
            c = r["classes"][name]
            # Fixed-size instances: every instance has the same getsizeof.
            self.assertEqual(c["size"], c["count"] * c["instance_size"], name)
            self.assertIn(c["instance_size"], (48, 56), name)
        for name in LAZY:
            state = r["classes"][name]["dict_state"]
            if eager:
                self.assertEqual(state, "materialised", name)
            else:
                self.assertEqual(state, "absent" if verifiable else "unverified", name)
        for name in NO_ATTRS:
            self.assertEqual(r["classes"][name]["dict_state"],
                             "absent" if verifiable else "unverified", name)
        # "dict of X" rows: exactly the classes with dicts, one dict per instance.
        want_dict_of = set(["dict of __main__.KH_DictMat"])
        if eager:
            want_dict_of |= set("dict of " + n for n in LAZY)
        self.assertEqual(set(r["dict_of"]), want_dict_of)
        for key, row in r["dict_of"].items():
            c = r["classes"][key[len("dict of "):]]
            self.assertEqual(row["count"], c["count"], key)
            self.assertEqual(row["size"], c["dict_size"], key)
            self.assertTrue(64 <= row["size"] / row["count"] <= 400, (key, row))

        # Builtin groups: present, within the type totals.
        self.assertEqual(sorted(r["built"]), sorted(BUILT_TYPES))
        per_type = {}
        for cat, b in r["built"].items():
            want = BUILT_TYPES_38.get(cat) if interp.minor == (3, 8) else None
            self.assertEqual(b["type"], want or BUILT_TYPES[cat], cat)
            self.assertGreater(b["count"], 100, cat)
            self.assertGreater(b["size"], b["count"] * 16, cat)
            per_type.setdefault(b["type"], [0, 0])
            per_type[b["type"]][0] += b["count"]
            per_type[b["type"]][1] += b["size"]
        for tname, (count, size) in per_type.items():
            self.assertIn(tname, r["types"])
            self.assertGreaterEqual(r["types"][tname]["count"], count, tname)
            self.assertGreaterEqual(r["types"][tname]["size"], size, tname)
        self.assertEqual(r["built"]["cell"]["count"], 2 * r["built"]["closure"]["count"])
        # UTF-8 caches are counted by getsizeof: the cached group is bigger per str than the
        # uncached ones of similar length.
        per_str = dict((k, r["built"][k]["size"] / float(r["built"][k]["count"]))
                       for k in ("str_latin1", "str_ucs2", "str_utf8"))
        self.assertGreater(per_str["str_utf8"], per_str["str_latin1"])

        # Totals are the sum of the rows.
        self.assertEqual(r["total"]["count"], sum(t["count"] for t in r["types"].values()))
        self.assertEqual(r["total"]["size"], sum(t["size"] for t in r["types"].values()))
        self.assertGreater(r["total"]["count"], 20000)
        # Names are heapy's: "types.X" or a builtins name where those modules name the type,
        # else module.qualname.
        for name, t in r["types"].items():
            plain = "%s.%s" % (t["module"], t["qualname"])
            self.assertTrue(name == plain or name.startswith("types.") or
                            (t["module"] == "builtins" and name in (t["qualname"], "function",
                                                                     "module")), name)

        g = r["garbage"]
        self.assertTrue(g["alive"])
        self.assertEqual((g["rings"], g["instances"]), (111, 222))
        self.assertEqual(g["objects"], 444 if eager else 222)
        self.assertEqual(r["frozen"]["count"], 111)
        self.assertGreater(r["freeze_count"], 1000)

        tm = r["tracemalloc"]
        self.assertEqual(tm["instances"], 1000)
        self.assertEqual(tm["allocations_per_instance"], int(tm["allocations_per_instance"]))
        self.assertIn(int(tm["allocations_per_instance"]), (1, 2, 3))
        self.assertEqual(tm["bytes_per_instance"], int(tm["bytes_per_instance"]))
        self.assertGreaterEqual(tm["bytes_per_instance"], tm["getsizeof"])
        self.assertEqual(tm["getsizeof"], r["classes"]["__main__.KH_Traced"]["instance_size"])

    def test_known_heap(self):
        def body(interp):
            def check(report):
                self.check_known_heap(interp, report)
            with common.Target(interp, "known_heap.py") as t:
                check(t.report)
                self.assertEqual(t.command("ping"), "pong")
                self.assertEqual(t.command("check"), "OK")
                self.assertEqual(t.command("report"), "REPORT " + _dumps(t.report))
                self.assertEqual(t.command("nonsense")[:3], "ERR")
                rc = t.quit()
                err = "" if rc == 0 else t.proc.stderr.read()
                self.assertEqual(rc, 0, "known_heap quit: %s" % err[-2000:])
        self.for_each_interp(body)

    # ---- nanotime ---------------------------------------------------------------------------

    def check_nanotime(self, interp, args, r):
        self.check_version(interp, r)
        eager = interp.minor < (3, 11)
        self.assertEqual(r["count"], 100000)
        self.assertEqual(r["class"], "__main__.NanoTime")
        self.assertEqual(r["slots"], "slots" in args)
        self.assertEqual(r["materialise"], "materialise" in args)
        self.assertEqual(r["eager_dicts"], eager and "slots" not in args)
        self.assertEqual(r["value_size"], 36)  # 1.7e18 needs three 30-bit digits
        rows = r["rows"]
        self.assertEqual(rows["__main__.NanoTime"], [100000, 100000 * r["instance_size"]])
        if "slots" in args:
            self.assertEqual(r["instance_size"], 40)
            self.assertIsNone(r["dict_size"])
            self.assertEqual(r["dicts"], 0)
            self.assertNotIn("dict of __main__.NanoTime", rows)
        elif "materialise" in args or eager:
            self.assertIn(r["instance_size"], (48, 56))
            self.assertEqual(r["dicts"], 100000)
            self.assertIn(r["dict_size"], (80, 104))
            self.assertEqual(rows["dict of __main__.NanoTime"], [100000, 100000 * r["dict_size"]])
        else:
            self.assertIn(r["instance_size"], (48, 56))
            self.assertEqual(r["dicts"], 0)
            self.assertIsNone(r["dict_size"])
            self.assertNotIn("dict of __main__.NanoTime", rows)

    def test_nanotime(self):
        def body(interp):
            for args in ((), ("slots",), ("materialise",)):
                self.run_target(interp, "nanotime.py", args,
                                lambda r, a=args: self.check_nanotime(interp, a, r))
        self.for_each_interp(body)

    # ---- demo_service and bench_heap (cheaply: they start, report, and stop) ---------------

    def test_demo_service(self):
        def body(interp):
            with common.Target(interp, "demo_service.py") as t:
                self.check_version(interp, t.report)
                self.assertGreaterEqual(t.report["sessions"], 3000)
                stats = t.command("stats")
                self.assertTrue(stats.startswith("STATS "), stats)
                rc = t.quit()
                err = "" if rc == 0 else t.proc.stderr.read()
                self.assertEqual(rc, 0, "demo_service quit: %s" % err[-2000:])
        self.for_each_interp(body)

    def test_bench_heap(self):
        def body(interp):
            def check(r):
                self.check_version(interp, r)
                self.assertEqual(r["count"], 3000)
                self.assertEqual(r["objects_built"],
                                 3000 * (5 if r["instance_dicts"] else 4) + 1)
            self.run_target(interp, "bench_heap.py", ("count=3000",), check)
        self.for_each_interp(body)


def _dumps(report):
    import json
    return json.dumps(report, sort_keys=True, separators=(",", ":"))


if __name__ == "__main__":
    unittest.main()
