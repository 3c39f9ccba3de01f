#!/bin/bash
# Integrated Gradients with rule adaptive through `tokattr explain` and
# `tokattr run`: the JSON shows the evaluations and the error estimate, the
# results file stores them per review (steps for every IG method, the
# estimate for the adaptive one), 1 and 2 ranks and a SIGTERM + --resume
# give the same bits, reviews
# over the tolerance are counted in the summary (a budget too small for the
# CNN's kinks), and bad tolerances are refused with the key named.
# labels: mpi attr
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_adaptive.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

data="$TOKATTR_BUILD/it_run_imdb.h5"
if [ ! -f "$data" ]; then
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet \
        --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" --out "$work/imdb.h5" >/dev/null
    mv -n "$work/imdb.h5" "$data"
fi
lstm="$TOKATTR_SHARED/models/imdb_lstm.h5"
cnn="$TOKATTR_SHARED/models/imdb_cnn.h5"

# explain: help lists the keys; JSON has steps and the estimate
help=$("$TOKATTR_BIN" explain --help)
grep -q -- "--tolerance" <<<"$help" || fail "explain --help lacks --tolerance"
grep -q -- "--max-steps" <<<"$help" || fail "explain --help lacks --max-steps"
"$TOKATTR_BIN" explain "$lstm" "$data" --reviews 0-3 --rule adaptive --tolerance 1e-4 --json \
    >"$work/e.json" || fail "explain --rule adaptive"
/usr/bin/python3 - "$work/e.json" <<'PY' || fail "explain JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["rule"] == "adaptive" and d["tolerance"] == 1e-4 and d["max_steps"] == 2000, d
for r in d["reviews"]:
    assert r["steps"] >= 15 and r["steps"] <= 2000 and (r["steps"] - 15) % 30 == 0, r["steps"]
    assert r["within_tolerance"] == (r["error_estimate"] <= 1e-4), r
    df = abs(r["f_input"] - r["f_baseline"])
    # the smooth LSTM integrand meets 1e-4; completeness follows (it is the
    # sum over tokens of what the estimate bounds per token)
    assert r["within_tolerance"], r["error_estimate"]
    assert abs(r["delta"]) <= 1e-4 * max(df, 1e-3) * 80, (r["delta"], df)
