"""demo_service: a small asyncio service that leaks, for `make demo`.

Run as `python -c "<this source>"` (no __file__; Python 3.8+). It plays a shop front end: every
tick (50 ms) a few visitors arrive, each gets a Session (a NanoTime timestamp, a cart of
decimal.Decimal prices, a dict of attributes) stored in an in-memory session cache that is never
evicted: the leak. Log messages go to a bounded deque (not a leak). Prints `READY <json>` (pid,
version, sessions so far) once started, then runs until stdin reaches end of file or reads
`quit`; `stats` prints `STATS <json>`.
"""
import asyncio
import collections
import decimal
import json
import os
import random
import sys
import threading
import time

TICK_SECONDS = 0.05
VISITORS_PER_TICK = 7
PRELOAD = 3000


class NanoTime(object):
    def __init__(self, ns):
        self.nanoseconds = ns


class Session(object):
    def __init__(self, sid, user, now):
        self.sid = sid
        self.user = user
        self.created = NanoTime(now)
        self.last_seen = NanoTime(now)
        self.cart = []
        self.attributes = {"locale": "en_GB", "currency": "EUR", "ab_bucket": sid % 4}


class Shop(object):
    def __init__(self):
        self.sessions = {}  # sid -> Session; never evicted: the leak
        self.log = collections.deque(maxlen=500)
        self.prices = [decimal.Decimal("%d.%02d" % (p, p % 100)) for p in range(1, 200)]
        self.next_sid = 1
        self.rng = random.Random(42)

    def visit(self):
        sid = self.next_sid
        self.next_sid += 1
        s = Session(sid, "user-%06d" % self.rng.randrange(1000000), time.time_ns())
        for _ in range(self.rng.randrange(1, 4)):
            s.cart.append(self.prices[self.rng.randrange(len(self.prices))] * 1)
        self.sessions[sid] = s
        total = sum(s.cart, decimal.Decimal(0))
        self.log.append("session %d for %s: %d items, %s EUR" % (sid, s.user, len(s.cart), total))

    def stats(self):
        return {"pid": os.getpid(), "version": list(sys.version_info),
                "sessions": len(self.sessions), "log": len(self.log)}


async def ticker(shop, stop):
    while not stop.is_set():
        for _ in range(VISITORS_PER_TICK):
            shop.visit()
        try:
            await asyncio.wait_for(stop.wait(), TICK_SECONDS)
        except asyncio.TimeoutError:
            pass


def reply(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def main():
    loop = asyncio.get_running_loop()
    shop = Shop()
    for _ in range(PRELOAD):
        shop.visit()
    stop = asyncio.Event()
    pending = [b""]
    fd = sys.stdin.fileno()

    def on_data(data):
        if not data:
            stop.set()
            return
        pending[0] += data
        while b"\n" in pending[0]:
            line, pending[0] = pending[0].split(b"\n", 1)
            cmd = line.strip().decode("utf-8", "replace")
            if cmd == "quit":
                stop.set()
            elif cmd == "stats":
                reply("STATS " + json.dumps(shop.stats(), sort_keys=True))
            elif cmd:
                reply("ERR unknown command: %r" % cmd)

    try:
        loop.add_reader(fd, lambda: on_data(os.read(fd, 4096)))
        reader = None
    except OSError:  # a regular file or /dev/null cannot be polled: read it in a thread
        def read_all():
            while True:
                data = os.read(fd, 4096)
                loop.call_soon_threadsafe(on_data, data)
                if not data:
                    return
        reader = threading.Thread(target=read_all, name="stdin", daemon=True)
        reader.start()
    task = loop.create_task(ticker(shop, stop))
    reply("READY " + json.dumps(shop.stats(), sort_keys=True))
    await stop.wait()
    if reader is None:
        loop.remove_reader(fd)
    await task


if __name__ == "__main__":
    asyncio.run(main())
