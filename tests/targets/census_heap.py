"""census_heap: a heap full of the stdlib's C objects, with the target's own census by address.

Run as `python -c "<this source>" MODE` (no __file__; Python 3.8 to 3.15). MODE is
  stdlib    objects of the stdlib's C types (compiled patterns with named groups and matches,
            partials, itertools, defaultdicts, locks, open files, datetimes and zoneinfo, decimal
            contexts, sqlite3, ssl, ctypes, mmap, weakrefs, contextvars, memoryviews, json and
            pickle objects, asyncio) and the modules whose C state holds objects;
  packages  Debian's python3-flask, -requests, -sqlalchemy, -pandas, -numpy and -jinja2 used the
            way a service does (an app with routes and a rendered template, an engine with a
            metadata schema and a session, a DataFrame, a requests session).
It builds that heap, then prints `READY <json>`:
  pid, minor, mode, census: {"count": N, "types": {"module.qualname": "hex:size hex:size ..."}}
  (the address and sys.getsizeof of every census object), inexact: the names of types whose
  instances keep attribute values outside the object on this version (3.11+ managed dicts),
  which pyheap counts in the instance and sys.getsizeof does not, and sizeof: {type: [the class
  whose __sizeof__ it uses, "c" | "py" | "third-party"]} for the types not using object's
and serves stdin, one reply line per command:
  alive HEX...  -> ALIVE <json>: of the given addresses, those that are still in the census
                   (computed again now), {hex: {"type": name, "via": [referrer types]}}
  quit          -> exit 0; end of stdin exits too.

The census: gc.get_objects(), sys.modules and gc.garbage, closed under gc.get_referents (by id,
iteratively), plus what the script knows is held inside C objects whose type has no tp_traverse
on some versions (a non-GC Pattern's groupindex on 3.8): the referents of values an accessor
returns identically twice (stored, not built per call), for the objects the script built. The
census's own containers are left out by id. The garbage collector is disabled, so nothing in the
census is collected before pyheap looks; an object can still be freed by the interpreter's own
activity after the census (an I/O buffer replaced), which `alive` tells apart from a miss.
"""
import gc
import json
import os
import sys
import types

gc.disable()
MINOR = sys.version_info[1]
TPFLAGS_MANAGED_DICT = 1 << 4
MODE = sys.argv[1] if len(sys.argv) > 1 else "stdlib"
# The report's encoder, made before anything is built: an encoder made later with other
# arguments would change JSONEncoder's shared attribute keys after the census (3.8-3.10 drop a
# class's cached keys when an instance's attributes diverge), and with them the class's size.
REPORT_ENCODER = json.JSONEncoder(separators=(",", ":"))
KEEP = []      # everything built, kept alive (found through this list, as a service's globals)
PROBES = []    # objects whose identity-stable attributes the census adds (see the docstring)


def keep(*objs):
    KEEP.extend(objs)
    PROBES.extend(objs)
    return objs[0] if objs else None


# ---- the stdlib heap ---------------------------------------------------------------------------

def build_re():
    import re
    pats = [re.compile(r"(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)"),
            re.compile(r"(?P<key>[a-z_]+)=(?P<value>[^;]*)", re.I),
            re.compile(rb"(?P<head>\x00+)(?P<tail>.*)", re.S),
            re.compile(r"(\w+)@(\w+)\.com")]
    keep(*pats)
    keep(pats[0].match("2024-01-02"), pats[1].search("xx Name=value; y"),
         pats[2].match(b"\x00\x00abc"), pats[3].fullmatch("me@example.com"))
    keep(re.compile(r"x").scanner("xxx"), pats[0].finditer("2024-01-02 1999-12-31"))


def build_functools():
    import functools

    def f(a, b, c=3):
        return a + b + c
    keep(functools.partial(f, 1, c=[5]), functools.partial(functools.partial(f, 2), 3))

    @functools.lru_cache(maxsize=None)
    def cached(x):
        return [x]
    for i in range(5):
        cached(i)
    keep(cached)

    class C:
        def m(self, x, y):
            return x
        pm = functools.partialmethod(m, ["pm"])
    keep(C(), C.pm, functools.cmp_to_key(lambda a, b: 0)(["key"]))


