#!/usr/bin/env bash
# Issue 7: a planted-token job's report ranks the planted token first. The
# model is `tokattr train configs/synthetic_planted.yaml` (label = presence
# of id 7); the dataset file is drawn here, independently of the trainer's
# generator, with h5py following src/data/README.md's schema, and its
# vocabulary names id 7 "plantedword". Integrated Gradients over it with 2
# ranks, then `tokattr report`: among positive predictions the planted word
# must have the largest mean score toward class 1, and the HTML page must exist.
# labels: mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SOURCE:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/tokattr-it-planted-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
/usr/bin/python3 -c 'import h5py, numpy' || { echo "FAIL: no h5py/numpy for /usr/bin/python3 (./install-deps.sh installs python3-h5py)"; exit 1; }

"$TOKATTR_BIN" train "$TOKATTR_SOURCE/configs/synthetic_planted.yaml" \
    --output "$work/planted.h5" --quiet >"$work/train.log" 2>&1 \
    || { cat "$work/train.log"; fail "training failed"; }

/usr/bin/python3 - "$work/data.h5" <<'PY' || fail "could not write the dataset"
import sys, h5py, numpy as np
# The synthetic config's task: ids 4..999 at random, id 7 planted once in
# every positive review and absent from negatives; 10-40 words.
rng = np.random.default_rng(20261123)
V, PLANTED = 1000, 7
def split(n):
    rows, labels = [], []
    for i in range(n):
        pos = i >= n // 2  # canonical order: negatives, then positives
        length = int(rng.integers(10, 41))
        ids = rng.integers(4, V, size=length)
        while (ids == PLANTED).any():
            ids[ids == PLANTED] = rng.integers(4, V, size=int((ids == PLANTED).sum()))
        if pos:
            ids[int(rng.integers(0, length))] = PLANTED
        rows.append(ids.astype(np.int32)); labels.append(int(pos))
    off = np.zeros(n + 1, np.int64); off[1:] = np.cumsum([len(r) for r in rows])
    return off, np.concatenate(rows), np.array(labels, np.int8)
with h5py.File(sys.argv[1] + ".tmp", "w") as f:
    s = h5py.string_dtype("utf-8")
    f.attrs.create("tokattr_version", "it_planted_report", dtype=s)
    f.attrs.create("source", "synthetic planted-token reviews", dtype=s)
    f.attrs.create("word_index_sha256", "0" * 64, dtype=s)
    for name, n in (("train", 40), ("test", 200)):
        off, ids, label = split(n)
        g = f.create_group(name)
        g["offset"] = off
        g["ids"] = ids
        g["label"] = label
        g["rating"] = np.where(label == 1, 10, 1).astype(np.int8)
        g["review_id"] = np.arange(n, dtype=np.int32)
    # word[r-1] is the word of rank r, id r + 3. Ranks 1..996 cover ids
    # 4..999, but `run` asks for vocab + 3 >= num_words: one spare word.
    words = ["w%d" % (r + 3) for r in range(1, V - 2)]
    words[PLANTED - 4] = "plantedword"
    f.create_dataset("vocab/word", data=words, dtype=s)
    f["vocab/count"] = np.full(len(words), -1, np.int64)
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
PY

mkdir -p "$work/out"
cat > "$work/job.yaml" <<YAML
model: planted.h5
dataset: data.h5
tokenizer: dataset   # trained on this synthetic dataset's ids
split: test
methods:
  - {name: ig, method: integrated_gradients, n_steps: 50, rule: gausslegendre, baseline: pad}
results: out/planted_results.h5
chunk_size: 8
YAML
(cd "$work" && mpirun -n 2 "$TOKATTR_BIN" run job.yaml --force --quiet) >"$work/run.log" 2>&1 \
    || { cat "$work/run.log"; fail "the run failed"; }
[ -s "$work/out/planted_results.h5" ] || fail "no results file"

"$TOKATTR_BIN" report "$work/out/planted_results.h5" --out "$work/report" --quiet \
    || fail "html report failed"
[ -s "$work/report/index.html" ] || fail "no index.html"
grep -q "plantedword" "$work/report/index.html" || fail "the page never names plantedword"
"$TOKATTR_BIN" report "$work/out/planted_results.h5" --out "$work/report" --format csv --min-count 5 --quiet \
    || fail "csv report failed"
/usr/bin/python3 - "$work/report/words.csv" <<'PY' || fail "plantedword is not first"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], newline="")) if r["method"] == "ig"]
pos = [r for r in rows if int(r["class"]) == 1]  # the words toward class 1
assert len(pos) > 50, "too few words for positive predictions: %d" % len(pos)
best = max(pos, key=lambda r: float(r["mean"]))
top = [r for r in pos if int(r["rank"]) == 1]
print("positive predictions, first by mean:", best["word"], best["mean"], "count", best["count"],
      "; runner-up mean", sorted(float(r["mean"]) for r in pos)[-2])
assert best["word"] == "plantedword", best
assert [r["word"] for r in top] == ["plantedword"], top
PY
echo PASS
