#!/usr/bin/env python3
"""Random valid mp programs that use processes, queues, locks, semaphores,
events, shared cells and pools, each run as a whole `mp` process with a
timeout. The generator knows what each program must print (it computes the
same values in Python), so a run is checked line by line, plus: exit status
0, nothing left running, and an end within the timeout (a hang is a
finding). Failing programs are kept with their expected output.

Usage: gen.py [--seconds S | --programs N] [--seed N] [--mp PATH] [--keep DIR]
"""
import argparse
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def find_mp(given):
    for p in [given, os.environ.get("MP_BINARY"), os.path.join(ROOT, ".build/debug/mp")]:
        if p and os.access(p, os.X_OK):
            return p
    sys.exit("gen: no mp binary (build it, or pass --mp)")


def floordiv(a, b):
    return a // b


class Expr:
    """A random integer expression over x, with its value computed the way
    mp computes it (floor division and modulo, as Python)."""

    def __init__(self, rng, depth=0):
        self.rng = rng
        self.text, self.fn = self.make(depth)

    def make(self, depth):
        rng = self.rng
        if depth > 2 or rng.random() < 0.3:
            if rng.random() < 0.5:
                return "x", lambda x: x
            c = rng.randint(-9, 9)
            return f"({c})", lambda x, c=c: c
        op = rng.choice(["+", "-", "*", "//", "%"])
        lt, lf = self.make(depth + 1)
        if op in ("//", "%"):
            c = rng.choice([1, 2, 3, 5, 7, -3])
            return f"({lt} {op} ({c}))", (lambda x, lf=lf, c=c: lf(x) // c) if op == "//" else (lambda x, lf=lf, c=c: lf(x) % c)
        rt, rf = self.make(depth + 1)
        f = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}[op]
        return f"({lt} {op} {rt})", lambda x, lf=lf, rf=rf, f=f: f(lf(x), rf(x))


class Program:
    def __init__(self, rng):
        self.rng = rng
        self.lines = []      # mp source
        self.expect = []     # stdout lines
        self.n = 0

    def name(self, base):
        self.n += 1
        return f"{base}{self.n}"

    def add(self, src, *out):
        self.lines.append(src)
        self.expect.extend(out)

    # Each task appends code and the lines it must print.
    def spawn_join(self):
        e = Expr(self.rng)
        f = self.name("f")
        xs = [self.rng.randint(-20, 20) for _ in range(self.rng.randint(1, 5))]
        self.add(f"fn {f}(x) {{ return {e.text} }}\n"
                 f"let ps_{f} = []\nfor x in {xs} {{ ps_{f}.push(spawn({f}, x)) }}\nprint(join(ps_{f}))",
                 "[" + ", ".join(str(e.fn(x)) for x in xs) + "]")

    def queue_pipeline(self):
        q = self.name("q")
        producers = self.rng.randint(1, 3)
        consumers = self.rng.randint(1, 3)
        per = self.rng.randint(0, 60)
        maxsize = self.rng.choice([0, 1, 3, 100])
        big = self.rng.choice([0, 0, 5000, 100000])
        total = sum(i * 2 + 1 for p in range(producers) for i in range(per))
        self.add(f"""fn prod_{q}(q, n) {{ for i in range(n) {{ q.put([i * 2 + 1, "x" * {big}]) }} }}
fn cons_{q}(q) {{
  let t = 0
  let n = 0
  for item in q {{ t += item[0]; n += 1 }}
  return [t, n]
}}
let {q} = queue({maxsize})
let cs_{q} = []
for i in range({consumers}) {{ cs_{q}.push(spawn(cons_{q}, {q})) }}
let ps_{q} = []
for i in range({producers}) {{ ps_{q}.push(spawn(prod_{q}, {q}, {per})) }}
join(ps_{q})
{q}.close()
let tot_{q} = 0
let cnt_{q} = 0
for r in join(cs_{q}) {{ tot_{q} += r[0]; cnt_{q} += r[1] }}
print(tot_{q}, cnt_{q})""", f"{total} {producers * per}")

    def lock_counter(self):
        l = self.name("l")
        procs = self.rng.randint(1, 4)
        per = self.rng.randint(1, 200)
        sem = self.rng.random() < 0.3
        make = "semaphore(1)" if sem else "lock()"
        self.add(f"""fn inc_{l}(l, s, n) {{ for i in range(n) {{ with l {{ s.value = s.value + 1 }} }} }}
let {l} = {make}
let s_{l} = shared(0)
let ps_{l} = []
for i in range({procs}) {{ ps_{l}.push(spawn(inc_{l}, {l}, s_{l}, {per})) }}
join(ps_{l})
print(s_{l}.value)""", str(procs * per))

    def atomic_add(self):
        s = self.name("s")
        procs = self.rng.randint(1, 4)
        per = self.rng.randint(1, 300)
        self.add(f"""fn add_{s}(s, n) {{ for i in range(n) {{ s.add(1) }} }}
let {s} = shared(0)
let ps_{s} = []
for i in range({procs}) {{ ps_{s}.push(spawn(add_{s}, {s}, {per})) }}
join(ps_{s})
print({s}.value)""", str(procs * per))

    def pool_map(self):
        e = Expr(self.rng)
        f = self.name("pf")
        n = self.rng.randint(1, 3)
        xs = list(range(self.rng.randint(0, 300)))
        closure = self.rng.random() < 0.5
        k = self.rng.randint(-5, 5)
        if closure:
            body = f"let k_{f} = {k}\nwith pool({n}) as p {{ print(sum(p.map(fn(x) => {e.text} + k_{f}, range({len(xs)})))) }}"
            want = sum(e.fn(x) + k for x in xs)
        else:
            body = f"fn {f}(x) {{ return {e.text} }}\nwith pool({n}) as p {{ print(sum(p.map({f}, range({len(xs)})))) }}"
            want = sum(e.fn(x) for x in xs)
        self.add(body, str(want))

    def child_error(self):
        f = self.name("bad")
        v = self.rng.randint(0, 99)
        self.add(f"""fn {f}(x) {{ throw "boom {v}" }}
try {{ join(spawn({f}, 1)) }} catch e {{ print(e["kind"], "boom {v}" in e["message"]) }}""", "process true")

    def nested(self):
        f = self.name("outer")
        depth = self.rng.randint(1, 3)
        self.add(f"""fn {f}(d) {{
  if d == 0 {{ return 1 }}
  return join(spawn({f}, d - 1)) + 1
}}
print(join(spawn({f}, {depth})))""", str(depth + 1))

    def timeout_join(self):
        f = self.name("slow")
        self.add(f"""let p_{f} = spawn(sleep, 5)
try {{ join(p_{f}, 0.05) }} catch e {{ print(e["kind"]) }}
p_{f}.kill()
try {{ join(p_{f}) }} catch e {{ print(e["kind"]) }}""", "timeout", "process")

    def event_handoff(self):
        ev = self.name("ev")
        v = self.rng.randint(0, 1000)
        self.add(f"""fn wait_{ev}(e, q) {{ e.wait(); q.put({v}) }}
let {ev} = event()
let q_{ev} = queue()
let p_{ev} = spawn(wait_{ev}, {ev}, q_{ev})
{ev}.set()
print(q_{ev}.get(10))
join(p_{ev})""", str(v))

    def fire_and_forget(self):
        f = self.name("ff")
        n = self.rng.randint(1, 6)
        self.add(f"""fn {f}() {{ return 0 }}
for i in range({n}) {{ spawn({f}) }}""")

    def build(self):
        tasks = [self.spawn_join, self.queue_pipeline, self.lock_counter, self.atomic_add, self.pool_map,
                 self.child_error, self.nested, self.timeout_join, self.event_handoff, self.fire_and_forget]
        for _ in range(self.rng.randint(1, 5)):
            self.rng.choice(tasks)()
        self.add('print("end")', "end")
        return "\n".join(self.lines) + "\n", "\n".join(self.expect) + "\n"


