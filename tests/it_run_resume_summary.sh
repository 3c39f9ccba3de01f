#!/usr/bin/env bash
# labels: cli
# After --resume the summary covers every review in the results file, not
# only those computed now, and says how many were computed now: a file
# with 2 of 4 reviews done (one of them carrying a NaN axiom error planted
# in the earlier part) is resumed; the counts, the |mean| / |max| axiom
# errors (recomputed here with h5py from the file) and the non-finite
# count must be those of all 4 reviews.
set -uo pipefail
SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$SRC/tests/support/tiny_imdb.sh"
tiny_imdb_job "$work" "  - {name: ig, method: integrated_gradients, n_steps: 8, rule: riemann_left}
  - {name: gi, method: grad_input}" \
    "chunk_size: 1" || die "prepare"
"$BIN" run "$work/job.yaml" --shared "$SHARED" --quiet > "$work/run1.log" 2>&1 ||
    { cat "$work/run1.log"; die "run"; }
# The earlier run's part: reviews 0 and 3 done, review 0's ig error NaN.
mv "$work/r.h5" "$work/r.h5.partial"
/usr/bin/python3 - "$work/r.h5.partial" <<'PY' || die "h5py"
import h5py, sys
f = h5py.File(sys.argv[1], "r+")
f["/progress/done"][:] = [1, 0, 0, 1]
e = f["/attributions/ig/axiom_error"]
e[0] = float("nan")
PY
"$BIN" run "$work/job.yaml" --shared "$SHARED" --resume > "$work/run2.log" 2>"$work/err2.log" ||
    { cat "$work/run2.log" "$work/err2.log"; die "resume"; }
cat "$work/run2.log"
grep -q "4 reviews (2 computed now, 2 done before)" "$work/run2.log" || die "no computed-now count"
grep -q "summary of all 4 reviews in the file (2 computed now, 2 in earlier runs)" \
    "$work/run2.log" || die "no whole-file summary line"
/usr/bin/python3 - "$work/r.h5" "$work/run2.log" <<'PY' || die "the summary is not the file's"
import h5py, math, re, sys
f = h5py.File(sys.argv[1], "r")
log = open(sys.argv[2]).read()
assert list(f["/progress/done"][:]) == [1, 1, 1, 1]
for m, nan in (("ig", 1), ("gi", 0)):
    e = [abs(x) for x in f[f"/attributions/{m}/axiom_error"][:]]
    fin = [x for x in e if math.isfinite(x)]
    assert len(e) - len(fin) == nan, (m, e)
    want = "  %-20s axiom error |mean| %.3g, |max| %.3g over 4 reviews" % (
        m, sum(fin) / len(fin), max(fin))
    assert want in log, (want, log)
    want = "  %-20s non-finite: 0 scores, %d axiom errors" % (m, nan)
    assert want in log, (want, log)
print("summary = the file's 4 reviews")
PY
exit $fail
