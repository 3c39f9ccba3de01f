#!/usr/bin/env bash
# labels: model
# tokattr evaluate reproduces the shared models' published test accuracy
# exactly (models/README.md): CNN 21,249 and LSTM 20,658 of 25,000 correct.
set -euo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
BUILD=${TOKATTR_BUILD:-$(mktemp -d)}
fail() { echo "FAIL: $*" >&2; exit 1; }
# The same cached dataset as the training tests.
DATA="$BUILD/it_train_imdb.h5"
if [ ! -s "$DATA" ]; then
    "$BIN" prepare --source "$SHARED/data/aclImdb_v1.tar.gz" --tokenizer tokattr-imdb --out "$DATA.part.$$" --quiet
    mv "$DATA.part.$$" "$DATA"
fi
out=$("$BIN" evaluate "$SHARED/models/imdb_cnn.h5" "$DATA" --quiet)
echo "$out"
grep -q "^accuracy  0.84996 (21249 / 25000 correct)" <<<"$out" || fail "CNN accuracy"
grep -q "reviews/s" <<<"$out" || fail "no speed"
# Explicit options equal to the defaults change nothing; the confusion matrix adds up.
out=$("$BIN" evaluate "$SHARED/models/imdb_lstm.h5" "$DATA" --split test --num-words 20000 \
      --maxlen 80 --batch 100 --quiet)
echo "$out"
grep -q "^accuracy  0.82632 (20658 / 25000 correct)" <<<"$out" || fail "LSTM accuracy"
sum=$(awk '/^  true/ { s += $3 + $4 } END { print s }' <<<"$out")
[ "$sum" = 25000 ] || fail "confusion matrix sums to $sum"
echo PASS
