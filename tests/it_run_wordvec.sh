#!/bin/bash
# tokattr run on the embedding-less BiLSTM (keras_bilstm_sst5.h5, 60-d
# inputs) with word vectors from a table: a word2vec text file of a few
# hundred vocabulary words with seeded random vectors (a stand-in for the
# table the model was trained with). epsilon-LRP with eps 0 and
# bias_factor 1 conserves the explained output, so every review's
# axiom_error must be ~0; 1 and 2 ranks must give bitwise equal results;
# the HDF5 form of the same table gives the same results; missing or
# mismatched tables are refused with a message.
# labels: mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_wordvec.XXXXXX")

data="$TOKATTR_BUILD/it_run_imdb.h5"
if [ ! -f "$data" ]; then
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet \
        --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" --out "$work/imdb.h5" >/dev/null
    mv -n "$work/imdb.h5" "$data"
fi

# The 400 most frequent words plus two absent from the vocabulary; seeded.
/usr/bin/python3 - "$TOKATTR_SHARED/models/imdb_word_index.json" "$work" <<'PY'
import json, sys, numpy as np, h5py
idx = json.load(open(sys.argv[1]))
words = [w for w, r in sorted(idx.items(), key=lambda t: t[1]) if r <= 400] + ["zzznotaword", "qqqnotaword"]
rng = np.random.default_rng(20261123)
vec = rng.normal(0, 0.5, size=(len(words), 60)).astype(np.float32)
with open(sys.argv[2] + "/vectors.txt", "w", encoding="utf-8") as f:
    f.write(f"{len(words)} 60\n")
    for w, v in zip(words, vec):
        f.write(w + " " + " ".join(repr(float(x)) for x in v) + "\n")
with h5py.File(sys.argv[2] + "/vectors.h5", "w") as f:
    f["vectors"] = vec
    f.create_dataset("words", data=words, dtype=h5py.string_dtype("utf-8"))
with open(sys.argv[2] + "/short.txt", "w") as f:
    f.write("1 3\nthe 1 2 3\n")
PY

mkdir -p "$work/out"
job() { # $1 = file, $2 = the input line
    cat > "$work/$1" <<YAML
model: shared:models/keras_bilstm_sst5.h5
dataset: $data
split: test
select: {ids: [0, 1, 2, 3, 12500, 12501, 24999]}
input: {maxlen: 40}
$2
target: predicted
methods:
  - {name: lrp, method: lrp_epsilon, eps: 0.0, bias_factor: 1.0}
  - {name: shap, method: deepshap, background_size: 4}
results: out/r.h5
chunk_size: 2
YAML
}
job job.yaml "word_vectors: vectors.txt"
job job_h5.yaml "word_vectors: vectors.h5"

fail=0
for n in 1 2; do
    if ! mpirun -n $n "$TOKATTR_BIN" run "$work/job.yaml" --force --shared "$TOKATTR_SHARED" \
            --quiet > "$work/log$n" 2>&1; then
        echo "FAIL: $n ranks: run failed"; cat "$work/log$n"; exit 1
    fi
    cp "$work/out/r.h5" "$work/r$n.h5"
done
"$TOKATTR_BIN" run "$work/job_h5.yaml" --force --shared "$TOKATTR_SHARED" --quiet > "$work/logh" 2>&1 ||
    { echo "FAIL: the HDF5 table run failed"; cat "$work/logh"; exit 1; }
cp "$work/out/r.h5" "$work/rh.h5"
for f in r2 rh; do
    for g in attributions predictions tokens reviews; do
        if ! h5diff "$work/r1.h5" "$work/$f.h5" "/$g" "/$g" > "$work/diff" 2>&1; then
            echo "FAIL: /$g differs between r1 and $f"; head -20 "$work/diff"; fail=1
        fi
    done
done

