#!/usr/bin/env bash
# labels: mpi
# A run sizes its results file from each review's token count before any
# review is read whole (pipeline/plan.c, layout_count). With an OOV id the
# count follows from the ids' count alone (/offset); with a Keras Tokenizer
# that has no oov_token, ids >= num_words are dropped and the ids themselves
# decide. Both run here on 2 ranks over reviews short and long (truncated),
# and /reviews/token_offset, /tokens/id and /tokens/word_pos are compared
# review by review with a python reading of the Keras rules
# (texts_to_sequences drops or maps to oov_token; pad_sequences keeps the
# last maxlen).
set -euo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"

# 60 reviews of 1..30 words over 12 words, as a test split (c.csv) and as a
# train and a test split for the model (ct.csv); two Keras Tokenizer JSONs:
# drop.json without oov_token (ranks 1..12), oov.json with "<oov>" at 1.
python3 - <<'EOF'
import csv, json, random
random.seed(7)
vocab = ['good', 'bad', 'film', 'plot', 'actor', 'music', 'long', 'short', 'great', 'awful', 'scene', 'end']
texts = [' '.join(random.choice(vocab) for _ in range(random.randint(1, 30))) for _ in range(60)]
with open('c.csv', 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['text', 'label'])
    w.writerows([[t, 'pos' if i % 2 else 'neg'] for i, t in enumerate(texts)])
with open('ct.csv', 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['text', 'label', 'split'])
    for i, t in enumerate(texts):
        w.writerows([[t, 'pos' if i % 2 else 'neg', s] for s in ('train', 'test')])
def tokenizer(name, oov):
    wi = {w: r + 1 for r, w in enumerate(([oov] if oov else []) + vocab)}
    cfg = {'num_words': None, 'filters': '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n', 'lower': True,
           'split': ' ', 'char_level': False, 'oov_token': oov, 'document_count': len(texts),
           'word_counts': '{}', 'word_docs': '{}', 'index_docs': '{}',
           'index_word': json.dumps({str(v): k for k, v in wi.items()}), 'word_index': json.dumps(wi)}
    json.dump({'class_name': 'Tokenizer', 'config': cfg}, open(name + '.json', 'w'))
    return wi
json.dump({'texts': texts, 'drop': tokenizer('drop', None), 'oov': tokenizer('oov', '<oov>')},
          open('truth.json', 'w'))
EOF
cat > cnn.yaml <<EOF
name: cnn
data: imdb
num_words: 16
maxlen: 12
target: label
layers:
  - {type: embedding, input_dim: 16, output_dim: 8}
  - {type: conv1d, filters: 8, kernel_size: 3, padding: valid, activation: relu}
  - {type: global_max_pooling1d}
  - {type: dense, units: 2, activation: softmax}
optimizer: {name: adam, learning_rate: 0.001}
loss: categorical_crossentropy
batch_size: 16
epochs: 1
seed: 1
EOF

# run TOKENIZER NUM_WORDS: dataset and model (one batch) of that tokenizer,
# saliency over every review on 2 ranks, its tokens checked
run() {
    local t=$1 nw=$2 cols=(--text-column text --label-column label --classes neg,pos)
    "$BIN" prepare --quiet --source c.csv "${cols[@]}" --tokenizer "keras-tokenizer:$t.json" \
        --out "d_$t.h5" >/dev/null || fail "prepare ($t)"
    "$BIN" prepare --quiet --source ct.csv "${cols[@]}" --split-column split \
        --tokenizer "keras-tokenizer:$t.json" --out "t_$t.h5" >/dev/null || fail "prepare train ($t)"
    "$BIN" train cnn.yaml --dataset "t_$t.h5" --output "m_$t.h5" --max-batches 1 --no-validation \
        --quiet >/dev/null 2>&1 || fail "train ($t)"
    cat > "job_$t.yaml" <<EOF
model: m_$t.h5
dataset: d_$t.h5
split: test
select: {all: true}
input: {num_words: $nw, maxlen: 12}
methods:
  - {name: g, method: saliency}
results: r_$t.h5
chunk_size: 4
EOF
    mpirun -n 2 "$BIN" run "job_$t.yaml" --shared "$SHARED" --quiet --force > "run_$t.log" 2>&1 ||
        { cat "run_$t.log"; fail "run ($t)"; }
    /usr/bin/python3 - "$t" "$nw" <<'EOF' || fail "$t, num_words $nw: the results' tokens differ from the Keras rules"
import json, sys
import h5py
kind, num_words = sys.argv[1], int(sys.argv[2])
truth = json.load(open('truth.json'))
wi = truth[kind]
f = h5py.File('r_%s.h5' % kind, 'r')
off, ids, pos = f['/reviews/token_offset'][()], f['/tokens/id'][()], f['/tokens/word_pos'][()]
changed = 0
for r, text in enumerate(truth['texts']):
    seq = [(wi[w], k) for k, w in enumerate(text.split())]
    if '<oov>' in wi:
        kept = [(i if i < num_words else wi['<oov>'], k) for i, k in seq]
    else:
        kept = [(i, k) for i, k in seq if i < num_words]
    changed += sum(a != b for a, b in zip(seq, kept)) + len(seq) - len(kept)
    kept = kept[-12:]  # "pre" truncation keeps the last maxlen; no start marker
    a, b = off[r], off[r + 1]
    assert b - a == len(kept), (r, b - a, len(kept))
    assert list(ids[a:b]) == [i for i, _ in kept], (r, list(ids[a:b]), kept)
    assert list(pos[a:b]) == [k for _, k in kept], (r, list(pos[a:b]), kept)
assert changed > 100, changed  # num_words did cut ids
print('  %s, num_words %d: %d reviews, %d tokens as Keras (%d ids cut)' % (kind, num_words, len(off) - 1,
      off[-1], changed))
EOF
}
run drop 6 # ids 6..12 dropped: counted from the ids
run oov 6  # ids 6..13 become <oov>: counted from /offset alone
echo PASS
