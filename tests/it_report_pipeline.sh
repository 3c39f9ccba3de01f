#!/usr/bin/env bash
# End to end: a real (small) attribution run on the CNN, then the report of
# its results file, in every format. Checks that what the pipeline writes
# is what the report reads: every method shown, accuracy equal to the one
# recomputed here from the file with h5py.
# labels: mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/tokattr-it-report-pipeline-XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }

# The prepared dataset is shared with the run tests (same name, same recipe).
data="$TOKATTR_BUILD/it_run_imdb.h5"
if [ ! -f "$data" ]; then
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet \
        --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" --out "$work/imdb.h5" >/dev/null
    mv -n "$work/imdb.h5" "$data"
fi
mkdir -p "$work/out"
cat > "$work/job.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: $data
word_index: shared:models/imdb_word_index.json
select: {first: 12480, count: 40}
methods:
  - {name: grad_input, method: grad_input}
  - {name: ig10, method: integrated_gradients, n_steps: 10}
  - {name: occlusion, method: occlusion}
results: out/r.h5
chunk_size: 4
YAML
mpirun -n 2 "$TOKATTR_BIN" run "$work/job.yaml" --force --shared "$TOKATTR_SHARED" --quiet \
    >"$work/run.log" 2>&1 || { cat "$work/run.log"; fail "the run failed"; }

"$TOKATTR_BIN" report "$work/out/r.h5" --out "$work/report" --min-count 2 --review 0
"$TOKATTR_BIN" report "$work/out/r.h5" --out "$work/report" --format json --min-count 2
html="$work/report/index.html"
for m in grad_input ig10 occlusion; do
    grep -q ">$m<" "$html" || fail "method $m not in the report"
done
grep -q "Method agreement" "$html" || fail "no agreement section"
want=$(/usr/bin/python3 - "$work/out/r.h5" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
prob = f["/predictions/prob"][...]
pred = f["/predictions/predicted"][...] if "/predictions/predicted" in f else (
    (prob[:, 0] > 0.5).astype(int) if prob.shape[1] == 1 else prob.argmax(1))
label = f["/reviews/label"][...]
right = int((pred == label).sum())
print(f"{right / len(label):.4f} ({right} of {len(label)})")
PY
)
grep -qF "$want" "$html" || fail "accuracy '$want' (recomputed with h5py) not in the report"
/usr/bin/python3 - "$work/out/r.h5" "$work/report/words.json" <<'PY' || fail "words.json does not match the file's vocabulary"
import json, sys, h5py
f = h5py.File(sys.argv[1], "r")
vocab = f["/vocab/word"].asstr()[:]
words = json.load(open(sys.argv[2]))
assert len(words) > 50, len(words)
known = set(vocab) | {"<oov>", "<unused>"}
if "/tokens/word_text" in f:  # the words as the tokenizer produced them (OOV ones as themselves)
    text, off = f["/tokens/word_text"][...].tobytes(), f["/tokens/word_offset"][...]
    known |= {text[off[t]:off[t + 1]].decode("utf-8", "replace") for t in range(len(off) - 1)}
for w in words:  # the oriented ranking: words of the file, >= --min-count (2)
    assert w["word"] in known and w["count"] >= 2, w
    assert w["ci_low"] <= w["mean"] <= w["ci_high"], w
print(len(words), "word rows, all words of the file")
PY
# Faithfulness computed by the report with the run's model: every method's
# top-scored tokens must matter more than a random order's.
"$TOKATTR_BIN" report "$work/out/r.h5" --out "$work/faith" --format json \
    --faithfulness "$TOKATTR_SHARED/models/imdb_cnn.h5" --faith-reviews 12 --quiet
/usr/bin/python3 - "$work/faith/faithfulness.json" <<'PY' || fail "faithfulness numbers are wrong"
import json, sys
rows = json.load(open(sys.argv[1]))
assert sorted(r["method"] for r in rows) == ["grad_input", "ig10", "occlusion"], rows
for r in rows:
    assert r["reviews"] == 12, r
    assert r["aopc"] > r["random_aopc"] + 0.05, r
    assert r["comprehensiveness"] > 0, r
print(rows)
PY
"$TOKATTR_BIN" report "$work/out/r.h5" --out "$work/faith" \
    --faithfulness "$TOKATTR_SHARED/models/imdb_cnn.h5" --faith-reviews 12 --quiet
grep -q "deletion curve" "$work/faith/index.html" || fail "no deletion curves in the page"
echo "ok: accuracy $want; files in $work"
