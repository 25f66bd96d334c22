# A list of 5M ints returned by a child, through a Pipe (see result.py).
# Built before the fork; the child sends it. Prints its length and sum,
# then milliseconds from start to join.
import multiprocessing as mp
import sys
import time

size = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000

def give(conn, xs):
    conn.send(xs)
    conn.close()

if __name__ == "__main__":
    mp.set_start_method("fork")
    xs = list(range(size))
    t = time.perf_counter()
    receiver, sender = mp.Pipe(duplex=False)
    p = mp.Process(target=give, args=(sender, xs))
    p.start()
    sender.close()
    r = receiver.recv()
    p.join()
    dt = time.perf_counter() - t
    print(len(r), sum(r))
    print(dt * 1000)
