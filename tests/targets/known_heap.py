"""known_heap: a heap whose contents are known, so pyheap's view of it can be checked.

Run as `python -c "<this source>" [args]` (it must not rely on __file__; Python 3.8 to 3.15). It
builds one group of objects per kind the heap walker must handle, prints `READY <json>` with its own
view of its heap, then serves commands on stdin, one reply line each:
  ping    -> pong
  report  -> REPORT <the READY json again>
  check   -> OK | FAIL <reasons>    (the same consistency check as quit, without exiting)
  quit    -> runs the check, cleans up, exits 0 (or 1 with the reasons on stderr)
End of stdin exits 0 quietly.

Every instance group has its own class and its own count (KH_DictMat 101, KH_DictLazy 202, ...),
so per-class rows can be compared exactly. Groups of builtin objects (lists, strs, ints, ...) are
mixed with the interpreter's own objects of those types: the report gives how many this script
built ("built"), and the totals per type over the whole heap ("types"), which a caller compares
within a tolerance: the READY string, stdin buffers and the like exist when pyheap looks and did
not when the report was computed.

The report (keys of the READY json):
  pid, version, hexversion, debug_build, gc_enabled, freeze_count, argv
  types     {name: {module, qualname, heap, count, size}} over the set S (below); name is
            heapy-style: qualname for builtins ("str", "dict", "function", "cell"), else
            "module.qualname" ("__main__.KH_Slots", "decimal.Decimal", "_asyncio.Task").
  total     {count, size} over S.
  classes   {"__main__.KH_X": {count, size, expected, instance_size, dict_state,
            dict_count, dict_size}}: instances of each of our classes in S; expected is the
            number built. dict_state: "materialised" (every instance has a dict object),
            "absent" (none has), "partial", or "unverified" (see PROBE below).
  dict_of   {"dict of __main__.KH_X": {count, size}} heapy's "dict of" row for each of our
            classes whose instances have dict objects.
  built     {category: {type, count, size}}: objects of builtin types this script built.
  garbage   unreachable cycles kept alive by gc.disable(): class, rings, instances, objects
            (instances plus their dict objects), all still alive at report time.
  frozen    class built before gc.freeze(), and gc.get_freeze_count().
  tracemalloc  bytes and allocations per instance of KH_Traced (2 attributes, dict never
            materialised), traced from the creating line and __init__ only, over 1000
            instances created after 100 warm-up ones (KH_Traced has 1100 instances in all).
  probe     how dicts were detected on this version (below).

S, the object set: gc.get_objects() plus a few roots (sys.modules, gc.garbage: frozen objects
are in no generation gc.get_objects() lists, on any version 3.8-3.15), closed under
gc.get_referents, iteratively, by id. The report's own containers (the id set, the object list,
the gc.get_objects() list, the reporting frame) are excluded by id; everything the report creates
after S is fixed (counters, names, the json string) is not in S by construction, and is freed
before READY except the json string itself (kept in REPORT for the `report` command). Executing
frames are not in S (3.8-3.10: untracked frame objects nothing in S refers to; 3.11+: not
objects), while suspended generators' and coroutines' frames are (3.8-3.10) - pyheap, walking
thread states, may count the executing ones.

Managed dicts and the PROBE (measured on 3.8.18, 3.9.18, 3.10.13, 3.11.2, 3.11.7, 3.12.1,
3.13.0, 3.13.18, 3.14.10, 3.15.2, 64-bit):
  * 3.8-3.10: an instance's __dict__ is a real dict created by the first attribute store; it is
    a referent of the instance. sys.getsizeof: instance 48, its 2-attribute split dict 104.
  * 3.11+: attributes live in a values array (3.11/3.12: separate allocation; 3.13+: inline in
    the object) and no dict exists until someone asks for __dict__ (vars(), obj.__dict__,
    heapy's dict-pointer lookup). gc.get_referents(obj) visits the values and does NOT create
    the dict: tracemalloc sees 0 bytes allocated by get_referents over 1000 such instances on
    every version, and getsizeof allocates nothing either. Once materialised, the dict is a
    referent of the instance (3.11, 3.12, 3.13.18, 3.14, 3.15) - except 3.13.0, where
    tp_traverse keeps visiting the inline values and never the dict, so a materialised dict is
    invisible to gc.get_referents there. sys.getsizeof: instance 56 on 3.11 and 48 on 3.12+,
    unchanged by materialisation; the materialised 2-attribute dict 88.
  * tracemalloc bytes per 2-attribute instance (dict never touched): 152 in 2 allocations on
    3.8-3.10 (object 48 + dict with values 104), 88 in 2 on 3.11, 80 in 2 on 3.12, 88 in 1
    on 3.13+ (values inline). getsizeof alone misses the values array. Caveat: the first ~25
    instances of a class on 3.11+ get larger value storage (3.11: arrays of 40..240 bytes instead
    of 32; 3.13: objects of 96..304 bytes instead of 88) while the class's shared keys settle,
    hence the warm-up instances before measuring.
  * Builtin subclasses with a possible __dict__ (none materialised): getsizeof of a KH_IntSub
    (10**12 + i) is 48 up to 3.11 and 64 from 3.12, where the managed-dict pre-header is counted
    for these too.
  So the probe is: a dict among gc.get_referents(instance) is its __dict__ (our classes never
  hold dicts in attributes). A self-test at start-up (a throwaway instance, looked at before and
  after touching its __dict__) says whether dicts are eager (3.8-3.10) and whether a materialised
  dict is visible to the probe; where it is not (3.13.0) the classes we never materialised are
  reported "unverified" (they were never touched, so they are unmaterialised), and the dicts we
  materialised on purpose (KH_DictMat) are read with obj.__dict__, which then creates nothing,
  and added to S (pyheap, reading the managed-dict pointer, sees them).

Strings: str.encode() does not fill a str's UTF-8 cache; compile(str) does (sys.getsizeof then
counts the cache: the 8-character UCS-2 str "'\u20ac12345'" goes from 74 to 85 bytes on 3.12, from
90 to 101 on 3.8-3.11). The "str_utf8"
group has its cache filled that way; the other str groups have none.
"""
import array
import asyncio
import collections
import decimal
import dis
import gc
import io
import json
import os
import struct
import sys
import tracemalloc
import types
import weakref

