"""evil_names: a target whose class, module and dict-key names carry terminal control sequences
(colour, title change, bell, bidi override), to prove pyheap escapes what it prints.

Run as `python -c "<this source>"`; prints `READY {"class": ..., "count": N}`; `quit` on stdin.
"""
import json
import sys

EVIL_CLASS = "Evil\x1b[31mRED\x07\u202e"
EVIL_MODULE = "mod\x1b]0;owned\x07"
Evil = type(EVIL_CLASS, (), {"__module__": EVIL_MODULE})
KEEP = [Evil() for _ in range(37)]
TABLE = {"\x1b[2J": KEEP[0], "plain": 1}

print("READY " + json.dumps({"class": "%s.%s" % (EVIL_MODULE, EVIL_CLASS), "count": len(KEEP)}),
      flush=True)
for line in sys.stdin:
    if line.strip() == "quit":
        break
sys.exit(0)
