#!/bin/bash
# DeepLIFT and DeepSHAP-100 completeness on 500 real test reviews per model
# (CNN and LSTM): |sum of scores - (F(x) - E)| <= 1e-5 max(1, |F(x) - E|)
# for every review, on a dataset built from the shared archive by
# `tokattr prepare` (background: the first 100 train reviews).
# labels: attr
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench="$TOKATTR_BUILD/bench_attr2"
[ -x "$bench" ] || { echo "FAIL: $bench not built" >&2; exit 1; }
"$TOKATTR_BIN" prepare --quiet --shared "$TOKATTR_SHARED" --tokenizer tokattr-imdb --out "$work/ds.h5" >/dev/null
out=$("$bench" --shared "$TOKATTR_SHARED" --check "$work/ds.h5" --reviews "${ATTR2_REVIEWS:-500}")
echo "$out"
[ "$(grep -c ' 0 over the bound' <<<"$out")" -eq 4 ] || { echo "FAIL: completeness" >&2; exit 1; }
