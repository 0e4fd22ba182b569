"""path_steps: one small structure per kind of path step, each ending at an object of its own
class, so that `pyheap path --kind pst.<Class>` has exactly one shortest path to check.

Run as `python -c "<this source>" [CASE ...]` (no __file__; Python 3.8 to 3.15); no CASE builds
them all. Everything hangs from a module `pst` made with types.ModuleType and put in sys.modules,
so paths start Root.i0_modules['pst'].__dict__[...]; the target objects are referred to from
nowhere else (the only exception is `local`, held by the main thread's frame alone).

  CASE         structure                                    target class
  slot         pst.slotted: a __slots__ instance, .item     pst.SlotTarget
  attr         pst.owner: a plain instance, .item           pst.AttrTarget
               (its __dict__ never requested: on 3.11+ the attribute lives in the instance's
               values, not in a dict object)
  attrdict     pst.dictowner: a plain instance, .item,      pst.AttrDictTarget
               with vars() touched (a dict object on every version)
  dictkey      pst.registry: {KeyTarget(): 'value'}         pst.KeyTarget
  tuplekey     pst.table: {('DataSource', 'B'): target}     pst.TupleKeyTarget
  cell         pst.getter: a closure over a local           pst.CellTarget
  setmember    pst.bag: {target}                            pst.SetTarget
  local        `mine`, a local of serve_with_local(), the   pst.LocalTarget
               main thread's innermost Python frame: it is blocked in input() while serving
  garbage      a Garbage instance referring to itself,      pst.Garbage
               dropped with the collector disabled: alive, reachable from no root
  genstack     pst.gen: a generator suspended in the middle pst.GenStackTarget
               of `(GenStackTarget(), (yield))`: the instance is on its value stack alone
  stack        a value on the stack of serve_with_stack(),  pst.StackTarget
               the main thread's second Python frame, in the middle of
               `[StackTarget(), serve_with_local()]` while the callee serves
  future       pst.fut: an asyncio Future of pst.loop (not  pst.FutureTarget
               running) whose result was set: a C field with a Python getter, `_result`
  taskcb       pst.task: an asyncio Task of pst.loop (not   pst.TaskCallbackTarget
               running, never started) with the target, a callable, as its first done
               callback: a C field with no attribute (`->task_callback0`)
  lru          pst.cached: a functools.lru_cache function  pst.LruTarget
               called once, with 7: the result is in its cache dict, a C field with no
               attribute (`->cache[7]`)

Prints `READY <json>`: pid, version, thread_ident (threading.get_ident() of the main thread,
heapy's and pyheap's thread id in root names), cases (built), classes {case: kind name}.
Serves stdin with input(), one reply a line: `ping` -> pong; `quit` -> checks every target is
still in place and exits 0 (1 with reasons on stderr). End of stdin exits 0.
"""
import gc
import json
import os
import sys
import threading
import types

ALL = ("slot", "attr", "attrdict", "dictkey", "tuplekey", "cell", "setmember", "local",
       "garbage", "genstack", "stack", "future", "taskcb", "lru")
CASES = [a for a in sys.argv[1:] if a in ALL] or list(ALL)
unknown = [a for a in sys.argv[1:] if a not in ALL]
if unknown:
    sys.stderr.write("path_steps: unknown cases %r\n" % unknown)
    sys.exit(2)

PST_SOURCE = '''
class SlotTarget(object): pass
class AttrTarget(object): pass
class AttrDictTarget(object): pass
class KeyTarget(object): pass
class TupleKeyTarget(object): pass
class CellTarget(object): pass
class SetTarget(object): pass
class LocalTarget(object): pass
class Garbage(object): pass
class GenStackTarget(object): pass
class StackTarget(object): pass
class FutureTarget(object): pass
class LruTarget(object): pass


class TaskCallbackTarget(object):
    def __call__(self, task):
        pass


class Slotted(object):
    __slots__ = ("item",)


class Owner(object):
    pass


def make_getter(value):
    def getter():
        return value
    return getter


def stack_gen():
    return (GenStackTarget(), (yield))


async def never_started():
    pass
'''

pst = types.ModuleType("pst")
sys.modules["pst"] = pst
exec(compile(PST_SOURCE, "pst.py", "exec"), pst.__dict__)

CLASSES = {"slot": "SlotTarget", "attr": "AttrTarget", "attrdict": "AttrDictTarget",
           "dictkey": "KeyTarget", "tuplekey": "TupleKeyTarget", "cell": "CellTarget",
           "setmember": "SetTarget", "local": "LocalTarget", "garbage": "Garbage",
           "genstack": "GenStackTarget", "stack": "StackTarget", "future": "FutureTarget",
           "taskcb": "TaskCallbackTarget", "lru": "LruTarget"}


