#!/usr/bin/env python3
"""A synthetic corpus for the scale benchmarks (not a test): N reviews, one
per line, of words drawn from a Keras word index's most frequent words
(seeded, so the same N gives the same file), lengths 20-180 words.

    make_corpus.py WORD_INDEX.json N OUT.txt [SEED]

`tokattr prepare --format lines --tokenizer tokattr-imdb` reads it."""
import json
import random
import sys


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    index, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) == 5 else 1
    with open(index, encoding="utf-8") as f:
        wi = json.load(f)
    words = [w for w, r in sorted(wi.items(), key=lambda x: x[1]) if r <= 9000 and w.isalpha()]
    rng = random.Random(seed)
    with open(out, "w", encoding="utf-8") as f:
        for _ in range(n):
            k = rng.randint(20, 180)
            f.write(" ".join(rng.choices(words, k=k)))
            f.write("\n")


if __name__ == "__main__":
    main()
