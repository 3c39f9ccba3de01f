#!/usr/bin/env bash
# labels: corpus
# A user's own text end to end (issue 15, "must show"): a 20-document CSV of
# support-ticket style reviews with string labels, the user's ids, quotes,
# doubled quotes and a newline inside a field -> prepare with the tokenizer
# the model was trained with (keras-imdb for keras_imdb_cnn.h5) -> run IG and
# DeepSHAP -> report and export. The report must show the user's words
# (an OOV word as itself), the class names and the ids; the scores must
# meet their axioms; the export must carry the same words.
set -uo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

cat > "$work/tickets.csv" <<'CSV'
ticket,split,sentiment,body
T-001,train,positive,"A wonderful film, the best acting I have seen this year."
T-002,train,negative,"Boring and predictable. I wanted my money back."
T-003,train,positive,"Great story, great cast; I loved every minute."
T-004,train,negative,"The worst movie ever made, awful dialogue."
T-005,train,positive,"Brilliant, moving and funny at once."
T-006,train,negative,"Terrible plot, wooden acting, a waste of time."
T-007,train,positive,"An excellent, beautiful picture."
T-008,train,negative,"Dull. Stupid. Unwatchable."
T-101,test,positive,"I ""really"" enjoyed it: superb performances
and a perfect ending."
T-102,test,negative,"Horrible, boring, and far too long."
T-103,test,positive,"One of the finest films of the decade, a masterpiece."
T-104,test,negative,"Bad script, bad jokes, bad everything."
T-105,test,positive,"Touching and wonderful; highly recommended."
T-106,test,negative,"A mess. The plot makes no sense and the acting is poor."
T-107,test,positive,"Funny, clever and great fun for the whole family."
T-108,test,negative,"Pointless, lazy and utterly forgettable."
T-109,test,positive,"The zorblax effects were amazing and the music was lovely."
T-110,test,negative,"I hated it. Awful, awful, awful."
T-111,test,positive,"A gem: warm, witty and wise."
T-112,test,negative,"Painfully slow and incredibly boring."
CSV

"$BIN" prepare --quiet --source "$work/tickets.csv" --text-column body --label-column sentiment \
    --id-column ticket --split-column split --classes negative,positive \
    --tokenizer keras-imdb --shared "$SHARED" --out "$work/tickets.h5" >/dev/null ||
    die "prepare of the CSV"

cat > "$work/job.yaml" <<YAML
model: shared:models/keras_imdb_cnn.h5
dataset: tickets.h5
tokenizer: keras-imdb
split: test
target: predicted
methods:
  - {name: ig, method: integrated_gradients, n_steps: 50}
  - {name: shap, method: deepshap, background_size: 8}
results: results.h5
YAML
"$BIN" run "$work/job.yaml" --shared "$SHARED" --quiet > "$work/run.log" 2>&1 ||
    { cat "$work/run.log"; die "run IG + DeepSHAP"; }

/usr/bin/python3 - "$work/results.h5" <<'PY' || die "results: words, ids, classes or axioms"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    ids = [s.decode() for s in f["/reviews/doc_id"][:]]
    assert ids == ["T-%03d" % i for i in range(101, 113)], ids
    classes = [s.decode() for s in f["/classes/name"][:]]
    assert classes == ["negative", "positive"], classes
    off = f["/tokens/word_offset"][:]
    text = f["/tokens/word_text"][:].tobytes()
    words = [text[off[i]:off[i + 1]].decode() for i in range(len(off) - 1)]
    for w in ("superb", "zorblax", "masterpiece", "really"):
        assert w in words, (w, words[:40])
    zid = f["/tokens/id"][words.index("zorblax")]
    assert zid == 2, zid  # not in Keras' index: the OOV id, shown as itself
    # Completeness: IG within 1% of |F(x) - F(x')| or 0.01, DeepSHAP exact.
    for name, tol in (("ig", None), ("shap", 1e-5)):
        g = f["/attributions/" + name]
        err = np.abs(g["axiom_error"][:])
        gap = np.abs(g["f_input"][:] - g["f_baseline"][:])
        bound = np.maximum(0.01 * gap, 0.01) if tol is None else tol
        assert np.all(err <= bound), (name, err, bound)
        assert np.all(np.isfinite(g["score"][:])), name
    # The model reads these reviews' sentiment: most of them right.
    pred = f["/predictions/predicted"][:]
    label = f["/reviews/label"][:]
    assert (pred == label).mean() >= 0.75, (pred, label)
print("ok   results: ids, classes, words (OOV as itself), completeness")
PY

"$BIN" report "$work/results.h5" --out "$work/report" --confident 6 --random 12 --quiet >/dev/null ||
    die "report"
page="$work/report/index.html"
for s in zorblax superb T-109 negative positive; do
    grep -q -- "$s" "$page" || die "the report does not show '$s'"
done

"$BIN" export "$work/results.h5" --format csv --out "$work/tokens.csv" >/dev/null || die "export"
/usr/bin/python3 - "$work/tokens.csv" <<'PY' || die "export: the per-token table"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
assert rows, "no rows"
assert {"ig", "shap"} <= set(rows[0]), rows[0].keys()
z = [r for r in rows if r["word"] == "zorblax"]
assert len(z) == 1 and z[0]["doc_id"] == "T-109", z
print("ok   export: %d token rows" % len(rows))
PY

[ $fail = 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
