"""trade_service: the seed's second story, an asyncio service whose TradeMessage objects pile up.

Run as `python -c "<this source>" [materialise] [batches=N] [per_batch=N]` (no __file__; Python
3.8 to 3.15). A module `app` is built with types.ModuleType and put in sys.modules, so that every
object of the story hangs from Root.i0_modules['app']:

    app._hub                    a Hub
      ._unreads                 dict: ('DataSource', 'A'|'B'|...) -> tuple of bound methods
        [key][i]                Subscriber.on_data of one subscriber (each subscriber once)
          .__self__._queue      collections.deque of Batch (__slots__: messages, source)
            [j].messages[k]     TradeMessage(seq, symbol, price)

A producer coroutine pushes batches of messages to every subscriber through its bound method,
and nothing consumes them: that is the pile-up. The event loop has finished and is closed before
READY, so nothing of asyncio refers to the messages any more. Nothing else refers to a message,
a batch, a subscriber or the hub (the only paths are the ones above), and the main thread's
frame holds none of them.

  materialise  touch vars() of the hub and of every subscriber, so their attributes sit in dict
               objects on 3.11+ too (as heapy would leave them); their paths then read
               `.__dict__['_unreads']` and `.__dict__['_queue']` on every version.
  batches=N    batches per subscriber (default 3); per_batch=N messages per batch (default 4).

Beside the story, `app.dead_letters` is a list of DEAD_LETTERS dicts {"payload": Payload,
"attempts": i} (Payload has __slots__, so sys.getsizeof is its whole size), for the views
(bysize, byrcs, byvia) to be checked against.

Prints `READY <json>`: pid, version, thread_ident, counts {messages, batches, subscribers,
keys, bound_methods}, keys (the reprs of the _unreads keys), materialise, message_size
(sys.getsizeof of one TradeMessage), referrer_kind (type name of every message's referrer:
"list"), message_list_via (how each message is held: "[k]"), batch_size (getsizeof of a Batch),
batch_ids and subscriber_ids (hex ids), payloads {count, size, via, referrer_kind}. Serves
stdin, one reply a line:
  ping        -> pong
  where ADDR  -> PATHS <json list of the path expressions of the objects at ADDR (hex), as
                 heapy would write them from the app module, in both renderings: managed
                 (`.attr`) and dict (`.__dict__['attr']`)> or NONE
  quit        -> checks the pile is untouched, exits 0 (1 with reasons on stderr)
End of stdin exits 0.
"""
import asyncio
import collections
import gc
import json
import os
import sys
import threading
import types

ARGS = sys.argv[1:]
MATERIALISE = "materialise" in ARGS
BATCHES = 3
PER_BATCH = 4
for _a in ARGS:
    if _a.startswith("batches="):
        BATCHES = int(_a[len("batches="):])
    elif _a.startswith("per_batch="):
        PER_BATCH = int(_a[len("per_batch="):])

APP_SOURCE = '''
import collections


class TradeMessage(object):
    def __init__(self, seq, symbol, price):
        self.seq = seq
        self.symbol = symbol
        self.price = price


class Batch(object):
    __slots__ = ("messages", "source")

    def __init__(self, source):
        self.messages = []
        self.source = source


class Subscriber(object):
    def __init__(self, name):
        self.name = name
        self._queue = collections.deque()

    def on_data(self, batch):
        self._queue.append(batch)


class Payload(object):
    __slots__ = ("body",)

    def __init__(self, body):
        self.body = body


class Hub(object):
    def __init__(self):
        self._unreads = {}

    def subscribe(self, key, callbacks):
        self._unreads[key] = tuple(callbacks)

    def publish(self, key, batch):
        for callback in self._unreads[key]:
            callback(batch)
'''

app = types.ModuleType("app")
sys.modules["app"] = app
exec(compile(APP_SOURCE, "app.py", "exec"), app.__dict__)

SOURCES = ("A", "B", "C")
SUBSCRIBERS_PER_KEY = 2
DEAD_LETTERS = 5


async def _produce(hub, key, start):
    """One feed: BATCHES batches of PER_BATCH messages; every subscriber of the key gets each
    batch (a subscriber's queue holds its own Batch objects, so each message has one path)."""
    seq = start
    for _ in range(BATCHES):
        for callback in hub._unreads[key]:
            batch = app.Batch(key[1])
            for _ in range(PER_BATCH):
                batch.messages.append(app.TradeMessage(seq, "SYM%d" % (seq % 7), 100.0 + seq))
                seq += 1
            callback(batch)
        await asyncio.sleep(0)
    return seq


