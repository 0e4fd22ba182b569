"""key_reprs: one dict whose keys are the edge cases of pyheap's dict-key reprs, for `--by via`.

Run as `python -c "<this source>"` (no __file__; Python 3.8+). Module `kr` (types.ModuleType, in
sys.modules) holds `table`, a dict mapping each key of KEYS to its own kr.KeyValue instance,
referred to from nowhere else: `pyheap attach --kind kr.KeyValue --by via` has one row per key,
its label the key's repr as pyheap writes it. The str keys straddle the fast path for short
printable ASCII (lib/walk/text.c: plain_str_repr) and the general one: lengths 0, 1, 50, 51, 56,
57 and 70, a quote, a backslash, a control character, non-ASCII text (1-, 2- and 4-byte kinds),
and a str subclass; beside them an int, a negative int, a float, None, True and a tuple.

Prints `READY <json>`: pid, version, count (keys). Serves stdin: `ping` -> pong, `quit` exits 0.
"""
import json
import os
import sys
import types


class Key(str):
    pass


KEYS = ["", "a", "x" * 50, "y" * 51, "z" * 56, "w" * 57, "v" * 70, "it's", "back\\slash",
        "tab\there", "caf\u00e9", "\u0394\u03b9", "\U0001f600!", Key("sub"), 7, -12, 2.5, None,
        True, ("t", 1)]

kr = types.ModuleType("kr")
exec("class KeyValue(object): pass", kr.__dict__)
sys.modules["kr"] = kr
kr.table = {k: kr.KeyValue() for k in KEYS}

sys.stdout.write("READY " + json.dumps({"pid": os.getpid(), "version": list(sys.version_info),
                                        "count": len(kr.table)}) + "\n")
sys.stdout.flush()
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "quit":
        break
    sys.stdout.write("pong\n" if cmd == "ping" else "ERR unknown command: %r\n" % cmd)
    sys.stdout.flush()
sys.exit(0)
