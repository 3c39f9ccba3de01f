#!/bin/bash
# tokattr explain end to end on the real dataset: text and JSON output,
# completeness printed per review, every method of attr1, clear errors.
# labels: attr
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cnn="$TOKATTR_SHARED/models/imdb_cnn.h5"
lstm="$TOKATTR_SHARED/models/imdb_lstm.h5"

grep -q -- "--steps" <<<"$("$TOKATTR_BIN" explain --help)" || fail "--help lacks --steps"
grep -q "\[gausslegendre\]" <<<"$("$TOKATTR_BIN" explain --help)" || fail "--help shows no defaults"

"$TOKATTR_BIN" prepare --quiet --shared "$TOKATTR_SHARED" --out "$work/ds.h5" \
    --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" >/dev/null

# Test review 0 is neg 0_2.txt; its last words fill the CNN's 100 positions.
out=$("$TOKATTR_BIN" explain "$cnn" "$work/ds.h5" --reviews 0-1)
head -5 <<<"$out"
[ "$(grep -c '^review ' <<<"$out")" = 2 ] || fail "expected 2 reviews"
grep -q "F(x') = " <<<"$out" || fail "no F(x')"
# completeness: |delta| < 1% of |F(x) - F(x')| on both reviews (GL, 50 steps)
awk '/^review /{ for (i = 1; i <= NF; i++) { if ($i == "F(x)") fx = $(i+2); if ($i == "F(x'"'"')") fb = $(i+2); if ($i == "delta") d = $(i+2) }
      gsub(",", "", fx); gsub(",", "", fb); gsub(",", "", d);
      df = fx - fb; if (df < 0) df = -df; if (d < 0) d = -d;
      if (d > 0.01 * df) { print "completeness: " $0; bad = 1 } }
     END { exit bad }' <<<"$out" || fail "completeness above 1%"
# the per-token scores add up to F(x) - F(x') + delta (all positions)
grep -q "all positions" <<<"$out" || fail "no total line"

for m in saliency grad_input occlusion ig; do
    "$TOKATTR_BIN" explain "$lstm" "$work/ds.h5" --reviews 5 --method "$m" --json >"$work/$m.json" \
        || fail "method $m"
    grep -q '"word":' "$work/$m.json" || fail "method $m: no words in JSON"
done
"$TOKATTR_BIN" explain "$cnn" "$work/ds.h5" --reviews 3 --method ig --rule riemann_trapezoid \
    --steps 20 --baseline zeros --output logit --target label --reduce l2 >/dev/null || fail "options"
"$TOKATTR_BIN" explain "$cnn" "$work/ds.h5" --reviews 3 --method occlusion --window 3 \
    --baseline oov >/dev/null || fail "occlusion window"

# errors: non-zero exit and one line naming the problem
expect_error() {
    local want=$1; shift
    if "$TOKATTR_BIN" explain "$@" >"$work/out" 2>"$work/err"; then fail "accepted: $*"; fi
    grep -q "$want" "$work/err" || fail "message for $*: $(cat "$work/err")"
}
expect_error "outside the split" "$cnn" "$work/ds.h5" --reviews 25000
expect_error "cannot open" "$cnn" "$work/missing.h5"
expect_error "unknown" "$cnn" "$work/ds.h5" --rule simpson
expect_error "unknown" "$cnn" "$work/ds.h5" --method magic
expect_error "steps" "$cnn" "$work/ds.h5" --steps 0
expect_error "outside the model's" "$cnn" "$work/ds.h5" --target 7
expect_error "no Embedding" "$TOKATTR_SHARED/models/keras_bilstm_sst5.h5" "$work/ds.h5"
echo "explain: ok"
