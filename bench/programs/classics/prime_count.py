# Python twin of examples/classics/prime_count.mp: count primes by blocks
# in a pool, taking the counts in order with imap.
import multiprocessing as mp

LIMIT, BLOCK = 50_000, 10_000

def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True

def count_block(lo):
    return len([n for n in range(lo, lo + BLOCK) if is_prime(n)])

if __name__ == "__main__":
    mp.set_start_method("fork")
    total = 0
    with mp.Pool() as p:
        lo = 0
        for count in p.imap(count_block, range(0, LIMIT, BLOCK)):
            print(f"{lo:>6} to {lo + BLOCK - 1:>6}: {count}")
            total += count
            lo += BLOCK
    print(f"primes below {LIMIT}: {total}")
