#!/bin/bash
# Integrated Gradients on 500 real test reviews per model (every 50th of the
# canonical order, both classes): completeness |delta| < 1% of
# |F(x) - F(x')| at 50 Gauss-Legendre steps on every LSTM review. The CNN's
# integrand is only piecewise smooth (relu, max over time switch along the
# path), so 50 nodes leave a quadrature error that exceeds 1% on reviews
# where F(x) - F(x') is small: the float64 reference does too (2 of the 10
# fixture reviews: 2.1% and 1.2%). For the CNN we require the median under
# 1% and |delta| < 0.01 absolute on every review (the fixture's worst is
# 0.0058). The mean
# |delta| falls as n = 8, 16, 32, 64; Gauss-Legendre beats the trapezoid at
# equal n on average (LSTM; for the CNN, whose path is only piecewise smooth,
# it must not lose by more than 25%).
# labels: attr
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$TOKATTR_BIN" prepare --quiet --shared "$TOKATTR_SHARED" --out "$work/ds.h5" \
    --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" >/dev/null
reviews=$(seq -s, 0 50 24950)

# prints "max_rel mean_rel median_rel max_abs" of |delta| (relative to
# |F(x) - F(x')|) over the reviews
stats() {
    awk '/^review /{ for (i = 1; i <= NF; i++) { if ($i == "F(x)") fx = $(i+2); if ($i == "F(x'"'"')") fb = $(i+2); if ($i == "delta") d = $(i+2) }
          gsub(",", "", fx); gsub(",", "", fb); gsub(",", "", d);
          df = fx - fb; if (df < 0) df = -df; if (d < 0) d = -d;
          r = df > 1e-6 ? d / df : 0; if (r > mx) mx = r; if (d > ma) ma = d; s += r; n++; rel[n] = r }
         END { if (n != 500) { print "expected 500 reviews, got " n > "/dev/stderr"; exit 1 }
               for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (rel[j] < rel[i]) { t = rel[i]; rel[i] = rel[j]; rel[j] = t }
               printf "%.3e %.3e %.3e %.3e\n", mx, s / n, rel[int(n / 2)], ma }'
}

for model in cnn lstm; do
    m="$TOKATTR_SHARED/models/imdb_$model.h5"
    read -r mx mean med ma < <("$TOKATTR_BIN" explain "$m" "$work/ds.h5" --reviews "$reviews" | stats)
    echo "$model GL-50: |delta|/|dF| max $mx, mean $mean, median $med; max |delta| $ma"
    if [ "$model" = lstm ]; then
        awk -v m="$mx" 'BEGIN { exit !(m < 0.01) }' || fail "$model: completeness above 1% at 50 steps"
    else
        awk -v m="$med" -v a="$ma" 'BEGIN { exit !(m < 0.01 && a < 0.01) }' \
            || fail "$model: completeness median above 1% or |delta| above 0.01"
    fi
    gl_sum=0 tr_sum=0 prev=1e30
    for n in 8 16 32 64; do
        read -r _ gl _ _ < <("$TOKATTR_BIN" explain "$m" "$work/ds.h5" --reviews "$reviews" --steps $n | stats)
        read -r _ tr _ _ < <("$TOKATTR_BIN" explain "$m" "$work/ds.h5" --reviews "$reviews" --steps $n \
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
