"""key_reprs: one dict whose keys are the edge cases of heapy's dict-key labels, for `--by via`.

Run as `python -c "<this source>"` (no __file__; Python 3.8+). Module `kr` (types.ModuleType, in
sys.modules) holds `table`, a dict mapping each key of KEYS to its own kr.KeyValue instance,
referred to from nowhere else: `pyheap attach --kind kr.KeyValue --by via` has one row per key.
heapy labels each `[reprlib.repr(key)]`; the target reports those labels itself. The str keys
straddle pyheap's fast path for short printable ASCII (lib/walk/text.c: plain_str_repr) and
reprlib's cut at 30 characters (lengths 0, 1, 30, 31, 50, 70), and take each of repr's rules: a
single quote (double quotes then), both quotes, a backslash, tab, newline and another control,
DEL, a no-break space, a zero-width space, 1-, 2- and 4-byte text, a long key with a quote in
its kept end, a str subclass; beside them an int, a negative int, a float, None, True and a
tuple.

Prints `READY <json>`: pid, version, count (keys), labels (heapy's, one per key). Serves stdin:
`ping` -> pong, `quit` exits 0.
"""
import json
import reprlib
import os
import sys
import types


class Key(str):
    pass


KEYS = ["", "a", "x" * 30, "y" * 31, "z" * 50, "v" * 70, "it's", "both'\"", "back\\slash",
        "tab\there", "new\nline", "bell\x07", "del\x7f", "nb\xa0sp", "zw\u200bsp", "caf\u00e9",
        "\u0394\u03b9", "\U0001f600!", "q" * 40 + "'s end", Key("sub"), 7, -12, 2.5, None, True,
        ("t", 1)]

kr = types.ModuleType("kr")
exec("class KeyValue(object): pass", kr.__dict__)
sys.modules["kr"] = kr
kr.table = {k: kr.KeyValue() for k in KEYS}

sys.stdout.write("READY " + json.dumps({"pid": os.getpid(), "version": list(sys.version_info),
                                        "count": len(kr.table),
                                        "labels": ["[%s]" % reprlib.repr(k) for k in KEYS]}) + "\n")
sys.stdout.flush()
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "quit":
        break
    sys.stdout.write("pong\n" if cmd == "ping" else "ERR unknown command: %r\n" % cmd)
    sys.stdout.flush()
sys.exit(0)