def build_itertools():
    import itertools
    data = [object() for _ in range(5)]
    its = [itertools.count(10, 3), itertools.cycle(data), itertools.chain(data, [1]),
           itertools.chain.from_iterable([data]), itertools.islice(data, 1, None),
           itertools.repeat(["rep"], 4), itertools.starmap(pow, [(2, 3)]),
           itertools.compress(data, [1, 0, 1]), itertools.dropwhile(bool, data),
           itertools.takewhile(bool, data), itertools.filterfalse(None, data),
           itertools.zip_longest(data, [1], fillvalue=["fill"]),
           itertools.product(data, repeat=2), itertools.permutations(data, 2),
           itertools.combinations(data, 2), itertools.combinations_with_replacement(data, 2),
           itertools.accumulate([1, 2, 3]), itertools.groupby(["a", "a", "b"])]
    cyc = itertools.cycle(["c1", "c2"])
    next(cyc)
    g = itertools.groupby([("k", 1), ("k", 2), ("j", 3)], key=lambda t: t[0])
    key, grp = next(g)
    acc = itertools.accumulate([[1], [2]])
    next(acc)
    t1, t2 = itertools.tee(iter(data), 2)
    next(t1)
    its += [cyc, g, grp, acc, t1, t2]
    if hasattr(itertools, "pairwise"):
        p = itertools.pairwise(iter(data))
        next(p)
        its.append(p)
    if hasattr(itertools, "batched"):
        its.append(itertools.batched(data, 2))
    prod = itertools.product("ab", "cd")
    next(prod)
    its.append(prod)
    keep(data, *its)
    keep(enumerate(data), zip(data, data), map(str, data), filter(None, data), reversed(data),
         iter(data), iter(tuple(data)), iter({1: 2}), iter({3}), iter("str"), iter(range(5)))


def build_collections():
    import collections
    dd = collections.defaultdict(list)
    dd["a"].append(1)
    keep(dd, collections.defaultdict(lambda: ["lam"]), collections.deque([["dq"]], maxlen=5),
         collections.OrderedDict(a=["od"]), collections.Counter("hello"))
    Point = collections.namedtuple("Point", "x y")
    keep(Point(["x"], 2))
    dq = collections.deque(range(3))
    keep(dq, iter(dq), reversed(dq))
    od = collections.OrderedDict.fromkeys("abc")
    keep(od, iter(od), iter(od.items()), od.keys())


def build_threading():
    import _thread
    import queue
    import threading
    lock = _thread.allocate_lock()
    rlock = threading.RLock()
    rlock.acquire()
    cond = threading.Condition()
    ev = threading.Event()
    sem = threading.BoundedSemaphore(2)
    keep(lock, rlock, cond, ev, sem, threading.local(), queue.SimpleQueue(), queue.Queue())
    loc = threading.local()
    loc.value = ["thread-local"]
    keep(loc)
    sq = queue.SimpleQueue()
    sq.put(["queued"])
    keep(sq)


def build_io(tmpdir):
    import io
    path = os.path.join(tmpdir, "census.txt")
    with open(path, "w") as f:
        f.write("line one\nline two\n" * 100)
    text = open(path, "r", encoding="utf-8")
    text.readline()
    binary = open(path, "rb")
    binary.read(10)
    raw = open(path, "rb", buffering=0)
    writer = open(os.path.join(tmpdir, "census.out"), "w+b")
    writer.write(b"pending")
    with open(os.path.join(tmpdir, "census.rw"), "wb") as f:
        f.write(b"random access")
    rnd = open(os.path.join(tmpdir, "census.rw"), "r+b")
    rnd.read(3)
    sio = io.StringIO("string io\n" * 10)
    sio.readline()
    bio = io.BytesIO(b"bytes io" * 10)
    wrapped = io.TextIOWrapper(io.BytesIO(b"abc\ndef\n"), encoding="latin-1", newline=None)
    wrapped.readline()
    keep(text, binary, raw, writer, rnd, sio, bio, wrapped, bio.getbuffer())
    keep(io.BufferedRWPair(io.BytesIO(b"r"), io.BytesIO()), io.IncrementalNewlineDecoder(None, True))


