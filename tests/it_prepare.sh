#!/bin/bash
# tokattr prepare end to end: the shared archive (exported word index equal,
# byte for byte, to ../shared/models/imdb_word_index.json), and the same
# small review set as a directory and as a .tar.gz giving identical datasets.
# labels: data
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

grep -q -- "--export-word-index" <<<"$("$TOKATTR_BIN" prepare --help)" || fail "--help lacks options"
grep -q "default" <<<"$("$TOKATTR_BIN" prepare --help)" || fail "--help shows no defaults"

# Default source: <shared>/data/aclImdb_v1.tar.gz through --shared, with
# DATA.md's own tokenizer (tokattr-imdb, counted on train).
out=$(env -u TOKATTR_DATA "$TOKATTR_BIN" prepare --quiet --shared "$TOKATTR_SHARED" --out "$work/ds.h5" \
      --tokenizer tokattr-imdb --export-word-index "$work/wi.json")
echo "$out"
[ -s "$work/ds.h5" ] || fail "no dataset written"
[ ! -e "$work/ds.h5.tmp" ] || fail "temporary file left behind"
cmp "$work/wi.json" "$TOKATTR_SHARED/models/imdb_word_index.json" || fail "exported word index differs"
grep -q "train  25000 reviews (12500 neg, 12500 pos), 5942532 tokens" <<<"$out" || fail "train summary"
grep -q "88581 words" <<<"$out" || fail "vocabulary size"
grep -q "reviews/s" <<<"$out" || fail "no rate in the summary"

# inspect reads it back: the first test review is neg 0_2.txt, 168 tokens.
insp=$("$TOKATTR_BIN" inspect "$work/ds.h5" --review 0)
grep -q "test review 0: file 0_2.txt (neg), 168 tokens" <<<"$insp" || fail "inspect: $insp"
grep -q "most frequent: the (336135)" <<<"$insp" || fail "inspect vocabulary: $insp"

# The shared word index as the vocabulary gives the same ids.
"$TOKATTR_BIN" prepare --quiet --source "$TOKATTR_SHARED/data/aclImdb_v1.tar.gz" --out "$work/ds_wi.h5" \
    --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" >/dev/null
h5diff "$work/ds.h5" "$work/ds_wi.h5" /test/ids /test/ids || fail "ids differ with --word-index"
h5diff "$work/ds.h5" "$work/ds_wi.h5" /train/ids /train/ids || fail "train ids differ with --word-index"

# Directory and archive of the same files give the same dataset.
mk() { mkdir -p "$(dirname "$work/src/$1")"; printf '%s' "$2" >"$work/src/$1"; }
mk aclImdb/train/neg/3_2.txt "Awful. Truly awful<br />"
mk aclImdb/train/neg/12_4.txt "not good, not bad"
mk aclImdb/train/pos/1_8.txt "Good! Really good."
mk aclImdb/test/neg/4_1.txt "bad"
mk aclImdb/test/pos/9_10.txt "good, unseen"
mk aclImdb/train/unsup/5_0.txt "ignored"
mk aclImdb/imdb.vocab "ignored"
tar -C "$work/src" -czf "$work/small.tar.gz" aclImdb
for tok in tokattr-imdb keras-imdb; do
    TOKATTR_DATA="$work/src/aclImdb" "$TOKATTR_BIN" prepare --quiet --tokenizer $tok --out "$work/dir.h5" >/dev/null
    "$TOKATTR_BIN" prepare --quiet --tokenizer $tok --source "$work/small.tar.gz" --out "$work/tar.h5" >/dev/null
    for d in /train/ids /train/offset /train/label /train/rating /train/review_id /test/ids /test/offset \
             /train/doc_id /train/word_offset /train/word_text /vocab/word /vocab/count; do
        h5diff "$work/dir.h5" "$work/tar.h5" "$d" "$d" || fail "$tok: $d differs between directory and archive"
    done
done
# The default tokenizer of the archive is keras-imdb: Keras' ids.
"$TOKATTR_BIN" prepare --quiet --source "$work/small.tar.gz" --out "$work/default.h5" >/dev/null
h5diff "$work/default.h5" "$work/tar.h5" /test/ids /test/ids || fail "the default tokenizer is not keras-imdb"
"$TOKATTR_BIN" inspect "$work/default.h5" | grep -q "tokenizer keras-imdb" || fail "default.h5 does not record keras-imdb"
# Canonical order and the stored words: train neg 3_2 before 12_4, then pos 1_8.
insp=$("$TOKATTR_BIN" inspect "$work/default.h5" --split train --review 1)
grep -q "train review 1: file 12_4.txt (neg)" <<<"$insp" || fail "canonical order: $insp"
grep -q "words: not good not bad" <<<"$insp" || fail "stored words: $insp"
echo "it_prepare: ok"
