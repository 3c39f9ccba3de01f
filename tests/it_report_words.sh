#!/usr/bin/env bash
# The report shows the words of a real run as the results file has them:
# an out-of-vocabulary word (num_words cut) as itself with the OOV class and
# the legend, the truncation mark "… N words before" with the count the
# file records, and the class names of /classes/name. The Methods table says
# what each method's scores are of (LRP: the logit, whatever the job's
# output) and lists only the method's own parameters; inspect says the same.
# labels: mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_report_words.XXXXXX")
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
select: {ids: [12490]}
output: prob
methods:
  - {name: sal, method: saliency}
  - {name: lrp, method: lrp_epsilon, eps: 0.01}
results: out/r.h5
YAML
"$TOKATTR_BIN" run "$work/job.yaml" --shared "$TOKATTR_SHARED" --quiet >"$work/run.log" 2>&1 \
    || { cat "$work/run.log"; fail "the run failed"; }
"$TOKATTR_BIN" export "$work/out/r.h5" > "$work/t.csv"
"$TOKATTR_BIN" inspect "$work/out/r.h5" > "$work/inspect.txt" || fail "inspect failed"
grep -q "method lrp: scores of the logit" "$work/inspect.txt" || fail "inspect: LRP not said to explain the logit"
grep -q "method sal: scores of the probability" "$work/inspect.txt" || fail "inspect: saliency's output"
grep "method sal:" "$work/inspect.txt" | grep -q "eps=" && fail "inspect lists LRP's eps for saliency"
"$TOKATTR_BIN" export "$work/out/r.h5" --per-review > "$work/r.csv"
"$TOKATTR_BIN" report "$work/out/r.h5" --out "$work/report" --review 0 >/dev/null \
    || fail "report failed"
python3 - "$work" <<'PY' || fail "the report does not show the words as the file has them"
import csv, html, re, sys
w = sys.argv[1]
page = open(f"{w}/report/index.html", encoding="utf-8").read()
toks = list(csv.DictReader(open(f"{w}/t.csv", newline="", encoding="utf-8")))
rev = next(csv.DictReader(open(f"{w}/r.csv", newline="")))
cut = int(rev["truncated"])
assert cut > 0, "review 12490 should be truncated"
assert f"\u2026 {cut} words before" in page, f"no truncation mark for {cut} words"
oov = [t["word"] for t in toks if t["oov"] == "1"]
# OOV for the model: words past num_words and words outside the vocabulary;
# the dataset stores every word's text, so none reads "<oov>"
assert oov and not any(o.startswith("<") for o in oov), oov
shown = set(html.unescape(m) for m in re.findall(r'class="oov">([^<]*)</span>', page))
assert shown, "no word styled as OOV"
assert set(oov) <= shown, set(oov) - shown
assert "out of the model's vocabulary" in page, "no OOV legend"
assert "label: <b>neg</b>" in page, "class name of /classes/name not used"
methods = {m: (of, params) for m, of, params in
           re.findall(r"<tr><td>(sal|lrp)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)}
assert set(methods) == {"sal", "lrp"}, methods
assert "logit" in methods["lrp"][0] and "probability" in methods["sal"][0], methods
assert "eps = 0.01" in methods["lrp"][1] and "eps" not in methods["sal"][1], methods
assert "n_steps" not in methods["sal"][1] and "n_steps" not in methods["lrp"][1], methods
print("report words ok:", len(oov), "OOV words, cut", cut)
PY
rm -rf "$work"
