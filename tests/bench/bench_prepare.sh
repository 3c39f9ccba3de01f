#!/bin/bash
# Benchmark (not a test): `tokattr prepare` on a synthetic CSV of SIZE_MB
# megabytes (default 1000), printing the rate (MB/s, docs/s) and the peak
# RSS from GNU time. Memory must stay flat: run it at two sizes and compare
# (e.g. SIZE_MB=100 and SIZE_MB=1000). With IDS=1 the CSV has a user id
# column, whose duplicate check keeps every id seen (memory grows with the
# number of documents, not their size).
#
#   tests/bench/bench_prepare.sh [BUILD_DIR]      (env: SIZE_MB, IDS, WORK)
set -euo pipefail
build=${1:-build}
bin="$build/tokattr"
[ -x "$bin" ] || { echo "no $bin: build first" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
size_mb=${SIZE_MB:-1000}
ids=${IDS:-0}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# Texts: words from a 20,000-word vocabulary (Zipf-like), a few quoted
# fields with commas, quotes and newlines; labels from 5 classes. The word
# index holds the 15,000 most frequent words, so some words are OOV.
python3 - "$work" "$size_mb" "$ids" <<'EOF'
import json, random, sys
work, size_mb, ids = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1'
rng = random.Random(7)
vocab = ['w%d' % i for i in range(20000)]
weights = [1.0 / (i + 1) for i in range(20000)]
json.dump({w: i + 1 for i, w in enumerate(vocab[:15000])}, open(work + '/wi.json', 'w'))
classes = ['billing', 'bug', 'praise', 'question', 'other']
target = size_mb * 1000 * 1000
pool = [' '.join(rng.choices(vocab, weights, k=rng.randint(20, 400))) for _ in range(2000)]
with open(work + '/corpus.csv', 'w') as f:
    f.write('id,text,label\n' if ids else 'text,label\n')
    n = 0
    written = 0
    while written < target:
        t = pool[rng.randrange(len(pool))]
        if n % 7 == 0:
            t = '"%s, ""quoted""\n%s"' % (t[:200], t[200:])
        row = ('d%d,' % n if ids else '') + t + ',' + classes[n % 5] + '\n'
        f.write(row)
        written += len(row)
        n += 1
print('corpus: %d documents, %.1f MB' % (n, written / 1e6))
EOF

size=$(stat -c %s "$work/corpus.csv")
cols=(--label-column label)
[ "$ids" = 1 ] && cols+=(--id-column id)
/usr/bin/time -v "$bin" prepare --quiet --source "$work/corpus.csv" "${cols[@]}" \
    --tokenizer "word-index:$work/wi.json" --out "$work/corpus.h5" >"$work/summary.txt" 2>"$work/time.txt"
cat "$work/summary.txt"
secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$work/time.txt")
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
user=$(awk -F': ' '/User time/ {print $2}' "$work/time.txt")
docs=$(awk '/documents/ {s += $2} END {print s}' "$work/summary.txt")
python3 - "$size" "$secs" "$rss" "$docs" "$user" "$(stat -c %s "$work/corpus.h5")" <<'EOF'
import sys
size, secs, rss, docs, user, out = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
print('bench_prepare: %.0f MB CSV, %d docs: %.1f s wall (%.1f s user), %.1f MB/s, %.0f docs/s, peak RSS %.1f MB, '
      'dataset %.0f MB' % (size / 1e6, docs, secs, user, size / 1e6 / secs, docs / secs, rss / 1024, out / 1e6))
EOF
