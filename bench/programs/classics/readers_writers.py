# Python twin of examples/classics/readers_writers.mp: a readers-writers
# lock built from a condition; readers check a row is never half-written.
import multiprocessing as mp
import time

READERS, WRITING, WAITING_WRITERS, MOST_READERS = 0, 1, 2, 3

def start_read(c, state):
    with c:
        c.wait_for(lambda: state[WRITING] == 0 and state[WAITING_WRITERS] == 0)
        state[READERS] += 1
        state[MOST_READERS] = max(state[MOST_READERS], state[READERS])

def end_read(c, state):
    with c:
        state[READERS] -= 1
        if state[READERS] == 0:
            c.notify_all()

def start_write(c, state):
    with c:
        state[WAITING_WRITERS] += 1
        c.wait_for(lambda: state[READERS] == 0 and state[WRITING] == 0)
        state[WAITING_WRITERS] -= 1
        state[WRITING] = 1

def end_write(c, state):
    with c:
        state[WRITING] = 0
        c.notify_all()

def reader(c, state, data, reads, out):
    bad = 0
    for k in range(reads):
        start_read(c, state)
        first = data[0]
        bad += sum(1 for x in data if x != first)
        end_read(c, state)
    out.put(bad)

def writer(c, state, data, writes):
    for k in range(writes):
        start_write(c, state)
        v = data[0] + 1
        for i in range(len(data)):
            data[i] = v
            time.sleep(0.0002)
        end_write(c, state)

if __name__ == "__main__":
    mp.set_start_method("fork")
    c = mp.Condition()
    state = mp.Array("q", 4, lock=False)
    data = mp.Array("q", 8, lock=False)
    out = mp.Queue()
    ws = [mp.Process(target=writer, args=(c, state, data, 10)) for i in range(2)]
    rs = [mp.Process(target=reader, args=(c, state, data, 50, out)) for i in range(4)]
    for p in ws + rs:
        p.start()
    bad = sum(out.get() for r in rs)
    for p in ws + rs:
        p.join()
    print("inconsistent reads:", bad)
    print("data: [" + ", ".join(map(str, data)) + "]")
    print("most readers at once:", state[MOST_READERS])