gc.disable()  # nothing is collected behind our back; the garbage group depends on it

KEEP = {}  # category -> list of objects built (the only root of everything we build)
MATERIALISED = set()  # classes whose instances' __dict__ we touched on purpose
PROBE = {}
REPORT = None
# Py_TPFLAGS_MANAGED_DICT (3.11+; bit 4 is unused before): instances may keep attributes in
# storage sys.getsizeof does not count.
TPFLAGS_MANAGED_DICT = 1 << 4 if sys.version_info >= (3, 11) else 0
LOOP = None
FUTURE = None


def _qualname(cls):
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def _has_dict(o):
    """The instance's dict object, if one exists, found without creating one."""
    for r in gc.get_referents(o):
        if type(r) is dict:
            return r
    return None


def _self_test_probe():
    class Probe(object):
        def __init__(self):
            self.x = 1
            self.y = "p"

    p = Probe()
    eager = _has_dict(p) is not None
    p.__dict__  # materialise
    visible = _has_dict(p) is not None
    PROBE["eager_dicts"] = eager
    PROBE["materialised_dict_is_referent"] = visible
    PROBE["method"] = "dict among gc.get_referents(instance)"


_self_test_probe()


# ---- classes, one per group ------------------------------------------------------------------

class KH_DictMat(object):
    """__dict__ materialised (obj.__dict__ touched after construction)."""

    def __init__(self, i):
        self.ident = i + 100000
        self.label = "mat-%d" % i


class KH_DictLazy(object):
    """Same shape, __dict__ never touched: no dict object on 3.11+."""

    def __init__(self, i):
        self.ident = i + 200000
        self.label = "lazy-%d" % i


class KH_Slots(object):
    __slots__ = ("ident", "label")

    def __init__(self, i):
        self.ident = i + 300000
        self.label = "slots-%d" % i


