#!/bin/bash
# The `faithfulness:` job step in tokattr run: /faithfulness/<method>/...
# bitwise identical on 1 and 2 ranks and after a kill + --resume; the curves
# start at F(x) (= /attributions/<m>/f_input); AOPC of grad_input beats its
# random-order baseline on average on the CNN; `tokattr report` shows the
# section; a bad key is refused with file and line.
# labels: mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_faith.XXXXXX")
trap 'rm -rf "$work"' EXIT

# the prepared dataset shared by the run tests (see it_run_ranks.sh)
data="$TOKATTR_BUILD/it_run_imdb.h5"
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
select: {ids: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12490, 12495, 12499, 12500, 12501, 12502, 12503, 24990, 24999]}
methods:
  - {name: grad_input, method: grad_input}
  - {name: ig8, method: integrated_gradients, n_steps: 8, output: logit}
faithfulness: {k: 10, replace: pad, seed: 3}
results: out/r.h5
chunk_size: 3
YAML

fail=0
for n in 1 2 3; do
    if ! mpirun -n $n "$TOKATTR_BIN" run "$work/job.yaml" --force --shared "$TOKATTR_SHARED" \
            --quiet > "$work/log$n" 2>&1; then
        echo "FAIL: $n ranks: run failed"; cat "$work/log$n"; exit 1
    fi
    cp "$work/out/r.h5" "$work/r$n.h5"
done
grep -q "grad_input *faithfulness: mean AOPC" "$work/log1" \
    || { echo "FAIL: no faithfulness line in the run summary"; cat "$work/log1"; fail=1; }
# 3 ranks: rank 0 only coordinates and receives every curve from the others
for n in 2 3; do
    for g in faithfulness attributions; do
        h5diff "$work/r1.h5" "$work/r$n.h5" "/$g" "/$g" > "$work/diff" 2>&1 \
            || { echo "FAIL: /$g differs between 1 and $n ranks"; head -20 "$work/diff"; fail=1; }
    done
done

/usr/bin/python3 - "$work/r1.h5" <<'PY' || fail=1
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as f:
    fa = f['/faithfulness']
    assert fa.attrs['k'] == 10 and fa.attrs['seed'] == 3, dict(fa.attrs)
    n = len(f['/reviews/id'])
    for m in ('grad_input', 'ig8'):
        g = fa[m]
        c, r = g['curve'][:], g['random_curve'][:]
        assert c.shape == (n, 11) and r.shape == (n, 11), (m, c.shape)
        assert np.isfinite(c).all() and np.isfinite(r).all(), m
        # point 0 is F(x) with nothing removed, both orders, = the method's f_input
        fin = f['/attributions'][m]['f_input'][:]
        assert np.allclose(c[:, 0], fin, atol=1e-5), (m, c[:, 0], fin)
        assert np.array_equal(c[:, 0], r[:, 0]), m
        # AOPC is the mean drop along the stored curve (Samek et al.)
        aopc = g['aopc'][:]
        assert np.allclose(aopc, (c[:, :1] - c).mean(axis=1), atol=1e-5), m
        for k in ('comprehensiveness', 'sufficiency'):
            assert g[k].shape == (n,) and np.isfinite(g[k][:]).all(), (m, k)
    # the explained ranking removes evidence faster than a random order
    c, r = fa['grad_input/curve'][:], fa['grad_input/random_curve'][:]
    ours, rnd = (c[:, :1] - c).mean(), (r[:, :1] - r).mean()
    print('grad_input AOPC %.4f, random %.4f' % (ours, rnd))
    assert ours > rnd, (ours, rnd)
    assert fa['grad_input/comprehensiveness'][:].mean() > 0
PY

# killed after a few units, resumed: bitwise the uninterrupted file
cp "$work/job.yaml" "$work/slow.yaml"
# (one review per unit, K = 150: slow enough to be caught half-way)
sed -i -e 's/^chunk_size: 3/chunk_size: 1\ncheckpoint_seconds: 0/' \
    -e "s/^faithfulness: .*/faithfulness: {k: 150, replace: remove}/" "$work/slow.yaml"
mpirun -n 1 "$TOKATTR_BIN" run "$work/slow.yaml" --force --shared "$TOKATTR_SHARED" --quiet \
    > "$work/full.log" 2>&1 || { echo "FAIL: slow job"; cat "$work/full.log"; exit 1; }
cp "$work/out/r.h5" "$work/full.h5"
rm -f "$work/out/r.h5"
"$TOKATTR_BIN" run "$work/slow.yaml" --shared "$TOKATTR_SHARED" --quiet > "$work/k.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    sleep 0.1
    /usr/bin/python3 -c "import h5py,sys; f=h5py.File(sys.argv[1],'r',locking=False); sys.exit(0 if f['/progress/done'][:].sum()>=3 else 1)" \
        "$work/out/r.h5.partial" 2>/dev/null && break
