#!/usr/bin/env bash
# labels: model
# Keras 3 files, as a user runs them: the shared Keras 2 models converted
# (by test_keras3 --write) into a Keras 3 .h5, a .keras archive, a Functional
# .keras and a weights-only .weights.h5 + architecture JSON give the very
# accuracy line of the Keras 2 file (models/README.md: CNN 21,249 / 25,000)
# and the same explanation scores; inspect names each format; a branch, a
# missing architecture and broken archives are refused with the file named;
# tokattr train writes a .keras that Keras' layout and tokattr read back.
set -euo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
SRC=${TOKATTR_SOURCE:?}
BUILD=${TOKATTR_BUILD:?}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BUILD/test_keras3" --write "$TMP" >/dev/null || fail "test_keras3 --write"

# The same cached dataset as the training and evaluate tests.
DATA="$BUILD/it_train_imdb.h5"
if [ ! -s "$DATA" ]; then
    "$BIN" prepare --source "$SHARED/data/aclImdb_v1.tar.gz" --tokenizer tokattr-imdb --out "$DATA.part.$$" --quiet
    mv "$DATA.part.$$" "$DATA"
fi

want="accuracy  0.84996 (21249 / 25000 correct)"
ref=$("$BIN" evaluate "$SHARED/models/imdb_cnn.h5" "$DATA" --quiet | grep -v '^model\|^speed')
grep -qF "$want" <<<"$ref" || fail "the Keras 2 CNN does not give $want"
for m in cnn_k3.h5 cnn.keras; do
    out=$("$BIN" evaluate "$TMP/$m" "$DATA" --quiet | grep -v '^model\|^speed')
    [ "$out" = "$ref" ] || fail "$m: evaluate differs from the Keras 2 file: $out"
    echo "ok: $m evaluates as imdb_cnn.h5 ($want)"
done
out=$("$BIN" evaluate "$TMP/cnn.weights.h5" "$DATA" --architecture "$TMP/cnn.json" --quiet |
      grep -v '^model\|^speed')
[ "$out" = "$ref" ] || fail "weights + architecture: evaluate differs: $out"
echo "ok: cnn.weights.h5 --architecture cnn.json evaluates as imdb_cnn.h5"

# Explanations: the same scores from every format (JSON without the model path).
expl() { "$BIN" explain "$@" --method ig --steps 8 --reviews 0-2 --json | sed '/^[[:space:]]*"model":/d'; }
e_ref=$(expl "$SHARED/models/imdb_lstm.h5" "$DATA")
[ -n "$e_ref" ] || fail "no explanation"
for m in lstm.keras lstm_fn.keras lstm_k3.h5; do
    [ "$(expl "$TMP/$m" "$DATA")" = "$e_ref" ] || fail "$m: IG scores differ from imdb_lstm.h5"
    echo "ok: $m explains as imdb_lstm.h5"
done
[ "$(expl "$TMP/lstm.weights.h5" "$DATA" --architecture "$TMP/lstm.json")" = "$e_ref" ] ||
    fail "lstm.weights.h5 + architecture: IG scores differ"

# inspect names the format.
"$BIN" inspect "$TMP/cnn_k3.h5" | grep -q "format: Keras 3 h5" || fail "inspect: Keras 3 h5"
"$BIN" inspect "$TMP/bilstm.keras" | grep -q "format: Keras 3 .keras" || fail "inspect: .keras"
"$BIN" inspect "$SHARED/models/imdb_cnn.h5" | grep -q "format: Keras 2 h5" || fail "inspect: Keras 2"
"$BIN" inspect "$TMP/lstm.weights.h5" --architecture "$TMP/lstm.json" |
    grep -q "format: Keras 3 weights h5 + architecture JSON" || fail "inspect: weights-only"
"$BIN" inspect "$TMP/lstm.keras" | grep -q "lstm .*LSTM .*(80, 128) -> (128)" || fail "inspect: layer shapes"

# A leading TextVectorization: its vocabulary (the .keras assets) exported
# for --tokenizer text-vectorization:FILE, and a note where ids come from.
"$BIN" inspect "$TMP/lstm_tv.keras" --vocabulary-out "$TMP/vocab.txt" |
    grep -q "vocabulary: 5 tokens: '' '\[UNK\]' 'the' 'film' 'great'" || fail "inspect: TV vocabulary"
printf '\n[UNK]\nthe\nfilm\ngreat\n' | cmp -s - "$TMP/vocab.txt" || fail "vocabulary file differs"
rm "$TMP/vocab.txt"
spec=$("$BIN" inspect "$TMP/lstm_tv.keras" --vocabulary-out "$TMP/vocab.txt" |
       sed -n 's/.*pass --tokenizer //p')
[ "$spec" = "text-vectorization,output_sequence_length=80:$TMP/vocab.txt" ] ||
    fail "inspect prints the tokenizer spelling '$spec'"