class KH_IntSub(int):
    pass


class KH_StrSub(str):
    pass


class KH_ListSub(list):
    pass


class KH_DictSub(dict):
    pass


class KH_TupleSub(tuple):
    pass


class KH_Cycle(object):
    """Rings of 3 nodes, reachable (kept in KEEP)."""

    def __init__(self, i):
        self.ident = i
        self.next = None


class KH_Frozen(object):
    """Built before gc.freeze(): these sit in the permanent generation."""

    def __init__(self, i):
        self.ident = i + 400000


class KH_Garbage(object):
    """Rings of 2 nodes, unreachable, alive only because the GC is disabled."""

    def __init__(self, i):
        self.ident = i  # small int: no object owned by the garbage but the instance (+ dict)
        self.peer = None


class KH_Traced(object):
    """Measured with tracemalloc; its __dict__ is never touched."""

    def __init__(self, a, b):
        self.a = a
        self.b = b


TRACED_N = 1000  # KH_Traced instances created under tracemalloc (after 100 warm-up ones)
N = {
    KH_DictMat: 101, KH_DictLazy: 202, KH_Slots: 303, KH_IntSub: 404, KH_StrSub: 505,
    KH_ListSub: 606, KH_DictSub: 707, KH_TupleSub: 808, KH_Cycle: 909, KH_Frozen: 111,
    KH_Garbage: 222, KH_Traced: 1100,
}


# ---- tracemalloc: bytes per KH_Traced instance -----------------------------------------------

def _traced_build(out, idx):
    for i in idx:
        out[i] = KH_Traced(None, True)


def _code_lines(code):
    return set(line for _, line in dis.findlinestarts(code) if line is not None)


def build_traced():
    n = TRACED_N
    # Warm-up instances, kept alive: on 3.11+ the first ~25 instances of a class get larger
    # attribute-value arrays (up to 240 bytes instead of 32 on 3.11, objects up to 304 bytes
    # instead of 88 on 3.13) while the class's shared keys settle; and freeing them would feed
    # the dict free list (3.8-3.10), hiding allocations of the measured ones.
    warm = [None] * (N[KH_Traced] - n)
    _traced_build(warm, list(range(len(warm))))
    drain = [{} for _ in range(100)]  # empty the dict free list: every dict below is malloc'd
    out = [None] * n
    idx = list(range(n))
    lines = _code_lines(KH_Traced.__init__.__code__)
    lines.add(max(_code_lines(_traced_build.__code__)))  # the constructing line
    filename = _traced_build.__code__.co_filename
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    _traced_build(out, idx)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = count = 0
    for stat in after.compare_to(before, "lineno"):
        frame = stat.traceback[0]
        if frame.filename == filename and frame.lineno in lines:
            size += stat.size_diff
            count += stat.count_diff
    del before, after, drain
    KEEP["traced"] = warm + out
    return {
        "class": _qualname(KH_Traced), "instances": n, "bytes": size, "allocations": count,
        "bytes_per_instance": size / float(n), "allocations_per_instance": count / float(n),
        "getsizeof": sys.getsizeof(out[0]),
    }


TRACED = build_traced()


# ---- everything else -------------------------------------------------------------------------

def build_frozen():
    KEEP["frozen"] = [KH_Frozen(i) for i in range(N[KH_Frozen])]


