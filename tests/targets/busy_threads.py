"""A target for the freeze tests: 8 threads that never stop computing.

Each worker spins incrementing two counters under its own lock and checks that they stay equal
(a torn update would mean a freeze corrupted the program). A SIGUSR1 handler counts the signals
it receives, so a test can prove that no signal was lost across freezes.

Protocol (stdin/stdout, one line each):
  -> READY <pid>                      once all 8 workers are running
  <- ping   -> PONG <usr1> <c0> ... <c7>   counters as seen now
  <- quit   -> workers stop and are joined; exit 0 if every check held, else 1
"""
import signal
import sys
import threading

N = 8


class Worker:
    def __init__(self):
        self.lock = threading.Lock()
        self.a = 0
        self.b = 0
        self.ok = True

    def spin(self, started, stop):
        with self.lock:
            self.a += 1
            self.b += 1
        started.wait()
        while not stop.is_set():
            with self.lock:
                self.a += 1
                self.b += 1
                if self.a != self.b:
                    self.ok = False

    def count(self):
        with self.lock:
            if self.a != self.b:
                self.ok = False
            return self.a


usr1 = 0


def on_usr1(signum, frame):
    global usr1
    usr1 += 1


def main():
    signal.signal(signal.SIGUSR1, on_usr1)
    workers = [Worker() for _ in range(N)]
    started = threading.Barrier(N + 1)
    stop = threading.Event()
    threads = [threading.Thread(target=w.spin, args=(started, stop)) for w in workers]
    for t in threads:
        t.start()
    started.wait()
    print("READY", threading.get_native_id(), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "ping":
            counts = " ".join(str(w.count()) for w in workers)
            print("PONG", usr1, counts, flush=True)
        elif cmd == "quit":
            break
        else:
            print("ERROR unknown command", cmd, flush=True)
    stop.set()
    for t in threads:
        t.join()
    ok = all(w.ok and w.a == w.b and w.a > 0 for w in workers)
    print("BYE", "ok" if ok else "FAILED", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