def build_datetime():
    import datetime
    tz = datetime.timezone(datetime.timedelta(hours=2), "CEST")
    keep(datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz),
         datetime.time(1, 2, tzinfo=tz), datetime.timedelta(days=3), tz,
         datetime.datetime.now(datetime.timezone.utc))
    if MINOR >= 9:
        import zoneinfo
        try:
            z = zoneinfo.ZoneInfo("Europe/Paris")
        except zoneinfo.ZoneInfoNotFoundError:
            z = None
        if z is not None:
            keep(z, datetime.datetime(2024, 7, 1, tzinfo=z), zoneinfo.ZoneInfo("UTC"))


def build_decimal():
    import decimal
    ctx = decimal.Context(prec=12, traps=[decimal.Overflow])
    keep(ctx, decimal.getcontext(), decimal.Decimal("1.5"), ctx.create_decimal("2.25"),
         decimal.localcontext())
    with decimal.localcontext() as c:
        c.prec = 5
        keep(decimal.Decimal(1) / decimal.Decimal(7))


def build_sqlite():
    import sqlite3
    con = sqlite3.connect(":memory:")
    con.create_function("twice", 1, lambda x: x * 2)
    con.create_aggregate("cnt", 1, type("Agg", (), {"__init__": lambda s: None,
                                                      "step": lambda s, v: None,
                                                      "finalize": lambda s: 1}))
    con.row_factory = sqlite3.Row
    con.execute("create table t (a, b)")
    con.executemany("insert into t values (?, ?)", [(i, "v%d" % i) for i in range(10)])
    cur = con.cursor()
    cur.execute("select a, twice(b) from t where a < ?", (5,))
    row = cur.fetchone()
    keep(con, cur, row, con.execute("select 1"))


def build_ssl():
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.sni_callback = lambda *a: None
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="example.com")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    keep(ctx, server, incoming, outgoing, obj, ssl.create_default_context())


def build_ctypes():
    import ctypes

    class Pt(ctypes.Structure):
        _fields_ = [("x", ctypes.c_int), ("name", ctypes.c_char_p)]
    arr = (ctypes.c_double * 8)(*range(8))
    pts = (Pt * 3)()
    pts[1].name = b"point"
    cb = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
    buf = ctypes.create_string_buffer(b"hello", 32)
    keep(arr, pts, pts[1], cb, buf, ctypes.pointer(ctypes.c_long(5)), ctypes.c_wchar_p("w"),
         ctypes.cast(buf, ctypes.c_void_p), Pt, ctypes.py_object(["pyobj"]))


def build_mmap():
    import mmap
    m = mmap.mmap(-1, 4096)
    m.write(b"mapped")
    keep(m, memoryview(m))


def build_weakref():
    import weakref

    class W:
        def method(self):
            return self
    objs = [W() for _ in range(6)]
    keep(objs)
    keep(weakref.ref(objs[0], lambda r: None), weakref.proxy(objs[1], lambda r: None))
    wvd = weakref.WeakValueDictionary()
    wkd = weakref.WeakKeyDictionary()
    ws = weakref.WeakSet()
    for i, o in enumerate(objs):
        wvd["k%d" % i] = o
        wkd[o] = ["wkd", i]
        ws.add(o)
    keep(wvd, wkd, ws, weakref.finalize(objs[2], len, "finalized"),
         weakref.WeakMethod(objs[4].method))


def build_contextvars():
    import contextvars
    var = contextvars.ContextVar("census_var", default=["default"])
    tok = var.set(["value"])
    ctx = contextvars.copy_context()
    other = contextvars.Context()
    other.run(var.set, ["in other"])
    keep(var, tok, ctx, other, contextvars.ContextVar("v2"))
    many = [contextvars.ContextVar("v%d" % i) for i in range(40)]
    big = contextvars.Context()
    for i, v in enumerate(many):
        big.run(v.set, ("val", i))
    keep(many, big)


