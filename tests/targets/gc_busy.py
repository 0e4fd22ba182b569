"""gc_busy: a target that holds a garbage collection open for as long as the test wants.

Run as `python -c "<this source>"` (no reliance on __file__; Python 3.8 to 3.15). CPython sets
the interpreter's GC state `collecting` before it calls the gc.callbacks with phase "start" and
clears it after the "stop" callbacks (Modules/gcmodule.c gc_collect_impl up to 3.12,
Python/gc.c _PyGC_Collect from 3.13). A callback that blocks on "start" therefore keeps
`collecting` set, which is the state in which pyheap must refuse to walk and retry.

It prints `READY {"version": sys.hexversion, "pid": PID}` and serves stdin, one command a line:
  collect -> a collector thread calls gc.collect(); the gc callback, on "start" in that thread,
             prints COLLECTING and blocks until `release`
  release -> lets the blocked callback return, waits for the collector thread to end (gc.collect()
             returned), then prints COLLECTED (or `ERR ...` if it did not end within 10 s)
  ping    -> pong (answered by the main thread, also while the collection is blocked)
  quit    -> exits 0 (1 if the collector thread did not end)
End of stdin is quit.

Only the collector thread ever blocks in the callback: the main thread's automatic collections
cannot start while `collecting` is set (CPython skips them), and any it runs before or after
call the callback with nothing to do. COLLECTED comes from the main thread after joining the
collector, so once a test has read it the target has one thread again, idle in its stdin read.
Lines from both threads are written under one lock, so they never interleave.
"""
import gc
import json
import os
import sys
import threading

out_lock = threading.Lock()
release = threading.Event()
collector = None           # the collector thread, once `collect` was sent
blocked_once = [False]     # the callback blocks once per target: the test sends one `collect`


def reply(text):
    with out_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def callback(phase, info):
    if phase != "start" or threading.current_thread() is not collector or blocked_once[0]:
        return
    blocked_once[0] = True
    # The GC state says "collecting" from here until the "stop" callbacks have run.
    reply("COLLECTING")
    release.wait()


def collect():
    gc.collect()


gc.callbacks.append(callback)

reply("READY " + json.dumps({"version": sys.hexversion, "pid": os.getpid()}))

for line in sys.stdin:
    cmd = line.strip()
    if cmd == "ping":
        reply("pong")
    elif cmd == "collect":
        if collector is not None:
            reply("ERR collect sent twice")
            continue
        # Daemon: a test that dies before `release` must not leave the target unable to exit.
        collector = threading.Thread(target=collect, name="gc-busy-collector", daemon=True)
        collector.start()
    elif cmd == "release":
        release.set()
        if collector is None:
            reply("ERR release before collect")
            continue
        collector.join(10)  # safety net only: the collection ends as soon as the callback returns
        reply("ERR collector still running" if collector.is_alive() else "COLLECTED")
    elif cmd == "quit":
        break
    else:
        reply("ERR unknown command: %r" % cmd)

ok = True
if collector is not None:
    release.set()
    collector.join(10)
    ok = not collector.is_alive()
gc.callbacks.remove(callback)
sys.exit(0 if ok else 1)
