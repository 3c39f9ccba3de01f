#!/usr/bin/env bash
# Report generation for an IMDB-sized results file (25,000 reviews, ~230
# tokens each, three methods, faithfulness curves) must take seconds.
# labels: report
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_BUILD:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/tokattr-it-report-speed-XXXXXX")
"$TOKATTR_BUILD/test_report" --write-fake "$work/big.h5" 25000 imdb faith
for fmt in html json csv; do
    t0=$(date +%s.%N)
    "$TOKATTR_BIN" report "$work/big.h5" --out "$work/r" --format "$fmt" 2>&1
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    echo "format $fmt: $secs s"
    awk -v s="$secs" 'BEGIN { exit !(s < 60) }' || { echo "FAIL: $fmt report took $secs s" >&2; exit 1; }
done
rm -rf "$work"
