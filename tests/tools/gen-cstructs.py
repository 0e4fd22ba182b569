#!/usr/bin/env python3
"""gen-cstructs.py: regenerate lib/walk/cstruct_tables.c from the DWARF of real CPython builds.

    python3 tests/tools/gen-cstructs.py          (from the repository root, as root for the sid
                                                  chroot; needs gdb)

For every C type and module state listed below (TYPES, STATES), and every build gen-tables.sh
reads (pyenv 3.8.18 to 3.13.0, Debian 12's 3.11 with python3.11-dbg, Debian sid's 3.13, 3.14 and
3.15 with their -dbg packages in the chroot), it runs `gdb -batch -ex 'ptype /o STRUCT'` on the
DWARF of the file that defines the struct: the extension module (lib-dynload/STEM.cpython-*.so,
or its build-id debug file) when the build ships the module as one, else the interpreter. From
the printed offsets it keeps, per build, the struct's size and its object fields:
  * members declared as a pointer to PyObject, PyTypeObject, or to a struct whose first member is
    a PyObject or PyVarObject header (PatternObject *, CDataObject *), checked with ptype too;
  * arrays of those (teedataobject's values[57], a HAMT array node's a_array[32]), one field per
    element;
  * the object members of embedded structs listed in EMBED (Py_buffer's obj: a memoryview's
    view.obj), with a dotted name;
and leaves out what the table says is not a strong reference (a weak reference's referent, list
links) and the weakref list. A union's members are never taken (which one is live is unknown).
Rows with the same name, minor version, size and fields are merged (the comment lists the
builds); two builds of one minor with the same size and different fields make the script stop:
pyheap picks a row by name, minor and size, and would not know which to trust.
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYENV = os.environ.get("PYENV", "/root/.pyenv/versions")
SID = os.environ.get("SID", "/var/cache/pyheap/sid-root")
OUT = os.path.join(ROOT, "lib", "walk", "cstruct_tables.c")

# (tp_name, struct names to try, module stem (None: in the interpreter), fields to leave out)
TYPES = [
    # _sre
    ("re.Pattern", ["PatternObject"], "_sre", []),
    ("re.Match", ["MatchObject"], "_sre", []),
    ("_sre.SRE_Scanner", ["ScannerObject"], "_sre", []),
    # _functools
    ("functools.partial", ["partialobject"], "_functools", []),
    ("functools.KeyWrapper", ["keyobject"], "_functools", []),
    ("functools._lru_list_elem", ["lru_list_elem"], "_functools", ["prev", "next"]),
    # itertools
    ("itertools.count", ["countobject"], "itertools", []),
    ("itertools.cycle", ["cycleobject"], "itertools", []),
    ("itertools.chain", ["chainobject"], "itertools", []),
    ("itertools.islice", ["isliceobject"], "itertools", []),
    ("itertools.repeat", ["repeatobject"], "itertools", []),
    ("itertools.starmap", ["starmapobject"], "itertools", []),
    ("itertools.compress", ["compressobject"], "itertools", []),
    ("itertools.dropwhile", ["dropwhileobject"], "itertools", []),
    ("itertools.takewhile", ["takewhileobject"], "itertools", []),
    ("itertools.filterfalse", ["filterfalseobject"], "itertools", []),
    ("itertools.zip_longest", ["ziplongestobject"], "itertools", []),
    ("itertools.product", ["productobject"], "itertools", []),
    ("itertools.permutations", ["permutationsobject"], "itertools", []),
    ("itertools.combinations", ["combinationsobject"], "itertools", []),
    ("itertools.combinations_with_replacement", ["cwrobject"], "itertools", []),
    ("itertools.accumulate", ["accumulateobject"], "itertools", []),
    ("itertools.groupby", ["groupbyobject"], "itertools", []),
    ("itertools._grouper", ["_grouperobject"], "itertools", []),
    ("itertools._tee", ["teeobject"], "itertools", []),
    ("itertools._tee_dataobject", ["teedataobject"], "itertools", []),
    ("itertools.pairwise", ["pairwiseobject"], "itertools", []),
    ("itertools.batched", ["batchedobject"], "itertools", []),
    # _collections
    ("collections.defaultdict", ["defdictobject"], "_collections", []),
    (("_collections._deque_iterator", "collections._deque_iterator"), ["dequeiterobject"],
     "_collections", []),
    (("_collections._deque_reverse_iterator", "collections._deque_reverse_iterator"),
     ["dequeiterobject"], "_collections", []),
    (("_collections._tuplegetter", "collections._tuplegetter"), ["_tuplegetterobject"],
     "_collections", []),
    # _abc: a class's registry and caches (sets of weak references)
    (("_abc._abc_data", "_abc_data"), ["_abc_data"], "_abc", []),
    ("_queue.SimpleQueue", ["simplequeueobject"], "_queue", []),
    # _thread
    ("_thread.lock", ["lockobject"], "_thread", []),
    ("_thread.RLock", ["rlockobject"], "_thread", []),
    ("_thread._local", ["localobject"], "_thread", []),
    ("_thread._localdummy", ["localdummyobject"], "_thread", []),
    ("_thread._ExceptHookArgs", [], "_thread", []),
    # _io
    ("_io.TextIOWrapper", ["textio"], "_io", []),
    ("_io.FileIO", ["fileio"], "_io", []),
    ("_io.StringIO", ["stringio"], "_io", []),
    ("_io.BytesIO", ["bytesio"], "_io", []),
    ("_io.BufferedRWPair", ["rwpair"], "_io", []),
    ("_io.IncrementalNewlineDecoder", ["nldecoder_object"], "_io", []),
    ("_io._BytesIOBuffer", ["bytesiobuf"], "_io", []),
    # _datetime: a naive datetime or time is allocated without its tzinfo field, which is read
    # only when the hastzinfo byte says it exists (COND)
    ("datetime.datetime", ["PyDateTime_DateTime"], "_datetime", []),
    ("datetime.time", ["PyDateTime_Time"], "_datetime", []),
    ("datetime.timezone", ["PyDateTime_TimeZone"], "_datetime", []),
    ("zoneinfo.ZoneInfo", ["PyZoneInfo_ZoneInfo"], "_zoneinfo", []),
    # _decimal
    ("decimal.Context", ["PyDecContextObject"], "_decimal", []),
    ("decimal.ContextManager", ["PyDecContextManagerObject"], "_decimal", []),
    ("decimal.SignalDictMixin", ["PyDecSignalDictObject"], "_decimal", []),
    # _sqlite3
    ("sqlite3.Connection", ["pysqlite_Connection"], "_sqlite3", []),
    ("sqlite3.Cursor", ["pysqlite_Cursor"], "_sqlite3", []),
    ("sqlite3.Row", ["pysqlite_Row"], "_sqlite3", []),
    ("sqlite3.Statement", ["pysqlite_Statement"], "_sqlite3", []),
    ("sqlite3.Blob", ["pysqlite_Blob"], "_sqlite3", []),
    (("sqlite3.Node", "sqlite3Node"), ["pysqlite_Node"], "_sqlite3", ["prev", "next"]),
    ("sqlite3.Cache", ["pysqlite_Cache"], "_sqlite3", ["first", "last"]),
    # _ssl
    ("_ssl._SSLContext", ["PySSLContext"], "_ssl", []),
    ("_ssl._SSLSocket", ["PySSLSocket"], "_ssl", []),
    ("_ssl.MemoryBIO", ["PySSLMemoryBIO"], "_ssl", []),
    ("_ssl.SSLSession", ["PySSLSession"], "_ssl", []),
    ("_ssl.Certificate", ["PySSLCertificate"], "_ssl", []),
    # _ctypes: every ctypes instance starts with CDataObject; function pointers add more
    ("_ctypes.Structure", ["CDataObject"], "_ctypes", []),
    ("_ctypes.Union", ["CDataObject"], "_ctypes", []),
    ("_ctypes.Array", ["CDataObject"], "_ctypes", []),
    ("_ctypes._Pointer", ["CDataObject"], "_ctypes", []),
    ("_ctypes._SimpleCData", ["CDataObject"], "_ctypes", []),
    (("_ctypes.PyCFuncPtr", "_ctypes.CFuncPtr"), ["PyCFuncPtrObject"], "_ctypes", []),
    ("_ctypes.CThunkObject", ["CThunkObject"], "_ctypes", []),
    ("CThunkObject", ["CThunkObject"], "_ctypes", []),
    ("CArgObject", ["PyCArgObject"], "_ctypes", []),
    ("_ctypes.CArgObject", ["PyCArgObject"], "_ctypes", []),
    ("_ctypes.DictRemover", ["DictRemoverObject"], "_ctypes", []),
    (("_ctypes.StgDict", "StgDict"), ["StgDictObject"], "_ctypes", []),
    (("_ctypes.CField", "ctypes.CField"), ["CFieldObject"], "_ctypes", []),
    # mmap
    ("mmap.mmap", ["mmap_object"], "mmap", []),
    # weak references: the referent and the list links are not references
    ("weakref.ProxyType", ["PyWeakReference", "_PyWeakReference"], None,
     ["wr_object", "wr_prev", "wr_next"]),
    ("weakref.CallableProxyType", ["PyWeakReference", "_PyWeakReference"], None,
     ["wr_object", "wr_prev", "wr_next"]),
    ("weakproxy", ["PyWeakReference", "_PyWeakReference"], None,
     ["wr_object", "wr_prev", "wr_next"]),
    ("weakcallableproxy", ["PyWeakReference", "_PyWeakReference"], None,
     ["wr_object", "wr_prev", "wr_next"]),
    # contextvars
    (("_contextvars.Context", "Context"), ["PyContext"], None, []),
    (("_contextvars.ContextVar", "ContextVar"), ["PyContextVar"], None, []),
    (("_contextvars.Token", "Token"), ["PyContextToken"], None, []),
    ("hamt", ["PyHamtObject"], None, []),
    ("hamt_array_node", ["PyHamtNode_Array"], None, []),
    ("hamt_bitmap_node", ["PyHamtNode_Bitmap"], None, []),
    ("hamt_collision_node", ["PyHamtNode_Collision"], None, []),
    # buffers
    ("memoryview", ["PyMemoryViewObject"], None, []),
    ("managedbuffer", ["_PyManagedBufferObject"], None, []),
    # _json, _pickle, _struct, _operator, _csv, zlib
    ("_json.Scanner", ["PyScannerObject"], "_json", []),
    ("_json.Encoder", ["PyEncoderObject"], "_json", []),
    ("_pickle.Pickler", ["PicklerObject"], "_pickle", []),
    ("_pickle.Unpickler", ["UnpicklerObject"], "_pickle", []),
    ("_pickle.PicklerMemoProxy", ["PicklerMemoProxyObject"], "_pickle", []),
    ("_pickle.UnpicklerMemoProxy", ["UnpicklerMemoProxyObject"], "_pickle", []),
    ("_struct.unpack_iterator", ["unpackiterobject"], "_struct", []),
    ("operator.itemgetter", ["itemgetterobject"], "_operator", []),
    ("operator.attrgetter", ["attrgetterobject"], "_operator", []),
    ("operator.methodcaller", ["methodcallerobject"], "_operator", []),
    ("_csv.reader", ["ReaderObj"], "_csv", []),
    ("_csv.writer", ["WriterObj"], "_csv", []),
    ("_csv.Dialect", ["DialectObj"], "_csv", []),
    (("_socket.socket", "socket.socket"), ["PySocketSockObject"], "_socket", []),
    ("zlib.Compress", ["compobject"], "zlib", []),
    ("zlib.Decompress", ["compobject"], "zlib", []),
    # _asyncio's helpers (Future and Task are in known.c)
    ("_asyncio.FutureIter", ["futureiterobject"], "_asyncio", []),
    ("TaskStepMethWrapper", ["TaskStepMethWrapper"], "_asyncio", []),
    (("_asyncio._RunningLoopHolder", "_RunningLoopHolder"), ["PyRunningLoopHolder"], "_asyncio",
     []),
    ("TaskWakeupMethWrapper", ["TaskWakeupMethWrapper"], "_asyncio", []),
    # the interpreter's own iterators, views and wrappers
    ("enumerate", ["enumobject"], None, []),
    ("zip", ["zipobject"], None, []),
    ("map", ["mapobject"], None, []),
    ("filter", ["filterobject"], None, []),
    ("reversed", ["reversedobject"], None, []),
    ("list_iterator", ["listiterobject", "_PyListIterObject"], None, []),
    ("list_reverseiterator", ["listreviterobject"], None, []),
    ("tuple_iterator", ["tupleiterobject", "_PyTupleIterObject"], None, []),
    ("set_iterator", ["setiterobject"], None, []),
    ("dict_keyiterator", ["dictiterobject"], None, []),
    ("dict_valueiterator", ["dictiterobject"], None, []),
    ("dict_itemiterator", ["dictiterobject"], None, []),
    ("dict_reversekeyiterator", ["dictiterobject"], None, []),
    ("dict_keys", ["_PyDictViewObject"], None, []),
    ("dict_values", ["_PyDictViewObject"], None, []),
    ("dict_items", ["_PyDictViewObject"], None, []),
    ("odict_keys", ["_PyDictViewObject"], None, []),
    ("odict_values", ["_PyDictViewObject"], None, []),
    ("odict_items", ["_PyDictViewObject"], None, []),
    ("odict_iterator", ["odictiterobject"], None, []),
    ("odict_keyiterator", ["odictiterobject"], None, []),
    ("odict_valueiterator", ["odictiterobject"], None, []),
    ("odict_itemiterator", ["odictiterobject"], None, []),
    ("callable_iterator", ["calliterobject"], None, []),
    (("str_iterator", "str_ascii_iterator"), ["unicodeiterobject"], None, []),
    ("builtin_method", ["PyCMethodObject"], None, []),
    ("moduledef", ["PyModuleDef", "struct PyModuleDef"], None, []),
    ("types.LazyImportType", ["PyLazyImportObject"], None, []),
    ("iterator", ["seqiterobject"], None, []),
    ("slice", ["PySliceObject"], None, []),
    ("range", ["rangeobject"], None, []),
    ("super", ["superobject"], None, []),
    ("mappingproxy", ["mappingproxyobject"], None, []),
    ("method-wrapper", ["wrapperobject"], None, []),
    ("types.GenericAlias", ["gaobject"], None, []),
    ("types.SimpleNamespace", ["_PyNamespaceObject"], None, []),
    (("types.UnionType", "typing.Union"), ["unionobject"], None, []),
    ("typing.TypeVar", ["typevarobject"], None, []),
    ("typing.ParamSpec", ["paramspecobject"], None, []),
    ("typing.TypeVarTuple", ["typevartupleobject"], None, []),
    ("typing.TypeAliasType", ["typealiasobject"], None, []),
    (("typing.ParamSpecArgs", "typing.ParamSpecKwargs"), ["paramspecattrobject"], None, []),
    # exceptions with fields of their own (the BaseException part is decoded by kind)
    ("OSError", ["PyOSErrorObject"], None, []),
    ("SyntaxError", ["PySyntaxErrorObject"], None, []),
    ("ImportError", ["PyImportErrorObject"], None, []),
    ("StopIteration", ["PyStopIterationObject"], None, []),
    ("SystemExit", ["PySystemExitObject"], None, []),
    ("UnicodeError", ["PyUnicodeErrorObject"], None, []),
    ("AttributeError", ["PyAttributeErrorObject"], None, []),
    ("NameError", ["PyNameErrorObject"], None, []),
    ("BaseExceptionGroup", ["PyBaseExceptionGroupObject"], None, []),
    ("async_generator_asend", ["PyAsyncGenASend"], None, []),
    ("async_generator_athrow", ["PyAsyncGenAThrow"], None, []),
    ("async_generator_wrapped_value", ["_PyAsyncGenWrappedValue"], None, []),
]

# (module name, state struct names to try, module stem (None: in the interpreter))
STATES = [
    ("posix", ["_posixstate"], "posix"),
    (("_io", "io"), ["_PyIO_State"], "_io"),
    ("_asyncio", ["asyncio_state"], "_asyncio"),
    ("_decimal", ["decimal_state"], "_decimal"),
    ("_json", ["_jsonmodulestate"], "_json"),
    ("_pickle", ["PickleState"], "_pickle"),
    ("_functools", ["_functools_state"], "_functools"),
    ("_collections", ["collections_state"], "_collections"),
    ("_sre", ["_sremodulestate"], "_sre"),
    ("itertools", ["itertools_state"], "itertools"),
    ("_datetime", ["datetime_state"], "_datetime"),
    ("_zoneinfo", ["zoneinfo_state"], "_zoneinfo"),
    ("_ssl", ["_sslmodulestate"], "_ssl"),
    ("_sqlite3", ["pysqlite_state"], "_sqlite3"),
    ("_ctypes", ["ctypes_state"], "_ctypes"),
    ("_struct", ["_structmodulestate"], "_struct"),
    ("_abc", ["_abcmodule_state"], "_abc"),
    ("_thread", ["thread_module_state"], "_thread"),
    ("_operator", ["_operator_state"], "_operator"),
    ("_random", ["_randomstate"], "_random"),
    ("_csv", ["_csvstate"], "_csv"),
    ("_socket", ["socket_state"], "_socket"),
    ("select", ["_selectstate"], "select"),
    ("array", ["array_state"], "array"),
    ("_bisect", ["bisect_state"], "_bisect"),
    ("_heapq", ["heapq_state"], "_heapq"),
    ("math", ["math_module_state"], "math"),
    ("time", ["time_module_state"], "time"),
    ("_signal", ["_signal_module_state"], "_signal"),
    ("_queue", ["simplequeue_state"], "_queue"),
    ("_hashlib", ["_hashlibstate"], "_hashlib"),
    ("zlib", ["zlibstate"], "zlib"),
    ("_lsprof", ["_lsprof_state"], "_lsprof"),
    ("_contextvars", [], "_contextvars"),
    ("_weakref", [], "_weakref"),
    ("binascii", ["binascii_state"], "binascii"),
    ("_bz2", ["_bz2_state"], "_bz2"),
    ("_lzma", ["_lzma_state"], "_lzma"),
    ("pyexpat", ["pyexpat_state"], "pyexpat"),
    ("_elementtree", ["elementtreestate"], "_elementtree"),
    ("unicodedata", ["unicodedata_module_state", "unicodedatastate"], "unicodedata"),
    ("_zstd", ["_zstd_state"], "_zstd"),
    ("_multibytecodec", ["_multibytecodec_state"], "_multibytecodec"),
    ("_statistics", [], "_statistics"),
    ("_typing", ["typing_state"], "_typing"),
    ("_tokenize", ["tokenize_state"], "_tokenize"),
    ("_string", [], "_string"),
    ("_locale", ["_locale_state"], "_locale"),
    ("_stat", [], "_stat"),
    ("errno", [], "errno"),
    ("faulthandler", [], "faulthandler"),
    ("_tracemalloc", [], "_tracemalloc"),
    ("grp", ["grpmodulestate"], "grp"),
    ("pwd", ["pwdmodulestate"], "pwd"),
    ("resource", ["resourcemodulestate"], "resource"),
    ("fcntl", [], "fcntl"),
    ("termios", ["termiosmodulestate"], "termios"),
    ("_posixsubprocess", ["_posixsubprocessstate"], "_posixsubprocess"),
    ("_multiprocessing", [], "_multiprocessing"),
    ("_uuid", [], "_uuid"),
    ("readline", ["readlinestate"], "readline"),
    ("_curses", ["cursesmodule_state"], "_curses"),
    ("_md5", ["MD5State"], "_md5"),
    ("_sha1", ["SHA1State"], "_sha1"),
    ("_sha256", ["SHA256State"], "_sha256"),
    ("_sha2", ["sha2_state"], "_sha2"),
    ("_sha512", ["SHA512State"], "_sha512"),
    ("_sha3", ["SHA3State"], "_sha3"),
    ("_blake2", ["Blake2State"], "_blake2"),
    ("_codecs", [], "_codecs"),
    ("_opcode", [], "_opcode"),
]

# Embedded structs whose object members are taken, with a dotted name.
EMBED = {"Py_buffer", "bufferinfo", "_ttinfo", "_tzrule", "_PyErr_StackItem", "_err_stackitem",
         "SRE_STATE", "PyModuleDef_Base"}
# Structs pointed to whose object members are read through the pointer, named ptr->member: the
# callbacks sqlite3 keeps in a malloc'd context, a ZoneInfo's transition before the first.
DEREF = {"callback_context", "_ttinfo"}
# Data fields a C __sizeof__ reads (cstruct.c), emitted as "#name" with deref -2: not edges.
SCALARS = {
    "permutationsobject": ["r"], "combinationsobject": ["r"], "cwrobject": ["r"],
    "PicklerObject": ["memo"], "simplequeueobject": ["buf"],
    "UnpicklerObject": ["memo", "memo_size", "marks", "marks_size", "input_line", "encoding",
                        "errors"],
}
# Fields read only when a byte field of the same object is non-zero: {field: byte field}.
COND = {"tzinfo": "hastzinfo"}
# Pointee types that are objects without a PyObject header member gdb would show.
OBJECT_TYPES = {"PyObject", "_object", "PyTypeObject", "_typeobject", "PyVarObject",
                "PyHeapTypeObject", "_heaptypeobject"}


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def build_id(path):
    out = run(["readelf", "-n", path]).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else ""


def debug_file(path, root=""):
    bid = build_id(path)
    return "%s/usr/lib/debug/.build-id/%s/%s.debug" % (root, bid[:2], bid[2:]) if bid else ""


class Build:
    """One interpreter build: where its interpreter's DWARF and its extension modules are."""

    def __init__(self, minor, label, interp_dwarf, dynload, root=""):
        self.minor = minor
        self.label = label
        self.interp_dwarf = interp_dwarf
        self.dynload = dynload
        self.root = root

    def dwarf_for(self, stem):
        if stem:
            found = [f for f in glob.glob("%s/%s.cpython-3%d-x86_64-linux-gnu.so"
                                          % (self.dynload, stem, self.minor))]
            if found:
                if self.root or self.label.startswith("Debian 12"):
                    dbg = debug_file(found[0], self.root)
                    return dbg if os.path.exists(dbg) else None
                return found[0]
        return self.interp_dwarf


