"""invisible_names: names that hold characters a terminal does not show as themselves, to prove
pyheap escapes every one (lib/escape.c): a class named with U+200B ZERO WIDTH SPACE, U+2028
LINE SEPARATOR, U+E000 (private use), U+E0001 LANGUAGE TAG and U+00AD SOFT HYPHEN, and a
dict key holding a lone surrogate (U+DCFF, which a str can hold and UTF-8 cannot).

Run as `python -c "<this source>"`; prints `READY {"count": N}` and serves stdin: `quit` (or end
of input) exits 0.
"""
import json
import sys

INVISIBLE = "Inv\u200bis\u2028ible\ue000\U000e0001X\u00ad"
Invisible = type(INVISIBLE, (), {})
KEEP = [Invisible() for _ in range(23)]


class SurrogateHeld:
    pass


TABLE = {"k\udcffey": SurrogateHeld()}

print("READY " + json.dumps({"count": len(KEEP)}), flush=True)
for line in sys.stdin:
    if line.strip() == "quit":
        break
sys.exit(0)