def build_buffers():
    import array
    ba = bytearray(b"0123456789")
    mv = memoryview(ba)
    keep(ba, mv, mv[2:5], memoryview(b"bytes owner"), memoryview(array.array("d", [1.0, 2.0])),
         array.array("i", range(10)))


def build_json_pickle():
    import io
    import json as js
    import pickle
    enc = js.JSONEncoder(indent=None, default=str)
    dec = js.JSONDecoder(object_hook=dict)
    enc.encode({"a": [1, 2]})
    dec.decode('{"b": [3, 4]}')
    keep(enc, dec, dec.scan_once)
    if js.encoder.c_make_encoder is not None:  # the C encoder object iterencode builds per call
        keep(js.encoder.c_make_encoder(None, str, js.encoder.encode_basestring_ascii, None,
                                       ": ", ", ", False, False, True))
    bio = io.BytesIO()
    p = pickle.Pickler(bio, protocol=4)
    shared = ["shared"]
    p.dump([shared, shared])
    u = pickle.Unpickler(io.BytesIO(bio.getvalue()))
    u.load()
    keep(p, u, bio)


def build_misc():
    import array
    import csv
    import hashlib
    import io
    import operator
    import random
    import select
    import socket
    import struct
    import zlib
    keep(operator.itemgetter(1, ["ig"]), operator.attrgetter("a.b"),
         operator.methodcaller("m", ["mc"], k=["kw"]), random.Random(5),
         struct.Struct("<iQ10s"), zlib.compressobj(), zlib.decompressobj(),
         hashlib.sha256(b"x"), hashlib.md5(), array.array("b", b"ab"),
         csv.reader(io.StringIO("a,b\n")), csv.writer(io.StringIO()),
         socket.socket(socket.AF_INET, socket.SOCK_STREAM), select.epoll(),
         slice(1, ["sl"]), range(3), property(lambda s: 1), classmethod(len),
         staticmethod(len), super(int, 1))


def run_ready(loop):
    """Run the callbacks the loop has ready, once (a task's next step), and return."""
    loop.call_soon(loop.stop)
    loop.run_forever()


def build_asyncio():
    import asyncio
    loop = asyncio.new_event_loop()
    fut = loop.create_future()

    async def waiter(f):
        await f
    task = loop.create_task(waiter(fut))
    run_ready(loop)  # the task starts and waits on fut
    keep(loop, fut, task)
    return loop, fut


def build_stdlib(tmpdir):
    for step in (build_re, build_functools, build_itertools, build_collections, build_threading,
                 lambda: build_io(tmpdir), build_datetime, build_decimal, build_sqlite, build_ssl,
                 build_ctypes, build_mmap, build_weakref, build_contextvars, build_buffers,
                 build_json_pickle, build_misc):
        step()
    import _pickle, _json, _functools, _collections, _io, posix  # noqa: F401 (module states)
    return build_asyncio()


# ---- the packages heap -------------------------------------------------------------------------

