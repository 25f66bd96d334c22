# A 50 MB string returned by a child. multiprocessing.Process has no return
# value, so the child sends it through a Pipe (the cheapest way back; a
# Queue or Pool.apply add to it). Prints its length, then milliseconds from
# start to join (timed in-script).
import multiprocessing as mp
import sys
import time

size = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000_000

def give(conn, s):
    conn.send(s)
    conn.close()

if __name__ == "__main__":
    mp.set_start_method("fork")
    s = "x" * size
    t = time.perf_counter()
    receiver, sender = mp.Pipe(duplex=False)
    p = mp.Process(target=give, args=(sender, s))
    p.start()
    sender.close()
    r = receiver.recv()
    p.join()
    dt = time.perf_counter() - t
    print(len(r))
    print(dt * 1000)