def pyver(argv):
    return run(argv + ["-c", "import platform; print(platform.python_version())"]).stdout.strip()


def builds():
    out = []
    for v in ("3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"):
        m = v.rsplit(".", 1)[0]
        base = "%s/%s" % (PYENV, v)
        lib = "%s/lib/libpython%s.so.1.0" % (base, m)
        if not os.path.exists(lib):
            sys.exit("missing " + lib)
        out.append(Build(int(m.split(".")[1]), "pyenv %s" % v, lib,
                         "%s/lib/python%s/lib-dynload" % (base, m)))
    deb = debug_file("/usr/bin/python3.11")
    if not os.path.exists(deb):
        sys.exit("missing %s (apt-get install python3.11-dbg)" % deb)
    out.append(Build(11, "Debian 12 %s" % pyver(["/usr/bin/python3.11"]), deb,
                     "/usr/lib/python3.11/lib-dynload"))
    for m in (13, 14, 15):
        exe = "%s/usr/bin/python3.%d" % (SID, m)
        dbg = debug_file(exe, SID)
        if not os.path.exists(dbg):
            sys.exit("missing %s (python3.%d-dbg in the sid root)" % (dbg, m))
        ver = pyver(["chroot", SID, "/usr/bin/python3.%d" % m])
        out.append(Build(m, "Debian sid %s" % ver, dbg,
                         "%s/usr/lib/python3.%d/lib-dynload" % (SID, m), root=SID))
    return out


