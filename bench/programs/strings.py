# String building: 200k interpolated pieces pushed onto a list, then joined.
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000

def run(n):
    parts = []
    i = 0
    while i < n:
        parts.append(f"item{i}:{i * 3}")
        i += 1
    joined = ",".join(parts)
    return len(joined)

print(run(n))
