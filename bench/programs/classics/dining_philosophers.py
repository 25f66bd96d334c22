# Python twin of examples/classics/dining_philosophers.mp: the deadlock
# (everyone holds the left fork, times out on the right) and the ordered fix.
import multiprocessing as mp

N = 5
patience = 0.5

def naive(i, forks, all_hold_left, out):
    left, right = forks[i], forks[(i + 1) % N]
    with left:
        all_hold_left.wait()
        ate = right.acquire(timeout=patience)
        if ate:
            right.release()
        all_hold_left.wait()
    out.put(ate)

def ordered(i, forks, meals, rounds):
    a, b = sorted([i, (i + 1) % N])
    for k in range(rounds):
        with forks[a]:
            with forks[b]:
                with meals.get_lock():
                    meals[i] += 1

if __name__ == "__main__":
    mp.set_start_method("fork")
    forks = [mp.Lock() for i in range(N)]
    all_hold_left = mp.Barrier(N)
    out = mp.Queue()
    ps = [mp.Process(target=naive, args=(i, forks, all_hold_left, out)) for i in range(N)]
    for p in ps:
        p.start()
    ate = [out.get() for p in ps]
    for p in ps:
        p.join()
    print(f"round 1: {len([a for a in ate if a])} of {N} ate")
    if not any(ate):
        print("deadlock: each holds one fork and waits for the next")
    meals = mp.Array("q", N)
    ps = [mp.Process(target=ordered, args=(i, forks, meals, 20)) for i in range(N)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print("round 2: meals", list(meals))
