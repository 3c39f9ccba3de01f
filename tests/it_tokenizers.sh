#!/usr/bin/env bash
# Every tokenizer kind against an independent Python implementation of
# Keras' rules (tests/tokenizer_reference.py): a tricky corpus (quotes,
# newlines, tabs, CR, unicode capitals, İ and final sigma, apostrophes,
# <br />, punctuation runs), Tokenizer JSONs and TextVectorization
# vocabularies fitted on it by the reference, and `tokattr tokenize` must
# give the same words, ids, model input and truncation counts. Then
# keras-imdb on real IMDB test reviews against Keras' own word index, and
# bad tokenizer files.
# labels: data
set -euo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
REF="python3 $SRC/tests/tokenizer_reference.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

$REF make "$work"
cd "$work"
docs=(doc_*.txt)
n_cases=0
while IFS=$'\t' read -r spec extra; do
    [ -n "$spec" ] || continue
    args=()
    for d in "${docs[@]}"; do args+=(--text-file "$d"); done
    # shellcheck disable=SC2086
    "$BIN" tokenize --tokenizer "$spec" --shared "$SHARED" $extra "${args[@]}" >c.jsonl ||
        fail "tokattr tokenize --tokenizer $spec $extra"
    # shellcheck disable=SC2086
    $REF tokenize "$spec" texts.json --shared "$SHARED" $extra >py.jsonl
    $REF compare c.jsonl py.jsonl || fail "$spec $extra: C and Python differ"
    [ "$(wc -l <c.jsonl)" -eq "${#docs[@]}" ] || fail "$spec: not one line per text"
    n_cases=$((n_cases + 1))
done <cases.txt
echo "$n_cases tokenizer cases agree with the Python reference on ${#docs[@]} texts"
[ "$n_cases" -ge 15 ] || fail "only $n_cases cases ran"

# Spot checks of the rules themselves (not only agreement): ASCII-only
# lowercasing keeps CAFÉ's É; the Tokenizer lowercases İ and a final Σ as
# Python does; TextVectorization deletes the apostrophe.
out=$("$BIN" tokenize --tokenizer keras-imdb --shared "$SHARED" --text "CAFÉ Äänekoski")
grep -qF '"words": ["cafÉ", "Äänekoski"]' <<<"$out" || fail "keras-imdb words: $out"
grep -qF '"ids": [2, ' <<<"$out" || fail "cafÉ is not OOV under keras-imdb: $out"
grep -qF '"ids": [2, 2]' <<<"$out" && fail "Äänekoski must be in Keras' index: $out"
out=$("$BIN" tokenize --tokenizer keras-tokenizer:tok_all.json --text "İstanbul ΣΑΣ.")
grep -qF '"words": ["i̇stanbul", "σας"]' <<<"$out" || fail "Python lowercasing: $out"
out=$("$BIN" tokenize --tokenizer text-vectorization:tv_strip_full.txt --text "Don't CAFÉ")
grep -qF '"words": ["dont", "cafÉ"]' <<<"$out" || fail "TextVectorization standardize: $out"

# keras-imdb on real reviews: ids are rank + 3 in Keras' imdb_word_index.json.
$REF imdb-reviews "$SHARED/data/aclImdb_v1.tar.gz" 5 "$work/imdb"
reviews=$(ls imdb/review_*.txt | paste -sd, -)
args=()
for r in imdb/review_*.txt; do args+=(--text-file "$r"); done
for nw in "" "--num-words 10000"; do
    # shellcheck disable=SC2086
    "$BIN" tokenize --tokenizer keras-imdb --shared "$SHARED" $nw "${args[@]}" >c.jsonl
    # shellcheck disable=SC2086
    $REF tokenize keras-imdb "$reviews" --shared "$SHARED" $nw >py.jsonl
    $REF compare c.jsonl py.jsonl || fail "keras-imdb $nw on IMDB test reviews"
done
echo "keras-imdb agrees on 5 IMDB test reviews"

# Bad files: one message naming the file and the problem, exit 1.
expect_error() {
    local needle=$1 spec=$2 msg rc=0
    msg=$("$BIN" tokenize --tokenizer "$spec" --text "a b" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -ne 0 ] || fail "$spec: exit status 0"
    grep -qF -- "$needle" <<<"$msg" || fail "$spec: message lacks '$needle': $msg"
    [ "$(grep -c . <<<"$msg")" -eq 1 ] || fail "$spec: more than one line: $msg"
}
printf '{"class_name": "Tokenizer", "config": {"word_index": 5}}' >bad_wi.json
expect_error "bad_wi.json: config.word_index must be a JSON-encoded string" keras-tokenizer:bad_wi.json
printf '{"class_name": "Tokenizer", "config": {"word_index": "{\\"a\\": 1, \\"b\\": 1}"}}' >dup.json
expect_error "dup.json: config.word_index: rank 1 is given to two words" keras-tokenizer:dup.json
printf '{"a": 1, "b": 2147483644}' >absurd.json
expect_error "absurd.json: word \"b\" has rank 2147483644" word-index:absurd.json
printf 'not json' >notjson.json
expect_error "notjson.json: not valid JSON" keras-tokenizer:notjson.json
printf 'the\nca\xffe\n' >badutf8.txt
expect_error "badutf8.txt:2: the token is not valid UTF-8" text-vectorization:badutf8.txt
expect_error "missing.json: cannot open" keras-tokenizer:missing.json
expect_error "needs a file" keras-tokenizer
expect_error "unknown tokenizer" keras
echo PASS