def in_session(sid):
    left = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        if int(rest[3]) == sid:
            left.append(int(e))
    return left


def run_one(mp, src, timeout, workdir):
    path = os.path.join(workdir, "g.mp")
    with open(path, "w") as f:
        f.write(src)
    started = time.monotonic()
    p = subprocess.Popen([mp, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        hung = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        out, err = p.communicate()
        hung = True
    took = time.monotonic() - started
    left = []
    for _ in range(40):
        left = in_session(p.pid)
        if not left:
            break
        time.sleep(0.05)
    for pid in left:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), hung, took, left


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--programs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--mp", default=None)
    ap.add_argument("--keep", default="/tmp/mp-gen-failures")
    a = ap.parse_args()
    mp = find_mp(a.mp)
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    workdir = f"/tmp/mp-gen-{os.getpid()}"
    os.makedirs(workdir, exist_ok=True)
    print(f"gen: first seed {seed}, {mp}", flush=True)
    started = time.monotonic()
    done = failed = 0
    slowest = 0.0
    while True:
        if a.seconds is not None:
            if time.monotonic() - started >= a.seconds:
                break
        elif done >= a.programs:
            break
        s = seed + done
        src, want = Program(random.Random(s)).build()
        status, out, err, hung, took, left = run_one(mp, src, a.timeout, workdir)
        slowest = max(slowest, took)
        problems = []
        if hung:
            problems.append(f"hung: still running after {a.timeout} s")
        if status != 0 and not hung:
            problems.append(f"exit status {status}")
        if out != want:
            problems.append("stdout differs")
        if left:
            problems.append(f"left running: {left}")
        if problems:
            failed += 1
            os.makedirs(a.keep, exist_ok=True)
            base = os.path.join(a.keep, f"gen-{s}")
            for ext, text in ((".mp", src), (".want", want), (".out", out), (".err", err)):
                with open(base + ext, "w") as f:
                    f.write(text)
            print(f"FAIL seed {s}: {'; '.join(problems)} (kept as {base}.mp)\n   stderr: {err[-400:]!r}", flush=True)
        done += 1
    print(f"gen: {done} programs, {failed} failed, {time.monotonic() - started:.0f} s, slowest {slowest:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
