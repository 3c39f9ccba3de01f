#!/usr/bin/env bash
# tokattr report from the command line: usage errors, bad input files (clear
# message, non-zero exit, no output left behind), --review, and the
# json/csv tables read back by a JSON and a CSV parser.
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_BUILD:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/tokattr-it-report-XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc CODE PATTERN-IN-STDERR ARGS...
    local want=$1 pat=$2 rc=0
    shift 2
    "$TOKATTR_BIN" report "$@" >"$work/out" 2>"$work/err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "report $* exited $rc, expected $want: $(cat "$work/err")"
    grep -q -- "$pat" "$work/err" "$work/out" || fail "report $*: no '$pat' in: $(cat "$work/err")"
}

grep -q -- "--min-count" <<<"$("$TOKATTR_BIN" report --help)" || fail "--help lacks --min-count"
expect_rc 2 "usage" 
expect_rc 2 "usage" "$work/x.h5"
expect_rc 2 "format must be" "$work/x.h5" --out "$work/r" --format pdf
expect_rc 2 "non-negative integer" "$work/x.h5" --out "$work/r" --min-count -3
expect_rc 1 "missing.h5: cannot open" "$work/missing.h5" --out "$work/r"
printf 'garbage' >"$work/garbage.h5"
expect_rc 1 "garbage.h5: not an HDF5 file" "$work/garbage.h5" --out "$work/r"
[ ! -e "$work/r" ] || fail "an output directory was created for a failed report"

"$TOKATTR_BUILD/test_report" --write-fake "$work/res.h5" 120 hostile faith
expect_rc 1 "id:5" "$work/res.h5" --out "$work/r" --review id:5
[ ! -e "$work/r/index.html" ] || fail "index.html written despite a bad --review"
ls -A "$work/r" 2>/dev/null | grep -q tmp && fail "temporary file left behind"

"$TOKATTR_BIN" report "$work/res.h5" --out "$work/r" --review id:1007,id:1014 --review id:1021 --quiet
for id in 1007 1014 1021; do
    grep -q "id=\"review-$id\"" "$work/r/index.html" || fail "review $id not shown"
done
ls -A "$work/r" | grep -v -x -e index.html -e report.css -e review.js -e reviews \
    && fail "unexpected files in the output directory"
n_pages=$(ls "$work/r/reviews" | wc -l)
[ "$n_pages" -eq 120 ] || fail "expected a page for each of the 120 reviews, found $n_pages"
ls -A "$work/r/reviews" | grep -v -E '^r[0-9]+\.html$' && fail "unexpected files among the pages"
# --pages linked: only the reviews the index links to, and every link of the
# index to a page resolves; written over the report above, the 120 pages of
# --pages all that it does not write are gone. --pages none: no page, and
# no link to one.
cp -r "$work/r" "$work/l"
touch "$work/l/reviews/keep.html"
"$TOKATTR_BIN" report "$work/res.h5" --out "$work/l" --pages linked --min-count 3 --quiet
rm "$work/l/reviews/keep.html" || fail "a file not named like a page was removed"
python3 - "$work/l" <<'PY' || fail "--pages linked: the index and the pages disagree"
import os, re, sys
d = sys.argv[1]
page = open(f"{d}/index.html", encoding="utf-8").read()
links = set(re.findall(r'href="(reviews/r\d+\.html)"', page))
files = set("reviews/" + f for f in os.listdir(f"{d}/reviews"))
assert links and links == files, (len(links), len(files), sorted(files - links)[:5])
assert len(files) < 120, len(files)
PY
"$TOKATTR_BIN" report "$work/res.h5" --out "$work/none" --pages none --quiet
[ ! -e "$work/none/reviews" ] || fail "--pages none wrote pages"
"$TOKATTR_BIN" report "$work/res.h5" --out "$work/l" --pages none --quiet
[ -z "$(ls -A "$work/l/reviews")" ] || fail "--pages none over a report left its pages"
if grep -q 'href="reviews/r' "$work/none/index.html"; then fail "--pages none: the index links to a page"; fi
expect_rc 2 "pages must be all, linked or none" "$work/res.h5" --out "$work/x" --pages some
# DIR/reviews is the report's: an input there (named like a page) is refused, untouched.
mkdir -p "$work/own/reviews" && cp "$work/res.h5" "$work/own/reviews/r3.html"
expect_rc 1 "the report page is the same file as the results file" "$work/own/reviews/r3.html" --out "$work/own"
cmp "$work/res.h5" "$work/own/reviews/r3.html" || fail "the input in DIR/reviews was changed"

"$TOKATTR_BIN" report "$work/res.h5" --out "$work/t" --format json --min-count 3
"$TOKATTR_BIN" report "$work/res.h5" --out "$work/t" --format csv --min-count 3
/usr/bin/python3 - "$work/t" <<'PY' || fail "the json/csv tables do not read back"
import csv, json, sys
d = sys.argv[1]
words = json.load(open(f"{d}/words.json"))
rows = list(csv.DictReader(open(f"{d}/words.csv", newline="", encoding="utf-8")))
assert len(words) == len(rows) > 0, (len(words), len(rows))
for w, r in zip(words, rows):
    assert w["word"] == r["word"] and w["count"] == int(r["count"]) and w["count"] >= 3
    assert w["ci_low"] <= w["mean"] <= w["ci_high"], w
# The planted word (w9 of test_report --write-fake, evidence for class 1)
# leads every table toward class 1 and closes every table toward class 0.
for w in words:
    if w["rank"] == 1 and w["class"] == 1:
        assert w["word"] == "w9" and abs(w["mean"] - 5) < 1e-6, w
last = {}
for w in words:
    last[(w["method"], w["class"])] = w
assert all(w["word"] == "w9" for (m, c), w in last.items() if c == 0), last
assert any("\ufffd" in w["word"] and "<script>" in w["word"] for w in words), "hostile word missing"
agree = json.load(open(f"{d}/agreement.json"))
assert all(-1 - 1e-9 <= a["spearman"] <= 1 + 1e-9 for a in agree if a["spearman"] is not None)
faith = list(csv.DictReader(open(f"{d}/faithfulness.csv")))
assert len(faith) == 3 and all(float(f["aopc"]) > float(f["random_aopc"]) for f in faith)
print(f"{len(words)} word rows, {len(agree)} agreement rows, {len(faith)} faithfulness rows")
PY
echo "ok: $work"