# ---- gdb ---------------------------------------------------------------------------------------

MARK = "@@@PTYPE "


def ptype_many(dwarf, names):
    """{name: ptype /o text or None} for each type name, from one gdb run."""
    argv = ["gdb", "-nx", "-batch"]
    for n in names:
        argv += ["-ex", "echo %s%s\\n" % (MARK, n), "-ex", "ptype /o %s" % n]
    out = run(argv + [dwarf], timeout=600).stdout
    res = {}
    for chunk in out.split(MARK)[1:]:
        name, _, body = chunk.partition("\n")
        res[name.strip()] = body if "type = " in body else None
    return res


FIELD = re.compile(r"^/\*\s+(\d+)(?::\s*\d+)?\s+\|\s+(\d+)\s+\*/\s+(.*)$")
UNION_MEMBER = re.compile(r"^/\*\s+(\d+)\s+\*/\s+(.*)$")
TOTAL = re.compile(r"/\* total size \(bytes\):\s+(\d+) \*/")
DECL = re.compile(r"^(.*?)(\w+)((?:\[\d+\])*)$")


def parse(text):
    """The members of a ptype /o dump, [(offset, name, type, in_union)], and the struct's size.
    Members of nested anonymous structs and unions are named outer.inner (gdb prints their
    offsets from the start of the outermost struct); typedef'd members are not expanded."""
    out = []
    stack = []  # [offset, is_union, index of its first member in out]
    size = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("/* offset"):
            line = line.split("*/", 1)[1].strip()
        if not line:
            continue
        if line.startswith("type = "):
            stack.append([0, line.split("{")[0].split()[2:3] == ["union"], 0])
            continue
        m = TOTAL.search(line)
        if m:
            if len(stack) == 1:
                size = int(m.group(1))
            continue
        if line.startswith("}"):
            name = line[1:].strip().rstrip(";").strip()
            if not stack:
                continue
            frame = stack.pop()
            if stack and name:
                for k in range(frame[2], len(out)):
                    o, n, t, u = out[k]
                    out[k] = (o, "%s.%s" % (name, n), t, u)
            continue
        in_union = any(f[1] for f in stack)
        m = FIELD.match(line)
        if m:
            off, decl = int(m.group(1)), m.group(3)
        else:
            mu = UNION_MEMBER.match(line)
            if not mu or not stack:
                continue
            off, decl = stack[-1][0], mu.group(2)
        if decl.endswith("{"):
            stack.append([off, decl.split()[0] == "union", len(out)])
            continue
        decl = decl.rstrip(";").strip()
        if "(*" in decl or ":" in decl:
            continue  # function pointers, bit fields
        d = DECL.match(decl)
        if d:
            out.append((off, d.group(2) + d.group(3), d.group(1).strip(), in_union))
    return out, size


