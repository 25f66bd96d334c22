#!/usr/bin/env python3
"""Soak: long runs that must stay flat.

- queue: N items from 4 producers to 4 consumers, each got exactly once;
- spawn: N sequential spawn/joins, main's memory and fd count flat;
- wide: N children alive at once, all joined with the right results;
- poolmaps: one pool, N maps: its arena use, memory and fds flat;
- lines: 4 processes printing lines of 20-115 KB at once through a pipe:
  every line whole;
- repl: a piped REPL session of N statements creating and dropping locks,
  queues, shared cells and pools — main's memory, fd count and the arena's
  use flat.

"Flat" is measured from the running program: it prints a marker, the
driver samples /proc/PID (VmRSS, open fds) and the program's arena_used()
at each, and the last sample is compared with the one after warm-up.

Usage: soak.py [--scale F] [--mp PATH] [--only NAME]
  --scale 1 is the long run (1,000,000 items, 10,000 spawns, 1,000
  children, 10,000 statements); CI runs a small fraction.
"""
import argparse
import os
import subprocess
import shutil
import sys
import tempfile
import time

# Each run writes its programs in a folder of its own: two runs at once (a CI
# run beside another on the same machine) wrote and read one /tmp file, and
# one could start mp on a file the other had just truncated.
WORKDIR = tempfile.mkdtemp(prefix="mp-soak-")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def find_mp(given):
    for p in [given, os.environ.get("MP_BINARY"), os.path.join(ROOT, ".build/debug/mp")]:
        if p and os.access(p, os.X_OK):
            return p
    sys.exit("soak: no mp binary (build it, or pass --mp)")


def sample(pid):
    rss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    return rss, fds


def zombies_of(pid):
    n = 0
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        if rest[0] == "Z" and int(rest[1]) == pid:
            n += 1
    return n


def run(mp, args, stdin_text=None, env=None, timeout=3600):
    """Runs mp, sampling it at every line that starts with 'mark'. Returns
    (status, other stdout lines, stderr, samples [(label, rss_kb, fds, zombies, arena)])."""
    p = subprocess.Popen([mp] + args, stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                         env=dict(os.environ, MP_DEBUG="1", **(env or {})))
    if stdin_text is not None:
        import threading
        threading.Thread(target=lambda: (p.stdin.write(stdin_text), p.stdin.close()), daemon=True).start()
    samples, other = [], []
    deadline = time.monotonic() + timeout
    for line in p.stdout:
        if line.startswith("mark"):
            parts = line.split()
            s = sample(p.pid)
            if s and s[0] > 0:
                samples.append((parts[1], s[0], s[1], zombies_of(p.pid), int(parts[2]) if len(parts) > 2 else None))
        else:
            other.append(line.rstrip("\n"))
        if time.monotonic() > deadline:
            os.killpg(p.pid, 9)
            break
    err = p.stderr.read()
    p.wait()
    return p.returncode, other, err, samples


def flat(samples, rss_slack_kb, name):
    """Compares the last sample with the first after warm-up."""
    problems = []
    if len(samples) < 3:
        return [f"{name}: only {len(samples)} samples"]
    base, last = samples[1], samples[-1]
    if last[1] - base[1] > rss_slack_kb:
        problems.append(f"{name}: memory grew from {base[1]} kB to {last[1]} kB")
    if last[2] != base[2]:
        problems.append(f"{name}: open fds went from {base[2]} to {last[2]}")
    if last[3] > 0:
        problems.append(f"{name}: {last[3]} zombies at the end")
    if base[4] is not None and last[4] != base[4]:
        problems.append(f"{name}: arena use went from {base[4]} to {last[4]} bytes")
    return problems


def soak_queue(mp, scale):
    n = max(1000, int(1_000_000 * scale)) // 4 * 4
    # Count, sum and sum of squares: a lost item and a doubled one cannot
    # cancel out in all three.
    prog = f"""
fn producer(q, start, n) {{ for i in range(start, start + n) {{ q.put(i) }} }}
fn consumer(q) {{
  let got = 0
  let total = 0
  let squares = 0
  for x in q {{ got += 1; total += x; squares += x * x }}
  return [got, total, squares]
}}
let q = queue(1000)
let cs = []
for i in range(4) {{ cs.push(spawn(consumer, q)) }}
let ps = []
for i in range(4) {{ ps.push(spawn(producer, q, i * {n // 4}, {n // 4})) }}
join(ps)
q.close()
let got = 0
let total = 0
let squares = 0
for r in join(cs) {{ got += r[0]; total += r[1]; squares += r[2] }}
print(got, total, squares)
"""
    path = os.path.join(WORKDIR, "queue.mp")
    with open(path, "w") as f:
        f.write(prog)
    t = time.monotonic()
    status, out, err, _ = run(mp, [path])
    took = time.monotonic() - t
    want = f"{n} {n * (n - 1) // 2} {sum(i * i for i in range(n))}"
    problems = [] if status == 0 and out == [want] else [f"queue: status {status}, got {out}, want [{want!r}]; {err[-300:]}"]
    return problems, f"queue: {n:,} items 4x4 in {took:.1f} s ({n / took:,.0f}/s), each got once"


