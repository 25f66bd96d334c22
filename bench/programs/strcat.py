# Appending to one string with += (100k appends of two characters).
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000

def run(n):
    s = ""
    i = 0
    while i < n:
        s += "ab"
        i += 1
    return len(s)

print(run(n))