def pointee(ctype):
    """The pointee name of a single pointer type ("PyObject *" -> "PyObject"), else None."""
    t = ctype.replace("const ", "").replace("struct ", "").strip()
    if not t.endswith("*") or t.endswith("**"):
        return None
    return t[:-1].strip()


class Dwarf:
    """ptype results of one DWARF file, cached."""

    def __init__(self, path):
        self.path = path
        self.cache = {}

    def ptype(self, names):
        want = [n for n in names if n not in self.cache]
        if want:
            self.cache.update(ptype_many(self.path, want))
            for n in want:
                self.cache.setdefault(n, None)
        return dict((n, self.cache[n]) for n in names)

    def is_object(self, name, depth=0):
        if name in OBJECT_TYPES:
            return True
        if depth > 3:
            return False
        text = self.ptype([name])[name] or self.ptype(["struct " + name])["struct " + name]
        if not text:
            return False
        fields = parse(text)[0]
        if not fields or fields[0][0] != 0:
            return False
        first_type = fields[0][2].replace("struct ", "").strip()
        if first_type in ("PyObject", "_object", "PyVarObject"):
            return True
        return not first_type.endswith("*") and self.is_object(first_type, depth + 1)

    def embedded(self, ctype):
        """Object members of an embedded struct type listed in EMBED: [(offset, name)]."""
        t = ctype.replace("struct ", "").strip()
        return self.members_of(t) if t in EMBED else []

    def members_of(self, t, depth=0):
        """Object members of the struct type t, and of the EMBED structs in it: [(offset, name)]."""
        text = self.ptype([t])[t] or self.ptype(["struct " + t])["struct " + t]
        if not text or depth > 2:
            return []
        out = []
        for o, n, ty, u in parse(text)[0]:
            if u or "[" in n:
                continue
            p = pointee(ty)
            if p and self.is_object(p):
                out.append((o, n))
            elif not p and ty.replace("struct ", "").strip() in EMBED:
                inner = ty.replace("struct ", "").strip()
                out += [(o + o2, "%s.%s" % (n, n2)) for o2, n2 in self.members_of(inner, depth + 1)]
        return out


