# spawn + join of a function that does nothing, one after another.
# Prints the count, then microseconds per spawn + join (timed in-script).
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 500

def nothing():
    return None

if __name__ == "__main__":
    mp.set_start_method("fork")
    t = time.perf_counter()
    i = 0
    while i < n:
        p = mp.Process(target=nothing)
        p.start()
        p.join()
        i += 1
    dt = time.perf_counter() - t
    print(n)
    print(dt / n * 1e6)
