# Python twin of examples/classics/merge_sort.mp: sort pieces in a pool,
# then merge them pairwise in the pool until one list is left.
import multiprocessing as mp
import random

PIECES = 4

def merge(a, b):
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        if b[j] < a[i]:
            out.append(b[j]); j += 1
        else:
            out.append(a[i]); i += 1
    return out + a[i:] + b[j:]

def merge_sort(xs):
    if len(xs) <= 1:
        return xs
    mid = len(xs) // 2
    return merge(merge_sort(xs[:mid]), merge_sort(xs[mid:]))

def parallel_sort(p, xs):
    size = (len(xs) + PIECES - 1) // PIECES
    runs = p.map(merge_sort, [xs[i:i + size] for i in range(0, len(xs), size)], chunksize=1)
    while len(runs) > 1:
        pairs = [(runs[i], runs[i + 1]) for i in range(0, len(runs) - 1, 2)]
        merged = p.starmap(merge, pairs, chunksize=1)
        if len(runs) % 2 == 1:
            merged.append(runs[-1])
        runs = merged
    return runs[0]

if __name__ == "__main__":
    mp.set_start_method("fork")
    random.seed(7)
    xs = [random.randint(0, 1_000_000) for i in range(20_000)]
    with mp.Pool(2) as p:
        ys = parallel_sort(p, xs)
        print(len(ys), "true" if ys == sorted(xs) else "false")
        print(parallel_sort(p, [3, 1, 2]), parallel_sort(p, [5, 4, 3, 2, 1, 0, -1]))