def build_instances():
    mat = [KH_DictMat(i) for i in range(N[KH_DictMat])]
    for o in mat:
        o.__dict__  # materialise (3.11+); a no-op on 3.8-3.10
    MATERIALISED.add(KH_DictMat)
    KEEP["dictmat"] = mat
    KEEP["dictlazy"] = [KH_DictLazy(i) for i in range(N[KH_DictLazy])]
    KEEP["slots"] = [KH_Slots(i) for i in range(N[KH_Slots])]
    KEEP["intsub"] = [KH_IntSub(10 ** 12 + i) for i in range(N[KH_IntSub])]
    KEEP["strsub"] = [KH_StrSub("strsub-%d" % i) for i in range(N[KH_StrSub])]
    KEEP["listsub"] = [KH_ListSub([i, i + 1, i + 2]) for i in range(N[KH_ListSub])]
    KEEP["dictsub"] = [KH_DictSub({1: i, 2: i + 1}) for i in range(N[KH_DictSub])]
    KEEP["tuplesub"] = [KH_TupleSub((i, i + 1)) for i in range(N[KH_TupleSub])]
    nodes = [KH_Cycle(i) for i in range(N[KH_Cycle])]
    for k in range(0, len(nodes), 3):
        a, b, c = nodes[k:k + 3]
        a.next, b.next, c.next = b, c, a
    KEEP["cycle"] = nodes


def _make_closure(i):
    x = i
    y = "cell-%d" % i

    def inner():
        return x, y
    return inner


def _gen(i):
    yield i
    yield i + 1


@types.coroutine
def _suspend():
    yield "kh"


async def _coro(i):
    await _suspend()
    return i


async def _task_body(i):
    await FUTURE
    return i


BUILT_N = collections.OrderedDict([
    ("closure", ("function", 113)), ("cell", ("cell", 226)), ("generator", ("generator", 127)),
    ("coroutine_created", ("coroutine", 131)), ("coroutine_suspended", ("coroutine", 137)),
    ("task", ("_asyncio.Task", 139)), ("decimal", ("decimal.Decimal", 149)),
    ("dict_nonstr", ("dict", 151)), ("dict_str", ("dict", 157)), ("list", ("list", 163)),
    ("tuple", ("tuple", 167)), ("set", ("set", 173)), ("frozenset", ("frozenset", 179)),
    ("str_ascii", ("str", 181)), ("str_latin1", ("str", 191)), ("str_ucs2", ("str", 193)),
    ("str_ucs4", ("str", 197)), ("str_utf8", ("str", 199)), ("int_big", ("int", 211)),
    ("float", ("float", 223)), ("bytes", ("bytes", 227)), ("bytearray", ("bytearray", 229)),
    ("buffered", ("_io.BufferedReader", 233)),
    ("struct", ("_struct.Struct", 239)),
    ("array", ("array.array", 241)),
])