def build_packages(tmpdir):
    import flask
    import jinja2
    import numpy as np
    import pandas as pd
    import requests
    import sqlalchemy as sa
    from sqlalchemy import orm

    app = flask.Flask("census_app")
    app.config["SECRET_KEY"] = "s3cret"

    @app.route("/items/<int:item_id>")
    def item(item_id):
        return flask.render_template_string("<b>{{ name|e }}</b> {{ n }}", name="x", n=item_id)

    @app.route("/health", methods=["GET", "POST"])
    def health():
        return flask.jsonify(ok=True, items=[1, 2, 3])
    client = app.test_client()
    pages = [client.get("/items/%d" % i).data for i in range(3)] + [client.get("/health").data]

    env = jinja2.Environment(loader=jinja2.DictLoader({"page.html": "{% for x in xs %}{{ x }}"
                                                                    "{% endfor %}"}))
    rendered = env.get_template("page.html").render(xs=range(5))

    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    users = sa.Table("users", meta, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("name", sa.String(50), index=True),
                     sa.Column("email", sa.String(120), unique=True))
    sa.Table("posts", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("user_id", sa.ForeignKey("users.id")), sa.Column("body", sa.Text))
    meta.create_all(engine)
    Base = orm.declarative_base()

    class User(Base):
        __tablename__ = "orm_users"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(30))
    Base.metadata.create_all(engine)
    session = orm.Session(engine)
    session.add_all([User(name="u%d" % i) for i in range(20)])
    session.commit()
    found = session.query(User).filter(User.name.like("u1%")).all()
    with engine.connect() as conn:
        conn.execute(users.insert(), [{"name": "n%d" % i, "email": "e%d@x" % i} for i in range(5)])
        rows = conn.execute(sa.select(users).where(users.c.id > 1)).fetchall()

    frame = pd.DataFrame({"a": np.arange(100), "b": np.random.RandomState(0).rand(100),
                          "c": ["s%d" % (i % 7) for i in range(100)]})
    frame["d"] = frame["c"].astype("category")
    grouped = frame.groupby("c")["b"].mean()
    stamps = pd.date_range("2024-01-01", periods=30, freq="D", tz="UTC")
    series = pd.Series(np.arange(30), index=stamps)

    http = requests.Session()
    http.headers.update({"User-Agent": "census"})
    prepared = http.prepare_request(requests.Request("GET", "http://example.invalid/x",
                                                     params={"q": "1"}))
    keep(app, client, pages, env, rendered, engine, meta, users, session, found, rows, frame,
         grouped, series, http, prepared, np.zeros((3, 3)), np.array(["o", 1], dtype=object))
    return None, None


# ---- the census --------------------------------------------------------------------------------

def _c_descriptor(t, name):
    """Whether t's attribute `name` is read by C code (a getset or member descriptor): reading
    it runs no Python code, so the census does not change the heap it is counting (a property
    can warn, and the warnings registry then grows new tuples)."""
    for k in t.__mro__:
        d = k.__dict__.get(name)
        if d is not None:
            return type(d) in (types.GetSetDescriptorType, types.MemberDescriptorType)
    return False


def _stable_attrs(o):
    """(name, value) of o's C-level attributes that the same read returns identically twice:
    stored in o, not built per read; for a read that builds a new view each time, what the
    views refer to when that is the same both times (the stored dict behind a mappingproxy)."""
    out = []
    t = type(o)
    for name in dir(t):
        if name.startswith("__") or not _c_descriptor(t, name):
            continue
        try:
            a = getattr(o, name)
            b = getattr(o, name)
        except Exception:
            continue
        if callable(a):
            continue
        if a is b:
            out.append((name, a))
        else:  # a view built per read (Pattern.groupindex's mappingproxy) of a stored object
            ra, rb = gc.get_referents(a), gc.get_referents(b)
            if ra and [id(x) for x in ra] == [id(x) for x in rb]:
                out += [(name + "()", x) for x in ra]
    return out


def census(parents=None):
    """The census as a list (see the docstring); parents, when a dict, gets id -> referrer."""
    frame = sys._getframe()
    seen = set()
    objs = []
    skip = set()
    roots = gc.get_objects()
    extra = []
    for o in PROBES:
        for name, a in _stable_attrs(o):
            extra.append(a)
            refs = gc.get_referents(a)
            extra.extend(refs)
            if parents is not None:
                parents.setdefault(id(a), "%s.%s" % (type_name(o), name))
                for r in refs:
                    parents.setdefault(id(r), "%s.%s->" % (type_name(o), name))
    for x in (frame, seen, objs, skip, roots, extra, parents):
        skip.add(id(x))
    roots += [sys.modules, gc.garbage]
    for o in roots + extra:
        k = id(o)
        if k not in seen and k not in skip:
            seen.add(k)
            objs.append(o)
    del roots, extra
    i = 0
    while i < len(objs):
        for r in gc.get_referents(objs[i]):
            k = id(r)
            if k not in seen and k not in skip:
                seen.add(k)
                objs.append(r)
                if parents is not None:
                    parents[k] = objs[i]
        i += 1
    del frame, seen, skip  # the frame refers to itself through `frame`: a cycle the disabled
    return objs            # collector would keep, with every census object in `objs`


