# Sourced by integration tests: tiny_imdb DIR writes DIR/small.tar.gz, an
# aclImdb tarball of six reviews whose test split has 7 (neg), 12 (neg),
# 12 (pos) and 40 (pos): an IMDB number shared by two labels, as in the
# real corpus. `tokattr prepare --source DIR/small.tar.gz` reads it.
tiny_imdb() {
    local t=$1/aclImdb
    mkdir -p "$t/train/pos" "$t/train/neg" "$t/test/pos" "$t/test/neg"
    echo "A wonderful film, the best acting I have seen." > "$t/train/pos/1_9.txt"
    echo "Boring and predictable, I wanted my money back." > "$t/train/neg/1_2.txt"
    echo "Bad script, bad jokes, bad everything." > "$t/test/neg/7_2.txt"
    echo "Horrible, boring and far too long." > "$t/test/neg/12_1.txt"
    echo "Touching and wonderful, highly recommended." > "$t/test/pos/12_10.txt"
    echo "A gem: warm, witty and wise." > "$t/test/pos/40_8.txt"
    tar czf "$1/small.tar.gz" -C "$1" aclImdb
}

# tiny_imdb_job DIR METHODS [MORE]: what the job tests on the tiny corpus
# share. Sets BIN and SHARED (from TOKATTR_BIN, TOKATTR_SHARED), fail=0 and
# die MSG (prints "FAIL: MSG", sets fail=1); prepares the tarball into
# DIR/ds.h5 and writes DIR/job.yaml: the shared Keras IMDB CNN on it, with
# METHODS the lines of its `methods:` list ("  - {name: ..., method: ...}")
# and MORE further top-level lines; results r.h5. Non-zero when prepare fails.
tiny_imdb_job() {
    local dir=$1 methods=$2 more=${3:-}
    BIN=${TOKATTR_BIN:?}
    SHARED=${TOKATTR_SHARED:?}
    fail=0
    die() { echo "FAIL: $*"; fail=1; }
    tiny_imdb "$dir"
    "$BIN" prepare --quiet --source "$dir/small.tar.gz" --shared "$SHARED" --out "$dir/ds.h5" \
        > /dev/null || return 1
    {
        printf 'model: shared:models/keras_imdb_cnn.h5\ndataset: ds.h5\ntokenizer: keras-imdb\n'
        printf 'methods:\n%s\nresults: r.h5\n' "$methods"
        [ -z "$more" ] || printf '%s\n' "$more"
    } > "$dir/job.yaml"
}
