#!/usr/bin/env python3
"""Chaos: run chaos_program.mp (producers, consumers, lock users, condition
waiters and a pool) while SIGKILLing random processes of it at random
moments, then check what mp promises (docs/reference.md, "Processes"):

- the program ends (no hang on a dead holder or worker) with status 0;
- nothing of it is left running and no zombie remains;
- every item whose put completed was got at most once, and each one not got
  is accounted for by a consumer killed between its get and its print (and
  each item got without a logged put by a producer killed after its put);
- no lock wedged, mutual exclusion held, the pool still works;
- the arena's use is back where it started (beyond what a round with no
  kill leaves, which is reported on its own);
- every output line is whole.

Usage: chaos.py [--rounds N] [--seconds S] [--seed N] [--mp PATH] [--keep DIR]
A failing round's output and its seed are kept under --keep.
"""
import argparse
import collections
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "chaos_program.mp")
ROOT = os.path.dirname(os.path.dirname(HERE))


def find_mp(given):
    for p in [given, os.environ.get("MP_BINARY"), os.path.join(ROOT, ".build/debug/mp")]:
        if p and os.access(p, os.X_OK):
            return p
    sys.exit("chaos: no mp binary (build it, or pass --mp)")


def proc_stat(pid):
    """(state, ppid, pgrp, session) of a process, or None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[2]), int(rest[3])


def all_pids():
    return [int(e) for e in os.listdir("/proc") if e.isdigit()]


def descendants(root):
    """Every live process below root (children, grandchildren...)."""
    by_parent = collections.defaultdict(list)
    for pid in all_pids():
        st = proc_stat(pid)
        if st:
            by_parent[st[1]].append((pid, st[0]))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c, state in by_parent.get(p, []):
            out.append((c, state))
            todo.append(c)
    return out


def in_session(sid):
    return [(p, st[0]) for p in all_pids() if (st := proc_stat(p)) and st[3] == sid]


class Round:
    def __init__(self, mp, seed, seconds, kill=True):
        self.mp, self.seed, self.seconds, self.kill = mp, seed, seconds, kill
        rng = random.Random(seed)
        self.rng = rng
        self.params = dict(
            producers=rng.randint(1, 4), consumers=rng.randint(1, 4), lockers=rng.randint(0, 3),
            waiters=rng.randint(0, 2), pool=rng.randint(1, 3), maxsize=rng.choice([0, 1, 5, 50]),
            big=rng.choice([100, 10_000, 300_000]))
        self.killed = []          # pids we SIGKILLed
        self.problems = []

    def argv(self):
        p = self.params
        return [self.mp, PROGRAM, str(self.seconds), str(p["producers"]), str(p["consumers"]), str(p["lockers"]),
                str(p["waiters"]), str(p["pool"]), str(p["maxsize"]), str(p["big"]), str(self.seed)]

    def run(self):
        # MP_TEST_DUMP: on a hang, SIGUSR1 makes main print what every
        # process of the program waits on (as `mp test` does on a timeout).
        env = dict(os.environ, MP_DEBUG="1", MP_TEST_DUMP="1")
        started = time.monotonic()
        proc = subprocess.Popen(self.argv(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                start_new_session=True)
        self.pid = proc.pid
        out_chunks, err_chunks = [], []
        readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
                   for s, b in ((proc.stdout, out_chunks), (proc.stderr, err_chunks))]
        for t in readers:
            t.start()
        # The killer: random victims at random moments, never main itself.
        if self.kill:
            deadline = started + self.seconds
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(self.rng.uniform(0.005, 0.12))
                victims = [p for p, state in descendants(proc.pid) if state != "Z"]
                if victims:
                    v = self.rng.choice(victims)
                    try:
                        os.kill(v, signal.SIGKILL)
                        self.killed.append(v)
                    except ProcessLookupError:
                        pass
        limit = self.seconds + 30
        try:
            proc.wait(timeout=max(1, started + limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            tree = descendants(proc.pid)
            try:
                with open(f"/proc/{proc.pid}/wchan") as f:
                    wchan = f.read()
            except OSError:
                wchan = "?"
            os.kill(proc.pid, signal.SIGUSR1)
            time.sleep(0.5)
            self.problems.append(f"hang: still running {limit:.0f} s after start (main in {wchan}); "
                                 f"live processes {tree}; the process table is at the end of stderr")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for t in readers:
            t.join(10)
        self.status = proc.returncode
        self.out = b"".join(out_chunks).decode("utf-8", "replace")
        self.err = b"".join(err_chunks).decode("utf-8", "replace")
        self.took = time.monotonic() - started
        # Nothing of the program may outlive it (children die with their
        # parent; give the kernel a moment to deliver that).
        left = []
        for _ in range(40):
            left = in_session(proc.pid)
            if not left:
                break
            time.sleep(0.05)
        if left:
            self.problems.append(f"left running after the program ended: {left}")
            for p, _ in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.check()
        return self

    def check(self):
        if self.status != 0:
            self.problems.append(f"exit status {self.status}")
        roles = {}
        puts, gots, lefts = set(), collections.Counter(), collections.Counter()
        arena = None
        summary = None
        pattern = re.compile(r"^(role (producer|consumer|locker|waiter|notifier|worker) \d+|put p\d+-\d+|got p\d+-\d+|"
                             r"left p\d+-\d+|stopping|done|arena \d+ \d+|summary .*|bad .*)$")
        for line in self.out.split("\n")[:-1]:
            if not pattern.match(line):
                self.problems.append(f"torn or unexpected line: {line[:200]!r}")
                continue
            w = line.split(" ")
            if w[0] == "role":
                roles[int(w[2])] = w[1]
            elif w[0] == "put":
                if w[1] in puts:
                    self.problems.append(f"put logged twice: {w[1]}")
                puts.add(w[1])
            elif w[0] == "got":
                gots[w[1]] += 1
            elif w[0] == "left":
                lefts[w[1]] += 1
            elif w[0] == "arena":
                arena = (int(w[1]), int(w[2]))
            elif w[0] == "summary":
                summary = line
            elif w[0] == "bad":
                self.problems.append(line)
        if not self.out.endswith("done\n"):
            self.problems.append("the program did not finish (no 'done')")
        killed_roles = collections.Counter(roles.get(p, "unknown") for p in self.killed)
        taken = gots + lefts
        dup = [i for i, n in taken.items() if n > 1]
        if dup:
            self.problems.append(f"got more than once: {dup[:10]} ({len(dup)} items)")
        lost = [i for i in puts if i not in taken]
        # A consumer killed between get returning and its print takes one
        # item with it; one killed before its mp code ran takes none.
        if len(lost) > killed_roles["consumer"]:
            self.problems.append(f"{len(lost)} items put and never got, but only {killed_roles['consumer']} "
                                 f"consumers were killed: {sorted(lost)[:10]}")
        unlogged = [i for i in taken if i not in puts]
        if len(unlogged) > killed_roles["producer"]:
            self.problems.append(f"{len(unlogged)} items got that no producer logged, but only "
                                 f"{killed_roles['producer']} producers were killed: {sorted(unlogged)[:10]}")
        self.arena = arena
        self.summary = summary
        self.counts = dict(puts=len(puts), got=sum(gots.values()), left=sum(lefts.values()), lost=len(lost),
                           kills=len(self.killed), killed=dict(killed_roles))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=4.0, help="chaos per round")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--mp", default=None)
    ap.add_argument("--keep", default="/tmp/mp-chaos-failures")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--tolerate-arena-leaks", action="store_true",
                    help="report a round whose only problem is arena growth as KNOWN, not as a failure "
                         "(open bugs: a lock or a queue item of a process killed mid-operation; TESTING.md)")
    a = ap.parse_args()
    mp = find_mp(a.mp)
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    print(f"chaos: {a.rounds} rounds of {a.seconds} s, first seed {seed}, {mp}", flush=True)

    # What a round leaves in the arena when nothing is killed: it depends
    # on the pool's size (a closed pool keeps its slots) and varies by up to
    # 32 bytes from run to run, so the most of three calm rounds per pool
    # size is the reference. Kills must not add to it.
    calm_leaks = {}

    def calm_leak(r):
        size = r.params["pool"]
        if size not in calm_leaks:
            seen = []
            for k in range(3):
                calm = Round(mp, seed + k, 1.0, kill=False)
                calm.params = dict(r.params, pool=size)
                calm.run()
                if calm.problems or calm.arena is None:
                    print("chaos: the calm round failed:", calm.problems, calm.err[-2000:], flush=True)
                    sys.exit(1)
                seen.append(calm.arena[1] - calm.arena[0])
            calm_leaks[size] = max(seen)
            print(f"chaos: rounds without kills and a pool of {size} leave {seen} arena bytes in use", flush=True)
        return calm_leaks[size]

    totals = collections.Counter()
    failures = 0
    known_leaks = 0
    started = time.monotonic()
    for i in range(a.rounds):
        r = Round(mp, seed + 1 + i, a.seconds).run()
        if r.arena is not None and r.arena[1] - r.arena[0] > calm_leak(r):
            r.problems.append(f"arena: {r.arena[1] - r.arena[0]} bytes still in use after the round "
                              f"(a calm round with the same pool leaves {calm_leak(r)})")
        for k in ("puts", "got", "left", "lost", "kills"):
            totals[k] += r.counts[k]
        line = (f"round {i + 1} seed {r.seed}: {r.took:.1f} s, {r.counts['kills']} kills {r.counts['killed']}, "
                f"{r.counts['puts']} puts, {r.counts['got']} got, {r.counts['left']} left, {r.counts['lost']} lost"
                f" | {r.summary}")
        known = a.tolerate_arena_leaks and r.problems and all(p.startswith("arena:") for p in r.problems)
        if known:
            known_leaks += 1
            print("KNOWN " + line + "\n   " + r.problems[0] + " (open bug: TESTING.md)", flush=True)
        elif r.problems:
            failures += 1
            os.makedirs(a.keep, exist_ok=True)
            base = os.path.join(a.keep, f"seed-{r.seed}")
            with open(base + ".out", "w") as f:
                f.write(r.out)
            with open(base + ".err", "w") as f:
                f.write(r.err)
            with open(base + ".txt", "w") as f:
                f.write(" ".join(r.argv()) + "\n" + "\n".join(r.problems) + "\n")
            print("FAIL " + line, flush=True)
            for p in r.problems[:8]:
                print("   " + p[:400], flush=True)
            print(f"   stderr: {r.err[-600:]!r}\n   kept in {base}.*", flush=True)
        elif not a.quiet:
            print("ok   " + line, flush=True)
    print(f"chaos: {a.rounds} rounds, {failures} failed"
          + (f" ({known_leaks} more with only the known arena leaks)" if known_leaks else "")
          + f", {time.monotonic() - started:.0f} s; "
          f"{totals['kills']} processes killed, {totals['puts']} puts, {totals['got']} got, "
          f"{totals['left']} drained, {totals['lost']} lost with killed consumers", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
