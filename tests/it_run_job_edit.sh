#!/usr/bin/env bash
# labels: mpi
# --resume after the job file was edited (2 ranks under mpirun): the
# refusal says what changed (keys with both values, or comments only);
# an edit that touches what is computed is refused even with
# --allow-job-edit; one that does not is accepted with it, finishes the
# file bitwise equal to an unedited run, and the file then records the
# edited job (the old text in job_history).
set -uo pipefail
SRC=${TOKATTR_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$SRC/tests/support/tiny_imdb.sh"
tiny_imdb_job "$work" "  - {name: ig, method: integrated_gradients, n_steps: 8}" \
    "chunk_size: 1" || die "prepare"
run() { mpirun -n 2 "$BIN" run "$@" --shared "$SHARED" --quiet > "$work/out" 2>&1; }
run "$work/job.yaml" || { cat "$work/out"; die "first run"; }
cp "$work/r.h5" "$work/full.h5"
half() { # the earlier run's part: reviews 0 and 2 done
    rm -f "$work/r.h5"; cp "$work/full.h5" "$work/r.h5.partial"
    /usr/bin/python3 -c "import h5py,sys; h5py.File(sys.argv[1],'r+')['/progress/done'][:]=[1,0,1,0]" \
        "$work/r.h5.partial" || die "h5py"
}
half
# comments only: refused without the flag, saying so, and offering it
{ echo "# resumed after a reboot"; cat "$work/job.yaml"; } > "$work/comment.yaml"
run "$work/comment.yaml" --resume && die "an edited job resumed without --allow-job-edit"
grep -q "comments or layout only" "$work/out" && grep -q -- "--resume --allow-job-edit" "$work/out" ||
    die "comments: message $(cat "$work/out")"
[ "$(grep -c 'refusing to resume' "$work/out")" = 1 ] || die "not one message: $(cat "$work/out")"
# a method parameter: refused with the key and both values, flag or not
sed 's/n_steps: 8/n_steps: 16/' "$work/job.yaml" > "$work/steps.yaml"
run "$work/steps.yaml" --resume --allow-job-edit && die "a changed n_steps resumed"
grep -q "methods\[0\].n_steps: 8 -> 16 (changes what is computed)" "$work/out" ||
    die "n_steps: message $(cat "$work/out")"
grep -q -- "--allow-job-edit" "$work/out" && die "--allow-job-edit offered for n_steps"
# checkpoint keys: accepted with the flag
{ cat "$work/job.yaml"; echo "checkpoint_seconds: 0.5   # flush more often"; } > "$work/ckpt.yaml"
run "$work/ckpt.yaml" --resume && die "checkpoint_seconds edit resumed without the flag"
grep -q "checkpoint_seconds: (absent) -> 0.5" "$work/out" || die "ckpt: message $(cat "$work/out")"
run "$work/ckpt.yaml" --resume --allow-job-edit || { cat "$work/out"; die "--allow-job-edit refused"; }
grep -q "records the edited job" "$work/out" || die "no 'records the edited job': $(cat "$work/out")"
h5diff "$work/full.h5" "$work/r.h5" /attributions /attributions >/dev/null ||
    die "/attributions differ from the unedited run"
h5diff "$work/full.h5" "$work/r.h5" /predictions /predictions >/dev/null ||
    die "/predictions differ from the unedited run"
/usr/bin/python3 - "$work/r.h5" "$work/ckpt.yaml" "$work/job.yaml" <<'PY' || die "job attributes"
import h5py, sys
a = h5py.File(sys.argv[1], "r").attrs
job, hist = a["job"].decode(), a["job_history"].decode()
assert job == open(sys.argv[2]).read(), job
assert hist.endswith(open(sys.argv[3]).read()), hist
assert "--allow-job-edit" in hist
PY
# and the edited job now resumes (the complete file) without the flag
run "$work/ckpt.yaml" --resume || { cat "$work/out"; die "the recorded edited job"; }
grep -q "already complete" "$work/out" || die "not 'already complete': $(cat "$work/out")"
run "$work/ckpt.yaml" --allow-job-edit && die "--allow-job-edit without --resume accepted"
exit $fail
