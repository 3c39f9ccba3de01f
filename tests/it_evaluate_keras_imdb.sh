#!/usr/bin/env bash
# labels: model slow
# From the raw archive with the default IMDB tokenizer (keras-imdb: Keras'
# own word index, ASCII-only lowercasing), the models trained on Keras' ids
# reach their published test accuracy (../shared/models/README.md):
# keras_imdb_cnn.h5 21,186 and keras_imdb_lstm.h5 20,742 of 25,000.
set -euo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$BIN" prepare --source "$SHARED/data/aclImdb_v1.tar.gz" --tokenizer keras-imdb \
    --out "$work/k.h5" --quiet >/dev/null
out=$("$BIN" evaluate "$SHARED/models/keras_imdb_cnn.h5" "$work/k.h5" --quiet)
echo "$out" | grep accuracy
grep -q "^accuracy  0.84744 (21186 / 25000 correct)" <<<"$out" || fail "CNN on keras-imdb: $out"
out=$("$BIN" evaluate "$SHARED/models/keras_imdb_lstm.h5" "$work/k.h5" --quiet)
echo "$out" | grep accuracy
grep -q "^accuracy  0.82968 (20742 / 25000 correct)" <<<"$out" || fail "LSTM on keras-imdb: $out"
echo PASS
