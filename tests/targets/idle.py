"""idle: a trivial target for tests that look at the interpreter, not its heap.

Run as `python -c "<this source>"` (no reliance on __file__; Python 3.8 to 3.15). It starts one
extra thread that waits on an event, so there are two thread states to find, then prints
`READY {"version": sys.hexversion, "threads": N, "pid": PID}` and serves stdin:
  ping -> pong
  quit -> stops the extra thread and exits 0
End of stdin exits 0 too.
"""
import json
import os
import sys
import threading

stop = threading.Event()
worker = threading.Thread(target=stop.wait, name="idle-worker", daemon=True)
worker.start()

print("READY " + json.dumps({"version": sys.hexversion, "threads": threading.active_count(),
                             "pid": os.getpid()}), flush=True)

for line in sys.stdin:
    cmd = line.strip()
    if cmd == "ping":
        print("pong", flush=True)
    elif cmd == "quit":
        break
stop.set()
worker.join(10)
sys.exit(0 if not worker.is_alive() else 1)
