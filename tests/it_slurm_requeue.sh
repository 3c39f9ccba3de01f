#!/bin/bash
# A job longer than its Slurm time limit (tests/slurm_helper.sh starts the
# Slurm): slurm/run.sbatch with --time=1 --signal=B:USR1@10 must be
# signalled, stop cleanly (tokattr exits 3), requeue itself, resume with
# --resume and finish, with /attributions and /predictions bitwise equal
# (h5diff) to an uninterrupted mpirun run of the same job.
#
# When the signal comes (measured here): slurmctld checks time limits every
# 30 s and sends it at the first check at least LIMIT - WARN - 30 s after
# the start, so with --time=1 and @10 between 20 and 50 s after the start,
# and the kill at 60-90 s. The work must outlast 50 s whatever the machine's
# speed: a calibration run (1000 reviews; 300 overstated the rate by ~30%)
# measures reviews/s and the job gets about 50 s of work (plus ~5 s of setup
# per start): one or two requeues. 3-3.6 minutes in all on this 2-core
# machine (measured 177-216 s under load); it runs in the default suite because it is the proof that requeueing works.
# labels: slurm mpi
set -euo pipefail
: "${TOKATTR_BIN:?}" "${TOKATTR_SHARED:?}" "${TOKATTR_SOURCE:?}"
export TOKATTR_BIN TOKATTR_SHARED
source "$TOKATTR_SOURCE/tests/slurm_helper.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== [$SECONDS s] $*"; }

dataset=$(slurm_test_dataset tokattr-imdb) || fail "tokattr prepare failed" # imdb_lstm.h5's ids
slurm_up || fail "could not start Slurm"
work=$SLURM_TEST_DIR/work
mkdir -p "$work"
cd "$work"

# job FILE COUNT: the LSTM, Integrated Gradients with 50 steps, small chunks
# so that a stop waits for little in-flight work. Not the CNN: on an idle
# machine its IG runs ~1,000 reviews/s on 2 ranks, so all 25,000 test
# reviews take less than the 1-minute limit and no signal ever comes.
job() {
    cat >"$1" <<EOF
model: shared:models/imdb_lstm.h5
dataset: $dataset
word_index: shared:models/imdb_word_index.json
split: test
select: {first: 0, count: $2}
methods:
  - name: ig
    method: integrated_gradients
    n_steps: 50
results: ${1%.yaml}.h5
chunk_size: 4
EOF
}

step "calibration"
job calib.yaml 1000
env -u SLURM_CONF mpirun -np 2 "$TOKATTR_BIN" run calib.yaml --quiet >calib.out 2>&1 ||
    { cat calib.out; fail "calibration run failed"; }
rate=$(sed -n 's/.* on 2 ranks: \([0-9.]*\) reviews\/s.*/\1/p' calib.out | head -n 1)
[ -n "$rate" ] || { cat calib.out; fail "no reviews/s in tokattr run's summary"; }
count=$(awk -v r="$rate" 'BEGIN { n = int(r * 50); if (n < 1000) n = 1000; if (n > 25000) n = 25000; print n }')
echo "calibration: $rate reviews/s -> $count reviews"
job long.yaml "$count"

step "uninterrupted reference run"
env -u SLURM_CONF mpirun -np 2 "$TOKATTR_BIN" run long.yaml --quiet >direct.out 2>&1 ||
    { cat direct.out; fail "direct run failed"; }
mv long.h5 direct.h5

step "Slurm run with a 1-minute limit"
id=$(sbatch --parsable --time=1 --signal=B:USR1@10 "$TOKATTR_SOURCE/slurm/run.sbatch" long.yaml)
slurm_wait_gone "$id" 900 || { cat "tokattr-$id.out"; fail "job $id did not finish within 15 min"; }
log=tokattr-$id.out
cat "$log"
state=$(slurm_job_state "$id")
restarts=$(scontrol show job "$id" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
step "job $id: $state after $restarts requeue(s)"
[ "$state" = COMPLETED ] || fail "job ended $state"
[ "${restarts:-0}" -ge 1 ] || fail "the job was never requeued (work too short for the limit?)"
grep -q "received SIGUSR1" "$log" || fail "log lacks the signal"
grep -q "tokattr exited with status 3" "$log" || fail "tokattr did not stop as resumable"
grep -q "stopped cleanly; [0-9]*/$count reviews on disk" "$log" || fail "log lacks the clean stop"
grep -q "requeueing job $id" "$log" || fail "log lacks the requeue"
grep -q "start 1 on" "$log" || fail "log lacks the restarted run"
grep -q "resuming" "$log" || fail "the restart did not resume"
grep -q -- "--resume" "$log" || fail "tokattr was not given --resume"
grep -q "done before" "$log" || fail "tokattr's summary lacks the resumed count"
grep -q "done: .*long.h5 complete" "$log" || fail "log lacks the completion"
if grep -q "CANCELLED AT .* DUE TO TIME LIMIT" "$log"; then fail "the time limit killed a run"; fi

h5diff direct.h5 long.h5 /attributions /attributions || fail "/attributions differ from the uninterrupted run"
h5diff direct.h5 long.h5 /predictions /predictions || fail "/predictions differ from the uninterrupted run"
step "PASS it_slurm_requeue"
