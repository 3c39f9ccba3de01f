#!/usr/bin/env bash
# tokattr export of a small real run: the per-token CSV parses with
# python3's csv module, has one row per scored token (T = the length of
# /tokens/id) and the documented columns, its words are /tokens/word_text
# cut at /tokens/word_offset (read here from h5dump's binary output, not
# through tokattr), its scores are the file's; JSONL lines parse with json;
# --per-review has N rows; --words ranks words with at least --min-count
# occurrences; bad input is refused with a message and leaves no file.
# labels: mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_export.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }

data="$TOKATTR_BUILD/it_run_imdb.h5" # shared with the run tests (same recipe)
if [ ! -f "$data" ]; then
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet \
        --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" --out "$work/imdb.h5" >/dev/null
    mv -n "$work/imdb.h5" "$data"
fi
mkdir -p "$work/out"
cat > "$work/job.yaml" <<YAML
model: shared:models/imdb_cnn.h5
dataset: $data
word_index: shared:models/imdb_word_index.json
select: {first: 12490, count: 20}
methods:
  - {name: sal, method: saliency}
  - {name: ig8, method: integrated_gradients, n_steps: 8}
results: out/r.h5
chunk_size: 4
YAML
mpirun -n 2 "$TOKATTR_BIN" run "$work/job.yaml" --force --shared "$TOKATTR_SHARED" --quiet \
    >"$work/run.log" 2>&1 || { cat "$work/run.log"; fail "the run failed"; }
r="$work/out/r.h5"
for d in /tokens/word_offset /tokens/word_text /tokens/id /attributions/ig8/score; do
    h5dump -b LE -d "$d" -o "$work/$(basename "$d").bin" "$r" >/dev/null || fail "h5dump $d"
done

"$TOKATTR_BIN" export "$r" --out "$work/tokens.csv" || fail "export csv"
"$TOKATTR_BIN" export "$r" --format jsonl --out "$work/tokens.jsonl" || fail "export jsonl"
"$TOKATTR_BIN" export "$r" --per-review > "$work/reviews.csv" || fail "export --per-review"
"$TOKATTR_BIN" export "$r" --words --min-count 3 > "$work/words.csv" || fail "export --words"

python3 - "$work" <<'PY' || fail "the exported tables do not match the results file"
import csv, json, struct, sys
w = sys.argv[1]
def arr(name, fmt, size):
    b = open(f"{w}/{name}.bin", "rb").read()
    return list(struct.unpack(f"<{len(b) // size}{fmt}", b))
off, ids, ig = arr("word_offset", "q", 8), arr("id", "i", 4), arr("score", "f", 4)
text = open(f"{w}/word_text.bin", "rb").read()
T = len(ids)
words = [text[off[t]:off[t + 1]].decode("utf-8") for t in range(T)]
rows = list(csv.DictReader(open(f"{w}/tokens.csv", newline="", encoding="utf-8")))
assert len(rows) == T, (len(rows), T)
cols = ["review", "doc_id", "label", "position", "word", "token_id", "oov", "ig8", "sal"]
assert list(rows[0].keys()) == cols, list(rows[0].keys())
for t, row in enumerate(rows):
    assert row["word"] == words[t], (t, row["word"], words[t])
    assert int(row["token_id"]) == ids[t], t
    assert abs(float(row["ig8"]) - ig[t]) <= 1e-6 * max(1.0, abs(ig[t])), t
    assert row["oov"] == ("1" if ids[t] == 2 else "0"), t
oov = [r["word"] for r in rows if r["oov"] == "1"]
assert oov and not any(o.startswith("<") for o in oov), ("OOV words not shown as themselves", oov)
js = [json.loads(l) for l in open(f"{w}/tokens.jsonl", encoding="utf-8")]
assert len(js) == T and [j["word"] for j in js] == words
rev = list(csv.DictReader(open(f"{w}/reviews.csv", newline="")))
assert len(rev) == 20 and "prob_pos" in rev[0] and "ig8_axiom_error" in rev[0], rev[0].keys()
assert sum(int(r["n_tokens"]) for r in rev) == T
assert any(int(r["truncated"]) > 0 for r in rev), "no truncated review among 20"
# "pre" truncation cuts the start marker with the first words (pad_sequences)
assert words.count("<start>") == sum(int(r["truncated"]) == 0 for r in rev), words.count("<start>")
ranked = list(csv.DictReader(open(f"{w}/words.csv", newline="")))
assert ranked and all(int(r["count"]) >= 3 for r in ranked)
assert {r["class"] for r in ranked} == {"neg", "pos"} and {r["method"] for r in ranked} == {"ig8", "sal"}
for m in ("ig8", "sal"):  # binary model: the neg ranking is the pos one sign-flipped
    pos = {r["word"]: float(r["mean"]) for r in ranked if r["method"] == m and r["class"] == "pos"}
    neg = {r["word"]: float(r["mean"]) for r in ranked if r["method"] == m and r["class"] == "neg"}
    assert pos.keys() == neg.keys() and all(abs(pos[k] + neg[k]) < 1e-6 for k in pos)
    means = [float(r["mean"]) for r in ranked if r["method"] == m and r["class"] == "pos"]
    assert means == sorted(means, reverse=True)
print("export ok:", T, "tokens,", len(ranked), "ranked words")
PY

# bad input: a message, a non-zero status, no file left behind
if "$TOKATTR_BIN" export "$work/nonexistent.h5" --out "$work/x.csv" 2>"$work/err"; then
    fail "exported a missing file"
fi
grep -q "nonexistent.h5" "$work/err" || fail "no file name in: $(cat "$work/err")"
[ ! -e "$work/x.csv" ] && [ ! -e "$work/x.csv.tmp" ] || fail "a failed export left a file"
if "$TOKATTR_BIN" export "$r" --format xlsx 2>"$work/err"; then fail "accepted --format xlsx"; fi
grep -q "xlsx" "$work/err" || fail "no message for --format xlsx"
if "$TOKATTR_BIN" export "$r" --out /nonexistent-dir/t.csv 2>"$work/err"; then fail "wrote nowhere"; fi
grep -q "nonexistent-dir" "$work/err" || fail "no message for an unwritable --out"
rm -rf "$work"
