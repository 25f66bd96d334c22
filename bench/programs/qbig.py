# 200 strings of 1 MB from a child to the parent through a queue.
# Prints the count and the last item's length, then milliseconds from start
# to join.
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200

def produce(q, item, n):
    for i in range(n):
        q.put(item)

if __name__ == "__main__":
    mp.set_start_method("fork")
    item = "x" * 1_000_000
    q = mp.Queue()
    t = time.perf_counter()
    p = mp.Process(target=produce, args=(q, item, n))
    p.start()
    last = None
    for i in range(n):
        last = q.get()
    p.join()
    dt = time.perf_counter() - t
    print(n, len(last))
    print(dt * 1000)
