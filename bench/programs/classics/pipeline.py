# Python twin of examples/classics/pipeline.mp: three stages connected by
# one-way pipes. Python's pipes end only when every copy of the sending end
# is closed, in every process, so each stage sends a None sentinel instead.
import multiprocessing as mp

N = 2000

def generate(out, results):
    for i in range(1, N + 1):
        out.send(i)
    out.send(None)
    results.put((0, f"generate sent {N}"))

def transform(inp, out, results):
    n = 0
    while (x := inp.recv()) is not None:
        if x % 2 == 1:
            out.send(x * x)
        n += 1
    out.send(None)
    results.put((1, f"transform read {n}"))

def collect(inp, results):
    total = 0
    while (x := inp.recv()) is not None:
        total += x
    results.put((2, total))

if __name__ == "__main__":
    mp.set_start_method("fork")
    a_in, a_out = mp.Pipe(False)
    b_in, b_out = mp.Pipe(False)
    results = mp.Queue()
    stages = [mp.Process(target=generate, args=(a_out, results)),
              mp.Process(target=transform, args=(a_in, b_out, results)),
              mp.Process(target=collect, args=(b_in, results))]
    for p in stages:
        p.start()
    got = dict(results.get() for p in stages)
    for p in stages:
        p.join()
    print(got[0])
    print(got[1])
    print(got[2], "true" if got[2] == sum(x * x for x in range(1, N + 1) if x % 2 == 1) else "false")