PY
out=$("$TOKATTR_BIN" explain "$lstm" "$data" --reviews 0 --rule adaptive)
grep -q "evaluations, error estimate" <<<"$out" || fail "explain text lacks the estimate"
out=$("$TOKATTR_BIN" explain "$lstm" "$data" --reviews 0 --steps 16 --json)
grep -q '"steps":[[:space:]]*16' <<<"$out" || fail "a fixed rule's steps are not n_steps"
grep -q '"error_estimate"' <<<"$out" && fail "a fixed rule claims an error estimate"
# bad values: one message naming the key
for bad in "--tolerance 0" "--tolerance 2" "--max-steps 10"; do
    if "$TOKATTR_BIN" explain "$lstm" "$data" --reviews 0 --rule adaptive $bad >"$work/o" 2>"$work/e"; then
        fail "explain accepted $bad"
    fi
    key=${bad%% *}; key=${key#--}; key=${key//-/_}
    grep -q "$key" "$work/e" || { cat "$work/e"; fail "$bad: message does not name $key"; }
done

# run: LSTM adaptive + IG-16, CNN adaptive with a budget too small for its kinks
mkdir -p "$work/out"
cat > "$work/job.yaml" <<YAML
model: shared:models/imdb_lstm.h5
dataset: $data
word_index: shared:models/imdb_word_index.json
select: {ids: [0, 1, 2, 3, 4, 5, 12500, 12501, 24999]}
methods:
  - {name: iga, method: integrated_gradients, rule: adaptive, tolerance: 1.0e-4}
  - {name: ig16, method: integrated_gradients, n_steps: 16}
results: out/r.h5
chunk_size: 2
YAML
# the CNN: its kinks along the path found exactly (steps = affine pieces,
# which max_steps does not bound); the LSTM with a budget of one interval
sed -e 's/imdb_lstm/imdb_cnn/' -e 's/tolerance: 1.0e-4}/tolerance: 1.0e-6, max_steps: 66}/' \
    -e 's|out/r.h5|out/c.h5|' "$work/job.yaml" > "$work/cnn.yaml"
sed -e 's/tolerance: 1.0e-4}/tolerance: 1.0e-7, max_steps: 22}/' -e 's|out/r.h5|out/b.h5|' \
    "$work/job.yaml" > "$work/budget.yaml"
for n in 1 2; do
    mpirun -n $n "$TOKATTR_BIN" run "$work/job.yaml" --force --shared "$TOKATTR_SHARED" --quiet \
        >"$work/log$n" 2>&1 || { cat "$work/log$n"; fail "run on $n ranks"; }
    cp "$work/out/r.h5" "$work/r$n.h5"
done
grep -q "iga .*adaptive: 9 of 9 reviews within tolerance 0.0001" "$work/log1" \
    || { cat "$work/log1"; fail "summary lacks the adaptive line"; }
h5diff "$work/r1.h5" "$work/r2.h5" /attributions /attributions >/dev/null \
    || fail "/attributions differ between 1 and 2 ranks"
# SIGTERM to the ranks mid-run, then --resume: the same bits as without
sed -e 's/ids: \[0, 1, 2, 3, 4, 5, 12500, 12501, 24999\]/first: 100, count: 60/' \
    -e 's|out/r.h5|out/s.h5|' -e 's/chunk_size: 2/chunk_size: 2\ncheckpoint_seconds: 0/' \
    "$work/job.yaml" > "$work/stop.yaml"
mpirun -n 2 "$TOKATTR_BIN" run "$work/stop.yaml" --shared "$TOKATTR_SHARED" --quiet \
    >"$work/logs0" 2>&1 || { cat "$work/logs0"; fail "uninterrupted run"; }
mv "$work/out/s.h5" "$work/s0.h5"
mpirun -n 2 "$TOKATTR_BIN" run "$work/stop.yaml" --shared "$TOKATTR_SHARED" --quiet \
    >"$work/logs1" 2>&1 &
mp=$!
for _ in $(seq 200); do [ -f "$work/out/s.h5.partial" ] && break; sleep 0.1; done
sleep 1
kill -TERM $(pgrep -P $mp) 2>/dev/null || true
rc=0
wait $mp || rc=$?
echo "stopped with status $rc"
if [ "$rc" = 3 ]; then
    mpirun -n 2 "$TOKATTR_BIN" run "$work/stop.yaml" --resume --shared "$TOKATTR_SHARED" --quiet \
        >"$work/logs2" 2>&1 || { cat "$work/logs2"; fail "resume"; }
    grep -q "done before" "$work/logs2" || { cat "$work/logs2"; fail "resume summary"; }
else
    [ "$rc" = 0 ] || { cat "$work/logs1"; fail "stopped run gave status $rc"; }
fi
h5diff "$work/s0.h5" "$work/out/s.h5" /attributions /attributions >/dev/null \
    || fail "/attributions differ after stop + resume"

mpirun -n 2 "$TOKATTR_BIN" run "$work/cnn.yaml" --force --shared "$TOKATTR_SHARED" --quiet \
    >"$work/logc" 2>&1 || { cat "$work/logc"; fail "CNN run"; }
grep -q "iga .*adaptive: 9 of 9 reviews within tolerance 1e-06" "$work/logc" ||
    { cat "$work/logc"; fail "the CNN's kinks path missed the tolerance"; }
mpirun -n 2 "$TOKATTR_BIN" run "$work/budget.yaml" --force --shared "$TOKATTR_SHARED" --quiet \
    >"$work/logb" 2>&1 || { cat "$work/logb"; fail "budget run"; }
grep -q "did not meet tolerance" "$work/logb" || { cat "$work/logb"; fail "budget stops not reported"; }

/usr/bin/python3 - "$work/r1.h5" "$work/out/c.h5" "$work/logb" "$work/out/b.h5" <<'PY' || fail "results file"
import sys, re, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
a, b = f["/attributions/iga"], f["/attributions/ig16"]
assert a.attrs["rule"] == b"adaptive" or a.attrs["rule"] == "adaptive", a.attrs["rule"]
assert float(a.attrs["tolerance"]) == 1e-4 and int(a.attrs["max_steps"]) == 2000
st, est = a["steps"][...], a["error_estimate"][...]
assert st.dtype == np.int32 and est.dtype == np.float64 and len(st) == 9
assert ((st - 15) % 30 == 0).all() and (st >= 15).all() and (est <= 1e-4).all(), (st, est)
assert (b["steps"][...] == 16).all() and "error_estimate" not in b
# the adaptive scores agree with IG-16 GL on this smooth model to its error
off = f["/reviews/token_offset"][...]
sa, sb = a["score"][...], b["score"][...]
assert np.abs(sa - sb).max() < 1e-3, np.abs(sa - sb).max()
# the CNN's kinks: within 1e-6, completeness to float rounding, and the
# scores IG-16 gives up to its (kink-sized) error
c = h5py.File(sys.argv[2], "r")["/attributions"]
cs, ce = c["iga"]["steps"][...], c["iga"]["error_estimate"][...]
assert (cs >= 1).all() and (ce <= 1e-6).all(), (cs, ce)
df = np.abs(c["iga"]["f_input"][...] - c["iga"]["f_baseline"][...])
delta = np.abs(c["iga"]["axiom_error"][...]) / np.maximum(df, 1e-3)
d16 = np.abs(c["ig16"]["axiom_error"][...]) / np.maximum(df, 1e-3)
assert delta.max() < 1e-5 and delta.max() < d16.max(), (delta, d16)
# the budget stop: one interval of 15, counted and reported
b = h5py.File(sys.argv[4], "r")["/attributions/iga"]
bs, be = b["steps"][...], b["error_estimate"][...]
assert (bs == 15).all(), bs
over = int((be > 1e-7).sum())
log = open(sys.argv[3]).read()
m = re.search(r"(\d+) of 9 reviews did not meet tolerance", log)
assert m and int(m.group(1)) == over and over > 0, (over, log)
PY
echo "ok"
