#!/usr/bin/env bash
# Report generation for an IMDB-sized results file (25,000 reviews, ~230
# tokens each, three methods, faithfulness curves) must take seconds, and
# the HTML report with a page for every review must stay a few hundred MB.
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
    if [ "$fmt" = html ]; then
        pages=$(ls "$work/r/reviews" | wc -l)
        mb=$(du -s -B1M --apparent-size "$work/r" | cut -f1)
        index_mb=$(du -B1M --apparent-size "$work/r/index.html" | cut -f1)
        echo "html: $pages review pages, $mb MB in all, index $index_mb MB"
        [ "$pages" -eq 25000 ] || { echo "FAIL: $pages pages, expected 25000" >&2; exit 1; }
        [ "$mb" -lt 400 ] || { echo "FAIL: the report is $mb MB" >&2; exit 1; }
        [ "$index_mb" -lt 40 ] || { echo "FAIL: index.html is $index_mb MB" >&2; exit 1; }
    fi
done
rm -rf "$work"
