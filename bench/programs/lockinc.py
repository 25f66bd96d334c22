# Two processes each doing 100,000 locked increments of a shared cell.
# A Lock plus a Value without its own lock (lock=False): the fastest
# Python twin of mp's `with l { c.value = c.value + 1 }` (a synchronized
# Value would take its own RLock on every read and write as well).
# Prints the final count, then milliseconds from the first start to the
# last join (timed in-script).
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000

def work(l, c, n):
    for i in range(n):
        with l:
            c.value = c.value + 1

if __name__ == "__main__":
    mp.set_start_method("fork")
    l = mp.Lock()
    c = mp.Value("q", 0, lock=False)
    t = time.perf_counter()
    ps = [mp.Process(target=work, args=(l, c, n)) for _ in range(2)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    dt = time.perf_counter() - t
    print(c.value)
    print(dt * 1000)
