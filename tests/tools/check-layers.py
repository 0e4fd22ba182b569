"""make layers: fail when a file includes a header from a stage it must not depend on.

The folders are the stages of the data flow (README, "Layout"). Each may include its own headers
and those of the stages listed for it here, nothing else; system headers are not checked. The
graph and its views (lib/heap) know nothing of where a heap came from, so a snapshot file, a core
file or a live process can feed them; the process layer knows nothing of Python; cmd/ reaches the
engine only through lib/source (where heaps come from) and lib/heap (what is done with them).

Usage: python3 tests/tools/check-layers.py [ROOT]. Prints every offending line, exits 1 if any.
"""
import os
import re
import sys

# stage: the stages whose headers it may include (its own is always allowed)
ALLOWED = {
    "lib": [],                                   # small shared pieces: errors, escaping, arrays
    "lib/proc": ["lib"],                         # the process: maps, freeze, memory backends
    "symbols": ["lib", "lib/proc"],              # the interpreter and its layout
    "lib/heap": ["lib"],                         # the graph, views, paths, snapshot files
    "lib/walk": ["lib", "lib/proc", "symbols", "lib/heap"],   # memory -> graph
    "lib/source": ["lib", "lib/proc", "symbols", "lib/heap", "lib/walk"],  # pid | core | file
    "cmd": ["lib", "lib/heap", "lib/source"],    # parse, call the engine, print
    "tests/tools": None,                         # test helpers may include anything
    "tests/unit": None,
    "tests/fuzz": None,
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def stage_of(path):
    """The stage a repository path belongs to: its folder ("symbols/tables" counts as symbols)."""
    d = os.path.dirname(path)
    while d and d not in ALLOWED:
        d = os.path.dirname(d)
    return d or None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = 0
    checked = 0
    for top in ("lib", "symbols", "cmd"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith((".c", ".h", ".def")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                own = stage_of(rel)
                if own is None:
                    print("%s: not in any stage folder of tests/tools/check-layers.py" % rel)
                    bad += 1
                    continue
                checked += 1
                with open(full, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        target = stage_of(inc)
                        if target is None or target == own:
                            continue
                        if target not in ALLOWED[own]:
                            print('%s:%d: %s (stage %s) includes "%s" (stage %s)'
                                  % (rel, lineno, rel, own, inc, target))
                            bad += 1
    print("layers: %d files checked, %d include%s against the data flow"
          % (checked, bad, "" if bad == 1 else "s"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
