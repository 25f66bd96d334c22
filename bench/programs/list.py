# List work: push 1M ints, read them back by index, sum(), sort a copy.
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000

def run(n):
    xs = []
    i = 0
    while i < n:
        xs.append((i * 7919) % 1_000_003)
        i += 1
    total = 0
    i = 0
    while i < n:
        total += xs[i]
        i += 1
    ys = sorted(xs)
    return [total, sum(xs), ys[0], ys[n // 2], ys[-1]]

print(run(n))
