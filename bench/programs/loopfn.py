# The same 10-million-step loop inside a function (locals).
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000

def run(n):
    i = 0
    s = 0
    while i < n:
        s += i
        i += 1
    return s

print(run(n))