def build():
    if "slot" in CASES:
        pst.slotted = pst.Slotted()
        pst.slotted.item = pst.SlotTarget()
    if "attr" in CASES:
        pst.owner = pst.Owner()
        pst.owner.item = pst.AttrTarget()
    if "attrdict" in CASES:
        pst.dictowner = pst.Owner()
        pst.dictowner.item = pst.AttrDictTarget()
        vars(pst.dictowner)
    if "dictkey" in CASES:
        pst.registry = {pst.KeyTarget(): "value"}
    if "tuplekey" in CASES:
        pst.table = {("DataSource", "B"): pst.TupleKeyTarget()}
    if "cell" in CASES:
        pst.getter = pst.make_getter(pst.CellTarget())
    if "setmember" in CASES:
        pst.bag = {pst.SetTarget()}
    if "genstack" in CASES:
        pst.gen = pst.stack_gen()
        next(pst.gen)
    if "future" in CASES or "taskcb" in CASES:
        import asyncio
        pst.loop = asyncio.new_event_loop()
    if "future" in CASES:
        pst.fut = pst.loop.create_future()
        pst.fut.set_result(pst.FutureTarget())
    if "taskcb" in CASES:
        pst.task = pst.loop.create_task(pst.never_started())
        pst.task.add_done_callback(pst.TaskCallbackTarget())
    if "lru" in CASES:
        import functools
        pst.cached = functools.lru_cache(maxsize=None)(lambda key: pst.LruTarget())
        pst.cached(7)
    if "garbage" in CASES:
        gc.disable()  # the cycle stays, alive and unreachable, while pyheap looks
        junk = pst.Garbage()
        junk.self = junk


def garbage_alive():
    return sum(1 for o in gc.get_objects() if type(o) is pst.Garbage)


def check(mine):
    bad = []
    expect = {
        "slot": lambda: type(pst.slotted.item) is pst.SlotTarget,
        "attr": lambda: type(pst.owner.item) is pst.AttrTarget,
        "attrdict": lambda: type(pst.dictowner.item) is pst.AttrDictTarget,
        "dictkey": lambda: [type(k) for k in pst.registry] == [pst.KeyTarget],
        "tuplekey": lambda: type(pst.table[("DataSource", "B")]) is pst.TupleKeyTarget,
        "cell": lambda: type(pst.getter()) is pst.CellTarget,
        "setmember": lambda: [type(x) for x in pst.bag] == [pst.SetTarget],
        "local": lambda: type(mine) is pst.LocalTarget,
        "garbage": lambda: garbage_alive() == 1,
        "genstack": lambda: sum(1 for o in gc.get_objects() if type(o) is pst.GenStackTarget) == 1,
        "stack": lambda: sum(1 for o in gc.get_objects() if type(o) is pst.StackTarget) == 1,
        "future": lambda: type(pst.fut.result()) is pst.FutureTarget,
        "taskcb": lambda: sum(1 for o in gc.get_objects() if type(o) is pst.TaskCallbackTarget) == 1,
        "lru": lambda: pst.cached.cache_info().currsize == 1 and type(pst.cached(7)) is pst.LruTarget,
    }
    for case in CASES:
        if not expect[case]():
            bad.append(case)
    return bad


def serve_with_local():
    """Serve stdin from this frame, so that `mine` is a local of the innermost Python frame of
    the main thread while it waits in input() (a C function: no Python frame above this one)."""
    mine = pst.LocalTarget() if "local" in CASES else None
    sys.stdout.write("READY " + json.dumps({
        "pid": os.getpid(), "version": list(sys.version_info),
        "thread_ident": threading.get_ident(), "cases": CASES,
        "classes": dict((c, "pst." + CLASSES[c]) for c in CASES),
    }, sort_keys=True) + "\n")
    sys.stdout.flush()
    while True:
        try:
            line = input()
        except EOFError:
            return 0
        if line.strip() == "quit":
            bad = check(mine)
            if bad:
                sys.stderr.write("path_steps: changed: %s\n" % ", ".join(bad))
                return 1
            return 0
        sys.stdout.write("pong\n" if line.strip() == "ping" else "ERR unknown command\n")
        sys.stdout.flush()


def serve_with_stack():
    """Call serve_with_local() with a StackTarget already evaluated into this frame's value
    stack: the list display is built only after the callee returns."""
    return [pst.StackTarget() if "stack" in CASES else None, serve_with_local()][1]


build()
sys.exit(serve_with_stack())
