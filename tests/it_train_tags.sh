#!/usr/bin/env bash
# tokattr train records in the model file which vocabulary its ids came
# from: root attributes tokattr_vocab_sha256 (the dataset's
# word_index_sha256) and tokattr_tokenizer (its tokenizer kind).
# labels: model
set -euo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
python3 "$SRC/tests/tokenizer_reference.py" imdb-tree "$SHARED/data/aclImdb_v1.tar.gz" 20 "$work"
"$BIN" prepare --quiet --source "$work" --word-index "$SHARED/models/imdb_word_index.json" \
    --out "$work/small.h5" >/dev/null
"$BIN" train "$SRC/configs/cnn_imdb.yaml" --dataset "$work/small.h5" --output "$work/m.h5" \
    --epochs 1 --max-batches 1 --no-validation --quiet >/dev/null 2>&1
# attr FILE NAME: the string value of a root attribute.
attr() { { h5dump -a "/$2" "$1" 2>/dev/null || true; } | sed -n 's/^ *(0): "\(.*\)"$/\1/p'; }
want=$(sha256sum "$SHARED/models/imdb_word_index.json" | cut -d' ' -f1)
[ "$(attr "$work/small.h5" word_index_sha256)" = "$want" ] || fail "dataset digest"
got=$(attr "$work/m.h5" tokattr_vocab_sha256)
[ "$got" = "$want" ] || fail "model tokattr_vocab_sha256 '$got', wanted $want"
kind=$(attr "$work/m.h5" tokattr_tokenizer)
expected_kind=$(attr "$work/small.h5" tokenizer_kind)
[ "$kind" = "${expected_kind:-tokattr-imdb}" ] || fail "model tokattr_tokenizer '$kind'"
# The tagged file still loads and evaluates.
"$BIN" evaluate "$work/m.h5" "$work/small.h5" --quiet 2>/dev/null | grep -q "^accuracy" || fail "tagged model"
echo PASS
