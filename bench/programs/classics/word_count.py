# Python twin of examples/classics/word_count.mp: map (count each chunk of
# lines in a pool) and reduce (add the counts up).
import multiprocessing as mp
import random

WORDS = ["the", "a", "process", "lock", "queue", "pool", "fork", "pipe", "join", "barrier"]

def count_words(lines):
    counts = {}
    for line in lines:
        for w in line.split():
            counts[w] = counts.get(w, 0) + 1
    return counts

def merge_counts(all_counts):
    total = {}
    for counts in all_counts:
        for w, n in counts.items():
            total[w] = total.get(w, 0) + n
    return total

if __name__ == "__main__":
    mp.set_start_method("fork")
    random.seed(3)
    lines = []
    for i in range(4000):
        line = []
        for j in range(8):
            k = 0
            while k < len(WORDS) - 1 and random.random() < 0.5:
                k += 1
            line.append(WORDS[k])
        lines.append(" ".join(line))
    chunks = [lines[i:i + 500] for i in range(0, len(lines), 500)]
    with mp.Pool(2) as p:
        total = merge_counts(p.map(count_words, chunks, chunksize=1))
        print("words:", sum(total.values()))
        top = sorted(total, key=lambda w: total[w], reverse=True)[:3]
        print("most common:", "[" + ", ".join(f'"{w}"' for w in top) + "]")
        print("same as one process:", "true" if total == count_words(lines) else "false")
