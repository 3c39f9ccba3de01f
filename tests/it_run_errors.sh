#!/bin/bash
# Bad jobs and bad inputs: one clear message naming the file (and line/key
# where there is one), a non-zero exit, and no results file.
# labels: mpi
set -uo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_BUILD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/it_run_errors.XXXXXX")
fail=0

data="$TOKATTR_BUILD/it_run_imdb.h5"
if [ ! -f "$data" ]; then
    "$TOKATTR_BIN" prepare --shared "$TOKATTR_SHARED" --quiet \
        --word-index "$TOKATTR_SHARED/models/imdb_word_index.json" --out "$work/imdb.h5" >/dev/null
    mv -n "$work/imdb.h5" "$data"
fi

# A tiny corpus with its own vocabulary: the CNN must refuse it.
for s in train test; do for l in pos neg; do
    mkdir -p "$work/aclImdb/$s/$l"
    echo "a tiny review about nothing" > "$work/aclImdb/$s/$l/1_$([ $l = pos ] && echo 8 || echo 2).txt"
    echo "another small text" > "$work/aclImdb/$s/$l/2_$([ $l = pos ] && echo 9 || echo 3).txt"
done; done
"$TOKATTR_BIN" prepare --source "$work/aclImdb" --tokenizer tokattr-imdb --out "$work/tiny.h5" --quiet >/dev/null 2>&1 \
    || { echo "FAIL: could not prepare the tiny corpus"; fail=1; }

head() {
    cat <<YAML
model: shared:models/imdb_cnn.h5
dataset: ${1:-$data}
tokenizer: tokattr-imdb
select: {first: 0, count: 4}
results: out/r.h5
YAML
}

# expect NAME EXIT-CODE NEEDLE... : runs job NAME.yaml, checks status and message
expect() {
    local name=$1 code=$2; shift 2
    mkdir -p "$work/out"
    "$TOKATTR_BIN" run "$work/$name.yaml" --shared "$TOKATTR_SHARED" --quiet > "$work/$name.log" 2>&1
    local rc=$?
    if [ $rc != "$code" ]; then echo "FAIL: $name: exit $rc, expected $code"; cat "$work/$name.log"; fail=1; fi
    for needle in "$@"; do
        grep -qF -- "$needle" "$work/$name.log" || { echo "FAIL: $name: no '$needle' in:"; cat "$work/$name.log"; fail=1; }
    done
    if ls "$work/out/" | grep -q .; then echo "FAIL: $name left a results file"; ls "$work/out"; fail=1; fi
    rm -rf "$work/out"
}

{ head; printf 'methods:\n  - {name: a, method: shapley_values}\n'; } > "$work/unknown_method.yaml"
expect unknown_method 1 "unknown_method.yaml" "unknown method 'shapley_values'"

{ head; printf 'methods:\n  - name: ig\n    method: integrated_gradients\n    n_stepz: 20\n'; } > "$work/unknown_param.yaml"
expect unknown_param 1 "unknown_param.yaml" "n_stepz" "line 9"

{ head; printf 'chunk_sise: 4\nmethods:\n  - {name: a, method: saliency}\n'; } > "$work/typo_key.yaml"
expect typo_key 1 "typo_key.yaml" "chunk_sise" "line 6"

{ head; printf 'input: {num_words: 20000}\nmethods:\n  - {name: a, method: saliency}\n'; } > "$work/embedding_small.yaml"
expect embedding_small 1 "imdb_cnn.h5" "Embedding has 10000 rows" "20000"

{ head | sed 's|results: out/r.h5|results: missing_dir/r.h5|'; printf 'methods:\n  - {name: a, method: saliency}\n'; } > "$work/missing_dir.yaml"
expect missing_dir 1 "missing_dir/r.h5" "does not exist"

{ head "$work/tiny.h5"; printf 'methods:\n  - {name: a, method: saliency}\n'; } > "$work/other_vocab.yaml"
expect other_vocab 1 "tiny.h5" "another vocabulary"

{ head; printf 'word_index: shared:models/imdb_word_index.json\nmethods:\n  - {name: a, method: saliency}\n'; } \
    | sed "s|dataset: .*|dataset: $work/tiny.h5|" > "$work/other_vocab2.yaml"
expect other_vocab2 1 "another vocabulary"

# the model's tokenizer: required when the model file does not record its
# vocabulary, and checked against the dataset's (both named)
{ head | grep -v '^tokenizer:'; printf 'methods:\n  - {name: a, method: saliency}\n'; } > "$work/no_tokenizer.yaml"
expect no_tokenizer 1 "imdb_cnn.h5" "does not record its vocabulary" "tokenizer: KIND"
{ head | sed 's|^tokenizer: .*|tokenizer: keras-imdb|'; printf 'methods:\n  - {name: a, method: saliency}\n'; } > "$work/keras_ids.yaml"
expect keras_ids 1 "keras-imdb" "tokattr-imdb" "027313fe9a32" "62e95995f633"
{ head | sed 's|^tokenizer: .*|tokenizer: sentencepiece:x.model|'; printf 'methods:\n  - {name: a, method: saliency}\n'; } > "$work/bad_kind.yaml"
expect bad_kind 1 "bad_kind.yaml" "key 'tokenizer'" "sentencepiece"

{ head | sed 's|imdb_cnn.h5|no_such_model.h5|'; printf 'methods:\n  - {name: a, method: saliency}\n'; } > "$work/missing_model.yaml"
expect missing_model 1 "no_such_model.h5"

# the same error on 3 ranks: printed once, every rank exits non-zero
mkdir -p "$work/out"
mpirun -n 3 "$TOKATTR_BIN" run "$work/embedding_small.yaml" --shared "$TOKATTR_SHARED" --quiet > "$work/mpi.log" 2>&1
rc=$?
[ $rc != 0 ] || { echo "FAIL: mpirun exited 0 on a bad job"; fail=1; }
n=$(grep -c "Embedding has 10000 rows" "$work/mpi.log")
[ "$n" = 1 ] || { echo "FAIL: the message appeared $n times under mpirun"; cat "$work/mpi.log"; fail=1; }
rm -rf "$work/out"

"$TOKATTR_BIN" run "$work/unknown_method.yaml" --bogus > /dev/null 2>&1
[ $? = 2 ] || { echo "FAIL: unknown option is not a usage error"; fail=1; }

[ $fail = 0 ] && rm -rf "$work"
exit $fail
