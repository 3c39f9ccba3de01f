#!/bin/bash
# tokattr run gives bitwise identical /attributions, /predictions, /tokens
# and /reviews for 1, 2, 3 and 4 ranks (oversubscribed), the file opens
# with h5dump, and a second run refuses to overwrite it.
# labels: mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_ranks.XXXXXX")

# The prepared dataset is shared by the run tests (made once per build dir;
# written under a temporary name so parallel tests never see half a file).
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
select: {ids: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12490, 12499, 12500, 12501, 12502, 24990, 24999]}
methods:
  - {name: saliency, method: saliency}
  - {name: grad_input, method: grad_input}
  - {name: ig10, method: integrated_gradients, n_steps: 10}
  - {name: occlusion, method: occlusion}
results: out/r.h5
chunk_size: 3
YAML

fail=0
for n in 1 2 3 4; do
    if ! mpirun -n $n "$TOKATTR_BIN" run "$work/job.yaml" --force --shared "$TOKATTR_SHARED" \
            --quiet > "$work/log$n" 2>&1; then
        echo "FAIL: $n ranks: run failed"; cat "$work/log$n"; exit 1
    fi
    grep -q "17 reviews" "$work/log$n" || { echo "FAIL: no summary on $n ranks"; cat "$work/log$n"; fail=1; }
    cp "$work/out/r.h5" "$work/r$n.h5"
    [ -e "$work/out/r.h5.partial" ] && { echo "FAIL: .partial left behind"; fail=1; }
done
for n in 2 3 4; do
    for g in attributions predictions tokens reviews classes; do
        if ! h5diff "$work/r1.h5" "$work/r$n.h5" "/$g" "/$g" > "$work/diff" 2>&1; then
            echo "FAIL: /$g differs between 1 and $n ranks"; head -20 "$work/diff"; fail=1
        fi
    done
done
h5dump -H "$work/r4.h5" > /dev/null || { echo "FAIL: h5dump cannot read the results"; fail=1; }
# the words are there (h5diff passes when both files lack a dataset)
for d in /tokens/word_offset /tokens/word_text /reviews/truncated /reviews/doc_id /classes/name; do
    h5dump -H -d "$d" "$work/r4.h5" > /dev/null 2>&1 || { echo "FAIL: $d is missing"; fail=1; }
done

# every review done, every score finite, the ranks attribute recorded
/usr/bin/python3 - "$work/r1.h5" "$work/r3.h5" <<'PY' || fail=1
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as f, h5py.File(sys.argv[2]) as g:
    assert f['/progress/done'][:].all(), 'not all done'
    assert f.attrs['ranks'] == 1 and g.attrs['ranks'] == 3
    off = f['/reviews/token_offset'][:]
    assert len(off) == 18 and off[0] == 0 and (np.diff(off) > 0).all()
    assert off[-1] == len(f['/tokens/id'])
    for m in f['/attributions']:
        assert np.isfinite(f['/attributions'][m]['score'][:]).all(), m
    assert list(f['/reviews/index'][:10]) == list(range(10))
    assert f['/attributions/ig10'].attrs['n_steps'] == 10
    # only the ranks and times may differ between runs
    for k in f.attrs:
        if k not in ('ranks', 'start_time', 'finish_time', 'run_nonce'):
            assert f.attrs[k] == g.attrs[k], k
PY

# no overwrite without --force; --resume of a complete file does nothing
if "$TOKATTR_BIN" run "$work/job.yaml" --shared "$TOKATTR_SHARED" --quiet > "$work/again" 2>&1; then
    echo "FAIL: overwrote an existing results file without --force"; fail=1
fi
grep -q "force" "$work/again" || { echo "FAIL: no hint at --force"; cat "$work/again"; fail=1; }
"$TOKATTR_BIN" run "$work/job.yaml" --resume --shared "$TOKATTR_SHARED" --quiet > "$work/res" 2>&1 \
    || { echo "FAIL: --resume of a complete file"; cat "$work/res"; fail=1; }
grep -q "already complete" "$work/res" || { echo "FAIL: resume of complete file"; cat "$work/res"; fail=1; }

[ $fail = 0 ] && rm -rf "$work"
exit $fail
