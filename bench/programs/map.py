# Map work: insert 200k string keys and 200k int keys, look every key up.
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000

def run(n):
    m = {}
    i = 0
    while i < n:
        m[f"k{i}"] = i
        i += 1
    t = {}
    i = 0
    while i < n:
        t[i * 31] = i
        i += 1
    total = 0
    i = 0
    while i < n:
        total += m[f"k{i}"] + t[i * 31]
        i += 1
    return [len(m), len(t), total]

print(run(n))
