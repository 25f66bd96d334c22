#!/usr/bin/env python3
"""Signals arriving while mp's main process waits: SIGINT, SIGTERM,
SIGCHLD and SIGUSR1 during join, get, put, acquire, condition wait, event
wait and pool.map. Each call must complete (the signal is ignored) or the
program must stop at once with a clear outcome — never hang, never leave a
process behind:

- SIGINT (to main, or to the whole process group as a terminal's Ctrl-C
  sends it): exit status 130 with an "interrupted" error, within 3 s.
- SIGCHLD: ignored; the call completes and the program prints its result.
- SIGTERM, SIGUSR1: the default action (the program ends by that signal,
  as a Python script does); its children die with it.

Usage: signals.py [--mp PATH] [--repeat N]
"""
import argparse
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Each blocks main for about WAIT seconds in one call, then prints
# "result ...".
WAITS = {
    "join": """
fn slow() { sleep(WAIT); return 7 }
let p = spawn(slow)
print("waiting")
print("result", join(p))
""",
    "get": """
fn later(q) { sleep(WAIT); q.put(7) }
let q = queue()
let p = spawn(later, q)
print("waiting")
print("result", q.get())
join(p)
""",
    "put": """
fn drain(q) { sleep(WAIT); return q.get() }
let q = queue(1)
q.put(1)
let p = spawn(drain, q)
print("waiting")
q.put(7)
print("result", join(p), q.get())
""",
    "acquire": """
fn hold(l, e) { with l { e.set(); sleep(WAIT) } }
let l = lock()
let e = event()
let p = spawn(hold, l, e)
e.wait()
print("waiting")
acquire(l)
print("result", 7)
release(l)
join(p)
""",
    "condition": """
fn notify(c, s) { sleep(WAIT); with c { s.value = 7; c.notify_all() } }
let c = condition()
let s = shared(0)
let p = spawn(notify, c, s)
print("waiting")
with c { while s.value == 0 { c.wait() } }
print("result", s.value)
join(p)
""",
    "event": """
fn later(e) { sleep(WAIT); e.set() }
let e = event()
let p = spawn(later, e)
print("waiting")
print("result", e.wait())
join(p)
""",
    "pool.map": """
fn slow(x) { sleep(WAIT); return x }
with pool(2) as p {
  print("waiting")
  print("result", p.map(slow, [3, 4]))
}
""",
}

RESULTS = {"join": "result 7", "get": "result 7", "put": "result 1 7", "acquire": "result 7",
           "condition": "result 7", "event": "result true", "pool.map": "result [3, 4]"}


def find_mp(given):
    for p in [given, os.environ.get("MP_BINARY"), os.path.join(ROOT, ".build/debug/mp")]:
        if p and os.access(p, os.X_OK):
            return p
    sys.exit("signals: no mp binary (build it, or pass --mp)")


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
        if int(s[s.rindex(")") + 2:].split()[3]) == sid:
            left.append(int(e))
    return left


def trial(mp, op, sig, workdir):
    path = os.path.join(workdir, "s.mp")
    with open(path, "w") as f:
        f.write(WAITS[op].replace("WAIT", "2.5"))
    p = subprocess.Popen([mp, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                         text=True)
    problems = []
    first = p.stdout.readline()
    started = time.monotonic()
    if first != "waiting\n":
        problems.append(f"did not start: {first!r}")
    time.sleep(0.4)  # well inside the call
    if time.monotonic() - started > 1.5 or p.poll() is not None:
        # On a loaded machine this driver can wake too late: the signal
        # would no longer land inside the call. Not a result; try again.
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None, 0, 0
    group = sig == "group-INT"
    if group:
        # What a terminal's Ctrl-C does: SIGINT to every process of the group.
        sig = signal.SIGINT
        os.killpg(p.pid, sig)
    else:
        os.kill(p.pid, sig)
    sent = time.monotonic()
    try:
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        problems.append("hang: still running 15 s after the signal")
    took = time.monotonic() - sent
    status = p.returncode
    if sig == signal.SIGINT:
        if status != 130:
            problems.append(f"exit status {status}, expected 130")
        if "interrupted" not in err:
            problems.append(f"no 'interrupted' error: {err[-300:]!r}")
        if took > 3:
            problems.append(f"took {took:.1f} s to stop")
    elif sig == signal.SIGCHLD:
        if status != 0 or out.strip() != RESULTS[op]:
            problems.append(f"the call did not complete: status {status}, stdout {out!r}, stderr {err[-300:]!r}")
    else:
        if status not in (-sig, 128 + sig):
            problems.append(f"status {status}, expected the signal's default action ({-sig})")
    left = []
    for _ in range(40):
        left = in_session(p.pid)
        if not left:
            break
        time.sleep(0.05)
    if left:
        problems.append(f"left running: {left}")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return problems, took, status


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mp", default=None)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    mp = find_mp(a.mp)
    workdir = f"/tmp/mp-signals-{os.getpid()}"
    os.makedirs(workdir, exist_ok=True)
    failed = trials = late = 0
    started = time.monotonic()
    for _ in range(a.repeat):
        for op in WAITS:
            for sig in (signal.SIGINT, "group-INT", signal.SIGTERM, signal.SIGCHLD, signal.SIGUSR1):
                for attempt in range(5):
                    problems, took, status = trial(mp, op, sig, workdir)
                    if problems is not None:
                        break
                    late += 1
                if problems is None:
                    problems = ["the driver never managed to signal inside the call (machine too loaded)"]
                trials += 1
                name = sig if isinstance(sig, str) else signal.Signals(sig).name
                if problems:
                    failed += 1
                    print(f"FAIL {name} during {op}: " + "; ".join(problems), flush=True)
                else:
                    print(f"ok   {name} during {op}: status {status} after {took:.2f} s", flush=True)
    print(f"signals: {trials} trials, {failed} failed, {time.monotonic() - started:.0f} s"
          + (f" ({late} repeated: the driver woke too late)" if late else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
