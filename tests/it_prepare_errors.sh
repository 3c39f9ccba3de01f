#!/bin/bash
# Bad input to tokattr prepare: one clear message naming the file and the
# problem, a non-zero exit, and no output file (nor its .tmp) left behind.
# labels: data
set -uo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
archive="$TOKATTR_SHARED/data/aclImdb_v1.tar.gz"

# expect_error NAME NEEDLE ARGS...: prepare must fail, print NEEDLE, leave nothing.
expect_error() {
    local name=$1 needle=$2
    shift 2
    local out="$work/$name.h5"
    local msg
    msg=$("$TOKATTR_BIN" prepare --quiet --out "$out" "$@" 2>&1 >/dev/null)
    local rc=$?
    if [ $rc -eq 0 ]; then
        echo "FAIL $name: exit status 0"; failures=$((failures + 1)); return
    fi
    if ! grep -qF -- "$needle" <<<"$msg"; then
        echo "FAIL $name: message does not name '$needle': $msg"; failures=$((failures + 1)); return
    fi
    if [ "$(grep -c . <<<"$msg")" -gt 2 ]; then
        echo "FAIL $name: more than one message: $msg"; failures=$((failures + 1)); return
    fi
    if [ -e "$out" ] || [ -e "$out.tmp" ]; then
        echo "FAIL $name: output left behind"; failures=$((failures + 1)); return
    fi
    echo "ok   $name: $msg"
}

mk() { mkdir -p "$(dirname "$1")"; printf '%s' "$2" >"$1"; }
good_dir() {
    mk "$1/aclImdb/train/neg/1_1.txt" "bad"
    mk "$1/aclImdb/train/pos/1_9.txt" "good"
    mk "$1/aclImdb/test/neg/1_1.txt" "bad"
    mk "$1/aclImdb/test/pos/1_9.txt" "good"
}

head -c 3000000 "$archive" >"$work/truncated.tar.gz"
expect_error truncated "truncated.tar.gz" --source "$work/truncated.tar.gz"

head -c 200000 /dev/urandom >"$work/random.tar.gz"
expect_error corrupt "random.tar.gz" --source "$work/random.tar.gz"

: >"$work/empty.tar.gz"
expect_error empty_archive "empty.tar.gz" --source "$work/empty.tar.gz"

mk "$work/notest/aclImdb/train/neg/1_1.txt" "bad"
mk "$work/notest/aclImdb/train/pos/1_9.txt" "good"
expect_error no_test_dir "test/neg" --source "$work/notest"

good_dir "$work/badname"
mk "$work/badname/aclImdb/train/pos/review.txt" "good"
expect_error bad_file_name "review.txt" --source "$work/badname"

good_dir "$work/badtar"
mk "$work/badtar/aclImdb/test/neg/12.txt" "bad"
tar -C "$work/badtar" -czf "$work/badname.tar.gz" aclImdb
expect_error bad_name_in_archive "aclImdb/test/neg/12.txt" --source "$work/badname.tar.gz"

expect_error missing_source "$work/nope.tar.gz" --source "$work/nope.tar.gz"

# Archive members that are links are refused with their name (issue 20).
good_dir "$work/links"
ln -s 1_1.txt "$work/links/aclImdb/test/neg/2_1.txt"
tar -C "$work/links" -czf "$work/symlink.tar.gz" aclImdb
expect_error symlink_member "aclImdb/test/neg/2_1.txt' is a symbolic link" --source "$work/symlink.tar.gz" \
    --tokenizer tokattr-imdb
rm "$work/links/aclImdb/test/neg/2_1.txt"
ln "$work/links/aclImdb/test/neg/1_1.txt" "$work/links/aclImdb/test/neg/3_1.txt"
tar -C "$work/links" -czf "$work/hardlink.tar.gz" aclImdb
expect_error hardlink_member "is a hard link" --source "$work/hardlink.tar.gz" --tokenizer tokattr-imdb

# --out that is the source (also through a symlink) is refused before
# anything is written: the archive stays as it was.
good_dir "$work/same"
tar -C "$work/same" -czf "$work/s.tar.gz" aclImdb
ln -s s.tar.gz "$work/s_link.tar.gz"
before=$(sha256sum <"$work/s.tar.gz")
for target in "$work/s.tar.gz" "$work/s_link.tar.gz"; do
    msg=$("$TOKATTR_BIN" prepare --quiet --source "$work/s.tar.gz" --out "$target" 2>&1 >/dev/null)
    if [ $? -ne 0 ] && grep -Eq "the output is the input|is the same file as the source" <<<"$msg" && [ "$(sha256sum <"$work/s.tar.gz")" = "$before" ] \
        && [ ! -e "$target.tmp" ]; then
        echo "ok   out_is_source: $msg"
    else
        echo "FAIL out_is_source ($target): $msg"; failures=$((failures + 1))
    fi
done

good_dir "$work/ok"
msg=$("$TOKATTR_BIN" prepare --quiet --source "$work/ok" --out "$work/no/such/dir/out.h5" 2>&1 >/dev/null)
if [ $? -ne 0 ] && grep -q "$work/no/such/dir/out.h5" <<<"$msg"; then
    echo "ok   unwritable_output: $msg"
else
    echo "FAIL unwritable_output: $msg"; failures=$((failures + 1))
fi

: >"$work/empty.json"
expect_error empty_word_index "empty.json" --source "$work/ok" --word-index "$work/empty.json"
printf '{"the": 1, "and": ' >"$work/malformed.json"
expect_error malformed_word_index "malformed.json" --source "$work/ok" --word-index "$work/malformed.json"
printf '{"the": 1, "and": 1}' >"$work/duprank.json"
expect_error duplicate_rank "duprank.json" --source "$work/ok" --word-index "$work/duprank.json"

# Usage errors exit 2.
"$TOKATTR_BIN" prepare --source "$work/ok" >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: missing --out is not a usage error"; failures=$((failures + 1)); }

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "it_prepare_errors: ok"
