# Uncontended lock, the method form: 1,000,000 `l.acquire(); l.release()`
# in one process, minus the same loop without them. Prints true (the lock is
# free afterwards), an "info:" line with both loops, then nanoseconds per
# acquire + release.
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000

if __name__ == "__main__":
    mp.set_start_method("fork")
    l = mp.Lock()
    t = time.perf_counter()
    for i in range(n):
        l.acquire()
        l.release()
    locked = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(n):
        pass
    empty = time.perf_counter() - t
    free = l.acquire(block=False)
    print("true" if free else "false")   # mp prints booleans in lower case
    print(f"info: acquire + release {locked / n * 1e9:.0f} ns per iteration, empty loop {empty / n * 1e9:.0f} ns")
    print((locked - empty) / n * 1e9)
