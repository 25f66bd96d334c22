# Text operations on a 2 MB string: the twin of text.mp, statement for
# statement (splitlines() for lines()).
import sys
import time

op = sys.argv[1] if len(sys.argv) > 1 else "split"
nlines = int(sys.argv[2]) if len(sys.argv) > 2 else 52_000


def build(n):
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    parts = []
    for i in range(n):
        parts.append(f"{words[i % 8]} {i} {words[i * 7 % 8]}{i % 97} lorem ipsum dolor sit")
    return "\n".join(parts)


def index_loop(s, k):
    t = time.perf_counter()
    c = ""
    for i in range(k):
        c = s[i]
    return [c, time.perf_counter() - t]


def len_loop(s, k):
    t = time.perf_counter()
    n = 0
    for i in range(k):
        n = len(s)
    return [n, time.perf_counter() - t]


def slice_loop(s, k):
    t = time.perf_counter()
    c = ""
    for i in range(k):
        c = s[i:i + 5]
    return [c, time.perf_counter() - t]


def strcat_loop(s, k):
    t = time.perf_counter()
    out = ""
    for i in range(k):
        out += s[i]
    return [len(out), time.perf_counter() - t]


def best_of(f):
    best = 1e9
    r = None
    for i in range(15):
        t = time.perf_counter()
        r = f()
        dt = time.perf_counter() - t
        if dt < best:
            best = dt
    return [r, best]


def main():
    s = build(nlines)
    if op.endswith("-u"):
        s = s.replace("e", "é")
    name = op.replace("-u", "")
    loops = {"index": index_loop, "len": len_loop, "slice": slice_loop, "strcat": strcat_loop}
    if name in loops:
        k = 100_000
        r = loops[name](s, k)
        print(len(s), r[0])
        print(r[1] / k * 1e9)
        return
    words = s.split()
    prefix = s[0:1_000_000]
    padded = "  " + s + "\n "
    calls = {
        "split": lambda: len(s.split()),
        "splitsep": lambda: len(s.split(" ")),
        "lines": lambda: len(s.splitlines()),
        "count": lambda: s.count(" "),
        "countsub": lambda: s.count("lorem"),
        "replace": lambda: len(s.replace("9", "x")),
        "find": lambda: s.find("lorem ipsum dolor sat"),
        "in": lambda: "true" if "lorem ipsum dolor sat" in s else "false",
        "startswith": lambda: "true" if s.startswith(prefix) else "false",
        "strip": lambda: len(padded.strip()),
        "join": lambda: len(" ".join(words)),
    }
    r = best_of(calls[name])
    print(len(s), r[0])
    print(r[1] * 1000)


main()
