"""leader_exit: a process whose main thread has exited while another thread runs on.

Run as `python -c "<this source>"` (no reliance on __file__; Python 3.8 to 3.15, glibc). A worker
thread serves stdin; the main thread prints `READY {"pid": PID, "version": ...}` and waits.

Commands, one a line:
  exit-main -> the main thread calls pthread_exit() (through ctypes, which releases the GIL
               around the call, so the worker keeps the interpreter). The kernel then shows the
               main thread as a zombie ("Z" in /proc/PID/stat), with empty /proc/PID/maps and
               exe, while the process lives on: the test waits for that state.
  ping      -> pong
  quit (or end of stdin) -> the process exits 0 (os._exit, from the worker: the main thread
               may be gone, and with it the interpreter's shutdown).
"""
import ctypes
import json
import os
import sys
import threading

KEEP = [{"leader": "gone"} for _ in range(3)]


exit_main = threading.Event()


def serve():
    for line in sys.stdin:
        if line.strip() == "ping":
            print("pong", flush=True)
        elif line.strip() == "exit-main":
            exit_main.set()
        elif line.strip() == "quit":
            break
    os._exit(0)


threading.Thread(target=serve).start()
print("READY " + json.dumps({"pid": os.getpid(), "version": sys.hexversion}), flush=True)
exit_main.wait()
ctypes.CDLL(None).pthread_exit(None)