def object_fields(dw, text, exclude):
    """(size, [(offset, deref, cond, name)]): deref is the member's offset inside the struct a
    DEREF pointer points to (-1: the field itself is the object); cond the offset of the byte
    that says the field exists (-1: always)."""
    members, size = parse(text)
    byname = dict((n, o) for o, n, t, u in members)
    fields = []
    for off, name, ctype, in_union in members:
        base = name.split("[")[0]
        if in_union or base in exclude or "weakreflist" in base or base.endswith("weaklist"):
            continue
        if off == 0 and base == "ob_base":
            continue
        cond = byname.get(COND.get(base), -1)
        arr = re.findall(r"\[(\d+)\]", name)
        p = pointee(ctype)
        if p and dw.is_object(p):
            if arr:
                n = int(arr[0])
                if n > 1:  # a trailing [1] is a var-sized object's items: not fields
                    fields += [(off + 8 * k, -1, -1, "%s[%d]" % (base, k)) for k in range(n)]
            else:
                fields.append((off, -1, cond, name))
        elif p and not arr and p in DEREF:
            fields += [(off, o, -1, "%s->%s" % (name, n)) for o, n in dw.members_of(p)]
        elif not arr:
            fields += [(off + o, -1, -1, "%s.%s" % (name, n)) for o, n in dw.embedded(ctype)]
    return size, fields


