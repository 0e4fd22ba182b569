"""Runs every tests/integration/test_*.py module with unittest, prints which interpreters ran,
and ends with one summary line `integration: N passed, N failed, N skipped`.

Arguments: optional module or test name patterns (substrings) to run a subset.
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402


class Result(unittest.TextTestResult):
    """Counts subtests as tests, so a failing interpreter counts once."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0
        self.sub_failed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is None:
            self.passed += 1
        else:
            self.sub_failed += 1


def main():
    patterns = sys.argv[1:]
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        mod = name[:-3]
        tests = loader.loadTestsFromName(mod)
        if patterns:
            flat = []
            stack = [tests]
            while stack:
                t = stack.pop()
                if isinstance(t, unittest.TestSuite):
                    stack.extend(t)
                elif any(p in t.id() for p in patterns):
                    flat.append(t)
            tests = unittest.TestSuite(sorted(flat, key=lambda t: t.id()))
        suite.addTests(tests)
    print("interpreters present:", ", ".join(i.name for i in common.interpreters()))
    runner = unittest.TextTestRunner(verbosity=2, resultclass=Result, stream=sys.stdout)
    result = runner.run(suite)
    print("interpreters that ran:", ", ".join("%s (%d)" % kv for kv in sorted(common.InterpTestCase.ran.items())) or "none")
    missing = common.missing_interpreters()
    if missing:
        print("interpreters NOT tested: %s" % "; ".join(missing))
    failed = len(result.failures) + len(result.errors)
    print("integration: %d passed, %d failed, %d skipped" % (result.passed, failed, len(result.skipped)))
    sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)


if __name__ == "__main__":
    main()