/usr/bin/python3 - "$work/r1.h5" <<'PY' || fail=1
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as f:
    assert f['/progress/done'][:].all(), 'not all done'
    lrp = f['/attributions/lrp']
    err, fin = lrp['axiom_error'][:], lrp['f_input'][:]
    print('lrp max |axiom_error|', np.abs(err).max(), 'max |f|', np.abs(fin).max())
    # conservation: sum of relevances = the explained logit (float32 passes)
    assert (np.abs(err) <= 1e-4 * np.maximum(1, np.abs(fin))).all(), err
    # the vectors reached the model: outputs differ between reviews
    assert np.ptp(fin) > 1e-3, fin
    for m in f['/attributions']:
        assert np.isfinite(f['/attributions'][m]['score'][:]).all(), m
PY

# ids as a 1-d feature: the same BiLSTM cut down to 1 input channel (the
# first row of each kernel), so the id itself is the input. Conservation and
# rank independence hold for this input too.
/usr/bin/python3 - "$TOKATTR_SHARED/models/keras_bilstm_sst5.h5" "$work/bilstm_1d.h5" <<'PY'
import sys, shutil, h5py
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    cfg = f.attrs["model_config"]
    cfg = cfg if isinstance(cfg, str) else cfg.decode()
    assert '"batch_input_shape": [null, null, 60]' in cfg
    f.attrs["model_config"] = cfg.replace('"batch_input_shape": [null, null, 60]',
                                          '"batch_input_shape": [null, null, 1]')
    g = f["model_weights/bidirectional_3/bidirectional_3"]
    for d in ("forward_lstm_3", "backward_lstm_3"):
        k = g[d]["kernel:0"][:1] * 1e-4   # ids reach ~1e4: keep the gates unsaturated
        del g[d]["kernel:0"]
        g[d]["kernel:0"] = k
PY
sed -e "s|shared:models/keras_bilstm_sst5.h5|bilstm_1d.h5|" -e "s|^word_vectors: .*|ids_as_feature: true|" \
    "$work/job.yaml" > "$work/job_ids.yaml"
for n in 1 2; do
    if ! mpirun -n $n "$TOKATTR_BIN" run "$work/job_ids.yaml" --force --shared "$TOKATTR_SHARED" \
            --quiet > "$work/logi$n" 2>&1; then
        echo "FAIL: ids_as_feature, $n ranks: run failed"; cat "$work/logi$n"; exit 1
    fi
    cp "$work/out/r.h5" "$work/ri$n.h5"
done
for g in attributions predictions; do
    h5diff "$work/ri1.h5" "$work/ri2.h5" "/$g" "/$g" > /dev/null 2>&1 ||
        { echo "FAIL: ids_as_feature: /$g differs between 1 and 2 ranks"; fail=1; }
done
/usr/bin/python3 - "$work/ri1.h5" <<'PY' || fail=1
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as f:
    err, fin = f['/attributions/lrp/axiom_error'][:], f['/attributions/lrp/f_input'][:]
    print('ids_as_feature: lrp max |axiom_error|', np.abs(err).max(), 'max |f|', np.abs(fin).max())
    assert (np.abs(err) <= 1e-4 * np.maximum(1, np.abs(fin))).all(), err
    assert np.ptp(fin) > 1e-4, fin
PY

# refused: no table for an embedding-less model, wrong dimension, both keys,
# ids as a 1-d feature for a model reading 60-d vectors
job nokey.yaml ""
job short.yaml "word_vectors: short.txt"
job both.yaml "word_vectors: vectors.txt
ids_as_feature: true"
job ids.yaml "ids_as_feature: true"
for c in "nokey:word_vectors: PATH" "short:60-d vectors but" "both:exclude each other" \
         "ids:60-d vectors but ids_as_feature gives 1-d"; do
    name=${c%%:*} want=${c#*:}
    if "$TOKATTR_BIN" run "$work/$name.yaml" --force --shared "$TOKATTR_SHARED" --quiet \
            > "$work/log_$name" 2>&1; then
        echo "FAIL: $name: accepted"; fail=1
    elif ! grep -qF "$want" "$work/log_$name"; then
        echo "FAIL: $name: message lacks '$want'"; cat "$work/log_$name"; fail=1
    fi
done
[ $fail -eq 0 ] && rm -rf "$work"
exit $fail
