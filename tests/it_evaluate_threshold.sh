#!/usr/bin/env bash
# tokattr evaluate --threshold (single-sigmoid models: p > T is class 1),
# the near-chance warning, and a model with more outputs than the old limit
# of 64 classes, on 200 IMDB test reviews.
# labels: model
set -euo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
# 100 reviews of each of train/test x pos/neg as an aclImdb/ tree.
python3 "$SRC/tests/tokenizer_reference.py" imdb-tree "$SHARED/data/aclImdb_v1.tar.gz" 100 "$work"
"$BIN" prepare --quiet --source "$work" --word-index "$SHARED/models/imdb_word_index.json" \
    --out "$work/small.h5" >/dev/null
LSTM="$SHARED/models/imdb_lstm.h5"
CNN="$SHARED/models/imdb_cnn.h5"
ev() { "$BIN" evaluate "$@" "$work/small.h5" --quiet 2>"$work/err"; }
# pred1 OUTPUT: reviews predicted class 1 (the second confusion column).
pred1() { awk '/^  true/ { s += $4 } END { print s }' <<<"$1"; }

def=$(ev "$LSTM")
grep -q "^threshold 0.5 (p > 0.5 is class 1)" <<<"$def" || fail "no threshold line: $def"
half=$(ev "$LSTM" --threshold 0.5)
[ "$(grep ^accuracy <<<"$def")" = "$(grep ^accuracy <<<"$half")" ] || fail "0.5 is not the default"
# p > 0 holds for every sigmoid output: all 200 are class 1, accuracy 0.5.
all=$(ev "$LSTM" --threshold 0)
[ "$(pred1 "$all")" = 200 ] || fail "threshold 0 predicts $(pred1 "$all") of 200 positive"
grep -q "^accuracy  0.50000 (100 / 200 correct)" <<<"$all" || fail "threshold 0: $all"
grep -q "near chance\|within 5 points of the majority" "$work/err" || fail "no near-chance warning"
grep -q -- "--tokenizer" "$work/err" || fail "the warning does not point at --tokenizer"
none=$(ev "$LSTM" --threshold 1)
[ "$(pred1 "$none")" = 0 ] || fail "threshold 1 predicts $(pred1 "$none") positive"
# A lower threshold never predicts fewer positives.
low=$(ev "$LSTM" --threshold 0.25)
[ "$(pred1 "$low")" -ge "$(pred1 "$def")" ] || fail "0.25 predicts fewer positives than 0.5"
[ "$(pred1 "$low")" -gt "$(pred1 "$def")" ] || echo "note: 0.25 and 0.5 predict alike here"

# The CNN on its own ids is far from chance: no warning. With every word
# cut to OOV (--num-words 4) it predicts one class: warned.
ev "$CNN" >/dev/null
grep -q "warning" "$work/err" && fail "warning on a good model: $(cat "$work/err")"
ev "$CNN" --num-words 4 >/dev/null
grep -q "majority" "$work/err" || fail "no warning when every word is OOV"
# --threshold is for a single sigmoid only.
set +e
"$BIN" evaluate "$CNN" "$work/small.h5" --threshold 0.3 2>"$work/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "--threshold on a softmax model: exit $rc"
grep -q "single-sigmoid" "$work/err" || fail "no reason given: $(cat "$work/err")"
set +e
"$BIN" evaluate "$LSTM" "$work/small.h5" --threshold 1.5 2>"$work/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "in \[0, 1\]" "$work/err" || fail "--threshold 1.5 accepted"

# 70 outputs (one training batch; labels 0/1 are two of its classes): the
# confusion matrix has 70 columns and its rows add up to the 200 reviews.
sed 's/units: 2, activation: softmax/units: 70, activation: softmax/' \
    "$SRC/configs/cnn_imdb.yaml" >"$work/c70.yaml"
grep -q "units: 70" "$work/c70.yaml" || fail "config edit"
"$BIN" train "$work/c70.yaml" --dataset "$work/small.h5" --output "$work/c70.h5" --epochs 1 \
    --max-batches 1 --no-validation --quiet >/dev/null 2>&1
out=$(ev "$work/c70.h5")
grep -q "pred 69" <<<"$out" || fail "no 70th column: $out"
sum=$(awk '/^  true/ { for (i = 3; i <= NF; i++) s += $i } END { print s }' <<<"$out")
[ "$sum" = 200 ] || fail "70-class confusion matrix sums to $sum"
[ "$(grep -c '^  true' <<<"$out")" = 70 ] || fail "not 70 rows"
echo PASS
