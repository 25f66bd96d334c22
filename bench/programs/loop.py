# A 10-million-step while loop summing integers, at top level (globals).
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
i = 0
s = 0
while i < n:
    s += i
    i += 1
print(s)