done
kill -KILL $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
[ -e "$work/out/r.h5.partial" ] || { echo "FAIL: the run ended before the kill"; fail=1; }
"$TOKATTR_BIN" run "$work/slow.yaml" --resume --shared "$TOKATTR_SHARED" --quiet \
    > "$work/res.log" 2>&1 || { echo "FAIL: resume"; cat "$work/res.log"; fail=1; }
h5diff "$work/full.h5" "$work/out/r.h5" /faithfulness /faithfulness > "$work/diff" 2>&1 \
    || { echo "FAIL: /faithfulness differs after kill + resume"; head -20 "$work/diff"; fail=1; }

# the report shows the section
"$TOKATTR_BIN" report "$work/r1.h5" --out "$work/rep" > "$work/rep.log" 2>&1 \
    || { echo "FAIL: report"; cat "$work/rep.log"; fail=1; }
grep -qi "faithfulness" "$work/rep/index.html" || { echo "FAIL: no faithfulness section"; fail=1; }
grep -qi "AOPC" "$work/rep/index.html" || { echo "FAIL: no AOPC in the report"; fail=1; }

# the same figures as `tokattr report --faithfulness MODEL` recomputes from
# the stored tokens of a copy without /faithfulness (its random order uses
# another seed, so only the method's own order is compared)
cp "$work/r1.h5" "$work/bare.h5"
/usr/bin/python3 -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); del f['/faithfulness']" "$work/bare.h5"
"$TOKATTR_BIN" report "$work/bare.h5" --faithfulness "$TOKATTR_SHARED/models/imdb_cnn.h5" \
    --format csv --out "$work/csv_bare" > "$work/csv.log" 2>&1 || { echo "FAIL: report --faithfulness"; cat "$work/csv.log"; fail=1; }
"$TOKATTR_BIN" report "$work/r1.h5" --format csv --out "$work/csv_run" >> "$work/csv.log" 2>&1 \
    || { echo "FAIL: report --format csv"; cat "$work/csv.log"; fail=1; }
/usr/bin/python3 - "$work/csv_run/faithfulness.csv" "$work/csv_bare/faithfulness.csv" <<'PY' || fail=1
import csv, sys
run, bare = ({r['method']: r for r in csv.DictReader(open(p))} for p in sys.argv[1:])
assert sorted(run) == sorted(bare) == ['grad_input', 'ig8'], (run.keys(), bare.keys())
for m in run:
    for k in ('reviews', 'aopc', 'comprehensiveness', 'sufficiency'):
        assert abs(float(run[m][k]) - float(bare[m][k])) <= 1e-6, (m, k, run[m][k], bare[m][k])
PY

# bad keys: file + line
sed 's/^faithfulness: .*/faithfulness: {k: 10, depth: 2}/' "$work/job.yaml" > "$work/bad.yaml"
if "$TOKATTR_BIN" run "$work/bad.yaml" --force --shared "$TOKATTR_SHARED" --quiet > "$work/bad.log" 2>&1; then
    echo "FAIL: unknown faithfulness key accepted"; fail=1
fi
grep -q "bad.yaml" "$work/bad.log" && grep -q "depth" "$work/bad.log" && grep -q "line" "$work/bad.log" \
    || { echo "FAIL: message without file/key/line"; cat "$work/bad.log"; fail=1; }
sed 's/^faithfulness: .*/faithfulness: {replace: drop}/' "$work/job.yaml" > "$work/bad2.yaml"
if "$TOKATTR_BIN" run "$work/bad2.yaml" --force --shared "$TOKATTR_SHARED" --quiet > "$work/bad2.log" 2>&1; then
    echo "FAIL: replace: drop accepted"; fail=1
fi
grep -q "replace" "$work/bad2.log" || { echo "FAIL: bad replace message"; cat "$work/bad2.log"; fail=1; }
# an embedding-less model has no ids to delete: refused before any output
sed -e 's#^model: .*#model: shared:models/keras_bilstm_sst5.h5\nids_as_feature: true#' \
    -e 's#^results: .*#results: out/bilstm.h5#' -e '/^  - {name: ig8/d' \
    "$work/job.yaml" > "$work/bilstm.yaml"
if "$TOKATTR_BIN" run "$work/bilstm.yaml" --force --shared "$TOKATTR_SHARED" --quiet > "$work/bl.log" 2>&1; then
    echo "FAIL: faithfulness on an embedding-less model accepted"; fail=1
fi
grep -q "faithfulness step" "$work/bl.log" || { echo "FAIL: no reason given"; cat "$work/bl.log"; fail=1; }
ls "$work/out" | grep -q bilstm && { echo "FAIL: output left by a refused job"; fail=1; }
exit $fail
