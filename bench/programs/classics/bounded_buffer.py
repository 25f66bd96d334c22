# Python twin of examples/classics/bounded_buffer.mp: a bounded buffer
# with two conditions over one lock, a shared ring, 2 producers, 2 consumers.
import multiprocessing as mp

SIZE = 4
HEAD, TAIL, COUNT = 0, 1, 2

def producer(buf, state, not_full, not_empty, first, n):
    for item in range(first, first + n):
        with not_full:
            not_full.wait_for(lambda: state[COUNT] < SIZE)
            buf[state[TAIL]] = item
            state[TAIL] = (state[TAIL] + 1) % SIZE
            state[COUNT] += 1
            assert state[COUNT] <= SIZE, "buffer overflow"
            not_empty.notify()

def consumer(buf, state, not_full, not_empty, n, out):
    total = 0
    for k in range(n):
        with not_empty:
            not_empty.wait_for(lambda: state[COUNT] > 0)
            total += buf[state[HEAD]]
            state[HEAD] = (state[HEAD] + 1) % SIZE
            state[COUNT] -= 1
            not_full.notify()
    out.put(total)

if __name__ == "__main__":
    mp.set_start_method("fork")
    buf = mp.Array("q", SIZE, lock=False)
    state = mp.Array("q", 3, lock=False)
    l = mp.Lock()
    not_full, not_empty = mp.Condition(l), mp.Condition(l)
    out = mp.Queue()
    n = 300
    ps = [mp.Process(target=producer, args=(buf, state, not_full, not_empty, i * n, n)) for i in range(2)]
    cs = [mp.Process(target=consumer, args=(buf, state, not_full, not_empty, n, out)) for i in range(2)]
    for p in ps + cs:
        p.start()
    totals = [out.get() for c in cs]
    for p in ps + cs:
        p.join()
    print("consumed", sum(totals), "expected", sum(range(2 * n)))
    print("left in the buffer:", state[COUNT])
