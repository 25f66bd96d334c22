# Fork cost as the heap grows: spawn + join of a function that does
# nothing, timed with an empty heap, then after each 500 lists of 1,000 ints
# (3,000 lists in all: 3M ints, ~50 MB of mp lists).
# Prints the list count, "info:" lines with each step, then microseconds
# per spawn + join with the full heap (timed in-script).
import multiprocessing as mp
import sys
import time

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50

def nothing():
    return None

def per_spawn(n):
    t = time.perf_counter()
    i = 0
    while i < n:
        p = mp.Process(target=nothing)
        p.start()
        p.join()
        i += 1
    return (time.perf_counter() - t) / n * 1e6

if __name__ == "__main__":
    mp.set_start_method("fork")
    heap = []
    print(f"info: 0 lists: {per_spawn(rounds):.0f} us")
    last = 0
    for step in range(6):
        for i in range(500):
            heap.append(list(range(1000)))
        last = per_spawn(rounds)
        print(f"info: {len(heap)} lists: {last:.0f} us")
    print(len(heap))
    print(last)
