#!/usr/bin/env bash
# labels: cli
# Reviews are selected the same way in `explain --reviews` and a job's
# `select: {reviews: ...}` (data/selection.h): an IMDB number shared by a
# neg and a pos review is refused with both matches listed; @label picks
# one; the job's results hold exactly the reviews named, in split order.
set -uo pipefail
BIN=${TOKATTR_BIN:?}
SHARED=${TOKATTR_SHARED:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }

SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
. "$SRC/tests/support/tiny_imdb.sh"
tiny_imdb "$work" # test: 7 (neg), 12 (neg), 12 (pos), 40 (pos)
"$BIN" prepare --quiet --source "$work/small.tar.gz" --shared "$SHARED" --out "$work/ds.h5" \
    >/dev/null || die "prepare"
CNN=$SHARED/models/keras_imdb_cnn.h5

# explain: ambiguous id -> exit 2, both matches with index and label
out=$("$BIN" explain "$CNN" "$work/ds.h5" --reviews id:12 2>&1); rc=$?
[ "$rc" = 2 ] || die "ambiguous id: exit $rc, not 2"
grep -q "ambiguous" <<<"$out" && grep -q "index 1 (label 0 (neg))" <<<"$out" &&
    grep -q "index 2 (label 1 (pos))" <<<"$out" || die "ambiguous id message: $out"
# @label by name or number, mixed with an index, in the order given
out=$("$BIN" explain "$CNN" "$work/ds.h5" --reviews id:12@label:pos,0,id:12@label:0) ||
    die "explain id:12@label:pos"
got=$(grep '^review ' <<<"$out" | awk '{print $2 $6}' | tr '\n' ' ')
[ "$got" = "2label 0label 1label " ] || die "explain selected '$got'"
grep -q '^review 2 (test, id 12, label 1)' <<<"$out" || die "review 2 is not pos 12: $out"
for bad in "id:12@split:train" "id:99" "0,id:7" "9"; do
    out=$("$BIN" explain "$CNN" "$work/ds.h5" --reviews "$bad" 2>&1) && die "--reviews $bad accepted"
    grep -q -- "--reviews '$bad'" <<<"$out" || die "--reviews $bad: message does not quote it: $out"
done

# job select.reviews: same spec, same refusal, then the named reviews only
job() {
    cat > "$work/job.yaml" <<YAML
model: shared:models/keras_imdb_cnn.h5
dataset: ds.h5
tokenizer: keras-imdb
select: {reviews: "$1"}
methods:
  - {name: sal, method: saliency}
results: r.h5
YAML
    "$BIN" run "$work/job.yaml" --shared "$SHARED" --quiet --force > "$work/run.log" 2>&1
}
job "id:12" && die "job with an ambiguous id ran"
grep -q "select.reviews 'id:12': id:12 is ambiguous" "$work/run.log" &&
    grep -q "index 2 (label 1 (pos))" "$work/run.log" || die "job message: $(cat "$work/run.log")"
[ -e "$work/r.h5" ] && die "a refused job left a results file"
job "id:40, id:12@label:neg" || die "job select.reviews: $(cat "$work/run.log")"
"$BIN" export "$work/r.h5" --per-review --out "$work/rev.csv" || die "export"
python3 - "$work/rev.csv" <<'PY' || die "results hold other reviews"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
got = [(r["index"], r["doc_id"], r["label"]) for r in rows]
want = [("1", "12", "0"), ("3", "40", "1")]   # split order, not the spec's
assert got == want, got
PY

# job select.label: rank 0 reads the labels from the dataset file in blocks
# (its header holds none): the pos reviews, in split order
sed -i 's/^select: .*/select: {label: 1}/' "$work/job.yaml"
"$BIN" run "$work/job.yaml" --shared "$SHARED" --quiet --force > "$work/run.log" 2>&1 ||
    die "job select.label: $(cat "$work/run.log")"
"$BIN" export "$work/r.h5" --per-review --out "$work/rev.csv" || die "export"
python3 - "$work/rev.csv" <<'PY' || die "select.label: results hold other reviews"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
got = [(r["index"], r["doc_id"], r["label"]) for r in rows]
want = [("2", "12", "1"), ("3", "40", "1")]
assert got == want, got
PY
# a job file of 150 kB (a select list of 25,000 ids is as long): its text
# is kept whole in the results file, past HDF5's 64 KiB object-header
# attributes, and --resume compares it
sed -i "s/^select: .*/select: {ids: [0, 3]}/" "$work/job.yaml"
python3 -c "print('# ' + 'x' * 150000)" >> "$work/job.yaml"
"$BIN" run "$work/job.yaml" --shared "$SHARED" --quiet --force > "$work/run.log" 2>&1 ||
    die "job of 150 kB: $(cat "$work/run.log")"
/usr/bin/python3 - "$work/r.h5" "$work/job.yaml" <<'PY' || die "the 150 kB job is not in the results whole"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
job = f.attrs["job"]
job = job.decode() if isinstance(job, bytes) else job
assert job == open(sys.argv[2]).read(), (len(job), len(open(sys.argv[2]).read()))
assert list(f["/reviews/index"][()]) == [0, 3]
PY
# --resume of the finished file compares the long job and finds it done
"$BIN" run "$work/job.yaml" --shared "$SHARED" --quiet --resume > "$work/run.log" 2>&1 ||
    die "resume with the 150 kB job: $(cat "$work/run.log")"
exit $fail