async def _feeds(hub):
    start = 0
    for key in sorted(hub._unreads):
        start = await _produce(hub, key, start)


def build():
    hub = app.Hub()
    app._hub = hub
    for src in SOURCES:
        subs = [app.Subscriber("%s-%d" % (src, i)) for i in range(SUBSCRIBERS_PER_KEY)]
        hub.subscribe(("DataSource", src), [s.on_data for s in subs])
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_feeds(hub))
    finally:
        loop.close()
    app.dead_letters = [{"payload": app.Payload(b"undeliverable %d" % i), "attempts": i}
                        for i in range(DEAD_LETTERS)]
    if MATERIALISE:
        vars(hub)
        for callbacks in hub._unreads.values():
            for cb in callbacks:
                vars(cb.__self__)


def _walk():
    """(message, managed path, dict path) for every message, from the app module."""
    out = []
    hub = app._hub
    for key, callbacks in hub._unreads.items():
        for i, cb in enumerate(callbacks):
            for j, batch in enumerate(cb.__self__._queue):
                for k, msg in enumerate(batch.messages):
                    tail = "[%r][%d].__self__%s[%d].messages[%d]"
                    managed = ".__dict__['_hub']._unreads" + tail % (key, i, "._queue", j, k)
                    dicts = (".__dict__['_hub'].__dict__['_unreads']" +
                             tail % (key, i, ".__dict__['_queue']", j, k))
                    out.append((msg, "Root.i0_modules['app']" + managed,
                                "Root.i0_modules['app']" + dicts))
    return out


def report():
    hub = app._hub
    walk = _walk()
    msgs = [m for m, _, _ in walk]
    batches = [b for cbs in hub._unreads.values() for cb in cbs for b in cb.__self__._queue]
    nbatches = len(batches)
    return json.dumps({
        "pid": os.getpid(), "version": list(sys.version_info),
        "thread_ident": threading.get_ident(), "materialise": MATERIALISE,
        "counts": {"messages": len(msgs), "batches": nbatches,
                   "subscribers": sum(len(c) for c in hub._unreads.values()),
                   "keys": len(hub._unreads),
                   "bound_methods": sum(len(c) for c in hub._unreads.values())},
        "keys": sorted(repr(k) for k in hub._unreads),
        "message_size": sys.getsizeof(msgs[0]),
        "referrer_kind": "list", "message_list_via": "[k]",
        "batch_size": sys.getsizeof(batches[0]),
        "batch_ids": sorted(hex(id(b)) for b in batches),
        "subscriber_ids": sorted(hex(id(cb.__self__)) for cbs in hub._unreads.values()
                                 for cb in cbs),
        "payloads": {"count": len(app.dead_letters),
                     "size": sys.getsizeof(app.dead_letters[0]["payload"]),
                     "via": "['payload']", "referrer_kind": "dict (no owner)"},
    }, sort_keys=True)


def where(addr):
    found = [[managed, dicts] for m, managed, dicts in _walk() if id(m) == addr]
    return "PATHS " + json.dumps(found[0]) if found else "NONE"


def check():
    expected = len(SOURCES) * SUBSCRIBERS_PER_KEY * BATCHES * PER_BATCH
    walk = _walk()
    if len(walk) != expected:
        return "expected %d messages, found %d" % (expected, len(walk))
    if any(type(m) is not app.TradeMessage for m, _, _ in walk):
        return "a message changed type"
    if [type(d["payload"]) for d in app.dead_letters] != [app.Payload] * DEAD_LETTERS:
        return "the dead letters changed"
    seqs = sorted(m.seq for m, _, _ in walk)
    if seqs != list(range(expected)):
        return "message sequence numbers changed"
    return None


def serve():
    while True:
        line = sys.stdin.readline()
        if not line:
            return 0
        cmd = line.split()
        if cmd == ["quit"]:
            bad = check()
            if bad:
                sys.stderr.write("trade_service: check failed: %s\n" % bad)
                return 1
            return 0
        if cmd == ["ping"]:
            reply = "pong"
        elif len(cmd) == 2 and cmd[0] == "where":
            reply = where(int(cmd[1], 16))
        else:
            reply = "ERR unknown command: %r" % line.strip()
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()


build()
gc.collect()  # the closed loop's leftovers go now, not while pyheap looks
sys.stdout.write("READY " + report() + "\n")
sys.stdout.flush()
sys.exit(serve())
