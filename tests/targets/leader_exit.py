"""leader_exit: a process whose main thread has exited while another thread runs on.

Run as `python -c "<this source>"` (no reliance on __file__; Python 3.8 to 3.15, glibc). A worker
thread serves stdin; the main thread prints `READY {"pid": PID, "version": ...}` and waits.

Commands, one a line:
  exit-main -> main-exited: the main thread calls pthread_exit() (through ctypes, which
               releases the GIL around the call, so the worker keeps the interpreter); the
               worker joins it and answers. The kernel shows the main thread as a zombie ("Z"
               in /proc/PID/stat), with empty /proc/PID/maps and exe, while the process lives on.
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
libc = ctypes.CDLL(None)
MAIN = threading.main_thread().ident  # on Linux, the main thread's pthread_t


def serve():
    for line in sys.stdin:
        if line.strip() == "ping":
            print("pong", flush=True)
        elif line.strip() == "exit-main":
            exit_main.set()
            # pthread_join returns once the kernel has cleared the main thread's tid, at its
            # exit: the reply is the target's own word that the main thread is gone.
            libc.pthread_join(ctypes.c_ulong(MAIN), None)
            print("main-exited", flush=True)
        elif line.strip() == "quit":
            break
    os._exit(0)


threading.Thread(target=serve).start()
print("READY " + json.dumps({"pid": os.getpid(), "version": sys.hexversion}), flush=True)
exit_main.wait()
libc.pthread_exit(None)