def items_are_objects(dw, text):
    """Whether the struct ends in a one-element array of object pointers (var-sized items)."""
    flat = parse(text)[0]
    if not flat:
        return False
    off, name, ctype, _ = flat[-1]
    p = pointee(ctype)
    return name.endswith("[1]") and bool(p) and dw.is_object(p)


# ---- generation --------------------------------------------------------------------------------

def collect():
    rows = {}  # (name, minor, size, is_state) -> {fields, items, labels}
    for b in builds():
        files = {}
        for spec, is_state in [(t, False) for t in TYPES] + [(s, True) for s in STATES]:
            stem = spec[2]
            path = b.dwarf_for(stem)
            if path:
                files.setdefault(path, []).append((spec, is_state))
        for path, specs in sorted(files.items()):
            dw = Dwarf(path)
            names = sorted(set(n for spec, _ in specs for n in spec[1]))
            dw.ptype(names)
            for spec, is_state in specs:
                names, structs = spec[0], spec[1]
                names = (names,) if isinstance(names, str) else names
                exclude = spec[3] if not is_state else []
                for s in structs:
                    text = dw.ptype([s])[s]
                    if text:
                        break
                else:
                    continue
                size, fields = object_fields(dw, text, exclude)
                offsets = dict((n, o) for o, n, t, u in parse(text)[0])
                fields += [(offsets[n], -2, -1, "#" + n) for n in SCALARS.get(s, [])
                           if n in offsets]
                if size is None:
                    sys.exit("error: %s: no size for %s in %s" % (b.label, s, path))
                items = items_are_objects(dw, text)
                for name in names:
                    key = (name, b.minor, size, is_state)
                    val = (tuple(fields), items)
                    old = rows.get(key)
                    if old and old["val"] != val:
                        sys.exit("error: %s 3.%d size %d: %s and %s disagree"
                                 % (name, b.minor, size, old["labels"], b.label))
                    if old:
                        if b.label not in old["labels"]:
                            old["labels"].append(b.label)
                    else:
                        rows[key] = {"val": val, "labels": [b.label], "struct": s}
        print("read %s" % b.label, file=sys.stderr)
    return rows


