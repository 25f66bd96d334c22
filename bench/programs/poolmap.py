# Pool(2).map of x * x over 100,000 ints, on a pool already started.
# Prints the count and sum of the results, an "info:" line with the best of
# 10 more maps on the warm pool, then milliseconds for the first map (timed
# in-script).
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000

def square(x):
    return x * x

if __name__ == "__main__":
    mp.set_start_method("fork")
    items = list(range(n))
    p = mp.Pool(2)
    t = time.perf_counter()
    out = p.map(square, items)
    dt = time.perf_counter() - t
    # Warm: the best of 10 more maps on the same pool (a note, not the figure).
    warm = 1e9
    for k in range(10):
        t2 = time.perf_counter()
        p.map(square, items)
        warm = min(warm, time.perf_counter() - t2)
    p.close()
    p.join()
    print(len(out), sum(out))
    print(f"info: warm pool, best of 10 more maps: {warm * 1000:.1f} ms")
    print(dt * 1000)
