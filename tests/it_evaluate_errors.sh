#!/usr/bin/env bash
# tokattr evaluate: bad arguments and bad files give a clear message naming
# the file and a non-zero exit, never a crash.
set -euo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect CODE PATTERN ARGS...: exit status CODE and PATTERN on stderr.
expect() {
    local code=$1 pattern=$2
    shift 2
    set +e
    "$BIN" evaluate "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    set -e
    [ "$rc" = "$code" ] || { cat "$TMP/err"; fail "exit $rc, wanted $code for: $*"; }
    grep -q -- "$pattern" "$TMP/err" || { cat "$TMP/err"; fail "no '$pattern' for: $*"; }
}
grep -q -- "--num-words" <<<"$("$BIN" evaluate --help)" || fail "--help lacks options"
grep -q "default: test" <<<"$("$BIN" evaluate --help)" || fail "--help shows no defaults"
expect 2 "needs MODEL.h5 and DATASET.h5" "$SHARED/models/imdb_cnn.h5"
expect 2 "positive integer" "$SHARED/models/imdb_cnn.h5" x.h5 --batch 0
expect 2 "unknown option" "$SHARED/models/imdb_cnn.h5" x.h5 --frobnicate
expect 1 "nope.h5: no such file" "$TMP/nope.h5" x.h5
echo "not hdf5" >"$TMP/text.h5"
expect 1 "text.h5: not an HDF5 file" "$TMP/text.h5" x.h5
expect 1 "text.h5" "$SHARED/models/imdb_cnn.h5" "$TMP/text.h5"
expect 1 "no Embedding" "$SHARED/models/keras_bilstm_sst5.h5" "$TMP/text.h5"
expect 1 "num-words 20000 is larger" "$SHARED/models/imdb_cnn.h5" "$TMP/text.h5" --num-words 20000
expect 1 "needs at least 3 steps" "$SHARED/models/imdb_cnn.h5" "$TMP/text.h5" --maxlen 2
echo PASS
