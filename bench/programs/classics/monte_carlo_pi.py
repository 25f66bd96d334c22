# Python twin of examples/classics/monte_carlo_pi.mp: each worker throws
# its own random points; only the counts travel back.
import multiprocessing as mp
import random

WORKERS, SAMPLES = 4, 50_000

def hits(n, seed, out):
    rnd = random.Random(seed)
    inside = 0
    for i in range(n):
        x, y = rnd.random(), rnd.random()
        if x * x + y * y <= 1.0:
            inside += 1
    out.put(inside)

if __name__ == "__main__":
    mp.set_start_method("fork")
    out = mp.Queue()
    ps = [mp.Process(target=hits, args=(SAMPLES, 2024 * 100 + k, out)) for k in range(WORKERS)]
    for p in ps:
        p.start()
    total = sum(out.get() for p in ps)
    for p in ps:
        p.join()
    pi = 4 * total / (WORKERS * SAMPLES)
    print(f"pi is about {pi:.2f}")
    print("error below 0.01:", "true" if abs(pi - 3.14159265) < 0.01 else "false")
