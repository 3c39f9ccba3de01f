#!/bin/bash
# Issue 20 through the command line: inputs that used to destroy user data or
# be accepted silently now stop with one message naming the file and the
# problem, a non-zero exit, every input unchanged and no output left behind.
set -uo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_guards.XXXXXX")
cd "$work" || exit 1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# refuses WHAT PATTERN CMD...: exit 1 and a message matching PATTERN
refuses() {
    local what=$1 pattern=$2; shift 2
    local msg rc
    msg=$("$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -ne 1 ]; then fail "$what: exit $rc (want 1): $msg"; return; fi
    grep -Eq -- "$pattern" <<<"$msg" || fail "$what: message '$msg' does not match '$pattern'"
    [ "$(wc -l <<<"$msg")" -eq 1 ] || fail "$what: more than one line: $msg"
}

# A small corpus with the bytes of the issue: e9, ff fe, c3 28.
mkdir -p src/aclImdb/{train,test}/{pos,neg}
printf 'caf\xe9 great film' > src/aclImdb/train/pos/0_9.txt
printf '\xff\xfe bad film' > src/aclImdb/train/neg/1_1.txt
printf 'x\xc3\x28y good' > src/aclImdb/test/pos/2_8.txt
printf 'bad bad' > src/aclImdb/test/neg/3_2.txt
"$TOKATTR_BIN" prepare --quiet --source src --tokenizer tokattr-imdb:count --out ds.h5 --export-word-index wi.json >/dev/null \
    || { echo "FAIL: prepare of the small corpus"; exit 1; }
tar -czf src.tar.gz -C src aclImdb
cp "$TOKATTR_SHARED/models/imdb_cnn.h5" model.h5
sums() { sha256sum ds.h5 model.h5 src.tar.gz job.yaml 2>/dev/null; }

# --- outputs never touch inputs -------------------------------------------
job() { # job RESULTS [SELECT]
    cat <<YAML
model: model.h5
dataset: ds.h5
tokenizer: dataset      # the ids are the small corpus's own
input: {num_words: 9}   # the small corpus has 5 words (ids 4..8)
select: ${2:-"{all: true}"}
methods: [{name: s, method: saliency}]
results: $1
YAML
}
job r.h5 > job.yaml
before=$(sums)
job ds.h5 > j1.yaml
refuses "results = dataset, --force" "ds\.h5: the results file is the same file as the dataset" \
    "$TOKATTR_BIN" run j1.yaml --force --quiet
job model.h5 > j2.yaml
refuses "results = model, --force" "model\.h5: the results file is the same file as the model" \
    "$TOKATTR_BIN" run j2.yaml --force --quiet
ln -s ds.h5 link.h5
job link.h5 > j3.yaml
refuses "results = a symlink to the dataset" "link\.h5: the results file is the same file as the dataset" \
    "$TOKATTR_BIN" run j3.yaml --force --quiet
job job.yaml > j4.yaml
refuses "results = the job file, --force" "job\.yaml: the results file exists and is not a tokattr results file" \
    "$TOKATTR_BIN" run j4.yaml --force --quiet
ln ds.h5 hard.h5.partial
job hard.h5 > j5.yaml
refuses "results' .partial = a hard link to the dataset" "hard\.h5\.partial" \
    "$TOKATTR_BIN" run j5.yaml --force --quiet
refuses "prepare --out = --source" "src\.tar\.gz: the output dataset is the same file as the source" \
    "$TOKATTR_BIN" prepare --quiet --source src.tar.gz --out src.tar.gz
refuses "prepare --out = a job file" "job\.yaml: the output dataset exists and is not a tokattr dataset" \
    "$TOKATTR_BIN" prepare --quiet --source src.tar.gz --out job.yaml
refuses "prepare --out = --export-word-index" "the same file as the exported word index" \
    "$TOKATTR_BIN" prepare --quiet --source src.tar.gz --out new.h5 --export-word-index new.h5
refuses "train --output = the dataset" "ds\.h5: the output model is the same file as the dataset" \
    "$TOKATTR_BIN" train "$TOKATTR_SOURCE/configs/cnn_imdb.yaml" --dataset ds.h5 --output ds.h5
[ "$(sums)" = "$before" ] || fail "an input changed"
[ -e new.h5 ] && fail "a refused prepare left new.h5"
# What --force may replace: a previous results file.
"$TOKATTR_BIN" run job.yaml --quiet >/dev/null 2>&1 || fail "a plain run"
"$TOKATTR_BIN" run job.yaml --force --quiet >/dev/null 2>&1 || fail "--force over a previous results file"
# A damaged results file (a kill in its creation flush, a full disk) is
# called damaged, not "not a results file": never resumed nor read, but
# --force replaces it; an HDF5 file of another kind, cut, is never replaced.
size=$(stat -c %s r.h5)
truncate -s $((size / 2)) r.h5
cp r.h5 cut.h5
refuses "--resume on a truncated results file" \
    "^tokattr run: (\./)?r\.h5: a damaged tokattr results file \(truncated\? $((size / 2)) bytes.*cannot be resumed.*--force" \
    "$TOKATTR_BIN" run job.yaml --resume --quiet
refuses "report of a truncated results file" "^tokattr report: r\.h5: a damaged tokattr results file \(truncated" \
    "$TOKATTR_BIN" report r.h5 --out dmg --quiet
refuses "export of a truncated results file" "^tokattr export: r\.h5: a damaged tokattr results file \(truncated" \
    "$TOKATTR_BIN" export r.h5 --out dmg.csv
refuses "inspect of a truncated results file" "^tokattr inspect: r\.h5: a damaged tokattr results file \(truncated" \
    "$TOKATTR_BIN" inspect r.h5
cmp r.h5 cut.h5 || fail "a refusal changed the damaged file"
[ -e dmg ] || [ -e dmg.csv ] && fail "a refused report or export left output"
"$TOKATTR_BIN" run job.yaml --force --quiet >/dev/null 2>&1 || fail "--force over a damaged results file"
"$TOKATTR_BIN" inspect r.h5 >/dev/null 2>&1 || fail "the results --force wrote over a damaged file do not read"
cp ds.h5 dscut.h5
truncate -s $(($(stat -c %s ds.h5) / 2)) dscut.h5
cp dscut.h5 dscut.keep
job dscut.h5 > j6.yaml
refuses "results = a truncated dataset, --force" "dscut\.h5: the results file exists and is not a tokattr results file" \
    "$TOKATTR_BIN" run j6.yaml --force --quiet
cmp dscut.h5 dscut.keep || fail "--force replaced a truncated dataset"
refuses "report of a truncated dataset" "dscut\.h5: .*not a tokattr results file" \
    "$TOKATTR_BIN" report dscut.h5 --out dmg --quiet
"$TOKATTR_BIN" prepare --quiet --source src.tar.gz --out ds2.h5 >/dev/null &&
    "$TOKATTR_BIN" prepare --quiet --source src.tar.gz --out ds2.h5 >/dev/null || fail "re-preparing a dataset"

mkdir -p rep && ln r.h5 rep/index.html
refuses "report --out holding the results file as index.html" "rep/index\.html: the report file is the same file as the results file" \
    "$TOKATTR_BIN" report r.h5 --out rep
cmp r.h5 rep/index.html || fail "report wrote over its input"

# --- sizes from data, not headers -------------------------------------------
printf '{"great": 2147483644}' > huge.json
refuses "word index rank 2147483644" "huge\.json: .*rank 2147483644" \
    "$TOKATTR_BIN" prepare --quiet --source src --out w1.h5 --word-index huge.json
printf '{"great": 1, "film": 1000000}' > gap.json
refuses "word index with a gap of 999,998" "gap\.json: .*rank 1000000" \
    "$TOKATTR_BIN" prepare --quiet --source src --out w2.h5 --word-index gap.json
[ -e w1.h5 ] || [ -e w2.h5 ] && fail "a refused word index left a dataset"

vec_job() {
    cat <<YAML
model: $TOKATTR_SHARED/models/keras_bilstm_sst5.h5
dataset: ds.h5
tokenizer: dataset
word_vectors: $1
methods: [{name: g, method: grad_input}]
results: wv.h5
YAML
}
row() { python3 -c "import sys; print(sys.argv[1], ' '.join([sys.argv[2]] + ['0.1'] * 59))" "$@"; }
{ echo "2 60"; row bad 1e38; row great 0.5; } > v38.txt
vec_job v38.txt > wv1.yaml
refuses "word vectors of 1e38" "v38\.txt:2: value 1 of 'bad' is 1e\+38" "$TOKATTR_BIN" run wv1.yaml --quiet
printf '288888888 4\nthe 1 2 3 4\n' > vbig.txt
vec_job vbig.txt > wv2.yaml
refuses "word2vec header 288888888 4" "vbig\.txt:3: the file ends after 1 of the 288888888 words" \
    "$TOKATTR_BIN" run wv2.yaml --quiet
printf '2147483648 100000\nthe 1\n' > vhuge.txt
vec_job vhuge.txt > wv3.yaml
refuses "word2vec header 2147483648 100000" "vhuge\.txt:2: value 2 of 'the' is missing" \
    "$TOKATTR_BIN" run wv3.yaml --quiet
[ -e wv.h5 ] || [ -e wv.h5.partial ] && fail "a refused word-vector run left results"

# --- UTF-8 where we say UTF-8 ------------------------------------------------
python3 - ds.h5 wi.json <<'PY' || fail "vocabulary or exported word index is not valid UTF-8"
import json, re, subprocess, sys
index = json.load(open(sys.argv[2], encoding="utf-8"))  # strict: invalid bytes raise
assert "caf\ufffd" in index and "\ufffd\ufffd" in index, index
# h5dump prints each byte >= 0x80 as a sign-extended octal escape.
text = subprocess.run(["h5dump", "-d", "/vocab/word", sys.argv[1]], capture_output=True,
                      text=True, check=True).stdout
data = text[text.index("DATA {"):]
for word in re.findall(r'"((?:[^"\\]|\\.)*)"', data):
    raw = re.sub(r"\\(37777777)?([0-7]{3})", lambda m: chr(int(m.group(2), 8) & 0xFF), word)
    raw.encode("latin-1").decode("utf-8")  # strict
PY

# --- select: duplicate ids -------------------------------------------------
job dup.h5 "{ids: [3, 3, 3, 7]}" > dup.yaml
refuses "select ids [3, 3, 3, 7]" "dup\.yaml:5: key 'select.ids': review 3 is listed more than once" \
    "$TOKATTR_BIN" run dup.yaml --quiet

[ $failures -eq 0 ] && { echo "it_guards: all passed"; rm -rf "$work"; exit 0; }
echo "it_guards: $failures failure(s); files in $work"
exit 1
