"""hostile_heap: a heap with objects corrupted on purpose, for pyheap's pointer validation.

Run as `python -c "<this source>" [loop]` (no __file__; Python 3.8+ with ctypes).
The collector is disabled first and never runs again, the corrupted objects are never touched
after they are corrupted, and the target leaves with os._exit: the interpreter itself never
reads what it was given. pyheap must read it all without crashing, hanging or reading out of
bounds, and the target must keep running.

Default: 101 intact instances of HH_Good, and one object for each corruption below, held in a
list of the module. The damage is chosen so that only pointer and bound checks stand between
pyheap and a crash, a hang or a huge allocation:
  list_size     a list whose size says 2**40 items
  list_items    a list whose item array points at unmapped memory
  tuple_size    a 3-tuple whose size says 5000: it reads past its end into the heap
  dict_keys     a dict whose keys table points at unmapped memory
  not_a_type    an HH_Bad instance whose type pointer points at a bytes object's data
  str_length    a str whose length says 2**50 characters
  set_mask      a set whose mask says 2**40 slots
  type_size     a class whose basic size says 2**30 (an instance of it is kept)
  type_name     a class whose tp_name points at unmapped memory (an instance is kept)
`loop`: additionally a list in the permanent generation (gc.freeze()) whose GC link points back
at itself: the GC list never returns to its head.

Prints `READY <json>`: pid, version, good ("__main__.HH_Good"), good_count, cases. Serves stdin:
`ping` -> `pong`; `quit` or end of file -> os._exit(0).
"""
import ctypes
import gc
import json
import os
import sys

gc.disable()
LOOP = "loop" in sys.argv[1:]
UNMAPPED = 0x10  # the first page is never mapped
WORD = ctypes.sizeof(ctypes.c_void_p)


def poke(obj, offset, value):
    ctypes.c_ssize_t.from_address(id(obj) + offset).value = value


class HH_Good(object):
    def __init__(self, i):
        self.i = i


class HH_Bad(object):
    pass


class HH_Huge(object):
    pass


class HH_Nameless(object):
    pass


GOOD = [HH_Good(i) for i in range(101)]
BUFFER = b"\x00" * 4096
KEEP = {}


def corrupt():
    # PyVarObject: ob_refcnt, ob_type, ob_size; list: ob_item, allocated; dict: ma_used,
    # ma_version_tag, ma_keys; set: fill, used, mask, table; type: tp_name at 24, basicsize 32.
    KEEP["list_size"] = [1, 2, 3]
    poke(KEEP["list_size"], 2 * WORD, 1 << 40)
    KEEP["list_items"] = [4, 5, 6]
    poke(KEEP["list_items"], 3 * WORD, UNMAPPED)
    KEEP["tuple_size"] = tuple([7, 8, "nine"])
    poke(KEEP["tuple_size"], 2 * WORD, 5000)
    KEEP["dict_keys"] = {"a": 1, "b": 2}
    poke(KEEP["dict_keys"], 4 * WORD, UNMAPPED)
    KEEP["not_a_type"] = HH_Bad()
    poke(KEEP["not_a_type"], WORD, id(BUFFER) + 64)
    KEEP["str_length"] = "".join(["hostile-", str(os.getpid())])
    poke(KEEP["str_length"], 2 * WORD, 1 << 50)
    KEEP["set_mask"] = set([1, 2, 3])
    poke(KEEP["set_mask"], 4 * WORD, (1 << 40) - 1)
    KEEP["type_size"] = HH_Huge()
    poke(HH_Huge, 4 * WORD, 1 << 30)
    KEEP["type_name"] = HH_Nameless()
    poke(HH_Nameless, 3 * WORD, UNMAPPED)


def make_loop():
    victim = [10, 11, 12]
    gc.freeze()  # everything, victim included, is in the permanent generation now
    # PyGC_Head (gc_next, gc_prev) just before a list: point gc_next at its own head.
    ctypes.c_size_t.from_address(id(victim) - 2 * WORD).value = id(victim) - 2 * WORD
    KEEP["loop"] = victim


corrupt()
if LOOP:
    make_loop()

sys.stdout.write("READY " + json.dumps({
    "pid": os.getpid(), "version": list(sys.version_info), "good": "__main__.HH_Good",
    "good_count": len(GOOD), "cases": sorted(KEEP), "loop": LOOP,
}) + "\n")
sys.stdout.flush()
for line in sys.stdin:
    if line.strip() == "quit":
        break
    sys.stdout.write("pong\n" if line.strip() == "ping" else "ERR\n")
    sys.stdout.flush()
os._exit(0)
