# Pool(2) created, then closed and joined (mp's close joins), 50 times.
# Prints the count, then milliseconds per create + close (timed in-script).
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 50

if __name__ == "__main__":
    mp.set_start_method("fork")
    t = time.perf_counter()
    for i in range(n):
        p = mp.Pool(2)
        p.close()
        p.join()
    dt = time.perf_counter() - t
    print(n)
    print(dt / n * 1000)