def build_builtins():
    global LOOP, FUTURE

    def n(cat):
        return BUILT_N[cat][1]

    KEEP["closure"] = [_make_closure(i) for i in range(n("closure"))]
    KEEP["cell"] = [c for f in KEEP["closure"] for c in f.__closure__]
    gens = [_gen(i) for i in range(n("generator"))]
    for g in gens:
        next(g)
    KEEP["generator"] = gens
    KEEP["coroutine_created"] = [_coro(i) for i in range(n("coroutine_created"))]
    coros = [_coro(i) for i in range(n("coroutine_suspended"))]
    for c in coros:
        c.send(None)  # suspended in _suspend()
    KEEP["coroutine_suspended"] = coros
    # Tasks: run until each blocks on FUTURE, then the loop stops (it is not running when
    # pyheap looks; the tasks are pending).
    LOOP = asyncio.new_event_loop()
    FUTURE = LOOP.create_future()
    KEEP["task"] = [LOOP.create_task(_task_body(i)) for i in range(n("task"))]
    LOOP.call_soon(LOOP.stop)  # queued after every task's first step: one loop iteration
    LOOP.run_forever()
    KEEP["decimal"] = [decimal.Decimal("%d.%03d" % (i, i % 1000)) for i in range(n("decimal"))]
    KEEP["dict_nonstr"] = [{i: i, (i, "k"): 1.5, 3: "v"} for i in range(n("dict_nonstr"))]
    KEEP["dict_str"] = [{"alpha": i, "beta": "b"} for i in range(n("dict_str"))]
    KEEP["list"] = [[i, "x", None] for i in range(n("list"))]
    KEEP["tuple"] = [tuple([i, i + 1, "t"]) for i in range(n("tuple"))]
    KEEP["set"] = [set([i, i + 1, i + 2]) for i in range(n("set"))]
    KEEP["frozenset"] = [frozenset([i, -i - 1]) for i in range(n("frozenset"))]
    KEEP["str_ascii"] = ["ascii-%06d" % i for i in range(n("str_ascii"))]
    KEEP["str_latin1"] = ["latin1-\u00e9%06d" % i for i in range(n("str_latin1"))]
    KEEP["str_ucs2"] = ["ucs2-\u20ac%06d" % i for i in range(n("str_ucs2"))]
    KEEP["str_ucs4"] = ["ucs4-\U0001F600%06d" % i for i in range(n("str_ucs4"))]
    kinds = ("\u00e9", "\u20ac", "\U0001F600")
    utf8 = ["#utf8-%s%06d" % (kinds[i % 3], i) for i in range(n("str_utf8"))]
    for s in utf8:
        compile(s, "<kh>", "exec")  # fills the str's UTF-8 cache (a comment: compiles to nothing)
    KEEP["str_utf8"] = utf8
    KEEP["int_small"] = [i for i in range(-5, 257)]  # cached singletons: no new objects
    KEEP["int_big"] = [10 ** 20 + i for i in range(n("int_big"))]
    KEEP["float"] = [i + 0.25 for i in range(n("float"))]
    KEEP["bytes"] = [b"bytes-%06d" % i for i in range(n("bytes"))]
    KEEP["bytearray"] = [bytearray(b"ba-%06d" % i) for i in range(n("bytearray"))]
    # Buffered readers over in-memory streams (no file descriptors), each with its own buffer
    # size (__sizeof__ adds it); every third closed, which frees the buffer.
    readers = [io.BufferedReader(io.BytesIO(b"kh"), 64 + i) for i in range(n("buffered"))]
    for r in readers[::3]:
        r.close()
    KEEP["buffered"] = readers
    # Structs of 0 to 4 format codes (padding has none; Struct.__sizeof__ counts each).
    formats = ("", "%dx", "i%ds", "%dxqh", "<%di3s?p")
    KEEP["struct"] = [struct.Struct(formats[i % 5].replace("%d", str(1 + i)))
                      for i in range(n("struct"))]
    # Arrays of each item size, empty or not, some grown past their length (append
    # over-allocates; __sizeof__ counts the allocation).
    codes = "bhiqdB"
    arrays = [array.array(codes[i % 6], range(i % 17)) for i in range(n("array"))]
    for a in arrays[::4]:
        a.append(1)
    KEEP["array"] = arrays


GARBAGE = []  # weak references to one node of each unreachable ring