def type_name_of(t):
    return "%s.%s" % (type.__dict__["__module__"].__get__(t, type),
                      type.__dict__["__qualname__"].__get__(t, type))


def type_name(o):
    return type_name_of(type(o))


STDLIB = getattr(sys, "stdlib_module_names", None)  # 3.10+; 3.8/3.9 runs have no packages


def sizeof_owner(t):
    """[the class whose __sizeof__ t uses, "c" | "py" (Python code) | "third-party" (C code
    outside the standard library)]."""
    for k in t.__mro__:
        d = k.__dict__.get("__sizeof__")
        if d is None:
            continue
        name = type_name_of(k)
        if isinstance(d, (types.FunctionType, classmethod, staticmethod, property)):
            return [name, "py"]
        top = name.split(".")[0]
        if STDLIB is not None and top not in STDLIB and top not in ("builtins", "__main__"):
            return [name, "third-party"]
        return [name, "c"]
    return ["builtins.object", "c"]


def census_report():
    objs = census()
    types_ = {}
    sizes = {}
    for o in objs:
        types_.setdefault(type_name(o), []).append(id(o))
        sizes[id(o)] = sys.getsizeof(o)
    managed = set(type_name(o) for o in objs
                  if MINOR >= 11 and type(o).__flags__ & TPFLAGS_MANAGED_DICT)
    owners = {}
    for o in objs:
        t = type(o)
        if t not in owners:
            owners[t] = sizeof_owner(t)
    n = len(objs)
    del objs, o
    # A BytesIO counts its buffer only while it is the buffer's one owner: the census list held
    # a second reference, so those are measured again without it.
    for o in gc.get_objects():
        if id(o) in sizes and type(o).__name__ == "BytesIO":
            sizes[id(o)] = sys.getsizeof(o)
    del o
    types_ = dict((k, ["%x:%d" % (i, sizes[i]) for i in v]) for k, v in types_.items())
    sizeof = dict((type_name_of(t), v) for t, v in owners.items() if v[0] != "builtins.object")
    return {"count": n, "types": dict((k, " ".join(v)) for k, v in types_.items()),
            "inexact": sorted(managed), "sizeof": sizeof}


def _short_repr(o):
    try:
        if isinstance(o, type):
            return "<class %s.%s>" % (type.__dict__["__module__"].__get__(o, type),
                                      type.__dict__["__qualname__"].__get__(o, type))
        return repr(o)[:120]
    except Exception:
        return "?"


def alive(hexes, line):
    """Of the addresses hexes, those the census still finds. The command's own text (`line`,
    and the decoded copy stdin's TextIOWrapper keeps) is new since the walk: it can take the
    cell of a freed census str, so it is never reported."""
    wanted = set(int(h, 16) for h in hexes)
    parents = {}
    objs = census(parents)
    out = {}
    for o in objs:
        k = id(o)
        if k in wanted and not (type(o) is str and o == line):
            via = []
            p = parents.get(k)
            while p is not None and len(via) < 4:
                if isinstance(p, str):  # a probed attribute (see the docstring)
                    via.append(p)
                    break
                via.append(type_name(p))
                p = parents.get(id(p))
            out["%x" % k] = {"type": type_name(o), "via": via, "repr": _short_repr(o),
                             "parent": _short_repr(parents.get(k)),
                             "parent_id": "%x" % id(parents.get(k))}
    del objs, parents
    return out


def reply(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main():
    import tempfile
    tmpdir = tempfile.mkdtemp(prefix="census-")
    loop, fut = (build_packages if MODE == "packages" else build_stdlib)(tmpdir)
    report = REPORT_ENCODER.encode({"pid": os.getpid(), "minor": MINOR, "mode": MODE,
                                    "census": census_report()})
    reply("READY " + report)
    del report
    while True:
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            break
        words = line.split()
        if words and words[0] == "alive":
            reply("ALIVE " + json.dumps(alive(words[1:], line)))
        else:
            reply("ERR unknown command")
    if fut is not None:
        fut.cancel()
        run_ready(loop)  # the task sees the cancellation and ends
        loop.close()
    import shutil
    shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


sys.exit(main())