# "" 0, [UNK] 1, the 2, film 3, great 4: "was" is out of the vocabulary.
"$BIN" tokenize --tokenizer "$spec" --text "The film was GREAT" |
    grep -qF '"ids": [2, 3, 1, 4]' || fail "the model's vocabulary does not tokenize as Keras would"
note=$("$BIN" explain "$TMP/lstm_tv.keras" "$DATA" --method saliency 2>&1 >/dev/null)
grep -q "TextVectorization.*--tokenizer text-vectorization:VOCAB.txt" <<<"$note" ||
    fail "explain gives no note on the TextVectorization: $note"

# Refusals: one message naming the file and what is wrong, non-zero exit.
bad() { # name, expected text, command...
    local name=$1 want=$2; shift 2
    set +e
    msg=$("$@" 2>&1 >/dev/null)
    rc=$?
    set -e
    [ $rc -ne 0 ] || fail "$name: exit status 0"
    grep -qF -- "$want" <<<"$msg" || fail "$name: message '$msg' does not mention '$want'"
    echo "ok: $name -> $msg"
}
bad "branch" "layer 'dense_1' does not take exactly the output of 'dropout_1'" \
    "$BIN" evaluate "$TMP/cnn_branch.keras" "$DATA"
bad "weights-only without architecture" "--architecture model.json" \
    "$BIN" evaluate "$TMP/cnn.weights.h5" "$DATA"
head -c 3000 "$TMP/cnn.keras" > "$TMP/cut.keras"
bad "truncated .keras" "$TMP/cut.keras" "$BIN" evaluate "$TMP/cut.keras" "$DATA"
bad "vocabulary file exists" "$TMP/vocab.txt" \
    "$BIN" inspect "$TMP/lstm_tv.keras" --vocabulary-out "$TMP/vocab.txt"
bad "no TextVectorization" "no TextVectorization" \
    "$BIN" inspect "$TMP/lstm.keras" --vocabulary-out "$TMP/v2.txt"
bad "missing architecture file" "nothere.json" \
    "$BIN" explain "$TMP/cnn.weights.h5" "$DATA" --architecture "$TMP/nothere.json"

# A job with a .keras model runs; one with `architecture:` is refused as a
# missing feature of run, naming the key, and writes nothing.
cat > "$TMP/keras.yaml" <<YAML
model: $TMP/cnn.keras
dataset: $DATA
tokenizer: dataset
select: {first: 0, count: 2}
methods:
  - {name: g, method: saliency}
results: $TMP/keras_results.h5
YAML
"$BIN" run "$TMP/keras.yaml" --quiet >/dev/null || fail "run with a .keras model"
[ -s "$TMP/keras_results.h5" ] || fail "run wrote no results"
sed -e "s|^model: .*|model: $TMP/cnn.weights.h5|" -e "s|keras_results|arch_results|" \
    "$TMP/keras.yaml" > "$TMP/arch.yaml"
echo "architecture: $TMP/cnn.json" >> "$TMP/arch.yaml"
# The same job over the weights-only file plus its architecture gives the
# same scores as over the .keras archive.
"$BIN" run "$TMP/arch.yaml" --quiet >/dev/null || fail "run with architecture:"
h5diff -q "$TMP/keras_results.h5" "$TMP/arch_results.h5" /attributions /attributions ||
    fail "architecture: run differs from the .keras run"

# tokattr train writes .keras: a zip with Keras' three members, read back.
out=$("$BIN" train "$SRC/configs/synthetic_planted.yaml" --output "$TMP/planted.keras" --quiet)
[ -s "$TMP/planted.keras" ] || fail "train wrote no .keras"
ls "$TMP" | grep -q 'planted.keras.tmp' && fail "temporary file left behind"
/usr/bin/python3 - "$TMP/planted.keras" <<'PY' || fail "planted.keras is not Keras 3-shaped"
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
assert names[:3] == ["metadata.json", "config.json", "model.weights.h5"], names
cfg = json.loads(z.read("config.json"))
assert cfg["module"] == "keras" and cfg["class_name"] == "Sequential", cfg.keys()
layers = cfg["config"]["layers"]
assert layers[0]["class_name"] == "InputLayer" and "batch_shape" in layers[0]["config"]
for l in layers:
    assert l["module"] == "keras.layers" and "registered_name" in l, l
    assert isinstance(l["config"].get("dtype"), (dict, str))
assert json.loads(z.read("metadata.json"))["keras_version"].startswith("3.")
w = z.read("model.weights.h5")
assert w[:8] == b"\x89HDF\r\n\x1a\n", w[:8]
PY
"$BIN" inspect "$TMP/planted.keras" | grep -q "format: Keras 3 .keras" || fail "train .keras: inspect"
echo PASS
