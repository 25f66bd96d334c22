# 100,000 small ints from a child to the parent through a queue.
# Prints their sum, then milliseconds from start to join (timed in-script).
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000

def produce(q, n):
    for i in range(n):
        q.put(i)

if __name__ == "__main__":
    mp.set_start_method("fork")
    q = mp.Queue()
    t = time.perf_counter()
    p = mp.Process(target=produce, args=(q, n))
    p.start()
    total = 0
    for i in range(n):
        total += q.get()
    p.join()
    dt = time.perf_counter() - t
    print(total)
    print(dt * 1000)
