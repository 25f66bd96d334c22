# Uncontended semaphore: 1,000,000 `s.acquire(); s.release()` on a
# Semaphore(2) in one process, minus the same loop without them. Prints its
# count afterwards (2), an "info:" line with both loops, then nanoseconds
# per acquire + release.
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000

if __name__ == "__main__":
    mp.set_start_method("fork")
    s = mp.Semaphore(2)
    t = time.perf_counter()
    for i in range(n):
        s.acquire()
        s.release()
    taken = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(n):
        pass
    empty = time.perf_counter() - t
    print(s.get_value())
    print(f"info: acquire + release {taken / n * 1e9:.0f} ns per iteration, empty loop {empty / n * 1e9:.0f} ns")
    print((taken - empty) / n * 1e9)
