#!/usr/bin/env bash
# labels: cli
# `tokattr report --faithfulness MODEL` takes only the model the run
# explained: the model file's SHA-256 must be the results file's
# model_sha256. Another model, and a file that records none, are refused
# with one message before anything is written; the right model works.
set -uo pipefail
SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$SRC/tests/support/tiny_imdb.sh"
tiny_imdb_job "$work" "  - {name: gi, method: grad_input}" || die "prepare"
"$BIN" run "$work/job.yaml" --shared "$SHARED" --quiet > "$work/run.log" 2>&1 ||
    { cat "$work/run.log"; die "run"; }
want=$(sha256sum "$SHARED/models/keras_imdb_cnn.h5" | cut -c1-12)
other=$(sha256sum "$SHARED/models/imdb_cnn.h5" | cut -c1-12)

out=$("$BIN" report "$work/r.h5" --out "$work/bad" --quiet --faith-reviews 4 \
      --faithfulness "$SHARED/models/imdb_cnn.h5" 2>&1); rc=$?
[ "$rc" = 1 ] || die "another model: exit $rc, not 1"
grep -q "is not the model the run explained" <<<"$out" && grep -q "$other" <<<"$out" &&
    grep -q "$want" <<<"$out" || die "another model: message '$out'"
[ "$(grep -c . <<<"$out")" = 1 ] || die "more than one line: $out"
[ -e "$work/bad/index.html" ] && die "a refused report wrote index.html"

# a file that cannot say which model it explained
cp "$work/r.h5" "$work/anon.h5"
/usr/bin/python3 -c "import h5py,sys; f=h5py.File(sys.argv[1],'r+'); del f.attrs['model_sha256']" \
    "$work/anon.h5" || die "h5py"
out=$("$BIN" report "$work/anon.h5" --out "$work/anon" --quiet --faith-reviews 4 \
      --faithfulness "$SHARED/models/keras_imdb_cnn.h5" 2>&1) && die "no model_sha256 accepted"
grep -q "records no model_sha256" <<<"$out" || die "no model_sha256: message '$out'"

"$BIN" report "$work/r.h5" --out "$work/ok" --quiet --faith-reviews 4 --format json \
    --faithfulness "$SHARED/models/keras_imdb_cnn.h5" > "$work/ok.log" 2>&1 ||
    { cat "$work/ok.log"; die "the run's own model refused"; }
grep -q '"method": *"gi"' "$work/ok/faithfulness.json" || die "no faithfulness rows"
exit $fail
