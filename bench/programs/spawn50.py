# 50 processes started at once, then joined (join of the list).
# Prints the count, then milliseconds for the whole (timed in-script).
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 50

def nothing():
    return None

if __name__ == "__main__":
    mp.set_start_method("fork")
    t = time.perf_counter()
    ps = []
    for i in range(n):
        p = mp.Process(target=nothing)
        p.start()
        ps.append(p)
    for p in ps:
        p.join()
    dt = time.perf_counter() - t
    print(len(ps))
    print(dt * 1000)
