# Python twin of examples/classics/reusable_barrier.mp: rounds of smoothing
# over two shared arrays that take turns, one barrier reused every round.
import multiprocessing as mp

WORKERS, ROUNDS, CELLS = 3, 40, 12

def step(src, dst, lo, hi):
    for i in range(lo, hi):
        if i == 0 or i == CELLS - 1:
            dst[i] = src[i]
        else:
            dst[i] = (src[i - 1] + 2 * src[i] + src[i + 1]) // 4

def worker(k, grids, b, rounds_done):
    lo, hi = k * CELLS // WORKERS, (k + 1) * CELLS // WORKERS
    for r in range(ROUNDS):
        step(grids[r % 2], grids[(r + 1) % 2], lo, hi)
        if b.wait() == WORKERS - 1:
            with rounds_done.get_lock():
                rounds_done.value += 1

def serial(start):
    cur, nxt = list(start), list(start)
    for r in range(ROUNDS):
        step(cur, nxt, 0, CELLS)
        cur, nxt = nxt, cur
    return cur

if __name__ == "__main__":
    mp.set_start_method("fork")
    start = [0] * CELLS
    start[0], start[-1] = 1000, 500
    grids = [mp.Array("q", start, lock=False), mp.Array("q", start, lock=False)]
    b = mp.Barrier(WORKERS)
    rounds_done = mp.Value("q", 0)
    ps = [mp.Process(target=worker, args=(k, grids, b, rounds_done)) for k in range(WORKERS)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    result = list(grids[ROUNDS % 2])
    print("rounds:", rounds_done.value)
    print("same as serial:", "true" if result == serial(start) else "false")
    print("[" + ", ".join(map(str, result)) + "]")
