# CPU-bound items on 2 cores: 4 calls of burn(12M) serially, then through
# Pool(2).map, in the same script; twice, taking the faster of each, so
# that a burst of other work on a shared machine during one of them does
# not decide the result. Prints the results' agreement, an "info:" line
# with the times, then the speed-up (serial / pool).
import multiprocessing as mp
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 12_000_000

def burn(n):
    total = 0
    i = 0
    while i < n:
        total += i * i % 7
        i += 1
    return total

if __name__ == "__main__":
    mp.set_start_method("fork")
    jobs = [n, n, n, n]
    p = mp.Pool(2)
    serial_time = 1e9
    pool_time = 1e9
    same = True
    for round in range(2):
        t = time.perf_counter()
        serial = []
        for m in jobs:
            serial.append(burn(m))
        serial_time = min(serial_time, time.perf_counter() - t)
        t = time.perf_counter()
        parallel = p.map(burn, jobs)
        pool_time = min(pool_time, time.perf_counter() - t)
        same = same and serial == parallel
    p.close()
    p.join()
    print("true" if same else "false", burn(1000))
    print(f"info: serial {serial_time:.2f} s, pool(2) {pool_time:.2f} s (faster of 2 rounds)")
    print(serial_time / pool_time)