def soak_spawn(mp, scale):
    n = max(200, int(10_000 * scale))
    step = n // 10
    prog = f"""
fn f(x) {{ return x + 1 }}
let total = 0
for i in range({n}) {{
  total += join(spawn(f, i))
  if i % {step} == 0 {{ print("mark", i, arena_used()); sleep(0.05) }}
}}
print("mark end", arena_used())
sleep(0.5)
print(total)
"""
    path = os.path.join(WORKDIR, "spawn.mp")
    with open(path, "w") as f:
        f.write(prog)
    t = time.monotonic()
    status, out, err, samples = run(mp, [path])
    took = time.monotonic() - t
    problems = flat(samples, 4096, "spawn")
    if status != 0 or out != [str(n * (n + 1) // 2)]:
        problems.append(f"spawn: status {status}, output {out[-3:]}, {err[-300:]}")
    s0, s1 = samples[1] if len(samples) > 1 else None, samples[-1] if samples else None
    return problems, (f"spawn: {n:,} sequential spawn/joins in {took:.1f} s ({took / n * 1000:.2f} ms each); "
                      f"rss {s0[1] if s0 else '?'} -> {s1[1] if s1 else '?'} kB, fds {s0[2] if s0 else '?'} -> "
                      f"{s1[2] if s1 else '?'}, arena {s0[4] if s0 else '?'} -> {s1[4] if s1 else '?'}")


def soak_wide(mp, scale):
    n = max(50, int(1000 * scale))
    prog = f"""
fn f(x) {{ sleep(1); return x * 2 }}
let ps = []
for i in range({n}) {{ ps.push(spawn(f, i)) }}
print("mark all", arena_used())
sleep(0.05)
print(sum(join(ps)))
print("mark end", arena_used())
sleep(0.5)
"""
    path = os.path.join(WORKDIR, "wide.mp")
    with open(path, "w") as f:
        f.write(prog)
    t = time.monotonic()
    status, out, err, samples = run(mp, [path], env={"MP_MAX_PROCS": str(n + 10)})
    took = time.monotonic() - t
    problems = []
    if status != 0 or out != [str(n * (n - 1))]:
        problems.append(f"wide: status {status}, output {out[-3:]}, {err[-300:]}")
    if samples and samples[-1][3]:
        problems.append(f"wide: {samples[-1][3]} zombies after joining")
    return problems, f"wide: {n:,} children alive at once, all joined, in {took:.1f} s"


def soak_repl(mp, scale, pools=True):
    n = max(500, int(10_000 * scale))
    stmts = ["fn sq(x) => x * x"]
    kinds = [
        "let l = lock(); acquire(l); release(l); l = nil",
        "let q = queue(); q.put([1, 'two', 3.0]); q.get(); q = nil",
        "let s = shared(0); s.add(5); s = nil",
        "let m = semaphore(2); with m { nil }; m = nil",
        "let e = event(); e.set(); e = nil",
        "let q2 = queue(3); q2.put('x' * 10000); q2.close(); for x in q2 { nil }; q2 = nil",
    ]
    i = 0
    while len(stmts) < n:
        i += 1
        if i % 50 == 0 and pools:
            stmts.append("with pool(2) as p { p.map(sq, range(10)) }")
        else:
            stmts.append(kinds[i % len(kinds)])
        if i % (n // 10) == 0:
            stmts.append(f'print("mark {i}", arena_used()); sleep(0.05)')
    stmts.append('print("mark end", arena_used()); sleep(0.5)')
    t = time.monotonic()
    status, out, err, samples = run(mp, [], stdin_text="\n".join(stmts) + "\n")
    took = time.monotonic() - t
    problems = flat(samples, 8192, "repl")
    if status != 0:
        problems.append(f"repl: status {status}: {err[-400:]}")
    s0, s1 = samples[1] if len(samples) > 1 else None, samples[-1] if samples else None
    return problems, (f"repl: {len(stmts):,} statements in {took:.1f} s; rss {s0[1] if s0 else '?'} -> "
                      f"{s1[1] if s1 else '?'} kB, fds {s0[2] if s0 else '?'} -> {s1[2] if s1 else '?'}, "
                      f"arena {s0[4] if s0 else '?'} -> {s1[4] if s1 else '?'} bytes")


def soak_poolmaps(mp, scale):
    """One pool, many maps: the pool's arena use, memory and fds flat."""
    n = max(100, int(20_000 * scale))
    step = n // 10
    # A worker gives back its count on a call's reply queue (2,560 bytes)
    # just after sending the last results, so a map can return before the
    # queue is freed. A worker has let go of everything of its last chunk
    # before it asks for the next task, so the arena is read once both
    # workers wait for one. (Two equal readings 20 ms apart were not
    # enough on a loaded machine: a worker can go 20 ms unscheduled.)
    prog = f"""
fn sq(x) {{ return x * x }}
fn settled() {{
  while len([r for r in ps() if r["waits"] == "a task from its pool (none queued)"]) < 2 {{ sleep(0.005) }}
  return arena_used()
}}
let p = pool(2)
let total = 0
for i in range({n}) {{
  total += sum(p.map(sq, range(20)))
  if i % {step} == 0 {{ print("mark", i, settled()); sleep(0.05) }}
}}
print("mark end", settled())
sleep(0.5)
p.close()
print(total)
"""
    path = os.path.join(WORKDIR, "poolmaps.mp")
    with open(path, "w") as f:
        f.write(prog)
    t = time.monotonic()
    status, out, err, samples = run(mp, [path])
    took = time.monotonic() - t
    problems = flat(samples, 4096, "poolmaps")
    if status != 0 or out != [str(n * sum(x * x for x in range(20)))]:
        problems.append(f"poolmaps: status {status}, output {out[-3:]}, {err[-300:]}")
    s0, s1 = samples[1] if len(samples) > 1 else None, samples[-1] if samples else None
    return problems, (f"poolmaps: {n:,} maps on one pool in {took:.1f} s; rss {s0[1] if s0 else '?'} -> "
                      f"{s1[1] if s1 else '?'} kB, fds {s0[2] if s0 else '?'} -> {s1[2] if s1 else '?'}, "
                      f"arena {s0[4] if s0 else '?'} -> {s1[4] if s1 else '?'} bytes")


def soak_lines(mp, scale):
    """Whole lines through a pipe: 4 processes printing long lines at once."""
    n = max(50, int(3000 * scale))
    prog = f"""
fn w(id) {{ for i in range({n}) {{ print(str(id) * (20000 + 7919 * (i % 13))) }} }}
join([spawn(w, 1), spawn(w, 2), spawn(w, 3), spawn(w, 4)])
"""
    path = os.path.join(WORKDIR, "lines.mp")
    with open(path, "w") as f:
        f.write(prog)
    t = time.monotonic()
    p = subprocess.run([mp, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=3600)
    took = time.monotonic() - t
    lines = p.stdout.split(b"\n")[:-1]
    torn = sum(1 for l in lines if len(set(l)) != 1 or (len(l) - 20000) % 7919 != 0)
    problems = []
    if p.returncode != 0 or len(lines) != 4 * n or torn:
        problems.append(f"lines: status {p.returncode}, {len(lines)} lines of {4 * n}, {torn} torn")
    return problems, f"lines: {4 * n:,} lines of 20-115 KB from 4 processes through a pipe in {took:.1f} s, {torn} torn"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--mp", default=None)
    ap.add_argument("--only", default=None)
    ap.add_argument("--skip", action="append", default=[], help="leave out a part (repeatable)")
    ap.add_argument("--repl-without-pools", action="store_true",
                    help="leave pools out of the REPL session (each closed pool keeps 128 arena bytes: reported)")
    a = ap.parse_args()
    mp = find_mp(a.mp)
    failed = 0
    for name, fn in (("queue", soak_queue), ("spawn", soak_spawn), ("wide", soak_wide), ("repl", soak_repl),
                     ("poolmaps", soak_poolmaps), ("lines", soak_lines)):
        if (a.only and a.only != name) or name in a.skip:
            continue
        if name == "repl":
            problems, figures = fn(mp, a.scale, pools=not a.repl_without_pools)
        else:
            problems, figures = fn(mp, a.scale)
        if problems:
            failed += 1
            print("FAIL " + figures, flush=True)
            for p in problems:
                print("   " + p, flush=True)
        else:
            print("ok   " + figures, flush=True)
    print(f"soak: scale {a.scale}, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        status = main()
    finally:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    sys.exit(status)
