#!/usr/bin/env bash
# tokattr explain on raw text, no dataset: the sentence's words appear with
# finite scores; IG's completeness holds (the scores, padding included, sum
# to F(x) - F(x') + delta, and |delta| < 0.01, the CNN bound of
# it_explain_completeness.sh); an unknown word shows as itself, flagged
# OOV, with the OOV id; the model input equals what `tokattr tokenize`
# makes of the text; --text - and --text-file read the same text; --job
# takes the job's tokenizer; LRP says it explains the logit; a call
# without a tokenizer is refused with a message.
# labels: attr
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/it_explain_text.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }
m="$TOKATTR_SHARED/models/imdb_cnn.h5"
text="Neither funny nor suspenseful . Zqxwvb!"
ex() { "$TOKATTR_BIN" explain "$m" --shared "$TOKATTR_SHARED" "$@"; }

ex --text "$text" --tokenizer tokattr-imdb --json > "$work/a.json" || fail "explain --text"
printf '%s' "$text" | ex --text - --tokenizer tokattr-imdb --json > "$work/b.json" || fail "--text -"
printf '%s' "$text" > "$work/t.txt"
ex --text-file "$work/t.txt" --tokenizer tokattr-imdb --json > "$work/c.json" || fail "--text-file"
ex --text "$text" --tokenizer tokattr-imdb --json --method lrp_epsilon > "$work/lrp.json" || fail "lrp"
cat > "$work/job.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: nowhere.h5
tokenizer: tokattr-imdb
methods:
  - {name: ig, method: integrated_gradients}
results: out/r.h5
YAML
ex --text "$text" --job "$work/job.yaml" --json > "$work/j.json" || fail "--job"
"$TOKATTR_BIN" tokenize --shared "$TOKATTR_SHARED" --tokenizer tokattr-imdb --num-words 10000 \
    --maxlen 100 --text "$text" > "$work/tok.json" || fail "tokattr tokenize"
ex --text "$text" --tokenizer tokattr-imdb > "$work/a.txt" || fail "text output"

python3 - "$work" <<'PY' || fail "explain --text output is wrong"
import json, math, sys
w = sys.argv[1]
a = json.load(open(f"{w}/a.json"))
toks = a["tokens"]
words = [t["word"] for t in toks]
assert words == ["<start>", "neither", "funny", "nor", "suspenseful", "zqxwvb"], words
assert all(math.isfinite(t["score"]) for t in toks)
oov = [t for t in toks if t["oov"]]
assert [t["word"] for t in oov] == ["zqxwvb"] and oov[0]["id"] == 2, oov
total = sum(t["score"] for t in toks) + a["padding_score"]
assert abs(total - (a["f_input"] - a["f_baseline"]) - a["delta"]) < 1e-4, (total, a)
assert abs(a["delta"]) < 0.01, a["delta"]
assert a["output"] == "prob" and a["method"] == "integrated_gradients"
for other in ("b", "c", "j"):
    o = json.load(open(f"{w}/{other}.json"))
    assert [(t["word"], t["id"], t["score"]) for t in o["tokens"]] == \
        [(t["word"], t["id"], t["score"]) for t in toks], other
lrp = json.load(open(f"{w}/lrp.json"))
assert lrp["output"] == "logit", lrp["output"]
ref = json.loads(open(f"{w}/tok.json").readline())
inp = [i for i in ref["input"] if i != 0]
assert inp == [t["id"] for t in toks], (inp, [t["id"] for t in toks])
txt = open(f"{w}/a.txt").read()
assert "zqxwvb" in txt and "(oov)" in txt and "suspenseful" in txt
print("explain --text ok:", words)
PY

# refused: no tokenizer; --text with a dataset; a job without 'tokenizer:'
if ex --text "$text" 2> "$work/err"; then fail "explained without a tokenizer"; fi
grep -q -- "--tokenizer" "$work/err" || fail "no hint at --tokenizer in: $(cat "$work/err")"
if ex "$work/t.txt" --text "$text" --tokenizer tokattr-imdb 2> "$work/err"; then fail "took a DATASET too"; fi
grep -q "MODEL only" "$work/err" || fail "no message for DATASET with --text"
grep -v '^tokenizer:' "$work/job.yaml" > "$work/job2.yaml"
if ex --text "$text" --job "$work/job2.yaml" 2> "$work/err"; then fail "a job without tokenizer"; fi
grep -q "job2.yaml" "$work/err" || fail "the job is not named in: $(cat "$work/err")"
if ex --text "" --tokenizer tokattr-imdb 2> "$work/err"; then fail "explained an empty text"; fi
grep -q "no words" "$work/err" || fail "no message for an empty text"
rm -rf "$work"