def build_garbage():
    for i in range(N[KH_Garbage] // 2):
        a = KH_Garbage(i)
        b = KH_Garbage(i)
        a.peer = b
        b.peer = a
        GARBAGE.append(weakref.ref(a))  # a weakref does not make its referent reachable


build_frozen()
gc.collect()  # the probe's throwaway class and build temporaries, before freezing
gc.freeze()
build_instances()
build_builtins()
gc.collect()
build_garbage()
json.dumps({"warm": [1, "up"]})  # first-call work of the encoder happens before the report


# ---- the report ------------------------------------------------------------------------------

def _heapy_names():
    """heapy's names for types (guppy3 Summary_str): types the `types` module names are
    "types.X" (the last alias in sorted order wins), builtins by their builtins name, and
    function and module short. Built from this interpreter's own modules."""
    import builtins
    import types as types_module
    names = {}
    for k, v in sorted(types_module.__dict__.items()):
        if isinstance(v, type):
            names[id(v)] = "types." + k
    for k, v in sorted(builtins.__dict__.items()):
        if isinstance(v, type):
            names[id(v)] = k
    names[id(types_module.FunctionType)] = "function"
    names[id(types_module.ModuleType)] = "module"
    return names


_HEAPY_NAMES = _heapy_names()


def _type_name(t, cache):
    key = id(t)
    hit = cache.get(key)
    if hit is None:
        # Through type's own descriptors, so a metaclass cannot run code here.
        module = type.__dict__["__module__"].__get__(t, type)
        qualname = type.__dict__["__qualname__"].__get__(t, type)
        if not isinstance(module, str):
            module = str(module)
        name = _HEAPY_NAMES.get(key) or "%s.%s" % (module, qualname)
        hit = (name, module, qualname, bool(t.__flags__ & (1 << 9)))
        cache[key] = hit
    return hit


def _closure():
    """S as a list of objects; see the module docstring."""
    frame = sys._getframe()
    seen = set()
    objs = []
    skip = set()
    roots = gc.get_objects()
    for x in (frame, seen, objs, skip, roots):
        skip.add(id(x))
    roots.append(sys.modules)
    roots.append(gc.garbage)
    for o in roots:
        k = id(o)
        if k not in seen and k not in skip:
            seen.add(k)
            objs.append(o)
    del roots
    i = 0
    while True:
        while i < len(objs):
            for r in gc.get_referents(objs[i]):
                k = id(r)
                if k not in seen and k not in skip:
                    seen.add(k)
                    objs.append(r)
            i += 1
        # Dicts we materialised on purpose, in case tp_traverse does not show them (3.13.0).
        grew = False
        for o in KEEP["dictmat"]:
            d = o.__dict__
            if id(d) not in seen:
                seen.add(id(d))
                objs.append(d)
                grew = True
        if not grew:
            break
    del frame, seen, skip
    return objs


def _instance_dict(o, cls):
    if cls in MATERIALISED:
        return o.__dict__  # exists already: reading it creates nothing
    return _has_dict(o)


def _report():
    objs = _closure()
    names = {}
    types_ = {}
    total_count = total_size = 0
    by_class = dict((c, []) for c in N)
    for o in objs:
        t = type(o)
        name, module, qualname, heap = _type_name(t, names)
        size = sys.getsizeof(o, 0)
        e = types_.get(name)
        if e is None:
            e = types_[name] = {"module": module, "qualname": qualname, "heap": heap,
                                "managed_dict": bool(t.__flags__ & TPFLAGS_MANAGED_DICT),
                                "count": 0, "size": 0}
        e["count"] += 1
        e["size"] += size
        total_count += 1
        total_size += size
        if t in by_class:
            by_class[t].append(o)
    del objs, o
    classes = {}
    dict_of = {}
    verifiable = PROBE["eager_dicts"] or PROBE["materialised_dict_is_referent"]
    for cls, insts in by_class.items():
        name = _qualname(cls)
        dcount = dsize = 0
        for o in insts:
            d = _instance_dict(o, cls)
            if d is not None:
                dcount += 1
                dsize += sys.getsizeof(d)
        if dcount and dcount == len(insts):
            state = "materialised"
        elif dcount:
            state = "partial"
        elif cls.__dictoffset__ == 0 or verifiable:
            state = "absent"
        else:
            state = "unverified"
        classes[name] = {
            "count": len(insts), "size": sum(sys.getsizeof(o) for o in insts),
            "expected": N[cls], "instance_size": sys.getsizeof(insts[0]) if insts else None,
            "dict_state": state, "dict_count": dcount, "dict_size": dsize,
        }
        if dcount:
            dict_of["dict of " + name] = {"count": dcount, "size": dsize}
    del by_class, insts
    built = {}
    for cat, (tname, n) in BUILT_N.items():
        items = KEEP[cat]
        assert len(items) == n, (cat, len(items), n)
        tname = _type_name(type(items[0]), {})[0]  # heapy's name, as in "types"
        built[cat] = {"type": tname, "count": n, "size": sum(sys.getsizeof(x) for x in items)}
    garbage_dicts = classes[_qualname(KH_Garbage)]["dict_count"]
    report = {
        "pid": os.getpid(),
        "version": list(sys.version_info),
        "hexversion": sys.hexversion,
        "debug_build": hasattr(sys, "gettotalrefcount"),
        "gc_enabled": gc.isenabled(),
        "freeze_count": gc.get_freeze_count(),
        "argv": sys.argv[1:],
        "types": types_,
        "total": {"count": total_count, "size": total_size},
        "classes": classes,
        "dict_of": dict_of,
        "built": built,
        "garbage": {
            "class": _qualname(KH_Garbage), "rings": len(GARBAGE),
            "instances": N[KH_Garbage], "objects": N[KH_Garbage] + garbage_dicts,
            "alive": all(r() is not None for r in GARBAGE),
        },
        "frozen": {"class": _qualname(KH_Frozen), "count": N[KH_Frozen],
                   "freeze_count": gc.get_freeze_count()},
        "tracemalloc": TRACED,
        "probe": dict(PROBE),
    }
    return json.dumps(report, sort_keys=True, separators=(",", ":"))


# ---- consistency check and command loop ------------------------------------------------------

def _suspended(x):
    if hasattr(x, "cr_suspended"):
        return x.cr_suspended
    if hasattr(x, "gi_suspended"):
        return x.gi_suspended
    frame = x.cr_frame if hasattr(x, "cr_frame") else x.gi_frame
    return frame is not None and frame.f_lasti != -1


def check():
    """Reasons the heap is no longer what was reported (empty when all is well)."""
    bad = []
    for cls, n in N.items():
        key = {KH_DictMat: "dictmat", KH_DictLazy: "dictlazy", KH_Slots: "slots",
               KH_IntSub: "intsub", KH_StrSub: "strsub", KH_ListSub: "listsub",
               KH_DictSub: "dictsub", KH_TupleSub: "tuplesub", KH_Cycle: "cycle",
               KH_Frozen: "frozen", KH_Traced: "traced"}.get(cls)
        if key is None:
            continue
        items = KEEP[key]
        if len(items) != n or any(type(o) is not cls for o in items):
            bad.append("%s: %d instances" % (cls.__name__, len(items)))
    for cat, (_, n) in BUILT_N.items():
        if len(KEEP[cat]) != n:
            bad.append("%s: %d objects" % (cat, len(KEEP[cat])))
    if gc.isenabled():
        bad.append("gc was enabled")
    if not all(r() is not None for r in GARBAGE):
        bad.append("garbage was collected")
    if PROBE["materialised_dict_is_referent"] and not PROBE["eager_dicts"]:
        for key in ("dictlazy", "traced", "cycle", "frozen"):
            if any(_has_dict(o) is not None for o in KEEP[key]):
                bad.append("%s: a dict was materialised" % key)
    if not all(_suspended(g) for g in KEEP["generator"] + KEEP["coroutine_suspended"]):
        bad.append("a generator or coroutine is no longer suspended")
    if any(_suspended(c) for c in KEEP["coroutine_created"]):
        bad.append("a created coroutine was started")
    if any(t.done() for t in KEEP["task"]) or FUTURE.done():
        bad.append("a task finished")
    if not all(_suspended(t.get_coro()) for t in KEEP["task"]):
        bad.append("a task is not suspended on its future")
    if REPORT is not None and json.loads(REPORT)["freeze_count"] != gc.get_freeze_count():
        bad.append("freeze count changed")
    return bad


def cleanup():
    """Finish what would otherwise warn at exit (never-awaited coroutines, pending tasks)."""
    for c in KEEP["coroutine_created"] + KEEP["coroutine_suspended"]:
        c.close()
    if not FUTURE.done():
        FUTURE.set_result(None)
    LOOP.run_until_complete(asyncio.wait(KEEP["task"]))
    LOOP.close()


def reply(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def serve():
    while True:
        line = sys.stdin.readline()
        if not line:
            cleanup()
            return 0
        cmd = line.strip()
        if cmd == "quit":
            bad = check()
            cleanup()
            if bad:
                sys.stderr.write("known_heap: check failed: %s\n" % "; ".join(bad))
                return 1
            return 0
        if cmd == "ping":
            reply("pong")
        elif cmd == "report":
            reply("REPORT " + REPORT)
        elif cmd == "check":
            bad = check()
            reply("FAIL " + "; ".join(bad) if bad else "OK")
        else:
            reply("ERR unknown command: %r" % cmd)


REPORT = _report()
reply("READY " + REPORT)
sys.exit(serve())
