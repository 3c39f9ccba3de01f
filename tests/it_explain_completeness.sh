#!/bin/bash
# Integrated Gradients on 500 real test reviews per model (every 50th of the
# canonical order, both classes): completeness |delta| < 1% of
# |F(x) - F(x')| at 50 Gauss-Legendre steps on every review; the mean
# |delta| falls as n = 8, 16, 32, 64; Gauss-Legendre beats the trapezoid at
# equal n on average (LSTM; for the CNN, whose path is only piecewise smooth,
# it must not lose by more than 25%).
# labels: attr slow
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$TOKATTR_BIN" prepare --quiet --shared "$TOKATTR_SHARED" --out "$work/ds.h5" \
    --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" >/dev/null
reviews=$(seq -s, 0 50 24950)

# prints "max_rel mean_rel mean_abs" of |delta| / |F(x) - F(x')| over the reviews
stats() {
    awk '/^review /{ for (i = 1; i <= NF; i++) { if ($i == "F(x)") fx = $(i+2); if ($i == "F(x'"'"')") fb = $(i+2); if ($i == "delta") d = $(i+2) }
          gsub(",", "", fx); gsub(",", "", fb); gsub(",", "", d);
          df = fx - fb; if (df < 0) df = -df; if (d < 0) d = -d;
          r = df > 1e-6 ? d / df : 0; if (r > mx) mx = r; s += r; a += d; n++ }
         END { if (n != 500) { print "expected 500 reviews, got " n > "/dev/stderr"; exit 1 }
               printf "%.3e %.3e %.3e\n", mx, s / n, a / n }'
}

for model in cnn lstm; do
    m="$TOKATTR_SHARED/models/imdb_$model.h5"
    read -r mx mean abs < <("$TOKATTR_BIN" explain "$m" "$work/ds.h5" --reviews "$reviews" | stats)
    echo "$model GL-50: max |delta|/|dF| $mx, mean $mean"
    awk -v m="$mx" 'BEGIN { exit !(m < 0.01) }' || fail "$model: completeness above 1% at 50 steps"
    gl_sum=0 tr_sum=0 prev=1e30
    for n in 8 16 32 64; do
        read -r _ gl _ < <("$TOKATTR_BIN" explain "$m" "$work/ds.h5" --reviews "$reviews" --steps $n | stats)
        read -r _ tr _ < <("$TOKATTR_BIN" explain "$m" "$work/ds.h5" --reviews "$reviews" --steps $n \
                             --rule riemann_trapezoid | stats)
        echo "$model n=$n: mean |delta|/|dF| GL $gl, trapezoid $tr"
        awk -v a="$gl" -v b="$prev" 'BEGIN { exit !(a < b || a < 1e-5) }' \
            || fail "$model: GL error did not fall at n=$n"
        prev=$gl
        gl_sum=$(awk -v a="$gl_sum" -v b="$gl" 'BEGIN { print a + b }')
        tr_sum=$(awk -v a="$tr_sum" -v b="$tr" 'BEGIN { print a + b }')
    done
    slack=1.0
    [ "$model" = cnn ] && slack=1.25
    awk -v g="$gl_sum" -v t="$tr_sum" -v s="$slack" 'BEGIN { exit !(g < s * t) }' \
        || fail "$model: GL ($gl_sum) does not beat trapezoid ($tr_sum)"
done
echo "completeness: ok"