def emit(rows):
    lines = [
        "/* GENERATED by tests/tools/gen-cstructs.py from the DWARF of the builds each row names",
        " * (gdb ptype /o of the struct); do not edit. Object fields of C types and module states,",
        " * sorted by name, minor version and size: read by cstruct.c. */",
        '#include "lib/walk/cstruct.h"',
        "",
    ]
    index = []
    for n, key in enumerate(sorted(rows)):
        name, minor, size, is_state = key
        r = rows[key]
        fields, items = r["val"]
        sym = "f%d" % n
        lines.append("/* %s 3.%d: %s (%s) */" % (name, minor, r["struct"], "; ".join(r["labels"])))
        if fields:
            lines.append("static const struct wk_cfield %s[] = {" % sym)
            for off, deref, cond, fname in fields:
                lines.append('    {%d, %d, %d, "%s"},' % (off, deref, cond, fname))
            lines.append("};")
        index.append('    {"%s", %d, %d, %d, %d, %d, %s},' % (
            name, minor, 1 if is_state else 0, 1 if items else 0, size, len(fields),
            sym if fields else "NULL"))
    lines.append("")
    lines.append("const struct wk_cstruct wk_cstructs[] = {")
    lines += index
    lines.append("};")
    lines.append("const size_t wk_cstructs_n = sizeof wk_cstructs / sizeof wk_cstructs[0];")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s: %d rows" % (OUT, len(index)), file=sys.stderr)


if __name__ == "__main__":
    emit(collect())
