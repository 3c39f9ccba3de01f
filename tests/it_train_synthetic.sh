#!/usr/bin/env bash
# tokattr train on the planted-token data: reaches >= 99% test accuracy in
# seconds and writes a Keras file; bad configs, a missing dataset and an
# unwritable output give clear messages and leave no model file behind.
set -euo pipefail
BIN=${TOKATTR_BIN:?}
SRC=${TOKATTR_SOURCE:?}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

grep -q "learning_rate: 0.001" <<<"$("$BIN" train --help)" || fail "--help does not show the defaults"

out=$("$BIN" train "$SRC/configs/synthetic_planted.yaml" --output "$TMP/planted.h5" --quiet)
echo "$out"
[ -s "$TMP/planted.h5" ] || fail "no model file"
ls "$TMP" | grep -q tmp && fail "temporary file left behind"
acc=$(echo "$out" | sed -n 's/^test: .* accuracy \([0-9.]*\).*/\1/p')
[ -n "$acc" ] || fail "no test accuracy printed"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.99) }' || fail "test accuracy $acc < 0.99"
[ "$(echo "$out" | grep -c '^epoch ')" -eq 3 ] || fail "expected 3 epoch lines"
grep -q 'val_accuracy' <<<"$out" || fail "no validation figures"

# The file is a Keras 2 model: model_config names the layers we trained.
if /usr/bin/python3 -c 'import h5py' 2>/dev/null; then
    /usr/bin/python3 - "$TMP/planted.h5" <<'PY' || fail "model file is not Keras-shaped"
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
cfg = f.attrs["model_config"]
cfg = json.loads(cfg if isinstance(cfg, str) else cfg.decode())
names = [l["class_name"] for l in cfg["config"]["layers"]]
assert "Embedding" in names and "Conv1D" in names and names[-1] == "Dense", names
assert "model_weights" in f
PY
fi

# Bad input: each gives a non-zero exit, a message naming the problem, no file.
bad() { # name, expected text, command...
    local name=$1 want=$2; shift 2
    set +e
    msg=$("$@" 2>&1 >/dev/null)
    rc=$?
    set -e
    [ $rc -ne 0 ] || fail "$name: exit status 0"
    grep -q -- "$want" <<<"$msg" || fail "$name: message '$msg' does not mention '$want'"
    echo "ok: $name -> $msg"
}
cp "$SRC/configs/synthetic_planted.yaml" "$TMP/unknown.yaml"
echo "learning_rat: 0.1" >> "$TMP/unknown.yaml"
bad "unknown key" "learning_rat" "$BIN" train "$TMP/unknown.yaml" --output "$TMP/u.h5"
sed 's/^epochs: 3/epochs: many/' "$SRC/configs/synthetic_planted.yaml" > "$TMP/type.yaml"
bad "wrong type" "epochs" "$BIN" train "$TMP/type.yaml" --output "$TMP/t.h5"
bad "missing dataset" "$TMP/none.h5" "$BIN" train "$SRC/configs/cnn_imdb.yaml" \
    --dataset "$TMP/none.h5" --output "$TMP/m.h5"
bad "unwritable output" "$TMP/no/such/dir/x.h5" "$BIN" train \
    "$SRC/configs/synthetic_planted.yaml" --output "$TMP/no/such/dir/x.h5"
bad "missing config" "nothere.yaml" "$BIN" train "$TMP/nothere.yaml"
for f in u.h5 t.h5 m.h5; do [ ! -e "$TMP/$f" ] || fail "$f written despite the error"; done
ls "$TMP" | grep -q tmp && fail "temporary file left behind after errors"
echo PASS
